/*
 * cli/output.c - error reporting and the two renderings of a topology:
 * a table for people (in the spirit of `numactl -H`, `lstopo` and
 * `xl info -n`) and JSON for scripts (schema "numaplace.topology/1",
 * docs/json.md). Nodes and CPUs are named by their OS ids in both.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Above this many nodes the distance matrix is summarised, not printed. */
#define CLI_MAX_DISTANCE_COLUMNS 32

void cli_errorf(const char *fmt, ...)
{
    va_list ap;
    fputs("numaplace: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_exit_status(int rc)
{
    switch (rc) {
    case 0:
        return NP_EXIT_OK;
    case -ENOMEM:
    case -EIO:
        return NP_EXIT_INTERNAL;
    default:
        return NP_EXIT_USAGE;
    }
}

int cli_fail(int rc, const np_error *err)
{
    char buf[1024];
    if (err && err->msg[0])
        cli_errorf("%s", np_error_format(err, buf, sizeof(buf)));
    else
        cli_errorf("%s", np_strerror(rc));
    return cli_exit_status(rc);
}

int cli_print_json(json_t *value)
{
    if (!value) {
        cli_errorf("out of memory building JSON output");
        return NP_EXIT_INTERNAL;
    }
    int r = json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(value);
    if (r == 0)
        fputc('\n', stdout);
    /* main() reports a failed write to standard output, once */
    return r != 0 || fflush(stdout) != 0 || ferror(stdout) ? NP_EXIT_INTERNAL : NP_EXIT_OK;
}

int cli_open_topology(const char *source, const char *format, np_topology **out)
{
    np_topo_format fmt = NP_TOPO_FMT_AUTO;
    np_error err = {0};
    if (format && np_topo_format_parse(format, &fmt) < 0) {
        cli_errorf("unknown --format '%s': expected auto, hwloc-xml, numactl, xl-info or "
                   "synthetic",
                   format);
        return NP_EXIT_USAGE;
    }
    /* hwloc 2.9 takes a captured tree's root only from its environment
     * variable; the library never touches the environment, the program
     * may. HWLOC_COMPONENTS keeps hwloc from adding this machine's CPUID
     * to the capture (unless the user chose components). */
    if (strncmp(source, "sysfs:", 6) == 0 && source[6]) {
        setenv("HWLOC_FSROOT", source + 6, 1);
        setenv("HWLOC_COMPONENTS", "linux,stop", 0);
    }
    int rc = np_topology_open(source, fmt, out, &err);
    return rc < 0 ? cli_fail(rc, &err) : NP_EXIT_OK;
}

const char *cli_bytes(unsigned long long bytes, char *buf, size_t len)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    unsigned u = 0;
    double v = (double)bytes;
    while (v >= 1024.0 && u < 6) {
        v /= 1024.0;
        u++;
    }
    if (u == 0 || v >= 100.0 || v == (double)(unsigned long long)v)
        snprintf(buf, len, "%.0f %s", v, units[u]);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

/* ---- human output ----------------------------------------------------------- */

static char *cpulist(const np_bitmap *map)
{
    size_t need = np_bitmap_format(map, NULL, 0);
    char *s = malloc(need + 1);
    if (s)
        np_bitmap_format(map, s, need + 1);
    return s;
}

static void count_packages(const np_topology *t, unsigned *packages, unsigned *threads)
{
    unsigned max_pkg = 0, max_thread = 0;
    bool any = false;
    /* Packages are numbered per package by the source; count distinct ids. */
    np_bitmap *seen = NULL;
    if (np_bitmap_create(&seen) < 0) {
        *packages = 0;
        *threads = 1;
        return;
    }
    for (size_t i = 0; i < np_topology_nr_cpus(t); i++) {
        const np_cpu_info *c = np_topology_cpu(t, i);
        if (c->package_id != NP_TOPO_ID_UNKNOWN && c->package_id <= NP_BITMAP_MAX_ID) {
            np_bitmap_set(seen, c->package_id);
            any = true;
        }
        if (c->thread_idx > max_thread)
            max_thread = c->thread_idx;
    }
    max_pkg = np_bitmap_count(seen);
    np_bitmap_destroy(seen);
    *packages = any ? max_pkg : 0;
    *threads = max_thread + 1;
}

static void print_distances(FILE *out, const np_topology *t)
{
    size_t n = np_topology_nr_nodes(t);
    if (n > CLI_MAX_DISTANCE_COLUMNS) {
        /* A 256-column matrix helps nobody on a terminal: show which distance
         * values occur and how often; --json has the full matrix. */
        fprintf(out, "node distances: %zu x %zu matrix (use --json for all of it)\n", n, n);
        fprintf(out, "  distance  node pairs\n");
        uint32_t last = 0;
        for (;;) {
            uint32_t next = UINT32_MAX;
            size_t count = 0;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    uint32_t d = np_topology_distance(t, i, j);
                    if (d > last && d < next) {
                        next = d;
                        count = 0;
                    }
                    if (d == next)
                        count++;
                }
            if (next == UINT32_MAX)
                break;
            fprintf(out, "  %8u  %zu\n", next, count);
            last = next;
        }
        return;
    }
    fprintf(out, "node distances:\nnode");
    for (size_t j = 0; j < n; j++)
        fprintf(out, " %3u", np_topology_node(t, j)->os_id);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%3u:", np_topology_node(t, i)->os_id);
        for (size_t j = 0; j < n; j++)
            fprintf(out, " %3u", np_topology_distance(t, i, j));
        fputc('\n', out);
    }
}

