/*
 * test_libvirt_backend.c - the libvirt backend against libvirt's test
 * driver (test:///default: a 2-cell, 16-CPU host running one domain "test"
 * of 2 vCPUs), no hypervisor needed: discovery by name and UUID, vCPU pins,
 * emulator pin, I/O threads, numatune; steering through libvirt's live
 * calls read back through libvirt (what virsh shows), the emulator and I/O
 * threads following the vCPUs, the numatune nodeset set live. Skipped
 * (77) when numaplace is built without libvirt.
 *
 * The test driver accepts CPU ids 0-7 only in new pins (its node info says
 * 8 CPUs while its capabilities list 16 and its domain runs on 0-15), so
 * steering here uses CPUs 4-7.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/backend.h>
#include <numaplace/hoststate.h>
#include <numaplace/libvirt.h>

#include "np_test.h"

#ifdef NP_HAVE_LIBVIRT
#include <libvirt/libvirt.h>

#define URI "test:///default"
#define TEST_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"

static char *fmt(const np_bitmap *m, char *buf, size_t len)
{
    if (!m)
        return "(none)";
    np_bitmap_format(m, buf, len);
    return buf;
}

static np_bitmap *mask(const char *text)
{
    np_bitmap *m = NULL;
    if (np_bitmap_create(&m) || np_bitmap_parse(m, text)) {
        np_bitmap_destroy(m);
        return NULL;
    }
    return m;
}

static void test_discovery(void)
{
    np_libvirt *lv = NULL;
    np_backend *be = NULL;
    np_backend_guest *gs = NULL;
    size_t n = 0;
    np_topology *t = NULL;
    np_libvirt_domain d;
    char b[64];

    ASSERT_EQ(np_libvirt_open(URI, NULL, NULL, NULL, &lv), 0);
    if (!lv)
        return;
    ASSERT_EQ(np_backend_create(np_libvirt_backend_ops(), lv, &be), 0);
    ASSERT_STR_EQ(np_backend_name(be), "libvirt");
    ASSERT_EQ(np_backend_topology(be, &t), 0);
    ASSERT_EQ(np_topology_nr_nodes(t), 2);
    ASSERT_EQ(np_topology_nr_cpus(t), 16);
    ASSERT_EQ(np_backend_list_guests(be, &gs, &n), 0);
    ASSERT_EQ(n, 1);
    if (n == 1) {
        ASSERT_STR_EQ(gs[0].name, "test");
        ASSERT_EQ(gs[0].id, 1);
        ASSERT_EQ(gs[0].nr_vcpus, 2);
        ASSERT_U64_EQ(gs[0].mem_target_bytes, UINT64_C(2097152) * 1024);
        ASSERT_U64_EQ(gs[0].maxmem_bytes, UINT64_C(8388608) * 1024);
        /* free to run on every CPU of the host: neither pinned nor steered */
        ASSERT_TRUE(gs[0].vcpus[0].hard == NULL);
        ASSERT_TRUE(gs[0].vcpus[0].soft == NULL);
        ASSERT_EQ(gs[0].nr_nodes, 2);
    }
    ASSERT_EQ(np_libvirt_domain_find(lv, "test", &d), 0);
    ASSERT_STR_EQ(d.uuid, TEST_UUID);
    ASSERT_EQ(d.id, 1);
    ASSERT_EQ(d.pid, -1); /* no QEMU process: the test driver */
    ASSERT_EQ(d.nr_vcpus, 2);
    ASSERT_STR_EQ(fmt(d.emulator_pin, b, sizeof(b)), "0-15");
    ASSERT_STR_EQ(fmt(d.vcpu_pins[1], b, sizeof(b)), "0-15");
    ASSERT_STR_EQ(d.numatune_mode, "strict");
    np_libvirt_domain_fini(&d);
    ASSERT_EQ(np_libvirt_domain_find(lv, TEST_UUID, &d), 0); /* by UUID */
    ASSERT_STR_EQ(d.name, "test");
    np_libvirt_domain_fini(&d);
    ASSERT_EQ(np_libvirt_domain_find(lv, "nosuch", &d), -ENOENT);
    uint64_t free_bytes = 0;
    ASSERT_EQ(np_backend_node_free_bytes(be, 1, &free_bytes), 0);
    ASSERT_U64_EQ(free_bytes, UINT64_C(4096) * 1024); /* virsh freecell: 4096 KiB */
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 99, 0, NULL, NULL), -ENOENT);
    uint64_t moved = 1;
    ASSERT_EQ(np_backend_migrate_memory(be, 1, 0, 1, 4096, &moved), -ENOSYS);
    ASSERT_U64_EQ(moved, 0);
    np_backend_guests_free(gs, n);
    np_topology_destroy(t);
    np_backend_destroy(be);
    np_libvirt_close(lv);
}

