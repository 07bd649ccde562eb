/*
 * xen/xen_move.c - the Xen backend's migrate_memory: moving a domain's
 * memory to another node the only way Xen 4.17 allows, a local migration
 * through a save image. Xen has no call that moves the pages of a running
 * domain between nodes (numaplace/xen.h, docs/xen.md); what it has is
 * "allocate a new domain's memory on the nodes of its node affinity". So:
 *
 *   1. libxl_retrieve_domain_configuration, then edit the copy: node
 *      affinity (nodemap) = the target node, libxl's own placement off,
 *      each vCPU's hard affinity as it is now (libxl_list_vcpu: a runtime
 *      `xl vcpu-pin` is not in the stored configuration) and its soft
 *      affinity = the target node's CPUs;
 *   2. libxl_domain_suspend into SAVE_DIR/NAME.save (the guest stops), and
 *      rename the suspended domain NAME--np-saved (two domains cannot
 *      share a name; the new one gets NAME from the start, so xenconsoled
 *      keeps logging to guest-NAME.log);
 *   3. libxl_domain_create_restore from that file with the edited
 *      configuration: Xen allocates the new domain on the target node while
 *      the old, suspended one still holds its memory on the source node;
 *   4. destroy the old domain, unpause the new one.
 * If step 3 fails, the old domain gets its name back and is resumed
 * (libxl_domain_resume with suspend_cancel) and nothing is lost; this is why the new domain is
 * built before the old is destroyed, at the price of holding the guest's memory twice for the
 * length of the restore (once on each node).
 *
 * The guest is paused from the start of step 2 to the end of step 4; the
 * time is logged. Whole guest, new domid: see numaplace/xen.h. The rate
 * limit (one move at a time host-wide, one per guest per
 * NP_XEN_MOVE_MIN_INTERVAL_NS) lives here because only this backend's
 * moves stall a guest.
 */
#include "xen/xen_int.h"

#include <libxl_utils.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"

/* Room the save directory must keep beyond the guest's pages (the image
 * holds libxl's stream records and the guest's configuration too). */
#define XEN_MOVE_FREE_SLACK_BYTES (UINT64_C(16) << 20)
/* Suffix of the saved domain's name until it is destroyed (two domains
 * cannot share a name); xl's migration uses "--migratedaway" likewise. */
#define XEN_MOVE_SAVED_SUFFIX "--np-saved"
/* libxl's migration stream format written by libxl_domain_suspend in 4.17
 * (LIBXL_HAVE_SRM_V2). */
#define XEN_MOVE_STREAM_VERSION 2u
#define XEN_MOVE_PATH_MAX 512u

/* ---- pure helpers (unit tested) ------------------------------------------ */

int np_xen_move_admit(const xen_move_state *ms, const char *name, uint64_t now_ns,
                      uint64_t min_interval_ns, uint64_t *wait_ns_out)
{
    for (size_t i = 0; i < ms->nr_recs; i++) {
        const xen_move_rec *r = &ms->recs[i];
        if (strcmp(r->name, name) != 0)
            continue;
        if (now_ns >= r->last_ns && now_ns - r->last_ns >= min_interval_ns)
            return 0;
        /* a clock behind the record (cannot happen with CLOCK_MONOTONIC)
         * counts as "just moved" */
        if (wait_ns_out)
            *wait_ns_out =
                now_ns >= r->last_ns ? min_interval_ns - (now_ns - r->last_ns) : min_interval_ns;
        return -EAGAIN;
    }
    return 0;
}

void np_xen_move_note(xen_move_state *ms, const char *name, uint32_t old_domid, uint64_t now_ns)
{
    size_t slot = ms->nr_recs;
    for (size_t i = 0; i < ms->nr_recs; i++)
        if (strcmp(ms->recs[i].name, name) == 0) {
            slot = i;
            break;
        }
    if (slot == XEN_MOVE_TRACK_MAX) {
        /* full: forget the oldest move (ties: the lowest slot) */
        slot = 0;
        for (size_t i = 1; i < ms->nr_recs; i++)
            if (ms->recs[i].last_ns < ms->recs[slot].last_ns)
                slot = i;
    } else if (slot == ms->nr_recs) {
        ms->nr_recs++;
    }
    snprintf(ms->recs[slot].name, sizeof(ms->recs[slot].name), "%s", name);
    ms->recs[slot].last_ns = now_ns;
    ms->recs[slot].old_domid = old_domid;
    ms->recs[slot].domid = 0;
    ms->recs[slot].restored_ns = 0;
}

