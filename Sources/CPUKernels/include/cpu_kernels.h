// Elementwise loops of the CPU backend, in C so that clang vectorizes them for the machine it
// runs on (target_clones picks an AVX2 or AVX-512 version at load time; Swift's own code is
// built for baseline x86-64 and does not vectorize sqrt or divisions). Pointers may alias
// where the Swift caller allows in-place use; no `restrict`.
#pragma once
#include <stddef.h>

void bp_sgd(float *p, const float *g, size_t n, float lr, float wd);
void bp_momentum(float *p, const float *g, float *v, size_t n, float lr, float mu, float wd);
void bp_adam(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
             float beta2, float c1, float c2, float eps, float wd);

void bp_relu(const float *z, float *a, size_t n);
void bp_relu_backward(const float *z, const float *up, float *d, size_t n);
void bp_sigmoid_backward(const float *a, const float *up, float *d, size_t n);
void bp_tanh_backward(const float *a, const float *up, float *d, size_t n);

void bp_hadamard(const float *a, const float *b, float *c, size_t n);
void bp_axpy(float alpha, const float *x, float *y, size_t n);
void bp_scale(float *x, float alpha, size_t n);
void bp_add_bias(float *z, const float *b, size_t rows, size_t cols);
// Activation codes of bp_bias_activate.
enum { BP_IDENTITY = 0, BP_SIGMOID = 1, BP_RELU = 2, BP_TANH = 3, BP_BIAS_ONLY = 4 };
void bp_bias_activate(float *z, const float *b, float *a, size_t rows, size_t cols, int activation);
void bp_sum_columns(const float *m, size_t rows, size_t cols, float alpha, float beta, float *out);
// The same over `rows` rows of a matrix whose columns are `ld` apart.
void bp_sum_columns_strided(const float *m, size_t ld, size_t rows, size_t cols, float alpha, float beta,
                            float *out);

// What this CPU runs (cpu_features.c), from CPUID and, for AVX, the OS's XCR0, as GCC and clang read them.
// Whether it runs AVX-512F instructions.
int bp_cpu_has_avx512f(void);
// Whether it runs AMD's 3DNow! (CPUID 8000_0001h EDX bit 31): real K8/K10 CPUs do; every CPU since
// (Bulldozer, Bobcat, Zen, any Intel) and virtual CPUs that report a K8 model (QEMU's qemu64) do not.
int bp_cpu_has_3dnow(void);
// Whether it runs AMD's four-operand FMA4 (Bulldozer to Excavator only).
int bp_cpu_has_fma4(void);
// Whether it runs SSE3, SSE4.1, AVX (with the OS saving its registers).
int bp_cpu_has_sse3(void);
int bp_cpu_has_sse41(void);
int bp_cpu_has_avx(void);
int bp_cpu_has_avx2_fma(void);
// How many CPUs this process may run on (its affinity mask: taskset, numactl, Slurm, mpirun
// --bind-to, docker --cpuset-cpus; with OpenMP binding on, the CPUs of OpenMP's places); 0 if the
// mask cannot be read.
int bp_affinity_cpu_count(void);
// The x86-64 microarchitecture level it meets: 1 (baseline), 2 (SSE4.2, POPCNT), 3 (AVX2, FMA, BMI2),
// 4 (AVX-512 F/BW/DQ/VL).
int bp_cpu_x86_64_level(void);

// The same passes split over the GEMMs' OpenMP team (parallel_loops.c): `threads` parts, one
// part when the pass is small; every element computed exactly as by the one-thread kernel.
#include <stdint.h>
void bp_par_sgd(int threads, float *p, const float *g, size_t n, float lr, float wd);
void bp_par_momentum(int threads, float *p, const float *g, float *v, size_t n, float lr, float mu, float wd);
void bp_par_adam(int threads, float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                 float beta2, float c1, float c2, float eps, float wd);
void bp_par_bias_activate(int threads, float *z, const float *b, float *a, size_t rows, size_t cols, int activation);
// activation: BP_RELU (x = z), BP_SIGMOID or BP_TANH (x = a).
void bp_par_activation_backward(int threads, int activation, const float *x, const float *up, float *d, size_t n);
void bp_par_sum_columns(int threads, const float *m, size_t rows, size_t cols, float alpha, float beta, float *out);
// Column j of destination ← column indices[j] of source (indices checked by the caller).
void bp_par_gather_columns(int threads, const float *source, size_t rows, const int32_t *indices, size_t count,
                           float *destination);
