/*
 * test_emit_model.c - the emitters' model checks (a model that no format
 * can express faithfully is refused, with the reason) and the public
 * entry points' argument handling.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/emit.h>

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
        {vnode_empty, "vnode 0 has no vCPU"},
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
    NP_RUN(test_public_arguments);
    return np_test_summary();
}
