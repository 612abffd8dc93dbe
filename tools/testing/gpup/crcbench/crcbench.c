// SPDX-License-Identifier: GPL-2.0-only
/*
 * crcbench: the CRC-32C of VRAM data on its way to the user, timed on this
 * machine's CPU (x86-64), per MiB of 4 KiB pages.
 *
 * The saving file's read() hands each page of VRAM to the user and folds
 * exactly the bytes handed out into the record's CRC, so each byte of the
 * page may be loaded only once.  The ways compared, each for one page:
 *
 *   fused-insn    the one pass of crc.c: each 8-byte word loaded once,
 *                 stored to the user and folded into one chain of crc32q
 *   fused-table   the same pass with slicing-by-8 tables
 *   snap+3way     the page copied once into a bounce page (the snapshot
 *                 whose bytes are both summed and sent), crc32c() of the
 *                 bounce page as 6.12 computes it on this CPU, then the
 *                 copy of the bounce page to the user
 *   snap+vpclmul  the same with crc32c() as 7.x computes it on this CPU
 *   copy+3way     one copy, then crc32c() of the copy: not possible in the
 *                 kernel (the copy is the user's memory), the lower bound
 *                 of any way that does not fuse
 *   copy+vpclmul  the same with 7.x's crc32c()
 *   copy          the page copied to the user, summed by nobody: what a
 *                 read() of a memfd does per page (less its page cache
 *                 lookups), the bound against which gpup-bench judges
 *                 the saving file's read() (data-fd against memfd)
 *
 * The copies are "rep movsb", which is what the kernel's memcpy() and
 * copy_to_user() are on a CPU with fast short rep movsb (FSRM).  The
 * crc32c() models follow what the kernels run for 4 KiB on x86-64 (the
 * code here is this file's own):
 *
 *   6.12: crc32c() is the crypto API's "crc32c", that is crc32c-intel,
 *         which from 512 bytes on (and with PCLMULQDQ) runs three chains of
 *         crc32q over three thirds of the buffer and joins them with
 *         carry-less multiplications (crc_pcl)
 *   7.x:  crc32c() calls the arch code directly; from 512 bytes on it folds
 *         the buffer with VPCLMULQDQ on 512-bit vectors where the CPU has
 *         them and AVX-512 is not to be avoided, else the three chains
 *
 * Not counted here: the kernel_fpu_begin() both kernels wrap around their
 * vector code, whose state save is paid once per read() (per system call),
 * not per page.
 *
 * Two sets of source pages: 256 KiB, which stays in the core's L2 cache,
 * and 256 MiB, which does not stay in any cache (VRAM read for the first
 * time).  The user's buffer is 64 KiB, reused.  Rounds interleave the ways,
 * in an order that rotates; the medians are printed, with the ratio of the
 * fused-insn time to each way's (above 1: faster than the fused pass).
 *
 *   crcbench [-r ROUNDS] [-q] [-b]
 *     -q  no ranges, only the medians
 *     -b  one line for tools/testing/gpup/gpup-bench instead of the table
 */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096
#define MIB		(1024 * 1024)
#define DST_PAGES	16
#define CRC32C_POLY_LE	0x82f63b78U
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* 6.12 and 7.x switch from one crc32q chain to their vector code here */
#define VECTOR_MIN	512
/* The longest run of one of the three chains: a third of a page */
#define LANE_WORDS_MAX	(PAGE / 24)

#define TARGET_CRC	__attribute__((__target__("sse4.2,pclmul")))
#define TARGET_AVX512	\
	__attribute__((__target__("sse4.2,pclmul,avx512f,avx512bw,avx512vl,vpclmulqdq")))

/* crc_tab[k][b]: byte @b followed by k zero bytes */
static uint32_t crc_tab[8][256];

/* shift_k[i]: x^(64 i - 33) mod P, which moves a CRC over 8 i bytes */
static uint64_t shift_k[2 * LANE_WORDS_MAX + 1];

