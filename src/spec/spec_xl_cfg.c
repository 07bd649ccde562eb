/*
 * spec/spec_xl_cfg.c - a guest spec from an existing Xen domain
 * configuration (xl.cfg(5)), parsed by Xen's own libxlutil so numaplace
 * reads exactly what `xl create` reads.
 *
 * What it takes: name; vcpus, or maxvcpus when given (placement must have
 * room for every vCPU the guest may bring online); memory and maxmem in MiB
 * (maxmem defaults to memory); the BDF of each pci=[...] entry; cpus= or
 * cpus_soft= present means the user placed the guest by hand (no_autoplace,
 * affinity hard when cpus= is given, else soft), as xl itself switches its
 * automatic placement off for explicit affinities; and the number of
 * vnuma=[...] virtual nodes. Everything else in the file is ignored.
 *
 * libxlutil prints its complaints ("NAME:LINE: config parsing error near
 * ...") to a FILE*; it gets an in-memory stream here, so nothing reaches
 * stderr, and the first complaint becomes the np_error with its line.
 * Without libxen-dev the reader returns -ENOTSUP.
 */
#include <numaplace/guest.h>

#include <errno.h>

#include "util/error.h"

#ifdef NP_HAVE_XEN

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxlutil.h>

#include "spec/spec_fields.h"
#include "util/text.h"

/* Domain configurations are a few KiB; 1 MiB bounds a mistaken input. */
#define NP_XL_CFG_MAX_BYTES (1u << 20)
/* xl.cfg sizes are MiB; 2^44 MiB is 16 EiB, the most a uint64_t holds. */
#define NP_XL_CFG_MIB_MAX ((long)1 << 43)
#define NP_MIB_SHIFT 20
/* The name libxlutil puts in front of its messages; replaced by origin. */
#define NP_XL_REPORT_NAME "xlcfg"

typedef struct xl_ctx {
    const char *text;
    size_t len;
    const char *origin;
    FILE *report;
    char *report_buf;
    size_t report_len;
    XLU_Config *cfg;
    np_error *err;
} xl_ctx;

/* Line of the last assignment to `key` ("key =", "key+="), which is the
 * one libxlutil keeps; 0 when there is none. */
static unsigned key_line(const xl_ctx *c, const char *key)
{
    np_line_scanner s;
    const char *line;
    unsigned found = 0;
    size_t klen = strlen(key);
    np_scanner_init(&s, c->text, c->len);
    while (np_scanner_next(&s, &line) > 0) {
        const char *p = np_skip_ws(line);
        if (strncmp(p, key, klen) != 0)
            continue;
        p = np_skip_ws(p + klen);
        if (*p == '=' || (p[0] == '+' && p[1] == '='))
            found = s.lineno;
    }
    np_scanner_fini(&s);
    return found;
}

/* Turns the first "xlcfg:LINE[:COL]: text" message written to the report
 * since offset `from` into the error; `fallback` when there is none. */
static int report_error(xl_ctx *c, size_t from, const char *fallback, unsigned fallback_line)
{
    static const char prefix[] = NP_XL_REPORT_NAME ":";
    fflush(c->report);
    const char *p = c->report_buf ? c->report_buf + from : "";
    const char *end = c->report_buf ? c->report_buf + c->report_len : p;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > sizeof(prefix) - 1 && memcmp(p, prefix, sizeof(prefix) - 1) == 0) {
            const char *q = p + sizeof(prefix) - 1;
            uint64_t line = 0, col;
            if (np_parse_u64(&q, UINT_MAX, &line) == 0 && *q == ':') {
                q++;
                const char *r = q;
                if (np_parse_u64(&r, UINT_MAX, &col) == 0 && *r == ':')
                    q = r + 1; /* a column follows the line */
                q = np_skip_ws(q);
                /* libxlutil calls a type mismatch a warning; here it is the error. */
                if (strncmp(q, "warning: ", 9) == 0)
                    q += 9;
                /* For an unexpected end of line libxlutil (4.17) steps the
                 * line back once too often: it names the line before. */
                if (memmem(q, n - (size_t)(q - p), "near <newline>", 14))
                    line++;
                return np_error_set(c->err, c->origin, (unsigned)line, "%.*s",
                                    (int)(n - (size_t)(q - p)), q);
            }
        }
        p = nl ? nl + 1 : end;
    }
    return np_error_set(c->err, c->origin, fallback_line, "%s", fallback);
}

