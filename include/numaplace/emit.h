/*
 * numaplace/emit.h - turning a placement into what a hypervisor reads:
 * an xl.cfg fragment, a libvirt domain XML fragment, QEMU command-line
 * options, and Xen boot options for Dom0.
 *
 * The guest emitters take the host topology, the guest spec and the
 * placement np_place() chose, and write text that the real parsers accept
 * (tests feed it to libxlutil, virt-xml-validate and qemu-system-x86_64).
 * How placement concepts map onto each format, soft affinity in particular,
 * is documented in docs/emit.md.
 *
 * Output goes into a caller buffer (np_emit, snprintf-like: the full
 * length is returned in *len_out even when it did not fit, and -ENOSPC
 * says so) or a malloc'd string (np_emit_alloc).
 */
#ifndef NUMAPLACE_EMIT_H
#define NUMAPLACE_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/common.h>
#include <numaplace/guest.h>
#include <numaplace/place.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum np_emit_format {
    NP_EMIT_XL_CFG = 0,  /* xl.cfg(5) lines: memory, maxmem, vcpus, cpus, cpus_soft, vnuma */
    NP_EMIT_LIBVIRT_XML, /* children of <domain>: vcpu, cputune, numatune, cpu/numa */
    NP_EMIT_QEMU_ARGS,   /* one "-option value" per line, advice as "# " lines */
} np_emit_format;

/* Flags for the guest emitters. */
#define NP_EMIT_NO_NAME (1u << 0)     /* leave the guest name out */
#define NP_EMIT_NO_COMMENTS (1u << 1) /* leave explanatory comments out (QEMU advice stays) */

const char *np_emit_format_name(np_emit_format fmt); /* "xl", "libvirt", "qemu" */
int np_emit_format_parse(const char *name, np_emit_format *out);

/* Writes the fragment for (topo, spec, pl). -EINVAL with err->msg when the
 * three do not belong together (a placement node the topology lacks, a
 * vNUMA layout that does not cover every vCPU, ...) or the format cannot
 * express the layout (xl.cfg: a virtual node without vCPUs). */
int np_emit(np_emit_format fmt, const np_topology *topo, const np_guest_spec *spec,
            const np_placement *pl, unsigned flags, char *buf, size_t len, size_t *len_out,
            np_error *err);
int np_emit_alloc(np_emit_format fmt, const np_topology *topo, const np_guest_spec *spec,
                  const np_placement *pl, unsigned flags, char **text_out, np_error *err);

/* ---- Dom0 ---------------------------------------------------------------------- */

/* What the caller may fix; zero-initialised means "numaplace decides". */
typedef struct np_dom0_options {
    uint64_t mem_bytes;  /* Dom0 memory, 0 = by rule */
    uint32_t max_vcpus;  /* Dom0 vCPUs, 0 = by rule */
    bool relaxed;        /* prefer the nodes (soft) instead of Xen's default, strict */
    bool dedicated_cpus; /* guests are kept off Dom0's CPUs (a cpupool): pin Dom0 */
} np_dom0_options;

#define NP_DOM0_MAX_NODES 8u
#define NP_DOM0_MAX_REASONS 16u
#define NP_DOM0_REASON_MAX 240u
#define NP_DOM0_CMDLINE_MAX 256u

/* The recommendation: boot options and why, one reason per line. */
typedef struct np_dom0_rec {
    size_t nr_nodes;
    uint32_t nodes_os[NP_DOM0_MAX_NODES]; /* node os_ids, ascending */
    uint32_t max_vcpus;
    uint64_t mem_bytes; /* also the balloon maximum (max:) */
    bool relaxed;
    bool vcpus_pin;
    char cmdline[NP_DOM0_CMDLINE_MAX]; /* "dom0_nodes=1 dom0_max_vcpus=4 dom0_mem=..." */
    size_t nr_reasons;
    char reasons[NP_DOM0_MAX_REASONS][NP_DOM0_REASON_MAX];
} np_dom0_rec;

/* Recommends Xen boot options for Dom0 from the topology and where its IO
 * devices sit (rules and sources in docs/emit.md). options may be NULL.
 * -EINVAL when the topology has no node with both CPUs and memory. */
int np_dom0_recommend(const np_topology *topo, const np_dom0_options *options,
                      np_dom0_rec *out);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_EMIT_H */
