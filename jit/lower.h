/* lower.h — zx_code to LLVM IR (jit/lower.c), used by the engine (jit/engine.c). */
#ifndef JIT_LOWER_H
#define JIT_LOWER_H

#include <llvm-c/Core.h>

#include "jit.h"

/* Add to module m a function named fname that implements code (see zx_native_fn in jit.h).
 * batch[0..nbatch) are all the code objects lowered into m (code among them): calls whose
 * callee is one of them may call its function directly.  The helpers of jit/host/jit_helpers.c
 * are declared by name.  Returns the function, or NULL with the reason in err. */
LLVMValueRef lower_code(LLVMModuleRef m, zx_program *prog, zx_code *code, const char *fname,
                        zx_code *const *batch, size_t nbatch, zx_jit_code_stats *stats, char *err,
                        size_t errsz);

#endif
