/*
 * test_daemon_ctl.c - what numaplaced and the numaplace command share: the
 * control protocol (requests accepted, round trips, every kind of bad
 * message refused with a reason), the daemon's configuration file (values,
 * ranges, line numbers of errors, nothing applied from a bad file), and the
 * Linux backend on the captured 2-node KVM host (guest discovery by QEMU,
 * by cgroup and by PID, vCPU threads in vCPU order, memory per node, acting
 * refused on a fixture root).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/backend_linux.h>
#include <numaplace/ctl.h>

#include "np_test.h"

#define FIX NP_FIXTURES_DIR "/linux/"

static int parse(const char *s, np_ctl_request *r, np_error *e)
{
    memset(e, 0, sizeof(*e));
    return np_ctl_request_parse(s, strlen(s), r, e);
}

static void test_requests(void)
{
    np_ctl_request r;
    np_error e;
    char *line = NULL;

    ASSERT_EQ(parse("{\"cmd\":\"status\"}\n", &r, &e), 0);
    ASSERT_EQ(r.cmd, NP_CTL_STATUS);
    ASSERT_EQ(parse("{\"guest\":\"web 1\",\"cmd\":\"exclude\"}", &r, &e), 0);
    ASSERT_EQ(r.cmd, NP_CTL_EXCLUDE);
    ASSERT_STR_EQ(r.guest, "web 1");
    ASSERT_TRUE(np_ctl_cmd_mutates(NP_CTL_EXCLUDE));
    ASSERT_TRUE(np_ctl_cmd_mutates(NP_CTL_INCLUDE));
    ASSERT_TRUE(np_ctl_cmd_mutates(NP_CTL_RELOAD));
    ASSERT_TRUE(!np_ctl_cmd_mutates(NP_CTL_STATUS));
    ASSERT_TRUE(!np_ctl_cmd_mutates(NP_CTL_PLAN));
    /* Round trip. */
    ASSERT_EQ(np_ctl_request_format(&r, &line), 0);
    ASSERT_STR_EQ(line, "{\"cmd\":\"exclude\",\"guest\":\"web 1\"}\n");
    np_ctl_request r2;
    ASSERT_EQ(parse(line, &r2, &e), 0);
    ASSERT_STR_EQ(r2.guest, "web 1");
    free(line);
    ASSERT_EQ(np_ctl_error_reply("bad \"x\"", &line), 0);
    ASSERT_STR_EQ(line, "{\"ok\":false,\"error\":\"bad \\\"x\\\"\"}\n");
    free(line);
}

static void test_bad_requests(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"", "JSON object"},
        {"garbage{", "JSON object"},
        {"[1,2]", "not another value"},
        {"{\"cmd\":5}", "string member \"cmd\""},
        {"{\"cmd\":\"rm -rf\"}", "\"cmd\" one of"},
        {"{\"cmd\":\"status\",\"guest\":\"x\"}", "no member \"guest\" in a status"},
        {"{\"cmd\":\"exclude\"}", "string member \"guest\""},
        {"{\"cmd\":\"exclude\",\"guest\":\"\"}", "1 to 127 bytes"},
        {"{\"cmd\":\"exclude\",\"guest\":\"a\\nb\"}", "control characters"},
        {"{\"cmd\":\"exclude\",\"guest\":\"a\\u0000b\"}", "JSON object"},
        {"{\"cmd\":\"ping\",\"cmd\":\"reload\"}", "JSON object"},
        {"{\"cmd\":\"ping\"}\n{\"cmd\":\"reload\"}", "one request per line"},
    };
    np_ctl_request r;
    np_error e;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_EQ(parse(bad[i].text, &r, &e), -EINVAL);
        ASSERT_CONTAINS(e.msg, bad[i].want);
        ASSERT_STR_EQ(e.origin, "<socket>");
    }
    char big[NP_CTL_REQUEST_MAX + 16];
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ASSERT_EQ(parse(big, &r, &e), -EINVAL);
    ASSERT_CONTAINS(e.msg, "at most 4095 bytes");
    /* A name of 127 bytes is fine, 128 is not. */
    char req[300];
    char name[129];
    memset(name, 'g', 128);
    name[127] = '\0';
    snprintf(req, sizeof(req), "{\"cmd\":\"plan\",\"guest\":\"%s\"}", name);
    ASSERT_EQ(parse(req, &r, &e), 0);
    name[127] = 'g';
    name[128] = '\0';
    snprintf(req, sizeof(req), "{\"cmd\":\"plan\",\"guest\":\"%s\"}", name);
    ASSERT_EQ(parse(req, &r, &e), -EINVAL);
}

static int cfg_parse(const char *s, np_daemon_config *c, np_error *e)
{
    memset(e, 0, sizeof(*e));
    return np_daemon_config_parse(s, strlen(s), "test.conf", c, e);
}

