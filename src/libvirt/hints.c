/*
 * libvirt/hints.c - numaplace's element in a libvirt domain's <metadata>
 * (np_libvirt_hints_parse, numaplace/libvirt.h): the affinity group and
 * the IO hint of a guest, read by `numaplace create --libvirt` from the
 * domain XML and by the libvirt backend from virDomainGetMetadata, so the
 * placement at creation and the daemon's balancer see the same hints.
 *
 *   <metadata>
 *     <numaplace:placement xmlns:numaplace='https://numaplace.dev/xmlns/libvirt/1'
 *         group='db:spread:80' io-node='1' io-device='0000:03:00.0'
 *         nodes='1' policy='numaplace'/>
 *   </metadata>
 *
 * group is the `--vm group=` grammar (NAME:colocate|spread[:WEIGHT]);
 * io-node a node number; io-device a PCI address whose node the caller
 * resolves (the backend asks libvirt's node devices). nodes and policy are
 * what create records; they are read back as a record only. libvirt keeps
 * one element per namespace in <metadata>, so everything numaplace keeps
 * there is attributes of this one element. Pure: text in, hints out.
 */
#include <numaplace/libvirt.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "spec/spec_fields.h"
#include "util/error.h"
#include "util/text.h"

#define HINTS_PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static pthread_once_t hints_once = PTHREAD_ONCE_INIT;

static void hints_init(void)
{
    xmlInitParser();
}

static unsigned line_of(const xmlNode *n)
{
    long l = xmlGetLineNo(n);
    return l > 0 && l <= (long)UINT_MAX ? (unsigned)l : 0;
}

static bool is_np_elem(const xmlNode *n)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, NP_LIBVIRT_XMLNS) == 0;
}

/* numaplace's element: the root itself - virDomainGetMetadata gives it
 * without its namespace (<placement group=.../>) - or the first of its
 * namespace in a <domain>'s <metadata>; NULL: none. */
static const xmlNode *find_element(const xmlNode *root)
{
    if (is_np_elem(root))
        return root;
    if (root && root->type == XML_ELEMENT_NODE && !root->ns &&
        strcmp((const char *)root->name, "placement") == 0)
        return root;
    if (!root || root->type != XML_ELEMENT_NODE || strcmp((const char *)root->name, "domain"))
        return NULL;
    for (const xmlNode *md = root->children; md; md = md->next) {
        if (md->type != XML_ELEMENT_NODE || strcmp((const char *)md->name, "metadata"))
            continue;
        for (const xmlNode *c = md->children; c; c = c->next)
            if (is_np_elem(c))
                return c;
    }
    return NULL;
}

void np_libvirt_hints_init(np_libvirt_hints *h)
{
    memset(h, 0, sizeof(*h));
    h->group_weight = NP_GROUP_WEIGHT_DEFAULT;
    h->io_node_os_id = -1;
}

static int read_attr(const xmlNode *el, const xmlAttr *a, np_libvirt_hints *h, const char *o,
                     np_error *err)
{
    const char *name = (const char *)a->name;
    xmlChar *v = xmlNodeListGetString(el->doc, a->children, 1);
    const char *val = v ? (const char *)v : "";
    char why[NP_SPEC_WHY_MAX] = "";
    int rc = 0;

    if (a->ns && !(a->ns->href && strcmp((const char *)a->ns->href, NP_LIBVIRT_XMLNS) == 0)) {
        rc = 0; /* another vocabulary's attribute: not ours to judge */
    } else if (strcmp(name, "group") == 0) {
        np_guest_spec s;
        np_guest_spec_init(&s);
        if (np_spec_set_group(&s, val, why, sizeof(why)) == 0) {
            memcpy(h->group, s.group, sizeof(h->group));
            h->group_rule = s.group_rule;
            h->group_weight = s.group_weight;
        } else {
            rc = -EINVAL;
        }
    } else if (strcmp(name, "io-node") == 0) {
        uint64_t n = 0;
        if (np_parse_u64_full(val, NP_TOPO_MAX_NODES - 1, &n) == 0)
            h->io_node_os_id = (int32_t)n;
        else
            rc = -EINVAL, snprintf(why, sizeof(why), "expected a node number from 0 to %u",
                                   NP_TOPO_MAX_NODES - 1);
    } else if (strcmp(name, "io-device") == 0) {
        uint32_t dom;
        uint8_t bus, dev, fn;
        if (np_pci_parse_bdf(val, &dom, &bus, &dev, &fn) == 0)
            snprintf(h->io_device, sizeof(h->io_device), "%04x:%02x:%02x.%x", dom & 0xffffu, bus,
                     dev, fn);
        else
            rc = -EINVAL, snprintf(why, sizeof(why),
                                   "expected a PCI address DDDD:BB:DD.F, such as 0000:03:00.0");
    } else if (strcmp(name, "nodes") == 0) {
        np_bitmap *m = NULL;
        rc = np_bitmap_create(&m);
        if (!rc && np_bitmap_parse(m, val)) {
            rc = -EINVAL;
            snprintf(why, sizeof(why), "expected a node list such as 0-1,3");
        } else if (!rc) {
            snprintf(h->nodes, sizeof(h->nodes), "%s", val);
        }
        np_bitmap_destroy(m);
    } else if (strcmp(name, "policy") == 0) {
        if (!val[0] || strlen(val) >= sizeof(h->policy)) {
            rc = -EINVAL;
            snprintf(why, sizeof(why), "expected a policy name of 1 to %zu characters",
                     sizeof(h->policy) - 1);
        } else {
            snprintf(h->policy, sizeof(h->policy), "%s", val);
        }
    } else {
        rc = np_error_set(err, o, line_of(el),
                          "<%s>: unknown attribute '%s' (expected group, io-node, io-device, "
                          "nodes, policy)",
                          (const char *)el->name, name);
    }
    if (rc == -EINVAL && why[0])
        rc = np_error_set(err, o, line_of(el), "<%s %s='%s'>: %s", (const char *)el->name, name,
                          val, why);
    xmlFree(v);
    return rc;
}

