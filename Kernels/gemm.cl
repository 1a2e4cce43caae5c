// C ← α·op(A)·op(B) + β·C on column-major matrices, op(X) = X or Xᵀ.
//   op(A) is m × k, op(B) is k × n, C is m × n; X(i, j) lives at X[i + j·ldX].
//
// Blocking (the host picks the sizes per device and GEMM shape; this file is compiled once per
// tiling, each copy's names suffixed with GEMM_SUFFIX, e.g. gemm_t0):
//   - a work-group computes a GEMM_TM × GEMM_TN tile of C, walking k in steps of GEMM_TK;
//   - each step it copies op(A)[tile rows, k-step] into As[p][i] and op(B)[k-step, tile cols]
//     into Bs (see below), transposing as needed and padding with zeros past the edges of A and B, so
//     the inner loop has neither bounds checks nor transposes (an edge tile copies and
//     multiplies only what the register blocks of work-items inside C read);
//   - each work-item keeps a GEMM_WM × GEMM_WN block of C in registers, as GEMM_WM / GEMM_VW
//     vectors of GEMM_VW rows, and updates it with rank-1 products: c += a·bᵀ.
// GEMM_STRIDED (GPUs) lays the work out for banked local memory and coalesced stores:
//   - a work-item's row vectors lie GEMM_GROUP_M·GEMM_VW rows apart (at tx·VW + v·GROUP_M·VW),
//     so neighbouring work-items read neighbouring vectors of As and store neighbouring
//     vectors of C;
//   - Bs is stored [p][j], so a work-item's GEMM_WN columns are contiguous (one or two vector
//     reads, and work-items of different ty hit different banks);
//   - rows of As and Bs are padded by GEMM_VW floats: still aligned for vector reads, while a
//     transposing copy's column of stores spreads over the banks.
// Without it (PoCL, which runs a group's work-items as loops on one core), a work-item's rows
// are contiguous (tx·WM + v·VW) and Bs is stored [j][p], k contiguous as in B's columns.
// Work-group shape: (GEMM_TM / GEMM_WM, GEMM_TN / GEMM_WN).

#ifndef GEMM_TM
#define GEMM_TM 64
#define GEMM_TN 64
#define GEMM_TK 16
#define GEMM_WM 4
#define GEMM_WN 4
#define GEMM_VW 4
#define GEMM_STRIDED 0
#define GEMM_SUFFIX t0
#endif

#ifndef GEMM_PLAIN
// Epilogues (OpenCLBackend+Fused.swift passes the same codes):
//   GEMM_PLAIN       C only.
//   GEMM_BIAS_ACT    Z = C + P[row] stored to C, and Q = σ(Z) unless act is ACT_NONE (a layer's
//                    forward pass; P is b, Q is A, with C's shape).
//   GEMM_DERIVATIVE  C ⊙ σ'(z) with z = P, a = Q, both of C's shape (equation (2)).
//   GEMM_ONES        op(B)'s last column is virtual ones; that column of the product is stored
//                    to Q (∂b = Σⱼ δ[:, j] beside ∂W = δ·Aᵀ, equations (3) and (4)).
#define GEMM_PLAIN 0
#define GEMM_BIAS_ACT 1
#define GEMM_DERIVATIVE 2
#define GEMM_ONES 3
#endif

#define GEMM_CAT2(a, b) a##_##b
#define GEMM_CAT(a, b) GEMM_CAT2(a, b)
#define GEMM_NAME(name) GEMM_CAT(name, GEMM_SUFFIX)

