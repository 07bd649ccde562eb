/*
 * xen/xen_create.c - `numaplace create`'s last step: a domain built through
 * libxl with numaplace's placement written into its configuration, and
 * libxl's own NUMA placement switched off for it.
 *
 * xl's configuration parser is not a library call (it lives in xl itself),
 * so this file reads the handful of keys a directly-booted PV or PVH guest
 * needs with libxlutil and refuses any other key by name rather than
 * silently dropping a disk or a NIC. The placement goes into the build
 * info: nodemap (node affinity: where Xen allocates the memory),
 * vcpu_soft_affinity or vcpu_hard_affinity per vCPU, numa_placement false,
 * and vnuma_nodes when the guest spans nodes.
 *
 * The libxl 4.17 vNUMA bug (docs/xen.md): for a PVH guest with vNUMA,
 * libxl's init_acpi_config() asks xc_domain_getvnuma() for the sizes with
 * empty buffers; Xen answers that probe with -ENOBUFS after filling in the
 * sizes, and libxl treats it as fatal, so every PVH vNUMA creation fails.
 * numaplace defines xc_domain_getvnuma itself: the dynamic linker binds
 * libxenlight's call to this definition, which calls libxenctrl's and turns
 * exactly that probe's ENOBUFS (all three buffers NULL) into success.
 * Every other call passes through unchanged.
 *
 * A second bug in the same function: the distance buffer of the second
 * call is allocated with nr_vnodes entries instead of nr_vnodes squared.
 * With 2 vnodes malloc's 24-byte minimum chunk absorbs the 16 bytes Xen
 * writes; with 3 Xen writes 36 bytes into a 24-byte chunk and the heap is
 * corrupted ("malloc(): unaligned tcache chunk detected", seen on the
 * emulated host). So numaplace builds at most NP_XEN_VNUMA_MAX_VNODES
 * vnodes on Xen 4.17, and the interposer refuses an undersized buffer.
 */
#include "xen/xen_int.h"

#include <dlfcn.h>
#include <malloc.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl_utils.h>
#include <libxlutil.h>

#include <numaplace/guest.h>
#include <numaplace/place.h>
#include <numaplace/vnuma.h>

#include "util/error.h"
#include "util/text.h"

#define KiB_SHIFT 10
#define CREATE_KEY_MAX 64

/* ---- the vNUMA size-probe fix ------------------------------------------- */

/* xenctrl.h needs GNU C; the two types only pass through here as pointers,
 * so they are declared, not defined (same ABI as xenctrl.h's prototype). */
struct xc_interface_core;
struct xen_vmemrange;
typedef int (*getvnuma_fn)(struct xc_interface_core *, uint32_t, uint32_t *, uint32_t *,
                           uint32_t *, struct xen_vmemrange *, unsigned int *, unsigned int *);

int xc_domain_getvnuma(struct xc_interface_core *xch, uint32_t domid, uint32_t *nr_vnodes,
                       uint32_t *nr_vmemranges, uint32_t *nr_vcpus,
                       struct xen_vmemrange *vmemrange, unsigned int *vdistance,
                       unsigned int *vcpu_to_vnode);

int xc_domain_getvnuma(struct xc_interface_core *xch, uint32_t domid, uint32_t *nr_vnodes,
                       uint32_t *nr_vmemranges, uint32_t *nr_vcpus,
                       struct xen_vmemrange *vmemrange, unsigned int *vdistance,
                       unsigned int *vcpu_to_vnode)
{
    getvnuma_fn real = (getvnuma_fn)(uintptr_t)dlsym(RTLD_NEXT, "xc_domain_getvnuma");
    int r;
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    /* libxl 4.17 sizes the distance buffer nr_vnodes entries, not
     * nr_vnodes squared; Xen writes the whole matrix. malloc's smallest
     * chunk hides that for 2 vnodes; from 3 on the heap is overwritten.
     * Refuse rather than corrupt (numaplace create never asks for more
     * than NP_XEN_VNUMA_MAX_VNODES; this guards every other caller). */
    if (vdistance && nr_vnodes &&
        malloc_usable_size(vdistance) < (size_t)*nr_vnodes * *nr_vnodes * sizeof(*vdistance)) {
        errno = E2BIG;
        return -1;
    }
    r = real(xch, domid, nr_vnodes, nr_vmemranges, nr_vcpus, vmemrange, vdistance,
             vcpu_to_vnode);
    if (r < 0 && errno == ENOBUFS && !vmemrange && !vdistance && !vcpu_to_vnode)
        return 0; /* the size probe: sizes are filled in, which is all it asked */
    return r;
}

