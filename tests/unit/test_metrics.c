/*
 * test_metrics.c - numaplaced's Prometheus text (numaplace/metrics.h): a
 * snapshot of two nodes and three guests renders exactly as
 * tests/fixtures/metrics/two-nodes.prom (NP_GOLDEN_UPDATE=1 rewrites it;
 * tests/libvirt/metrics-prometheus.test.sh checks that file with promtool),
 * label values are escaped, the reasons are classified in their order, and
 * the listener address grammar.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <numaplace/metrics.h>

#include "np_test.h"
#include "np_test_error.h"

#define GOLDEN NP_FIXTURES_DIR "/metrics/two-nodes.prom"
#define GIB (UINT64_C(1) << 30)

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else if (buf) {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static void snapshot(np_metrics_snapshot *s, np_metrics_node *nodes, np_metrics_guest *guests,
                     uint64_t mem[3][2])
{
    nodes[0] = (np_metrics_node){0, 3.5, 4.8, 32 * GIB, 20 * GIB};
    nodes[1] = (np_metrics_node){1, 1.0, 4.8, 32 * GIB, 6 * GIB};
    mem[0][0] = 4 * GIB, mem[0][1] = 0;
    mem[1][0] = 1 * GIB, mem[1][1] = 3 * GIB;
    mem[2][0] = 512 << 20, mem[2][1] = 512 << 20;
    guests[0] = (np_metrics_guest){"web", 4242, 1.0, mem[0], 1, 2 * GIB, NP_METRICS_AT_TARGET, 0};
    guests[1] = (np_metrics_guest){"db \"main\"\\prod\n", 4343, 0.25, mem[1], 0, 0,
                                   NP_METRICS_MIGRATING, 0};
    guests[2] = (np_metrics_guest){"batch", 17, 0.5, mem[2], 3, 768 << 20, NP_METRICS_EXCLUDED, -1};
    *s = (np_metrics_snapshot){
        .version = "0.1.0",
        .backend = "libvirt",
        .locality_target_ratio = 0.9,
        .rounds_total = 120,
        .errors_total = 2,
        .round_seconds_sum = 3.25,
        .sense_seconds_sum = 1.5,
        .round_count = 120,
        .sense_count = 120,
        .last_round_seconds = 0.0125,
        .last_sense_seconds = 0.004,
        .nodes = nodes,
        .nr_nodes = 2,
        .guests = guests,
        .nr_guests = 3,
    };
}

static void test_render_golden(void)
{
    np_metrics_snapshot s;
    np_metrics_node nodes[2];
    np_metrics_guest guests[3];
    uint64_t mem[3][2];
    char *text = NULL;
    size_t len = 0;
    snapshot(&s, nodes, guests, mem);
    ASSERT_EQ(np_metrics_render(&s, &text, &len), 0);
    if (!text)
        return;
    ASSERT_EQ(len, strlen(text));
    const char *update = getenv("NP_GOLDEN_UPDATE");
    if (update && strcmp(update, "1") == 0) {
        FILE *f = fopen(GOLDEN, "wb");
        ASSERT_TRUE(f != NULL);
        if (f) {
            fwrite(text, 1, len, f);
            fclose(f);
        }
    }
    char *want = read_all(GOLDEN);
    ASSERT_TRUE(want != NULL);
    if (want && strcmp(want, text) != 0)
        NP_TEST_FAIL_("rendered text differs from %s:\n%s", GOLDEN, text);
    /* the facts a reader relies on, independent of the golden file */
    ASSERT_CONTAINS(text, "numaplace_guest_locality_ratio{guest=\"web\",id=\"4242\"} 1\n");
    ASSERT_CONTAINS(text, "{guest=\"db \\\"main\\\"\\\\prod\\n\",id=\"4343\",node=\"1\"} 3221225472\n");
    ASSERT_CONTAINS(text, "numaplace_guest_below_target_info{guest=\"batch\",id=\"17\",reason=\"excluded\"} 1\n");
    ASSERT_CONTAINS(text, "numaplace_guest_moved_bytes_total{guest=\"batch\",id=\"17\"} 805306368\n");
    ASSERT_CONTAINS(text, "numaplace_node_memory_free_bytes{node=\"1\"} 6442450944\n");
    ASSERT_CONTAINS(text, "numaplace_node_cpu_capacity_cpus{node=\"0\"} 4.8\n");
    ASSERT_CONTAINS(text, "numaplace_round_duration_seconds_count 120\n");
    ASSERT_CONTAINS(text, "# TYPE numaplace_guest_moves_total counter\n");
    ASSERT_TRUE(strstr(text, "numaplace_guest_home_node_info{guest=\"batch\"") == NULL);
    free(want);
    free(text);
}

