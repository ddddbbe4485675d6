#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The overlay: kernel bases in a cache, a series on top, and a built tree.

Per base the cache holds
  src/<base>/      a git repository of the pristine tree, tag 'faultin-base';
                   branch 'faultin' is the base plus our series ('git am'), and
                   its working tree is where a developer edits;
  overlay/<base>/<variant>/
                   the full files a variant changes, plus MANIFEST;
  work/<base>/     the tree the kernel is built from: a plain copy of the base
                   into which 'sync' writes only files whose content differs.

Nothing here holds kernel source in the project: every file is generated.

Variants:
  base          the pristine tree
  patched       the 'faultin' branch's working tree (series plus local edits)
  prefix:N      the first N patches of the series (bisection)
  mutant:NAME   base plus tools-testing/mutations/NAME.patch (the series plus
                it, if the patch says 'Applies on: the series')
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE_TAG = 'faultin-base'
BRANCH = 'faultin'
IDENT = ['-c', 'user.name=faultin import', '-c', 'user.email=faultin@invalid']
# Placeholder author of our patches: the sender resets authorship and adds
# a Signed-off-by at send time (README, "Sending").
AUTHOR = ['-c', 'user.name=faultin developers', '-c', 'user.email=faultin@invalid']

# Debian packages that carry each base. 'mainline' is the newest
# linux-source-N.M in Debian's unstable and experimental suites, fetched
# through a private apt configuration in the cache (faultin_apt.py); the
# stable bases come from the system's own suite.
BASES = {
	'mainline': ('linux-source-N.M (unstable/experimental)', None),
	'6.12': ('linux-source-6.12', '/usr/src/linux-source-6.12.tar.xz'),
	'6.1': ('linux-source-6.1', '/usr/src/linux-source-6.1.tar.xz'),
}
# What each base's series is a backport of, if anything.
STABLE_OF = {'6.12': 'mainline', '6.1': 'mainline'}


class OverlayError(Exception):
	pass


def cache_dir():
	c = os.environ.get('FAULTIN_CACHE')
	if c:
		return c
	x = os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache')
	return os.path.join(x, 'faultin')


def lock_cache(what):
	"""One faultin at a time per cache: an exclusive flock on <cache>/lock,
	held until the returned descriptor is closed or the process ends
	(however it ends, so a killed run leaves no stale lock). A second
	faultin on the same cache is refused in one line, naming the holder."""
	import fcntl
	import time
	c = cache_dir()
	os.makedirs(c, exist_ok=True)
	path = os.path.join(c, 'lock')
	fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
	try:
		fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
	except OSError:
		holder = os.read(fd, 200).decode(errors='replace').strip()
		os.close(fd)
		raise OverlayError('the cache %s is in use by another faultin (%s); wait for '
				   'it, or give this one a cache of its own (XDG_CACHE_HOME=...)'
				   % (c, holder or 'pid unknown'))
	os.ftruncate(fd, 0)
	os.write(fd, ('pid %d, %s, since %s' % (os.getpid(), what,
						 time.strftime('%Y-%m-%d %H:%M:%S'))).encode())
	return fd


def base_id(base, ksrc=None):
	if ksrc:
		name = os.path.basename(os.path.realpath(ksrc)) or 'tree'
		return 'ksrc-' + ''.join(c if c.isalnum() or c in '.-_' else '_'
					 for c in name)
	if base not in BASES:
		raise OverlayError("unknown base '%s': choose one of %s, or set KSRC=/path/to/linux"
				   % (base, ' '.join(BASES)))
	return base


def series_dir(series):
	return os.path.join(TOP, 'patches', series)


def series_patches(series):
	"""The patch files of a series, in the order of its 'series' file."""
	d = series_dir(series)
	sfile = os.path.join(d, 'series')
	if not os.path.exists(sfile):
		raise OverlayError('%s: no series file' % d)
	out = []
	with open(sfile) as f:
		for line in f:
			line = line.split('#', 1)[0].strip()
			if not line or line.startswith('0000-'):
				continue
			p = os.path.join(d, line)
			if not os.path.exists(p):
				raise OverlayError('%s names %s, which does not exist' % (sfile, line))
			out.append(p)
	return out


