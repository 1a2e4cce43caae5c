// The CPU's single-precision FMA peak, the ceiling every GFLOP/s figure is a share of: 12
// independent accumulator chains of 512-bit (AVX-512) or 256-bit (AVX2) fused multiply-adds on
// each of N threads. Prints one JSON object. Build: gcc -O2 -pthread fma_peak.c -o fma_peak
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define STEPS 100000000L

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

// The empty asm keeps each chain live and in a register, so the compiler neither drops nor merges them.
#define CHAINS(T, SET, FMA, SUM, R)                                                                  \
    T a = SET(0.999999f), b = SET(1e-7f), c0 = SET(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0,    \
      c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;                                         \
    for (long i = 0; i < STEPS; i++) {                                                                \
        c0 = FMA(c0, a, b); c1 = FMA(c1, a, b); c2 = FMA(c2, a, b); c3 = FMA(c3, a, b);               \
        c4 = FMA(c4, a, b); c5 = FMA(c5, a, b); c6 = FMA(c6, a, b); c7 = FMA(c7, a, b);               \
        c8 = FMA(c8, a, b); c9 = FMA(c9, a, b); c10 = FMA(c10, a, b); c11 = FMA(c11, a, b);           \
        __asm__ volatile("" : "+" R (c0), "+" R (c1), "+" R (c2), "+" R (c3), "+" R (c4), "+" R (c5));      \
        __asm__ volatile("" : "+" R (c6), "+" R (c7), "+" R (c8), "+" R (c9), "+" R (c10), "+" R (c11));    \
    }                                                                                                 \
    T s = SUM(SUM(SUM(c0, c1), SUM(c2, c3)), SUM(SUM(c4, c5), SUM(c6, c7)));                          \
    s = SUM(s, SUM(SUM(c8, c9), SUM(c10, c11)));

__attribute__((target("avx512f"), noinline)) static float run512(void) {
    CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, "v")
    return _mm512_reduce_add_ps(s);
}
__attribute__((target("avx2,fma"), noinline)) static float run256(void) {
    CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, "x")
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}

static int wide;
static void *worker(void *seconds) {
    double t = now();
    volatile float sink = wide ? run512() : run256();
    (void)sink;
    *(double *)seconds = now() - t;
    return NULL;
}

// GFLOP/s of `n` threads together (the slowest thread's time counts).
static double peak(int n) {
    pthread_t th[256];
    double secs[256], slowest = 0;
    for (int i = 0; i < n; i++) pthread_create(&th[i], NULL, worker, &secs[i]);
    for (int i = 0; i < n; i++) { pthread_join(th[i], NULL); if (secs[i] > slowest) slowest = secs[i]; }
    return n * (double)STEPS * 12 * (wide ? 16 : 8) * 2 / slowest / 1e9;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1;
    if (n < 1 || n > 256) { fprintf(stderr, "fma_peak: threads must be 1...256, got %s\n", argv[1]); return 1; }
    __builtin_cpu_init();
    wide = __builtin_cpu_supports("avx512f");
    if (!wide && !__builtin_cpu_supports("fma")) { printf("{\"isa\": \"none\"}\n"); return 0; }
    peak(1);  // warm-up: clocks ramp and, on some CPUs, the 512-bit units power up
    double one = peak(1), all = n > 1 ? peak(n) : one;
    printf("{\"isa\": \"%s\", \"threads\": %d, \"gflops_1_thread\": %.1f, \"gflops\": %.1f}\n",
           wide ? "avx512" : "avx2", n, one, all);
    return 0;
}
