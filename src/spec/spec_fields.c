/*
 * spec/spec_fields.c - checking and storing one guest spec value at a time
 * (see spec_fields.h). The readers differ only in how they find keys and
 * values; the words, ranges and units live here once.
 */
#include "spec/spec_fields.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <numaplace/topology.h>

#include "util/text.h"

/* Largest vNUMA node count a spec may ask for: a guest cannot usefully have
 * more virtual nodes than the largest host has physical ones. */
#define NP_SPEC_VNUMA_MAX ((int64_t)NP_TOPO_MAX_NODES)
/* Node os_ids are below the kernel's MAX_NUMNODES (1024, see topology.h). */
#define NP_SPEC_NODE_ID_MAX ((int64_t)NP_TOPO_MAX_NODES - 1)
/* Digits after the point that np_spec_parse_decimal keeps; demand is a
 * fraction, more precision than 1e-9 means nothing. */
#define NP_SPEC_DECIMAL_DIGITS 9

static const char *const key_names[NP_SPEC_NR_KEYS] = {
    [NP_SPEC_NAME] = "name",
    [NP_SPEC_VCPUS] = "vcpus",
    [NP_SPEC_MEMORY] = "memory",
    [NP_SPEC_MAXMEM] = "maxmem",
    [NP_SPEC_DEV] = "dev",
    [NP_SPEC_IO_NODE] = "io-node",
    [NP_SPEC_GROUP] = "group",
    [NP_SPEC_VNUMA] = "vnuma",
    [NP_SPEC_AFFINITY] = "affinity",
    [NP_SPEC_AUTOPLACE] = "autoplace",
    [NP_SPEC_CPULESS_MEMORY] = "cpuless-memory",
    [NP_SPEC_DEMAND] = "demand",
};

static int why_set(char *why, size_t why_len, const char *text)
{
    if (why && why_len)
        snprintf(why, why_len, "%s", text);
    return -EINVAL;
}

int np_spec_key_lookup(const char *name, np_spec_key *out)
{
    for (size_t i = 0; i < NP_SPEC_NR_KEYS; i++) {
        if (strcmp(key_names[i], name) == 0) {
            *out = (np_spec_key)i;
            return 0;
        }
    }
    return -ENOENT;
}

const char *np_spec_key_name(np_spec_key key)
{
    return (unsigned)key < NP_SPEC_NR_KEYS ? key_names[key] : "?";
}

bool np_spec_name_ok(const char *name, size_t len)
{
    if (len == 0 || len >= NP_GUEST_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == '+' || c == '@';
        if (!ok)
            return false;
    }
    return true;
}

int np_spec_set_name(np_guest_spec *spec, const char *name, char *why, size_t why_len)
{
    size_t len = strlen(name);
    if (!np_spec_name_ok(name, len))
        return why_set(why, why_len,
                       "expected a name of 1 to 63 letters, digits or '-_.+@'");
    memcpy(spec->name, name, len + 1);
    return 0;
}

int np_spec_set_vcpus(np_guest_spec *spec, uint64_t vcpus, char *why, size_t why_len)
{
    if (vcpus > NP_GUEST_MAX_VCPUS)
        return why_set(why, why_len, "expected a vCPU count of at most 4096");
    spec->vcpus = (uint32_t)vcpus;
    return 0;
}

int np_spec_set_size_text(np_guest_spec *spec, np_spec_key key, const char *text, char *why,
                          size_t why_len)
{
    /* A bare number is refused: "memory=8" could mean bytes, MiB (xl.cfg)
     * or KiB (libvirt), and guessing wrong is silent. */
    const char *p = np_skip_ws(text);
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    bool has_unit = n > 0 && ((p[n - 1] >= 'a' && p[n - 1] <= 'z') ||
                              (p[n - 1] >= 'A' && p[n - 1] <= 'Z'));
    uint64_t bytes = 0;
    int rc = has_unit ? np_parse_size_bytes(p, &bytes) : -EINVAL;
    if (rc == -ERANGE)
        return why_set(why, why_len, "expected a size below 16 EiB");
    if (rc < 0)
        return why_set(why, why_len,
                       "expected a size with a unit, such as 8G, 512M, 1.5GiB or 4096B");
    if (key == NP_SPEC_MAXMEM)
        spec->maxmem_bytes = bytes;
    else
        spec->mem_bytes = bytes;
    return 0;
}

