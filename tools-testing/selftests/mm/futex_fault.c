// SPDX-License-Identifier: GPL-2.0
/*
 * Futex operations write the futex word with page faults disabled; when
 * that fails they must fault the page in for writing, a real fault, and
 * try again (fault_in_user_writeable()). Checked on futex words whose
 * first write faults:
 *  - ext2_untouched: a MAP_SHARED page of an ext2 file on a loop device
 *    that this process never touched (a shared file mapping with dirty
 *    tracking is write-notified: even a present page is read-only);
 *  - cow_after_fork: a private anonymous page shared copy-on-write with a
 *    child after fork();
 *  - pageout: a MAP_SHARED ext2 page reclaimed by MADV_PAGEOUT;
 *  - shmem_clean: a MAP_SHARED memfd page mapped by a read of its clean
 *    folio: present and writable, but clean;
 *  - anon_free: a private anonymous page written, then MADV_FREE: present
 *    and writable, but clean and old.
 * The last two are present and writable, so get_user_pages(FOLL_WRITE)
 * succeeds on them without a fault; where the CPU does not set the dirty
 * and access bits itself (arm64 without FEAT_HAFDBS), only a real write
 * fault makes the futex's own write succeed.
 * FUTEX_WAKE_OP, FUTEX_LOCK_PI and the robust-list cleanup at thread exit
 * must all succeed there. Private futexes are used so that nothing but the
 * operation itself touches the word. On a read-only or PROT_NONE mapping
 * they must fail with EFAULT within FAULT_BOUND_S seconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/loop.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "faultin_util.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MADV_FREE
#define MADV_FREE	8
#endif

#define FAULT_BOUND_S	5
/*
 * How long setup keeps asking MADV_PAGEOUT to reclaim the page. It is
 * usually at once; once in a kselftest-runner boot it was not within 3 s.
 */
#define PAGEOUT_S	10
/* Each case: PAGEOUT_S of setup at worst, and as long again for the rest. */
#define CASE_TIMEOUT_S	(2 * PAGEOUT_S)

enum kind { EXT2_UNTOUCHED, COW_AFTER_FORK, PAGEOUT, SHMEM_CLEAN, ANON_FREE };

