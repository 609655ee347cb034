/* object_ops.h — what the interpreter does with classes and instances (entity, data, contract, interface). */
#ifndef ZX_OBJECT_OPS_H
#define ZX_OBJECT_OPS_H

#include "exec/frame.h"
#include "runtime/object.h"

/* MAKE_CLASS: a class of `kind` from its parts (borrowed), checking that it implements the
 * methods of the interface it names.  *out is a new reference on success. */
zx_status zx_objop_make_class(zx_task *t, zx_frame *f, uint32_t kind, const zx_value part[ZX_CLS_NPARTS],
                              zx_value *out);
/* cls(args…): an entity or data instance from positional fields (missing ones take their
 * defaults); a contract instance with its state initialisers run, then its init(args…)
 * (or constructor(args…)).  Arguments borrowed; *out a new reference. */
zx_status zx_objop_construct(zx_task *t, zx_frame *f, zx_class *cls, const zx_value *argv, uint32_t argc,
                             zx_value *out);
/* cls{name: value, …}: fields by name from a map (borrowed), others their defaults. */
zx_status zx_objop_new_named(zx_task *t, zx_frame *f, zx_value cls, zx_value fields, zx_value *out);
/* The methods every data instance has (toString, equals, clone): *handled false when `name`
 * is none of them. */
zx_status zx_objop_data_method(zx_task *t, zx_frame *f, zx_inst *o, const zx_string *name, const zx_value *argv,
                               uint32_t argc, zx_value *out, bool *handled);

#endif
