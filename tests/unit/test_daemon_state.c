/*
 * test_daemon_state.c - numaplaced's per-guest state (src/daemon/state.c)
 * in what issue 12/13 asked of it: a guest's exit is reported once per
 * guest (name, pid, start time) however many paths see it; a guest entry
 * can be forgotten; the process start time (instance) survives a save and
 * a load; status's live parts (excluded flags, excluded list, recent
 * actions) are brought up to date on a published copy; and a guest's
 * helper threads (helpers.c) reach the status reply: from a made-up /proc
 * (kinds and names; no affinity off the live root) and, live, this
 * process's own main thread with the affinity the kernel reports. A guest
 * with a home SET (wider than one node) shows the set in status and in its
 * "moving" reason; a migration in flight keeps every node it took memory
 * off across a save and a load (the "done" and "resuming" log lines name
 * them, not only the last action's source).
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "np_test.h"

static void test_exit_reported_once(void)
{
    dstate s;
    memset(&s, 0, sizeof(s));
    ASSERT_TRUE(dstate_first_exit(&s, "web", 100, 5000));
    ASSERT_TRUE(!dstate_first_exit(&s, "web", 100, 5000));
    ASSERT_TRUE(!dstate_first_exit(&s, "web", 100, 5000));
    /* the same pid and name, another process: its exit is news */
    ASSERT_TRUE(dstate_first_exit(&s, "web", 100, 9000));
    ASSERT_TRUE(dstate_first_exit(&s, "db", 100, 5000));
    /* the ring keeps the last DAEMON_EXITED_MAX exits */
    for (unsigned i = 0; i < DAEMON_EXITED_MAX; i++)
        ASSERT_TRUE(dstate_first_exit(&s, "filler", 1000 + i, 1));
    ASSERT_TRUE(dstate_first_exit(&s, "web", 100, 5000));
    dstate_fini(&s);
}

static void test_forget_keeps_the_others(void)
{
    dstate s;
    memset(&s, 0, sizeof(s));
    ASSERT_TRUE(dstate_guest(&s, "a", 1, true) != NULL);
    ASSERT_TRUE(dstate_guest(&s, "b", 2, true) != NULL);
    ASSERT_TRUE(dstate_guest(&s, "c", 3, true) != NULL);
    dstate_forget(&s, dstate_guest(&s, "b", 2, false));
    ASSERT_EQ(s.nr_guests, 2);
    ASSERT_TRUE(dstate_guest(&s, "b", 2, false) == NULL);
    ASSERT_TRUE(dstate_guest(&s, "a", 1, false) != NULL);
    ASSERT_EQ(dstate_guest(&s, "c", 3, false)->pid, 3);
    dstate_fini(&s);
}

/* Saves s and loads the file into t (zeroed here); 0 or what failed. */
static int save_and_load(const dstate *s, dstate *t)
{
    char path[] = "/tmp/np-test-dstate-XXXXXX";
    np_error err = {0};
    np_balance_state *bal = NULL;
    int fd = mkstemp(path), rc;

    memset(t, 0, sizeof(*t));
    if (fd < 0)
        return -1;
    close(fd);
    rc = dstate_save(s, NULL, path);
    if (!rc)
        rc = dstate_load(t, path, &err, &bal);
    np_balance_state_destroy(bal);
    unlink(path);
    return rc;
}

static void test_instance_survives_save_and_load(void)
{
    dstate s, t;

    memset(&s, 0, sizeof(s));
    dguest *g = dstate_guest(&s, "vm1", 4242, true);
    g->instance = 987654321;
    g->moved_bytes = 4096;
    ASSERT_EQ(save_and_load(&s, &t), 0);
    g = dstate_guest(&t, "vm1", 4242, false);
    ASSERT_TRUE(g != NULL);
    ASSERT_U64_EQ(g->instance, 987654321);
    ASSERT_U64_EQ(g->moved_bytes, 4096);
    dstate_fini(&s);
    dstate_fini(&t);
}

