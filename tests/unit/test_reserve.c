/*
 * test_reserve.c - the per-node reservation ledger numaplace create keeps
 * under /run/numaplace: reservations survive a lock/commit/unlock cycle,
 * sum per node, lines of dead processes and malformed lines are dropped,
 * release removes only this process's lines with that tag, bad tags are
 * refused. Runs in a fresh temporary directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaplace/xen.h>

#include "np_test.h"

static char dir[64];

static void write_ledger(const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/ledger", dir);
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_cycle(void)
{
    np_reserve *r = NULL;
    ASSERT_EQ(np_reserve_lock(dir, &r), 0);
    if (!r)
        return;
    ASSERT_U64_EQ(np_reserve_node_bytes(r, 0), 0);
    ASSERT_EQ(np_reserve_add(r, "g1", 0, 512u << 20), 0);
    ASSERT_EQ(np_reserve_add(r, "g1", 1, 256u << 20), 0);
    ASSERT_EQ(np_reserve_add(r, "g2", 0, 128u << 20), 0);
    ASSERT_EQ(np_reserve_commit(r), 0);
    np_reserve_unlock(r);
    r = NULL;
    ASSERT_EQ(np_reserve_lock(dir, &r), 0);
    if (!r)
        return;
    ASSERT_U64_EQ(np_reserve_node_bytes(r, 0), 640u << 20);
    ASSERT_U64_EQ(np_reserve_node_bytes(r, 1), 256u << 20);
    np_reserve_unlock(r);
    ASSERT_EQ(np_reserve_release(dir, "g1"), 0);
    ASSERT_EQ(np_reserve_lock(dir, &r), 0);
    if (!r)
        return;
    ASSERT_U64_EQ(np_reserve_node_bytes(r, 0), 128u << 20);
    ASSERT_U64_EQ(np_reserve_node_bytes(r, 1), 0);
    np_reserve_unlock(r);
    ASSERT_EQ(np_reserve_release(dir, "g2"), 0);
}

/* A pid that cannot exist (above Linux's PID_MAX_LIMIT of 2^22). */
static void test_dead_and_malformed(void)
{
    char text[512];
    np_reserve *r = NULL;
    snprintf(text, sizeof(text),
             "99999999 gone 0 1000\n"   /* dead process */
             "%ld live 0 2000\n"        /* this process */
             "garbage line\n"
             "%ld bad x 5\n"            /* node not a number */
             "%ld live 1 30000000000000000000000\n", /* bytes overflow */
             (long)getpid(), (long)getpid(), (long)getpid());
    write_ledger(text);
    ASSERT_EQ(np_reserve_lock(dir, &r), 0);
    if (!r)
        return;
    ASSERT_U64_EQ(np_reserve_node_bytes(r, 0), 2000);
    ASSERT_U64_EQ(np_reserve_node_bytes(r, 1), 0);
    ASSERT_EQ(np_reserve_commit(r), 0); /* rewritten without the dropped lines */
    np_reserve_unlock(r);
    ASSERT_EQ(np_reserve_release(dir, "live"), 0);
    ASSERT_EQ(np_reserve_lock(dir, &r), 0);
    if (!r)
        return;
    ASSERT_U64_EQ(np_reserve_node_bytes(r, 0), 0);
    np_reserve_unlock(r);
}

static void test_bad_tags(void)
{
    np_reserve *r = NULL;
    ASSERT_EQ(np_reserve_lock(dir, &r), 0);
    if (!r)
        return;
    ASSERT_EQ(np_reserve_add(r, "", 0, 1), -EINVAL);
    ASSERT_EQ(np_reserve_add(r, "a b", 0, 1), -EINVAL);
    char long_tag[NP_RESERVE_TAG_MAX + 1];
    memset(long_tag, 'x', sizeof(long_tag) - 1);
    long_tag[sizeof(long_tag) - 1] = '\0';
    ASSERT_EQ(np_reserve_add(r, long_tag, 0, 1), -EINVAL);
    np_reserve_unlock(r);
}

int main(void)
{
    char tmpl[] = "/tmp/np-reserve-XXXXXX";
    char path[128];
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dir, sizeof(dir), "%s", tmpl);
    NP_RUN(test_cycle);
    NP_RUN(test_dead_and_malformed);
    NP_RUN(test_bad_tags);
    snprintf(path, sizeof(path), "%s/ledger", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock", dir);
    unlink(path);
    rmdir(dir);
    return np_test_summary();
}
