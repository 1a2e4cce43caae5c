// C ← α·op(A)·op(B) + β·C on column-major matrices, op(X) = X or Xᵀ.
//   op(A) is m × k, op(B) is k × n, C is m × n; X(i, j) lives at X[i + j·ldX].
//
// Blocking (the host picks the sizes per device type and passes them as -D options):
//   - a work-group computes a GEMM_TM × GEMM_TN tile of C, walking k in steps of GEMM_TK;
//   - each step it copies op(A)[tile rows, k-step] and op(B)[k-step, tile cols] into local
//     memory, transposing as needed and padding with zeros past the edges of A and B, so the
//     inner loop has neither bounds checks nor transposes (an edge tile copies and multiplies
//     only what register blocks starting inside C read);
//   - each work-item keeps a GEMM_WM × GEMM_WN block of C in registers (vectors of GEMM_VW
//     consecutive rows) and updates it with rank-1 products: c += a·bᵀ.
// Work-group shape: (GEMM_TM / GEMM_WM, GEMM_TN / GEMM_WN).

#ifndef GEMM_TM
#define GEMM_TM 64
#define GEMM_TN 64
#define GEMM_TK 16
#define GEMM_WM 4
#define GEMM_WN 4
#define GEMM_VW 4
#endif

#define GEMM_GROUP_M (GEMM_TM / GEMM_WM)
#define GEMM_GROUP_N (GEMM_TN / GEMM_WN)
#define GEMM_THREADS (GEMM_GROUP_M * GEMM_GROUP_N)
#define GEMM_VM (GEMM_WM / GEMM_VW)

#if GEMM_VW == 1
typedef float floatv;
#define vloadv(p) (*(p))
#define vstorev(x, p) (*(p) = (x))
#elif GEMM_VW == 2
typedef float2 floatv;
#define vloadv(p) vload2(0, p)
#define vstorev(x, p) vstore2(x, 0, p)
#elif GEMM_VW == 4
typedef float4 floatv;
#define vloadv(p) vload4(0, p)
#define vstorev(x, p) vstore4(x, 0, p)
#elif GEMM_VW == 8
typedef float8 floatv;
#define vloadv(p) vload8(0, p)
#define vstorev(x, p) vstore8(x, 0, p)
#elif GEMM_VW == 16
typedef float16 floatv;
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
inline void load_a_tile(local float *As, global const float *restrict A, const int lda,
                        const int transA, const int m, const int i0, const int p0,
                        const int rows, const int steps, const int lid)
{
    const bool fullRows = i0 + GEMM_TM <= m;
    if (!transA && fullRows) {
        for (int e = lid; e < GEMM_TM / GEMM_VW * steps; e += GEMM_THREADS) {
            const int i = (e % (GEMM_TM / GEMM_VW)) * GEMM_VW, p = e / (GEMM_TM / GEMM_VW);
            vstorev(vloadv(A + (i0 + i) + (size_t)(p0 + p) * lda), As + p * GEMM_TM + i);
        }
    } else if (transA && fullRows && steps == GEMM_TK) {
        for (int e = lid; e < GEMM_TM * GEMM_TK / GEMM_VW; e += GEMM_THREADS) {
            const int p = (e % (GEMM_TK / GEMM_VW)) * GEMM_VW, i = e / (GEMM_TK / GEMM_VW);
            float lanes[GEMM_VW];
            vstorev(vloadv(A + (p0 + p) + (size_t)(i0 + i) * lda), lanes);
            #pragma unroll
            for (int q = 0; q < GEMM_VW; ++q) As[(p + q) * GEMM_TM + i] = lanes[q];
        }
    } else {
        for (int e = lid; e < rows * steps; e += GEMM_THREADS) {
            int i, p;
            if (transA) { p = e % steps; i = e / steps; }
            else        { i = e % rows; p = e / rows; }
            As[p * GEMM_TM + i] = i0 + i < m ? OP_A(i0 + i, p0 + p) : 0.0f;
        }
    }
}

// Copies op(B)(p0 ..< p0+steps, j0 ..< j0+cols) into Bs[j][p], zero past the edges of B,
// reading as load_a_tile does (an untransposed B: down a column, along k; a transposed one:
// along j).
inline void load_b_tile(local float *Bs, global const float *restrict B, const int ldb,
                        const int transB, const int n, const int p0, const int j0,
                        const int cols, const int steps, const int lid)
{
    const bool fullCols = j0 + GEMM_TN <= n;
    if (!transB && fullCols && steps == GEMM_TK) {
        for (int e = lid; e < GEMM_TN * GEMM_TK / GEMM_VW; e += GEMM_THREADS) {
            const int p = (e % (GEMM_TK / GEMM_VW)) * GEMM_VW, j = e / (GEMM_TK / GEMM_VW);
            vstorev(vloadv(B + (p0 + p) + (size_t)(j0 + j) * ldb), Bs + j * GEMM_TK + p);
        }
    } else if (transB && fullCols) {
        for (int e = lid; e < GEMM_TN / GEMM_VW * steps; e += GEMM_THREADS) {
            const int j = (e % (GEMM_TN / GEMM_VW)) * GEMM_VW, p = e / (GEMM_TN / GEMM_VW);
            float lanes[GEMM_VW];
            vstorev(vloadv(B + (j0 + j) + (size_t)(p0 + p) * ldb), lanes);
            #pragma unroll
            for (int q = 0; q < GEMM_VW; ++q) Bs[(j + q) * GEMM_TK + p] = lanes[q];
        }
    } else {
        for (int e = lid; e < steps * cols; e += GEMM_THREADS) {
            int p, j;
            if (transB) { j = e % cols; p = e / cols; }
            else        { p = e % steps; j = e / steps; }
            Bs[j * GEMM_TK + p] = j0 + j < n ? OP_B(p0 + p, j0 + j) : 0.0f;
        }
    }
}