#define GEMM_GROUP_M (GEMM_TM / GEMM_WM)
#define GEMM_GROUP_N (GEMM_TN / GEMM_WN)
#define GEMM_THREADS (GEMM_GROUP_M * GEMM_GROUP_N)
#define GEMM_VM (GEMM_WM / GEMM_VW)
#if GEMM_STRIDED
#define GEMM_ROW0(tx) ((tx) * GEMM_VW)
#define GEMM_ROW_STEP (GEMM_GROUP_M * GEMM_VW)
#define GEMM_LDA (GEMM_TM + GEMM_VW)
#define GEMM_BS_SIZE (GEMM_TK * (GEMM_TN + GEMM_VW))
#define BS(p, j) ((p) * (GEMM_TN + GEMM_VW) + (j))
#define GEMM_ALIGNED __attribute__((aligned(4 * GEMM_VW)))
#define AS_VECTOR(p) (*(local const floatv *)(p))
#else
#define GEMM_ROW0(tx) ((tx) * GEMM_WM)
#define GEMM_ROW_STEP GEMM_VW
#define GEMM_LDA GEMM_TM
#define GEMM_BS_SIZE (GEMM_TN * GEMM_TK)
#define BS(p, j) ((j) * GEMM_TK + (p))
#define GEMM_ALIGNED
#define AS_VECTOR(p) vloadv(p)
#endif

#if GEMM_VW == 1
#define floatv float
#define vloadv(p) (*(p))
#define vstorev(x, p) (*(p) = (x))
#elif GEMM_VW == 2
#define floatv float2
#define vloadv(p) vload2(0, p)
#define vstorev(x, p) vstore2(x, 0, p)
#elif GEMM_VW == 4
#define floatv float4
#define vloadv(p) vload4(0, p)
#define vstorev(x, p) vstore4(x, 0, p)
#elif GEMM_VW == 8
#define floatv float8
#define vloadv(p) vload8(0, p)
#define vstorev(x, p) vstore8(x, 0, p)
#elif GEMM_VW == 16
#define floatv float16
#define vloadv(p) vload16(0, p)
#define vstorev(x, p) vstore16(x, 0, p)
#endif

// op(A)(i, p) and op(B)(p, j), for in-range indices.
#define OP_A(i, p) (transA ? A[(p) + (size_t)(i) * lda] : A[(i) + (size_t)(p) * lda])
#define OP_B(p, j) (transB ? B[(j) + (size_t)(p) * ldb] : B[(p) + (size_t)(j) * ldb])

// Copies op(A)(i0 ..< i0+rows, p0 ..< p0+steps) into As[p][i], zero past the edges of A.
// `rows` and `steps` cover exactly what the compute loop reads: whole register blocks that
// start inside C, and the k-steps that remain. Memory is read a vector at a time along its
// contiguous direction wherever possible (an untransposed A: down a column; a transposed one:
// along k, scattered into As); edge tiles go element by element.
static inline void GEMM_NAME(load_a_tile)(local float *As, global const float *A, const int lda,
                        const int transA, const int m, const int i0, const int p0,
                        const int rows, const int steps, const int lid)
{
    const bool fullRows = i0 + GEMM_TM <= m;
    if (!transA && fullRows) {
        for (int e = lid; e < GEMM_TM / GEMM_VW * steps; e += GEMM_THREADS) {
            const int i = (e % (GEMM_TM / GEMM_VW)) * GEMM_VW, p = e / (GEMM_TM / GEMM_VW);
            vstorev(vloadv(A + (i0 + i) + (size_t)(p0 + p) * lda), As + p * GEMM_LDA + i);
        }
    } else if (transA && fullRows && steps == GEMM_TK) {
        for (int e = lid; e < GEMM_TM * GEMM_TK / GEMM_VW; e += GEMM_THREADS) {
            const int p = (e % (GEMM_TK / GEMM_VW)) * GEMM_VW, i = e / (GEMM_TK / GEMM_VW);
            float lanes[GEMM_VW];
            vstorev(vloadv(A + (p0 + p) + (size_t)(i0 + i) * lda), lanes);
            #pragma unroll
            for (int q = 0; q < GEMM_VW; ++q) As[(p + q) * GEMM_LDA + i] = lanes[q];
        }
    } else {
        for (int e = lid; e < rows * steps; e += GEMM_THREADS) {
            int i, p;
            if (transA) { p = e % steps; i = e / steps; }
            else        { i = e % rows; p = e / rows; }
            As[p * GEMM_LDA + i] = i0 + i < m ? OP_A(i0 + i, p0 + p) : 0.0f;
        }
    }
}

