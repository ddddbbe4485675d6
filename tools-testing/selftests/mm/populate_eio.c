// SPDX-License-Identifier: GPL-2.0
/*
 * Populating a file mapping across a page whose read fails must fail
 * cleanly: return within a bound, never re-issue the read forever.
 *
 * The failing page comes from a scsi_debug disk with opts=2 (medium
 * error): reads of sector 0x1234 and the few sectors after it fail. The
 * disk is either there already (built in, booted with scsi_debug.opts=2)
 * or the test loads the scsi_debug module for each case and removes it.
 * The test maps the disk from offset 0 to a little past that sector, so
 * every page before the failing one can be read.
 *
 * Every way of populating a mapping is covered: MADV_POPULATE_(READ|WRITE)
 * (which fail with EFAULT), and the callers of __mm_populate(): mlock() and
 * mlock2() (which report the failure as ENOMEM, as they do for any page
 * GUP cannot fault in), mlock2(MLOCK_ONFAULT), mlockall(), mmap() with
 * MAP_POPULATE or MAP_LOCKED, and mremap() growing a locked mapping (which
 * ignore populate errors and must simply return). In each case the pages
 * before the failing one must be resident afterwards.
 *
 * Bound: each call must return within POPULATE_BOUND_S seconds. Under QEMU
 * TCG a fixed kernel returns in 0.02-0.9 s (the slowest pass seen), so the
 * bound is about 5x that, and the harness timeout one second more: a kernel
 * that retries forever is stopped by it and reported as a timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "faultin_util.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT		0x01
#endif

#define MEDIUM_ERR_SECTOR	0x1234	/* scsi_debug OPT_MEDIUM_ERR_ADDR */
#define SECTOR_SIZE		512
#define PAGES_PAST_BAD		16
#define POPULATE_BOUND_S	5
#define POPULATE_TIMEOUT_S	6

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Does an O_DIRECT read of the page at @off fail? A medium error comes back
 * as ENODATA, other I/O errors as EIO: either will do.
 */
static int read_fails(const char *path, off_t off, size_t psize)
{
	void *buf;
	ssize_t ret;
	int fd;

	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0)
		return 0;
	if (posix_memalign(&buf, psize, psize)) {
		close(fd);
		return 0;
	}
	ret = pread(fd, buf, psize, off);
	free(buf);
	close(fd);
	return ret < 0;
}

/* The disk's readahead window in pages (128 KiB if it cannot be read). */
static unsigned long readahead_pages(const char *dev, size_t psize)
{
	unsigned long kb = 128;
	char path[340];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/queue/read_ahead_kb",
		 strrchr(dev, '/') + 1);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lu", &kb) != 1 || !kb)
			kb = 128;
		fclose(f);
	}
	return kb * 1024 / psize ? kb * 1024 / psize : 1;
}

