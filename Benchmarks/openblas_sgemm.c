/* OpenBLAS peer: cblas_sgemm called directly (column-major, like ours), no wrapper.
 *
 *   gcc -O2 -o openblas_sgemm openblas_sgemm.c -lopenblas
 *   ./openblas_sgemm [--quick] [--repetitions N] [--threads N]
 */
#include <cblas.h>

#include "sgemm_harness.h"

struct call { int m, n, k; enum CBLAS_TRANSPOSE ta, tb; const float *a, *b; float *c; int lda, ldb; };

static void run(void *p) {
    struct call *g = p;
    cblas_sgemm(CblasColMajor, g->ta, g->tb, g->m, g->n, g->k, 1.0f, g->a, g->lda, g->b, g->ldb, 0.0f, g->c, g->m);
}

static void no_sync(void *p) { (void)p; }

int main(int argc, char **argv) {
    struct options o = parse_options(argc, argv);
    if (o.threads > 0) openblas_set_num_threads(o.threads);
    int threads = openblas_get_num_threads();
    struct gemm_case cases[16];
    struct result results[16];
    int count = gemm_cases(&o, cases);
    unsigned seed = 1;
    fprintf(stderr, "%s (%s), %d threads\n", openblas_get_config(), openblas_get_corename(), threads);
    for (int i = 0; i < count; i++) {
        const struct gemm_case *c = &cases[i];
        float *a = malloc(sizeof(float) * c->m * c->k), *b = malloc(sizeof(float) * c->k * c->n),
              *cc = malloc(sizeof(float) * c->m * c->n);
        fill_uniform(a, (size_t)c->m * c->k, &seed);
        fill_uniform(b, (size_t)c->k * c->n, &seed);
        /* column-major: op(A) is m×k, so A is m×k (lda m) or, transposed, k×m (lda k) */
        struct call g = {c->m, c->n, c->k, c->ta == 'T' ? CblasTrans : CblasNoTrans,
                         c->tb == 'T' ? CblasTrans : CblasNoTrans, a, b, cc,
                         c->ta == 'T' ? c->k : c->m, c->tb == 'T' ? c->n : c->k};
        results[i] = measure(&o, c, run, no_sync, &g);
        free(a); free(b); free(cc);
    }
    char config[512], versions[700];
    json_string(openblas_get_config(), config, sizeof config);
    snprintf(versions, sizeof versions, "{\"openblas\": \"%s\", \"core\": \"%s\"}", config, openblas_get_corename());
    emit("openblas", "cpu", threads, versions, results, count);
    return 0;
}
