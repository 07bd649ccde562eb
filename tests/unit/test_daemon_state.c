/*
 * test_daemon_state.c - numaplaced's per-guest state (src/daemon/state.c)
 * in what issue 12/13 asked of it: a guest's exit is reported once per
 * guest (name, pid, start time) however many paths see it; a guest entry
 * can be forgotten; the process start time (instance) survives a save and
 * a load; and status's live parts (excluded flags, excluded list, recent
 * actions) are brought up to date on a published copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
    dlog_init(NP_LOG_ERROR);
    NP_RUN(test_exit_reported_once);
    NP_RUN(test_forget_keeps_the_others);
    NP_RUN(test_instance_survives_save_and_load);
    NP_RUN(test_status_lists_are_live);
    return np_test_summary();
}
