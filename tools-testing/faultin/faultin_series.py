# SPDX-License-Identifier: GPL-2.0
"""Checks that a series in patches/<base>/ is ready to send.

For each series: the patches and the series file agree; the overlay
manifest matches what the patches touch; 'git am' applies them to the base
in a throwaway tree, signed off by a throwaway identity; checkpatch.pl
--strict has nothing to say about the signed patches; every prefix of the
series builds (overlay rebuilds); sparse (C=2) and W=1 report nothing new
on the touched objects. Also MAINTAINERS-snippet against
scripts/parse-maintainers.pl. Every failure names the patch and the check.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import faultin_kernel as kernel
from faultin_kernel import overlay
import selftest_patches

THROWAWAY = ['-c', 'user.name=Series Check', '-c', 'user.email=series-check@invalid']


class Check:
	def __init__(self, say):
		self.say = say
		self.passed = 0
		self.failed = []

	def ok(self, what):
		self.passed += 1
		self.say('  ok    %s' % what)

	def fail(self, what, why):
		self.failed.append('%s: %s' % (what, why))
		self.say('  FAIL  %s: %s' % (what, why))


def _run(cmd, cwd=None, env=None):
	e = dict(os.environ, **(env or {}))
	return subprocess.run(cmd, cwd=cwd, env=e, stdout=subprocess.PIPE,
			      stderr=subprocess.STDOUT, text=True)


def check_files(series, c):
	d = overlay.series_dir(series)
	listed = [os.path.basename(p) for p in overlay.series_patches(series)]
	present = sorted(f for f in os.listdir(d)
			 if f.endswith('.patch') and not f.startswith('0000-'))
	what = '%s: series file vs patches' % series
	if listed != present:
		c.fail(what, 'series lists %s, directory has %s' % (listed, present))
	else:
		c.ok(what)
	what = '%s: overlay manifest' % series
	want = overlay.series_touches(series)
	have = overlay.read_manifest(series)
	if want != have:
		c.fail(what, 'mm-overlay/manifest/%s says %s, the patches touch %s'
		       % (series, have, want))
	else:
		c.ok(what)
	return listed


def apply_signed(bid, series, c, tmp, inspect=None):
	"""git am the series onto the base in a throwaway worktree, with -s by a
	throwaway identity; return the signed patches' paths (or None).
	@inspect(commit) is called with the applied series' head."""
	src = overlay.paths(bid)['src']
	wt = os.path.join(tmp, 'tree')
	r = _run(['git', '-C', src, 'worktree', 'add', '-q', '--detach', wt, overlay.BASE_TAG])
	if r.returncode:
		c.fail('%s: git am' % series, r.stdout.strip())
		return None
	try:
		for p in overlay.series_patches(series):
			r = _run(['git', *THROWAWAY, 'am', '-q', p], cwd=wt)
			if r.returncode:
				c.fail('%s: git am' % os.path.basename(p), r.stdout.strip()[-2000:])
				return None
		c.ok('%s: git am applies every patch to %s' % (series, bid))
		if inspect:
			inspect(_run(['git', 'rev-parse', 'HEAD'], cwd=wt).stdout.strip())
		# What a sender does: take authorship and sign off.
		r = _run(['git', *THROWAWAY, 'rebase', '-q', '--exec',
			  'git commit -q --amend --no-edit --reset-author -s', overlay.BASE_TAG],
			 cwd=wt)
		if r.returncode:
			c.fail('%s: sign-off' % series, r.stdout.strip())
			return None
		out = os.path.join(tmp, 'signed')
		r = _run(['git', *THROWAWAY, 'format-patch', '-q', '-o', out,
			  overlay.BASE_TAG + '..HEAD'], cwd=wt)
		if r.returncode:
			c.fail('%s: format-patch' % series, r.stdout)
			return None
		return sorted(os.path.join(out, f) for f in os.listdir(out))
	finally:
		_run(['git', '-C', src, 'worktree', 'remove', '--force', wt])


