/*
 * fuzz_balance_state.c - np_balance_state_load on arbitrary bytes (the
 * file a daemon reads back at start, which a person may have edited).
 * A document that loads must save and load again to the same state.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/balance.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy lets ASan catch a read past the range. */
    char *text = malloc(size ? size : 1);
    np_balance_state *st = NULL, *back = NULL;
    char *saved = NULL, *again = NULL;
    np_error err = {0};

    if (!text)
        return 0;
    memcpy(text, data, size);
    int rc = np_balance_state_load(text, size, "fuzz.json", &st, &err);
    if (rc == -EINVAL && err.msg[0] == '\0')
        abort();
    if (rc == 0) {
        if (np_balance_state_save(st, &saved))
            abort();
        np_error err2 = {0};
        if (np_balance_state_load(saved, strlen(saved), "saved", &back, &err2) ||
            np_balance_state_nr_guests(back) != np_balance_state_nr_guests(st) ||
            np_balance_state_save(back, &again) || strcmp(saved, again))
            abort();
    }
    free(again);
    free(saved);
    np_balance_state_destroy(back);
    np_balance_state_destroy(st);
    free(text);
    return 0;
}
