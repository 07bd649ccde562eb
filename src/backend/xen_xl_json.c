/*
 * backend/xen_xl_json.c - what `xl create` makes of a domain config, read
 * from xl's own dry run, and the config numaplace hands back to xl.
 *
 * `numaplace create` does not build domains itself: xl's parser
 * (tools/xl/xl_parse.c) is not a library, and every key it knows (vif,
 * device models, HVM options, on_* with xl's restart daemon) would have to
 * be re-implemented to keep its meaning. Instead numaplace asks
 * `xl -N create CFG` (a dry run: parse, print the libxl_domain_config as
 * JSON, build nothing), reads from that JSON what placement needs, and
 * hands xl the user's own text plus its decision (np_xen_cfg_rewrite).
 * Pure: text in, struct out; unit-tested (tests/unit/test_xen_xl_json.c)
 * and fuzzed (tests/fuzz/fuzz_xen_xl_json.c) without Xen.
 *
 * The JSON (libxl_domain_config_to_json, libxl 4.17; fields at their
 * default are left out; a bitmap is the list of its set bits; a defbool is
 * "True", "False" or "<default>"):
 *
 *     { "c_info": { "type": "pvh", "name": "g1", "uuid": "..." },
 *       "b_info": { "max_vcpus": 2, "max_memkb": 262144, "target_memkb": 262144,
 *                   "vcpu_hard_affinity": [ [ 2, 3 ], [ 2, 3 ] ],
 *                   "vcpu_soft_affinity": [ ... ], "numa_placement": "False",
 *                   "nodemap": [ 1 ],
 *                   "vnuma_nodes": [ { "memkb": 131072, "distances": [ 10, 20 ],
 *                                      "pnode": 1, "vcpus": [ 0 ] }, ... ] } }
 */
#include <numaplace/xen.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/error.h"

#define KiB_SHIFT 10
/* The largest CPU or node number a bitmap may name (np_bitmap's range). */
#define XL_BIT_MAX (NP_TOPO_MAX_CPUS - 1)
/* memkb values: 2^42 KiB is 4 PiB, far above any host. */
#define XL_MEMKB_MAX (INT64_C(1) << 42)

void np_xen_xl_config_destroy(np_xen_xl_config *cfg)
{
    if (!cfg)
        return;
    for (uint32_t v = 0; v < NP_XEN_PLAN_MAX_VCPUS; v++) {
        np_bitmap_destroy(cfg->hard[v]);
        np_bitmap_destroy(cfg->soft[v]);
    }
    for (uint32_t i = 0; i < NP_XEN_XL_MAX_VNODES; i++)
        np_bitmap_destroy(cfg->vnodes[i].vcpus);
    np_bitmap_destroy(cfg->nodemap);
    free(cfg);
}

/* A JSON list of bit numbers as a bitmap. */
static int read_bits(const json_t *list, const char *what, const char *origin, np_bitmap **out,
                     np_error *err)
{
    size_t i;
    json_t *v;
    int rc;
    if (!json_is_array(list))
        return np_error_set(err, origin, 0, "%s: expected a list of numbers", what);
    rc = np_bitmap_create(out);
    if (rc)
        return rc;
    json_array_foreach(list, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > XL_BIT_MAX)
            return np_error_set(err, origin, 0, "%s: expected numbers from 0 to %u", what,
                                XL_BIT_MAX);
        rc = np_bitmap_set(*out, (unsigned)json_integer_value(v));
        if (rc)
            return rc;
    }
    return 0;
}

/* An optional integer field in [0, max]; absent leaves *out. */
static int read_int(const json_t *obj, const char *key, json_int_t max, const char *origin,
                    json_int_t *out, np_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return np_error_set(err, origin, 0, "%s: expected a number from 0 to %lld", key,
                            (long long)max);
    *out = json_integer_value(v);
    return 0;
}

static int read_masks(const json_t *b, const char *key, np_bitmap **masks, uint32_t *nr,
                      const char *origin, np_error *err)
{
    json_t *list = json_object_get(b, key), *m;
    size_t i;
    int rc;
    if (!list)
        return 0;
    if (!json_is_array(list) || json_array_size(list) > NP_XEN_PLAN_MAX_VCPUS)
        return np_error_set(err, origin, 0, "%s: expected a list of at most %u CPU lists", key,
                            NP_XEN_PLAN_MAX_VCPUS);
    json_array_foreach(list, i, m) {
        rc = read_bits(m, key, origin, &masks[i], err);
        if (rc)
            return rc;
        *nr = (uint32_t)i + 1;
    }
    return 0;
}

static int read_vnodes(const json_t *b, np_xen_xl_config *c, const char *origin, np_error *err)
{
    json_t *list = json_object_get(b, "vnuma_nodes"), *vn;
    size_t i;
    int rc;
    if (!list)
        return 0;
    if (!json_is_array(list) || json_array_size(list) > NP_XEN_XL_MAX_VNODES)
        return np_error_set(err, origin, 0, "vnuma_nodes: expected a list of at most %u nodes",
                            NP_XEN_XL_MAX_VNODES);
    json_array_foreach(list, i, vn) {
        json_int_t memkb = 0, pnode = 0;
        np_xen_xl_vnode *v = &c->vnodes[i];
        if (!json_is_object(vn))
            return np_error_set(err, origin, 0, "vnuma_nodes: entry %zu is not an object",
                                i + 1);
        if ((rc = read_int(vn, "memkb", XL_MEMKB_MAX, origin, &memkb, err)) ||
            (rc = read_int(vn, "pnode", NP_TOPO_MAX_NODES - 1, origin, &pnode, err)))
            return rc;
        v->bytes = (uint64_t)memkb << KiB_SHIFT;
        v->pnode = (uint32_t)pnode;
        c->nr_vnodes = (uint32_t)i + 1;
        if (json_object_get(vn, "vcpus") &&
            (rc = read_bits(json_object_get(vn, "vcpus"), "vnuma_nodes vcpus", origin,
                            &v->vcpus, err)))
            return rc;
    }
    return 0;
}

