/*
 * xen/xen_xl.c - `numaplace create` hands the domain to xl's own tool
 * stack: `xl -N create` (xl's parse, nothing built) before anything is
 * placed, and `xl create` of the config with numaplace's decision written
 * in. Why xl and not libxl directly: xl's config parser is not a library,
 * and xl also keeps a daemon per domain that carries out on_reboot/
 * on_crash restarts; only xl itself gives every config the meaning it has
 * under `xl create` (docs/xen.md). Also the two lookups create and verify
 * need by domain: domid by name, node affinity.
 */
#include "xen/xen_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxl_utils.h>

extern char **environ;

/* xl's output: the dry run prints a few KiB of JSON; 4 MiB bounds it. */
#define XL_OUTPUT_MAX_BYTES (4u << 20)
#define XL_READ_CHUNK 4096
/* Exit status reported for a child killed by a signal: 128 + signal, as
 * shells do. */
#define XL_SIGNAL_STATUS_BASE 128

/* Runs argv (argv[0] looked up on PATH) with stdout+stderr captured;
 * `preload` non-NULL adds LD_PRELOAD=preload to the environment. */
static int run_xl(char *const argv[], const char *preload, char **output_out, int *status_out)
{
    posix_spawn_file_actions_t fa;
    int fds[2] = {-1, -1}, status = 0, rc = 0;
    pid_t pid = -1;
    char *buf = NULL, **envp = environ, **env_copy = NULL, *preload_var = NULL;
    size_t len = 0, cap = 0;

    *output_out = NULL;
    *status_out = -1;
    if (pipe2(fds, O_CLOEXEC))
        return -errno;
    if (preload) {
        size_t n = 0;
        while (environ[n])
            n++;
        env_copy = calloc(n + 2, sizeof(*env_copy));
        size_t plen = strlen(preload) + sizeof("LD_PRELOAD=");
        preload_var = malloc(plen);
        if (!env_copy || !preload_var) {
            rc = -ENOMEM;
            goto out;
        }
        snprintf(preload_var, plen, "LD_PRELOAD=%s", preload);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
                env_copy[k++] = environ[i];
        env_copy[k++] = preload_var;
        env_copy[k] = NULL;
        envp = env_copy;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    fds[1] = -1;
    if (r) {
        rc = -r;
        goto out;
    }
    for (;;) {
        if (cap - len < XL_READ_CHUNK + 1) {
            size_t ncap = cap ? cap * 2 : 4 * XL_READ_CHUNK;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fds[0], buf + len, XL_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (len + (size_t)n <= XL_OUTPUT_MAX_BYTES)
            len += (size_t)n; /* beyond the bound the rest is drained, not kept */
    }
    /* xl create forks a daemon that keeps the domain (its restarts); it
     * closes the pipe when it detaches, so EOF comes before the wait. */
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            rc = rc ? rc : -errno;
            goto out;
        }
    }
    *status_out = WIFEXITED(status) ? WEXITSTATUS(status)
                                    : XL_SIGNAL_STATUS_BASE + WTERMSIG(status);
    if (rc == 0 && *status_out != 0)
        rc = -EIO;
out:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (!buf)
        buf = calloc(1, 1);
    if (buf)
        buf[len] = '\0';
    *output_out = buf;
    free(env_copy);
    free(preload_var);
    return rc;
}

int np_xen_xl_dryrun(const char *cfg_path, char **output_out, int *status_out)
{
    char *argv[] = {"xl", "-N", "create", (char *)cfg_path, NULL};
    return run_xl(argv, NULL, output_out, status_out);
}

int np_xen_xl_create(const char *cfg_path, const char *preload, char **output_out,
                     int *status_out)
{
    char *argv[] = {"xl", "create", (char *)cfg_path, NULL};
    return run_xl(argv, preload, output_out, status_out);
}

int np_xen_domid_by_name(np_xen *x, const char *name, uint32_t *domid_out)
{
    uint32_t domid;
    int lrc = libxl_name_to_domid(np_xen_ctx(x), name, &domid);
    if (lrc)
        return -ENOENT;
    *domid_out = domid;
    return 0;
}

int np_xen_node_affinity(np_xen *x, uint32_t domid, np_bitmap **nodes_out)
{
    libxl_bitmap map;
    int lrc, rc;
    libxl_bitmap_init(&map);
    if (libxl_node_bitmap_alloc(np_xen_ctx(x), &map, 0))
        return -ENOMEM;
    lrc = libxl_domain_get_nodeaffinity(np_xen_ctx(x), domid, &map);
    if (lrc) {
        libxl_bitmap_dispose(&map);
        return np_xen_fail(x, "libxl_domain_get_nodeaffinity", lrc);
    }
    rc = np_xen_bitmap_to_np(&map, nodes_out);
    libxl_bitmap_dispose(&map);
    return rc;
}

int np_xen_domain_destroy(np_xen *x, uint32_t domid)
{
    int lrc = libxl_domain_destroy(np_xen_ctx(x), domid, NULL);
    return lrc ? np_xen_fail(x, "libxl_domain_destroy", lrc) : 0;
}
