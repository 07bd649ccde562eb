/*
 * test_emit_xl.c - the xl.cfg emitter, checked by Xen's own parser: the
 * fragment goes through libxlutil's xlu_cfg_readdata, and the values read
 * back (memory, maxmem, vcpus, cpus / cpus_soft in both forms, vnuma rows)
 * must equal the model.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "np_test.h"
#include "test_emit_common.h"

static char *emit(const np_emit_model *m, unsigned flags)
{
    char *text = NULL;
    np_error e = {0};
    int rc = np_emit_model_write(NP_EMIT_XL_CFG, m, flags, &text, &e);
    if (rc < 0)
        fprintf(stderr, "emit failed: %d %s\n", rc, e.msg);
    return text;
}

static void test_text_shape(void)
{
    np_emit_model m;
    ASSERT_EQ(t_model_vnuma(&m, NP_AFFINITY_HARD, -1, 6144), 0);
    char *t = emit(&m, 0);
    ASSERT_TRUE(t != NULL);
    if (t) {
        ASSERT_CONTAINS(t, "# numaplace placement, policy numaplace: memory on nodes 1 (6144 MiB), 3 (6144 MiB), "
                           "affinity hard\n");
        ASSERT_CONTAINS(t, "name = \"web\"\nmemory = 8192\nmaxmem = 12288\nvcpus = 4\n");
        ASSERT_CONTAINS(t, "cpus = [\n    \"8-15\", \"8-15\", \"24-27,30\", \"24-27,30\"\n    ]\n");
        ASSERT_TRUE(strstr(t, "cpus_soft") == NULL); /* soft repeats hard: left out */
        ASSERT_CONTAINS(t, "vnuma = [ [ \"pnode=1\", \"size=6144\", \"vcpus=0-1\", "
                           "\"vdistances=10,21\" ],\n          [ \"pnode=3\", \"size=6144\", "
                           "\"vcpus=2-3\", \"vdistances=21,10\" ] ]\n");
        ASSERT_CONTAINS(t, "populate-on-demand"); /* memory < maxmem with vnuma */
    }
    free(t);
    t = emit(&m, NP_EMIT_NO_NAME | NP_EMIT_NO_COMMENTS);
    ASSERT_TRUE(t && t[0] == 'm' && !strchr(t, '#') && !strstr(t, "name"));
    free(t);
    np_emit_model_fini(&m);

    uint32_t nodes[] = {2};
    ASSERT_EQ(t_model_flat(&m, NP_AFFINITY_SOFT, nodes, 1, "16-23", 2048), 0);
    t = emit(&m, NP_EMIT_NO_COMMENTS);
    ASSERT_STR_EQ(t, "name = \"db\"\nmemory = 2048\nvcpus = 2\ncpus_soft = \"16-23\"\n");
    free(t);
    np_emit_model_fini(&m);

    ASSERT_EQ(t_model_flat(&m, NP_AFFINITY_NONE, nodes, 1, NULL, 2048), 0);
    t = emit(&m, 0);
    ASSERT_TRUE(t && !strstr(t, "\ncpus"));
    ASSERT_CONTAINS(t, "affinity none");
    free(t);
    np_emit_model_fini(&m);
}

/* xl.cfg has no way to write a vnode without vCPUs (xl.cfg(5) makes
 * vcpus= mandatory; xl stops at an empty one): refused, not rewritten. */
static void test_memory_only_vnode_refused(void)
{
    static const np_affinity_mode modes[] = {NP_AFFINITY_HARD, NP_AFFINITY_SOFT, NP_AFFINITY_NONE};
    for (size_t k = 0; k < 3; k++) {
        np_emit_model m;
        np_error e = {0};
        char *t = NULL;
        ASSERT_EQ(t_model_memory_only(&m, modes[k], -1, 2048), 0);
        ASSERT_EQ(np_emit_model_write(NP_EMIT_XL_CFG, &m, 0, &t, &e), -EINVAL);
        ASSERT_TRUE(t == NULL);
        ASSERT_CONTAINS(e.msg, "xl.cfg vnuma cannot express virtual node 1 (2048 MiB on node 3) "
                               "without vCPUs");
        ASSERT_CONTAINS(e.msg, "cpuless-memory=no");
        ASSERT_CONTAINS(e.msg, "emit libvirt or qemu");
        np_emit_model_fini(&m);
    }
}

#ifdef NP_HAVE_XEN
#include <libxlutil.h>

/* A cpus/cpus_soft setting read back: one mask per vCPU. */
static void check_masks(XLU_Config *cfg, const char *key, np_bitmap *const *want, uint32_t n)
{
    const char *s = NULL;
    XLU_ConfigList *list = NULL;
    int nr = 0;
    if (xlu_cfg_get_string(cfg, key, &s, 1) == 0) {
        np_bitmap *got = t_mask(s);
        for (uint32_t v = 0; v < n; v++)
            ASSERT_TRUE(got && np_bitmap_equal(got, want[v]));
        np_bitmap_destroy(got);
        return;
    }
    ASSERT_EQ(xlu_cfg_get_list(cfg, key, &list, &nr, 1), 0);
    ASSERT_EQ(nr, (int)n);
    for (int v = 0; v < nr && v < (int)n; v++) {
        np_bitmap *got = t_mask(xlu_cfg_get_listitem(list, v));
        ASSERT_TRUE(got && np_bitmap_equal(got, want[v]));
        np_bitmap_destroy(got);
    }
}

static long get_long(XLU_Config *cfg, const char *key)
{
    long v = -1;
    ASSERT_EQ(xlu_cfg_get_long(cfg, key, &v, 1), 0);
    return v;
}

