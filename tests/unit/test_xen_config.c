/*
 * test_xen_config.c - the libxl domain configuration `numaplace create`
 * builds from an xl.cfg text and a placement (xen/xen_config.c), checked
 * field by field without a hypervisor: name, memory, kernel command line,
 * node map, soft and hard affinity, vNUMA, disks through libxlutil's disk
 * parser, passed-through PCI devices, on_* actions, and the refusals (an
 * unknown key, a bad disk, a bad action) naming their line. Built only with
 * libxen-dev (NP_HAVE_XEN); without it the program reports that it skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_test.h"

#ifdef NP_HAVE_XEN
#include <numaplace/hoststate.h>

#include <libxl_utils.h>

#include "xen/xen_int.h"

#define MiB (UINT64_C(1) << 20)

typedef struct built {
    np_topology *topo;
    np_guest_spec spec;
    np_placement *pl;
    libxl_domain_config dc;
    np_error err;
    int rc;
} built;

/* Places the guest of `text` on the built-in host `host` with numaplace's
 * policy and builds its configuration. */
static void build(built *b, const char *host, const char *text)
{
    np_host_state *st = NULL;
    memset(b, 0, sizeof(*b));
    libxl_domain_config_init(&b->dc);
    b->rc = np_topology_builtin(host, &b->topo, &b->err);
    if (!b->rc)
        b->rc = np_guest_spec_read_xl_cfg(text, strlen(text), "g.cfg", &b->spec, &b->err);
    if (!b->rc)
        b->rc = np_host_state_create(b->topo, &st);
    if (!b->rc)
        b->rc = np_place(st, &b->spec, NULL, &b->pl, &b->err);
    if (!b->rc)
        b->rc = np_xen_config_build(text, strlen(text), "g.cfg", 128, 64, b->topo, &b->spec,
                                    b->pl, &b->dc, &b->err);
    np_host_state_destroy(st);
}

static void done(built *b)
{
    libxl_domain_config_dispose(&b->dc);
    np_placement_destroy(b->pl);
    np_topology_destroy(b->topo);
}

static void test_plain_guest(void)
{
    built b;
    build(&b, "2s-2n",
          "name = \"web\"\ntype = \"pvh\"\nmemory = 512\nvcpus = 2\n"
          "kernel = \"/boot/vmlinuz\"\nramdisk = \"/boot/initrd\"\nroot = \"/dev/xvda1\"\n"
          "extra = \"console=hvc0\"\n");
    ASSERT_EQ(b.rc, 0);
    ASSERT_STR_EQ(b.dc.c_info.name, "web");
    ASSERT_EQ(b.dc.c_info.type, LIBXL_DOMAIN_TYPE_PVH);
    ASSERT_EQ(b.dc.b_info.target_memkb, 512u * 1024u);
    ASSERT_EQ(b.dc.b_info.max_vcpus, 2);
    ASSERT_TRUE(libxl_bitmap_test(&b.dc.b_info.avail_vcpus, 1));
    ASSERT_TRUE(!libxl_bitmap_test(&b.dc.b_info.avail_vcpus, 2));
    ASSERT_STR_EQ(b.dc.b_info.kernel, "/boot/vmlinuz");
    ASSERT_STR_EQ(b.dc.b_info.cmdline, "root=/dev/xvda1 console=hvc0");
    ASSERT_TRUE(libxl_defbool_is_default(b.dc.b_info.numa_placement) == false);
    ASSERT_TRUE(!libxl_defbool_val(b.dc.b_info.numa_placement));
    /* One node chosen, and the soft affinity of both vCPUs is its CPUs. */
    ASSERT_EQ(libxl_bitmap_count_set(&b.dc.b_info.nodemap), 1);
    ASSERT_EQ(b.dc.b_info.num_vcpu_soft_affinity, 2);
    ASSERT_EQ(b.dc.b_info.num_vcpu_hard_affinity, 0);
    int node = libxl_bitmap_test(&b.dc.b_info.nodemap, 0) ? 0 : 1;
    const np_bitmap *cpus = np_topology_node_cpuset(b.topo, (size_t)node);
    for (int c = 0; c < 80; c++)
        ASSERT_EQ(libxl_bitmap_test(&b.dc.b_info.vcpu_soft_affinity[1], c),
                  np_bitmap_test(cpus, (unsigned)c));
    ASSERT_EQ(b.dc.num_disks, 0);
    done(&b);
}

