# SPDX-License-Identifier: GPL-2.0
# faultin front door. 'make help' lists the targets.

PYTHON ?= python3
FAULTIN := $(PYTHON) tools-testing/faultin/faultin.py
BASES ?= mainline 6.12 6.1
BASE ?= mainline
VARIANT ?= patched
VARIANTS ?= base patched
TEST ?= populate_eio
TESTS ?=
# Guest arches (tools-testing/faultin/qemu_configs/): one or several, as
# ARCH="x86_64 arm64"; build and quick take the first.
ARCH ?= x86_64
ARCH_ARGS = $(foreach a,$(ARCH),--arch $(a))
# make test (what CI runs) checks arm64 too, in part: populate_eio and the
# mutations that are bugs only there, on mainline. ARCH given on the
# command line (or in the environment) replaces this.
TEST_ARCH ?= x86_64 arm64
ifneq ($(filter command line environment,$(origin ARCH)),)
TEST_ARCH := $(ARCH)
endif
# make setup prepares both.
SETUP_ARCH = $(sort $(ARCH) $(TEST_ARCH))
# Debian's stock kernels, per arch: 7.3-rc7 (experimental), 7.2.13
# (unstable), 6.12 and 6.1 (bookworm). linux-binary-* is the split
# packaging of 7.x.
DISTRO_x86_64 = linux-binary-7.3-cloud-amd64 linux-binary-7.2.13+deb14-cloud-amd64 \
	linux-image-6.12.117+deb12-cloud-amd64-unsigned linux-image-6.1.0-56-cloud-amd64
# Debian builds its arm64 kernels without scsi_debug (cloud and generic
# flavours alike): the tests of the failing disk use a null_blk disk there.
DISTRO_arm64 = linux-binary-7.3-cloud-arm64 linux-binary-7.2.13+deb14-cloud-arm64 \
	linux-image-6.12.117+deb12-cloud-arm64-unsigned linux-image-6.1.0-56-cloud-arm64
DISTRO ?= $(foreach a,$(ARCH),$(DISTRO_$(a)))
# Kernel configuration: lean, or debug (tools-testing/faultin/configs/).
CONFIG ?= lean
ifeq ($(CONFIG),lean)
RUN_EXTRA := --distro $(DISTRO)
else
# Debian's kernels are their own builds, and the series checks build lean.
RUN_EXTRA := --no-checks
endif
ifneq ($(V),)
VERBOSE := -v
endif

.DEFAULT_GOAL := help

