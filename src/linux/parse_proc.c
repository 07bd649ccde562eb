/*
 * linux/parse_proc.c - the pure parsers of the Linux layer: numa_maps,
 * maps, task stat, node meminfo, QEMU's -name and vCPU thread names.
 *
 * Input is whatever the kernel (or a capture, or a fuzzer) gives: any bytes,
 * no NUL termination assumed. Each parser either fills its result
 * completely or returns -EINVAL with an np_error naming the line and what
 * was expected; nothing here touches the system.
 *
 * Formats (Linux 6.x, fs/proc/task_mmu.c, fs/proc/array.c):
 *   numa_maps: "7f64...000 POLICY [file=PATH|heap|stack] [huge] [anon=N]
 *              [dirty=N] [mapped=N] [mapmax=N] [swapcache=N] [active=N]
 *              [writeback=N] [N<node>=<pages>]... kernelpagesize_kB=K"
 *     POLICY may hold a space ("prefer (many):0-1", "weighted
 *     interleave:0-3"); PATH has spaces escaped as \040. Page counts are in
 *     units of kernelpagesize_kB (a THP counts 512 base pages; a hugetlb
 *     page counts 1 with kernelpagesize_kB=2048).
 *   maps: "start-end perms offset major:minor inode   path"
 *   stat: "tid (comm) S ppid ... utime(14) stime(15) ... processor(39) ..."
 *     where comm may contain spaces and ')' - the last ')' ends it.
 */
#include "linux/linux_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/text.h"

/* Largest kernelpagesize_kB accepted: 16 GiB, the biggest huge page any
 * architecture has (powerpc 16 GiB gigantic pages). */
#define NP_LINUX_PAGE_KB_MAX (16ull << 20)
/* A guest name longer than this is refused (libvirt allows any length, but
 * a name of megabytes is a broken cmdline, not a guest). */
#define NP_LINUX_GUEST_NAME_MAX 4096u

/* ---- small scanners --------------------------------------------------- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 1..16 hex digits at *p. */
static int parse_hex(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    unsigned n = 0;
    int d;
    while ((d = hex_digit(*s)) >= 0) {
        if (++n > 16)
            return -ERANGE;
        v = (v << 4) | (uint64_t)d;
        s++;
    }
    if (n == 0)
        return -EINVAL;
    *p = s;
    *out = v;
    return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A whole token "<decimal>" up to max. */
static int token_u64(const char *tok, size_t len, uint64_t max, uint64_t *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof(buf))
        return len == 0 ? -EINVAL : -ERANGE;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    const char *p = buf;
    int rc = np_parse_u64(&p, max, out);
    if (rc < 0)
        return rc;
    return *p ? -EINVAL : 0;
}

/* ---- np_linux_mem ------------------------------------------------------- */

void np_linux_mem_fini(np_linux_mem *mem)
{
    if (!mem)
        return;
    free(mem->bytes_by_node_os_id);
    free(mem->anon_bytes_by_node_os_id);
    free(mem->huge_by_node_os_id);
    memset(mem, 0, sizeof(*mem));
}

int np_linux_mem_reserve(np_linux_mem *mem, size_t node_os_id)
{
    if (node_os_id > NP_LINUX_NODE_MAX_OS_ID)
        return -ERANGE;
    if (node_os_id < mem->nr_node_slots)
        return 0;
    size_t n = node_os_id + 1;
    uint64_t *a = realloc(mem->bytes_by_node_os_id, n * sizeof(*a));
    if (!a)
        return -ENOMEM;
    mem->bytes_by_node_os_id = a;
    uint64_t *b = realloc(mem->anon_bytes_by_node_os_id, n * sizeof(*b));
    if (!b)
        return -ENOMEM;
    mem->anon_bytes_by_node_os_id = b;
    uint64_t *h = realloc(mem->huge_by_node_os_id, n * NP_LINUX_HUGE_SIZES_MAX * sizeof(*h));
    if (!h)
        return -ENOMEM;
    mem->huge_by_node_os_id = h;
    for (size_t i = mem->nr_node_slots; i < n; i++)
        a[i] = b[i] = 0;
    for (size_t i = mem->nr_node_slots * NP_LINUX_HUGE_SIZES_MAX;
         i < n * NP_LINUX_HUGE_SIZES_MAX; i++)
        h[i] = 0;
    mem->nr_node_slots = n;
    return 0;
}