static void test_devices_and_actions(void)
{
    built b;
    build(&b, "2s-2n",
          "name = \"db\"\nmemory = 1024\nvcpus = 2\nkernel = \"/k\"\n"
          "disk = [ \"format=raw, vdev=xvda, access=rw, target=/var/lib/xen/db.img\",\n"
          "         \"/dev/vg/db-log,raw,xvdb,w\" ]\n"
          "pci = [ \"0000:3b:00.0,permissive=1\" ]\n"
          "on_reboot = \"rename-restart\"\non_crash = \"preserve\"\n");
    ASSERT_EQ(b.rc, 0);
    ASSERT_EQ(b.dc.num_disks, 2);
    ASSERT_STR_EQ(b.dc.disks[0].vdev, "xvda");
    ASSERT_STR_EQ(b.dc.disks[0].pdev_path, "/var/lib/xen/db.img");
    ASSERT_EQ(b.dc.disks[0].format, LIBXL_DISK_FORMAT_RAW);
    ASSERT_STR_EQ(b.dc.disks[1].vdev, "xvdb");
    ASSERT_STR_EQ(b.dc.disks[1].pdev_path, "/dev/vg/db-log");
    ASSERT_EQ(b.dc.num_pcidevs, 1);
    ASSERT_EQ(b.dc.pcidevs[0].bus, 0x3b);
    ASSERT_TRUE(b.dc.pcidevs[0].permissive);
    ASSERT_EQ(b.dc.on_reboot, LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME);
    ASSERT_EQ(b.dc.on_crash, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
    done(&b);
}

static void test_refusals(void)
{
    built b;
    build(&b, "small-2n", "name = \"a\"\nmemory = 256\nkernel = \"/k\"\nvif = [ \"bridge=br0\" ]\n");
    ASSERT_EQ(b.rc, -ENOTSUP);
    ASSERT_EQ(b.err.line, 4u);
    ASSERT_CONTAINS(b.err.msg, "'vif'");
    done(&b);

    build(&b, "small-2n",
          "name = \"a\"\nmemory = 256\nkernel = \"/k\"\n\ndisk = [ \"vdev=xvda,format=nope,target=/x\" ]\n");
    ASSERT_EQ(b.rc, -EINVAL);
    ASSERT_EQ(b.err.line, 5u);
    ASSERT_CONTAINS(b.err.msg, "disk entry 1");
    done(&b);

    build(&b, "small-2n", "name = \"a\"\nmemory = 256\nkernel = \"/k\"\non_crash = \"explode\"\n");
    ASSERT_EQ(b.rc, -EINVAL);
    ASSERT_EQ(b.err.line, 4u);
    ASSERT_CONTAINS(b.err.msg, "on_crash \"explode\"");
    done(&b);

    build(&b, "small-2n", "name = \"a\"\nmemory = 256\n");
    ASSERT_EQ(b.rc, -EINVAL);
    ASSERT_CONTAINS(b.err.msg, "no kernel=");
    done(&b);
}

/* A guest too big for one node of small-2n spans both: PVH gets vnuma. */
static void test_spanning_guest(void)
{
    built b;
    build(&b, "small-2n",
          "name = \"big\"\ntype = \"pvh\"\nmemory = 6144\nvcpus = 4\nkernel = \"/k\"\n");
    ASSERT_EQ(b.rc, 0);
    ASSERT_EQ(libxl_bitmap_count_set(&b.dc.b_info.nodemap), 2);
    ASSERT_EQ(b.dc.b_info.num_vnuma_nodes, 2);
    uint64_t total_kb = 0;
    for (int i = 0; i < b.dc.b_info.num_vnuma_nodes; i++) {
        total_kb += b.dc.b_info.vnuma_nodes[i].memkb;
        ASSERT_EQ(b.dc.b_info.vnuma_nodes[i].num_distances, 2);
        ASSERT_EQ(b.dc.b_info.vnuma_nodes[i].distances[i], 10u);
    }
    ASSERT_EQ(total_kb, 6144u * 1024u);
    done(&b);
}

int main(void)
{
    NP_RUN(test_plain_guest);
    NP_RUN(test_devices_and_actions);
    NP_RUN(test_refusals);
    NP_RUN(test_spanning_guest);
    return np_test_summary();
}
#else
int main(void)
{
    return np_test_skip("built without libxen-dev");
}
#endif
