/*
 * test_xen_numa_dump.c - the reader of Xen's debug-key `u` output: a dump
 * recorded on the emulated 4-node Xen host, a time-stamped one with a vNUMA
 * block, the last-dump-wins rule, and each kind of malformed line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/xen.h>

#include "np_test.h"
#include "util/text.h"

#define FILE_MAX_BYTES (1u << 20)

static int parse_fixture(const char *name, np_xen_numa_dump **d, np_error *err)
{
    char path[512];
    char *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/xen-dump/%s", NP_FIXTURES_DIR, name);
    int rc = np_read_file(path, FILE_MAX_BYTES, &buf, &len);
    if (rc < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return rc;
    }
    rc = np_xen_numa_dump_parse(buf, len, name, d, err);
    free(buf);
    return rc;
}

static int parse_text(const char *text, np_xen_numa_dump **d, np_error *err)
{
    return np_xen_numa_dump_parse(text, strlen(text), "t", d, err);
}

static uint64_t pages(const np_xen_numa_dump *d, uint32_t domid, uint32_t node)
{
    uint64_t p = UINT64_MAX;
    if (np_xen_numa_dump_pages(d, domid, node, &p))
        return UINT64_MAX;
    return p;
}

static void test_recorded_4node(void)
{
    np_xen_numa_dump *d = NULL;
    np_error err = {0};
    uint32_t id;
    uint64_t size, freep, total;
    ASSERT_EQ(parse_fixture("u-4node.txt", &d, &err), 0);
    if (!d) {
        fprintf(stderr, "  %u: %s\n", err.line, err.msg);
        return;
    }
    ASSERT_EQ(np_xen_numa_dump_nr_nodes(d), 4);
    ASSERT_EQ(np_xen_numa_dump_node(d, 3, &id, &size, &freep), 0);
    ASSERT_EQ(id, 3);
    ASSERT_U64_EQ(size, 262144);
    ASSERT_U64_EQ(freep, 141969); /* the second dump, not the first (131000) */
    ASSERT_EQ(np_xen_numa_dump_nr_domains(d), 4);
    ASSERT_EQ(np_xen_numa_dump_domain(d, 1, &id, &total), 0);
    ASSERT_EQ(id, 1);
    ASSERT_U64_EQ(total, 32768);
    ASSERT_U64_EQ(pages(d, 0, 0), 18497);
    ASSERT_U64_EQ(pages(d, 0, 3), 111405);
    ASSERT_U64_EQ(pages(d, 1, 2), 32768);
    ASSERT_U64_EQ(pages(d, 2, 1), 32768);
    ASSERT_U64_EQ(pages(d, 3, 0), 32768);
    ASSERT_U64_EQ(pages(d, 3, 1), 0);
    ASSERT_EQ(np_xen_numa_dump_pages(d, 9, 0, &total), -ENOENT);
    ASSERT_EQ(np_xen_numa_dump_pages(d, 1, 7, &total), -ENOENT);
    ASSERT_EQ(np_xen_numa_dump_domain(d, 4, &id, &total), -ENOENT);
    ASSERT_EQ(np_xen_numa_dump_node(d, 4, &id, &size, &freep), -ENOENT);
    np_xen_numa_dump_destroy(d);
}

static void test_timestamps_and_vnuma(void)
{
    np_xen_numa_dump *d = NULL;
    np_error err = {0};
    ASSERT_EQ(parse_fixture("u-vnuma.txt", &d, &err), 0);
    if (!d) {
        fprintf(stderr, "  %u: %s\n", err.line, err.msg);
        return;
    }
    ASSERT_EQ(np_xen_numa_dump_nr_domains(d), 2);
    ASSERT_U64_EQ(pages(d, 6, 1), 16387);
    ASSERT_U64_EQ(pages(d, 6, 2), 16388);
    ASSERT_U64_EQ(pages(d, 6, 3), 5);
    np_xen_numa_dump_destroy(d);
}

static void test_sparse_nodes(void)
{
    const char *t = "'u' pressed -> dumping numa info (now = 1)\n"
                    "NODE0 start->0 size->100 free->50\n"
                    "NODE2 start->100 size->100 free->100\n"
                    "Memory location of each domain:\n"
                    "Domain 0 (total: 50):\n"
                    "    Node 0: 40\n"
                    "    Node 2: 10\n";
    np_xen_numa_dump *d = NULL;
    np_error err = {0};
    ASSERT_EQ(parse_text(t, &d, &err), 0);
    if (!d)
        return;
    ASSERT_U64_EQ(pages(d, 0, 2), 10);
    ASSERT_EQ(np_xen_numa_dump_pages(d, 0, 1, &(uint64_t){0}), -ENOENT);
    np_xen_numa_dump_destroy(d);
}