size_t np_linux_mem_huge_slot(const np_linux_mem *mem, uint64_t page_bytes)
{
    for (size_t i = 0; i < NP_LINUX_HUGE_SIZES_MAX; i++)
        if (mem->huge_page_bytes[i] == page_bytes || !mem->huge_page_bytes[i])
            return i;
    return NP_LINUX_HUGE_SIZES_MAX;
}

static int add_u64(uint64_t *acc, uint64_t v)
{
    if (*acc > UINT64_MAX - v)
        return -ERANGE;
    *acc += v;
    return 0;
}

/* ---- numa_maps ------------------------------------------------------------ */

/* Page counts of one numa_maps line, before kernelpagesize_kB is known. */
typedef struct numa_line {
    uint64_t pages[NP_LINUX_NODE_MAX_OS_ID + 1];
    uint64_t seen[(NP_LINUX_NODE_MAX_OS_ID + 64) / 64];
    uint16_t touched[NP_LINUX_NODE_MAX_OS_ID + 1];
    size_t nr_touched;
} numa_line;

static const char *const numa_maps_counters[] = {
    "anon=", "dirty=", "mapped=", "mapmax=", "swapcache=", "active=", "writeback=",
};

static int numa_maps_line(const char *line, unsigned lineno, const char *origin,
                          numa_line *nl, np_linux_mem *m, np_error *err)
{
    const char *p = line;
    uint64_t addr, page_kb = 0;
    bool file = false, huge = false, have_policy = false;
    int rc;

    nl->nr_touched = 0;
    if (parse_hex(&p, &addr) < 0 || *p != ' ')
        return np_error_set(err, origin, lineno,
                            "expected a hexadecimal mapping address and a space at the start");
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && *p != ' ')
            p++;
        size_t len = (size_t)(p - tok);
        const char *eq = memchr(tok, '=', len);

        if (!have_policy) {
            /* The first token is the memory policy ("default", "bind:0-1",
             * "prefer (many):0-1" spans two tokens; the rest is skipped as
             * unknown words below). */
            have_policy = true;
            continue;
        }
        if (tok[0] == 'N' && len > 1 && tok[1] >= '0' && tok[1] <= '9') {
            uint64_t node, pages;
            if (!eq || token_u64(tok + 1, (size_t)(eq - tok - 1), NP_LINUX_NODE_MAX_OS_ID,
                                 &node) < 0)
                return np_error_set(err, origin, lineno,
                                    "expected N<node>=<pages> with a node number up to %u, "
                                    "got \"%.*s\"",
                                    NP_LINUX_NODE_MAX_OS_ID, (int)(len > 40 ? 40 : len), tok);
            rc = token_u64(eq + 1, (size_t)(tok + len - eq - 1), UINT64_MAX, &pages);
            if (rc < 0)
                return np_error_set(err, origin, lineno,
                                    "expected a page count after \"N%u=\"", (unsigned)node);
            if (nl->seen[node / 64] & (1ull << (node % 64)))
                return np_error_set(err, origin, lineno, "node N%u listed twice",
                                    (unsigned)node);
            nl->seen[node / 64] |= 1ull << (node % 64);
            nl->pages[node] = pages;
            nl->touched[nl->nr_touched++] = (uint16_t)node;
        } else if (has_prefix(tok, "kernelpagesize_kB=")) {
            const char *v = tok + strlen("kernelpagesize_kB=");
            if (page_kb)
                return np_error_set(err, origin, lineno, "kernelpagesize_kB given twice");
            if (token_u64(v, (size_t)(tok + len - v), NP_LINUX_PAGE_KB_MAX, &page_kb) < 0 ||
                page_kb == 0 || (page_kb & (page_kb - 1)) != 0)
                return np_error_set(err, origin, lineno,
                                    "expected kernelpagesize_kB=<power of two up to %llu>",
                                    (unsigned long long)NP_LINUX_PAGE_KB_MAX);
        } else if (has_prefix(tok, "file=")) {
            file = true;
        } else if (len == 4 && memcmp(tok, "huge", 4) == 0) {
            huge = true;
        } else {
            for (size_t i = 0; i < sizeof(numa_maps_counters) / sizeof(numa_maps_counters[0]);
                 i++) {
                size_t kl = strlen(numa_maps_counters[i]);
                uint64_t v;
                if (len >= kl && memcmp(tok, numa_maps_counters[i], kl) == 0 &&
                    token_u64(tok + kl, len - kl, UINT64_MAX, &v) < 0)
                    return np_error_set(err, origin, lineno, "expected a page count after \"%s\"",
                                        numa_maps_counters[i]);
            }
            /* Anything else: policy words, heap/stack, keys of newer kernels. */
        }
    }
    if (!have_policy)
        return np_error_set(err, origin, lineno, "expected a memory policy after the address");
    if (nl->nr_touched > 0 && page_kb == 0)
        return np_error_set(err, origin, lineno,
                            "expected kernelpagesize_kB=<size> with the N<node>=<pages> counts");

    uint64_t page_bytes = page_kb * 1024;
    size_t slot = huge ? np_linux_mem_huge_slot(m, page_bytes) : NP_LINUX_HUGE_SIZES_MAX;
    if (slot < NP_LINUX_HUGE_SIZES_MAX && nl->nr_touched)
        m->huge_page_bytes[slot] = page_bytes;
    for (size_t i = 0; i < nl->nr_touched; i++) {
        unsigned node = nl->touched[i];
        uint64_t pages = nl->pages[node];
        nl->seen[node / 64] = 0; /* reset for the next line */
        if (pages > UINT64_MAX / page_bytes)
            return np_error_set(err, origin, lineno, "page count of N%u is too large", node);
        uint64_t bytes = pages * page_bytes;
        rc = np_linux_mem_reserve(m, node);
        if (rc == -ENOMEM)
            return rc;
        if (add_u64(&m->bytes_by_node_os_id[node], bytes) < 0 ||
            (!file && add_u64(&m->anon_bytes_by_node_os_id[node], bytes) < 0) ||
            add_u64(&m->total_bytes, bytes) < 0 || (huge && add_u64(&m->huge_bytes, bytes) < 0) ||
            (slot < NP_LINUX_HUGE_SIZES_MAX &&
             add_u64(&m->huge_by_node_os_id[node * NP_LINUX_HUGE_SIZES_MAX + slot], bytes) < 0))
            return np_error_set(err, origin, lineno, "memory total overflows 64 bits");
    }
    m->mappings++;
    return 0;
}

