// SPDX-License-Identifier: GPL-2.0
/*
 * UFFDIO_MOVE of a page that sits in a large anonymous folio must split
 * the folio first. When something else holds a reference to the folio, a
 * pipe buffer from vmsplice() or a long-term pin such as an io_uring
 * fixed buffer, the split cannot succeed, and the ioctl must then return:
 * either the page moved, or -1 with EBUSY (what UFFDIO_MOVE reports for
 * pages it may not move), within MOVE_BOUND_S seconds. It must not retry
 * the split forever. Without such a reference the move must succeed.
 *
 * The folios: a PMD-mapped THP (MADV_HUGEPAGE) and, where the kernel has
 * multi-size THP, a 64 KiB folio. The page moved is the folio's second
 * one, not the referenced first one: the folio as a whole is what cannot
 * be split.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/io_uring.h>
#include <linux/userfaultfd.h>

#include "../kselftest_harness.h"
#include "faultin_util.h"

/* Older UAPI headers (the test also builds against 6.1's). */
#ifndef UFFDIO_MOVE
#define UFFD_FEATURE_MOVE	0x10000
#define _UFFDIO_MOVE		(0x05)
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
	__u64 mode;
	__s64 move;
};

#define UFFDIO_MOVE		_IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif

#define MOVE_TIMEOUT_S	HANG_S(MOVE_BOUND_S)
#define KPF_THP		22
#define MTHP_64K	"/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled"

enum ref { REF_NONE, REF_PIPE, REF_PIN };

/* 1 if @addr is in a large anonymous folio, 0 if not, -1 if unknown. */
static int in_large_folio(void *addr, size_t psize)
{
	uint64_t ent, flags;
	int fd, ret = -1;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	if (pread(fd, &ent, sizeof(ent), (uintptr_t)addr / psize * sizeof(ent)) !=
	    sizeof(ent) || !(ent & (1ULL << 63)) || !(ent & ((1ULL << 55) - 1))) {
		close(fd);
		return -1;	/* not present, or no PFN without root */
	}
	close(fd);
	fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0)
		return -1;
	if (pread(fd, &flags, sizeof(flags),
		  (ent & ((1ULL << 55) - 1)) * sizeof(flags)) == sizeof(flags))
		ret = !!(flags & (1ULL << KPF_THP));
	close(fd);
	return ret;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

/* The selected mode of a THP 'enabled' file: "always", "madvise", ... */
static int read_mode(const char *path, char *mode, size_t len)
{
	char buf[128], *l, *r;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r)
		return -1;
	*r = 0;
	snprintf(mode, len, "%s", l + 1);
	return 0;
}