static int read_config(const json_t *root, np_xen_xl_config *c, const char *origin,
                       np_error *err)
{
    const json_t *ci = json_object_get(root, "c_info"), *b = json_object_get(root, "b_info");
    json_t *v;
    json_int_t n;
    int rc;

    if (!json_is_object(ci) || !json_is_object(b))
        return np_error_set(err, origin, 0,
                            "xl's dry-run JSON: an object with \"c_info\" and \"b_info\"");
    v = json_object_get(ci, "name");
    if (v) {
        const char *s = json_string_value(v);
        if (!s || !*s || strlen(s) >= sizeof(c->name))
            return np_error_set(err, origin, 0, "c_info.name: a name of 1 to %u characters",
                                NP_BACKEND_NAME_MAX - 1);
        snprintf(c->name, sizeof(c->name), "%s", s);
    }
    v = json_object_get(ci, "type");
    if (v) {
        const char *s = json_string_value(v);
        if (s && strcmp(s, "pv") == 0)
            c->type = NP_XEN_XL_PV;
        else if (s && strcmp(s, "pvh") == 0)
            c->type = NP_XEN_XL_PVH;
        else if (s && strcmp(s, "hvm") == 0)
            c->type = NP_XEN_XL_HVM;
        else
            return np_error_set(err, origin, 0, "c_info.type: expected pv, pvh or hvm");
    }
    n = 0;
    if ((rc = read_int(b, "max_vcpus", NP_XEN_PLAN_MAX_VCPUS, origin, &n, err)))
        return rc;
    c->max_vcpus = (uint32_t)n;
    n = 0;
    if ((rc = read_int(b, "target_memkb", XL_MEMKB_MAX, origin, &n, err)))
        return rc;
    c->target_bytes = (uint64_t)n << KiB_SHIFT;
    n = 0;
    if ((rc = read_int(b, "max_memkb", XL_MEMKB_MAX, origin, &n, err)))
        return rc;
    c->max_bytes = (uint64_t)n << KiB_SHIFT;
    c->numa_placement = -1;
    v = json_object_get(b, "numa_placement");
    if (v) {
        const char *s = json_string_value(v);
        if (s && strcmp(s, "True") == 0)
            c->numa_placement = 1;
        else if (s && strcmp(s, "False") == 0)
            c->numa_placement = 0;
        else if (!s || strcmp(s, "<default>") != 0)
            return np_error_set(err, origin, 0,
                                "b_info.numa_placement: expected \"True\", \"False\" or "
                                "\"<default>\"");
    }
    if ((rc = read_masks(b, "vcpu_hard_affinity", c->hard, &c->nr_hard, origin, err)) ||
        (rc = read_masks(b, "vcpu_soft_affinity", c->soft, &c->nr_soft, origin, err)))
        return rc;
    v = json_object_get(b, "nodemap");
    if (v && (rc = read_bits(v, "nodemap", origin, &c->nodemap, err)))
        return rc;
    return read_vnodes(b, c, origin, err);
}

int np_xen_xl_config_parse(const char *text, size_t len, const char *origin,
                           np_xen_xl_config **out, np_error *err)
{
    const char *brace = text ? memchr(text, '{', len) : NULL;
    np_xen_xl_config *c = NULL;
    json_error_t jerr;
    json_t *root = NULL;
    int rc;

    if (!brace)
        return np_error_set(err, origin, 0, "xl's dry-run JSON (no '{' found)");
    root = json_loadb(brace, len - (size_t)(brace - text),
                      JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return np_error_set(err, origin, (unsigned)(jerr.line > 0 ? jerr.line : 0),
                            "xl's dry-run JSON: %s", jerr.text);
    c = calloc(1, sizeof(*c));
    if (!c) {
        rc = -ENOMEM;
        goto out;
    }
    rc = read_config(root, c, origin, err);
    if (rc == 0) {
        *out = c;
        c = NULL;
    }
out:
    np_xen_xl_config_destroy(c);
    json_decref(root);
    return rc;
}

bool np_xen_xl_config_user_placed(const np_xen_xl_config *cfg)
{
    return cfg->nr_hard > 0 || cfg->nr_soft > 0 || cfg->nr_vnodes > 0 ||
           cfg->numa_placement == 0 || cfg->nodemap != NULL;
}

int np_xen_cfg_rewrite(const char *text, size_t len, const char *lines, char **out)
{
    static const char begin[] = NP_XEN_CFG_BLOCK_BEGIN;
    size_t keep = len, n;
    char *buf;

    /* an earlier block (at the start of a line) is dropped with all after it */
    for (size_t i = 0; i + sizeof(begin) - 1 <= len; i++) {
        if ((i == 0 || text[i - 1] == '\n') && memcmp(text + i, begin, sizeof(begin) - 1) == 0) {
            keep = i;
            break;
        }
    }
    n = keep + 1 + sizeof(begin) + strlen(lines) + 2;
    buf = malloc(n);
    if (!buf)
        return -ENOMEM;
    snprintf(buf, n, "%.*s%s%s%s%s", (int)keep, text,
             keep && text[keep - 1] != '\n' ? "\n" : "", begin, lines,
             lines[0] && lines[strlen(lines) - 1] != '\n' ? "\n" : "");
    *out = buf;
    return 0;
}