static void test_status_lists_are_live(void)
{
    dstate s;
    memset(&s, 0, sizeof(s));
    json_t *st = json_pack("{s:b, s:[{s:s, s:I, s:b}, {s:s, s:I, s:b}]}", "ok", 1, "guests",
                           "name", "a", "pid", (json_int_t)11, "excluded", 0, "name", "b", "pid",
                           (json_int_t)22, "excluded", 1);
    ASSERT_TRUE(st != NULL);
    /* excluded after the copy was published: by name, and b no longer */
    ASSERT_EQ(dstate_exclude(&s, "a", true), 0);
    dstate_note(&s, "a excluded");
    dstate_status_lists(&s, st);
    json_t *gs = json_object_get(st, "guests");
    ASSERT_TRUE(json_is_true(json_object_get(json_array_get(gs, 0), "excluded")));
    ASSERT_TRUE(json_is_false(json_object_get(json_array_get(gs, 1), "excluded")));
    ASSERT_EQ(json_array_size(json_object_get(st, "excluded")), 1);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(st, "excluded"), 0)), "a");
    json_t *rec = json_object_get(st, "recent");
    ASSERT_EQ(json_array_size(rec), 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(rec, 0), "what")),
                  "a excluded");
    /* by pid */
    ASSERT_EQ(dstate_exclude(&s, "22", true), 0);
    dstate_status_lists(&s, st);
    ASSERT_TRUE(json_is_true(json_object_get(json_array_get(gs, 1), "excluded")));
    json_decref(st);
    dstate_fini(&s);
}

