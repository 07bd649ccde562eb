/*
 * emit/emit_writers.h - the three guest writers, each turning a checked
 * np_emit_model into text (emit_xl.c, emit_libvirt.c, emit_qemu.c).
 */
#ifndef NP_EMIT_WRITERS_H
#define NP_EMIT_WRITERS_H

#include "emit/emit_buf.h"
#include "emit/emit_model.h"

void np_emit_write_xl(const np_emit_model *m, unsigned flags, np_emit_buf *b);
void np_emit_write_libvirt(const np_emit_model *m, unsigned flags, np_emit_buf *b);
void np_emit_write_qemu(const np_emit_model *m, unsigned flags, np_emit_buf *b);

#endif
