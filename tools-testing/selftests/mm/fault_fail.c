// SPDX-License-Identifier: GPL-2.0
/*
 * Faulting in user memory whose fault keeps failing, for reasons other
 * than a read error (populate_eio has those), must fail cleanly: return
 * within a bound with an error, or deliver SIGBUS, never retry forever.
 *
 * fail: a mapping whose every fault fails with VM_FAULT_SIGBUS.
 *	hugetlb_empty: a MAP_HUGETLB | MAP_NORESERVE mapping while the huge
 *	page pool is empty (vm.nr_hugepages and vm.nr_overcommit_hugepages
 *	set to 0 for the case, then restored);
 *	shmem_full: a hole of a file on a full tmpfs (mounted for the case
 *	with size= two pages, both written).
 * Populating it (MADV_POPULATE_(READ|WRITE), mlock()), loading from it,
 * and handing it to read() from a pipe, process_vm_readv(), FUTEX_WAIT
 * and io_uring buffer registration must each fail within the bound.
 *
 * uffd: a userfaultfd-registered page (missing mode) that nobody
 * resolves. A populate blocked on it ends when the userfaultfd is closed
 * (the fault then proceeds without it and the call succeeds), or when
 * the process is killed; both within the bound.
 *
 * ref: an anonymous page in ZONE_MOVABLE that a pipe holds a reference
 * to (vmsplice()), which migration cannot move: a long-term pin of it
 * (io_uring registration) must fail; without the reference it succeeds.
 *
 * memfd_pin: a poisoned huge page in ZONE_MOVABLE, which cannot migrate:
 * a long-term pin of it must fail, through udmabuf (memfd_pin_folios())
 * and through io_uring registration of a mapping of it (GUP).
 *
 * ksm: MADV_UNMERGEABLE of pages ksmd merged (break_ksm()), plainly, from
 * a PROT_NONE mapping and under userfaultfd write-protection, must
 * return with the pages unshared (each with a PFN of its own).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>

#include "../kselftest_harness.h"
#include "faultin_util.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

/* One second on top of the bound for the uffd cases' UFFD_BLOCK_S. */
#define FAIL_TIMEOUT_S		(HANG_S(FAIL_BOUND_S) + 1)
/* How long a populate must stay blocked on an unresolved userfault. */
#define UFFD_BLOCK_S		0.3

static int read_long(const char *path, long *val)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%ld", val) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static int write_long(const char *path, long val)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%ld\n", val) > 0;
	return fclose(f) || !ok ? -1 : 0;
}

/* The PFN @addr maps (/proc/self/pagemap gives it to root), or 0. */
static unsigned long pfn_of(void *addr)
{
	unsigned long long ent = 0;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent),
		  (unsigned long)addr / getpagesize() * sizeof(ent)) != sizeof(ent))
		ent = 0;
	close(fd);
	return ent & ((1ULL << 55) - 1);
}

#define NR_HUGEPAGES		"/proc/sys/vm/nr_hugepages"
#define NR_OVERCOMMIT		"/proc/sys/vm/nr_overcommit_hugepages"

FIXTURE(fail)
{
	size_t size;
	char *map;
	int fd;
	long saved_nr, saved_overcommit;	/* -1: not changed */
	char dir[64];
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_VARIANT(fail)
{
	int hugetlb;
};

FIXTURE_VARIANT_ADD(fail, hugetlb_empty)
{
	.hugetlb = 1,
};

FIXTURE_VARIANT_ADD(fail, shmem_full)
{
	.hugetlb = 0,
};

static void setup_hugetlb_empty(struct __test_metadata *_metadata,
				FIXTURE_DATA(fail) *self)
{
	long kb = meminfo_kb("Hugepagesize");

	if (kb <= 0)
		SETUP_SKIP(return, "no huge pages (CONFIG_HUGETLBFS)");
	self->size = kb * 1024;
	if (read_long(NR_HUGEPAGES, &self->saved_nr) ||
	    read_long(NR_OVERCOMMIT, &self->saved_overcommit) ||
	    write_long(NR_OVERCOMMIT, 0)) {
		self->saved_nr = -1;
		self->saved_overcommit = -1;
		SETUP_SKIP(return, "vm.nr_overcommit_hugepages: %s (needs root)",
			   strerror(errno));
	}
	ASSERT_EQ(write_long(NR_HUGEPAGES, 0), 0);
	if (meminfo_kb("HugePages_Free") != 0)
		SETUP_SKIP(return, "the huge page pool does not empty (%ld free)",
			   meminfo_kb("HugePages_Free"));
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE,
			 -1, 0);
	ASSERT_NE(self->map, MAP_FAILED);
}

