# SPDX-License-Identifier: GPL-2.0
"""The userland of a cross guest (a guest arch other than the host's):
Debian's own packages of that arch, from the suites the system's apt
sources name, downloaded by a private apt configuration in the cache and
unpacked with dpkg -x. Nothing is installed and no foreign architecture
is added to the system.

The guest gets busybox from here, and bash and the shared libraries the
kselftest install needs; the kselftest build links against libnuma and
libcap from here (the cross compiler brings libc).
"""

import os
import re
import shutil
import subprocess

import faultin_apt
from faultin_kernel import BuildError, overlay

PACKAGES = ['busybox-static', 'bash', 'libc6', 'libgcc-s1', 'libtinfo6',
	    'libnuma1', 'libnuma-dev', 'libcap2', 'libcap-dev']
TRIPLETS = {'arm64': 'aarch64-linux-gnu'}


class SysrootError(BuildError):
	pass


def root_of(deb_arch):
	return os.path.join(overlay.cache_dir(), 'sysroot', deb_arch)


def ensure(deb_arch, log=print):
	"""The unpacked userland of @deb_arch, fetched once (again when
	PACKAGES changes)."""
	root = root_of(deb_arch)
	stamp = os.path.join(root, '.faultin-packages')
	want = ' '.join(PACKAGES) + '\n'
	if os.path.exists(stamp) and open(stamp).read().split('\n')[0] + '\n' == want:
		return root
	apt = faultin_apt.PrivateApt(deb_arch, faultin_apt.SYSTEM)
	apt.update(log=log)
	tmp = root + '.tmp'
	debs = root + '.debs'
	shutil.rmtree(tmp, ignore_errors=True)
	shutil.rmtree(debs, ignore_errors=True)
	os.makedirs(tmp)
	got = []
	for pkg in PACKAGES:
		deb = apt.download(pkg, debs, log)
		r = subprocess.run(['dpkg-deb', '-x', deb, tmp], stderr=subprocess.PIPE, text=True)
		if r.returncode:
			raise SysrootError('dpkg-deb -x %s failed: %s' % (deb, r.stderr.strip()))
		got.append(os.path.basename(deb))
	_relink(tmp)
	with open(os.path.join(tmp, '.faultin-packages'), 'w') as f:
		f.write(want + '\n'.join(got) + '\n')
	shutil.rmtree(root, ignore_errors=True)
	os.rename(tmp, root)
	shutil.rmtree(debs, ignore_errors=True)
	log('sysroot %s: %s' % (deb_arch, ', '.join(got)))
	return root


def _relink(root):
	"""Absolute symlinks (libfoo.so -> /lib/...) made relative to @root,
	so they resolve inside it on the host and in the guest alike."""
	for dirpath, dirs, files in os.walk(root):
		for name in dirs + files:
			p = os.path.join(dirpath, name)
			if not os.path.islink(p):
				continue
			t = os.readlink(p)
			if t.startswith('/'):
				os.unlink(p)
				os.symlink(os.path.relpath(os.path.join(root, t.lstrip('/')), dirpath), p)


def find(root, path):
	"""@root's file for the guest path @path: as it is, or under usr/ (a
	package of a merged-/usr release ships /bin and /lib there only)."""
	for cand in (os.path.join(root, path.lstrip('/')),
		     os.path.join(root, 'usr', path.lstrip('/'))):
		if os.path.lexists(cand):
			return cand
	raise SysrootError('%s is not in %s (packages: %s)' % (path, root, ' '.join(PACKAGES)))


def lib_dirs(root, deb_arch):
	t = TRIPLETS[deb_arch]
	return [os.path.join(root, d) for d in ('lib/' + t, 'usr/lib/' + t, 'lib', 'usr/lib')]


def build_flags(root, deb_arch):
	"""(CFLAGS, LDFLAGS) that let the cross compiler find the headers and
	libraries of @root (libnuma, libcap)."""
	inc = os.path.join(root, 'usr', 'include')
	libs = lib_dirs(root, deb_arch)[:2]
	return ('-isystem ' + inc,
		' '.join('-L%s -Wl,-rpath-link,%s' % (d, d) for d in libs))


NEEDED = re.compile(r'\(NEEDED\)\s+Shared library: \[([^]]+)\]')
INTERP = re.compile(r'Requesting program interpreter: ([^\]]+)\]')


def _readelf(path, what):
	r = subprocess.run(['readelf', what, '-W', path], stdout=subprocess.PIPE,
			   stderr=subprocess.PIPE, text=True)
	if r.returncode:
		raise SysrootError('readelf %s %s failed: %s' % (what, path, r.stderr.strip()))
	return r.stdout


def shared_libs(elves, root, deb_arch):
	"""Guest paths ('/lib/...') of the loader and the shared libraries the
	ELF files @elves need, found in @root (readelf: the host's ldd cannot
	run a foreign binary)."""
	dirs = lib_dirs(root, deb_arch)
	out, todo, seen = set(), list(elves), set()
	while todo:
		p = todo.pop()
		with open(p, 'rb') as f:
			if f.read(4) != b'\x7fELF':
				continue
		m = INTERP.search(_readelf(p, '-l'))
		if m:
			out.add(m.group(1))
		for lib in NEEDED.findall(_readelf(p, '-d')):
			if lib in seen:
				continue
			seen.add(lib)
			for d in dirs:
				cand = os.path.join(d, lib)
				if os.path.exists(cand):
					out.add('/' + os.path.relpath(cand, root))
					todo.append(os.path.realpath(cand))
					break
			else:
				raise SysrootError('%s needs %s, which is not in %s (packages: %s)'
						   % (p, lib, root, ' '.join(PACKAGES)))
	return sorted(out)
