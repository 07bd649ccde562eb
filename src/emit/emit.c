/*
 * emit/emit.c - the public guest emitters (numaplace/emit.h): builds the
 * emit model from a placement, checks it, and hands it to the writer of
 * the requested format.
 */
#include <numaplace/emit.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emit/emit_buf.h"
#include "emit/emit_model.h"
#include "emit/emit_writers.h"
#include "util/error.h"

static const struct {
    np_emit_format fmt;
    const char *name;
    void (*write)(const np_emit_model *m, unsigned flags, np_emit_buf *b);
    int (*check)(const np_emit_model *m, np_error *err); /* NULL: the model check is enough */
} formats[] = {
    {NP_EMIT_XL_CFG, "xl", np_emit_write_xl, np_emit_check_xl},
    {NP_EMIT_LIBVIRT_XML, "libvirt", np_emit_write_libvirt, NULL},
    {NP_EMIT_QEMU_ARGS, "qemu", np_emit_write_qemu, NULL},
};
#define NR_FORMATS (sizeof(formats) / sizeof(formats[0]))

const char *np_emit_format_name(np_emit_format fmt)
{
    for (size_t i = 0; i < NR_FORMATS; i++)
        if (formats[i].fmt == fmt)
            return formats[i].name;
    return "unknown";
}

int np_emit_format_parse(const char *name, np_emit_format *out)
{
    for (size_t i = 0; i < NR_FORMATS; i++) {
        if (strcmp(formats[i].name, name) == 0) {
            *out = formats[i].fmt;
            return 0;
        }
    }
    return -EINVAL;
}

int np_emit_model_write(np_emit_format fmt, const np_emit_model *m, unsigned flags,
                        char **text_out, np_error *err)
{
    np_emit_buf b;
    size_t i = 0;
    while (i < NR_FORMATS && formats[i].fmt != fmt)
        i++;
    if (i == NR_FORMATS)
        return np_error_set(err, NULL, 0, "unknown output format %d", (int)fmt);
    int rc = np_emit_model_check(m, err);
    if (rc == 0 && formats[i].check)
        rc = formats[i].check(m, err);
    if (rc < 0)
        return rc;
    np_emit_buf_init(&b);
    formats[i].write(m, flags, &b);
    rc = np_emit_buf_status(&b);
    if (rc == 0) {
        *text_out = np_emit_buf_take(&b);
        if (!*text_out)
            rc = -ENOMEM;
    }
    np_emit_buf_fini(&b);
    return rc;
}

int np_emit_alloc(np_emit_format fmt, const np_topology *topo, const np_guest_spec *spec,
                  const np_placement *pl, unsigned flags, char **text_out, np_error *err)
{
    np_emit_model m;
    if (!topo || !spec || !pl || !text_out)
        return np_error_set(err, NULL, 0, "emit needs a topology, a guest spec and a placement");
    int rc = np_emit_model_from_placement(topo, spec, pl, &m, err);
    if (rc < 0)
        return rc;
    rc = np_emit_model_write(fmt, &m, flags, text_out, err);
    np_emit_model_fini(&m);
    return rc;
}

int np_emit_copy_out(const char *text, char *buf, size_t len, size_t *len_out)
{
    size_t n = strlen(text);
    if (len_out)
        *len_out = n;
    if (buf && len) {
        size_t k = n < len ? n : len - 1;
        memcpy(buf, text, k);
        buf[k] = '\0';
    }
    return n < len ? 0 : -ENOSPC;
}

int np_emit(np_emit_format fmt, const np_topology *topo, const np_guest_spec *spec,
            const np_placement *pl, unsigned flags, char *buf, size_t len, size_t *len_out,
            np_error *err)
{
    char *text = NULL;
    int rc = np_emit_alloc(fmt, topo, spec, pl, flags, &text, err);
    if (rc < 0)
        return rc;
    rc = np_emit_copy_out(text, buf, len, len_out);
    free(text);
    return rc;
}