def checkpatch(bid, series, signed, c):
	src = overlay.paths(bid)['src']
	args = ['perl', os.path.join(src, 'scripts', 'checkpatch.pl'), '--strict',
		'--no-tree', '--color=never']
	history = _run(['git', '-C', src, 'rev-list', '--count', overlay.BASE_TAG]).stdout.strip()
	if history == '1':
		# An imported tree has no history, so no commit id can be looked up.
		args += ['--ignore', 'UNKNOWN_COMMIT_ID']
	for p, name in zip(signed, [os.path.basename(x) for x in overlay.series_patches(series)]):
		extra = []
		with open(p) as f:
			text = f.read()
		body = text.split('\n\n', 1)[1]
		if re.match(r'commit [0-9a-f]{5,}', body):
			# A stable backport: its first line must be the form
			# stable-kernel-rules.rst asks for, which checkpatch's
			# GIT_COMMIT_ID rule does not know.
			what = '%s: stable "commit <sha1> upstream." line' % name
			if re.match(r'commit [0-9a-f]{40} upstream\.\n', body):
				c.ok(what + ' (checkpatch runs with --ignore GIT_COMMIT_ID)')
				extra = ['--ignore', 'GIT_COMMIT_ID']
			else:
				c.fail(what, 'first body line: %r' % body.splitlines()[0])
		added = re.findall(r'^diff --git a/\S+ b/(\S+)\nnew file mode', text, re.M)
		if added and _maintained(src, added):
			# checkpatch asks about MAINTAINERS for any new file; these
			# are under a directory that an F: entry already covers.
			extra += ['--ignore', 'FILE_PATH_CHANGES']
			c.ok('%s: new files %s are under an existing MAINTAINERS F: entry '
			     '(checkpatch runs with --ignore FILE_PATH_CHANGES)'
			     % (name, ', '.join(os.path.basename(a) for a in added)))
		r = _run(args + extra + [p])
		m = re.search(r'total: (\d+) errors, (\d+) warnings, (\d+) checks', r.stdout)
		what = '%s: checkpatch --strict' % name
		if not m:
			c.fail(what, r.stdout.strip()[-1000:])
		elif m.group(1) != '0' or m.group(2) != '0':
			c.fail(what, '%s errors, %s warnings:\n%s' % (m.group(1), m.group(2),
								      r.stdout.strip()[-3000:]))
		else:
			c.ok('%s (%s checks)' % (what, m.group(3)))


def _maintained(src, paths):
	"""Every path falls under a directory F: entry of the base's MAINTAINERS."""
	with open(os.path.join(src, 'MAINTAINERS'), errors='replace') as f:
		dirs = [l.split(None, 1)[1].strip() for l in f
			if l.startswith('F:') and l.rstrip().endswith('/')]
	return all(any(p.startswith(d) for d in dirs) for p in paths)


def bisect_builds(bid, series, params, c, log):
	patches = overlay.series_patches(series)
	for n in range(1, len(patches) + 1):
		what = '%s: builds with patches 1..%d' % (os.path.basename(patches[n - 1]), n)
		try:
			b = kernel.build(bid, 'prefix:%d' % n, series, params, log=log)
			c.ok('%s (%s %.0f s)' % (what, b.kind, b.seconds))
		except kernel.BuildError as e:
			c.fail(what, str(e)[-2000:])


def _diagnostics(text):
	"""sparse/compiler diagnostics with line and column numbers removed."""
	out = set()
	for line in text.splitlines():
		m = re.match(r'^(\S+?):\d+:(?:\d+:)?\s*(warning|error):\s*(.*)$', line)
		if m:
			out.add('%s: %s: %s' % m.groups())
	return out


def static_checks(bid, series, params, c, log):
	"""sparse (C=2) and W=1 on the objects the series touches: nothing new."""
	# Kernel objects only: the selftests are checked by their own build.
	objs = sorted(p[:-2] + '.o' for p in overlay.series_touches(series)
		      if p.endswith('.c') and not p.startswith('tools/'))
	if not objs:
		return
	d = kernel._dirs(bid, params)
	work = overlay.paths(bid)['work']
	found = {}
	for variant in ('base', 'patched-series'):
		v = 'base' if variant == 'base' else 'prefix:%d' % len(overlay.series_patches(series))
		overlay.sync(bid, v, series, log)
		kernel.configure(bid, params, log)
		logpath = os.path.join(d['logs'], 'static-%s-%s.log' % (bid, variant))
		with open(logpath, 'w') as logf:
			rc = kernel._make(work, d['build'], params, ['C=2', 'W=1'] + objs, logf)
		with open(logpath, errors='replace') as f:
			text = f.read()
		if rc:
			c.fail('%s: sparse/W=1 on %s' % (series, variant), 'make failed, see %s' % logpath)
			return
		found[variant] = _diagnostics(text)
	new = sorted(found['patched-series'] - found['base'])
	what = '%s: sparse (C=2) and W=1 on %s' % (series, ' '.join(objs))
	if new:
		c.fail(what, 'new diagnostics:\n    ' + '\n    '.join(new))
	else:
		c.ok('%s: nothing new (%d already in the base)' % (what, len(found['base'])))


