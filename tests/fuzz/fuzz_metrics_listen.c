/*
 * fuzz_metrics_listen.c - np_metrics_listen_parse (numaplaced's
 * metrics_listen = ADDRESS:PORT) on arbitrary bytes up to the first NUL.
 * Every refusal carries a message; an acceptance has a port.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/metrics.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    np_metrics_listen l;
    np_error err = {0};
    int rc = np_metrics_listen_parse(text, "fuzz", &l, &err);
    if ((rc == -EINVAL && err.msg[0] == '\0') || (rc == 0 && l.port == 0) ||
        (rc != 0 && rc != -EINVAL))
        abort();
    if (rc == 0)
        (void)np_metrics_listen_is_loopback(&l);
    free(text);
    return 0;
}