static void print_device(FILE *out, const np_pci_info *d)
{
    char bdf[16];
    fprintf(out, "    %s", np_pci_format_bdf(d, bdf, sizeof(bdf)));
    if (d->vendor_id || d->device_id)
        fprintf(out, "  %04x:%04x", d->vendor_id, d->device_id);
    if (d->class_code)
        fprintf(out, "  class %04x", d->class_code >> 8);
    if (d->name[0])
        fprintf(out, "  %s", d->name);
    fputc('\n', out);
}

static void print_devices(FILE *out, const np_topology *t)
{
    size_t nd = np_topology_nr_devices(t);
    if (nd == 0)
        return;
    fprintf(out, "\nPCI devices by node:\n");
    for (size_t n = 0; n <= np_topology_nr_nodes(t); n++) {
        bool header = false;
        int32_t want = n < np_topology_nr_nodes(t) ? (int32_t)n : -1;
        for (size_t i = 0; i < nd; i++) {
            const np_pci_info *d = np_topology_device(t, i);
            if (d->node_idx != want)
                continue;
            if (!header) {
                if (want >= 0)
                    fprintf(out, "  node %u\n", np_topology_node(t, n)->os_id);
                else
                    fprintf(out, "  node unknown\n");
                header = true;
            }
            print_device(out, d);
        }
    }
}

static void print_memattrs(FILE *out, const np_topology *t)
{
    if (!np_topology_has_memattrs(t))
        return;
    size_t n = np_topology_nr_nodes(t);
    fprintf(out, "\nmemory attributes (initiator -> target: bandwidth MB/s, latency ns):\n");
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            np_memattr a;
            if (np_topology_memattr(t, i, j, &a) < 0)
                continue;
            fprintf(out, "  %3u -> %-3u", np_topology_node(t, i)->os_id,
                    np_topology_node(t, j)->os_id);
            if (a.bandwidth_mbps)
                fprintf(out, "  %8llu MB/s", (unsigned long long)a.bandwidth_mbps);
            else
                fprintf(out, "  %8s     ", "-");
            if (a.latency_ns)
                fprintf(out, "  %6llu ns", (unsigned long long)a.latency_ns);
            fputc('\n', out);
        }
    }
}