def check_maintainers(bid, c):
	src = overlay.paths(bid)['src']
	snippet = os.path.join(overlay.TOP, 'MAINTAINERS-snippet')
	with tempfile.TemporaryDirectory() as td:
		out = os.path.join(td, 'out')
		r = _run(['perl', os.path.join(src, 'scripts', 'parse-maintainers.pl'),
			  '--order', '--input=' + snippet, '--output=' + out])
		what = 'MAINTAINERS-snippet: parse-maintainers.pl --order'
		if r.returncode:
			c.fail(what, r.stdout.strip())
			return
		with open(snippet) as f, open(out) as g:
			a, b = f.read(), g.read()
		if a.strip() != b.strip():
			c.fail(what, 'not in canonical order; parse-maintainers.pl would write:\n' + b)
		else:
			c.ok(what)
	with open(snippet) as f:
		files = [l.split(None, 1)[1].strip() for l in f if l.startswith('F:')]
	ours = ['tools/testing/selftests/mm/' + x for x in sorted(os.listdir(kernel.SELFTESTS))]
	missing = [x for x in ours if x not in files]
	what = 'MAINTAINERS-snippet covers the selftests'
	if missing:
		c.fail(what, 'no F: line for %s' % ', '.join(missing))
	else:
		c.ok(what)


def _subject(text):
	m = re.search(r'^Subject: (?:\[PATCH[^\]]*\] )?(.*(?:\n .*)*)', text, re.M)
	return re.sub(r'\n ', ' ', m.group(1)).strip() if m else ''


def _normalized(text):
	"""A patch's message and diff without what differs by base alone:
	headers, index lines, hunk line numbers, the diffstat."""
	head, _, diff = text.partition('\n---\n')
	body = head.split('\n\n', 1)[1] if '\n\n' in head else ''
	out = body.splitlines()
	out.append('---')
	for line in diff.splitlines():
		if line.startswith('index ') or re.match(r'^ \S.*\|\s+\d+', line) or \
		   re.match(r'^ \d+ files? changed', line) or line == '-- ':
			continue
		if line.startswith('@@'):
			line = '@@' + line.split('@@')[2] if line.count('@@') >= 2 else '@@'
		out.append(line)
	return out


def backport_diff(series, c, log):
	"""What a stable maintainer reads: for each backport, which mainline
	patch it carries and how it differs from it (message and code), like
	git range-diff. Each backport must name the mainline patch it carries."""
	import difflib
	upstream = overlay.STABLE_OF.get(series)
	if not upstream:
		return
	ups = {}
	for p in overlay.series_patches(upstream):
		with open(p) as f:
			t = f.read()
		ups[_subject(t)] = (os.path.basename(p), t)
	for p in overlay.series_patches(series):
		with open(p) as f:
			t = f.read()
		name = os.path.basename(p)
		subj = _subject(t)
		if subj not in ups:
			body = t.split('\n\n', 1)[1] if '\n\n' in t else ''
			if re.match(r'commit [0-9a-f]{40} upstream\.', body):
				log('  %s: backport of a merged upstream commit (%s)'
				    % (name, body.split()[1][:12]))
				continue
			c.fail('%s: %s: mainline counterpart' % (series, name),
			       'no patch of patches/%s has the subject %r' % (upstream, subj))
			continue
		uname, ut = ups[subj]
		what = '%s: %s names the patches/%s patch it carries' % (series, name, upstream)
		if 'patches/%s/%s' % (upstream, uname[:4]) in t.split('\n---\n')[0]:
			c.ok(what)
		else:
			c.fail(what, 'its message does not say patches/%s/%s'
			       % (upstream, uname[:4]))
		d = list(difflib.unified_diff(_normalized(ut), _normalized(t),
					      'patches/%s/%s' % (upstream, uname),
					      'patches/%s/%s' % (series, name), lineterm='', n=1))
		log('  range-diff %s/%s -> %s/%s: %s' % (
			upstream, uname, series, name,
			'%d line(s) differ' % sum(1 for x in d[2:] if x[:1] in '+-')
			if d else 'identical'))
		for line in d:
			log('    ' + line)


