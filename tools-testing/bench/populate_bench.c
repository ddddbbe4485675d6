// SPDX-License-Identifier: GPL-2.0
/*
 * Time populating and mlocking 256 MiB of anonymous and of file-backed
 * (tmpfs) memory: the paths __mm_populate() serves (MAP_POPULATE,
 * mlock()) and faultin_page() serves for madvise (MADV_POPULATE_READ,
 * MADV_POPULATE_WRITE); and UFFDIO_MOVE of anonymous memory (a whole
 * 2 MiB THP, and 1 MiB out of the middle of one, 32 times each), where
 * the kernel has it. Prints one line per measurement, "bench <case>
 * <seconds> <cpu seconds>": the time on CLOCK_MONOTONIC, and the CPU
 * time of this thread (CLOCK_THREAD_CPUTIME_ID), which leaves out what
 * other tasks (kworkers, RCU, vmstat updates) ran meanwhile. The harness
 * compares kernels; this judges nothing itself.
 *
 * With a second argument "eio", also mlock() of a mapping of the
 * scsi_debug disk (opts=2) across its unreadable page, timed until it
 * fails with ENOMEM: the harness asks only kernels that return from it.
 *
 * Usage: populate_bench [ROUNDS (default 5)] [eio]
 */
#define _GNU_SOURCE
#include <errno.h>
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

#include "../selftests/mm/faultin_util.h"

#define SIZE	(256UL << 20)
#define MOVE	(2UL << 20)
#define MOVES	32
/* populate_eio's disk: sector 0x1234 (page 582) fails to read. */
#define EIO_PAGES	598

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#define MADV_POPULATE_WRITE	23
#endif

static void die(const char *what)
{
	perror(what);
	exit(1);
}

struct stamp {
	double wall, cpu;
};

static struct stamp stamp(void)
{
	struct timespec ts;
	struct stamp s;

	s.wall = now_s();
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	s.cpu = ts.tv_sec + ts.tv_nsec / 1e9;
	return s;
}

static void report(const char *name, const char *what, struct stamp t0)
{
	struct stamp t1 = stamp();

	printf("bench %s%s%s %.9f %.9f\n", name, *what ? "_" : "", what,
	       t1.wall - t0.wall, t1.cpu - t0.cpu);
}

static void time_madvise(const char *name, const char *what, int fd, int flags,
			 int advice)
{
	struct stamp t0;
	char *p;

	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	t0 = stamp();
	if (madvise(p, SIZE, advice))
		die(what);
	report(name, what, t0);
	munmap(p, SIZE);
}

/*
 * mmap(MAP_POPULATE), then munmap; then mmap + mlock, then munmap; then
 * MADV_POPULATE_READ and MADV_POPULATE_WRITE, each on a fresh mapping.
 */
static void one_round(const char *name, int fd, int flags)
{
	struct stamp t0;
	char *p;

	t0 = stamp();
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, flags | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap(MAP_POPULATE)");
	report(name, "map_populate", t0);
	munmap(p, SIZE);

	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	t0 = stamp();
	if (mlock(p, SIZE))
		die("mlock");
	report(name, "mlock", t0);
	munlock(p, SIZE);
	munmap(p, SIZE);

	time_madvise(name, "madv_populate_read", fd, flags, MADV_POPULATE_READ);
	time_madvise(name, "madv_populate_write", fd, flags, MADV_POPULATE_WRITE);
}

/*
 * mlock() of a MAP_SHARED mapping of the scsi_debug disk's first
 * EIO_PAGES pages, the unreadable one among them: the time until it fails.
 * After the first call the pages before it are in the page cache, so this
 * is mostly the failing read and what the kernel does around it.
 */
