/*
 * test_advise.c - numad's -w request and numaplace's answer to it
 * (numaplace/libvirt.h): the request grammar libvirt and numad users
 * write, and that the answer follows the host state (free memory, guests
 * already there), falling back to every node as numad does.
 */
#include <errno.h>

#include <numaplace/libvirt.h>
#include <numaplace/topology.h>

#include "np_test.h"
#include "np_test_error.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

static void test_parse_forms(void)
{
    np_advise_request r;
    np_error err = {0};
    ASSERT_EQ(np_advise_parse("4:8192", "-w", &r, &err), 0);
    ASSERT_EQ(r.vcpus, 4);
    ASSERT_U64_EQ(r.mem_bytes, 8192 * MIB);
    ASSERT_EQ(np_advise_parse("2", "-w", &r, &err), 0); /* CPUs only */
    ASSERT_EQ(r.vcpus, 2);
    ASSERT_U64_EQ(r.mem_bytes, 0);
    ASSERT_EQ(np_advise_parse("1.5:100", "-w", &r, &err), 0); /* a fraction needs a vCPU more */
    ASSERT_EQ(r.vcpus, 2);
    ASSERT_EQ(np_advise_parse("3.00:1", "-w", &r, &err), 0); /* a zero fraction does not */
    ASSERT_EQ(r.vcpus, 3);
    ASSERT_EQ(np_advise_parse("0.25", "-w", &r, &err), 0);
    ASSERT_EQ(r.vcpus, 1);
    ASSERT_EQ(np_advise_parse("65536:17592186044415", "-w", &r, &err), 0); /* both limits */
    ASSERT_EQ(r.vcpus, 65536);
    ASSERT_U64_EQ(r.mem_bytes, NP_ADVISE_MAX_MEM_MB * MIB);
}

static void test_parse_refusals(void)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"", "expected NCPUS[:MB]"},       {"abc", "expected NCPUS[:MB]"},
        {"-4:100", "expected NCPUS[:MB]"}, {" 4:100", "expected NCPUS[:MB]"},
        {"4:", "expected MB"},             {"4:-1", "expected MB"},
        {"4.:10", "digits after '.'"},     {"4:100x", "unexpected 'x'"},
        {"4:100 ", "unexpected ' '"},      {"0:100", "at least one CPU"},
        {"0.0", "at least one CPU"},       {"65537:1", "CPUs: at most 65536"},
        {"65536.5", "CPUs: at most 65536"}, {"4:17592186044416", "MB: at most"},
        {"4:1:2", "unexpected ':2'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        np_advise_request r = {7, 7};
        np_error err = {0};
        int rc = np_advise_parse(bad[i].text, "-w", &r, &err);
        np_test_expect_error(rc, &err, "-w", 0, bad[i].msg);
        ASSERT_EQ(r.vcpus, 7); /* untouched */
    }
}

static np_host_state *host(const char *source)
{
    np_topology *topo = NULL;
    np_host_state *st = NULL;
    np_error err = {0};
    if (np_topology_open(source, NP_TOPO_FMT_AUTO, &topo, &err) < 0)
        return NULL;
    if (np_host_state_create(topo, &st) < 0)
        st = NULL;
    np_topology_destroy(topo);
    return st;
}

static char *nodes_text(const np_advice *a, char *buf, size_t len)
{
    np_bitmap_format(a->nodes, buf, len);
    return buf;
}

static void test_answer_follows_free_memory(void)
{
    np_host_state *st = host("builtin:2s-2n");
    np_advise_request r = {.vcpus = 4, .mem_bytes = 64 * GIB};
    np_advice a;
    np_error err = {0};
    char buf[64];
    ASSERT_TRUE(st != NULL);
    if (!st)
        return;
    /* Node 1 measured nearly full: the request goes to node 0. */
    ASSERT_EQ(np_host_state_set_node_free(st, 1, 8 * GIB), 0);
    ASSERT_EQ(np_advise(st, &r, NULL, &a, &err), 0);
    ASSERT_TRUE(a.fits);
    ASSERT_STR_EQ(nodes_text(&a, buf, sizeof(buf)), "0");
    np_advice_fini(&a);
    /* Now node 0 nearly full and node 1 free again: it goes to node 1. */
    ASSERT_EQ(np_host_state_set_node_free(st, 1, 150 * GIB), 0);
    ASSERT_EQ(np_host_state_set_node_free(st, 0, 8 * GIB), 0);
    ASSERT_EQ(np_advise(st, &r, NULL, &a, &err), 0);
    ASSERT_TRUE(a.fits);
    ASSERT_STR_EQ(nodes_text(&a, buf, sizeof(buf)), "1");
    np_advice_fini(&a);
    np_host_state_destroy(st);
}

static void test_answer_follows_guests(void)
{
    np_host_state *st = host("builtin:2s-2n");
    np_guest_spec g;
    size_t gidx;
    np_advise_request r = {.vcpus = 8, .mem_bytes = 32 * GIB};
    np_advice a;
    np_error err = {0};
    char buf[64];
    ASSERT_TRUE(st != NULL);
    if (!st)
        return;
    /* A running guest holding 150 GiB of node 0's 192. */
    np_guest_spec_init(&g);
    snprintf(g.name, sizeof(g.name), "db");
    g.vcpus = 16;
    g.mem_bytes = g.maxmem_bytes = 150 * GIB;
    ASSERT_EQ(np_host_state_add_guest(st, &g, &gidx), 0);
    ASSERT_EQ(np_host_state_set_guest_mem(st, gidx, 0, 150 * GIB, 0), 0);
    ASSERT_EQ(np_advise(st, &r, NULL, &a, &err), 0);
    ASSERT_TRUE(a.fits);
    ASSERT_STR_EQ(nodes_text(&a, buf, sizeof(buf)), "1");
    np_advice_fini(&a);
    np_host_state_destroy(st);
}

static void test_fits_nowhere_is_every_node(void)
{
    np_host_state *st = host("builtin:sparse-3n");
    np_advise_request r = {.vcpus = 4, .mem_bytes = 1024 * GIB};
    np_advice a;
    np_error err = {0};
    char buf[64];
    ASSERT_TRUE(st != NULL);
    if (!st)
        return;
    ASSERT_EQ(np_advise(st, &r, NULL, &a, &err), 0);
    ASSERT_TRUE(!a.fits);
    ASSERT_STR_EQ(nodes_text(&a, buf, sizeof(buf)), "0,2,5"); /* OS ids, sparse */
    ASSERT_CONTAINS(a.note, "memory");
    np_advice_fini(&a);
    r.mem_bytes = 0; /* CPUs only: one MiB placed */
    ASSERT_EQ(np_advise(st, &r, NULL, &a, &err), 0);
    ASSERT_TRUE(a.fits);
    np_advice_fini(&a);
    ASSERT_EQ(np_advise(st, &r, "nosuch", &a, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "unknown placement policy 'nosuch'");
    ASSERT_TRUE(a.nodes == NULL);
    np_advice_fini(NULL);
    np_host_state_destroy(st);
}

int main(void)
{
    NP_RUN(test_parse_forms);
    NP_RUN(test_parse_refusals);
    NP_RUN(test_answer_follows_free_memory);
    NP_RUN(test_answer_follows_guests);
    NP_RUN(test_fits_nowhere_is_every_node);
    return np_test_summary();
}
