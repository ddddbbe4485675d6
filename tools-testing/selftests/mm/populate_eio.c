// SPDX-License-Identifier: GPL-2.0
/*
 * Populating a file mapping across a page whose read fails must fail
 * cleanly: return within a bound, never re-issue the read forever.
 *
 * The failing page comes from a disk whose reads of sector 0x1234 and
 * the few sectors after it fail (eio_disk_get() in faultin_util.h): a
 * scsi_debug disk with opts=2 (medium error), built in or loaded for each
 * case, or else a null_blk disk with those sectors in its badblocks list.
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
 * it (GUP), process_vm_readv() and process_vm_writev(), reads and
 * writes through /proc/self/mem, ptrace(PTRACE_POKEDATA), vmsplice(),
 * FUTEX_WAIT, io_uring buffer registration (a long-term pin), a core
 * dump of a process that has the page mapped (which must skip the page,
 * not wait on it) and MADV_COLLAPSE (which refuses a block device
 * mapping before it faults anything in).
 *
 * Bound: each call must return within POPULATE_BOUND_S seconds (see
 * faultin_util.h); a kernel that retries forever is stopped by the
 * harness's timeout one second later and reported as a timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
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
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
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

#define SECTOR_SIZE		512
#define PAGES_PAST_BAD		16
#define POPULATE_TIMEOUT_S	HANG_S(POPULATE_BOUND_S)

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
	struct eio_disk disk;
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
	char *dev = self->disk.dev;
	char *probe;

	self->fd = -1;
	self->disk.made = 0;
	self->map = MAP_FAILED;
	self->psize = getpagesize();

	probe = mmap(NULL, self->psize, PROT_READ,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(probe, MAP_FAILED);
	if (madvise(probe, self->psize, MADV_POPULATE_READ) && errno == EINVAL)
		SETUP_SKIP(return, "kernel lacks MADV_POPULATE_(READ|WRITE)");
	munmap(probe, self->psize);

	if (eio_disk_get(&self->disk, self->skip, sizeof(self->skip)))
		return;

	if (access(dev, R_OK | W_OK))
		SETUP_SKIP(return, "%s: %s (the test needs root)", dev, strerror(errno));
	self->bad_page = (unsigned long)EIO_SECTOR * SECTOR_SIZE /
			 self->psize;
	if (!read_fails(dev, self->bad_page * self->psize, self->psize))
		SETUP_SKIP(return, "%s: reading sector %#x does not fail (is opts=2 set?)",
			   dev, EIO_SECTOR);

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
	eio_disk_put(&self->disk);
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
	fd = open(self->disk.dev, O_RDONLY | O_DIRECT);
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
	fd = open(self->disk.dev, O_WRONLY | O_DIRECT);
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

TEST_F_TIMEOUT(eio, via_process_vm_writev, POPULATE_TIMEOUT_S)
{
	struct iovec local, remote;
	double t0;
	long ret;
	int err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	local.iov_base = calloc(1, self->psize);
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
	ret = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	err = errno;
	free(local.iov_base);
	expect_errno(_metadata, self, "process_vm_writev() into it", ret, err,
		     t0, EFAULT);
}

/* FOLL_FORCE | FOLL_WRITE: the page must be read before it is written. */
TEST_F_TIMEOUT(eio, via_proc_mem_write, POPULATE_TIMEOUT_S)
{
	double t0;
	long ret;
	int fd, err;
	char *buf;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	fd = open("/proc/self/mem", O_RDWR);
	ASSERT_GE(fd, 0);
	buf = calloc(1, self->psize);
	ASSERT_NE(buf, NULL);
	t0 = now_s();
	ret = pwrite(fd, buf, self->psize, (unsigned long)bad_addr(self));
	err = errno;
	free(buf);
	close(fd);
	expect_errno(_metadata, self, "write into it through /proc/self/mem",
		     ret, err, t0, EIO);
}

/* The tracer's write into a stopped child that inherited the mapping. */
TEST_F_TIMEOUT(eio, via_ptrace_pokedata, POPULATE_TIMEOUT_S)
{
	int status, err;
	double t0;
	long ret;
	pid_t pid;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(1);
		raise(SIGSTOP);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFSTOPPED(status)) {
		reap(pid);
		SKIP(return, "child could not be traced (status %#x)", status);
	}
	t0 = now_s();
	ret = ptrace(PTRACE_POKEDATA, pid, bad_addr(self), 0L);
	err = errno;
	reap(pid);
	expect_errno(_metadata, self, "PTRACE_POKEDATA into it", ret, err, t0,
		     EIO);
}

/*
 * A child with the page mapped dumps core (file-backed mappings included
 * by coredump_filter) in a directory of its own: the dump must skip the
 * page it cannot read and finish within the bound.
 */
