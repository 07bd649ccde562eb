/*
 * libvirt/domain_tune.c - a placement written into a libvirt domain XML
 * (np_libvirt_tune_domain, numaplace/libvirt.h), for `numaplace create
 * --libvirt`. Pure: XML in, XML out, through libxml2's tree.
 *
 * What it writes, replacing what the document had there:
 *   <vcpu placement='static' cpuset='U'>N</vcpu>   U: the CPUs of the guest's
 *        nodes the vCPUs may use (the node-wide preference; libvirt has no
 *        soft affinity, numaplaced widens it when a node is saturated)
 *   <cputune> <vcpupin> per vCPU when vCPUs differ (a guest spanning nodes),
 *        <emulatorpin> on the guest's nodes, or on its IO node (a
 *        passthrough device's or io-node=) when it has one, and one
 *        <iothreadpin> per I/O thread (<iothreads>/<iothreadids>) likewise;
 *        other <cputune> children (shares, periods) stay
 *   <numatune> <memory mode='restrictive' nodeset='NODE'/> for a guest on
 *        one node: libvirt 9 changes a running domain's nodeset only in
 *        restrictive mode (cgroup cpuset.mems), which numaplaced needs to
 *        move it later; a guest spanning nodes gets mode='strict' and a
 *        <memnode> per guest cell (cells are bound one by one)
 *   <cpu><numa> a <cell> per virtual node with its vCPUs, memory and
 *        <distances>, when the guest spans nodes; <memory> then becomes the
 *        cells' sum, as libvirt requires; the rest of <cpu> stays
 *   <metadata><np:placement xmlns:np='NP_LIBVIRT_XMLNS' nodes= policy=/>, the
 *        hints an existing element carries (group=, io-node=) kept
 * Everything else in the document is kept as it was.
 */
#include <numaplace/libvirt.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <numaplace/place.h>
#include <numaplace/vnuma.h>

#include "util/error.h"
#include "util/text.h"

#define TUNE_PARSE_OPTIONS \
    (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS)
#define KIB UINT64_C(1024)

static pthread_once_t tune_once = PTHREAD_ONCE_INIT;

static void tune_init(void)
{
    xmlInitParser();
}

static bool is_elem(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_elem(c, name))
            return c;
    return NULL;
}

/* Removes every child element of n with that name. */
static void drop_children(xmlNode *n, const char *name)
{
    xmlNode *c = n ? n->children : NULL;
    while (c) {
        xmlNode *next = c->next;
        if (is_elem(c, name)) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
        c = next;
    }
}

/* The child named `name`, created at the end when absent. */
static xmlNode *ensure(xmlNode *parent, const char *name)
{
    xmlNode *c = child(parent, name);
    return c ? c : xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);
}

static int set_attr(xmlNode *n, const char *name, const char *value)
{
    return n && xmlSetProp(n, (const xmlChar *)name, (const xmlChar *)value) ? 0 : -ENOMEM;
}

static int set_attr_u64(xmlNode *n, const char *name, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return set_attr(n, name, buf);
}

static int set_attr_map(xmlNode *n, const char *name, const np_bitmap *m)
{
    char buf[8192];
    if (np_bitmap_format(m, buf, sizeof(buf)) >= sizeof(buf))
        return -E2BIG;
    return set_attr(n, name, buf);
}