static void test_steering_through_libvirt(void)
{
    np_libvirt *lv = NULL;
    np_backend *be = NULL;
    np_backend_guest *gs = NULL;
    size_t n = 0;
    np_libvirt_domain d;
    char b[64];
    np_bitmap *soft = mask("4-7"), *soft2 = mask("4-5"), *node1 = mask("1");

    ASSERT_EQ(np_libvirt_open(URI, NULL, NULL, NULL, &lv), 0);
    if (!lv)
        goto out;
    ASSERT_EQ(np_backend_create(np_libvirt_backend_ops(), lv, &be), 0);
    /* an I/O thread, added the way virsh iothreadadd does */
    virConnectPtr c = virConnectOpen(URI);
    virDomainPtr dom = c ? virDomainLookupByName(c, "test") : NULL;
    ASSERT_TRUE(dom != NULL);
    if (dom)
        ASSERT_EQ(virDomainAddIOThread(dom, 7, VIR_DOMAIN_AFFECT_CURRENT), 0);

    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 1, 0, NULL, soft), 0);
    ASSERT_EQ(np_libvirt_domain_get(lv, 1, &d), 0);
    ASSERT_STR_EQ(fmt(d.vcpu_pins[0], b, sizeof(b)), "4-7");
    ASSERT_STR_EQ(fmt(d.vcpu_pins[1], b, sizeof(b)), "0-15");
    ASSERT_STR_EQ(fmt(d.emulator_pin, b, sizeof(b)), "0-15"); /* union of the vCPUs' */
    np_libvirt_domain_fini(&d);
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 1, 1, NULL, soft2), 0);
    ASSERT_EQ(np_libvirt_domain_get(lv, 1, &d), 0);
    ASSERT_STR_EQ(fmt(d.vcpu_pins[1], b, sizeof(b)), "4-5");
    ASSERT_STR_EQ(fmt(d.emulator_pin, b, sizeof(b)), "4-7"); /* followed the vCPUs */
    ASSERT_EQ(d.nr_iothreads, 1);
    if (d.nr_iothreads == 1) {
        ASSERT_EQ(d.iothread_ids[0], 7);
        ASSERT_STR_EQ(fmt(d.iothread_pins[0], b, sizeof(b)), "4-7");
    }
    np_libvirt_domain_fini(&d);
    /* what the daemon steered reads back as a preference, not a pin */
    ASSERT_EQ(np_backend_list_guests(be, &gs, &n), 0);
    if (n == 1) {
        ASSERT_TRUE(gs[0].vcpus[1].hard == NULL);
        ASSERT_STR_EQ(fmt(gs[0].vcpus[1].soft, b, sizeof(b)), "4-5");
    }
    np_backend_guests_free(gs, n);
    /* a hard pin stays a pin */
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 1, 1, soft, NULL), 0);
    ASSERT_EQ(np_backend_list_guests(be, &gs, &n), 0);
    if (n == 1) {
        ASSERT_STR_EQ(fmt(gs[0].vcpus[1].hard, b, sizeof(b)), "4-7");
        ASSERT_TRUE(gs[0].vcpus[1].soft == NULL);
    }
    np_backend_guests_free(gs, n);
    /* numatune: strict allows a live nodeset */
    ASSERT_EQ(np_backend_set_guest_node_affinity(be, 1, node1), 0);
    ASSERT_EQ(np_libvirt_domain_get(lv, 1, &d), 0);
    ASSERT_STR_EQ(fmt(d.numatune_nodes, b, sizeof(b)), "1");
    np_libvirt_domain_fini(&d);
    ASSERT_EQ(np_backend_set_guest_node_affinity(be, 1, NULL), 0); /* every node */
    ASSERT_EQ(np_libvirt_domain_get(lv, 1, &d), 0);
    ASSERT_STR_EQ(fmt(d.numatune_nodes, b, sizeof(b)), "0-1");
    np_libvirt_domain_fini(&d);
    if (dom)
        virDomainFree(dom);
    if (c)
        virConnectClose(c);
out:
    np_bitmap_destroy(soft);
    np_bitmap_destroy(soft2);
    np_bitmap_destroy(node1);
    np_backend_destroy(be);
    np_libvirt_close(lv);
}

