/*
 * topo/read_xl_info.c - reads the text Xen's `xl info -n` prints into a
 * topology: the host as the hypervisor sees it, which dom0's own view
 * (numactl, hwloc inside a PV dom0) does not show.
 *
 * The input is the whole `xl info -n` output or only its NUMA part. Lines
 * "name : value" are read for nr_cpus, max_cpu_id and nr_nodes and skipped
 * otherwise (host, release, xen_version, ...). Three sections matter, as
 * xl_info.c prints them (libxl 4.x):
 *
 *     cpu_topology           :
 *     cpu:    core    socket     node
 *       0:       0        0        0        ("%3d:    %4d     %4d     %4d")
 *     device topology        :
 *     device           node
 *     0000:08:00.0      1                   or "No device topology data available"
 *     numa_info              :
 *     node:    memsize    memfree    distances
 *        0:      1024        946      10,20  (MiB, distances to node 0, 1, ...)
 *
 * xl prints a row only for valid entries: an offline CPU (core id invalid)
 * has no cpu_topology row and an offline node no numa_info row, so node ids
 * may be sparse. Each distance list has one entry per node id up to the
 * highest; entries for nodes without a row are Xen's invalid distance,
 * which xl prints with %d as -1. Likewise -1 in a core or socket column
 * means unknown (NP_TOPO_ID_UNKNOWN).
 *
 * When Xen knows no core ids, cpu_topology has only its header (seen on
 * QEMU-emulated hosts with one core per socket; docs: lab/xen-guest.md,
 * pitfall 6). Then nothing says which node a CPU is on. With exactly one
 * node the answer is obvious, and the reader puts CPUs 0..nr_cpus-1 on it
 * (if max_cpu_id, when given, is nr_cpus - 1). With more nodes it fails and
 * says why, rather than guessing.
 *
 * Everything is checked with the line it is on before the builder sees it
 * (counts against nr_cpus/nr_nodes, nodes and CPUs once, memory free <=
 * size, distances complete, positive, symmetric, 10 to the node itself and
 * more to any other), so the
 * result is a complete topology or -EINVAL with an np_error, never a part.
 */
#include <numaplace/topology.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topo/text_tables.h"
#include "util/error.h"
#include "util/text.h"

/* xl prints memsize/memfree as `bytes >> 20`: MiB. */
#define XL_MIB_SHIFT 20
#define XL_MAX_MIB (UINT64_MAX >> XL_MIB_SHIFT)
/* xl prints Xen's invalid entries (~0u) with %d. */
#define XL_INVALID (-1)
/* Longest key of a "name : value" line worth keeping for messages. */
#define XL_KEY_MAX 64

typedef struct xl_cpu {
    uint32_t os_id, core, socket;
    int64_t node; /* XL_INVALID when Xen did not say */
    unsigned line;
} xl_cpu;

typedef struct xl_node {
    uint32_t os_id;
    uint64_t size_mib, free_mib;
    unsigned line;
} xl_node;

typedef struct xl_dev {
    np_pci_info info;
    int64_t node;
    unsigned line;
} xl_dev;

typedef enum xl_state {
    XL_TOP = 0,
    XL_CPU_HEADER,
    XL_CPU_ROWS,
    XL_DEV_HEADER,
    XL_DEV_ROWS,
    XL_NUMA_HEADER,
    XL_NUMA_ROWS,
} xl_state;

typedef struct xl_ctx {
    const char *origin;
    np_error *err;
    np_line_scanner s;
    xl_state state;
    /* "name : value" facts, line 0 = not given */
    uint64_t nr_cpus, max_cpu_id, nr_nodes;
    unsigned nr_cpus_line, max_cpu_id_line, nr_nodes_line;
    unsigned cpu_sec_line, dev_sec_line, numa_sec_line;
    bool dev_none; /* "No device topology data available" seen */
    xl_cpu *cpus;
    size_t nr_cpu_rows, cap_cpus;
    np_bitmap *cpu_seen;
    xl_node *nodes;
    size_t nr_nodes_rows, cap_nodes;
    int32_t node_row_of_os[NP_TOPO_MAX_NODES]; /* row index, or -1 */
    int32_t *dists; /* per numa row, nr_dists entries */
    size_t nr_dists, cap_dist_rows;
    int32_t scratch[NP_TOPO_MAX_NODES]; /* the row being read */
    xl_dev *devs;
    size_t nr_devs, cap_devs;
} xl_ctx;

