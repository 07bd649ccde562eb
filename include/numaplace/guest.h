/*
 * numaplace/guest.h - what a guest asks for: the guest specification.
 *
 * A spec is plain input data (like a struct addrinfo hint): the caller
 * fills it, starting from np_guest_spec_init()'s defaults, or a reader fills
 * it from a command-line option string, a JSON object, an xl.cfg file
 * (through libxlutil) or a libvirt domain XML (through libxml2).
 * np_guest_spec_validate() checks it against a host before placement.
 */
#ifndef NUMAPLACE_GUEST_H
#define NUMAPLACE_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/common.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NP_GUEST_NAME_MAX 64
#define NP_GUEST_MAX_DEVICES 16
#define NP_GUEST_MAX_VCPUS 4096u
#define NP_BDF_TEXT_MAX 16 /* "0000:03:00.0" + NUL */

/* How the placement is handed to the hypervisor's scheduler. */
typedef enum np_affinity_mode {
    NP_AFFINITY_SOFT = 0, /* prefer the chosen nodes' CPUs (default) */
    NP_AFFINITY_HARD,     /* pin to them */
    NP_AFFINITY_NONE,     /* memory placement only, vCPUs run anywhere */
} np_affinity_mode;

/* How members of one affinity group relate. */
typedef enum np_group_rule {
    NP_GROUP_NONE = 0,
    NP_GROUP_COLOCATE, /* communicating guests: same or near nodes */
    NP_GROUP_SPREAD,   /* anti-affine guests (replicas): different nodes */
} np_group_rule;

/* vnuma_nodes: NP_VNUMA_AUTO lets placement decide (a virtual node per
 * physical node spanned), 0 turns vNUMA off, N asks for N virtual nodes. */
#define NP_VNUMA_AUTO (-1)
#define NP_VNUMA_OFF 0

/* Default weight of a group rule, on a 1..100 scale. */
#define NP_GROUP_WEIGHT_DEFAULT 50u
#define NP_GROUP_WEIGHT_MAX 100u

typedef struct np_guest_spec {
    char name[NP_GUEST_NAME_MAX];
    uint32_t vcpus;
    uint64_t mem_bytes;    /* memory the guest populates at start */
    uint64_t maxmem_bytes; /* balloon maximum, >= mem_bytes (init: = mem) */
    size_t nr_devices;     /* passthrough PCI devices */
    char devices[NP_GUEST_MAX_DEVICES][NP_BDF_TEXT_MAX];
    int32_t io_node_os_id; /* node its heavy IO goes to, -1 for none */
    char group[NP_GUEST_NAME_MAX]; /* affinity group name, "" for none */
    np_group_rule group_rule;
    uint32_t group_weight; /* 1..100 */
    int32_t vnuma_nodes;   /* NP_VNUMA_AUTO, NP_VNUMA_OFF or a count */
    np_affinity_mode affinity;
    bool no_autoplace;        /* opt out: placement leaves this guest alone */
    bool allow_cpuless_memory; /* memory may go to CPU-less (CXL/HBM) nodes */
    /* cpuless-memory=no said explicitly: never on CPU-less nodes. Neither
     * flag (the default): placement treats CPU-less memory as one more
     * remote tier, priced by its distance, as with cpuless-memory=yes
     * (docs/placement.md, "What it shows, plainly"); the vNUMA remapper
     * still uses it only with =yes. */
    bool cpuless_memory_refused;
    double cpu_demand;        /* expected busy fraction per vCPU, 0..1 (init 1.0) */
} np_guest_spec;

/* Most virtual nodes a guest may ask for (vnuma=N). Each virtual node needs
 * a vCPU and a MiB of memory, so N is also bounded by vcpus and maxmem. */
#define NP_VNUMA_MAX_NODES 64

/* Defaults: soft affinity, vNUMA auto, demand 1.0, no group, no devices,
 * io node -1, group weight NP_GROUP_WEIGHT_DEFAULT; no vCPUs and no memory
 * (the caller or reader must set both: validation rejects 0, rather than
 * a guess of the guest's size). */
void np_guest_spec_init(np_guest_spec *spec);

/* The balloon maximum placement reserves: maxmem_bytes, or mem_bytes when
 * maxmem_bytes is 0 (left unset) or smaller. */
uint64_t np_guest_spec_maxmem_bytes(const np_guest_spec *spec);

/* Checks the spec on its own and, when topo is non-NULL, against the host:
 * vCPUs >= 1, memory > 0, maxmem >= mem, devices exist on the host, io
 * node exists, the guest is not larger than the whole host. -EINVAL and a
 * message in err->msg (origin/line untouched) when it is not. */
int np_guest_spec_validate(const np_guest_spec *spec, const np_topology *topo, np_error *err);

/* "name=web,vcpus=4,memory=8G[,maxmem=12G,dev=0000:03:00.0,io-node=1,
 *  group=NAME:colocate|spread[:WEIGHT],vnuma=auto|off|N,affinity=soft|hard|none,
 *  autoplace=no,cpuless-memory=yes,demand=0.5]". origin names where the text
 * came from ("--vm" for the command line). */
int np_guest_spec_parse_option(const char *text, const char *origin, np_guest_spec *out,
                               np_error *err);

/* A guest spec as a JSON object (schema in docs/scenario.md). */
int np_guest_spec_parse_json(const char *text, size_t len, const char *origin,
                             np_guest_spec *out, np_error *err);

/* An existing Xen domain configuration (xl.cfg) through libxlutil: name,
 * vcpus/maxvcpus, memory/maxmem, pci=[...], cpus/cpus_soft (an explicit
 * affinity means the user placed it: no_autoplace), vnuma. -ENOTSUP when
 * built without libxen-dev. */
int np_guest_spec_read_xl_cfg(const char *text, size_t len, const char *origin,
                              np_guest_spec *out, np_error *err);

/* A libvirt domain XML through libxml2: <name>, <vcpu>, <memory>,
 * <currentMemory>, <hostdev> PCI addresses, <numatune>/<cputune> (explicit
 * pinning means no_autoplace), <cpu><numa> cell count as the vNUMA wish. */
int np_guest_spec_read_libvirt_xml(const char *text, size_t len, const char *origin,
                                   np_guest_spec *out, np_error *err);

/* Reads a file and picks the reader by content (XML, JSON, else xl.cfg). */
int np_guest_spec_read_file(const char *path, np_guest_spec *out, np_error *err);

const char *np_affinity_mode_name(np_affinity_mode mode);
const char *np_group_rule_name(np_group_rule rule);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_GUEST_H */
