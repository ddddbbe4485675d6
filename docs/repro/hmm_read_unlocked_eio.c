// SPDX-License-Identifier: GPL-2.0
/*
 * Reproducer (not yet a selftest) for hmm_range_fault_unlocked_timeout()
 * retrying forever on a file page whose read fails: see docs/audit.md.
 *
 * Needs a kernel with CONFIG_TEST_HMM (/dev/hmm_dmirror0) and the
 * harness's scsi_debug disk as /dev/sda (scsi_debug.dev_size_mb=8
 * scsi_debug.opts=2: reads of sector 0x1234, in page 582, fail). Each
 * read runs in a child that is killed after 15 s; run as root.
 *
 * Built and run on 2026-11-29: gcc -static -O2 -Wall -o hmm_eio
 * hmm_read_unlocked_eio.c, packed into the harness's initramfs as
 * /faultin/hmm_eio, booted with faultin.test=hmm_eio.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

struct hmm_dmirror_cmd { __u64 addr, ptr, npages, cpages, faults; };
#define HMM_DMIRROR_READ		_IOWR('H', 0x00, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_READ_UNLOCKED	_IOWR('H', 0x09, struct hmm_dmirror_cmd)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int one(const char *name, unsigned long req, unsigned long page)
{
	int st;
	double t0 = now();
	pid_t pid = fork();

	if (!pid) {
		long ps = getpagesize();
		int d = open("/dev/hmm_dmirror0", O_RDWR);
		int fd = open("/dev/sda", O_RDONLY);
		char *buf = malloc(ps);
		char *map;
		struct hmm_dmirror_cmd c = { 0 };

		if (d < 0 || fd < 0) {
			printf("%s: open: %s\n", name, strerror(errno));
			_exit(4);
		}
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		map = mmap(NULL, (page + 16) * ps, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			_exit(5);
		c.addr = (unsigned long)map + page * ps;
		c.ptr = (unsigned long)buf;
		c.npages = 1;
		if (ioctl(d, req, &c))
			printf("%s: -1 %s faults=%llu\n", name, strerror(errno),
			       (unsigned long long)c.faults);
		else
			printf("%s: 0 faults=%llu\n", name, (unsigned long long)c.faults);
		fflush(stdout);
		_exit(0);
	}
	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		if (now() - t0 > 15) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			printf("%s: HANG: still in the ioctl after 15 s, killed\n", name);
			return 1;
		}
		usleep(50000);
	}
	printf("%s: returned in %.2f s\n", name, now() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long bad = 0x1234 * 512 / getpagesize();

	one("good page, HMM_DMIRROR_READ", HMM_DMIRROR_READ, 10);
	one("good page, HMM_DMIRROR_READ_UNLOCKED", HMM_DMIRROR_READ_UNLOCKED, 10);
	one("bad page, HMM_DMIRROR_READ", HMM_DMIRROR_READ, bad);
	one("bad page, HMM_DMIRROR_READ_UNLOCKED", HMM_DMIRROR_READ_UNLOCKED, bad);
	return 0;
}