static void test_config(void)
{
    np_daemon_config c;
    np_error e;
    uint64_t ns;

    np_daemon_config_init(&c);
    ASSERT_U64_EQ(c.period_ns, 2000000000ull);
    ASSERT_STR_EQ(c.socket_path, "/run/numaplaced.sock");
    ASSERT_EQ(cfg_parse("# comment\n\nperiod = 500ms  # inline\ndry_run=yes\n"
                        "discover = pids\npid = 42\npid=43\nexclude = db\n"
                        "migrate_budget = 64M\nlocality_target = 85%\nlog_level = debug\n"
                        "socket = /tmp/x.sock\nsocket_group = kvm\n",
                        &c, &e),
              0);
    ASSERT_U64_EQ(c.period_ns, 500000000ull);
    ASSERT_TRUE(c.dry_run);
    ASSERT_EQ(c.discover, NP_DISCOVER_PIDS);
    ASSERT_EQ(c.nr_pids, 2);
    ASSERT_EQ(c.pids[1], 43);
    ASSERT_EQ(c.nr_excluded, 1);
    ASSERT_STR_EQ(c.excluded[0], "db");
    ASSERT_U64_EQ(c.migrate_budget_bps, 64ull << 20);
    ASSERT_TRUE(c.locality_target > 0.849 && c.locality_target < 0.851);
    ASSERT_EQ(c.log_level, NP_LOG_DEBUG);
    ASSERT_STR_EQ(c.socket_group, "kvm");

    /* A bad file names its line and changes nothing. */
    np_daemon_config before = c;
    ASSERT_EQ(cfg_parse("period = 3s\nperiod = 10ms\n", &c, &e), -EINVAL);
    ASSERT_EQ(e.line, 2);
    ASSERT_STR_EQ(e.origin, "test.conf");
    ASSERT_CONTAINS(e.msg, "period: a duration from 100ms");
    ASSERT_TRUE(memcmp(&c, &before, sizeof(c)) == 0);
    ASSERT_EQ(cfg_parse("colour = blue\n", &c, &e), -EINVAL);
    ASSERT_CONTAINS(e.msg, "a key: period");
    ASSERT_EQ(cfg_parse("period\n", &c, &e), -EINVAL);
    ASSERT_CONTAINS(e.msg, "\"key = value\"");
    ASSERT_EQ(cfg_parse("cgroup = /a/../b\n", &c, &e), -EINVAL);
    ASSERT_EQ(cfg_parse("cgroup = relative\n", &c, &e), -EINVAL);
    ASSERT_EQ(cfg_parse("locality_target = 1.5\n", &c, &e), -EINVAL);
    ASSERT_EQ(cfg_parse("pid = 0\n", &c, &e), -EINVAL);
    ASSERT_EQ(cfg_parse("migrate_budget = 0\n", &c, &e), -EINVAL);
    ASSERT_EQ(cfg_parse("dry_run = maybe\n", &c, &e), -EINVAL);
    ASSERT_EQ(cfg_parse("discover = cgroup\n", &c, &e), -EINVAL);
    ASSERT_CONTAINS(e.msg, "needs a cgroup");
    ASSERT_EQ(cfg_parse("x = 1\0y = 2\n", &c, &e), -EINVAL); /* strlen stops at NUL: x */
    ASSERT_EQ(np_daemon_config_parse("period = 1s\n\0\n", 14, "t", &c, &e), -EINVAL);
    ASSERT_CONTAINS(e.msg, "no NUL");

    ASSERT_EQ(np_duration_parse("15s", &ns), 0);
    ASSERT_U64_EQ(ns, 15000000000ull);
    ASSERT_EQ(np_duration_parse("1m", &ns), 0);
    ASSERT_U64_EQ(ns, 60000000000ull);
    ASSERT_EQ(np_duration_parse("2", &ns), -EINVAL);
    ASSERT_EQ(np_duration_parse("99999999999999999999s", &ns), -ERANGE);
    ASSERT_EQ(np_duration_parse("18446744073709551615m", &ns), -ERANGE);
}

/* The example shipped in contrib/ parses, and says what the defaults are. */
static void test_config_example(void)
{
    np_daemon_config c, def;
    np_error e = {0};
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen(NP_FIXTURES_DIR "/../../contrib/config/numaplaced.conf", "r");
    ASSERT_TRUE(f != NULL);
    if (!f)
        return;
    text = malloc(65536);
    if (text)
        len = fread(text, 1, 65535, f);
    fclose(f);
    np_daemon_config_init(&c);
    def = c;
    ASSERT_EQ(np_daemon_config_parse(text ? text : "", len, "numaplaced.conf", &c, &e), 0);
    ASSERT_U64_EQ(c.period_ns, def.period_ns);
    ASSERT_U64_EQ(c.migrate_budget_bps, def.migrate_budget_bps);
    ASSERT_STR_EQ(c.state_path, def.state_path);
    ASSERT_EQ(c.discover, def.discover);
    free(text);
}

static const np_backend_guest *by_id(const np_backend_guest *g, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (g[i].id == id)
            return &g[i];
    return NULL;
}

