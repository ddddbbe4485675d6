// SPDX-License-Identifier: GPL-2.0
/*
 * Pinning user memory that has no struct page behind it must fail with
 * EFAULT: never succeed with pages[] entries that are not pages.
 *
 * The memory is a MAP_SHARED mapping of low physical memory through
 * /dev/mem (a VM_IO | VM_PFNMAP mapping; x86's STRICT_DEVMEM allows the
 * first megabyte). O_DIRECT reads into it, O_DIRECT writes from it,
 * registering it as an io_uring fixed buffer and vmsplice()ing it must all
 * fail with EFAULT, and the process must carry on (a kernel splat while a
 * case runs is reported by the harness as a crash).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/io_uring.h>

#include "../kselftest_harness.h"
#include "faultin_util.h"

#define PHYS_OFFSET	0xf0000UL	/* the BIOS area, below 1 MiB */

FIXTURE(pfnmap)
{
	size_t psize;
	int memfd;
	int diofd;
	char *map;
	struct scsi_debug sd;
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_SETUP(pfnmap)
{
	self->psize = getpagesize();
	self->diofd = -1;
	self->sd.loaded = 0;
	self->map = MAP_FAILED;
	self->memfd = open("/dev/mem", O_RDWR | O_SYNC);
	if (self->memfd < 0)
		SETUP_SKIP(return, "/dev/mem: %s (CONFIG_DEVMEM)", strerror(errno));
	self->map = mmap(NULL, self->psize, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->memfd, PHYS_OFFSET);
	if (self->map == MAP_FAILED)
		SETUP_SKIP(return, "mmap of /dev/mem at %#lx: %s", PHYS_OFFSET,
			   strerror(errno));
	if (scsi_debug_get(&self->sd, self->skip, sizeof(self->skip)))
		return;
	self->diofd = open(self->sd.dev, O_RDWR | O_DIRECT);
	ASSERT_GE(self->diofd, 0);
}

FIXTURE_TEARDOWN(pfnmap)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->psize);
	if (self->diofd >= 0)
		close(self->diofd);
	if (self->memfd >= 0)
		close(self->memfd);
	scsi_debug_put(&self->sd);
}

TEST_F_TIMEOUT(pfnmap, odirect_read_into, 30)
{
	ssize_t ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ret = pread(self->diofd, self->map, self->psize, 0);
	ASSERT_EQ(ret, -1) {
		TH_LOG("O_DIRECT read into a PFN mapping returned %zd", ret);
	}
	ASSERT_EQ(errno, EFAULT);
}

TEST_F_TIMEOUT(pfnmap, odirect_write_from, 30)
{
	ssize_t ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ret = pwrite(self->diofd, self->map, self->psize, 0);
	ASSERT_EQ(ret, -1) {
		TH_LOG("O_DIRECT write from a PFN mapping returned %zd", ret);
	}
	ASSERT_EQ(errno, EFAULT);
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
	close(ring);
	ASSERT_EQ(ret, -1);
	ASSERT_EQ(errno, EFAULT);
}

TEST_F_TIMEOUT(pfnmap, vmsplice, 30)
{
	struct iovec iov = { .iov_base = self->map, .iov_len = self->psize };
	int fds[2];
	ssize_t ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(pipe(fds), 0);
	ret = vmsplice(fds[1], &iov, 1, 0);
	close(fds[0]);
	close(fds[1]);
	ASSERT_EQ(ret, -1);
	ASSERT_EQ(errno, EFAULT);
}

TEST_HARNESS_MAIN