static void setup_shmem_full(struct __test_metadata *_metadata,
			     FIXTURE_DATA(fail) *self)
{
	char opts[32], path[80], *buf;
	size_t psize = getpagesize();

	self->size = psize;
	snprintf(self->dir, sizeof(self->dir), "/tmp/fault_fail.XXXXXX");
	if (!mkdtemp(self->dir)) {
		self->dir[0] = 0;
		SETUP_SKIP(return, "mkdtemp: %s", strerror(errno));
	}
	snprintf(opts, sizeof(opts), "size=%zu", 2 * psize);
	if (mount("tmpfs", self->dir, "tmpfs", 0, opts)) {
		rmdir(self->dir);
		self->dir[0] = 0;
		SETUP_SKIP(return, "mount tmpfs: %s (the test needs root)",
			   strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/f", self->dir);
	self->fd = open(path, O_RDWR | O_CREAT, 0600);
	ASSERT_GE(self->fd, 0);
	buf = calloc(2, psize);
	ASSERT_NE(buf, NULL);
	ASSERT_EQ(write(self->fd, buf, 2 * psize), 2 * psize);
	free(buf);
	/* The third page is a hole that tmpfs has no room to fill. */
	ASSERT_EQ(ftruncate(self->fd, 4 * psize), 0);
	self->map = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 2 * psize);
	ASSERT_NE(self->map, MAP_FAILED);
}

FIXTURE_SETUP(fail)
{
	self->map = MAP_FAILED;
	self->fd = -1;
	self->dir[0] = 0;
	self->saved_nr = -1;
	self->saved_overcommit = -1;
	if (variant->hugetlb)
		setup_hugetlb_empty(_metadata, self);
	else
		setup_shmem_full(_metadata, self);
}

FIXTURE_TEARDOWN(fail)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->size);
	if (self->fd >= 0)
		close(self->fd);
	if (self->dir[0]) {
		umount2(self->dir, MNT_DETACH);
		rmdir(self->dir);
	}
	if (self->saved_nr >= 0)
		write_long(NR_HUGEPAGES, self->saved_nr);
	if (self->saved_overcommit >= 0)
		write_long(NR_OVERCOMMIT, self->saved_overcommit);
}

/* A call that must fail: back within the bound, -1 with @want. */
static void expect_errno(struct __test_metadata *_metadata, const char *what,
			 long ret, int err, double t0, int want)
{
	double dt = now_s() - t0;

	TH_LOG("%s: ret %ld errno %d after %.2f s", what, ret, ret ? err : 0, dt);
	ASSERT_LT(dt, FAIL_BOUND_S);
	ASSERT_EQ(ret, -1);
	ASSERT_EQ(err, want);
}

TEST_F_TIMEOUT(fail, madv_populate_read, FAIL_TIMEOUT_S)
{
	double t0;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = madvise(self->map, self->size, MADV_POPULATE_READ);
	expect_errno(_metadata, "MADV_POPULATE_READ", ret, errno, t0, EFAULT);
}

TEST_F_TIMEOUT(fail, madv_populate_write, FAIL_TIMEOUT_S)
{
	double t0;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = madvise(self->map, self->size, MADV_POPULATE_WRITE);
	expect_errno(_metadata, "MADV_POPULATE_WRITE", ret, errno, t0, EFAULT);
}

/* mlock() reports a page GUP cannot fault in as ENOMEM. */
TEST_F_TIMEOUT(fail, mlock, FAIL_TIMEOUT_S)
{
	double t0;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = mlock(self->map, self->size);
	expect_errno(_metadata, "mlock()", ret, errno, t0, ENOMEM);
}

/* Wait up to the bound for @pid; its status, or -1 if it is still there. */
static int wait_bounded(pid_t pid, double t0)
{
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_s() - t0 >= FAIL_BOUND_S)
			return -1;
		usleep(10000);
	}
	return status;
}

