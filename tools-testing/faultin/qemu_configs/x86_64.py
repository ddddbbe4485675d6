# SPDX-License-Identifier: GPL-2.0
from qemu_config import QemuArchParams

QEMU_ARCH = QemuArchParams(
	linux_arch='x86_64',
	kconfig='''
CONFIG_64BIT=y
CONFIG_HYPERVISOR_GUEST=y
CONFIG_PARAVIRT=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
# MEMORY_FAILURE (configs/selftests.config) depends on it here
CONFIG_X86_MCE=y''',
	qemu_arch='x86_64',
	kernel_path='arch/x86/boot/bzImage',
	kernel_command_line='console=ttyS0',
	cross_compile='',
	# qboot boots faster than SeaBIOS; TCG because nested KVM fails here.
	extra_qemu_params=['-bios', 'qboot.rom', '-cpu', 'max'],
	packages=['qemu-system-x86'])
