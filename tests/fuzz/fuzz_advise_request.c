/*
 * fuzz_advise_request.c - np_advise_parse (numad's -w NCPUS[:MB]) on
 * arbitrary bytes up to the first NUL, as a command line passes them.
 * Every refusal must carry a message; every acceptance must be within the
 * documented limits.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/libvirt.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    np_advise_request r;
    np_error err = {0};
    int rc = np_advise_parse(text, "fuzz", &r, &err);
    if (rc == -EINVAL && err.msg[0] == '\0')
        abort();
    if (rc == 0 && (r.vcpus == 0 || r.vcpus > NP_ADVISE_MAX_VCPUS ||
                    r.mem_bytes > (NP_ADVISE_MAX_MEM_MB << 20)))
        abort();
    if (rc != 0 && rc != -EINVAL)
        abort();
    free(text);
    return 0;
}