void np_xen_move_restored(xen_move_state *ms, const char *name, uint32_t domid,
                          uint64_t restored_ns)
{
    for (size_t i = 0; i < ms->nr_recs; i++)
        if (strcmp(ms->recs[i].name, name) == 0) {
            ms->recs[i].domid = domid;
            ms->recs[i].restored_ns = restored_ns;
            return;
        }
}

bool np_xen_move_replaced(const xen_move_state *ms, uint32_t domid)
{
    for (size_t i = 0; i < ms->nr_recs; i++)
        if (ms->recs[i].domid != 0 && ms->recs[i].old_domid == domid)
            return true;
    return false;
}

int np_xen_move_start_ns(const xen_move_state *ms, uint32_t domid, uint64_t *start_ns_out)
{
    for (size_t i = 0; domid != 0 && i < ms->nr_recs; i++)
        if (ms->recs[i].domid == domid) {
            *start_ns_out = ms->recs[i].restored_ns;
            return 0;
        }
    return -ENOENT;
}

uint64_t np_xen_moved_bytes(uint64_t from_before, uint64_t from_after, uint64_t to_before,
                            uint64_t to_after)
{
    uint64_t lost = from_before > from_after ? from_before - from_after : 0;
    uint64_t gained = to_after > to_before ? to_after - to_before : 0;
    return lost < gained ? lost : gained;
}

/* ---- settings ---------------------------------------------------------------- */

/* mkdir -p with mode 0700 for the components it creates. */
static int make_dirs(const char *path)
{
    char buf[NP_XEN_SAVE_DIR_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) && errno != EEXIST)
            return -errno;
        buf[i] = c;
    }
    return 0;
}

int np_xen_set_memory_move(np_xen *xen, np_xen_memory_move mode, const char *save_dir)
{
    xen_move_state *ms = np_xen_move_state(xen);
    if (mode != NP_XEN_MEMORY_MOVE_OFF && mode != NP_XEN_MEMORY_MOVE_SAVE_RESTORE)
        return -EINVAL;
    if (!save_dir || save_dir[0] != '/' || strlen(save_dir) >= sizeof(ms->save_dir))
        return -EINVAL;
    snprintf(ms->save_dir, sizeof(ms->save_dir), "%s", save_dir);
    ms->mode = mode;
    ms->off_logged = false;
    return 0;
}

/* ---- the move ------------------------------------------------------------------ */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* A guest's bytes on two nodes and in total, from a fresh `u` dump. */
static int dump_bytes(np_xen *x, uint32_t domid, uint32_t from_os, uint32_t to_os,
                      uint64_t *from_out, uint64_t *to_out, uint64_t *total_out)
{
    np_xen_numa_dump *dump = NULL;
    np_error err = {0};
    uint64_t pages = 0;
    int rc = np_xen_numa_dump_read(x, &dump, &err);
    if (rc) {
        np_xen_logf(x, NP_LOG_ERROR, "move: cannot read the NUMA dump: %s", err.msg);
        return rc;
    }
    *from_out = *to_out = *total_out = 0;
    if (np_xen_numa_dump_pages(dump, domid, from_os, &pages) == 0)
        *from_out = pages * NP_XEN_PAGE_BYTES;
    if (np_xen_numa_dump_pages(dump, domid, to_os, &pages) == 0)
        *to_out = pages * NP_XEN_PAGE_BYTES;
    for (size_t i = 0; i < np_xen_numa_dump_nr_domains(dump); i++) {
        uint32_t d;
        if (np_xen_numa_dump_domain(dump, i, &d, &pages) == 0 && d == domid)
            *total_out = pages * NP_XEN_PAGE_BYTES;
    }
    np_xen_numa_dump_destroy(dump);
    return 0;
}

/* Frees an array of n libxl bitmaps. */
static void bitmaps_free(libxl_bitmap *maps, int n)
{
    for (int i = 0; maps && i < n; i++)
        libxl_bitmap_dispose(&maps[i]);
    free(maps);
}

