/* CLBlast peer: CLBlastSgemm on the OpenCL device ours would pick (BACKPROP_OPENCL_DEVICE: an index
 * over all platforms' devices, or a name fragment; default the first GPU, else the first device).
 * Buffers stay on the device; a repetition ends with clFinish, as ours ends with synchronize().
 *
 *   gcc -O2 -o clblast_sgemm clblast_sgemm.c -lclblast -lOpenCL
 *   ./clblast_sgemm [--quick] [--repetitions N]
 */
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
#include <clblast_c.h>
#include <ctype.h>

#include "sgemm_harness.h"

#define CHECK(call)                                                                      \
    do {                                                                                 \
        long status_ = (long)(call);                                                     \
        if (status_ != 0) { fprintf(stderr, "%s failed: %ld\n", #call, status_); exit(1); } \
    } while (0)

struct call { int m, n, k; CLBlastTranspose ta, tb; cl_mem a, b, c; size_t lda, ldb; cl_command_queue queue; };

static void run(void *p) {
    struct call *g = p;
    CHECK(CLBlastSgemm(CLBlastLayoutColMajor, g->ta, g->tb, g->m, g->n, g->k, 1.0f, g->a, 0, g->lda,
                       g->b, 0, g->ldb, 0.0f, g->c, 0, g->m, &g->queue, NULL));
}

static void finish(void *p) { CHECK(clFinish(((struct call *)p)->queue)); }

static int contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return 0;
}

/* Same rule as ours (selectOpenCLDevice in Sources/BackpropOpenCL/OpenCLDevices.swift). */
static cl_device_id pick_device(char *name, size_t size) {
    cl_platform_id platforms[16];
    cl_device_id all[64];
    cl_uint np = 0, count = 0;
    if (clGetPlatformIDs(16, platforms, &np) != CL_SUCCESS || np == 0) {
        fprintf(stderr, "no OpenCL platform\n");
        exit(1);
    }
    for (cl_uint p = 0; p < np && count < 64; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 64 - count, all + count, &nd) == CL_SUCCESS) count += nd;
    }
    if (count == 0) { fprintf(stderr, "no OpenCL device\n"); exit(1); }
    const char *spec = getenv("BACKPROP_OPENCL_DEVICE");
    int chosen = -1;
    for (cl_uint i = 0; i < count && chosen < 0; i++) {
        char n[256] = "";
        cl_device_type type = 0;
        clGetDeviceInfo(all[i], CL_DEVICE_NAME, sizeof n, n, NULL);
        clGetDeviceInfo(all[i], CL_DEVICE_TYPE, sizeof type, &type, NULL);
        if (spec && *spec) {
            char *end;
            long index = strtol(spec, &end, 10);
            if (*end == 0 ? index == (long)i : contains_ci(n, spec)) chosen = (int)i;
        } else if (type & CL_DEVICE_TYPE_GPU) {
            chosen = (int)i;
        }
    }
    if (chosen < 0) {
        if (spec && *spec) { fprintf(stderr, "BACKPROP_OPENCL_DEVICE=%s matches no device\n", spec); exit(1); }
        chosen = 0;
    }
    clGetDeviceInfo(all[chosen], CL_DEVICE_NAME, size, name, NULL);
    return all[chosen];
}

int main(int argc, char **argv) {
    struct options o = parse_options(argc, argv);
    char device_name[256] = "", platform_name[256] = "", driver[256] = "", version[256] = "";
    cl_device_id device = pick_device(device_name, sizeof device_name);
    cl_platform_id platform;
    cl_uint units = 0;
    clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL);
    clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof platform_name, platform_name, NULL);
    clGetDeviceInfo(device, CL_DRIVER_VERSION, sizeof driver, driver, NULL);
    clGetDeviceInfo(device, CL_DEVICE_VERSION, sizeof version, version, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    cl_int err;
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CHECK(err);
    cl_command_queue queue = clCreateCommandQueueWithProperties(context, device, NULL, &err);
    CHECK(err);
    fprintf(stderr, "CLBlast on %s (%s, %u compute units)\n", device_name, platform_name, units);

    struct gemm_case cases[16];
    struct result results[16];
    int count = gemm_cases(&o, cases);
    unsigned seed = 1;
    for (int i = 0; i < count; i++) {
        const struct gemm_case *c = &cases[i];
        size_t na = (size_t)c->m * c->k, nb = (size_t)c->k * c->n, nc = (size_t)c->m * c->n;
        float *ha = malloc(sizeof(float) * na), *hb = malloc(sizeof(float) * nb);
        fill_uniform(ha, na, &seed);
        fill_uniform(hb, nb, &seed);
        struct call g = {c->m, c->n, c->k, c->ta == 'T' ? CLBlastTransposeYes : CLBlastTransposeNo,
                         c->tb == 'T' ? CLBlastTransposeYes : CLBlastTransposeNo, NULL, NULL, NULL,
                         c->ta == 'T' ? c->k : c->m, c->tb == 'T' ? c->n : c->k, queue};
        g.a = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof(float) * na, ha, &err); CHECK(err);
        g.b = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof(float) * nb, hb, &err); CHECK(err);
        g.c = clCreateBuffer(context, CL_MEM_READ_WRITE, sizeof(float) * nc, NULL, &err); CHECK(err);
        results[i] = measure(&o, c, run, finish, &g);
        clReleaseMemObject(g.a); clReleaseMemObject(g.b); clReleaseMemObject(g.c);
        free(ha); free(hb);
    }
    char dev[300], plat[300], drv[300], versions[1200];
    json_string(device_name, dev, sizeof dev);
    json_string(platform_name, plat, sizeof plat);
    json_string(driver, drv, sizeof drv);
    snprintf(versions, sizeof versions,
             "{\"clblast\": \"%d.%d.%d\", \"opencl_platform\": \"%s\", \"opencl_device\": \"%s\", \"driver\": \"%s\"}",
             CLBLAST_VERSION_MAJOR, CLBLAST_VERSION_MINOR, CLBLAST_VERSION_PATCH, plat, dev, drv);
    emit("clblast", "opencl", (int)units, versions, results, count);
    clReleaseCommandQueue(queue);
    clReleaseContext(context);
    return 0;
}
