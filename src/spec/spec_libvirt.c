/*
 * spec/spec_libvirt.c - a guest spec from a libvirt domain XML, parsed by
 * libxml2.
 *
 * What it takes (libvirt's formatdomain documentation names the elements):
 *   <name>                         the guest name
 *   <vcpu>N</vcpu>                 the maximum vCPU count; a cpuset= on it
 *                                  pins the guest (no_autoplace, hard)
 *   <memory unit=..>               the boot maximum: maxmem
 *   <currentMemory unit=..>        the balloon target: memory (default: <memory>)
 *   <devices><hostdev type='pci'>  <source><address domain= bus= slot= function=/>
 *   <numatune> with a nodeset      memory placed by hand: no_autoplace
 *   <cputune><vcpupin>             vCPUs pinned by hand: no_autoplace, hard
 *   <cpu><numa><cell>              their count is the vNUMA wish
 * placement='auto' (numad's advice) is what numaplace replaces, so it does
 * not count as placing by hand. Everything else is ignored.
 *
 * The parse never touches the network (XML_PARSE_NONET), prints nothing
 * (XML_PARSE_NOERROR/NOWARNING and a per-parse structured error handler
 * that keeps the first error and its line), and refuses a DOCTYPE, which a
 * domain XML never has and which is the door to entity expansion.
 */
#include <numaplace/guest.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "spec/spec_fields.h"
#include "util/error.h"
#include "util/text.h"

/* Domain XMLs are a few KiB; 4 MiB bounds a mistaken input. */
#define NP_LIBVIRT_XML_MAX_BYTES (4u << 20)
#define NP_LIBVIRT_PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/* libvirt's memory units (formatdomain "Memory Allocation"): b/bytes,
 * KB = 10^3, k/KiB = 2^10, MB, M/MiB, GB, G/GiB, TB, T/TiB, PB, P/PiB,
 * EB, E/EiB; compared without case, as libvirt does. Default KiB. */
static const struct {
    const char *name;
    uint64_t scale;
} units[] = {
    {"b", 1},
    {"byte", 1},
    {"bytes", 1},
    {"k", UINT64_C(1) << 10},
    {"kib", UINT64_C(1) << 10},
    {"kb", UINT64_C(1000)},
    {"m", UINT64_C(1) << 20},
    {"mib", UINT64_C(1) << 20},
    {"mb", UINT64_C(1000000)},
    {"g", UINT64_C(1) << 30},
    {"gib", UINT64_C(1) << 30},
    {"gb", UINT64_C(1000000000)},
    {"t", UINT64_C(1) << 40},
    {"tib", UINT64_C(1) << 40},
    {"tb", UINT64_C(1000000000000)},
    {"p", UINT64_C(1) << 50},
    {"pib", UINT64_C(1) << 50},
    {"pb", UINT64_C(1000000000000000)},
    {"e", UINT64_C(1) << 60},
    {"eib", UINT64_C(1) << 60},
    {"eb", UINT64_C(1000000000000000000)},
};

static pthread_once_t parser_once = PTHREAD_ONCE_INIT;

static void parser_init(void)
{
    xmlInitParser();
}

typedef struct xml_capture {
    bool have;
    int level;
    unsigned line;
    char msg[256];
} xml_capture;

typedef struct lv_ctx {
    const char *origin;
    np_error *err;
    np_guest_spec *spec;
} lv_ctx;

/* Structured error handler for one parse: keeps the first error. data is
 * the parser context (libxml2 passes ctxt->userData, which is the context). */
static void capture_error(void *data, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = data;
    xml_capture *cap = ctxt ? ctxt->_private : NULL;
    if (!cap || !e || cap->have || e->level < XML_ERR_ERROR)
        return;
    cap->have = true;
    cap->level = (int)e->level;
    cap->line = e->line > 0 ? (unsigned)e->line : 0;
    const char *m = e->message ? e->message : "malformed XML";
    size_t n = strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    snprintf(cap->msg, sizeof(cap->msg), "%.*s", (int)n, m);
}

static unsigned node_line(const xmlNode *n)
{
    long l = xmlGetLineNo(n);
    return l > 0 && l <= (long)UINT_MAX ? (unsigned)l : 0;
}