/* Step 1: the configuration the domain is restored with. */
static int edit_config(np_xen *x, uint32_t domid, uint32_t to_os, const np_topology *topo,
                       libxl_domain_config *dc)
{
    libxl_ctx *ctx = np_xen_ctx(x);
    libxl_domain_build_info *b = &dc->b_info;
    libxl_vcpuinfo *vcpus = NULL;
    libxl_bitmap *hard = NULL, *soft = NULL;
    int nr_vcpus = 0, nr_cpus = 0, n = 0, rc = 0, lrc;

    lrc = libxl_retrieve_domain_configuration(ctx, domid, dc, NULL);
    if (lrc)
        return np_xen_fail(x, "libxl_retrieve_domain_configuration", lrc);
    if (b->num_vnuma_nodes > 0) {
        /* libxl 4.17 refuses to save it ("Cannot save a guest with vNUMA
         * configured", libxl_dom_save.c), and a refused suspend leaves
         * libxl calling xc_domain_resume on a running guest: ask nothing. */
        np_xen_logf(x, NP_LOG_WARNING,
                    "move: domain %u has vNUMA, which libxl 4.17 cannot save: its memory "
                    "cannot be moved on this Xen",
                    (unsigned)domid);
        return -ENOTSUP;
    }
    vcpus = libxl_list_vcpu(ctx, domid, &nr_vcpus, &nr_cpus);
    if (!vcpus || nr_vcpus <= 0 || nr_cpus <= 0) {
        rc = np_xen_fail(x, "libxl_list_vcpu", ERROR_FAIL);
        goto out;
    }
    n = b->max_vcpus > 0 && b->max_vcpus < nr_vcpus ? b->max_vcpus : nr_vcpus;
    hard = calloc((size_t)n, sizeof(*hard));
    soft = calloc((size_t)n, sizeof(*soft));
    if (!hard || !soft) {
        rc = -ENOMEM;
        goto out;
    }
    for (int v = 0; v < n; v++) {
        libxl_bitmap_init(&hard[v]);
        libxl_bitmap_init(&soft[v]);
    }
    for (int v = 0; v < n; v++) {
        size_t node_idx;
        libxl_bitmap_copy_alloc(ctx, &hard[v], &vcpus[v].cpumap);
        rc = np_topology_node_idx(topo, to_os, &node_idx);
        if (rc == 0)
            rc = np_xen_bitmap_from_np(np_topology_node_cpuset(topo, node_idx),
                                       (uint32_t)nr_cpus, &soft[v]);
        if (rc)
            goto out;
    }
    /* the per-domain cpumap would override the per-vCPU maps below */
    libxl_bitmap_dispose(&b->cpumap);
    libxl_bitmap_init(&b->cpumap);
    bitmaps_free(b->vcpu_hard_affinity, b->num_vcpu_hard_affinity);
    bitmaps_free(b->vcpu_soft_affinity, b->num_vcpu_soft_affinity);
    b->vcpu_hard_affinity = hard;
    b->num_vcpu_hard_affinity = n;
    b->vcpu_soft_affinity = soft;
    b->num_vcpu_soft_affinity = n;
    hard = soft = NULL;
    /* where Xen allocates the restored memory */
    libxl_defbool_set(&b->numa_placement, false);
    libxl_bitmap_dispose(&b->nodemap);
    libxl_bitmap_init(&b->nodemap);
    lrc = libxl_node_bitmap_alloc(ctx, &b->nodemap, 0);
    if (lrc) {
        rc = np_xen_fail(x, "libxl_node_bitmap_alloc", lrc);
        goto out;
    }
    libxl_bitmap_set_none(&b->nodemap);
    libxl_bitmap_set(&b->nodemap, (int)to_os);
out:
    bitmaps_free(hard, n);
    bitmaps_free(soft, n);
    if (vcpus)
        libxl_vcpuinfo_list_free(vcpus, nr_vcpus);
    return rc;
}

