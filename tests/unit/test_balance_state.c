/*
 * test_balance_state.c - the balancer's persistent state: a save/load
 * round trip keeps every field, a reloaded state keeps holding guests off,
 * bad documents are refused with the line and what was expected, and
 * np_balance_restate puts the real specs back on a sensed host state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "np_test.h"
#include "test_balance_util.h"

static void opt_out(np_guest_spec *s)
{
    s->no_autoplace = true;
}

/* A state with history: web moved at 100 s with memory still pending. */
static np_balance_state *state_with_history(void)
{
    np_host_state *st = bt_host();
    np_balance_config c;
    np_balance_state *bs = NULL;
    np_balance_actions *a = NULL;

    np_balance_config_init(&c);
    bt_guest(st, "hog", 4, 1.0, 0, 0, 2 * GiB, 0, opt_out);
    bt_guest(st, "web", 2, 1.0, 0, 1, 4 * GiB, 0, NULL);
    np_balance_state_create(&bs);
    /* the overload confirmed over confirm_rounds rounds, the last at 100 s */
    for (uint32_t r = c.confirm_rounds; r >= 1; r--) {
        np_balance(st, bs, 100 * SEC - (r - 1) * 2 * SEC, &c, &a);
        np_balance_actions_destroy(a);
        a = NULL;
    }
    np_host_state_destroy(st);
    return bs;
}

static void test_round_trip(void)
{
    np_balance_state *bs = state_with_history(), *back = NULL;
    np_balance_guest_info a, b;
    char *text = NULL, *again = NULL;
    np_error err = {0};

    ASSERT_EQ(np_balance_state_save(bs, &text), 0);
    ASSERT_CONTAINS(text, "\"version\": 1");
    ASSERT_CONTAINS(text, "\"name\": \"web\"");
    ASSERT_EQ(np_balance_state_load(text, strlen(text), "state.json", &back, &err), 0);
    ASSERT_EQ(np_balance_state_nr_guests(back), 2);
    ASSERT_EQ(np_balance_state_guest(bs, "web", &a), 0);
    ASSERT_EQ(np_balance_state_guest(back, "web", &b), 0);
    ASSERT_U64_EQ(b.last_move_ns, 100 * SEC);
    ASSERT_U64_EQ(b.last_move_ns, a.last_move_ns);
    ASSERT_EQ(b.home_node_os_id, 2);
    ASSERT_U64_EQ(b.pending_bytes, a.pending_bytes);
    ASSERT_EQ(b.moves, 1);
    ASSERT_EQ(np_balance_state_guest(back, "hog", &b), 0);
    ASSERT_U64_EQ(b.last_move_ns, NP_BALANCE_NEVER);
    ASSERT_EQ(b.home_node_os_id, -1);
    ASSERT_EQ(np_balance_state_save(back, &again), 0);
    ASSERT_STR_EQ(again, text);
    free(again);
    free(text);
    np_balance_state_destroy(back);
    np_balance_state_destroy(bs);
}

/* After a restart (save, load) the hold-off still holds: the guest that
 * moved at 100 s is not moved back at 120 s. */
static void test_reloaded_state_keeps_hold_off(void)
{
    np_balance_state *bs = state_with_history(), *back = NULL;
    np_balance_config c;
    np_balance_actions *a = NULL;
    np_error err = {0};
    char *text = NULL;

    np_balance_config_init(&c);
    np_balance_state_save(bs, &text);
    ASSERT_EQ(np_balance_state_load(text, strlen(text), "s", &back, &err), 0);
    np_host_state *st = bt_host();
    bt_guest(st, "hog2", 4, 1.0, 1, 1, 0, 1 * GiB, opt_out);
    bt_guest(st, "web", 2, 1.0, 1, 0, 0, 4 * GiB, NULL);
    /* the overload confirmed (hot_rounds is not saved), the hold-off is */
    for (uint32_t r = c.confirm_rounds; r >= 1; r--) {
        np_balance_actions_destroy(a);
        a = NULL;
        ASSERT_EQ(np_balance(st, back, 120 * SEC - (r - 1) * 2 * SEC, &c, &a), 0);
        ASSERT_EQ(bt_count(a, "web", NP_BALANCE_SET_NODE_AFFINITY), 0);
    }
    np_balance_actions_destroy(a);
    /* and a fresh state would have moved it */
    np_balance_state *fresh = NULL;
    np_balance_state_create(&fresh);
    for (uint32_t r = c.confirm_rounds; r > 1; r--) {
        ASSERT_EQ(np_balance(st, fresh, 120 * SEC - (r - 1) * 2 * SEC, &c, &a), 0);
        np_balance_actions_destroy(a);
        a = NULL;
    }
    ASSERT_EQ(np_balance(st, fresh, 120 * SEC, &c, &a), 0);
    ASSERT_EQ(bt_count(a, "web", NP_BALANCE_SET_NODE_AFFINITY), 1);
    np_balance_actions_destroy(a);
    np_balance_state_destroy(fresh);
    np_host_state_destroy(st);
    free(text);
    np_balance_state_destroy(back);
    np_balance_state_destroy(bs);
}

static void expect_bad(const char *text, unsigned line, const char *msg)
{
    np_balance_state *bs = (np_balance_state *)1;
    np_error err = {0};
    ASSERT_EQ(np_balance_state_load(text, strlen(text), "state.json", &bs, &err), -EINVAL);
    ASSERT_TRUE(bs == (np_balance_state *)1); /* untouched */
    ASSERT_STR_EQ(err.origin, "state.json");
    ASSERT_EQ(err.line, line);
    ASSERT_CONTAINS(err.msg, msg);
}

