/*
 * fuzz_ctl_msg.c - np_ctl_request_parse, the parser of what any local user
 * writes to numaplaced's control socket, on arbitrary bytes given as a
 * byte range. A request it accepts must format back to a line that parses
 * to the same request (round trip); a rejection must say why.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/ctl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    np_ctl_request req, again;
    np_error err = {0};
    int rc = np_ctl_request_parse(text, size, &req, &err);
    if (rc == -EINVAL && err.msg[0] == '\0')
        abort();
    if (rc == 0) {
        char *line = NULL;
        if (strnlen(req.guest, sizeof(req.guest)) == sizeof(req.guest))
            abort();
        if (np_ctl_request_format(&req, &line) != 0)
            abort();
        if (np_ctl_request_parse(line, strlen(line), &again, &err) != 0 || again.cmd != req.cmd ||
            strcmp(again.guest, req.guest) != 0)
            abort();
        free(line);
    }
    free(text);
    return 0;
}
