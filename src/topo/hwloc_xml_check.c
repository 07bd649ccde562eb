/*
 * topo/hwloc_xml_check.c - vetting hwloc XML before hwloc 2.9 reads it
 * (see hwloc_xml_check.h).
 *
 * Three passes over a copy of the text, each refusing with a line number:
 *  1. line ends normalised to "\n" (hwloc's lexer treats "\r" as text);
 *  2. libxml2 reads the whole document: well-formedness, the root element
 *     and its format version, and per element the cases hwloc 2.9
 *     mishandles (see xml_check_element);
 *  3. every start tag is lexed the way hwloc's minimal reader does, so that
 *     hwloc cannot stop reading a tag's attributes early and see an object
 *     other than the one libxml2 checked.
 * Inputs are hwloc exports of a few kB to a few MB; each pass is linear.
 */
#include "topo/hwloc_xml_check.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/topology.h>

#include <hwloc.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#include "util/error.h"
#include "util/text.h"

/* The hwloc XML format version read: hwloc 2's. */
#define NP_HWLOC_XML_MAJOR 2u
/* Objects of a distance matrix in XML: hwloc allocates their square. NUMA
 * matrices have at most NP_TOPO_MAX_NODES objects. */
#define NP_HWLOC_XML_MAX_DIST_OBJS NP_TOPO_MAX_NODES
/* Element nesting followed; libxml2 stops at 256 without XML_PARSE_HUGE. */
#define NP_XML_MAX_DEPTH 300
/* Characters of a libxml2 message kept in an error. */
#define NP_XML_MSG_MAX 200

/* libxml2 2.12 made structured-error callbacks take a const error. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *np_xml_error_ptr;
#else
typedef xmlErrorPtr np_xml_error_ptr;
#endif

static bool str_has_prefix(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- pass 2: libxml2 ------------------------------------------------------------ */

typedef struct xml_check {
    bool failed;                      /* the reader reported an error */
    unsigned line;                    /* its line, 0 if unknown */
    char msg[NP_XML_MSG_MAX];         /* its message */
    char generic_msg[NP_XML_MSG_MAX]; /* first message on the generic channel */
    np_hwloc_xml_counts counts;
} xml_check;

/* One line, no trailing blanks: libxml2 messages end in "\n" and some
 * span lines. */
