// Reductions: sums over the batch (bias gradients) and the correct-prediction count.
// Whole-matrix reductions run as one work-group of REDUCE_GROUP work-items (a power of two),
// each summing a strided share, then a tree in local memory: deterministic, and accurate
// enough in float for the ≤ 10⁵ terms of a batch.
#pragma OPENCL FP_CONTRACT OFF

#ifndef REDUCE_GROUP
#define REDUCE_GROUP 64
#endif

// Returns Σ over the work-group of x (the same value to every work-item).
static inline float group_sum(local float *scratch, const float x)
{
    const int lid = get_local_id(0);
    scratch[lid] = x;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = REDUCE_GROUP / 2; width > 0; width /= 2) {
        if (lid < width) scratch[lid] += scratch[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

// s ← α·Σⱼ M[:, j] + β·s, one work-item per row; s is not read when β = 0.
kernel void sum_columns(const int rows, const int cols, const float alpha, const float beta,
                        global const float *m, global float *s)
{
    const int i = get_global_id(0);
    float acc = beta == 0.0f ? 0.0f : beta * s[i];
    for (int j = 0; j < cols; ++j) acc += alpha * m[i + (size_t)j * rows];
    s[i] = acc;
}

// Index of the first largest of x[0 ..< n], or −1 when x holds a NaN (never a match).
static inline int argmax(global const float *x, const int n)
{
    int best = 0;
    for (int i = 0; i < n; ++i) if (isnan(x[i])) return -1;
    for (int i = 1; i < n; ++i) if (x[i] > x[best]) best = i;
    return best;
}

// count[0] += number of columns whose prediction matches the target, by the rule of
// Sources/BackpropCore/Network/Prediction.swift: the same arg-max (ties: the lowest index), or
// for one output unit both on the same side of 0.5; a column holding a NaN is never correct.
__attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
kernel void count_correct(const int rows, const int cols, global const float *output,
                          global const float *target, global float *count)
{
    local float scratch[REDUCE_GROUP];
    float correct = 0.0f;
    for (int j = get_local_id(0); j < cols; j += REDUCE_GROUP) {
        global const float *o = output + (size_t)j * rows, *t = target + (size_t)j * rows;
        const int predicted = rows == 1 ? 0 : argmax(o, rows);
        const bool right = rows == 1 ? !isnan(o[0]) && !isnan(t[0]) && (o[0] >= 0.5f) == (t[0] >= 0.5f)
                                     : predicted >= 0 && predicted == argmax(t, rows);
        correct += right ? 1.0f : 0.0f;
    }
    const float total = group_sum(scratch, correct);
    if (get_local_id(0) == 0) count[0] += total;
}
