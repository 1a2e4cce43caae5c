/* Shared by openblas_sgemm.c and clblast_sgemm.c: arguments, the GEMM workload list, the timing
 * method of `backprop bench` (one warm-up call, calibrate calls per repetition to last
 * min_seconds, median/min/max over the repetitions), and the JSON output.
 *
 * Key convention: C(m×n) = op(A)(m×k)·op(B)(k×n), 2mnk FLOPs, column-major like ours.
 */
#ifndef SGEMM_HARNESS_H
#define SGEMM_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct options { int quick, repetitions, threads, gemm; double min_seconds; };

struct gemm_case { char ta, tb; int m, n, k; };

static const struct gemm_case squares[] = {
    {'N', 'N', 128, 128, 128}, {'N', 'N', 256, 256, 256}, {'N', 'N', 512, 512, 512},
    {'N', 'N', 1024, 1024, 1024}, {'N', 'N', 2048, 2048, 2048}};
static const struct gemm_case mlp_shapes[] = {
    {'N', 'N', 128, 128, 784},   /* forward W·X       */
    {'N', 'T', 128, 784, 128},   /* ∂W = δ·Xᵀ         */
    {'T', 'N', 784, 128, 128}};  /* error Wᵀ·δ        */
/* A 784-512-512-10 step at batch 128 (full runs only): forward, ∂W, error of each layer. */
static const struct gemm_case large_step_shapes[] = {
    {'N', 'N', 512, 128, 784}, {'N', 'N', 512, 128, 512}, {'N', 'N', 10, 128, 512},
    {'N', 'T', 512, 784, 128}, {'N', 'T', 512, 512, 128}, {'N', 'T', 10, 512, 128},
    {'T', 'N', 512, 128, 512}, {'T', 'N', 512, 128, 10}};

static struct options parse_options(int argc, char **argv) {
    struct options o = {0, 0, 0, 1, 0.2};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) o.quick = 1;
        else if (!strcmp(argv[i], "--repetitions") && i + 1 < argc) o.repetitions = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) o.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) o.gemm = strstr(argv[++i], "gemm") != NULL;
        else if (!strcmp(argv[i], "--data") && i + 1 < argc) i++;  /* accepted, unused */
        else { fprintf(stderr, "usage: %s [--quick] [--repetitions N] [--threads N] [--only gemm]\n", argv[0]); exit(2); }
    }
    if (o.repetitions <= 0) o.repetitions = o.quick ? 2 : 7;
    if (o.quick) o.min_seconds = 0.01;
    return o;
}

/* The cases to run, in order; returns the count. */
static int gemm_cases(const struct options *o, struct gemm_case *out) {
    int n = 0, squares_n = o->quick ? 2 : 5;
    if (!o->gemm) return 0;
    for (int i = 0; i < squares_n; i++) out[n++] = squares[i];
    for (int i = 0; i < 3; i++) out[n++] = mlp_shapes[i];
    if (!o->quick)
        for (int i = 0; i < 8; i++) out[n++] = large_step_shapes[i];
    return n;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct result { char key[64]; double median, min, max; int repetitions; };

/* Times run(ctx) (one GEMM call; sync(ctx) waits for queued work) as GFLOP/s. */
static struct result measure(const struct options *o, const struct gemm_case *c,
                             void (*run)(void *), void (*sync)(void *), void *ctx) {
    struct result r;
    double flops = 2.0 * c->m * c->n * c->k, t, rates[64];
    int calls = 1, reps = o->repetitions > 64 ? 64 : o->repetitions;
    snprintf(r.key, sizeof r.key, "gemm/%c%c/%dx%dx%d", c->ta, c->tb, c->m, c->n, c->k);
    run(ctx); sync(ctx);
    for (;;) {
        double t0 = now_seconds();
        for (int i = 0; i < calls; i++) run(ctx);
        sync(ctx);
        t = now_seconds() - t0;
        if (t >= o->min_seconds || calls >= 1 << 20) break;
        int next = (int)(calls * o->min_seconds / (t > 1e-6 ? t : 1e-6) * 1.2);
        calls = next > 2 * calls ? next : 2 * calls;
    }
    for (int rep = 0; rep < reps; rep++) {
        double t0 = now_seconds();
        for (int i = 0; i < calls; i++) run(ctx);
        sync(ctx);
        rates[rep] = flops * calls / (now_seconds() - t0) * 1e-9;
    }
    qsort(rates, reps, sizeof(double), compare_doubles);
    r.median = rates[reps / 2]; r.min = rates[0]; r.max = rates[reps - 1]; r.repetitions = reps;
    fprintf(stderr, "  %-34s %12.2f GFLOP/s\n", r.key, r.median);
    return r;
}

static void fill_uniform(float *x, size_t n, unsigned *state) {
    for (size_t i = 0; i < n; i++) {
        *state = *state * 1664525u + 1013904223u;
        x[i] = (float)((*state >> 8) * (1.0 / 16777216.0)) - 0.5f;
    }
}

/* Prints the JSON object; `versions` is a JSON object literal. */
static void emit(const char *tool, const char *backend, int threads, const char *versions,
                 const struct result *r, int n) {
    printf("{\"tool\": \"%s\", \"backend\": \"%s\", \"threads\": %d, \"versions\": %s, \"results\": [",
           tool, backend, threads, versions);
    for (int i = 0; i < n; i++)
        printf("%s{\"key\": \"%s\", \"unit\": \"GFLOP/s\", \"median\": %.6g, \"min\": %.6g, \"max\": %.6g, "
               "\"repetitions\": %d}", i ? ", " : "", r[i].key, r[i].median, r[i].min, r[i].max, r[i].repetitions);
    printf("]}\n");
}

/* JSON-escapes s into out (quotes and backslashes; control characters become spaces). */
static void json_string(const char *s, char *out, size_t size) {
    size_t j = 0;
    for (; *s && j + 3 < size; s++) {
        if (*s == '"' || *s == '\\') out[j++] = '\\';
        out[j++] = (unsigned char)*s < 0x20 ? ' ' : *s;
    }
    out[j] = 0;
}

#endif
