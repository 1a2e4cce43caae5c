// Issue 15: is one allreduce over the whole gradient buffer faster than per-layer buckets started
// as soon as each layer's gradient is ready (overlapping the rest of the backward pass)?
//
// Models the end of a 784-512-256-10 backward pass at 64 samples per rank: the upper layers'
// gradients (512x256 + 256x10 weights and their biases, 133,898 floats) are ready, layer 1's
// dW = delta1 (512x64) · X^T (64x784) is still to compute (one OpenBLAS thread per rank), then its
// 401,920 floats. Three ways to sum the 535,818 floats over the ranks, alternated, 300 times each:
//   one     dW1, then one MPI_Allreduce over everything (what Trainer did before its sharded step,
//           whose reduce-scatter is one collective over everything too)
//   buckets MPI_Iallreduce(upper) before dW1, MPI_Iallreduce(layer 1) after, MPI_Waitall
//   tested  buckets, with dW1 in 8 row panels and MPI_Test after each (Open MPI progresses a
//           non-blocking collective only inside MPI calls)
// Build and run: Benchmarks/mpi_exchange.sh (prints medians in µs, rank 0).
#include <mpi.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

enum { OUT = 512, IN = 784, BATCH = 64, UPPER = 512 * 256 + 256 + 256 * 10 + 10, REPS = 300 };
#define LAYER1 (OUT * IN + OUT)

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) { qsort(v, n, sizeof *v, by_value); return v[n / 2]; }

static float gradient[LAYER1 + UPPER], delta[OUT * BATCH], input[IN * BATCH];

// dW1 rows [first, first + rows) = delta rows · input^T (row-major, as the CPU backend lays them out).
static void layer1_rows(int first, int rows) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, IN, BATCH, 1, delta + first * BATCH, BATCH,
                input, BATCH, 0, gradient + first * IN, IN);
}

static void one_buffer(void) {
    layer1_rows(0, OUT);
    MPI_Allreduce(MPI_IN_PLACE, gradient, LAYER1 + UPPER, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

static void buckets(int panels) {
    MPI_Request requests[2];
    MPI_Iallreduce(MPI_IN_PLACE, gradient + LAYER1, UPPER, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &requests[0]);
    for (int p = 0; p < panels; p++) {
        layer1_rows(p * OUT / panels, OUT / panels);
        if (panels > 1) { int done; MPI_Test(&requests[0], &done, MPI_STATUS_IGNORE); }
    }
    MPI_Iallreduce(MPI_IN_PLACE, gradient, LAYER1, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &requests[1]);
    MPI_Waitall(2, requests, MPI_STATUSES_IGNORE);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    openblas_set_num_threads(1);
    for (int i = 0; i < OUT * BATCH; i++) delta[i] = (float)(i % 13) * 1e-3f;
    for (int i = 0; i < IN * BATCH; i++) input[i] = (float)(i % 7) * 1e-2f;
    static double times[3][REPS];
    const char *names[3] = {"one allreduce after dW1", "per-layer buckets", "buckets + MPI_Test per panel"};
    for (int r = 0; r < REPS; r++) {
        for (int k = 0; k < 3; k++) {
            int variant = (k + r) % 3;  // rotate the order: no variant always runs first
            for (int i = LAYER1; i < LAYER1 + UPPER; i++) gradient[i] = 1;
            MPI_Barrier(MPI_COMM_WORLD);
            MPI_Barrier(MPI_COMM_WORLD);
            double start = MPI_Wtime();
            if (variant == 0) one_buffer(); else buckets(variant == 1 ? 1 : 8);
            times[variant][r] = MPI_Wtime() - start;
        }
    }
    // Layer 1's product alone, for scale.
    static double alone[REPS];
    for (int r = 0; r < REPS; r++) {
        double start = MPI_Wtime();
        layer1_rows(0, OUT);
        alone[r] = MPI_Wtime() - start;
    }
    if (rank == 0) {
        printf("%d ranks, %d gradient floats, dW1 alone %.0f us\n", size, LAYER1 + UPPER, median(alone, REPS) * 1e6);
        for (int k = 0; k < 3; k++) printf("  %-30s %6.0f us\n", names[k], median(times[k], REPS) * 1e6);
    }
    MPI_Finalize();
    return 0;
}
