// SPDX-License-Identifier: GPL-2.0
/*
 * Time populating and mlocking 256 MiB of anonymous and of file-backed
 * (tmpfs) memory: the paths __mm_populate() serves. Prints one line per
 * measurement, "bench <case> <seconds>", for the harness to compare
 * kernels; it judges nothing itself.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SIZE	(256UL << 20)

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

/* mmap(MAP_POPULATE), then munmap; then mmap + mlock, then munmap. */
static void one_round(const char *name, int fd, int flags)
{
	double t0, t1;
	char *p;

	t0 = now_s();
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, flags | MAP_POPULATE, fd, 0);
	t1 = now_s();
	if (p == MAP_FAILED)
		die("mmap(MAP_POPULATE)");
	printf("bench %s_map_populate %.6f\n", name, t1 - t0);
	munmap(p, SIZE);

	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	t0 = now_s();
	if (mlock(p, SIZE))
		die("mlock");
	t1 = now_s();
	printf("bench %s_mlock %.6f\n", name, t1 - t0);
	munlock(p, SIZE);
	munmap(p, SIZE);
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	int fd, i;

	fd = open("/tmp/populate_bench", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open");
	if (ftruncate(fd, SIZE))
		die("ftruncate");
	/* Warm up once: first-touch costs are not what we compare. */
	one_round("warmup_anon", -1, MAP_PRIVATE | MAP_ANONYMOUS);
	one_round("warmup_file", fd, MAP_SHARED);
	for (i = 0; i < reps; i++) {
		one_round("anon", -1, MAP_PRIVATE | MAP_ANONYMOUS);
		one_round("file", fd, MAP_SHARED);
	}
	close(fd);
	unlink("/tmp/populate_bench");
	fflush(stdout);
	return 0;
}
