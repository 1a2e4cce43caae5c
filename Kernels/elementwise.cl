// Elementwise operations on matrices seen as flat arrays of n floats.
// One work-item per element; the global size is rounded up, so each kernel checks i < n.
// FP_CONTRACT OFF: the CPU backend computes these without fused multiply-adds, and so do we.
#pragma OPENCL FP_CONTRACT OFF

// x ← value
kernel void fill(const int n, global float *x, const float value)
{
    const int i = get_global_id(0);
    if (i < n) x[i] = value;
}

// x ← α·x
kernel void scale(const int n, global float *x, const float alpha)
{
    const int i = get_global_id(0);
    if (i < n) x[i] = alpha == 0.0f ? 0.0f : alpha * x[i];
}

// y ← α·x + y
kernel void axpy(const int n, const float alpha, global const float *x, global float *y)
{
    const int i = get_global_id(0);
    if (i < n) y[i] += alpha * x[i];
}

// c ← a ⊙ b
kernel void hadamard(const int n, global const float *a, global const float *b, global float *c)
{
    const int i = get_global_id(0);
    if (i < n) c[i] = a[i] * b[i];
}

// Z ← Z + b·1ᵀ for Z of `rows` rows (column-major): Z[i, j] += b[i].
kernel void add_bias(const int n, const int rows, global const float *b, global float *z)
{
    const int e = get_global_id(0);
    if (e < n) z[e] += b[e % rows];
}
