/*
 * backend/xen_plan.c - plan files: what `numaplace create` decided for a
 * Xen domain (nodes and memory on each, vNUMA, each vCPU's planned soft or
 * hard affinity), read back by `numaplace verify` and kept true by the Xen
 * backend when it moves a guest by save/restore. Pure text in, text out
 * (plus an atomic file write); the format is in numaplace/xen.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/xen.h>

#include "util/error.h"
#include "util/text.h"

#define PLAN_WORD_MAX 16

int np_xen_plan_create(np_xen_plan **out)
{
    np_xen_plan *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->domid = UINT32_MAX;
    *out = p;
    return 0;
}

void np_xen_plan_destroy(np_xen_plan *plan)
{
    if (!plan)
        return;
    for (uint32_t v = 0; v < NP_XEN_PLAN_MAX_VCPUS; v++) {
        np_bitmap_destroy(plan->soft[v]);
        np_bitmap_destroy(plan->hard[v]);
    }
    free(plan);
}

/* The first word of a line (letters and '_'), or false when none fits. */
static bool first_word(const char **p, char *word)
{
    size_t n = 0;
    while (((*p)[n] >= 'a' && (*p)[n] <= 'z') || (*p)[n] == '_')
        n++;
    if (n == 0 || n >= PLAN_WORD_MAX || ((*p)[n] && (*p)[n] != ' ' && (*p)[n] != '\t'))
        return false;
    memcpy(word, *p, n);
    word[n] = '\0';
    *p = np_skip_ws(*p + n);
    return true;
}

/* A number and then only blanks or more fields: advances *p past it. */
static int number(const char **p, uint64_t max, uint64_t *out)
{
    int rc = np_parse_u64(p, max, out);
    if (rc == 0 && **p && **p != ' ' && **p != '\t')
        rc = -EINVAL;
    *p = np_skip_ws(*p);
    return rc;
}

static int parse_line(np_xen_plan *p, const char *line, const char *origin, unsigned lineno,
                      np_error *err)
{
    const char *s = np_skip_ws(line);
    char word[PLAN_WORD_MAX];
    uint64_t a = 0, b = 0;

    if (!first_word(&s, word))
        return np_error_set(err, origin, lineno,
                            "a line starting with name, domid, vnodes, node, vcpu_soft, "
                            "vcpu_hard, source or split");
    if (strcmp(word, "name") == 0) {
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        bool printable = true;
        for (size_t i = 0; i < n; i++)
            printable = printable && (unsigned char)s[i] > ' ' && (unsigned char)s[i] < 0x7f;
        if (n == 0 || n >= sizeof(p->name) || !printable)
            return np_error_set(err, origin, lineno, "name: a domain name of 1 to %u printable "
                                "characters without blanks", NP_BACKEND_NAME_MAX - 1);
        memcpy(p->name, s, n);
        p->name[n] = '\0';
        return 0;
    }
    if (strcmp(word, "source") == 0) {
        if (strcmp(s, "user") == 0 || strcmp(s, "numaplace") == 0) {
            p->user = s[0] == 'u';
            return 0;
        }
        return np_error_set(err, origin, lineno, "source: user or numaplace");
    }
    if (strcmp(word, "split") == 0) {
        static const char *const names[] = {"", "exact", "allocator", "set"};
        for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcmp(s, names[i]) == 0) {
                p->split = (np_xen_plan_split)i;
                return 0;
            }
        return np_error_set(err, origin, lineno, "split: exact, allocator or set");
    }
    if (strcmp(word, "domid") == 0 || strcmp(word, "vnodes") == 0) {
        if (number(&s, UINT32_MAX, &a) || *s)
            return np_error_set(err, origin, lineno, "%s: one number", word);
        if (word[0] == 'd')
            p->domid = (uint32_t)a;
        else
            p->vnodes = (uint32_t)a;
        return 0;
    }
    if (strcmp(word, "node") == 0) {
        if (number(&s, NP_TOPO_MAX_NODES - 1, &a) || number(&s, UINT64_MAX, &b) || *s)
            return np_error_set(err, origin, lineno,
                                "node: a node number below %u and a size in bytes",
                                NP_TOPO_MAX_NODES);
        for (size_t i = 0; i < p->nr_nodes; i++)
            if (p->node_os_id[i] == a)
                return np_error_set(err, origin, lineno, "node %llu is listed twice",
                                    (unsigned long long)a);
        p->node_os_id[p->nr_nodes] = (uint32_t)a;
        p->node_bytes[p->nr_nodes++] = b;
        return 0;
    }
    if (strcmp(word, "vcpu_soft") == 0 || strcmp(word, "vcpu_hard") == 0) {
        if (number(&s, NP_XEN_PLAN_MAX_VCPUS - 1, &a) || !*s)
            return np_error_set(err, origin, lineno, "%s: a vCPU number below %u and a CPU list",
                                word, NP_XEN_PLAN_MAX_VCPUS);
        np_bitmap **m = word[5] == 's' ? &p->soft[a] : &p->hard[a];
        if (*m)
            return np_error_set(err, origin, lineno, "%s of vCPU %llu is listed twice", word,
                                (unsigned long long)a);
        int rc = np_bitmap_create(m);
        if (rc)
            return rc;
        if (np_bitmap_parse(*m, s) != 0 || np_bitmap_is_empty(*m))
            return np_error_set(err, origin, lineno, "%s: a CPU list such as 0-3,8", word);
        if (a + 1 > p->nr_vcpus)
            p->nr_vcpus = (uint32_t)a + 1;
        return 0;
    }
    return np_error_set(err, origin, lineno,
                        "'%s': expected name, domid, vnodes, node, vcpu_soft, vcpu_hard, "
                        "source or split",
                        word);
}

