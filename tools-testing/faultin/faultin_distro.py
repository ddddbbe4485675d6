# SPDX-License-Identifier: GPL-2.0
"""Run the suite on a distribution's prebuilt kernel instead of a source tree.

A Debian kernel package is fetched with apt-get download and unpacked with
dpkg -x into the cache. Two packagings exist: linux-image-* (Debian 12:
boot/vmlinuz-REL and lib/modules/REL in one package) and, from 7.x on,
linux-binary-* (usr/lib/modules/REL/vmlinuz) with its modules in the
matching linux-modules-* package. Packages the system's apt sources do not
carry (unstable, experimental) come through the private apt configuration
of faultin_apt. The vmlinuz boots the guest, and the modules the tests
need (with their dependencies, from modinfo) are decompressed into the
initramfs for guest/init to insmod.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile

from faultin_kernel import overlay
import faultin_apt

# What the tests need that distribution kernels build as modules: the
# failing disk (populate_eio: scsi_debug, or null_blk where the kernel has
# no scsi_debug, as Debian's arm64 ones), a loop device with ext2
# (futex_fault; Debian builds ext2 into ext4), in load order; a name the
# kernel does not ship as a module is built in.
NEEDED_MODULES = ['scsi_debug', 'sd_mod', 'null_blk', 'loop', 'ext2', 'ext4']


class DistroError(Exception):
	pass


class DistroKernel:
	def __init__(self, package, root, release, image, moddir):
		self.package = package
		self.root = root
		self.release = release          # uname -r, e.g. 6.1.0-56-cloud-amd64
		self.image = image
		self.moddir = moddir

	@property
	def label(self):
		return 'debian-' + self.release

	def series(self):
		"""major.minor of the kernel, to pick the base whose selftests fit."""
		m = re.match(r'(\d+\.\d+)', self.release)
		return m.group(1) if m else None


def package_version(dk):
	"""The Debian version the kernel was unpacked from."""
	f = os.path.join(dk.root, '.complete')
	with open(f) as fh:
		return fh.read().strip() or None


def packages_of(package):
	"""The packages that together hold a kernel and its modules."""
	if package.startswith('linux-binary-'):
		return [package, 'linux-modules-' + package[len('linux-binary-'):]]
	return [package]


def host_deb_arch():
	return subprocess.run(['dpkg', '--print-architecture'], stdout=subprocess.PIPE,
			      text=True, check=True).stdout.strip()


def arch_of(package):
	"""The Debian arch a kernel package's name carries (amd64 if none)."""
	m = re.search(r'-(amd64|arm64)(?:-unsigned)?$', package)
	return m.group(1) if m else 'amd64'