int np_spec_add_device_addr(np_guest_spec *spec, uint32_t domain, uint32_t bus, uint32_t dev,
                            uint32_t fn, char *why, size_t why_len)
{
    if (domain > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
        return why_set(why, why_len,
                       "expected a PCI address with domain <= ffff, bus <= ff, device <= 1f "
                       "and function <= 7");
    np_pci_info info = {.domain = domain,
                        .bus = (uint8_t)bus,
                        .dev = (uint8_t)dev,
                        .fn = (uint8_t)fn};
    char bdf[NP_BDF_TEXT_MAX];
    np_pci_format_bdf(&info, bdf, sizeof(bdf));
    for (size_t i = 0; i < spec->nr_devices; i++)
        if (strcmp(spec->devices[i], bdf) == 0)
            return why_set(why, why_len, "expected each PCI device once; this one is repeated");
    if (spec->nr_devices >= NP_GUEST_MAX_DEVICES)
        return why_set(why, why_len, "expected at most 16 passthrough PCI devices");
    memcpy(spec->devices[spec->nr_devices++], bdf, sizeof(bdf));
    return 0;
}

int np_spec_add_device(np_guest_spec *spec, const char *bdf, char *why, size_t why_len)
{
    uint32_t domain;
    uint8_t bus, dev, fn;
    if (np_pci_parse_bdf(bdf, &domain, &bus, &dev, &fn) < 0)
        return why_set(why, why_len,
                       "expected a PCI address DDDD:BB:DD.F or BB:DD.F in hex, such as "
                       "0000:03:00.0");
    return np_spec_add_device_addr(spec, domain, bus, dev, fn, why, why_len);
}

int np_spec_set_io_node(np_guest_spec *spec, int64_t node_os_id, char *why, size_t why_len)
{
    if (node_os_id < -1 || node_os_id > NP_SPEC_NODE_ID_MAX)
        return why_set(why, why_len, "expected a node number from 0 to 1023, or none");
    spec->io_node_os_id = (int32_t)node_os_id;
    return 0;
}

int np_spec_set_group(np_guest_spec *spec, const char *text, char *why, size_t why_len)
{
    static const char expect[] =
        "expected NAME:colocate or NAME:spread, optionally :WEIGHT (1..100)";
    const char *colon = strchr(text, ':');
    if (!colon || !np_spec_name_ok(text, (size_t)(colon - text)))
        return why_set(why, why_len, expect);
    const char *rule = colon + 1;
    const char *colon2 = strchr(rule, ':');
    size_t rule_len = colon2 ? (size_t)(colon2 - rule) : strlen(rule);
    np_group_rule r;
    if (rule_len == 8 && strncmp(rule, "colocate", 8) == 0)
        r = NP_GROUP_COLOCATE;
    else if (rule_len == 6 && strncmp(rule, "spread", 6) == 0)
        r = NP_GROUP_SPREAD;
    else
        return why_set(why, why_len, expect);
    uint64_t weight = NP_GROUP_WEIGHT_DEFAULT;
    if (colon2) {
        const char *w = colon2 + 1;
        if (np_parse_u64(&w, NP_GROUP_WEIGHT_MAX, &weight) < 0 || *w != '\0' || weight < 1)
            return why_set(why, why_len, expect);
    }
    size_t name_len = (size_t)(colon - text);
    memcpy(spec->group, text, name_len);
    spec->group[name_len] = '\0';
    spec->group_rule = r;
    spec->group_weight = (uint32_t)weight;
    return 0;
}

int np_spec_set_vnuma_count(np_guest_spec *spec, int64_t n, char *why, size_t why_len)
{
    if (n < 0 || n > NP_SPEC_VNUMA_MAX)
        return why_set(why, why_len, "expected auto, off or a vNUMA node count from 1 to 1024");
    spec->vnuma_nodes = (int32_t)n;
    return 0;
}

int np_spec_set_affinity(np_guest_spec *spec, const char *text, char *why, size_t why_len)
{
    if (strcmp(text, "soft") == 0)
        spec->affinity = NP_AFFINITY_SOFT;
    else if (strcmp(text, "hard") == 0)
        spec->affinity = NP_AFFINITY_HARD;
    else if (strcmp(text, "none") == 0)
        spec->affinity = NP_AFFINITY_NONE;
    else
        return why_set(why, why_len, "expected soft, hard or none");
    return 0;
}

int np_spec_set_demand(np_guest_spec *spec, double demand, char *why, size_t why_len)
{
    /* The negated test also refuses NaN. */
    if (!(demand >= 0.0 && demand <= 1.0))
        return why_set(why, why_len, "expected a CPU demand between 0 and 1, such as 0.5");
    spec->cpu_demand = demand;
    return 0;
}

int np_spec_parse_decimal(const char *text, double *out)
{
    const char *p = text;
    uint64_t whole = 0, frac = 0, frac_div = 1;
    bool digits = false;
    /* 1e15 keeps whole + fraction exact in a double's 53-bit mantissa. */
    if (*p >= '0' && *p <= '9') {
        if (np_parse_u64(&p, UINT64_C(1000000000000000), &whole) < 0)
            return -ERANGE;
        digits = true;
    }
    if (*p == '.') {
        p++;
        unsigned kept = 0;
        while (*p >= '0' && *p <= '9') {
            if (kept < NP_SPEC_DECIMAL_DIGITS) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_div *= 10;
                kept++;
            }
            digits = true;
            p++;
        }
    }
    if (!digits || *p != '\0')
        return -EINVAL;
    *out = (double)whole + (double)frac / (double)frac_div;
    return 0;
}

