/*
 * numaplace/libvirt.h - numaplace for hosts run through libvirt.
 *
 * Advice in numad's contract: libvirt's `placement='auto'` runs
 * `numad -w VCPUS:MEMORY_MB` and reads a node list ("0-1", "1,3") from its
 * standard output. np_advise_parse() reads that request and np_advise()
 * answers it from numaplace's placement policy and a host state (the live
 * host with its running guests, or a topology file): pure functions, so the
 * answer on a built-in host is a golden test (docs/libvirt.md).
 *
 * Node numbers in answers are OS ids (the kernel's, possibly sparse), as
 * numad prints them.
 */
#ifndef NUMAPLACE_LIBVIRT_H
#define NUMAPLACE_LIBVIRT_H

#include <stdbool.h>
#include <stdint.h>

#include <numaplace/backend.h>
#include <numaplace/bitmap.h>
#include <numaplace/common.h>
#include <numaplace/guest.h>
#include <numaplace/hoststate.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- numad -w advice ------------------------------------------------------ */

/* Most CPUs a request may name: numaplace's CPU id limit (65,536). */
#define NP_ADVISE_MAX_VCPUS 65536u
/* Most MiB a request may name: 2^44 MiB = 16 EiB, so bytes fit in 64 bits. */
#define NP_ADVISE_MAX_MEM_MB ((UINT64_C(1) << 44) - 1)
/* Memory placed for a request without ":MB". numad then weighs CPUs only;
 * placement needs some memory, and one MiB never decides between nodes. */
#define NP_ADVISE_NO_MEMORY_BYTES (UINT64_C(1) << 20)
/* Name of the guest an advice places (never a running guest's: host-state
 * names are unique and this one has a character libvirt refuses in a
 * domain name). */
#define NP_ADVISE_GUEST_NAME "numad-advice/request"

typedef struct np_advise_request {
    uint32_t vcpus;     /* CPUs asked for, rounded up (numad takes "1.5") */
    uint64_t mem_bytes; /* memory asked for; 0 when the request had no ":MB" */
} np_advise_request;

/* Parses numad's -w argument "NCPUS[:MB]": NCPUS a decimal number of CPUs
 * with an optional fraction (rounded up to whole vCPUs, at least 1), MB a
 * decimal count of MiB. -EINVAL with err naming `origin` and what was
 * expected on anything else (signs, blanks, trailing text, 0 CPUs, values
 * above the limits above). */
int np_advise_parse(const char *text, const char *origin, np_advise_request *out,
                    np_error *err);

typedef struct np_advice {
    np_bitmap *nodes;   /* node OS ids to bind the guest to (owned) */
    bool fits;          /* false: the policy found no room; nodes = every
                           node, numad's answer when nothing fits */
    char note[512];     /* why it does not fit, or the policy's note; "" */
} np_advice;

/* Answers a request against host state `st` (which it does not change)
 * under placement policy `policy` (NULL = the default). The nodes are the
 * placement's nodes; when the request fits nowhere (or is larger than the
 * host) the answer is every node with fits = false, as numad answers,
 * because libvirt refuses to start a guest when the adviser fails.
 * Free the answer with np_advice_fini(). -EINVAL for an unknown policy. */
int np_advise(const np_host_state *st, const np_advise_request *req, const char *policy,
              np_advice *out, np_error *err);
void np_advice_fini(np_advice *a);

/* ---- the host as libvirt describes it ------------------------------------- */

/* A capabilities document of a 1024-node host is a few MiB; 16 MiB bounds
 * a mistaken input. */
#define NP_LIBVIRT_CAPS_MAX_BYTES (16u << 20)

/* The NUMA topology in libvirt's capabilities XML (virsh capabilities):
 * cells, their memory, CPUs (with socket and core ids), distances. Node
 * free memory is set to its size (the backend asks libvirt for the free
 * memory when it places). -EINVAL with err (origin, line, what was
 * expected) for malformed input or a host without <topology><cells>. */
int np_libvirt_caps_topology(const char *text, size_t len, const char *origin, np_topology **out,
                             np_error *err);

/* ---- a placement written into a domain XML (numaplace create --libvirt) --- */

/* The XML namespace of numaplace's element in a domain's <metadata>. */
#define NP_LIBVIRT_XMLNS "https://numaplace.dev/xmlns/libvirt/1"