/* Parses xml into *doc_out (freed by the caller, also on failure): the
 * root element, or NULL with err set (what was expected: `what`). */
static const xmlNode *read_doc(const char *xml, size_t len, const char *o, const char *what,
                               xmlDocPtr *doc_out, np_error *err, int *rc_out)
{
    *doc_out = NULL;
    *rc_out = 0;
    if (!xml || len > NP_LIBVIRT_CAPS_MAX_BYTES || len > INT_MAX) {
        *rc_out = np_error_set(err, o, 0, "no XML, or larger than %u bytes",
                               NP_LIBVIRT_CAPS_MAX_BYTES);
        return NULL;
    }
    pthread_once(&hints_once, hints_init);
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        *rc_out = -ENOMEM;
        return NULL;
    }
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL, HINTS_PARSE_OPTIONS);
    const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || doc->intSubset || doc->extSubset) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        *rc_out = np_error_set(err, o, e && e->line > 0 ? (unsigned)e->line : 0,
                               "expected %s, without a DOCTYPE", what);
        root = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    *doc_out = doc;
    return root;
}

int np_libvirt_hints_parse(const char *xml, size_t len, const char *origin, np_libvirt_hints *out,
                           np_error *err)
{
    const char *o = origin ? origin : "";
    xmlDocPtr doc = NULL;
    np_libvirt_hints h;
    int rc = 0;

    np_libvirt_hints_init(&h);
    const xmlNode *root = read_doc(xml, len, o,
                                   "a libvirt <domain> document or numaplace's metadata element",
                                   &doc, err, &rc);
    if (!root)
        goto out;
    const xmlNode *el = find_element(root);
    if (!el) {
        if (strcmp((const char *)root->name, "domain"))
            rc = np_error_set(err, o, line_of(root),
                              "<%s>: expected a <domain> or a <placement xmlns='%s'> element",
                              (const char *)root->name, NP_LIBVIRT_XMLNS);
        goto out; /* a domain without hints: the defaults */
    }
    if (strcmp((const char *)el->name, "placement")) {
        rc = np_error_set(err, o, line_of(el), "<%s>: numaplace's metadata element is <placement>",
                          (const char *)el->name);
        goto out;
    }
    h.found = true;
    for (const xmlAttr *a = el->properties; a && !rc; a = a->next)
        rc = read_attr(el, a, &h, o, err);
out:
    xmlFreeDoc(doc);
    if (!rc)
        *out = h;
    return rc;
}

void np_libvirt_hints_apply(const np_libvirt_hints *h, np_guest_spec *spec)
{
    if (h->group[0]) {
        memcpy(spec->group, h->group, sizeof(spec->group));
        spec->group_rule = h->group_rule;
        spec->group_weight = h->group_weight;
    }
    if (h->io_node_os_id >= 0)
        spec->io_node_os_id = h->io_node_os_id;
}

int np_libvirt_nodedev_numa_node(const char *xml, size_t len, const char *origin,
                                 int32_t *node_out, np_error *err)
{
    const char *o = origin ? origin : "";
    xmlDocPtr doc = NULL;
    int rc = 0;

    const xmlNode *root = read_doc(xml, len, o, "a libvirt node device <device> document", &doc,
                                   err, &rc);
    if (root && strcmp((const char *)root->name, "device"))
        rc = np_error_set(err, o, line_of(root), "<%s>: expected a libvirt node device <device>",
                          (const char *)root->name);
    if (rc)
        goto out;
    rc = -ENOENT;
    /* <device><capability type='pci'>...<numa node='N'/></capability> */
    for (const xmlNode *cap = root->children; cap && rc == -ENOENT; cap = cap->next) {
        if (cap->type != XML_ELEMENT_NODE || strcmp((const char *)cap->name, "capability"))
            continue;
        for (const xmlNode *c = cap->children; c && rc == -ENOENT; c = c->next) {
            if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "numa"))
                continue;
            xmlChar *v = xmlGetProp(c, (const xmlChar *)"node");
            uint64_t n = 0;
            if (v && np_parse_u64_full((const char *)v, NP_TOPO_MAX_NODES - 1, &n) == 0)
                *node_out = (int32_t)n, rc = 0;
            else
                rc = np_error_set(err, o, line_of(c), "<numa node='%s'>: expected 0 to %u",
                                  v ? (const char *)v : "", NP_TOPO_MAX_NODES - 1);
            xmlFree(v);
        }
    }
    if (rc == -ENOENT)
        np_error_set(err, o, line_of(root), "the device names no NUMA node");
out:
    xmlFreeDoc(doc);
    return rc;
}