void cli_print_topology(FILE *out, const np_topology *t)
{
    size_t n = np_topology_nr_nodes(t);
    unsigned packages, threads;
    uint64_t free_total = 0, cores = 0;
    char b1[32], b2[32];
    count_packages(t, &packages, &threads);
    for (size_t i = 0; i < n; i++) {
        free_total += np_topology_node(t, i)->mem_free_bytes;
        cores += np_topology_node(t, i)->nr_cores;
    }
    fprintf(out, "host     %s\n", np_topology_name(t));
    fprintf(out, "nodes    %zu\n", n);
    fprintf(out, "cpus     %zu logical, %llu cores", np_topology_nr_cpus(t),
            (unsigned long long)cores);
    if (packages)
        fprintf(out, ", %u package%s", packages, packages == 1 ? "" : "s");
    fprintf(out, ", %u thread%s per core\n", threads, threads == 1 ? "" : "s");
    fprintf(out, "memory   %s total, %s free\n\n",
            cli_bytes(np_topology_mem_total_bytes(t), b1, sizeof(b1)),
            cli_bytes(free_total, b2, sizeof(b2)));

    /* Width of the cpus column: the longest list, at least the header. */
    size_t width = 4;
    char **lists = calloc(n, sizeof(*lists));
    for (size_t i = 0; lists && i < n; i++) {
        lists[i] = cpulist(np_topology_node_cpuset(t, i));
        size_t l = lists[i] ? strlen(lists[i]) : 0;
        if (l > width)
            width = l;
    }
    fprintf(out, "node  %-*s  cores  %10s  %10s  kind\n", (int)width, "cpus", "memory", "free");
    for (size_t i = 0; i < n; i++) {
        const np_node_info *node = np_topology_node(t, i);
        const char *cpus = lists && lists[i] ? lists[i] : "?";
        fprintf(out, "%4u  %-*s  %5u  %10s  %10s  %s\n", node->os_id, (int)width,
                node->nr_cpus ? cpus : "-", node->nr_cores,
                cli_bytes(node->mem_total_bytes, b1, sizeof(b1)),
                cli_bytes(node->mem_free_bytes, b2, sizeof(b2)), np_mem_kind_name(node->mem_kind));
    }
    for (size_t i = 0; lists && i < n; i++)
        free(lists[i]);
    free(lists);
    fputc('\n', out);
    print_distances(out, t);
    print_devices(out, t);
    print_memattrs(out, t);
}

/* ---- JSON output --------------------------------------------------------------- */

static json_t *id_or_null(uint32_t id)
{
    return id == NP_TOPO_ID_UNKNOWN ? json_null() : json_integer(id);
}

static json_t *hex_string(unsigned value, int digits)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "%0*x", digits, value);
    return json_string(buf);
}

