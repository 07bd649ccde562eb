/*
 * topo/read_numactl.c - reads the text `numactl --hardware` prints into a
 * topology.
 *
 * The input is what numactl 2.0.x prints (numactl.c, hardware()):
 *
 *     available: 3 nodes (0,2,5)
 *     node 0 cpus: 0 1 2 3          (or "0-3 (4)" with --cpu-compress)
 *     node 0 size: 7957 MB          (bytes >> 20, so MiB rounded down)
 *     node 0 free: 2821 MB          ("<not available>" when unreadable)
 *     ...
 *     node distances:               (or "No distance information available.")
 *     node   0   2   5
 *       0:  10  20  20
 *       ...
 *
 * Node ids may be sparse (POWER hosts number GPU memory nodes 252-255) and a
 * node may have no CPUs or no memory. numactl says nothing about packages
 * or cores, so every CPU gets NP_TOPO_ID_UNKNOWN for both and counts as a
 * core of its own. Sizes are MiB, turned into bytes; "<not available>" is
 * read as 0 bytes (the kernel gave no meminfo, so nothing can be placed
 * there). Without a distance table the builder's 10/20 default applies.
 *
 * Everything is checked before the builder sees it, so that each problem is
 * reported with the line it is on: the node count against the list, every
 * node described exactly once, a CPU on one node only, memory free <= size,
 * a square table whose header and rows follow the node list, positive
 * symmetric distances, 10 from a node to itself and more to any other. The
 * reader returns a complete topology or -EINVAL with an np_error, never part
 * of one.
 */
#include <numaplace/topology.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topo/text_tables.h"
#include "util/error.h"
#include "util/text.h"

/* numactl prints memory as `bytes >> 20` with the unit "MB": MiB. */
#define NUMACTL_MIB_SHIFT 20
/* Largest MiB figure whose byte count still fits in 64 bits. */
#define NUMACTL_MAX_MIB (UINT64_MAX >> NUMACTL_MIB_SHIFT)

typedef struct nc_node {
    uint32_t os_id;
    unsigned cpus_line, size_line, free_line; /* 0 until seen */
    uint64_t size_mib, free_mib;
} nc_node;

typedef struct nc_cpu {
    uint32_t os_id, node_os_id;
    unsigned line;
} nc_cpu;

typedef struct nc_ctx {
    const char *origin;
    np_error *err;
    np_line_scanner s;
    unsigned avail_line;
    nc_node *nodes; /* in os_id order, as "available:" lists them */
    size_t nr_nodes;
    int32_t idx_of_os[NP_TOPO_MAX_NODES]; /* index into nodes, or -1 */
    nc_cpu *cpus;
    size_t nr_cpus, cap_cpus;
    np_bitmap *cpu_seen;
    uint32_t *dist; /* nr_nodes * nr_nodes, row = from; NULL without a table */
    unsigned *dist_line; /* line of each row */
} nc_ctx;

#define FAIL(c, line, ...) np_error_set((c)->err, (c)->origin, (line), __VA_ARGS__)

/* Next line that is not blank: 1, 0 at the end, or a negative error. */
static int next_line(nc_ctx *c, const char **line)
{
    for (;;) {
        int r = np_scanner_next(&c->s, line);
        if (r <= 0)
            return r;
        int rc = np_tt_check_line(&c->s, c->origin, c->err);
        if (rc < 0)
            return rc;
        if (!np_is_blank(*line))
            return 1;
    }
}

/* ---- "available: N nodes (LIST)" ------------------------------------------- */

/* One element of a list: "N" or "N-M" with N <= M <= limit. */
static int read_range(nc_ctx *c, const char **p, uint64_t limit, const char *what,
                      uint32_t *first, uint32_t *last)
{
    char why[NP_TT_WHY_BUF];
    uint64_t a, b;
    if (np_tt_uint(p, limit, &a, why, sizeof(why)) < 0)
        return FAIL(c, c->s.lineno, "expected a %s (0 to %llu), found %s", what,
                    (unsigned long long)limit, why);
    b = a;
    if (**p == '-') {
        (*p)++;
        if (np_tt_uint(p, limit, &b, why, sizeof(why)) < 0)
            return FAIL(c, c->s.lineno, "expected the end of the %s range %llu-N (up to %llu), "
                        "found %s", what, (unsigned long long)a, (unsigned long long)limit, why);
        if (b < a)
            return FAIL(c, c->s.lineno, "%s range %llu-%llu runs backwards; expected N-M with "
                        "N <= M", what, (unsigned long long)a, (unsigned long long)b);
    }
    *first = (uint32_t)a;
    *last = (uint32_t)b;
    return 0;
}