TEST_F_TIMEOUT(eio, via_coredump, POPULATE_TIMEOUT_S)
{
	char dir[] = "/tmp/populate_eio.XXXXXX", core[64], pattern[64] = "";
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct stat st;
	int status = 0;
	double t0, dt;
	pid_t pid;
	FILE *f;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	f = fopen("/proc/sys/kernel/core_pattern", "r");
	if (!f)
		SKIP(return, "no kernel.core_pattern (CONFIG_COREDUMP)");
	if (!fgets(pattern, sizeof(pattern), f))
		pattern[0] = 0;
	fclose(f);
	if (strncmp(pattern, "core\n", 5))
		SKIP(return, "core_pattern is not 'core': '%.*s'",
		     (int)strcspn(pattern, "\n"), pattern);
	ASSERT_NE(mkdtemp(dir), NULL);
	t0 = now_s();
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		f = fopen("/proc/self/coredump_filter", "w");
		if (!f || fprintf(f, "0x3f\n") < 0 || fclose(f) ||
		    setrlimit(RLIMIT_CORE, &unlimited) || chdir(dir))
			_exit(1);
		abort();
	}
	while (waitpid(pid, &status, WNOHANG) == 0 &&
	       now_s() - t0 < POPULATE_BOUND_S)
		usleep(10000);
	dt = now_s() - t0;
	reap(pid);
	snprintf(core, sizeof(core), "%s/core", dir);
	if (stat(core, &st)) {
		/* kernel.core_uses_pid=1 */
		snprintf(core, sizeof(core), "%s/core.%d", dir, pid);
		if (stat(core, &st))
			st.st_size = -1;
	}
	TH_LOG("core dump with bad page %lu mapped: status %#x after %.2f s, %lld bytes",
	       self->bad_page, status, dt, (long long)st.st_size);
	unlink(core);
	rmdir(dir);
	ASSERT_LT(dt, POPULATE_BOUND_S);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGABRT);
	ASSERT_TRUE(WCOREDUMP(status));
	/* The mapping was dumped (the bad page as a hole), not left out. */
	ASSERT_GE(st.st_size, self->size);
}

TEST_F_TIMEOUT(eio, via_madv_collapse, POPULATE_TIMEOUT_S)
{
	double t0;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = madvise(self->map, self->size, MADV_COLLAPSE);
	expect_errno(_metadata, self, "MADV_COLLAPSE of it", ret, errno, t0,
		     EINVAL);
}

/*
 * Swap-in errors: the same disk as swap, with every slot before the bad
 * page listed as bad in the swap header, so that the first slot swap
 * uses is the bad page. A page of anonymous memory is paged out to it
 * (the write succeeds: scsi_debug fails only reads, and null_blk's bad
 * sectors are lifted meanwhile), and then faulting it back in must fail
 * cleanly.
 */
#define SWAP_VERSION_OFF	1024
#define SWAP_BADPAGES_OFF	1536	/* union swap_header: info.badpages */
#define SWAP_MAGIC		"SWAPSPACE2"
#define PAGEMAP_SWAPPED		(1ULL << 62)
#define PAGEMAP_SWAP_OFFSET(e)	(((e) & ((1ULL << 55) - 1)) >> 5)
/*
 * Usable slots after the bad one: with one slot in all, swap would be
 * full, and a full swap frees a slot as soon as its page is read back.
 */
#define SWAP_SPARE		8
/* How long setup keeps paging the page out until it leaves the swap cache. */
#define PAGEOUT_S		3
/* Swapons until the page lands in the bad slot. */
#define SWAP_TRIES		3

FIXTURE(swap)
{
	size_t psize;
	unsigned long bad_page;
	int swapped_on;
	char *mem;
	struct eio_disk disk;
	char skip[512];		/* SETUP_SKIP() */
};

static int write_swap_header(const char *dev, size_t psize,
			     unsigned long bad_page)
{
	unsigned int *words;
	unsigned long i;
	char *hdr;
	int fd, ret;

	hdr = calloc(1, psize);
	if (!hdr)
		return -1;
	words = (unsigned int *)(hdr + SWAP_VERSION_OFF);
	words[0] = 1;			/* version */
	words[1] = bad_page + SWAP_SPARE;	/* last_page */
	words[2] = bad_page - 1;	/* nr_badpages: 1 .. bad_page - 1 */
	words = (unsigned int *)(hdr + SWAP_BADPAGES_OFF);
	for (i = 1; i < bad_page; i++)
		words[i - 1] = i;
	memcpy(hdr + psize - strlen(SWAP_MAGIC), SWAP_MAGIC, strlen(SWAP_MAGIC));
	fd = open(dev, O_RDWR);
	ret = fd < 0 ? -1 : 0;
	if (!ret && (pwrite(fd, hdr, psize, 0) != psize || fsync(fd)))
		ret = -1;
	if (fd >= 0)
		close(fd);
	free(hdr);
	return ret;
}

