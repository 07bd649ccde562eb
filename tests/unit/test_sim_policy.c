/*
 * test_sim_policy.c - the policy slot: built-in policies by name, and a
 * policy written here in one file (placement plus a runtime step acting
 * only through the backend), as a new heuristic would be.
 */
#include <errno.h>
#include <string.h>

#include "np_test.h"
#include "sim_test_util.h"

static void test_builtin_policies(void)
{
    const np_sim_policy *p = NULL;
    ASSERT_EQ(np_sim_policy_count(), 8);
    for (size_t i = 0; i < np_sim_policy_count(); i++) {
        ASSERT_EQ(np_sim_policy_find(np_sim_policy_get(i)->name, &p), 0);
        ASSERT_TRUE(p == np_sim_policy_get(i));
        ASSERT_TRUE(strlen(p->summary) > 10);
    }
    ASSERT_EQ(np_sim_policy_find("xl42", &p), -ENOENT);
    ASSERT_TRUE(np_sim_policy_get(99) == NULL);
}

/* simple-hard on an empty 2-node host: one node each, alternating as the
 * planned load grows; vCPUs pinned there, memory there. */
static void test_simple_policy_places_on_one_node(void)
{
    np_topology *t = sim_test_topo(2, 4, 16);
    np_sim *sim = NULL;
    const np_sim_policy *pol = NULL;
    np_backend_guest *list = NULL;
    size_t nr = 0;

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    ASSERT_EQ(np_sim_policy_find("simple-hard", &pol), 0);
    ASSERT_EQ(np_sim_set_policy(sim, pol, NULL), 0);
    for (int i = 0; i < 4; i++) {
        np_sim_guest g;
        sim_test_guest(&g, "", 2, 2 * GIB, 0.3);
        ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    }
    ASSERT_EQ(np_sim_run(sim, SEC), 0);
    ASSERT_EQ(np_backend_list_guests(np_sim_backend(sim), &list, &nr), 0);
    ASSERT_EQ(nr, 4);
    for (size_t i = 0; i < nr; i++) {
        size_t node = i % 2; /* least planned demand first, ties to node 0 */
        ASSERT_U64_EQ(list[i].node_mem_bytes[node], 2 * GIB);
        ASSERT_TRUE(np_bitmap_equal(list[i].vcpus[0].hard, np_topology_node_cpuset(t, node)));
        ASSERT_TRUE(list[i].vcpus[0].soft == NULL);
    }
    np_backend_guests_free(list, nr);
    np_sim_host_metrics hm;
    ASSERT_EQ(np_sim_host_metrics_get(sim, &hm), 0);
    ASSERT_TRUE(hm.remote_ratio == 0.0);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

/* ---- a policy in one file ------------------------------------------------------ */

/* Place: memory on node 0, vCPUs free. Step: move memory towards the node
 * each guest's vCPU 0 last ran on, through the backend only. */
typedef struct follow_state {
    int steps;
    uint64_t moved;
} follow_state;

static int follow_place(void *self, np_sim *sim, const np_guest_spec *spec, np_sim_plan *plan,
                        np_error *err)
{
    (void)self;
    (void)sim;
    (void)spec;
    (void)err;
    return np_sim_plan_set_node_mem(plan, 0, 1);
}

static int follow_rebalance(void *self, np_backend *be)
{
    follow_state *st = self;
    np_backend_guest *list = NULL;
    np_topology *t = NULL;
    size_t nr = 0;
    int rc = np_backend_list_guests(be, &list, &nr);
    if (!rc)
        rc = np_backend_topology(be, &t);
    for (size_t i = 0; i < nr && !rc; i++) {
        int32_t cpu = list[i].vcpus[0].last_cpu_os_id;
        size_t cpu_idx, to;
        if (cpu < 0 || np_topology_cpu_idx(t, (uint32_t)cpu, &cpu_idx))
            continue;
        to = np_topology_cpu(t, cpu_idx)->node_idx;
        for (size_t from = 0; from < list[i].nr_nodes && !rc; from++) {
            uint64_t moved = 0;
            if (from == to || !list[i].node_mem_bytes[from])
                continue;
            rc = np_backend_migrate_memory(be, list[i].id, from, to, list[i].node_mem_bytes[from], &moved);
            st->moved += moved;
        }
    }
    st->steps++;
    np_backend_guests_free(list, nr);
    np_topology_destroy(t);
    return rc;
}

static const np_sim_policy follow_policy = {
    .name = "follow",
    .summary = "memory follows the vCPUs (test)",
    .place = follow_place,
    .rebalance = follow_rebalance,
};

static void test_one_file_policy_with_runtime_step(void)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim *sim = NULL;
    np_sim_config cfg;
    follow_state st = {0, 0};
    np_sim_guest g;
    np_sim_guest_metrics early, late;
    np_sim_plan *p = sim_test_plan(t, 1, 0, 1, 1);

    np_sim_config_init(&cfg);
    cfg.rebalance_ns = 500 * MS;
    cfg.sample_ns = 500 * MS;
    ASSERT_EQ(np_sim_create(t, &cfg, &sim), 0);
    ASSERT_EQ(np_sim_set_policy(sim, &follow_policy, &st), 0);
    /* Pinned to node 1 by its own plan; the policy places memory on 0 for
     * others but this guest brings its plan (memory on 0 too). */
    sim_test_guest(&g, "pinned", 1, GIB, 0.6);
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    sim_test_guest(&g, "placed", 1, GIB, 0.6);
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, 400 * MS), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &early), 0);
    ASSERT_TRUE(early.remote_ratio > 0.999);
    ASSERT_EQ(np_sim_run(sim, 10 * SEC), 0);
    ASSERT_EQ(st.steps, 20);
    ASSERT_TRUE(st.moved >= GIB); /* the pinned guest's whole memory moved */
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, 1), GIB / 4096);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &late), 0);
    ASSERT_TRUE(late.pages_migrated >= GIB / 4096);
    /* The last sample period is all local. */
    np_sim_sample s;
    ASSERT_EQ(np_sim_sample_get(sim, np_sim_nr_samples(sim) - 1, &s), 0);
    ASSERT_TRUE(s.remote_ratio == 0.0);
    ASSERT_TRUE(s.pages_migrated >= GIB / 4096);
    np_sim_sample first;
    ASSERT_EQ(np_sim_sample_get(sim, 0, &first), 0);
    ASSERT_TRUE(first.remote_ratio > 0.4);
    ASSERT_TRUE(s.work_rate > first.work_rate);
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

