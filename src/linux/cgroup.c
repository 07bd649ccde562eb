/*
 * linux/cgroup.c - cgroup v2 access: where the unified hierarchy is
 * mounted, which processes a cgroup holds (cgroup.procs), and writing its
 * cpuset.cpus / cpuset.mems.
 *
 * The mount point comes from the root's proc/self/mounts (first "cgroup2"
 * line; "/sys/fs/cgroup" on a pure v2 system, "/sys/fs/cgroup/unified" on
 * a hybrid one), so a fixture tree can put it anywhere. Cgroup paths are
 * the kernel's ("/machine.slice/x.scope", as /proc/PID/cgroup shows them);
 * ".." components are refused because the daemon takes paths from its
 * control socket.
 *
 * In cgroup v2, writing cpuset.mems migrates the tasks' memory before the
 * write returns (there is no memory_migrate switch), and a wider set moves
 * nothing (numa-guest.md section 6).
 *
 * cpuset.cpus bounds thread affinity: the kernel intersects every
 * sched_setaffinity mask with the cgroup's cpuset.cpus.effective (EINVAL
 * when nothing is left, silently narrower otherwise). So before a thread is
 * steered outside its cgroup's CPUs, np_linux_cgroup_widen_cpus adds them
 * to the cgroup's own cpuset.cpus (never removes any); narrowing is a plain
 * np_linux_cgroup_set_cpuset, which the backend does only for a guest
 * pinned hard as a whole (docs/linux.md, "Soft affinity on Linux").
 */
#include "linux/linux_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/text.h"

#define SUBSYS "linux/cgroup"
#define NP_LINUX_CGROUP2_DEFAULT "sys/fs/cgroup"
/* Longest cgroup path accepted (the kernel's PATH_MAX). */
#define NP_LINUX_CGROUP_PATH_MAX 4096u

/* Undo the octal escapes (\040 for space) of a mounts field in place. */
static void unescape_octal(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

static int find_cgroup2_mount(np_linux_ctx *ctx, const char **mount_out)
{
    static const char *const sources[] = {"proc/self/mounts", "proc/mounts"};
    char *text = NULL;
    size_t len = 0;
    int rc = 0;

    if (ctx->cgroup2_mount) {
        *mount_out = ctx->cgroup2_mount;
        return 0;
    }
    for (size_t i = 0; i < 2 && !ctx->cgroup2_mount; i++) {
        if (np_linux_read_at(ctx, sources[i], &text, &len) < 0)
            continue;
        np_line_scanner sc;
        const char *line;
        np_scanner_init(&sc, text, len);
        while (np_scanner_next(&sc, &line) > 0 && !ctx->cgroup2_mount) {
            char dev[256], mnt[NP_LINUX_CGROUP_PATH_MAX], type[64];
            /* "dev mountpoint type options freq passno" */
            if (sscanf(line, "%255s %4095s %63s", dev, mnt, type) != 3 ||
                strcmp(type, "cgroup2") != 0)
                continue;
            unescape_octal(mnt);
            const char *rel = mnt;
            while (*rel == '/')
                rel++;
            ctx->cgroup2_mount = strdup(*rel ? rel : ".");
            if (!ctx->cgroup2_mount)
                rc = -ENOMEM;
        }
        np_scanner_fini(&sc);
        free(text);
        text = NULL;
        if (rc < 0)
            return rc;
    }
    if (!ctx->cgroup2_mount) {
        ctx->cgroup2_mount = strdup(NP_LINUX_CGROUP2_DEFAULT);
        if (!ctx->cgroup2_mount)
            return -ENOMEM;
    }
    *mount_out = ctx->cgroup2_mount;
    return 0;
}

/* "<mount>/<cgroup>/<file>" relative to the root, after checking the path. */
static int cgroup_file(np_linux_ctx *ctx, const char *cgroup, const char *file, char *buf,
                       size_t len)
{
    const char *mnt;
    if (!cgroup || cgroup[0] != '/' || strlen(cgroup) >= NP_LINUX_CGROUP_PATH_MAX)
        return -EINVAL;
    for (const char *p = cgroup; *p;) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return -EINVAL;
        p += n;
    }
    int rc = find_cgroup2_mount(ctx, &mnt);
    if (rc < 0)
        return rc;
    if (cgroup[1] == '\0') /* the root cgroup "/" */
        return np_linux_path(buf, len, "%s/%s", mnt, file);
    return np_linux_path(buf, len, "%s%s/%s", mnt, cgroup, file);
}

int np_linux_cgroup_read(np_linux_ctx *ctx, const char *cgroup, const char *file, char **buf_out,
                         size_t *len_out, char *origin, size_t origin_len)
{
    char path[NP_LINUX_CGROUP_PATH_MAX + 256];
    int rc = cgroup_file(ctx, cgroup, file, path, sizeof(path));
    if (rc < 0)
        return rc;
    if (origin)
        snprintf(origin, origin_len, "%s", path);
    return np_linux_read_at(ctx, path, buf_out, len_out);
}