int np_linux_numa_maps_parse(const char *text, size_t len, const char *origin,
                             np_linux_mem *out, np_error *err)
{
    np_linux_mem m = {0};
    np_line_scanner sc;
    numa_line *nl = NULL;
    const char *line;
    int rc = 0, r;

    np_scanner_init(&sc, text, len);
    nl = calloc(1, sizeof(*nl));
    if (!nl) {
        rc = -ENOMEM;
        goto out;
    }
    while ((r = np_scanner_next(&sc, &line)) > 0) {
        if (sc.too_long || sc.has_nul) {
            rc = np_error_set(err, origin, sc.lineno, sc.too_long ? "line longer than %u bytes"
                                                                  : "unexpected NUL byte (limit %u)",
                              NP_TEXT_LINE_MAX);
            goto out;
        }
        rc = numa_maps_line(line, sc.lineno, origin, nl, &m, err);
        if (rc < 0)
            goto out;
    }
    if (r < 0) {
        rc = r;
        goto out;
    }
    np_linux_mem_fini(out);
    *out = m;
    memset(&m, 0, sizeof(m));
out:
    np_scanner_fini(&sc);
    free(nl);
    np_linux_mem_fini(&m);
    return rc;
}

/* ---- maps ------------------------------------------------------------------ */

int np_linux_maps_parse_line(const char *line, np_linux_map *out)
{
    const char *p = line;
    np_linux_map m = {0};
    uint64_t dev_major, dev_minor;

    if (parse_hex(&p, &m.start) < 0 || *p++ != '-' || parse_hex(&p, &m.end) < 0 || *p++ != ' ')
        return -EINVAL;
    if (m.end <= m.start)
        return -EINVAL;
    static const char allowed[4][3] = {"r-", "w-", "x-", "ps"};
    for (int i = 0; i < 4; i++) {
        if (!p[i] || !memchr(allowed[i], p[i], 2))
            return -EINVAL;
        m.perms[i] = p[i];
    }
    m.perms[4] = '\0';
    p += 4;
    if (*p++ != ' ' || parse_hex(&p, &m.offset) < 0 || *p++ != ' ')
        return -EINVAL;
    if (parse_hex(&p, &dev_major) < 0 || *p++ != ':' || parse_hex(&p, &dev_minor) < 0 ||
        *p++ != ' ')
        return -EINVAL;
    if (np_parse_u64(&p, UINT64_MAX, &m.inode) < 0)
        return -EINVAL;
    if (*p && *p != ' ')
        return -EINVAL;
    m.path = np_skip_ws(p);
    *out = m;
    return 0;
}

