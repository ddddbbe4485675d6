# SPDX-License-Identifier: GPL-2.0
# The harness's build of tools-testing/selftests/mm (the files the series'
# selftest patches add) against any base tree's kselftest and UAPI headers,
# static, so the same binaries also run on bases without the patches:
#   make -C tools-testing/selftests/mm -f $PWD/tools-testing/faultin/selftests.mk \
#        OUTPUT=<dir> KSFT_DIR=<linux>/tools/testing/selftests \
#        KHDR_INCLUDES="-isystem <build>/usr/include"
TEST_GEN_PROGS := populate_eio populate_vma_change uffd_continue futex_fault gup_pfnmap \
	uffd_move fault_fail populate_race gup_hugetlb_pin

KSFT_DIR ?= ..
OUTPUT ?= $(CURDIR)
CC ?= gcc
# Before 6.3 the mm selftests lived in selftests/vm.
KSFT_MM := $(firstword $(wildcard $(KSFT_DIR)/mm $(KSFT_DIR)/vm) $(KSFT_DIR)/mm)
CFLAGS += -Wall -O2 -static -I$(KSFT_DIR) -I$(KSFT_MM) $(KHDR_INCLUDES)
LDLIBS += -lpthread

all: $(addprefix $(OUTPUT)/,$(TEST_GEN_PROGS))

$(OUTPUT)/%: %.c $(wildcard *.h)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

clean:
	rm -f $(addprefix $(OUTPUT)/,$(TEST_GEN_PROGS))

.PHONY: all clean
