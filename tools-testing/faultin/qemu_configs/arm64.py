# SPDX-License-Identifier: GPL-2.0
from qemu_config import QemuArchParams

# arm64 guests under TCG: QEMU's 'virt' board with a Cortex-A57, an
# ARMv8.0 CPU without FEAT_HAFDBS, so the kernel keeps the access and
# dirty bits of its page tables in software (the futex fault-in livelock
# of seed 002 needs that). The kernel is built to use the hardware's
# management where a CPU has it (ARM64_HW_AFDBM, as Debian's kernels are),
# so it is the CPU, not the build, that makes it software: a boot with
# -cpu max says "CPU features: detected: Hardware dirty bit management",
# one with cortex-a57 does not. 4 KiB base pages give 64 KiB cont-PTE hugetlb
# pages (seed 004). DEBUG_VM and DEBUG_VM_PGFLAGS are on in every arm64
# kernel: seed 004's bug shows as their VM_BUG_ON_PGFLAGS(), and a lean
# kernel would let a tail page through silently.
QEMU_ARCH = QemuArchParams(
	linux_arch='arm64',
	kconfig='''
CONFIG_ARM64_4K_PAGES=y
CONFIG_ARM64_HW_AFDBM=y
CONFIG_SERIAL_AMBA_PL011=y
CONFIG_SERIAL_AMBA_PL011_CONSOLE=y
CONFIG_DEBUG_KERNEL=y
CONFIG_DEBUG_VM=y
CONFIG_DEBUG_VM_PGFLAGS=y''',
	qemu_arch='aarch64',
	kernel_path='arch/arm64/boot/Image',
	kernel_command_line='console=ttyAMA0',
	cross_compile='aarch64-linux-gnu-',
	extra_qemu_params=['-M', 'virt', '-cpu', 'cortex-a57'],
	deb_arch='arm64',
	# TCG emulating arm64 on this x86_64 host is as fast as emulating
	# x86_64 for these tests: same pass times, populate_eio's guest 103.6 s
	# against 104.1 s, the kselftest runner's 234.6 s against 235.1 s
	# (mainline base, 2026-11-30). So no longer timeouts than x86_64's.
	timeout_factor=1,
	packages=['qemu-system-arm', 'gcc-aarch64-linux-gnu', 'libc6-dev-arm64-cross'])