/* Each malformed input fails with -EINVAL, a message, and the line. */
static void expect_bad(const char *text, unsigned line, const char *msg_part)
{
    np_xen_numa_dump *d = NULL;
    np_error err = {0};
    int rc = parse_text(text, &d, &err);
    ASSERT_EQ(rc, -EINVAL);
    ASSERT_TRUE(d == NULL);
    ASSERT_EQ(err.line, line);
    ASSERT_CONTAINS(err.msg, msg_part);
    np_xen_numa_dump_destroy(d);
}

#define HEAD "(XEN) 'u' pressed -> dumping numa info (now = 1)\n"
#define NODES "NODE0 start->0 size->100 free->50\nNODE1 start->100 size->100 free->60\n"
#define MEMLOC "Memory location of each domain:\n"

static void test_bad(void)
{
    expect_bad("nothing here\n", 0, "no NUMA dump");
    expect_bad(HEAD, 1, "without any NODE");
    expect_bad(HEAD "NODE0 start->0 size->100\n", 2, "expected 'NODE<id>");
    expect_bad(HEAD "NODE0 start->0 size->100 free->101\n", 2, "more free pages");
    expect_bad(HEAD "NODE0 start->0 size->100 free->1\nNODE0 start->0 size->100 free->1\n", 3,
               "listed twice");
    expect_bad(HEAD "NODEx start->0 size->1 free->1\n", 2, "expected 'NODE<id>");
    expect_bad(HEAD "NODE99999 start->0 size->1 free->1\n", 2, "expected 'NODE<id>");
    expect_bad(HEAD NODES MEMLOC "Domain 0 (total 5):\n", 5, "expected 'Domain");
    expect_bad(HEAD NODES MEMLOC "Node 0: 5\n", 5, "before any 'Domain'");
    expect_bad(HEAD NODES MEMLOC "Domain 0 (total: 5):\nNode 7: 5\n", 6, "not among");
    expect_bad(HEAD NODES MEMLOC "Domain 0 (total: 5):\nNode 0: x\n", 6, "expected 'Node");
    expect_bad(HEAD NODES MEMLOC "Domain 0 (total: 5):\nNode 0: 1\nNode 0: 1\n", 7,
               "listed twice for domain");
    expect_bad(HEAD NODES MEMLOC "Domain 0 (total: 5):\nNode 0: 1\nNode 1: 1\n"
                                 "Domain 0 (total: 5):\n",
               8, "domain 0 listed twice");
    expect_bad(HEAD NODES MEMLOC "Domain 0 (total: 5):\nNode 0: 1\n", 1, "cut short");
    expect_bad(HEAD NODES MEMLOC "Domain 0 (total: 5):\nNode 0: 1\nNode 1: 1\n"
                                 "NODE2 start->0 size->1 free->1\n",
               8, "after the domains");
    expect_bad(HEAD "NODE0 start->0 size->1 free->1\nNode 0: 1\n" MEMLOC "Domain 1 (total: 1):\n"
                    "Node 0: 99999999999999999999\n",
               6, "expected 'Node");
}

/* Cut the recorded dump at every byte: never a crash, never a dump with a
 * domain missing a node. */
static void test_every_prefix(void)
{
    char path[512];
    char *buf = NULL;
    size_t len = 0, ok = 0;
    snprintf(path, sizeof(path), "%s/xen-dump/u-4node.txt", NP_FIXTURES_DIR);
    ASSERT_EQ(np_read_file(path, FILE_MAX_BYTES, &buf, &len), 0);
    for (size_t n = 0; buf && n <= len; n++) {
        np_xen_numa_dump *d = NULL;
        np_error err = {0};
        int rc = np_xen_numa_dump_parse(buf, n, "prefix", &d, &err);
        if (rc == 0) {
            ok++;
            for (size_t i = 0; i < np_xen_numa_dump_nr_domains(d); i++) {
                uint32_t id, node;
                uint64_t total, size, freep, p;
                ASSERT_EQ(np_xen_numa_dump_domain(d, i, &id, &total), 0);
                for (size_t k = 0; k < np_xen_numa_dump_nr_nodes(d); k++) {
                    ASSERT_EQ(np_xen_numa_dump_node(d, k, &node, &size, &freep), 0);
                    ASSERT_EQ(np_xen_numa_dump_pages(d, id, node, &p), 0);
                }
            }
        } else {
            ASSERT_TRUE(rc == -EINVAL && err.msg[0] != '\0');
        }
        np_xen_numa_dump_destroy(d);
    }
    ASSERT_TRUE(ok > 0);
    free(buf);
}

int main(void)
{
    NP_RUN(test_recorded_4node);
    NP_RUN(test_timestamps_and_vnuma);
    NP_RUN(test_sparse_nodes);
    NP_RUN(test_bad);
    NP_RUN(test_every_prefix);
    return np_test_summary();
}