TEST_F_TIMEOUT(fail, touch, FAIL_TIMEOUT_S)
{
	int status;
	double t0;
	pid_t pid;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(self->map[0]);
	status = wait_bounded(pid, t0);
	reap(pid);
	TH_LOG("load from it: status %#x after %.2f s", status, now_s() - t0);
	ASSERT_NE(status, -1);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGBUS);
}

TEST_F_TIMEOUT(fail, via_pipe_read, FAIL_TIMEOUT_S)
{
	char buf[64] = { 0 };
	int p[2], err;
	double t0;
	long ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(pipe(p), 0);
	ASSERT_EQ(write(p[1], buf, sizeof(buf)), sizeof(buf));
	t0 = now_s();
	ret = read(p[0], self->map, sizeof(buf));
	err = errno;
	close(p[0]);
	close(p[1]);
	expect_errno(_metadata, "read() from a pipe into it", ret, err, t0,
		     EFAULT);
}

TEST_F_TIMEOUT(fail, via_process_vm_readv, FAIL_TIMEOUT_S)
{
	struct iovec local, remote;
	char buf[64];
	double t0;
	long ret;
	int err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	local.iov_base = buf;
	local.iov_len = sizeof(buf);
	/* A page that is there first: the call may not be there at all. */
	remote.iov_base = buf + 1;
	remote.iov_len = 1;
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) < 0)
		SKIP(return, "process_vm_readv: %s (CONFIG_CROSS_MEMORY_ATTACH)",
		     strerror(errno));
	remote.iov_base = self->map;
	remote.iov_len = sizeof(buf);
	t0 = now_s();
	ret = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	err = errno;
	expect_errno(_metadata, "process_vm_readv() of it", ret, err, t0,
		     EFAULT);
}

TEST_F_TIMEOUT(fail, via_futex_wait, FAIL_TIMEOUT_S)
{
	struct timespec ts = { .tv_sec = 1 };
	double t0;
	long ret;
	int err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = syscall(SYS_futex, self->map, FUTEX_WAIT, 0, &ts, NULL, 0);
	err = errno;
	expect_errno(_metadata, "FUTEX_WAIT on it", ret, err, t0, EFAULT);
}

/* A ring to register buffers on, or -1 with io_uring_setup()'s errno. */
static int uring(void)
{
	struct io_uring_params p = { 0 };

	return syscall(__NR_io_uring_setup, 4, &p);
}

/* IORING_REGISTER_BUFFERS of [@addr, @addr + @len) on @ring. */
static long uring_register(int ring, void *addr, size_t len)
{
	struct iovec iov = {
		.iov_base = addr,
		.iov_len = len,
	};

	return syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		       &iov, 1);
}

#define URING_SKIP "io_uring_setup: %s (CONFIG_IO_URING)"

TEST_F_TIMEOUT(fail, via_io_uring_register, FAIL_TIMEOUT_S)
{
	int ring, err;
	double t0;
	long ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ring = uring();
	if (ring < 0)
		SKIP(return, URING_SKIP, strerror(errno));
	t0 = now_s();
	ret = uring_register(ring, self->map, self->size);
	err = errno;
	close(ring);
	expect_errno(_metadata, "io_uring buffer registration of it", ret, err,
		     t0, EFAULT);
}

/*
 * A page registered with a userfaultfd in missing mode, which nobody
 * resolves: a fault on it waits for the handler.
 */
FIXTURE(uffd)
{
	size_t psize;
	char *map;
	int uffd;
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_VARIANT(uffd)
{
	int mlock;	/* populate with mlock(), else MADV_POPULATE_READ */
};

FIXTURE_VARIANT_ADD(uffd, populate_read)
{
	.mlock = 0,
};

FIXTURE_VARIANT_ADD(uffd, mlock)
{
	.mlock = 1,
};

/* A userfaultfd with [@addr, @addr + @len) registered, or -1. */
static int register_missing(char *addr, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	int uffd;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		return -1;
	reg.range.start = (unsigned long)addr;
	reg.range.len = len;
	if (ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		close(uffd);
		return -1;
	}
	return uffd;
}

FIXTURE_SETUP(uffd)
{
	self->psize = getpagesize();
	self->map = mmap(NULL, self->psize, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->map, MAP_FAILED);
	self->uffd = register_missing(self->map, self->psize);
	if (self->uffd < 0)
		SETUP_SKIP(return, "userfaultfd: %s (CONFIG_USERFAULTFD, root)",
			   strerror(errno));
}

FIXTURE_TEARDOWN(uffd)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->psize);
	if (self->uffd >= 0)
		close(self->uffd);
}