#define FAIL(c, line, ...) np_error_set((c)->err, (c)->origin, (line), __VA_ARGS__)

/* Grows an array by one element; *cap doubles. */
static int grow(void **arr, size_t nr, size_t *cap, size_t elem)
{
    if (nr < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *na = realloc(*arr, ncap * elem);
    if (!na)
        return -ENOMEM;
    *arr = na;
    *cap = ncap;
    return 0;
}

/* An integer column that may be -1 (Xen's invalid entry printed with %d). */
static int read_int(xl_ctx *c, const char **p, uint64_t max, const char *what, int64_t *out)
{
    char why[NP_TT_WHY_BUF];
    uint64_t v;
    if ((*p)[0] == '-' && (*p)[1] == '1' && ((*p)[2] < '0' || (*p)[2] > '9')) {
        *p += 2;
        *out = XL_INVALID;
        return 0;
    }
    if (np_tt_uint(p, max, &v, why, sizeof(why)) < 0)
        return FAIL(c, c->s.lineno, "expected %s (0 to %llu, or -1 for unknown), found %s", what,
                    (unsigned long long)max, why);
    *out = (int64_t)v;
    return 0;
}

static bool at_blank_or_end(const char *p)
{
    return *p == ' ' || *p == '\t' || *p == '\0';
}

/* ---- rows ---------------------------------------------------------------------- */

/* "  3:       1        0        0" */
static int parse_cpu_row(xl_ctx *c, const char *line)
{
    char why[NP_TT_WHY_BUF];
    const char *p = np_skip_ws(line);
    uint64_t id;
    int64_t core = 0, socket = 0, node = 0;
    if (np_tt_uint(&p, NP_TOPO_MAX_CPUS - 1, &id, why, sizeof(why)) < 0)
        return FAIL(c, c->s.lineno, "expected a cpu_topology row 'CPU: CORE SOCKET NODE' with "
                    "CPU 0 to %u, found %s", NP_TOPO_MAX_CPUS - 1, why);
    if (*p != ':')
        return FAIL(c, c->s.lineno, "expected ':' after CPU %llu in the cpu_topology row, found %s",
                    (unsigned long long)id, np_tt_quote(p, why, sizeof(why)));
    p = np_skip_ws(p + 1);
    int rc = read_int(c, &p, UINT32_MAX - 1, "the core id", &core);
    if (rc < 0)
        return rc;
    if (at_blank_or_end(p)) {
        p = np_skip_ws(p);
        rc = read_int(c, &p, UINT32_MAX - 1, "the socket id", &socket);
        if (rc < 0)
            return rc;
    }
    if (at_blank_or_end(p)) {
        p = np_skip_ws(p);
        rc = read_int(c, &p, NP_TOPO_MAX_NODES - 1, "the node id", &node);
        if (rc < 0)
            return rc;
    }
    if (!np_is_blank(p))
        return FAIL(c, c->s.lineno, "expected 'CPU: CORE SOCKET NODE' (four numbers) in the "
                    "row of CPU %llu, found %s", (unsigned long long)id,
                    np_tt_quote(p, why, sizeof(why)));
    if (np_bitmap_test(c->cpu_seen, (unsigned)id)) {
        unsigned prev = 0;
        for (size_t i = 0; i < c->nr_cpu_rows && !prev; i++)
            if (c->cpus[i].os_id == id)
                prev = c->cpus[i].line;
        return FAIL(c, c->s.lineno, "CPU %llu has a second cpu_topology row (the first is line "
                    "%u); expected one row per CPU", (unsigned long long)id, prev);
    }
    rc = grow((void **)&c->cpus, c->nr_cpu_rows, &c->cap_cpus, sizeof(*c->cpus));
    if (rc == 0)
        rc = np_bitmap_set(c->cpu_seen, (unsigned)id);
    if (rc < 0)
        return rc;
    c->cpus[c->nr_cpu_rows++] = (xl_cpu){
        (uint32_t)id,
        core == XL_INVALID ? NP_TOPO_ID_UNKNOWN : (uint32_t)core,
        socket == XL_INVALID ? NP_TOPO_ID_UNKNOWN : (uint32_t)socket,
        node,
        c->s.lineno,
    };
    return 0;
}

/* "0000:08:00.0      1" */
static int parse_dev_row(xl_ctx *c, const char *line)
{
    char why[NP_TT_WHY_BUF], bdf[16];
    const char *p = np_skip_ws(line);
    size_t n = 0;
    xl_dev d = {0};
    while (p[n] && !at_blank_or_end(p + n) && n < sizeof(bdf) - 1) {
        bdf[n] = p[n];
        n++;
    }
    bdf[n] = '\0';
    if (!at_blank_or_end(p + n) ||
        np_pci_parse_bdf(bdf, &d.info.domain, &d.info.bus, &d.info.dev, &d.info.fn) < 0)
        return FAIL(c, c->s.lineno, "expected a device topology row 'DDDD:BB:DD.F NODE', found %s",
                    np_tt_quote(p, why, sizeof(why)));
    p = np_skip_ws(p + n);
    int rc = read_int(c, &p, NP_TOPO_MAX_NODES - 1, "the node of the device", &d.node);
    if (rc < 0)
        return rc;
    if (!np_is_blank(p))
        return FAIL(c, c->s.lineno, "expected the end of the line after the node of device %s, "
                    "found %s", bdf, np_tt_quote(p, why, sizeof(why)));
    if (c->nr_devs >= NP_TOPO_MAX_DEVICES)
        return FAIL(c, c->s.lineno, "more than %u devices; expected fewer", NP_TOPO_MAX_DEVICES);
    rc = grow((void **)&c->devs, c->nr_devs, &c->cap_devs, sizeof(*c->devs));
    if (rc < 0)
        return rc;
    d.info.node_idx = -1;
    d.line = c->s.lineno;
    c->devs[c->nr_devs++] = d;
    return 0;
}

/* "   0:      1024        946      10,20,30,30" */
static int parse_numa_row(xl_ctx *c, const char *line)
{
    char why[NP_TT_WHY_BUF];
    const char *p = np_skip_ws(line);
    uint64_t id, size, free_mib;
    if (np_tt_uint(&p, NP_TOPO_MAX_NODES - 1, &id, why, sizeof(why)) < 0)
        return FAIL(c, c->s.lineno, "expected a numa_info row 'NODE: MEMSIZE MEMFREE DISTANCES' "
                    "with NODE 0 to %u, found %s", NP_TOPO_MAX_NODES - 1, why);
    if (*p != ':')
        return FAIL(c, c->s.lineno, "expected ':' after node %llu in the numa_info row, found %s",
                    (unsigned long long)id, np_tt_quote(p, why, sizeof(why)));
    if (c->node_row_of_os[id] >= 0)
        return FAIL(c, c->s.lineno, "node %llu has a second numa_info row (the first is line %u); "
                    "expected one row per node", (unsigned long long)id,
                    c->nodes[c->node_row_of_os[id]].line);
    p = np_skip_ws(p + 1);
    if (np_tt_uint(&p, XL_MAX_MIB, &size, why, sizeof(why)) < 0)
        return FAIL(c, c->s.lineno, "expected the memsize of node %llu in MiB (0 to %llu), "
                    "found %s", (unsigned long long)id, (unsigned long long)XL_MAX_MIB, why);
    if (!at_blank_or_end(p))
        return FAIL(c, c->s.lineno, "expected a blank after the memsize of node %llu, found %s",
                    (unsigned long long)id, np_tt_quote(p, why, sizeof(why)));
    p = np_skip_ws(p);
    if (np_tt_uint(&p, XL_MAX_MIB, &free_mib, why, sizeof(why)) < 0)
        return FAIL(c, c->s.lineno, "expected the memfree of node %llu in MiB (0 to %llu), "
                    "found %s", (unsigned long long)id, (unsigned long long)XL_MAX_MIB, why);
    if (!at_blank_or_end(p))
        return FAIL(c, c->s.lineno, "expected a blank after the memfree of node %llu, found %s",
                    (unsigned long long)id, np_tt_quote(p, why, sizeof(why)));
    if (free_mib > size)
        return FAIL(c, c->s.lineno, "node %llu has %llu MiB free of a memsize of %llu MiB; "
                    "expected memfree <= memsize", (unsigned long long)id,
                    (unsigned long long)free_mib, (unsigned long long)size);
    p = np_skip_ws(p);

    /* Distances "D,D,...": one per node id; the first row fixes how many. */
    size_t count = 0;
    for (;;) {
        int64_t d;
        if (count == NP_TOPO_MAX_NODES)
            return FAIL(c, c->s.lineno, "node %llu has more than %u distances; expected one per "
                        "node id", (unsigned long long)id, NP_TOPO_MAX_NODES);
        int rc = read_int(c, &p, NP_TOPO_MAX_DISTANCE, "a distance", &d);
        if (rc < 0)
            return rc;
        c->scratch[count++] = (int32_t)d;
        if (*p == ',') {
            p++;
            continue;
        }
        if (!np_is_blank(p))
            return FAIL(c, c->s.lineno, "expected distances separated by ',' in the row of node "
                        "%llu, found %s", (unsigned long long)id, np_tt_quote(p, why, sizeof(why)));
        break;
    }
    if (c->nr_nodes_rows > 0 && count != c->nr_dists)
        return FAIL(c, c->s.lineno, "node %llu has %zu distances but the first numa_info row "
                    "(line %u) has %zu; expected one per node id", (unsigned long long)id, count,
                    c->nodes[0].line, c->nr_dists);
    c->nr_dists = count;
    int rc = grow((void **)&c->dists, c->nr_nodes_rows, &c->cap_dist_rows,
                  count * sizeof(*c->dists));
    if (rc < 0)
        return rc;
    memcpy(c->dists + c->nr_nodes_rows * count, c->scratch, count * sizeof(*c->dists));
    rc = grow((void **)&c->nodes, c->nr_nodes_rows, &c->cap_nodes, sizeof(*c->nodes));
    if (rc < 0)
        return rc;
    c->node_row_of_os[id] = (int32_t)c->nr_nodes_rows;
    c->nodes[c->nr_nodes_rows++] = (xl_node){(uint32_t)id, size, free_mib, c->s.lineno};
    return 0;
}

/* ---- lines outside the tables ------------------------------------------------------ */

/* Compares the blank-separated words of line with those of want. */
static bool same_words(const char *line, const char *want)
{
    for (;;) {
        line = np_skip_ws(line);
        want = np_skip_ws(want);
        if (*line == '\0' || *want == '\0')
            return *line == '\0' && *want == '\0';
        while (*want && *want != ' ' && *line == *want) {
            line++;
            want++;
        }
        if (*want && *want != ' ')
            return false;
        if (!at_blank_or_end(line))
            return false;
    }
}

static int parse_header(xl_ctx *c, const char *line, const char *want, xl_state next)
{
    char why[NP_TT_WHY_BUF];
    if (!same_words(line, want))
        return FAIL(c, c->s.lineno, "expected the column header '%s', found %s", want,
                    np_tt_quote(line, why, sizeof(why)));
    c->state = next;
    return 0;
}

static int set_fact(xl_ctx *c, const char *key, const char *value, uint64_t max, uint64_t *fact,
                    unsigned *fact_line)
{
    char why[NP_TT_WHY_BUF];
    uint64_t v;
    const char *p = np_skip_ws(value);
    if (*fact_line)
        return FAIL(c, c->s.lineno, "second '%s' line (the first is line %u); expected one",
                    key, *fact_line);
    if (np_tt_uint(&p, max, &v, why, sizeof(why)) < 0)
        return FAIL(c, c->s.lineno, "expected a number (0 to %llu) after '%s :', found %s",
                    (unsigned long long)max, key, why);
    if (!np_is_blank(p))
        return FAIL(c, c->s.lineno, "expected only a number after '%s :', found %s", key,
                    np_tt_quote(p, why, sizeof(why)));
    *fact = v;
    *fact_line = c->s.lineno;
    return 0;
}

static int open_section(xl_ctx *c, const char *key, unsigned *sec_line, xl_state next,
                        const char *value)
{
    char why[NP_TT_WHY_BUF];
    if (*sec_line)
        return FAIL(c, c->s.lineno, "second '%s' section (the first is line %u); expected one",
                    key, *sec_line);
    if (!np_is_blank(value))
        return FAIL(c, c->s.lineno, "expected nothing after '%s :', found %s", key,
                    np_tt_quote(value, why, sizeof(why)));
    *sec_line = c->s.lineno;
    c->state = next;
    return 0;
}

/* "name   : value": the key is a word of letters, digits, '_' and inner
 * blanks ("device topology") starting with a letter. */
static int parse_key_line(xl_ctx *c, const char *line)
{
    char why[NP_TT_WHY_BUF], key[XL_KEY_MAX];
    const char *p = np_skip_ws(line);
    size_t n = 0, end = 0;
    bool letter = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
    while (letter && p[n] && p[n] != ':') {
        char ch = p[n];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == ' ' || ch == '\t';
        if (!ok)
            break;
        if (ch != ' ' && ch != '\t')
            end = n + 1;
        n++;
    }
    if (!letter || p[n] != ':')
        return FAIL(c, c->s.lineno, "expected a 'name : value' line or a section of `xl info -n` "
                    "(cpu_topology, device topology, numa_info), found %s",
                    np_tt_quote(line, why, sizeof(why)));
    if (end >= sizeof(key))
        end = sizeof(key) - 1;
    memcpy(key, p, end);
    key[end] = '\0';
    const char *value = p + n + 1;

    if (strcmp(key, "cpu_topology") == 0)
        return open_section(c, key, &c->cpu_sec_line, XL_CPU_HEADER, value);
    if (strcmp(key, "device topology") == 0)
        return open_section(c, key, &c->dev_sec_line, XL_DEV_HEADER, value);
    if (strcmp(key, "numa_info") == 0)
        return open_section(c, key, &c->numa_sec_line, XL_NUMA_HEADER, value);
    if (strcmp(key, "nr_cpus") == 0)
        return set_fact(c, key, value, NP_TOPO_MAX_CPUS, &c->nr_cpus, &c->nr_cpus_line);
    if (strcmp(key, "max_cpu_id") == 0)
        return set_fact(c, key, value, NP_TOPO_MAX_CPUS - 1, &c->max_cpu_id,
                        &c->max_cpu_id_line);
    if (strcmp(key, "nr_nodes") == 0)
        return set_fact(c, key, value, NP_TOPO_MAX_NODES, &c->nr_nodes, &c->nr_nodes_line);
    return 0; /* host, release, xen_version, ...: not topology */
}

static bool starts_with_digit(const char *p)
{
    return *p >= '0' && *p <= '9';
}

static int parse_line(xl_ctx *c, const char *line)
{
    const char *p = np_skip_ws(line);
    switch (c->state) {
    case XL_CPU_HEADER:
        return parse_header(c, line, "cpu: core socket node", XL_CPU_ROWS);
    case XL_DEV_HEADER:
        return parse_header(c, line, "device node", XL_DEV_ROWS);
    case XL_NUMA_HEADER:
        return parse_header(c, line, "node: memsize memfree distances", XL_NUMA_ROWS);
    case XL_CPU_ROWS:
        if (starts_with_digit(p) || *p == '-')
            return parse_cpu_row(c, line);
        break;
    case XL_NUMA_ROWS:
        if (starts_with_digit(p) || *p == '-')
            return parse_numa_row(c, line);
        break;
    case XL_DEV_ROWS: {
        uint32_t dom;
        uint8_t bus, dev, fn;
        char word[16];
        size_t n = 0;
        while (p[n] && !at_blank_or_end(p + n) && n < sizeof(word) - 1) {
            word[n] = p[n];
            n++;
        }
        word[n] = '\0';
        if (same_words(line, "No device topology data available")) {
            if (c->nr_devs || c->dev_none)
                return FAIL(c, c->s.lineno, "'No device topology data available' after device "
                            "rows or twice; expected it alone under 'device node'");
            c->dev_none = true;
            c->state = XL_TOP;
            return 0;
        }
        if (starts_with_digit(p) || np_pci_parse_bdf(word, &dom, &bus, &dev, &fn) == 0)
            return parse_dev_row(c, line);
        break;
    }
    case XL_TOP:
        break;
    }
    c->state = XL_TOP;
    return parse_key_line(c, line);
}

/* ---- checks across sections ---------------------------------------------------------- */

static const xl_node *node_of(const xl_ctx *c, int64_t os_id)
{
    if (os_id < 0 || os_id >= NP_TOPO_MAX_NODES || c->node_row_of_os[os_id] < 0)
        return NULL;
    return &c->nodes[c->node_row_of_os[os_id]];
}

static int check_distances(xl_ctx *c)
{
    size_t n = c->nr_nodes_rows, w = c->nr_dists;
    for (size_t i = 0; i < n; i++) {
        const xl_node *a = &c->nodes[i];
        const int32_t *row = c->dists + i * w;
        for (size_t j = 0; j < w; j++) {
            const xl_node *b = node_of(c, (int64_t)j);
            if (!b && row[j] != XL_INVALID)
                return FAIL(c, a->line, "node %u gives distance %d to node %zu, which has no "
                            "numa_info row; expected -1 there", a->os_id, row[j], j);
            if (!b)
                continue;
            if (row[j] == XL_INVALID)
                return FAIL(c, a->line, "distance from node %u to node %u is -1 (unknown); "
                            "expected a positive distance (10 = local)", a->os_id, b->os_id);
            if (row[j] == 0)
                return FAIL(c, a->line, "distance from node %u to node %u is 0; expected a "
                            "positive distance (10 = local)", a->os_id, b->os_id);
        }
        if (w <= a->os_id)
            return FAIL(c, a->line, "node %u has no column in the distance lists, which have %zu "
                        "entries; expected one distance per node id up to the highest",
                        a->os_id, w);
    }
    /* All listed pairs are valid now: symmetry, then the local distance smallest.
     * Report on whichever of the two rows comes later in the text. */
    for (size_t i = 0; i < n; i++) {
        const xl_node *a = &c->nodes[i];
        int32_t local = c->dists[i * w + a->os_id];
        if (local != NP_TT_LOCAL_DISTANCE)
            return FAIL(c, a->line, "distance from node %u to itself is %d; expected %d, the "
                        "local distance", a->os_id, local, NP_TT_LOCAL_DISTANCE);
        for (size_t k = 0; k < n; k++) {
            const xl_node *b = &c->nodes[k];
            int32_t ab = c->dists[i * w + b->os_id], ba = c->dists[k * w + a->os_id];
            if (ab != ba && a->line > b->line)
                return FAIL(c, a->line, "distance from node %u to node %u is %d but from node %u "
                            "to node %u (line %u) is %d; expected symmetric distances",
                            a->os_id, b->os_id, ab, b->os_id, a->os_id, b->line, ba);
            if (k != i && ab <= local)
                return FAIL(c, a->line, "distance from node %u to node %u (%d) is not larger "
                            "than its local distance (%d); expected the local distance smallest",
                            a->os_id, b->os_id, ab, local);
        }
    }
    return 0;
}

/* The node each CPU row names exists; counts agree with nr_cpus/max_cpu_id. */
static int check_cpus(xl_ctx *c)
{
    for (size_t i = 0; i < c->nr_cpu_rows; i++) {
        xl_cpu *cpu = &c->cpus[i];
        if (cpu->node == XL_INVALID && c->nr_nodes_rows == 1)
            cpu->node = c->nodes[0].os_id; /* one node: it can only be that one */
        if (cpu->node == XL_INVALID)
            return FAIL(c, cpu->line, "CPU %u has node -1 (unknown) and the host has %zu nodes; "
                        "expected the node of every CPU", cpu->os_id, c->nr_nodes_rows);
        if (!node_of(c, cpu->node))
            return FAIL(c, cpu->line, "CPU %u is on node %lld, which has no numa_info row "
                        "(line %u); expected a node numa_info lists", cpu->os_id,
                        (long long)cpu->node, c->numa_sec_line);
        if (c->max_cpu_id_line && cpu->os_id > c->max_cpu_id)
            return FAIL(c, cpu->line, "CPU %u is above max_cpu_id %llu (line %u); expected CPU "
                        "ids up to it", cpu->os_id, (unsigned long long)c->max_cpu_id,
                        c->max_cpu_id_line);
    }
    if (c->nr_cpu_rows == 0)
        return 0;
    if (c->nr_cpus_line && c->nr_cpus != c->nr_cpu_rows)
        return FAIL(c, c->nr_cpus_line, "nr_cpus is %llu but cpu_topology (line %u) has %zu rows; "
                    "expected one row per online CPU", (unsigned long long)c->nr_cpus,
                    c->cpu_sec_line, c->nr_cpu_rows);
    return 0;
}

/* No rows at all: only a one-node host can be read (see the file comment). */
static int fill_cpus_without_rows(xl_ctx *c)
{
    if (c->nr_nodes_rows != 1 || !c->nr_cpus_line || c->nr_cpus == 0 ||
        (c->max_cpu_id_line && c->max_cpu_id + 1 != c->nr_cpus))
        return FAIL(c, c->cpu_sec_line, "cpu_topology has no rows (Xen knew no core ids), so "
                    "the node of each CPU is unknown on this %zu-node host; expected rows "
                    "'CPU: CORE SOCKET NODE' (with one node, nr_cpus and max_cpu_id = nr_cpus - 1 "
                    "are enough)", c->nr_nodes_rows);
    for (uint64_t id = 0; id < c->nr_cpus; id++) {
        int rc = grow((void **)&c->cpus, c->nr_cpu_rows, &c->cap_cpus, sizeof(*c->cpus));
        if (rc < 0)
            return rc;
        c->cpus[c->nr_cpu_rows++] = (xl_cpu){(uint32_t)id, NP_TOPO_ID_UNKNOWN, NP_TOPO_ID_UNKNOWN,
                                             c->nodes[0].os_id, c->cpu_sec_line};
    }
    return 0;
}

/* Devices by address, then by line, so duplicates sit side by side. */
static uint64_t bdf_key(const np_pci_info *d)
{
    return ((uint64_t)d->domain << 16) | ((uint64_t)d->bus << 8) | ((uint64_t)d->dev << 3) | d->fn;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
    return (a > b) - (a < b);
}

static int cmp_dev(const void *a, const void *b)
{
    const xl_dev *x = a, *y = b;
    int r = cmp_u64(bdf_key(&x->info), bdf_key(&y->info));
    return r ? r : cmp_u64(x->line, y->line);
}

static int check_devices(xl_ctx *c)
{
    for (size_t i = 0; i < c->nr_devs; i++) {
        const xl_dev *d = &c->devs[i];
        char bdf[16];
        if (d->node != XL_INVALID && !node_of(c, d->node))
            return FAIL(c, d->line, "device %s is on node %lld, which has no numa_info row; "
                        "expected a node numa_info lists",
                        np_pci_format_bdf(&d->info, bdf, sizeof(bdf)), (long long)d->node);
    }
    if (c->nr_devs > 1) {
        qsort(c->devs, c->nr_devs, sizeof(*c->devs), cmp_dev);
        for (size_t i = 1; i < c->nr_devs; i++) {
            if (bdf_key(&c->devs[i - 1].info) == bdf_key(&c->devs[i].info)) {
                char bdf[16];
                return FAIL(c, c->devs[i].line, "device %s is listed twice (first on line %u); "
                            "expected each device once",
                            np_pci_format_bdf(&c->devs[i].info, bdf, sizeof(bdf)),
                            c->devs[i - 1].line);
            }
        }
    }
    return 0;
}

static int check_all(xl_ctx *c)
{
    if (c->state == XL_CPU_HEADER || c->state == XL_DEV_HEADER || c->state == XL_NUMA_HEADER)
        return FAIL(c, c->s.lineno, "input ends after a section name; expected its column "
                    "header and rows");
    if (!c->numa_sec_line)
        return FAIL(c, 0, "no 'numa_info' section; expected `xl info -n` output (plain `xl info` "
                    "has no NUMA data)");
    if (!c->cpu_sec_line)
        return FAIL(c, 0, "no 'cpu_topology' section; expected `xl info -n` output (plain "
                    "`xl info` has no NUMA data)");
    if (c->nr_nodes_rows == 0)
        return FAIL(c, c->numa_sec_line, "numa_info has no node rows; expected "
                    "'NODE: MEMSIZE MEMFREE DISTANCES' for each node");
    if (c->nr_nodes_line && c->nr_nodes != c->nr_nodes_rows)
        return FAIL(c, c->nr_nodes_line, "nr_nodes is %llu but numa_info (line %u) has %zu rows; "
                    "expected one row per node", (unsigned long long)c->nr_nodes,
                    c->numa_sec_line, c->nr_nodes_rows);
    int rc = check_distances(c);
    if (rc == 0 && c->nr_cpu_rows == 0)
        rc = fill_cpus_without_rows(c);
    if (rc == 0)
        rc = check_cpus(c);
    if (rc == 0)
        rc = check_devices(c);
    return rc;
}

/* ---- reading and building ----------------------------------------------------------- */

static int build(xl_ctx *c, np_topology **out)
{
    np_topology_builder *b = NULL;
    size_t w = c->nr_dists;
    int rc = np_tt_builder_create("xl-info", c->origin, &b);
    if (rc < 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < c->nr_nodes_rows; i++)
        rc = np_topology_builder_add_node(b, c->nodes[i].os_id,
                                          c->nodes[i].size_mib << XL_MIB_SHIFT,
                                          c->nodes[i].free_mib << XL_MIB_SHIFT);
    for (size_t i = 0; rc == 0 && i < c->nr_cpu_rows; i++)
        rc = np_topology_builder_add_cpu(b, c->cpus[i].os_id, (uint32_t)c->cpus[i].node,
                                         c->cpus[i].socket, c->cpus[i].core);
    for (size_t i = 0; rc == 0 && i < c->nr_nodes_rows; i++)
        for (size_t k = 0; rc == 0 && k < c->nr_nodes_rows; k++)
            rc = np_topology_builder_set_distance(b, c->nodes[i].os_id, c->nodes[k].os_id,
                                                  (uint32_t)c->dists[i * w + c->nodes[k].os_id]);
    for (size_t i = 0; rc == 0 && i < c->nr_devs; i++)
        rc = np_topology_builder_add_device(b, &c->devs[i].info,
                                            c->devs[i].node == XL_INVALID
                                                ? NP_TOPO_ID_UNKNOWN
                                                : (uint32_t)c->devs[i].node);
    if (rc < 0) { /* everything was checked above: only -ENOMEM is left */
        np_topology_builder_destroy(b);
        return rc;
    }
    return np_tt_builder_finish(b, c->origin, c->err, out);
}

int np_topology_read_xl_info(const char *text, size_t len, const char *origin,
                             np_topology **out, np_error *err)
{
    xl_ctx *c = calloc(1, sizeof(*c));
    const char *line;
    bool any = false;
    int rc;
    if (!c)
        return -ENOMEM;
    c->origin = origin ? origin : "";
    c->err = err;
    for (size_t i = 0; i < NP_TOPO_MAX_NODES; i++)
        c->node_row_of_os[i] = -1;
    np_scanner_init(&c->s, text, len);
    rc = np_bitmap_create(&c->cpu_seen);
    while (rc == 0 && (rc = np_scanner_next(&c->s, &line)) > 0) {
        rc = np_tt_check_line(&c->s, c->origin, err);
        if (rc == 0 && !np_is_blank(line)) {
            any = true;
            rc = parse_line(c, line);
        }
    }
    if (rc < 0)
        goto out;
    if (!any) {
        rc = FAIL(c, 0, "input is empty; expected `xl info -n` output");
        goto out;
    }
    rc = check_all(c);
    if (rc < 0)
        goto out;
    rc = build(c, out);
out:
    np_scanner_fini(&c->s);
    np_bitmap_destroy(c->cpu_seen);
    free(c->cpus);
    free(c->nodes);
    free(c->dists);
    free(c->devs);
    free(c);
    return rc;
}
