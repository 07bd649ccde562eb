/*
 * xen/xen_config.c - the domain configuration `numaplace create` builds:
 * an xl.cfg text (read with libxlutil) and numaplace's placement turned
 * into a libxl_domain_config, with no call into the hypervisor, so it is
 * tested on a machine without Xen (tests/unit/test_xen_config.c).
 *
 * xl's configuration parser is not a library call (it lives in xl itself),
 * so this file reads the keys a directly-booted PV or PVH guest needs, the
 * disks (libxlutil's xlu_disk_parse, the parser xl uses), passed-through PCI
 * devices (xlu_pci_parse_spec_string) and the on_* actions, and refuses
 * any other key by name rather than silently dropping a NIC or a setting.
 * The placement goes into the build info: nodemap (node affinity: where Xen
 * allocates the memory), vcpu_soft_affinity or vcpu_hard_affinity per vCPU,
 * numa_placement false, and vnuma_nodes when the guest spans nodes.
 */
#include "xen/xen_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl_utils.h>
#include <libxlutil.h>

#include <numaplace/guest.h>
#include <numaplace/place.h>
#include <numaplace/vnuma.h>

#include "util/error.h"
#include "util/text.h"

#define KiB_SHIFT 10
#define CREATE_KEY_MAX 64
/* Most entries numaplace create reads from one list (disk=, pci=): far
 * above what a guest has, and a bound for a malformed file. */
#define CREATE_LIST_MAX 256

static const char *const known_keys[] = {
    "name", "type", "memory", "maxmem", "vcpus", "maxvcpus", "kernel", "ramdisk",
    "cmdline", "extra", "root", "cpus", "cpus_soft", "vnuma", "disk", "pci",
    "on_poweroff", "on_reboot", "on_crash", "on_watchdog", "on_soft_reset",
};

/* The key a line assigns ("key = ..."), in key[CREATE_KEY_MAX]; false for
 * comments, blank lines and the continuation lines of a list. */
static bool line_key(const char *line, char *key)
{
    const char *p = np_skip_ws(line);
    size_t n = 0;
    if (*p == '#' || *p == '\0' || *p == ']' || *p == '[' || *p == '"' || *p == '\'')
        return false;
    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
           (p[n] >= '0' && p[n] <= '9') || p[n] == '_')
        n++;
    if (n == 0 || n >= CREATE_KEY_MAX || !strchr(np_skip_ws(p + n), '='))
        return false;
    memcpy(key, p, n);
    key[n] = '\0';
    return true;
}

/* 1-based line assigning `want` (the last one: it wins), 0 when none. */
static unsigned key_line(const char *text, size_t len, const char *want)
{
    np_line_scanner s;
    const char *line;
    unsigned found = 0;
    np_scanner_init(&s, text, len);
    while (np_scanner_next(&s, &line) > 0) {
        char key[CREATE_KEY_MAX];
        if (line_key(line, key) && strcmp(key, want) == 0)
            found = (unsigned)s.lineno;
    }
    np_scanner_fini(&s);
    return found;
}

/* Every assigned key must be one this file builds (or numaplace's own). */
static int check_keys(const char *text, size_t len, const char *origin, np_error *err)
{
    np_line_scanner s;
    const char *line;
    int rc = 0;
    np_scanner_init(&s, text, len);
    while (rc == 0 && np_scanner_next(&s, &line) > 0) {
        char key[CREATE_KEY_MAX];
        bool known = false;
        if (!line_key(line, key))
            continue;
        for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
            known = known || strcmp(key, known_keys[i]) == 0;
        if (!known)
            rc = np_error_set(err, origin, s.lineno,
                              "numaplace create does not build '%s' (only name, type, memory, "
                              "maxmem, vcpus, maxvcpus, kernel, ramdisk, cmdline, extra, root, "
                              "disk, pci, on_poweroff, on_reboot, on_crash, on_watchdog, "
                              "on_soft_reset); use `numaplace place --emit xl` and xl create",
                              key);
    }
    np_scanner_fini(&s);
    return rc ? -ENOTSUP : 0;
}

static int dup_string(const XLU_Config *cfg, const char *key, char **out)
{
    const char *v = NULL;
    *out = NULL;
    if (xlu_cfg_get_string(cfg, key, &v, 1) == 0 && v) {
        *out = strdup(v);
        if (!*out)
            return -ENOMEM;
    }
    return 0;
}

/* libxl's bitmap of `nr_bits` with the bits of `map` (CPU or node os_ids). */
static int fill_bitmap(const np_bitmap *map, uint32_t nr_bits, libxl_bitmap *out)
{
    libxl_bitmap tmp = {0, NULL};
    int rc = np_xen_bitmap_from_np(map, nr_bits, &tmp);
    if (rc == 0)
        *out = tmp;
    return rc;
}

