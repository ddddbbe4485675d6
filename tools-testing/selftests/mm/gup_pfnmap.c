// SPDX-License-Identifier: GPL-2.0
/*
 * Pinning user memory that has no struct page behind it must fail with
 * EFAULT: never succeed with pages[] entries that are not pages, and
 * never hand GUP's internal -EEXIST to userspace.
 *
 * Two kinds of such memory, one fixture variant each:
 *
 * devmem: a MAP_SHARED mapping of low physical memory through /dev/mem
 *	(a VM_IO | VM_PFNMAP mapping; x86's STRICT_DEVMEM allows the first
 *	megabyte). GUP refuses the whole VMA before it looks at a PTE.
 * mixedmap: a MAP_SHARED mapping of /sys/kernel/debug/gup_test (a
 *	VM_MIXEDMAP mapping whose PTEs are special, as a driver's mapping
 *	of device memory is). GUP finds a present PTE with no page behind
 *	it; this is the path where a FOLL_PIN caller once got garbage in
 *	pages[]. The variant skips on kernels whose gup_test cannot be
 *	mapped.
 *
 * O_DIRECT reads into the mapping, O_DIRECT writes from it, registering
 * it as an io_uring fixed buffer, vmsplice()ing it and a long-term pin
 * through gup_test (PIN_LONGTERM_TEST_START, with and without GUP-fast)
 * must all fail with EFAULT, and the process must carry on (a kernel
 * splat while a case runs is reported by the harness as a crash).
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
#include <linux/io_uring.h>
#include <linux/types.h>

#include "../kselftest_harness.h"
#include "faultin_util.h"

#define PHYS_OFFSET	0xf0000UL	/* the BIOS area, below 1 MiB */

FIXTURE(pfnmap)
{
	size_t psize;
	int memfd;
	int gupfd;
	int gup_err;		/* why gupfd could not be opened */
	int diofd;
	char *map;
	struct eio_disk disk;
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_VARIANT(pfnmap)
{
	const char *path;
	unsigned long offset;
	const char *what;
};

FIXTURE_VARIANT_ADD(pfnmap, devmem)
{
	.path = "/dev/mem",
	.offset = PHYS_OFFSET,
	.what = "a VM_PFNMAP mapping of /dev/mem",
};

FIXTURE_VARIANT_ADD(pfnmap, mixedmap)
{
	.path = GUP_TEST_FILE,
	.offset = 0,
	.what = "a VM_MIXEDMAP mapping of special PTEs",
};

FIXTURE_SETUP(pfnmap)
{
	self->psize = getpagesize();
	self->gupfd = -1;
	self->diofd = -1;
	self->disk.made = 0;
	self->map = MAP_FAILED;
	self->memfd = open(variant->path, O_RDWR | O_SYNC);
	if (self->memfd < 0)
		SETUP_SKIP(return, "%s: %s (CONFIG_DEVMEM, CONFIG_GUP_TEST)",
			   variant->path, strerror(errno));
	self->map = mmap(NULL, self->psize, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->memfd, variant->offset);
	if (self->map == MAP_FAILED)
		SETUP_SKIP(return, "mmap of %s at %#lx: %s", variant->path,
			   variant->offset, strerror(errno));
	/* Fault the PTE in, so GUP finds it present. */
	TH_LOG("%s, first byte %#x", variant->what,
	       (unsigned char)self->map[0]);
	self->gupfd = open(GUP_TEST_FILE, O_RDWR);
	self->gup_err = errno;
	if (eio_disk_get(&self->disk, self->skip, sizeof(self->skip)))
		return;
	self->diofd = open(self->disk.dev, O_RDWR | O_DIRECT);
	ASSERT_GE(self->diofd, 0);
}

FIXTURE_TEARDOWN(pfnmap)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->psize);
	if (self->diofd >= 0)
		close(self->diofd);
	if (self->gupfd >= 0)
		close(self->gupfd);
	if (self->memfd >= 0)
		close(self->memfd);
	eio_disk_put(&self->disk);
}

/* @what failed with @ret and @err: it must be -1 and EFAULT. */
static void expect_efault(struct __test_metadata *_metadata,
			  const char *what, long ret, int err)
{
	TH_LOG("%s: ret %ld errno %d (%s)", what, ret, ret < 0 ? err : 0,
	       ret < 0 ? strerror(err) : "none");
	ASSERT_EQ(ret, -1);
	ASSERT_EQ(err, EFAULT);
}

TEST_F_TIMEOUT(pfnmap, odirect_read_into, 30)
{
	ssize_t ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ret = pread(self->diofd, self->map, self->psize, 0);
	expect_efault(_metadata, "O_DIRECT read into it", ret, errno);
}

TEST_F_TIMEOUT(pfnmap, odirect_write_from, 30)
{
	ssize_t ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ret = pwrite(self->diofd, self->map, self->psize, 0);
	expect_efault(_metadata, "O_DIRECT write from it", ret, errno);
}

TEST_F_TIMEOUT(pfnmap, io_uring_register_buffer, 30)
{
	struct io_uring_params p = { 0 };
	struct iovec iov = { .iov_base = self->map, .iov_len = self->psize };
	int ring, ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ring = syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0)
		SKIP(return, "io_uring_setup: %s (CONFIG_IO_URING)", strerror(errno));
	ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		      &iov, 1);
	expect_efault(_metadata, "io_uring buffer registration", ret, errno);
	close(ring);
}

TEST_F_TIMEOUT(pfnmap, vmsplice, 30)
{
	struct iovec iov = { .iov_base = self->map, .iov_len = self->psize };
	int fds[2];
	ssize_t ret;
	int err;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(pipe(fds), 0);
	ret = vmsplice(fds[1], &iov, 1, 0);
	err = errno;
	close(fds[0]);
	close(fds[1]);
	expect_efault(_metadata, "vmsplice()", ret, err);
}

static void pin_longterm(struct __test_metadata *_metadata,
			 FIXTURE_DATA(pfnmap) *self, unsigned int flags)
{
	struct pin_longterm_test args = {
		.addr = (unsigned long)self->map,
		.size = self->psize,
		.flags = flags,
	};
	int ret, err;

	if (self->gupfd < 0)
		SKIP(return, "%s: %s (CONFIG_GUP_TEST)", GUP_TEST_FILE,
		     strerror(self->gup_err));
	/* First a page that pins: the ioctl came in 6.2. */
	args.addr = (unsigned long)&self->psize & ~(self->psize - 1);
	if (ioctl(self->gupfd, PIN_LONGTERM_TEST_START, &args))
		SKIP(return, "gup_test PIN_LONGTERM_TEST_START: %s (before 6.2)",
		     strerror(errno));
	ioctl(self->gupfd, PIN_LONGTERM_TEST_STOP);
	args.addr = (unsigned long)self->map;
	ret = ioctl(self->gupfd, PIN_LONGTERM_TEST_START, &args);
	err = errno;
	if (!ret)
		ioctl(self->gupfd, PIN_LONGTERM_TEST_STOP);
	expect_efault(_metadata, flags ? "gup_test long-term pin, GUP-fast" :
		      "gup_test long-term pin", ret, err);
}

TEST_F_TIMEOUT(pfnmap, gup_test_pin_longterm, 30)
{
	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	pin_longterm(_metadata, self, 0);
}

TEST_F_TIMEOUT(pfnmap, gup_test_pin_longterm_fast, 30)
{
	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	pin_longterm(_metadata, self, PIN_LONGTERM_TEST_FLAG_USE_FAST);
}

TEST_HARNESS_MAIN