/* A policy may not add guests or run the simulator from inside it. */
static int reentrant_place(void *self, np_sim *sim, const np_guest_spec *spec, np_sim_plan *plan,
                           np_error *err)
{
    int *seen = self;
    np_sim_guest g;
    (void)spec;
    (void)plan;
    (void)err;
    np_sim_guest_init(&g);
    g.start_ns = np_sim_now_ns(sim);
    seen[0] = np_sim_add_guest(sim, &g, NULL, NULL);
    seen[1] = np_sim_run(sim, np_sim_now_ns(sim) + 1);
    return -ENOSPC; /* and say the guest fits nowhere */
}

static void test_policy_callbacks_cannot_reenter(void)
{
    static const np_sim_policy reentrant = {.name = "reentrant", .summary = "", .place = reentrant_place};
    np_topology *t = sim_test_topo(1, 2, 4);
    np_sim *sim = NULL;
    np_sim_guest g;
    np_sim_guest_metrics m;
    int seen[2] = {0, 0};

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    ASSERT_EQ(np_sim_set_policy(sim, &reentrant, seen), 0);
    sim_test_guest(&g, "x", 1, GIB, 0.1);
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, MS), 0);
    ASSERT_EQ(seen[0], -EBUSY);
    ASSERT_EQ(seen[1], -EBUSY);
    ASSERT_EQ(np_sim_nr_guests(sim), 1);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &m), 0);
    ASSERT_EQ(m.status, NP_SIM_GUEST_REJECTED); /* the policy said no */
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

