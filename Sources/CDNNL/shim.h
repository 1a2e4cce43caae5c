// oneDNN (libdnnl-dev; Debian 12 ships 2.6.3, Ubuntu 22.04 2.2.4, 24.04 3.1.1: dnnl_sgemm has
// the same signature in each). It ships no pkg-config file, hence the plain `link`.
#include <dnnl.h>

// oneDNN's CPU runtime is GNU OpenMP: its thread count is a per-thread setting, which we set
// before each call. Declared here because omp.h lives in GCC's private include directory.
void omp_set_num_threads(int);
int omp_get_max_threads(void);
