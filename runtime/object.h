/* object.h — classes (entity, data, contract, interface) and their instances: fields at fixed slots. */
#ifndef ZX_OBJECT_H
#define ZX_OBJECT_H

#include "value.h"

/*
 * A class is made at run time by MAKE_CLASS from values the compiler lays out (its name, field
 * names, field types as written, default values, a map of its methods, the interface it
 * declares); an instance holds one slot per declared field, in declaration order, so a field's
 * place is fixed by its class, plus one last slot for fields added later (a map, or null).
 * Both are reference counted containers that the cycle collector traverses (value.c).
 * Methods are closures whose first parameter is `this`.
 */

typedef enum zx_class_kind {
    ZX_CLASS_ENTITY = 0,
    ZX_CLASS_DATA = 1,
    ZX_CLASS_CONTRACT = 2,
    ZX_CLASS_INTERFACE = 3,
    ZX_CLASS_KINDS
} zx_class_kind;

enum {
    ZX_CLS_NAME,       /* string */
    ZX_CLS_FIELDS,     /* list of strings (an interface: the method names it requires) */
    ZX_CLS_TYPES,      /* list of strings: each field's type as written, "" if none */
    ZX_CLS_DEFAULTS,   /* list: each field's default (entity, data), null if none */
    ZX_CLS_METHODS,    /* map: name -> closure */
    ZX_CLS_IFACE,      /* the interface class it implements, or null */
    ZX_CLS_NPARTS
};

typedef struct zx_class {
    zx_obj hdr;
    uint8_t kind;              /* zx_class_kind */
    uint32_t nfields;
    uint64_t id;               /* never reused in the process (< 2^48): compiled code caches a
                                  field's slot under it, where a freed class's address could be */
    zx_value part[ZX_CLS_NPARTS];
} zx_class;

typedef struct zx_inst {
    zx_obj hdr;
    zx_class *cls;             /* owned reference */
    uint32_t nslots;           /* cls->nfields + 1 */
    zx_value slot[];           /* fields in declaration order; slot[nfields]: added fields (map) or null */
} zx_inst;

#define ZX_AS_CLASS(v) ((zx_class *)(v).u.o)
#define ZX_AS_INST(v)  ((zx_inst *)(v).u.o)

/* A class from its parts (new references are taken); NULL: memory limit.  The parts must have
 * the types listed above (the interpreter checks them before). */
zx_class *zx_class_new(zx_heap *h, zx_class_kind kind, const zx_value part[ZX_CLS_NPARTS]);
/* A new instance of cls with every field null; NULL: memory limit. */
zx_inst *zx_inst_new(zx_heap *h, zx_class *cls);
static inline size_t zx_inst_size(uint32_t nslots) { return sizeof(zx_inst) + (size_t)nslots * sizeof(zx_value); }
/* The slot of field `name` of cls, or -1. */
int zx_class_field(const zx_class *cls, const zx_string *name);
/* The method `name` of cls (borrowed), or NULL. */
zx_func *zx_class_method(const zx_class *cls, const zx_string *name);
/* The name of a class, NUL-terminated. */
const char *zx_class_name(const zx_class *cls);
/* Field `name` of an instance: a borrowed pointer to its value, or NULL when it has none. */
zx_value *zx_inst_field(zx_inst *o, const zx_string *name);
/* Set field `name` (a declared one, or one added to the instance); takes a new reference to v.
 * False on the memory limit. */
bool zx_inst_set(zx_heap *h, zx_inst *o, zx_string *name, zx_value v);
/* A copy of a data instance (same class, same field values); NULL: memory limit. */
zx_inst *zx_inst_clone(zx_heap *h, const zx_inst *o);
/* Two data instances of one class whose fields are equal (==). */
bool zx_inst_equal_fields(const zx_inst *a, const zx_inst *b);

/* Printing (print, string(), "${}"), typeof() and type() of classes and instances. */
void zx_object_format(zx_buf *b, zx_value v);
const char *zx_object_typeof(zx_value v);
const char *zx_object_type_name(zx_value v);

#endif