def b4_check(bid, series, c, log):
	"""b4 prep + send -o in a throwaway clone: one mail per patch plus the
	cover, addressed from the tree's own get_maintainer.pl."""
	what = '%s: b4 send -o (dry run)' % series
	with tempfile.TemporaryDirectory() as out:
		try:
			mails = b4_mails(bid, series, out, lambda m: None)
		except kernel.BuildError as e:
			c.fail(what, str(e).strip().splitlines()[0])
			return
		# b4 sends a one-patch series without a separate cover letter.
		n = len(overlay.series_patches(series))
		want = n + 1 if n > 1 else 1
		rcpt = set()
		for m in mails:
			with open(os.path.join(out, m), errors='replace') as f:
				hdr = f.read().split('\n\n', 1)[0]
			for h in re.findall(r'^(?:To|Cc): (.*(?:\n\s.*)*)', hdr, re.M):
				rcpt.update(x.strip() for x in re.sub(r'\n\s+', ' ', h).split(','))
	if len(mails) != want:
		c.fail(what, '%d mails, want %d' % (len(mails), want))
	elif not any('linux-mm@' in r for r in rcpt):
		c.fail(what, 'get_maintainer.pl gave no linux-mm recipient: %s' % sorted(rcpt))
	else:
		c.ok('%s: %d mails to %s' % (what, len(mails), ', '.join(sorted(rcpt))))


def selftest_sources(bid, series, c, head):
	"""The series' selftest patches add exactly tools-testing/selftests/mm
	('make patches' regenerates them from there)."""
	if series not in selftest_patches.SERIES:
		return
	what = '%s: selftest patches match tools-testing/selftests/mm' % series
	try:
		diffs = selftest_patches.compare(overlay.paths(bid)['src'], head)
	except overlay.OverlayError as e:
		c.fail(what, str(e))
		return
	if diffs:
		c.fail(what, '; '.join(diffs) + ' (run "make patches BASE=mainline" to regenerate '
		       'the patches from tools-testing)')
	else:
		c.ok('%s (%d tests)' % (what, len(selftest_patches.table())))


def selftest_builds(bid, series, params, c, head):
	"""Each selftest patch's test compiles with upstream's mm Makefile
	(lib.mk) at that prefix of the series."""
	if series not in selftest_patches.SERIES:
		return
	src = overlay.paths(bid)['src']
	try:
		_, commits = selftest_patches.split_branch(src, head)
		inc = kernel.install_headers(bid, params)
	except (overlay.OverlayError, kernel.BuildError) as e:
		c.fail('%s: selftests build' % series, str(e))
		return
	names = [os.path.basename(p) for p in overlay.series_patches(series)]
	first = len(names) - len(commits)
	for i, commit in enumerate(commits):
		name = names[first + i]
		test = selftest_patches._added_test(src, commit)
		what = '%s: %s builds with the mm Makefile' % (name, test)
		with tempfile.TemporaryDirectory() as tmp:
			a = subprocess.Popen(['git', '-C', src, 'archive', commit] + kernel.KSFT_PARTS,
					     stdout=subprocess.PIPE)
			subprocess.run(['tar', '-x', '-C', tmp], stdin=a.stdout, check=True)
			a.wait()
			mm = os.path.join(tmp, 'tools', 'testing', 'selftests', 'mm')
			# OUTPUT explicitly: lib.mk sets it only at MAKELEVEL 0,
			# and 'make run' is make calling us.
			r = _run(['make', '-C', mm, 'OUTPUT=' + mm, 'KHDR_INCLUDES=-isystem ' + inc,
				  'CC=%sgcc' % params.cross_compile, os.path.join(mm, test)])
		warn = [l for l in r.stdout.splitlines() if 'warning:' in l or 'error:' in l]
		if r.returncode or warn:
			c.fail(what, '\n'.join(warn) or r.stdout.strip()[-2000:])
		else:
			c.ok(what)


# What a series' checks read, besides the base tree: hashed into the key
# under which make run keeps a passing result (inputs_key).
CHECK_INPUTS = ('patches/%s', 'mm-overlay', 'tools-testing', 'MAINTAINERS-snippet')
CHECK_TOOLS = (('gcc', '--version'), ('sparse', '--version'), ('b4', '--version'),
	       ('git', '--version'), ('perl', '--version'))