/* place.h's policies through the slot: every vCPU bound (hard or soft) to
 * one node's CPUs where its guest has memory, the load spread over both
 * nodes, the hypervisor state beside the vCPUs. */
static void run_place_policy(const char *name, int hard, double max_remote)
{
    np_topology *t = sim_test_topo(2, 4, 16);
    np_sim *sim = NULL;
    const np_sim_policy *pol = NULL;
    np_backend_guest *list = NULL;
    size_t nr = 0, vcpus_on[2] = {0, 0};
    np_sim_host_metrics hm;

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    ASSERT_EQ(np_sim_policy_find(name, &pol), 0);
    ASSERT_EQ(np_sim_set_policy(sim, pol, NULL), 0);
    for (int i = 0; i < 4; i++) {
        np_sim_guest g;
        sim_test_guest(&g, "", 2, 4 * GIB, 0.4);
        g.start_ns = (uint64_t)i * 100 * MS;
        ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    }
    ASSERT_EQ(np_sim_run(sim, 2 * SEC), 0);
    ASSERT_EQ(np_backend_list_guests(np_sim_backend(sim), &list, &nr), 0);
    ASSERT_EQ(nr, 4);
    for (size_t i = 0; i < nr; i++) {
        ASSERT_U64_EQ(list[i].node_mem_bytes[0] + list[i].node_mem_bytes[1], 4 * GIB);
        for (uint32_t v = 0; v < 2; v++) {
            /* hard < 0: the policy chooses per guest (numaplace-soft pins
             * a guest once the host's capacity is taken): soft only, or
             * pinned to the same node */
            const np_bitmap *mask = hard > 0 ? list[i].vcpus[v].hard : list[i].vcpus[v].soft;
            if (hard < 0 && !mask)
                mask = list[i].vcpus[v].hard;
            ASSERT_TRUE(hard != 0 || list[i].vcpus[v].hard == NULL);
            size_t node = mask && np_bitmap_equal(mask, np_topology_node_cpuset(t, 1)) ? 1 : 0;
            ASSERT_TRUE(mask && np_bitmap_equal(mask, np_topology_node_cpuset(t, node)));
            ASSERT_TRUE(list[i].node_mem_bytes[node] > 0);
            vcpus_on[node]++;
        }
    }
    ASSERT_EQ(vcpus_on[0], 4);
    ASSERT_EQ(vcpus_on[1], 4);
    np_backend_guests_free(list, nr);
    ASSERT_EQ(np_sim_host_metrics_get(sim, &hm), 0);
    ASSERT_TRUE(hm.remote_ratio <= max_remote);
    for (size_t g = 0; g < 4; g++) {
        np_sim_guest_metrics m;
        ASSERT_EQ(np_sim_guest_metrics_get(sim, g, &m), 0);
        ASSERT_TRUE(m.internal_remote_ratio == 0.0);
    }
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_place_h_policies(void)
{
    /* xl42 puts each guest whole on one node: nothing remote. */
    run_place_policy("xl42-hard", 1, 0.0);
    run_place_policy("xl42-soft", 0, 0.0);
    /* numaplace may split a guest over both nodes with a vNUMA layout: a
     * vCPU then reaches the other node for 1 - vnuma_locality of its
     * accesses, and only for the guests split. */
    run_place_policy("numaplace-soft", -1, 0.5 * (1.0 - 0.9) + 1e-9);
}

int main(void)
{
    NP_RUN(test_builtin_policies);
    NP_RUN(test_simple_policy_places_on_one_node);
    NP_RUN(test_one_file_policy_with_runtime_step);
    NP_RUN(test_policy_callbacks_cannot_reenter);
    NP_RUN(test_place_h_policies);
    return np_test_summary();
}