static void put(const char *root, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void task(const char *root, int pid, int tid, const char *comm)
{
    char rel[128], text[512];
    snprintf(rel, sizeof(rel), "proc/%d/task/%d/comm", pid, tid);
    snprintf(text, sizeof(text), "%s\n", comm);
    put(root, rel, text);
    snprintf(rel, sizeof(rel), "proc/%d/task/%d/stat", pid, tid);
    snprintf(text, sizeof(text),
             "%d (%s) S 1 %d %d 0 -1 4194560 0 0 0 0 10 5 0 0 20 0 1 0 100 0 0 0 0 0 0 0 0 0 0 0 "
             "0 0 0 0 17 3 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
             tid, comm, pid, pid);
    put(root, rel, text);
    if (pid == tid) {
        snprintf(rel, sizeof(rel), "proc/%d/comm", pid);
        snprintf(text, sizeof(text), "%s\n", comm);
        put(root, rel, text);
    }
}

/* What status shows of a guest's helper threads, through the daemon's
 * own path: a QEMU with an emulator, an I/O thread, a vCPU, a worker and
 * a vhost worker; the vCPU and the worker are not listed. */
static void test_helpers_in_status(void)
{
    char root[] = "/tmp/np-dstate-helpers-XXXXXX";
    np_linux_ctx *ctx = NULL;
    daemon_t *d = calloc(1, sizeof(*d));
    dstate s;

    ASSERT_TRUE(d != NULL && mkdtemp(root) != NULL);
    task(root, 100, 100, "qemu-system-x86");
    task(root, 100, 101, "IO iothread1");
    task(root, 100, 102, "CPU 0/TCG");
    task(root, 100, 103, "call_rcu");
    task(root, 100, 104, "vhost-100");
    ASSERT_EQ(np_linux_ctx_create(root, NULL, NULL, &ctx), 0);
    d->backend = NP_DAEMON_BACKEND_LINUX;
    d->ctx = ctx;
    memset(&s, 0, sizeof(s));
    dguest *g = dstate_guest(&s, "vm1", 100, true);
    ASSERT_TRUE(g != NULL);
    g->seen = true;
    daemon_sense_helpers(d, g, NULL);
    ASSERT_EQ(g->nr_helpers, 3);
    ASSERT_EQ(g->nr_helpers_found, 3);
    json_t *st = dstate_status_json(&s, NULL);
    json_t *hs = json_object_get(json_array_get(json_object_get(st, "guests"), 0), "helpers");
    ASSERT_EQ(json_array_size(hs), 3);
    static const char *const kinds[] = {"emulator", "io", "vhost"};
    static const char *const comms[] = {"qemu-system-x86", "IO iothread1", "vhost-100"};
    static const int tids[] = {100, 101, 104};
    for (size_t i = 0; i < 3; i++) {
        json_t *h = json_array_get(hs, i);
        ASSERT_EQ(json_integer_value(json_object_get(h, "tid")), tids[i]);
        ASSERT_STR_EQ(json_string_value(json_object_get(h, "kind")), kinds[i]);
        ASSERT_STR_EQ(json_string_value(json_object_get(h, "comm")), comms[i]);
        /* off the live root no system call is made: no affinity to show */
        ASSERT_TRUE(json_object_get(h, "cpus") == NULL);
    }
    json_decref(st);
    /* a guest that is gone lists none */
    g->pid = 999;
    daemon_sense_helpers(d, g, NULL);
    ASSERT_EQ(g->nr_helpers_found, 0);
    st = dstate_status_json(&s, NULL);
    ASSERT_TRUE(json_object_get(json_array_get(json_object_get(st, "guests"), 0), "helpers") ==
                NULL);
    json_decref(st);
    /* the Xen backend has none */
    d->backend = NP_DAEMON_BACKEND_XEN;
    g->pid = 100;
    daemon_sense_helpers(d, g, NULL);
    ASSERT_EQ(g->nr_helpers_found, 0);
    dstate_fini(&s);
    np_linux_ctx_destroy(ctx);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    ASSERT_EQ(system(cmd), 0);
    free(d);
}

/* Live: this process is the "QEMU"; its main thread is the emulator
 * thread, with the affinity sched_getaffinity reports. */
static void test_helpers_live_affinity(void)
{
    np_linux_ctx *ctx = NULL;
    daemon_t *d = calloc(1, sizeof(*d));
    dstate s;
    cpu_set_t set;
    np_bitmap *want = NULL;
    char want_text[64];

    ASSERT_TRUE(d != NULL);
    ASSERT_EQ(np_linux_ctx_create("/", NULL, NULL, &ctx), 0);
    ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
    ASSERT_EQ(np_bitmap_create(&want), 0);
    for (unsigned c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            ASSERT_EQ(np_bitmap_set(want, c), 0);
    np_bitmap_format(want, want_text, sizeof(want_text));
    d->backend = NP_DAEMON_BACKEND_LINUX;
    d->ctx = ctx;
    memset(&s, 0, sizeof(s));
    dguest *g = dstate_guest(&s, "self", (int64_t)getpid(), true);
    ASSERT_TRUE(g != NULL);
    daemon_sense_helpers(d, g, NULL);
    ASSERT_EQ(g->nr_helpers, 1);
    ASSERT_EQ(g->helpers[0].tid, (int32_t)getpid());
    ASSERT_STR_EQ(g->helpers[0].kind, "emulator");
    ASSERT_STR_EQ(g->helpers[0].cpus, want_text);
    np_bitmap_destroy(want);
    dstate_fini(&s);
    np_linux_ctx_destroy(ctx);
    free(d);
}

static void test_node_sets_in_text(void)
{
    char b[96];
    ASSERT_STR_EQ(dnodes_text(UINT64_C(1) << 1, b, sizeof(b)), "node 1");
    ASSERT_STR_EQ(dnodes_text(UINT64_C(1) << 1 | UINT64_C(1) << 3, b, sizeof(b)), "nodes 1,3");
    ASSERT_STR_EQ(dnodes_text(UINT64_C(1) << 63 | 1, b, sizeof(b)), "nodes 0,63");
    ASSERT_STR_EQ(dnodes_text(0, b, sizeof(b)), "node ?");
    /* the log's form: "node 1 -> 0" as before for one node, "nodes 1,3 -> 0,2" */
    ASSERT_STR_EQ(dnodes_list(UINT64_C(1), b, sizeof(b)), "0");
    ASSERT_STR_EQ(dnodes_list(UINT64_C(5), b, sizeof(b)), "0,2");
    ASSERT_STR_EQ(dnodes_list(0, b, sizeof(b)), "?");
    ASSERT_U64_EQ(dguest_home_set(2, 0), UINT64_C(4));
    ASSERT_U64_EQ(dguest_home_set(0, 5), UINT64_C(5));
    ASSERT_U64_EQ(dguest_home_set(-1, 0), UINT64_C(0));
    ASSERT_U64_EQ(dguest_home_set(64, 0), UINT64_C(0));
}

static void test_moving_reason_names_the_home_set(void)
{
    char r[NP_BALANCE_REASON_MAX];
    const uint64_t mib = 1024 * 1024;
    dmove_reason(r, sizeof(r), 38 * mib, 100 * mib, 1, 0);
    ASSERT_STR_EQ(r, "moving: 38% of 100 MiB to node 1");
    /* a home set {0,2}: home_node_os_id is its lowest node, the text the set */
    dmove_reason(r, sizeof(r), 25 * mib, 100 * mib, 0, 5);
    ASSERT_STR_EQ(r, "moving: 25% of 100 MiB to nodes 0,2");
    /* done beyond the total (the mover's count runs ahead of the snapshot) */
    dmove_reason(r, sizeof(r), 300 * mib, 100 * mib, 0, 5);
    ASSERT_STR_EQ(r, "moving: 100% of 100 MiB to nodes 0,2");
    dmove_reason(r, sizeof(r), 0, 0, 3, 0);
    ASSERT_STR_EQ(r, "moving: 0% of 0 MiB to node 3");
}

static void test_home_set_and_sources_in_state(void)
{
    dstate s, t;

    memset(&s, 0, sizeof(s));
    dguest *g = dstate_guest(&s, "wide", 77, true);
    g->seen = true;
    g->home_node_os_id = 0;
    g->home_nodes_mask = 5; /* {0,2} */
    g->inflight = true;
    g->inflight_from_mask = UINT64_C(1) << 1 | UINT64_C(1) << 3; /* strays on 1 and 3 */
    g->inflight_left_bytes = 8192;
    g->locality = 0.5;
    json_t *st = dstate_status_json(&s, NULL);
    json_t *gj = json_array_get(json_object_get(st, "guests"), 0);
    json_t *set = json_object_get(gj, "home_nodes");
    ASSERT_EQ((int)json_array_size(set), 2);
    ASSERT_EQ((int)json_integer_value(json_array_get(set, 0)), 0);
    ASSERT_EQ((int)json_integer_value(json_array_get(set, 1)), 2);
    ASSERT_EQ((int)json_integer_value(json_object_get(gj, "home")), 0);
    json_decref(st);
    /* a one-node home has no "home_nodes" */
    g->home_nodes_mask = 0;
    st = dstate_status_json(&s, NULL);
    ASSERT_TRUE(!json_object_get(json_array_get(json_object_get(st, "guests"), 0), "home_nodes"));
    json_decref(st);

    ASSERT_EQ(save_and_load(&s, &t), 0);
    g = dstate_guest(&t, "wide", 77, false);
    ASSERT_TRUE(g != NULL);
    ASSERT_TRUE(g->inflight);
    ASSERT_U64_EQ(g->inflight_from_mask, UINT64_C(1) << 1 | UINT64_C(1) << 3);
    ASSERT_U64_EQ(g->inflight_left_bytes, 8192);
    dstate_fini(&t);
    dstate_fini(&s);
}

/* A state file an older numaplaced wrote has "from" only. */
static void test_inflight_from_an_older_file(void)
{
    char path[] = "/tmp/np-test-dstate-XXXXXX";
    np_error err = {0};
    np_balance_state *bal = NULL;
    dstate t;
    int fd = mkstemp(path);

    ASSERT_TRUE(fd >= 0);
    const char *text = "{\"version\":1,\"rounds\":3,\"guests\":[{\"name\":\"wide\",\"pid\":77,"
                       "\"home\":0,\"moved_bytes\":0,\"inflight\":{\"from\":1,\"to\":0,"
                       "\"left_bytes\":4096}}],\"excluded\":[],\"recent\":[]}\n";
    ASSERT_EQ((int)write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    memset(&t, 0, sizeof(t));
    ASSERT_EQ(dstate_load(&t, path, &err, &bal), 0);
    dguest *g = dstate_guest(&t, "wide", 77, false);
    ASSERT_TRUE(g != NULL);
    ASSERT_U64_EQ(g->inflight_from_mask, UINT64_C(1) << 1);
    np_balance_state_destroy(bal);
    dstate_fini(&t);
    unlink(path);
}

int main(void)
{
    dlog_init(NP_LOG_ERROR);
    NP_RUN(test_exit_reported_once);
    NP_RUN(test_forget_keeps_the_others);
    NP_RUN(test_instance_survives_save_and_load);
    NP_RUN(test_helpers_in_status);
    NP_RUN(test_helpers_live_affinity);
    NP_RUN(test_status_lists_are_live);
    NP_RUN(test_node_sets_in_text);
    NP_RUN(test_moving_reason_names_the_home_set);
    NP_RUN(test_home_set_and_sources_in_state);
    NP_RUN(test_inflight_from_an_older_file);
    return np_test_summary();
}