static int set_affinity(int nr_cpus, const np_guest_spec *spec, const np_placement *pl,
                        libxl_domain_build_info *b)
{
    int rc;
    libxl_bitmap *maps;
    bool hard = spec->affinity == NP_AFFINITY_HARD;
    if (spec->affinity == NP_AFFINITY_NONE)
        return 0;
    if (nr_cpus <= 0)
        return np_xen_errno(nr_cpus ? nr_cpus : ERROR_FAIL);
    maps = calloc(spec->vcpus, sizeof(*maps));
    if (!maps)
        return -ENOMEM;
    for (uint32_t v = 0; v < spec->vcpus; v++) {
        const np_bitmap *m = hard ? np_placement_vcpu_hard(pl, v) : np_placement_vcpu_soft(pl, v);
        if (!m)
            m = hard ? np_placement_cpus_hard(pl) : np_placement_cpus_soft(pl);
        libxl_bitmap_init(&maps[v]);
        if (m && (rc = fill_bitmap(m, (uint32_t)nr_cpus, &maps[v])) != 0) {
            for (uint32_t k = 0; k < v; k++)
                libxl_bitmap_dispose(&maps[k]);
            free(maps);
            return rc;
        }
    }
    if (hard) {
        b->vcpu_hard_affinity = maps;
        b->num_vcpu_hard_affinity = (int)spec->vcpus;
    } else {
        b->vcpu_soft_affinity = maps;
        b->num_vcpu_soft_affinity = (int)spec->vcpus;
    }
    return 0;
}

static int set_vnuma(const np_vnuma *vn, libxl_domain_build_info *b)
{
    size_t n = np_vnuma_nr_vnodes(vn);
    int rc;
    b->vnuma_nodes = calloc(n, sizeof(*b->vnuma_nodes));
    if (!b->vnuma_nodes)
        return -ENOMEM;
    b->num_vnuma_nodes = (int)n;
    for (size_t i = 0; i < n; i++) {
        libxl_vnode_info *v = &b->vnuma_nodes[i];
        libxl_vnode_info_init(v);
        v->memkb = np_vnuma_mem_bytes(vn, i) >> KiB_SHIFT;
        v->pnode = np_vnuma_pnode_os_id(vn, i);
        v->num_distances = (int)n;
        v->distances = calloc(n, sizeof(*v->distances));
        if (!v->distances)
            return -ENOMEM;
        for (size_t j = 0; j < n; j++)
            v->distances[j] = np_vnuma_distance(vn, i, j);
        rc = fill_bitmap(np_vnuma_vcpus(vn, i), b->max_vcpus, &v->vcpus);
        if (rc)
            return rc;
    }
    return 0;
}