// Copies op(B)(p0 ..< p0+steps, j0 ..< j0+cols) into Bs (at BS(p, j)), zero past the edges of B.
// Columns nB ..< n of op(B) are virtual: all ones (the epilogue GEMM_ONES sums δ over the batch
// into ∂b in the same product as ∂W).
static inline void GEMM_NAME(load_b_tile)(local float *Bs, global const float *B, const int ldb,
                                          const int transB, const int n, const int nB, const int p0, const int j0,
                                          const int cols, const int steps, const int lid)
{
    const bool fullCols = j0 + GEMM_TN <= nB;
    // The direction B is contiguous in (j for a transposed B, k otherwise) is read a vector at
    // a time; it is also Bs's contiguous direction for one of them, and scattered for the other.
    if (transB && fullCols) {
        for (int e = lid; e < GEMM_TN / GEMM_VW * steps; e += GEMM_THREADS) {
            const int j = (e % (GEMM_TN / GEMM_VW)) * GEMM_VW, p = e / (GEMM_TN / GEMM_VW);
            float lanes[GEMM_VW];
            vstorev(vloadv(B + (j0 + j) + (size_t)(p0 + p) * ldb), lanes);
            #pragma unroll
            for (int q = 0; q < GEMM_VW; ++q) Bs[BS(p, j + q)] = lanes[q];
        }
    } else if (!transB && fullCols && steps == GEMM_TK) {
        for (int e = lid; e < GEMM_TN * GEMM_TK / GEMM_VW; e += GEMM_THREADS) {
            const int p = (e % (GEMM_TK / GEMM_VW)) * GEMM_VW, j = e / (GEMM_TK / GEMM_VW);
            float lanes[GEMM_VW];
            vstorev(vloadv(B + (p0 + p) + (size_t)(j0 + j) * ldb), lanes);
            #pragma unroll
            for (int q = 0; q < GEMM_VW; ++q) Bs[BS(p + q, j)] = lanes[q];
        }
    } else {
        for (int e = lid; e < steps * cols; e += GEMM_THREADS) {
            int p, j;
            if (transB) { j = e % cols; p = e / cols; }
            else        { p = e % steps; j = e / steps; }
            Bs[BS(p, j)] = j0 + j < nB ? OP_B(p0 + p, j0 + j) : (j0 + j < n ? 1.0f : 0.0f);
        }
    }
}