static int parse_available(nc_ctx *c, const char *line)
{
    char why[NP_TT_WHY_BUF];
    const char *p = np_skip_ws(line);
    uint64_t count;
    np_bitmap *ids = NULL;
    int rc = 0;

    c->avail_line = c->s.lineno;
    if (strstr(p, "No NUMA available")) {
        rc = FAIL(c, c->s.lineno, "numactl found no NUMA support on that host; expected "
                  "'available: N nodes (LIST)'");
        goto out;
    }
    if (!np_tt_eat(&p, "available:")) {
        rc = FAIL(c, c->s.lineno, "expected 'available: N nodes (LIST)', the first line of "
                  "`numactl --hardware` output, found %s", np_tt_quote(p, why, sizeof(why)));
        goto out;
    }
    p = np_skip_ws(p);
    if (np_tt_uint(&p, UINT32_MAX, &count, why, sizeof(why)) < 0) {
        rc = FAIL(c, c->s.lineno, "expected the number of nodes after 'available:', found %s",
                  why);
        goto out;
    }
    if (count == 0 || count > NP_TOPO_MAX_NODES) {
        rc = FAIL(c, c->s.lineno, "'available:' gives %llu nodes; expected 1 to %u",
                  (unsigned long long)count, NP_TOPO_MAX_NODES);
        goto out;
    }
    p = np_skip_ws(p);
    if (!np_tt_eat(&p, "nodes") || *(p = np_skip_ws(p)) != '(') {
        rc = FAIL(c, c->s.lineno, "expected 'nodes (LIST)' after the node count, found %s",
                  np_tt_quote(p, why, sizeof(why)));
        goto out;
    }
    p++;
    rc = np_bitmap_create(&ids);
    if (rc < 0)
        goto out;
    for (;;) {
        uint32_t a, b;
        rc = read_range(c, &p, NP_TOPO_MAX_NODES - 1, "node id", &a, &b);
        if (rc < 0)
            goto out;
        rc = np_bitmap_set_range(ids, a, b);
        if (rc < 0)
            goto out;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ')')
            break;
        rc = FAIL(c, c->s.lineno, "expected ',' or ')' in the node list, found %s",
                  np_tt_quote(p, why, sizeof(why)));
        goto out;
    }
    if (!np_is_blank(p + 1)) {
        rc = FAIL(c, c->s.lineno, "expected the end of the line after the node list, found %s",
                  np_tt_quote(p + 1, why, sizeof(why)));
        goto out;
    }
    if (np_bitmap_count(ids) != count) {
        rc = FAIL(c, c->s.lineno, "'available:' says %llu nodes but its list names %u; "
                  "expected the count to match the list", (unsigned long long)count,
                  np_bitmap_count(ids));
        goto out;
    }
    c->nodes = calloc(count, sizeof(*c->nodes));
    if (!c->nodes) {
        rc = -ENOMEM;
        goto out;
    }
    for (int id = np_bitmap_next(ids, 0); id >= 0; id = np_bitmap_next(ids, (unsigned)id + 1)) {
        c->idx_of_os[id] = (int32_t)c->nr_nodes;
        c->nodes[c->nr_nodes++].os_id = (uint32_t)id;
    }
out:
    np_bitmap_destroy(ids);
    return rc;
}

/* ---- "node N cpus: / size: / free:" ---------------------------------------- */

