/* dist.h — a --dist session inside libzexus: the MPI module, the communication thread, the serve loop. */
#ifndef ZX_DIST_DIST_H
#define ZX_DIST_DIST_H

#include "zexus.h"

typedef struct zx_dist zx_dist;
struct zx_dist_hook;

/* Free the session of a VM (zx_vm_destroy): on rank 0 the other ranks are told to stop
 * first (zx_dist_end). */
void zx_dist_destroy(zx_dist *d);
/* The parallel_map hook for a run of p (exec/parallel.h): non-NULL on rank 0 once p was
 * published to the other ranks. */
const struct zx_dist_hook *zx_dist_hook_for(zx_dist *d, zx_program *p);

#endif
