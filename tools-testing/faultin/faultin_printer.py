# SPDX-License-Identifier: GPL-2.0
"""Results table (test x kernel: verdict and seconds) and expectations."""

import fnmatch


def fill_names(kernels):
	"""A case reported only by number ('bin:#3', after a crash or hang) takes
	the name another kernel gave TAP number 3 of the same binary."""
	names = {}
	for k in kernels:
		for r in k['results']:
			b, _, n = r['name'].partition(':')
			if r.get('num') and not n.startswith('#'):
				names.setdefault((b, r['num']), r['name'])
	for k in kernels:
		for r in k['results']:
			b, _, n = r['name'].partition(':')
			if n.startswith('#') and (b, r.get('num')) in names:
				r['name'] = names[(b, r['num'])]


def rows(kernels):
	order = []
	for k in kernels:
		for r in k['results']:
			if r['name'] not in order:
				order.append(r['name'])
	return order


def cell(r):
	if r is None:
		return '-'
	if r.get('seconds') is None:
		return r['verdict']
	return '%s %.1fs' % (r['verdict'], r['seconds'])


def table(kernels):
	"""Plain-text table; one column per kernel."""
	fill_names(kernels)
	names = rows(kernels)
	by = [{r['name']: r for r in k['results']} for k in kernels]
	head = ['test'] + [k['label'] for k in kernels]
	body = [[n] + [cell(b.get(n)) for b in by] for n in names]
	builds = ['build'] + [_build(k.get('build')) for k in kernels]
	versions = ['version'] + [k.get('version') or '-' for k in kernels]
	w = [max(len(row[i]) for row in [head, builds, versions] + body)
	     for i in range(len(head))]
	fmt = lambda row: '  '.join(c.ljust(w[i]) for i, c in enumerate(row)).rstrip()
	out = [fmt(head), fmt(['-' * x for x in w])]
	out += [fmt(r) for r in body]
	out += [fmt(['-' * x for x in w]), fmt(builds), fmt(versions)]
	return '\n'.join(out)


def _build(b):
	if not b:
		return '-'
	if b['kind'] in ('cached', 'not run', 'distro'):
		return b['kind'].upper() if b['kind'] == 'not run' else b['kind']
	return '%s %.0fs' % (b['kind'], b['seconds'])


def details(kernels):
	"""Why each non-pass verdict happened, with kernel excerpts."""
	out = []
	for k in kernels:
		if k.get('not_run'):
			out.append('%s: NOT RUN (%s)' % (k['label'], k['not_run']))
		for r in k['results']:
			if r['verdict'] == 'pass':
				continue
			line = '%s on %s: %s' % (r['name'], k['label'], r['verdict'])
			if r.get('detail'):
				line += ' (%s)' % r['detail']
			out.append(line)
			for ex in r.get('excerpt') or []:
				out.append('    | ' + ex)
	return '\n'.join(out)


def summary(kernels):
	counts = {}
	for k in kernels:
		for r in k['results']:
			counts[r['verdict']] = counts.get(r['verdict'], 0) + 1
	order = ('pass', 'fail', 'skip', 'hang', 'crash', 'missing')
	return ', '.join('%d %s' % (counts.get(v, 0), v) for v in order)


def load_expectations(path):
	"""Lines 'KERNEL-GLOB TEST-GLOB VERDICT'; the first match wins. A case no
	line names is expected to pass: a skip is never silently accepted."""
	rules = []
	with open(path) as f:
		for n, line in enumerate(f, 1):
			line = line.split('#', 1)[0].strip()
			if not line:
				continue
			parts = line.split()
			if len(parts) != 3:
				raise ValueError('%s:%d: want KERNEL TEST VERDICT' % (path, n))
			rules.append(tuple(parts))
	return rules


# Results of the tests.conf entry that runs our selftests through kselftest's
# runner: '<RUNNER><binary>:<case>', the same cases as the direct runs.
RUNNER = 'ksft_fault_in:'


def _names(label):
	"""@label, then the names it is held to besides: without its
	configuration ('mainline+series/debug/arm64' -> 'mainline+series/arm64'),
	then without any suffix ('mainline+series')."""
	parts = label.split('/')
	out = [label]
	if len(parts) > 2:
		out.append('/'.join([parts[0]] + parts[2:]))
	if len(parts) > 1:
		out.append(parts[0])
	return out


def _rule(rules, label, name):
	"""A kernel of another configuration ('mainline+series/debug') or arch
	('mainline+series/arm64') is expected to do what the lean x86_64 one
	does, unless a rule names it."""
	names = _names(label)
	for kg, tg, v in rules:
		if any(fnmatch.fnmatchcase(n, kg) for n in names) and \
		   fnmatch.fnmatchcase(name, tg):
			return v
	return None


def expected(rules, label, name):
	"""A runner case no rule names is expected to do what the same case
	of the direct run is expected to do."""
	v = _rule(rules, label, name)
	if v is None and name.startswith(RUNNER):
		v = _rule(rules, label, name[len(RUNNER):])
	return v or 'pass'


def runner_agreement(kernels):
	"""(cases compared, [(kernel, case, runner verdict, direct verdict)]):
	each runner case against the direct run of the same case on the same
	kernel."""
	n, bad = 0, []
	for k in kernels:
		direct = {r['name']: r['verdict'] for r in k['results']}
		for r in k['results']:
			if not r['name'].startswith(RUNNER):
				continue
			d = direct.get(r['name'][len(RUNNER):])
			if d is None:
				continue
			n += 1
			if d != r['verdict']:
				bad.append((k['label'], r['name'][len(RUNNER):], r['verdict'], d))
	return n, bad


def compare(old, new):
	"""(cases compared, [(kernel, case, old verdict, new verdict)]) over
	the kernels and cases two runs share; a case one run has and the other
	not is a difference too ('-' for its verdict)."""
	n, diff = 0, []
	olds = {k['label']: k for k in old}
	for k in new:
		o = olds.get(k['label'])
		if o is None:
			continue
		a = {r['name']: r['verdict'] for r in o['results']}
		b = {r['name']: r['verdict'] for r in k['results']}
		for name in sorted(set(a) | set(b)):
			n += 1
			if a.get(name) != b.get(name):
				diff.append((k['label'], name, a.get(name, '-'), b.get(name, '-')))
	return n, diff


def guest_seconds(kernels):
	"""{kernel: seconds its cases took}, as the harness timed them."""
	return {k['label']: sum(r.get('seconds') or 0 for r in k['results']) for k in kernels}


def check(kernels, rules):
	"""[(kernel, test, got, want)] for every verdict that differs."""
	bad = []
	for k in kernels:
		for r in k['results']:
			want = expected(rules, k['label'], r['name'])
			if r['verdict'] not in want.split('|'):
				bad.append((k['label'], r['name'], r['verdict'], want))
	return bad
