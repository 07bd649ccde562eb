/* np_std_metrics: the standard locality metrics, worked by hand on small
 * hosts: a local guest, an even split a socket apart, a fallback whose
 * vCPUs float, CPU over-commit counted against CPUs, memory against what
 * was available at the start, refusals passed through. */
#include <errno.h>
#include <math.h>

#include "np_test.h"
#include "test_place_util.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static np_placement *place(const np_host_state *st, const np_guest_spec *s, const char *policy)
{
    np_placement *pl = NULL;
    np_error err = {0};
    int rc = np_place(st, s, policy, &pl, &err);
    if (rc < 0)
        fprintf(stderr, "np_place: %d %s\n", rc, err.msg);
    ASSERT_EQ(rc, 0);
    return pl;
}

static void test_local_and_split(void)
{
    uint32_t c[2] = {4, 4};
    uint64_t m[2] = {8192, 8192};
    uint32_t d[4] = {10, 21, 21, 10};
    np_host_state *st = tp_state(tp_host(2, c, m, d));
    np_guest_spec small = tp_guest("small", 2, 2048), wide = tp_guest("wide", 8, 8192);
    np_placement *a = place(st, &small, NULL), *b = place(st, &wide, NULL);
    double rwd = -1, local = -1;
    if (a && b) {
        ASSERT_EQ(np_std_metrics_guest(st, a, &rwd, &local), 0);
        ASSERT_TRUE(NEAR(rwd, 0.0) && NEAR(local, 1.0));
        /* 4 + 4 vCPUs, 4 + 4 GiB: every vCPU has half its memory at 21 */
        ASSERT_EQ(np_std_metrics_guest(st, b, &rwd, &local), 0);
        ASSERT_TRUE(NEAR(rwd, 0.5 * 1.1));
        ASSERT_TRUE(NEAR(local, 0.5));
        const np_placement *both[3] = {a, NULL, b};
        np_std_metrics sm;
        ASSERT_EQ(np_std_metrics_compute(st, both, 3, 1, &sm), 0);
        ASSERT_TRUE(NEAR(sm.remote_weighted_distance, 0.55 / 2));
        ASSERT_TRUE(NEAR(sm.local_fraction, 0.75));
        ASSERT_EQ(sm.refusals, 1);
        /* small's 2 vCPUs land on one of the nodes: 6 on 4 CPUs there */
        ASSERT_TRUE(NEAR(sm.worst_cpu_overcommit, 6.0 / 4.0));
        /* each node gives 4 GiB to wide, one also 2 GiB to small, of 8 */
        ASSERT_TRUE(NEAR(sm.worst_mem_over_free, 6144.0 / 8192.0));
        /* against a start with 3 GiB reserved on each node: over free */
        np_host_state *tight = tp_state(tp_host(2, c, m, d));
        np_host_state_set_reserved(tight, 0, 3072 * MiB);
        np_host_state_set_reserved(tight, 1, 3072 * MiB);
        ASSERT_EQ(np_std_metrics_compute(tight, both, 3, 0, &sm), 0);
        ASSERT_TRUE(NEAR(sm.worst_mem_over_free, 6144.0 / 5120.0));
        np_host_state_destroy(tight);
    }
    np_placement_destroy(a);
    np_placement_destroy(b);
    np_host_state_destroy(st);
}

/* xl42 gives up above 16 nodes: memory striped, vCPUs float. */
static void test_fallback_floats(void)
{
    uint32_t c[17];
    uint64_t m[17];
    for (size_t i = 0; i < 17; i++) {
        c[i] = 2;
        m[i] = 1024;
    }
    np_host_state *st = tp_state(tp_host(17, c, m, NULL)); /* 10 / 20 */
    np_guest_spec s = tp_guest("g", 2, 1700);
    np_placement *pl = place(st, &s, "xl42");
    if (pl) {
        ASSERT_TRUE(np_placement_is_fallback(pl));
        double rwd, local;
        ASSERT_EQ(np_std_metrics_guest(st, pl, &rwd, &local), 0);
        /* 100 MiB on every node: 1/17 local, 16/17 at 20 */
        ASSERT_TRUE(NEAR(local, 1.0 / 17.0));
        ASSERT_TRUE(NEAR(rwd, 16.0 / 17.0));
        const np_placement *one[1] = {pl};
        np_std_metrics sm;
        ASSERT_EQ(np_std_metrics_compute(st, one, 1, 0, &sm), 0);
        ASSERT_TRUE(NEAR(sm.worst_cpu_overcommit, 2.0 / 17.0 / 2.0));
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

static void test_bad_calls(void)
{
    np_std_metrics sm;
    double r, l;
    ASSERT_EQ(np_std_metrics_compute(NULL, NULL, 0, 0, &sm), -EINVAL);
    ASSERT_EQ(np_std_metrics_guest(NULL, NULL, &r, &l), -EINVAL);
    uint32_t c[1] = {2};
    uint64_t m[1] = {1024};
    np_host_state *st = tp_state(tp_host(1, c, m, NULL));
    ASSERT_EQ(np_std_metrics_compute(st, NULL, 1, 0, &sm), -EINVAL);
    ASSERT_EQ(np_std_metrics_compute(st, NULL, 0, 2, &sm), 0); /* nothing placed */
    ASSERT_TRUE(sm.remote_weighted_distance == 0.0 && sm.worst_cpu_overcommit == 0.0);
    ASSERT_EQ(sm.refusals, 2);
    np_host_state_destroy(st);
}

int main(void)
{
    NP_RUN(test_local_and_split);
    NP_RUN(test_fallback_floats);
    NP_RUN(test_bad_calls);
    return np_test_summary();
}