def git(repo, *args, env=None, inp=None, text=True, check=True):
	e = dict(os.environ)
	if env:
		e.update(env)
	r = subprocess.run(['git', '-C', repo] + list(args), env=e, input=inp,
			   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=text)
	if check and r.returncode:
		err = r.stderr if text else r.stderr.decode(errors='replace')
		raise OverlayError('git %s: %s' % (' '.join(args), err.strip()))
	return r.stdout


def paths(bid):
	c = cache_dir()
	return {
		'src': os.path.join(c, 'src', bid),
		'work': os.path.join(c, 'work', bid),
		'overlay': os.path.join(c, 'overlay', bid),
		'state': os.path.join(c, 'work', bid + '.overlaid'),
	}


def _series_hash(patch_files):
	h = hashlib.sha256()
	for p in patch_files:
		h.update(os.path.basename(p).encode())
		with open(p, 'rb') as f:
			h.update(f.read())
	return h.hexdigest()


def _mainline_tarball(log):
	sys.path.insert(0, os.path.join(TOP, 'tools-testing', 'faultin'))
	import faultin_apt
	try:
		return faultin_apt.fetch_source_tarball(log=log)
	except faultin_apt.AptError as e:
		raise OverlayError('mainline: %s' % e)


def base_version(bid):
	"""The exact version a base was imported from (Debian's version for
	packaged bases), or None."""
	f = os.path.join(paths(bid)['src'], '.git', 'faultin-version')
	if os.path.exists(f):
		with open(f) as fh:
			return fh.read().strip() or None
	return None


