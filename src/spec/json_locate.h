/*
 * spec/json_locate.h - the line of a value inside a JSON text, by path.
 *
 * jansson reports lines for syntax errors only; once a document has
 * parsed, its values carry no positions. The readers check values after
 * parsing, so to say "scenario.json:14: vcpus: expected ..." they walk the
 * raw text along the same path (object keys and array indices) that led
 * to the bad value. The walk is bounded by the text and never fails: when
 * a step cannot be found it answers with the line of the deepest value it
 * reached.
 */
#ifndef NP_SPEC_JSON_LOCATE_H
#define NP_SPEC_JSON_LOCATE_H

#include <stddef.h>

typedef struct np_json_step {
    const char *key; /* object member name, or NULL to use index */
    size_t index;    /* array element, when key is NULL */
} np_json_step;

/* 1-based line where the value at `path` starts (path of length 0: the
 * top-level value). */
unsigned np_json_line_of(const char *text, size_t len, const np_json_step *path, size_t depth);

/* Lines of the first n elements of the array at `path`, in one pass (for
 * long arrays, where asking per element would be quadratic). Elements the
 * walk cannot reach get the array's line. */
void np_json_element_lines(const char *text, size_t len, const np_json_step *path, size_t depth,
                           unsigned *lines_out, size_t n);

#endif
