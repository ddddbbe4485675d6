// SPDX-License-Identifier: GPL-2.0
/*
 * Populating a range that holds an unreadable page while other threads
 * change the range under the populate. __mm_populate() drops mmap_lock to
 * read a page and then looks the range up again; this drives that path
 * against every change a VMA can undergo meanwhile.
 *
 * The range is RACE_PAGES pages of the failing disk of faultin_util.h,
 * whose page 582 fails to read, mapped with the bad page in its middle.
 * For RACE_S seconds, threads populate it (mlock()/munlock(),
 * mmap(MAP_POPULATE), mmap(MAP_LOCKED)/munlock(), MADV_POPULATE_READ)
 * while others munmap() and map it again, mremap() it away and back,
 * mprotect() it PROT_NONE and back, MADV_DONTNEED it and fork(). Every
 * call must return (a thread still in a call JOIN_S seconds after the
 * stop is a hang), with 0 or an errno from the set documented for it:
 *
 *	mlock(), mlock2()	ENOMEM (a hole, or a page that cannot be
 *				faulted in), EAGAIN
 *	munlock()		ENOMEM
 *	mmap()			ENOMEM
 *	MADV_POPULATE_READ	EFAULT (the bad page), ENOMEM (a hole),
 *				EINVAL (PROT_NONE)
 *	MADV_DONTNEED		ENOMEM, EINVAL (a VM_LOCKED range)
 *	mprotect()		ENOMEM
 *	mremap()		EFAULT (the range is not one mapping), ENOMEM
 *	munmap()		(none)
 *	fork()			EAGAIN, ENOMEM
 *
 * Then, with the range mapped afresh, one mlock() across the bad page
 * must return too, with ENOMEM: the changes can pull a populate out of
 * its loop (the VMA it retries on went away), so without this a kernel
 * that loops may pass.
 *
 * The counts of calls and errnos are logged, and /proc/meminfo's Mlocked:
 * before and after: not checked, as an unpatched kernel too can leave a
 * few folios mlocked after these races with no bad page in the range.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "faultin_util.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif

#define SECTOR_SIZE		512
#define RACE_PAGES		32
#define RACE_S			10
/* A thread may be in a populate of the bad page when the race stops. */
#define JOIN_S			POPULATE_BOUND_S
#define MAX_ERRNO		134

enum op {
	OP_MLOCK, OP_MUNLOCK, OP_MMAP_POPULATE, OP_MMAP_LOCKED, OP_POPULATE_READ,
	OP_MUNMAP, OP_MMAP, OP_MREMAP, OP_MPROTECT, OP_DONTNEED, OP_FORK, NR_OPS
};

static const struct {
	const char *name;
	int allowed[4];		/* errnos, 0-terminated */
} ops[NR_OPS] = {
	[OP_MLOCK]		= { "mlock", { ENOMEM, EAGAIN } },
	[OP_MUNLOCK]		= { "munlock", { ENOMEM } },
	[OP_MMAP_POPULATE]	= { "mmap(MAP_POPULATE)", { ENOMEM } },
	[OP_MMAP_LOCKED]	= { "mmap(MAP_LOCKED)", { ENOMEM, EAGAIN } },
	[OP_POPULATE_READ]	= { "MADV_POPULATE_READ", { EFAULT, ENOMEM, EINVAL } },
	[OP_MUNMAP]		= { "munmap", { 0 } },
	[OP_MMAP]		= { "mmap", { ENOMEM } },
	[OP_MREMAP]		= { "mremap", { EFAULT, ENOMEM } },
	[OP_MPROTECT]		= { "mprotect", { ENOMEM } },
	[OP_DONTNEED]		= { "MADV_DONTNEED", { ENOMEM, EINVAL } },
	[OP_FORK]		= { "fork", { EAGAIN, ENOMEM } },
};

struct race {
	char *base;		/* where the range lives */
	char *spare;		/* where mremap() moves it for a while */
	size_t len;
	off_t off;
	int fd;
	int map_flags;
	int stop;		/* __atomic */
	unsigned long calls[NR_OPS];
	unsigned long errs[NR_OPS][MAX_ERRNO + 1];
	int in_call[NR_OPS];	/* __atomic: a thread is in that call */
	long final_ret;		/* the mlock() after the race, and its errno */
	int final_errno;
};

static void begin(struct race *r, enum op which)
{
	__atomic_store_n(&r->in_call[which], 1, __ATOMIC_RELAXED);
}

/* Count a call that returned @ret (-1: failed with errno). */
static void done(struct race *r, enum op which, long ret)
{
	int e = ret == -1 ? errno : 0;

	__atomic_add_fetch(&r->calls[which], 1, __ATOMIC_RELAXED);
	if (e)
		__atomic_add_fetch(&r->errs[which][e > MAX_ERRNO ? MAX_ERRNO : e], 1,
				   __ATOMIC_RELAXED);
	__atomic_store_n(&r->in_call[which], 0, __ATOMIC_RELAXED);
}