/* Constants of the folding: see fold_consts() */
static uint64_t fold_k2048[2], fold_k512[2], fold_k384[2], fold_k256[2], fold_k128[2];

/* Where the CRCs go, so that the compiler computes them */
static uint32_t crc_sink;

/* One CRC register bit-reflected: bit 0 holds x^31, so times x is a shift right */
static uint32_t mul_x(uint32_t v)
{
	return (v >> 1) ^ (v & 1 ? CRC32C_POLY_LE : 0);
}

/* x^@n mod P, bit-reflected */
static uint32_t x_pow(unsigned int n)
{
	uint32_t v = 0x80000000U;	/* x^0 */

	while (n--)
		v = mul_x(v);
	return v;
}

/*
 * A carry-less product of a 64-bit reflected @a and a 32-bit reflected
 * constant, read as a 128-bit reflected value, is a * k * x^33.  So folding
 * 16 bytes (lo = the first 8, of higher degree, hi = the next 8) forward by
 * @d bits takes lo * x^(64 + d) = lo * x^(d + 31) * x^33 and hi * x^(d - 33)
 * * x^33.
 */
static void fold_consts(uint64_t *k, unsigned int d)
{
	k[0] = x_pow(d + 31);
	k[1] = x_pow(d - 33);
}

static void init_consts(void)
{
	unsigned int i, k;
	uint32_t c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = mul_x(c);
		crc_tab[0][i] = c;
	}
	for (k = 1; k < 8; k++)
		for (i = 0; i < 256; i++)
			crc_tab[k][i] = (crc_tab[k - 1][i] >> 8) ^
					crc_tab[0][crc_tab[k - 1][i] & 0xff];
	for (i = 1; i < ARRAY_SIZE(shift_k); i++)
		shift_k[i] = x_pow(64 * i - 33);
	fold_consts(fold_k2048, 2048);
	fold_consts(fold_k512, 512);
	fold_consts(fold_k384, 384);
	fold_consts(fold_k256, 256);
	fold_consts(fold_k128, 128);
}

/* The reference: a byte at a time */
static uint32_t crc_bytes(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--)
		crc = (crc >> 8) ^ crc_tab[0][(crc ^ *p++) & 0xff];
	return crc;
}

static inline uint32_t crc_word_table(uint32_t crc, uint64_t w)
{
	w ^= crc;
	return crc_tab[7][w & 0xff] ^ crc_tab[6][(w >> 8) & 0xff] ^
	       crc_tab[5][(w >> 16) & 0xff] ^ crc_tab[4][(w >> 24) & 0xff] ^
	       crc_tab[3][(w >> 32) & 0xff] ^ crc_tab[2][(w >> 40) & 0xff] ^
	       crc_tab[1][(w >> 48) & 0xff] ^ crc_tab[0][w >> 56];
}