struct populate_call {
	char *addr;
	size_t len;
	int mlock;
	int ret, err;
	double t_end;
	int done;
};

static void *populate_thread(void *arg)
{
	struct populate_call *c = arg;

	if (c->mlock)
		c->ret = mlock(c->addr, c->len);
	else
		c->ret = madvise(c->addr, c->len, MADV_POPULATE_READ);
	c->err = errno;
	c->t_end = now_s();
	__atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * Closing the userfaultfd releases the blocked fault: it goes on as if
 * the range was never registered, so the populate succeeds.
 */
TEST_F_TIMEOUT(uffd, closed, FAIL_TIMEOUT_S)
{
	struct populate_call c = {
		.addr = self->map, .len = self->psize, .mlock = variant->mlock,
		.ret = 1,
	};
	double t_close;
	pthread_t th;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(pthread_create(&th, NULL, populate_thread, &c), 0);
	usleep(UFFD_BLOCK_S * 1e6);
	ASSERT_EQ(__atomic_load_n(&c.done, __ATOMIC_SEQ_CST), 0) {
		TH_LOG("the populate returned %d before the userfault was resolved",
		       c.ret);
		pthread_join(th, NULL);
	}
	t_close = now_s();
	close(self->uffd);
	self->uffd = -1;
	while (!__atomic_load_n(&c.done, __ATOMIC_SEQ_CST) &&
	       now_s() - t_close < FAIL_BOUND_S)
		usleep(10000);
	if (!__atomic_load_n(&c.done, __ATOMIC_SEQ_CST)) {
		TH_LOG("%s still blocked %d s after the userfaultfd was closed",
		       variant->mlock ? "mlock()" : "MADV_POPULATE_READ",
		       FAIL_BOUND_S);
		/* The harness's timeout ends the process and the thread. */
		ASSERT_TRUE(0);
	}
	pthread_join(th, NULL);
	TH_LOG("%s returned %d (errno %d) %.2f s after the userfaultfd was closed",
	       variant->mlock ? "mlock()" : "MADV_POPULATE_READ", c.ret,
	       c.ret ? c.err : 0, c.t_end - t_close);
	ASSERT_EQ(c.ret, 0);
	if (variant->mlock)
		munlock(self->map, self->psize);
}

/* An unresolved userfault keeps the call waiting, but SIGKILL ends it. */
TEST_F_TIMEOUT(uffd, unresolved_killable, FAIL_TIMEOUT_S)
{
	struct populate_call c = {
		.addr = self->map, .len = self->psize, .mlock = variant->mlock,
	};
	int status;
	double t0;
	pid_t pid;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		/* A child's copy of the mapping is not registered: register it. */
		if (register_missing(self->map, self->psize) < 0)
			_exit(3);
		populate_thread(&c);
		_exit(2);
	}
	usleep(UFFD_BLOCK_S * 1e6);
	ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) {
		TH_LOG("the populate returned (status %#x) before the userfault was resolved",
		       status);
	}
	t0 = now_s();
	kill(pid, SIGKILL);
	status = wait_bounded(pid, t0);
	reap(pid);
	TH_LOG("%s blocked on the userfault: killed, status %#x after %.2f s",
	       variant->mlock ? "mlock()" : "MADV_POPULATE_READ", status,
	       now_s() - t0);
	ASSERT_NE(status, -1);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGKILL);
}

/*
 * break_ksm() (MADV_UNMERGEABLE) unshares every KSM page of a range with
 * unshare faults until none is left. Two identical pages are merged by
 * ksmd (run for the case), then unmerged: plainly, from a PROT_NONE
 * mapping, and under userfaultfd write-protection. Each must be back
 * within the bound with nothing left merged.
 */
#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE		12
#define MADV_UNMERGEABLE	13
#endif
#define KSM_DIR			"/sys/kernel/mm/ksm/"
#define KSM_MERGE_S		20

