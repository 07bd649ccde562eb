/*
 * numaplace/xen.h - the Xen backend (libxenlight) and what it reads from Xen.
 *
 * Two parts. The first is pure and always built: a reader for the text Xen
 * prints on debug key `u` ("dumping numa info"), the only place Xen 4.17
 * tells how much of each domain's memory sits on each node. The second talks
 * to the hypervisor through libxl and exists only when numaplace was built
 * with libxen-dev (NP_HAVE_XEN defined): the backend operations of
 * numaplace/backend.h, and the host topology as Xen sees it, which a PV
 * dom0's hwloc does not (dom0 sees its own vCPUs, not the host).
 *
 * Index spaces: the dump names nodes by Xen's node id (os_id) and domains by
 * domid; the backend reports per-node memory by the topology's node_idx.
 */
#ifndef NUMAPLACE_XEN_H
#define NUMAPLACE_XEN_H

#include <stddef.h>
#include <stdint.h>

#include <numaplace/backend.h>
#include <numaplace/common.h>
#include <numaplace/place.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Xen on x86 counts domain memory in 4 KiB pages in the `u` dump. */
#define NP_XEN_PAGE_BYTES UINT64_C(4096)

/* ---- the debug-key `u` dump (pure) --------------------------------------- */

typedef struct np_xen_numa_dump np_xen_numa_dump;

/* Reads the last `u` dump in a text: the console ring as libxl returns it,
 * `xl dmesg`, or a serial log (lines may carry "(XEN) " and a "[time]"
 * stamp). Other lines between the dump's lines are skipped; a line that
 * starts like a dump line but does not parse is an error naming it. -EINVAL
 * with err filled when there is no dump or it is malformed. */
int np_xen_numa_dump_parse(const char *text, size_t len, const char *origin,
                           np_xen_numa_dump **out, np_error *err);
void np_xen_numa_dump_destroy(np_xen_numa_dump *dump); /* NULL ok */

/* Nodes the dump lists ("NODEn start->... size->... free->..."), in order. */
size_t np_xen_numa_dump_nr_nodes(const np_xen_numa_dump *dump);
/* The i-th node: its Xen node id, size and free pages. -ENOENT past the end. */
int np_xen_numa_dump_node(const np_xen_numa_dump *dump, size_t i, uint32_t *node_os_id_out,
                          uint64_t *size_pages_out, uint64_t *free_pages_out);
/* Domains the dump lists, in order. */
size_t np_xen_numa_dump_nr_domains(const np_xen_numa_dump *dump);
/* The i-th domain: domid and total pages. -ENOENT past the end. */
int np_xen_numa_dump_domain(const np_xen_numa_dump *dump, size_t i, uint32_t *domid_out,
                            uint64_t *total_pages_out);
/* Pages of domain `domid` on node `node_os_id`; -ENOENT when either is not
 * in the dump. */
int np_xen_numa_dump_pages(const np_xen_numa_dump *dump, uint32_t domid, uint32_t node_os_id,
                           uint64_t *pages_out);

/* ---- per-node reservations across numaplace processes (pure) ------------- */

/* Xen 4.17 claims memory host-wide, not per node. numaplace keeps its own
 * ledger of per-node memory promised to creations still in flight (DIR/ledger
 * under an flock on DIR/lock; default DIR NP_RESERVE_DIR), so two creations
 * at once never count the same node's free memory twice. */
#define NP_RESERVE_DIR "/run/numaplace"
#define NP_RESERVE_TAG_MAX 64 /* a guest name without blanks */

typedef struct np_reserve np_reserve;

/* Creates DIR if needed, takes the exclusive lock (waits for it) and reads
 * the ledger, dropping the lines of processes that are gone. */
int np_reserve_lock(const char *dir, np_reserve **out);
/* Bytes reserved on a node by the entries read and added. */
uint64_t np_reserve_node_bytes(const np_reserve *r, uint32_t node_os_id);
/* Adds a reservation of this process; -EINVAL for an empty tag or one with
 * blanks. Written by np_reserve_commit. */
