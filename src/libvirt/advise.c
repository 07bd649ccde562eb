/*
 * libvirt/advise.c - numad's pre-placement advice (`numad -w NCPUS:MB`)
 * answered by numaplace's placement policy (numaplace/libvirt.h).
 *
 * libvirt asks once per domain start with placement='auto', passing the
 * domain's vCPU count and its memory rounded up to MiB, and binds the
 * domain's vCPUs and memory to the node list it reads back. The request is
 * placed like any guest: the host state carries the running guests and the
 * measured free memory, so the answer is the node set numaplace itself
 * would choose for a guest of that size (soft affinity, vNUMA as the
 * policy decides). Pure: the caller senses the host.
 */
#include <numaplace/libvirt.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <numaplace/guest.h>
#include <numaplace/place.h>

#include "util/error.h"
#include "util/text.h"

#define MIB (UINT64_C(1) << 20)

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int np_advise_parse(const char *text, const char *origin, np_advise_request *out,
                    np_error *err)
{
    const char *p = text;
    uint64_t cpus = 0, mb = 0;
    bool round_up = false, have_mb = false;

    if (!text || !is_digit(*p))
        return np_error_set(err, origin, 0,
                            "expected NCPUS[:MB] (numad -w), such as 4:8192, got '%s'",
                            text ? text : "");
    if (np_parse_u64(&p, NP_ADVISE_MAX_VCPUS, &cpus) < 0)
        return np_error_set(err, origin, 0, "CPUs: at most %u, got '%s'", NP_ADVISE_MAX_VCPUS,
                            text);
    if (*p == '.') {
        /* numad keeps two decimals of a CPU count; any fraction here
         * needs one more whole vCPU. */
        p++;
        if (!is_digit(*p))
            return np_error_set(err, origin, 0, "expected digits after '.' in '%s'", text);
        for (; is_digit(*p); p++)
            round_up |= *p != '0';
    }
    if (*p == ':') {
        p++;
        if (!is_digit(*p))
            return np_error_set(err, origin, 0, "expected MB (a count of MiB) after ':' in '%s'",
                                text);
        if (np_parse_u64(&p, NP_ADVISE_MAX_MEM_MB, &mb) < 0)
            return np_error_set(err, origin, 0, "MB: at most %llu, got '%s'",
                                (unsigned long long)NP_ADVISE_MAX_MEM_MB, text);
        have_mb = true;
    }
    if (*p)
        return np_error_set(err, origin, 0,
                            "expected NCPUS[:MB] (numad -w), such as 4:8192; unexpected '%s' in '%s'",
                            p, text);
    if (round_up)
        cpus++;
    if (cpus == 0)
        return np_error_set(err, origin, 0, "a request needs at least one CPU, got '%s'", text);
    if (cpus > NP_ADVISE_MAX_VCPUS)
        return np_error_set(err, origin, 0, "CPUs: at most %u, got '%s'", NP_ADVISE_MAX_VCPUS,
                            text);
    out->vcpus = (uint32_t)cpus;
    out->mem_bytes = have_mb ? mb * MIB : 0;
    return 0;
}

void np_advice_fini(np_advice *a)
{
    if (!a)
        return;
    np_bitmap_destroy(a->nodes);
    a->nodes = NULL;
}

/* Every node of the host, numad's answer when nothing fits. */
static int all_nodes(const np_topology *topo, np_bitmap *nodes)
{
    for (size_t n = 0; n < np_topology_nr_nodes(topo); n++) {
        int rc = np_bitmap_set(nodes, np_topology_node(topo, n)->os_id);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int np_advise(const np_host_state *st, const np_advise_request *req, const char *policy,
              np_advice *out, np_error *err)
{
    const np_topology *topo = np_host_state_topology(st);
    np_placement *pl = NULL;
    np_guest_spec spec;
    np_error perr = {0};
    int rc;

    memset(out, 0, sizeof(*out));
    rc = np_bitmap_create(&out->nodes);
    if (rc < 0)
        goto out;
    np_guest_spec_init(&spec);
    snprintf(spec.name, sizeof(spec.name), "%s", NP_ADVISE_GUEST_NAME);
    spec.vcpus = req->vcpus;
    spec.mem_bytes = req->mem_bytes ? req->mem_bytes : NP_ADVISE_NO_MEMORY_BYTES;
    spec.maxmem_bytes = spec.mem_bytes;

    rc = np_guest_spec_validate(&spec, topo, &perr);
    if (rc == 0)
        rc = np_place(st, &spec, policy, &pl, &perr);
    if (rc == -EINVAL && policy) {
        bool known = false;
        for (size_t i = 0; i < np_place_policy_count(); i++)
            known |= strcmp(np_place_policy_name(i), policy) == 0;
        if (!known) {
            rc = np_error_set(err, NULL, 0, "unknown placement policy '%s'", policy);
            goto out;
        }
    }
    if (rc == -ENOSPC || rc == -EINVAL) {
        /* Larger than the host (validate) or no room (place): numad's
         * answer, every node, and the reason for the caller to log. */
        snprintf(out->note, sizeof(out->note), "%s", perr.msg);
        rc = all_nodes(topo, out->nodes);
        goto out;
    }
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < np_placement_nr_nodes(pl); i++) {
        rc = np_bitmap_set(out->nodes, np_topology_node(topo, np_placement_node(pl, i))->os_id);
        if (rc < 0)
            goto out;
    }
    out->fits = true;
    snprintf(out->note, sizeof(out->note), "%s", np_placement_note(pl));
out:
    np_placement_destroy(pl);
    if (rc < 0)
        np_advice_fini(out);
    return rc;
}