__attribute__((reqd_work_group_size(GEMM_GROUP_M, GEMM_GROUP_N, 1)))
kernel void gemm(const int m, const int n, const int k, const float alpha,
                 global const float *restrict A, const int lda, const int transA,
                 global const float *restrict B, const int ldb, const int transB,
                 const float beta, global float *restrict C, const int ldc)
{
    // Tiles: As[p][i] = op(A)(i0 + i, p0 + p) (rows contiguous, as A's columns are), and
    // Bs[j][p] = op(B)(p0 + p, j0 + j) (k contiguous, as B's columns are).
    local float As[GEMM_TK * GEMM_TM];
    local float Bs[GEMM_TN * GEMM_TK];

    const int tx = get_local_id(0), ty = get_local_id(1);
    const int lid = ty * GEMM_GROUP_M + tx;
    const int i0 = get_group_id(0) * GEMM_TM, j0 = get_group_id(1) * GEMM_TN;
    const bool fullRows = i0 + GEMM_TM <= m;

    floatv c[GEMM_WN][GEMM_VM];
    #pragma unroll
    for (int w = 0; w < GEMM_WN; ++w) {
        #pragma unroll
        for (int v = 0; v < GEMM_VM; ++v) c[w][v] = (floatv)(0.0f);
    }

    // The rows and columns of the tile that register blocks starting inside C will read.
    const int rows = min(GEMM_TM, (m - i0 + GEMM_WM - 1) / GEMM_WM * GEMM_WM);
    const int cols = min(GEMM_TN, (n - j0 + GEMM_WN - 1) / GEMM_WN * GEMM_WN);

    for (int p0 = 0; p0 < k; p0 += GEMM_TK) {
        const int steps = min(GEMM_TK, k - p0);
        load_a_tile(As, A, lda, transA, m, i0, p0, rows, steps, lid);
        load_b_tile(Bs, B, ldb, transB, n, p0, j0, cols, steps, lid);
        barrier(CLK_LOCAL_MEM_FENCE);

        // c += a·bᵀ for each p of the step: a = As[p][my rows], b = Bs[my cols][p], skipping
        // blocks wholly past the edges of C and the zero padding past k. (That the test depends
        // on the local id also keeps PoCL from treating the loop as uniform: it would otherwise
        // add an implicit barrier per p and keep c in memory, not registers.)
        local const float *a = As + tx * GEMM_WM;
        local const float *b = Bs + ty * GEMM_WN * GEMM_TK;
        if (i0 + tx * GEMM_WM < m && j0 + ty * GEMM_WN < n) for (int p = 0; p < steps; ++p) {
            floatv av[GEMM_VM];
            #pragma unroll
            for (int v = 0; v < GEMM_VM; ++v) av[v] = vloadv(a + v * GEMM_VW);
            #pragma unroll
            for (int w = 0; w < GEMM_WN; ++w) {
                const floatv bw = (floatv)(b[w * GEMM_TK]);
                #pragma unroll
                for (int v = 0; v < GEMM_VM; ++v) c[w][v] = fma(av[v], bw, c[w][v]);
            }
            a += GEMM_TM;
            b += 1;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    // C ← α·c + β·C; C is not read when β = 0 (it may hold anything, NaN included).
    const int row = i0 + tx * GEMM_WM, col = j0 + ty * GEMM_WN;
    #pragma unroll
    for (int w = 0; w < GEMM_WN; ++w) {
        if (col + w >= n) break;
        global float *Cw = C + row + (size_t)(col + w) * ldc;
        #pragma unroll
        for (int v = 0; v < GEMM_VM; ++v) {
            global float *Cv = Cw + v * GEMM_VW;
            const floatv out = alpha * c[w][v];
            if (fullRows) {
                vstorev(beta == 0.0f ? out : fma((floatv)(beta), vloadv(Cv), out), Cv);
            } else {
                float lanes[GEMM_VW];
                vstorev(out, lanes);
                for (int e = 0; e < GEMM_VW; ++e) {
                    if (row + v * GEMM_VW + e < m) {
                        Cv[e] = beta == 0.0f ? lanes[e] : fma(beta, Cv[e], lanes[e]);
                    }
                }
            }
        }
    }
}
