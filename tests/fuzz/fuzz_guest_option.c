/*
 * fuzz_guest_option.c - np_guest_spec_parse_option on arbitrary bytes (up
 * to the first NUL, as a command line would pass them). Every rejection
 * must carry a message; every acceptance must give a spec whose strings
 * are terminated.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/guest.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    np_guest_spec spec;
    np_error err = {0};
    int rc = np_guest_spec_parse_option(text, "fuzz", &spec, &err);
    if (rc == -EINVAL && err.msg[0] == '\0')
        abort();
    if (rc == 0) {
        if (strnlen(spec.name, sizeof(spec.name)) == sizeof(spec.name) ||
            strnlen(spec.group, sizeof(spec.group)) == sizeof(spec.group) ||
            spec.nr_devices > NP_GUEST_MAX_DEVICES)
            abort();
        np_guest_spec_validate(&spec, NULL, &err);
    }
    free(text);
    return 0;
}