static int add_cpu(nc_ctx *c, uint32_t cpu, const nc_node *n)
{
    if (np_bitmap_test(c->cpu_seen, cpu)) {
        const nc_cpu *prev = NULL;
        for (size_t i = 0; i < c->nr_cpus && !prev; i++)
            if (c->cpus[i].os_id == cpu)
                prev = &c->cpus[i];
        if (prev && prev->node_os_id == n->os_id)
            return FAIL(c, c->s.lineno, "CPU %u is listed twice for node %u; expected each "
                        "CPU once", cpu, n->os_id);
        return FAIL(c, c->s.lineno, "CPU %u is listed on node %u but already on node %u "
                    "(line %u); expected each CPU on one node", cpu, n->os_id,
                    prev ? prev->node_os_id : 0, prev ? prev->line : 0);
    }
    if (c->nr_cpus == c->cap_cpus) {
        size_t cap = c->cap_cpus ? c->cap_cpus * 2 : 64;
        nc_cpu *nc = realloc(c->cpus, cap * sizeof(*nc));
        if (!nc)
            return -ENOMEM;
        c->cpus = nc;
        c->cap_cpus = cap;
    }
    int rc = np_bitmap_set(c->cpu_seen, cpu);
    if (rc < 0)
        return rc;
    c->cpus[c->nr_cpus++] = (nc_cpu){cpu, n->os_id, c->s.lineno};
    return 0;
}

/* " 0 1 2 3" or, with --cpu-compress, " 0-15, 32-47 (32)". */
static int parse_cpus(nc_ctx *c, nc_node *n, const char *p)
{
    char why[NP_TT_WHY_BUF];
    uint64_t listed = 0;
    for (;;) {
        p = np_skip_ws(p);
        if (*p == '\0')
            return 0;
        if (*p == '(') { /* --cpu-compress count: must match and end the line */
            uint64_t count;
            p++;
            if (np_tt_uint(&p, NP_TOPO_MAX_CPUS, &count, why, sizeof(why)) < 0 || *p != ')' ||
                !np_is_blank(p + 1))
                return FAIL(c, c->s.lineno, "expected the CPU count '(N)' at the end of the "
                            "node %u CPU list", n->os_id);
            if (count != listed)
                return FAIL(c, c->s.lineno, "node %u lists %llu CPUs but its count says (%llu); "
                            "expected them to match", n->os_id, (unsigned long long)listed,
                            (unsigned long long)count);
            return 0;
        }
        uint32_t a, b;
        int rc = read_range(c, &p, NP_TOPO_MAX_CPUS - 1, "CPU id", &a, &b);
        if (rc < 0)
            return rc;
        for (uint32_t cpu = a;; cpu++) {
            rc = add_cpu(c, cpu, n);
            if (rc < 0)
                return rc;
            listed++;
            if (cpu == b)
                break;
        }
        if (*p == ',')
            p++;
        else if (*p != ' ' && *p != '\t' && *p != '\0')
            return FAIL(c, c->s.lineno, "expected CPU ids separated by blanks after 'node %u "
                        "cpus:', found %s", n->os_id, np_tt_quote(p, why, sizeof(why)));
    }
}

/* " 7957 MB" or " <not available>". */
static int parse_mib(nc_ctx *c, const nc_node *n, const char *what, const char *p,
                     uint64_t *mib_out)
{
    char why[NP_TT_WHY_BUF];
    p = np_skip_ws(p);
    if (np_tt_eat(&p, "<not available>")) {
        *mib_out = 0;
    } else if (np_tt_uint(&p, NUMACTL_MAX_MIB, mib_out, why, sizeof(why)) < 0) {
        return FAIL(c, c->s.lineno, "expected the %s of node %u as 'N MB' (0 to %llu), found %s",
                    what, n->os_id, (unsigned long long)NUMACTL_MAX_MIB, why);
    } else {
        p = np_skip_ws(p);
        if (!np_tt_eat(&p, "MB"))
            return FAIL(c, c->s.lineno, "expected the unit 'MB' after the %s of node %u, found %s",
                        what, n->os_id, np_tt_quote(p, why, sizeof(why)));
    }
    if (!np_is_blank(p))
        return FAIL(c, c->s.lineno, "expected the end of the line after the %s of node %u, "
                    "found %s", what, n->os_id, np_tt_quote(p, why, sizeof(why)));
    return 0;
}

