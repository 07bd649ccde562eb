/*
 * xen/shim/xl_vnuma_fix.c - a preload library that lets libxl 4.17 build
 * PVH and HVM guests with virtual NUMA. `numaplace create` runs
 * `xl create` with it in LD_PRELOAD when the config has a vnuma= list
 * (docs/xen.md, "vNUMA and the libxl 4.17 bugs"). Not part of
 * libnumaplace: built as its own shared object, loaded only into xl.
 *
 * Bug 1: libxl's init_acpi_config() (libxl_x86_acpi.c) first calls
 * xc_domain_getvnuma() with no buffers to learn the sizes; Xen answers that
 * probe with -ENOBUFS after filling them in, and libxl treats it as fatal,
 * so every vNUMA PVH/HVM creation fails ("xc_domain_getvnuma failed").
 * Here exactly that probe's ENOBUFS (all three buffers NULL) is success.
 *
 * Bug 2: libxl then allocates the distance buffer with
 * libxl__zalloc(nr_vnodes * sizeof(unsigned)), i.e. calloc(4 * n, 1), but
 * Xen writes the whole n x n matrix and libacpi reads it as one. With 2
 * vnodes malloc's 24-byte minimum chunk hides it; with 3 or more the heap
 * is overwritten ("malloc(): unaligned tcache chunk detected"). Here, in
 * the window between the probe and the call that fills the buffers, a
 * calloc of exactly 4 * n bytes is enlarged to 4 * n * n: the distance
 * buffer gets the room Xen writes into. (The vCPU map has the same size
 * when a guest has as many vCPUs as vnodes; making it larger is harmless.)
 * The window is per thread and closes at the next getvnuma call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

struct xc_interface_core;
struct xen_vmemrange;
typedef int (*getvnuma_fn)(struct xc_interface_core *, uint32_t, uint32_t *, uint32_t *,
                           uint32_t *, struct xen_vmemrange *, unsigned int *, unsigned int *);

/* glibc's own allocator entry (exported since 2.2.5); dlsym cannot be used
 * from inside calloc, since dlsym itself allocates. */
extern void *__libc_calloc(size_t nmemb, size_t size);

/* Most vnodes whose distance buffer is enlarged: libxl's own vNUMA limit
 * is far lower; this bounds the multiplication. */
#define SHIM_MAX_VNODES 1024u

static __thread uint32_t pending_vnodes; /* 0: no window open */

void *calloc(size_t nmemb, size_t size);
void *calloc(size_t nmemb, size_t size)
{
    uint32_t n = pending_vnodes;
    if (n > 1 && size == 1 && nmemb == (size_t)n * sizeof(unsigned int))
        nmemb = (size_t)n * n * sizeof(unsigned int);
    return __libc_calloc(nmemb, size);
}

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
    int probe = !vmemrange && !vdistance && !vcpu_to_vnode;
    int r;
    pending_vnodes = 0;
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    r = real(xch, domid, nr_vnodes, nr_vmemranges, nr_vcpus, vmemrange, vdistance,
             vcpu_to_vnode);
    if (probe && nr_vnodes && *nr_vnodes <= SHIM_MAX_VNODES)
        pending_vnodes = *nr_vnodes; /* the buffers are allocated next */
    if (r < 0 && errno == ENOBUFS && probe)
        return 0; /* the size probe: the sizes are filled in, all it asked */
    return r;
}
