/*
 * spec/spec_file.c - a guest spec from a file in whichever format it is
 * written: libvirt domain XML (first meaningful character '<'), JSON
 * ('{'), else an xl.cfg. Blank lines and '#' comment lines before the first
 * meaningful character are skipped, so a commented xl.cfg still reads as
 * one. A file with nothing meaningful in it, and JSON that is not an
 * object (an array, a string: '[' or '"' first), are refused here with
 * what was expected, rather than by whichever parser would have guessed.
 */
#include <numaplace/guest.h>

#include <errno.h>
#include <stdlib.h>

#include "util/error.h"
#include "util/text.h"

/* Guest description files are small; 4 MiB bounds a mistaken path. */
#define NP_GUEST_FILE_MAX_BYTES (4u << 20)

typedef enum guest_format {
    GUEST_XL_CFG,
    GUEST_JSON,
    GUEST_XML,
    GUEST_EMPTY,     /* only blanks and comments */
    GUEST_JSON_LIKE, /* '[' or '"': JSON, but not a guest object */
} guest_format;

/* line_out: the line of the first meaningful character (1-based). */
static guest_format detect(const char *text, size_t len, unsigned *line_out)
{
    unsigned line = 1;
    size_t i = 0;
    /* A UTF-8 byte order mark says nothing about the format. */
    if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
        (unsigned char)text[2] == 0xbf)
        i = 3;
    while (i < len) {
        char ch = text[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            line += ch == '\n';
            i++;
        } else if (ch == '#') {
            while (i < len && text[i] != '\n')
                i++;
        } else {
            break;
        }
    }
    *line_out = line;
    if (i >= len)
        return GUEST_EMPTY;
    if (text[i] == '<')
        return GUEST_XML;
    if (text[i] == '{')
        return GUEST_JSON;
    if (text[i] == '[' || text[i] == '"')
        return GUEST_JSON_LIKE;
    return GUEST_XL_CFG;
}

int np_guest_spec_read_file(const char *path, np_guest_spec *out, np_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;

    if (!path || !out)
        return np_error_set(err, "", 0, "no guest file given");
    const char *origin = path[0] == '-' && path[1] == '\0' ? "<stdin>" : path;
    rc = np_read_file(path, NP_GUEST_FILE_MAX_BYTES, &buf, &len);
    if (rc == -EFBIG) {
        np_error_set(err, origin, 0, "guest file larger than %u bytes", NP_GUEST_FILE_MAX_BYTES);
        goto out;
    }
    if (rc < 0) {
        np_error_set(err, origin, 0, "cannot read: %s", np_strerror(rc));
        goto out;
    }
    unsigned line = 1;
    switch (detect(buf, len, &line)) {
    case GUEST_EMPTY:
        rc = np_error_set(err, origin, 0,
                          "the file is empty (or only comments): expected a guest as an "
                          "xl.cfg, a libvirt domain XML or a JSON object");
        break;
    case GUEST_JSON_LIKE:
        rc = np_error_set(err, origin, line,
                          "JSON that is not an object: expected one guest as a JSON object "
                          "{\"name\": ..., \"vcpus\": ..., \"memory\": ...}");
        break;
    case GUEST_XML:
        rc = np_guest_spec_read_libvirt_xml(buf, len, origin, out, err);
        break;
    case GUEST_JSON:
        rc = np_guest_spec_parse_json(buf, len, origin, out, err);
        break;
    case GUEST_XL_CFG:
        rc = np_guest_spec_read_xl_cfg(buf, len, origin, out, err);
        break;
    }
out:
    free(buf);
    return rc;
}