static bool is_special(const char *path)
{
    /* Kernel-provided mappings with no migratable memory. */
    return strcmp(path, "[vsyscall]") == 0 || strcmp(path, "[vdso]") == 0 ||
           has_prefix(path, "[vvar");
}

bool np_linux_map_is_anon(const np_linux_map *m)
{
    const char *path = m->path;
    return path[0] == '\0' || strcmp(path, "[heap]") == 0 || has_prefix(path, "[stack") ||
           has_prefix(path, "[anon:");
}

/* Anonymous hugetlb memory (mmap MAP_ANONYMOUS|MAP_HUGETLB, private or
 * shared): the kernel backs it with a hidden hugetlbfs file, so maps shows
 * this name, but it is a process's own RAM like any anonymous mapping
 * (QEMU's memory-backend-ram with hugepages). */
static bool is_anon_hugetlb(const char *path)
{
    return strcmp(path, "/anon_hugepage (deleted)") == 0 || strcmp(path, "/anon_hugepage") == 0;
}

bool np_linux_map_selected(const np_linux_map *m, np_linux_map_filter filter)
{
    if (m->perms[0] != 'r' || is_special(m->path))
        return false; /* PROT_NONE guard areas hold no pages */
    bool anon_private = (m->perms[3] == 'p' && np_linux_map_is_anon(m)) ||
                        is_anon_hugetlb(m->path);
    switch (filter) {
    case NP_LINUX_MAPS_ANON:
        return anon_private;
    case NP_LINUX_MAPS_WRITABLE:
        return anon_private || m->perms[1] == 'w';
    case NP_LINUX_MAPS_ALL:
        return true;
    }
    return false;
}

int np_linux_maps_ranges_parse(const char *text, size_t len, const char *origin,
                               np_linux_map_filter filter, np_linux_range **ranges_out,
                               size_t *n_out, np_error *err)
{
    np_line_scanner sc;
    np_linux_range *ranges = NULL;
    size_t n = 0, cap = 0;
    const char *line;
    int rc = 0, r;

    np_scanner_init(&sc, text, len);
    while ((r = np_scanner_next(&sc, &line)) > 0) {
        np_linux_map m;
        if (sc.too_long || sc.has_nul || np_linux_maps_parse_line(line, &m) < 0) {
            rc = np_error_set(err, origin, sc.lineno,
                              "expected \"start-end perms offset major:minor inode [path]\"");
            goto out;
        }
        if (!np_linux_map_selected(&m, filter))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            np_linux_range *nr = realloc(ranges, ncap * sizeof(*nr));
            if (!nr) {
                rc = -ENOMEM;
                goto out;
            }
            ranges = nr;
            cap = ncap;
        }
        ranges[n].start = m.start;
        ranges[n].end = m.end;
        ranges[n].anon = np_linux_map_is_anon(&m);
        ranges[n].page_bytes = 0; /* the walk fills these from smaps */
        ranges[n].thp = false;
        n++;
    }
    if (r < 0) {
        rc = r;
        goto out;
    }
    *ranges_out = ranges;
    *n_out = n;
    ranges = NULL;
out:
    np_scanner_fini(&sc);
    free(ranges);
    return rc;
}

/* ---- task stat ------------------------------------------------------------- */

/* Fields after the closing ')' of comm: index 0 is field 3 (state). */
#define STAT_IDX(field) ((field) - 3)
#define STAT_FIELDS_NEEDED (STAT_IDX(39) + 1)

