/*
 * spec/spec_json.h - a guest spec from a jansson object, for the guest
 * JSON reader and for the scenario reader's "arrive" events, which embed
 * the same object. Keys and values are those of the option string (see
 * docs/scenario.md for the JSON types of each).
 */
#ifndef NP_SPEC_JSON_H
#define NP_SPEC_JSON_H

#include <stddef.h>

#include <jansson.h>

#include <numaplace/guest.h>

/* 0 and a spec, or -EINVAL with *bad_key_out naming the offending member
 * (NULL when obj itself is not an object; the string lives as long as obj)
 * and `why` saying what was expected. */
int np_spec_from_json(const json_t *obj, np_guest_spec *out, const char **bad_key_out,
                      char *why, size_t why_len);

/* "a string", "an array", ... for messages. */
const char *np_json_type_phrase(const json_t *v);

#endif
