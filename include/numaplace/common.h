/*
 * numaplace/common.h - conventions shared by every numaplace subsystem.
 *
 * Every fallible function returns 0 on success or a negative errno value
 * (-EINVAL for bad input, -ENOMEM, -ENOENT for an unknown name, ...), and
 * hands its result back through an out-parameter whose name ends in _out.
 * Functions that parse user input also fill a caller-supplied np_error with
 * the origin (file name or "<stdin>"), the 1-based line and a sentence saying
 * what was expected. The library never prints and never exits.
 */
#ifndef NUMAPLACE_COMMON_H
#define NUMAPLACE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where and why a parse or validation failed. Zero-initialise before use. */
typedef struct np_error {
    char origin[256]; /* file name, "builtin:NAME", "<stdin>", or "" */
    unsigned line;    /* 1-based line of the offending input, 0 if none */
    char msg[512];    /* what was expected, as a sentence fragment */
} np_error;

/* Format "origin:line: msg" (parts that are empty are left out) into buf.
 * Returns buf. */
const char *np_error_format(const np_error *err, char *buf, size_t len);

/* Like strerror() for the negative errno codes the library returns. */
const char *np_strerror(int rc);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *np_version(void);

/* Parses a size as users write it: "512M", "8G", "1.5G", "64KiB", "4096"
 * (bytes); suffixes are binary (K = 1024). -EINVAL or -ERANGE. */
int np_size_parse(const char *text, uint64_t *bytes_out);

/* Log levels for the callbacks of subsystems that log (daemon, backends). */
typedef enum np_log_level {
    NP_LOG_ERROR = 0,
    NP_LOG_WARNING,
    NP_LOG_INFO,
    NP_LOG_DEBUG,
} np_log_level;

/* A log sink. `subsys` is a prefix such as "linux/sysfs". */
typedef void (*np_log_fn)(void *opaque, np_log_level level, const char *subsys,
                          const char *msg);

/* Replaces the file at `path` with `len` bytes of `text` so that a reader
 * sees the old file or the new one, never a part: a temporary file beside
 * it (PATH.tmp.PID, created with `mode`), written, fsync'd and renamed over
 * it. On failure the old file is untouched and the temporary file removed.
 * The state, plan and reservation files all go through it. */
int np_write_file_atomic(const char *path, const char *text, size_t len, unsigned mode);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_COMMON_H */