int np_linux_task_stat_parse(const char *text, size_t len, const char *origin,
                             np_linux_task_stat *out, np_error *err)
{
    np_linux_task_stat st = {0};
    char buf[1024];
    uint64_t v;

    /* One line; strip the newline. */
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    if (len == 0 || len >= sizeof(buf) || memchr(text, '\n', len) || memchr(text, '\0', len))
        return np_error_set(err, origin, 1, "expected one line \"tid (comm) state ...\"");
    memcpy(buf, text, len);
    buf[len] = '\0';

    const char *p = buf;
    if (np_parse_u64(&p, INT32_MAX, &v) < 0 || v == 0 || p[0] != ' ' || p[1] != '(')
        return np_error_set(err, origin, 1, "expected \"<tid> (\" at the start");
    st.tid = (pid_t)v;
    const char *close = strrchr(p, ')');
    if (!close || close < p + 2 || close[1] != ' ')
        return np_error_set(err, origin, 1, "expected \"(comm) \" after the tid");
    p = close + 2;

    /* Split the rest on single spaces. */
    unsigned idx = 0;
    while (*p && idx < STAT_FIELDS_NEEDED) {
        const char *tok = p;
        while (*p && *p != ' ')
            p++;
        size_t tl = (size_t)(p - tok);
        if (tl == 0)
            return np_error_set(err, origin, 1, "expected one space between fields");
        if (idx == STAT_IDX(3)) {
            if (tl != 1)
                return np_error_set(err, origin, 1, "expected a one-letter state after comm");
            st.state = tok[0];
        } else if (idx == STAT_IDX(9)) {
            if (token_u64(tok, tl, UINT32_MAX, &v) < 0)
                return np_error_set(err, origin, 1, "expected task flags in field 9");
            st.flags = (uint32_t)v;
        } else if (idx == STAT_IDX(14) || idx == STAT_IDX(15)) {
            if (token_u64(tok, tl, UINT64_MAX, &v) < 0)
                return np_error_set(err, origin, 1, "expected clock ticks in field %u",
                                    idx + 3);
            if (idx == STAT_IDX(14))
                st.utime_ticks = v;
            else
                st.stime_ticks = v;
        } else if (idx == STAT_IDX(22)) {
            if (token_u64(tok, tl, UINT64_MAX, &v) < 0)
                return np_error_set(err, origin, 1, "expected clock ticks in field 22");
            st.start_ticks = v;
        } else if (idx == STAT_IDX(39)) {
            if (token_u64(tok, tl, INT32_MAX, &v) < 0)
                return np_error_set(err, origin, 1, "expected a CPU number in field 39");
            st.processor = (int32_t)v;
        }
        idx++;
        if (*p == ' ')
            p++;
    }
    if (idx < STAT_FIELDS_NEEDED)
        return np_error_set(err, origin, 1, "expected at least 39 fields, found %u", idx + 2);
    *out = st;
    return 0;
}

/* ---- QEMU command line and thread names ---------------------------------- */

/* Copies one QemuOpts element starting at *p (",," is a literal comma) into
 * a heap string; *p moves past the element and its separating comma. */
static int qemu_opt_element(const char **p, const char *end, char **elem_out)
{
    const char *s = *p;
    size_t cap = (size_t)(end - s) + 1, n = 0;
    char *e = malloc(cap);
    if (!e)
        return -ENOMEM;
    while (s < end) {
        if (*s == ',') {
            if (s + 1 < end && s[1] == ',') {
                e[n++] = ',';
                s += 2;
                continue;
            }
            s++;
            break;
        }
        e[n++] = *s++;
    }
    e[n] = '\0';
    *p = s;
    *elem_out = e;
    return 0;
}