static int stopped(struct race *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_RELAXED);
}

/* The range mapped again at its place (after munmap or mremap). */
static long map_range(struct race *r, int extra)
{
	void *p = mmap(r->base, r->len, PROT_READ | PROT_WRITE,
		       r->map_flags | MAP_FIXED | extra, r->fd, r->off);

	return p == MAP_FAILED ? -1 : 0;
}

static void *mlocker(void *arg)
{
	struct race *r = arg;

	while (!stopped(r)) {
		begin(r, OP_MLOCK);
		done(r, OP_MLOCK, mlock(r->base, r->len));
		begin(r, OP_MUNLOCK);
		done(r, OP_MUNLOCK, munlock(r->base, r->len));
	}
	return NULL;
}

static void *map_populater(void *arg)
{
	struct race *r = arg;

	while (!stopped(r)) {
		begin(r, OP_MMAP_POPULATE);
		done(r, OP_MMAP_POPULATE, map_range(r, MAP_POPULATE));
		begin(r, OP_MMAP_LOCKED);
		done(r, OP_MMAP_LOCKED, map_range(r, MAP_LOCKED));
		begin(r, OP_MUNLOCK);
		done(r, OP_MUNLOCK, munlock(r->base, r->len));
	}
	return NULL;
}

static void *madv_populater(void *arg)
{
	struct race *r = arg;

	while (!stopped(r)) {
		begin(r, OP_POPULATE_READ);
		done(r, OP_POPULATE_READ, madvise(r->base, r->len, MADV_POPULATE_READ));
	}
	return NULL;
}

static void *unmapper(void *arg)
{
	struct race *r = arg;

	while (!stopped(r)) {
		begin(r, OP_MUNMAP);
		done(r, OP_MUNMAP, munmap(r->base + r->len / 2, r->len / 2));
		usleep(1000);
		begin(r, OP_MMAP);
		done(r, OP_MMAP, map_range(r, 0));
	}
	return NULL;
}

static void *remapper(void *arg)
{
	struct race *r = arg;
	void *p;

	while (!stopped(r)) {
		begin(r, OP_MREMAP);
		p = mremap(r->base, r->len, r->len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   r->spare);
		done(r, OP_MREMAP, p == MAP_FAILED ? -1 : 0);
		usleep(1000);
		if (p == MAP_FAILED)
			continue;
		begin(r, OP_MREMAP);
		p = mremap(r->spare, r->len, r->len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   r->base);
		done(r, OP_MREMAP, p == MAP_FAILED ? -1 : 0);
		if (p == MAP_FAILED) {
			begin(r, OP_MMAP);
			done(r, OP_MMAP, map_range(r, 0));
		}
	}
	return NULL;
}

static void *protector(void *arg)
{
	struct race *r = arg;

	while (!stopped(r)) {
		begin(r, OP_MPROTECT);
		done(r, OP_MPROTECT, mprotect(r->base, r->len, PROT_NONE));
		usleep(1000);
		begin(r, OP_MPROTECT);
		done(r, OP_MPROTECT, mprotect(r->base, r->len, PROT_READ | PROT_WRITE));
	}
	return NULL;
}

static void *dontneeder(void *arg)
{
	struct race *r = arg;

	while (!stopped(r)) {
		begin(r, OP_DONTNEED);
		done(r, OP_DONTNEED, madvise(r->base, r->len, MADV_DONTNEED));
		usleep(1000);
	}
	return NULL;
}