int np_linux_cgroup_procs(np_linux_ctx *ctx, const char *cgroup, pid_t **pids_out,
                          size_t *n_out)
{
    char path[NP_LINUX_CGROUP_PATH_MAX + 256], *text = NULL;
    size_t len = 0, n = 0, cap = 0;
    pid_t *pids = NULL;
    np_line_scanner sc;
    const char *line;
    int rc, r;

    if (!ctx || !pids_out || !n_out)
        return -EINVAL;
    rc = cgroup_file(ctx, cgroup, "cgroup.procs", path, sizeof(path));
    if (rc < 0)
        return rc;
    rc = np_linux_read_at(ctx, path, &text, &len);
    if (rc < 0)
        return rc;
    np_scanner_init(&sc, text, len);
    while ((r = np_scanner_next(&sc, &line)) > 0) {
        uint64_t v;
        if (np_is_blank(line))
            continue;
        if (sc.too_long || sc.has_nul || np_parse_u64_full(line, INT32_MAX, &v) < 0 || v == 0) {
            np_error err = {0};
            np_error_set(&err, path, sc.lineno, "expected one process id per line");
            rc = np_linux_parse_failed(ctx, SUBSYS, &err);
            goto out;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            pid_t *np_ = realloc(pids, ncap * sizeof(*np_));
            if (!np_) {
                rc = -ENOMEM;
                goto out;
            }
            pids = np_;
            cap = ncap;
        }
        pids[n++] = (pid_t)v;
    }
    if (r < 0) {
        rc = r;
        goto out;
    }
    /* The kernel lists cgroup.procs unsorted (and may repeat a PID). */
    for (size_t i = 1; i < n; i++) {
        pid_t v = pids[i];
        size_t j = i;
        while (j > 0 && pids[j - 1] > v) {
            pids[j] = pids[j - 1];
            j--;
        }
        pids[j] = v;
    }
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || pids[u - 1] != pids[i])
            pids[u++] = pids[i];
    *pids_out = pids;
    *n_out = u;
    pids = NULL;
out:
    np_scanner_fini(&sc);
    free(text);
    free(pids);
    return rc;
}

static int write_list(np_linux_ctx *ctx, const char *cgroup, const char *file,
                      const np_bitmap *map)
{
    char path[NP_LINUX_CGROUP_PATH_MAX + 256];
    char *text = NULL;
    int rc = cgroup_file(ctx, cgroup, file, path, sizeof(path));
    if (rc < 0)
        return rc;
    size_t need = np_bitmap_format(map, NULL, 0);
    text = malloc(need + 2);
    if (!text)
        return -ENOMEM;
    np_bitmap_format(map, text, need + 1);
    text[need] = '\n';
    text[need + 1] = '\0';
    rc = np_linux_write_at(ctx, path, text);
    text[need] = '\0';
    if (rc < 0)
        np_linux_log(ctx, NP_LOG_WARNING, SUBSYS, "writing \"%s\" to %s: %s", text, path,
                     np_strerror(rc));
    else
        np_linux_log(ctx, NP_LOG_INFO, SUBSYS, "%s%s%s = %s", cgroup, cgroup[1] ? "/" : "", file,
                     text);
    free(text);
    return rc;
}

int np_linux_cgroup_set_cpuset(np_linux_ctx *ctx, const char *cgroup, const np_bitmap *cpus,
                               const np_bitmap *mems)
{
    int rc = 0;
    if (!ctx || !cgroup)
        return -EINVAL;
    /* CPUs first: the tasks then run near the memory the mems write is about
     * to move, instead of faulting on the old node during the move. */
    if (cpus)
        rc = write_list(ctx, cgroup, "cpuset.cpus", cpus);
    if (rc == 0 && mems)
        rc = write_list(ctx, cgroup, "cpuset.mems", mems);
    return rc;
}

/* A cgroup CPU list file as a bitmap; -EINVAL (last_error set) when it is
 * not a cpulist. */
static int read_list(np_linux_ctx *ctx, const char *cgroup, const char *file,
                     np_bitmap **map_out)
{
    char path[NP_LINUX_CGROUP_PATH_MAX + 256], *text = NULL;
    size_t len = 0;
    np_bitmap *map = NULL;
    int rc = cgroup_file(ctx, cgroup, file, path, sizeof(path));
    if (rc < 0)
        return rc;
    rc = np_linux_read_at(ctx, path, &text, &len);
    if (rc < 0)
        return rc;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        text[--len] = '\0';
    rc = np_bitmap_create(&map);
    if (rc < 0)
        goto out;
    if (strlen(text) != len || np_bitmap_parse(map, text) < 0) {
        np_error err = {0};
        np_error_set(&err, path, 1, "expected a CPU list like \"0-3,8\" (or nothing)");
        rc = np_linux_parse_failed(ctx, SUBSYS, &err);
        goto out;
    }
    *map_out = map;
    map = NULL;
out:
    np_bitmap_destroy(map);
    free(text);
    return rc;
}

