/*
 * spec/spec_option.c - a guest spec from one command-line option string,
 * "name=web,vcpus=4,memory=8G,dev=0000:03:00.0,group=db:colocate:80".
 *
 * Items are KEY=VALUE separated by commas; blanks around keys and values
 * are ignored; every key but dev may appear once. A message names the item
 * by its position and text, since the whole string is one line.
 */
#include <numaplace/guest.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec_fields.h"
#include "util/error.h"

/* Longest option string accepted: 16 devices and every key fit in 2 KiB. */
#define NP_SPEC_OPTION_MAX 4096u

static void trim(char **start, char **end)
{
    while (*start < *end && (**start == ' ' || **start == '\t'))
        (*start)++;
    while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

int np_guest_spec_parse_option(const char *text, const char *origin, np_guest_spec *out,
                               np_error *err)
{
    char *copy = NULL;
    int rc = 0;
    np_guest_spec spec;
    bool seen[NP_SPEC_NR_KEYS] = {false};
    char why[NP_SPEC_WHY_MAX];

    if (!origin)
        origin = "";
    if (!text || !out)
        return np_error_set(err, origin, 0, "no guest spec given");
    size_t len = strnlen(text, NP_SPEC_OPTION_MAX + 1);
    if (len > NP_SPEC_OPTION_MAX)
        return np_error_set(err, origin, 0, "guest spec longer than %u characters",
                            NP_SPEC_OPTION_MAX);
    copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, text, len + 1);

    np_guest_spec_init(&spec);
    char *p = copy;
    unsigned item = 0;
    bool blank = true;
    for (const char *q = copy; *q; q++)
        if (*q != ' ' && *q != '\t')
            blank = false;
    if (blank) {
        rc = np_error_set(err, origin, 0,
                          "expected a guest spec such as name=web,vcpus=4,memory=8G");
        goto out;
    }
    for (;;) {
        item++;
        char *end = strchr(p, ',');
        char *next = end ? end + 1 : NULL;
        if (!end)
            end = p + strlen(p);
        char *k = p, *kend = end;
        trim(&k, &kend);
        if (k == kend) {
            rc = np_error_set(err, origin, 0, "item %u is empty: expected KEY=VALUE", item);
            goto out;
        }
        char *eq = memchr(k, '=', (size_t)(kend - k));
        *kend = '\0';
        if (!eq) {
            rc = np_error_set(err, origin, 0, "item %u \"%s\": expected KEY=VALUE", item, k);
            goto out;
        }
        char *v = eq + 1, *vend = kend;
        char *keyend = eq;
        trim(&k, &keyend);
        trim(&v, &vend);
        *keyend = '\0';
        *vend = '\0';
        np_spec_key key;
        if (np_spec_key_lookup(k, &key) < 0) {
            rc = np_error_set(err, origin, 0, "item %u: unknown key \"%s\"; expected one of %s",
                              item, k, NP_SPEC_KEY_LIST);
            goto out;
        }
        if (seen[key] && key != NP_SPEC_DEV) {
            rc = np_error_set(err, origin, 0, "item %u: %s given twice; expected it once", item,
                              k);
            goto out;
        }
        seen[key] = true;
        if (np_spec_apply_text(&spec, key, v, why, sizeof(why)) < 0) {
            rc = np_error_set(err, origin, 0, "item %u \"%s=%s\": %s", item, k, v, why);
            goto out;
        }
        if (!next)
            break;
        p = next;
    }
    if (!seen[NP_SPEC_MAXMEM])
        spec.maxmem_bytes = spec.mem_bytes;
    *out = spec;
out:
    free(copy);
    return rc;
}
