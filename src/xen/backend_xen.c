/*
 * xen/backend_xen.c - the Xen backend: numaplace's backend operations on a
 * dom0, through libxenlight. Topology from libxl_get_numainfo,
 * libxl_get_cpu_topology and libxl_get_pci_topology; guests from
 * libxl_list_domain and libxl_list_vcpu; per-node memory of each domain
 * from debug key `u`, which Xen 4.17 only prints: the backend sends the key
 * with libxl_send_debug_keys and reads the console ring back with
 * libxl_xen_console_read_*, never by running `xl`.
 *
 * Every libxl failure is translated here, at the boundary, into a negative
 * errno, and logged with libxl's own code and name so nothing is lost.
 * libxl's own log lines go to the same callback through a small
 * xentoollog_logger. Memory cannot be moved between nodes of a running
 * domain in Xen 4.17; migrate_memory (xen_move.c) moves a whole domain by
 * save/restore, and only when the caller opted in.
 */
#include "xen/xen_int.h"

#include <libxl_utils.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/error.h"

/* The console ring is at most a few MiB (conring_size); 16 MiB bounds a
 * read that would otherwise grow without end. */
#define XEN_CONRING_MAX_BYTES (16u << 20)
/* The `u` handler runs synchronously in the sysctl, but a busy ring may
 * show the dump a moment later: retry the read a few times, 20 ms apart. */
#define XEN_DUMP_READ_TRIES 5
#define XEN_DUMP_RETRY_NS 20000000L
#define XEN_LOG_LINE_MAX 1024

typedef struct xen_logger {
    xentoollog_logger vtable; /* first: libxl calls through it */
    np_xen *xen;
} xen_logger;

struct np_xen {
    libxl_ctx *ctx;
    xen_logger logger;
    np_log_fn log;
    void *log_opaque;
    xen_move_state move;
};

static void xen_log(np_xen *x, np_log_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void xen_log(np_xen *x, np_log_level level, const char *subsys, const char *fmt, ...)
{
    char msg[XEN_LOG_LINE_MAX];
    va_list ap;
    if (!x->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    x->log(x->log_opaque, level, subsys, msg);
}

void np_xen_logf(np_xen *x, np_log_level level, const char *fmt, ...)
{
    char msg[XEN_LOG_LINE_MAX];
    va_list ap;
    if (!x->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    x->log(x->log_opaque, level, "xen", msg);
}

xen_move_state *np_xen_move_state(np_xen *xen)
{
    return &xen->move;
}

/* The boundary: a libxl code into an errno, logged with the original. */
int np_xen_fail(np_xen *x, const char *what, int libxl_rc)
{
    xen_log(x, NP_LOG_ERROR, "xen", "%s failed: libxl error %d (%s)", what, libxl_rc,
            np_xen_error_name(libxl_rc));
    return np_xen_errno(libxl_rc);
}

static void logger_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
                            const char *context, const char *format, va_list al)
    __attribute__((format(printf, 5, 0)));

static void logger_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
                            const char *context, const char *format, va_list al)
{
    xen_logger *l = (xen_logger *)logger;
    char msg[XEN_LOG_LINE_MAX];
    np_log_level lvl = level >= XTL_ERROR  ? NP_LOG_ERROR
                       : level >= XTL_WARN ? NP_LOG_WARNING
                       : level >= XTL_INFO ? NP_LOG_INFO
                                           : NP_LOG_DEBUG;
    int n;
    if (!l->xen->log)
        return;
    n = vsnprintf(msg, sizeof(msg), format, al);
    if (errnoval >= 0 && n >= 0 && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnoval));
    l->xen->log(l->xen->log_opaque, lvl, context ? context : "xen/libxl", msg);
}

static void logger_destroy(xentoollog_logger *logger)
{
    (void)logger; /* lives inside np_xen */
}

