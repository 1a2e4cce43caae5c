// Issue 15: what each collective of a data-parallel step costs on this machine, for the 535,818
// gradient floats of 784-512-256-10 (or argv[1] floats): MPI_Allreduce (every rank then updates
// everything) against the sharded step's reduce-scatter and allgather, where the reduce-scatter is
// either a ring over MPI_Sendrecv (as MPIWorld.reduceScatterSum does it) or Open MPI's
// MPI_Reduce_scatter. Each variant 300 times, alternated, a double barrier before each call;
// medians in µs on rank 0, and a check that both reduce-scatters give the allreduce's shard.
// Build and run: Benchmarks/mpi_exchange.sh.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { REPS = 300, VARIANTS = 4 };

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
    static double times[VARIANTS][REPS];
    double shard_sum[3] = {0};
    const char *names[VARIANTS] = {"MPI_Allreduce", "ring reduce-scatter (MPI_Sendrecv)",
                                   "MPI_Reduce_scatter in place + move", "MPI_Allgatherv in place"};
    for (int r = 0; r < REPS; r++) {
        for (int k = 0; k < VARIANTS; k++) {
            int v = (k + r) % VARIANTS;
            for (int i = 0; i < n; i++) a[i] = (float)((i * 7 + rank * 3) % 11) * 0.1f;
            MPI_Barrier(MPI_COMM_WORLD);
            MPI_Barrier(MPI_COMM_WORLD);
            double start = MPI_Wtime();
            if (v == 0) MPI_Allreduce(MPI_IN_PLACE, a, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            if (v == 1) ring_reduce_scatter(a, incoming, block, rank, size);
            if (v == 2) {
                MPI_Reduce_scatter(MPI_IN_PLACE, a, counts, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
                if (rank > 0) memmove(a + (size_t)rank * block, a, (size_t)block * sizeof *a);
            }
            if (v == 3) MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, a, counts, displacements, MPI_FLOAT, MPI_COMM_WORLD);
            times[v][r] = MPI_Wtime() - start;
            if (v < 3) {
                double sum = 0;
                for (int i = rank * block; i < (rank + 1) * block; i++) sum += a[i];
                shard_sum[v] = sum;
            }
        }
    }
    if (rank == 0) {
        printf("%d ranks, %d floats (shards of %d)\n", size, n, block);
        for (int v = 0; v < VARIANTS; v++) printf("  %-38s %6.0f us\n", names[v], median(times[v], REPS) * 1e6);
        printf("  rank 0's shard summed: %.3f (allreduce), %.3f (ring), %.3f (MPI_Reduce_scatter)\n",
               shard_sum[0], shard_sum[1], shard_sum[2]);
    }
    MPI_Finalize();
    return 0;
}