FIXTURE(ksm)
{
	size_t psize;
	char *map;
	int uffd;
	unsigned long ksm_pfn;	/* the page both map once merged */
	long saved_run, saved_scan, saved_sleep;	/* -1: not changed */
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_VARIANT(ksm)
{
	int prot_none;
	int uffd_wp;
};

FIXTURE_VARIANT_ADD(ksm, plain)
{
};

FIXTURE_VARIANT_ADD(ksm, prot_none)
{
	.prot_none = 1,
};

FIXTURE_VARIANT_ADD(ksm, uffd_wp)
{
	.uffd_wp = 1,
};

static long ksm_read(const char *name)
{
	char path[128];
	long v;

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	return read_long(path, &v) ? -1 : v;
}

static int ksm_write(const char *name, long v)
{
	char path[128];

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	return write_long(path, v);
}

static int uffd_wp_protect(char *addr, size_t len)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP,
	};
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	int uffd;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		return -1;
	reg.range.start = (unsigned long)addr;
	reg.range.len = len;
	wp.range = reg.range;
	if (ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg) ||
	    ioctl(uffd, UFFDIO_WRITEPROTECT, &wp)) {
		close(uffd);
		return -1;
	}
	return uffd;
}

static int merged(FIXTURE_DATA(ksm) *self)
{
	unsigned long pfn = pfn_of(self->map);

	return pfn && pfn == pfn_of(self->map + self->psize);
}

FIXTURE_SETUP(ksm)
{
	double t0;

	self->psize = getpagesize();
	self->map = MAP_FAILED;
	self->uffd = -1;
	self->saved_run = ksm_read("run");
	self->saved_scan = ksm_read("pages_to_scan");
	self->saved_sleep = ksm_read("sleep_millisecs");
	if (self->saved_run < 0) {
		self->saved_scan = -1;
		self->saved_sleep = -1;
		SETUP_SKIP(return, "no %s (CONFIG_KSM)", KSM_DIR);
	}
	if (ksm_write("pages_to_scan", 1000) || ksm_write("sleep_millisecs", 0) ||
	    ksm_write("run", 1))
		SETUP_SKIP(return, "cannot start ksmd: %s (needs root)",
			   strerror(errno));
	self->map = mmap(NULL, 2 * self->psize, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->map, MAP_FAILED);
	memset(self->map, 0x6b, 2 * self->psize);
	ASSERT_EQ(madvise(self->map, 2 * self->psize, MADV_MERGEABLE), 0);
	t0 = now_s();
	/*
	 * Two anonymous pages of one process that map the same PFN can only
	 * be a KSM page. (6.12's /proc/kpageflags cannot tell: it reports
	 * KPF_KSM for every anonymous page.)
	 */
	while (!merged(self) && now_s() - t0 < KSM_MERGE_S)
		usleep(50000);
	TH_LOG("after %.2f s: pages_sharing %ld, PFNs %#lx %#lx",
	       now_s() - t0, ksm_read("pages_sharing"), pfn_of(self->map),
	       pfn_of(self->map + self->psize));
	if (!merged(self))
		SETUP_SKIP(return, "ksmd merged nothing in %d s (or no PFNs: root)",
			   KSM_MERGE_S);
	self->ksm_pfn = pfn_of(self->map);
	/* Stop ksmd: it must not merge the pages again behind the case. */
	ASSERT_EQ(ksm_write("run", 0), 0);
	if (variant->prot_none)
		ASSERT_EQ(mprotect(self->map, 2 * self->psize, PROT_NONE), 0);
	if (variant->uffd_wp) {
		self->uffd = uffd_wp_protect(self->map, 2 * self->psize);
		if (self->uffd < 0)
			SETUP_SKIP(return, "userfaultfd write-protect: %s",
				   strerror(errno));
	}
}

FIXTURE_TEARDOWN(ksm)
{
	if (self->uffd >= 0)
		close(self->uffd);
	if (self->map != MAP_FAILED)
		munmap(self->map, 2 * self->psize);
	if (self->saved_scan >= 0)
		ksm_write("pages_to_scan", self->saved_scan);
	if (self->saved_sleep >= 0)
		ksm_write("sleep_millisecs", self->saved_sleep);
	if (self->saved_run >= 0)
		ksm_write("run", self->saved_run);
}