int np_xen_open(np_log_fn log, void *log_opaque, np_xen **out)
{
    np_xen *x = calloc(1, sizeof(*x));
    int lrc;
    if (!x)
        return -ENOMEM;
    x->log = log;
    x->log_opaque = log_opaque;
    x->logger.vtable.vmessage = logger_vmessage;
    x->logger.vtable.progress = NULL;
    x->logger.vtable.destroy = logger_destroy;
    x->logger.xen = x;
    lrc = libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, &x->logger.vtable);
    if (lrc) {
        int rc = np_xen_fail(x, "libxl_ctx_alloc (is this a Xen dom0?)", lrc);
        free(x);
        return rc;
    }
    *out = x;
    return 0;
}

libxl_ctx *np_xen_ctx(np_xen *xen)
{
    return xen->ctx;
}

void np_xen_close(np_xen *xen)
{
    if (!xen)
        return;
    libxl_ctx_free(xen->ctx);
    free(xen);
}

int np_xen_topology(np_xen *x, np_topology **out, np_error *err)
{
    libxl_numainfo *numa = NULL;
    libxl_cputopology *cpus = NULL;
    libxl_pcitopology *devs = NULL;
    int nr_nodes = 0, nr_cpus = 0, nr_devs = 0, rc;

    numa = libxl_get_numainfo(x->ctx, &nr_nodes);
    if (!numa) {
        rc = np_error_set(err, "xen", 0, "libxl_get_numainfo failed (see the log)");
        goto out;
    }
    cpus = libxl_get_cpu_topology(x->ctx, &nr_cpus);
    if (!cpus) {
        rc = np_error_set(err, "xen", 0, "libxl_get_cpu_topology failed (see the log)");
        goto out;
    }
    /* No PCI topology (no devices, or a Xen without the sysctl) is fine. */
    devs = libxl_get_pci_topology(x->ctx, &nr_devs);
    if (!devs)
        nr_devs = 0;
    rc = np_xen_topology_from_libxl(numa, nr_nodes, cpus, nr_cpus, devs, nr_devs, out, err);
out:
    if (numa)
        libxl_numainfo_list_free(numa, nr_nodes);
    if (cpus)
        libxl_cputopology_list_free(cpus, nr_cpus);
    if (devs)
        libxl_pcitopology_list_free(devs, nr_devs);
    return rc;
}

int np_topology_read_xen(np_topology **out, np_error *err)
{
    np_xen *x = NULL;
    int rc = np_xen_open(NULL, NULL, &x);
    if (rc)
        return np_error_set(err, "xen", 0,
                            "cannot open libxl (%s): the `xen` source needs a Xen dom0 and root",
                            np_strerror(rc));
    rc = np_xen_topology(x, out, err);
    np_xen_close(x);
    return rc;
}