static inline uint32_t crc_word_insn(uint32_t crc, uint64_t w)
{
	uint64_t c = crc;

	asm("crc32q %1, %0" : "+r" (c) : "rm" (w));
	return c;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* One chain of crc32q: what both kernels do below VECTOR_MIN bytes */
static TARGET_CRC uint32_t crc_chain(uint32_t crc, const uint8_t *p, size_t len)
{
	for (; len >= 8; len -= 8, p += 8)
		crc = crc_word_insn(crc, load64(p));
	for (; len; len--, p++)
		crc = _mm_crc32_u8(crc, *p);
	return crc;
}

/* @crc followed by 8 @words zero bytes */
static TARGET_CRC uint32_t crc_shift(uint32_t crc, unsigned int words)
{
	__m128i m = _mm_clmulepi64_si128(_mm_cvtsi32_si128(crc),
					 _mm_cvtsi64_si128(shift_k[words]), 0);

	return _mm_crc32_u64(0, _mm_cvtsi128_si64(m));
}

/* 6.12's crc32c() here: three chains over three runs, joined */
static TARGET_CRC uint32_t crc_3way(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c0, c1, c2;
	size_t n, i;

	if (len < VECTOR_MIN)
		return crc_chain(crc, p, len);
	while (len >= 24) {
		n = len / 24;
		if (n > LANE_WORDS_MAX)
			n = LANE_WORDS_MAX;
		c0 = crc;
		c1 = 0;
		c2 = 0;
		for (i = 0; i < n; i++) {
			asm("crc32q %1, %0" : "+r" (c0) : "rm" (load64(p + 8 * i)));
			asm("crc32q %1, %0" : "+r" (c1) : "rm" (load64(p + 8 * (n + i))));
			asm("crc32q %1, %0" : "+r" (c2) : "rm" (load64(p + 8 * (2 * n + i))));
		}
		crc = crc_shift(c0, 2 * n) ^ crc_shift(c1, n) ^ c2;
		p += 24 * n;
		len -= 24 * n;
	}
	return crc_chain(crc, p, len);
}

/* 16 bytes per lane of @x folded forward over the distance of @k, onto @data */
static TARGET_AVX512 __m512i fold512(__m512i x, __m512i k, __m512i data)
{
	return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
					 _mm512_clmulepi64_epi128(x, k, 0x11), data, 0x96);
}

static TARGET_AVX512 __m512i bcast(const uint64_t *k)
{
	return _mm512_broadcast_i32x4(_mm_set_epi64x(k[1], k[0]));
}

/* 7.x's crc32c() here: 256 bytes a step in four 512-bit registers */
static TARGET_AVX512 uint32_t crc_vpclmul(uint32_t crc, const uint8_t *p, size_t len)
{
	__m512i x0, x1, x2, x3, k, lanes;
	__m128i a, k128;

	if (len < VECTOR_MIN)
		return crc_chain(crc, p, len);
	/* the initial CRC joins the first four bytes */
	x0 = _mm512_xor_si512(_mm512_loadu_si512(p),
			      _mm512_inserti32x4(_mm512_setzero_si512(),
						 _mm_cvtsi32_si128(crc), 0));
	x1 = _mm512_loadu_si512(p + 64);
	x2 = _mm512_loadu_si512(p + 128);
	x3 = _mm512_loadu_si512(p + 192);
	k = bcast(fold_k2048);
	for (p += 256, len -= 256; len >= 256; p += 256, len -= 256) {
		x0 = fold512(x0, k, _mm512_loadu_si512(p));
		x1 = fold512(x1, k, _mm512_loadu_si512(p + 64));
		x2 = fold512(x2, k, _mm512_loadu_si512(p + 128));
		x3 = fold512(x3, k, _mm512_loadu_si512(p + 192));
	}
	k = bcast(fold_k512);
	x1 = fold512(x0, k, x1);
	x2 = fold512(x1, k, x2);
	x3 = fold512(x2, k, x3);
	for (; len >= 64; p += 64, len -= 64)
		x3 = fold512(x3, k, _mm512_loadu_si512(p));
	/* the four lanes onto the last one */
	k = _mm512_set_epi64(0, 0, fold_k128[1], fold_k128[0], fold_k256[1], fold_k256[0],
			     fold_k384[1], fold_k384[0]);
	lanes = _mm512_xor_si512(_mm512_clmulepi64_epi128(x3, k, 0x00),
				 _mm512_clmulepi64_epi128(x3, k, 0x11));
	a = _mm_ternarylogic_epi64(_mm512_extracti32x4_epi32(lanes, 0),
				   _mm512_extracti32x4_epi32(lanes, 1),
				   _mm512_extracti32x4_epi32(lanes, 2), 0x96);
	a = _mm_xor_si128(a, _mm512_extracti32x4_epi32(x3, 3));
	k128 = _mm_set_epi64x(fold_k128[1], fold_k128[0]);
	for (; len >= 16; p += 16, len -= 16)
		a = _mm_ternarylogic_epi64(_mm_clmulepi64_si128(a, k128, 0x00),
					   _mm_clmulepi64_si128(a, k128, 0x11),
					   _mm_loadu_si128((const __m128i *)p), 0x96);
	/* 16 bytes left, with nothing before them: their CRC from zero */
	crc = _mm_crc32_u64(0, _mm_cvtsi128_si64(a));
	crc = _mm_crc32_u64(crc, _mm_extract_epi64(a, 1));
	return crc_chain(crc, p, len);
}