static void test_bad_documents(void)
{
    expect_bad("", 1, "expected JSON");
    expect_bad("[1]", 1, "expected an object");
    expect_bad("{\"guests\": []}", 1, "\"version\": 1 is required");
    expect_bad("{\"version\": 2}", 1, "version: value out of range");
    expect_bad("{\"version\": 1,\n \"colour\": 3}", 2, "colour: unknown key");
    expect_bad("{\"version\": 1,\n \"guests\": {}}", 2, "guests: expected an array");
    expect_bad("{\"version\": 1, \"guests\": [\n {\"name\": \"a\"},\n {\"name\": \"a\"}]}", 3,
               "appears twice");
    expect_bad("{\"version\": 1, \"guests\": [\n {\"name\": \"a\",\n  \"home\": -2}]}", 3,
               "home: value out of range");
    expect_bad("{\"version\": 1, \"guests\": [\n {\"name\": \"a\",\n  \"moves\": \"1\"}]}", 3,
               "moves: expected an integer");
    expect_bad("{\"version\": 1, \"guests\": [\n {\"home\": 1}]}", 2, "needs a \"name\"");
    expect_bad("{\"version\": 1, \"guests\": [{\"name\": \"\"}]}", 1, "1 to 63 characters");
    expect_bad("{\"version\": 1, \"last_round_ns\": -5}", 1, "last_round_ns: value out of range");
    expect_bad("{\"version\": 1, \"version\": 1}", 1, "expected JSON");
}

/* The malformed corpus the fuzz replayer also runs: every file refused
 * with a message, none half-loaded. */
static void test_malformed_fixtures(void)
{
    static const char *const names[] = {
        "balance-state-duplicate-guest.json", "balance-state-home-range.json",
        "balance-state-no-version.json",      "balance-state-float.json",
        "balance-state-trailing-comma.json",  "balance-state-nul-name.json",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[512], buf[4096];
        snprintf(path, sizeof(path), "%s/malformed/%s", NP_FIXTURES_DIR, names[i]);
        FILE *f = fopen(path, "rb");
        ASSERT_TRUE(f != NULL);
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        np_balance_state *bs = NULL;
        np_error err = {0};
        ASSERT_EQ(np_balance_state_load(buf, n, names[i], &bs, &err), -EINVAL);
        ASSERT_TRUE(bs == NULL);
        ASSERT_TRUE(err.msg[0] != '\0' && err.line >= 1);
    }
}

static const np_guest_spec *find_spec(void *opaque, const char *name)
{
    np_guest_spec *s = opaque;
    return !strcmp(s->name, name) ? s : NULL;
}

/* A state sensed as a backend would (every guest no_autoplace) gets its
 * specs back; measured facts are copied. */
static void test_restate(void)
{
    np_host_state *sensed = bt_host(), *st = NULL;
    np_guest_spec want;
    np_node_load la[2], lb[2];

    bt_guest(sensed, "web", 2, 0.5, 1, 1, 1 * GiB, 3 * GiB, opt_out);
    bt_guest(sensed, "other", 1, 0.25, 0, 0, 1 * GiB, 0, opt_out);
    np_host_state_set_node_free(sensed, 1, 5 * GiB);
    np_guest_spec_init(&want);
    snprintf(want.name, sizeof(want.name), "web");
    want.vcpus = 2;
    want.mem_bytes = 1 * GiB; /* the sensed size stands */
    snprintf(want.group, sizeof(want.group), "g");
    want.group_rule = NP_GROUP_SPREAD;
    ASSERT_EQ(np_balance_restate(sensed, find_spec, &want, &st), 0);
    ASSERT_EQ(np_host_state_nr_guests(st), 2);
    const np_guest_spec *s = np_host_state_guest_spec(st, 0);
    ASSERT_TRUE(!s->no_autoplace);
    ASSERT_EQ(s->group_rule, NP_GROUP_SPREAD);
    ASSERT_U64_EQ(s->mem_bytes, 4 * GiB);
    ASSERT_TRUE(np_host_state_guest_spec(st, 1)->no_autoplace);
    ASSERT_U64_EQ(np_host_state_guest_mem_bytes(st, 0, 1), 3 * GiB);
    ASSERT_EQ(np_host_state_vcpu_cpu(st, 0, 1), np_host_state_vcpu_cpu(sensed, 0, 1));
    ASSERT_EQ(np_host_state_node_loads(sensed, la), 0);
    ASSERT_EQ(np_host_state_node_loads(st, lb), 0);
    for (int k = 0; k < 2; k++) {
        ASSERT_TRUE(la[k].cpu_demand == lb[k].cpu_demand);
        ASSERT_U64_EQ(la[k].mem_available_bytes, lb[k].mem_available_bytes);
    }
    /* A spec with another vCPU count is not this guest's: ignored. */
    want.vcpus = 3;
    np_host_state_destroy(st);
    ASSERT_EQ(np_balance_restate(sensed, find_spec, &want, &st), 0);
    ASSERT_TRUE(np_host_state_guest_spec(st, 0)->no_autoplace);
    np_host_state_destroy(st);
    np_host_state_destroy(sensed);
}

int main(void)
{
    NP_RUN(test_round_trip);
    NP_RUN(test_reloaded_state_keeps_hold_off);
    NP_RUN(test_bad_documents);
    NP_RUN(test_malformed_fixtures);
    NP_RUN(test_restate);
    return np_test_summary();
}