/* The whole console ring, without clearing it (other readers share it). */
static int read_conring(np_xen *x, char **text_out, size_t *len_out)
{
    libxl_xen_console_reader *cr = libxl_xen_console_read_start(x->ctx, 0);
    char *buf = NULL, *chunk;
    size_t len = 0, cap = 0;
    int lrc, rc = 0;

    if (!cr)
        return np_xen_fail(x, "libxl_xen_console_read_start", ERROR_FAIL);
    while ((lrc = libxl_xen_console_read_line(x->ctx, cr, &chunk)) > 0 && chunk) {
        size_t n = strlen(chunk);
        if (len + n + 1 > XEN_CONRING_MAX_BYTES) {
            rc = -EFBIG;
            goto out;
        }
        if (len + n + 1 > cap) {
            size_t ncap = cap ? cap : 65536;
            while (ncap < len + n + 1)
                ncap *= 2;
            char *grown = realloc(buf, ncap);
            if (!grown) {
                rc = -ENOMEM;
                goto out;
            }
            buf = grown;
            cap = ncap;
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    if (lrc < 0) {
        rc = np_xen_fail(x, "libxl_xen_console_read_line", lrc);
        goto out;
    }
out:
    libxl_xen_console_read_finish(x->ctx, cr);
    if (rc) {
        free(buf);
        return rc;
    }
    *text_out = buf;
    *len_out = len;
    return 0;
}

int np_xen_numa_dump_read(np_xen *x, np_xen_numa_dump **out, np_error *err)
{
    char keys[] = "u"; /* libxl takes a non-const string */
    char *text = NULL;
    size_t len = 0;
    int lrc, rc = -EINVAL;

    lrc = libxl_send_debug_keys(x->ctx, keys);
    if (lrc) {
        rc = np_xen_fail(x, "libxl_send_debug_keys(u)", lrc);
        np_error_set(err, "xen", 0, "cannot send debug key u: %s", np_strerror(rc));
        return rc;
    }
    for (int attempt = 0; attempt < XEN_DUMP_READ_TRIES; attempt++) {
        if (attempt) {
            struct timespec ts = {0, XEN_DUMP_RETRY_NS};
            nanosleep(&ts, NULL);
        }
        free(text);
        text = NULL;
        rc = read_conring(x, &text, &len);
        if (rc) {
            np_error_set(err, "xen", 0, "cannot read the console ring: %s", np_strerror(rc));
            break;
        }
        rc = np_xen_numa_dump_parse(text, len, "xen console ring", out, err);
        if (rc != -EINVAL)
            break;
    }
    free(text);
    return rc;
}

int np_xen_heap_dump_read(np_xen *x, np_xen_heap_dump **out, np_error *err)
{
    char keys[] = "H"; /* libxl takes a non-const string */
    char *text = NULL;
    size_t len = 0;
    int lrc, rc = -EINVAL;

    lrc = libxl_send_debug_keys(x->ctx, keys);
    if (lrc) {
        rc = np_xen_fail(x, "libxl_send_debug_keys(H)", lrc);
        np_error_set(err, "xen", 0, "cannot send debug key H: %s", np_strerror(rc));
        return rc;
    }
    for (int attempt = 0; attempt < XEN_DUMP_READ_TRIES; attempt++) {
        if (attempt) {
            struct timespec ts = {0, XEN_DUMP_RETRY_NS};
            nanosleep(&ts, NULL);
        }
        free(text);
        text = NULL;
        rc = read_conring(x, &text, &len);
        if (rc) {
            np_error_set(err, "xen", 0, "cannot read the console ring: %s", np_strerror(rc));
            break;
        }
        rc = np_xen_heap_dump_parse(text, len, "xen console ring", out, err);
        if (rc != -EINVAL)
            break;
    }
    free(text);
    return rc;
}

int np_xen_usable_read(np_xen *x, const np_topology *topo, const uint64_t *free_bytes,
                       const uint64_t *inflight_bytes, np_xen_alloc_node *nodes, np_error *err)
{
    np_xen_heap_dump *heap = NULL;
    int rc = np_xen_heap_dump_read(x, &heap, err);
    if (rc)
        return rc;
    uint32_t bits = np_xen_heap_dump_dma_bits(heap);
    if (bits == 0 && np_topology_nr_nodes(topo) > 0)
        /* the boot line has left the ring: Xen's own default, from the
         * lowest node (which starts at 0 on x86) */
        bits = np_xen_default_dma_bits(0, np_topology_node(topo, 0)->mem_total_bytes /
                                                NP_XEN_PAGE_BYTES);
    uint32_t dma_zone = np_xen_dma_zone(bits);
    for (size_t k = 0; k < np_topology_nr_nodes(topo); k++) {
        const np_node_info *n = np_topology_node(topo, k);
        np_xen_usable_node(n->os_id, free_bytes ? free_bytes[k] : n->mem_free_bytes,
                           np_xen_heap_dump_free_pages(heap, n->os_id, dma_zone) *
                               NP_XEN_PAGE_BYTES,
                           inflight_bytes ? inflight_bytes[k] : 0, &nodes[k]);
    }
    np_xen_heap_dump_destroy(heap);
    return 0;
}

int np_xen_set_node_affinity(np_xen *x, uint32_t domid, const np_bitmap *nodes)
{
    libxl_bitmap map = {0, NULL};
    int nr_nodes = libxl_get_max_nodes(x->ctx), rc, lrc;
    if (nr_nodes <= 0)
        return np_xen_fail(x, "libxl_get_max_nodes", nr_nodes ? nr_nodes : ERROR_FAIL);
    rc = np_xen_bitmap_from_np(nodes, (uint32_t)nr_nodes, &map);
    if (rc)
        return rc;
    lrc = libxl_domain_set_nodeaffinity(x->ctx, domid, &map);
    free(map.map);
    return lrc ? np_xen_fail(x, "libxl_domain_set_nodeaffinity", lrc) : 0;
}

/* ---- the operations ---------------------------------------------------- */

static int op_topology(void *impl, np_topology **out)
{
    np_xen *x = impl;
    np_error err = {0};
    int rc = np_xen_topology(x, out, &err);
    if (rc)
        xen_log(x, NP_LOG_ERROR, "xen", "topology: %s", err.msg);
    return rc;
}

/* When a domain started, on now_ns's clock (CLOCK_MONOTONIC). libxl keeps
 * the wall-clock second a domain started (libxl_vm_get_start_time); the
 * age is that second's distance from the wall clock now. Dom0 has no
 * recorded start: it started with this kernel, at the monotonic clock's
 * origin. Without this every vCPU's demand reads 1.0 (numaplace/backend.h)
 * and dom0's two mostly idle vCPUs look like two busy CPUs. */
static uint64_t guest_start_ns(np_xen *x, const libxl_dominfo *di)
{
    uint32_t domid = di->domid;
    struct timespec mono, real;
    uint32_t start_s;
    uint64_t age_ns, mono_ns;
    if (domid == 0)
        return 0;
    /* a domain still being built has no start time yet (libxl would log
     * an error for asking) */
    if (di->paused)
        return NP_BACKEND_TIME_UNKNOWN;
    /* restored by a move of ours: libxl lost its start time (xen_move.c) */
    if (np_xen_move_start_ns(&x->move, domid, &mono_ns) == 0)
        return mono_ns;
    start_s = libxl_vm_get_start_time(x->ctx, domid);
    if (start_s == 0 || clock_gettime(CLOCK_MONOTONIC, &mono) ||
        clock_gettime(CLOCK_REALTIME, &real) || real.tv_sec < (time_t)start_s)
        return NP_BACKEND_TIME_UNKNOWN;
    age_ns = (uint64_t)(real.tv_sec - (time_t)start_s) * UINT64_C(1000000000) +
             (uint64_t)real.tv_nsec;
    mono_ns = (uint64_t)mono.tv_sec * UINT64_C(1000000000) + (uint64_t)mono.tv_nsec;
    return age_ns < mono_ns ? mono_ns - age_ns : 0;
}

static int fill_guest(np_xen *x, const libxl_dominfo *di, const np_topology *topo,
                      const np_xen_numa_dump *dump, np_backend_guest *g)
{
    libxl_vcpuinfo *vcpus = NULL;
    int nr_vcpus = 0, nr_cpus = 0, rc;
    char *name = NULL;

    /* A domain another process is still building (or tearing down) is
     * listed before its vCPUs can be: -EAGAIN, the caller leaves it out. */
    vcpus = libxl_list_vcpu(x->ctx, di->domid, &nr_vcpus, &nr_cpus);
    if (!vcpus)
        return -EAGAIN;
    rc = np_backend_guest_alloc(g, (uint32_t)nr_vcpus, np_topology_nr_nodes(topo));
    if (rc)
        goto out;
    g->id = di->domid;
    g->runs_host = di->domid == 0; /* dom0 runs the host */
    name = libxl_domid_to_name(x->ctx, di->domid);
    snprintf(g->name, sizeof(g->name), "%s", name ? name : "");
    g->mem_target_bytes = di->current_memkb * 1024;
    g->maxmem_bytes = di->max_memkb * 1024;
    g->start_ns = guest_start_ns(x, di);
    for (int i = 0; i < nr_vcpus; i++) {
        rc = np_xen_vcpu_from_libxl(&vcpus[i], topo, &g->vcpus[i]);
        if (rc)
            goto out;
    }
    rc = np_xen_guest_node_mem(dump, di->domid, topo, g->node_mem_bytes);
    if (rc == -ENOENT) {
        /* created after the dump: its memory is not known yet */
        xen_log(x, NP_LOG_WARNING, "xen", "domain %u is not in the NUMA dump",
                (unsigned)di->domid);
        rc = 0;
    }
out:
    free(name);
    libxl_vcpuinfo_list_free(vcpus, nr_vcpus);
    return rc;
}

static int op_list_guests(void *impl, np_backend_guest **guests_out, size_t *nr_out)
{
    np_xen *x = impl;
    np_topology *topo = NULL;
    np_xen_numa_dump *dump = NULL;
    libxl_dominfo *doms = NULL;
    np_backend_guest *list = NULL;
    np_error err = {0};
    int nr_doms = 0, rc;
    size_t n = 0;

    rc = np_xen_topology(x, &topo, &err);
    if (rc)
        goto out;
    rc = np_xen_numa_dump_read(x, &dump, &err);
    if (rc)
        goto out;
    doms = libxl_list_domain(x->ctx, &nr_doms);
    if (!doms) {
        rc = np_xen_fail(x, "libxl_list_domain", ERROR_FAIL);
        goto out;
    }
    rc = np_backend_guests_alloc((size_t)nr_doms, &list);
    if (rc)
        goto out;
    for (int i = 0; i < nr_doms && !rc; i++) {
        if (doms[i].dying)
            continue;
        rc = fill_guest(x, &doms[i], topo, dump, &list[n]);
        if (rc == -EAGAIN) { /* nothing was allocated for it */
            xen_log(x, NP_LOG_INFO, "xen",
                    "domain %u: its vCPUs cannot be listed yet (being built or torn down): "
                    "left out of this listing",
                    (unsigned)doms[i].domid);
            rc = 0;
            continue;
        }
        n++;
    }
    if (rc)
        goto out;
    *guests_out = list;
    *nr_out = n;
    list = NULL;
out:
    if (rc && err.msg[0])
        xen_log(x, NP_LOG_ERROR, "xen", "list guests: %s", err.msg);
    np_backend_guests_free(list, n);
    if (doms)
        libxl_dominfo_list_free(doms, nr_doms);
    np_xen_numa_dump_destroy(dump);
    np_topology_destroy(topo);
    return rc;
}

static int op_node_free_bytes(void *impl, size_t node_idx, uint64_t *free_out)
{
    np_xen *x = impl;
    np_topology *topo = NULL;
    np_error err = {0};
    int rc = np_xen_topology(x, &topo, &err);
    if (rc)
        return rc;
    if (node_idx >= np_topology_nr_nodes(topo))
        rc = -EINVAL;
    else
        *free_out = np_topology_node(topo, node_idx)->mem_free_bytes;
    np_topology_destroy(topo);
    return rc;
}

/* A libxl bitmap with every one of nr_bits set. */
static int bitmap_all(uint32_t nr_bits, libxl_bitmap *out)
{
    out->size = (nr_bits + 7) / 8;
    out->map = malloc(out->size);
    if (!out->map)
        return -ENOMEM;
    memset(out->map, 0xff, out->size);
    return 0;
}

static int op_set_vcpu_affinity(void *impl, uint64_t guest_id, uint32_t vcpu,
                                const np_bitmap *hard, const np_bitmap *soft)
{
    np_xen *x = impl;
    libxl_bitmap lhard = {0, NULL}, lsoft = {0, NULL};
    libxl_dominfo info;
    int nr_cpus = libxl_get_max_cpus(x->ctx), rc = 0, lrc;

    if (guest_id > UINT32_MAX)
        return -ENOENT;
    if (nr_cpus <= 0)
        return np_xen_fail(x, "libxl_get_max_cpus", nr_cpus ? nr_cpus : ERROR_FAIL);
    libxl_dominfo_init(&info);
    lrc = libxl_domain_info(x->ctx, &info, (uint32_t)guest_id);
    if (lrc) {
        rc = np_xen_fail(x, "libxl_domain_info", lrc);
        goto out;
    }
    if (vcpu > info.vcpu_max_id) {
        rc = -ENOENT;
        goto out;
    }
    /* NULL hard = every CPU; NULL or empty soft = no preference (all). */
    rc = hard ? np_xen_bitmap_from_np(hard, (uint32_t)nr_cpus, &lhard)
              : bitmap_all((uint32_t)nr_cpus, &lhard);
    if (rc == 0)
        rc = soft && !np_bitmap_is_empty(soft)
                 ? np_xen_bitmap_from_np(soft, (uint32_t)nr_cpus, &lsoft)
                 : bitmap_all((uint32_t)nr_cpus, &lsoft);
    if (rc)
        goto out;
    lrc = libxl_set_vcpuaffinity(x->ctx, (uint32_t)guest_id, vcpu, &lhard, &lsoft);
    if (lrc)
        rc = np_xen_fail(x, "libxl_set_vcpuaffinity", lrc);
out:
    free(lhard.map);
    free(lsoft.map);
    libxl_dominfo_dispose(&info);
    return rc;
}

static int op_set_guest_node_affinity(void *impl, uint64_t guest_id, const np_bitmap *nodes)
{
    np_xen *x = impl;
    np_bitmap *all = NULL;
    int rc;
    if (guest_id > UINT32_MAX)
        return -ENOENT;
    if (nodes)
        return np_xen_set_node_affinity(x, (uint32_t)guest_id, nodes);
    /* NULL = any node: every node id Xen may have */
    int max = libxl_get_max_nodes(x->ctx);
    if (max <= 0)
        return np_xen_fail(x, "libxl_get_max_nodes", max ? max : ERROR_FAIL);
    rc = np_bitmap_create(&all);
    if (rc == 0)
        rc = np_bitmap_set_range(all, 0, (unsigned)max - 1);
    if (rc == 0)
        rc = np_xen_set_node_affinity(x, (uint32_t)guest_id, all);
    np_bitmap_destroy(all);
    return rc;
}

static int op_now_ns(void *impl, uint64_t *now_out)
{
    struct timespec ts;
    (void)impl;
    if (clock_gettime(CLOCK_MONOTONIC, &ts))
        return -errno;
    *now_out = (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
    return 0;
}

static int op_random(void *impl, uint64_t *out)
{
    (void)impl;
    ssize_t r = getrandom(out, sizeof(*out), 0);
    if (r < 0)
        return -errno;
    return r == (ssize_t)sizeof(*out) ? 0 : -EIO;
}

static void op_log(void *impl, np_log_level level, const char *subsys, const char *msg)
{
    np_xen *x = impl;
    if (x->log)
        x->log(x->log_opaque, level, subsys, msg);
}

static const struct np_backend_ops xen_ops = {
    .version = 2,
    .name = "xen",
    .topology = op_topology,
    .list_guests = op_list_guests,
    .node_free_bytes = op_node_free_bytes,
    .set_vcpu_affinity = op_set_vcpu_affinity,
    .set_guest_node_affinity = op_set_guest_node_affinity,
    .migrate_memory = np_xen_op_migrate_memory,
    .now_ns = op_now_ns,
    .random = op_random,
    .log = op_log,
    .flags = NP_BACKEND_NAMES_IDENTIFY,
};

const struct np_backend_ops *np_xen_backend_ops(void)
{
    return &xen_ops;
}