static void tidy_message(char *msg)
{
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

/* Keeps libxml2's first error; libxml2 would otherwise print it. */
static void xml_error(void *arg, np_xml_error_ptr e)
{
    xml_check *chk = arg;

    if (chk->failed || !e || e->level < XML_ERR_ERROR)
        return;
    chk->failed = true;
    chk->line = e->line > 0 ? (unsigned)e->line : 0;
    snprintf(chk->msg, sizeof(chk->msg), "%s", e->message ? e->message : "parse error");
    tidy_message(chk->msg);
}

/* Keeps the first message libxml2 sends to its generic channel (encoding
 * errors go there, not to the reader's handler), which would otherwise go
 * to stderr. It only explains a failed parse; alone it refuses nothing. */
static void xml_generic_error(void *arg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void xml_generic_error(void *arg, const char *fmt, ...)
{
    xml_check *chk = arg;
    va_list ap;

    if (chk->generic_msg[0])
        return;
    va_start(ap, fmt);
    vsnprintf(chk->generic_msg, sizeof(chk->generic_msg), fmt, ap);
    va_end(ap);
    tidy_message(chk->generic_msg);
}

static unsigned reader_line(xmlTextReaderPtr r)
{
    xmlNodePtr node = xmlTextReaderCurrentNode(r);
    long line = node ? xmlGetLineNo(node) : 0;
    return line > 0 ? (unsigned)line : 0;
}

/* The line of a text node's first visible character. libxml2 numbers a
 * text node by the line it ends on; count back over its newlines. */
static unsigned text_line(xmlTextReaderPtr r)
{
    const char *v = (const char *)xmlTextReaderConstValue(r);
    unsigned end = reader_line(r), total = 0, before = 0;
    bool seen_text = false;

    for (const char *p = v; p && *p; p++) {
        if (*p == '\n') {
            total++;
            before += !seen_text;
        } else if (*p != ' ' && *p != '\t') {
            seen_text = true;
        }
    }
    return end > total ? end - total + before : end;
}

/* Checks the root element: <topology version="2.x">, the format hwloc 2
 * writes. hwloc 3's format (3.x) is refused with the way to get version 2;
 * so is hwloc 1's (no version or 1.x), whose import path in hwloc 2.9
 * crashes on objects without CPU sets. Returns 0, or fills err. */
static int xml_check_root(xmlTextReaderPtr r, const char *origin, np_error *err)
{
    const xmlChar *name = xmlTextReaderConstName(r);
    xmlChar *version = NULL;
    unsigned major = 0;
    int rc = 0;

    if (!name || strcmp((const char *)name, "topology") != 0)
        return np_error_set(err, origin, reader_line(r),
                            "root element is <%.64s>; expected <topology> of an hwloc XML "
                            "export (`lstopo --of xml`)",
                            name ? (const char *)name : "?");
    version = xmlTextReaderGetAttribute(r, (const xmlChar *)"version");
    for (const xmlChar *p = version; p && *p >= '0' && *p <= '9' && major < 1000; p++)
        major = major * 10 + (unsigned)(*p - '0');
    if (major > NP_HWLOC_XML_MAJOR)
        rc = np_error_set(err, origin, reader_line(r),
                          "hwloc XML format version %.16s is newer than this hwloc reads "
                          "(version %u); export it for hwloc 2 with `lstopo --of v2xml`",
                          (const char *)version, NP_HWLOC_XML_MAJOR);
    else if (major < NP_HWLOC_XML_MAJOR)
        rc = np_error_set(err, origin, reader_line(r),
                          "hwloc 1.x XML format (version %.16s); convert it with hwloc 2: "
                          "`lstopo -i OLD.xml --of xml NEW.xml`",
                          version ? (const char *)version : "1.0");
    xmlFree(version);
    return rc;
}

static bool has_attr(xmlTextReaderPtr r, const char *name)
{
    xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *)name);
    xmlFree(v);
    return v != NULL;
}

/* Reads an attribute as a decimal number; -ENOENT when absent, -EINVAL when
 * not a plain number, -ERANGE above max. */
static int attr_u64(xmlTextReaderPtr r, const char *name, uint64_t max, uint64_t *out)
{
    xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *)name);
    int rc;

    if (!v)
        return -ENOENT;
    rc = np_parse_u64_full((const char *)v, max, out);
    xmlFree(v);
    return rc;
}

/* An object's os_index, required for CPUs and NUMA nodes and below limit:
 * hwloc 2.9 sizes bitmaps by it (os_index 4294967294 costs gigabytes). */
static int xml_check_os_index(xmlTextReaderPtr r, const char *type, uint64_t limit,
                              const char *origin, np_error *err)
{
    uint64_t v;
    int rc = attr_u64(r, "os_index", limit - 1, &v);

    if (rc == -ENOENT)
        return np_error_set(err, origin, reader_line(r), "<object type=\"%s\"> without os_index",
                            type);
    if (rc < 0)
        return np_error_set(err, origin, reader_line(r),
                            "<object type=\"%s\"> os_index must be a decimal number below %llu",
                            type, (unsigned long long)limit);
    return 0;
}

static bool str_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Whether an attribute holds an hwloc bitmap: cpuset, nodeset,
 * complete_cpuset, allowed_nodeset, initiator_cpuset, ... */
static bool is_bitmap_attr(const char *name)
{
    return strcmp(name, "cpuset") == 0 || strcmp(name, "nodeset") == 0 ||
           str_has_suffix(name, "_cpuset") || str_has_suffix(name, "_nodeset");
}

/* Most 32-bit words a bitmap may have: enough for NP_TOPO_MAX_CPUS CPUs
 * (2048 words), with room for sparse OS numbers. hwloc sizes the bitmap
 * by its word count, and an empty word is a single comma, so a 64 MiB
 * file could otherwise ask for gigabytes. */
#define BITMAP_MAX_WORDS 8192u