int np_linux_qemu_name_parse(const char *cmdline, size_t len, char **name_out)
{
    const char *value = NULL, *value_end = NULL;
    const char *p = cmdline, *end = cmdline + len;
    int rc;

    /* Find the last "-name"/"--name" argument; its value is the next one. */
    while (p < end) {
        const char *arg_end = memchr(p, '\0', (size_t)(end - p));
        if (!arg_end)
            arg_end = end;
        if (((size_t)(arg_end - p) == 5 && memcmp(p, "-name", 5) == 0) ||
            ((size_t)(arg_end - p) == 6 && memcmp(p, "--name", 6) == 0)) {
            const char *v = arg_end < end ? arg_end + 1 : end;
            const char *v_end = v < end ? memchr(v, '\0', (size_t)(end - v)) : NULL;
            if (v < end) {
                value = v;
                value_end = v_end ? v_end : end;
            }
        }
        p = arg_end < end ? arg_end + 1 : end;
    }
    if (!value)
        return -ENOENT;

    /* "NAME,opt=..." (guest is QEMU's implied key) or "guest=NAME,...";
     * a later guest= wins, as in QEMU. */
    char *best = NULL;
    bool first = true;
    const char *q = value;
    while (q < value_end) {
        char *elem = NULL;
        rc = qemu_opt_element(&q, value_end, &elem);
        if (rc < 0)
            goto out;
        const char *eq = strchr(elem, '=');
        const char *name = NULL;
        if (first && !eq)
            name = elem;
        else if (eq && (size_t)(eq - elem) == 5 && memcmp(elem, "guest", 5) == 0)
            name = eq + 1;
        first = false;
        if (name && *name) {
            if (strlen(name) > NP_LINUX_GUEST_NAME_MAX) {
                free(elem);
                rc = -EINVAL;
                goto out;
            }
            free(best);
            best = strdup(name);
            if (!best) {
                free(elem);
                rc = -ENOMEM;
                goto out;
            }
        }
        free(elem);
    }
    rc = best ? 0 : -ENOENT;
    if (best) {
        *name_out = best;
        best = NULL;
    }
out:
    free(best);
    return rc;
}

/* "DDDD:BB:DD.F" of a host= or sysfsdev= value into out; false when it is
 * not a PCI address (sysfsdev names a path: its last component). */
static bool vfio_address(const char *key, const char *value, char out[NP_BDF_TEXT_MAX])
{
    uint32_t domain;
    uint8_t bus, dev, fn;
    if (!strcmp(key, "sysfsdev")) {
        const char *slash = strrchr(value, '/');
        value = slash ? slash + 1 : value;
    }
    if (np_pci_parse_bdf(value, &domain, &bus, &dev, &fn) < 0 || domain > 0xffff)
        return false;
    snprintf(out, NP_BDF_TEXT_MAX, "%04x:%02x:%02x.%x", (unsigned)domain, bus, dev, fn);
    return true;
}

/* One -device value: 1 and the address when it is a vfio-pci device with
 * host= or sysfsdev= (the last one given wins, as in QEMU), 0 when not,
 * negative errno. */
static int vfio_device(const char *value, const char *end, char out[NP_BDF_TEXT_MAX])
{
    const char *q = value;
    bool first = true, vfio = false, have = false;
    int rc = 0;

    while (q < end && rc == 0) {
        char *elem = NULL;
        rc = qemu_opt_element(&q, end, &elem);
        if (rc < 0)
            break;
        char *eq = strchr(elem, '=');
        if (first && !eq)
            vfio = !strcmp(elem, "vfio-pci");
        else if (eq) {
            *eq = '\0';
            if (!strcmp(elem, "driver"))
                vfio = !strcmp(eq + 1, "vfio-pci");
            else if (!strcmp(elem, "host") || !strcmp(elem, "sysfsdev"))
                have = vfio_address(elem, eq + 1, out) || have;
        }
        first = false;
        free(elem);
    }
    return rc < 0 ? rc : vfio && have;
}

int np_linux_qemu_devices_parse(const char *cmdline, size_t len,
                                char (*bdf_out)[NP_BDF_TEXT_MAX], size_t max, size_t *n_out)
{
    const char *p = cmdline, *end = cmdline + len;
    size_t n = 0;

    if ((!cmdline && len) || !n_out || (max && !bdf_out))
        return -EINVAL;
    while (p < end) {
        const char *arg_end = memchr(p, '\0', (size_t)(end - p));
        if (!arg_end)
            arg_end = end;
        bool is_device = ((size_t)(arg_end - p) == 7 && memcmp(p, "-device", 7) == 0) ||
                         ((size_t)(arg_end - p) == 8 && memcmp(p, "--device", 8) == 0);
        p = arg_end < end ? arg_end + 1 : end;
        if (!is_device || p >= end)
            continue;
        const char *v_end = memchr(p, '\0', (size_t)(end - p));
        if (!v_end)
            v_end = end;
        char bdf[NP_BDF_TEXT_MAX];
        int rc = vfio_device(p, v_end, bdf);
        if (rc < 0)
            return rc;
        bool dup = false;
        for (size_t i = 0; i < n && rc; i++)
            dup |= !strcmp(bdf_out[i], bdf);
        if (rc && !dup && n < max)
            memcpy(bdf_out[n++], bdf, sizeof(bdf));
        p = v_end < end ? v_end + 1 : end;
    }
    *n_out = n;
    return 0;
}