int np_reserve_add(np_reserve *r, const char *tag, uint32_t node_os_id, uint64_t bytes);
int np_reserve_commit(np_reserve *r);
/* The entries read and added: count, and each one's tag and node. */
size_t np_reserve_nr_entries(const np_reserve *r);
const char *np_reserve_entry_tag(const np_reserve *r, size_t i);
uint32_t np_reserve_entry_node(const np_reserve *r, size_t i);
/* Releases the lock (without writing). NULL ok. */
void np_reserve_unlock(np_reserve *r);
/* Lock, drop this process's entries tagged `tag`, write, unlock. */
int np_reserve_release(const char *dir, const char *tag);

/* ---- plans: what `numaplace create` decided, for `verify` (pure) --------- */

/* A plan file (DIR/NAME.plan), one item per line, '#' comments:
 *   name NAME            the domain's name (verify finds it by name)
 *   domid N              the domain id when it was written
 *   vnodes K             virtual nodes given to the guest (0: no vNUMA)
 *   node OS_ID BYTES     memory planned on a node (one line per node)
 *   vcpu_soft V CPULIST  soft affinity planned for vCPU V
 *   vcpu_hard V CPULIST  hard affinity planned for vCPU V
 *   source user          the user's own placement (cpus=, cpus_soft=, vnuma=,
 *                        numa_placement=0), kept as written; absent: numaplace's
 *   split allocator|set|exact  how verify checks memory per node: as Xen's
 *                        allocator was predicted to split it (within slack),
 *                        only the node set, or exactly (vNUMA, one node);
 *                        absent: exact for one node or vNUMA, else set */
#define NP_XEN_PLAN_MAX_VCPUS 512u  /* libxl's HVM/PVH vCPU limit is 128..512 */
#define NP_XEN_PLAN_MAX_BYTES (1u << 20)

typedef enum np_xen_plan_split {
    NP_XEN_PLAN_SPLIT_DEFAULT = 0, /* no "split" line: the rule above */
    NP_XEN_PLAN_SPLIT_EXACT,
    NP_XEN_PLAN_SPLIT_ALLOCATOR,
    NP_XEN_PLAN_SPLIT_SET,
} np_xen_plan_split;

typedef struct np_xen_plan {
    char name[NP_BACKEND_NAME_MAX];
    bool user;                   /* "source user" */
    np_xen_plan_split split;
    uint32_t domid;              /* UINT32_MAX when not created */
    uint32_t vnodes;
    size_t nr_nodes;
    uint32_t node_os_id[NP_TOPO_MAX_NODES];
    uint64_t node_bytes[NP_TOPO_MAX_NODES];
    uint32_t nr_vcpus;           /* entries of soft/hard: highest vCPU named + 1 */
    np_bitmap *soft[NP_XEN_PLAN_MAX_VCPUS]; /* NULL: no soft affinity planned */
    np_bitmap *hard[NP_XEN_PLAN_MAX_VCPUS];
} np_xen_plan;

/* A new, empty plan (domid UINT32_MAX); np_xen_plan_destroy() frees it. */
int np_xen_plan_create(np_xen_plan **out);
void np_xen_plan_destroy(np_xen_plan *plan); /* NULL ok */
/* Reads a plan file's text. Bad input: -EINVAL with err naming the line
 * and what was expected; no plan. A plan must have a name and a node. */
int np_xen_plan_parse(const char *text, size_t len, const char *origin, np_xen_plan **out,
                      np_error *err);
/* The text of a plan (malloc'd, NUL-terminated; free() it). */
int np_xen_plan_format(const np_xen_plan *plan, char **text_out);
/* Reads (np_xen_plan_parse) or writes (atomically: a temporary file in the
 * same directory, then rename) the plan file at `path`. */
