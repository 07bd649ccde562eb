/*
 * test_daemon_state.c - numaplaced's per-guest state (src/daemon/state.c)
 * in what issue 12/13 asked of it: a guest's exit is reported once per
 * guest (name, pid, start time) however many paths see it; a guest entry
 * can be forgotten; the process start time (instance) survives a save and
 * a load; status's live parts (excluded flags, excluded list, recent
 * actions) are brought up to date on a published copy; and a guest's
 * helper threads (helpers.c) reach the status reply: from a made-up /proc
 * (kinds and names; no affinity off the live root) and, live, this
 * process's own main thread with the affinity the kernel reports.
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

static void test_instance_survives_save_and_load(void)
{
    char path[] = "/tmp/np-test-dstate-XXXXXX";
    int fd = mkstemp(path);
    dstate s, t;
    np_error err = {0};
    np_balance_state *bal = NULL;

    ASSERT_TRUE(fd >= 0);
    close(fd);
    memset(&s, 0, sizeof(s));
    memset(&t, 0, sizeof(t));
    dguest *g = dstate_guest(&s, "vm1", 4242, true);
    g->instance = 987654321;
    g->moved_bytes = 4096;
    ASSERT_EQ(dstate_save(&s, NULL, path), 0);
    ASSERT_EQ(dstate_load(&t, path, &err, &bal), 0);
    g = dstate_guest(&t, "vm1", 4242, false);
    ASSERT_TRUE(g != NULL);
    ASSERT_U64_EQ(g->instance, 987654321);
    ASSERT_U64_EQ(g->moved_bytes, 4096);
    np_balance_state_destroy(bal);
    dstate_fini(&s);
    dstate_fini(&t);
    unlink(path);
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
    daemon_sense_helpers(d, g);
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
    daemon_sense_helpers(d, g);
    ASSERT_EQ(g->nr_helpers_found, 0);
    st = dstate_status_json(&s, NULL);
    ASSERT_TRUE(json_object_get(json_array_get(json_object_get(st, "guests"), 0), "helpers") ==
                NULL);
    json_decref(st);
    /* the Xen backend has none */
    d->backend = NP_DAEMON_BACKEND_XEN;
    g->pid = 100;
    daemon_sense_helpers(d, g);
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
    daemon_sense_helpers(d, g);
    ASSERT_EQ(g->nr_helpers, 1);
    ASSERT_EQ(g->helpers[0].tid, (int32_t)getpid());
    ASSERT_STR_EQ(g->helpers[0].kind, "emulator");
    ASSERT_STR_EQ(g->helpers[0].cpus, want_text);
    np_bitmap_destroy(want);
    dstate_fini(&s);
    np_linux_ctx_destroy(ctx);
    free(d);
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
    return np_test_summary();
}
