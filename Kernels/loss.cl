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

// The output layer in one kernel (equation (1)): for each column, a = σ(z) when `activate`
// (softmax for cross-entropy), the loss Cₓ, δ = ∇ₐC ⊙ σ'(z) ((a − y)/n for the fused
// cross-entropies), and whether the prediction is right (Prediction.swift's rule, as
// count_correct). loss[0] += Σₓ Cₓ and, with countCorrect, correct[0] += the right columns.
// lossKind: 0 squared error, 1 softmax cross-entropy, 2 binary cross-entropy. One work-group
// of REDUCE_GROUP work-items, a column each in turn; the same arithmetic per element as the
// kernels above, activations.cl and count_correct.
__attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
kernel void output_loss(const int lossKind, const int act, const int activate, const int rows, const int cols,
                        const float invN, global const float *z, global float *a, global const float *y,
                        global float *grad, global float *loss, const int countCorrect, global float *correct)
{
    local float scratch[REDUCE_GROUP];
    float c = 0.0f, right = 0.0f;
    for (int j = get_local_id(0); j < cols; j += REDUCE_GROUP) {
        global const float *zc = z + (size_t)j * rows, *yc = y + (size_t)j * rows;
        global float *ac = a + (size_t)j * rows, *gc = grad + (size_t)j * rows;
        if (lossKind == 1) {
            float m = -INFINITY;
            for (int i = 0; i < rows; ++i) m = fmax(m, zc[i]);
            float sum = 0.0f;
            if (activate) {
                for (int i = 0; i < rows; ++i) { const float e = exp(zc[i] - m); ac[i] = e; sum += e; }
                const float inv = 1.0f / sum;
                for (int i = 0; i < rows; ++i) ac[i] *= inv;
            } else {
                for (int i = 0; i < rows; ++i) sum += exp(zc[i] - m);
            }
            const float logSumExp = m + log(sum);
            float cj = 0.0f;
            for (int i = 0; i < rows; ++i) if (yc[i] != 0.0f) cj += yc[i] * (logSumExp - zc[i]);
            c += cj;
            for (int i = 0; i < rows; ++i) gc[i] = (ac[i] - yc[i]) * invN;
        } else if (lossKind == 2) {
            for (int i = 0; i < rows; ++i) {
                const float x = zc[i];
                if (activate) ac[i] = activation_value(ACT_SIGMOID, x);
                c += fmax(x, 0.0f) - x * yc[i] + log1p(exp(-fabs(x)));
                gc[i] = (ac[i] - yc[i]) * invN;
            }
        } else {
            for (int i = 0; i < rows; ++i) {
                if (activate) ac[i] = activation_value(act, zc[i]);
                const float d = ac[i] - yc[i];
                c += 0.5f * d * d;
                gc[i] = activation_backward(act, zc[i], ac[i], d * invN);
            }
        }
        if (countCorrect) {
            const int predicted = rows == 1 ? 0 : argmax(ac, rows);
            const bool ok = rows == 1 ? !isnan(ac[0]) && !isnan(yc[0]) && (ac[0] >= 0.5f) == (yc[0] >= 0.5f)
                                      : predicted >= 0 && predicted == argmax(yc, rows);
            right += ok ? 1.0f : 0.0f;
        }
    }
    const float total = group_sum(scratch, c);
    const float totalRight = countCorrect ? group_sum(scratch, right) : 0.0f;
    if (get_local_id(0) == 0) {
        loss[0] += total;
        if (countCorrect) correct[0] += totalRight;
    }
}
