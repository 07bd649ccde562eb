/*
 * backend/xen_numa_dump.c - reads what Xen prints for debug key `u`
 * ("dumping numa info"): each node's size and free pages and, for each
 * domain, its pages on each node. Xen 4.17 has no hypercall for a domain's
 * per-node memory; this text is the only source, so the Xen backend asks for
 * it and reads it back from the console ring. Pure (text in, table out) and
 * always built, so it is unit-tested and fuzzed without Xen.
 *
 * The shape, from xen/arch/x86/numa.c (4.17) as seen on a 4-node host
 * (docs/xen.md):
 *
 *     (XEN) 'u' pressed -> dumping numa info (now = 97567253112)
 *     (XEN) NODE0 start->0 size->262144 free->209585
 *     (XEN) CPU0...1 -> NODE0
 *     (XEN) Memory location of each domain:
 *     (XEN) Domain 0 (total: 131072):
 *     (XEN)     Node 0: 18497
 *     (XEN)      2 vnodes, 2 vcpus, guest physical layout:   (vNUMA, skipped)
 *
 * A serial log or `xl dmesg` may hold several dumps (and a serial log each
 * one twice, pitfall 10): the last marker starts the one that is read. Lines
 * in between that are not part of the dump (other Xen messages) are skipped;
 * a line that starts like a dump line and does not parse is an error.
 */
#include <numaplace/xen.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/text.h"

#define DUMP_MARKER "'u' pressed -> dumping numa info"
/* Bounds that reject nonsense rather than allocate for it. */
#define DUMP_MAX_DOMAINS 32768u           /* Xen's DOMID_FIRST_RESERVED */
#define DUMP_MAX_PAGES (UINT64_C(1) << 40) /* 4 PiB of 4 KiB pages */

typedef struct dump_domain {
    uint32_t domid;
    uint64_t total_pages;
    uint64_t *node_pages; /* by position in dump->node_os_ids */
    bool *node_seen;
} dump_domain;

struct np_xen_numa_dump {
    size_t nr_nodes;
    uint32_t node_os_ids[NP_TOPO_MAX_NODES];
    uint64_t size_pages[NP_TOPO_MAX_NODES];
    uint64_t free_pages[NP_TOPO_MAX_NODES];
    size_t nr_domains, cap_domains;
    dump_domain *domains;
};

void np_xen_numa_dump_destroy(np_xen_numa_dump *dump)
{
    if (!dump)
        return;
    for (size_t i = 0; i < dump->nr_domains; i++) {
        free(dump->domains[i].node_pages);
        free(dump->domains[i].node_seen);
    }
    free(dump->domains);
    free(dump);
}

/* Skips "(XEN) " and a "[...]" time stamp, then blanks. */
static const char *strip_prefix(const char *p)
{
    p = np_skip_ws(p);
    if (strncmp(p, "(XEN)", 5) == 0)
        p = np_skip_ws(p + 5);
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (close)
            p = np_skip_ws(close + 1);
    }
    return p;
}

/* Expects `word` at *p, then advances past it. */
static bool take(const char **p, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(*p, word, n) != 0)
        return false;
    *p += n;
    return true;
}

static int node_pos(const np_xen_numa_dump *d, uint32_t os_id, size_t *pos_out)
{
    for (size_t i = 0; i < d->nr_nodes; i++) {
        if (d->node_os_ids[i] == os_id) {
            *pos_out = i;
            return 0;
        }
    }
    return -ENOENT;
}

/* "NODE%u start->%lu size->%lu free->%lu" */
static int parse_node(np_xen_numa_dump *d, const char *p, const char *origin, unsigned line,
                      np_error *err)
{
    uint64_t id, start, size, freep;
    size_t pos;
    if (np_parse_u64(&p, NP_TOPO_MAX_NODES - 1, &id) || !take(&p, " start->") ||
        np_parse_u64(&p, UINT64_MAX, &start) || !take(&p, " size->") ||
        np_parse_u64(&p, DUMP_MAX_PAGES, &size) || !take(&p, " free->") ||
        np_parse_u64(&p, DUMP_MAX_PAGES, &freep) || !np_is_blank(p))
        return np_error_set(err, origin, line,
                            "expected 'NODE<id> start-><pfn> size-><pages> free-><pages>'");
    if (node_pos(d, (uint32_t)id, &pos) == 0)
        return np_error_set(err, origin, line, "node %u listed twice", (unsigned)id);
    if (freep > size)
        return np_error_set(err, origin, line, "node %u has more free pages than pages",
                            (unsigned)id);
    if (d->nr_domains > 0)
        return np_error_set(err, origin, line, "NODE line after the domains started");
    d->node_os_ids[d->nr_nodes] = (uint32_t)id;
    d->size_pages[d->nr_nodes] = size;
    d->free_pages[d->nr_nodes] = freep;
    d->nr_nodes++;
    return 0;
}

