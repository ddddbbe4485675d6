// SPDX-License-Identifier: GPL-2.0
/*
 * mlock() populates its range with mmap_lock held for read, but a fault
 * may drop the lock and ask to be retried. While it is dropped the VMAs
 * can change; the retry must then follow the new mapping.
 *
 * A userfaultfd MISSING fault drops the lock deterministically: the fault
 * waits for the handler thread with mmap_lock released. The handler first
 * changes the mapping under the faulting address (replaces it, makes it
 * PROT_NONE, or unmaps it) and only then wakes the fault. mlock() must
 * come back with what the new layout implies, populate what is there, and
 * leave the kernel healthy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "../kselftest_harness.h"
#include "faultin_util.h"

#define NR_PAGES	8

enum change { REPLACE, PROTNONE, UNMAP };

struct handler {
	int uffd;
	char *area;
	size_t len;
	enum change change;
	int err;		/* first error in the handler, 0 if none */
	unsigned long fault_addr;
};

static void *handle_one_fault(void *arg)
{
	struct handler *h = arg;
	struct uffdio_range range;
	struct uffd_msg msg;
	struct pollfd pfd = { .fd = h->uffd, .events = POLLIN };
	void *p;

	if (poll(&pfd, 1, 10000) != 1 || read(h->uffd, &msg, sizeof(msg)) != sizeof(msg)) {
		h->err = errno ? errno : ETIMEDOUT;
		return NULL;
	}
	if (msg.event != UFFD_EVENT_PAGEFAULT) {
		h->err = EPROTO;
		return NULL;
	}
	h->fault_addr = msg.arg.pagefault.address;

	/* The faulting task waits with mmap_lock dropped: change the VMA. */
	switch (h->change) {
	case REPLACE:
		p = mmap(h->area, h->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p != h->area)
			h->err = errno;
		break;
	case PROTNONE:
		if (mprotect(h->area, h->len, PROT_NONE))
			h->err = errno;
		break;
	case UNMAP:
		if (munmap(h->area, h->len))
			h->err = errno;
		break;
	}

	range.start = (unsigned long)h->area;
	range.len = h->len;
	if (ioctl(h->uffd, UFFDIO_WAKE, &range) && !h->err)
		h->err = errno;
	return NULL;
}

FIXTURE(vma_change)
{
	size_t psize;
	size_t len;
	char *area;
	int uffd;
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_VARIANT(vma_change)
{
	enum change change;
	int mlock_ret;
	int mlock_errno;
	bool resident;
};

/* A new anonymous VMA: the retry populates it and mlock() succeeds. */
FIXTURE_VARIANT_ADD(vma_change, replaced)
{
	.change = REPLACE,
	.mlock_ret = 0,
	.resident = true,
};

/* The new VMA is not accessible: the retry fails, mlock() says ENOMEM. */
FIXTURE_VARIANT_ADD(vma_change, protnone)
{
	.change = PROTNONE,
	.mlock_ret = -1,
	.mlock_errno = ENOMEM,
};

/* No VMA any more: nothing is left to populate. */
FIXTURE_VARIANT_ADD(vma_change, unmapped)
{
	.change = UNMAP,
	.mlock_ret = 0,
};

FIXTURE_SETUP(vma_change)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };

	self->psize = getpagesize();
	self->len = NR_PAGES * self->psize;
	self->area = MAP_FAILED;
	self->uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (self->uffd < 0)
		SETUP_SKIP(return, "userfaultfd: %s (CONFIG_USERFAULTFD)", strerror(errno));
	ASSERT_EQ(ioctl(self->uffd, UFFDIO_API, &api), 0);

	self->area = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->area, MAP_FAILED);
	reg.range.start = (unsigned long)self->area;
	reg.range.len = self->len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(ioctl(self->uffd, UFFDIO_REGISTER, &reg), 0);
}

FIXTURE_TEARDOWN(vma_change)
{
	munlockall();
	if (self->area != MAP_FAILED)
		munmap(self->area, self->len);
	if (self->uffd >= 0)
		close(self->uffd);
}

TEST_F_TIMEOUT(vma_change, mlock_retry_follows_new_vma, 20)
{
	struct handler h = {
		.uffd = self->uffd,
		.area = self->area,
		.len = self->len,
		.change = variant->change,
	};
	unsigned char vec[NR_PAGES];
	pthread_t thread;
	int ret, err, i;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(pthread_create(&thread, NULL, handle_one_fault, &h), 0);
	ret = mlock(self->area, self->len);
	err = errno;
	ASSERT_EQ(pthread_join(thread, NULL), 0);

	ASSERT_EQ(h.err, 0);
	ASSERT_EQ(h.fault_addr, (unsigned long)self->area);
	TH_LOG("mlock after the VMA changed: ret %d errno %d", ret, ret ? err : 0);
	ASSERT_EQ(ret, variant->mlock_ret);
	if (ret)
		ASSERT_EQ(err, variant->mlock_errno);
	if (variant->change == UNMAP) {
		ASSERT_EQ(mincore(self->area, self->len, vec), -1);
		ASSERT_EQ(errno, ENOMEM);
		self->area = MAP_FAILED;
		return;
	}
	if (!variant->resident)
		return;
	ASSERT_EQ(mincore(self->area, self->len, vec), 0);
	for (i = 0; i < NR_PAGES; i++)
		EXPECT_TRUE(vec[i] & 1) {
			TH_LOG("page %d of the new VMA is not resident", i);
		}
}

TEST_HARNESS_MAIN