static int build_config(const XLU_Config *cfg, int nr_cpus, int nr_nodes,
                        const np_topology *topo, const np_guest_spec *spec,
                        const np_placement *pl, libxl_domain_config *dc, np_error *err,
                        const char *origin)
{
    libxl_domain_build_info *b = &dc->b_info;
    const char *type = "pv";
    char *root = NULL, *extra = NULL;
    libxl_domain_type t;
    int rc;
    np_bitmap *nodes = NULL;

    xlu_cfg_get_string(cfg, "type", &type, 1);
    if (strcmp(type, "pv") == 0)
        t = LIBXL_DOMAIN_TYPE_PV;
    else if (strcmp(type, "pvh") == 0)
        t = LIBXL_DOMAIN_TYPE_PVH;
    else
        return np_error_set(err, origin, 0, "type \"%s\": numaplace create builds pv and pvh",
                            type);
    dc->c_info.type = t;
    libxl_domain_build_info_init_type(b, t);
    dc->c_info.name = strdup(spec->name);
    if (!dc->c_info.name)
        return -ENOMEM;
    b->max_vcpus = (int)spec->vcpus;
    rc = np_bitmap_create(&nodes); /* first the vCPUs 0..vcpus-1, then the nodes */
    for (uint32_t v = 0; rc == 0 && v < spec->vcpus; v++)
        rc = np_bitmap_set(nodes, v);
    if (rc == 0)
        rc = fill_bitmap(nodes, spec->vcpus, &b->avail_vcpus);
    np_bitmap_destroy(nodes);
    nodes = NULL;
    if (rc)
        return rc;
    b->target_memkb = spec->mem_bytes >> KiB_SHIFT;
    b->max_memkb = np_guest_spec_maxmem_bytes(spec) >> KiB_SHIFT;
    if ((rc = dup_string(cfg, "kernel", &b->kernel)) || (rc = dup_string(cfg, "ramdisk", &b->ramdisk)) ||
        (rc = dup_string(cfg, "cmdline", &b->cmdline)) || (rc = dup_string(cfg, "root", &root)) ||
        (rc = dup_string(cfg, "extra", &extra)))
        goto out;
    if (!b->kernel) {
        rc = np_error_set(err, origin, 0, "no kernel=: numaplace create boots a kernel directly");
        goto out;
    }
    if (!b->cmdline && (root || extra)) {
        size_t n = (root ? strlen(root) + 6 : 0) + (extra ? strlen(extra) : 0) + 2;
        b->cmdline = malloc(n);
        if (!b->cmdline) {
            rc = -ENOMEM;
            goto out;
        }
        snprintf(b->cmdline, n, "%s%s%s%s", root ? "root=" : "", root ? root : "",
                 root && extra ? " " : "", extra ? extra : "");
    }
    /* numaplace decided: libxl must not place again. */
    libxl_defbool_set(&b->numa_placement, false);
    if (nr_nodes <= 0) {
        rc = np_xen_errno(nr_nodes ? nr_nodes : ERROR_FAIL);
        goto out;
    }
    rc = np_bitmap_create(&nodes);
    for (size_t i = 0; rc == 0 && i < np_placement_nr_nodes(pl); i++)
        rc = np_bitmap_set(nodes, np_topology_node(topo, np_placement_node(pl, i))->os_id);
    if (rc == 0)
        rc = fill_bitmap(nodes, (uint32_t)nr_nodes, &b->nodemap);
    if (rc == 0)
        rc = set_affinity(nr_cpus, spec, pl, b);
    if (rc == 0 && np_placement_vnuma(pl) && np_vnuma_nr_vnodes(np_placement_vnuma(pl)) > 1) {
        if (t == LIBXL_DOMAIN_TYPE_PV)
            rc = np_error_set(err, origin, 0,
                              "the placement spans %zu nodes and gives the guest vNUMA, which "
                              "libxl 4.17 refuses for PV guests: use type=\"pvh\" or vnuma=0",
                              np_placement_nr_nodes(pl));
        else if (np_vnuma_nr_vnodes(np_placement_vnuma(pl)) > NP_XEN_VNUMA_MAX_VNODES)
            rc = np_error_set(err, origin, 0,
                              "the placement gives the guest %zu virtual nodes; libxl 4.17 "
                              "corrupts its heap building more than %u (docs/xen.md): give "
                              "it fewer vCPUs or less memory, or place it with vnuma off",
                              np_vnuma_nr_vnodes(np_placement_vnuma(pl)),
                              NP_XEN_VNUMA_MAX_VNODES);
        else
            rc = set_vnuma(np_placement_vnuma(pl), b);
    }
out:
    np_bitmap_destroy(nodes);
    free(root);
    free(extra);
    return rc;
}

/* What libxlutil wrote to the report stream, trimmed to its first line. */
static const char *report_text(FILE *report, char **buf)
{
    fflush(report);
    if (!*buf || !**buf)
        return "rejected by libxlutil";
    char *nl = strchr(*buf, '\n');
    if (nl)
        *nl = '\0';
    return *buf;
}

/* The strings of list `key`: *n_out = 0 when the key is absent. */
static int get_list(const XLU_Config *cfg, const char *key, XLU_ConfigList **list_out,
                    int *n_out, unsigned line, const char *origin, np_error *err)
{
    int e = xlu_cfg_get_list(cfg, key, list_out, n_out, 1);
    if (e == ESRCH) {
        *n_out = 0;
        return 0;
    }
    if (e)
        return np_error_set(err, origin, line, "%s: expected a list of strings [ \"...\", ... ]",
                            key);
    if (*n_out > CREATE_LIST_MAX)
        return np_error_set(err, origin, line, "%s: at most %d entries", key, CREATE_LIST_MAX);
    for (int i = 0; i < *n_out; i++)
        if (!xlu_cfg_get_listitem(*list_out, i))
            return np_error_set(err, origin, line, "%s: entry %d is not a string", key, i + 1);
    return 0;
}

static int add_disks(XLU_Config *cfg, const char *text, size_t len, libxl_domain_config *dc,
                     FILE *report, char **report_buf, const char *origin, np_error *err)
{
    unsigned line = key_line(text, len, "disk");
    XLU_ConfigList *list = NULL;
    int n = 0, rc = get_list(cfg, "disk", &list, &n, line, origin, err);
    if (rc || n == 0)
        return rc;
    dc->disks = calloc((size_t)n, sizeof(*dc->disks));
    if (!dc->disks)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        const char *spec = xlu_cfg_get_listitem(list, i);
        libxl_device_disk *d = &dc->disks[i];
        libxl_device_disk_init(d);
        dc->num_disks = i + 1; /* disposed with the config from here on */
        if (xlu_disk_parse(cfg, 1, &spec, d))
            return np_error_set(err, origin, line, "disk entry %d \"%s\": %s", i + 1, spec,
                                report_text(report, report_buf));
    }
    return 0;
}