/* Whether text is a bitmap the way hwloc writes it: 32-bit words "0x" and
 * 1 to 8 hex digits, most significant first, comma-separated, optionally
 * after "0xf...f," (all higher bits set), or "0xf...f" alone (all bits).
 * hwloc writes a zero word between two others as nothing
 * ("0x000000ff,,0x0" is CPUs 64-71), and hwloc 2.9's reader takes such an
 * empty word as 0. What it cannot take (checked against hwloc 2.9.0's
 * hwloc_bitmap_sscanf): an empty first word (",0x1" fails its assertion
 * count > 0) and an empty last word ("0x1," reads as the empty set), and
 * hwloc never writes either; both are refused here. */
static bool bitmap_text_ok(const char *v)
{
    size_t words = 0;
    bool last_empty = false;

    if (strncmp(v, "0xf...f", 7) == 0) {
        if (v[7] == '\0')
            return true;
        if (v[7] != ',')
            return false;
        v += 8;
    }
    for (;;) {
        if (++words > BITMAP_MAX_WORDS)
            return false;
        if (*v == ',' || *v == '\0') {
            /* an empty word: never first, never last */
            if (words == 1 || *v == '\0')
                return false;
            last_empty = true;
        } else {
            size_t digits;
            if (v[0] != '0' || v[1] != 'x')
                return false;
            digits = strspn(v + 2, "0123456789abcdefABCDEF");
            if (digits == 0 || digits > 8)
                return false;
            v += 2 + digits;
            last_empty = false;
        }
        if (*v == '\0')
            return !last_empty;
        if (*v++ != ',')
            return false;
    }
}

/* Refuses bitmap attributes of the current element that hwloc could choke
 * on. */
static int xml_check_bitmaps(xmlTextReaderPtr r, const char *origin, np_error *err)
{
    unsigned line = reader_line(r);
    int rc = 0;

    if (xmlTextReaderMoveToFirstAttribute(r) != 1)
        return 0;
    do {
        const char *name = (const char *)xmlTextReaderConstName(r);
        const char *value = (const char *)xmlTextReaderConstValue(r);
        if (name && value && is_bitmap_attr(name) && !bitmap_text_ok(value))
            rc = np_error_set(err, origin, line,
                              "%.32s=\"%.40s\" is not an hwloc bitmap (expected comma-separated "
                              "words like 0x0000000f, most significant first)",
                              name, value);
    } while (rc == 0 && xmlTextReaderMoveToNextAttribute(r) == 1);
    xmlTextReaderMoveToElement(r);
    return rc;
}

/* An object's type the way hwloc's importer reads it (hwloc_type_sscanf()
 * takes abbreviations: "NUMAN" is a NUMA node); -EINVAL when unknown. */
static int object_type(xmlTextReaderPtr r, hwloc_obj_type_t *type_out)
{
    xmlChar *type = xmlTextReaderGetAttribute(r, (const xmlChar *)"type");
    int rc = type && hwloc_type_sscanf((const char *)type, type_out, NULL, 0) == 0 ? 0 : -EINVAL;
    xmlFree(type);
    return rc;
}

/* Objects that have no CPU or node sets in hwloc 2's XML. */
static bool is_io_or_misc(hwloc_obj_type_t type)
{
    return type == HWLOC_OBJ_BRIDGE || type == HWLOC_OBJ_PCI_DEVICE ||
           type == HWLOC_OBJ_OS_DEVICE || type == HWLOC_OBJ_MISC;
}

/* First (lowest) CPU in a bitmap text that bitmap_text_ok() accepted, the
 * way hwloc orders sibling objects; LLONG_MAX for an empty set, which hwloc
 * orders last. "0x00000100,0x00000000" -> 40. */
static long long bitmap_first(const char *v)
{
    bool infinite = strncmp(v, "0xf...f", 7) == 0;
    size_t end;
    long long base = 0;

    if (infinite) {
        if (v[7] == '\0')
            return 0;
        v += 8;
    }
    /* words are most significant first: walk them from the end */
    for (end = strlen(v); end > 0; base += 32) {
        size_t start = end;
        unsigned long word;
        while (start > 0 && v[start - 1] != ',')
            start--;
        /* after "0x"; an empty word (start == end) is 0 */
        word = start < end ? strtoul(v + start + 2, NULL, 16) : 0;
        if (word)
            return base + __builtin_ctzl(word);
        end = start > 0 ? start - 1 : 0;
    }
    return infinite ? base : LLONG_MAX;
}