int np_linux_vcpu_from_comm(const char *comm, int32_t *vcpu_out)
{
    /* QEMU names vCPU threads "CPU %d/%s" with the accelerator's name
     * (KVM, TCG, HVF, WHPX, ...) when run with -name ...,debug-threads=on
     * (libvirt always sets it). */
    const char *p = comm;
    uint64_t v;
    if (strncmp(p, "CPU ", 4) != 0)
        return -EINVAL;
    p += 4;
    if (np_parse_u64(&p, INT32_MAX, &v) < 0 || *p != '/' || !p[1])
        return -EINVAL;
    for (p++; *p; p++) {
        bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';
        if (!ok)
            return -EINVAL;
    }
    *vcpu_out = (int32_t)v;
    return 0;
}

/* ---- node meminfo ------------------------------------------------------------ */

int np_linux_node_meminfo_parse(const char *text, size_t len, unsigned node_os_id,
                                const char *origin, np_linux_node_meminfo *out, np_error *err)
{
    np_linux_node_meminfo mi = {0};
    bool have_total = false, have_free = false;
    np_line_scanner sc;
    const char *line;
    int rc = 0, r;

    np_scanner_init(&sc, text, len);
    while ((r = np_scanner_next(&sc, &line)) > 0) {
        const char *p = line;
        uint64_t node, val;
        if (np_is_blank(line))
            continue;
        if (sc.too_long || sc.has_nul || strncmp(p, "Node ", 5) != 0) {
            rc = np_error_set(err, origin, sc.lineno, "expected \"Node %u <key>: <value> kB\"",
                              node_os_id);
            goto out;
        }
        p += 5;
        if (np_parse_u64(&p, NP_LINUX_NODE_MAX_OS_ID, &node) < 0 || node != node_os_id ||
            *p != ' ') {
            rc = np_error_set(err, origin, sc.lineno, "expected node number %u after \"Node\"",
                              node_os_id);
            goto out;
        }
        p = np_skip_ws(p);
        const char *key = p;
        const char *colon = strchr(p, ':');
        if (!colon || colon == key) {
            rc = np_error_set(err, origin, sc.lineno, "expected \"<key>:\" after the node number");
            goto out;
        }
        size_t kl = (size_t)(colon - key);
        p = np_skip_ws(colon + 1);
        if (np_parse_u64(&p, UINT64_MAX, &val) < 0) {
            rc = np_error_set(err, origin, sc.lineno, "expected a number after \"%.*s:\"",
                              (int)(kl > 40 ? 40 : kl), key);
            goto out;
        }
        p = np_skip_ws(p);
        bool kb = strcmp(p, "kB") == 0;
        if (!kb && *p) {
            rc = np_error_set(err, origin, sc.lineno, "expected \"kB\" or nothing after the value");
            goto out;
        }
        uint64_t *dst = NULL;
        if (kl == 8 && memcmp(key, "MemTotal", 8) == 0) {
            dst = &mi.total_bytes;
            have_total = true;
        } else if (kl == 7 && memcmp(key, "MemFree", 7) == 0) {
            dst = &mi.free_bytes;
            have_free = true;
        } else if (kl == 14 && memcmp(key, "Inactive(file)", 14) == 0) {
            dst = &mi.inactive_file_bytes;
        }
        if (dst) {
            if (!kb || val > UINT64_MAX / 1024) {
                rc = np_error_set(err, origin, sc.lineno, "expected a size in kB for %.*s",
                                  (int)kl, key);
                goto out;
            }
            *dst = val * 1024;
        }
    }
    if (r < 0) {
        rc = r;
        goto out;
    }
    if (!have_total || !have_free) {
        rc = np_error_set(err, origin, 0, "expected MemTotal and MemFree lines for node %u",
                          node_os_id);
        goto out;
    }
    *out = mi;
out:
    np_scanner_fini(&sc);
    return rc;
}