static size_t report_mark(xl_ctx *c)
{
    fflush(c->report);
    return c->report_len;
}

/* An integer setting in [0, max]: 0, -ESRCH when absent, -EINVAL (err set). */
static int get_count(xl_ctx *c, const char *key, long max, const char *what, long *out)
{
    size_t mark = report_mark(c);
    long v;
    int e = xlu_cfg_get_long(c->cfg, key, &v, 0);
    if (e == ESRCH)
        return -ESRCH;
    if (e != 0)
        return report_error(c, mark, "expected a number", key_line(c, key));
    if (v < 0 || v > max)
        return np_error_set(c->err, c->origin, key_line(c, key), "%s: expected %s from 0 to %ld",
                            key, what, max);
    *out = v;
    return 0;
}

/* True when the key is set at all, to a string or a list. */
static bool is_set(const xl_ctx *c, const char *key)
{
    const char *s;
    return xlu_cfg_get_string(c->cfg, key, &s, 1) != ESRCH;
}

/* "0000:03:00.0,permissive=1", "03:00.0@8", "bdf=0000:03:00.0,seize=1":
 * the device's address is the first field or the bdf= key. */
static int add_pci(xl_ctx *c, np_guest_spec *spec, const char *item)
{
    char bdf[NP_BDF_TEXT_MAX + 8];
    char why[NP_SPEC_WHY_MAX];
    const char *p = item;
    const char *key = strstr(item, "bdf=");
    if (key && (key == item || key[-1] == ','))
        p = key + 4;
    size_t n = strcspn(p, ",@");
    if (n >= sizeof(bdf))
        return np_error_set(c->err, c->origin, key_line(c, "pci"),
                            "pci entry \"%s\": expected a PCI address DDDD:BB:DD.F first", item);
    memcpy(bdf, p, n);
    bdf[n] = '\0';
    /* "BB:DD.*" passes every function of a device; they share its locality. */
    if (n >= 2 && bdf[n - 1] == '*' && bdf[n - 2] == '.')
        bdf[n - 1] = '0';
    if (np_spec_add_device(spec, bdf, why, sizeof(why)) < 0)
        return np_error_set(c->err, c->origin, key_line(c, "pci"), "pci entry \"%s\": %s", item,
                            why);
    return 0;
}