struct np_guest_spec;
struct np_placement;
/* The domain XML `xml` with the placement `pl` of `spec` on `topo` written
 * in: <vcpu cpuset>, <cputune> vcpupin (when vCPUs differ), emulatorpin
 * and iothreadpin (on the IO node when the guest has one, else the guest's
 * CPUs), <numatune> restrictive on one node, or strict with a <memnode>
 * per guest cell for a guest spanning nodes,
 * guest <cpu><numa> cells with distances when it spans nodes, and a
 * <metadata> <numaplace:placement nodes= policy=/> record; the rest of the
 * document is kept. *xml_out is malloc'd. -EINVAL with err for a document
 * that is not a <domain>. */
int np_libvirt_tune_domain(const char *xml, size_t len, const char *origin,
                           const np_topology *topo, const struct np_guest_spec *spec,
                           const struct np_placement *pl, char **xml_out, np_error *err);

/* ---- numaplace's hints in a domain's <metadata> ------------------------------
 *
 * One element in NP_LIBVIRT_XMLNS (libvirt keeps one per namespace):
 *   <numaplace:placement xmlns:numaplace='https://numaplace.dev/xmlns/libvirt/1'
 *       group='NAME:colocate|spread[:WEIGHT]' io-node='N' io-device='DDDD:BB:DD.F'
 *       nodes='...' policy='...'/>
 * group and io-node as `--vm group=,io-node=` spell them; io-device names a
 * device whose node takes the guest's heavy IO (the backend resolves it
 * through libvirt's node devices); nodes and policy are the record create
 * writes. Every attribute is optional. */
typedef struct np_libvirt_hints {
    bool found;                     /* the document had numaplace's element */
    char group[NP_GUEST_NAME_MAX];  /* "" none */
    np_group_rule group_rule;
    uint32_t group_weight;
    int32_t io_node_os_id;          /* -1 none */
    char io_device[NP_BDF_TEXT_MAX]; /* "" none */
    char nodes[256];                /* create's record, "" none */
    char policy[64];
} np_libvirt_hints;

void np_libvirt_hints_init(np_libvirt_hints *h);
/* Reads the hints from a <domain> document (its <metadata>) or from the
 * element alone (what virDomainGetMetadata returns). A domain without the
 * element gives the defaults (found = false). -EINVAL with err (origin,
 * line, what was expected) for malformed XML, a value the `--vm` grammar
 * refuses or an unknown attribute. */
int np_libvirt_hints_parse(const char *xml, size_t len, const char *origin, np_libvirt_hints *out,
                           np_error *err);
/* Copies the group and io-node into a spec (what they do not name stays). */
void np_libvirt_hints_apply(const np_libvirt_hints *h, struct np_guest_spec *spec);
/* The NUMA node of a host device from libvirt's node device XML (virsh
 * nodedev-dumpxml pci_0000_03_00_0: <capability type='pci'><numa node='N'/>):
 * 0, -ENOENT (err set) when it names none, -EINVAL for malformed XML. */
int np_libvirt_nodedev_numa_node(const char *xml, size_t len, const char *origin,
                                 int32_t *node_out, np_error *err);

/* ---- the libvirt backend (only with NP_HAVE_LIBVIRT: libvirt-dev) ----------
 *
 * Guests are the running domains of one libvirt connection (URI, e.g.
 * qemu:///system or test:///default): a guest's id is its domain id
 * (stable while it runs), its name the domain name; the UUID, emulator and
 * I/O threads' pinning and numatune are in np_libvirt_domain. vCPU CPU time,
 * the CPU each last ran on and its pinning come from libvirt
 * (virDomainGetVcpus). Memory per node comes from the domain's QEMU process
 * (numa_maps, through the Linux layer) when the domain runs on this host:
 * its PID is found from the name QEMU was given (-name guest=NAME); a
 * domain without one (the test driver, a remote host) reports none.
 *
 * Acting goes through libvirt's live calls, so `virsh vcpupin`,
 * `emulatorpin`, `iothreadinfo` and `numatune` show what is in force:
 *  - set_vcpu_affinity: virDomainPinVcpuFlags(LIVE) with the soft mask
 *    (intersected with the hard one) or the hard mask: libvirt knows no
 *    soft affinity, so steering is a node-wide pin, as on Linux. After a
 *    vCPU is pinned, the emulator thread and every I/O thread are pinned to
 *    the union of the guest's vCPU pins (virDomainPinEmulator,
 *    virDomainPinIOThread): the guest's own threads follow it.
 *  - set_guest_node_affinity: virDomainSetNumaParameters(LIVE, nodeset)
 *    when the domain's numatune mode is restrictive, or strict where the
 *    libvirt allows it (libvirt 9 refuses strict: "change of nodeset for
 *    running domain requires restrictive numa mode"); other modes:
 *    -EOPNOTSUPP.
 *  - migrate_memory: the Linux layer's chunked mover on the QEMU process
 *    (-ENOSYS without one); the balancer then sets the node affinity, so
 *    libvirt's nodeset names where the memory now is and libvirt never
 *    moves it back. */