static int parse_node_line(nc_ctx *c, const char *line)
{
    char why[NP_TT_WHY_BUF];
    const char *p = np_skip_ws(line);
    uint64_t id;
    const char *expect = "expected 'node N cpus:', 'node N size:', 'node N free:', "
                         "'node distances:' or 'No distance information available.'";

    if (!np_tt_eat(&p, "node") || (*p != ' ' && *p != '\t'))
        return FAIL(c, c->s.lineno, "%s, found %s", expect, np_tt_quote(p, why, sizeof(why)));
    p = np_skip_ws(p);
    if (np_tt_uint(&p, UINT32_MAX, &id, why, sizeof(why)) < 0)
        return FAIL(c, c->s.lineno, "%s; found %s where the node id goes", expect, why);
    if (id >= NP_TOPO_MAX_NODES || c->idx_of_os[id] < 0)
        return FAIL(c, c->s.lineno, "node %llu is not in the 'available:' list on line %u; "
                    "expected only the nodes it names", (unsigned long long)id, c->avail_line);
    nc_node *n = &c->nodes[c->idx_of_os[id]];
    p = np_skip_ws(p);
    unsigned *seen;
    const char *key;
    if (np_tt_eat(&p, "cpus:")) {
        seen = &n->cpus_line;
        key = "cpus";
    } else if (np_tt_eat(&p, "size:")) {
        seen = &n->size_line;
        key = "size";
    } else if (np_tt_eat(&p, "free:")) {
        seen = &n->free_line;
        key = "free";
    } else {
        return FAIL(c, c->s.lineno, "expected 'cpus:', 'size:' or 'free:' after 'node %u', "
                    "found %s", n->os_id, np_tt_quote(p, why, sizeof(why)));
    }
    if (*seen)
        return FAIL(c, c->s.lineno, "second 'node %u %s:' line (the first is line %u); expected "
                    "one per node", n->os_id, key, *seen);
    *seen = c->s.lineno;
    if (key[0] == 'c')
        return parse_cpus(c, n, p);
    return parse_mib(c, n, key, p, key[0] == 's' ? &n->size_mib : &n->free_mib);
}

/* Every node of the list has its three lines and free <= size. `line` is
 * where the node lines ended (for a missing line there is no better place). */
static int check_nodes(nc_ctx *c, unsigned line)
{
    for (size_t i = 0; i < c->nr_nodes; i++) {
        const nc_node *n = &c->nodes[i];
        const char *missing = !n->cpus_line ? "cpus" : !n->size_line ? "size"
                            : !n->free_line ? "free" : NULL;
        if (missing)
            return FAIL(c, line, "node %u is in the 'available:' list (line %u) but has no "
                        "'node %u %s:' line; expected cpus, size and free lines for every node",
                        n->os_id, c->avail_line, n->os_id, missing);
        if (n->free_mib > n->size_mib)
            return FAIL(c, n->free_line, "node %u has %llu MB free but a size of %llu MB "
                        "(line %u); expected free <= size", n->os_id,
                        (unsigned long long)n->free_mib, (unsigned long long)n->size_mib,
                        n->size_line);
    }
    return 0;
}

/* ---- "node distances:" table ---------------------------------------------------- */

static int parse_dist_header(nc_ctx *c, const char *line)
{
    char why[NP_TT_WHY_BUF];
    const char *p = np_skip_ws(line);
    if (!np_tt_eat(&p, "node") || (*p != ' ' && *p != '\t'))
        return FAIL(c, c->s.lineno, "expected the distance table header 'node ID ID ...', "
                    "found %s", np_tt_quote(p, why, sizeof(why)));
    for (size_t j = 0; j < c->nr_nodes; j++) {
        uint64_t id;
        p = np_skip_ws(p);
        if (np_tt_uint(&p, UINT32_MAX, &id, why, sizeof(why)) < 0)
            return FAIL(c, c->s.lineno, "expected node %u as column %zu of the distance table "
                        "header, found %s", c->nodes[j].os_id, j + 1, why);
        if (id != c->nodes[j].os_id)
            return FAIL(c, c->s.lineno, "distance table column %zu is node %llu; expected node "
                        "%u (the columns follow the 'available:' list)", j + 1,
                        (unsigned long long)id, c->nodes[j].os_id);
        if (*p != ' ' && *p != '\t' && *p != '\0')
            return FAIL(c, c->s.lineno, "expected node ids separated by blanks in the distance "
                        "table header, found %s", np_tt_quote(p, why, sizeof(why)));
    }
    if (!np_is_blank(p))
        return FAIL(c, c->s.lineno, "distance table header has more columns than the %zu nodes; "
                    "found %s after node %u", c->nr_nodes, np_tt_quote(p, why, sizeof(why)),
                    c->nodes[c->nr_nodes - 1].os_id);
    return 0;
}

