/*
 * fuzz_guest_json.c - np_guest_spec_parse_json on arbitrary bytes, given as
 * a byte range (not NUL-terminated: the reader must not look past it).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/guest.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy lets ASan catch a read past the range. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    np_guest_spec spec;
    np_error err = {0};
    int rc = np_guest_spec_parse_json(text, size, "fuzz.json", &spec, &err);
    if (rc == -EINVAL && err.msg[0] == '\0')
        abort();
    if (rc == 0 && (strnlen(spec.name, sizeof(spec.name)) == sizeof(spec.name) ||
                    spec.nr_devices > NP_GUEST_MAX_DEVICES))
        abort();
    free(text);
    return 0;
}
