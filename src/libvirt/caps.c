/*
 * libvirt/caps.c - the host's NUMA topology from libvirt's capabilities XML
 * (`virsh capabilities`, virConnectGetCapabilities), parsed by libxml2.
 *
 * The libvirt backend takes its topology from here rather than from sysfs,
 * so node and CPU numbers are the ones libvirt's pinning calls take, also
 * on a remote connection or the test driver. What it reads
 * (formatcaps "Host NUMA topology"):
 *   <host><topology><cells><cell id='N'>
 *     <memory unit='KiB'>...</memory>
 *     <cpus num='K'><cpu id='C' socket_id='S' core_id='R' .../></cpus>
 *     <distances><sibling id='M' value='D'/></distances>
 * Distances are optional (Linux's 10/20 when none is given). The parse
 * never touches the network, prints nothing and refuses a DOCTYPE.
 */
#include <numaplace/libvirt.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "util/error.h"
#include "util/text.h"

#define CAPS_PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static pthread_once_t caps_once = PTHREAD_ONCE_INIT;

static void caps_parser_init(void)
{
    xmlInitParser();
}

typedef struct caps_err {
    bool have;
    unsigned line;
    char msg[256];
} caps_err;

static void caps_capture(void *data, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = data;
    caps_err *cap = ctxt ? ctxt->_private : NULL;
    if (!cap || !e || cap->have || e->level < XML_ERR_ERROR)
        return;
    cap->have = true;
    cap->line = e->line > 0 ? (unsigned)e->line : 0;
    const char *m = e->message ? e->message : "malformed XML";
    size_t n = strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    snprintf(cap->msg, sizeof(cap->msg), "%.*s", (int)n, m);
}

static bool is_elem(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_elem(c, name))
            return c;
    return NULL;
}

static unsigned line_of(const xmlNode *n)
{
    long l = xmlGetLineNo(n);
    return l > 0 && l <= (long)UINT_MAX ? (unsigned)l : 0;
}

/* An unsigned attribute, at most max; -ENOENT when absent. */
static int attr_u64(const xmlNode *n, const char *name, uint64_t max, uint64_t *out)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v)
        return -ENOENT;
    int rc = np_parse_u64_full((const char *)v, max, out);
    xmlFree(v);
    return rc ? -EINVAL : 0;
}

/* <memory unit='KiB'>N</memory>: libvirt writes KiB here; other units of
 * its list are accepted. */
static int cell_memory(const xmlNode *mem, uint64_t *bytes_out)
{
    static const struct {
        const char *name;
        uint64_t scale;
    } units[] = {{"b", 1},       {"bytes", 1},           {"k", 1024},
                 {"kib", 1024},  {"kb", 1000},           {"m", UINT64_C(1) << 20},
                 {"mib", UINT64_C(1) << 20}, {"g", UINT64_C(1) << 30}, {"gib", UINT64_C(1) << 30}};
    uint64_t scale = 1024, v = 0;
    xmlChar *unit = xmlGetProp(mem, (const xmlChar *)"unit");
    if (unit) {
        bool known = false;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && !known; i++)
            if (strcasecmp((const char *)unit, units[i].name) == 0) {
                scale = units[i].scale;
                known = true;
            }
        xmlFree(unit);
        if (!known)
            return -EINVAL;
    }
    xmlChar *t = xmlNodeGetContent(mem);
    if (!t)
        return -ENOMEM;
    int rc = np_parse_u64_full(np_skip_ws((const char *)t), UINT64_MAX / scale, &v);
    xmlFree(t);
    if (rc)
        return -EINVAL;
    *bytes_out = v * scale;
    return 0;
}