TEST_F_TIMEOUT(ksm, unmergeable, FAIL_TIMEOUT_S + KSM_MERGE_S)
{
	double t0, dt;
	int ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	ret = madvise(self->map, 2 * self->psize, MADV_UNMERGEABLE);
	dt = now_s() - t0;
	TH_LOG("MADV_UNMERGEABLE: ret %d errno %d after %.2f s, PFNs %#lx %#lx (KSM page %#lx)",
	       ret, ret ? errno : 0, dt, pfn_of(self->map),
	       pfn_of(self->map + self->psize), self->ksm_pfn);
	ASSERT_LT(dt, FAIL_BOUND_S);
	ASSERT_EQ(ret, 0);
	/* Each page has a copy of its own now. */
	ASSERT_NE(pfn_of(self->map), self->ksm_pfn);
	ASSERT_NE(pfn_of(self->map + self->psize), self->ksm_pfn);
}

/*
 * memfd_pin_folios() (udmabuf's UDMABUF_CREATE, iommufd's
 * IOMMU_IOAS_MAP_FILE) long-term pins the folios of a memfd. A folio in
 * ZONE_MOVABLE has to be migrated first, and a hugetlb folio that memory
 * failure marked poisoned cannot be isolated for that. The pin of such a
 * folio must fail, not retry the migration forever.
 *
 * Needs root, CONFIG_MEMORY_FAILURE (MADV_HWPOISON), CONFIG_UDMABUF, and
 * a huge page in ZONE_MOVABLE (boot with movablecore=).
 */
#ifndef MADV_HWPOISON
#define MADV_HWPOISON		100
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB		0x0004U
#endif
#define UDMABUF_DEV		"/dev/udmabuf"

struct udmabuf_create {
	__u32 memfd;
	__u32 flags;
	__u64 offset;
	__u64 size;
};

#define UDMABUF_CREATE		_IOW('u', 0x42, struct udmabuf_create)

/* [start, end) of the PFNs of ZONE_MOVABLE on node 0, or 0 and 0. */
static void movable_zone(unsigned long *start, unsigned long *end)
{
	unsigned long spanned = 0;
	char line[256];
	int in = 0;
	FILE *f;

	*start = *end = 0;
	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Node ", 5))
			in = !!strstr(line, "zone  Movable");
		else if (in)
			if (sscanf(line, " spanned %lu", &spanned) == 1 ||
			    sscanf(line, " start_pfn: %lu", start) == 1)
				continue;
	}
	fclose(f);
	if (*start && spanned)
		*end = *start + spanned;
}

/*
 * An anonymous page in ZONE_MOVABLE that something else holds a
 * reference to: a pipe buffer, from vmsplice(). A long-term pin must
 * first migrate the page out of ZONE_MOVABLE, and migration cannot move a
 * page that has a reference it does not account for: io_uring buffer
 * registration must then fail within the bound (ENOMEM, from
 * migrate_longterm_unpinnable_folios()), not retry. Without the
 * reference, the registration succeeds and the page has moved.
 */
#define REF_PAGES		16