def import_base(base, ksrc=None, log=print):
	"""Make src/<base> a git repository of the pristine tree. Idempotent;
	for 'mainline', once per Debian version of the newest source."""
	bid = base_id(base, ksrc)
	src = paths(bid)['src']
	pkg, tarball, version = None, None, None
	if base == 'mainline' and not ksrc:
		tarball, pkg, version = _mainline_tarball(log)
	have = os.path.isdir(os.path.join(src, '.git')) and \
		git(src, 'tag', '-l', BASE_TAG, check=False).strip()
	if have and (version is None or base_version(bid) == version):
		return bid
	if have:
		old = src + '@' + (base_version(bid) or 'old').replace('~', '-')
		log('%s: the archive moved from %s to %s; the old tree is kept in %s'
		    % (bid, base_version(bid), version, old))
		shutil.rmtree(old, ignore_errors=True)
		os.rename(src, old)
		p = paths(bid)
		shutil.rmtree(p['work'], ignore_errors=True)
		if os.path.exists(p['state']):
			os.unlink(p['state'])
	tmp = src + '.tmp'
	shutil.rmtree(tmp, ignore_errors=True)
	os.makedirs(os.path.dirname(src), exist_ok=True)
	if ksrc:
		if not os.path.exists(os.path.join(ksrc, 'Makefile')):
			raise OverlayError('KSRC=%s is not a kernel tree (no Makefile)' % ksrc)
		if os.path.isdir(os.path.join(ksrc, '.git')):
			log('importing %s (git HEAD) into %s' % (ksrc, src))
			subprocess.run(['git', 'clone', '-q', '--shared', ksrc, tmp], check=True)
			git(tmp, 'tag', BASE_TAG, 'HEAD')
		else:
			log('importing %s into %s' % (ksrc, src))
			shutil.copytree(ksrc, tmp, symlinks=True)
			_commit_import(tmp, 'Import %s' % ksrc)
	else:
		if not tarball:
			pkg, tarball = BASES[base]
			version = _dpkg_version(pkg)
		if not os.path.exists(tarball):
			raise OverlayError('%s is missing: run "make setup" (or apt-get install %s)'
					   % (tarball, pkg))
		log('importing %s into %s' % (tarball, src))
		os.makedirs(tmp)
		r = subprocess.run(['tar', '-xf', tarball, '--strip-components=1', '-C', tmp],
				   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
		if r.returncode or not os.path.exists(os.path.join(tmp, 'Makefile')):
			shutil.rmtree(tmp, ignore_errors=True)
			why = [l for l in r.stdout.splitlines() if l.strip()] or ['no Makefile in it']
			if os.path.realpath(tarball).startswith(os.path.realpath(cache_dir()) + os.sep):
				# Ours to fetch again: the next run downloads it anew.
				os.unlink(tarball)
				again = 'removed; the next run fetches it again'
			else:
				again = 'reinstall %s' % pkg
			raise OverlayError('%s is truncated or corrupt (%s): %s'
					   % (tarball, why[-1].strip(), again))
		_commit_import(tmp, 'Import %s from Debian package %s %s' % (base, pkg, version))
		with open(os.path.join(tmp, '.git', 'faultin-version'), 'w') as f:
			f.write('%s\n' % version)
	os.rename(tmp, src)
	return bid


def _dpkg_version(pkg):
	r = subprocess.run(['dpkg-query', '-W', '-f=${Version}', pkg],
			   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
	return r.stdout.strip() or None


def _commit_import(repo, msg):
	git(repo, 'init', '-q')
	git(repo, 'config', 'gc.auto', '0')
	git(repo, 'add', '-A', '-f')
	git(repo, *IDENT, 'commit', '-q', '--no-verify', '-m', msg)
	git(repo, 'tag', BASE_TAG)


def apply_series(bid, series, log=print):
	"""Put the 'faultin' branch at base + series, unless a developer has
	work on it that the series file does not yet hold."""
	src = paths(bid)['src']
	patches = series_patches(series)
	want = _series_hash(patches)
	stamp = os.path.join(src, '.git', 'faultin-series')
	have = []
	if os.path.exists(stamp):
		with open(stamp) as f:
			have = f.read().split()
	branch_ok = git(src, 'rev-parse', '-q', '--verify', 'refs/heads/' + BRANCH,
			check=False).strip()
	if branch_ok and have and have[0] == want:
		return False
	if branch_ok and have:
		head = git(src, 'rev-parse', BRANCH).strip()
		dirty = git(src, 'status', '--porcelain', '--untracked-files=no').strip()
		if head != have[1] or dirty:
			raise OverlayError(
				'%s: branch %s has local work and patches/%s changed; '
				'export it with "make patches" or drop it with "make reset-overlay"'
				% (src, BRANCH, series))
	git(src, 'am', '--abort', check=False)
	git(src, 'checkout', '-q', '-f', '-B', BRANCH, BASE_TAG)
	for p in patches:
		r = subprocess.run(['git', '-C', src, *IDENT, 'am', '-q', '--keep-cr', p],
				   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
		if r.returncode:
			git(src, 'am', '--abort', check=False)
			why = [l for l in r.stdout.splitlines()
			       if l.startswith(('error:', 'Patch failed'))] or ['git am failed']
			raise OverlayError('%s does not apply to %s %s: rebase due (%s)'
					   % (os.path.relpath(p, TOP), bid,
					      base_version(bid) or '', why[0]))
	head = git(src, 'rev-parse', BRANCH).strip()
	with open(stamp, 'w') as f:
		f.write('%s %s\n' % (want, head))
	log('%s: branch %s = %s + %d patch(es) from patches/%s'
	    % (bid, BRANCH, BASE_TAG, len(patches), series))
	return True


def mutation_on_series(text):
	"""Whether a mutation patch goes on top of the series, not the base:
	its description (before the diff) has a line 'Applies on: the series'."""
	head = text.split('\n--- ', 1)[0]
	return re.search(r'^Applies on: the series\b', head, re.M) is not None


def _tree_from_patches(src, patch_files):
	"""Apply patches to the base tree in a private index; return the tree id."""
	with tempfile.TemporaryDirectory() as td:
		env = {'GIT_INDEX_FILE': os.path.join(td, 'index')}
		git(src, 'read-tree', BASE_TAG, env=env)
		for p in patch_files:
			r = subprocess.run(['git', '-C', src, 'apply', '--cached', p],
					   env=dict(os.environ, **env), text=True,
					   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
			if r.returncode:
				raise OverlayError('%s does not apply: %s'
						   % (os.path.relpath(p, TOP), r.stdout.strip()))
		return git(src, 'write-tree', env=env).strip()


def variant_files(bid, variant, series):
	"""{path: bytes or None (deleted)} that the variant changes."""
	src = paths(bid)['src']
	out = {}
	if variant == 'base':
		return out
	if variant == 'patched':
		changed = git(src, 'diff', '--name-only', '-z', BASE_TAG).split('\0')
		changed += git(src, 'ls-files', '-z', '--others', '--exclude-standard').split('\0')
		for p in filter(None, changed):
			fp = os.path.join(src, p)
			if os.path.lexists(fp):
				with open(fp, 'rb') as f:
					out[p] = f.read()
			else:
				out[p] = None
		return out
	if variant.startswith('prefix:'):
		n = int(variant.split(':', 1)[1])
		plist = series_patches(series)[:n]
	elif variant.startswith('mutant:'):
		name = variant.split(':', 1)[1]
		plist = [os.path.join(TOP, 'tools-testing', 'mutations', name + '.patch')]
		if not os.path.exists(plist[0]):
			raise OverlayError('no mutation %s' % plist[0])
		with open(plist[0]) as f:
			if mutation_on_series(f.read()):
				plist = series_patches(series) + plist
	else:
		raise OverlayError("unknown variant '%s' (base, patched, prefix:N, mutant:NAME)"
				   % variant)
	tree = _tree_from_patches(src, plist)
	raw = git(src, 'diff-tree', '-r', '-z', '--name-only', BASE_TAG, tree)
	for p in filter(None, raw.split('\0')):
		r = subprocess.run(['git', '-C', src, 'cat-file', 'blob', '%s:%s' % (tree, p)],
				   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
		out[p] = r.stdout if r.returncode == 0 else None
	return out


def generate(bid, variant, series):
	"""Write the variant's files into overlay/<base>/<variant>/ with a MANIFEST."""
	files = variant_files(bid, variant, series)
	d = os.path.join(paths(bid)['overlay'], variant.replace(':', '-'))
	shutil.rmtree(d, ignore_errors=True)
	os.makedirs(d)
	lines = []
	for p in sorted(files):
		data = files[p]
		if data is None:
			lines.append('deleted %s' % p)
			continue
		fp = os.path.join(d, 'files', p)
		os.makedirs(os.path.dirname(fp), exist_ok=True)
		with open(fp, 'wb') as f:
			f.write(data)
		lines.append('%s %s' % (hashlib.sha256(data).hexdigest()[:16], p))
	with open(os.path.join(d, 'MANIFEST'), 'w') as f:
		f.write(''.join(l + '\n' for l in lines))
	return d, files


def ensure_work(bid, log=print):
	"""Create work/<base>, a plain copy of the base, if it is not there."""
	p = paths(bid)
	if os.path.isdir(p['work']):
		return False
	tmp = p['work'] + '.tmp'
	shutil.rmtree(tmp, ignore_errors=True)
	os.makedirs(tmp)
	log('%s: laying out the build tree %s' % (bid, p['work']))
	a = subprocess.Popen(['git', '-C', p['src'], 'archive', BASE_TAG],
			     stdout=subprocess.PIPE)
	subprocess.run(['tar', '-x', '-C', tmp], stdin=a.stdout, check=True)
	if a.wait():
		raise OverlayError('git archive failed in %s' % p['src'])
	if os.path.exists(p['state']):
		os.unlink(p['state'])
	os.rename(tmp, p['work'])
	return True


def _base_blob(src, path):
	r = subprocess.run(['git', '-C', src, 'cat-file', 'blob', '%s:%s' % (BASE_TAG, path)],
			   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
	return r.stdout if r.returncode == 0 else None


def sync(bid, variant, series, log=print):
	"""Make work/<base> hold the variant. Writes only files whose content
	differs, so make rebuilds only what changed. Returns the written paths."""
	p = paths(bid)
	ensure_work(bid, log)
	_, files = generate(bid, variant, series)
	before = []
	if os.path.exists(p['state']):
		with open(p['state']) as f:
			before = [l.rstrip('\n') for l in f if l.strip()]
	# Until every file is written, the state names all that may differ
	# from the base, so a sync stopped half-way (Ctrl-C) is undone by the
	# next one, whatever variant that is.
	_write_state(p['state'], set(before) | set(files))
	written = []
	for path in sorted(set(before) | set(files)):
		want = files[path] if path in files else _base_blob(p['src'], path)
		fp = os.path.join(p['work'], path)
		have = None
		if os.path.isfile(fp):
			with open(fp, 'rb') as f:
				have = f.read()
		if have == want:
			continue
		if want is None:
			os.unlink(fp)
		else:
			os.makedirs(os.path.dirname(fp), exist_ok=True)
			with open(fp, 'wb') as f:
				f.write(want)
		written.append(path)
	_write_state(p['state'], files)
	return written


def _write_state(path, names):
	with open(path + '.tmp', 'w') as f:
		f.write(''.join(x + '\n' for x in sorted(names)))
	os.rename(path + '.tmp', path)


def content_key(bid, variant, series):
	"""A hash of what the variant's tree holds beyond the base."""
	files = variant_files(bid, variant, series)
	src = paths(bid)['src']
	h = hashlib.sha256(git(src, 'rev-parse', BASE_TAG).encode())
	for path in sorted(files):
		h.update(path.encode() + b'\0')
		h.update(files[path] if files[path] is not None else b'\0deleted')
	return h.hexdigest()[:16]


def export_series(bid, series, log=print):
	"""Write the 'faultin' branch (base..faultin) to patches/<series>/ in
	git format-patch form, with a cover letter whose subject and text come
	from patches/<series>/cover, a series file and the manifest."""
	src = paths(bid)['src']
	d = series_dir(series)
	dirty = git(src, 'status', '--porcelain', '--untracked-files=no').strip()
	if dirty:
		raise OverlayError('%s has uncommitted changes; commit them on branch %s first'
				   % (src, BRANCH))
	import selftest_patches
	if series in selftest_patches.SERIES:
		selftest_patches.regenerate(src, log=log)
	n = int(git(src, 'rev-list', '--count', '%s..%s' % (BASE_TAG, BRANCH)).strip())
	for f in os.listdir(d):
		if f.endswith('.patch'):
			os.unlink(os.path.join(d, f))
	names = []
	if n:
		git(src, *AUTHOR, 'format-patch', '-q', '--cover-letter', '--zero-commit',
			  '--no-signature', '-o', d, '%s..%s' % (BASE_TAG, BRANCH))
		names = sorted(f for f in os.listdir(d) if f.endswith('.patch'))
		_fill_cover(os.path.join(d, names[0]), os.path.join(d, 'cover'))
		# The cover's date is the newest patch's, so an unchanged series
		# exports to unchanged files.
		date = git(src, 'log', '-1', '--format=%aD', BRANCH).strip()
		cover = os.path.join(d, names[0])
		with open(cover) as f:
			text = f.read()
		text = re.sub(r'^Date: .*$', 'Date: ' + date, text, count=1, flags=re.M)
		with open(cover, 'w') as f:
			f.write(text)
	with open(os.path.join(d, 'series'), 'w') as f:
		f.write('# Patches of the %s series, in order; applied with git am.\n' % series)
		f.write('# Regenerated by "make patches" from the faultin branch.\n')
		for name in names[1:]:
			f.write(name + '\n')
	with open(manifest_path(series), 'w') as f:
		f.write('# Files patches/%s touches (mm-overlay/overlay.py manifest)\n' % series)
		for path in series_touches(series):
			f.write(path + '\n')
	head = git(src, 'rev-parse', BRANCH).strip()
	with open(os.path.join(src, '.git', 'faultin-series'), 'w') as f:
		f.write('%s %s\n' % (_series_hash(series_patches(series)), head))
	log('%s: wrote %d patch(es) and a cover letter to %s' % (bid, n, os.path.relpath(d, TOP)))
	return names


def _fill_cover(cover, text_file):
	"""Put our subject and text in place of format-patch's placeholders."""
	if not os.path.exists(text_file):
		raise OverlayError('%s is missing: first line the subject, then the text'
				   % text_file)
	with open(text_file) as f:
		subject, _, body = f.read().partition('\n')
	with open(cover) as f:
		s = f.read()
	s = s.replace('*** SUBJECT HERE ***', subject.strip())
	s = s.replace('*** BLURB HERE ***', body.strip() + results_section(
		os.path.basename(os.path.dirname(cover))))
	with open(cover, 'w') as f:
		f.write(s)


def results_section(series):
	"""The cover letter's results, generated from the harness's last
	results table that has both the base and the patched kernel."""
	import json
	rdir = os.path.join(cache_dir(), 'results')
	runs = sorted((d for d in os.listdir(rdir) if d != 'latest'), reverse=True) \
		if os.path.isdir(rdir) else []
	for run in runs:
		path = os.path.join(rdir, run, 'results.json')
		if not os.path.exists(path):
			continue
		with open(path) as f:
			doc = json.load(f)
		cols = [k for k in doc['kernels'] if k.get('base') == series and
			k.get('variant') in ('base', 'patched')]
		if len(cols) == 2 and all(_covers_all_tests(k) for k in cols):
			return _format_results(doc, cols)
	return ('\n\nResults: none yet (run "make run BASES=%s", then "make patches").'
		% series)


def _covers_all_tests(col):
	with open(os.path.join(TOP, 'tools-testing', 'faultin', 'tests.conf')) as f:
		# 'label=binary' entries report under their label.
		want = {l.split()[0].split('=')[0] for l in f
			if l.split() and not l.startswith('#')}
	return want <= {r['name'].split(':', 1)[0] for r in col['results']}


def _format_results(doc, cols):
	bins = []
	for k in cols:
		for r in k['results']:
			b = r['name'].split(':', 1)[0]
			if b not in bins:
				bins.append(b)
	lines = ['', '', 'Results (generated from the faultin harness run of %s;' % doc['when'],
		 'QEMU TCG, one boot per test binary):', '']
	ver = cols[0].get('version')
	if ver:
		lines[-1:-1] = ['Base: %s, Debian source package version %s.' % (cols[0]['base'], ver)]
	for b in bins:
		parts = []
		for k in cols:
			n = {}
			for r in k['results']:
				if r['name'].split(':', 1)[0] == b:
					n[r['verdict']] = n.get(r['verdict'], 0) + 1
			parts.append('%s: %s' % (k['label'], ', '.join(
				'%d %s' % (c, v) for v, c in sorted(n.items()))))
		lines.append('  %-20s %s' % (b, '; '.join(parts)))
	by = [{r['name']: r for r in k['results']} for k in cols]
	diff = [n for n in by[0] if n in by[1] and by[0][n]['verdict'] != by[1][n]['verdict']]
	if diff:
		w = max(len(n) for n in diff)
		lines += ['', 'Cases whose verdict the series changes:', '',
			  '  %-*s  %-12s %s' % (w, 'case', cols[0]['label'], cols[1]['label'])]
		for n in diff:
			cell = ['%s %.1fs' % (x[n]['verdict'], x[n]['seconds'])
				if x[n].get('seconds') is not None else x[n]['verdict'] for x in by]
			lines.append('  %-*s  %-12s %s' % (w, n, cell[0], cell[1]))
	return '\n'.join(lines)


def series_touches(series):
	"""The kernel files the series' patches touch, from their diff headers."""
	out = set()
	for pf in series_patches(series):
		with open(pf, errors='replace') as f:
			for line in f:
				if line.startswith('diff --git a/'):
					a, b = line.split()[2:4]
					out.update({a[2:], b[2:]})
	return sorted(out)


def manifest_path(series):
	return os.path.join(TOP, 'mm-overlay', 'manifest', series)


def read_manifest(series):
	with open(manifest_path(series)) as f:
		return sorted(l.strip() for l in f if l.strip() and not l.startswith('#'))


def main(argv=None):
	ap = argparse.ArgumentParser(
		description='Generate and apply the faultin overlay (see module doc).')
	ap.add_argument('cmd', choices=['import', 'apply-series', 'generate', 'sync', 'files',
					'manifest', 'export'])
	ap.add_argument('--base', default='mainline')
	ap.add_argument('--ksrc', default=os.environ.get('KSRC') or None)
	ap.add_argument('--series', default=None, help='patches/<series> (default: the base)')
	ap.add_argument('--variant', default='patched')
	a = ap.parse_args(argv)
	lock = None
	try:
		if a.cmd not in ('manifest', 'files'):
			lock = lock_cache('overlay.py ' + a.cmd)
		bid = base_id(a.base, a.ksrc)
		series = a.series or ('mainline' if a.ksrc else a.base)
		if a.cmd == 'import':
			import_base(a.base, a.ksrc)
		elif a.cmd == 'apply-series':
			apply_series(bid, series)
		elif a.cmd == 'generate':
			d, _ = generate(bid, a.variant, series)
			print(d)
		elif a.cmd == 'sync':
			for w in sync(bid, a.variant, series):
				print(w)
		elif a.cmd == 'export':
			export_series(bid, series)
		elif a.cmd == 'manifest':
			print('# Files patches/%s touches (mm-overlay/overlay.py manifest)' % series)
			for path in series_touches(series):
				print(path)
		elif a.cmd == 'files':
			for path in sorted(variant_files(bid, a.variant, series)):
				print(path)
	except OverlayError as e:
		print('overlay: %s' % e, file=sys.stderr)
		return 1
	finally:
		if lock is not None:
			os.close(lock)
	return 0


if __name__ == '__main__':
	sys.exit(main())