static unsigned long long pagemap_of(void *addr, size_t psize)
{
	unsigned long long ent = 0;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent),
		  (unsigned long)addr / psize * sizeof(ent)) != sizeof(ent))
		ent = 0;
	close(fd);
	return ent;
}

/* mincore() counts a swapped-out page that is in the swap cache. */
static int in_memory(void *addr, size_t psize)
{
	unsigned char vec = 0;

	return !mincore(addr, psize, &vec) && (vec & 1);
}

/*
 * Page self->mem out, and make sure the swap cache lets go of it too: once
 * its write has finished, a clean page that is paged out again is freed
 * at once. Reading it back in between finds it in the swap cache, not on
 * the disk.
 */
enum { PAGED_OUT, STILL_CACHED, PAGEOUT_FAILED, READ_BACK_DIFFERS };

static int page_out(struct __test_metadata *_metadata, FIXTURE_DATA(swap) *self)
{
	int tries;
	double t0;

	t0 = now_s();
	for (tries = 0; now_s() - t0 < PAGEOUT_S; tries++) {
		if (madvise(self->mem, self->psize, MADV_PAGEOUT))
			return PAGEOUT_FAILED;
		if ((pagemap_of(self->mem, self->psize) & PAGEMAP_SWAPPED) &&
		    !in_memory(self->mem, self->psize))
			break;
		/* Give the write more time on each try (a loaded TCG host). */
		usleep(20000 * (1 + tries / 10));
		if (self->mem[0] != 0x5a)
			return READ_BACK_DIFFERS;
	}
	TH_LOG("paged out to slot %llu after %d tries: pagemap %#llx, in memory %d",
	       PAGEMAP_SWAP_OFFSET(pagemap_of(self->mem, self->psize)), tries + 1,
	       pagemap_of(self->mem, self->psize), in_memory(self->mem, self->psize));
	return now_s() - t0 < PAGEOUT_S ? PAGED_OUT : STILL_CACHED;
}

FIXTURE_SETUP(swap)
{
	unsigned long long slot;
	unsigned long max_bad;
	int attempt, ret;

	self->swapped_on = 0;
	self->disk.made = 0;
	self->mem = MAP_FAILED;
	self->psize = getpagesize();
	self->bad_page = (unsigned long)EIO_SECTOR * SECTOR_SIZE /
			 self->psize;
	max_bad = (self->psize - strlen(SWAP_MAGIC) - SWAP_BADPAGES_OFF) /
		  sizeof(int);
	if (self->bad_page - 1 > max_bad)
		SETUP_SKIP(return, "%lu bad swap slots do not fit in a swap header",
			   self->bad_page - 1);
	if (eio_disk_get(&self->disk, self->skip, sizeof(self->skip)))
		return;
	if (access(self->disk.dev, R_OK | W_OK))
		SETUP_SKIP(return, "%s: %s (the test needs root)", self->disk.dev,
			   strerror(errno));
	if (!read_fails(self->disk.dev, self->bad_page * self->psize, self->psize))
		SETUP_SKIP(return, "%s: reading sector %#x does not fail (is opts=2 set?)",
			   self->disk.dev, EIO_SECTOR);
	stay_on_this_cpu();
	self->mem = mmap(NULL, self->psize, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->mem, MAP_FAILED);
	memset(self->mem, 0x5a, self->psize);
	for (attempt = 1; ; attempt++) {
		ASSERT_EQ(eio_disk_fail(&self->disk, 0), 0);
		ASSERT_EQ(write_swap_header(self->disk.dev, self->psize, self->bad_page), 0);
		if (swapon(self->disk.dev, 0))
			SETUP_SKIP(return, "swapon %s: %s (CONFIG_SWAP)", self->disk.dev,
				   strerror(errno));
		self->swapped_on = 1;
		ret = page_out(_metadata, self);
		if (ret == PAGEOUT_FAILED)
			SETUP_SKIP(return, "MADV_PAGEOUT: %s", strerror(errno));
		ASSERT_NE(ret, READ_BACK_DIFFERS);
		if (ret == STILL_CACHED)
			SETUP_SKIP(return, "the page did not leave the swap cache in %d s",
				   PAGEOUT_S);
		ASSERT_EQ(eio_disk_fail(&self->disk, 1), 0);
		slot = PAGEMAP_SWAP_OFFSET(pagemap_of(self->mem, self->psize));
		/* the bad sectors may span the next slot too */
		if (slot >= self->bad_page &&
		    read_fails(self->disk.dev, slot * self->psize, self->psize)) {
			self->bad_page = slot;
			break;
		}
		if (attempt == SWAP_TRIES)
			SETUP_SKIP(return, "paged out to readable swap slot %llu, %d times",
				   slot, attempt);
		/*
		 * A later slot was handed out first (6.1 once gave 584):
		 * swapoff brings the page back from it, and a fresh swapon
		 * starts from the bad slot again.
		 */
		TH_LOG("paged out to swap slot %llu, which reads fine: swapoff and again",
		       slot);
		ASSERT_EQ(swapoff(self->disk.dev), 0);
		self->swapped_on = 0;
		ASSERT_EQ(self->mem[0], 0x5a);
	}
}

