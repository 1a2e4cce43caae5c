// Losses over a batch of n = cols samples (classes × n, column-major), each writing the
// gradient δ = (a − y)/n and adding Σₓ Cₓ to loss[0]. One work-group of REDUCE_GROUP
// work-items (see reduce.cl, built before this file) so the sum needs no atomics.
#pragma OPENCL FP_CONTRACT OFF

// Cₓ = ½‖a − y‖²; ∇ₐC = (a − y)/n
__attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
kernel void squared_error(const int count, const float invN, global const float *a,
                          global const float *y, global float *grad, global float *loss)
{
    local float scratch[REDUCE_GROUP];
    float c = 0.0f;
    for (int i = get_local_id(0); i < count; i += REDUCE_GROUP) {
        const float d = a[i] - y[i];
        c += 0.5f * d * d;
        grad[i] = d * invN;
    }
    const float total = group_sum(scratch, c);
    if (get_local_id(0) == 0) loss[0] += total;
}

// Cₓ = −Σₖ yₖ log softmax(z)ₖ = Σₖ yₖ (logΣexp(z) − zₖ), from z so no log(0) appears;
// δ = (a − y)/n with a = softmax(z).
__attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
kernel void softmax_cross_entropy(const int rows, const int cols, const float invN,
                                  global const float *z, global const float *a,
                                  global const float *y, global float *grad, global float *loss)
{
    local float scratch[REDUCE_GROUP];
    float c = 0.0f;
    for (int j = get_local_id(0); j < cols; j += REDUCE_GROUP) {
        global const float *zc = z + (size_t)j * rows, *yc = y + (size_t)j * rows;
        float m = -INFINITY;
        for (int i = 0; i < rows; ++i) m = fmax(m, zc[i]);
        float sum = 0.0f;
        for (int i = 0; i < rows; ++i) sum += exp(zc[i] - m);
        const float logSumExp = m + log(sum);
        float cj = 0.0f;
        for (int i = 0; i < rows; ++i) if (yc[i] != 0.0f) cj += yc[i] * (logSumExp - zc[i]);
        c += cj;
    }
    for (int i = get_local_id(0); i < rows * cols; i += REDUCE_GROUP) grad[i] = (a[i] - y[i]) * invN;
    const float total = group_sum(scratch, c);
    if (get_local_id(0) == 0) loss[0] += total;
}

// Cₓ = −Σₖ [yₖ log σ(zₖ) + (1 − yₖ) log(1 − σ(zₖ))] = Σₖ max(z, 0) − z·y + log(1 + e^−|z|);
// δ = (a − y)/n with a = σ(z).
__attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
kernel void binary_cross_entropy(const int count, const float invN, global const float *z,
                                 global const float *a, global const float *y,
                                 global float *grad, global float *loss)
{
    local float scratch[REDUCE_GROUP];
    float c = 0.0f;
    for (int i = get_local_id(0); i < count; i += REDUCE_GROUP) {
        const float x = z[i];
        c += fmax(x, 0.0f) - x * y[i] + log1p(exp(-fabs(x)));
        grad[i] = (a[i] - y[i]) * invN;
    }
    const float total = group_sum(scratch, c);
    if (get_local_id(0) == 0) loss[0] += total;
}