// One work-group's tile (gi, gj) of C ← α·op(A)·op(B) + β·C, then its epilogue (see the
// header: GEMM_PLAIN, GEMM_BIAS_ACT, GEMM_DERIVATIVE, GEMM_ONES), with P and Q its operands.
// Not always_inline: inlining its restrict parameters emits llvm.experimental.noalias.scope.decl,
// which Oclgrind 21.10 cannot run.
static inline void GEMM_NAME(gemm_tile)(local float *As, local float *Bs, const int gi, const int gj,
                            const int m, const int n, const int k, const float alpha,
                            global const float *restrict A, const int lda, const int transA,
                            global const float *restrict B, const int ldb, const int transB,
                            const float beta, global float *restrict C, const int ldc,
                            const int epilogue, const int act, global const float *P, global float *Q)
{
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int lid = ty * GEMM_GROUP_M + tx;
    const int i0 = gi * GEMM_TM, j0 = gj * GEMM_TN;
    // The real columns of op(B) and C; with GEMM_ONES the last column of the product is ∂b.
    const int nB = epilogue == GEMM_ONES ? n - 1 : n;
    // My first row and column within the tile; I hold rows row0 + v·ROW_STEP + (0 ..< VW).
    const int row0 = GEMM_ROW0(tx), col0 = ty * GEMM_WN;

    floatv c[GEMM_WN][GEMM_VM];
    #pragma unroll
    for (int w = 0; w < GEMM_WN; ++w) {
        #pragma unroll
        for (int v = 0; v < GEMM_VM; ++v) c[w][v] = (floatv)(0.0f);
    }

    // The rows and columns of the tile that the work-items starting inside C will read: up to
    // the last such work-item's last vector (rows), or its last column (cols).
    const int active = min(GEMM_GROUP_M, (m - i0 + GEMM_ROW0(1) - 1) / GEMM_ROW0(1));
    const int rows = min(GEMM_TM, GEMM_ROW0(active - 1) + (GEMM_VM - 1) * GEMM_ROW_STEP + GEMM_VW);
    const int cols = min(GEMM_TN, (n - j0 + GEMM_WN - 1) / GEMM_WN * GEMM_WN);

    for (int p0 = 0; p0 < k; p0 += GEMM_TK) {
        const int steps = min(GEMM_TK, k - p0);
        GEMM_NAME(load_a_tile)(As, A, lda, transA, m, i0, p0, rows, steps, lid);
        GEMM_NAME(load_b_tile)(Bs, B, ldb, transB, n, nB, p0, j0, cols, steps, lid);
        barrier(CLK_LOCAL_MEM_FENCE);

        // c += a·bᵀ for each p of the step: a = As[p][my rows], b = Bs[my cols at p], skipping
        // work-items wholly past the edges of C and the zero padding past k. (That the test
        // depends on the local id also keeps PoCL from treating the loop as uniform: it would
        // otherwise add an implicit barrier per p and keep c in memory, not registers.)
        local const float *a = As + row0;
        local const float *b = Bs + BS(0, col0);
        if (i0 + row0 < m && j0 + col0 < n) for (int p = 0; p < steps; ++p) {
            floatv av[GEMM_VM];
            #pragma unroll
            for (int v = 0; v < GEMM_VM; ++v) av[v] = AS_VECTOR(a + v * GEMM_ROW_STEP);
            #pragma unroll
            for (int w = 0; w < GEMM_WN; ++w) {
                const floatv bw = (floatv)(b[BS(0, w)]);
                #pragma unroll
                for (int v = 0; v < GEMM_VM; ++v) c[w][v] = fma(av[v], bw, c[w][v]);
            }
            a += GEMM_LDA;
            b += BS(1, 0);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    // C ← α·c + β·C; C is not read when β = 0 (it may hold anything, NaN included). Then the
    // epilogue, element by element as the CPU computes it: Z + b and σ(Z + b) (GEMM_BIAS_ACT),
    // ⊙ σ'(z) (GEMM_DERIVATIVE), or the ones column's sums stored to ∂b (GEMM_ONES).
    #pragma unroll
    for (int w = 0; w < GEMM_WN; ++w) {
        const int col = j0 + col0 + w;
        if (col >= n) break;
        #pragma unroll
        for (int v = 0; v < GEMM_VM; ++v) {
            const int row = i0 + row0 + v * GEMM_ROW_STEP;
            global float *Cv = C + row + (size_t)col * ldc;
            const floatv out = alpha * c[w][v];
            if (epilogue == GEMM_PLAIN && row + GEMM_VW <= m) {
                vstorev(beta == 0.0f ? out : fma((floatv)(beta), vloadv(Cv), out), Cv);
            } else if (epilogue == GEMM_ONES && col == nB) {
                float lanes[GEMM_VW];
                vstorev(out, lanes);
                for (int e = 0; e < GEMM_VW; ++e) {
                    if (row + e < m) Q[row + e] = beta == 0.0f ? lanes[e] : fma(beta, Q[row + e], lanes[e]);
                }
            } else {
                float lanes[GEMM_VW];
                vstorev(out, lanes);
                for (int e = 0; e < GEMM_VW; ++e) {
                    if (row + e >= m) break;
                    float x = beta == 0.0f ? lanes[e] : fma(beta, Cv[e], lanes[e]);
                    const size_t o = row + e + (size_t)col * ldc;
                    if (epilogue == GEMM_BIAS_ACT) {
                        x = x + P[row + e];
                        if (act != ACT_NONE) Q[o] = activation_value(act, x);
                    } else if (epilogue == GEMM_DERIVATIVE) {
                        x = activation_backward(act, P[o], Q[o], x);
                    }
                    Cv[e] = x;
                }
            }
        }
    }
}

// C ← α·op(A)·op(B) + β·C with an epilogue, one work-group per GEMM_TM × GEMM_TN tile of C.
__attribute__((reqd_work_group_size(GEMM_GROUP_M, GEMM_GROUP_N, 1)))
kernel void GEMM_NAME(gemm)(const int m, const int n, const int k, const float alpha,
                            global const float *restrict A, const int lda, const int transA,
                            global const float *restrict B, const int ldb, const int transB,
                            const float beta, global float *restrict C, const int ldc,
                            const int epilogue, const int act, global const float *P, global float *Q)
{
    // Tiles: As[p][i] = op(A)(i0 + i, p0 + p), Bs[BS(p, j)] = op(B)(p0 + p, j0 + j); on GPUs
    // aligned so that a row vector of As is one vector load (vload only promises a float's
    // alignment, and compiles to scalar loads there; PoCL is faster with it).
    local float As[GEMM_TK * GEMM_LDA] GEMM_ALIGNED;
    local float Bs[GEMM_BS_SIZE] GEMM_ALIGNED;
    GEMM_NAME(gemm_tile)(As, Bs, get_group_id(0), get_group_id(1), m, n, k, alpha, A, lda, transA, B, ldb, transB,
                         beta, C, ldc, epilogue, act, P, Q);
}

// Two products in one launch (a layer's backward pass: ∂W with ∂b, and δ of the layer below),
// the work-groups of the first (g0m × its column tiles) first, then the second's (g1m per
// column of tiles), numbered along dimension 0.
__attribute__((reqd_work_group_size(GEMM_GROUP_M, GEMM_GROUP_N, 1)))
kernel void GEMM_NAME(gemm2)(const int groups0, const int g0m, const int g1m,
                             const int m0, const int n0, const int k0, global const float *restrict A0, const int lda0,
                             const int transA0, global const float *restrict B0, const int ldb0, const int transB0,
                             global float *restrict C0, const int ldc0, const int epilogue0, const int act0,
                             global const float *P0, global float *Q0,
                             const int m1, const int n1, const int k1, global const float *restrict A1, const int lda1,
                             const int transA1, global const float *restrict B1, const int ldb1, const int transB1,
                             global float *restrict C1, const int ldc1, const int epilogue1, const int act1,
                             global const float *P1, global float *Q1)
{
    local float As[GEMM_TK * GEMM_LDA] GEMM_ALIGNED;
    local float Bs[GEMM_BS_SIZE] GEMM_ALIGNED;
    const int g = get_group_id(0);
    if (g < groups0) {
        GEMM_NAME(gemm_tile)(As, Bs, g % g0m, g / g0m, m0, n0, k0, 1.0f, A0, lda0, transA0, B0, ldb0, transB0,
                             0.0f, C0, ldc0, epilogue0, act0, P0, Q0);
    } else {
        const int h = g - groups0;
        GEMM_NAME(gemm_tile)(As, Bs, h % g1m, h / g1m, m1, n1, k1, 1.0f, A1, lda1, transA1, B1, ldb1, transB1,
                             0.0f, C1, ldc1, epilogue1, act1, P1, Q1);
    }
}

// This tiling's names end here; the next copy of this file defines its own.
#undef GEMM_TM
#undef GEMM_TN
#undef GEMM_TK
#undef GEMM_WM
#undef GEMM_WN
#undef GEMM_VW
#undef GEMM_STRIDED
#undef GEMM_SUFFIX
#undef GEMM_GROUP_M
#undef GEMM_GROUP_N
#undef GEMM_THREADS
#undef GEMM_VM
#undef GEMM_LDA
#undef GEMM_BS_SIZE
#undef BS
#undef GEMM_ALIGNED
#undef AS_VECTOR
#undef GEMM_ROW0
#undef GEMM_ROW_STEP
#undef floatv
#undef vloadv
#undef vstorev
#undef OP_A
#undef OP_B
#undef GEMM_CAT2
#undef GEMM_CAT
#undef GEMM_NAME
