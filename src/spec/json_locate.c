/*
 * spec/json_locate.c - walks a JSON text to the value at a path and counts
 * the lines before it (see json_locate.h). It only needs to understand the
 * structure well enough to skip strings and nested containers; the text has
 * normally been accepted by jansson already, but every step is bounded by
 * `len`, so junk cannot make it read past the end.
 */
#include "spec/json_locate.h"

#include <stdbool.h>
#include <string.h>

typedef struct walker {
    const char *text;
    size_t len;
} walker;

static size_t skip_ws(const walker *w, size_t pos)
{
    while (pos < w->len && (w->text[pos] == ' ' || w->text[pos] == '\t' ||
                            w->text[pos] == '\n' || w->text[pos] == '\r'))
        pos++;
    return pos;
}

/* pos at the opening quote; returns the position after the closing one. */
static size_t skip_string(const walker *w, size_t pos)
{
    pos++;
    while (pos < w->len && w->text[pos] != '"') {
        if (w->text[pos] == '\\')
            pos++;
        pos++;
    }
    return pos < w->len ? pos + 1 : w->len;
}

static size_t skip_value(const walker *w, size_t pos)
{
    if (pos >= w->len)
        return pos;
    char c = w->text[pos];
    if (c == '"')
        return skip_string(w, pos);
    if (c == '{' || c == '[') {
        size_t depth = 0;
        while (pos < w->len) {
            c = w->text[pos];
            if (c == '"') {
                pos = skip_string(w, pos);
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']') {
                depth--;
                if (depth == 0)
                    return pos + 1;
            }
            pos++;
        }
        return pos;
    }
    while (pos < w->len && !strchr(",]} \t\r\n", w->text[pos]))
        pos++;
    return pos;
}

/* pos at '{': position of the member's value, or (size_t)-1. */
static size_t find_member(const walker *w, size_t pos, const char *key)
{
    size_t klen = strlen(key);
    pos++;
    for (;;) {
        pos = skip_ws(w, pos);
        if (pos >= w->len || w->text[pos] != '"')
            return (size_t)-1;
        size_t kstart = pos + 1;
        pos = skip_string(w, pos);
        bool match = pos - kstart == klen + 1 && memcmp(w->text + kstart, key, klen) == 0;
        pos = skip_ws(w, pos);
        if (pos >= w->len || w->text[pos] != ':')
            return (size_t)-1;
        pos = skip_ws(w, pos + 1);
        if (match)
            return pos;
        pos = skip_ws(w, skip_value(w, pos));
        if (pos >= w->len || w->text[pos] != ',')
            return (size_t)-1;
        pos++;
    }
}

/* pos at '[': position of element `index`, or (size_t)-1. */
static size_t find_element(const walker *w, size_t pos, size_t index)
{
    pos = skip_ws(w, pos + 1);
    for (size_t i = 0;; i++) {
        if (pos >= w->len || w->text[pos] == ']')
            return (size_t)-1;
        if (i == index)
            return pos;
        pos = skip_ws(w, skip_value(w, pos));
        if (pos >= w->len || w->text[pos] != ',')
            return (size_t)-1;
        pos = skip_ws(w, pos + 1);
    }
}

/* Position of the value at path, or of the deepest one reached. */
static size_t locate(const walker *w, const np_json_step *path, size_t depth)
{
    size_t pos = skip_ws(w, 0);
    for (size_t i = 0; i < depth && pos < w->len; i++) {
        size_t next = (size_t)-1;
        if (path[i].key && w->text[pos] == '{')
            next = find_member(w, pos, path[i].key);
        else if (!path[i].key && w->text[pos] == '[')
            next = find_element(w, pos, path[i].index);
        if (next == (size_t)-1)
            break;
        pos = next;
    }
    return pos;
}

/* Lines from `from` (at line `line`) up to `to`. */
static unsigned count_lines(const walker *w, size_t from, size_t to, unsigned line)
{
    for (size_t i = from; i < to && i < w->len; i++)
        if (w->text[i] == '\n')
            line++;
    return line;
}

unsigned np_json_line_of(const char *text, size_t len, const np_json_step *path, size_t depth)
{
    walker w = {text, len};
    return count_lines(&w, 0, locate(&w, path, depth), 1);
}

void np_json_element_lines(const char *text, size_t len, const np_json_step *path, size_t depth,
                           unsigned *lines_out, size_t n)
{
    walker w = {text, len};
    size_t pos = locate(&w, path, depth);
    unsigned line = count_lines(&w, 0, pos, 1);
    for (size_t i = 0; i < n; i++)
        lines_out[i] = line;
    if (pos >= len || text[pos] != '[')
        return;
    size_t at = pos;
    pos = skip_ws(&w, pos + 1);
    for (size_t i = 0; i < n; i++) {
        if (pos >= len || text[pos] == ']')
            return;
        line = count_lines(&w, at, pos, line);
        at = pos;
        lines_out[i] = line;
        pos = skip_ws(&w, skip_value(&w, pos));
        if (pos >= len || text[pos] != ',')
            return;
        pos = skip_ws(&w, pos + 1);
    }
}
