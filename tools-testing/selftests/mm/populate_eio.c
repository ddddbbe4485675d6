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
 * before the failing one must be resident afterwards. Device drivers fault
 * pages in through hmm_range_fault(); lib/test_hmm's mirror device
 * (CONFIG_TEST_HMM) reads the bad page with mmap_lock held throughout
 * (HMM_DMIRROR_READ) and through hmm_range_fault_unlocked_timeout(),
 * whose faults may drop it (HMM_DMIRROR_READ_UNLOCKED): both fail with
 * EFAULT.
 *
 * The via_* cases hand the failing page to the other ways the kernel
 * faults in or pins user memory for a syscall, each of which must fail
 * cleanly: read() and write() on a pipe, write() to a shmem file (whose
 * write loop faults the source in), O_DIRECT read into and write from
 * it (GUP), process_vm_readv(), /proc/self/mem, vmsplice(), FUTEX_WAIT
 * and io_uring buffer registration (a long-term pin).
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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <linux/types.h>

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

/* From lib/test_hmm_uapi.h (7.3 has HMM_DMIRROR_READ_UNLOCKED, 6.12 not). */
struct hmm_dmirror_cmd {
	__u64 addr;
	__u64 ptr;
	__u64 npages;
	__u64 cpages;
	__u64 faults;
};

#define HMM_DMIRROR_READ		_IOWR('H', 0x00, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_READ_UNLOCKED	_IOWR('H', 0x09, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_DEV			"/dev/hmm_dmirror0"

#define MEDIUM_ERR_SECTOR	0x1234	/* scsi_debug OPT_MEDIUM_ERR_ADDR */
#define SECTOR_SIZE		512
#define PAGES_PAST_BAD		16
#define POPULATE_BOUND_S	5
#define POPULATE_TIMEOUT_S	6

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
 * started. It must be back within the bound and fail with @want.
 */
static void expect_errno(struct __test_metadata *_metadata,
			 FIXTURE_DATA(eio) *self, const char *what,
			 long ret, int err, double t0, int want)
{
	check_call(_metadata, self, what, ret, err, t0);
	ASSERT_EQ(ret, -1);
	ASSERT_EQ(err, want);
}

/*
 * A populate call that must fail: as expect_errno(), and the pages before
 * the bad one must be resident.
 */
static void expect_failure(struct __test_metadata *_metadata,
			   FIXTURE_DATA(eio) *self, const char *what,
			   int ret, int err, double t0, int want)
{
	expect_errno(_metadata, self, what, ret, err, t0, want);
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

/*
 * Read one page of the mapping into the HMM mirror device: ioctl() @req
 * for page @page. Returns what the ioctl returned, with errno.
 */
static int hmm_read_page(int dev, unsigned long req, FIXTURE_DATA(eio) *self,
			 unsigned long page, void *buf)
{
	struct hmm_dmirror_cmd cmd = {
		.addr = (unsigned long)self->map + page * self->psize,
		.ptr = (unsigned long)buf,
		.npages = 1,
	};

	return ioctl(dev, req, &cmd);
}

/*
 * The mirror device reads a good page, then the bad one: the first must
 * succeed, the second fail with EFAULT within the bound.
 */
static void hmm_read_bad(struct __test_metadata *_metadata,
			 FIXTURE_DATA(eio) *self, unsigned long req,
			 const char *what)
{
	double t0;
	void *buf;
	int dev, ret, err;

	dev = open(HMM_DMIRROR_DEV, O_RDWR);
	if (dev < 0)
		SKIP(return, "%s: %s (the kernel needs CONFIG_TEST_HMM)",
		     HMM_DMIRROR_DEV, strerror(errno));
	buf = malloc(self->psize);
	ASSERT_NE(buf, NULL);
	ret = hmm_read_page(dev, req, self, 0, buf);
	err = errno;
	if (ret && err == EINVAL) {
		free(buf);
		close(dev);
		SKIP(return, "kernel lacks %s", what);
	}
	TH_LOG("%s of page 0: ret %d errno %d", what, ret, ret ? err : 0);
	ASSERT_EQ(ret, 0);

	t0 = now_s();
	ret = hmm_read_page(dev, req, self, self->bad_page, buf);
	err = errno;
	free(buf);
	close(dev);
	expect_errno(_metadata, self, what, ret, err, t0, EFAULT);
}

TEST_F_TIMEOUT(eio, hmm_read, POPULATE_TIMEOUT_S)
{
	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	hmm_read_bad(_metadata, self, HMM_DMIRROR_READ, "HMM_DMIRROR_READ");
}

TEST_F_TIMEOUT(eio, hmm_read_unlocked, POPULATE_TIMEOUT_S)
{
	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	hmm_read_bad(_metadata, self, HMM_DMIRROR_READ_UNLOCKED,
		     "HMM_DMIRROR_READ_UNLOCKED");
}

/* The failing page in the fixture's mapping. */
static char *bad_addr(FIXTURE_DATA(eio) *self)
{
	return self->map + self->bad_page * self->psize;
}

TEST_F_TIMEOUT(eio, via_pipe_read, POPULATE_TIMEOUT_S)
{
	int p[2], err;
	double t0;
	long ret;
	char *buf;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(pipe(p), 0);
	buf = calloc(1, self->psize);
	ASSERT_NE(buf, NULL);
	ASSERT_EQ(write(p[1], buf, self->psize), self->psize);
	free(buf);
	t0 = now_s();
	ret = read(p[0], bad_addr(self), self->psize);
	err = errno;
	close(p[0]);
	close(p[1]);
	expect_errno(_metadata, self, "read() from a pipe into it", ret, err,
		     t0, EFAULT);
}

TEST_F_TIMEOUT(eio, via_pipe_write, POPULATE_TIMEOUT_S)
{
	int p[2], err;
	double t0;
	long ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(pipe(p), 0);
	t0 = now_s();
	ret = write(p[1], bad_addr(self), self->psize);
	err = errno;
	close(p[0]);
	close(p[1]);
	expect_errno(_metadata, self, "write() from it to a pipe", ret, err,
		     t0, EFAULT);
}

TEST_F_TIMEOUT(eio, via_shmem_write, POPULATE_TIMEOUT_S)
{
	double t0;
	long ret;
	int fd, err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	fd = memfd_create("populate_eio", 0);
	ASSERT_GE(fd, 0);
	t0 = now_s();
	ret = write(fd, bad_addr(self), self->psize);
	err = errno;
	close(fd);
	expect_errno(_metadata, self, "write() from it to a memfd", ret, err,
		     t0, EFAULT);
}

TEST_F_TIMEOUT(eio, via_odirect_read, POPULATE_TIMEOUT_S)
{
	double t0;
	long ret;
	int fd, err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	fd = open(self->sd.dev, O_RDONLY | O_DIRECT);
	ASSERT_GE(fd, 0);
	t0 = now_s();
	ret = pread(fd, bad_addr(self), self->psize, 0);
	err = errno;
	close(fd);
	expect_errno(_metadata, self, "O_DIRECT read of page 0 into it", ret,
		     err, t0, EFAULT);
}

/* To an offset past the mapping, in case the write did go through. */
TEST_F_TIMEOUT(eio, via_odirect_write, POPULATE_TIMEOUT_S)
{
	double t0;
	long ret;
	int fd, err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	fd = open(self->sd.dev, O_WRONLY | O_DIRECT);
	ASSERT_GE(fd, 0);
	t0 = now_s();
	ret = pwrite(fd, bad_addr(self), self->psize, self->size);
	err = errno;
	close(fd);
	expect_errno(_metadata, self, "O_DIRECT write from it", ret, err, t0,
		     EFAULT);
}

TEST_F_TIMEOUT(eio, via_process_vm_readv, POPULATE_TIMEOUT_S)
{
	struct iovec local, remote;
	double t0;
	long ret;
	int err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	local.iov_base = malloc(self->psize);
	ASSERT_NE(local.iov_base, NULL);
	local.iov_len = self->psize;
	/* First a page that reads: the call may not be there at all. */
	remote.iov_base = self->map;
	remote.iov_len = self->psize;
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) < 0) {
		err = errno;
		free(local.iov_base);
		SKIP(return, "process_vm_readv: %s (CONFIG_CROSS_MEMORY_ATTACH)",
		     strerror(err));
	}
	remote.iov_base = bad_addr(self);
	t0 = now_s();
	ret = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	err = errno;
	free(local.iov_base);
	expect_errno(_metadata, self, "process_vm_readv() of it", ret, err,
		     t0, EFAULT);
}