static int add_pcidevs(XLU_Config *cfg, const char *text, size_t len, libxl_domain_config *dc,
                       FILE *report, char **report_buf, const char *origin, np_error *err)
{
    unsigned line = key_line(text, len, "pci");
    XLU_ConfigList *list = NULL;
    int n = 0, rc = get_list(cfg, "pci", &list, &n, line, origin, err);
    if (rc || n == 0)
        return rc;
    dc->pcidevs = calloc((size_t)n, sizeof(*dc->pcidevs));
    if (!dc->pcidevs)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        const char *spec = xlu_cfg_get_listitem(list, i);
        libxl_device_pci *p = &dc->pcidevs[i];
        libxl_device_pci_init(p);
        dc->num_pcidevs = i + 1;
        if (xlu_pci_parse_spec_string(cfg, p, spec))
            return np_error_set(err, origin, line,
                                "pci entry %d \"%s\": expected DDDD:BB:DD.F[@VSLOT][,KEY=VALUE...]"
                                " (%s)",
                                i + 1, spec, report_text(report, report_buf));
    }
    return 0;
}

/* on_poweroff = "destroy" and the like, in xl's spellings (xl.cfg(5)). */
static int set_actions(const XLU_Config *cfg, const char *text, size_t len,
                       libxl_domain_config *dc, const char *origin, np_error *err)
{
    static const struct {
        const char *name;
        libxl_action_on_shutdown action;
    } names[] = {
        {"destroy", LIBXL_ACTION_ON_SHUTDOWN_DESTROY},
        {"restart", LIBXL_ACTION_ON_SHUTDOWN_RESTART},
        {"rename-restart", LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME},
        {"preserve", LIBXL_ACTION_ON_SHUTDOWN_PRESERVE},
        {"coredump-destroy", LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY},
        {"coredump-restart", LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART},
        {"soft-reset", LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET},
    };
    struct {
        const char *key;
        libxl_action_on_shutdown *slot;
    } keys[] = {
        {"on_poweroff", &dc->on_poweroff}, {"on_reboot", &dc->on_reboot},
        {"on_crash", &dc->on_crash},       {"on_watchdog", &dc->on_watchdog},
        {"on_soft_reset", &dc->on_soft_reset},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = NULL;
        bool found = false;
        if (xlu_cfg_get_string(cfg, keys[i].key, &v, 1) || !v)
            continue;
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]) && !found; k++)
            if (strcmp(v, names[k].name) == 0) {
                *keys[i].slot = names[k].action;
                found = true;
            }
        if (!found)
            return np_error_set(err, origin, key_line(text, len, keys[i].key),
                                "%s \"%s\": expected destroy, restart, rename-restart, "
                                "preserve, coredump-destroy, coredump-restart or soft-reset",
                                keys[i].key, v);
    }
    return 0;
}

int np_xen_config_build(const char *text, size_t len, const char *origin, int nr_cpus,
                        int nr_nodes, const np_topology *topo, const np_guest_spec *spec,
                        const np_placement *pl, libxl_domain_config *dc, np_error *err)
{
    XLU_Config *cfg = NULL;
    char *report_buf = NULL;
    size_t report_len = 0;
    FILE *report = NULL;
    int rc;

    if (nr_cpus <= 0 || nr_nodes <= 0 || len > INT32_MAX)
        return -EINVAL;
    rc = check_keys(text, len, origin, err);
    if (rc)
        goto out;
    report = open_memstream(&report_buf, &report_len);
    if (!report || !(cfg = xlu_cfg_init(report, origin))) {
        rc = -ENOMEM;
        goto out;
    }
    if (xlu_cfg_readdata(cfg, text, (int)len)) {
        rc = np_error_set(err, origin, 0, "not an xl.cfg file libxlutil can read: %s",
                          report_text(report, &report_buf));
        goto out;
    }
    rc = build_config(cfg, nr_cpus, nr_nodes, topo, spec, pl, dc, err, origin);
    if (!rc)
        rc = add_disks(cfg, text, len, dc, report, &report_buf, origin, err);
    if (!rc)
        rc = add_pcidevs(cfg, text, len, dc, report, &report_buf, origin, err);
    if (!rc)
        rc = set_actions(cfg, text, len, dc, origin, err);
out:
    if (cfg)
        xlu_cfg_destroy(cfg);
    if (report)
        fclose(report);
    free(report_buf);
    return rc;
}
