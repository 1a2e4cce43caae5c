// Elementwise operations on matrices seen as flat arrays of floats, one work-item per element.
//
// Every kernel launched one work-item per element (here and in activations.cl, optimizers.cl,
// data.cl, sum_columns) runs over exactly as many work-items as elements: the host launches the
// whole groups, then the remainder as groups of one. So no kernel tests `i < n`: on PoCL such a
// test keeps the work-item loop from being vectorized, which measured 15× slower.
// FP_CONTRACT OFF: the CPU backend computes these without fused multiply-adds, and so do we.
#pragma OPENCL FP_CONTRACT OFF

// x ← α·x
kernel void scale(global float *x, const float alpha)
{
    const int i = get_global_id(0);
    x[i] = alpha == 0.0f ? 0.0f : alpha * x[i];
}

// y ← α·x + y
kernel void axpy(const float alpha, global const float *x, global float *y)
{
    const int i = get_global_id(0);
    y[i] += alpha * x[i];
}

// c ← a ⊙ b
kernel void hadamard(global const float *a, global const float *b, global float *c)
{
    const int i = get_global_id(0);
    c[i] = a[i] * b[i];
}

// Z ← Z + b·1ᵀ for Z of `rows` rows (column-major): Z[i, j] += b[i].
kernel void add_bias(const int rows, global const float *b, global float *z)
{
    const int e = get_global_id(0);
    z[e] += b[e % rows];
}