TEST_F_TIMEOUT(eio, via_proc_mem, POPULATE_TIMEOUT_S)
{
	double t0;
	long ret;
	int fd, err;
	char *buf;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	fd = open("/proc/self/mem", O_RDONLY);
	ASSERT_GE(fd, 0);
	buf = malloc(self->psize);
	ASSERT_NE(buf, NULL);
	t0 = now_s();
	ret = pread(fd, buf, self->psize, (unsigned long)bad_addr(self));
	err = errno;
	free(buf);
	close(fd);
	expect_errno(_metadata, self, "read of it through /proc/self/mem", ret,
		     err, t0, EIO);
}

TEST_F_TIMEOUT(eio, via_vmsplice, POPULATE_TIMEOUT_S)
{
	struct iovec iov = {
		.iov_base = bad_addr(self),
		.iov_len = self->psize,
	};
	int p[2], err;
	double t0;
	long ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(pipe(p), 0);
	t0 = now_s();
	ret = vmsplice(p[1], &iov, 1, 0);
	err = errno;
	close(p[0]);
	close(p[1]);
	expect_errno(_metadata, self, "vmsplice() of it", ret, err, t0, EFAULT);
}

TEST_F_TIMEOUT(eio, via_futex_wait, POPULATE_TIMEOUT_S)
{
	struct timespec ts = { .tv_sec = 1 };
	double t0;
	long ret;
	int err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = syscall(SYS_futex, bad_addr(self), FUTEX_WAIT, 0, &ts, NULL, 0);
	err = errno;
	expect_errno(_metadata, self, "FUTEX_WAIT on it", ret, err, t0, EFAULT);
}

TEST_F_TIMEOUT(eio, via_io_uring_register, POPULATE_TIMEOUT_S)
{
	struct io_uring_params p = { 0 };
	struct iovec iov = {
		.iov_base = bad_addr(self),
		.iov_len = self->psize,
	};
	int ring, err;
	double t0;
	long ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ring = syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0)
		SKIP(return, "io_uring_setup: %s (CONFIG_IO_URING)",
		     strerror(errno));
	t0 = now_s();
	ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		      &iov, 1);
	err = errno;
	close(ring);
	expect_errno(_metadata, self, "io_uring buffer registration of it",
		     ret, err, t0, EFAULT);
}

TEST_HARNESS_MAIN
