#ifndef DSM_CPU_FEATURES_H
#define DSM_CPU_FEATURES_H
/// 1 when the CPU and OS support AVX2 (x86-64 only; 0 elsewhere). The quantizer picks its kernels with it.
int dsm_cpu_has_avx2(void);
#endif