static void *forker(void *arg)
{
	struct race *r = arg;
	pid_t pid;

	while (!stopped(r)) {
		begin(r, OP_FORK);
		pid = fork();
		if (!pid)
			_exit(0);
		done(r, OP_FORK, pid < 0 ? -1 : 0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		usleep(5000);
	}
	return NULL;
}

/* After the race: one mlock() of the whole range, mapped afresh. */
static void *settled_mlocker(void *arg)
{
	struct race *r = arg;

	r->final_ret = mlock(r->base, r->len);
	r->final_errno = errno;
	munlock(r->base, r->len);
	return NULL;
}

static void *(*const threads[])(void *) = {
	mlocker, map_populater, madv_populater,
	unmapper, remapper, protector, dontneeder, forker,
};

#define NR_THREADS ARRAY_SIZE(threads)

static const char *errname(int e)
{
	static char num[16];

	switch (e) {
	case ENOMEM: return "ENOMEM";
	case EAGAIN: return "EAGAIN";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	}
	snprintf(num, sizeof(num), "errno %d", e);
	return num;
}

FIXTURE(race)
{
	struct race r;
	size_t psize;
	struct eio_disk disk;
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_VARIANT(race)
{
	int map_flags;
};

FIXTURE_VARIANT_ADD(race, shared)
{
	.map_flags = MAP_SHARED,
};

FIXTURE_VARIANT_ADD(race, private)
{
	.map_flags = MAP_PRIVATE,
};

FIXTURE_SETUP(race)
{
	unsigned long bad_page;
	char *area;

	self->r.fd = -1;
	self->r.base = NULL;
	self->disk.made = 0;
	self->psize = getpagesize();
	if (eio_disk_get(&self->disk, self->skip, sizeof(self->skip)))
		return;
	self->r.fd = open(self->disk.dev, O_RDWR);
	if (self->r.fd < 0)
		SETUP_SKIP(return, "%s: %s (the test needs root)", self->disk.dev,
			   strerror(errno));
	ASSERT_EQ(posix_fadvise(self->r.fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	bad_page = (unsigned long)EIO_SECTOR * SECTOR_SIZE / self->psize;
	self->r.len = RACE_PAGES * self->psize;
	self->r.off = (bad_page - RACE_PAGES / 2) * self->psize;
	self->r.map_flags = variant->map_flags;
	/* One reservation holds the range and its spare place. */
	area = mmap(NULL, 2 * self->r.len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(area, MAP_FAILED);
	self->r.base = area;
	self->r.spare = area + self->r.len;
	ASSERT_EQ(map_range(&self->r, 0), 0);
}

FIXTURE_TEARDOWN(race)
{
	if (self->r.base)
		munmap(self->r.base, 2 * self->r.len);
	if (self->r.fd >= 0)
		close(self->r.fd);
	eio_disk_put(&self->disk);
}

/* Two joins of JOIN_S each after the race: the threads, then one mlock(). */
TEST_F_TIMEOUT(race, populate_vs_vma_changes, RACE_S + HANG_S(2 * JOIN_S))
{
	struct race *r = &self->r;
	pthread_t tid[NR_THREADS];
	long mlocked0, mlocked1;
	unsigned int i, j;
	int e, stuck = 0, wrong = 0;
	struct timespec ts;
	char errs[256];
	double t0;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	mlocked0 = meminfo_kb("Mlocked");
	for (i = 0; i < NR_THREADS; i++)
		ASSERT_EQ(pthread_create(&tid[i], NULL, threads[i], r), 0);
	sleep(RACE_S);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELAXED);
	t0 = now_s();
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += JOIN_S;
	for (i = 0; i < NR_THREADS; i++)
		if (pthread_timedjoin_np(tid[i], NULL, &ts))
			stuck++;
	/*
	 * However the race went, end with the range whole and unlocked and
	 * one mlock() across its bad page: it must return too, failing.
	 */
	if (!stuck) {
		ASSERT_EQ(map_range(r, 0), 0);
		ASSERT_EQ(pthread_create(&tid[0], NULL, settled_mlocker, r), 0);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += JOIN_S;
		if (pthread_timedjoin_np(tid[0], NULL, &ts)) {
			TH_LOG("mlock() of the range mapped afresh: still in the call %d s later",
			       JOIN_S);
			for (;;)	/* the harness's timeout reports the hang */
				pause();
		}
	}
	for (i = 0; i < NR_OPS; i++) {
		int n = 0;

		errs[0] = '\0';
		for (e = 1; e <= MAX_ERRNO; e++) {
			if (!r->errs[i][e])
				continue;
			if (n < (int)sizeof(errs))
				n += snprintf(errs + n, sizeof(errs) - n, " %s %lu",
					      errname(e), r->errs[i][e]);
			for (j = 0; ops[i].allowed[j] && ops[i].allowed[j] != e; j++)
				;
			if (!ops[i].allowed[j]) {
				TH_LOG("%s: errno %d (%s) is not documented for it",
				       ops[i].name, e, strerror(e));
				wrong++;
			}
		}
		TH_LOG("%s: %lu calls%s%s%s", ops[i].name, r->calls[i],
		       errs[0] ? " (errors:" : "", errs, errs[0] ? ")" : "");
		if (__atomic_load_n(&r->in_call[i], __ATOMIC_RELAXED) && stuck)
			TH_LOG("%s: still in the call %.0f s after the stop",
			       ops[i].name, now_s() - t0);
	}
	if (stuck) {
		TH_LOG("%d thread(s) did not return within %d s of the stop", stuck, JOIN_S);
		for (;;)	/* the harness's timeout reports the hang */
			pause();
	}
	for (i = 0; i < NR_OPS; i++)
		EXPECT_GT(r->calls[i], 0);
	EXPECT_EQ(wrong, 0);
	TH_LOG("mlock() of the range mapped afresh: %ld (%s)", r->final_ret,
	       r->final_ret ? strerror(r->final_errno) : "no error");
	EXPECT_EQ(r->final_ret, -1);
	EXPECT_EQ(r->final_errno, ENOMEM);
	munmap(r->base, 2 * r->len);
	r->base = NULL;
	mlocked1 = meminfo_kb("Mlocked");
	TH_LOG("Mlocked: %ld kB before, %ld kB after the range was unmapped",
	       mlocked0, mlocked1);
}

TEST_HARNESS_MAIN
