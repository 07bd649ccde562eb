/*
 * xen/xen_create.c - `numaplace create`'s last step: a domain built through
 * libxl with numaplace's placement written into its configuration, and
 * libxl's own NUMA placement switched off for it.
 *
 * The configuration itself (xl.cfg keys and placement into a
 * libxl_domain_config) is built by xen_config.c; this file creates the
 * domain from it and works around libxl 4.17's vNUMA bugs.
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


int np_xen_create_domain(np_xen *x, const char *cfg_text, size_t len, const char *origin,
                         const np_topology *topo, const np_guest_spec *spec,
                         const np_placement *pl, uint32_t *domid_out, np_error *err)
{
    libxl_ctx *ctx = np_xen_ctx(x);
    libxl_domain_config dc;
    uint32_t domid = INVALID_DOMID;
    int nr_cpus = libxl_get_max_cpus(ctx), nr_nodes = libxl_get_max_nodes(ctx);
    int rc, lrc;

    libxl_domain_config_init(&dc);
    if (nr_cpus <= 0 || nr_nodes <= 0) {
        rc = np_xen_fail(x, "libxl_get_max_cpus/nodes",
                         nr_cpus <= 0 ? (nr_cpus ? nr_cpus : ERROR_FAIL)
                                      : (nr_nodes ? nr_nodes : ERROR_FAIL));
        goto out;
    }
    rc = np_xen_config_build(cfg_text, len, origin, nr_cpus, nr_nodes, topo, spec, pl, &dc, err);
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
    libxl_domain_config_dispose(&dc);
    return rc;
}

