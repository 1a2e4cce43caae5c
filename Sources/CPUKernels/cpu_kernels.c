#include "cpu_kernels.h"
#include <math.h>

// Bit-for-bit the same arithmetic on every machine: no fused multiply-add contraction.
#pragma clang fp contract(off)

#if defined(__x86_64__) && defined(__clang__)
#define VECTORIZED __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTORIZED
#endif

// sqrtf without errno handling, so the loop vectorizes.
#define SQRT(x) __builtin_elementwise_sqrt(x)

VECTORIZED void bp_sgd(float *p, const float *g, size_t n, float lr, float wd) {
    for (size_t i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
}

VECTORIZED void bp_momentum(float *p, const float *g, float *v, size_t n, float lr, float mu, float wd) {
    for (size_t i = 0; i < n; i++) {
        v[i] = mu * v[i] + (g[i] + wd * p[i]);
        p[i] -= lr * v[i];
    }
}

VECTORIZED void bp_adam(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                        float beta2, float c1, float c2, float eps, float wd) {
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        float mi = beta1 * m[i] + (1 - beta1) * gi;
        float vi = beta2 * v[i] + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr * (mi / c1) / (SQRT(vi / c2) + eps);
    }
}

VECTORIZED void bp_relu(const float *z, float *a, size_t n) {
    for (size_t i = 0; i < n; i++) a[i] = z[i] > 0 ? z[i] : 0;
}

// The network calls these in place (d == up). Partially overlapping pointers defeat the
// vectorizer's run-time alias check, so the in-place case gets its own single-pointer loop.
VECTORIZED void bp_relu_backward(const float *z, const float *up, float *d, size_t n) {
    if (d == up) {
        for (size_t i = 0; i < n; i++) d[i] = z[i] > 0 ? d[i] : 0;
    } else {
        for (size_t i = 0; i < n; i++) d[i] = z[i] > 0 ? up[i] : 0;
    }
}

VECTORIZED void bp_sigmoid_backward(const float *a, const float *up, float *d, size_t n) {
    if (d == up) {
        for (size_t i = 0; i < n; i++) d[i] = d[i] * (a[i] * (1 - a[i]));
    } else {
        for (size_t i = 0; i < n; i++) d[i] = up[i] * (a[i] * (1 - a[i]));
    }
}

VECTORIZED void bp_tanh_backward(const float *a, const float *up, float *d, size_t n) {
    if (d == up) {
        for (size_t i = 0; i < n; i++) d[i] = d[i] * (1 - a[i] * a[i]);
    } else {
        for (size_t i = 0; i < n; i++) d[i] = up[i] * (1 - a[i] * a[i]);
    }
}

VECTORIZED void bp_hadamard(const float *a, const float *b, float *c, size_t n) {
    for (size_t i = 0; i < n; i++) c[i] = a[i] * b[i];
}

VECTORIZED void bp_axpy(float alpha, const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

VECTORIZED void bp_scale(float *x, float alpha, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] *= alpha;
}

VECTORIZED void bp_add_bias(float *z, const float *b, size_t rows, size_t cols) {
    for (size_t j = 0; j < cols; j++)
        for (size_t i = 0; i < rows; i++) z[j * rows + i] += b[i];
}

VECTORIZED void bp_sum_columns_strided(const float *m, size_t ld, size_t rows, size_t cols, float alpha, float beta,
                                       float *out) {
    for (size_t i = 0; i < rows; i++) out[i] = beta == 0 ? 0 : beta * out[i];
    for (size_t j = 0; j < cols; j++)
        for (size_t i = 0; i < rows; i++) out[i] += alpha * m[j * ld + i];
}

void bp_sum_columns(const float *m, size_t rows, size_t cols, float alpha, float beta, float *out) {
    bp_sum_columns_strided(m, rows, rows, cols, alpha, beta, out);
}

// Z ← Z + b·1ᵀ and, when a is not NULL, A ← σ(Z), in one pass over Z, column by column (right
// after the GEMM wrote Z, while it is still in cache). The arithmetic of bp_add_bias followed by
// the activation: the same results, one read of Z fewer.
VECTORIZED void bp_bias_activate(float *z, const float *b, float *a, size_t rows, size_t cols, int activation) {
    for (size_t j = 0; j < cols; j++) {
        float *zc = z + j * rows;
        float *ac = a ? a + j * rows : NULL;
        switch (activation) {
        case BP_RELU:
            if (ac) {
                for (size_t i = 0; i < rows; i++) { float v = zc[i] + b[i]; zc[i] = v; ac[i] = v > 0 ? v : 0; }
                break;
            }
            // fall through: no A to write
        case BP_IDENTITY:
            if (ac && ac != zc) {
                for (size_t i = 0; i < rows; i++) { float v = zc[i] + b[i]; zc[i] = v; ac[i] = v; }
            } else {
                for (size_t i = 0; i < rows; i++) zc[i] += b[i];
            }
            break;
        case BP_SIGMOID:
            for (size_t i = 0; i < rows; i++) zc[i] += b[i];
            if (ac) for (size_t i = 0; i < rows; i++) ac[i] = 1 / (1 + expf(-zc[i]));
            break;
        case BP_TANH:
            for (size_t i = 0; i < rows; i++) zc[i] += b[i];
            if (ac) for (size_t i = 0; i < rows; i++) ac[i] = tanhf(zc[i]);
            break;
        default:
            for (size_t i = 0; i < rows; i++) zc[i] += b[i];
            break;
        }
    }
}