static char logged[2048];
static void log_capture(void *opaque, np_log_level level, const char *subsys, const char *msg)
{
    (void)opaque;
    (void)level;
    (void)subsys;
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof(logged) - n, "%s\n", msg);
}

/* A domain spanning both cells with a strict <memnode> per cell (what
 * create --libvirt writes for a wide guest) and numaplace's hints in its
 * <metadata>: the hints reach the guest list and the sensed spec; the
 * node affinity is refused with the reason logged, since libvirt cannot
 * change per-cell bindings of a running domain. */
static void test_memnodes_and_hints(void)
{
    np_libvirt *lv = NULL;
    np_backend *be = NULL;
    np_backend_guest *gs = NULL;
    np_host_state *st = NULL;
    size_t n = 0;
    np_bitmap *node1 = mask("1");
    static const char xml[] =
        "<domain type='test'><name>np-wide</name><memory unit='MiB'>4</memory><vcpu>2</vcpu>"
        "<metadata><numaplace:placement xmlns:numaplace='" NP_LIBVIRT_XMLNS "' "
        "group='rep:spread:90' io-node='1' nodes='0-1'/></metadata>"
        "<cpu><numa><cell id='0' cpus='0' memory='2048' unit='KiB'/>"
        "<cell id='1' cpus='1' memory='2048' unit='KiB'/></numa></cpu>"
        "<numatune><memory mode='strict' nodeset='0-1'/>"
        "<memnode cellid='0' mode='strict' nodeset='0'/>"
        "<memnode cellid='1' mode='strict' nodeset='1'/></numatune>"
        "<os><type>hvm</type></os></domain>";

    logged[0] = '\0';
    ASSERT_EQ(np_libvirt_open(URI, NULL, log_capture, NULL, &lv), 0);
    if (!lv)
        goto out;
    ASSERT_EQ(np_backend_create(np_libvirt_backend_ops(), lv, &be), 0);
    virConnectPtr c = virConnectOpen(URI);
    virDomainPtr dom = c ? virDomainCreateXML(c, xml, 0) : NULL;
    ASSERT_TRUE(dom != NULL);
    if (!dom)
        goto out;
    uint64_t id = virDomainGetID(dom);
    ASSERT_EQ(np_backend_list_guests(be, &gs, &n), 0);
    const np_backend_guest *g = NULL;
    for (size_t i = 0; i < n; i++)
        if (gs[i].id == id)
            g = &gs[i];
    ASSERT_TRUE(g != NULL);
    if (g) {
        ASSERT_STR_EQ(g->group, "rep");
        ASSERT_EQ(g->group_rule, NP_GROUP_SPREAD);
        ASSERT_EQ(g->group_weight, 90);
        ASSERT_TRUE(g->io_node_set);
        ASSERT_EQ(g->io_node_os_id, 1);
    }
    ASSERT_EQ(np_backend_sense_guests(be, gs, n, &st), 0);
    size_t gi;
    ASSERT_EQ(np_host_state_find_guest(st, "np-wide", &gi), 0);
    if (st && np_host_state_find_guest(st, "np-wide", &gi) == 0) {
        const np_guest_spec *sp = np_host_state_guest_spec(st, gi);
        ASSERT_STR_EQ(sp->group, "rep");
        ASSERT_EQ(sp->group_rule, NP_GROUP_SPREAD);
        ASSERT_EQ(sp->io_node_os_id, 1);
    }
    ASSERT_EQ(np_backend_set_guest_node_affinity(be, id, node1), -EOPNOTSUPP);
    ASSERT_CONTAINS(logged, "per-cell <memnode> bindings");
    np_libvirt_domain d;
    char b[64];
    ASSERT_EQ(np_libvirt_domain_get(lv, id, &d), 0);
    ASSERT_STR_EQ(fmt(d.numatune_nodes, b, sizeof(b)), "0-1"); /* left as libvirt binds it */
    np_libvirt_domain_fini(&d);
    virDomainDestroy(dom);
    virDomainFree(dom);
    virConnectClose(c);
out:
    np_host_state_destroy(st);
    np_backend_guests_free(gs, n);
    np_bitmap_destroy(node1);
    np_backend_destroy(be);
    np_libvirt_close(lv);
}

/* create's node-wide pin (the CPUs of the nodes its <metadata> record
 * names) is reported as a soft preference; the same pin without the
 * record is a hard pin by someone else. vCPU demand: not measured at the
 * first list, libvirt's cpuTime over the time between lists after. */
