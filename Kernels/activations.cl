// Activations a = σ(z), elementwise, and their derivatives fused with the Hadamard product
// δ = g ⊙ σ'(z) of backpropagation's equation (2). Softmax normalizes each column.
#pragma OPENCL FP_CONTRACT OFF

// Activation codes shared with the host (OpenCLBackend+Fused.swift) and the GEMM epilogues.
#define ACT_IDENTITY 0
#define ACT_SIGMOID 1
#define ACT_RELU 2
#define ACT_TANH 3
#define ACT_NONE 4

// σ(x) by code, the arithmetic of the *_forward kernels below.
static inline float activation_value(const int code, const float x)
{
    switch (code) {
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));
    case ACT_RELU: return fmax(x, 0.0f);
    case ACT_TANH: return tanh(x);
    default: return x;
    }
}

// g ⊙ σ'(z), with a = σ(z): the arithmetic of the *_backward kernels below.
static inline float activation_backward(const int code, const float z, const float a, const float g)
{
    switch (code) {
    case ACT_SIGMOID: return g * (a * (1.0f - a));
    case ACT_RELU: return z > 0.0f ? g : 0.0f;
    case ACT_TANH: return g * (1.0f - a * a);
    default: return g;
    }
}

kernel void identity_forward(global const float *z, global float *a)
{
    const int i = get_global_id(0);
    a[i] = z[i];
}

// σ(z) = 1 / (1 + e⁻ᶻ)
kernel void sigmoid_forward(global const float *z, global float *a)
{
    const int i = get_global_id(0);
    a[i] = 1.0f / (1.0f + exp(-z[i]));
}

// g(z) = max(z, 0)
kernel void relu_forward(global const float *z, global float *a)
{
    const int i = get_global_id(0);
    a[i] = fmax(z[i], 0.0f);
}

kernel void tanh_forward(global const float *z, global float *a)
{
    const int i = get_global_id(0);
    a[i] = tanh(z[i]);
}

// aᵢ = e^(zᵢ − max z) / Σⱼ e^(zⱼ − max z), one work-item per column of `rows` values.
kernel void softmax_forward(const int rows, global const float *z, global float *a)
{
    const int j = get_global_id(0);
    global const float *zc = z + (size_t)j * rows;
    global float *ac = a + (size_t)j * rows;
    float m = -INFINITY;
    for (int i = 0; i < rows; ++i) m = fmax(m, zc[i]);
    float sum = 0.0f;
    for (int i = 0; i < rows; ++i) { const float e = exp(zc[i] - m); ac[i] = e; sum += e; }
    const float inv = 1.0f / sum;
    for (int i = 0; i < rows; ++i) ac[i] *= inv;
}

// δ = g (σ' = 1)
kernel void identity_backward(global const float *g, global float *delta)
{
    const int i = get_global_id(0);
    delta[i] = g[i];
}

// δ = g ⊙ σ(z)(1 − σ(z)), with a = σ(z)
kernel void sigmoid_backward(global const float *a, global const float *g,
                             global float *delta)
{
    const int i = get_global_id(0);
    delta[i] = g[i] * (a[i] * (1.0f - a[i]));
}

// δ = g ⊙ [z > 0]
kernel void relu_backward(global const float *z, global const float *g,
                          global float *delta)
{
    const int i = get_global_id(0);
    delta[i] = z[i] > 0.0f ? g[i] : 0.0f;
}

// δ = g ⊙ (1 − tanh²(z)), with a = tanh(z)
kernel void tanh_backward(global const float *a, global const float *g,
                          global float *delta)
{
    const int i = get_global_id(0);
    delta[i] = g[i] * (1.0f - a[i] * a[i]);
}
