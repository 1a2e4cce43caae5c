// What this CPU runs, asked once per call (the callers ask at start-up, not in loops).
#define _GNU_SOURCE
#include "cpu_kernels.h"
#include <sched.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

int bp_cpu_has_avx512f(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

int bp_cpu_has_3dnow(void) {
#if defined(__x86_64__)
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(0x80000001u, &eax, &ebx, &ecx, &edx)) return 0;
    return (edx >> 31) & 1;
#else
    return 0;
#endif
}

#if defined(__x86_64__)
#define SUPPORTS(feature) (__builtin_cpu_init(), __builtin_cpu_supports(feature))
#else
#define SUPPORTS(feature) 0
#endif
int bp_cpu_has_fma4(void) { return SUPPORTS("fma4"); }
int bp_cpu_has_sse3(void) { return SUPPORTS("sse3"); }
int bp_cpu_has_sse41(void) { return SUPPORTS("sse4.1"); }
int bp_cpu_has_avx(void) { return SUPPORTS("avx"); }
int bp_cpu_has_avx2_fma(void) { return SUPPORTS("avx2") && SUPPORTS("fma"); }

int bp_cpu_x86_64_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("ssse3")))
        return 1;
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2")))
        return 2;
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")))
        return 3;
    return 4;
#else
    return 1;
#endif
}

// libgomp's (GNU OpenMP, which oneDNN's build uses and the CPU backend links).
int omp_get_proc_bind(void);
int omp_get_num_places(void);
int omp_get_place_num_procs(int place);

int bp_affinity_cpu_count(void) {
    // With OpenMP binding on (OMP_PROC_BIND, OMP_PLACES, GOMP_CPU_AFFINITY), libgomp pins the
    // initial thread to the first place before main: this thread's mask is then one place, while
    // the places, made from the mask the process started with, hold every CPU it was given.
    if (omp_get_proc_bind() != 0) {
        int count = 0, places = omp_get_num_places();
        for (int p = 0; p < places; p++) count += omp_get_place_num_procs(p);
        if (count > 0) return count;
    }
    // A mask sized for up to 4096 CPUs (cpu_set_t holds 1024, too few for the largest machines).
    enum { MAX_CPUS = 4096 };
    cpu_set_t *set = CPU_ALLOC(MAX_CPUS);
    if (!set) return 0;
    size_t size = CPU_ALLOC_SIZE(MAX_CPUS);
    CPU_ZERO_S(size, set);
    int count = sched_getaffinity(0, size, set) == 0 ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    return count;
}