int np_xen_plan_read(const char *path, np_xen_plan **out, np_error *err);
int np_xen_plan_write(const np_xen_plan *plan, const char *path);
/* After a save/restore move of the whole guest to node `to` (what
 * np_xen_op_migrate_memory does; libxl 4.17 cannot save a vNUMA guest, so
 * a moved guest has none): all planned memory on `to`, every planned soft
 * mask = to's CPUs, hard masks kept, domid updated. -EINVAL for a plan
 * with vNUMA. */
int np_xen_plan_moved(np_xen_plan *plan, uint32_t new_domid, uint32_t to_node_os_id,
                      const np_bitmap *to_cpus);

/* The node set Xen derives for a domain's memory from its vCPUs' masks when
 * no node affinity is given (domain_update_node_affinity): the union of the
 * hard masks H, the union of the soft masks S, then the nodes of S & H, or
 * of H when they do not meet. NULL masks (and nr = 0) mean every CPU of
 * `topo`. The bits of *nodes_out are node os_ids. */
int np_xen_implied_nodes(const np_topology *topo, np_bitmap *const *hard, np_bitmap *const *soft,
                         uint32_t nr, np_bitmap **nodes_out);

/* ---- what `xl create` makes of a config: `xl -N create` (pure) ---------- */

/* `numaplace create` hands the user's config to xl's own tool stack; xl's
 * parser (tools/xl/xl_parse.c) is not a library, so numaplace learns what xl
 * understood from xl's dry run, which prints the libxl_domain_config as
 * JSON (libxl_domain_config_to_json; fields left at their default are
 * omitted). This reads the fields placement needs from that JSON. */
#define NP_XEN_XL_MAX_VNODES 64u
typedef enum np_xen_xl_type {
    NP_XEN_XL_PV = 0, /* xl's default */
    NP_XEN_XL_PVH,
    NP_XEN_XL_HVM,
} np_xen_xl_type;

typedef struct np_xen_xl_vnode {
    uint32_t pnode;          /* Xen node id */
    uint64_t bytes;
    np_bitmap *vcpus;        /* NULL when xl gave none */
} np_xen_xl_vnode;

typedef struct np_xen_xl_config {
    char name[NP_BACKEND_NAME_MAX];
    np_xen_xl_type type;
    uint32_t max_vcpus;      /* 0 when omitted (xl then uses 1) */
    uint64_t target_bytes;   /* memory=, 0 when omitted */
    uint64_t max_bytes;      /* maxmem=, 0 when omitted */
    int numa_placement;      /* -1 left to libxl, 0 off, 1 on */
    uint32_t nr_hard, nr_soft; /* per-vCPU masks xl built (cpus=, cpus_soft=) */
    np_bitmap *hard[NP_XEN_PLAN_MAX_VCPUS];
    np_bitmap *soft[NP_XEN_PLAN_MAX_VCPUS];
    np_bitmap *nodemap;      /* node affinity given outright, NULL when none */
    uint32_t nr_vnodes;      /* vnuma= entries */
    np_xen_xl_vnode vnodes[NP_XEN_XL_MAX_VNODES];
} np_xen_xl_config;

/* Reads xl's dry-run JSON (anything before the first '{' is skipped).
 * Bad input: -EINVAL with err naming what was expected. */
int np_xen_xl_config_parse(const char *text, size_t len, const char *origin,
                           np_xen_xl_config **out, np_error *err);
void np_xen_xl_config_destroy(np_xen_xl_config *cfg); /* NULL ok */
/* True when the user decided where the guest goes, so numaplace keeps the
 * config exactly as written: cpus=, cpus_soft=, vnuma= or numa_placement=0
 * (what xl itself treats as switching its automatic placement off, plus a
 * hard cpus= within which xl would still place). */
bool np_xen_xl_config_user_placed(const np_xen_xl_config *cfg);