static int read_cell(np_topology_builder *b, const xmlNode *cell, const char *origin,
                     np_error *err)
{
    uint64_t id = 0, bytes = 0;
    int rc;
    if (attr_u64(cell, "id", NP_TOPO_MAX_NODES - 1, &id))
        return np_error_set(err, origin, line_of(cell), "<cell> needs id='0..%u'",
                            NP_TOPO_MAX_NODES - 1);
    const xmlNode *mem = child(cell, "memory");
    if (mem && cell_memory(mem, &bytes))
        return np_error_set(err, origin, line_of(mem),
                            "<memory> of cell %llu: expected a number of KiB",
                            (unsigned long long)id);
    rc = np_topology_builder_add_node(b, (uint32_t)id, bytes, bytes);
    if (rc == -EEXIST)
        return np_error_set(err, origin, line_of(cell), "cell %llu appears twice",
                            (unsigned long long)id);
    if (rc)
        return rc;
    for (const xmlNode *c = child(child(cell, "cpus"), "cpu"); c; c = c->next) {
        uint64_t cpu, sock = NP_TOPO_ID_UNKNOWN, core = NP_TOPO_ID_UNKNOWN;
        if (!is_elem(c, "cpu"))
            continue;
        if (attr_u64(c, "id", NP_TOPO_MAX_CPUS - 1, &cpu))
            return np_error_set(err, origin, line_of(c), "<cpu> needs id='0..%u'",
                                NP_TOPO_MAX_CPUS - 1);
        if (attr_u64(c, "socket_id", UINT32_MAX - 1, &sock) == -EINVAL ||
            attr_u64(c, "core_id", UINT32_MAX - 1, &core) == -EINVAL)
            return np_error_set(err, origin, line_of(c),
                                "socket_id and core_id of CPU %llu: expected numbers",
                                (unsigned long long)cpu);
        rc = np_topology_builder_add_cpu(b, (uint32_t)cpu, (uint32_t)id, (uint32_t)sock,
                                         (uint32_t)core);
        if (rc == -EEXIST)
            return np_error_set(err, origin, line_of(c), "CPU %llu is in two cells",
                                (unsigned long long)cpu);
        if (rc)
            return rc;
    }
    return 0;
}

/* Distances once every cell is known (a sibling may name a later cell). */
static int read_distances(np_topology_builder *b, const xmlNode *cell, const char *origin,
                          np_error *err)
{
    uint64_t id = 0;
    attr_u64(cell, "id", NP_TOPO_MAX_NODES - 1, &id);
    for (const xmlNode *s = child(child(cell, "distances"), "sibling"); s; s = s->next) {
        uint64_t to, value;
        if (!is_elem(s, "sibling"))
            continue;
        if (attr_u64(s, "id", NP_TOPO_MAX_NODES - 1, &to) || attr_u64(s, "value", 65535, &value) ||
            value == 0)
            return np_error_set(err, origin, line_of(s),
                                "<sibling> needs id='NODE' and value='1..65535'");
        int rc = np_topology_builder_set_distance(b, (uint32_t)id, (uint32_t)to, (uint32_t)value);
        if (rc == -ENOENT)
            return np_error_set(err, origin, line_of(s), "<sibling id='%llu'>: no such cell",
                                (unsigned long long)to);
        if (rc)
            return np_error_set(err, origin, line_of(s), "distance %llu -> %llu: %s",
                                (unsigned long long)id, (unsigned long long)to, np_strerror(rc));
    }
    return 0;
}

int np_libvirt_caps_topology(const char *text, size_t len, const char *origin, np_topology **out,
                             np_error *err)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    np_topology_builder *b = NULL;
    caps_err cap = {0};
    const char *o = origin ? origin : "";
    int rc = 0;

    if (!text)
        return np_error_set(err, o, 0, "no capabilities XML given");
    if (len > NP_LIBVIRT_CAPS_MAX_BYTES)
        return np_error_set(err, o, 0, "capabilities XML larger than %u bytes",
                            NP_LIBVIRT_CAPS_MAX_BYTES);
    pthread_once(&caps_once, caps_parser_init);
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return -ENOMEM;
    ctxt->_private = &cap;
    ctxt->sax->serror = caps_capture;
    doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, NULL, CAPS_PARSE_OPTIONS);
    if (!doc || cap.have) {
        rc = np_error_set(err, o, cap.line, "malformed XML: %s",
                          cap.have ? cap.msg : "the document is empty or truncated");
        goto out;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (doc->intSubset || doc->extSubset) {
        rc = np_error_set(err, o, 1, "expected libvirt capabilities without a DOCTYPE");
        goto out;
    }
    if (!is_elem(root, "capabilities")) {
        rc = np_error_set(err, o, root ? line_of(root) : 1,
                          "expected a libvirt <capabilities> document");
        goto out;
    }
    const xmlNode *cells = child(child(child(root, "host"), "topology"), "cells");
    if (!cells) {
        rc = np_error_set(err, o, line_of(root),
                          "expected <host><topology><cells>: libvirt reports no NUMA topology");
        goto out;
    }
    rc = np_topology_builder_create(&b);
    if (!rc)
        rc = np_topology_builder_set_name(b, "libvirt");
    for (const xmlNode *c = cells->children; c && !rc; c = c->next)
        if (is_elem(c, "cell"))
            rc = read_cell(b, c, o, err);
    for (const xmlNode *c = cells->children; c && !rc; c = c->next)
        if (is_elem(c, "cell"))
            rc = read_distances(b, c, o, err);
    if (!rc) {
        rc = np_topology_builder_finish(b, out, err);
        if (rc && err && !err->origin[0])
            snprintf(err->origin, sizeof(err->origin), "%s", o);
    }
out:
    np_topology_builder_destroy(b);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}