/* libxml2 keeps no line for a DTD node; find "<!DOCTYPE" in the text. */
static unsigned doctype_line(const char *text, size_t len)
{
    unsigned line = 1;
    for (size_t i = 0; i + 9 <= len; i++) {
        if (text[i] == '\n')
            line++;
        else if (memcmp(text + i, "<!DOCTYPE", 9) == 0)
            return line;
    }
    return 1;
}

static bool is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The element's text with XML blanks trimmed, in buf; -E2BIG when longer. */
static int elem_text(const xmlNode *n, char *buf, size_t len)
{
    xmlChar *t = xmlNodeGetContent(n);
    if (!t)
        return -ENOMEM;
    const char *s = (const char *)t;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t k = strlen(s);
    while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '\n' || s[k - 1] == '\r'))
        k--;
    int rc = 0;
    if (k >= len) {
        rc = -E2BIG;
    } else {
        memcpy(buf, s, k);
        buf[k] = '\0';
    }
    xmlFree(t);
    return rc;
}

/* An attribute's value in buf ("" and 0 when absent); -E2BIG when longer. */
static int attr_text(const xmlNode *n, const char *name, char *buf, size_t len, bool *present)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    *present = v != NULL;
    buf[0] = '\0';
    if (!v)
        return 0;
    size_t k = strlen((const char *)v);
    int rc = 0;
    if (k >= len)
        rc = -E2BIG;
    else
        memcpy(buf, v, k + 1);
    xmlFree(v);
    return rc;
}

/* libvirt writes PCI address parts as "0x03" or "3". */
static int parse_addr_part(const char *text, uint64_t max, uint64_t *out)
{
    const char *p = text;
    uint64_t v = 0;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        if (!*p)
            return -EINVAL;
        for (; *p; p++) {
            unsigned d;
            if (*p >= '0' && *p <= '9')
                d = (unsigned)(*p - '0');
            else if (*p >= 'a' && *p <= 'f')
                d = (unsigned)(*p - 'a' + 10);
            else if (*p >= 'A' && *p <= 'F')
                d = (unsigned)(*p - 'A' + 10);
            else
                return -EINVAL;
            v = v * 16 + d;
            if (v > max)
                return -ERANGE;
        }
        *out = v;
        return 0;
    }
    if (np_parse_u64(&p, max, &v) < 0 || *p)
        return -EINVAL;
    *out = v;
    return 0;
}

/* <memory unit='GiB'>8</memory> in bytes. */
static int read_memory(lv_ctx *c, const xmlNode *n, uint64_t *bytes_out)
{
    char text[64], unit[16];
    bool has_unit;
    uint64_t value, scale = UINT64_C(1) << 10;
    if (attr_text(n, "unit", unit, sizeof(unit), &has_unit) < 0)
        unit[0] = '?', unit[1] = '\0';
    if (has_unit) {
        scale = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcasecmp(units[i].name, unit) == 0)
                scale = units[i].scale;
        if (!scale)
            return np_error_set(c->err, c->origin, node_line(n),
                                "<%s unit='%s'>: expected a unit such as KiB, MiB, GiB, "
                                "b, KB, MB or GB",
                                (const char *)n->name, unit);
    }
    if (elem_text(n, text, sizeof(text)) < 0 || np_parse_u64_full(text, UINT64_MAX, &value) < 0 ||
        text[0] < '0' || text[0] > '9')
        return np_error_set(c->err, c->origin, node_line(n),
                            "<%s>: expected a whole number of %s", (const char *)n->name,
                            has_unit ? unit : "KiB");
    if (value > UINT64_MAX / scale)
        return np_error_set(c->err, c->origin, node_line(n), "<%s>: expected a size below 16 EiB",
                            (const char *)n->name);
    *bytes_out = value * scale;
    return 0;
}