/* The restored domain is built while the saved one still holds its memory
 * (so that a failed restore can resume it): the target node alone must
 * take the whole guest, judged as `numaplace create` judges a node
 * (np_xen_usable_read: free memory above the DMA zone, minus creations in
 * flight from the reservation ledger, minus the head-room). Xen's
 * allocator takes DMA pages last and falls back to other nodes first:
 * measured on the test host, a 128 MiB PV guest restored onto a node whose
 * 191 MiB free was mostly DMA memory got 117 MiB there and 10.6 MiB on
 * another node. When it fits, the move's memory is reserved in the ledger
 * (tag: the guest's name) until the restore is over, so that a creation
 * meanwhile does not count it free; *reserved_out says so. */
static int check_room(np_xen *x, const char *name, const np_topology *topo, size_t from_idx,
                      size_t to_idx, uint64_t total_b, bool *reserved_out)
{
    size_t nr = np_topology_nr_nodes(topo), alt = SIZE_MAX;
    np_xen_alloc_node *an = calloc(nr, sizeof(*an));
    uint64_t *inflight = calloc(nr, sizeof(*inflight));
    uint64_t *predicted = calloc(nr, sizeof(*predicted));
    np_xen_numa_dump *dump = NULL;
    np_reserve *r = NULL;
    np_error err = {0};
    int rc;

    *reserved_out = false;
    if (!an || !inflight || !predicted) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = np_reserve_lock(NP_RESERVE_DIR, &r)))
        goto out;
    if (np_reserve_nr_entries(r) > 0 && (rc = np_xen_numa_dump_read(x, &dump, &err)))
        goto out;
    for (size_t k = 0; k < nr; k++) {
        uint32_t os = np_topology_node(topo, k)->os_id, domid;
        uint64_t held = 0, pages;
        /* what a creation's domain already holds is in neither Xen's free
         * memory nor the rest of its reservation */
        for (size_t e = 0; e < np_reserve_nr_entries(r); e++)
            if (np_reserve_entry_node(r, e) == os &&
                np_xen_domid_by_name(x, np_reserve_entry_tag(r, e), &domid) == 0 &&
                np_xen_numa_dump_pages(dump, domid, os, &pages) == 0)
                held += pages * NP_XEN_PAGE_BYTES;
        inflight[k] = np_reserve_node_bytes(r, os);
        inflight[k] = inflight[k] > held ? inflight[k] - held : 0;
    }
    if ((rc = np_xen_usable_read(x, topo, NULL, inflight, an, &err)))
        goto out;
    rc = np_xen_node_takes(an, nr, to_idx, from_idx, total_b, predicted, &alt);
    if (rc == 0) {
        rc = np_reserve_add(r, name, an[to_idx].os_id, total_b);
        if (rc == 0)
            rc = np_reserve_commit(r);
        *reserved_out = rc == 0;
        goto out;
    }
    if (rc != -ENOSPC)
        goto out;
    char where[256] = "";
    size_t used = 0;
    for (size_t k = 0; k < nr && used < sizeof(where); k++)
        if (predicted[k])
            used += (size_t)snprintf(where + used, sizeof(where) - used, "%s%llu MiB on node %u",
                                     used ? ", " : "", (unsigned long long)(predicted[k] >> 20),
                                     an[k].os_id);
    char other[96] = "no other node can take it whole";
    if (alt != SIZE_MAX)
        snprintf(other, sizeof(other), "node %u can (%llu MiB usable)", an[alt].os_id,
                 (unsigned long long)(an[alt].free_bytes >> 20));
    np_xen_logf(x, NP_LOG_WARNING,
                "move: node %u cannot take all %llu MiB of %s: %llu MiB usable there (free above "
                "the DMA zone, %llu MiB of DMA memory taken last, minus %llu MiB for creations "
                "in flight and %llu MiB head-room); Xen's allocator would put %s; %s: not moved",
                an[to_idx].os_id, (unsigned long long)(total_b >> 20), name,
                (unsigned long long)(an[to_idx].free_bytes >> 20),
                (unsigned long long)(an[to_idx].dma_free_bytes >> 20),
                (unsigned long long)(inflight[to_idx] >> 20),
                (unsigned long long)(NP_XEN_NODE_HEADROOM_BYTES >> 20),
                where[0] ? where : "it nowhere (the host has no room)", other);
out:
    if (rc && rc != -ENOSPC && err.msg[0])
        np_xen_logf(x, NP_LOG_ERROR, "move: %s: %s", name, err.msg);
    np_reserve_unlock(r);
    np_xen_numa_dump_destroy(dump);
    free(an);
    free(inflight);
    free(predicted);
    return rc;
}

