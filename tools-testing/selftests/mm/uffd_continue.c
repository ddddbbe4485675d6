// SPDX-License-Identifier: GPL-2.0
/*
 * UFFDIO_CONTINUE resolves a minor fault: the page is in the page cache but
 * not mapped. Checked on shmem and hugetlbfs, through MAP_SHARED and
 * MAP_PRIVATE mappings:
 *  - a thread blocked on a minor fault is released by UFFDIO_CONTINUE from
 *    another thread and reads the page-cache contents; 'mapped' reports the
 *    length;
 *  - on a private mapping the page is mapped read-only, so a later write
 *    gets a private copy and the page cache, seen through a second shared
 *    mapping, is unchanged; on a shared mapping the write reaches it;
 *  - UFFDIO_CONTINUE_MODE_DONTWAKE leaves the thread blocked until
 *    UFFDIO_WAKE;
 *  - bad input fails with the documented errno: unaligned start or length,
 *    a range that wraps, unknown mode bits, a page not in the page cache,
 *    and an anonymous range (which cannot be registered for minor faults;
 *    a range registered without MINOR mode is not offered the ioctl).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "../kselftest_harness.h"
#include "faultin_util.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif

#define NR_PAGES	4	/* the last one is never in the page cache */
#define HPAGE_SIZE	(2UL << 20)

struct reader {
	char *addr;
	char seen;
	atomic_int done;
};

static void *read_one(void *arg)
{
	struct reader *r = arg;

	r->seen = __atomic_load_n(r->addr, __ATOMIC_RELAXED);	/* faults */
	atomic_store(&r->done, 1);
	return NULL;
}

static bool wait_done(struct reader *r, int ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (; ms > 0; ms -= 10) {
		if (atomic_load(&r->done))
			return true;
		nanosleep(&ts, NULL);
	}
	return atomic_load(&r->done);
}

static long hugepages_free(void)
{
	char buf[128];
	long n = 0;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

FIXTURE(cont)
{
	size_t page;
	size_t len;
	int memfd;
	int uffd;
	char *alias;	/* MAP_SHARED: the page cache as it is */
	char *area;	/* registered for minor faults */
	__u64 ioctls;
	char skip[512];	/* SETUP_SKIP() */
};

FIXTURE_VARIANT(cont)
{
	bool hugetlb;
	int map_flags;
};

FIXTURE_VARIANT_ADD(cont, shmem_shared) { .hugetlb = false, .map_flags = MAP_SHARED };
FIXTURE_VARIANT_ADD(cont, shmem_private) { .hugetlb = false, .map_flags = MAP_PRIVATE };
FIXTURE_VARIANT_ADD(cont, hugetlb_shared) { .hugetlb = true, .map_flags = MAP_SHARED };
FIXTURE_VARIANT_ADD(cont, hugetlb_private) { .hugetlb = true, .map_flags = MAP_PRIVATE };

FIXTURE_SETUP(cont)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	int i;

	self->uffd = -1;
	self->memfd = -1;
	self->alias = self->area = MAP_FAILED;
	self->page = variant->hugetlb ? HPAGE_SIZE : (size_t)getpagesize();
	self->len = NR_PAGES * self->page;
	if (variant->hugetlb && hugepages_free() < 2 * NR_PAGES)
		SETUP_SKIP(return, "needs %d free 2 MiB huge pages (vm.nr_hugepages)",
			   2 * NR_PAGES);

	self->uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (self->uffd < 0)
		SETUP_SKIP(return, "userfaultfd: %s", strerror(errno));
	api.features = variant->hugetlb ? UFFD_FEATURE_MINOR_HUGETLBFS :
					  UFFD_FEATURE_MINOR_SHMEM;
	if (ioctl(self->uffd, UFFDIO_API, &api))
		SETUP_SKIP(return, "no minor fault support for this memory type");

	self->memfd = memfd_create("uffd_continue",
				   variant->hugetlb ? MFD_HUGETLB : 0);
	ASSERT_GE(self->memfd, 0);
	ASSERT_EQ(ftruncate(self->memfd, self->len), 0);
	self->alias = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   self->memfd, 0);
	ASSERT_NE(self->alias, MAP_FAILED);
	for (i = 0; i < NR_PAGES - 1; i++)
		memset(self->alias + i * self->page, 'A' + i, self->page);

	self->area = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			  variant->map_flags, self->memfd, 0);
	ASSERT_NE(self->area, MAP_FAILED);
	reg.range.start = (unsigned long)self->area;
	reg.range.len = self->len;
	reg.mode = UFFDIO_REGISTER_MODE_MINOR;
	ASSERT_EQ(ioctl(self->uffd, UFFDIO_REGISTER, &reg), 0);
	self->ioctls = reg.ioctls;
}

FIXTURE_TEARDOWN(cont)
{
	if (self->area != MAP_FAILED)
		munmap(self->area, self->len);
	if (self->alias != MAP_FAILED)
		munmap(self->alias, self->len);
	if (self->memfd >= 0)
		close(self->memfd);
	if (self->uffd >= 0)
		close(self->uffd);
}

