/*
 * spec/spec_fields.h - the keys of a guest spec and how one value of each
 * is checked and stored, shared by the option-string reader
 * ("name=web,vcpus=4,...") and the JSON reader (same keys as an object), so
 * both accept exactly the same words, ranges and units and say the same
 * thing when a value is wrong.
 *
 * Every function here fills `why` (a sentence fragment saying what was
 * expected) and returns -EINVAL on a bad value; callers add origin, line
 * and the key. Readers for foreign formats (xl.cfg, libvirt XML) use the
 * typed setters for what they map onto a spec.
 */
#ifndef NP_SPEC_FIELDS_H
#define NP_SPEC_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/guest.h>

typedef enum np_spec_key {
    NP_SPEC_NAME = 0,
    NP_SPEC_VCPUS,
    NP_SPEC_MEMORY,
    NP_SPEC_MAXMEM,
    NP_SPEC_DEV,
    NP_SPEC_IO_NODE,
    NP_SPEC_GROUP,
    NP_SPEC_VNUMA,
    NP_SPEC_AFFINITY,
    NP_SPEC_AUTOPLACE,
    NP_SPEC_CPULESS_MEMORY,
    NP_SPEC_DEMAND,
    NP_SPEC_NR_KEYS,
} np_spec_key;

/* For "unknown key" messages. */
#define NP_SPEC_KEY_LIST                                                                           \
    "name, vcpus, memory, maxmem, dev, io-node, group, vnuma, affinity, autoplace, "              \
    "cpuless-memory, demand"

/* Room for a `why` message; long enough for any message below. */
#define NP_SPEC_WHY_MAX 200

/* 0 and the key for an exact (case-sensitive) name, else -ENOENT. */
int np_spec_key_lookup(const char *name, np_spec_key *out);
const char *np_spec_key_name(np_spec_key key);

/* The value of `key` in its text form, as the option string spells it. */
int np_spec_apply_text(np_guest_spec *spec, np_spec_key key, const char *value, char *why,
                       size_t why_len);

/* Typed setters. */
int np_spec_set_name(np_guest_spec *spec, const char *name, char *why, size_t why_len);
int np_spec_set_vcpus(np_guest_spec *spec, uint64_t vcpus, char *why, size_t why_len);
/* A size that must carry a unit ("8G", "512MiB", "4096B"); key is MEMORY or MAXMEM. */
int np_spec_set_size_text(np_guest_spec *spec, np_spec_key key, const char *text, char *why,
                          size_t why_len);
/* A PCI address, stored as "DDDD:BB:DD.F"; duplicates and too many are errors. */
int np_spec_add_device(np_guest_spec *spec, const char *bdf, char *why, size_t why_len);
int np_spec_add_device_addr(np_guest_spec *spec, uint32_t domain, uint32_t bus, uint32_t dev,
                            uint32_t fn, char *why, size_t why_len);
/* A node os_id, or -1 for none. */
int np_spec_set_io_node(np_guest_spec *spec, int64_t node_os_id, char *why, size_t why_len);
/* "NAME:colocate|spread[:WEIGHT]" */
int np_spec_set_group(np_guest_spec *spec, const char *text, char *why, size_t why_len);
/* A vNUMA node count: 0 = off, N >= 1 a count. */
int np_spec_set_vnuma_count(np_guest_spec *spec, int64_t n, char *why, size_t why_len);
int np_spec_set_affinity(np_guest_spec *spec, const char *text, char *why, size_t why_len);
int np_spec_set_demand(np_guest_spec *spec, double demand, char *why, size_t why_len);

/* "0.5", "1", ".25": a plain decimal without sign or exponent, parsed
 * without the C locale's help. */
int np_spec_parse_decimal(const char *text, double *out);

/* Guest and group names: letters, digits and "-_.+@", 1..63 characters,
 * so they go into xl.cfg strings, XML attributes and option strings as
 * they are. */
bool np_spec_name_ok(const char *name, size_t len);

#endif