static void test_render_empty_host(void)
{
    np_metrics_snapshot s = {.version = "v", .backend = "linux"};
    char *text = NULL;
    ASSERT_EQ(np_metrics_render(&s, &text, NULL), 0);
    ASSERT_CONTAINS(text, "numaplace_build_info{version=\"v\",backend=\"linux\"} 1\n");
    ASSERT_CONTAINS(text, "# TYPE numaplace_guest_locality_ratio gauge\n");
    ASSERT_TRUE(text && strstr(text, "numaplace_guest_locality_ratio{") == NULL);
    free(text);
}

static void test_classify_order(void)
{
    np_metrics_reason_in in = {.locality_ratio = 0.95, .target_ratio = 0.9, .excluded = true,
                               .dry_run = true, .migrating = true, .settled_bytes = 1,
                               .confirm_rounds = 2};
    ASSERT_EQ(np_metrics_classify(&in), NP_METRICS_AT_TARGET);
    in.locality_ratio = 0.5;
    ASSERT_EQ(np_metrics_classify(&in), NP_METRICS_EXCLUDED);
    in.excluded = false;
    ASSERT_EQ(np_metrics_classify(&in), NP_METRICS_DRY_RUN);
    in.dry_run = false;
    ASSERT_EQ(np_metrics_classify(&in), NP_METRICS_MIGRATING);
    in.migrating = false;
    ASSERT_EQ(np_metrics_classify(&in), NP_METRICS_UNMOVABLE);
    in.settled_bytes = 0;
    ASSERT_EQ(np_metrics_classify(&in), NP_METRICS_CONFIRMING);
    in.low_rounds = 2;
    ASSERT_EQ(np_metrics_classify(&in), NP_METRICS_NO_ROOM);
    ASSERT_STR_EQ(np_metrics_reason_name(NP_METRICS_NO_ROOM), "no_room");
    ASSERT_STR_EQ(np_metrics_reason_name((np_metrics_reason)99), "unknown");
}

static void test_listen_parse(void)
{
    np_metrics_listen l;
    np_error err = {0};
    ASSERT_EQ(np_metrics_listen_parse("127.0.0.1:9464", "cfg", &l, &err), 0);
    ASSERT_TRUE(!l.ipv6);
    ASSERT_EQ(l.port, 9464);
    ASSERT_EQ(l.addr[0], 127);
    ASSERT_TRUE(np_metrics_listen_is_loopback(&l));
    ASSERT_EQ(np_metrics_listen_parse("[::1]:1", "cfg", &l, &err), 0);
    ASSERT_TRUE(l.ipv6);
    ASSERT_TRUE(np_metrics_listen_is_loopback(&l));
    ASSERT_EQ(np_metrics_listen_parse("10.0.0.5:65535", "cfg", &l, &err), 0);
    ASSERT_TRUE(!np_metrics_listen_is_loopback(&l));
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"", "expected ADDRESS:PORT"},       {"9464", "expected ADDRESS:PORT"},
        {"localhost:9464", "not an IPv4"},    {"127.0.0.1:0", "port: expected 1..65535"},
        {"127.0.0.1:65536", "port"},          {"127.0.0.1:", "port"},
        {"127.0.0.1:-1", "port"},             {"::1:9464", "not an IPv4"},
        {"[::1]9464", "expected [IPV6]:PORT"}, {"[::g]:1", "not an IPv6"},
        {"[::1:1", "expected [IPV6]:PORT"},   {"1.2.3.4:80x", "port"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        np_error e = {0};
        np_test_expect_error(np_metrics_listen_parse(bad[i].text, "cfg", &l, &e), &e, "cfg", 0,
                             bad[i].msg);
    }
}

int main(void)
{
    NP_RUN(test_render_golden);
    NP_RUN(test_render_empty_host);
    NP_RUN(test_classify_order);
    NP_RUN(test_listen_parse);
    return np_test_summary();
}
