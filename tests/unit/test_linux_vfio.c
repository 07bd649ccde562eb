/*
 * test_linux_vfio.c - passthrough devices at runtime on Linux (issue 12,
 * item 6): QEMU's vfio-pci -device arguments parsed from a cmdline, each
 * device's node read from sys/bus/pci/devices/BDF/numa_node under the
 * context's root, the Linux backend listing them with the guest, sensing
 * putting them in its spec, and the balancer never homing the guest away
 * from its device's node. The tree is tests/fixtures/linux/vfiohost-2n
 * (README.md there): guest "db" (PID 3100) passes through 41:00.0 (node
 * 1), 0000:81:00.1 by sysfsdev= (node 1) and 0000:03:00.0 (numa_node -1),
 * and has a virtio device with a host= option that is not a passthrough.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/backend_linux.h>
#include <numaplace/balance.h>

#include "np_test.h"

#define FIX NP_FIXTURES_DIR "/linux/"
#define SEC UINT64_C(1000000000)

static size_t parse(const char *cmdline, size_t len, char (*out)[NP_BDF_TEXT_MAX], size_t max)
{
    size_t n = SIZE_MAX;
    ASSERT_EQ(np_linux_qemu_devices_parse(cmdline, len, out, max, &n), 0);
    return n;
}

#define CMD(s) s, sizeof(s) - 1

static void test_parse(void)
{
    char d[NP_GUEST_MAX_DEVICES][NP_BDF_TEXT_MAX];

    /* both address forms, sysfsdev=, driver=, --device, order kept */
    ASSERT_EQ(parse(CMD("qemu\0-device\0vfio-pci,host=41:00.0,id=hostdev0\0"
                        "--device\0driver=vfio-pci,sysfsdev=/sys/bus/pci/devices/0000:81:00.1\0"
                        "-device\0vfio-pci,host=0001:02:1f.7\0"),
                    d, NP_GUEST_MAX_DEVICES),
              3);
    ASSERT_STR_EQ(d[0], "0000:41:00.0");
    ASSERT_STR_EQ(d[1], "0000:81:00.1");
    ASSERT_STR_EQ(d[2], "0001:02:1f.7");
    /* not passthrough, malformed, JSON form, a last -device without value,
     * "-device" as a value of another option: nothing */
    ASSERT_EQ(parse(CMD("qemu\0-device\0virtio-net-pci,host=00:09.0\0"
                        "-device\0vfio-pci,host=zz:00.0\0-device\0vfio-pci\0"
                        "-device\0{\"driver\":\"vfio-pci\",\"host\":\"41:00.0\"}\0"
                        "-name\0-device\0-device"),
                    d, NP_GUEST_MAX_DEVICES),
              0);
    /* an escaped comma in another option does not split it; duplicates
     * count once; the last host= wins */
    ASSERT_EQ(parse(CMD("qemu\0-device\0vfio-pci,id=a,,b,host=41:00.0\0"
                        "-device\0vfio-pci,host=41:00.0\0"
                        "-device\0vfio-pci,host=01:00.0,host=02:00.0\0"),
                    d, NP_GUEST_MAX_DEVICES),
              2);
    ASSERT_STR_EQ(d[0], "0000:41:00.0");
    ASSERT_STR_EQ(d[1], "0000:02:00.0");
    /* at most max, and no cmdline at all */
    ASSERT_EQ(parse(CMD("q\0-device\0vfio-pci,host=1:0.0\0-device\0vfio-pci,host=2:0.0\0"), d, 1),
              1);
    ASSERT_STR_EQ(d[0], "0000:01:00.0");
    ASSERT_EQ(parse(NULL, 0, d, NP_GUEST_MAX_DEVICES), 0);
    size_t n;
    ASSERT_EQ(np_linux_qemu_devices_parse("x", 1, d, 4, NULL), -EINVAL);
    ASSERT_EQ(np_linux_qemu_devices_parse(NULL, 3, d, 4, &n), -EINVAL);
}