help:
	@echo 'faultin: GUP fault-in fixes, their selftests, and a QEMU loop to run them.'
	@echo
	@echo '  make run      set up, then build every base in BASES with and without its'
	@echo '                series, boot each, run all tests, print the results table'
	@echo '  make test     harness checks, selftest compile, one real build-boot-run of'
	@echo '                the default base (what .ci/run runs)'
	@echo '  make distro   the tests on Debian prebuilt kernels (DISTRO packages)'
	@echo '  make setup    apt-get what is missing, import BASES into the cache'
	@echo '  make build    build one kernel (BASE, VARIANT)'
	@echo '  make quick    edit-to-verdict: rebuild and run one TEST on BASE/VARIANT'
	@echo '  make unit     only the harness unit tests (canned console logs)'
	@echo '  make table    print the last results table'
	@echo '  make parse LOG=file...   verdicts from saved console logs'
	@echo '  make patches  regenerate patches/BASE from the faultin branch in the cache'
	@echo '               (mainline: its selftest patches from tools-testing/selftests/mm)'
	@echo '  make check    series checks: git am, checkpatch, each prefix builds, sparse/W=1'
	@echo '  make mutants  each tools-testing/mutations patch must be caught by its tests'
	@echo '  make mail     b4 prep + b4 send -o: the mails for BASE, nothing sent'
	@echo '  make bench    populate/mlock benchmark: A/A control and patched/base ratios (BASE, ROUNDS, CLOCK=icount|wall)'
	@echo '  make figures  write README.md "Measured here" from the records of the runs in the cache'
	@echo '  make deadlines  the selftests'"'"' bounds (faultin_util.h) against the slowest passes in the cache'
	@echo '  make compare OLD=id NEW=id   two results (<cache>/results/<id>) case by case'
	@echo
	@echo 'Variables: BASES="$(BASES)" BASE=$(BASE) VARIANT=$(VARIANT) (base, patched,'
	@echo '  prefix:N, mutant:NAME) VARIANTS="$(VARIANTS)" TEST=$(TEST) ARCH=$(ARCH)'
	@echo '  TESTS="a b" (a subset of tools-testing/faultin/tests.conf)'
	@echo '  DISTRO="linux-image-..." (Debian kernel packages; empty to skip them)'
	@echo '  KSRC=/path/to/linux (any kernel tree as the base; SERIES= picks patches/)'
	@echo '  CONFIG=debug (KASAN, lockdep, DEBUG_VM, KFENCE kernels; default lean)'
	@echo '  ACCEL=kvm (default tcg)  V=1 (echo the guest console)'
	@echo '  GUESTS=N (guests booted at once, tests of one kernel; default: the host'"'"'s cores)'
	@echo '  RECHECK=1 (make run: check again a series whose checks passed on the same inputs)'
	@echo '  XDG_CACHE_HOME or FAULTIN_CACHE: where trees, builds and results live'
	@echo 'More: $(FAULTIN) --help, $(FAULTIN) <command> --help'

setup:
	$(FAULTIN) setup --bases $(BASES) $(foreach a,$(SETUP_ARCH),--arch $(a))

run:
	$(FAULTIN) run --install --bases $(BASES) --variants $(VARIANTS) $(ARCH_ARGS) \
		--config $(CONFIG) $(VERBOSE) $(if $(TESTS),--tests $(TESTS)) $(RUN_EXTRA)

distro:
	$(FAULTIN) run --install --no-checks --bases --distro $(DISTRO) $(ARCH_ARGS) $(VERBOSE) \
		$(if $(TESTS),--tests $(TESTS))

test:
	$(FAULTIN) test --bases $(BASE) --variants $(VARIANTS) $(foreach a,$(TEST_ARCH),--arch $(a)) --config $(CONFIG) \
		$(VERBOSE) \
		$(if $(TESTS),--tests $(TESTS))

unit:
	$(FAULTIN) test --unit-only

build:
	$(FAULTIN) build --base $(BASE) --variant $(VARIANT) --arch $(firstword $(ARCH)) --config $(CONFIG)

quick:
	$(FAULTIN) quick --base $(BASE) --variant $(VARIANT) --test $(TEST) --arch $(firstword $(ARCH)) \
		--config $(CONFIG) $(VERBOSE)

table:
	$(FAULTIN) table

bench:
	$(FAULTIN) bench --base $(BASE) $(if $(ROUNDS),--rounds $(ROUNDS)) $(if $(CLOCK),--clock $(CLOCK))

parse:
	$(FAULTIN) parse $(LOG)

patches:
	$(PYTHON) mm-overlay/overlay.py export --base $(BASE)

check:
	$(FAULTIN) check

figures:
	$(FAULTIN) figures --write README.md

deadlines:
	$(FAULTIN) deadlines

compare:
	$(FAULTIN) compare $(OLD) $(NEW)

mutants:
	$(FAULTIN) mutants --base $(BASE) $(ARCH_ARGS) --config $(CONFIG) $(VERBOSE)

mail:
	$(FAULTIN) b4 --base $(BASE)

reset-overlay:
	git -C $${FAULTIN_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/faultin}/src/$(BASE) branch -D faultin

.PHONY: help setup run test unit build quick table parse patches reset-overlay bench distro check mail mutants figures deadlines compare