static inline void copy_movsb(void *dst, const void *src, size_t len)
{
	asm volatile("rep movsb" : "+D" (dst), "+S" (src), "+c" (len) : : "memory");
}

/*
 * crc.c's pass, the store being a plain one here; inlined into each caller
 * with its way of summing a word
 */
static inline uint32_t fused(void *dst, const void *src, uint32_t crc,
			     uint32_t (*word)(uint32_t crc, uint64_t w))
{
	const uint8_t *s = src;
	uint8_t *d = dst;
	size_t len;

	for (len = PAGE; len >= 8; len -= 8, s += 8, d += 8) {
		uint64_t w = load64(s);

		asm("" : "+r" (w));
		memcpy(d, &w, sizeof(w));
		crc = word(crc, w);
	}
	return crc;
}

static uint32_t fused_insn(void *dst, const void *src, uint32_t crc)
{
	return fused(dst, src, crc, crc_word_insn);
}

static uint32_t fused_table(void *dst, const void *src, uint32_t crc)
{
	return fused(dst, src, crc, crc_word_table);
}

/* The snapshot of the page being sent */
static uint8_t *bounce;

static uint32_t snap_3way(void *dst, const void *src, uint32_t crc)
{
	copy_movsb(bounce, src, PAGE);
	crc = crc_3way(crc, bounce, PAGE);
	copy_movsb(dst, bounce, PAGE);
	return crc;
}

static uint32_t snap_vpclmul(void *dst, const void *src, uint32_t crc)
{
	copy_movsb(bounce, src, PAGE);
	crc = crc_vpclmul(crc, bounce, PAGE);
	copy_movsb(dst, bounce, PAGE);
	return crc;
}

static uint32_t copy_3way(void *dst, const void *src, uint32_t crc)
{
	copy_movsb(dst, src, PAGE);
	return crc_3way(crc, dst, PAGE);
}

static uint32_t copy_vpclmul(void *dst, const void *src, uint32_t crc)
{
	copy_movsb(dst, src, PAGE);
	return crc_vpclmul(crc, dst, PAGE);
}

static uint32_t copy_only(void *dst, const void *src, uint32_t crc)
{
	copy_movsb(dst, src, PAGE);
	return crc;
}

struct way {
	const char *name;
	uint32_t (*page)(void *dst, const void *src, uint32_t crc);
	bool avx512;
	bool sums;
};

static const struct way ways[] = {
	{ "fused-insn", fused_insn, false, true },
	{ "fused-table", fused_table, false, true },
	{ "snap+3way", snap_3way, false, true },
	{ "snap+vpclmul", snap_vpclmul, true, true },
	{ "copy+3way", copy_3way, false, true },
	{ "copy+vpclmul", copy_vpclmul, true, true },
	{ "copy", copy_only, false, false },
};

static bool have_avx512(void)
{
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("vpclmulqdq");
}

/* Any bytes, the same on every run */
static uint64_t rnd(void)
{
	static uint64_t x = 1;

	x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	return x;
}

static void fill(uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = rnd() >> 56;
}

