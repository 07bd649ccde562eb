/*
 * linux_tree.h - scratch /proc and /sys trees for the Linux layer's tests:
 * a temporary directory, files written into it by relative path (parents
 * made as needed), and removal of the whole tree at the end.
 */
#ifndef NP_TEST_LINUX_TREE_H
#define NP_TEST_LINUX_TREE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates an empty tree; returns its path in buf (size >= 64) or NULL. */
static inline char *tree_create(char *buf, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, len, "%s/np-linux-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(buf);
}

/* Writes text to root/rel, making parent directories. 0 or -errno. */
static inline int tree_write(const char *root, const char *rel, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -errno;
}

/* Reads root/rel into buf (NUL-terminated); returns buf or "" on error. */
static inline const char *tree_read(const char *root, const char *rel, char *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return buf;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static inline int tree_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void tree_destroy(const char *root)
{
    if (root)
        nftw(root, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
