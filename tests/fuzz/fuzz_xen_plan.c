/*
 * fuzz_xen_plan.c - np_xen_plan_parse on arbitrary bytes: a refusal says
 * why; an accepted plan formats to text that parses again to the same
 * text (the format is its own normal form).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/xen.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_xen_plan *p = NULL, *q = NULL;
    np_error err = {0};
    char *t1 = NULL, *t2 = NULL;
    int rc = np_xen_plan_parse((const char *)data, size, "fuzz.plan", &p, &err);
    if (rc == -EINVAL && err.msg[0] == '\0')
        abort();
    if (rc == 0) {
        if (np_xen_plan_format(p, &t1) != 0 ||
            np_xen_plan_parse(t1, strlen(t1), "again", &q, &err) != 0 ||
            np_xen_plan_format(q, &t2) != 0 || strcmp(t1, t2) != 0)
            abort();
    }
    free(t1);
    free(t2);
    np_xen_plan_destroy(p);
    np_xen_plan_destroy(q);
    return 0;
}
