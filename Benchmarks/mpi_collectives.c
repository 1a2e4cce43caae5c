// Issue 15: what each collective of a data-parallel step costs on this machine, for the 535,818
// gradient floats of 784-512-256-10 (or argv[1] floats): MPI_Allreduce (every rank then updates
// everything) against the sharded step's reduce-scatter and allgather, where the reduce-scatter is
// either a ring over MPI_Sendrecv (as MPIWorld.reduceScatterSum does it) or Open MPI's
// MPI_Reduce_scatter; and, when every rank is on this machine, both through memory the ranks share
// (MPI_Win_allocate_shared), with the gradient copied in or (the bound of computing it there) already
// in it. Each variant 300 times, alternated, a double barrier before each call; medians in µs on
// rank 0, and a check that every reduce-scatter gives the allreduce's shard.
// Build and run: Benchmarks/mpi_exchange.sh.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { REPS = 300, VARIANTS = 7 };

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) { qsort(v, n, sizeof *v, by_value); return v[n / 2]; }

// After size-1 steps shard r (block r) holds the sum on rank r (MPIWorld's ring, equal blocks).
static void ring_reduce_scatter(float *a, float *incoming, int block, int rank, int size) {
    for (int s = 1; s < size; s++) {
        int send = (rank - s + size) % size, receive = (rank - s - 1 + 2 * size) % size;
        MPI_Sendrecv(a + (size_t)send * block, block, MPI_FLOAT, (rank + 1) % size, 0, incoming, block, MPI_FLOAT,
                     (rank + size - 1) % size, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        float *target = a + (size_t)receive * block;
        for (int i = 0; i < block; i++) target[i] += incoming[i];
    }
}

// The same two collectives through memory the ranks of one machine share (MPI_Win_allocate_shared):
// each rank copies what the others need into
// its own slot, a barrier, and each reads the others' slots directly (no messages, no kernel copies).
static float **slots;
static MPI_Win window;
static MPI_Comm node;

static void shared_reduce_scatter(float *a, float *incoming, int block, int rank, int size) {
    for (int k = 0; k < size; k++)
        if (k != rank) memcpy(slots[rank] + (size_t)k * block, a + (size_t)k * block, (size_t)block * sizeof *a);
    MPI_Win_sync(window);
    MPI_Barrier(node);
    MPI_Win_sync(window);
    // Summed in rank order, whichever rank owns the shard: pass q adds rank q's part.
    float *mine = a + (size_t)rank * block, *first = rank == 0 ? mine : slots[0] + (size_t)rank * block;
    float *restrict sum = incoming;
    for (int i = 0; i < block; i++) sum[i] = first[i];
    for (int q = 1; q < size; q++) {
        const float *restrict part = q == rank ? mine : slots[q] + (size_t)rank * block;
        for (int i = 0; i < block; i++) sum[i] += part[i];
    }
    memcpy(mine, sum, (size_t)block * sizeof *a);
}

static void shared_allgather(float *a, int block, int rank, int size) {
    memcpy(slots[rank] + (size_t)rank * block, a + (size_t)rank * block, (size_t)block * sizeof *a);
    MPI_Win_sync(window);
    MPI_Barrier(node);
    MPI_Win_sync(window);
    for (int q = 0; q < size; q++)
        if (q != rank) memcpy(a + (size_t)q * block, slots[q] + (size_t)q * block, (size_t)block * sizeof *a);
}

// The bound of a design in which the gradients are computed into the shared memory itself: only the
// barrier and the sum, reading every rank's part where it lies, remain.
static void shared_reduce_scatter_in_window(float *a, int block, int rank, int size) {
    MPI_Win_sync(window);
    MPI_Barrier(node);
    MPI_Win_sync(window);
    float *restrict sum = a + (size_t)rank * block;
    const float *restrict first = slots[0] + (size_t)rank * block;
    for (int i = 0; i < block; i++) sum[i] = first[i];
    for (int q = 1; q < size; q++) {
        const float *restrict part = slots[q] + (size_t)rank * block;
        for (int i = 0; i < block; i++) sum[i] += part[i];
    }
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int n = argc > 1 ? atoi(argv[1]) : 535818;
    n = (n + size - 1) / size * size;
    int block = n / size;
    float *a = malloc((size_t)n * sizeof *a), *incoming = malloc((size_t)block * sizeof *incoming);
    int *counts = malloc(size * sizeof *counts), *displacements = malloc(size * sizeof *displacements);
    for (int r = 0; r < size; r++) { counts[r] = block; displacements[r] = r * block; }
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    int node_size;
    MPI_Comm_size(node, &node_size);
    int shared = node_size == size;  // every rank on this machine
    float *own;
    slots = malloc(size * sizeof *slots);
    if (shared) {
        MPI_Win_allocate_shared((MPI_Aint)n * sizeof(float), sizeof(float), MPI_INFO_NULL, node, &own, &window);
        for (int q = 0; q < size; q++) {
            MPI_Aint bytes;
            int unit;
            MPI_Win_shared_query(window, q, &bytes, &unit, &slots[q]);
        }
        MPI_Win_lock_all(MPI_MODE_NOCHECK, window);
    }
    static double times[VARIANTS][REPS];
    double shard_sum[VARIANTS] = {0};
    const char *names[VARIANTS] = {"MPI_Allreduce", "ring reduce-scatter (MPI_Sendrecv)",
                                   "MPI_Reduce_scatter in place + move", "MPI_Allgatherv in place",
                                   "shared-memory reduce-scatter", "shared-memory allgather",
                                   "shared, gradients already there"};
    for (int r = 0; r < REPS; r++) {
        for (int k = 0; k < VARIANTS; k++) {
            int v = (k + r) % VARIANTS;
            if (v >= 4 && !shared) continue;
            float *fill = v == 6 ? slots[rank] : a;
            for (int i = 0; i < n; i++) fill[i] = (float)((i * 7 + rank * 3) % 11) * 0.1f;
            MPI_Barrier(MPI_COMM_WORLD);
            MPI_Barrier(MPI_COMM_WORLD);
            double start = MPI_Wtime();
            if (v == 0) MPI_Allreduce(MPI_IN_PLACE, a, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            if (v == 1) ring_reduce_scatter(a, incoming, block, rank, size);
            if (v == 2) {
                MPI_Reduce_scatter(MPI_IN_PLACE, a, counts, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
                if (rank > 0) memmove(a + (size_t)rank * block, a, (size_t)block * sizeof *a);
            }
            if (v == 4) shared_reduce_scatter(a, incoming, block, rank, size);
            if (v == 5) shared_allgather(a, block, rank, size);
            if (v == 6) shared_reduce_scatter_in_window(a, block, rank, size);
            if (v == 3) MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, a, counts, displacements, MPI_FLOAT, MPI_COMM_WORLD);
            times[v][r] = MPI_Wtime() - start;
            if (v < 3 || v == 4 || v == 6) {
                double sum = 0;
                for (int i = rank * block; i < (rank + 1) * block; i++) sum += a[i];
                shard_sum[v] = sum;
            }
        }
    }
    if (rank == 0) {
        printf("%d ranks, %d floats (shards of %d)\n", size, n, block);
        for (int v = 0; v < (shared ? VARIANTS : 4); v++) printf("  %-38s %6.0f us\n", names[v], median(times[v], REPS) * 1e6);
        printf("  rank 0's shard summed: %.3f (allreduce), %.3f (ring), %.3f (MPI_Reduce_scatter), %.3f and %.3f (shared)\n",
               shard_sum[0], shard_sum[1], shard_sum[2], shard_sum[4], shard_sum[6]);
    }
    if (shared) {
        MPI_Win_unlock_all(window);
        MPI_Win_free(&window);
    }
    MPI_Finalize();
    return 0;
}