/* The config numaplace hands to xl: the user's text unchanged, then a
 * marked block with numaplace's lines (cpus_soft=, vnuma=, ...). xl keeps
 * the last assignment of a key, so the block wins; a block from an earlier
 * run of this function is replaced, not stacked. malloc'd, NUL-terminated. */
#define NP_XEN_CFG_BLOCK_BEGIN "# ---- placed by numaplace create (do not edit below) ----\n"
int np_xen_cfg_rewrite(const char *text, size_t len, const char *lines, char **out);

/* ---- Xen's heap by node and zone: debug key `H` (pure) ------------------ */

/* Xen 4.17 serves a domain's pages from above the DMA zone first, on every
 * node (in its node affinity first, then any other), and takes DMA-zone
 * pages only when no other memory is left anywhere. So a node's DMA memory
 * is usable last: free memory counts for placement only above it. */
typedef struct np_xen_heap_dump np_xen_heap_dump;
/* Reads the last `H` dump ("heap[node=N][zone=Z] -> P pages") in a text,
 * and "DMA width N bits" (Xen's boot line) when the text holds it. */
int np_xen_heap_dump_parse(const char *text, size_t len, const char *origin,
                           np_xen_heap_dump **out, np_error *err);
void np_xen_heap_dump_destroy(np_xen_heap_dump *dump); /* NULL ok */
/* Free pages of a node in zones 1..zone_max (all zones: UINT32_MAX). */
uint64_t np_xen_heap_dump_free_pages(const np_xen_heap_dump *dump, uint32_t node_os_id,
                                     uint32_t zone_max);
/* The DMA width the text named, 0 when it named none. */
uint32_t np_xen_heap_dump_dma_bits(const np_xen_heap_dump *dump);
/* Xen's default DMA width on x86 when no dma_bits= is given
 * (arch_get_dma_bitsize): from the first node with memory below 4 GiB,
 * min(32, bits of (start + size / 4 - 1) + 12). Pages are 4 KiB. */
uint32_t np_xen_default_dma_bits(uint64_t node_start_pages, uint64_t node_size_pages);
/* The highest zone holding DMA memory for a DMA width (bits_to_zone):
 * zone z holds the frames with z significant bits. */
uint32_t np_xen_dma_zone(uint32_t dma_bits);

/* ---- what Xen's allocator does with a guest's memory (pure) ------------- */

/* One node as the allocator sees it. */
typedef struct np_xen_alloc_node {
    uint32_t os_id;
    uint64_t free_bytes;     /* above the DMA zone, after head-room */
    uint64_t dma_free_bytes; /* in the DMA zone (usable last) */
    uint64_t headroom_bytes; /* of the head-room, what free_bytes lacks: less
                              * than NP_XEN_NODE_HEADROOM_BYTES on a node with
                              * less free (the allocator's view adds it back) */
    bool in_mask;            /* in the guest's node affinity */
} np_xen_alloc_node;
/* A PV/PVH/HVM guest without vNUMA is built in extents of `chunk_bytes`
 * (2 MiB superpages); Xen starts each extent on the next node of the
 * domain's node affinity (round robin: d->last_alloc_node), falls to the
 * following nodes of the affinity, then to the other nodes, all above the
 * DMA zone, and only then to DMA memory. Predicts the bytes each node
 * gets (out_bytes[i] for nodes[i]); -ENOSPC when the host cannot hold it. */
#define NP_XEN_ALLOC_CHUNK_BYTES (UINT64_C(2) << 20)
int np_xen_alloc_predict(const np_xen_alloc_node *nodes, size_t nr, uint64_t bytes,
                         uint64_t chunk_bytes, uint64_t *out_bytes);

/* ---- the nodes `numaplace create` gives a guest (pure; only with
 * NP_HAVE_XEN: src/xen/xen_choose.c) ------------------------------------- */

#define NP_XEN_CHOOSE_MAX_NODES 16