/* Wait for the minor fault event the reader of page @n raises. */
static void expect_minor_fault(struct __test_metadata *_metadata,
			       FIXTURE_DATA(cont) *self, int n)
{
	struct pollfd pfd = { .fd = self->uffd, .events = POLLIN };
	struct uffd_msg msg;

	ASSERT_EQ(poll(&pfd, 1, 5000), 1);
	ASSERT_EQ(read(self->uffd, &msg, sizeof(msg)), sizeof(msg));
	ASSERT_EQ(msg.event, UFFD_EVENT_PAGEFAULT);
	ASSERT_TRUE(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR);
	ASSERT_EQ(msg.arg.pagefault.address & ~(self->page - 1),
		  (unsigned long)self->area + n * self->page);
}

static int do_continue(FIXTURE_DATA(cont) *self, unsigned long start,
		       unsigned long len, __u64 mode, __s64 *mapped)
{
	struct uffdio_continue c = {
		.range = { .start = start, .len = len },
		.mode = mode,
	};
	int ret = ioctl(self->uffd, UFFDIO_CONTINUE, &c);

	if (mapped)
		*mapped = c.mapped;
	return ret;
}

/* Fault page @n in from another thread and resolve it with CONTINUE. */
static void fault_and_continue(struct __test_metadata *_metadata,
			       FIXTURE_DATA(cont) *self, int n)
{
	struct reader r = { .addr = self->area + n * self->page };
	unsigned long start = (unsigned long)self->area + n * self->page;
	pthread_t t;
	__s64 mapped;

	ASSERT_EQ(pthread_create(&t, NULL, read_one, &r), 0);
	expect_minor_fault(_metadata, self, n);
	ASSERT_EQ(do_continue(self, start, self->page, 0, &mapped), 0);
	ASSERT_EQ(mapped, (__s64)self->page);
	ASSERT_TRUE(wait_done(&r, 5000));
	ASSERT_EQ(pthread_join(t, NULL), 0);
	ASSERT_EQ(r.seen, 'A' + n);
}

TEST_F_TIMEOUT(cont, resolves_minor_fault, 30)
{
	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_TRUE(self->ioctls & (1ULL << _UFFDIO_CONTINUE));
	fault_and_continue(_metadata, self, 0);
}

TEST_F_TIMEOUT(cont, write_after_continue, 30)
{
	char *p = self->area + self->page;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	fault_and_continue(_metadata, self, 1);
	p[0] = 'Z';
	p[self->page - 1] = 'Z';
	if (variant->map_flags == MAP_PRIVATE) {
		/* A private copy: the page cache keeps 'B'. */
		EXPECT_EQ(self->alias[self->page], 'B');
		EXPECT_EQ(self->alias[2 * self->page - 1], 'B');
	} else {
		EXPECT_EQ(self->alias[self->page], 'Z');
	}
	EXPECT_EQ(p[0], 'Z');
	EXPECT_EQ(p[1], 'B');
}

TEST_F_TIMEOUT(cont, dontwake_until_wake, 30)
{
	struct reader r = { .addr = self->area + 2 * self->page };
	unsigned long start = (unsigned long)self->area + 2 * self->page;
	struct uffdio_range range = { .start = start, .len = self->page };
	pthread_t t;
	__s64 mapped;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(pthread_create(&t, NULL, read_one, &r), 0);
	expect_minor_fault(_metadata, self, 2);
	ASSERT_EQ(do_continue(self, start, self->page,
			      UFFDIO_CONTINUE_MODE_DONTWAKE, &mapped), 0);
	ASSERT_EQ(mapped, (__s64)self->page);
	EXPECT_FALSE(wait_done(&r, 300)) {
		TH_LOG("the faulting thread ran on without UFFDIO_WAKE");
	}
	ASSERT_EQ(ioctl(self->uffd, UFFDIO_WAKE, &range), 0);
	ASSERT_TRUE(wait_done(&r, 5000));
	ASSERT_EQ(pthread_join(t, NULL), 0);
	ASSERT_EQ(r.seen, 'C');
}

TEST_F_TIMEOUT(cont, bad_input, 30)
{
	unsigned long start = (unsigned long)self->area;
	struct uffdio_register reg = { 0 };
	__s64 mapped;
	char *anon;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	/* Unaligned start, unaligned length, a range that wraps around. */
	EXPECT_EQ(do_continue(self, start + 1, self->page, 0, &mapped), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(do_continue(self, start, self->page + 1, 0, &mapped), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(do_continue(self, start, -self->page, 0, &mapped), -1);
	EXPECT_EQ(errno, EINVAL);
	/* A mode bit the kernel does not know. */
	EXPECT_EQ(do_continue(self, start, self->page, 1ULL << 40, &mapped), -1);
	EXPECT_EQ(errno, EINVAL);
	/* The last page was never written: nothing in the page cache. */
	EXPECT_EQ(do_continue(self, start + (NR_PAGES - 1) * self->page,
			      self->page, 0, &mapped), -1);
	EXPECT_EQ(errno, EFAULT);

	/* Registered without MINOR mode: the ioctl is not offered ... */
	anon = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(anon, MAP_FAILED);
	reg.range.start = (unsigned long)anon;
	reg.range.len = getpagesize();
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(ioctl(self->uffd, UFFDIO_REGISTER, &reg), 0);
	EXPECT_FALSE(reg.ioctls & (1ULL << _UFFDIO_CONTINUE));
	/* ... and refused on anonymous memory. */
	EXPECT_EQ(do_continue(self, (unsigned long)anon, getpagesize(), 0,
			      &mapped), -1);
	EXPECT_EQ(errno, EINVAL);
	munmap(anon, self->page);
}

TEST_HARNESS_MAIN
