// Parameter updates in place, one work-item per parameter; L2 decay λ is added to g for the
// elements decayStart ..< decayEnd only (the weights of a whole parameter buffer; 0 ..< INT_MAX
// for one tensor), λ = 0 elsewhere (the biases).
#pragma OPENCL FP_CONTRACT OFF

// θ ← θ − η·(g + λθ)
kernel void sgd_step(const float lr, const float decayIn, const int decayStart, const int decayEnd,
                     global float *theta, global const float *g)
{
    const int i = get_global_id(0);
    const float decay = i >= decayStart && i < decayEnd ? decayIn : 0.0f;
    theta[i] -= lr * (g[i] + decay * theta[i]);
}

// v ← μ·v + (g + λθ);  θ ← θ − η·v
kernel void momentum_step(const float lr, const float mu, const float decayIn, const int decayStart,
                          const int decayEnd, global float *theta, global const float *g, global float *v)
{
    const int i = get_global_id(0);
    const float decay = i >= decayStart && i < decayEnd ? decayIn : 0.0f;
    v[i] = mu * v[i] + (g[i] + decay * theta[i]);
    theta[i] -= lr * v[i];
}

// Adam: m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  θ ← θ − η·(m/c₁) / (√(v/c₂) + ε),
// with the bias corrections c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ computed on the host.
kernel void adam_step(const float lr, const float beta1, const float beta2,
                      const float eps, const float c1, const float c2, const float decayIn,
                      const int decayStart, const int decayEnd, global float *theta, global const float *g,
                      global float *m, global float *v)
{
    const int i = get_global_id(0);
    const float decay = i >= decayStart && i < decayEnd ? decayIn : 0.0f;
    const float gi = g[i] + decay * theta[i];
    m[i] = beta1 * m[i] + (1.0f - beta1) * gi;
    v[i] = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    theta[i] -= lr * (m[i] / c1) / (sqrt(v[i] / c2) + eps);
}