/* Parse the fragment with libxlutil and compare every value with m. */
static void parse_back(const np_emit_model *m, const char *text)
{
    FILE *report = fopen("/dev/null", "w");
    XLU_Config *cfg = xlu_cfg_init(report, "emitted");
    ASSERT_TRUE(cfg != NULL);
    if (!cfg)
        return;
    ASSERT_EQ(xlu_cfg_readdata(cfg, text, (int)strlen(text)), 0);
    ASSERT_EQ(get_long(cfg, "vcpus"), (long)m->nr_vcpus);
    ASSERT_EQ(get_long(cfg, "memory"), (long)np_emit_mib_ceil(m->mem_bytes));
    uint64_t maxmem_mib = np_emit_mib_ceil(m->maxmem_bytes);
    if (m->nr_vnodes || maxmem_mib != np_emit_mib_ceil(m->mem_bytes))
        ASSERT_EQ(get_long(cfg, "maxmem"), (long)maxmem_mib);
    if (m->affinity == NP_AFFINITY_HARD)
        check_masks(cfg, "cpus", m->vcpu_hard, m->nr_vcpus);
    if (m->affinity == NP_AFFINITY_SOFT)
        check_masks(cfg, "cpus_soft", m->vcpu_soft, m->nr_vcpus);

    XLU_ConfigList *vnuma = NULL;
    int nr = 0;
    int e = xlu_cfg_get_list(cfg, "vnuma", &vnuma, &nr, 1);
    ASSERT_EQ(e, m->nr_vnodes ? 0 : ESRCH);
    ASSERT_EQ(e ? 0 : nr, (int)m->nr_vnodes);
    uint64_t sum_mib = 0;
    for (int i = 0; e == 0 && i < nr; i++) {
        XLU_ConfigValue *row = xlu_cfg_get_listitem2(vnuma, i);
        XLU_ConfigList *items = NULL;
        ASSERT_EQ(xlu_cfg_value_get_list(cfg, row, &items, 1), 0);
        if (!items)
            continue;
        char want[4][256];
        const np_emit_vnode *vn = &m->vnodes[i];
        char vcpus[128], dist[128];
        size_t pos = 0;
        np_bitmap_format(vn->vcpus, vcpus, sizeof(vcpus));
        for (size_t j = 0; j < m->nr_vnodes; j++)
            pos += (size_t)snprintf(dist + pos, sizeof(dist) - pos, "%s%u", j ? "," : "",
                                    m->vdistance[(size_t)i * m->nr_vnodes + j]);
        snprintf(want[0], sizeof(want[0]), "pnode=%u", vn->pnode_os_id);
        snprintf(want[1], sizeof(want[1]), "size=%llu",
                 (unsigned long long)(vn->mem_bytes / T_MIB));
        snprintf(want[2], sizeof(want[2]), "vcpus=%s", vcpus);
        snprintf(want[3], sizeof(want[3]), "vdistances=%s", dist);
        for (int k = 0; k < 4; k++)
            ASSERT_STR_EQ(xlu_cfg_get_listitem(items, k), want[k]);
        ASSERT_TRUE(xlu_cfg_get_listitem(items, 4) == NULL);
        sum_mib += vn->mem_bytes / T_MIB;
    }
    if (m->nr_vnodes) /* xl.cfg(5): the vnode sizes sum to maxmem */
        ASSERT_EQ(get_long(cfg, "maxmem"), (long)sum_mib);
    xlu_cfg_destroy(cfg);
    fclose(report);
}

static void test_libxlutil_reads_it_back(void)
{
    static const np_affinity_mode modes[] = {NP_AFFINITY_HARD, NP_AFFINITY_SOFT,
                                             NP_AFFINITY_NONE};
    for (size_t k = 0; k < 3; k++) {
        np_emit_model m;
        ASSERT_EQ(t_model_vnuma(&m, modes[k], -1, 6144), 0);
        char *t = emit(&m, 0);
        ASSERT_TRUE(t != NULL);
        if (t)
            parse_back(&m, t);
        free(t);
        np_emit_model_fini(&m);

        uint32_t nodes[] = {0, 2};
        ASSERT_EQ(t_model_flat(&m, modes[k], nodes, 2, "0-7,32-39", 3000), 0);
        t = emit(&m, 0);
        if (t)
            parse_back(&m, t);
        free(t);
        np_emit_model_fini(&m);
    }
}

/* A long per-vCPU list: 64 vCPUs, masks alternating between two nodes. */
static void test_many_vcpus(void)
{
    np_emit_model m;
    ASSERT_EQ(np_emit_model_init(&m, 64, 1, 0), 0);
    m.affinity = NP_AFFINITY_SOFT;
    m.mem_bytes = m.maxmem_bytes = 4096 * T_MIB;
    m.node_os_id[0] = 0;
    m.node_mem_bytes[0] = m.mem_bytes;
    for (uint32_t v = 0; v < 64; v++)
        m.vcpu_soft[v] = t_mask(v % 2 ? "64-127" : "0-63");
    char *t = emit(&m, 0);
    ASSERT_TRUE(t != NULL);
    if (t)
        parse_back(&m, t);
    free(t);
    np_emit_model_fini(&m);
}
#endif

int main(void)
{
    NP_RUN(test_text_shape);
    NP_RUN(test_memory_only_vnode_refused);
#ifdef NP_HAVE_XEN
    NP_RUN(test_libxlutil_reads_it_back);
    NP_RUN(test_many_vcpus);
#endif
    return np_test_summary();
}