static long futex(uint32_t *uaddr, int op, uint32_t val, unsigned long val2,
		  uint32_t *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

static pid_t gettid_(void)
{
	return syscall(SYS_gettid);
}

FIXTURE(ff)
{
	size_t psize;
	char mnt[64];
	char img[64];
	int loopfd;
	int filefd;
	pid_t child;
	uint32_t *word;
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_VARIANT(ff)
{
	enum kind kind;
};

FIXTURE_VARIANT_ADD(ff, ext2_untouched) { .kind = EXT2_UNTOUCHED };
FIXTURE_VARIANT_ADD(ff, cow_after_fork) { .kind = COW_AFTER_FORK };
FIXTURE_VARIANT_ADD(ff, pageout) { .kind = PAGEOUT };
FIXTURE_VARIANT_ADD(ff, shmem_clean) { .kind = SHMEM_CLEAN };
FIXTURE_VARIANT_ADD(ff, anon_free) { .kind = ANON_FREE };

/* An ext2 file system on a loop device, mounted on self->mnt. */
static int mount_ext2(FIXTURE_DATA(ff) *self)
{
	struct loop_info64 info = { 0 };
	char dev[32], cmd[96];
	int ctl, n, img;

	snprintf(self->img, sizeof(self->img), "/tmp/ff-%d.img", getpid());
	snprintf(self->mnt, sizeof(self->mnt), "/tmp/ff-%d", getpid());
	img = open(self->img, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (img < 0 || ftruncate(img, 4 << 20))
		return -1;
	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0)
		return -1;
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (n < 0)
		return -1;
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	self->loopfd = open(dev, O_RDWR);
	if (self->loopfd < 0 || ioctl(self->loopfd, LOOP_SET_FD, img))
		return -1;
	close(img);
	info.lo_flags = LO_FLAGS_AUTOCLEAR;
	ioctl(self->loopfd, LOOP_SET_STATUS64, &info);
	snprintf(cmd, sizeof(cmd), "mke2fs -q %s >/dev/null 2>&1", dev);
	if (system(cmd))
		return -1;
	mkdir(self->mnt, 0700);
	return mount(dev, self->mnt, "ext2", 0, NULL);
}

FIXTURE_SETUP(ff)
{
	char path[96];
	uint32_t zero[1024] = { 0 };
	unsigned char vec;

	self->psize = getpagesize();
	self->loopfd = self->filefd = -1;
	self->child = 0;
	self->mnt[0] = 0;
	self->word = MAP_FAILED;

	if (variant->kind == COW_AFTER_FORK || variant->kind == ANON_FREE) {
		self->word = mmap(NULL, self->psize, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(self->word, MAP_FAILED);
		*self->word = 0;
		/* COW_AFTER_FORK: the test forks once the word is set */
		return;
	}

	if (variant->kind == SHMEM_CLEAN) {
		self->filefd = memfd_create("futex_fault", 0);
		ASSERT_GE(self->filefd, 0);
		ASSERT_EQ(ftruncate(self->filefd, self->psize), 0);
		self->word = mmap(NULL, self->psize, PROT_READ | PROT_WRITE,
				  MAP_SHARED, self->filefd, 0);
		ASSERT_NE(self->word, MAP_FAILED);
		/*
		 * Mapped by a read while the folio is clean: the PTE is
		 * writable and clean, and stays clean when set_word() then
		 * dirties the folio with pwrite() (a read fault on a folio
		 * that is dirty already maps it dirty).
		 */
		ASSERT_EQ(__atomic_load_n(self->word, __ATOMIC_RELAXED), 0);
		return;
	}

	if (variant->kind == PAGEOUT)
		stay_on_this_cpu();	/* page cache and MADV_PAGEOUT */
	if (mount_ext2(self))
		SETUP_SKIP(return, "no ext2 on a loop device: %s %s",
			   strerror(errno),
			   "(CONFIG_BLK_DEV_LOOP, CONFIG_EXT2_FS, mke2fs)");
	snprintf(path, sizeof(path), "%s/word", self->mnt);
	self->filefd = open(path, O_RDWR | O_CREAT, 0600);
	ASSERT_GE(self->filefd, 0);
	ASSERT_EQ(write(self->filefd, zero, sizeof(zero)), sizeof(zero));
	ASSERT_EQ(fsync(self->filefd), 0);
	self->word = mmap(NULL, self->psize, PROT_READ | PROT_WRITE, MAP_SHARED,
			  self->filefd, 0);
	ASSERT_NE(self->word, MAP_FAILED);
	if (variant->kind == PAGEOUT) {
		double t0 = now_s();
		int tries = 0;

		*self->word = 0;	/* touched, then written back and reclaimed */
		ASSERT_EQ(msync(self->word, self->psize, MS_SYNC), 0);
		/* Reclaim can pass the page over (a loaded host): try again. */
		do {
			ASSERT_EQ(madvise(self->word, self->psize, MADV_PAGEOUT), 0);
			ASSERT_EQ(mincore(self->word, self->psize, &vec), 0);
			if (vec & 1)
				usleep(50000 * (1 + tries++ / 10));
		} while ((vec & 1) && now_s() - t0 < PAGEOUT_S);
		if (vec & 1)
			SETUP_SKIP(return,
				   "MADV_PAGEOUT left the page resident for %d s (%d tries)",
				   PAGEOUT_S, tries);
	}
}

FIXTURE_TEARDOWN(ff)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->word != MAP_FAILED)
		munmap(self->word, self->psize);
	if (self->filefd >= 0)
		close(self->filefd);
	if (self->mnt[0]) {
		umount(self->mnt);
		rmdir(self->mnt);
	}
	if (self->loopfd >= 0)
		close(self->loopfd);
	if (self->mnt[0])
		unlink(self->img);
}

/* Set the word to @val without touching our mapping of it, if it has one. */
static void set_word(struct __test_metadata *_metadata, FIXTURE_DATA(ff) *self,
		     const FIXTURE_VARIANT(ff) *variant, uint32_t val)
{
	if (variant->kind == EXT2_UNTOUCHED) {
		ASSERT_EQ(pwrite(self->filefd, &val, sizeof(val), 0), sizeof(val));
	} else if (variant->kind == SHMEM_CLEAN) {
		ASSERT_EQ(pwrite(self->filefd, &val, sizeof(val), 0), sizeof(val));
	} else if (variant->kind == ANON_FREE) {
		*self->word = val;
		/* Present, writable, clean and old; the value stays. */
		ASSERT_EQ(madvise(self->word, self->psize, MADV_FREE), 0);
	} else if (variant->kind == PAGEOUT) {
		ASSERT_EQ(pwrite(self->filefd, &val, sizeof(val), 0), sizeof(val));
		ASSERT_EQ(fdatasync(self->filefd), 0);
		ASSERT_EQ(madvise(self->word, self->psize, MADV_PAGEOUT), 0);
	} else {
		*self->word = val;
	}
}

/* Make the page copy-on-write shared with a child that just waits. */
static void share_cow(struct __test_metadata *_metadata, FIXTURE_DATA(ff) *self,
		      const FIXTURE_VARIANT(ff) *variant)
{
	if (variant->kind != COW_AFTER_FORK)
		return;
	self->child = fork();
	ASSERT_GE(self->child, 0);
	if (!self->child) {
		pause();
		_exit(0);
	}
}

/* The word as the page cache (or the process) holds it. */
static uint32_t read_word(FIXTURE_DATA(ff) *self)
{
	uint32_t val = 0;

	if (self->filefd >= 0 && pread(self->filefd, &val, sizeof(val), 0) == sizeof(val))
		return val;
	return *self->word;
}

TEST_F_TIMEOUT(ff, wake_op, CASE_TIMEOUT_S)
{
	uint32_t other = 0;
	long ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	set_word(_metadata, self, variant, 0);
	share_cow(_metadata, self, variant);
	/* Wake nobody on 'other'; set the word to 7 with the atomic op. */
	ret = futex(&other, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, 1, self->word,
		    FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 0));
	ASSERT_EQ(ret, 0) {
		TH_LOG("FUTEX_WAKE_OP: %s", strerror(errno));
	}
	ASSERT_EQ(read_word(self), 7);
}

