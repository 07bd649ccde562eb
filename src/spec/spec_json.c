/*
 * spec/spec_json.c - guest specs written as JSON objects.
 *
 * {"name": "web", "vcpus": 4, "memory": "8G", "maxmem": "12G",
 *  "dev": ["0000:03:00.0"], "io-node": 1, "group": "db:colocate:80",
 *  "vnuma": "auto", "affinity": "soft", "autoplace": false,
 *  "cpuless-memory": true, "demand": 0.5}
 *
 * Counts are JSON integers, switches JSON booleans, sizes strings with a
 * unit (a bare number would leave the unit to guess), words strings. The
 * checks themselves are spec_fields.c's, shared with the option string.
 */
#include "spec/spec_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "spec/json_locate.h"
#include "spec/spec_fields.h"
#include "util/error.h"

/* Guest spec JSON documents are small; 1 MiB bounds a mistaken input. */
#define NP_SPEC_JSON_MAX_BYTES (1u << 20)

const char *np_json_type_phrase(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

static int expect(char *why, size_t why_len, const char *what, const json_t *got)
{
    snprintf(why, why_len, "expected %s, got %s", what, np_json_type_phrase(got));
    return -EINVAL;
}

static int apply_member(np_guest_spec *spec, np_spec_key key, const json_t *v, char *why,
                        size_t why_len)
{
    switch (key) {
    case NP_SPEC_NAME:
    case NP_SPEC_GROUP:
    case NP_SPEC_AFFINITY:
    case NP_SPEC_MEMORY:
    case NP_SPEC_MAXMEM:
        if (!json_is_string(v))
            return expect(why, why_len, key == NP_SPEC_MEMORY || key == NP_SPEC_MAXMEM
                                            ? "a size string with a unit, such as \"8G\""
                                            : "a string",
                          v);
        return np_spec_apply_text(spec, key, json_string_value(v), why, why_len);
    case NP_SPEC_VCPUS:
        if (!json_is_integer(v))
            return expect(why, why_len, "an integer vCPU count", v);
        if (json_integer_value(v) < 0) {
            snprintf(why, why_len, "expected a vCPU count from 0 to 4096");
            return -EINVAL;
        }
        return np_spec_set_vcpus(spec, (uint64_t)json_integer_value(v), why, why_len);
    case NP_SPEC_DEV:
        if (json_is_string(v))
            return np_spec_add_device(spec, json_string_value(v), why, why_len);
        if (!json_is_array(v))
            return expect(why, why_len, "a PCI address string or an array of them", v);
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *e = json_array_get(v, i);
            if (!json_is_string(e))
                return expect(why, why_len, "PCI address strings in the array", e);
            if (np_spec_add_device(spec, json_string_value(e), why, why_len) < 0)
                return -EINVAL;
        }
        return 0;
    case NP_SPEC_IO_NODE:
        if (json_is_null(v))
            return np_spec_set_io_node(spec, -1, why, why_len);
        if (json_is_string(v))
            return np_spec_apply_text(spec, key, json_string_value(v), why, why_len);
        if (!json_is_integer(v))
            return expect(why, why_len, "a node number or null", v);
        if (json_integer_value(v) < 0) {
            snprintf(why, why_len, "expected a node number from 0 to 1023, or null");
            return -EINVAL;
        }
        return np_spec_set_io_node(spec, json_integer_value(v), why, why_len);
    case NP_SPEC_VNUMA:
        if (json_is_string(v))
            return np_spec_apply_text(spec, key, json_string_value(v), why, why_len);
        if (!json_is_integer(v))
            return expect(why, why_len, "\"auto\", \"off\" or a node count", v);
        return np_spec_set_vnuma_count(spec, json_integer_value(v), why, why_len);
    case NP_SPEC_AUTOPLACE:
        if (!json_is_boolean(v))
            return expect(why, why_len, "true or false", v);
        spec->no_autoplace = !json_is_true(v);
        return 0;
    case NP_SPEC_CPULESS_MEMORY:
        if (!json_is_boolean(v))
            return expect(why, why_len, "true or false", v);
        spec->allow_cpuless_memory = json_is_true(v);
        spec->cpuless_memory_refused = !json_is_true(v);
        return 0;
    case NP_SPEC_DEMAND:
        if (!json_is_number(v))
            return expect(why, why_len, "a number between 0 and 1", v);
        return np_spec_set_demand(spec, json_number_value(v), why, why_len);
    case NP_SPEC_NR_KEYS:
        break;
    }
    snprintf(why, why_len, "expected a known key");
    return -EINVAL;
}

int np_spec_from_json(const json_t *obj, np_guest_spec *out, const char **bad_key_out,
                      char *why, size_t why_len)
{
    np_guest_spec spec;
    const char *key;
    json_t *v;
    bool maxmem_given = false;

    *bad_key_out = NULL;
    if (!json_is_object(obj))
        return expect(why, why_len, "a guest spec object", obj);
    np_guest_spec_init(&spec);
    json_object_foreach((json_t *)obj, key, v) {
        np_spec_key k;
        *bad_key_out = key;
        if (np_spec_key_lookup(key, &k) < 0) {
            snprintf(why, why_len, "unknown key; expected one of %s", NP_SPEC_KEY_LIST);
            return -EINVAL;
        }
        if (apply_member(&spec, k, v, why, why_len) < 0)
            return -EINVAL;
        if (k == NP_SPEC_MAXMEM)
            maxmem_given = true;
    }
    *bad_key_out = NULL;
    if (!maxmem_given)
        spec.maxmem_bytes = spec.mem_bytes;
    *out = spec;
    return 0;
}

int np_guest_spec_parse_json(const char *text, size_t len, const char *origin,
                             np_guest_spec *out, np_error *err)
{
    json_t *root = NULL;
    json_error_t jerr;
    char why[NP_SPEC_WHY_MAX];
    const char *bad_key = NULL;
    int rc = 0;

    if (!origin)
        origin = "";
    if (!text || !out)
        return np_error_set(err, origin, 0, "no guest spec given");
    if (len > NP_SPEC_JSON_MAX_BYTES)
        return np_error_set(err, origin, 0, "guest spec JSON larger than %u bytes",
                            NP_SPEC_JSON_MAX_BYTES);
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = np_error_set(err, origin, jerr.line > 0 ? (unsigned)jerr.line : 0,
                          "invalid JSON: %s", jerr.text);
        goto out;
    }
    if (np_spec_from_json(root, out, &bad_key, why, sizeof(why)) < 0) {
        np_json_step step = {bad_key, 0};
        unsigned line = np_json_line_of(text, len, &step, bad_key ? 1 : 0);
        if (bad_key)
            rc = np_error_set(err, origin, line, "%s: %s", bad_key, why);
        else
            rc = np_error_set(err, origin, line, "%s", why);
    }
out:
    json_decref(root);
    return rc;
}