/* Each way against the reference, and the CRCs at many lengths and offsets */
static int self_check(const struct way **w, size_t nways, uint8_t *dst)
{
	static uint8_t buf[3 * PAGE + 64];
	size_t i, off, len;
	uint32_t want;

	fill(buf, sizeof(buf));
	for (off = 0; off < 64; off += 7) {
		for (len = 0; len <= 3 * PAGE; len += len < 600 ? 1 : 509) {
			want = crc_bytes(0x1234567, buf + off, len);
			if (crc_3way(0x1234567, buf + off, len) != want ||
			    (have_avx512() && crc_vpclmul(0x1234567, buf + off, len) != want)) {
				fprintf(stderr, "crcbench: wrong CRC at offset %zu length %zu\n",
					off, len);
				return -1;
			}
		}
	}
	want = crc_bytes(~0U, (const uint8_t *)"123456789", 9);
	if (~want != 0xe3069283U) {
		fprintf(stderr, "crcbench: wrong check value\n");
		return -1;
	}
	for (i = 0; i < nways; i++) {
		memset(dst, 0, PAGE);
		want = w[i]->sums ? crc_bytes(77, buf + 5, PAGE) : 77;
		if (w[i]->page(dst, buf + 5, 77) != want || memcmp(dst, buf + 5, PAGE)) {
			fprintf(stderr, "crcbench: %s: wrong bytes or CRC\n", w[i]->name);
			return -1;
		}
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Nanoseconds per MiB: @passes over @npages pages of @src */
static double time_way(const struct way *w, const uint8_t *src, size_t npages,
		       unsigned int passes, uint8_t *dst)
{
	uint32_t crc = 0;
	unsigned int pass;
	size_t i;
	double t;

	t = now();
	for (pass = 0; pass < passes; pass++)
		for (i = 0; i < npages; i++)
			crc = w->page(dst + i % DST_PAGES * PAGE, src + i * PAGE, crc);
	t = now() - t;
	__atomic_store_n(&crc_sink, crc, __ATOMIC_RELAXED);
	return t * 1e9 / ((double)npages * passes * PAGE / MIB);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The first line of @path that starts with @key, without the key, or "?" */
static void read_line(const char *path, const char *key, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	char line[256];

	snprintf(buf, size, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, strlen(key)))
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(buf, size, "%s", line + strlen(key));
		break;
	}
	fclose(f);
}

/* The 1-minute load average */
static double load_avg(void)
{
	char buf[128];

	read_line("/proc/loadavg", "", buf, sizeof(buf));
	return strtod(buf, NULL);
}

struct set {
	const char *name;
	size_t bytes;
	unsigned int passes;
};

static const struct set sets[] = {
	{ "256 KiB (L2)", 256 * 1024, 64 },
	{ "256 MiB (memory)", 256 * MIB, 1 },
};

/* The median of @w in each set, by name; 0 if it did not run */
static double median_of(double med[][ARRAY_SIZE(ways)], const struct way **w, unsigned int n,
			unsigned int set, const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(w[i]->name, name))
			return med[set][i];
	return 0;
}

/* The ratios that decide crc.c's design, on one line */
static void print_bench(double med[][ARRAY_SIZE(ways)], const struct way **w, unsigned int n,
			unsigned int rounds, double load0, double load1)
{
	const char *snap7 = have_avx512() ? "snap+vpclmul" : "snap+3way";
	char cpu[128];
	unsigned int s;

	read_line("/proc/cpuinfo", "model name\t: ", cpu, sizeof(cpu));
	printf("bench: CRC-32C of VRAM pages to the user, native on %s: ", cpu);
	printf("crc32c() over a snapshot against the fused crc32q pass:");
	for (s = 0; s < ARRAY_SIZE(sets); s++)
		printf("%s %s %.2fx (7.x), %.2fx (6.12)", s ? ";" : "", sets[s].name,
		       med[s][0] / median_of(med, w, n, s, snap7),
		       med[s][0] / median_of(med, w, n, s, "snap+3way"));
	printf(" (median of %u, load %.1f..%.1f)\n", rounds, load0, load1);

	/* the saving file's read() per page against a memfd read()'s */
	printf("bench: data-fd read modelled natively (snapshot, crc32c(), copy to the user)");
	printf(" against a memfd read (one copy):");
	for (s = 0; s < ARRAY_SIZE(sets); s++)
		printf("%s %s ratio %.2f (7.x), %.2f (6.12)", s ? ";" : "", sets[s].name,
		       median_of(med, w, n, s, "copy") / median_of(med, w, n, s, snap7),
		       median_of(med, w, n, s, "copy") / median_of(med, w, n, s, "snap+3way"));
	printf(" (target >= 0.80)\n");
}