json_t *cli_topology_json(const np_topology *t)
{
    size_t n = np_topology_nr_nodes(t);
    json_t *root = json_object();
    json_t *nodes = json_array(), *cpus = json_array(), *dist = json_array();
    json_t *devs = json_array(), *attrs = json_array();
    if (!root || !nodes || !cpus || !dist || !devs || !attrs)
        goto fail;
    json_object_set_new(root, "schema", json_string("numaplace.topology/1"));
    json_object_set_new(root, "name", json_string(np_topology_name(t)));
    for (size_t i = 0; i < n; i++) {
        const np_node_info *node = np_topology_node(t, i);
        char *list = cpulist(np_topology_node_cpuset(t, i));
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(node->os_id));
        json_object_set_new(o, "cpus", json_string(list ? list : ""));
        json_object_set_new(o, "cpu_count", json_integer(node->nr_cpus));
        json_object_set_new(o, "core_count", json_integer(node->nr_cores));
        json_object_set_new(o, "memory_bytes", json_integer((json_int_t)node->mem_total_bytes));
        json_object_set_new(o, "free_bytes", json_integer((json_int_t)node->mem_free_bytes));
        json_object_set_new(o, "kind", json_string(np_mem_kind_name(node->mem_kind)));
        json_array_append_new(nodes, o);
        free(list);
        json_t *row = json_array();
        for (size_t j = 0; j < n; j++)
            json_array_append_new(row, json_integer(np_topology_distance(t, i, j)));
        json_array_append_new(dist, row);
        for (size_t j = 0; j < n; j++) {
            np_memattr a;
            if (np_topology_memattr(t, i, j, &a) < 0)
                continue;
            json_t *m = json_object();
            json_object_set_new(m, "initiator", json_integer(node->os_id));
            json_object_set_new(m, "target", json_integer(np_topology_node(t, j)->os_id));
            json_object_set_new(m, "bandwidth_mbps",
                                a.bandwidth_mbps ? json_integer((json_int_t)a.bandwidth_mbps)
                                                 : json_null());
            json_object_set_new(m, "latency_ns",
                                a.latency_ns ? json_integer((json_int_t)a.latency_ns)
                                             : json_null());
            json_array_append_new(attrs, m);
        }
    }
    for (size_t i = 0; i < np_topology_nr_cpus(t); i++) {
        const np_cpu_info *c = np_topology_cpu(t, i);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(c->os_id));
        json_object_set_new(o, "node", json_integer(np_topology_node(t, c->node_idx)->os_id));
        json_object_set_new(o, "package", id_or_null(c->package_id));
        json_object_set_new(o, "core", id_or_null(c->core_id));
        json_object_set_new(o, "thread", json_integer(c->thread_idx));
        json_array_append_new(cpus, o);
    }
    for (size_t i = 0; i < np_topology_nr_devices(t); i++) {
        const np_pci_info *d = np_topology_device(t, i);
        char bdf[16];
        json_t *o = json_object();
        json_object_set_new(o, "address", json_string(np_pci_format_bdf(d, bdf, sizeof(bdf))));
        json_object_set_new(o, "node", d->node_idx >= 0
                                           ? json_integer(np_topology_node(t, (size_t)d->node_idx)->os_id)
                                           : json_null());
        json_object_set_new(o, "vendor_id", d->vendor_id ? hex_string(d->vendor_id, 4) : json_null());
        json_object_set_new(o, "device_id", d->device_id ? hex_string(d->device_id, 4) : json_null());
        json_object_set_new(o, "class", d->class_code ? hex_string(d->class_code, 6) : json_null());
        json_object_set_new(o, "name", json_string(d->name));
        json_array_append_new(devs, o);
    }
    json_object_set_new(root, "nodes", nodes);
    json_object_set_new(root, "cpus", cpus);
    json_object_set_new(root, "distances", dist);
    json_object_set_new(root, "devices", devs);
    json_object_set_new(root, "memory_attributes", attrs);
    return root;
fail:
    json_decref(root);
    json_decref(nodes);
    json_decref(cpus);
    json_decref(dist);
    json_decref(devs);
    json_decref(attrs);
    return NULL;
}

/* ---- option values ---------------------------------------------------------- */

int cli_parse_size(const char *text, const char *option, uint64_t *bytes_out)
{
    if (np_size_parse(text, bytes_out) < 0) {
        cli_errorf("%s: expected a size such as 512M or 8G, got '%s'", option, text);
        return -EINVAL;
    }
    return 0;
}

int cli_parse_uint(const char *text, const char *option, uint64_t min, uint64_t max,
                   uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || errno == ERANGE || *end || v < min || v > max) {
        cli_errorf("%s: expected a whole number from %llu to %llu, got '%s'", option,
                   (unsigned long long)min, (unsigned long long)max, text);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

#ifdef NP_HAVE_XEN
void cli_xen_log(void *opaque, np_log_level level, const char *subsys, const char *msg)
{
    if (level <= NP_LOG_WARNING || opaque)
        fprintf(stderr, "numaplace: %s: %s\n", subsys, msg);
}
#endif
