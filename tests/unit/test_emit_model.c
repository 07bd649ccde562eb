/*
 * test_emit_model.c - the emitters' model checks (a model that no format
 * can express faithfully is refused, with the reason) and the public
 * entry points' argument handling.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/emit.h>
#include <numaplace/hoststate.h>
#include <numaplace/place.h>

#include "np_test.h"
#include "test_emit_common.h"

typedef void (*breaker)(np_emit_model *m);

static void no_vcpus(np_emit_model *m) { m->nr_vcpus = 0; }
static void maxmem_below(np_emit_model *m) { m->maxmem_bytes = m->mem_bytes - 1; }
static void nodes_unsorted(np_emit_model *m) { m->node_os_id[0] = 5; }
static void node_empty(np_emit_model *m) { m->node_mem_bytes[1] = 0; }
static void bad_name(np_emit_model *m) { snprintf(m->name, sizeof(m->name), "a\"b"); }
static void bad_policy(np_emit_model *m) { snprintf(m->policy, sizeof(m->policy), "x--y>"); }
static void hard_without_mask(np_emit_model *m)
{
    np_bitmap_destroy(m->vcpu_hard[2]);
    m->vcpu_hard[2] = NULL;
}
static void empty_mask(np_emit_model *m) { np_bitmap_zero(m->vcpu_soft[1]); }
static void vnode_not_mib(np_emit_model *m) { m->vnodes[0].mem_bytes += 4096; }
static void vnode_foreign_pnode(np_emit_model *m) { m->vnodes[1].pnode_os_id = 2; }
static void vnode_overlap(np_emit_model *m) { np_bitmap_set(m->vnodes[1].vcpus, 1); }
static void vnode_missing_vcpu(np_emit_model *m) { np_bitmap_clear(m->vnodes[1].vcpus, 3); }
static void vnode_beyond(np_emit_model *m) { np_bitmap_set(m->vnodes[1].vcpus, 9); }
static void vnode_empty(np_emit_model *m) { np_bitmap_zero(m->vnodes[0].vcpus); }
static void local_not_10(np_emit_model *m) { m->vdistance[0] = 12; }
static void remote_too_far(np_emit_model *m) { m->vdistance[1] = 300; }
static void remote_below_10(np_emit_model *m) { m->vdistance[2] = 5; }
static void vnodes_too_small(np_emit_model *m) { m->mem_bytes = m->maxmem_bytes + 1; m->maxmem_bytes += 1; }

static void test_checks(void)
{
    static const struct {
        breaker brk;
        const char *msg;
    } cases[] = {
        {no_vcpus, "1 to 4096 vCPUs"},
        {maxmem_below, "maxmem >= memory"},
        {nodes_unsorted, "ascending and distinct"},
        {node_empty, "node 3 holds no memory"},
        {bad_name, "cannot be written as is"},
        {bad_policy, "cannot go into a comment"},
        {hard_without_mask, "vCPU 2 has no hard mask"},
        {empty_mask, "vCPU 1 has an empty CPU mask"},
        {vnode_not_mib, "vnode 0: memory must be a positive whole MiB"},
        {vnode_foreign_pnode, "backing node 2 holds none"},
        {vnode_overlap, "share a vCPU"},
        {vnode_missing_vcpu, "cover 3 of the guest's 4 vCPUs"},
        {vnode_beyond, "names vCPU 9"},
        {vnode_empty, "cover 2 of the guest's 4 vCPUs"}, /* memory only is fine, losing vCPUs not */
        {local_not_10, "a local distance is 10"},
        {remote_too_far, "expected 10 to 255"},
        {remote_below_10, "expected 10 to 255"},
        {vnodes_too_small, "less memory than the guest starts with"},
    };
    np_emit_model m;
    np_error e = {0};
    ASSERT_EQ(t_model_vnuma(&m, NP_AFFINITY_HARD, -1, 6144), 0);
    ASSERT_EQ(np_emit_model_check(&m, &e), 0);
    np_emit_model_fini(&m);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ASSERT_EQ(t_model_vnuma(&m, NP_AFFINITY_HARD, -1, 6144), 0);
        uint32_t nr = m.nr_vcpus;
        cases[i].brk(&m);
        memset(&e, 0, sizeof(e));
        ASSERT_EQ(np_emit_model_check(&m, &e), -EINVAL);
        ASSERT_CONTAINS(e.msg, cases[i].msg);
        for (int f = 0; f < 3; f++) {
            char *t = NULL;
            ASSERT_EQ(np_emit_model_write((np_emit_format)f, &m, 0, &t, &e), -EINVAL);
            ASSERT_TRUE(t == NULL);
        }
        m.nr_vcpus = nr; /* so fini frees every mask */
        np_emit_model_fini(&m);
    }
}