static int read_vcpu(lv_ctx *c, const xmlNode *n)
{
    char text[32], placement[16], cpuset[8];
    bool has_placement, has_cpuset;
    uint64_t v;
    if (elem_text(n, text, sizeof(text)) < 0 || np_parse_u64_full(text, UINT32_MAX, &v) < 0 ||
        text[0] < '0' || text[0] > '9')
        return np_error_set(c->err, c->origin, node_line(n),
                            "<vcpu>: expected a whole number of vCPUs");
    char why[NP_SPEC_WHY_MAX];
    if (np_spec_set_vcpus(c->spec, v, why, sizeof(why)) < 0)
        return np_error_set(c->err, c->origin, node_line(n), "<vcpu>: %s", why);
    int rp = attr_text(n, "placement", placement, sizeof(placement), &has_placement);
    /* Only whether cpuset is there matters; a long one is still there. */
    attr_text(n, "cpuset", cpuset, sizeof(cpuset), &has_cpuset);
    if (has_placement && (rp < 0 || (strcmp(placement, "static") != 0 &&
                                     strcmp(placement, "auto") != 0)))
        return np_error_set(c->err, c->origin, node_line(n),
                            "<vcpu placement='%s'>: expected static or auto", placement);
    if (has_cpuset && strcmp(placement, "auto") != 0) {
        c->spec->no_autoplace = true;
        c->spec->affinity = NP_AFFINITY_HARD;
    }
    return 0;
}

static int read_hostdev(lv_ctx *c, const xmlNode *hd)
{
    char type[16];
    bool has_type;
    if (attr_text(hd, "type", type, sizeof(type), &has_type) < 0 || strcmp(type, "pci") != 0)
        return 0; /* USB, SCSI, mdev: not a PCI function with a node */
    for (const xmlNode *s = hd->children; s; s = s->next) {
        if (!is_elem(s, "source"))
            continue;
        for (const xmlNode *a = s->children; a; a = a->next) {
            if (!is_elem(a, "address"))
                continue;
            static const char *const parts[4] = {"domain", "bus", "slot", "function"};
            static const uint64_t max[4] = {0xffff, 0xff, 0x1f, 0x7};
            uint64_t val[4] = {0, 0, 0, 0};
            for (size_t i = 0; i < 4; i++) {
                char text[24];
                bool present;
                int rc = attr_text(a, parts[i], text, sizeof(text), &present);
                if (!present && i == 0)
                    continue; /* domain defaults to 0 */
                if (!present || rc < 0 || parse_addr_part(text, max[i], &val[i]) < 0)
                    return np_error_set(c->err, c->origin, node_line(a),
                                        "<hostdev type='pci'> <address %s=>: expected a number "
                                        "such as 0x03, at most 0x%llx",
                                        parts[i], (unsigned long long)max[i]);
            }
            char why[NP_SPEC_WHY_MAX];
            if (np_spec_add_device_addr(c->spec, (uint32_t)val[0], (uint32_t)val[1],
                                        (uint32_t)val[2], (uint32_t)val[3], why,
                                        sizeof(why)) < 0)
                return np_error_set(c->err, c->origin, node_line(a), "<hostdev>: %s", why);
            return 0;
        }
    }
    return np_error_set(c->err, c->origin, node_line(hd),
                        "<hostdev type='pci'>: expected <source><address domain= bus= slot= "
                        "function=/></source>");
}

/* <numatune>: a nodeset anywhere, without placement='auto', is manual. */
static void read_numatune(lv_ctx *c, const xmlNode *nt)
{
    for (const xmlNode *m = nt->children; m; m = m->next) {
        if (!is_elem(m, "memory") && !is_elem(m, "memnode"))
            continue;
        char placement[16], nodeset[8];
        bool has_placement, has_nodeset;
        attr_text(m, "placement", placement, sizeof(placement), &has_placement);
        attr_text(m, "nodeset", nodeset, sizeof(nodeset), &has_nodeset);
        if (has_nodeset && strcmp(placement, "auto") != 0)
            c->spec->no_autoplace = true;
    }
}

static int read_cpu_numa(lv_ctx *c, const xmlNode *cpu)
{
    int32_t cells = 0;
    bool has_numa = false;
    for (const xmlNode *numa = cpu->children; numa; numa = numa->next) {
        if (!is_elem(numa, "numa"))
            continue;
        has_numa = true;
        for (const xmlNode *cell = numa->children; cell; cell = cell->next)
            if (is_elem(cell, "cell") && cells < INT32_MAX)
                cells++;
    }
    if (!has_numa)
        return 0;
    char why[NP_SPEC_WHY_MAX];
    if (np_spec_set_vnuma_count(c->spec, cells, why, sizeof(why)) < 0)
        return np_error_set(c->err, c->origin, node_line(cpu), "<cpu><numa>: %s", why);
    return 0;
}

