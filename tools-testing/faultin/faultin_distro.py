# SPDX-License-Identifier: GPL-2.0
"""Run the suite on a distribution's prebuilt kernel instead of a source tree.

A Debian kernel image package (linux-image-*) is fetched with apt-get
download and unpacked with dpkg -x into the cache; its vmlinuz boots the
guest, and the modules the tests need (with their dependencies, from
modinfo) are decompressed into the initramfs for guest/init to insmod.
"""

import os
import re
import shutil
import subprocess
import tempfile

from faultin_kernel import overlay

# What the tests need that distribution kernels build as modules.
NEEDED_MODULES = ['scsi_debug', 'sd_mod']


class DistroError(Exception):
	pass


class DistroKernel:
	def __init__(self, package, root, release):
		self.package = package
		self.root = root
		self.release = release          # uname -r, e.g. 6.1.0-56-cloud-amd64
		self.image = os.path.join(root, 'boot', 'vmlinuz-' + release)
		self.moddir = os.path.join(root, 'lib', 'modules', release)

	@property
	def label(self):
		return 'debian-' + self.release

	def series(self):
		"""major.minor of the kernel, to pick the base whose selftests fit."""
		m = re.match(r'(\d+\.\d+)', self.release)
		return m.group(1) if m else None


def fetch(package, log=print):
	"""apt-get download + dpkg -x, once per package, into the cache."""
	root = os.path.join(overlay.cache_dir(), 'distro', package)
	if not os.path.isdir(os.path.join(root, 'boot')):
		shutil.rmtree(root, ignore_errors=True)
		shutil.rmtree(root + '.tmp', ignore_errors=True)
		os.makedirs(os.path.dirname(root), exist_ok=True)
		with tempfile.TemporaryDirectory() as td:
			os.chmod(td, 0o755)
			log('fetching %s' % package)
			r = subprocess.run(['apt-get', 'download', package], cwd=td,
					   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
			debs = [f for f in os.listdir(td) if f.endswith('.deb')]
			if r.returncode or not debs:
				raise DistroError('apt-get download %s failed (run apt-get update?):\n%s'
						  % (package, r.stdout.strip()))
			subprocess.run(['dpkg', '-x', os.path.join(td, debs[0]), root + '.tmp'],
				       check=True)
			os.rename(root + '.tmp', root)
	boot = os.path.join(root, 'boot')
	images = sorted(f for f in os.listdir(boot) if f.startswith('vmlinuz-'))
	if not images:
		raise DistroError('%s has no boot/vmlinuz-*' % package)
	return DistroKernel(package, root, images[0][len('vmlinuz-'):])


def _find_module(moddir, name):
	want = {name + ext for ext in ('.ko', '.ko.xz', '.ko.zst', '.ko.gz')}
	alt = {n.replace('_', '-') for n in want}
	for dirpath, _, files in os.walk(moddir):
		for f in files:
			if f in want or f in alt:
				return os.path.join(dirpath, f)
	return None


def _depends(path):
	r = subprocess.run(['modinfo', '-F', 'depends', path], stdout=subprocess.PIPE,
			   stderr=subprocess.DEVNULL, text=True)
	return [d for d in r.stdout.strip().split(',') if d]


def module_order(kernel, names=NEEDED_MODULES):
	"""[(name, path)] with every module after the ones it depends on.
	A name the kernel does not ship as a module is taken to be built in."""
	order, seen = [], set()

	def visit(name):
		if name in seen:
			return
		seen.add(name)
		path = _find_module(kernel.moddir, name)
		if not path:
			return
		for dep in _depends(path):
			visit(dep)
		order.append((name, path))

	for n in names:
		visit(n)
	return order


def stage_modules(kernel, dest):
	"""Decompressed modules plus the load order, for guest/init."""
	d = os.path.join(dest, 'lib', 'modules', 'faultin')
	os.makedirs(d, exist_ok=True)
	names = []
	for name, path in module_order(kernel):
		out = os.path.join(d, name + '.ko')
		if path.endswith('.ko'):
			shutil.copy(path, out)
		else:
			tool = {'.xz': 'xz', '.zst': 'zstd', '.gz': 'gzip'}[os.path.splitext(path)[1]]
			with open(out, 'wb') as f:
				subprocess.run([tool, '-dc', path], stdout=f, check=True)
		names.append(name)
	with open(os.path.join(d, 'order'), 'w') as f:
		f.write(''.join(n + '\n' for n in names))
	return names
