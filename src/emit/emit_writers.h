/*
 * emit/emit_writers.h - the three guest writers, each turning a checked
 * np_emit_model into text (emit_xl.c, emit_libvirt.c, emit_qemu.c), and
 * the check of what only one format cannot express.
 */
#ifndef NP_EMIT_WRITERS_H
#define NP_EMIT_WRITERS_H

#include "emit/emit_buf.h"
#include "emit/emit_model.h"

void np_emit_write_xl(const np_emit_model *m, unsigned flags, np_emit_buf *b);
void np_emit_write_libvirt(const np_emit_model *m, unsigned flags, np_emit_buf *b);
void np_emit_write_qemu(const np_emit_model *m, unsigned flags, np_emit_buf *b);

/* What a checked model may hold and xl.cfg cannot say: a vnode without
 * vCPUs. -EINVAL with the reason and the ways out in err->msg. */
int np_emit_check_xl(const np_emit_model *m, np_error *err);

#endif