int main(int argc, char **argv)
{
	unsigned int rounds = 9, r, s, i, n;
	const struct way *w[ARRAY_SIZE(ways)];
	double *ns[ARRAY_SIZE(ways)], med[ARRAY_SIZE(sets)][ARRAY_SIZE(ways)];
	bool quiet = false, bench = false;
	double load0, load1;
	uint8_t *src, *dst;
	int opt;

	while ((opt = getopt(argc, argv, "r:qb")) != -1) {
		switch (opt) {
		case 'r':
			rounds = strtoul(optarg, NULL, 0);
			break;
		case 'q':
			quiet = true;
			break;
		case 'b':
			bench = true;
			break;
		default:
			fprintf(stderr, "usage: crcbench [-r ROUNDS] [-q] [-b]\n");
			return 2;
		}
	}
	if (!rounds || !__builtin_cpu_supports("sse4.2") || !__builtin_cpu_supports("pclmul")) {
		fprintf(stderr, "crcbench: needs rounds and a CPU with SSE4.2 and PCLMULQDQ\n");
		return 2;
	}
	init_consts();
	for (i = 0, n = 0; i < ARRAY_SIZE(ways); i++)
		if (!ways[i].avx512 || have_avx512())
			w[n++] = &ways[i];
	src = aligned_alloc(PAGE, sets[ARRAY_SIZE(sets) - 1].bytes);
	dst = aligned_alloc(PAGE, DST_PAGES * PAGE);
	bounce = aligned_alloc(PAGE, PAGE);
	for (i = 0; i < n; i++)
		ns[i] = calloc(rounds, sizeof(double));
	if (!src || !dst || !bounce || !ns[n - 1]) {
		fprintf(stderr, "crcbench: out of memory\n");
		return 1;
	}
	fill(src, sets[ARRAY_SIZE(sets) - 1].bytes);
	memset(dst, 0, DST_PAGES * PAGE);
	if (self_check(w, n, dst))
		return 1;
	if (!have_avx512() && !bench)
		printf("crcbench: no VPCLMULQDQ with AVX-512: %s\n",
		       "7.x's crc32c() takes the three chains here");

	load0 = load_avg();
	if (!bench)
		printf("crcbench: load average %.2f before\n", load0);
	for (s = 0; s < ARRAY_SIZE(sets); s++) {
		const struct set *set = &sets[s];

		for (r = 0; r < rounds; r++)
			for (i = 0; i < n; i++) {
				unsigned int j = (i + r) % n;

				ns[j][r] = time_way(w[j], src, set->bytes / PAGE, set->passes, dst);
			}
		for (i = 0; i < n; i++) {
			qsort(ns[i], rounds, sizeof(double), cmp_double);
			med[s][i] = ns[i][rounds / 2];
		}
		for (i = 0; i < n && !bench; i++) {
			printf("crcbench: %-16s %-12s %7.0f ns/MiB %6.2f GB/s",
			       set->name, w[i]->name, med[s][i], MIB / med[s][i]);
			printf("  fused-insn/this %.2f", med[s][0] / med[s][i]);
			if (!quiet)
				printf("  (%.0f..%.0f)", ns[i][0], ns[i][rounds - 1]);
			printf("\n");
		}
	}
	load1 = load_avg();
	if (bench)
		print_bench(med, w, n, rounds, load0, load1);
	else
		printf("crcbench: load average %.2f after\n", load1);
	for (i = 0; i < n; i++)
		free(ns[i]);
	free(bounce);
	free(dst);
	free(src);
	return 0;
}
