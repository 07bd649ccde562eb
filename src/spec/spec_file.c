/*
 * spec/spec_file.c - a guest spec from a file in whichever format it is
 * written: libvirt domain XML (first meaningful character '<'), JSON
 * ('{'), else an xl.cfg. Blank lines and '#' comment lines before the first
 * meaningful character are skipped, so a commented xl.cfg still reads as
 * one.
 */
#include <numaplace/guest.h>

#include <errno.h>
#include <stdlib.h>

#include "util/error.h"
#include "util/text.h"

/* Guest description files are small; 4 MiB bounds a mistaken path. */
#define NP_GUEST_FILE_MAX_BYTES (4u << 20)

typedef enum guest_format { GUEST_XL_CFG, GUEST_JSON, GUEST_XML } guest_format;

static guest_format detect(const char *text, size_t len)
{
    size_t i = 0;
    /* A UTF-8 byte order mark says nothing about the format. */
    if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
        (unsigned char)text[2] == 0xbf)
        i = 3;
    while (i < len) {
        char ch = text[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            i++;
        } else if (ch == '#') {
            while (i < len && text[i] != '\n')
                i++;
        } else {
            break;
        }
    }
    if (i < len && text[i] == '<')
        return GUEST_XML;
    if (i < len && text[i] == '{')
        return GUEST_JSON;
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
    switch (detect(buf, len)) {
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