/* "Domain %u (total: %lu):" */
static int parse_domain(np_xen_numa_dump *d, const char *p, const char *origin, unsigned line,
                        np_error *err)
{
    uint64_t domid, total;
    dump_domain *dom;
    if (np_parse_u64(&p, DUMP_MAX_DOMAINS - 1, &domid) || !take(&p, " (total: ") ||
        np_parse_u64(&p, DUMP_MAX_PAGES, &total) || !take(&p, "):") || !np_is_blank(p))
        return np_error_set(err, origin, line, "expected 'Domain <domid> (total: <pages>):'");
    if (d->nr_nodes == 0)
        return np_error_set(err, origin, line, "domain listed before any NODE line");
    for (size_t i = 0; i < d->nr_domains; i++)
        if (d->domains[i].domid == domid)
            return np_error_set(err, origin, line, "domain %u listed twice", (unsigned)domid);
    if (d->nr_domains == d->cap_domains) {
        size_t cap = d->cap_domains ? 2 * d->cap_domains : 8;
        dump_domain *grown = realloc(d->domains, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        d->domains = grown;
        d->cap_domains = cap;
    }
    dom = &d->domains[d->nr_domains];
    dom->domid = (uint32_t)domid;
    dom->total_pages = total;
    dom->node_pages = calloc(d->nr_nodes, sizeof(*dom->node_pages));
    dom->node_seen = calloc(d->nr_nodes, sizeof(*dom->node_seen));
    if (!dom->node_pages || !dom->node_seen) {
        free(dom->node_pages);
        free(dom->node_seen);
        return -ENOMEM;
    }
    d->nr_domains++;
    return 0;
}

/* "Node %u: %lu" inside a domain's block */
static int parse_dom_node(np_xen_numa_dump *d, const char *p, const char *origin, unsigned line,
                          np_error *err)
{
    uint64_t id, pages;
    size_t pos;
    dump_domain *dom;
    if (np_parse_u64(&p, NP_TOPO_MAX_NODES - 1, &id) || !take(&p, ": ") ||
        np_parse_u64(&p, DUMP_MAX_PAGES, &pages) || !np_is_blank(p))
        return np_error_set(err, origin, line, "expected 'Node <id>: <pages>'");
    if (d->nr_domains == 0)
        return np_error_set(err, origin, line, "'Node' line before any 'Domain' line");
    if (node_pos(d, (uint32_t)id, &pos))
        return np_error_set(err, origin, line, "node %u is not among the NODE lines",
                            (unsigned)id);
    dom = &d->domains[d->nr_domains - 1];
    if (dom->node_seen[pos])
        return np_error_set(err, origin, line, "node %u listed twice for domain %u",
                            (unsigned)id, (unsigned)dom->domid);
    dom->node_seen[pos] = true;
    dom->node_pages[pos] = pages;
    return 0;
}

/* Offset of the line after the last marker, or -ENOENT. */
static int find_last_marker(const char *text, size_t len, size_t *start_out, unsigned *line_out)
{
    size_t mlen = strlen(DUMP_MARKER), line_start = 0;
    unsigned line = 1, found_line = 0;
    bool found = false;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            line++;
            line_start = i + 1;
            continue;
        }
        if (i - line_start < 256 && len - i >= mlen && text[i] == '\'' &&
            memcmp(text + i, DUMP_MARKER, mlen) == 0) {
            found = true;
            found_line = line;
            const char *nl = memchr(text + i, '\n', len - i);
            *start_out = nl ? (size_t)(nl - text) + 1 : len;
        }
    }
    if (!found)
        return -ENOENT;
    *line_out = found_line;
    return 0;
}

