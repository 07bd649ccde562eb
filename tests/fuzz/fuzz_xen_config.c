/*
 * fuzz_xen_config.c - the domain configuration `numaplace create` builds
 * (np_xen_config_build: libxlutil's config, disk and PCI parsers
 * underneath) from arbitrary bytes read as an xl.cfg, placed on a built-in
 * 2-node host. Any refusal must say why; an accepted file must give a
 * configuration that libxl can dispose. Without libxen-dev there is
 * nothing to build and the target does nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef NP_HAVE_XEN
#include <numaplace/hoststate.h>
#include <numaplace/place.h>

#include "xen/xen_int.h"

/* libxlutil 4.17 leaks on some syntax errors (see fuzz_xl_cfg.c). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libxlutil.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_topology *topo = NULL;
    np_host_state *st = NULL;
    np_placement *pl = NULL;
    np_guest_spec spec;
    np_error err = {0};
    libxl_domain_config dc;
    char *text = malloc(size ? size : 1);

    libxl_domain_config_init(&dc);
    if (!text)
        return 0;
    memcpy(text, data, size);
    if (np_guest_spec_read_xl_cfg(text, size, "fuzz.cfg", &spec, &err) ||
        np_topology_builtin("small-2n", &topo, &err) || np_host_state_create(topo, &st) ||
        np_place(st, &spec, NULL, &pl, &err))
        goto out;
    memset(&err, 0, sizeof(err));
    int rc = np_xen_config_build(text, size, "fuzz.cfg", 64, 8, topo, &spec, pl, &dc, &err);
    if ((rc == -EINVAL || rc == -ENOTSUP) && err.msg[0] == '\0')
        abort();
    if (rc == 0 && (!dc.c_info.name || !dc.b_info.kernel))
        abort();
out:
    libxl_domain_config_dispose(&dc);
    np_placement_destroy(pl);
    np_host_state_destroy(st);
    np_topology_destroy(topo);
    free(text);
    return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
#endif