/* The elements hwloc reads inside an <object> before inserting it, with
 * their attributes: any other attribute makes hwloc 2.9 fail and leak the
 * object (fixed after 2.x by open-mpi/hwloc commit 5dbc7b752, "xml: free
 * not-yet-inserted object on invalid child"). */
static const struct {
    const char *name;
    const char *attrs; /* blank-separated, with blanks around */
} object_parts[] = {
    {"info", " name value "},
    {"userdata", " name length encoding "},
    {"page_type", " size count "},
};

/* Refuses attributes of the current element (named element) that are not
 * in allowed; an <info> also needs both of its own. */
static int xml_check_attr_names(xmlTextReaderPtr r, const char *element, const char *allowed,
                                const char *origin, np_error *err)
{
    unsigned line = reader_line(r);
    int rc = 0;

    if (xmlTextReaderMoveToFirstAttribute(r) != 1)
        return 0;
    do {
        const char *name = (const char *)xmlTextReaderConstName(r);
        char key[72];
        snprintf(key, sizeof(key), " %.64s ", name ? name : "");
        if (!strstr(allowed, key))
            rc = np_error_set(err, origin, line,
                              "<%.32s> has an attribute %.64s; hwloc's XML format gives it "
                              "only:%.*s",
                              element, name ? name : "?", (int)strlen(allowed) - 1, allowed);
    } while (rc == 0 && xmlTextReaderMoveToNextAttribute(r) == 1);
    xmlTextReaderMoveToElement(r);
    if (rc == 0 && strcmp(element, "info") == 0 && (!has_attr(r, "name") || !has_attr(r, "value")))
        rc = np_error_set(err, origin, line, "<info> needs both a name and a value attribute");
    return rc;
}

/* What the reader remembers of each open element, by depth. */
typedef struct xml_level {
    const char *name;     /* element name, owned by the reader */
    bool holds_pages;     /* an <object> that may hold <page_type> */
    bool has_prev;        /* a CPU-side <object> child was seen below it */
    long long prev_first; /* that child's first CPU (bitmap_first) */
} xml_level;

/* Checks an <object> whose type hwloc reads as type at depth, below the
 * element levels[depth - 1]. hwloc orders CPU-side siblings by their first
 * CPU and prints a banner to stderr when an XML lists them otherwise;
 * such XML is refused instead. */
static int xml_check_object(xmlTextReaderPtr r, hwloc_obj_type_t type, xml_level *levels,
                            int depth, xml_check *chk, const char *origin, np_error *err)
{
    xmlChar *complete = NULL;
    long long first;
    int rc = 0;

    levels[depth].holds_pages = depth == 1 || type == HWLOC_OBJ_NUMANODE;
    if (is_io_or_misc(type))
        return 0;
    if (!has_attr(r, "cpuset") || !has_attr(r, "nodeset"))
        return np_error_set(err, origin, reader_line(r),
                            "<object type=\"%.32s\"> without cpuset and nodeset; hwloc 2 writes "
                            "both for every object that is not an I/O or Misc object",
                            hwloc_obj_type_string(type));
    if (type == HWLOC_OBJ_PU) {
        chk->counts.nr_pus++;
        rc = xml_check_os_index(r, "PU", NP_TOPO_MAX_CPUS, origin, err);
    } else if (type == HWLOC_OBJ_NUMANODE) {
        chk->counts.nr_nodes++;
        rc = xml_check_os_index(r, "NUMANode", NP_TOPO_MAX_NODES, origin, err);
        return rc; /* memory objects are not ordered among CPU-side ones */
    }
    if (rc < 0)
        return rc;
    complete = xmlTextReaderGetAttribute(r, (const xmlChar *)"complete_cpuset");
    first = complete ? bitmap_first((const char *)complete) : LLONG_MAX;
    xmlFree(complete);
    if (depth == 1 && first == LLONG_MAX)
        return np_error_set(err, origin, reader_line(r), "the root object has no CPU");
    if (levels[depth - 1].has_prev && first < levels[depth - 1].prev_first)
        return np_error_set(err, origin, reader_line(r),
                            "<object type=\"%.32s\"> comes after a sibling with higher CPUs; "
                            "hwloc lists objects in CPU order",
                            hwloc_obj_type_string(type));
    levels[depth - 1].has_prev = true;
    levels[depth - 1].prev_first = first;
    return 0;
}