static const np_backend_guest *by_id(const np_backend_guest *gs, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (gs[i].id == id)
            return &gs[i];
    return NULL;
}

static void test_created_pin_is_soft_and_demand_measured(void)
{
    np_libvirt *lv = NULL;
    np_backend *be = NULL;
    np_backend_guest *gs = NULL;
    np_topology *t = NULL;
    size_t n = 0;
    char b[64], want[64];
    static const char planned[] =
        "<domain type='test'><name>np-planned</name><memory unit='MiB'>4</memory>"
        "<vcpu cpuset='0-7'>2</vcpu>"
        "<metadata><numaplace:placement xmlns:numaplace='" NP_LIBVIRT_XMLNS "' "
        "nodes='0' policy='numaplace'/></metadata><os><type>hvm</type></os></domain>";
    static const char pinned[] =
        "<domain type='test'><name>np-pinned</name><memory unit='MiB'>4</memory>"
        "<vcpu cpuset='0-7'>2</vcpu><os><type>hvm</type></os></domain>";

    ASSERT_EQ(np_libvirt_open(URI, NULL, NULL, NULL, &lv), 0);
    if (!lv)
        return;
    ASSERT_EQ(np_backend_create(np_libvirt_backend_ops(), lv, &be), 0);
    ASSERT_EQ(np_backend_topology(be, &t), 0);
    np_bitmap_format(np_topology_node_cpuset(t, 0), want, sizeof(want));
    virConnectPtr c = virConnectOpen(URI);
    virDomainPtr d1 = c ? virDomainCreateXML(c, planned, 0) : NULL;
    virDomainPtr d2 = c ? virDomainCreateXML(c, pinned, 0) : NULL;
    ASSERT_TRUE(d1 != NULL && d2 != NULL);
    if (!d1 || !d2)
        goto out;
    ASSERT_EQ(np_backend_list_guests(be, &gs, &n), 0);
    const np_backend_guest *g1 = by_id(gs, n, virDomainGetID(d1));
    const np_backend_guest *g2 = by_id(gs, n, virDomainGetID(d2));
    ASSERT_TRUE(g1 != NULL && g2 != NULL);
    if (g1 && g2) {
        ASSERT_STR_EQ(want, "0-7");
        ASSERT_TRUE(g1->vcpus[0].hard == NULL);
        ASSERT_STR_EQ(fmt(g1->vcpus[0].soft, b, sizeof(b)), want);
        ASSERT_TRUE(g2->vcpus[1].soft == NULL);
        ASSERT_STR_EQ(fmt(g2->vcpus[1].hard, b, sizeof(b)), want);
        ASSERT_TRUE(!g1->vcpus[0].demand_measured); /* no previous list */
    }
    np_backend_guests_free(gs, n);
    gs = NULL;
    n = 0;
    ASSERT_EQ(np_backend_list_guests(be, &gs, &n), 0);
    g1 = by_id(gs, n, virDomainGetID(d1));
    ASSERT_TRUE(g1 != NULL);
    for (uint32_t v = 0; g1 && v < g1->nr_vcpus; v++) {
        ASSERT_TRUE(g1->vcpus[v].demand_measured);
        ASSERT_TRUE(g1->vcpus[v].demand >= 0.0 && g1->vcpus[v].demand <= 1.0);
    }
out:
    if (d1) {
        virDomainDestroy(d1);
        virDomainFree(d1);
    }
    if (d2) {
        virDomainDestroy(d2);
        virDomainFree(d2);
    }
    if (c)
        virConnectClose(c);
    np_backend_guests_free(gs, n);
    np_topology_destroy(t);
    np_backend_destroy(be);
    np_libvirt_close(lv);
}

static void test_bad_uri(void)
{
    np_libvirt *lv = (np_libvirt *)1;
    ASSERT_EQ(np_libvirt_open("nosuchdriver:///x", NULL, NULL, NULL, &lv), -ECONNREFUSED);
}

int main(void)
{
    NP_RUN(test_discovery);
    NP_RUN(test_steering_through_libvirt);
    NP_RUN(test_memnodes_and_hints);
    NP_RUN(test_created_pin_is_soft_and_demand_measured);
    NP_RUN(test_bad_uri);
    return np_test_summary();
}
#else
int main(void)
{
    np_libvirt *lv = NULL;
    if (np_libvirt_open("test:///default", NULL, NULL, NULL, &lv) != -ENOTSUP ||
        np_libvirt_backend_ops() != NULL)
        return 1;
    return np_test_skip("numaplace was built without libvirt (libvirt-dev)");
}
#endif