FIXTURE_TEARDOWN(swap)
{
	if (self->mem != MAP_FAILED)
		munmap(self->mem, self->psize);
	if (self->swapped_on && swapoff(self->disk.dev))
		TH_LOG("swapoff %s: %s", self->disk.dev, strerror(errno));
	eio_disk_put(&self->disk);
}

/* Log what a call on the swapped-out page did; it must be back in time. */
static void swap_expect(struct __test_metadata *_metadata,
			FIXTURE_DATA(swap) *self, const char *what,
			long ret, int err, double t0, int want)
{
	double dt = now_s() - t0;

	TH_LOG("%s with its swap slot %lu unreadable: ret %ld errno %d after %.2f s",
	       what, self->bad_page, ret, ret ? err : 0, dt);
	ASSERT_LT(dt, POPULATE_BOUND_S);
	ASSERT_EQ(ret, -1);
	ASSERT_EQ(err, want);
}

TEST_F_TIMEOUT(swap, madv_populate_read, POPULATE_TIMEOUT_S + PAGEOUT_S)
{
	double t0;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = madvise(self->mem, self->psize, MADV_POPULATE_READ);
	swap_expect(_metadata, self, "MADV_POPULATE_READ", ret, errno, t0,
		    EFAULT);
	/* The failed read is not retried forever either the second time. */
	t0 = now_s();
	ret = madvise(self->mem, self->psize, MADV_POPULATE_READ);
	swap_expect(_metadata, self, "MADV_POPULATE_READ again", ret, errno,
		    t0, EFAULT);
}

TEST_F_TIMEOUT(swap, madv_populate_write, POPULATE_TIMEOUT_S + PAGEOUT_S)
{
	double t0;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = madvise(self->mem, self->psize, MADV_POPULATE_WRITE);
	swap_expect(_metadata, self, "MADV_POPULATE_WRITE", ret, errno, t0,
		    EFAULT);
}

TEST_F_TIMEOUT(swap, mlock, POPULATE_TIMEOUT_S + PAGEOUT_S)
{
	double t0;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = mlock(self->mem, self->psize);
	swap_expect(_metadata, self, "mlock()", ret, errno, t0, ENOMEM);
}

TEST_F_TIMEOUT(swap, via_pipe_write, POPULATE_TIMEOUT_S + PAGEOUT_S)
{
	int p[2], err;
	double t0;
	long ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(pipe(p), 0);
	t0 = now_s();
	ret = write(p[1], self->mem, self->psize);
	err = errno;
	close(p[0]);
	close(p[1]);
	swap_expect(_metadata, self, "write() from it to a pipe", ret, err, t0,
		    EFAULT);
}

TEST_F_TIMEOUT(swap, via_process_vm_readv, POPULATE_TIMEOUT_S + PAGEOUT_S)
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
	remote.iov_base = self->mem;
	remote.iov_len = self->psize;
	t0 = now_s();
	ret = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	err = errno;
	free(local.iov_base);
	swap_expect(_metadata, self, "process_vm_readv() of it", ret, err, t0,
		    EFAULT);
}

/* A plain load from the page: SIGBUS, once, not a fault retried forever. */
TEST_F_TIMEOUT(swap, touch, POPULATE_TIMEOUT_S + PAGEOUT_S)
{
	int status = 0;
	double t0, dt;
	pid_t pid;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(self->mem[0] == 0x5a ? 0 : 1);
	while (waitpid(pid, &status, WNOHANG) == 0 &&
	       now_s() - t0 < POPULATE_BOUND_S)
		usleep(10000);
	dt = now_s() - t0;
	reap(pid);
	TH_LOG("load from it with its swap slot %lu unreadable: status %#x after %.2f s",
	       self->bad_page, status, dt);
	ASSERT_LT(dt, POPULATE_BOUND_S);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGBUS);
}

TEST_HARNESS_MAIN
