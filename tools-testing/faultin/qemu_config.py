# SPDX-License-Identifier: GPL-2.0
"""Per-architecture parameters for building and booting a guest kernel."""

import importlib
import os
from dataclasses import dataclass, field
from typing import List


@dataclass(frozen=True)
class QemuArchParams:
	linux_arch: str
	kconfig: str
	qemu_arch: str
	kernel_path: str
	kernel_command_line: str
	cross_compile: str = ''
	extra_qemu_params: List[str] = field(default_factory=list)
	# The kernel configuration: 'lean' (configs/base.config and
	# selftests.config) or the name of another configs/*.config put on top
	# of them (faultin_kernel.with_config()).
	config: str = 'lean'
	# Debian's name of the architecture: its kernel packages and the
	# guest userland of a cross guest (faultin_sysroot) are of this arch.
	deb_arch: str = 'amd64'
	# How much longer than an x86_64 guest on an x86_64 host its tests may
	# take (multiplied with the configuration's factor).
	timeout_factor: int = 1
	# Debian packages a build and boot of this arch needs on the host.
	packages: List[str] = field(default_factory=list)


def arches():
	d = os.path.join(os.path.dirname(__file__), 'qemu_configs')
	return sorted(f[:-3] for f in os.listdir(d)
		      if f.endswith('.py') and not f.startswith('_'))


def load(arch):
	if arch not in arches():
		raise ValueError("no QEMU config for arch '%s' (have: %s)"
				 % (arch, ' '.join(arches())))
	return importlib.import_module('qemu_configs.' + arch).QEMU_ARCH