static int parse_dist_row(nc_ctx *c, size_t i, const char *line)
{
    char why[NP_TT_WHY_BUF];
    const char *p = np_skip_ws(line);
    const nc_node *from = &c->nodes[i];
    uint64_t id, d;
    if (np_tt_uint(&p, UINT32_MAX, &id, why, sizeof(why)) < 0)
        return FAIL(c, c->s.lineno, "expected the distance row 'N: D D ...' of node %u, found %s",
                    from->os_id, why);
    if (*p != ':')
        return FAIL(c, c->s.lineno, "expected ':' after node %llu in its distance row, found %s",
                    (unsigned long long)id, np_tt_quote(p, why, sizeof(why)));
    if (id != from->os_id)
        return FAIL(c, c->s.lineno, "distance row %zu is for node %llu; expected node %u (the "
                    "rows follow the 'available:' list)", i + 1, (unsigned long long)id,
                    from->os_id);
    p++;
    c->dist_line[i] = c->s.lineno;
    for (size_t j = 0; j < c->nr_nodes; j++) {
        const nc_node *to = &c->nodes[j];
        p = np_skip_ws(p);
        if (np_tt_uint(&p, NP_TOPO_MAX_DISTANCE, &d, why, sizeof(why)) < 0)
            return FAIL(c, c->s.lineno, "expected the distance from node %u to node %u (1 to %u), "
                        "found %s", from->os_id, to->os_id, NP_TOPO_MAX_DISTANCE, why);
        if (*p != ' ' && *p != '\t' && *p != '\0')
            return FAIL(c, c->s.lineno, "expected distances separated by blanks in the row of "
                        "node %u, found %s", from->os_id, np_tt_quote(p, why, sizeof(why)));
        if (d == 0)
            return FAIL(c, c->s.lineno, "distance from node %u to node %u is 0; expected a "
                        "positive distance (10 = local)", from->os_id, to->os_id);
        c->dist[i * c->nr_nodes + j] = (uint32_t)d;
    }
    if (!np_is_blank(p))
        return FAIL(c, c->s.lineno, "distance row of node %u has more than %zu values; found %s",
                    from->os_id, c->nr_nodes, np_tt_quote(p, why, sizeof(why)));
    /* The local distance, symmetry against the rows above, remote > local. */
    uint32_t local = c->dist[i * c->nr_nodes + i];
    if (local != NP_TT_LOCAL_DISTANCE)
        return FAIL(c, c->s.lineno, "distance from node %u to itself is %u; expected %u, the "
                    "local distance", from->os_id, local, NP_TT_LOCAL_DISTANCE);
    for (size_t j = 0; j < c->nr_nodes; j++) {
        uint32_t dij = c->dist[i * c->nr_nodes + j];
        if (j < i && dij != c->dist[j * c->nr_nodes + i])
            return FAIL(c, c->s.lineno, "distance from node %u to node %u is %u but from node %u "
                        "to node %u (line %u) is %u; expected symmetric distances",
                        from->os_id, c->nodes[j].os_id, dij, c->nodes[j].os_id, from->os_id,
                        c->dist_line[j], c->dist[j * c->nr_nodes + i]);
        if (j != i && dij <= local)
            return FAIL(c, c->s.lineno, "distance from node %u to node %u (%u) is not larger "
                        "than its local distance (%u); expected the local distance smallest",
                        from->os_id, c->nodes[j].os_id, dij, local);
    }
    return 0;
}