def inputs_key(bid, series, build):
	"""A hash of everything check_series() reads: the series' patches,
	the overlay, the harness and the selftests, MAINTAINERS-snippet, the
	imported base's version and the versions of the tools it runs."""
	h = hashlib.sha256()
	h.update(('%s %s %s build=%s\n' % (series, bid, overlay.base_version(bid), build)).encode())
	for rel in CHECK_INPUTS:
		top = os.path.join(kernel.TOP, rel % series if '%s' in rel else rel)
		paths = [top] if os.path.isfile(top) else sorted(
			os.path.join(d, f) for d, dirs, files in os.walk(top)
			for f in files if '__pycache__' not in d)
		for path in paths:
			h.update(os.path.relpath(path, kernel.TOP).encode() + b'\0')
			with open(path, 'rb') as f:
				h.update(hashlib.sha256(f.read()).digest())
	for tool in CHECK_TOOLS:
		try:
			r = _run(list(tool))
			got = '%d %s' % (r.returncode, r.stdout.strip().splitlines()[:1])
		except OSError as e:
			got = 'not runnable: %s' % e.strerror
		h.update(('%s: %s\n' % (tool[0], got)).encode())
	return h.hexdigest()


def check_series(bid, series, params, c, log, build=True):
	c.say('== series %s on %s (%s)' % (series, bid, overlay.base_version(bid)))
	check_files(series, c)
	with tempfile.TemporaryDirectory() as tmp:
		def inspect(head):
			selftest_sources(bid, series, c, head)
			if build:
				selftest_builds(bid, series, params, c, head)
		signed = apply_signed(bid, series, c, tmp, inspect=inspect)
		if signed:
			checkpatch(bid, series, signed, c)
	backport_diff(series, c, log)
	b4_check(bid, series, c, log)
	if build:
		bisect_builds(bid, series, params, c, log)
		static_checks(bid, series, params, c, log)


def b4_mails(bid, series, outdir, log):
	"""b4 prep-enrol the series on the imported base in a throwaway clone,
	set our cover letter, and write the mails 'b4 send' would send
	(b4 send -o: nothing leaves the machine)."""
	src = overlay.paths(bid)['src']
	d = overlay.series_dir(series)
	with tempfile.TemporaryDirectory() as tmp:
		repo = os.path.join(tmp, 'linux')
		r = _run(['git', 'clone', '-q', '--shared', '-b', overlay.BRANCH, src, repo])
		if r.returncode:
			raise kernel.BuildError('clone for b4 failed: ' + r.stdout)
		shutil.copy(os.path.join(overlay.TOP, '.b4-config'), os.path.join(repo, '.b4-config'))
		# A throwaway identity, no signing key, and an SMTP 'server' that
		# is never run: with -o, b4 only writes the messages.
		env = {'GIT_CONFIG_COUNT': '3',
		       'GIT_CONFIG_KEY_0': 'user.name', 'GIT_CONFIG_VALUE_0': 'Series Check',
		       'GIT_CONFIG_KEY_1': 'user.email',
		       'GIT_CONFIG_VALUE_1': 'series-check@invalid',
		       'GIT_CONFIG_KEY_2': 'sendemail.smtpServer', 'GIT_CONFIG_VALUE_2': '/bin/true',
		       'EDITOR': 'cp ' + os.path.join(tmp, 'cover')}
		with open(os.path.join(d, '0000-cover-letter.patch')) as f:
			cover = f.read()
		body = cover.split('\n\n', 1)[1].split('\n-- \n')[0]
		body = re.split(r'\n\S.*\(\d+\):\n', body)[0]  # drop the shortlog
		with open(os.path.join(tmp, 'cover'), 'w') as f:
			f.write(_subject(cover) + '\n\n' + body.strip() + '\n')
		if series in overlay.STABLE_OF:
			# A stable series goes to the stable list.
			n = int(env['GIT_CONFIG_COUNT'])
			env['GIT_CONFIG_KEY_%d' % n] = 'b4.send-series-to'
			env['GIT_CONFIG_VALUE_%d' % n] = 'stable@vger.kernel.org'
			env['GIT_CONFIG_COUNT'] = str(n + 1)
		steps = [['git', 'rebase', '-q', '--exec',
			  'git commit -q --amend --no-edit --reset-author -s', overlay.BASE_TAG],
			 ['b4', 'prep', '-e', overlay.BASE_TAG],
			 ['b4', 'prep', '--edit-cover'],
			 ['b4', 'prep', '--auto-to-cc'],
			 ['b4', 'send', '-o', outdir, '--no-sign']]
		os.makedirs(outdir, exist_ok=True)
		for step in steps:
			r = _run(step, cwd=repo, env=env)
			log('$ %s\n%s' % (' '.join(step), r.stdout.strip()))
			if r.returncode:
				raise kernel.BuildError('%s failed:\n%s' % (' '.join(step), r.stdout))
	return sorted(os.listdir(outdir))
