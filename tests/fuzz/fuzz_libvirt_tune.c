/*
 * fuzz_libvirt_tune.c - np_libvirt_tune_domain on arbitrary bytes as the
 * domain XML, with one fixed placement (a 4-vCPU guest spanning the two
 * nodes of builtin:small-2n, vNUMA on): a tuned document or a refusal with
 * a message, never a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/guest.h>
#include <numaplace/hoststate.h>
#include <numaplace/libvirt.h>
#include <numaplace/place.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_topology *topo = NULL;
    np_host_state *st = NULL;
    np_placement *pl = NULL;
    np_guest_spec spec;
    np_error err = {0};
    char *out = NULL;

    if (np_topology_open("builtin:small-2n", NP_TOPO_FMT_AUTO, &topo, &err) ||
        np_host_state_create(topo, &st))
        goto done;
    np_guest_spec_init(&spec);
    strcpy(spec.name, "fuzz");
    spec.vcpus = 4;
    spec.mem_bytes = spec.maxmem_bytes = UINT64_C(6) << 30; /* more than a node: spans */
    if (np_place(st, &spec, NULL, &pl, &err))
        goto done;
    memset(&err, 0, sizeof(err));
    int rc = np_libvirt_tune_domain((const char *)data, size, "fuzz", topo, &spec, pl, &out, &err);
    if (rc == -EINVAL && err.msg[0] == '\0')
        abort();
    if (rc == 0 && (!out || !strstr(out, "<numatune>")))
        abort();
done:
    free(out);
    np_placement_destroy(pl);
    np_host_state_destroy(st);
    np_topology_destroy(topo);
    return 0;
}