int np_xen_numa_dump_parse(const char *text, size_t len, const char *origin,
                           np_xen_numa_dump **out, np_error *err)
{
    np_xen_numa_dump *d = NULL;
    np_line_scanner s;
    const char *line;
    size_t start = 0;
    unsigned marker_line = 0;
    bool in_domains = false;
    int rc, more;

    if (!origin)
        origin = "";
    np_scanner_init(&s, "", 0);
    if (find_last_marker(text, len, &start, &marker_line)) {
        rc = np_error_set(err, origin, 0,
                          "no NUMA dump found: expected Xen's debug-key 'u' output "
                          "(\"" DUMP_MARKER "\")");
        goto out;
    }
    d = calloc(1, sizeof(*d));
    if (!d) {
        rc = -ENOMEM;
        goto out;
    }
    np_scanner_fini(&s);
    np_scanner_init(&s, text + start, len - start);
    rc = 0;
    while (rc == 0 && (more = np_scanner_next(&s, &line)) > 0) {
        unsigned lineno = marker_line + s.lineno;
        const char *p;
        if (s.has_nul || s.too_long) {
            rc = np_error_set(err, origin, lineno, "expected a text line of Xen's NUMA dump");
            break;
        }
        p = strip_prefix(line);
        if (take(&p, "NODE"))
            rc = parse_node(d, p, origin, lineno, err);
        else if (take(&p, "Memory location of each domain:"))
            in_domains = true;
        else if (in_domains && take(&p, "Domain "))
            rc = parse_domain(d, p, origin, lineno, err);
        else if (in_domains && take(&p, "Node "))
            rc = parse_dom_node(d, p, origin, lineno, err);
        /* everything else ("CPU0...1 -> NODE0", vNUMA layout, other
         * messages) carries nothing this table holds */
    }
    if (rc == 0 && more < 0)
        rc = more;
    if (rc == 0 && d->nr_nodes == 0)
        rc = np_error_set(err, origin, marker_line, "NUMA dump without any NODE line");
    for (size_t i = 0; rc == 0 && i < d->nr_domains; i++)
        for (size_t k = 0; rc == 0 && k < d->nr_nodes; k++)
            if (!d->domains[i].node_seen[k])
                rc = np_error_set(err, origin, marker_line,
                                  "domain %u has no line for node %u (the dump is cut short)",
                                  (unsigned)d->domains[i].domid, (unsigned)d->node_os_ids[k]);
out:
    np_scanner_fini(&s);
    if (rc) {
        np_xen_numa_dump_destroy(d);
        return rc;
    }
    *out = d;
    return 0;
}

size_t np_xen_numa_dump_nr_nodes(const np_xen_numa_dump *dump)
{
    return dump->nr_nodes;
}

int np_xen_numa_dump_node(const np_xen_numa_dump *dump, size_t i, uint32_t *node_os_id_out,
                          uint64_t *size_pages_out, uint64_t *free_pages_out)
{
    if (i >= dump->nr_nodes)
        return -ENOENT;
    *node_os_id_out = dump->node_os_ids[i];
    *size_pages_out = dump->size_pages[i];
    *free_pages_out = dump->free_pages[i];
    return 0;
}

size_t np_xen_numa_dump_nr_domains(const np_xen_numa_dump *dump)
{
    return dump->nr_domains;
}

int np_xen_numa_dump_domain(const np_xen_numa_dump *dump, size_t i, uint32_t *domid_out,
                            uint64_t *total_pages_out)
{
    if (i >= dump->nr_domains)
        return -ENOENT;
    *domid_out = dump->domains[i].domid;
    *total_pages_out = dump->domains[i].total_pages;
    return 0;
}

int np_xen_numa_dump_pages(const np_xen_numa_dump *dump, uint32_t domid, uint32_t node_os_id,
                           uint64_t *pages_out)
{
    size_t pos;
    if (node_pos(dump, node_os_id, &pos))
        return -ENOENT;
    for (size_t i = 0; i < dump->nr_domains; i++) {
        if (dump->domains[i].domid == domid) {
            *pages_out = dump->domains[i].node_pages[pos];
            return 0;
        }
    }
    return -ENOENT;
}

int np_xen_is_dom0(void)
{
    char *buf = NULL;
    size_t len = 0;
    int is_dom0 = 0;
    /* The capabilities file is one short line ("control_d\n"). */
    if (np_read_file("/proc/xen/capabilities", 4096, &buf, &len) == 0)
        is_dom0 = memmem(buf, len, "control_d", 9) != NULL;
    free(buf);
    return is_dom0;
}