FIXTURE(ref)
{
	char *map;
	char *page;
	size_t psize;
	int pfd[2];
	unsigned long pfn, mstart, mend;
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_VARIANT(ref)
{
	bool vmspliced;
};

FIXTURE_VARIANT_ADD(ref, unreferenced)
{
	.vmspliced = false,
};

FIXTURE_VARIANT_ADD(ref, vmspliced)
{
	.vmspliced = true,
};

FIXTURE_SETUP(ref)
{
	struct iovec iov;
	int i;

	self->pfd[0] = -1;
	self->pfd[1] = -1;
	self->psize = getpagesize();
	self->map = mmap(NULL, REF_PAGES * self->psize, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->map, MAP_FAILED);
	memset(self->map, 0x5a, REF_PAGES * self->psize);
	movable_zone(&self->mstart, &self->mend);
	if (!self->mend)
		SETUP_SKIP(return, "no ZONE_MOVABLE (boot with movablecore=)");
	self->page = NULL;
	for (i = 0; i < REF_PAGES && !self->page; i++) {
		self->pfn = pfn_of(self->map + i * self->psize);
		if (!self->pfn)
			SETUP_SKIP(return, "no PFN in /proc/self/pagemap (the test needs root)");
		if (self->pfn >= self->mstart && self->pfn < self->mend)
			self->page = self->map + i * self->psize;
	}
	if (!self->page)
		SETUP_SKIP(return, "none of %d pages is in ZONE_MOVABLE", REF_PAGES);
	if (variant->vmspliced) {
		ASSERT_EQ(pipe(self->pfd), 0);
		iov.iov_base = self->page;
		iov.iov_len = self->psize;
		ASSERT_EQ(vmsplice(self->pfd[1], &iov, 1, 0), self->psize);
	}
}

FIXTURE_TEARDOWN(ref)
{
	if (self->pfd[0] >= 0)
		close(self->pfd[0]);
	if (self->pfd[1] >= 0)
		close(self->pfd[1]);
	munmap(self->map, REF_PAGES * self->psize);
}

TEST_F_TIMEOUT(ref, io_uring_register, FAIL_TIMEOUT_S)
{
	unsigned long pfn;
	int ring, err;
	double dt;
	long ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ring = uring();
	if (ring < 0)
		SKIP(return, URING_SKIP, strerror(errno));
	dt = now_s();
	ret = uring_register(ring, self->page, self->psize);
	err = errno;
	dt = now_s() - dt;
	pfn = pfn_of(self->page);
	close(ring);
	TH_LOG("ZONE_MOVABLE %#lx-%#lx; page at PFN %#lx%s",
	       self->mstart, self->mend, self->pfn,
	       variant->vmspliced ? ", held by a pipe" : "");
	TH_LOG("io_uring registration: ret %ld errno %d after %.2f s; PFN then %#lx",
	       ret, ret ? err : 0, dt, pfn);
	ASSERT_LT(dt, FAIL_BOUND_S);
	ASSERT_EQ(self->page[0], 0x5a);
	if (variant->vmspliced) {
		ASSERT_EQ(ret, -1);
		ASSERT_EQ(err, ENOMEM);
		ASSERT_EQ(pfn, self->pfn);
	} else {
		ASSERT_EQ(ret, 0);
		ASSERT_TRUE(pfn < self->mstart || pfn >= self->mend);
	}
}

FIXTURE(memfd_pin)
{
	size_t hsize;
	int memfd;
	int udmabuf;
	long saved_nr;
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_SETUP(memfd_pin)
{
	unsigned long pfn, mstart, mend;
	int status;
	long kb;
	pid_t pid;

	self->memfd = -1;
	self->udmabuf = -1;
	self->saved_nr = -1;
	kb = meminfo_kb("Hugepagesize");
	if (kb <= 0)
		SETUP_SKIP(return, "no huge pages (CONFIG_HUGETLBFS)");
	self->hsize = kb * 1024;
	self->udmabuf = open(UDMABUF_DEV, O_RDWR);
	if (self->udmabuf < 0)
		SETUP_SKIP(return, "%s: %s (CONFIG_UDMABUF)", UDMABUF_DEV,
			   strerror(errno));
	if (read_long(NR_HUGEPAGES, &self->saved_nr) ||
	    write_long(NR_HUGEPAGES, self->saved_nr + 1)) {
		self->saved_nr = -1;
		SETUP_SKIP(return, "cannot set vm.nr_hugepages: %s (the test needs root)",
			   strerror(errno));
	}
	/* A page poisoned by an earlier case stays in the pool's count. */
	if (meminfo_kb("HugePages_Free") < 1)
		write_long(NR_HUGEPAGES, self->saved_nr + 2);
	TH_LOG("huge pages: total %ld, free %ld, reserved %ld, surplus %ld",
	       meminfo_kb("HugePages_Total"), meminfo_kb("HugePages_Free"),
	       meminfo_kb("HugePages_Rsvd"), meminfo_kb("HugePages_Surp"));
	self->memfd = memfd_create("fault_fail", MFD_HUGETLB | MFD_ALLOW_SEALING);
	if (self->memfd < 0)
		SETUP_SKIP(return, "memfd_create(MFD_HUGETLB): %s", strerror(errno));
	ASSERT_EQ(ftruncate(self->memfd, self->hsize), 0);
	ASSERT_EQ(fcntl(self->memfd, F_ADD_SEALS, F_SEAL_SHRINK), 0);

	/*
	 * A child faults the huge page into the memfd, reports its PFN and
	 * poisons it; memory failure may kill the child for it.
	 */
	pfn = 0;
	{
		int p[2];

		ASSERT_EQ(pipe(p), 0);
		pid = fork();
		ASSERT_GE(pid, 0);
		if (!pid) {
			char *m = mmap(NULL, self->hsize, PROT_READ | PROT_WRITE,
				       MAP_SHARED, self->memfd, 0);

			if (m == MAP_FAILED)
				_exit(1);
			m[0] = 1;
			pfn = pfn_of(m);
			if (write(p[1], &pfn, sizeof(pfn)) != sizeof(pfn))
				_exit(1);
			movable_zone(&mstart, &mend);
			if (pfn < mstart || pfn >= mend)
				_exit(2);
			if (madvise(m, getpagesize(), MADV_HWPOISON))
				_exit(3);
			_exit(0);
		}
		close(p[1]);
		if (read(p[0], &pfn, sizeof(pfn)) != sizeof(pfn))
			pfn = 0;
		close(p[0]);
		ASSERT_EQ(waitpid(pid, &status, 0), pid);
	}
	movable_zone(&mstart, &mend);
	TH_LOG("huge page at PFN %#lx, ZONE_MOVABLE %#lx-%#lx, child status %#x",
	       pfn, mstart, mend, status);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		SETUP_SKIP(return, "the huge page is not in ZONE_MOVABLE (boot with movablecore=)");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		SETUP_SKIP(return, "MADV_HWPOISON failed (CONFIG_MEMORY_FAILURE, root)");
	ASSERT_TRUE(!WIFEXITED(status) || WEXITSTATUS(status) == 0);
}

FIXTURE_TEARDOWN(memfd_pin)
{
	if (self->memfd >= 0)
		close(self->memfd);
	if (self->udmabuf >= 0)
		close(self->udmabuf);
	if (self->saved_nr >= 0)
		write_long(NR_HUGEPAGES, self->saved_nr);
}

/*
 * The same poisoned huge page through a mapping: io_uring registration
 * long-term pins it with GUP (__gup_longterm_locked()), whose fault on the
 * poisoned page fails (EFAULT: GUP says EHWPOISON only to callers that ask
 * with FOLL_HWPOISON) before any migration is tried.
 */
TEST_F_TIMEOUT(memfd_pin, io_uring_register_poisoned, FAIL_TIMEOUT_S)
{
	int ring, err;
	double t0;
	long ret;
	char *m;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ring = uring();
	if (ring < 0)
		SKIP(return, URING_SKIP, strerror(errno));
	m = mmap(NULL, self->hsize, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->memfd, 0);
	ASSERT_NE(m, MAP_FAILED);
	t0 = now_s();
	ret = uring_register(ring, m, self->hsize);
	err = errno;
	close(ring);
	munmap(m, self->hsize);
	expect_errno(_metadata, "io_uring registration of the poisoned huge page",
		     ret, err, t0, EFAULT);
}

/*
 * UDMABUF_CREATE of the poisoned huge page, in a child: it must fail with
 * EHWPOISON within the bound. A child still in the call then is killed,
 * the log says whether that ended it, and the case waits for the
 * harness's timeout, which reports the hang. It is the last case: a child
 * that spins cannot be killed, and it would slow every case after it (and
 * set off the soft lockup detector, where the kernel has one).
 */
TEST_F_TIMEOUT(memfd_pin, udmabuf_poisoned, 3 * FAIL_BOUND_S)
{
	struct udmabuf_create create = {
		.memfd = self->memfd,
		.offset = 0,
		.size = self->hsize,
	};
	int status;
	double t0;
	pid_t pid;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	t0 = now_s();
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		int null = open("/dev/null", O_RDWR), fd;

		/*
		 * A child that spins cannot be killed: it must not keep the
		 * test's output open, or a runner that reads it through a
		 * pipe (kselftest's) waits for it forever.
		 */
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0)
			_exit(1);
		for (fd = 3; fd < 1024; fd++)
			if (fd != self->udmabuf && fd != self->memfd)
				close(fd);
		fd = ioctl(self->udmabuf, UDMABUF_CREATE, &create);
		_exit(fd >= 0 ? 0 : errno);
	}
	status = wait_bounded(pid, t0);
	if (status == -1) {
		kill(pid, SIGKILL);
		t0 = now_s();
		status = wait_bounded(pid, t0);
		TH_LOG("UDMABUF_CREATE still running after %d s; %d s after SIGKILL: %s",
		       FAIL_BOUND_S, FAIL_BOUND_S,
		       status == -1 ? "still running" : "ended");
		for (;;)
			pause();
	}
	TH_LOG("UDMABUF_CREATE of the poisoned huge page: %s %d after %.2f s",
	       WIFEXITED(status) ? "exit" : "signal",
	       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
	       now_s() - t0);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), EHWPOISON);
}

TEST_HARNESS_MAIN