/* Checks one element for what hwloc 2.9's importer mishandles, and counts
 * CPU and NUMA node objects to notice objects hwloc drops. hwloc 2.9
 * crashes on an object with a CPU set but no complete one (or the reverse,
 * or the same for node sets), asserts on some malformed bitmaps, leaks on
 * an <info> without a name or value, and allocates by the numbers it is
 * given (CPU and node OS numbers, distance matrix sizes); those are refused
 * here, with their line. */
static int xml_check_element(xmlTextReaderPtr r, xml_level *levels, int depth, xml_check *chk,
                             const char *origin, np_error *err)
{
    static const char *const pairs[][2] = {{"cpuset", "complete_cpuset"},
                                           {"nodeset", "complete_nodeset"}};
    const char *name = levels[depth].name;
    hwloc_obj_type_t type;
    uint64_t nbobjs;
    int rc = 0;

    rc = xml_check_bitmaps(r, origin, err);
    if (rc < 0)
        return rc;
    if (strcmp(name, "page_type") == 0 && !levels[depth - 1].holds_pages)
        return np_error_set(err, origin, reader_line(r),
                            "<page_type> outside a NUMA node or the root object");
    for (size_t i = 0; i < sizeof(object_parts) / sizeof(object_parts[0]); i++)
        if (strcmp(name, object_parts[i].name) == 0)
            return xml_check_attr_names(r, name, object_parts[i].attrs, origin, err);
    if (str_has_prefix(name, "distances")) {
        rc = attr_u64(r, "nbobjs", NP_HWLOC_XML_MAX_DIST_OBJS, &nbobjs);
        if (rc < 0 && rc != -ENOENT)
            return np_error_set(err, origin, reader_line(r),
                                "<%.32s> nbobjs must be a decimal number of at most %u objects",
                                name, NP_HWLOC_XML_MAX_DIST_OBJS);
        return 0;
    }
    if (strcmp(name, "object") != 0)
        return 0;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        if (has_attr(r, pairs[i][0]) != has_attr(r, pairs[i][1]))
            return np_error_set(err, origin, reader_line(r),
                                "<object> has %s without %s; hwloc needs both or neither",
                                has_attr(r, pairs[i][0]) ? pairs[i][0] : pairs[i][1],
                                has_attr(r, pairs[i][0]) ? pairs[i][1] : pairs[i][0]);
    if (object_type(r, &type) < 0)
        return np_error_set(err, origin, reader_line(r),
                            "<object> without a type hwloc knows (Machine, Package, Core, PU, "
                            "NUMANode, ...)");
    return xml_check_object(r, type, levels, depth, chk, origin, err);
}

/* Which elements hwloc 2's XML format nests in which ("<topology>" is the
 * root, checked apart). hwloc 2.9 fails on others, and on an unexpected
 * element inside an <object> it also leaks the object. */
static const struct {
    const char *parent;
    const char *children; /* blank-separated, with blanks around */
} hwloc_nesting[] = {
    {"topology", " object distances2 distances2hetero support memattr cpukind "},
    {"object", " object info userdata page_type "},
    {"distances2", " indexes u64values "},
    {"distances2hetero", " indexes u64values "},
    {"memattr", " memattr_value "},
    {"cpukind", " info "},
};

static int xml_check_nesting(xmlTextReaderPtr r, const char *parent, const char *name,
                             const char *origin, np_error *err)
{
    char key[72];

    snprintf(key, sizeof(key), " %.64s ", name);
    for (size_t i = 0; i < sizeof(hwloc_nesting) / sizeof(hwloc_nesting[0]); i++)
        if (strcmp(hwloc_nesting[i].parent, parent) == 0) {
            if (strstr(hwloc_nesting[i].children, key))
                return 0;
            return np_error_set(err, origin, reader_line(r),
                                "<%.64s> inside <%.64s> is not part of hwloc's XML format", name,
                                parent);
        }
    return np_error_set(err, origin, reader_line(r),
                        "<%.64s> inside <%.64s> is not part of hwloc's XML format (<%.64s> has "
                        "no child elements)",
                        name, parent, parent);
}

