// SPDX-License-Identifier: GPL-2.0
/*
 * Time populating and mlocking 256 MiB of anonymous and of file-backed
 * (tmpfs) memory: the paths __mm_populate() serves (MAP_POPULATE,
 * mlock()) and faultin_page() serves for madvise (MADV_POPULATE_READ,
 * MADV_POPULATE_WRITE); and UFFDIO_MOVE of anonymous memory (a whole
 * 2 MiB THP, and 1 MiB out of the middle of one), where the kernel has
 * it. Prints one line per measurement, "bench <case> <seconds>", for the
 * harness to compare kernels; it judges nothing itself.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SIZE	(256UL << 20)
#define MOVE	(2UL << 20)

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#define MADV_POPULATE_WRITE	23
#endif

/* The host's headers may predate UFFDIO_MOVE (6.8). */
#ifndef UFFDIO_MOVE
#define UFFD_FEATURE_MOVE	0x10000	/* 1 << 16 */
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
	__u64 mode;
	__s64 move;
};

#define UFFDIO_MOVE		_IOWR(UFFDIO, 0x05, struct uffdio_move)
#endif

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void time_madvise(const char *name, const char *what, int fd, int flags,
			 int advice)
{
	double t0, t1;
	char *p;

	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	t0 = now_s();
	if (madvise(p, SIZE, advice))
		die(what);
	t1 = now_s();
	printf("bench %s_%s %.9f\n", name, what, t1 - t0);
	munmap(p, SIZE);
}

/*
 * mmap(MAP_POPULATE), then munmap; then mmap + mlock, then munmap; then
 * MADV_POPULATE_READ and MADV_POPULATE_WRITE, each on a fresh mapping.
 */
static void one_round(const char *name, int fd, int flags)
{
	double t0, t1;
	char *p;

	t0 = now_s();
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, flags | MAP_POPULATE, fd, 0);
	t1 = now_s();
	if (p == MAP_FAILED)
		die("mmap(MAP_POPULATE)");
	printf("bench %s_map_populate %.9f\n", name, t1 - t0);
	munmap(p, SIZE);

	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	t0 = now_s();
	if (mlock(p, SIZE))
		die("mlock");
	t1 = now_s();
	printf("bench %s_mlock %.9f\n", name, t1 - t0);
	munlock(p, SIZE);
	munmap(p, SIZE);

	time_madvise(name, "madv_populate_read", fd, flags, MADV_POPULATE_READ);
	time_madvise(name, "madv_populate_write", fd, flags, MADV_POPULATE_WRITE);
}

/* A 2 MiB-aligned 2 MiB range, THP if the kernel gives one. */
static char *aligned_2m(void)
{
	char *p = mmap(NULL, 2 * MOVE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		die("mmap");
	a = (char *)(((uintptr_t)p + MOVE - 1) & ~(MOVE - 1));
	if (a > p)
		munmap(p, a - p);
	munmap(a + MOVE, p + MOVE - a);
	madvise(a, MOVE, MADV_HUGEPAGE);
	return a;
}

/*
 * UFFDIO_MOVE of written anonymous memory into a registered hole: at
 * offset 0, all 2 MiB (a whole THP moves as one PMD); at MOVE / 4, 1 MiB
 * (the THP's PMD and folio are split and its pages moved one by one).
 */
static void time_uffd_move(int uffd, const char *name, size_t off, size_t len)
{
	struct uffdio_register reg = { 0 };
	struct uffdio_move mv = { 0 };
	char *src = aligned_2m(), *dst = aligned_2m();
	double t0, t1;
	size_t i;

	for (i = 0; i < MOVE; i += 4096)
		src[i] = 1;
	reg.range.start = (uintptr_t)dst;
	reg.range.len = MOVE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	mv.dst = (uintptr_t)dst + off;
	mv.src = (uintptr_t)src + off;
	mv.len = len;
	t0 = now_s();
	if (ioctl(uffd, UFFDIO_MOVE, &mv) || mv.move != (__s64)len)
		die("UFFDIO_MOVE");
	t1 = now_s();
	printf("bench %s %.9f\n", name, t1 - t0);
	munmap(src, MOVE);
	munmap(dst, MOVE);
}

/* A userfaultfd with UFFDIO_MOVE, or -1 if this kernel has none. */
static int move_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_MOVE };
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC);

	if (uffd < 0)
		return -1;
	if (ioctl(uffd, UFFDIO_API, &api)) {
		close(uffd);
		return -1;
	}
	return uffd;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	int fd, i, uffd;

	fd = open("/tmp/populate_bench", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open");
	if (ftruncate(fd, SIZE))
		die("ftruncate");
	/* Warm up once: first-touch costs are not what we compare. */
	one_round("warmup_anon", -1, MAP_PRIVATE | MAP_ANONYMOUS);
	one_round("warmup_file", fd, MAP_SHARED);
	uffd = move_uffd();
	if (uffd >= 0)
		time_uffd_move(uffd, "warmup_uffd_move", 0, MOVE);
	for (i = 0; i < reps; i++) {
		one_round("anon", -1, MAP_PRIVATE | MAP_ANONYMOUS);
		one_round("file", fd, MAP_SHARED);
		if (uffd >= 0) {
			time_uffd_move(uffd, "anon_uffd_move_2m", 0, MOVE);
			time_uffd_move(uffd, "anon_uffd_move_1m_of_thp", MOVE / 4, MOVE / 2);
		}
	}
	if (uffd >= 0)
		close(uffd);
	close(fd);
	unlink("/tmp/populate_bench");
	fflush(stdout);
	return 0;
}
