// SPDX-License-Identifier: GPL-2.0
/*
 * Read-only long-term pins, through GUP-fast, of an exclusive anonymous
 * hugetlb folio that is mapped read-only (gup_test's
 * PIN_LONGTERM_TEST_START with PIN_LONGTERM_TEST_FLAG_USE_FAST, which
 * calls pin_user_pages_fast(FOLL_LONGTERM)).
 *
 * A R/O pin asks whether the page is exclusive to this process
 * (gup_must_unshare(), PageAnonExclusive()). hugetlb keeps that flag on
 * the head page only. Where a hugetlb folio is mapped by several PTEs
 * (arm64's contiguous PTEs: 64 kB pages on a 4 kB base page kernel),
 * GUP-fast walks it PTE by PTE and asks about each subpage: the question
 * must be answered from the head page, or CONFIG_DEBUG_VM_PGFLAGS kernels
 * hit a VM_BUG_ON and others refuse the pin in GUP-fast.
 *
 * Variants: pmd, the default size; cont_pte, the smallest hugetlb size
 * below the default one (skipped where there is none, as on x86_64).
 * pin_tail pins only the folio's second base page, pin_all all of it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/types.h>

#include "../kselftest_harness.h"
#include "faultin_util.h"

#define HUGEPAGES_DIR	"/sys/kernel/mm/hugepages"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif

/*
 * Free pages of the size each case makes sure of before it maps one: one
 * for itself and one for the next case, so that a case whose process
 * died holding its page (a kernel oops) leaves the next one a page.
 */
#define POOL_SPARE	2

enum size_kind { CONT_PTE, PMD };

FIXTURE(pin)
{
	size_t psize;
	unsigned long kb;	/* hugetlb page size */
	long nr_before;		/* the pool as setup found it, -1: unchanged */
	int gupfd;
	char *map;
	char skip[512];		/* SETUP_SKIP() */
};

FIXTURE_VARIANT(pin)
{
	enum size_kind size;
};

/* cont_pte last: a kernel that oopses in its pins does so at the end. */
FIXTURE_VARIANT_ADD(pin, pmd) { .size = PMD };
FIXTURE_VARIANT_ADD(pin, cont_pte) { .size = CONT_PTE };

static long pool_read(unsigned long kb, const char *what)
{
	char path[128];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), HUGEPAGES_DIR "/hugepages-%lukB/%s", kb, what);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

static int pool_write(unsigned long kb, long nr)
{
	char path[128];
	int ret;
	FILE *f;

	snprintf(path, sizeof(path), HUGEPAGES_DIR "/hugepages-%lukB/nr_hugepages", kb);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", nr) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/* The smallest hugetlb size below @def_kb, or 0. */
static unsigned long smaller_size(unsigned long def_kb)
{
	unsigned long kb, best = 0;
	struct dirent *e;
	DIR *d;

	d = opendir(HUGEPAGES_DIR);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (sscanf(e->d_name, "hugepages-%lukB", &kb) == 1 &&
		    kb < def_kb && (!best || kb < best))
			best = kb;
	closedir(d);
	return best;
}

FIXTURE_SETUP(pin)
{
	long def_kb;
	long nr, free_pages;
	int shift;

	self->psize = getpagesize();
	self->nr_before = -1;
	self->map = MAP_FAILED;
	self->gupfd = open(GUP_TEST_FILE, O_RDWR);
	if (self->gupfd < 0)
		SETUP_SKIP(return, "%s: %s (CONFIG_GUP_TEST)", GUP_TEST_FILE,
			   strerror(errno));

	def_kb = meminfo_kb("Hugepagesize");
	if (def_kb <= 0)
		SETUP_SKIP(return, "no Hugepagesize in /proc/meminfo (CONFIG_HUGETLBFS)");
	self->kb = variant->size == PMD ? def_kb : smaller_size(def_kb);
	if (!self->kb)
		SETUP_SKIP(return, "no hugetlb size below the default %lu kB (as arm64's cont-PTE)",
			   def_kb);

	nr = pool_read(self->kb, "nr_hugepages");
	free_pages = pool_read(self->kb, "free_hugepages");
	if (nr < 0 || free_pages < 0)
		SETUP_SKIP(return, "no %s/hugepages-%lukB", HUGEPAGES_DIR, self->kb);
	if (free_pages < POOL_SPARE) {
		if (pool_write(self->kb, nr + POOL_SPARE - free_pages) ||
		    pool_read(self->kb, "free_hugepages") < 1) {
			pool_write(self->kb, nr);
			SETUP_SKIP(return, "no free %lu kB hugetlb page, and none could be added",
				   self->kb);
		}
		self->nr_before = nr;
	}

	shift = __builtin_ctzl(self->kb * 1024);
	self->map = mmap(NULL, self->kb * 1024, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			 (shift << MAP_HUGE_SHIFT), -1, 0);
	if (self->map == MAP_FAILED) {
		int err = errno;

		/* teardown does not run after a failed setup */
		if (self->nr_before >= 0)
			pool_write(self->kb, self->nr_before);
		ASSERT_NE(self->map, MAP_FAILED) {
			TH_LOG("mmap of a %lu kB hugetlb page: %s", self->kb, strerror(err));
		}
	}
	/* Written: an exclusive anonymous folio; then mapped read-only. */
	memset(self->map, 0x5a, self->kb * 1024);
	ASSERT_EQ(mprotect(self->map, self->kb * 1024, PROT_READ), 0);
}

FIXTURE_TEARDOWN(pin)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->kb * 1024);
	if (self->nr_before >= 0)
		pool_write(self->kb, self->nr_before);
	if (self->gupfd >= 0)
		close(self->gupfd);
}

static void pin_fast(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self,
		     size_t offset, size_t size)
{
	struct pin_longterm_test args = {
		.addr = (unsigned long)&self->psize & ~(self->psize - 1),
		.size = self->psize,
		.flags = PIN_LONGTERM_TEST_FLAG_USE_FAST,
	};

	/* First a page of the stack: the ioctl came in 6.2. */
	if (ioctl(self->gupfd, PIN_LONGTERM_TEST_START, &args)) {
		ASSERT_TRUE(errno == EINVAL || errno == ENOTTY) {
			TH_LOG("pin of a stack page: %s", strerror(errno));
		}
		SKIP(return, "gup_test PIN_LONGTERM_TEST_START: %s (before 6.2)",
		     strerror(errno));
	}
	ASSERT_EQ(ioctl(self->gupfd, PIN_LONGTERM_TEST_STOP), 0);

	args.addr = (unsigned long)self->map + offset;
	args.size = size;
	ASSERT_EQ(ioctl(self->gupfd, PIN_LONGTERM_TEST_START, &args), 0) {
		TH_LOG("R/O GUP-fast pin of %zu bytes at +%zu of a %lu kB hugetlb page: %s",
		       size, offset, self->kb, strerror(errno));
	}
	ASSERT_EQ(ioctl(self->gupfd, PIN_LONGTERM_TEST_STOP), 0);
	/* Still this process's data. */
	ASSERT_EQ(self->map[offset], 0x5a);
	ASSERT_EQ(self->map[offset + size - 1], 0x5a);
}

TEST_F_TIMEOUT(pin, pin_tail, 30)
{
	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	pin_fast(_metadata, self, self->psize, self->psize);
}

TEST_F_TIMEOUT(pin, pin_all, 30)
{
	if (self->skip[0])
		SKIP(return, "%s", self->skip);
	pin_fast(_metadata, self, 0, self->kb * 1024);
}

TEST_HARNESS_MAIN
