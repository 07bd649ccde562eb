/*
 * test_xen_move.c - the pure parts of the Xen backend's save/restore memory
 * moves (src/xen/xen_move.c): the per-guest rate limit (admit / note, the
 * table full), the moved-bytes accounting from before/after dumps, and the
 * opt-in switch refusing bad settings. The move itself needs a hypervisor:
 * tests/xen/daemon-move.test.sh. Built only with libxen-dev (NP_HAVE_XEN).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "np_test.h"

#ifdef NP_HAVE_XEN
#include "xen/xen_int.h"

#define S UINT64_C(1000000000)
#define MiB (UINT64_C(1) << 20)

static void test_admit(void)
{
    xen_move_state ms;
    uint64_t wait = 0;
    memset(&ms, 0, sizeof(ms));
    ASSERT_EQ(np_xen_move_admit(&ms, "web", 5 * S, 600 * S, &wait), 0);
    np_xen_move_note(&ms, "web", 3, 5 * S);
    ASSERT_EQ(np_xen_move_admit(&ms, "web", 65 * S, 600 * S, &wait), -EAGAIN);
    ASSERT_U64_EQ(wait, 540 * S);
    ASSERT_EQ(np_xen_move_admit(&ms, "db", 65 * S, 600 * S, &wait), 0);
    ASSERT_EQ(np_xen_move_admit(&ms, "web", 605 * S, 600 * S, &wait), 0);
    /* a clock behind the record: wait the whole interval */
    ASSERT_EQ(np_xen_move_admit(&ms, "web", 1 * S, 600 * S, &wait), -EAGAIN);
    ASSERT_U64_EQ(wait, 600 * S);
    /* a second note of the same guest replaces its record */
    np_xen_move_note(&ms, "web", 3, 700 * S);
    ASSERT_EQ(ms.nr_recs, 1);
    ASSERT_EQ(np_xen_move_admit(&ms, "web", 800 * S, 600 * S, &wait), -EAGAIN);
}

static void test_table_full(void)
{
    xen_move_state ms;
    char name[16];
    uint64_t wait = 0;
    memset(&ms, 0, sizeof(ms));
    for (unsigned i = 0; i < XEN_MOVE_TRACK_MAX; i++) {
        snprintf(name, sizeof(name), "g%u", i);
        /* g7 moved first of all */
        np_xen_move_note(&ms, name, i + 1, i == 7 ? 1 * S : (100 + i) * S);
    }
    ASSERT_EQ(ms.nr_recs, XEN_MOVE_TRACK_MAX);
    np_xen_move_note(&ms, "late", 99, 300 * S);
    ASSERT_EQ(ms.nr_recs, XEN_MOVE_TRACK_MAX);
    ASSERT_STR_EQ(ms.recs[7].name, "late");
    ASSERT_EQ(np_xen_move_admit(&ms, "g7", 301 * S, 600 * S, &wait), 0);
    ASSERT_EQ(np_xen_move_admit(&ms, "g8", 301 * S, 600 * S, &wait), -EAGAIN);
    ASSERT_EQ(np_xen_move_admit(&ms, "late", 301 * S, 600 * S, &wait), -EAGAIN);
}

/* A restored domain's start time comes from the move's record: libxl's is
 * gone with the old domain (same UUID). */
static void test_restored_start(void)
{
    xen_move_state ms;
    uint64_t start = 0;
    memset(&ms, 0, sizeof(ms));
    ASSERT_EQ(np_xen_move_start_ns(&ms, 5, &start), -ENOENT);
    np_xen_move_note(&ms, "web", 4, 10 * S);
    ASSERT_EQ(np_xen_move_start_ns(&ms, 5, &start), -ENOENT);
    ASSERT_TRUE(!np_xen_move_replaced(&ms, 4)); /* not yet restored */
    np_xen_move_restored(&ms, "web", 5, 12 * S);
    ASSERT_EQ(np_xen_move_start_ns(&ms, 5, &start), 0);
    ASSERT_U64_EQ(start, 12 * S);
    /* domain 4 lives on as 5: a request for 4 is stale, not a dead guest */
    ASSERT_TRUE(np_xen_move_replaced(&ms, 4));
    ASSERT_TRUE(!np_xen_move_replaced(&ms, 5));
    /* the next attempt forgets the old domain until it restores again */
    np_xen_move_note(&ms, "web", 5, 900 * S);
    ASSERT_EQ(np_xen_move_start_ns(&ms, 5, &start), -ENOENT);
    /* a guest without a record is ignored; domid 0 is never a restored one */
    np_xen_move_restored(&ms, "db", 6, 13 * S);
    ASSERT_EQ(np_xen_move_start_ns(&ms, 6, &start), -ENOENT);
    ASSERT_EQ(np_xen_move_start_ns(&ms, 0, &start), -ENOENT);
}

static void test_moved_bytes(void)
{
    /* all 128 MiB went from node 0 to node 1 */
    ASSERT_U64_EQ(np_xen_moved_bytes(128 * MiB, 0, 0, 128 * MiB), 128 * MiB);
    /* 100 left the source, the target gained 128 (28 came from a third
     * node): only 100 went source -> target */
    ASSERT_U64_EQ(np_xen_moved_bytes(100 * MiB, 0, 0, 128 * MiB), 100 * MiB);
    /* the target gained only 60 (the rest went elsewhere) */
    ASSERT_U64_EQ(np_xen_moved_bytes(128 * MiB, 0, 10 * MiB, 70 * MiB), 60 * MiB);
    /* nothing left the source, or the target shrank: 0, never a wrap */
    ASSERT_U64_EQ(np_xen_moved_bytes(10 * MiB, 20 * MiB, 0, 128 * MiB), 0);
    ASSERT_U64_EQ(np_xen_moved_bytes(128 * MiB, 0, 50 * MiB, 40 * MiB), 0);
}

int main(void)
{
    NP_RUN(test_admit);
    NP_RUN(test_table_full);
    NP_RUN(test_restored_start);
    NP_RUN(test_moved_bytes);
    return np_test_summary();
}
#else
int main(void)
{
    return np_test_skip("built without libxen-dev");
}
#endif
