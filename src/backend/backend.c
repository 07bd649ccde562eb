/*
 * backend/backend.c - the generic half of the backend interface: version
 * checks, the -ENOSYS rule for missing operations, and the guest-list
 * allocation helpers every implementation uses so that one free function
 * releases what any backend returned.
 *
 * An operation is usable when the table states a version that includes it
 * and the pointer is set; version 1 includes every operation up to `log`,
 * version 2 adds `flags`, read only from a table that states version 2.
 */
#include <numaplace/backend.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct np_backend {
    const struct np_backend_ops *ops;
    void *impl;
};

int np_backend_create(const struct np_backend_ops *ops, void *impl, np_backend **out)
{
    np_backend *be;

    if (!ops || !out)
        return -EINVAL;
    if (ops->version < 1 || ops->version > NP_BACKEND_OPS_VERSION)
        return -ENOTSUP;
    be = calloc(1, sizeof(*be));
    if (!be)
        return -ENOMEM;
    be->ops = ops;
    be->impl = impl;
    *out = be;
    return 0;
}

void np_backend_destroy(np_backend *be)
{
    free(be);
}

const char *np_backend_name(const np_backend *be)
{
    return be && be->ops->name ? be->ops->name : "";
}

uint32_t np_backend_version(const np_backend *be)
{
    return be ? be->ops->version : 0;
}

uint32_t np_backend_flags(const np_backend *be)
{
    return be && be->ops->version >= 2 ? be->ops->flags : 0;
}

int np_backend_topology(np_backend *be, np_topology **out)
{
    if (!be || !out)
        return -EINVAL;
    if (!be->ops->topology)
        return -ENOSYS;
    return be->ops->topology(be->impl, out);
}

int np_backend_list_guests(np_backend *be, np_backend_guest **guests_out, size_t *nr_out)
{
    if (!be || !guests_out || !nr_out)
        return -EINVAL;
    if (!be->ops->list_guests)
        return -ENOSYS;
    return be->ops->list_guests(be->impl, guests_out, nr_out);
}

int np_backend_node_free_bytes(np_backend *be, size_t node_idx, uint64_t *free_out)
{
    if (!be || !free_out)
        return -EINVAL;
    if (!be->ops->node_free_bytes)
        return -ENOSYS;
    return be->ops->node_free_bytes(be->impl, node_idx, free_out);
}

int np_backend_node_huge_free_bytes(np_backend *be, size_t node_idx, uint64_t page_bytes,
                                    uint64_t *free_out)
{
    if (!be || !free_out || !page_bytes)
        return -EINVAL;
    if (be->ops->version < 3 || !be->ops->node_huge_free_bytes)
        return -ENOSYS;
    return be->ops->node_huge_free_bytes(be->impl, node_idx, page_bytes, free_out);
}

int np_backend_set_vcpu_affinity(np_backend *be, uint64_t guest_id, uint32_t vcpu,
                                 const np_bitmap *hard, const np_bitmap *soft)
{
    if (!be)
        return -EINVAL;
    if (!be->ops->set_vcpu_affinity)
        return -ENOSYS;
    return be->ops->set_vcpu_affinity(be->impl, guest_id, vcpu, hard, soft);
}

int np_backend_set_guest_node_affinity(np_backend *be, uint64_t guest_id, const np_bitmap *nodes)
{
    if (!be)
        return -EINVAL;
    if (!be->ops->set_guest_node_affinity)
        return -ENOSYS;
    return be->ops->set_guest_node_affinity(be->impl, guest_id, nodes);
}

int np_backend_migrate_memory(np_backend *be, uint64_t guest_id, size_t from_node_idx,
                              size_t to_node_idx, uint64_t bytes, uint64_t *moved_out)
{
    if (!be || !moved_out)
        return -EINVAL;
    *moved_out = 0;
    if (!be->ops->migrate_memory)
        return -ENOSYS;
    return be->ops->migrate_memory(be->impl, guest_id, from_node_idx, to_node_idx, bytes,
                                   moved_out);
}

int np_backend_now_ns(np_backend *be, uint64_t *now_out)
{
    if (!be || !now_out)
        return -EINVAL;
    if (!be->ops->now_ns)
        return -ENOSYS;
    return be->ops->now_ns(be->impl, now_out);
}

int np_backend_random(np_backend *be, uint64_t *out)
{
    if (!be || !out)
        return -EINVAL;
    if (!be->ops->random)
        return -ENOSYS;
    return be->ops->random(be->impl, out);
}

void np_backend_log(np_backend *be, np_log_level level, const char *subsys, const char *msg)
{
    if (be && be->ops->log)
        be->ops->log(be->impl, level, subsys ? subsys : "", msg ? msg : "");
}

int np_backend_guests_alloc(size_t nr, np_backend_guest **out)
{
    if (!out)
        return -EINVAL;
    /* calloc(0) may return NULL; one element keeps "NULL means error". */
    *out = calloc(nr ? nr : 1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

int np_backend_guest_alloc(np_backend_guest *g, uint32_t nr_vcpus, size_t nr_nodes)
{
    if (!g || g->vcpus || g->node_mem_bytes)
        return -EINVAL;
    g->vcpus = calloc(nr_vcpus ? nr_vcpus : 1, sizeof(*g->vcpus));
    g->node_mem_bytes = calloc(nr_nodes ? nr_nodes : 1, sizeof(*g->node_mem_bytes));
    g->node_huge_bytes = calloc((nr_nodes ? nr_nodes : 1) * NP_HOST_HUGE_SIZES_MAX,
                                sizeof(*g->node_huge_bytes));
    if (!g->vcpus || !g->node_mem_bytes || !g->node_huge_bytes) {
        free(g->vcpus);
        free(g->node_mem_bytes);
        free(g->node_huge_bytes);
        g->vcpus = NULL;
        g->node_mem_bytes = NULL;
        g->node_huge_bytes = NULL;
        return -ENOMEM;
    }
    g->nr_vcpus = nr_vcpus;
    g->nr_nodes = nr_nodes;
    g->start_ns = NP_BACKEND_TIME_UNKNOWN;
    for (uint32_t v = 0; v < nr_vcpus; v++)
        g->vcpus[v].last_cpu_os_id = -1;
    return 0;
}

void np_backend_guests_free(np_backend_guest *guests, size_t nr)
{
    if (!guests)
        return;
    for (size_t i = 0; i < nr; i++) {
        np_backend_guest *g = &guests[i];
        for (uint32_t v = 0; g->vcpus && v < g->nr_vcpus; v++) {
            np_bitmap_destroy(g->vcpus[v].hard);
            np_bitmap_destroy(g->vcpus[v].soft);
        }
        free(g->vcpus);
        free(g->node_mem_bytes);
        free(g->node_huge_bytes);
    }
    free(guests);
}