FIXTURE(eio)
{
	int fd;
	size_t psize;
	size_t size;
	unsigned long bad_page;
	unsigned long folio_floor;	/* lowest first page of the bad folio */
	char *map;
	struct scsi_debug sd;
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_VARIANT(eio)
{
	int map_flags;
};

FIXTURE_VARIANT_ADD(eio, shared)
{
	.map_flags = MAP_SHARED,
};

FIXTURE_VARIANT_ADD(eio, private)
{
	.map_flags = MAP_PRIVATE,
};

FIXTURE_SETUP(eio)
{
	char *dev = self->sd.dev;
	char *probe;

	self->fd = -1;
	self->sd.loaded = 0;
	self->map = MAP_FAILED;
	self->psize = getpagesize();

	probe = mmap(NULL, self->psize, PROT_READ,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(probe, MAP_FAILED);
	if (madvise(probe, self->psize, MADV_POPULATE_READ) && errno == EINVAL)
		SETUP_SKIP(return, "kernel lacks MADV_POPULATE_(READ|WRITE)");
	munmap(probe, self->psize);

	if (scsi_debug_get(&self->sd, self->skip, sizeof(self->skip)))
		return;

	if (access(dev, R_OK | W_OK))
		SETUP_SKIP(return, "%s: %s (the test needs root)", dev, strerror(errno));
	self->bad_page = (unsigned long)MEDIUM_ERR_SECTOR * SECTOR_SIZE /
			 self->psize;
	if (!read_fails(dev, self->bad_page * self->psize, self->psize))
		SETUP_SKIP(return, "%s: reading sector %#x does not fail (scsi_debug needs opts=2)",
			   dev, MEDIUM_ERR_SECTOR);

	self->folio_floor = self->bad_page -
			    self->bad_page % readahead_pages(dev, self->psize);

	self->fd = open(dev, O_RDWR);
	ASSERT_GE(self->fd, 0);
	/* Start from a cold page cache so mincore() shows what we populated. */
	ASSERT_EQ(fsync(self->fd), 0);
	ASSERT_EQ(posix_fadvise(self->fd, 0, 0, POSIX_FADV_DONTNEED), 0);

	self->size = (self->bad_page + PAGES_PAST_BAD) * self->psize;
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			 variant->map_flags, self->fd, 0);
	ASSERT_NE(self->map, MAP_FAILED);
}

FIXTURE_TEARDOWN(eio)
{
	munlockall();
	if (self->map != MAP_FAILED)
		munmap(self->map, self->size);
	if (self->fd >= 0)
		close(self->fd);
	scsi_debug_put(&self->sd);
}

/*
 * Every page before the failing folio must be resident. The page cache
 * reads the disk in folios, and a read error leaves the whole folio that
 * holds the bad page out (7.3 reads this disk in 64 KiB folios; 6.12 in
 * pages). A folio made by readahead is naturally aligned and no larger
 * than the readahead window, so it starts at folio_floor or later.
 */
static void expect_resident_before_bad(struct __test_metadata *_metadata,
				       FIXTURE_DATA(eio) *self)
{
	unsigned char *vec;
	unsigned long i;

	vec = malloc(self->size / self->psize);
	ASSERT_NE(vec, NULL);
	ASSERT_EQ(mincore(self->map, self->size, vec), 0);
	for (i = 0; i < self->bad_page; i++)
		if (!(vec[i] & 1))
			break;
	free(vec);
	TH_LOG("pages 0-%lu resident before bad page %lu", i - 1, self->bad_page);
	EXPECT_GE(i, self->folio_floor) {
		TH_LOG("page %lu is not resident; bad page %lu, its folio at %lu+",
		       i, self->bad_page, self->folio_floor);
	}
}

/* Log what a call did and check that it came back within the bound. */
static void check_call(struct __test_metadata *_metadata,
		       FIXTURE_DATA(eio) *self, const char *what,
		       long ret, int err, double t0)
{
	double dt = now_s() - t0;

	TH_LOG("%s over bad page %lu: ret %ld errno %d after %.2f s",
	       what, self->bad_page, ret, ret ? err : 0, dt);
	ASSERT_LT(dt, POPULATE_BOUND_S);
}

/* Replace the fixture's mapping by one made with @extra mmap flags. */
static double remap_with(struct __test_metadata *_metadata,
			 FIXTURE_DATA(eio) *self,
			 const FIXTURE_VARIANT(eio) *variant, int extra)
{
	double t0;

	ASSERT_EQ(munmap(self->map, self->size), 0);
	t0 = now_s();
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			 variant->map_flags | extra, self->fd, 0);
	return t0;
}

/*
 * A call that must fail: @ret and @err are what it returned, @t0 when it
 * started. It must be back within the bound, fail with @want, and leave
 * the pages before the bad one resident.
 */
static void expect_failure(struct __test_metadata *_metadata,
			   FIXTURE_DATA(eio) *self, const char *what,
			   int ret, int err, double t0, int want)
{
	check_call(_metadata, self, what, ret, err, t0);
	ASSERT_EQ(ret, -1);
	ASSERT_EQ(err, want);
	expect_resident_before_bad(_metadata, self);
}

TEST_F_TIMEOUT(eio, madv_populate_read, POPULATE_TIMEOUT_S)
{
	double t0;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = madvise(self->map, self->size, MADV_POPULATE_READ);
	expect_failure(_metadata, self, "MADV_POPULATE_READ", ret, errno, t0,
		       EFAULT);
}