/* Reads the whole text with libxml2 so that malformed XML is reported with
 * its line, which hwloc's own minimal parser cannot do, checking each
 * element on the way. */
static int xml_precheck(const char *text, size_t len, const char *origin, xml_check *chk,
                        np_error *err)
{
    xml_level levels[NP_XML_MAX_DEPTH + 1]; /* the open elements, by depth */
    xmlTextReaderPtr r = NULL;
    xmlGenericErrorFunc saved_fn;
    void *saved_ctx;
    bool seen_root = false;
    int ret, rc = 0;

    xmlInitParser();
    /* the generic channel is per thread in libxml2; restored below */
    saved_fn = xmlGenericError;
    saved_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(chk, xml_generic_error);
    r = xmlReaderForMemory(text, (int)len, NULL, NULL,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!r) {
        np_error_set(err, origin, 0, "cannot start the XML parser: out of memory");
        rc = -ENOMEM;
        goto out;
    }
    xmlTextReaderSetStructuredErrorHandler(r, xml_error, chk);
    while ((ret = xmlTextReaderRead(r)) == 1) {
        int depth = xmlTextReaderDepth(r), type = xmlTextReaderNodeType(r);
        const char *name;
        if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA) {
            /* hwloc reads text only as the numbers of a distance matrix
             * and as user data; anywhere else its reader fails (and leaks) */
            const char *parent =
                depth > 0 && depth <= NP_XML_MAX_DEPTH ? levels[depth - 1].name : NULL;
            if (!parent || (strcmp(parent, "indexes") != 0 && strcmp(parent, "u64values") != 0 &&
                            strcmp(parent, "userdata") != 0)) {
                rc = np_error_set(err, origin, text_line(r),
                                  "text inside <%.64s>; hwloc's XML format has none there",
                                  parent ? parent : "the document");
                goto out;
            }
            continue;
        }
        if (type != XML_READER_TYPE_ELEMENT)
            continue;
        name = (const char *)xmlTextReaderConstName(r); /* lives as long as r */
        if (depth < 0 || depth >= NP_XML_MAX_DEPTH || !name) {
            rc = np_error_set(err, origin, reader_line(r), "elements nested too deep");
            goto out;
        }
        levels[depth] = (xml_level){.name = name};
        levels[depth + 1].has_prev = false; /* a new parent for the next depth */
        if (!seen_root) {
            seen_root = true;
            rc = xml_check_root(r, origin, err);
        } else if (depth == 0) {
            rc = np_error_set(err, origin, reader_line(r), "a second root element");
        } else {
            rc = xml_check_nesting(r, levels[depth - 1].name, name, origin, err);
        }
        if (rc < 0)
            goto out;
        if (depth > 0)
            rc = xml_check_element(r, levels, depth, chk, origin, err);
        if (rc < 0)
            goto out;
    }
    if (ret < 0 || chk->failed)
        rc = np_error_set(err, origin,
                          chk->line ? chk->line : (unsigned)xmlTextReaderGetParserLineNumber(r),
                          "not well-formed XML (%s); expected an hwloc XML topology",
                          chk->failed            ? chk->msg
                          : chk->generic_msg[0] ? chk->generic_msg
                                                : "parse error");
    else if (!seen_root)
        rc = np_error_set(err, origin, 0,
                          "no XML element found; expected an hwloc XML topology "
                          "(`lstopo --of xml`)");
out:
    xmlFreeTextReader(r);
    xmlSetGenericErrorFunc(saved_ctx, saved_fn);
    return rc;
}

/* ---- pass 3: hwloc's lexing --------------------------------------------------- */

/* Characters hwloc 2.9's minimal reader accepts in tag and attribute names,
 * and the blanks it skips between attributes. */
#define HWLOC_TAG_CHARS "abcdefghijklmnopqrstuvwxyz1234567890_"
#define HWLOC_ATTR_CHARS "abcdefghijklmnopqrstuvwxyz_"
#define HWLOC_BLANKS " \t\n"

