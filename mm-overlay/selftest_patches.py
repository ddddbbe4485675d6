# SPDX-License-Identifier: GPL-2.0
"""The selftest patches of the mainline series, generated from
tools-testing/selftests/mm, which is their one source of truth.

On the 'faultin' branch the kernel patches come first; then each test in
selftests.conf gets one commit that adds its files byte for byte and
registers it the way upstream's mm selftests are registered:
  - mm/Makefile: TEST_GEN_FILES += <test> (and TEST_PROGS += for a
    ksft_<category>.sh wrapper);
  - run_vmtests.sh: CATEGORY="fault_in" run_test ./<test>; the patch that
    adds the wrapper also adds the category to the usage text;
  - mm/config: the kernel options the test needs that are not there yet.
mm/.gitignore ignores everything but sources, so the binaries need no entry.

regenerate() rewrites those commits on the branch (keeping their messages);
compare() tells which files of the applied patches differ from what would be
generated, for 'make check'.
"""
import os
import tempfile

import overlay

MM = 'tools/testing/selftests/mm'
TT = os.path.join(overlay.TOP, 'tools-testing', 'selftests', 'mm')
CONF = os.path.join(overlay.TOP, 'mm-overlay', 'selftests.conf')
CATEGORY = 'fault_in'
CATEGORY_HELP = ['- ' + CATEGORY,
		 '\ttest that faulting in user memory fails cleanly: populate, mlock,',
		 '\tGUP, futex and userfaultfd calls return instead of looping']
# The series that carry the selftests.
SERIES = {'mainline'}


class SelftestError(overlay.OverlayError):
	pass


def table():
	"""[(test, [files], [options])] in patch order."""
	out = []
	with open(CONF) as f:
		for line in f:
			w = line.split('#', 1)[0].split()
			if not w:
				continue
			files = [w[0] + '.c'] + [x for x in w[1:] if not x.startswith('CONFIG_')]
			out.append((w[0], files, [x for x in w[1:] if x.startswith('CONFIG_')]))
	return out


def stray_files():
	"""Files in tools-testing/selftests/mm that no selftest patch adds."""
	added = {f for _, files, _ in table() for f in files}
	return sorted(f for f in os.listdir(TT) if f not in added)


def _insert_after(lines, idx, new):
	return lines[:idx + 1] + new + lines[idx + 1:]


def edit_makefile(text, test, files):
	lines = text.split('\n')
	# The first block of TEST_GEN_FILES ends at a blank line.
	for i, l in enumerate(lines):
		if l.startswith('TEST_GEN_FILES += ') and i + 1 < len(lines) and not lines[i + 1]:
			lines = _insert_after(lines, i, ['TEST_GEN_FILES += ' + test])
			break
	else:
		raise SelftestError('%s/Makefile: no TEST_GEN_FILES block to add %s to' % (MM, test))
	for f in files:
		if not (f.startswith('ksft_') and f.endswith('.sh')):
			continue
		progs = [i for i, l in enumerate(lines) if l.startswith('TEST_PROGS += ')]
		if not progs:
			raise SelftestError('%s/Makefile: no TEST_PROGS to add %s to' % (MM, f))
		new = 'TEST_PROGS += ' + f
		after = [i for i in progs if lines[i] < new]
		at = after[-1] + 1 if after else progs[0]
		lines.insert(at, new)
	return '\n'.join(lines)


def edit_run_vmtests(text, test, files):
	lines = text.split('\n')
	if 'ksft_%s.sh' % CATEGORY in files:
		ex = [i for i, l in enumerate(lines) if l.startswith('example: ./run_vmtests.sh')]
		if not ex or lines[ex[0] - 1]:
			raise SelftestError('run_vmtests.sh: no category list to add %s to' % CATEGORY)
		lines[ex[0] - 1:ex[0] - 1] = CATEGORY_HELP
	run = 'CATEGORY="%s" run_test ./%s' % (CATEGORY, test)
	ours = [i for i, l in enumerate(lines) if l.startswith('CATEGORY="%s"' % CATEGORY)]
	if ours:
		lines = _insert_after(lines, ours[-1], [run])
	else:
		if not any(l == '- ' + CATEGORY for l in lines):
			raise SelftestError('run_vmtests.sh has no category %s: the first test in %s '
					    'adds ksft_%s.sh' % (CATEGORY, CONF, CATEGORY))
		end = [i for i, l in enumerate(lines) if l.startswith('echo "SUMMARY:')]
		if not end:
			raise SelftestError('run_vmtests.sh: no SUMMARY line to add %s before' % test)
		lines[end[0]:end[0]] = [run, '']
	return '\n'.join(lines)


def edit_config(text, options):
	have = {l.strip() for l in text.split('\n')}
	add = [o for o in options if o not in have]
	if add and text and not text.endswith('\n'):
		text += '\n'
	return text + ''.join(o + '\n' for o in add)


def _blob(src, path, env):
	return overlay.git(src, 'cat-file', 'blob', ':' + path, env=env, text=False,
			   check=False)


def _put(src, path, data, mode, env):
	sha = overlay.git(src, 'hash-object', '-w', '--stdin', inp=data, text=False).decode().strip()
	overlay.git(src, 'update-index', '--add', '--cacheinfo',
		    '%s,%s,%s' % (mode, sha, path), env=env)