/* CPUs of a node (os_ids). */
static int node_cpus(const np_topology *topo, size_t node_idx, np_bitmap *out)
{
    for (size_t c = 0; c < np_topology_nr_cpus(topo); c++) {
        const np_cpu_info *ci = np_topology_cpu(topo, c);
        if (ci->node_idx == node_idx) {
            int rc = np_bitmap_set(out, ci->os_id);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* The mask a vCPU gets: its hard mask, else its soft one, else its node's CPUs. */
static int vcpu_mask(const np_topology *topo, const np_placement *pl, uint32_t v, np_bitmap **out)
{
    const np_bitmap *m = np_placement_vcpu_hard(pl, v);
    if (!m)
        m = np_placement_vcpu_soft(pl, v);
    if (m)
        return np_bitmap_copy(m, out);
    int rc = np_bitmap_create(out);
    return rc ? rc : node_cpus(topo, np_placement_vcpu_node(pl, v), *out);
}

/* Where the emulator and I/O threads go: the IO node's CPUs when the
 * guest has one (io-node= or its first passthrough device's node) and it
 * has CPUs, else `all` (the vCPUs' union). */
static int io_mask(const np_topology *topo, const np_guest_spec *spec, const np_bitmap *all,
                   np_bitmap **out)
{
    size_t idx = SIZE_MAX;
    if (spec->io_node_os_id >= 0) {
        if (np_topology_node_idx(topo, (uint32_t)spec->io_node_os_id, &idx))
            idx = SIZE_MAX;
    } else if (spec->nr_devices) {
        for (size_t d = 0; d < np_topology_nr_devices(topo) && idx == SIZE_MAX; d++) {
            const np_pci_info *pi = np_topology_device(topo, d);
            char bdf[NP_BDF_TEXT_MAX];
            np_pci_format_bdf(pi, bdf, sizeof(bdf));
            if (strcmp(bdf, spec->devices[0]) == 0 && pi->node_idx >= 0)
                idx = (size_t)pi->node_idx;
        }
    }
    int rc = np_bitmap_create(out);
    if (!rc && idx != SIZE_MAX)
        rc = node_cpus(topo, idx, *out);
    if (!rc && np_bitmap_is_empty(*out))
        rc = np_bitmap_or(*out, all);
    return rc;
}

/* The I/O thread ids the domain declares: <iothreadids><iothread id=/> or
 * <iothreads>N</iothreads> (ids 1..N). */
static size_t iothread_ids(xmlNode *dom, unsigned *ids, size_t max)
{
    size_t n = 0;
    xmlNode *list = child(dom, "iothreadids");
    for (xmlNode *c = list ? list->children : NULL; c && n < max; c = c->next) {
        xmlChar *v = is_elem(c, "iothread") ? xmlGetProp(c, (const xmlChar *)"id") : NULL;
        uint64_t id;
        if (v && np_parse_u64_full((const char *)v, UINT_MAX, &id) == 0 && id > 0)
            ids[n++] = (unsigned)id;
        xmlFree(v);
    }
    if (n)
        return n;
    xmlNode *count = child(dom, "iothreads");
    xmlChar *t = count ? xmlNodeGetContent(count) : NULL;
    uint64_t k = 0;
    if (t && np_parse_u64_full(np_skip_ws((const char *)t), max, &k) == 0)
        for (uint64_t i = 1; i <= k; i++)
            ids[n++] = (unsigned)i;
    xmlFree(t);
    return n;
}

#define TUNE_MAX_IOTHREADS 256u

static int write_cputune(xmlNode *dom, const np_topology *topo, const np_guest_spec *spec,
                         const np_placement *pl, np_bitmap **masks, const np_bitmap *all)
{
    unsigned ids[TUNE_MAX_IOTHREADS];
    np_bitmap *io = NULL;
    bool uniform = true;
    int rc = io_mask(topo, spec, all, &io);
    if (rc)
        return rc;
    xmlNode *ct = ensure(dom, "cputune");
    if (!ct) {
        rc = -ENOMEM;
        goto out;
    }
    drop_children(ct, "vcpupin");
    drop_children(ct, "emulatorpin");
    drop_children(ct, "iothreadpin");
    for (uint32_t v = 1; v < spec->vcpus; v++)
        uniform &= np_bitmap_equal(masks[v], masks[0]);
    for (uint32_t v = 0; !uniform && v < spec->vcpus && !rc; v++) {
        xmlNode *p = xmlNewChild(ct, NULL, (const xmlChar *)"vcpupin", NULL);
        rc = set_attr_u64(p, "vcpu", v);
        if (!rc)
            rc = set_attr_map(p, "cpuset", masks[v]);
    }
    if (!rc)
        rc = set_attr_map(xmlNewChild(ct, NULL, (const xmlChar *)"emulatorpin", NULL), "cpuset",
                          io);
    size_t nio = iothread_ids(dom, ids, TUNE_MAX_IOTHREADS);
    for (size_t i = 0; i < nio && !rc; i++) {
        xmlNode *p = xmlNewChild(ct, NULL, (const xmlChar *)"iothreadpin", NULL);
        rc = set_attr_u64(p, "iothread", ids[i]);
        if (!rc)
            rc = set_attr_map(p, "cpuset", io);
    }
    (void)pl;
out:
    np_bitmap_destroy(io);
    return rc;
}

static int write_numatune(xmlNode *dom, const np_topology *topo, const np_placement *pl,
                          const np_bitmap *nodes)
{
    const np_vnuma *v = np_placement_vnuma(pl);
    drop_children(dom, "numatune");
    xmlNode *nt = xmlNewChild(dom, NULL, (const xmlChar *)"numatune", NULL);
    xmlNode *mem = xmlNewChild(nt, NULL, (const xmlChar *)"memory", NULL);
    /* One node: restrictive (cgroup cpuset.mems only), the one mode whose
     * nodeset libvirt 9 changes on a running domain ("change of nodeset for
     * running domain requires restrictive numa mode"), so numaplaced can
     * move the guest later. Guest cells bound one by one: strict. */
    int rc = set_attr(mem, "mode", v ? "strict" : "restrictive");
    if (!rc)
        rc = set_attr_map(mem, "nodeset", nodes);
    for (size_t i = 0; v && i < np_vnuma_nr_vnodes(v) && !rc; i++) {
        xmlNode *mn = xmlNewChild(nt, NULL, (const xmlChar *)"memnode", NULL);
        rc = set_attr_u64(mn, "cellid", i);
        if (!rc)
            rc = set_attr(mn, "mode", "strict");
        if (!rc)
            rc = set_attr_u64(mn, "nodeset", np_vnuma_pnode_os_id(v, i));
    }
    (void)topo;
    return rc;
}

static int write_cells(xmlNode *dom, const np_vnuma *v, uint64_t *total_kib_out)
{
    xmlNode *cpu = ensure(dom, "cpu");
    int rc = 0;
    *total_kib_out = 0;
    if (!cpu)
        return -ENOMEM;
    drop_children(cpu, "numa");
    xmlNode *numa = xmlNewChild(cpu, NULL, (const xmlChar *)"numa", NULL);
    size_t n = np_vnuma_nr_vnodes(v);
    for (size_t i = 0; i < n && !rc; i++) {
        xmlNode *cell = xmlNewChild(numa, NULL, (const xmlChar *)"cell", NULL);
        uint64_t kib = np_vnuma_mem_bytes(v, i) / KIB;
        rc = set_attr_u64(cell, "id", i);
        if (!rc && !np_bitmap_is_empty(np_vnuma_vcpus(v, i)))
            rc = set_attr_map(cell, "cpus", np_vnuma_vcpus(v, i)); /* memory-only cell: none */
        if (!rc)
            rc = set_attr_u64(cell, "memory", kib);
        if (!rc)
            rc = set_attr(cell, "unit", "KiB");
        *total_kib_out += kib;
        xmlNode *ds = rc ? NULL : xmlNewChild(cell, NULL, (const xmlChar *)"distances", NULL);
        for (size_t j = 0; ds && j < n && !rc; j++) {
            xmlNode *s = xmlNewChild(ds, NULL, (const xmlChar *)"sibling", NULL);
            rc = set_attr_u64(s, "id", j);
            if (!rc)
                rc = set_attr_u64(s, "value", np_vnuma_distance(v, i, j));
        }
    }
    return rc;
}

/* numaplace's one element in <metadata> (libvirt keeps one per namespace):
 * an existing <numaplace:placement> keeps its hints (group, io-node,
 * io-device: np_libvirt_hints_parse) and gets the placement's record. */
static int write_metadata(xmlNode *dom, const np_placement *pl, const np_bitmap *nodes)
{
    xmlNode *md = ensure(dom, "metadata"), *p = NULL;
    if (!md)
        return -ENOMEM;
    for (xmlNode *c = md->children; c && !p; c = c->next)
        if (c->type == XML_ELEMENT_NODE && c->ns && c->ns->href &&
            strcmp((const char *)c->ns->href, NP_LIBVIRT_XMLNS) == 0 &&
            strcmp((const char *)c->name, "placement") == 0)
            p = c;
    if (!p) {
        p = xmlNewChild(md, NULL, (const xmlChar *)"placement", NULL);
        xmlNs *ns = p ? xmlNewNs(p, (const xmlChar *)NP_LIBVIRT_XMLNS,
                                 (const xmlChar *)"numaplace")
                      : NULL;
        if (!ns)
            return -ENOMEM;
        xmlSetNs(p, ns);
    }
    int rc = set_attr_map(p, "nodes", nodes);
    if (!rc)
        rc = set_attr(p, "policy", np_placement_policy(pl));
    return rc;
}

int np_libvirt_tune_domain(const char *xml, size_t len, const char *origin,
                           const np_topology *topo, const np_guest_spec *spec,
                           const np_placement *pl, char **xml_out, np_error *err)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    np_bitmap **masks = NULL, *all = NULL, *nodes = NULL;
    xmlChar *text = NULL;
    const char *o = origin ? origin : "";
    int size = 0, rc = 0;

    if (!xml || len > (64u << 20))
        return np_error_set(err, o, 0, "no domain XML, or larger than 64 MiB");
    pthread_once(&tune_once, tune_init);
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return -ENOMEM;
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL, TUNE_PARSE_OPTIONS);
    xmlNode *dom = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!doc || !is_elem(dom, "domain") || doc->intSubset || doc->extSubset) {
        rc = np_error_set(err, o, 0, "expected a libvirt <domain> document without a DOCTYPE");
        goto out;
    }
    masks = calloc(spec->vcpus ? spec->vcpus : 1, sizeof(*masks));
    if (!masks || (rc = np_bitmap_create(&all)) || (rc = np_bitmap_create(&nodes))) {
        rc = rc ? rc : -ENOMEM;
        goto out;
    }
    for (uint32_t v = 0; v < spec->vcpus && !rc; v++) {
        rc = vcpu_mask(topo, pl, v, &masks[v]);
        if (!rc)
            rc = np_bitmap_or(all, masks[v]);
    }
    for (size_t i = 0; i < np_placement_nr_nodes(pl) && !rc; i++)
        rc = np_bitmap_set(nodes, np_topology_node(topo, np_placement_node(pl, i))->os_id);
    if (rc)
        goto out;

    /* <vcpu> keeps its count and current=, gets the node-wide cpuset */
    xmlNode *vcpu = child(dom, "vcpu");
    if (!vcpu) {
        char n[16];
        snprintf(n, sizeof(n), "%u", spec->vcpus);
        vcpu = xmlNewChild(dom, NULL, (const xmlChar *)"vcpu", (const xmlChar *)n);
    }
    rc = set_attr(vcpu, "placement", "static");
    if (!rc)
        rc = set_attr_map(vcpu, "cpuset", all);
    if (!rc)
        rc = write_cputune(dom, topo, spec, pl, masks, all);
    if (!rc)
        rc = write_numatune(dom, topo, pl, nodes);
    const np_vnuma *v = np_placement_vnuma(pl);
    if (!rc && v) {
        uint64_t total_kib = 0;
        rc = write_cells(dom, v, &total_kib);
        xmlNode *mem = rc ? NULL : child(dom, "memory");
        if (mem) {
            char buf[32];
            snprintf(buf, sizeof(buf), "%" PRIu64, total_kib);
            xmlNodeSetContent(mem, (const xmlChar *)buf);
            rc = set_attr(mem, "unit", "KiB");
        }
    }
    if (!rc)
        rc = write_metadata(dom, pl, nodes);
    if (rc)
        goto out;
    xmlDocDumpFormatMemory(doc, &text, &size, 1);
    if (!text || size < 0) {
        rc = -ENOMEM;
        goto out;
    }
    *xml_out = malloc((size_t)size + 1);
    if (!*xml_out) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(*xml_out, text, (size_t)size);
    (*xml_out)[size] = '\0';
out:
    if (masks)
        for (uint32_t i = 0; i < spec->vcpus; i++)
            np_bitmap_destroy(masks[i]);
    free(masks);
    np_bitmap_destroy(all);
    np_bitmap_destroy(nodes);
    xmlFree(text);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}
