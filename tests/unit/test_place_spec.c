/* Guest spec defaults and validation (alone and against a host). */
#include <errno.h>
#include <math.h>

#include <numaplace/guest.h>

#include "np_test.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

static np_topology *host(void)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    np_topology_builder_set_name(b, "h");
    np_topology_builder_add_node(b, 0, 8 * GiB, 8 * GiB);
    np_topology_builder_add_node(b, 1, 8 * GiB, 8 * GiB);
    for (uint32_t c = 0; c < 4; c++)
        np_topology_builder_add_cpu(b, c, c / 2, c / 2, c % 2);
    np_pci_info dev = {0};
    dev.bus = 3;
    np_topology_builder_add_device(b, &dev, 1);
    np_topology_builder_finish(b, &t, &err);
    np_topology_builder_destroy(b);
    return t;
}

static np_guest_spec base(void)
{
    np_guest_spec s;
    np_guest_spec_init(&s);
    snprintf(s.name, sizeof(s.name), "web");
    s.vcpus = 2;
    s.mem_bytes = 2 * GiB;
    return s;
}

static void test_defaults(void)
{
    np_guest_spec s;
    memset(&s, 0x5a, sizeof(s));
    np_guest_spec_init(&s);
    ASSERT_EQ(s.vcpus, 0);
    ASSERT_EQ(s.affinity, NP_AFFINITY_SOFT);
    ASSERT_EQ(s.vnuma_nodes, NP_VNUMA_AUTO);
    ASSERT_EQ(s.io_node_os_id, -1);
    ASSERT_EQ(s.group_weight, NP_GROUP_WEIGHT_DEFAULT);
    ASSERT_EQ(s.nr_devices, 0);
    ASSERT_TRUE(s.cpu_demand == 1.0);
    ASSERT_STR_EQ(s.name, "");
    /* no size yet: not valid until the caller says how big */
    np_error err = {0};
    ASSERT_EQ(np_guest_spec_validate(&s, NULL, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "vcpus must be 1..4096, got 0");
    s.vcpus = 1;
    ASSERT_EQ(np_guest_spec_validate(&s, NULL, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "memory");
    s.mem_bytes = GiB;
    ASSERT_EQ(np_guest_spec_validate(&s, NULL, &err), 0);
    ASSERT_U64_EQ(np_guest_spec_maxmem_bytes(&s), GiB);
    s.maxmem_bytes = 3 * GiB;
    ASSERT_U64_EQ(np_guest_spec_maxmem_bytes(&s), 3 * GiB);
}

static void test_names(void)
{
    ASSERT_STR_EQ(np_affinity_mode_name(NP_AFFINITY_SOFT), "soft");
    ASSERT_STR_EQ(np_affinity_mode_name(NP_AFFINITY_HARD), "hard");
    ASSERT_STR_EQ(np_affinity_mode_name(NP_AFFINITY_NONE), "none");
    ASSERT_STR_EQ(np_affinity_mode_name((np_affinity_mode)7), "unknown");
    ASSERT_STR_EQ(np_group_rule_name(NP_GROUP_COLOCATE), "colocate");
    ASSERT_STR_EQ(np_group_rule_name(NP_GROUP_SPREAD), "spread");
    ASSERT_STR_EQ(np_group_rule_name(NP_GROUP_NONE), "none");
}

/* Each case breaks one rule; the message must name what is wrong. */
static void test_rejections(void)
{
    np_error err;
    np_guest_spec s;
#define REJECT(mutate, needle)                                                                     \
    do {                                                                                           \
        s = base();                                                                                \
        mutate;                                                                                    \
        memset(&err, 0, sizeof(err));                                                              \
        ASSERT_EQ(np_guest_spec_validate(&s, NULL, &err), -EINVAL);                                \
        ASSERT_CONTAINS(err.msg, needle);                                                          \
    } while (0)
    REJECT(s.vcpus = 0, "vcpus");
    REJECT(s.vcpus = NP_GUEST_MAX_VCPUS + 1, "vcpus");
    REJECT(s.maxmem_bytes = GiB, "maxmem");
    REJECT((s.nr_devices = 1, snprintf(s.devices[0], NP_BDF_TEXT_MAX, "zz:00")), "PCI address");
    REJECT(s.nr_devices = NP_GUEST_MAX_DEVICES + 1, "devices");
    REJECT(s.io_node_os_id = -2, "io node");
    REJECT(snprintf(s.group, sizeof(s.group), "db"), "needs a rule");
    REJECT(s.group_rule = NP_GROUP_SPREAD, "without a group");
    REJECT((snprintf(s.group, sizeof(s.group), "db"), s.group_rule = NP_GROUP_SPREAD,
            s.group_weight = 0),
           "weight");
    REJECT(s.vnuma_nodes = -2, "vnuma");
    REJECT(s.vnuma_nodes = 3, "one vCPU per virtual node");
    REJECT((s.vcpus = 4, s.vnuma_nodes = 4, s.mem_bytes = 3 * MiB), "1 MiB");
    REJECT(s.affinity = (np_affinity_mode)9, "affinity");
    REJECT(s.cpu_demand = 1.01, "demand");
    REJECT(s.cpu_demand = NAN, "demand");
    REJECT(memset(s.name, 'x', sizeof(s.name)), "name");
#undef REJECT
}

static void test_against_host(void)
{
    np_topology *t = host();
    np_error err = {0};
    np_guest_spec s = base();
    ASSERT_EQ(np_guest_spec_validate(&s, t, &err), 0);
    s.nr_devices = 1;
    snprintf(s.devices[0], NP_BDF_TEXT_MAX, "0000:03:00.0");
    s.io_node_os_id = 1;
    ASSERT_EQ(np_guest_spec_validate(&s, t, &err), 0);
    snprintf(s.devices[0], NP_BDF_TEXT_MAX, "04:00.0");
    ASSERT_EQ(np_guest_spec_validate(&s, t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "04:00.0 is not on host h");
    s = base();
    s.io_node_os_id = 2;
    ASSERT_EQ(np_guest_spec_validate(&s, t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "io node 2");
    s = base();
    s.vcpus = 5;
    ASSERT_EQ(np_guest_spec_validate(&s, t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "only 4 CPUs");
    /* valid alone, too big for this host */
    ASSERT_EQ(np_guest_spec_validate(&s, NULL, &err), 0);
    s = base();
    s.maxmem_bytes = 17 * GiB;
    ASSERT_EQ(np_guest_spec_validate(&s, t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "17 GiB");
    np_topology_destroy(t);
}

int main(void)
{
    NP_RUN(test_defaults);
    NP_RUN(test_names);
    NP_RUN(test_rejections);
    NP_RUN(test_against_host);
    return np_test_summary();
}
