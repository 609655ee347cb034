/* mpi_transport.c — libzexus-dist.so: non-blocking byte messages over MPI, the only file that includes mpi.h. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "dist/transport.h"

/* One session per process (MPI itself is process-wide). */
static MPI_Comm comm_ = MPI_COMM_NULL;
static int we_initialised;
static char version_[MPI_MAX_LIBRARY_VERSION_STRING];

static int t_init(const void *comm, int *rank, int *size, char *err, size_t errsz)
{
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
            snprintf(err, errsz, "MPI_Init_thread failed");
            return -1;
        }
        we_initialised = 1;
    } else {
        MPI_Query_thread(&provided);
    }
    if (provided < MPI_THREAD_SERIALIZED) {
        snprintf(err, errsz, "the MPI library grants thread level %d; a communication thread needs "
                 "MPI_THREAD_SERIALIZED or more", provided);
        return -1;
    }
    MPI_Comm base = comm ? *(const MPI_Comm *)comm : MPI_COMM_WORLD;
    if (MPI_Comm_dup(base, &comm_) != MPI_SUCCESS) {
        snprintf(err, errsz, "MPI_Comm_dup failed");
        return -1;
    }
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, rank);
    MPI_Comm_size(comm_, size);
    int vlen = 0;
    MPI_Get_library_version(version_, &vlen);
    char *nl = strchr(version_, '\n');
    if (nl) *nl = '\0';
    return 0;
}

static void *t_isend(int dest, int tag, const void *buf, size_t len)
{
    if (len > INT_MAX) return NULL;
    MPI_Request *r = malloc(sizeof *r);
    if (!r) return NULL;
    if (MPI_Isend(buf, (int)len, MPI_BYTE, dest, tag, comm_, r) != MPI_SUCCESS) {
        free(r);
        return NULL;
    }
    return r;
}

static int t_test_send(void *req)
{
    MPI_Request *r = req;
    int done = 0;
    if (MPI_Test(r, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
    if (done) free(r);
    return done;
}

static int t_probe(int *src, int *tag, size_t *len, void **msg)
{
    int found = 0, count = 0;
    MPI_Message m;
    MPI_Status s;
    if (MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &found, &m, &s) != MPI_SUCCESS || !found) return 0;
    MPI_Message *h = malloc(sizeof *h);
    if (!h) return 0;               /* MPI keeps nothing for us: the message was matched; see recv */
    *h = m;
    MPI_Get_count(&s, MPI_BYTE, &count);
    *src = s.MPI_SOURCE;
    *tag = s.MPI_TAG;
    *len = (size_t)count;
    *msg = h;
    return 1;
}

static int t_recv(void *msg, void *buf, size_t len)
{
    MPI_Message *h = msg;
    int rc = MPI_Mrecv(buf, (int)len, MPI_BYTE, h, MPI_STATUS_IGNORE);
    free(h);
    return rc == MPI_SUCCESS ? 0 : -1;
}

static void t_abort(int code) { MPI_Abort(comm_ != MPI_COMM_NULL ? comm_ : MPI_COMM_WORLD, code); }

static void t_finalize(void)
{
    if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
    if (we_initialised) {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin) MPI_Finalize();
        we_initialised = 0;
    }
}

__attribute__((visibility("default"))) const zx_dist_transport zx_dist_transport_api = {
    .abi = ZX_DIST_TRANSPORT_ABI,
    .mpi_version = version_,
    .init = t_init,
    .isend = t_isend,
    .test_send = t_test_send,
    .probe = t_probe,
    .recv = t_recv,
    .abort = t_abort,
    .finalize = t_finalize,
};
