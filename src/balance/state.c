/*
 * balance/state.c - the balancer's memory between rounds, and its JSON
 * form so a daemon keeps it across restarts.
 *
 * One entry per guest, sorted by name: when it was last moved (for the
 * hold-off), its home node (where its vCPUs were sent and its memory is
 * going), the memory still off that home, and a move count. The loader is
 * strict, as any reader of a file a person may edit: unknown keys, wrong
 * types, out-of-range numbers and repeated guests are refused with the
 * line of the bad value, and nothing half-read is returned.
 */
#include "balance/balance_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "spec/json_locate.h"

#define STATE_VERSION 1

int np_balance_state_create(np_balance_state **out)
{
    np_balance_state *s;

    if (!out)
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->last_round_ns = NP_BALANCE_NEVER;
    *out = s;
    return 0;
}

void np_balance_state_destroy(np_balance_state *state)
{
    if (!state)
        return;
    free(state->entries);
    free(state);
}

size_t np_balance_state_nr_guests(const np_balance_state *state)
{
    return state ? state->nr : 0;
}

/* Index of the first entry whose name is >= name. */
static size_t lower_bound(const np_balance_state *s, const char *name)
{
    size_t lo = 0, hi = s->nr;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->entries[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int np_balance_state_guest(const np_balance_state *state, const char *name,
                           np_balance_guest_info *out)
{
    if (!state || !name || !out)
        return -EINVAL;
    size_t i = lower_bound(state, name);
    if (i == state->nr || strcmp(state->entries[i].name, name))
        return -ENOENT;
    *out = state->entries[i].info;
    return 0;
}

int np_balance_state_entry(np_balance_state *s, const char *name, np_balance_entry **out)
{
    size_t i = lower_bound(s, name);

    if (strlen(name) >= NP_GUEST_NAME_MAX)
        return -EINVAL;
    if (i < s->nr && !strcmp(s->entries[i].name, name)) {
        *out = &s->entries[i];
        return 0;
    }
    if (s->nr == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        np_balance_entry *e = realloc(s->entries, cap * sizeof(*e));
        if (!e)
            return -ENOMEM;
        s->entries = e;
        s->cap = cap;
    }
    memmove(&s->entries[i + 1], &s->entries[i], (s->nr - i) * sizeof(s->entries[0]));
    s->nr++;
    np_balance_entry *e = &s->entries[i];
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->info.last_move_ns = NP_BALANCE_NEVER;
    e->info.home_node_os_id = -1;
    *out = e;
    return 0;
}

void np_balance_state_prune(np_balance_state *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nr; i++) {
        if (!s->entries[i].seen)
            continue;
        s->entries[n] = s->entries[i];
        s->entries[n++].seen = false;
    }
    s->nr = n;
}

int np_balance_state_forget(np_balance_state *state, const char *name)
{
    if (!state || !name)
        return -EINVAL;
    size_t i = lower_bound(state, name);
    if (i == state->nr || strcmp(state->entries[i].name, name))
        return -ENOENT;
    memmove(&state->entries[i], &state->entries[i + 1],
            (state->nr - i - 1) * sizeof(state->entries[0]));
    state->nr--;
    return 0;
}

/* ---- JSON ------------------------------------------------------------------------ */

int np_balance_state_settle(np_balance_state *state, const char *name, uint64_t off_bytes)
{
    if (!state || !name)
        return -EINVAL;
    for (size_t i = 0; i < state->nr; i++) {
        np_balance_entry *e = &state->entries[i];
        if (strcmp(e->name, name))
            continue;
        e->info.settled_bytes = off_bytes;
        e->info.pending_bytes = 0;
        return 0;
    }
    return -ENOENT;
}

/* A home set as a JSON array of node os ids, lowest first; NULL on
 * allocation failure (json_object_set_new then fails too). */
static json_t *node_list(uint64_t mask)
{
    json_t *a = json_array();
    for (unsigned k = 0; a && k < 64; k++)
        if ((mask >> k & 1) && json_array_append_new(a, json_integer(k))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

int np_balance_state_save(const np_balance_state *state, char **json_out)
{
    json_t *root = NULL, *guests = NULL;
    char *text = NULL;
    int rc = -ENOMEM;

    if (!state || !json_out)
        return -EINVAL;
    root = json_object();
    guests = json_array();
    if (!root || !guests)
        goto out;
    if (json_object_set_new(root, "version", json_integer(STATE_VERSION)))
        goto out;
    if (state->last_round_ns != NP_BALANCE_NEVER &&
        json_object_set_new(root, "last_round_ns", json_integer((json_int_t)state->last_round_ns)))
        goto out;
    for (size_t i = 0; i < state->nr; i++) {
        const np_balance_entry *e = &state->entries[i];
        json_t *g = json_object();
        if (!g || json_array_append_new(guests, g))
            goto out;
        if (json_object_set_new(g, "name", json_string(e->name)) ||
            (e->info.last_move_ns != NP_BALANCE_NEVER &&
             json_object_set_new(g, "last_move_ns",
                                 json_integer((json_int_t)e->info.last_move_ns))) ||
            json_object_set_new(g, "home", json_integer(e->info.home_node_os_id)) ||
            json_object_set_new(g, "pending_bytes",
                                json_integer((json_int_t)e->info.pending_bytes)) ||
            json_object_set_new(g, "moves", json_integer(e->info.moves)) ||
            json_object_set_new(g, "low_rounds", json_integer(e->info.low_rounds)) ||
            (e->info.settled_bytes &&
             json_object_set_new(g, "settled_bytes",
                                 json_integer((json_int_t)e->info.settled_bytes))) ||
            (e->info.move_bytes &&
             json_object_set_new(g, "move_bytes", json_integer((json_int_t)e->info.move_bytes))) ||
            /* One node is the home already written above. */
            ((e->info.home_nodes_mask & (e->info.home_nodes_mask - 1)) &&
             json_object_set_new(g, "home_nodes", node_list(e->info.home_nodes_mask))))
            goto out;
    }
    if (json_object_set(root, "guests", guests))
        goto out;
    text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (!text)
        goto out;
    *json_out = text;
    rc = 0;
out:
    json_decref(guests);
    json_decref(root);
    return rc;
}

/* Where a value failed, for the message. */
typedef struct load_ctx {
    const char *text;
    size_t len;
    np_error *err;
    np_json_step path[3];
    size_t depth;
} load_ctx;

/* "what: expected" with the line of the value at the current path. */
static int fail(load_ctx *c, const char *what, const char *expected)
{
    if (c->err) {
        c->err->line = np_json_line_of(c->text, c->len, c->path, c->depth);
        snprintf(c->err->msg, sizeof(c->err->msg), "%s: %s", what, expected);
    }
    return -EINVAL;
}

/* An integer in [min, max] (json_int_t is 64-bit in jansson builds with
 * long long). */
static int get_int(load_ctx *c, const json_t *v, const char *key, json_int_t min, json_int_t max,
                   json_int_t *out)
{
    if (!json_is_integer(v))
        return fail(c, key, "expected an integer");
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        return fail(c, key, "value out of range");
    *out = x;
    return 0;
}

static int load_guest(load_ctx *c, np_balance_state *s, const json_t *g)
{
    const char *key;
    json_t *v;
    np_balance_entry tmp;
    bool have_name = false;
    json_int_t x;
    int rc;

    if (!json_is_object(g))
        return fail(c, "guests[]", "expected an object");
    memset(&tmp, 0, sizeof(tmp));
    tmp.info.last_move_ns = NP_BALANCE_NEVER;
    tmp.info.home_node_os_id = -1;
    c->depth = 3;
    json_object_foreach((json_t *)g, key, v)
    {
        c->path[2].key = key;
        if (!strcmp(key, "name")) {
            const char *name = json_string_value(v);
            if (!name)
                return fail(c, key, "expected a string");
            size_t n = json_string_length(v);
            if (!n || n >= NP_GUEST_NAME_MAX || strlen(name) != n)
                return fail(c, key, "expected 1 to 63 characters without NUL");
            memcpy(tmp.name, name, n + 1);
            have_name = true;
        } else if (!strcmp(key, "last_move_ns")) {
            if ((rc = get_int(c, v, key, 0, INT64_MAX, &x)))
                return rc;
            tmp.info.last_move_ns = (uint64_t)x;
        } else if (!strcmp(key, "home")) {
            if ((rc = get_int(c, v, key, -1, INT32_MAX, &x)))
                return rc;
            tmp.info.home_node_os_id = (int32_t)x;
        } else if (!strcmp(key, "pending_bytes")) {
            if ((rc = get_int(c, v, key, 0, INT64_MAX, &x)))
                return rc;
            tmp.info.pending_bytes = (uint64_t)x;
        } else if (!strcmp(key, "moves")) {
            if ((rc = get_int(c, v, key, 0, UINT32_MAX, &x)))
                return rc;
            tmp.info.moves = (uint32_t)x;
        } else if (!strcmp(key, "low_rounds")) {
            if ((rc = get_int(c, v, key, 0, UINT32_MAX, &x)))
                return rc;
            tmp.info.low_rounds = (uint32_t)x;
        } else if (!strcmp(key, "settled_bytes")) {
            if ((rc = get_int(c, v, key, 0, INT64_MAX, &x)))
                return rc;
            tmp.info.settled_bytes = (uint64_t)x;
        } else if (!strcmp(key, "move_bytes")) {
            if ((rc = get_int(c, v, key, 0, INT64_MAX, &x)))
                return rc;
            tmp.info.move_bytes = (uint64_t)x;
        } else if (!strcmp(key, "home_nodes")) {
            size_t i;
            json_t *n;
            if (!json_is_array(v) || json_array_size(v) < 2)
                return fail(c, key, "expected an array of at least 2 node os ids");
            json_array_foreach(v, i, n)
            {
                if ((rc = get_int(c, n, key, 0, 63, &x)))
                    return rc;
                if (tmp.info.home_nodes_mask & (UINT64_C(1) << x))
                    return fail(c, key, "expected each node os id once (one is listed twice)");
                tmp.info.home_nodes_mask |= UINT64_C(1) << x;
            }
        } else {
            return fail(c, key,
                        "unknown key (expected name, last_move_ns, home, pending_bytes, "
                        "moves, low_rounds, settled_bytes, move_bytes, home_nodes)");
        }
    }
    c->depth = 2;
    if (!have_name)
        return fail(c, "guests[]", "a guest needs a \"name\"");
    size_t before = s->nr;
    np_balance_entry *e;
    rc = np_balance_state_entry(s, tmp.name, &e);
    if (rc)
        return rc;
    if (s->nr == before)
        return fail(c, tmp.name, "this guest appears twice");
    e->info = tmp.info;
    return 0;
}

int np_balance_state_load(const char *text, size_t len, const char *origin, np_balance_state **out,
                          np_error *err)
{
    np_balance_state *s = NULL;
    json_t *root = NULL;
    json_error_t jerr;
    load_ctx c = {.text = text, .len = len, .err = err};
    const char *key;
    json_t *v;
    bool have_version = false;
    int rc;

    if (!text || !out)
        return -EINVAL;
    if (err)
        snprintf(err->origin, sizeof(err->origin), "%s", origin ? origin : "");
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (err) {
            err->line = jerr.line > 0 ? (unsigned)jerr.line : 1;
            snprintf(err->msg, sizeof(err->msg), "expected JSON: %s", jerr.text);
        }
        rc = -EINVAL;
        goto out;
    }
    if (!json_is_object(root)) {
        rc = fail(&c, "balance state", "expected an object");
        goto out;
    }
    rc = np_balance_state_create(&s);
    if (rc)
        goto out;
    json_object_foreach(root, key, v)
    {
        json_int_t x;
        c.path[0].key = key;
        c.depth = 1;
        if (!strcmp(key, "version")) {
            if ((rc = get_int(&c, v, key, STATE_VERSION, STATE_VERSION, &x)))
                goto out;
            have_version = true;
        } else if (!strcmp(key, "last_round_ns")) {
            if ((rc = get_int(&c, v, key, 0, INT64_MAX, &x)))
                goto out;
            s->last_round_ns = (uint64_t)x;
        } else if (!strcmp(key, "guests")) {
            if (!json_is_array(v)) {
                rc = fail(&c, key, "expected an array");
                goto out;
            }
            for (size_t i = 0; i < json_array_size(v); i++) {
                c.path[1].key = NULL;
                c.path[1].index = i;
                c.depth = 2;
                if ((rc = load_guest(&c, s, json_array_get(v, i))))
                    goto out;
            }
        } else {
            rc = fail(&c, key, "unknown key (expected version, last_round_ns, guests)");
            goto out;
        }
    }
    if (!have_version) {
        c.depth = 0;
        rc = fail(&c, "balance state", "\"version\": 1 is required");
        goto out;
    }
    *out = s;
    s = NULL;
    rc = 0;
out:
    np_balance_state_destroy(s);
    json_decref(root);
    return rc;
}