static const np_backend_guest *by_id(const np_backend_guest *g, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (g[i].id == id)
            return &g[i];
    return NULL;
}

/* The fixture through sysfs, the backend and sensing. */
static void test_fixture_backend_and_sense(void)
{
    np_linux_ctx *ctx = NULL;
    np_linux_backend *lb = NULL;
    np_linux_backend_opts o = {.source = NP_LINUX_GUESTS_QEMU};
    np_backend_guest *g = NULL;
    size_t n = 0;
    int32_t node = 99;

    ASSERT_EQ(np_linux_ctx_create(FIX "vfiohost-2n", NULL, NULL, &ctx), 0);
    if (!ctx)
        return;
    ASSERT_EQ(np_linux_pci_device_node(ctx, "41:00.0", &node), 0);
    ASSERT_EQ(node, 1);
    ASSERT_EQ(np_linux_pci_device_node(ctx, "0000:03:00.0", &node), 0);
    ASSERT_EQ(node, -1);
    ASSERT_EQ(np_linux_pci_device_node(ctx, "0000:99:00.0", &node), -ENOENT);
    ASSERT_EQ(np_linux_pci_device_node(ctx, "not a bdf", &node), -EINVAL);
    char(*bdfs)[NP_BDF_TEXT_MAX] = NULL;
    int32_t *nodes = NULL;
    ASSERT_EQ(np_linux_pci_devices(ctx, &bdfs, &nodes, &n), 0);
    ASSERT_EQ(n, 3); /* 03:00.0 has no node */
    if (n == 3) {
        ASSERT_STR_EQ(bdfs[0], "0000:00:09.0");
        ASSERT_STR_EQ(bdfs[1], "0000:41:00.0");
        ASSERT_STR_EQ(bdfs[2], "0000:81:00.1");
        ASSERT_EQ(nodes[0], 0);
        ASSERT_EQ(nodes[1], 1);
        ASSERT_EQ(nodes[2], 1);
    }
    free(bdfs);
    free(nodes);

    ASSERT_EQ(np_linux_backend_create(ctx, &o, &lb), 0);
    np_backend *be = np_linux_backend_get(lb);
    np_topology *topo = NULL;
    ASSERT_EQ(np_backend_topology(be, &topo), 0);
    size_t didx;
    ASSERT_EQ(np_topology_nr_devices(topo), 3);
    ASSERT_EQ(np_topology_device_find(topo, "41:00.0", &didx), 0);
    ASSERT_EQ(np_topology_device(topo, didx)->node_idx, 1);
    ASSERT_EQ(np_backend_list_guests(be, &g, &n), 0);
    const np_backend_guest *db = by_id(g, n, 3100);
    ASSERT_TRUE(db != NULL);
    if (db) {
        ASSERT_EQ(db->nr_devices, 3);
        ASSERT_STR_EQ(db->devices[0], "0000:41:00.0");
        ASSERT_STR_EQ(db->devices[1], "0000:81:00.1");
        ASSERT_STR_EQ(db->devices[2], "0000:03:00.0");
    }
    np_host_state *st = NULL;
    ASSERT_EQ(np_backend_sense_guests(be, g, n, &st), 0);
    size_t gi;
    if (st && np_host_state_find_guest(st, "db", &gi) == 0) {
        const np_guest_spec *s = np_host_state_guest_spec(st, gi);
        /* the devices the topology places; 03:00.0 has no node */
        ASSERT_EQ(s->nr_devices, 2);
        ASSERT_STR_EQ(s->devices[0], "0000:41:00.0");
        ASSERT_STR_EQ(s->devices[1], "0000:81:00.1");
    } else {
        ASSERT_TRUE(!"db sensed");
    }
    np_host_state_destroy(st);
    np_backend_guests_free(g, n);
    np_topology_destroy(topo);
    np_linux_backend_destroy(lb);
    np_linux_ctx_destroy(ctx);
}