/* ---- the configuration ---------------------------------------------------- */

static const char *const known_keys[] = {
    "name", "type", "memory", "maxmem", "vcpus", "maxvcpus", "kernel", "ramdisk",
    "cmdline", "extra", "root", "cpus", "cpus_soft", "vnuma",
};

/* Every assigned key must be one this file builds (or numaplace's own). */
static int check_keys(const char *text, size_t len, const char *origin, np_error *err)
{
    np_line_scanner s;
    const char *line;
    int rc = 0;
    np_scanner_init(&s, text, len);
    while (rc == 0 && np_scanner_next(&s, &line) > 0) {
        const char *p = np_skip_ws(line);
        char key[CREATE_KEY_MAX];
        size_t n = 0;
        bool known = false;
        if (*p == '#' || *p == '\0' || *p == ']' || *p == '[' || *p == '"' || *p == '\'')
            continue; /* comments, blank lines, continued lists */
        while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
               (p[n] >= '0' && p[n] <= '9') || p[n] == '_')
            n++;
        if (n == 0 || n >= sizeof(key) || !strchr(np_skip_ws(p + n), '='))
            continue;
        memcpy(key, p, n);
        key[n] = '\0';
        for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
            known = known || strcmp(key, known_keys[i]) == 0;
        if (!known)
            rc = np_error_set(err, origin, s.lineno,
                              "numaplace create does not build '%s' (only name, type, memory, "
                              "maxmem, vcpus, maxvcpus, kernel, ramdisk, cmdline, extra, root); "
                              "use `numaplace place --emit xl` and xl create",
                              key);
    }
    np_scanner_fini(&s);
    return rc ? -ENOTSUP : 0;
}

static int dup_string(const XLU_Config *cfg, const char *key, char **out)
{
    const char *v = NULL;
    *out = NULL;
    if (xlu_cfg_get_string(cfg, key, &v, 1) == 0 && v) {
        *out = strdup(v);
        if (!*out)
            return -ENOMEM;
    }
    return 0;
}

/* libxl's bitmap of `nr_bits` with the bits of `map` (CPU or node os_ids). */
static int fill_bitmap(const np_bitmap *map, uint32_t nr_bits, libxl_bitmap *out)
{
    libxl_bitmap tmp = {0, NULL};
    int rc = np_xen_bitmap_from_np(map, nr_bits, &tmp);
    if (rc == 0)
        *out = tmp;
    return rc;
}

static int set_affinity(libxl_ctx *ctx, const np_guest_spec *spec, const np_placement *pl,
                        libxl_domain_build_info *b)
{
    int nr_cpus = libxl_get_max_cpus(ctx), rc;
    libxl_bitmap *maps;
    bool hard = spec->affinity == NP_AFFINITY_HARD;
    if (spec->affinity == NP_AFFINITY_NONE)
        return 0;
    if (nr_cpus <= 0)
        return np_xen_errno(nr_cpus ? nr_cpus : ERROR_FAIL);
    maps = calloc(spec->vcpus, sizeof(*maps));
    if (!maps)
        return -ENOMEM;
    for (uint32_t v = 0; v < spec->vcpus; v++) {
        const np_bitmap *m = hard ? np_placement_vcpu_hard(pl, v) : np_placement_vcpu_soft(pl, v);
        if (!m)
            m = hard ? np_placement_cpus_hard(pl) : np_placement_cpus_soft(pl);
        libxl_bitmap_init(&maps[v]);
        if (m && (rc = fill_bitmap(m, (uint32_t)nr_cpus, &maps[v])) != 0) {
            for (uint32_t k = 0; k < v; k++)
                libxl_bitmap_dispose(&maps[k]);
            free(maps);
            return rc;
        }
    }
    if (hard) {
        b->vcpu_hard_affinity = maps;
        b->num_vcpu_hard_affinity = (int)spec->vcpus;
    } else {
        b->vcpu_soft_affinity = maps;
        b->num_vcpu_soft_affinity = (int)spec->vcpus;
    }
    return 0;
}