/* The plan `numaplace create` wrote (NP_RESERVE_DIR/NAME.plan), when
 * there is one, is rewritten to where the guest is now, so that `numaplace
 * verify` checks the placement in force, not the one before the move. */
static void update_plan(np_xen *x, const char *name, uint32_t new_domid, const np_topology *topo,
                        size_t to_idx)
{
    char path[XEN_MOVE_PATH_MAX];
    np_xen_plan *plan = NULL;
    np_error err = {0};
    snprintf(path, sizeof(path), "%s/%s.plan", NP_RESERVE_DIR, name);
    int rc = np_xen_plan_read(path, &plan, &err);
    if (rc == -ENOENT)
        return; /* not created by numaplace create: no plan to keep */
    if (rc == 0)
        rc = np_xen_plan_moved(plan, new_domid, np_topology_node(topo, to_idx)->os_id,
                               np_topology_node_cpuset(topo, to_idx));
    if (rc == 0)
        rc = np_xen_plan_write(plan, path);
    if (rc)
        np_xen_logf(x, NP_LOG_WARNING, "move: %s: the plan %s is not updated: %s", name, path,
                    err.msg[0] ? err.msg : np_strerror(rc));
    else
        np_xen_logf(x, NP_LOG_INFO, "move: %s: plan %s updated to the new placement", name,
                    path);
    np_xen_plan_destroy(plan);
}

/* Steps 2-4. *new_domid_out: the restored domain (the old one on failure);
 * *paused_ns_out: how long the guest did not run; *restored_ns_out: when
 * the restored domain came to be (its vCPU time counts from there). */
static int save_restore(np_xen *x, uint32_t domid, const char *name, libxl_domain_config *dc,
                        const char *image, uint32_t *new_domid_out, uint64_t *paused_ns_out,
                        uint64_t *restored_ns_out)
{
    libxl_ctx *ctx = np_xen_ctx(x);
    libxl_domain_restore_params params;
    uint32_t new_domid = INVALID_DOMID;
    uint64_t t0, t_saved, t_restored;
    int fd = -1, rc = 0, lrc;
    char saved[NP_BACKEND_NAME_MAX + sizeof(XEN_MOVE_SAVED_SUFFIX)];

    libxl_domain_restore_params_init(&params);
    *new_domid_out = domid;
    *paused_ns_out = 0;
    fd = open(image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        np_xen_logf(x, NP_LOG_ERROR, "move: %s: %s", image, strerror(errno));
        goto out;
    }
    t0 = mono_ns();
    lrc = libxl_domain_suspend(ctx, domid, fd, 0, NULL);
    t_saved = mono_ns();
    if (lrc) {
        rc = np_xen_fail(x, "libxl_domain_suspend", lrc);
        /* a failed save may have left the guest suspended: let it run */
        libxl_domain_resume(ctx, domid, 1, NULL);
        goto out;
    }
    snprintf(saved, sizeof(saved), "%s%s", name, XEN_MOVE_SAVED_SUFFIX);
    if (lseek(fd, 0, SEEK_SET) != 0) {
        rc = -errno;
        libxl_domain_resume(ctx, domid, 1, NULL);
        goto out;
    }
    lrc = libxl_domain_rename(ctx, domid, name, saved);
    if (lrc) {
        rc = np_xen_fail(x, "libxl_domain_rename of the saved domain", lrc);
        libxl_domain_resume(ctx, domid, 1, NULL);
        goto out;
    }
    params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
    params.stream_version = XEN_MOVE_STREAM_VERSION;
    lrc = libxl_domain_create_restore(ctx, dc, &new_domid, fd, -1, &params, NULL, NULL);
    t_restored = mono_ns();
    *restored_ns_out = t_saved;
    if (lrc) {
        rc = np_xen_fail(x, "libxl_domain_create_restore", lrc);
        np_xen_logf(x, NP_LOG_WARNING, "move: resuming domain %u (%s) where it was",
                    (unsigned)domid, name);
        lrc = libxl_domain_rename(ctx, domid, saved, name);
        if (lrc)
            np_xen_fail(x, "libxl_domain_rename back", lrc);
        lrc = libxl_domain_resume(ctx, domid, 1, NULL);
        if (lrc)
            np_xen_fail(x, "libxl_domain_resume (the guest stays suspended)", lrc);
        goto out;
    }
    lrc = libxl_domain_destroy(ctx, domid, NULL);
    if (lrc)
        np_xen_fail(x, "libxl_domain_destroy of the saved domain", lrc);
    lrc = libxl_domain_unpause(ctx, new_domid, NULL);
    *paused_ns_out = mono_ns() - t0;
    *new_domid_out = new_domid;
    if (lrc) {
        rc = np_xen_fail(x, "libxl_domain_unpause", lrc);
        goto out;
    }
    np_xen_logf(x, NP_LOG_INFO,
                "move: %s saved in %llu ms, restored in %llu ms, paused %llu ms in all", name,
                (unsigned long long)((t_saved - t0) / 1000000),
                (unsigned long long)((t_restored - t_saved) / 1000000),
                (unsigned long long)(*paused_ns_out / 1000000));
out:
    if (fd >= 0) {
        close(fd);
        unlink(image);
    }
    libxl_domain_restore_params_dispose(&params);
    return rc;
}

