/* transport.h — the MPI module (libzexus-dist.so) as libzexus sees it: plain C, no mpi.h. */
#ifndef ZX_DIST_TRANSPORT_H
#define ZX_DIST_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

/*
 * MPI lives in its own module, like the JIT (docs/distributed.md): src/dist/mpi_transport.c is
 * the only file that includes mpi.h, it is built into libzexus-dist.so when CMake finds MPI,
 * and libzexus loads it with dlopen(RTLD_NOW | RTLD_LOCAL) only for a --dist run, so neither
 * the CLI nor libzexus links libmpi.  The module is a thin, non-blocking transport of byte
 * messages; everything else (what a message means, values on the wire, scheduling) is
 * libzexus' (src/dist/dist.c, src/dist/wire.c).
 *
 * Threading: init and finalize on the thread that owns the session; every other call from
 * the one communication thread of a rank (MPI_THREAD_MULTIPLE is asked for all the same, so
 * an embedder's own MPI calls on other threads stay legal).  Nothing here blocks in MPI except
 * init, finalize and barrier.
 */
#define ZX_DIST_TRANSPORT_ABI 1

typedef struct zx_dist_transport {
    uint32_t abi;                    /* ZX_DIST_TRANSPORT_ABI */
    const char *mpi_version;         /* the MPI library's version string (first line) */
    /* Initialise MPI (unless the embedder did: then it is left to them) asking for
     * MPI_THREAD_MULTIPLE, and take a private duplicate of *comm (an MPI_Comm; NULL:
     * MPI_COMM_WORLD).  0 on success with the rank and size; else -1 and a message. */
    int (*init)(const void *comm, int *rank, int *size, char *err, size_t errsz);
    /* Start sending len bytes to dest with tag; buf must stay valid until test_send says
     * done.  NULL on failure (len over INT_MAX, no memory). */
    void *(*isend)(int dest, int tag, const void *buf, size_t len);
    /* 1 when the send is complete (the handle is freed), 0 while it is not, -1 on error. */
    int (*test_send)(void *req);
    /* A message waiting from anyone: 1 with its source, tag, length and a handle that recv
     * takes; 0 when none. */
    int (*probe)(int *src, int *tag, size_t *len, void **msg);
    /* Receive the probed message into buf (len bytes, as probe said).  0 or -1. */
    int (*recv)(void *msg, void *buf, size_t len);
    /* MPI_Abort on the session's communicator: ends every rank. */
    void (*abort)(int code);
    /* Free the communicator; MPI_Finalize when init initialised MPI. */
    void (*finalize)(void);
} zx_dist_transport;

/* The one symbol the module exports. */
#define ZX_DIST_TRANSPORT_SYMBOL "zx_dist_transport_api"

#endif