/* A vnode without vCPUs (memory only: CPU-less CXL or HBM memory) passes
 * the model check; QEMU and libvirt write it, xl.cfg refuses it with the
 * reason and the ways out. */
static void test_memory_only_vnode(void)
{
    np_emit_model m;
    np_error e = {0};
    char *t = NULL;
    ASSERT_EQ(t_model_memory_only(&m, NP_AFFINITY_SOFT, -1, 4096), 0);
    ASSERT_EQ(np_emit_model_check(&m, &e), 0);
    ASSERT_EQ(np_emit_model_write(NP_EMIT_QEMU_ARGS, &m, 0, &t, &e), 0);
    ASSERT_CONTAINS(t, "-numa node,nodeid=0,cpus=0-1,memdev=mem0\n");
    ASSERT_CONTAINS(t, "-object memory-backend-ram,id=mem1,size=4096M,host-nodes=3,"
                       "policy=preferred\n-numa node,nodeid=1,memdev=mem1\n");
    free(t);
    t = NULL;
    ASSERT_EQ(np_emit_model_write(NP_EMIT_LIBVIRT_XML, &m, 0, &t, &e), 0);
    ASSERT_CONTAINS(t, "<cell id='0' cpus='0-1' memory='4194304' unit='KiB'>");
    ASSERT_CONTAINS(t, "<cell id='1' memory='4194304' unit='KiB'>");
    ASSERT_CONTAINS(t, "<memnode cellid='1' mode='preferred' nodeset='3'/>");
    free(t);
    t = NULL;
    memset(&e, 0, sizeof(e));
    ASSERT_EQ(np_emit_model_write(NP_EMIT_XL_CFG, &m, 0, &t, &e), -EINVAL);
    ASSERT_TRUE(t == NULL);
    ASSERT_STR_EQ(e.msg, "xl.cfg vnuma cannot express virtual node 1 (4096 MiB on node 3) "
                         "without vCPUs: xl.cfg(5) makes vcpus= mandatory in every vnode; "
                         "place with cpuless-memory=no or vnuma=off (Xen then takes the "
                         "memory from the vCPUs' nodes), or emit libvirt or qemu, which can");
    np_emit_model_fini(&m);
}

/* A spec that leaves maxmem_bytes at 0 means "equal to memory"
 * (np_guest_spec_maxmem_bytes): every format writes it as such. */