static int parse_bool_word(const char *text, bool *out)
{
    if (strcmp(text, "yes") == 0 || strcmp(text, "on") == 0 || strcmp(text, "true") == 0 ||
        strcmp(text, "1") == 0)
        *out = true;
    else if (strcmp(text, "no") == 0 || strcmp(text, "off") == 0 ||
             strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
        *out = false;
    else
        return -EINVAL;
    return 0;
}

int np_spec_apply_text(np_guest_spec *spec, np_spec_key key, const char *value, char *why,
                       size_t why_len)
{
    uint64_t u;
    double d;
    bool b;

    switch (key) {
    case NP_SPEC_NAME:
        return np_spec_set_name(spec, value, why, why_len);
    case NP_SPEC_VCPUS:
        if (np_parse_u64_full(value, UINT32_MAX, &u) < 0 || value[0] < '0' || value[0] > '9')
            return why_set(why, why_len, "expected a whole number of vCPUs, such as 4");
        return np_spec_set_vcpus(spec, u, why, why_len);
    case NP_SPEC_MEMORY:
    case NP_SPEC_MAXMEM:
        return np_spec_set_size_text(spec, key, value, why, why_len);
    case NP_SPEC_DEV:
        return np_spec_add_device(spec, value, why, why_len);
    case NP_SPEC_IO_NODE:
        if (strcmp(value, "none") == 0)
            return np_spec_set_io_node(spec, -1, why, why_len);
        if (np_parse_u64_full(value, UINT32_MAX, &u) < 0 || value[0] < '0' || value[0] > '9')
            return why_set(why, why_len, "expected a node number from 0 to 1023, or none");
        return np_spec_set_io_node(spec, (int64_t)u, why, why_len);
    case NP_SPEC_GROUP:
        return np_spec_set_group(spec, value, why, why_len);
    case NP_SPEC_VNUMA:
        if (strcmp(value, "auto") == 0) {
            spec->vnuma_nodes = NP_VNUMA_AUTO;
            return 0;
        }
        if (strcmp(value, "off") == 0)
            return np_spec_set_vnuma_count(spec, NP_VNUMA_OFF, why, why_len);
        if (np_parse_u64_full(value, UINT32_MAX, &u) < 0 || value[0] < '0' || value[0] > '9')
            return why_set(why, why_len,
                           "expected auto, off or a vNUMA node count from 1 to 1024");
        return np_spec_set_vnuma_count(spec, (int64_t)u, why, why_len);
    case NP_SPEC_AFFINITY:
        return np_spec_set_affinity(spec, value, why, why_len);
    case NP_SPEC_AUTOPLACE:
        if (parse_bool_word(value, &b) < 0)
            return why_set(why, why_len, "expected yes or no");
        spec->no_autoplace = !b;
        return 0;
    case NP_SPEC_CPULESS_MEMORY:
        if (parse_bool_word(value, &b) < 0)
            return why_set(why, why_len, "expected yes or no");
        spec->allow_cpuless_memory = b;
        spec->cpuless_memory_refused = !b;
        return 0;
    case NP_SPEC_DEMAND:
        if (np_spec_parse_decimal(value, &d) < 0)
            return why_set(why, why_len, "expected a CPU demand between 0 and 1, such as 0.5");
        return np_spec_set_demand(spec, d, why, why_len);
    case NP_SPEC_NR_KEYS:
        break;
    }
    return why_set(why, why_len, "expected a known key");
}
