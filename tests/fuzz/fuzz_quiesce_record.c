/*
 * fuzz_quiesce_record.c - dquiesce_parse_record (the record numaplaced
 * keeps of a guest it stopped for a quiesced move step, read at the next
 * start) on arbitrary bytes: never more entries than asked for, every
 * entry a PID above 0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/quiesce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dquiesce_entry tab[DQUIESCE_MAX_STOPPED];
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t n = dquiesce_parse_record(text, tab, DQUIESCE_MAX_STOPPED);
    if (n > DQUIESCE_MAX_STOPPED)
        abort();
    for (size_t i = 0; i < n; i++)
        if (tab[i].pid <= 0)
            abort();
    free(text);
    return 0;
}