def trees(src, start):
	"""[(test, tree)]: the tree after each selftest patch, starting from
	the commit @start (the last kernel patch)."""
	out = []
	with tempfile.TemporaryDirectory() as td:
		env = {'GIT_INDEX_FILE': os.path.join(td, 'index')}
		overlay.git(src, 'read-tree', start, env=env)
		for test, files, options in table():
			for f in files:
				p = os.path.join(TT, f)
				if not os.path.exists(p):
					raise SelftestError('%s names %s, which is not in %s'
							    % (os.path.relpath(CONF, overlay.TOP), f,
							       os.path.relpath(TT, overlay.TOP)))
				with open(p, 'rb') as fh:
					data = fh.read()
				_put(src, '%s/%s' % (MM, f), data,
				     '100755' if os.access(p, os.X_OK) else '100644', env)
			for name, edit in (('Makefile', lambda t: edit_makefile(t, test, files)),
					   ('run_vmtests.sh', lambda t: edit_run_vmtests(t, test, files)),
					   ('config', lambda t: edit_config(t, options))):
				path = '%s/%s' % (MM, name)
				old = _blob(src, path, env).decode()
				new = edit(old)
				if new != old:
					mode = '100755' if name.endswith('.sh') else '100644'
					_put(src, path, new.encode(), mode, env)
			out.append((test, overlay.git(src, 'write-tree', env=env).strip()))
	return out


def _is_selftest(src, commit):
	files = overlay.git(src, 'diff-tree', '--no-commit-id', '--name-only', '-r',
			    commit).split()
	return bool(files) and all(f.startswith('tools/testing/selftests/') for f in files)


def split_branch(src, ref=overlay.BRANCH):
	"""(last kernel commit, [selftest commits]) of base..ref."""
	commits = overlay.git(src, 'rev-list', '--reverse', '%s..%s' % (overlay.BASE_TAG, ref)).split()
	kernel = overlay.BASE_TAG
	tests = []
	for c in commits:
		if _is_selftest(src, c):
			tests.append(c)
		elif tests:
			raise SelftestError('kernel commit %s comes after the selftest commits; '
					    'the selftests go last' % c[:12])
		else:
			kernel = c
	return kernel, tests


def _added_test(src, commit):
	"""The test a selftest commit adds: the <test>.c it creates."""
	for line in overlay.git(src, 'diff-tree', '--no-commit-id', '--name-status', '-r',
				commit).splitlines():
		st, path = line.split('\t', 1)
		if st == 'A' and path.startswith(MM + '/') and path.endswith('.c'):
			return os.path.basename(path)[:-2]
	return None


def regenerate(src, log=print, messages=None):
	"""Rewrite the selftest commits of the 'faultin' branch from
	tools-testing/selftests/mm, keeping each commit's message (@messages:
	{test: message} for tests that have no commit yet)."""
	stray = stray_files()
	if stray:
		raise SelftestError('tools-testing/selftests/mm/%s is in no selftest patch; '
				    'name it in mm-overlay/selftests.conf' % stray[0])
	kernel, old = split_branch(src)
	msgs = dict(messages or {})
	dates = {}
	for c in old:
		t = _added_test(src, c)
		if t:
			msgs[t] = overlay.git(src, 'log', '-1', '--format=%B', c).rstrip('\n') + '\n'
			dates[t] = overlay.git(src, 'log', '-1', '--date=raw', '--format=%ad', c).strip()
	parent = kernel
	for test, tree in trees(src, kernel):
		msg = msgs.get(test) or ('selftests/mm: add %s\n\nSay what it guards and how '
					 'it was shown to fail.\n' % test)
		# The old commit's date: the same content gives the same patch.
		env = {'GIT_AUTHOR_DATE': dates[test], 'GIT_COMMITTER_DATE': dates[test]} \
			if test in dates else None
		parent = overlay.git(src, *overlay.AUTHOR, 'commit-tree', tree, '-p', parent,
				     '-F', '-', inp=msg, env=env).strip()
	overlay.git(src, 'reset', '-q', '--hard', parent)
	log('%s: %d selftest patch(es) regenerated from tools-testing/selftests/mm'
	    % (os.path.basename(src), len(table())))


def compare(src, ref=overlay.BRANCH):
	"""Where the selftest patches on @ref differ from what
	tools-testing/selftests/mm generates: one line per file, naming it and
	the patch; [] if they agree."""
	out = ['tools-testing/selftests/mm/%s is in no selftest patch (%s)'
	       % (f, os.path.relpath(CONF, overlay.TOP)) for f in stray_files()]
	kernel, have = split_branch(src, ref)
	want = trees(src, kernel)
	seen = set()
	for i, (test, tree) in enumerate(want):
		if i >= len(have):
			out.append('no selftest patch adds %s (%s names it)'
				   % (test, os.path.relpath(CONF, overlay.TOP)))
			continue
		subject = overlay.git(src, 'log', '-1', '--format=%s', have[i]).strip()
		for f in overlay.git(src, 'diff', '--name-only', have[i], tree).split():
			if f in seen:
				continue	# reported at the first patch it differs in
			seen.add(f)
			rel = f[len(MM) + 1:] if f.startswith(MM + '/') else f
			if os.path.exists(os.path.join(TT, rel)):
				out.append('tools-testing/selftests/mm/%s differs from what "%s" adds'
					   % (rel, subject))
			else:
				out.append('%s in "%s" differs from what would be generated'
					   % (f, subject))
	for c in have[len(want):]:
		out.append('"%s" is a selftest patch for no test in %s' % (
			overlay.git(src, 'log', '-1', '--format=%s', c).strip(),
			os.path.relpath(CONF, overlay.TOP)))
	return out
