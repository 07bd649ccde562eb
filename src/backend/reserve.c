/*
 * backend/reserve.c - numaplace's own per-node memory reservations, shared
 * by every numaplace process on a host through a ledger file.
 *
 * Why: Xen 4.17's memory claims (XENMEM_claim_pages) are host-wide, not per
 * node, so two creations at once can both see node 2's free memory and
 * both be placed there; the second then silently gets other nodes' memory.
 * A creation therefore takes an exclusive flock on DIR/lock, reads
 * DIR/ledger (one line per reservation: "PID TAG NODE_OS_ID BYTES"),
 * places its guest with the reservations of the others subtracted, appends
 * its own, writes the ledger back (temporary file + rename) and drops the
 * lock. After its build and the post-build check it removes its lines
 * again. Lines of processes that no longer exist are dropped on every
 * read, so a crashed creation does not hold memory forever.
 */
#include <numaplace/xen.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/text.h"

/* The ledger holds a line per creation in flight: a few KiB. */
#define RESERVE_LEDGER_MAX_BYTES (1u << 20)
#define RESERVE_MAX_ENTRIES 4096u
#define RESERVE_PATH_MAX 4096

typedef struct reserve_entry {
    long pid;
    char tag[NP_RESERVE_TAG_MAX];
    uint32_t node_os_id;
    uint64_t bytes;
} reserve_entry;

struct np_reserve {
    int lock_fd;
    char dir[RESERVE_PATH_MAX];
    size_t nr;
    reserve_entry entries[RESERVE_MAX_ENTRIES];
};

static bool pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Reads the ledger; malformed lines and lines of dead processes are
 * dropped (the file is numaplace's own, rewritten on every change). */
static int read_ledger(np_reserve *r)
{
    char path[RESERVE_PATH_MAX + 16];
    char *buf = NULL;
    size_t len = 0;
    np_line_scanner s;
    const char *line;
    int rc;

    snprintf(path, sizeof(path), "%s/ledger", r->dir);
    rc = np_read_file(path, RESERVE_LEDGER_MAX_BYTES, &buf, &len);
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    np_scanner_init(&s, buf, len);
    while (np_scanner_next(&s, &line) > 0 && r->nr < RESERVE_MAX_ENTRIES) {
        reserve_entry e;
        uint64_t pid, node;
        const char *p = np_skip_ws(line), *tag;
        size_t tag_len;
        if (np_parse_u64(&p, INT32_MAX, &pid) || *p != ' ')
            continue;
        tag = np_skip_ws(p);
        tag_len = strcspn(tag, " \t");
        if (tag_len == 0 || tag_len >= sizeof(e.tag))
            continue;
        p = np_skip_ws(tag + tag_len);
        if (np_parse_u64(&p, NP_TOPO_MAX_NODES - 1, &node) || *p != ' ')
            continue;
        p = np_skip_ws(p);
        if (np_parse_u64_full(p, UINT64_MAX, &e.bytes))
            continue;
        e.pid = (long)pid;
        memcpy(e.tag, tag, tag_len);
        e.tag[tag_len] = '\0';
        e.node_os_id = (uint32_t)node;
        if (pid_alive(e.pid))
            r->entries[r->nr++] = e;
    }
    np_scanner_fini(&s);
    free(buf);
    return 0;
}

int np_reserve_lock(const char *dir, np_reserve **out)
{
    char path[RESERVE_PATH_MAX + 16];
    np_reserve *r;
    int rc;

    if (strlen(dir) >= RESERVE_PATH_MAX)
        return -ENAMETOOLONG;
    if (mkdir(dir, 0755) && errno != EEXIST)
        return -errno;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    snprintf(r->dir, sizeof(r->dir), "%s", dir);
    snprintf(path, sizeof(path), "%s/lock", dir);
    r->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (r->lock_fd < 0) {
        rc = -errno;
        free(r);
        return rc;
    }
    /* Waits for the creation holding the lock: it holds it only while it
     * places, not while its domain builds. */
    while (flock(r->lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            rc = -errno;
            goto fail;
        }
    }
    rc = read_ledger(r);
    if (rc)
        goto fail;
    *out = r;
    return 0;
fail:
    close(r->lock_fd);
    free(r);
    return rc;
}

uint64_t np_reserve_node_bytes(const np_reserve *r, uint32_t node_os_id)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < r->nr; i++)
        if (r->entries[i].node_os_id == node_os_id)
            sum += r->entries[i].bytes;
    return sum;
}

size_t np_reserve_nr_entries(const np_reserve *r)
{
    return r->nr;
}

const char *np_reserve_entry_tag(const np_reserve *r, size_t i)
{
    return i < r->nr ? r->entries[i].tag : "";
}

uint32_t np_reserve_entry_node(const np_reserve *r, size_t i)
{
    return i < r->nr ? r->entries[i].node_os_id : UINT32_MAX;
}

int np_reserve_add(np_reserve *r, const char *tag, uint32_t node_os_id, uint64_t bytes)
{
    reserve_entry *e;
    size_t tag_len = strlen(tag);
    if (tag_len == 0 || tag_len >= NP_RESERVE_TAG_MAX || strpbrk(tag, " \t\n"))
        return -EINVAL;
    if (r->nr >= RESERVE_MAX_ENTRIES)
        return -ENOSPC;
    e = &r->entries[r->nr++];
    e->pid = (long)getpid();
    memcpy(e->tag, tag, tag_len + 1);
    e->node_os_id = node_os_id;
    e->bytes = bytes;
    return 0;
}

/* Drops this process's entries with `tag`. */
static void remove_own(np_reserve *r, const char *tag)
{
    size_t n = 0;
    long me = (long)getpid();
    for (size_t i = 0; i < r->nr; i++)
        if (r->entries[i].pid != me || strcmp(r->entries[i].tag, tag) != 0)
            r->entries[n++] = r->entries[i];
    r->nr = n;
}

int np_reserve_commit(np_reserve *r)
{
    char path[RESERVE_PATH_MAX + 16];
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    int rc;
    if (!f)
        return -ENOMEM;
    snprintf(path, sizeof(path), "%s/ledger", r->dir);
    for (size_t i = 0; i < r->nr; i++)
        fprintf(f, "%ld %s %u %llu\n", r->entries[i].pid, r->entries[i].tag,
                (unsigned)r->entries[i].node_os_id, (unsigned long long)r->entries[i].bytes);
    if (fclose(f) != 0) {
        free(text);
        return -ENOMEM;
    }
    rc = np_write_file_atomic(path, text, size, 0644);
    free(text);
    return rc;
}

void np_reserve_unlock(np_reserve *r)
{
    if (!r)
        return;
    close(r->lock_fd); /* drops the flock */
    free(r);
}

int np_reserve_release(const char *dir, const char *tag)
{
    np_reserve *r = NULL;
    int rc = np_reserve_lock(dir, &r);
    if (rc)
        return rc;
    remove_own(r, tag);
    rc = np_reserve_commit(r);
    np_reserve_unlock(r);
    return rc;
}
