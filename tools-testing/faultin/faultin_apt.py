# SPDX-License-Identifier: GPL-2.0
"""A private apt configuration in the cache, for Debian's unstable and
experimental suites (the newest kernels: mainline release candidates), or
for the suites the system's own sources name, of another architecture
(the userland of a cross guest, faultin_sysroot).

The suites are added to the mirror the system's apt sources already name;
the system's own apt configuration, lists, pinning and status are never
read for resolution nor written. Nothing is installed: packages are only
downloaded (apt-get download) and unpacked by the callers.
"""

import os
import re
import subprocess

from faultin_kernel import overlay

SUITES = ('unstable', 'experimental')
# The suites=SYSTEM choice of PrivateApt: the system's own Debian suites
# (mirror, release and components as its sources name them).
SYSTEM = ('system',)
KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'
# Lists older than this are fetched again.
MAX_AGE_S = 12 * 3600


class AptError(Exception):
	pass


def system_mirror():
	"""The Debian mirror the system's apt sources name (its main suite,
	not -security or -updates)."""
	r = subprocess.run(['apt-get', 'indextargets', '--no-release-info',
			    '--format', '$(REPO_URI) $(RELEASE)'],
			   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
	cands = []
	for line in r.stdout.splitlines():
		w = line.split()
		if len(w) == 2 and '-' not in w[1] and 'security' not in w[0]:
			cands.append(w[0])
	if not cands:
		raise AptError('the system apt sources name no Debian mirror with a main '
			       'suite (apt-get indextargets); run apt-get update once')
	return sorted(set(cands))[0]


def system_sources():
	"""[(uri, suite, component)] of the binary Debian sources the system's
	apt names (main, -updates, -security alike)."""
	r = subprocess.run(['apt-get', 'indextargets', '--format',
			    '$(REPO_URI) $(RELEASE) $(COMPONENT) $(TARGET_OF) $(ORIGIN)'],
			   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
	out = set()
	for line in r.stdout.splitlines():
		w = line.split()
		# Debian's own archive only: the keyring below signs nothing else.
		if len(w) == 5 and w[3] == 'deb' and w[4] == 'Debian':
			out.add(tuple(w[:3]))
	if not out:
		raise AptError('the system apt sources name no Debian binary suite '
			       '(apt-get indextargets); run apt-get update once')
	return sorted(out)


class PrivateApt:
	def __init__(self, arch='amd64', suites=SUITES):
		self.arch = arch
		self.suites = suites
		self.root = os.path.join(overlay.cache_dir(), 'apt',
					 arch + ('-system' if suites == SYSTEM else ''))

	def _what(self):
		return 'system suites' if self.suites == SYSTEM else '+'.join(self.suites)

	def _opts(self):
		r = self.root
		return ['-o', 'Dir::Etc::sourcelist=' + os.path.join(r, 'sources.list'),
			'-o', 'Dir::Etc::sourceparts=' + os.path.join(r, 'sources.list.d'),
			'-o', 'Dir::Etc::preferences=' + os.path.join(r, 'preferences'),
			'-o', 'Dir::Etc::preferencesparts=' + os.path.join(r, 'preferences.d'),
			'-o', 'Dir::State::Lists=' + os.path.join(r, 'lists'),
			'-o', 'Dir::State::status=' + os.path.join(r, 'status'),
			'-o', 'Dir::Cache=' + os.path.join(r, 'cache'),
			'-o', 'APT::Architecture=' + self.arch,
			'-o', 'APT::Architectures=' + self.arch,
			'-o', 'Debug::NoLocking=1']

	def _layout(self):
		for d in ('lists/partial', 'cache/archives/partial', 'sources.list.d',
			  'preferences.d'):
			os.makedirs(os.path.join(self.root, d), exist_ok=True)
		open(os.path.join(self.root, 'status'), 'a').close()
		open(os.path.join(self.root, 'preferences'), 'a').close()
		if self.suites == SYSTEM:
			text = ''.join('deb [signed-by=%s] %s %s %s\n' % (KEYRING, u, s, c)
				       for u, s, c in system_sources())
		else:
			mirror = system_mirror()
			text = ''.join('deb [signed-by=%s] %s %s main\n' % (KEYRING, mirror, s)
				       for s in self.suites)
		path = os.path.join(self.root, 'sources.list')
		if not os.path.exists(path) or open(path).read() != text:
			with open(path, 'w') as f:
				f.write(text)
			stamp = os.path.join(self.root, 'updated')
			if os.path.exists(stamp):
				os.unlink(stamp)

	def update(self, log=print, force=False):
		"""apt-get update into the private lists, at most every MAX_AGE_S."""
		import time
		self._layout()
		stamp = os.path.join(self.root, 'updated')
		if not force and os.path.exists(stamp) and \
		   time.time() - os.path.getmtime(stamp) < MAX_AGE_S:
			return
		log('apt (private, %s): updating %s lists' % (self.arch, self._what()))
		r = subprocess.run(['apt-get'] + self._opts() + ['-q', 'update'],
				   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
		if r.returncode or re.search(r'^(E|Err):', r.stdout, re.M):
			raise AptError('apt-get update of %s (%s) failed: %s' % (
				self._what(), self.arch, _last_error(r.stdout)))
		open(stamp, 'w').close()

	def names(self, pattern):
		"""Package names matching an (extended) regular expression."""
		r = subprocess.run(['apt-cache'] + self._opts() +
				   ['search', '--names-only', pattern],
				   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
		return sorted({l.split(' - ', 1)[0] for l in r.stdout.splitlines() if l})

	def version(self, package):
		"""The candidate version apt would download, or None."""
		r = subprocess.run(['apt-cache'] + self._opts() + ['policy', package],
				   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
		m = re.search(r'^\s*Candidate:\s*(\S+)', r.stdout, re.M)
		return m.group(1) if m and m.group(1) != '(none)' else None

	def download(self, package, dest, log=print):
		"""apt-get download PACKAGE into dest; returns the .deb's path."""
		os.makedirs(dest, exist_ok=True)
		before = set(os.listdir(dest))
		log('apt (private, %s): downloading %s %s'
		    % (self.arch, package, self.version(package) or ''))
		r = subprocess.run(['apt-get'] + self._opts() + ['-q', 'download', package],
				   cwd=dest, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
				   text=True)
		new = sorted(f for f in set(os.listdir(dest)) - before if f.endswith('.deb'))
		if r.returncode or not new:
			raise AptError('apt-get download %s failed: %s'
				       % (package, _last_error(r.stdout)))
		return os.path.join(dest, new[0])


def _last_error(text):
	errs = [l for l in text.splitlines() if l.startswith(('E:', 'Err:', 'W:'))]
	return (errs or text.strip().splitlines() or ['no output'])[-1]


def _vkey(nm):
	return tuple(int(x) for x in nm.split('.'))


def newest_source(apt, log=print):
	"""(package, N.M, version) of the newest linux-source-N.M in the suites."""
	apt.update(log=log)
	best = None
	for name in apt.names(r'^linux-source-[0-9]+\.[0-9]+$'):
		nm = name[len('linux-source-'):]
		if best is None or _vkey(nm) > _vkey(best):
			best = nm
	if not best:
		raise AptError('no linux-source-N.M in %s' % '+'.join(SUITES))
	pkg = 'linux-source-' + best
	return pkg, best, apt.version(pkg)


def fetch_source_tarball(log=print):
	"""The newest mainline source tarball, extracted from its .deb into the
	cache once per version; returns (tarball, package, version)."""
	apt = PrivateApt('amd64')
	pkg, nm, ver = newest_source(apt, log)
	d = os.path.join(overlay.cache_dir(), 'mainline', ver.replace(':', '_'))
	tarball = os.path.join(d, 'linux-source-%s.tar.xz' % nm)
	if os.path.exists(tarball):
		return tarball, pkg, ver
	tmp = d + '.tmp'
	subprocess.run(['rm', '-rf', tmp], check=True)
	deb = apt.download(pkg, tmp, log)
	member = './usr/src/linux-source-%s.tar.xz' % nm
	log('extracting %s from %s' % (member[2:], os.path.basename(deb)))
	fsys = subprocess.Popen(['dpkg-deb', '--fsys-tarfile', deb], stdout=subprocess.PIPE)
	r = subprocess.run(['tar', '-x', '-C', tmp, member], stdin=fsys.stdout,
			   stderr=subprocess.PIPE, text=True)
	if fsys.wait() or r.returncode:
		raise AptError('%s holds no %s: %s' % (deb, member, r.stderr.strip()))
	os.makedirs(d, exist_ok=True)
	os.rename(os.path.join(tmp, member), tarball)
	subprocess.run(['rm', '-rf', tmp], check=True)
	return tarball, pkg, ver
