/*
 * fuzz_smaps.c - libFuzzer target for the /proc/PID/smaps reader the page
 * walk uses for each mapping's page size (np_linux_smaps_apply): any bytes
 * must give either page sizes that are powers of two from the base page up,
 * each dividing its mapping's bounds, or -EINVAL with a line number and a
 * message; never a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "linux/linux_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Ranges as a maps read might give them; the input decides which of
     * them its entries name. */
    np_linux_range r[3] = {{.start = 0x200000, .end = 0x600000},
                           {.start = 0x40000000, .end = 0x80000000},
                           {.start = 0x7f0000001000, .end = 0x7f0000003000}};
    np_error err = {0};
    int rc = np_linux_smaps_apply((const char *)data, size, "fuzz", 4096, r, 3, &err);
    if (rc == 0) {
        for (int i = 0; i < 3; i++) {
            uint64_t p = r[i].page_bytes;
            if (p < 4096 || (p & (p - 1)) != 0 || r[i].start % p || r[i].end % p)
                abort();
        }
    } else if (rc == -EINVAL) {
        if (err.line == 0 || err.msg[0] == '\0')
            abort();
    } else if (rc != -ENOMEM) {
        abort();
    }
    return 0;
}
