/*
 * topo/open.c - one entry point for every topology source a user can name:
 * "live", "xen", "builtin:NAME", "synthetic:DESC", "sysfs:DIR" (a captured
 * /sys and /proc tree; np_topology_read_sysfs) or a file, whose format is
 * detected from its first meaningful line unless forced. On a Xen dom0,
 * "live" means "xen": hwloc there sees dom0's own vCPUs, not the host.
 */
#include <numaplace/topology.h>
#include <numaplace/xen.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/text.h"

/* Topology files are small; 64 MiB bounds a hostile or mistaken input. */
#define NP_TOPO_FILE_MAX_BYTES (64u << 20)

static const struct {
    np_topo_format fmt;
    const char *name;
} formats[] = {
    {NP_TOPO_FMT_AUTO, "auto"},
    {NP_TOPO_FMT_HWLOC_XML, "hwloc-xml"},
    {NP_TOPO_FMT_NUMACTL, "numactl"},
    {NP_TOPO_FMT_XL_INFO, "xl-info"},
    {NP_TOPO_FMT_SYNTHETIC, "synthetic"},
};

const char *np_topo_format_name(np_topo_format fmt)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (formats[i].fmt == fmt)
            return formats[i].name;
    return "unknown";
}

int np_topo_format_parse(const char *name, np_topo_format *out)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (strcmp(formats[i].name, name) == 0) {
            *out = formats[i].fmt;
            return 0;
        }
    }
    return -EINVAL;
}

/* Looks for the marks each format always carries near its start. */
np_topo_format np_topo_format_detect(const char *text, size_t len)
{
    size_t n = len < 65536 ? len : 65536;
    np_line_scanner s;
    const char *line;
    np_topo_format fmt = NP_TOPO_FMT_AUTO;
    np_scanner_init(&s, text, n);
    while (fmt == NP_TOPO_FMT_AUTO && np_scanner_next(&s, &line) > 0) {
        const char *p = np_skip_ws(line);
        if (strncmp(p, "<?xml", 5) == 0 || strncmp(p, "<topology", 9) == 0 ||
            strncmp(p, "<!DOCTYPE topology", 18) == 0)
            fmt = NP_TOPO_FMT_HWLOC_XML;
        else if (strncmp(p, "available:", 10) == 0)
            fmt = NP_TOPO_FMT_NUMACTL;
        else if (strncmp(p, "host ", 5) == 0 || strncmp(p, "nr_cpus ", 8) == 0 ||
                 strncmp(p, "nr_nodes ", 9) == 0 || strncmp(p, "numa_info ", 10) == 0 ||
                 strncmp(p, "cpu_topology ", 13) == 0)
            fmt = NP_TOPO_FMT_XL_INFO;
    }
    np_scanner_fini(&s);
    return fmt;
}

int np_topology_open(const char *source, np_topo_format fmt, np_topology **out, np_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;

    if (!source || !*source)
        return np_error_set(err, "", 0, "no topology source given");
    if (strcmp(source, "xen") == 0 || (strcmp(source, "live") == 0 && np_xen_is_dom0())) {
#ifdef NP_HAVE_XEN
        return np_topology_read_xen(out, err);
#else
        if (strcmp(source, "xen") == 0)
            return np_error_set(err, "xen", 0,
                                "this numaplace was built without Xen support (libxen-dev)");
        /* a dom0 without Xen support: hwloc's view of dom0 is all there is */
#endif
    }
    if (strcmp(source, "live") == 0)
        return np_topology_read_live(out, err);
    if (strncmp(source, "builtin:", 8) == 0)
        return np_topology_builtin(source + 8, out, err);
    if (strncmp(source, "synthetic:", 10) == 0)
        return np_topology_read_hwloc_synthetic(source + 10, out, err);
    if (strncmp(source, "sysfs:", 6) == 0)
        return np_topology_read_sysfs(source + 6, out, err);

    const char *origin = strcmp(source, "-") == 0 ? "<stdin>" : source;
    rc = np_read_file(source, NP_TOPO_FILE_MAX_BYTES, &buf, &len);
    if (rc == -EFBIG) {
        rc = np_error_set(err, origin, 0, "file is larger than %u MiB; not a topology",
                          NP_TOPO_FILE_MAX_BYTES >> 20);
        goto out;
    }
    if (rc == -ETIMEDOUT) {
        np_error_set(err, origin, 0, "a FIFO nobody wrote to within 10 s; not a topology");
        goto out;
    }
    if (rc < 0) {
        np_error_set(err, origin, 0, "cannot read: %s", np_strerror(rc));
        goto out;
    }
    if (fmt == NP_TOPO_FMT_AUTO)
        fmt = np_topo_format_detect(buf, len);
    switch (fmt) {
    case NP_TOPO_FMT_HWLOC_XML:
        rc = np_topology_read_hwloc_xml(buf, len, origin, out, err);
        break;
    case NP_TOPO_FMT_NUMACTL:
        rc = np_topology_read_numactl(buf, len, origin, out, err);
        break;
    case NP_TOPO_FMT_XL_INFO:
        rc = np_topology_read_xl_info(buf, len, origin, out, err);
        break;
    case NP_TOPO_FMT_SYNTHETIC:
        /* a synthetic description in a file: first line only */
        {
            char *nl = memchr(buf, '\n', len);
            if (nl)
                *nl = '\0';
            rc = np_topology_read_hwloc_synthetic(buf, out, err);
        }
        break;
    default:
        rc = np_error_set(err, origin, 1,
                          "cannot tell the format: expected hwloc XML (`lstopo --of xml`), "
                          "`numactl --hardware` or `xl info -n` output; use --format to say "
                          "which");
        break;
    }
out:
    free(buf);
    return rc;
}