/* One node as the choice sees it. */
typedef struct np_xen_choice_node {
    uint64_t usable_bytes; /* what Xen can give: measured free above the DMA
                            * zone, minus creations in flight and head-room */
    double cpu_capacity;   /* as np_node_load */
    double cpu_demand;     /* vCPUs already here (np_xen_vcpu_load) */
} np_xen_choice_node;

typedef struct np_xen_choice {
    size_t nr_nodes;
    size_t node[NP_XEN_CHOOSE_MAX_NODES]; /* indices into the nodes given, ascending */
    bool vnuma;                           /* a virtual node per chosen node */
} np_xen_choice;

/* Chooses the nodes for a guest of `demand` vCPUs' worth and `mem_bytes`:
 * one node that holds the whole memory when there is one (with CPUs for
 * its vCPUs, else the least over-committed; nearest the device node
 * device_idx, -1 for none); else the fewest nodes that hold it (each its
 * even share when !can_vnuma: Xen's allocator round-robins) with CPUs for
 * its vCPUs, else the least over-committed, nearest each other; vNUMA
 * when can_vnuma and more than one node. distance: nr x nr, row-major
 * (SLIT). -EINVAL bad arguments, -E2BIG more than NP_XEN_CHOOSE_MAX_NODES
 * nodes, -ENOSPC no set holds the memory. */
int np_xen_choose_nodes(const np_xen_choice_node *nodes, size_t nr, const uint32_t *distance,
                        int device_idx, double demand, uint64_t mem_bytes, bool can_vnuma,
                        np_xen_choice *out);
/* What a node can give a new domain, the one model `numaplace create` (its
 * node choice and plan) and the save/restore move (`numaplace migrate`,
 * numaplaced) both use: Xen's measured free memory above the DMA zone
 * (DMA pages are the allocator's last resort), minus what creations in
 * flight still have to take there, minus NP_XEN_NODE_HEADROOM_BYTES; the
 * DMA memory is kept apart. Fills *out (in_mask false). Pure.
 * The head-room is for what Xen allocates beside the guest's pages (page
 * tables, p2m, vNUMA rounding, its own heap). Measured: a PVH vnode of 207
 * MiB on a node with about 250 MiB free failed with "xc_dom_boot_mem_init:
 * can't allocate low memory for domain". */
#define NP_XEN_NODE_HEADROOM_BYTES (UINT64_C(64) << 20)
void np_xen_usable_node(uint32_t os_id, uint64_t free_bytes, uint64_t dma_free_bytes,
                        uint64_t inflight_bytes, np_xen_alloc_node *out);
/* Whether node nodes[to] alone can take a whole domain of `bytes` (nodes:
 * as np_xen_usable_node filled them): 0 when its usable memory holds it;
 * -ENOSPC when not, with predicted[] (nr entries) = where Xen's allocator
 * would put the domain with that node as its node affinity (the head-room
 * given back: the allocator knows nothing of it) and *alt_out = the node
 * index, other than `to` and `avoid` (SIZE_MAX: none), with the most usable
 * memory that holds it, SIZE_MAX when there is none. -EINVAL bad arguments.
 * Pure. */
int np_xen_node_takes(const np_xen_alloc_node *nodes, size_t nr, size_t to, size_t avoid,
                      uint64_t bytes, uint64_t *predicted, size_t *alt_out);
/* The vCPUs each node already carries, by count, into per_node[] (one per
 * node of st's topology): every vCPU of every guest in st weighs 1 over the
 * nodes of its effective mask (soft & hard when they meet, else hard, else
 * every CPU) in proportion to the mask's CPUs there. Not the measured busy
 * time np_host_state's load holds: an idle guest's vCPUs still want their
 * CPUs when it wakes, and xl's placement counts vCPUs so too. */
