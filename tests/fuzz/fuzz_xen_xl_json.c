/*
 * fuzz_xen_xl_json.c - np_xen_xl_config_parse (what `xl -N create`
 * printed) on arbitrary bytes: a refusal says why; an accepted config has
 * masks only where it counts them, and the config rewrite keeps the text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/xen.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_xen_xl_config *c = NULL;
    np_error err = {0};
    char *out = NULL;
    int rc = np_xen_xl_config_parse((const char *)data, size, "fuzz.json", &c, &err);
    if (rc == -EINVAL && err.msg[0] == '\0')
        abort();
    if (rc == 0) {
        if (c->nr_hard > NP_XEN_PLAN_MAX_VCPUS || c->nr_soft > NP_XEN_PLAN_MAX_VCPUS ||
            c->nr_vnodes > NP_XEN_XL_MAX_VNODES)
            abort();
        for (uint32_t v = c->nr_soft; v < NP_XEN_PLAN_MAX_VCPUS; v++)
            if (c->soft[v])
                abort();
        (void)np_xen_xl_config_user_placed(c);
        np_xen_xl_config_destroy(c);
    }
    /* the rewrite keeps any text up to a block of its own */
    if (np_xen_cfg_rewrite((const char *)data, size, "cpus_soft = \"0\"\n", &out) == 0) {
        if (!memmem(out, strlen(out), NP_XEN_CFG_BLOCK_BEGIN, strlen(NP_XEN_CFG_BLOCK_BEGIN)))
            abort();
        free(out);
    }
    return 0;
}