static int read_domain(lv_ctx *c, const xmlNode *root)
{
    char why[NP_SPEC_WHY_MAX];
    const xmlNode *seen_name = NULL, *seen_vcpu = NULL, *seen_mem = NULL, *seen_cur = NULL;
    uint64_t mem = 0, cur = 0;
    int rc;

    for (const xmlNode *n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const xmlNode **once = is_elem(n, "name")            ? &seen_name
                               : is_elem(n, "vcpu")          ? &seen_vcpu
                               : is_elem(n, "memory")        ? &seen_mem
                               : is_elem(n, "currentMemory") ? &seen_cur
                                                             : NULL;
        if (once && *once)
            return np_error_set(c->err, c->origin, node_line(n),
                                "<%s> given twice (first on line %u); expected it once",
                                (const char *)n->name, node_line(*once));
        if (once)
            *once = n;
        if (is_elem(n, "name")) {
            char name[NP_GUEST_NAME_MAX + 1];
            if (elem_text(n, name, sizeof(name)) < 0 ||
                np_spec_set_name(c->spec, name, why, sizeof(why)) < 0)
                return np_error_set(c->err, c->origin, node_line(n), "<name>: %s",
                                    "expected a name of 1 to 63 letters, digits or '-_.+@'");
        } else if (is_elem(n, "vcpu")) {
            if ((rc = read_vcpu(c, n)) < 0)
                return rc;
        } else if (is_elem(n, "memory")) {
            if ((rc = read_memory(c, n, &mem)) < 0)
                return rc;
        } else if (is_elem(n, "currentMemory")) {
            if ((rc = read_memory(c, n, &cur)) < 0)
                return rc;
        } else if (is_elem(n, "devices")) {
            for (const xmlNode *d = n->children; d; d = d->next)
                if (is_elem(d, "hostdev") && (rc = read_hostdev(c, d)) < 0)
                    return rc;
        } else if (is_elem(n, "numatune")) {
            read_numatune(c, n);
        } else if (is_elem(n, "cputune")) {
            for (const xmlNode *p = n->children; p; p = p->next) {
                if (is_elem(p, "vcpupin")) {
                    c->spec->no_autoplace = true;
                    c->spec->affinity = NP_AFFINITY_HARD;
                }
            }
        } else if (is_elem(n, "cpu")) {
            if ((rc = read_cpu_numa(c, n)) < 0)
                return rc;
        }
    }
    /* libvirt: <memory> is the boot maximum, <currentMemory> the actual
     * allocation, which defaults to the maximum. */
    c->spec->maxmem_bytes = mem;
    c->spec->mem_bytes = seen_cur ? cur : mem;
    return 0;
}

int np_guest_spec_read_libvirt_xml(const char *text, size_t len, const char *origin,
                                   np_guest_spec *out, np_error *err)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    xml_capture cap = {0};
    np_guest_spec spec;
    lv_ctx c = {.origin = origin ? origin : "", .err = err, .spec = &spec};
    int rc = 0;

    if (!text || !out)
        return np_error_set(err, c.origin, 0, "no domain XML given");
    if (len > NP_LIBVIRT_XML_MAX_BYTES)
        return np_error_set(err, c.origin, 0, "domain XML larger than %u bytes",
                            NP_LIBVIRT_XML_MAX_BYTES);
    pthread_once(&parser_once, parser_init);
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return -ENOMEM;
    ctxt->_private = &cap;
    ctxt->sax->serror = capture_error;
    doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, NULL, NP_LIBVIRT_PARSE_OPTIONS);
    if (!doc || cap.have) {
        if (!cap.have) {
            const xmlError *e = xmlCtxtGetLastError(ctxt);
            capture_error(ctxt, (xmlErrorPtr)e);
        }
        rc = np_error_set(err, c.origin, cap.line, "malformed XML: %s",
                          cap.have ? cap.msg : "the document is empty or truncated");
        goto out;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (doc->intSubset || doc->extSubset) {
        rc = np_error_set(err, c.origin, doctype_line(text, len),
                          "expected a libvirt domain XML without a DOCTYPE");
        goto out;
    }
    if (!root || !is_elem(root, "domain")) {
        rc = np_error_set(err, c.origin, root ? node_line(root) : 1,
                          "expected a libvirt <domain> document, found <%s>",
                          root ? (const char *)root->name : "");
        goto out;
    }
    np_guest_spec_init(&spec);
    rc = read_domain(&c, root);
    if (rc == 0)
        *out = spec;
out:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}