int np_xen_vcpu_load(const np_host_state *st, double *per_node);
/* The placement on exactly the chosen nodes (node indices of st's
 * topology): np_place's default policy on a copy of st with no free memory
 * elsewhere, vNUMA as the choice says. -EAGAIN (err says so) when it did
 * not keep to those nodes, else np_place's errors. */
int np_xen_place_on(const np_host_state *st, const np_guest_spec *spec, const np_xen_choice *ch,
                    np_placement **out, np_error *err);

/* The spec as `xl create` can build it: memory on a CPU-less node only when
 * the guest asks for it (cpuless-memory=yes). xl.cfg gives every virtual
 * node vCPUs, and without vNUMA Xen takes a guest's memory from its vCPUs'
 * nodes, so an unset wish (placement's default: CPU-less memory is one more
 * remote tier, docs/placement.md) becomes cpuless-memory=no here. */
void np_xen_spec_for_xl(np_guest_spec *spec);

/* ---- the hypervisor, through libxl (only with NP_HAVE_XEN) -------------- */

typedef struct np_xen np_xen;

/* Opens libxl. Its log lines, and this backend's, go to `log` (may be NULL:
 * dropped) with subsystem "xen/libxl" or "xen". -EPERM/-ENOENT-style errors
 * when this is not a Xen dom0 (libxl's code is logged). */
int np_xen_open(np_log_fn log, void *log_opaque, np_xen **out);
void np_xen_close(np_xen *xen); /* NULL ok */

/* The backend operations over an open np_xen (pass it as `impl` to
 * np_backend_create). Guest ids are domids; a guest's per-node memory
 * comes from a fresh `u` dump read through the console ring
 * (libxl_send_debug_keys + libxl_xen_console_read_*).
 *
 * migrate_memory: Xen 4.17 cannot move a running domain's memory between
 * nodes. The only way is to save the whole domain and restore it with the
 * target node as its node affinity (a local migration), which this backend
 * does only when np_xen_set_memory_move() allowed it; otherwise it returns
 * -ENOTSUP and logs once how to enable it. A save/restore:
 *   - moves the whole domain: `bytes` is rounded up to all of the guest's
 *     memory, wherever it was; *moved_out reports what really left the
 *     source node for the target node, read from `u` dumps before and after
 *     (min(source's loss, target's gain));
 *   - pauses the guest from the start of the save to the end of the
 *     restore (logged; docs/xen.md has the figures measured on the test
 *     host) and gives it a NEW domid under the same name: callers must
 *     find it again by name;
 *   - keeps each vCPU's hard affinity, sets its soft affinity to the
 *     target node's CPUs and the node affinity to the target node;
 *   - is rate-limited: one at a time on the host (an flock on
 *     SAVE_DIR/lock; -EBUSY while another runs) and at most one attempt
 *     per guest name every NP_XEN_MOVE_MIN_INTERVAL_NS (-EAGAIN before
 *     that, and for a domid an earlier move already replaced);
 *   - refuses dom0 (-EPERM), and a target node that cannot take the whole
 *     guest as `numaplace create` counts a node (np_xen_node_takes over
 *     np_xen_usable_read: free above the DMA zone, minus creations in
 *     flight and head-room; the warning logged says where Xen's allocator
 *     would put it and which node could take it) or a save directory
 *     without room for its image (-ENOSPC, checked before the guest is
 *     stopped); a move that goes ahead reserves the target's memory in the
 *     ledger (NP_RESERVE_DIR) until the restore is over.
 * When the restore fails the original domain is resumed where it was and
 * the error returned; the save image is removed either way. */
const struct np_backend_ops *np_xen_backend_ops(void);

/* What migrate_memory may do (above). */
typedef enum np_xen_memory_move {
    NP_XEN_MEMORY_MOVE_OFF = 0,
    NP_XEN_MEMORY_MOVE_SAVE_RESTORE,
} np_xen_memory_move;
/* Least time between two save/restore moves of one guest: each pauses the
 * guest for seconds per GiB, so at most one such stall per guest every ten
 * minutes (numad, which moves whole processes, waits minutes too). */