static int read_settings(xl_ctx *c, np_guest_spec *spec)
{
    char why[NP_SPEC_WHY_MAX];
    const char *name = NULL;
    long v;
    int rc;
    size_t mark = report_mark(c);

    int e = xlu_cfg_get_string(c->cfg, "name", &name, 0);
    if (e != 0 && e != ESRCH)
        return report_error(c, mark, "name: expected a string", key_line(c, "name"));
    if (e == 0 && np_spec_set_name(spec, name, why, sizeof(why)) < 0)
        return np_error_set(c->err, c->origin, key_line(c, "name"), "name: %s", why);

    /* xl.cfg(5): vcpus defaults to 1; maxvcpus to vcpus. */
    spec->vcpus = 1;
    rc = get_count(c, "vcpus", NP_GUEST_MAX_VCPUS, "a vCPU count", &v);
    if (rc == 0)
        spec->vcpus = (uint32_t)v;
    else if (rc != -ESRCH)
        return rc;
    rc = get_count(c, "maxvcpus", NP_GUEST_MAX_VCPUS, "a vCPU count", &v);
    if (rc == 0)
        spec->vcpus = (uint32_t)v;
    else if (rc != -ESRCH)
        return rc;

    rc = get_count(c, "memory", NP_XL_CFG_MIB_MAX, "a size in MiB", &v);
    if (rc == 0)
        spec->mem_bytes = (uint64_t)v << NP_MIB_SHIFT;
    else if (rc != -ESRCH)
        return rc;
    spec->maxmem_bytes = spec->mem_bytes;
    rc = get_count(c, "maxmem", NP_XL_CFG_MIB_MAX, "a size in MiB", &v);
    if (rc == 0)
        spec->maxmem_bytes = (uint64_t)v << NP_MIB_SHIFT;
    else if (rc != -ESRCH)
        return rc;

    XLU_ConfigList *list = NULL;
    int n = 0;
    mark = report_mark(c);
    e = xlu_cfg_get_list(c->cfg, "pci", &list, &n, 0);
    if (e != 0 && e != ESRCH)
        return report_error(c, mark, "pci: expected a list", key_line(c, "pci"));
    for (int i = 0; e == 0 && i < n; i++) {
        const char *item = xlu_cfg_get_listitem(list, i);
        if (!item)
            return np_error_set(c->err, c->origin, key_line(c, "pci"),
                                "pci: expected a list of strings, entry %d is a list", i + 1);
        rc = add_pci(c, spec, item);
        if (rc < 0)
            return rc;
    }

    /* An explicit affinity: the user placed this guest. */
    if (is_set(c, "cpus")) {
        spec->no_autoplace = true;
        spec->affinity = NP_AFFINITY_HARD;
    } else if (is_set(c, "cpus_soft")) {
        spec->no_autoplace = true;
        spec->affinity = NP_AFFINITY_SOFT;
    }

    mark = report_mark(c);
    e = xlu_cfg_get_list(c->cfg, "vnuma", &list, &n, 0);
    if (e != 0 && e != ESRCH)
        return report_error(c, mark, "vnuma: expected a list", key_line(c, "vnuma"));
    if (e == 0) {
        for (int i = 0; i < n; i++) {
            XLU_ConfigValue *vn = xlu_cfg_get_listitem2(list, i);
            if (!vn || xlu_cfg_value_type(vn) != XLU_LIST)
                return np_error_set(c->err, c->origin, key_line(c, "vnuma"),
                                    "vnuma: expected a list of [\"pnode=..\",\"size=..\",...] "
                                    "lists, entry %d is not a list",
                                    i + 1);
        }
        if (n > (int)NP_TOPO_MAX_NODES)
            return np_error_set(c->err, c->origin, key_line(c, "vnuma"),
                                "vnuma: expected at most %u virtual nodes", NP_TOPO_MAX_NODES);
        /* An empty list turns vNUMA off; a pnode= placement is the user's. */
        spec->vnuma_nodes = n;
        if (n > 0)
            spec->no_autoplace = true;
    }
    return 0;
}

int np_guest_spec_read_xl_cfg(const char *text, size_t len, const char *origin,
                              np_guest_spec *out, np_error *err)
{
    xl_ctx c = {.text = text, .len = len, .origin = origin ? origin : "", .err = err};
    np_guest_spec spec;
    int rc = 0;

    if (!text || !out)
        return np_error_set(err, c.origin, 0, "no xl.cfg text given");
    if (len > NP_XL_CFG_MAX_BYTES)
        return np_error_set(err, c.origin, 0, "xl.cfg larger than %u bytes",
                            NP_XL_CFG_MAX_BYTES);
    if (memchr(text, '\0', len))
        return np_error_set(err, c.origin, 0, "expected text, found a NUL byte");
    c.report = open_memstream(&c.report_buf, &c.report_len);
    if (!c.report)
        return -ENOMEM;
    c.cfg = xlu_cfg_init(c.report, NP_XL_REPORT_NAME);
    if (!c.cfg) {
        rc = -ENOMEM;
        goto out;
    }
    size_t mark = report_mark(&c);
    int e = xlu_cfg_readdata(c.cfg, text, (int)len);
    if (e == ENOMEM) {
        rc = -ENOMEM;
        goto out;
    }
    if (e != 0) {
        rc = report_error(&c, mark, "expected xl.cfg syntax (KEY = VALUE lines)", 0);
        goto out;
    }
    np_guest_spec_init(&spec);
    rc = read_settings(&c, &spec);
    if (rc == 0)
        *out = spec;
out:
    xlu_cfg_destroy(c.cfg);
    fclose(c.report);
    free(c.report_buf);
    return rc;
}

#else /* !NP_HAVE_XEN */

int np_guest_spec_read_xl_cfg(const char *text, size_t len, const char *origin,
                              np_guest_spec *out, np_error *err)
{
    (void)text;
    (void)len;
    (void)out;
    np_error_set(err, origin, 0, "xl.cfg reading needs libxlutil (built without libxen-dev)");
    return -ENOTSUP;
}

#endif