int np_xen_plan_parse(const char *text, size_t len, const char *origin, np_xen_plan **out,
                      np_error *err)
{
    np_xen_plan *p = NULL;
    np_line_scanner sc;
    const char *line;
    int rc = np_xen_plan_create(&p), r;

    if (rc)
        return rc;
    np_scanner_init(&sc, text, len);
    while (rc == 0 && (r = np_scanner_next(&sc, &line)) != 0) {
        if (r < 0) {
            rc = r;
            break;
        }
        if (sc.has_nul || sc.too_long) {
            rc = sc.has_nul ? np_error_set(err, origin, sc.lineno, "text without NUL bytes")
                            : np_error_set(err, origin, sc.lineno, "a line shorter than %u bytes",
                                           NP_TEXT_LINE_MAX);
            break;
        }
        const char *s = np_skip_ws(line);
        if (*s == '#' || np_is_blank(s))
            continue;
        rc = parse_line(p, line, origin, sc.lineno, err);
    }
    if (rc == 0 && !p->name[0])
        rc = np_error_set(err, origin, sc.lineno, "a \"name NAME\" line");
    else if (rc == 0 && p->nr_nodes == 0)
        rc = np_error_set(err, origin, sc.lineno, "at least one \"node OS_ID BYTES\" line");
    np_scanner_fini(&sc);
    if (rc) {
        np_xen_plan_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* "WORD V CPULIST\n" for one mask, the list as long as it needs. */
static int put_mask(FILE *f, const char *word, uint32_t v, const np_bitmap *m)
{
    size_t need = np_bitmap_format(m, NULL, 0) + 1;
    char *list = malloc(need);
    if (!list)
        return -ENOMEM;
    np_bitmap_format(m, list, need);
    fprintf(f, "%s %u %s\n", word, (unsigned)v, list);
    free(list);
    return 0;
}

int np_xen_plan_format(const np_xen_plan *plan, char **text_out)
{
    char *buf = NULL;
    size_t size = 0;
    int rc = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return -ENOMEM;
    fprintf(f, "# numaplace plan (numaplace verify reads it)\nname %s\n", plan->name);
    if (plan->domid != UINT32_MAX)
        fprintf(f, "domid %u\n", (unsigned)plan->domid);
    fprintf(f, "vnodes %u\n", (unsigned)plan->vnodes);
    if (plan->user)
        fprintf(f, "source user\n");
    if (plan->split != NP_XEN_PLAN_SPLIT_DEFAULT)
        fprintf(f, "split %s\n", plan->split == NP_XEN_PLAN_SPLIT_EXACT       ? "exact"
                                 : plan->split == NP_XEN_PLAN_SPLIT_ALLOCATOR ? "allocator"
                                                                              : "set");
    for (size_t i = 0; i < plan->nr_nodes; i++)
        fprintf(f, "node %u %llu\n", (unsigned)plan->node_os_id[i],
                (unsigned long long)plan->node_bytes[i]);
    for (uint32_t v = 0; rc == 0 && v < plan->nr_vcpus; v++) {
        if (plan->soft[v])
            rc = put_mask(f, "vcpu_soft", v, plan->soft[v]);
        if (rc == 0 && plan->hard[v])
            rc = put_mask(f, "vcpu_hard", v, plan->hard[v]);
    }
    if (fclose(f) != 0 || rc) {
        free(buf);
        return -ENOMEM;
    }
    *text_out = buf;
    return 0;
}

int np_xen_plan_read(const char *path, np_xen_plan **out, np_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = np_read_file(path, NP_XEN_PLAN_MAX_BYTES, &text, &len);
    if (rc) {
        np_error_set(err, path, 0, "a readable plan file (%s)", np_strerror(rc));
        return rc;
    }
    rc = np_xen_plan_parse(text, len, path, out, err);
    free(text);
    return rc;
}

int np_xen_plan_write(const np_xen_plan *plan, const char *path)
{
    char *text = NULL;
    int rc = np_xen_plan_format(plan, &text);
    if (rc == 0)
        rc = np_write_file_atomic(path, text, strlen(text), 0644);
    free(text);
    return rc;
}

int np_xen_plan_moved(np_xen_plan *plan, uint32_t new_domid, uint32_t to_node_os_id,
                      const np_bitmap *to_cpus)
{
    uint64_t total = 0;
    int rc;

    if (plan->vnodes > 1)
        return -EINVAL;
    for (size_t i = 0; i < plan->nr_nodes; i++)
        total += plan->node_bytes[i];
    plan->node_os_id[0] = to_node_os_id;
    plan->node_bytes[0] = total;
    plan->nr_nodes = 1;
    plan->split = NP_XEN_PLAN_SPLIT_EXACT; /* one node now */
    for (uint32_t v = 0; v < plan->nr_vcpus; v++) {
        if (!plan->soft[v])
            continue;
        np_bitmap *copy = NULL;
        if ((rc = np_bitmap_copy(to_cpus, &copy)) != 0)
            return rc;
        np_bitmap_destroy(plan->soft[v]);
        plan->soft[v] = copy;
    }
    plan->domid = new_domid;
    return 0;
}

/* The union of masks[0..nr) into *out; a NULL mask (or none) is all CPUs. */
static int union_masks(const np_topology *topo, np_bitmap *const *masks, uint32_t nr,
                       np_bitmap *out)
{
    bool all = nr == 0;
    int rc = 0;
    for (uint32_t v = 0; v < nr && !all && rc == 0; v++) {
        if (!masks || !masks[v])
            all = true;
        else
            rc = np_bitmap_or(out, masks[v]);
    }
    if (all) {
        np_bitmap_zero(out);
        for (size_t i = 0; i < np_topology_nr_cpus(topo) && rc == 0; i++)
            rc = np_bitmap_set(out, np_topology_cpu(topo, i)->os_id);
    }
    return rc;
}

int np_xen_implied_nodes(const np_topology *topo, np_bitmap *const *hard, np_bitmap *const *soft,
                         uint32_t nr, np_bitmap **nodes_out)
{
    np_bitmap *h = NULL, *sm = NULL, *nodes = NULL;
    int rc;
    if ((rc = np_bitmap_create(&h)) || (rc = np_bitmap_create(&sm)) ||
        (rc = np_bitmap_create(&nodes)))
        goto out;
    if ((rc = union_masks(topo, hard, hard ? nr : 0, h)) ||
        (rc = union_masks(topo, soft, soft ? nr : 0, sm)))
        goto out;
    np_bitmap_and(sm, h);
    const np_bitmap *use = np_bitmap_is_empty(sm) ? h : sm;
    for (size_t i = 0; i < np_topology_nr_cpus(topo) && rc == 0; i++) {
        const np_cpu_info *c = np_topology_cpu(topo, i);
        if (np_bitmap_test(use, c->os_id))
            rc = np_bitmap_set(nodes, np_topology_node(topo, c->node_idx)->os_id);
    }
    if (rc == 0) {
        *nodes_out = nodes;
        nodes = NULL;
    }
out:
    np_bitmap_destroy(h);
    np_bitmap_destroy(sm);
    np_bitmap_destroy(nodes);
    return rc;
}