int np_linux_cgroup_cpus(np_linux_ctx *ctx, const char *cgroup, bool effective,
                         np_bitmap **cpus_out)
{
    if (!ctx || !cgroup || !cpus_out)
        return -EINVAL;
    return read_list(ctx, cgroup, effective ? "cpuset.cpus.effective" : "cpuset.cpus", cpus_out);
}

/* Whether every id of a is in b. */
static bool is_subset(const np_bitmap *a, const np_bitmap *b)
{
    for (int i = np_bitmap_next(a, 0); i >= 0; i = np_bitmap_next(a, (unsigned)i + 1))
        if (!np_bitmap_test(b, (unsigned)i))
            return false;
    return true;
}

/* The parent of a cgroup path, into buf ("/a/b" -> "/a", "/a" -> "/"). */
static void parent_of(const char *cgroup, char *buf, size_t len)
{
    size_t n = strlen(cgroup);
    while (n > 1 && cgroup[n - 1] == '/')
        n--;
    while (n > 0 && cgroup[n - 1] != '/')
        n--;
    while (n > 1 && cgroup[n - 1] == '/')
        n--;
    if (n == 0)
        n = 1;
    if (n >= len)
        n = len - 1;
    memcpy(buf, cgroup, n);
    buf[n] = '\0';
}

int np_linux_cgroup_widen_cpus(np_linux_ctx *ctx, const char *cgroup, const np_bitmap *cpus,
                               bool *written_out)
{
    np_bitmap *eff = NULL, *own = NULL, *parent_eff = NULL;
    char parent[NP_LINUX_CGROUP_PATH_MAX];
    int rc;

    if (!ctx || !cgroup || !cpus || !written_out)
        return -EINVAL;
    *written_out = false;
    if (cgroup[0] == '/' && cgroup[1] == '\0')
        return -EINVAL; /* the root cgroup has no cpuset.cpus to write */
    rc = read_list(ctx, cgroup, "cpuset.cpus.effective", &eff);
    if (rc < 0)
        goto out;
    if (is_subset(cpus, eff))
        goto out; /* already allowed: nothing to write */
    rc = read_list(ctx, cgroup, "cpuset.cpus", &own);
    if (rc < 0)
        goto out;
    /* An empty cpuset.cpus means "whatever the parent has": start from what
     * the cgroup gets now, so the write adds CPUs and removes none. */
    if (np_bitmap_is_empty(own))
        rc = np_bitmap_or(own, eff);
    if (rc == 0)
        rc = np_bitmap_or(own, cpus);
    if (rc < 0)
        goto out;
    /* The effective set is cpuset.cpus within the parent's effective set:
     * the daemon does not write above the guest's cgroup, so say when the
     * parent is what stands in the way. */
    parent_of(cgroup, parent, sizeof(parent));
    if (read_list(ctx, parent, "cpuset.cpus.effective", &parent_eff) == 0 &&
        !is_subset(cpus, parent_eff)) {
        char want[256], have[256];
        np_bitmap_format(cpus, want, sizeof(want));
        np_bitmap_format(parent_eff, have, sizeof(have));
        np_linux_log(ctx, NP_LOG_WARNING, SUBSYS,
                     "%s: the parent cgroup %s allows only CPUs %s, not all of %s: threads "
                     "will be confined to the overlap",
                     cgroup, parent, have, want);
    }
    rc = write_list(ctx, cgroup, "cpuset.cpus", own);
    if (rc == 0)
        *written_out = true;
out:
    np_bitmap_destroy(eff);
    np_bitmap_destroy(own);
    np_bitmap_destroy(parent_eff);
    return rc;
}

int np_linux_thread_cgroup(np_linux_ctx *ctx, pid_t pid, pid_t tid, char **cgroup_out)
{
    char file[64], *text = NULL;
    size_t len = 0;
    int rc;

    if (!ctx || !cgroup_out || pid <= 0 || tid <= 0)
        return -EINVAL;
    rc = np_linux_path(file, sizeof(file), "task/%d/cgroup", (int)tid);
    if (rc < 0)
        return rc;
    rc = np_linux_read_pid(ctx, pid, file, &text, &len);
    if (rc < 0)
        return rc;
    rc = np_linux_cgroup_of(text, len, cgroup_out);
    free(text);
    if (rc == 0 && !*cgroup_out)
        rc = -ENOENT;
    return rc;
}