/* The balancer on a host state as sensing makes it: "db" managed, its
 * memory all on node 0 where it would have room, its vCPUs running on
 * node 0; its device is on node 1. Its home is node 1 and the reason
 * says why; without the device (same state) the home is node 0. */
static void test_device_keeps_the_guest_on_its_node(void)
{
    np_linux_ctx *ctx = NULL;
    np_linux_backend *lb = NULL;
    np_linux_backend_opts o = {.source = NP_LINUX_GUESTS_QEMU};
    np_topology *topo = NULL;

    ASSERT_EQ(np_linux_ctx_create(FIX "vfiohost-2n", NULL, NULL, &ctx), 0);
    ASSERT_EQ(np_linux_backend_create(ctx, &o, &lb), 0);
    if (!lb) {
        np_linux_ctx_destroy(ctx);
        return;
    }
    ASSERT_EQ(np_backend_topology(np_linux_backend_get(lb), &topo), 0);
    for (int with_device = 1; with_device >= 0; with_device--) {
        np_host_state *st = NULL;
        np_balance_state *bs = NULL;
        np_balance_actions *a = NULL;
        np_balance_config c;
        np_balance_guest_info info;
        np_guest_spec s;
        size_t g;

        np_balance_config_init(&c);
        ASSERT_EQ(np_host_state_create(topo, &st), 0);
        np_guest_spec_init(&s);
        snprintf(s.name, sizeof(s.name), "db");
        s.vcpus = 2;
        s.mem_bytes = s.maxmem_bytes = UINT64_C(512) << 20;
        if (with_device) {
            s.nr_devices = 1;
            snprintf(s.devices[0], sizeof(s.devices[0]), "0000:81:00.1");
        }
        ASSERT_EQ(np_host_state_add_guest(st, &s, &g), 0);
        np_host_state_set_guest_mem(st, g, 0, s.mem_bytes, 0);
        np_host_state_set_vcpu_demand(st, g, 0, 1.0);
        np_host_state_set_vcpu_demand(st, g, 1, 1.0);
        np_host_state_set_vcpu_cpu(st, g, 0, 0);  /* node 0 */
        np_host_state_set_vcpu_cpu(st, g, 1, 12); /* node 1: half local */
        ASSERT_EQ(np_balance_state_create(&bs), 0);
        for (uint32_t r = 1; r <= c.confirm_rounds; r++) {
            np_balance_actions_destroy(a);
            ASSERT_EQ(np_balance(st, bs, r * 2 * SEC, &c, &a), 0);
        }
        int home = -1;
        uint64_t to0 = 0;
        for (size_t i = 0; i < np_balance_actions_count(a); i++) {
            const np_balance_action *x = np_balance_actions_get(a, i);
            if (x->kind == NP_BALANCE_SET_NODE_AFFINITY)
                home = np_bitmap_next(x->nodes, 0);
            if (x->kind == NP_BALANCE_MIGRATE_MEMORY && x->to_node_idx == 0)
                to0 += x->bytes;
        }
        ASSERT_EQ(np_balance_state_guest(bs, "db", &info), 0);
        if (with_device) {
            ASSERT_EQ(home, 1);
            ASSERT_U64_EQ(to0, 0);
            ASSERT_CONTAINS(info.reason, "moving: 0% of 512 MiB to node 1");
            const np_balance_action *x = np_balance_actions_get(a, 0);
            ASSERT_TRUE(x && strstr(x->reason, "its passthrough device keeps it on node 1"));
        } else {
            ASSERT_EQ(home, 0); /* its memory is there: the cheap fix */
        }
        np_balance_actions_destroy(a);
        np_balance_state_destroy(bs);
        np_host_state_destroy(st);
    }
    np_topology_destroy(topo);
    np_linux_backend_destroy(lb);
    np_linux_ctx_destroy(ctx);
}

int main(void)
{
    NP_RUN(test_parse);
    NP_RUN(test_fixture_backend_and_sense);
    NP_RUN(test_device_keeps_the_guest_on_its_node);
    return np_test_summary();
}