TEST_F_TIMEOUT(ff, lock_pi, CASE_TIMEOUT_S)
{
	long ret;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	set_word(_metadata, self, variant, 0);
	share_cow(_metadata, self, variant);
	ret = futex(self->word, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, NULL, 0);
	ASSERT_EQ(ret, 0) {
		TH_LOG("FUTEX_LOCK_PI: %s", strerror(errno));
	}
	ASSERT_EQ(read_word(self) & FUTEX_TID_MASK, (uint32_t)gettid_());
	ASSERT_EQ(futex(self->word, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, NULL, 0), 0);
}

struct robust_owner {
	uint32_t *word;
	int to_main[2];
	int to_owner[2];
	struct robust_list entry;
	struct robust_list_head head;
};

/* Take the robust lock (the word holds our TID), wait for 'go', exit. */
static void *robust_owner(void *arg)
{
	struct robust_owner *o = arg;
	pid_t tid = gettid_();
	char go;

	o->head.list.next = &o->entry;
	o->head.futex_offset = (long)((char *)o->word - (char *)&o->entry);
	o->head.list_op_pending = NULL;
	o->entry.next = &o->head.list;
	if (syscall(SYS_set_robust_list, &o->head, sizeof(o->head)))
		tid = -1;
	if (write(o->to_main[1], &tid, sizeof(tid)) != sizeof(tid) ||
	    read(o->to_owner[0], &go, 1) != 1)
		return NULL;
	return NULL;	/* the kernel walks the robust list at exit */
}

TEST_F_TIMEOUT(ff, robust_exit, CASE_TIMEOUT_S)
{
	struct robust_owner o = { .word = self->word };
	pthread_t t;
	pid_t tid;

	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	ASSERT_EQ(pipe(o.to_main), 0);
	ASSERT_EQ(pipe(o.to_owner), 0);
	ASSERT_EQ(pthread_create(&t, NULL, robust_owner, &o), 0);
	ASSERT_EQ(read(o.to_main[0], &tid, sizeof(tid)), sizeof(tid));
	ASSERT_GT(tid, 0);
	set_word(_metadata, self, variant, tid);
	share_cow(_metadata, self, variant);
	ASSERT_EQ(write(o.to_owner[1], "g", 1), 1);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	/* The owner died holding it: the kernel marked the word. */
	ASSERT_EQ(read_word(self), FUTEX_OWNER_DIED) {
		TH_LOG("word is %#x", read_word(self));
	}
}

/* Not writable at all: EFAULT, promptly. */
static void expect_efault(struct __test_metadata *_metadata, int prot)
{
	struct timespec a, b;
	uint32_t *w, other = 0;
	long r1, r2;
	int e1, e2;

	w = mmap(NULL, getpagesize(), prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(w, MAP_FAILED);
	clock_gettime(CLOCK_MONOTONIC, &a);
	r1 = futex(w, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, NULL, 0);
	e1 = errno;
	r2 = futex(&other, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, 1, w,
		   FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 0));
	e2 = errno;
	clock_gettime(CLOCK_MONOTONIC, &b);
	munmap(w, getpagesize());
	EXPECT_EQ(r1, -1);
	EXPECT_EQ(e1, EFAULT);
	EXPECT_EQ(r2, -1);
	EXPECT_EQ(e2, EFAULT);
	EXPECT_LT(b.tv_sec - a.tv_sec, FAULT_BOUND_S);
}

TEST(readonly_efault)
{
	expect_efault(_metadata, PROT_READ);
}

TEST(protnone_efault)
{
	expect_efault(_metadata, PROT_NONE);
}

TEST_HARNESS_MAIN
