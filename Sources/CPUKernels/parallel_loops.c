#include "cpu_kernels.h"
#include <string.h>

// The elementwise passes of a step, split over GNU OpenMP's team: the threads oneDNN's GEMMs run
// on, which spin a while after each product. Run on the calling thread alone, these passes left
// the second core idle for a fifth of a 784-128-10 step on 2 vCPUs (perf: 22 % of the samples in
// libgomp's wait loop). Each thread takes one contiguous part, and every element is computed by
// the same arithmetic in the same order as by the one-thread kernel: the results are identical.

// libgomp's entry point for `#pragma omp parallel` (GCC's ABI, which oneDNN's build uses): fn(data)
// on `threads` threads, the caller one of them; returns when all are done.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned threads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);

// Below this many elements (or floats touched, for column loops) a pass stays on one thread:
// waking the team costs a few microseconds, what 32K floats take to stream.
#define BP_PARALLEL_MIN 32768

struct bp_task {
    void (*body)(const void *args, size_t begin, size_t end);
    const void *args;
    size_t n, align;
};

static void bp_task_run(void *p) {
    const struct bp_task *t = p;
    size_t k = (size_t)omp_get_num_threads(), i = (size_t)omp_get_thread_num();
    size_t chunk = ((t->n + k - 1) / k + t->align - 1) / t->align * t->align;
    size_t begin = i * chunk, end = begin + chunk < t->n ? begin + chunk : t->n;
    if (begin < end) t->body(t->args, begin, end);
}

// body(args, begin, end) over 0..<n in contiguous parts, multiples of `align` (whole vectors).
static void bp_for(int threads, size_t n, size_t work, size_t align,
                   void (*body)(const void *, size_t, size_t), const void *args) {
    if (threads <= 1 || work < BP_PARALLEL_MIN || n < 2 * align) { body(args, 0, n); return; }
    struct bp_task t = {body, args, n, align};
    GOMP_parallel(bp_task_run, &t, (unsigned)threads, 0);
}

struct sgd_args { float *p; const float *g; float lr, wd; };
static void sgd_body(const void *c, size_t b, size_t e) {
    const struct sgd_args *a = c;
    bp_sgd(a->p + b, a->g + b, e - b, a->lr, a->wd);
}
void bp_par_sgd(int threads, float *p, const float *g, size_t n, float lr, float wd) {
    struct sgd_args a = {p, g, lr, wd};
    bp_for(threads, n, n, 16, sgd_body, &a);
}

struct momentum_args { float *p; const float *g; float *v; float lr, mu, wd; };
static void momentum_body(const void *c, size_t b, size_t e) {
    const struct momentum_args *a = c;
    bp_momentum(a->p + b, a->g + b, a->v + b, e - b, a->lr, a->mu, a->wd);
}
void bp_par_momentum(int threads, float *p, const float *g, float *v, size_t n, float lr, float mu, float wd) {
    struct momentum_args a = {p, g, v, lr, mu, wd};
    bp_for(threads, n, n, 16, momentum_body, &a);
}

struct adam_args { float *p; const float *g; float *m, *v; float lr, beta1, beta2, c1, c2, eps, wd; };
static void adam_body(const void *c, size_t b, size_t e) {
    const struct adam_args *a = c;
    bp_adam(a->p + b, a->g + b, a->m + b, a->v + b, e - b, a->lr, a->beta1, a->beta2, a->c1, a->c2, a->eps, a->wd);
}
void bp_par_adam(int threads, float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                 float beta2, float c1, float c2, float eps, float wd) {
    struct adam_args a = {p, g, m, v, lr, beta1, beta2, c1, c2, eps, wd};
    bp_for(threads, n, n, 16, adam_body, &a);
}

// Parts of whole columns.
struct bias_activate_args { float *z; const float *b; float *a; size_t rows; int activation; };
static void bias_activate_body(const void *c, size_t b, size_t e) {
    const struct bias_activate_args *a = c;
    bp_bias_activate(a->z + b * a->rows, a->b, a->a ? a->a + b * a->rows : NULL, a->rows, e - b, a->activation);
}
void bp_par_bias_activate(int threads, float *z, const float *b, float *a, size_t rows, size_t cols, int activation) {
    struct bias_activate_args args = {z, b, a, rows, activation};
    bp_for(threads, cols, rows * cols, 1, bias_activate_body, &args);
}

struct derivative_args { const float *x; const float *up; float *d; int activation; };
static void derivative_body(const void *c, size_t b, size_t e) {
    const struct derivative_args *a = c;
    switch (a->activation) {
    case BP_RELU: bp_relu_backward(a->x + b, a->up + b, a->d + b, e - b); break;
    case BP_SIGMOID: bp_sigmoid_backward(a->x + b, a->up + b, a->d + b, e - b); break;
    case BP_TANH: bp_tanh_backward(a->x + b, a->up + b, a->d + b, e - b); break;
    }
}
void bp_par_activation_backward(int threads, int activation, const float *x, const float *up, float *d, size_t n) {
    struct derivative_args a = {x, up, d, activation};
    bp_for(threads, n, n, 16, derivative_body, &a);
}

// Parts of the rows: each output element still sums its row's columns in order.
struct sum_columns_args { const float *m; size_t rows, cols; float alpha, beta; float *out; };
static void sum_columns_body(const void *c, size_t b, size_t e) {
    const struct sum_columns_args *a = c;
    bp_sum_columns_strided(a->m + b, a->rows, e - b, a->cols, a->alpha, a->beta, a->out + b);
}
void bp_par_sum_columns(int threads, const float *m, size_t rows, size_t cols, float alpha, float beta, float *out) {
    struct sum_columns_args a = {m, rows, cols, alpha, beta, out};
    bp_for(threads, rows, rows * cols, 16, sum_columns_body, &a);
}

struct gather_args { const float *source; size_t rows; const int32_t *indices; float *destination; };
static void gather_body(const void *c, size_t b, size_t e) {
    const struct gather_args *a = c;
    for (size_t j = b; j < e; j++)
        memcpy(a->destination + j * a->rows, a->source + (size_t)a->indices[j] * a->rows, a->rows * sizeof(float));
}
void bp_par_gather_columns(int threads, const float *source, size_t rows, const int32_t *indices, size_t count,
                           float *destination) {
    struct gather_args a = {source, rows, indices, destination};
    bp_for(threads, count, rows * count, 1, gather_body, &a);
}