TEST_F_TIMEOUT(eio, madv_populate_write, POPULATE_TIMEOUT_S)
{
	double t0;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = madvise(self->map, self->size, MADV_POPULATE_WRITE);
	expect_failure(_metadata, self, "MADV_POPULATE_WRITE", ret, errno, t0,
		       EFAULT);
}

TEST_F_TIMEOUT(eio, mlock, POPULATE_TIMEOUT_S)
{
	double t0;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = mlock(self->map, self->size);
	expect_failure(_metadata, self, "mlock", ret, errno, t0, ENOMEM);
}

TEST_F_TIMEOUT(eio, mlock2, POPULATE_TIMEOUT_S)
{
	double t0;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = mlock2(self->map, self->size, 0);
	expect_failure(_metadata, self, "mlock2", ret, errno, t0, ENOMEM);
}

/* MLOCK_ONFAULT populates nothing, so it must succeed at once. */
TEST_F_TIMEOUT(eio, mlock2_onfault, POPULATE_TIMEOUT_S)
{
	double t0;
	int ret, err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = mlock2(self->map, self->size, MLOCK_ONFAULT);
	err = errno;
	check_call(_metadata, self, "mlock2(MLOCK_ONFAULT)", ret, err, t0);
	ASSERT_EQ(ret, 0);
}

TEST_F_TIMEOUT(eio, mlockall_current, POPULATE_TIMEOUT_S)
{
	double t0;
	int ret, err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = mlockall(MCL_CURRENT);
	err = errno;
	check_call(_metadata, self, "mlockall(MCL_CURRENT)", ret, err, t0);
	ASSERT_EQ(ret, 0);
	expect_resident_before_bad(_metadata, self);
}

TEST_F_TIMEOUT(eio, mlockall_future_mmap, POPULATE_TIMEOUT_S)
{
	double t0;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(mlockall(MCL_FUTURE), 0);
	t0 = remap_with(_metadata, self, variant, 0);
	check_call(_metadata, self, "mmap after mlockall(MCL_FUTURE)",
		   self->map == MAP_FAILED, errno, t0);
	ASSERT_NE(self->map, MAP_FAILED);
	expect_resident_before_bad(_metadata, self);
}

TEST_F_TIMEOUT(eio, map_populate, POPULATE_TIMEOUT_S)
{
	double t0;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = remap_with(_metadata, self, variant, MAP_POPULATE);
	check_call(_metadata, self, "mmap(MAP_POPULATE)",
		   self->map == MAP_FAILED, errno, t0);
	ASSERT_NE(self->map, MAP_FAILED);
	expect_resident_before_bad(_metadata, self);
}

TEST_F_TIMEOUT(eio, map_locked, POPULATE_TIMEOUT_S)
{
	double t0;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = remap_with(_metadata, self, variant, MAP_LOCKED);
	check_call(_metadata, self, "mmap(MAP_LOCKED)",
		   self->map == MAP_FAILED, errno, t0);
	ASSERT_NE(self->map, MAP_FAILED);
	expect_resident_before_bad(_metadata, self);
}

/* Growing a locked mapping populates the new part: over the bad page. */
TEST_F_TIMEOUT(eio, mremap_locked_grow, POPULATE_TIMEOUT_S)
{
	/* Lock what reads cleanly: the pages before the bad page's folio. */
	size_t good = self->folio_floor * self->psize;
	void *grown;
	double t0;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(munmap(self->map, self->size), 0);
	self->map = mmap(NULL, good, PROT_READ | PROT_WRITE,
			 variant->map_flags, self->fd, 0);
	ASSERT_NE(self->map, MAP_FAILED);
	ASSERT_EQ(mlock(self->map, good), 0);
	t0 = now_s();
	grown = mremap(self->map, good, self->size, MREMAP_MAYMOVE);
	check_call(_metadata, self, "mremap of a locked mapping",
		   grown == MAP_FAILED, errno, t0);
	if (grown == MAP_FAILED)
		munmap(self->map, good);
	self->map = grown;
	ASSERT_NE(grown, MAP_FAILED);
	expect_resident_before_bad(_metadata, self);
}

TEST_HARNESS_MAIN