static int parse_distances(nc_ctx *c)
{
    const char *line;
    size_t n = c->nr_nodes;
    int r;
    c->dist = calloc(n * n, sizeof(*c->dist));
    c->dist_line = calloc(n, sizeof(*c->dist_line));
    if (!c->dist || !c->dist_line)
        return -ENOMEM;
    r = next_line(c, &line);
    if (r < 0)
        return r;
    if (r == 0)
        return FAIL(c, c->s.lineno, "input ends after 'node distances:'; expected the header "
                    "'node ID ID ...' and one row per node");
    r = parse_dist_header(c, line);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        r = next_line(c, &line);
        if (r < 0)
            return r;
        if (r == 0)
            return FAIL(c, c->s.lineno, "input ends after %zu of %zu distance rows; expected "
                        "the row of node %u", i, n, c->nodes[i].os_id);
        r = parse_dist_row(c, i, line);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- reading and building ------------------------------------------------------- */

static int parse(nc_ctx *c)
{
    const char *line;
    char why[NP_TT_WHY_BUF];
    int r = next_line(c, &line);
    if (r < 0)
        return r;
    if (r == 0)
        return FAIL(c, 0, "input is empty; expected `numactl --hardware` output starting with "
                    "'available: N nodes (LIST)'");
    r = parse_available(c, line);
    if (r < 0)
        return r;

    /* Node lines until the distance part or the end. */
    bool table = false, none = false;
    for (;;) {
        r = next_line(c, &line);
        if (r < 0)
            return r;
        if (r == 0)
            break;
        const char *p = np_skip_ws(line);
        if (strncmp(p, "node distances:", 15) == 0 && np_is_blank(p + 15)) {
            table = true;
            break;
        }
        if (strncmp(p, "No distance information available.", 34) == 0 && np_is_blank(p + 34)) {
            none = true;
            break;
        }
        r = parse_node_line(c, line);
        if (r < 0)
            return r;
    }
    r = check_nodes(c, c->s.lineno);
    if (r < 0)
        return r;
    if (!table && !none)
        return FAIL(c, c->s.lineno, "input ends after the node lines; expected 'node distances:' "
                    "and its table, or 'No distance information available.'");
    if (table) {
        r = parse_distances(c);
        if (r < 0)
            return r;
    }
    r = next_line(c, &line);
    if (r < 0)
        return r;
    if (r > 0)
        return FAIL(c, c->s.lineno, "expected the end of `numactl --hardware` output after the "
                    "%s, found %s", table ? "distance table" : "distance line",
                    np_tt_quote(line, why, sizeof(why)));
    return 0;
}

static int build(nc_ctx *c, np_topology **out)
{
    np_topology_builder *b = NULL;
    int rc = np_tt_builder_create("numactl", c->origin, &b);
    if (rc < 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < c->nr_nodes; i++)
        rc = np_topology_builder_add_node(b, c->nodes[i].os_id,
                                          c->nodes[i].size_mib << NUMACTL_MIB_SHIFT,
                                          c->nodes[i].free_mib << NUMACTL_MIB_SHIFT);
    for (size_t i = 0; rc == 0 && i < c->nr_cpus; i++)
        rc = np_topology_builder_add_cpu(b, c->cpus[i].os_id, c->cpus[i].node_os_id,
                                         NP_TOPO_ID_UNKNOWN, NP_TOPO_ID_UNKNOWN);
    for (size_t i = 0; rc == 0 && c->dist && i < c->nr_nodes; i++)
        for (size_t j = 0; rc == 0 && j < c->nr_nodes; j++)
            rc = np_topology_builder_set_distance(b, c->nodes[i].os_id, c->nodes[j].os_id,
                                                  c->dist[i * c->nr_nodes + j]);
    if (rc < 0) { /* everything was checked above: only -ENOMEM is left */
        np_topology_builder_destroy(b);
        return rc;
    }
    return np_tt_builder_finish(b, c->origin, c->err, out);
}

int np_topology_read_numactl(const char *text, size_t len, const char *origin,
                             np_topology **out, np_error *err)
{
    nc_ctx *c = calloc(1, sizeof(*c));
    int rc;
    if (!c)
        return -ENOMEM;
    c->origin = origin ? origin : "";
    c->err = err;
    for (size_t i = 0; i < NP_TOPO_MAX_NODES; i++)
        c->idx_of_os[i] = -1;
    np_scanner_init(&c->s, text, len);
    rc = np_bitmap_create(&c->cpu_seen);
    if (rc < 0)
        goto out;
    rc = parse(c);
    if (rc < 0)
        goto out;
    rc = build(c, out);
out:
    np_scanner_fini(&c->s);
    np_bitmap_destroy(c->cpu_seen);
    free(c->nodes);
    free(c->cpus);
    free(c->dist);
    free(c->dist_line);
    free(c);
    return rc;
}