static void test_backend_fixture(void)
{
    np_linux_ctx *ctx = NULL;
    np_linux_backend *lb = NULL;
    np_backend_guest *g = NULL;
    size_t n = 0;
    np_linux_backend_opts o = {.source = NP_LINUX_GUESTS_QEMU};

    ASSERT_EQ(np_linux_ctx_create(FIX "kvmhost-2n", NULL, NULL, &ctx), 0);
    ASSERT_EQ(np_linux_backend_create(ctx, &o, &lb), 0);
    np_backend *be = np_linux_backend_get(lb);
    ASSERT_STR_EQ(np_backend_name(be), "linux");
    np_topology *topo = NULL;
    ASSERT_EQ(np_backend_topology(be, &topo), 0);
    ASSERT_EQ(np_topology_nr_nodes(topo), 2);
    ASSERT_EQ(np_backend_list_guests(be, &g, &n), 0);
    /* Four QEMU processes; 5200's capture has no task/ nor numa_maps, which
     * is what a process exiting during the scan looks like: skipped. */
    ASSERT_EQ(n, 3);
    ASSERT_TRUE(by_id(g, n, 5200) == NULL);
    const np_backend_guest *db = by_id(g, n, 3100);
    ASSERT_TRUE(db != NULL);
    if (db) {
        ASSERT_STR_EQ(db->name, "db");
        /* Two "CPU N/KVM" threads of six, in vCPU order. */
        ASSERT_EQ(db->nr_vcpus, 2);
        if (db->nr_vcpus == 2) {
            ASSERT_EQ(db->vcpus[0].last_cpu_os_id, 6);
            ASSERT_EQ(db->vcpus[1].last_cpu_os_id, 13);
        }
        /* Memory per node is numa_maps' per-node count, node os_id -> idx. */
        np_linux_mem m = {0};
        ASSERT_EQ(np_linux_mem_numa_maps(ctx, 3100, &m), 0);
        uint64_t sum = 0;
        for (size_t k = 0; k < db->nr_nodes; k++)
            sum += db->node_mem_bytes[k];
        ASSERT_U64_EQ(sum, m.total_bytes);
        ASSERT_U64_EQ(db->node_mem_bytes[0], m.nr_node_slots > 0 ? m.bytes_by_node_os_id[0] : 0);
        np_linux_mem_fini(&m);
    }
    /* Acting on a fixture root is refused, never attempted. */
    uint64_t moved = 1;
    ASSERT_EQ(np_backend_migrate_memory(be, 3100, 0, 1, 1 << 20, &moved), -EOPNOTSUPP);
    ASSERT_U64_EQ(moved, 0);
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 3100, 0, NULL, np_topology_node_cpuset(topo, 1)),
              -EOPNOTSUPP);
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 3100, 7, NULL, NULL), -ENOENT);
    ASSERT_EQ(np_backend_set_guest_node_affinity(be, 999, NULL), -ENOENT);
    /* A sense through the generic path gives a host state with the 3 guests. */
    np_host_state *st = NULL;
    ASSERT_EQ(np_backend_sense(be, &st), 0);
    ASSERT_EQ(st ? np_host_state_nr_guests(st) : 0, 3);
    np_host_state_destroy(st);
    np_backend_guests_free(g, n);
    g = NULL;

    /* By PID: a missing PID is skipped. */
    pid_t pids[] = {16186, 4242, 3100};
    o.source = NP_LINUX_GUESTS_PIDS;
    o.pids = pids;
    o.nr_pids = 3;
    ASSERT_EQ(np_linux_backend_set_source(lb, &o), 0);
    ASSERT_EQ(np_backend_list_guests(be, &g, &n), 0);
    ASSERT_EQ(n, 2);
    ASSERT_TRUE(by_id(g, n, 16186) != NULL);
    ASSERT_TRUE(by_id(g, n, 4242) == NULL);
    if (by_id(g, n, 16186)) {
        ASSERT_STR_EQ(by_id(g, n, 16186)->name, "web1");
        ASSERT_EQ(by_id(g, n, 16186)->nr_vcpus, 2); /* two TCG vCPU threads of four */
    }
    np_backend_guests_free(g, n);
    g = NULL;

    /* By cgroup: a missing cgroup is an error, not an empty host. */
    o.source = NP_LINUX_GUESTS_CGROUP;
    o.cgroup = "/no/such.scope";
    ASSERT_EQ(np_linux_backend_set_source(lb, &o), 0);
    ASSERT_TRUE(np_backend_list_guests(be, &g, &n) < 0);

    np_topology_destroy(topo);
    np_linux_backend_destroy(lb);
    np_linux_ctx_destroy(ctx);
}

int main(void)
{
    NP_RUN(test_requests);
    NP_RUN(test_bad_requests);
    NP_RUN(test_config);
    NP_RUN(test_config_example);
    NP_RUN(test_backend_fixture);
    return np_test_summary();
}