static int set_vnuma(const np_vnuma *vn, libxl_domain_build_info *b)
{
    size_t n = np_vnuma_nr_vnodes(vn);
    int rc;
    b->vnuma_nodes = calloc(n, sizeof(*b->vnuma_nodes));
    if (!b->vnuma_nodes)
        return -ENOMEM;
    b->num_vnuma_nodes = (int)n;
    for (size_t i = 0; i < n; i++) {
        libxl_vnode_info *v = &b->vnuma_nodes[i];
        libxl_vnode_info_init(v);
        v->memkb = np_vnuma_mem_bytes(vn, i) >> KiB_SHIFT;
        v->pnode = np_vnuma_pnode_os_id(vn, i);
        v->num_distances = (int)n;
        v->distances = calloc(n, sizeof(*v->distances));
        if (!v->distances)
            return -ENOMEM;
        for (size_t j = 0; j < n; j++)
            v->distances[j] = np_vnuma_distance(vn, i, j);
        rc = fill_bitmap(np_vnuma_vcpus(vn, i), b->max_vcpus, &v->vcpus);
        if (rc)
            return rc;
    }
    return 0;
}

static int build_config(np_xen *x, libxl_ctx *ctx, const XLU_Config *cfg,
                        const np_topology *topo, const np_guest_spec *spec,
                        const np_placement *pl, libxl_domain_config *dc, np_error *err,
                        const char *origin)
{
    libxl_domain_build_info *b = &dc->b_info;
    const char *type = "pv";
    char *root = NULL, *extra = NULL;
    libxl_domain_type t;
    int nr_nodes = libxl_get_max_nodes(ctx), rc;
    np_bitmap *nodes = NULL;
    (void)x;

    xlu_cfg_get_string(cfg, "type", &type, 1);
    if (strcmp(type, "pv") == 0)
        t = LIBXL_DOMAIN_TYPE_PV;
    else if (strcmp(type, "pvh") == 0)
        t = LIBXL_DOMAIN_TYPE_PVH;
    else
        return np_error_set(err, origin, 0, "type \"%s\": numaplace create builds pv and pvh",
                            type);
    dc->c_info.type = t;
    libxl_domain_build_info_init_type(b, t);
    dc->c_info.name = strdup(spec->name);
    if (!dc->c_info.name)
        return -ENOMEM;
    b->max_vcpus = (int)spec->vcpus;
    if ((rc = libxl_cpu_bitmap_alloc(ctx, &b->avail_vcpus, (int)spec->vcpus)) != 0)
        return np_xen_errno(rc);
    libxl_bitmap_set_none(&b->avail_vcpus);
    for (uint32_t v = 0; v < spec->vcpus; v++)
        libxl_bitmap_set(&b->avail_vcpus, (int)v);
    b->target_memkb = spec->mem_bytes >> KiB_SHIFT;
    b->max_memkb = np_guest_spec_maxmem_bytes(spec) >> KiB_SHIFT;
    if ((rc = dup_string(cfg, "kernel", &b->kernel)) || (rc = dup_string(cfg, "ramdisk", &b->ramdisk)) ||
        (rc = dup_string(cfg, "cmdline", &b->cmdline)) || (rc = dup_string(cfg, "root", &root)) ||
        (rc = dup_string(cfg, "extra", &extra)))
        goto out;
    if (!b->kernel) {
        rc = np_error_set(err, origin, 0, "no kernel=: numaplace create boots a kernel directly");
        goto out;
    }
    if (!b->cmdline && (root || extra)) {
        size_t n = (root ? strlen(root) + 6 : 0) + (extra ? strlen(extra) : 0) + 2;
        b->cmdline = malloc(n);
        if (!b->cmdline) {
            rc = -ENOMEM;
            goto out;
        }
        snprintf(b->cmdline, n, "%s%s%s%s", root ? "root=" : "", root ? root : "",
                 root && extra ? " " : "", extra ? extra : "");
    }
    /* numaplace decided: libxl must not place again. */
    libxl_defbool_set(&b->numa_placement, false);
    if (nr_nodes <= 0) {
        rc = np_xen_errno(nr_nodes ? nr_nodes : ERROR_FAIL);
        goto out;
    }
    rc = np_bitmap_create(&nodes);
    for (size_t i = 0; rc == 0 && i < np_placement_nr_nodes(pl); i++)
        rc = np_bitmap_set(nodes, np_topology_node(topo, np_placement_node(pl, i))->os_id);
    if (rc == 0)
        rc = fill_bitmap(nodes, (uint32_t)nr_nodes, &b->nodemap);
    if (rc == 0)
        rc = set_affinity(ctx, spec, pl, b);
    if (rc == 0 && np_placement_vnuma(pl) && np_vnuma_nr_vnodes(np_placement_vnuma(pl)) > 1) {
        if (t == LIBXL_DOMAIN_TYPE_PV)
            rc = np_error_set(err, origin, 0,
                              "the placement spans %zu nodes and gives the guest vNUMA, which "
                              "libxl 4.17 refuses for PV guests: use type=\"pvh\" or vnuma=0",
                              np_placement_nr_nodes(pl));
        else if (np_vnuma_nr_vnodes(np_placement_vnuma(pl)) > NP_XEN_VNUMA_MAX_VNODES)
            rc = np_error_set(err, origin, 0,
                              "the placement gives the guest %zu virtual nodes; libxl 4.17 "
                              "corrupts its heap building more than %u (docs/xen.md): give "
                              "it fewer vCPUs or less memory, or place it with vnuma off",
                              np_vnuma_nr_vnodes(np_placement_vnuma(pl)),
                              NP_XEN_VNUMA_MAX_VNODES);
        else
            rc = set_vnuma(np_placement_vnuma(pl), b);
    }
out:
    np_bitmap_destroy(nodes);
    free(root);
    free(extra);
    return rc;
}