typedef struct np_libvirt np_libvirt;

/* Opens a connection (uri NULL: libvirt's default). `root` is where /proc
 * and /sys are read for QEMU processes ("/" live; NULL: not at all). log
 * may be NULL. -ENOTSUP when numaplace was built without libvirt,
 * -ECONNREFUSED when libvirt cannot connect (logged with libvirt's message). */
int np_libvirt_open(const char *uri, const char *root, np_log_fn log, void *opaque,
                    np_libvirt **out);
void np_libvirt_close(np_libvirt *lv); /* NULL ok */
/* The operations table; impl is the np_libvirt. NULL without libvirt. */
const struct np_backend_ops *np_libvirt_backend_ops(void);

#define NP_LIBVIRT_UUID_TEXT 37 /* 36 characters and the NUL */

/* What libvirt says of one running domain. Masks are CPU os_ids (NULL: no
 * pin), nodeset node os_ids (NULL: none). */
typedef struct np_libvirt_domain {
    uint64_t id;
    char name[NP_BACKEND_NAME_MAX];
    char uuid[NP_LIBVIRT_UUID_TEXT];
    int64_t pid;              /* QEMU process, -1 when not found */
    uint32_t nr_vcpus;
    np_bitmap **vcpu_pins;    /* nr_vcpus entries */
    np_bitmap *emulator_pin;
    uint32_t nr_iothreads;
    uint32_t *iothread_ids;
    np_bitmap **iothread_pins;
    char numatune_mode[16];   /* "strict", "preferred", "interleave", "restrictive", "" */
    np_bitmap *numatune_nodes;
} np_libvirt_domain;

/* The domain with that id (-ENOENT when none runs). Free with
 * np_libvirt_domain_fini(). */
int np_libvirt_domain_get(np_libvirt *lv, uint64_t id, np_libvirt_domain *out);
/* The same by name or UUID. */
int np_libvirt_domain_find(np_libvirt *lv, const char *name_or_uuid, np_libvirt_domain *out);
void np_libvirt_domain_fini(np_libvirt_domain *d);

/* Defines the domain from `xml` (virDomainDefineXML: persistent) and, with
 * `start`, starts it (virDomainCreate); *id_out: its domain id once
 * running (UINT64_MAX when not started). -EEXIST when a running domain has
 * that name, -EINVAL with libvirt's message logged when libvirt refuses the
 * XML, -EIO when the start fails (the definition stays). */
int np_libvirt_define(np_libvirt *lv, const char *xml, bool start, uint64_t *id_out);
/* The NUMA node (os_id) of a host PCI device "DDDD:BB:DD.F" from libvirt's
 * node devices; -ENOENT when libvirt does not know it or names no node. */
int np_libvirt_device_node(np_libvirt *lv, const char *bdf, int32_t *node_out);
/* The vhost workers of a running domain's QEMU process (libvirt does not
 * pin them) onto the domain's emulator pin: the guest's CPUs, or its IO
 * node's when create pinned the emulator there. *nr_set_out: how many.
 * -ENOSYS when the domain has no QEMU process on this host. */
int np_libvirt_pin_vhost(np_libvirt *lv, uint64_t id, size_t *nr_set_out);
/* The backend's topology (from capabilities; a new reference). */
np_topology *np_libvirt_topology(np_libvirt *lv);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_LIBVIRT_H */