/* Length of an escape hwloc decodes in attribute values, 0 for others. */
static size_t hwloc_escape_len(const char *p)
{
    static const char *const known[] = {"&#10;", "&#13;", "&#9;", "&quot;",
                                        "&lt;",  "&gt;",  "&amp;"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strncmp(p, known[i], strlen(known[i])) == 0)
            return strlen(known[i]);
    return 0;
}

/* Lexes the start tag at tag ("<name attr="v" ...>" or ".../>") the way
 * hwloc does: the tag ends at the first '>', the name is [a-z0-9_]+, the
 * attributes are [a-z_]+="..." separated by blanks, values hold only the
 * escapes hwloc decodes. NULL when it reads whole, else the reason. */
static const char *lex_start_tag(const char *tag)
{
    const char *end = strchr(tag, '>');
    const char *q = tag + 1 + strspn(tag + 1, HWLOC_TAG_CHARS);

    if (!end)
        return "tag without a closing '>'";
    if (q == tag + 1)
        return "element name hwloc's XML reader cannot read (it takes [a-z0-9_] names)";
    if (q == end || (q + 1 == end && *q == '/'))
        return NULL;
    if (*q != ' ')
        return "element name hwloc's XML reader cannot read (it takes [a-z0-9_] names, then a "
               "space)";
    for (q++;;) {
        size_t n;
        q += strspn(q, HWLOC_BLANKS);
        if (q == end || (q + 1 == end && *q == '/'))
            return NULL;
        n = strspn(q, HWLOC_ATTR_CHARS);
        if (n == 0 || q[n] != '=' || q[n + 1] != '"')
            return "attribute hwloc's XML reader cannot read (it takes lowercase name=\"value\" "
                   "attributes separated by blanks)";
        for (q += n + 2; q < end && *q != '"';) {
            size_t esc = *q == '&' ? hwloc_escape_len(q) : 1;
            if (esc == 0)
                return "character reference hwloc's XML reader cannot decode (it takes &quot; "
                       "&lt; &gt; &amp; &#9; &#10; &#13;)";
            q += esc;
        }
        if (q >= end)
            return "attribute value with a '>' in it, which hwloc's XML reader takes for the end "
                   "of the tag";
        q++;
    }
}

static int check_hwloc_lexing(const char *xml, const char *origin, np_error *err)
{
    const char *counted = xml;
    unsigned line = 1;

    for (const char *p = strchr(xml, '<'); p; p = strchr(p + 1, '<')) {
        const char *why;
        for (; counted < p; counted++)
            line += *counted == '\n';
        /* closing tags, the <?xml and <!DOCTYPE header lines, comments:
         * hwloc either skips them or fails loudly */
        if (p[1] == '/' || p[1] == '?' || p[1] == '!')
            continue;
        why = lex_start_tag(p);
        if (why)
            return np_error_set(err, origin, line, "%s", why);
    }
    return 0;
}

/* ---- the three passes ----------------------------------------------------------- */

/* Copy with "\r\n" and lone "\r" turned into "\n", NUL-terminated. */
static char *normalise_line_ends(const char *text, size_t len, size_t *len_out)
{
    char *copy = malloc(len + 1);
    size_t n = 0;

    if (!copy)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\r') {
            copy[n++] = '\n';
            if (i + 1 < len && text[i + 1] == '\n')
                i++;
        } else {
            copy[n++] = text[i];
        }
    }
    copy[n] = '\0';
    *len_out = n;
    return copy;
}

int np_hwloc_xml_check(const char *text, size_t len, const char *origin, char **xml_out,
                       size_t *xml_len_out, np_hwloc_xml_counts *counts_out, np_error *err)
{
    xml_check chk = {0};
    size_t xml_len = 0;
    char *xml = normalise_line_ends(text, len, &xml_len);
    int rc;

    if (!xml) {
        np_error_set(err, origin, 0, "out of memory");
        return -ENOMEM;
    }
    rc = xml_precheck(xml, xml_len, origin, &chk, err);
    if (rc == 0) /* libxml2 found no NUL byte, so the copy is one C string */
        rc = check_hwloc_lexing(xml, origin, err);
    if (rc < 0) {
        free(xml);
        return rc;
    }
    *xml_out = xml;
    *xml_len_out = xml_len;
    *counts_out = chk.counts;
    return 0;
}