int np_xen_create_domain(np_xen *x, const char *cfg_text, size_t len, const char *origin,
                         const np_topology *topo, const np_guest_spec *spec,
                         const np_placement *pl, uint32_t *domid_out, np_error *err)
{
    libxl_ctx *ctx = np_xen_ctx(x);
    XLU_Config *cfg = NULL;
    libxl_domain_config dc;
    uint32_t domid = INVALID_DOMID;
    int rc, lrc;

    libxl_domain_config_init(&dc);
    rc = check_keys(cfg_text, len, origin, err);
    if (rc)
        goto out;
    cfg = xlu_cfg_init(NULL, origin);
    if (!cfg) {
        rc = -ENOMEM;
        goto out;
    }
    if (len > INT32_MAX || xlu_cfg_readdata(cfg, cfg_text, (int)len)) {
        rc = np_error_set(err, origin, 0, "not an xl.cfg file libxlutil can read");
        goto out;
    }
    rc = build_config(x, ctx, cfg, topo, spec, pl, &dc, err, origin);
    if (rc)
        goto out;
    lrc = libxl_domain_create_new(ctx, &dc, &domid, NULL, NULL);
    if (lrc) {
        rc = np_xen_fail(x, "libxl_domain_create_new", lrc);
        np_error_set(err, origin, 0, "libxl could not build the domain (libxl error %d, %s)",
                     lrc, np_xen_error_name(lrc));
        goto out;
    }
    lrc = libxl_domain_unpause(ctx, domid, NULL);
    if (lrc) {
        rc = np_xen_fail(x, "libxl_domain_unpause", lrc);
        np_error_set(err, origin, 0, "domain %u built but not started (libxl error %d)",
                     (unsigned)domid, lrc);
        goto out;
    }
    *domid_out = domid;
out:
    if (cfg)
        xlu_cfg_destroy(cfg);
    libxl_domain_config_dispose(&dc);
    return rc;
}