static void test_maxmem_unset(void)
{
    np_topology *topo = NULL;
    np_host_state *st = NULL;
    np_placement *pl = NULL;
    np_error e = {0};
    ASSERT_EQ(np_topology_builtin("small-2n", &topo, &e), 0);
    ASSERT_EQ(np_host_state_create(topo, &st), 0);
    np_guest_spec s;
    np_guest_spec_init(&s);
    snprintf(s.name, sizeof(s.name), "lean");
    s.vcpus = 2;
    s.mem_bytes = UINT64_C(1) << 30;
    s.vnuma_nodes = NP_VNUMA_OFF; /* with vNUMA, xl writes the vnode sum as maxmem */
    ASSERT_EQ(s.maxmem_bytes, 0);
    ASSERT_EQ(np_place(st, &s, "numaplace", &pl, &e), 0);
    static const struct {
        np_emit_format fmt;
        const char *want;
        const char *not_there;
    } cases[] = {
        {NP_EMIT_XL_CFG, "memory = 1024\nvcpus = 2\n", "maxmem"},
        {NP_EMIT_LIBVIRT_XML,
         "<memory unit='KiB'>1048576</memory>\n<currentMemory unit='KiB'>1048576</currentMemory>",
         NULL},
        {NP_EMIT_QEMU_ARGS, "-m 1024M\n", "balloon"},
    };
    for (size_t i = 0; pl && i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *t = NULL;
        ASSERT_EQ(np_emit_alloc(cases[i].fmt, topo, &s, pl, 0, &t, &e), 0);
        ASSERT_CONTAINS(t, cases[i].want);
        if (t && cases[i].not_there)
            ASSERT_TRUE(strstr(t, cases[i].not_there) == NULL);
        free(t);
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
    np_topology_destroy(topo);
}

static void test_formats(void)
{
    np_emit_format f;
    ASSERT_EQ(np_emit_format_parse("xl", &f), 0);
    ASSERT_EQ(f, NP_EMIT_XL_CFG);
    ASSERT_EQ(np_emit_format_parse("libvirt", &f), 0);
    ASSERT_EQ(f, NP_EMIT_LIBVIRT_XML);
    ASSERT_EQ(np_emit_format_parse("qemu", &f), 0);
    ASSERT_EQ(f, NP_EMIT_QEMU_ARGS);
    ASSERT_EQ(np_emit_format_parse("vmx", &f), -EINVAL);
    ASSERT_STR_EQ(np_emit_format_name(NP_EMIT_LIBVIRT_XML), "libvirt");
    ASSERT_STR_EQ(np_emit_format_name((np_emit_format)42), "unknown");

    np_emit_model m;
    char *t = NULL;
    np_error e = {0};
    ASSERT_EQ(t_model_vnuma(&m, NP_AFFINITY_SOFT, -1, 6144), 0);
    ASSERT_EQ(np_emit_model_write((np_emit_format)42, &m, 0, &t, &e), -EINVAL);
    ASSERT_CONTAINS(e.msg, "unknown output format");
    np_emit_model_fini(&m);
}

static void test_public_arguments(void)
{
    np_guest_spec s;
    np_error e = {0};
    char buf[16];
    size_t len = 0;
    char *t = NULL;
    np_guest_spec_init(&s);
    ASSERT_EQ(np_emit(NP_EMIT_XL_CFG, NULL, &s, NULL, 0, buf, sizeof(buf), &len, &e), -EINVAL);
    ASSERT_CONTAINS(e.msg, "needs a topology, a guest spec and a placement");
    ASSERT_EQ(np_emit_alloc(NP_EMIT_QEMU_ARGS, NULL, NULL, NULL, 0, &t, &e), -EINVAL);
    ASSERT_TRUE(t == NULL);
}

static void test_buffer_contract(void)
{
    char buf[8];
    size_t len = 0;
    memset(buf, 'x', sizeof(buf));
    ASSERT_EQ(np_emit_copy_out("vcpus = 4\n", buf, sizeof(buf), &len), -ENOSPC);
    ASSERT_EQ(len, 10);
    ASSERT_STR_EQ(buf, "vcpus =");
    ASSERT_EQ(np_emit_copy_out("vcpus=4", buf, sizeof(buf), &len), 0);
    ASSERT_EQ(len, 7);
    ASSERT_STR_EQ(buf, "vcpus=4");
    ASSERT_EQ(np_emit_copy_out("vcpus=42", buf, sizeof(buf), &len), -ENOSPC); /* no room for NUL */
    ASSERT_EQ(np_emit_copy_out("abc", NULL, 0, &len), -ENOSPC); /* size query */
    ASSERT_EQ(len, 3);
}

int main(void)
{
    NP_RUN(test_buffer_contract);
    NP_RUN(test_checks);
    NP_RUN(test_formats);
    NP_RUN(test_memory_only_vnode);
    NP_RUN(test_maxmem_unset);
    NP_RUN(test_public_arguments);
    return np_test_summary();
}