FIXTURE(move)
{
	size_t psize;
	size_t fsize;		/* the folio */
	char *map;		/* what was mapped, to align in */
	size_t maplen;
	char *src;		/* the folio, naturally aligned */
	char *dst;
	int uffd;
	int pipefd[2];
	int ring;
	char mthp_old[32];	/* the 64K setting to put back */
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_VARIANT(move)
{
	size_t folio;
	enum ref ref;
};

FIXTURE_VARIANT_ADD(move, thp_unreferenced) { .folio = 2UL << 20, .ref = REF_NONE };
FIXTURE_VARIANT_ADD(move, thp_vmspliced) { .folio = 2UL << 20, .ref = REF_PIPE };
FIXTURE_VARIANT_ADD(move, thp_pinned) { .folio = 2UL << 20, .ref = REF_PIN };
FIXTURE_VARIANT_ADD(move, mthp64k_unreferenced) { .folio = 64UL << 10, .ref = REF_NONE };
FIXTURE_VARIANT_ADD(move, mthp64k_vmspliced) { .folio = 64UL << 10, .ref = REF_PIPE };
FIXTURE_VARIANT_ADD(move, mthp64k_pinned) { .folio = 64UL << 10, .ref = REF_PIN };

static void take_reference(struct __test_metadata *_metadata, enum ref ref,
			   FIXTURE_DATA(move) *self)
{
	struct iovec iov = { .iov_base = self->src, .iov_len = self->psize };
	struct io_uring_params p = { 0 };

	if (ref == REF_PIPE) {
		ASSERT_EQ(pipe(self->pipefd), 0);
		ASSERT_EQ(vmsplice(self->pipefd[1], &iov, 1, 0), (ssize_t)self->psize);
	} else if (ref == REF_PIN) {
		self->ring = syscall(__NR_io_uring_setup, 4, &p);
		if (self->ring < 0)
			SETUP_SKIP(return, "io_uring_setup: %s (CONFIG_IO_URING)",
				   strerror(errno));
		ASSERT_EQ(syscall(__NR_io_uring_register, self->ring,
				  IORING_REGISTER_BUFFERS, &iov, 1), 0);
	}
}

FIXTURE_SETUP(move)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_MOVE };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	char mode[32];
	int large;

	self->psize = getpagesize();
	self->fsize = variant->folio;
	self->map = MAP_FAILED;
	self->dst = MAP_FAILED;
	self->uffd = -1;
	self->ring = -1;
	self->pipefd[0] = -1;
	self->pipefd[1] = -1;
	self->mthp_old[0] = 0;

	if (self->fsize == 2UL << 20) {
		if (read_mode("/sys/kernel/mm/transparent_hugepage/enabled",
			      mode, sizeof(mode)) || !strcmp(mode, "never"))
			SETUP_SKIP(return, "THP is not enabled (CONFIG_TRANSPARENT_HUGEPAGE)");
	} else {
		if (read_mode(MTHP_64K, self->mthp_old, sizeof(self->mthp_old)))
			SETUP_SKIP(return, "no 64 KiB multi-size THP in this kernel");
		if (write_str(MTHP_64K, "always")) {
			self->mthp_old[0] = 0;
			SETUP_SKIP(return, "cannot enable 64 KiB THP: %s", strerror(errno));
		}
	}

	self->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (self->uffd < 0)
		SETUP_SKIP(return, "userfaultfd: %s (CONFIG_USERFAULTFD)", strerror(errno));
	if (ioctl(self->uffd, UFFDIO_API, &api) || !(api.features & UFFD_FEATURE_MOVE))
		SETUP_SKIP(return, "kernel lacks UFFDIO_MOVE");

	/* A naturally aligned folio-sized source inside a larger mapping. */
	self->maplen = 2 * self->fsize;
	self->map = mmap(NULL, self->maplen, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->map, MAP_FAILED);
	self->src = (char *)(((uintptr_t)self->map + self->fsize - 1) &
			     ~(uintptr_t)(self->fsize - 1));
	if (self->fsize == 2UL << 20)
		ASSERT_EQ(madvise(self->src, self->fsize, MADV_HUGEPAGE), 0);
	memset(self->src, 0x5a, self->fsize);
	memset(self->src + self->psize, 0xa5, self->psize);
	large = in_large_folio(self->src + self->psize, self->psize);
	if (large < 0)
		SETUP_SKIP(return, "cannot tell the folio size (/proc/kpageflags needs root)");
	if (!large)
		SETUP_SKIP(return, "the kernel gave no %zu KiB folio", self->fsize >> 10);

	self->dst = mmap(NULL, self->psize, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->dst, MAP_FAILED);
	reg.range.start = (uintptr_t)self->dst;
	reg.range.len = self->psize;
	ASSERT_EQ(ioctl(self->uffd, UFFDIO_REGISTER, &reg), 0);

	take_reference(_metadata, variant->ref, self);
}

FIXTURE_TEARDOWN(move)
{
	if (self->ring >= 0)
		close(self->ring);
	if (self->pipefd[0] >= 0)
		close(self->pipefd[0]);
	if (self->pipefd[1] >= 0)
		close(self->pipefd[1]);
	if (self->uffd >= 0)
		close(self->uffd);
	if (self->dst != MAP_FAILED)
		munmap(self->dst, self->psize);
	if (self->map != MAP_FAILED)
		munmap(self->map, self->maplen);
	if (self->mthp_old[0])
		write_str(MTHP_64K, self->mthp_old);
}

TEST_F_TIMEOUT(move, second_page, MOVE_TIMEOUT_S)
{
	struct uffdio_move mv = { 0 };
	double t0, dt;
	int ret, err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	mv.dst = (uintptr_t)self->dst;
	mv.src = (uintptr_t)(self->src + self->psize);
	mv.len = self->psize;
	t0 = now_s();
	ret = ioctl(self->uffd, UFFDIO_MOVE, &mv);
	err = errno;
	dt = now_s() - t0;
	TH_LOG("move of page 1 of a %zu KiB folio: ret %d errno %d moved %lld in %.2f s",
	       self->fsize >> 10, ret, ret ? err : 0, (long long)mv.move, dt);
	ASSERT_LT(dt, MOVE_BOUND_S);
	if (variant->ref == REF_NONE || ret == 0) {
		/* Moved: the page is at the destination, a hole at the source. */
		ASSERT_EQ(ret, 0);
		ASSERT_EQ(mv.move, (__s64)self->psize);
		ASSERT_EQ(self->dst[0], (char)0xa5);
		ASSERT_EQ(self->dst[self->psize - 1], (char)0xa5);
		ASSERT_EQ(self->src[self->psize], 0);
	} else {
		/* Refused: EBUSY, and nothing changed. */
		ASSERT_EQ(err, EBUSY);
		ASSERT_EQ(self->src[self->psize], (char)0xa5);
		ASSERT_EQ(self->src[0], 0x5a);
	}
}

TEST_HARNESS_MAIN
