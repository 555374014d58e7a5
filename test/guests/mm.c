/* Memory management: brk, mmap (private/shared anonymous, MAP_FIXED,
 * MAP_FIXED_NOREPLACE, hints), munmap splitting, mprotect, mremap, madvise, and
 * the EINVAL/EEXIST/ENOMEM cases. Prints "ok NAME" per check, then "all ok";
 * on the first failure "FAIL: NAME: details" and exit 1.
 * Raw inline-asm system calls, so the libc wrappers change nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"

#define PG 4096UL
#define X_MAP_FIXED_NOREPLACE 0x100000
#define X_MREMAP_FIXED 2

static unsigned char *map(void *hint, size_t len, int prot, int flags)
{
	long r = sys6(SYS_mmap, (long)hint, (long)len, prot, flags, -1, 0);
	if (r < 0 && r > -4096)
		fail("mmap(%p, %zu, %d, 0x%x) = %s", hint, len, prot, flags, errname(r));
	return (unsigned char *)r;
}

static void fill(unsigned char *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 31 + seed);
}

static int same(const unsigned char *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (unsigned char)(i * 31 + seed))
			return 0;
	return 1;
}

static int zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

#define PRW (PROT_READ | PROT_WRITE)
#define PA (MAP_PRIVATE | MAP_ANONYMOUS)

int main(void)
{
	/* ---- brk ---- */
	current = "brk";
	{
		long cur = S1(SYS_brk, 0);
		CHECK(cur > 0, "brk(0) = %ld", cur);
		long top = S1(SYS_brk, cur + 1024 * 1024);
		expect_eq(top, cur + 1024 * 1024, "grow by 1 MiB");
		unsigned char *p = (unsigned char *)cur;
		CHECK(zero(p, 1024 * 1024), "new brk memory is not zero");
		fill(p, 1024 * 1024, 1);
		CHECK(same(p, 1024 * 1024, 1), "brk memory contents");
		expect_eq(S1(SYS_brk, cur + 512 * 1024), cur + 512 * 1024, "shrink to 512 KiB");
		CHECK(same(p, 512 * 1024, 1), "contents below the new break");
		expect_eq(S1(SYS_brk, cur), cur, "shrink to the start");
	}
	ok();

	/* ---- private anonymous ---- */
	current = "mmap private";
	{
		unsigned char *p = map(NULL, 16 * PG, PRW, PA);
		CHECK(((uintptr_t)p & (PG - 1)) == 0, "not page aligned");
		CHECK(zero(p, 16 * PG), "not zero-filled");
		fill(p, 16 * PG, 2);
		CHECK(same(p, 16 * PG, 2), "contents");
		/* unaligned length is rounded up */
		unsigned char *q = map(NULL, 100, PRW, PA);
		q[PG - 1] = 7;
		CHECK(q[PG - 1] == 7 && q[0] == 0, "length 100 gives a whole page");
		expect_eq(S2(SYS_munmap, q, 100), 0, "munmap length 100");
		expect_eq(S2(SYS_munmap, p, 16 * PG), 0, "munmap");
	}
	ok();

	current = "mmap shared";
	{
		unsigned char *p = map(NULL, 8 * PG, PRW, MAP_SHARED | MAP_ANONYMOUS);
		CHECK(zero(p, 8 * PG), "not zero-filled");
		fill(p, 8 * PG, 3);
		CHECK(same(p, 8 * PG, 3), "contents");
		/* mremap(old_size 0) makes a second mapping of the same shared pages. */
		unsigned char *alias = (unsigned char *)S5(SYS_mremap, p, 0, 8 * PG, MREMAP_MAYMOVE, 0);
		CHECK((long)alias > 0 || (long)alias < -4096, "mremap(old_size 0) = %s", errname((long)alias));
		CHECK(alias != p, "alias at the same address");
		CHECK(same(alias, 8 * PG, 3), "alias contents");
		alias[5] = 0xee;
		CHECK(p[5] == 0xee, "a write through the alias is not visible in the original");
		expect_eq(S2(SYS_munmap, alias, 8 * PG), 0, "munmap alias");
		expect_eq(S2(SYS_munmap, p, 8 * PG), 0, "munmap");
	}
	ok();

	current = "mmap hint";
	{
		/* Reserve a range, free it, and ask for it again as a hint. */
		unsigned char *r = map(NULL, 64 * PG, PROT_NONE, PA);
		expect_eq(S2(SYS_munmap, r, 64 * PG), 0, "munmap reservation");
		unsigned char *p = map(r + 16 * PG, 4 * PG, PRW, PA);
		CHECK(p == r + 16 * PG, "a free hint address was not used");
		/* A hint over an existing mapping is not an error: another address is chosen. */
		unsigned char *q = map(p, 4 * PG, PRW, PA);
		CHECK(q != p, "a hint over a used range returned the used range");
		p[0] = 1;
		CHECK(q[0] == 0, "the second mapping aliases the first");
		expect_eq(S2(SYS_munmap, q, 4 * PG), 0, "munmap q");
		expect_eq(S2(SYS_munmap, p, 4 * PG), 0, "munmap p");
	}
	ok();

	current = "MAP_FIXED";
	{
		unsigned char *p = map(NULL, 8 * PG, PRW, PA);
		fill(p, 8 * PG, 4);
		unsigned char *q = map(p + 2 * PG, 3 * PG, PRW, PA | MAP_FIXED);
		CHECK(q == p + 2 * PG, "MAP_FIXED did not use the address");
		CHECK(zero(q, 3 * PG), "MAP_FIXED over old contents is not zero");
		CHECK(same(p, 2 * PG, 4), "pages before the MAP_FIXED range changed");
		for (size_t i = 5 * PG; i < 8 * PG; i++)
			CHECK(p[i] == (unsigned char)(i * 31 + 4), "pages after the MAP_FIXED range changed");
		expect_err(sys6(SYS_mmap, (long)(p + 1), PG, PRW, PA | MAP_FIXED, -1, 0), EINVAL, "MAP_FIXED unaligned");
		expect_eq(S2(SYS_munmap, p, 8 * PG), 0, "munmap");
	}
	ok();

	current = "MAP_FIXED_NOREPLACE";
	{
		unsigned char *p = map(NULL, 4 * PG, PRW, PA);
		p[0] = 9;
		expect_err(sys6(SYS_mmap, (long)(p + PG), PG, PRW, PA | X_MAP_FIXED_NOREPLACE, -1, 0), EEXIST,
			   "over an existing mapping");
		expect_err(sys6(SYS_mmap, (long)(p - PG), 2 * PG, PRW, PA | X_MAP_FIXED_NOREPLACE, -1, 0), EEXIST,
			   "overlapping the start of a mapping");
		CHECK(p[0] == 9, "contents changed by a failed MAP_FIXED_NOREPLACE");
		expect_eq(S2(SYS_munmap, p + 2 * PG, 2 * PG), 0, "munmap the upper half");
		unsigned char *q = map(p + 2 * PG, 2 * PG, PRW, PA | X_MAP_FIXED_NOREPLACE);
		CHECK(q == p + 2 * PG, "MAP_FIXED_NOREPLACE into a free range did not use the address");
		expect_eq(S2(SYS_munmap, p, 4 * PG), 0, "munmap");
	}
	ok();

	current = "munmap split";
	{
		unsigned char *p = map(NULL, 10 * PG, PRW, PA);
		fill(p, 10 * PG, 5);
		expect_eq(S2(SYS_munmap, p + 3 * PG, 4 * PG), 0, "munmap the middle");
		CHECK(same(p, 3 * PG, 5), "the lower part lost its contents");
		for (size_t i = 7 * PG; i < 10 * PG; i++)
			CHECK(p[i] == (unsigned char)(i * 31 + 5), "the upper part lost its contents");
		/* The hole is really free: MAP_FIXED_NOREPLACE can use it. */
		unsigned char *q = map(p + 3 * PG, 4 * PG, PRW, PA | X_MAP_FIXED_NOREPLACE);
		CHECK(q == p + 3 * PG && zero(q, 4 * PG), "the hole is not free or not zero");
		expect_eq(S2(SYS_munmap, p, 10 * PG), 0, "munmap all");
		/* Unmapping a range with nothing mapped is not an error. */
		expect_eq(S2(SYS_munmap, p, 10 * PG), 0, "munmap an empty range");
	}
	ok();

	current = "mprotect";
	{
		unsigned char *p = map(NULL, 4 * PG, PRW, PA);
		fill(p, 4 * PG, 6);
		expect_eq(S3(SYS_mprotect, p + PG, 2 * PG, PROT_READ), 0, "PROT_READ on the middle");
		CHECK(same(p, 4 * PG, 6), "contents after PROT_READ");
		expect_eq(S3(SYS_mprotect, p + PG, 2 * PG, PRW), 0, "back to RW");
		p[PG] ^= 0xff;
		p[PG] ^= 0xff;
		CHECK(same(p, 4 * PG, 6), "contents after RW again");
		expect_eq(S3(SYS_mprotect, p, 4 * PG, PROT_NONE), 0, "PROT_NONE");
		expect_eq(S3(SYS_mprotect, p, 4 * PG, PRW), 0, "RW after PROT_NONE");
		CHECK(same(p, 4 * PG, 6), "contents after PROT_NONE and back");
		expect_err(S3(SYS_mprotect, p + 1, PG, PROT_READ), EINVAL, "unaligned address");
		expect_err(S3(SYS_mprotect, p, PG, 0x100), EINVAL, "invalid prot bits");
		expect_eq(S2(SYS_munmap, p, 4 * PG), 0, "munmap");
		expect_err(S3(SYS_mprotect, p, PG, PROT_READ), ENOMEM, "unmapped range");
	}
	ok();

	current = "mremap";
	{
		/* Grow in place: reserve room after the mapping first. */
		unsigned char *r = map(NULL, 16 * PG, PROT_NONE, PA);
		expect_eq(S2(SYS_munmap, r, 16 * PG), 0, "munmap reservation");
		unsigned char *p = map(r, 4 * PG, PRW, PA | X_MAP_FIXED_NOREPLACE);
		fill(p, 4 * PG, 7);
		unsigned char *g = (unsigned char *)S5(SYS_mremap, p, 4 * PG, 8 * PG, 0, 0);
		CHECK(g == p, "grow in place returned %p (%s)", (void *)g, errname((long)g));
		CHECK(same(g, 4 * PG, 7) && zero(g + 4 * PG, 4 * PG), "contents after growing in place");
		/* Shrink. */
		unsigned char *s = (unsigned char *)S5(SYS_mremap, g, 8 * PG, 2 * PG, 0, 0);
		CHECK(s == g, "shrink returned %p (%s)", (void *)s, errname((long)s));
		CHECK(same(s, 2 * PG, 7), "contents after shrinking");
		/* The released tail is free again. */
		unsigned char *t = map(s + 2 * PG, PG, PRW, PA | X_MAP_FIXED_NOREPLACE);
		CHECK(t == s + 2 * PG, "the shrunk tail is still mapped");
		/* Growing in place is impossible now (t is in the way): without
		 * MREMAP_MAYMOVE it fails, with it the mapping moves. */
		expect_err(S5(SYS_mremap, s, 2 * PG, 4 * PG, 0, 0), ENOMEM, "grow without MREMAP_MAYMOVE when blocked");
		unsigned char *m = (unsigned char *)S5(SYS_mremap, s, 2 * PG, 64 * PG, MREMAP_MAYMOVE, 0);
		CHECK((long)m > 0 || (long)m < -4096, "MREMAP_MAYMOVE = %s", errname((long)m));
		CHECK(m != s, "MREMAP_MAYMOVE did not move");
		CHECK(same(m, 2 * PG, 7) && zero(m + 2 * PG, 62 * PG), "contents after moving");
		/* The old range is gone. */
		unsigned char *o = map(s, 2 * PG, PRW, PA | X_MAP_FIXED_NOREPLACE);
		CHECK(o == s, "the old range is still mapped after the move");
		/* MREMAP_FIXED to a chosen address. */
		unsigned char *dst = map(NULL, 64 * PG, PROT_NONE, PA);
		unsigned char *f = (unsigned char *)sys6(SYS_mremap, (long)m, 64 * PG, 64 * PG,
							 MREMAP_MAYMOVE | X_MREMAP_FIXED, (long)dst, 0);
		CHECK(f == dst, "MREMAP_FIXED returned %p (%s)", (void *)f, errname((long)f));
		CHECK(same(f, 2 * PG, 7), "contents after MREMAP_FIXED");
		expect_err(S5(SYS_mremap, f + 1, PG, PG, 0, 0), EINVAL, "unaligned old address");
		expect_err(S5(SYS_mremap, f, PG, 0, 0, 0), EINVAL, "new size 0");
		expect_err(S5(SYS_mremap, f, PG, PG, 0x80, 0), EINVAL, "invalid flags");
		expect_eq(S2(SYS_munmap, f, 64 * PG), 0, "munmap f");
		expect_eq(S2(SYS_munmap, t, PG), 0, "munmap t");
		expect_eq(S2(SYS_munmap, o, 2 * PG), 0, "munmap o");
		expect_err(S5(SYS_mremap, f, PG, 2 * PG, MREMAP_MAYMOVE, 0), EFAULT, "unmapped old range");
	}
	ok();

	current = "madvise";
	{
		unsigned char *p = map(NULL, 8 * PG, PRW, PA);
		fill(p, 8 * PG, 8);
		expect_eq(S3(SYS_madvise, p + 2 * PG, 3 * PG, MADV_DONTNEED), 0, "MADV_DONTNEED");
		CHECK(same(p, 2 * PG, 8), "pages before the range changed");
		CHECK(zero(p + 2 * PG, 3 * PG), "private pages are not zero after MADV_DONTNEED");
		for (size_t i = 5 * PG; i < 8 * PG; i++)
			CHECK(p[i] == (unsigned char)(i * 31 + 8), "pages after the range changed");
		p[2 * PG] = 1;
		CHECK(p[2 * PG] == 1, "the range is not writable after MADV_DONTNEED");
		expect_err(S3(SYS_madvise, p + 1, PG, MADV_DONTNEED), EINVAL, "unaligned");
		expect_eq(S2(SYS_munmap, p, 8 * PG), 0, "munmap");
		/* Shared anonymous memory keeps its contents. */
		unsigned char *s = map(NULL, 2 * PG, PRW, MAP_SHARED | MAP_ANONYMOUS);
		fill(s, 2 * PG, 9);
		expect_eq(S3(SYS_madvise, s, 2 * PG, MADV_DONTNEED), 0, "MADV_DONTNEED shared");
		CHECK(same(s, 2 * PG, 9), "shared pages changed by MADV_DONTNEED");
		expect_eq(S2(SYS_munmap, s, 2 * PG), 0, "munmap shared");
	}
	ok();

	current = "errors";
	{
		expect_err(sys6(SYS_mmap, 0, PG, PRW, MAP_ANONYMOUS, -1, 0), EINVAL, "mmap without PRIVATE or SHARED");
		expect_err(sys6(SYS_mmap, 0, PG, PRW, MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS, -1, 0), EINVAL,
			   "anonymous mmap with MAP_SHARED_VALIDATE (PRIVATE|SHARED)");
		expect_err(sys6(SYS_mmap, 0, 0, PRW, PA, -1, 0), EINVAL, "mmap length 0");
		expect_err(sys6(SYS_mmap, 0, PG, PRW, PA, -1, 1), EINVAL, "mmap unaligned offset");
		expect_err(sys6(SYS_mmap, 0, -PG, PRW, PA, -1, 0), ENOMEM, "mmap length 2^64 - 4096");
		expect_err(sys6(SYS_mmap, 0, PG, PRW, MAP_PRIVATE, -1, 0), EBADF, "file mmap of fd -1");
		unsigned char *p = map(NULL, 2 * PG, PRW, PA);
		expect_err(S2(SYS_munmap, p + 1, PG), EINVAL, "munmap unaligned");
		expect_err(S2(SYS_munmap, p, 0), EINVAL, "munmap length 0");
		expect_err(S2(SYS_munmap, 0xffffffff80000000UL, PG), EINVAL, "munmap in the kernel half");
		expect_eq(S2(SYS_munmap, p, 2 * PG), 0, "munmap");
	}
	ok();

	out("all ok\n");
	return 0;
}