static void time_mlock_to_error(const char *name, int fd)
{
	size_t len = EIO_PAGES * (size_t)sysconf(_SC_PAGESIZE);
	struct stamp t0;
	char *p;
	int ret;

	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap of the scsi_debug disk");
	t0 = stamp();
	ret = mlock(p, len);
	if (ret == 0 || errno != ENOMEM) {
		fprintf(stderr, "mlock across the unreadable page: %d (%s), want ENOMEM\n",
			ret, ret ? strerror(errno) : "success");
		exit(1);
	}
	report(name, "", t0);
	munlock(p, len);
	munmap(p, len);
}

static int open_eio_disk(void)
{
	char dev[300];
	int fd;

	if (find_scsi_debug_disk(dev, sizeof(dev))) {
		fprintf(stderr, "eio: no scsi_debug disk (boot with scsi_debug.opts=2)\n");
		exit(1);
	}
	fd = open(dev, O_RDONLY);
	if (fd < 0)
		die(dev);
	return fd;
}

/*
 * Built against the base's own uapi headers: a base before UFFDIO_MOVE
 * (6.8) has none of it, and its kernel could not do it either.
 */
#ifdef UFFDIO_MOVE
/* A 2 MiB-aligned range of @len bytes, THPs if the kernel gives them. */
static char *aligned_2m(size_t len)
{
	char *p = mmap(NULL, len + MOVE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		die("mmap");
	a = (char *)(((uintptr_t)p + MOVE - 1) & ~(MOVE - 1));
	if (a > p)
		munmap(p, a - p);
	munmap(a + len, p + MOVE - a);
	madvise(a, len, MADV_HUGEPAGE);
	return a;
}

/*
 * UFFDIO_MOVE of written anonymous memory into a registered hole, once
 * in each of MOVES THPs, timed together (one move takes a few thousand
 * instructions: too few to compare alone): at offset 0, all 2 MiB (a
 * whole THP moves as one PMD); at MOVE / 4, 1 MiB (the THP's PMD and
 * folio are split and its pages moved one by one).
 */
static void time_uffd_move(int uffd, const char *name, size_t off, size_t len)
{
	struct uffdio_register reg = { 0 };
	char *src = aligned_2m(MOVES * MOVE), *dst = aligned_2m(MOVES * MOVE);
	struct uffdio_move mv = { 0 };
	struct stamp t0;
	size_t i;

	for (i = 0; i < MOVES * MOVE; i += 4096)
		src[i] = 1;
	reg.range.start = (uintptr_t)dst;
	reg.range.len = MOVES * MOVE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	t0 = stamp();
	for (i = 0; i < MOVES; i++) {
		mv.dst = (uintptr_t)dst + i * MOVE + off;
		mv.src = (uintptr_t)src + i * MOVE + off;
		mv.len = len;
		mv.move = 0;
		if (ioctl(uffd, UFFDIO_MOVE, &mv) || mv.move != (__s64)len)
			die("UFFDIO_MOVE");
	}
	report(name, "", t0);
	munmap(src, MOVES * MOVE);
	munmap(dst, MOVES * MOVE);
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
#else
static int move_uffd(void)
{
	return -1;
}

static void time_uffd_move(int uffd, const char *name, size_t off, size_t len)
{
}
#endif

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	int eio = argc > 2 && !strcmp(argv[2], "eio");
	int fd, i, uffd, efd = -1;

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
	if (eio) {
		efd = open_eio_disk();
		time_mlock_to_error("warmup_mlock_to_error", efd);
	}
	for (i = 0; i < reps; i++) {
		one_round("anon", -1, MAP_PRIVATE | MAP_ANONYMOUS);
		one_round("file", fd, MAP_SHARED);
		if (uffd >= 0) {
			time_uffd_move(uffd, "anon_uffd_move_2m_x32", 0, MOVE);
			time_uffd_move(uffd, "anon_uffd_move_1m_of_thp_x32", MOVE / 4, MOVE / 2);
		}
		if (efd >= 0)
			time_mlock_to_error("file_mlock_to_error", efd);
	}
	if (efd >= 0)
		close(efd);
	if (uffd >= 0)
		close(uffd);
	close(fd);
	unlink("/tmp/populate_bench");
	fflush(stdout);
	return 0;
}