def _download(package, dest, arch, log):
	"""The system's suites first (stable; for another arch than the
	host's, through a private apt configuration of that arch), else
	unstable and experimental through the private one."""
	if arch == host_deb_arch():
		r = subprocess.run(['apt-get', 'download', package], cwd=dest,
				   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
		debs = [f for f in os.listdir(dest) if f.startswith(package + '_')]
		if not r.returncode and debs:
			return os.path.join(dest, debs[0])
	else:
		apt = faultin_apt.PrivateApt(arch, faultin_apt.SYSTEM)
		apt.update(log=log)
		if apt.version(package):
			return apt.download(package, dest, log=log)
	try:
		apt = faultin_apt.PrivateApt(arch)
		apt.update(log=log)
		return apt.download(package, dest, log=log)
	except faultin_apt.AptError as e:
		raise DistroError('%s: neither the system\'s suites nor %s carry it (%s)'
				  % (package, '+'.join(faultin_apt.SUITES), e))


def fetch(package, log=print):
	"""apt-get download + dpkg -x, once per package, into the cache."""
	arch = arch_of(package)
	root = os.path.join(overlay.cache_dir(), 'distro', package)
	if not os.path.exists(os.path.join(root, '.complete')):
		shutil.rmtree(root, ignore_errors=True)
		shutil.rmtree(root + '.tmp', ignore_errors=True)
		os.makedirs(os.path.dirname(root), exist_ok=True)
		versions = []
		with tempfile.TemporaryDirectory() as td:
			os.chmod(td, 0o755)
			for pkg in packages_of(package):
				log('fetching %s' % pkg)
				deb = _download(pkg, td, arch, log)
				subprocess.run(['dpkg', '-x', deb, root + '.tmp'], check=True)
				versions.append(subprocess.run(
					['dpkg-deb', '-f', deb, 'Version'], stdout=subprocess.PIPE,
					text=True, check=True).stdout.strip())
		with open(os.path.join(root + '.tmp', '.complete'), 'w') as f:
			f.write(' '.join(sorted(set(versions))) + '\n')
		os.rename(root + '.tmp', root)
	images = sorted(glob.glob(os.path.join(root, 'boot', 'vmlinuz-*')))
	if images:
		rel = os.path.basename(images[0])[len('vmlinuz-'):]
	else:
		images = sorted(glob.glob(os.path.join(root, 'usr', 'lib', 'modules', '*',
						       'vmlinuz')))
		if not images:
			raise DistroError('%s has no boot/vmlinuz-* nor usr/lib/modules/*/vmlinuz'
					  % package)
		rel = os.path.basename(os.path.dirname(images[0]))
	mods = [d for d in (os.path.join(root, 'lib', 'modules', rel),
			    os.path.join(root, 'usr', 'lib', 'modules', rel))
		if os.path.isdir(os.path.join(d, 'kernel'))]
	if not mods:
		raise DistroError('%s: no modules for %s (lib/modules/%s/kernel)'
				  % (package, rel, rel))
	return DistroKernel(package, root, rel, images[0], mods[0])


def _find_module(moddir, name):
	want = {name + ext for ext in ('.ko', '.ko.xz', '.ko.zst', '.ko.gz')}
	alt = {n.replace('_', '-') for n in want}
	for dirpath, _, files in os.walk(moddir):
		for f in files:
			if f in want or f in alt:
				return os.path.join(dirpath, f)
	return None


def _depends(path):
	# modinfo lives in /usr/sbin, which a user's PATH may lack.
	modinfo = shutil.which('modinfo') or shutil.which(
		'modinfo', path='/usr/sbin:/sbin') or 'modinfo'
	r = subprocess.run([modinfo, '-F', 'depends', path], stdout=subprocess.PIPE,
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


def _depmod():
	# depmod lives in /usr/sbin, which a user's PATH may lack.
	return shutil.which('depmod') or shutil.which(
		'depmod', path='/usr/sbin:/sbin') or 'depmod'


# Loaded by the tests themselves (modprobe), not by guest/init.
TEST_LOADS = {'scsi_debug', 'null_blk'}


def stage_modules(kernel, dest):
	"""The modules the tests need, decompressed, where modprobe finds them
	(/lib/modules/<release>/kernel/..., with depmod's modules.dep), and the
	list guest/init loads: all but those the tests load themselves."""
	root = os.path.join(dest, 'lib', 'modules', kernel.release)
	names = []
	for name, path in module_order(kernel):
		rel = os.path.relpath(path, kernel.moddir)
		for ext in ('.xz', '.zst', '.gz'):
			if rel.endswith(ext):
				rel = rel[:-len(ext)]
		out = os.path.join(root, rel)
		os.makedirs(os.path.dirname(out), exist_ok=True)
		if path.endswith('.ko'):
			shutil.copy(path, out)
		else:
			tool = {'.xz': 'xz', '.zst': 'zstd', '.gz': 'gzip'}[os.path.splitext(path)[1]]
			with open(out, 'wb') as f:
				subprocess.run([tool, '-dc', path], stdout=f, check=True)
		names.append(name)
	r = subprocess.run([_depmod(), '-b', dest, kernel.release], stdout=subprocess.PIPE,
			   stderr=subprocess.STDOUT, text=True)
	if r.returncode:
		raise DistroError('depmod -b %s %s failed: %s' % (dest, kernel.release,
								 r.stdout.strip()))
	d = os.path.join(dest, 'lib', 'modules', 'faultin')
	os.makedirs(d, exist_ok=True)
	with open(os.path.join(d, 'load'), 'w') as f:
		f.write(''.join(n + '\n' for n in names if n not in TEST_LOADS))
	return names