#define NP_XEN_MOVE_MIN_INTERVAL_NS (UINT64_C(600) * 1000000000u)
/* Longest save directory path (room left for "/<domain name>.save"). */
#define NP_XEN_SAVE_DIR_MAX 200u
/* Allows (or forbids again) save/restore moves; save_dir (absolute,
 * shorter than NP_XEN_SAVE_DIR_MAX) receives the save image, as large as
 * the guest, and the lock; it is created (mode 0700) when missing.
 * -EINVAL for a bad mode or directory. */
int np_xen_set_memory_move(np_xen *xen, np_xen_memory_move mode, const char *save_dir);

/* Host topology from libxl: numainfo (memory, free, distances), cpu
 * topology (socket, core, node of each CPU) and PCI topology. Name "xen". */
int np_xen_topology(np_xen *xen, np_topology **out, np_error *err);
/* Same, opening and closing libxl around it: the "xen" topology source. */
int np_topology_read_xen(np_topology **out, np_error *err);
/* Asks Xen for a `u` dump and reads it back from the console ring. */
int np_xen_numa_dump_read(np_xen *xen, np_xen_numa_dump **out, np_error *err);
/* Asks Xen for its heap by node and zone (debug key H) and reads it, with
 * the boot line naming the DMA width when the ring still holds it. */
int np_xen_heap_dump_read(np_xen *xen, np_xen_heap_dump **out, np_error *err);
/* Every node of `topo` as np_xen_usable_node sees it (nodes[k] for node
 * index k): free_bytes[k] Xen's free memory (NULL: topo's mem_free_bytes),
 * inflight_bytes[k] what creations in flight still take there (NULL: none),
 * the DMA part from a fresh heap dump (debug key H) and Xen's DMA width. */
int np_xen_usable_read(np_xen *xen, const np_topology *topo, const uint64_t *free_bytes,
                       const uint64_t *inflight_bytes, np_xen_alloc_node *nodes, np_error *err);
/* Node affinity a domain's future allocations follow (node os_ids). */
int np_xen_set_node_affinity(np_xen *xen, uint32_t domid, const np_bitmap *nodes);

/* `numaplace create`'s hand-over to xl's own tool stack (xen_xl.c). xl is
 * run as a child process (XL_PATH or "xl" on PATH); its stdout and stderr
 * are captured into *output_out (malloc'd, NUL-terminated, also on error).
 *   np_xen_xl_dryrun: `xl -N create CFG`, xl's parse without building;
 *     the output is the libxl_domain_config JSON (np_xen_xl_config_parse).
 *   np_xen_xl_create: `xl create CFG`; with `preload` (a path) xl runs with
 *     LD_PRELOAD=preload (the vNUMA shim, xen/shim/xl_vnuma_fix.c). xl
 *     destroys the domain itself when the build fails.
 * Return 0 when xl exited 0, -EIO when it exited otherwise (*status_out:
 * its exit status, or 128 + signal), -errno when it could not be run. */
int np_xen_xl_dryrun(const char *cfg_path, char **output_out, int *status_out);
int np_xen_xl_create(const char *cfg_path, const char *preload, char **output_out,
                     int *status_out);
/* The domid of the domain named `name`: -ENOENT when there is none. */
int np_xen_domid_by_name(np_xen *xen, const char *name, uint32_t *domid_out);
/* Destroys a domain (libxl_domain_destroy). */
int np_xen_domain_destroy(np_xen *xen, uint32_t domid);
/* Node affinity of a domain (node os_ids) as Xen holds it. */
int np_xen_node_affinity(np_xen *xen, uint32_t domid, np_bitmap **nodes_out);

/* 1 when this machine is a Xen control domain (/proc/xen/capabilities says
 * control_d), 0 otherwise. Pure file read; available without libxl too. */
int np_xen_is_dom0(void);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_XEN_H */