/* The host-wide lock: one save/restore at a time among numaplace
 * processes. -EBUSY when another holds it. */
static int take_lock(np_xen *x, const char *dir, int *fd_out)
{
    char path[XEN_MOVE_PATH_MAX];
    int rc = make_dirs(dir), fd;
    if (rc) {
        np_xen_logf(x, NP_LOG_ERROR, "move: cannot create %s: %s", dir, strerror(-rc));
        return rc;
    }
    snprintf(path, sizeof(path), "%s/lock", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

int np_xen_op_migrate_memory(void *impl, uint64_t guest_id, size_t from_node_idx,
                             size_t to_node_idx, uint64_t bytes, uint64_t *moved_out)
{
    np_xen *x = impl;
    xen_move_state *ms = np_xen_move_state(x);
    libxl_domain_config dc;
    np_topology *topo = NULL;
    np_error err = {0};
    char *name = NULL;
    char image[XEN_MOVE_PATH_MAX];
    uint64_t from_b = 0, to_b = 0, total_b = 0, from_a = 0, to_a = 0, total_a = 0;
    uint64_t wait_ns = 0, paused_ns = 0, restored_ns = 0;
    struct statvfs vfs;
    uint32_t domid = (uint32_t)guest_id, new_domid = (uint32_t)guest_id, from_os, to_os;
    int lock_fd = -1, rc;
    bool reserved = false;

    libxl_domain_config_init(&dc);
    *moved_out = 0;
    if (ms->mode != NP_XEN_MEMORY_MOVE_SAVE_RESTORE) {
        if (!ms->off_logged)
            np_xen_logf(x, NP_LOG_WARNING,
                        "memory moves are off: Xen 4.17 moves a domain's memory between "
                        "nodes only by saving and restoring the whole domain, which pauses "
                        "it; set `xen_memory_move = save-restore` in numaplaced.conf to "
                        "allow that");
        ms->off_logged = true;
        rc = -ENOTSUP;
        goto out;
    }
    if (guest_id == 0) {
        rc = -EPERM; /* dom0 cannot be saved */
        goto out;
    }
    if (guest_id > UINT32_MAX) {
        rc = -ENOENT;
        goto out;
    }
    if (bytes == 0) {
        rc = 0;
        goto out;
    }
    rc = np_xen_topology(x, &topo, &err);
    if (rc)
        goto out;
    if (from_node_idx >= np_topology_nr_nodes(topo) || to_node_idx >= np_topology_nr_nodes(topo) ||
        from_node_idx == to_node_idx) {
        rc = -EINVAL;
        goto out;
    }
    from_os = np_topology_node(topo, from_node_idx)->os_id;
    to_os = np_topology_node(topo, to_node_idx)->os_id;
    if (np_xen_move_replaced(ms, domid)) {
        /* the caller's list predates our own move (the balancer asks for
         * several chunks in one round): the guest moved whole already */
        rc = -EAGAIN;
        goto out;
    }
    name = libxl_domid_to_name(np_xen_ctx(x), domid);
    if (!name || !name[0]) {
        rc = -ESRCH;
        goto out;
    }
    /* First what can never work (a vNUMA guest), then the limits. */
    rc = edit_config(x, domid, to_os, topo, &dc);
    if (rc)
        goto out;
    if (np_xen_move_admit(ms, name, mono_ns(), NP_XEN_MOVE_MIN_INTERVAL_NS, &wait_ns)) {
        np_xen_logf(x, NP_LOG_DEBUG, "move: %s was moved less than %llu s ago: next in %llu s",
                    name, (unsigned long long)(NP_XEN_MOVE_MIN_INTERVAL_NS / 1000000000u),
                    (unsigned long long)(wait_ns / 1000000000u));
        rc = -EAGAIN;
        goto out;
    }
    rc = take_lock(x, ms->save_dir, &lock_fd);
    if (rc)
        goto out;
    rc = dump_bytes(x, domid, from_os, to_os, &from_b, &to_b, &total_b);
    if (rc)
        goto out;
    if (from_b == 0) {
        rc = 0; /* nothing of it on the source node: nothing to do */
        goto out;
    }
    /* counted from the attempt: a guest whose move fails (no room, a guest
     * that does not answer the suspend request) is not retried every round */
    np_xen_move_note(ms, name, domid, mono_ns());
    if (statvfs(ms->save_dir, &vfs) == 0 &&
        (uint64_t)vfs.f_bavail * vfs.f_frsize < total_b + XEN_MOVE_FREE_SLACK_BYTES) {
        /* the image holds every page of the guest, and a full disk fails
         * the save only after the guest was stopped for it */
        np_xen_logf(x, NP_LOG_WARNING,
                    "move: %s has %llu MiB free, the save image of %s needs %llu MiB: not moved",
                    ms->save_dir,
                    (unsigned long long)(((uint64_t)vfs.f_bavail * vfs.f_frsize) >> 20), name,
                    (unsigned long long)((total_b + XEN_MOVE_FREE_SLACK_BYTES) >> 20));
        rc = -ENOSPC;
        goto out;
    }
    rc = check_room(x, name, topo, from_node_idx, to_node_idx, total_b, &reserved);
    if (rc)
        goto out;
    snprintf(image, sizeof(image), "%s/%s.save", ms->save_dir, name);
    np_xen_logf(x, NP_LOG_INFO,
                "move: %s (domain %u): %llu of its %llu MiB on node %u; saving and restoring "
                "it onto node %u (the whole guest moves, asked for %llu MiB)",
                name, (unsigned)domid, (unsigned long long)(from_b >> 20),
                (unsigned long long)(total_b >> 20), from_os, to_os,
                (unsigned long long)(bytes >> 20));
    rc = save_restore(x, domid, name, &dc, image, &new_domid, &paused_ns, &restored_ns);
    if (new_domid != domid)
        np_xen_move_restored(ms, name, new_domid, restored_ns);
    if (rc)
        goto out;
    if (dump_bytes(x, new_domid, from_os, to_os, &from_a, &to_a, &total_a) == 0) {
        *moved_out = np_xen_moved_bytes(from_b, from_a, to_b, to_a);
        np_xen_logf(x, NP_LOG_INFO,
                    "move: %s is domain %u now; node %u: %llu -> %llu MiB, node %u: %llu -> "
                    "%llu MiB (%llu MiB moved), paused %llu ms",
                    name, (unsigned)new_domid, from_os, (unsigned long long)(from_b >> 20),
                    (unsigned long long)(from_a >> 20), to_os, (unsigned long long)(to_b >> 20),
                    (unsigned long long)(to_a >> 20), (unsigned long long)(*moved_out >> 20),
                    (unsigned long long)(paused_ns / 1000000));
    }
    update_plan(x, name, new_domid, topo, to_node_idx);
out:
    if (reserved && np_reserve_release(NP_RESERVE_DIR, name) != 0)
        np_xen_logf(x, NP_LOG_WARNING, "move: %s: its reservation in %s is not released",
                    name, NP_RESERVE_DIR);
    if (lock_fd >= 0)
        close(lock_fd);
    free(name);
    np_topology_destroy(topo);
    libxl_domain_config_dispose(&dc);
    return rc;
}
