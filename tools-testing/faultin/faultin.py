#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""faultin: build kernels from a base plus our series, boot them under QEMU,
run the GUP fault-in selftests and print a verdict per test and kernel.

The top-level Makefile is the front door; this is what it calls.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import faultin_apt  # noqa: E402
import faultin_distro  # noqa: E402
import faultin_deadlines as deadlines  # noqa: E402
import faultin_figures as figures  # noqa: E402
import faultin_kernel as kernel  # noqa: E402
import faultin_parser as parser  # noqa: E402
import faultin_printer as printer  # noqa: E402
import faultin_series  # noqa: E402
import qemu_config  # noqa: E402
from faultin_kernel import overlay  # noqa: E402
import selftest_patches  # noqa: E402

TOP = kernel.TOP
PACKAGES = ['make', 'gcc', 'git', 'flex', 'bison', 'bc', 'libelf-dev', 'libssl-dev', 'libcap-dev', 'libnuma-dev', 'rsync',
	    'cpio', 'xz-utils', 'zstd', 'kmod', 'busybox-static', 'qemu-system-x86', 'b4', 'sparse',
	    # readelf: the libraries of a cross guest's programs (faultin_sysroot)
	    'binutils',
	    # In the debug kernels' guests (tests.conf: stress_ng, trinity_family).
	    'stress-ng', 'trinity']
BOOT_ALLOWANCE_S = {'tcg': 90, 'kvm': 30}
# Commands that write nothing into the cache, and so need not lock it.
READ_ONLY_CMDS = ('parse', 'table', 'figures', 'deadlines', 'compare')


class Failure(Exception):
	pass


# The record of this run (faultin_figures), once its arguments are checked.
_REC = None


def say(msg):
	print(msg, flush=True)
	if _REC is not None:
		_REC.note(msg)


def error(msg):
	"""A one-line error: to stderr, and into the run's record."""
	print(msg, file=sys.stderr)
	if _REC is not None:
		_REC.note(msg)


def start_record(args):
	"""From here on, this run leaves a record for 'make figures'."""
	global _REC
	_REC = figures.Record(overlay.cache_dir(), TOP, args.cmd, args.argv)


def missing_packages(names):
	out = []
	for n in names:
		r = subprocess.run(['dpkg-query', '-W', '-f=${Status}', n],
				   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
		if 'install ok installed' not in r.stdout:
			out.append(n)
	return out


def packages_for(bases, arches=()):
	pk = list(PACKAGES)
	for b in bases:
		if b in overlay.BASES and overlay.BASES[b][1]:
			pk.append(overlay.BASES[b][0])
	for a in arches:
		pk += [p for p in qemu_config.load(a).packages if p not in pk]
	return pk


def ensure_packages(bases, install, arches=()):
	miss = missing_packages(packages_for(bases, arches))
	if not miss:
		return
	if not install:
		raise Failure('missing packages: %s; run "make setup" (or apt-get install %s)'
			      % (' '.join(miss), ' '.join(miss)))
	if os.geteuid() != 0:
		raise Failure('missing packages: %s; as root run: apt-get install %s'
			      % (' '.join(miss), ' '.join(miss)))
	say('installing: %s' % ' '.join(miss))
	env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
	subprocess.run(['apt-get', 'update', '-q'], check=True, env=env,
		       stdout=subprocess.DEVNULL)
	subprocess.run(['apt-get', 'install', '-y', '-q', '--no-install-recommends'] + miss,
		       check=True, env=env, stdout=subprocess.DEVNULL)


def series_of(base, ksrc):
	return os.environ.get('SERIES') or ('mainline' if ksrc else base)


_said_version = set()


def prepare(base, ksrc):
	"""Import the base and put the series on the 'faultin' branch."""
	for b in [base] if not ksrc else []:
		overlay.base_id(b)
	bid = overlay.import_base(base, ksrc, log=say)
	if bid not in _said_version:
		_said_version.add(bid)
		say('%s: %s' % (bid, overlay.base_version(bid) or 'version unknown (KSRC)'))
	overlay.apply_series(bid, series_of(base, ksrc), log=say)
	return bid


def check_names(bases=(), variants=(), ksrc=None, mutants=None):
	"""Refuse an unknown base, variant or mutation before any work starts
	(an unknown test is load_tests()'s to refuse)."""
	for b in bases if not ksrc else []:
		overlay.base_id(b)
	known = mutations()
	for v in variants:
		kind, _, arg = v.partition(':')
		if v in ('base', 'patched') or (kind == 'mutant' and arg in known):
			continue
		if kind == 'prefix' and arg.isdigit():
			for b in bases if not ksrc else [None]:
				n = len(overlay.series_patches(series_of(b, ksrc)))
				if int(arg) > n:
					raise Failure("variant '%s': patches/%s has %d patch(es)"
						      % (v, series_of(b, ksrc), n))
			continue
		if kind == 'mutant':
			raise Failure("unknown mutation '%s': tools-testing/mutations has %s"
				      % (arg, ' '.join(sorted(known)) or 'none'))
		raise Failure("unknown variant '%s' (base, patched, prefix:N, mutant:NAME)" % v)
	bad = [m for m in mutants or () if m not in known]
	if bad:
		raise Failure('unknown mutation(s) %s: tools-testing/mutations has %s'
			      % (' '.join(bad), ' '.join(sorted(known))))


def label(bid, variant, params=None):
	"""'mainline', 'mainline+series', 'mainline+mutant:NAME'; a kernel of
	another configuration than the lean one ends in '/CONFIG'."""
	suffix = kernel.config_suffix(params) if params else ''
	if variant == 'base':
		return bid + suffix
	if variant == 'patched':
		return bid + '+series' + suffix
	return '%s+%s%s' % (bid, variant, suffix)


def arches_of(args):
	"""--arch as a list: setup, run, test and mutants take it more than
	once (default x86_64)."""
	if isinstance(args.arch, list):
		return list(dict.fromkeys(args.arch)) or ['x86_64']
	return [args.arch or 'x86_64']


def load_params(args, arch=None):
	"""The arch's QEMU parameters, with the kernel configuration asked for."""
	return kernel.with_config(qemu_config.load(arch or arches_of(args)[0]),
				  getattr(args, 'config', kernel.LEAN))


def distro_arch(package):
	"""The arch (qemu_configs/) whose guests boot a Debian kernel package."""
	deb = faultin_distro.arch_of(package)
	for a in qemu_config.arches():
		if qemu_config.load(a).deb_arch == deb:
			return a
	raise Failure('%s: no qemu_configs/ arch for Debian arch %s' % (package, deb))


def load_tests(names=None, config=None):
	"""tests.conf's entries as (name, timeout, kernel command line, exit
	status is the verdict); with @config, only those its kernels run: an
	entry marked 'config=NAME' runs on kernels of that configuration only,
	and is refused by name on others."""
	tests = []
	with open(os.path.join(HERE, 'tests.conf')) as f:
		for line in f:
			line = line.split('#', 1)[0].split()
			if line:
				tests.append((line[0], int(line[1]), line[2:]))
	# 'exitcode' and 'config=' are for the harness, not the kernel command line.
	only = {n.split('=')[0]: w.split('=', 1)[1] for n, _, x in tests
		for w in x if w.startswith('config=')}
	tests = [(n, t, ' '.join(w for w in x if w != 'exitcode' and
				 not w.startswith('config=')),
		  'exitcode' in x) for n, t, x in tests]
	if names:
		known = {t[0].split('=')[0] for t in tests}
		bad = [n for n in names if n not in known]
		if bad:
			raise Failure('unknown test(s) %s; tests.conf has: %s'
				      % (' '.join(bad), ' '.join(sorted(known))))
		tests = [t for t in tests if t[0].split('=')[0] in names]
	if config:
		if names:
			bad = [n for n in names if only.get(n, config) != config]
			if bad:
				raise Failure('test(s) %s run only on kernels of --config %s'
					      % (' '.join(bad), only[bad[0]]))
		tests = [t for t in tests if only.get(t[0].split('=')[0], config) == config]
	return tests


def results_dir():
	d = os.path.join(overlay.cache_dir(), 'results',
			 datetime.datetime.now().strftime('%Y%m%d-%H%M%S'))
	os.makedirs(os.path.join(d, 'logs'), exist_ok=True)
	return d


def run_kernel(bid, variant, series, params, tests, args, rdir):
	"""Build one kernel, boot it once per test binary, return its column."""
	lab = label(bid, variant, params)
	built = kernel.build(bid, variant, series, params, log=say,
			     use_cache=not args.no_cache)
	if built.kind != 'cached':
		say('%s: %s build took %.1f s' % (lab, built.kind, built.seconds))
	bindir = kernel.compile_tests(bid, params, log=say)
	ksft = kselftests_for(bid, params, tests)
	initrd = kernel.make_initramfs(bid, params, bindir, kselftest=ksft,
				       tools=guest_tools(tests, params))
	col = {'label': lab, 'base': bid, 'variant': variant, 'key': built.key,
	       'config': params.config,
	       'version': overlay.base_version(bid),
	       'build': {'kind': built.kind, 'seconds': round(built.seconds, 1)},
	       'results': []}
	return run_tests(col, built.image, initrd, params, tests, args, rdir, ksft)


def distro_base(dk):
	"""The base whose selftests fit a distribution kernel: its own series
	if we carry it, mainline for anything newer than our newest stable."""
	ser = dk.series()
	if ser in overlay.BASES:
		return ser
	stable = sorted((b for b in overlay.BASES if b[0].isdigit()),
			key=lambda b: tuple(int(x) for x in b.split('.')))
	if ser and tuple(int(x) for x in ser.split('.')) > \
	   tuple(int(x) for x in stable[-1].split('.')):
		return 'mainline'
	return stable[-1]


def run_distro(package, params, tests, args, rdir):
	"""The suite on a distribution's prebuilt kernel package."""
	dk = faultin_distro.fetch(package, log=say)
	# Its selftests come from a base that 'make distro' alone may not
	# have installed yet.
	ensure_packages([distro_base(dk)], install=args.install)
	bid = prepare(distro_base(dk), None)
	overlay.ensure_work(bid, log=say)
	kernel.configure(bid, params, log=say)
	bindir = kernel.compile_tests(bid, params, log=say)
	ksft = kselftests_for(bid, params, tests)
	initrd = kernel.make_initramfs(bid, params, bindir, distro=dk, kselftest=ksft,
				       tools=guest_tools(tests, params))
	col = {'label': dk.label, 'base': package, 'variant': 'distro', 'key': dk.release,
	       'version': faultin_distro.package_version(dk),
	       'build': {'kind': 'distro', 'seconds': 0.0}, 'results': []}
	return run_tests(col, dk.image, initrd, params, tests, args, rdir, ksft)


def guest_tools(tests, params):
	"""The host programs @tests run in the guest; none for a cross guest
	(run_tests() skips those tests there)."""
	return [] if kernel.is_cross(params) else kernel.guest_tools(tests)


def runner_test(extra):
	"""The kselftest runner target ('mm:ksft_fault_in.sh') of a tests.conf
	entry that runs through kselftest's runner, or None."""
	for w in extra.split():
		if w.startswith('faultin.ksft='):
			return w.split('=', 1)[1]
	return None


def kselftests_for(bid, params, tests):
	"""The kselftest install of @bid's series, if a test needs it."""
	if not any(runner_test(t[2]) for t in tests):
		return None
	return kernel.build_kselftests(bid, params, log=say)


def guests_at_once(args):
	"""How many guests run_tests() boots at once (--guests, env GUESTS)."""
	n = getattr(args, 'guests', None) or 1
	return max(1, n)


def last_guest_seconds(label, rdir, newest=50):
	"""{test: seconds its guest took} for kernel @label in the newest of the
	@newest results before @rdir that recorded them, or {}."""
	root = os.path.dirname(rdir)
	try:
		dirs = sorted((d for d in os.listdir(root)
			       if d != 'latest' and d < os.path.basename(rdir)), reverse=True)
	except OSError:
		return {}
	for d in dirs[:newest]:
		try:
			with open(os.path.join(root, d, 'results.json')) as f:
				doc = json.load(f)
		except (OSError, ValueError):
			continue
		for k in doc.get('kernels', []):
			if k.get('label') == label and k.get('guests'):
				return k['guests']
	return {}


def longest_first(plan, took):
	"""@plan (run_tests' jobs: name second, timeout fifth) sorted longest
	first: by @took ({name: seconds} of an earlier run) when it has every
	job, else by their timeouts."""
	if not all(job[1] in took for job in plan):
		took = {}
	return sorted(plan, key=lambda job: -(took[job[1]] if took else job[4]))


def run_tests(col, image, initrd, params, tests, args, rdir, ksft=None):
	"""Boot @image once per test of @tests and append the verdicts to @col,
	in the order of @tests. Up to guests_at_once() guests run at once: a
	guest waiting out a hang's timeout leaves the host's CPUs mostly idle."""
	lab = col['label']
	bindir = os.path.join(os.path.dirname(initrd), 'bin')
	factor = kernel.timeout_factor(params)
	accel = args.accel
	if accel == 'kvm' and kernel.is_cross(params):
		# KVM runs only guests of the host's arch.
		accel = 'tcg'
		say('%s: a %s guest on a %s host: TCG, not KVM' % (lab, params.qemu_arch,
								   kernel.native_arch()))
	plan = []	# (index, name, binary, target, timeout, extra, exit_status)
	done = {}	# index -> [Result]
	for i, t in enumerate(tests):
		name, timeout, extra, exit_status = t
		timeout *= factor
		target = runner_test(extra)
		tools = kernel.guest_tools([t])
		if tools and kernel.is_cross(params):
			done[i] = [parser.Result(
				name, 'skip', None, 'runs %s, a host program, which a %s guest '
				'cannot run' % (' and '.join(x[0] for x in tools),
						 params.linux_arch))]
			say('%s: %s: skip (host programs in a %s guest)' % (lab, name, params.linux_arch))
			continue
		if target and not ksft:
			done[i] = [parser.Result(
				name, 'skip', None, 'no kselftest install: the series of this '
				'base adds no selftests, so there is no %s' % target)]
			say('%s: %s: skip (its series adds no selftests)' % (lab, name))
			continue
		# 'label=binary' runs one binary under several names (arguments
		# differ); a binary this base does not have is a skip, said so.
		name, _, binary = name.partition('=')
		binary = binary or name
		if not target and not os.path.exists(os.path.join(bindir, binary)):
			done[i] = [parser.Result(
				name, 'skip', None, '%s is not in this base' % binary)]
			say('%s: %s: skip (not in this base)' % (lab, name))
			continue
		plan.append((i, name, binary, target, timeout, extra, exit_status))

	at_once = min(guests_at_once(args), max(1, len(plan)))
	if at_once > 1:
		# Longest first, so that a long one does not start last and
		# run alone: as this kernel's guests took last time, or, when
		# no earlier run of this kernel timed every one of them (a
		# run of a few tests), by their timeouts in tests.conf.
		plan = longest_first(plan, last_guest_seconds(lab, rdir))
	lock = threading.Lock()

	def tsay(msg):
		with lock:
			say(msg)

	def one(i, name, binary, target, timeout, extra, exit_status, guard):
		append = 'loglevel=5 panic=-1 faultin.test=%s faultin.timeout=%d %s' % (
			binary, timeout, extra)
		cmd = kernel.qemu_command(params, image, initrd, append.strip(), accel=accel)
		deadline = BOOT_ALLOWANCE_S[accel] * factor + timeout + 15
		logpath = os.path.join(rdir, 'logs', '%s-%s.log' % (
			lab.replace(':', '-').replace('/', '-'), name))
		# One guest at a time may redraw a terminal line; several print
		# plain progress lines.
		tty = sys.stdout if sys.stdout.isatty() and at_once == 1 else None
		for attempt in (1, 2):
			g = kernel.run_guest(cmd, deadline, logpath,
					     echo=(lambda s: print('  | ' + s, flush=True))
					     if args.verbose else None,
					     progress=None if args.verbose else kernel.CaseProgress(
						     '%s: %s' % (lab, name), tsay, tty),
					     guard=guard)
			if target:
				res = parser.parse_runner(name, g.lines, g.killed,
							  [t for t, _, _ in selftest_patches.table()])
			else:
				res = parser.parse_boot(binary, g.lines, g.killed, exit_status)
			if not parser.boot_failed(res):
				break
			# A splat before the test started, or a guest stopped at
			# its deadline before it started, is the guest's boot
			# failing, not the test: boot once more, keep the log.
			hung = res[0].verdict == 'hang'
			if attempt == 1:
				os.rename(logpath, logpath[:-len('.log')] + '-boot1.log')
				tsay('%s: %s: guest boot failed (%s); booting again'
				     % (lab, name, 'stopped at its %.0f s deadline before the test '
					'started' % deadline if hung else
					res[0].excerpt[0].strip() if res[0].excerpt else '?'))
			else:
				res[0].name = binary + ':boot'
				res[0].detail = 'guest boot failed twice: %s before the test ' \
					'started' % ('stopped at its deadline' if hung else 'kernel splat')
		if name != binary:
			for r in res:
				r.name = name + r.name[len(binary):]
		counts = {}
		for r in res:
			counts[r.verdict] = counts.get(r.verdict, 0) + 1
		with lock:
			done[i] = res
			col.setdefault('guests', {})[name] = round(g.seconds, 1)
			say('%s: %s: %s (guest %.1f s, log %s)' % (
				lab, name, ', '.join('%d %s' % (n, v) for v, n in counts.items()),
				g.seconds, logpath))

	guard = kernel.GuestGuard()
	t0 = time.monotonic()
	try:
		if at_once == 1:
			for job in plan:
				one(*job, guard)
		else:
			with concurrent.futures.ThreadPoolExecutor(at_once) as pool:
				futures = [pool.submit(one, *job, guard) for job in plan]
				try:
					for f in concurrent.futures.as_completed(futures):
						f.result()
				except BaseException:
					# Ctrl-C or an error: stop every guest, not only
					# this thread's, and start no more.
					for f in futures:
						f.cancel()
					guard.stop()
					raise
	finally:
		# What was measured stays, in the order of @tests, even when
		# the run ends part-way.
		for i in sorted(done):
			for r in done[i]:
				col['results'].append(r.__dict__)
		col['tests_seconds'] = round(time.monotonic() - t0, 1)
		col['guests_at_once'] = at_once
	if plan:
		say('%s: %d guest(s) in %.1f s, %d at once' % (
			lab, len(plan), col['tests_seconds'], at_once))
	return col


def write_results(rdir, kernels, extra=None):
	doc = {'when': datetime.datetime.now().isoformat(timespec='seconds'),
	       'kernels': kernels}
	if extra:
		doc.update(extra)
	with open(os.path.join(rdir, 'results.json'), 'w') as f:
		json.dump(doc, f, indent=1)
	text = printer.table(kernels)
	with open(os.path.join(rdir, 'table.txt'), 'w') as f:
		f.write(text + '\n\n' + printer.details(kernels) + '\n')
	latest = os.path.join(overlay.cache_dir(), 'results', 'latest')
	if os.path.islink(latest) or os.path.exists(latest):
		os.unlink(latest)
	os.symlink(os.path.basename(rdir), latest)
	return text


def report(kernels, rdir, expect):
	text = write_results(rdir, kernels)
	say('\n' + text + '\n')
	det = printer.details(kernels)
	if det:
		say(det + '\n')
	say('verdicts: %s' % printer.summary(kernels))
	say('results: %s' % os.path.join(rdir, 'table.txt'))
	bad = printer.check(kernels, printer.load_expectations(expect))
	for k, t, got, want in bad:
		say('UNEXPECTED: %s on %s: %s (expected %s)' % (t, k, got, want))
	n = sum(len(k['results']) for k in kernels)
	compared, differ = printer.runner_agreement(kernels)
	if compared:
		say('kselftest runner vs direct runs: %d case(s) compared, %d differ'
		    % (compared, len(differ)))
	for k, t, got, direct in differ:
		say('UNEXPECTED: %s on %s: %s through kselftest\'s runner, %s run directly'
		    % (t, k, got, direct))
	for line in lean_comparison(kernels):
		say(line)
	return n - len(bad), len(bad) + len(differ)


def lean_comparison(kernels, newest=100):
	"""'slowdown: ...' lines: for each kernel of another configuration than
	the lean one, the seconds of the cases that pass on it against the same
	cases on the lean kernel of the same label, taken from whichever of the
	@newest results has the most such cases (a full run, not a quick one)."""
	root = os.path.join(overlay.cache_dir(), 'results')
	dirs = sorted((d for d in os.listdir(root) if d != 'latest'), reverse=True)[:newest]
	docs = []
	for d in dirs:
		try:
			with open(os.path.join(root, d, 'results.json')) as f:
				docs.append((d, json.load(f)))
		except (OSError, ValueError):
			continue
	out = []
	for k in kernels:
		if k.get('config', kernel.LEAN) == kernel.LEAN or k.get('not_run'):
			continue
		# the same label without '/CONFIG' (an arch suffix stays)
		lean_label = k['label'].replace('/' + k['config'], '', 1)
		mine = {r['name']: r['seconds'] for r in k['results']
			if r['verdict'] == 'pass' and r.get('seconds') is not None}
		best = None
		for d, doc in docs:
			for c in doc.get('kernels', []):
				if c.get('label') != lean_label:
					continue
				both = [(mine[r['name']], r['seconds']) for r in c.get('results', [])
					if r['verdict'] == 'pass' and r.get('seconds') is not None
					and r['name'] in mine]
				if both and (best is None or len(both) > len(best[1])):
					best = (d, both)
		if not best:
			out.append('slowdown: %s: no results of %s in %s to compare with'
				   % (k['label'], lean_label, root))
			continue
		where, both = best
		a, b = sum(x for x, _ in both), sum(y for _, y in both)
		out.append('slowdown: %s vs %s (results %s): %.1f s vs %.1f s over the %d '
			   'case(s) that pass on both%s' % (
				   k['label'], lean_label, where, a, b, len(both),
				   ': %.2fx' % (a / b) if b else ''))
	return out


def cmd_setup(args):
	ensure_packages(args.bases, install=True, arches=arches_of(args))
	for b in args.bases if not args.ksrc else [None]:
		prepare(b, args.ksrc)
	for a in arches_of(args):
		if kernel.is_cross(load_params(args, a)):
			import faultin_sysroot
			faultin_sysroot.ensure(load_params(args, a).deb_arch, log=say)
	say('setup done: %s' % overlay.cache_dir())
	return 0


def cmd_build(args):
	check_names([args.base], [args.variant], args.ksrc)
	ensure_packages([args.base], install=False, arches=[args.arch])
	params = load_params(args)
	bid = prepare(args.base, args.ksrc)
	b = kernel.build(bid, args.variant, series_of(args.base, args.ksrc), params,
			 log=say, use_cache=not args.no_cache)
	say('%s: %s %.1f s -> %s' % (label(bid, args.variant, params), b.kind, b.seconds,
				     b.image))
	return 0


def cmd_run(args):
	t0 = time.monotonic()
	bases = [None] if args.ksrc else args.bases
	check_names(args.bases, args.variants, args.ksrc)
	tests = load_tests(args.tests, args.config)
	start_record(args)
	arches = arches_of(args)
	params_of = {a: load_params(args, a) for a in arches}
	params = params_of[arches[0]]
	if args.distro and params.config != kernel.LEAN:
		raise Failure('--distro runs Debian\'s own builds; --config %s applies only '
			      'to the bases faultin builds' % params.config)
	ensure_packages([b for b in bases if b], install=args.install, arches=arches)
	for pkg in args.distro:
		if not pkg.startswith(('linux-image-', 'linux-binary-')):
			raise Failure("unknown distro kernel package '%s' (want linux-image-* "
				      "or linux-binary-*)" % pkg)
		if distro_arch(pkg) not in arches:
			raise Failure('%s is a kernel of arch %s, which --arch (%s) does not name'
				      % (pkg, distro_arch(pkg), ' '.join(arches)))
	rdir = results_dir()
	# The plan: every kernel column, so a run that stops part-way still
	# writes a table of what it measured and marks what it did not run.
	plan = []
	for a in arches:
		for b in bases:
			for v in args.variants:
				kind, _, m = v.partition(':')
				runs_on = mutation_arches(m)[1] if kind == 'mutant' else None
				if runs_on and a not in runs_on:
					say('%s: not run on %s (its mutation runs on %s only)'
					    % (v, a, ' '.join(runs_on)))
					continue
				plan.append(('source', b, v, a))
	for pkg in args.distro:
		plan.append(('distro', pkg, None, distro_arch(pkg)))
	kernels, failed_step = [], None
	for i, (kind, what, v, arch) in enumerate(plan):
		step = _step_name(plan[i])
		say('== [%d/%d] %s' % (i + 1, len(plan), step))
		try:
			if failed_step:
				raise Failure('an earlier step failed')
			if kind == 'source':
				bid = prepare(what, args.ksrc)
				col = run_kernel(bid, v, series_of(what, args.ksrc), params_of[arch],
						 tests_of(v, tests), args, rdir)
			else:
				col = run_distro(what, params_of[arch], tests, args, rdir)
		except KeyboardInterrupt:
			failed_step = (step, 'interrupted')
			kernels += [not_run(_step_name(p), 'interrupted', params_of[p[3]])
				    for p in plan[i:]]
			break
		except (Failure, overlay.OverlayError, kernel.BuildError,
			faultin_distro.DistroError, faultin_apt.AptError, OSError,
			subprocess.CalledProcessError) as e:
			msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
			if not failed_step:
				failed_step = (step, msg)
				say('faultin: error: %s: %s' % (step, msg))
			kernels.append(not_run(step, msg, params_of[arch]))
			continue
		kernels.append(col)
		write_results(rdir, kernels)
	ok, bad = report(kernels, rdir, args.expect)
	cbad = 0
	if args.checks and params.config != kernel.LEAN:
		say('series checks: not run with --config %s (they build the lean config; '
		    'make check runs them)' % params.config)
	elif not failed_step and not args.ksrc and args.checks:
		say('== series checks (every series, every prefix built)')
		tc = time.monotonic()
		try:
			cok, cbad = run_checks(all_series(), native_params(), reuse=args.reuse_checks)
			say('checks: %d passed, %d failed' % (cok, cbad))
		except (Failure, overlay.OverlayError, kernel.BuildError) as e:
			failed_step = ('series checks', str(e).strip().splitlines()[0])
		checks_s = time.monotonic() - tc
	else:
		checks_s = 0.0
	took = time.monotonic() - t0
	built = sum((k.get('build') or {}).get('seconds') or 0 for k in kernels)
	tested = sum(k.get('tests_seconds') or 0 for k in kernels)
	say('time: kernel builds %.1f s, tests %.1f s (%d guest(s) at once), series checks '
	    '%.1f s, the rest (fetching, importing, selftest builds) %.1f s'
	    % (built, tested, guests_at_once(args), checks_s,
	       took - built - tested - checks_s))
	say('run took %.1f s' % took)
	if failed_step:
		say('faultin: run incomplete: step %s failed: %s (results so far: %s)'
		    % (failed_step[0], failed_step[1], os.path.join(rdir, 'table.txt')))
		return 2
	return 1 if bad or cbad else 0


def native_params():
	"""The lean parameters of the host's own arch: the series checks build
	natively."""
	for a in qemu_config.arches():
		if not kernel.is_cross(qemu_config.load(a)):
			return qemu_config.load(a)
	raise Failure('no qemu_configs/ arch for this host (%s)' % kernel.native_arch())


def tests_of(variant, tests):
	"""What a kernel column runs: a mutant, only the tests that guard its
	mutation (it is the base plus one change); others, all of @tests."""
	kind, _, name = variant.partition(':')
	if kind != 'mutant':
		return tests
	guards = mutations()[name]
	return [t for t in tests if t[0].split('=')[0] in guards]


def _step_name(p):
	kind, what, v, arch = p
	name = '%s/%s' % (what or 'KSRC', v) if kind == 'source' else what
	return name + (' (%s)' % arch if kind == 'source' and arch != 'x86_64' else '')


def not_run(step, why, params=None):
	"""A column for a planned kernel that was not measured."""
	step = step.split(' (')[0]
	what, _, v = step.rpartition('/')
	if what and (v in ('base', 'patched') or v.startswith(('mutant:', 'prefix:'))):
		lab = label(what, v, params)
	else:
		lab = step
	return {'label': lab,
		'base': step, 'variant': 'not run', 'key': None,
		'build': {'kind': 'not run', 'seconds': 0.0}, 'results': [],
		'not_run': why}


def cmd_quick(args):
	"""Edit-to-verdict: sync the overlay, rebuild, boot, run one test."""
	t0 = time.monotonic()
	check_names([args.base], [args.variant], args.ksrc)
	tests = load_tests([args.test], args.config)
	start_record(args)
	ensure_packages([args.base], install=False, arches=[args.arch])
	params = load_params(args)
	bid = prepare(args.base, args.ksrc)
	rdir = results_dir()
	col = run_kernel(bid, args.variant, series_of(args.base, args.ksrc), params,
			 tests, args, rdir)
	ok, bad = report([col], rdir, args.expect)
	b = col['build']
	say('edit-to-verdict: %.1f s (build %s %.1f s)' % (time.monotonic() - t0,
							    b['kind'], b['seconds']))
	return 1 if bad else 0


def _median(xs):
	xs = sorted(xs)
	n = len(xs)
	return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


# Columns of a 'bench CASE WALL CPU' line: the time on the guest's
# CLOCK_MONOTONIC, and the measuring thread's CPU time.
BENCH_CLOCKS = ('wall', 'cpu')


def bench_samples(lines, clock='wall'):
	"""{case: [seconds]} from the 'bench CASE WALL CPU' lines of a guest,
	the column of the clock asked for."""
	col = 2 + BENCH_CLOCKS.index(clock)
	out = {}
	for _, text in lines:
		parts = text.split()
		if len(parts) == 4 and parts[0] == 'bench' and not parts[1].startswith('warmup'):
			out.setdefault(parts[1], []).append(float(parts[col]))
	return out


# Repetitions of each case per boot, after a warm-up (populate_bench's
# first argument; 5 is also its default).
BENCH_REPS = 5
# Sides of a benchmark run: A and A2 boot the same kernel (the A/A
# control: what the method itself contributes), B the one compared.
BENCH_SIDES = ('A', 'A2', 'B')
# Targets (issue 14): an A/A ratio within 1 +/- AA_TOL shows the method
# can see a B/A difference of BA_TOL.
AA_TOL = 0.002
BA_TOL = 0.005


def _ratios(rounds, case, num, den, stat=_median):
	"""(median of the per-round ratios, [per-round ratios]) or None. A
	round's ratio is of its two boots' @stat (median, or min): boots of
	one round ran next to each other, under the same host load."""
	per = [stat(r[num][case]) / stat(r[den][case]) for r in rounds
	       if r.get(num, {}).get(case) and r.get(den, {}).get(case)
	       and stat(r[den][case]) > 0]
	if len(per) < len(rounds):
		return None
	return _median(per), per


def bench_report(rounds, clock_label='', summary_only=False, stat=_median):
	"""rounds: [{'A': {case: [s]}, 'A2': {...}, 'B': {...}}] -> text.
	A boot's figure for a case is the @stat (median, or min) of its
	repetitions; each ratio is the median of the rounds' ratios of those,
	its spread their lowest and highest. The last two lines say whether
	every ratio and spread is within its target; clock_label names the
	clock in them, and summary_only leaves out the table."""
	cases = sorted({c for r in rounds for side in r.values() for c in side})
	# A case run on some sides only (file_mlock_to_error: only where the
	# series makes mlock() return) has no ratio; its own line says so.
	one_sided = [c for c in cases
		     if not any(r.get(side, {}).get(c) for r in rounds for side in ('A', 'A2'))]
	cases = [c for c in cases if c not in one_sided]
	sname = 'min' if stat is min else 'median'
	rows = [('case', 'A ' + sname, 'B ' + sname, 'A/A ratio (spread)',
		 'B/A ratio (spread)')]
	worst = {'A2': 0.0, 'B': 0.0}
	complete = {'A2': True, 'B': True}
	for c in cases:
		med = {}
		for side in BENCH_SIDES:
			xs = [x for r in rounds for x in r.get(side, {}).get(c, [])]
			med[side] = '%.9f s' % stat(xs) if xs else '-'
		cells = []
		for side in ('A2', 'B'):
			got = _ratios(rounds, c, side, 'A', stat)
			if got is None:
				cells.append('missing')
				complete[side] = False
				continue
			ratio, per = got
			worst[side] = max([worst[side]] + [abs(x - 1) for x in [ratio] + per])
			cells.append('%.4f (%.4f..%.4f)' % (ratio, min(per), max(per)))
		rows.append((c, med['A'], med['B'], cells[0], cells[1]))
	w = [max(len(r[i]) for r in rows) for i in range(5)]
	lines = ['  '.join(x.ljust(w[i]) for i, x in enumerate(r)).rstrip() for r in rows]
	for side, tol, what in (('A2', AA_TOL, 'A/A'), ('B', BA_TOL, 'B/A')):
		lines.append('%s%s: every ratio and spread within 1 +/- %.3f: %s (largest deviation %.4f)%s'
			     % (what, clock_label, tol, 'yes' if complete[side] and worst[side] <= tol else 'NO',
				worst[side], '' if complete[side] else
				', incomplete: a case without samples in some round'))
	if summary_only:
		lines = lines[len(rows):]
	for c in one_sided:
		per = [stat(r['B'][c]) for r in rounds if r.get('B', {}).get(c)]
		lines.append('%s: B only (not run on A, which does not return from it): '
			     '%s %.9f s, rounds %s' % (c, sname, _median(per),
							    ' '.join('%.9f' % x for x in per)))
	return '\n'.join(lines)


def cmd_bench(args):
	"""Populate/mlock benchmark: the A kernel booted twice (the A/A control)
	and the B kernel, in rotating order, each round."""
	check_names([args.base], args.pair, args.ksrc)
	icount = args.clock == 'icount'
	if icount and args.accel != 'tcg':
		raise Failure('--clock icount needs TCG, not %s: use --clock wall (CLOCK=wall)'
			      % args.accel)
	nrounds = args.rounds or (2 if icount else 5)
	if nrounds < 1:
		raise Failure('--rounds must be 1 or more, not %d' % args.rounds)
	start_record(args)
	ensure_packages([args.base], install=False)
	params = load_params(args)
	bid = prepare(args.base, args.ksrc)
	series = series_of(args.base, args.ksrc)
	rdir = results_dir()
	va, vb = args.pair
	images = {}
	for v in (va, vb):
		images[v] = kernel.build(bid, v, series, params, log=say).image
	if va != vb and images[va] == images[vb]:
		raise Failure('%s and %s are the same kernel: the series is empty' % (va, vb))
	images = {'A': images[va], 'A2': images[va], 'B': images[vb]}
	bindir = kernel.compile_tests(bid, params, log=say)
	initrd = kernel.make_initramfs(bid, params, bindir)
	# icount: one vCPU whose clock advances with the instructions it runs
	# (1 ns each), not with the host's time: the figures count work.
	smp, extra = ('1', ['-icount', 'shift=0,sleep=off']) if icount else ('2', [])
	rounds = {c: [] for c in BENCH_CLOCKS}
	for i in range(nrounds):
		order = BENCH_SIDES[i % 3:] + BENCH_SIDES[:i % 3]
		r = {c: {} for c in BENCH_CLOCKS}
		for side in order:
			# populate_eio's disk on every side; mlock() to its
			# unreadable page only on B with the series (A hangs there).
			# norandmaps: the same addresses in every boot, so the
			# same page tables (a 256 MiB mapping that crosses a 1 GiB
			# boundary needs one more, and 0.2 % more instructions).
			append = ('loglevel=5 panic=-1 faultin.test=populate_bench faultin.timeout=600 '
				  'scsi_debug.dev_size_mb=8 scsi_debug.opts=2 norandmaps '
				  'faultin.args=%d' % BENCH_REPS)
			if side == 'B' and vb != 'base' and va == 'base':
				append += ',eio'
			cmd = kernel.qemu_command(params, images[side], initrd, append,
						  accel=args.accel, mem='2048', smp=smp) + extra
			logpath = os.path.join(rdir, 'logs', 'bench-%s-%d.log' % (side, i))
			t0 = time.monotonic()
			g = kernel.run_guest(cmd, 900, logpath)
			for c in BENCH_CLOCKS:
				r[c][side] = bench_samples(g.lines, c)
			rc = [t for _, t in g.lines if t.startswith('faultin: exit populate_bench rc=')]
			if not r['wall'][side] or g.killed or rc != ['faultin: exit populate_bench rc=0']:
				raise Failure('bench on %s (%s) did not finish cleanly (%s), see %s'
					      % (side, va if side != 'B' else vb,
						 rc[0] if rc else 'no exit line', logpath))
			say('round %d/%d: %s (%s) booted and measured in %.0f s'
			    % (i + 1, nrounds, side, va if side != 'B' else vb,
			       time.monotonic() - t0))
		for c in BENCH_CLOCKS:
			rounds[c].append(r[c])
	# What is compared: with icount, the measuring thread's CPU time
	# (guest time that other tasks ran is not its work); with the host's
	# clock, the guest's wall time, as before. The other column's
	# summary lines follow, measured in the same boots.
	#
	# A boot's figure for a case: with icount the least of its
	# repetitions (the guest is deterministic: boots of one kernel give
	# the same figures to the nanosecond; what varies between
	# repetitions, and between kernels, is whether a timer interrupt
	# lands inside one, which only adds); with the host's clock the
	# median.
	main, other = ('cpu', 'wall') if icount else ('wall', 'cpu')
	stat = min if icount else _median
	what = {'cpu': "the measuring thread's CPU time (CLOCK_THREAD_CPUTIME_ID)",
		'wall': "the guest's CLOCK_MONOTONIC"}
	text = (bench_report(rounds[main], stat=stat) + '\n' +
		bench_report(rounds[other], ' (%s)' % what[other], summary_only=True,
			     stat=stat))
	head = ('%s: A = %s (booted twice: A and A2), B = %s; %d rounds, %s, %s clock; '
		'figures: %s, the %s of each boot\'s %d repetitions'
		% (bid, va, vb, nrounds, args.accel,
		   'icount (shift=0,sleep=off, 1 vCPU)' if icount else 'wall (2 vCPUs)',
		   what[main], 'least' if icount else 'median', BENCH_REPS))
	with open(os.path.join(rdir, 'bench.txt'), 'w') as f:
		f.write(head + '\n' + text + '\n')
	say('\n' + head + '\n')
	say(text)
	say('\nresults: %s' % os.path.join(rdir, 'bench.txt'))
	return 0


def _mutation_head(name):
	with open(os.path.join(TOP, 'tools-testing', 'mutations', name + '.patch')) as fh:
		return fh.read().split('\n--- ', 1)[0]


def mutations():
	"""{name: [guarding test binaries]} from tools-testing/mutations/*.patch;
	each patch's text names them in a 'Guarded by <binary>' phrase."""
	import re
	d = os.path.join(TOP, 'tools-testing', 'mutations')
	out = {}
	for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
		if f.endswith('.patch'):
			out[f[:-len('.patch')]] = re.findall(r"Guarded by (\w+)",
							     _mutation_head(f[:-len('.patch')]))
	return out


def mutation_arches(name):
	"""(caught_on, runs_on) of a mutation: its 'Caught on: ARCH...' line
	names the arches where it is a bug (elsewhere its tests must pass:
	the proof that the bug is the arch's), its 'Runs on: ARCH...' line the
	only arches it is run on; None where the patch has no such line."""
	import re
	head = _mutation_head(name)
	out = []
	for key in ('Caught on', 'Runs on'):
		m = re.search(r'^%s:\s*([^(\n]+)' % key, head, re.M)
		out.append(m.group(1).split() if m else None)
	return tuple(out)


def cmd_mutants(args):
	check_names([args.base], (), args.ksrc, args.names)
	arches = arches_of(args)
	ensure_packages([args.base], install=False, arches=arches)
	p = f = 0
	for a in arches:
		pa, fa = run_mutants(args.base, load_params(args, a), args, args.names or None)
		p, f = p + pa, f + fa
	return 1 if f else 0


def run_mutants(base, params, args, names=None, extra_tests=()):
	"""Each mutation as an overlay rebuild of the base; its guarding tests
	must pass on the base and must not all pass on the mutant (on an arch
	its 'Caught on:' line does not name, they must all pass). With
	@extra_tests, the base's column runs those too."""
	args.base = base
	arch = params.linux_arch
	muts = mutations()
	if names is not None:
		muts = {n: muts[n] for n in names}
	for m in list(muts):
		runs_on = mutation_arches(m)[1]
		if runs_on and arch not in runs_on:
			say('mutation %s: not run on %s (runs on %s only)' % (m, arch, ' '.join(runs_on)))
			del muts[m]
	if not muts and not extra_tests:
		return 0, 0
	bid = prepare(args.base, None)
	series = series_of(args.base, None)
	rdir = results_dir()
	names = sorted({t for ts in muts.values() for t in ts} | set(extra_tests))
	tests = load_tests(names, params.config)
	kernels = [run_kernel(bid, 'base', series, params, tests, args, rdir)]
	caught = []
	for m, guards in muts.items():
		col = run_kernel(bid, 'mutant:' + m, series, params,
				 [t for t in tests if t[0] in guards], args, rdir)
		kernels.append(col)
		bad = [r for r in col['results'] if r['verdict'] in ('fail', 'hang', 'crash')]
		caught.append((m, len(bad)))
	passed, failed = report(kernels, rdir, args.expect)
	for m, n in caught:
		caught_on = mutation_arches(m)[0]
		if caught_on and arch not in caught_on:
			# report() has held its cases to 'expected' (pass).
			say('mutation %s: not a bug on %s (caught on %s only): %d case(s) failed'
			    % (m, arch, ' '.join(caught_on), n))
		elif n:
			say('mutation %s: caught by %d case(s)%s' % (m, n, ' on ' + arch
								      if arch != 'x86_64' else ''))
		else:
			say('MUTATION NOT CAUGHT: %s: its guarding tests all pass' % m)
			failed += 1
	return passed, failed


def cmd_parse(args):
	kernels = []
	for path in args.logs:
		binary, lines, killed = parser.parse_log_file(path)
		res = parser.parse_boot(binary, lines, killed)
		kernels.append({'label': os.path.basename(path),
				'results': [r.__dict__ for r in res]})
	say(printer.table(kernels))
	det = printer.details(kernels)
	if det:
		say('\n' + det)
	return 0


def cmd_table(args):
	path = args.json or os.path.join(overlay.cache_dir(), 'results', 'latest',
					 'results.json')
	if not os.path.exists(path):
		say('no results yet (%s does not exist): run "make run" or "make quick"' % path)
		return 1
	try:
		with open(path) as f:
			doc = json.load(f)
	except ValueError as e:
		raise Failure('%s is not a results file: %s' % (path, e))
	say(printer.table(doc['kernels']))
	return 0


def unit_tests():
	"""The harness's own tests; what their canned runs print is kept out
	of this run's record."""
	global _REC
	rec, _REC = _REC, None
	try:
		suite = unittest.defaultTestLoader.discover(HERE, pattern='faultin_tool_test.py')
		r = unittest.TextTestRunner(verbosity=1).run(suite)
	finally:
		_REC = rec
	ok = r.testsRun - len(r.failures) - len(r.errors)
	say('unit tests: %d passed, %d failed' % (ok, len(r.failures) + len(r.errors)))
	return ok, len(r.failures) + len(r.errors)


def all_series():
	return sorted(os.listdir(os.path.join(TOP, 'patches')))


def _checks_path(series):
	return os.path.join(overlay.cache_dir(), 'checks', '%s.json' % series)


def run_checks(series_list, params, build=True, build_only=None, reuse=False):
	"""Series checks (faultin_series); returns (passed, failed). With
	@build_only, only those series get the build checks (every prefix
	builds, sparse/W=1): the others would each cost a cold kernel build.
	With @reuse (make run), a series whose checks all passed before, on
	inputs with the same faultin_series.inputs_key(), is not checked
	again: its line says so and from which run, and its checks count as
	passed. Failed checks are never kept."""
	c = faultin_series.Check(say)
	reused = 0
	for series in series_list:
		bid = prepare(series, None)
		b = build and (build_only is None or series in build_only)
		key = faultin_series.inputs_key(bid, series, b)
		try:
			with open(_checks_path(series)) as f:
				prev = json.load(f)
		except (OSError, ValueError):
			prev = {}
		if reuse and prev.get('key') == key and prev.get('passed'):
			say('== series %s: %d check(s) passed in run %s on the same inputs (patches, '
			    'base %s, overlay, harness, selftests, tool versions): not run again '
			    '(RECHECK=1 runs them)' % (series, prev['passed'], prev.get('run', '?'),
						     overlay.base_version(bid)))
			c.passed += prev['passed']
			reused += prev['passed']
			continue
		if build and not b:
			say('== series %s: build checks left to "make check" and "make run"'
			    % series)
		p0, f0 = c.passed, len(c.failed)
		faultin_series.check_series(bid, series, params, c, say, build=b)
		os.makedirs(os.path.dirname(_checks_path(series)), exist_ok=True)
		if len(c.failed) == f0 and key:
			with open(_checks_path(series), 'w') as f:
				json.dump({'key': key, 'passed': c.passed - p0,
					   'run': _REC.doc['id'] if _REC else None}, f)
		elif os.path.exists(_checks_path(series)):
			os.unlink(_checks_path(series))
	faultin_series.check_maintainers(prepare(series_list[0], None), c)
	for f in c.failed:
		say('FAILED CHECK: %s' % f.splitlines()[0])
	if reused:
		say('series checks: %d of the %d passed were kept from earlier runs on the same '
		    'inputs' % (reused, c.passed))
	return c.passed, len(c.failed)


def cmd_check(args):
	ensure_packages(args.series, install=False)
	p, f = run_checks(args.series, qemu_config.load(args.arch), build=not args.no_build)
	say('checks: %d passed, %d failed' % (p, f))
	return 1 if f else 0


def cmd_b4(args):
	ensure_packages([args.base], install=False)
	bid = prepare(args.base, None)
	out = args.output or os.path.join(overlay.cache_dir(), 'mail', args.base)
	shutil.rmtree(out, ignore_errors=True)
	for m in faultin_series.b4_mails(bid, args.base, out, say):
		say('  %s' % os.path.join(out, m))
	return 0


def cmd_test(args):
	"""The project's test command: harness unit tests, the selftests compiled
	against each base, and one real build-boot-run of the default base."""
	t0 = time.monotonic()
	passed = failed = 0
	if not args.unit_only:
		check_names(args.bases, args.variants)
		load_tests(args.tests, args.config)
		start_record(args)
	say('== harness unit tests (canned console logs)')
	p, f = unit_tests()
	passed, failed = passed + p, failed + f
	if not args.unit_only:
		arches = arches_of(args)
		ensure_packages(args.bases, install=args.install, arches=arches)
		params = load_params(args)
		tests = load_tests(args.tests, args.config)
		rdir = results_dir()
		kernels = []
		for b in args.bases:
			say('== %s: build, boot, run' % b)
			bid = prepare(b, None)
			for v in args.variants:
				kernels.append(run_kernel(bid, v, series_of(b, None), params,
							  tests, args, rdir))
		p, f = report(kernels, rdir, args.expect)
		passed, failed = passed + p, failed + f
		say('== mutations: each must be caught')
		# Those that are bugs only on another arch are checked there
		# (below); 'make mutants' shows them passing here too.
		here = [m for m in mutations()
			if params.linux_arch in (mutation_arches(m)[0] or [params.linux_arch])]
		p, f = run_mutants(args.bases[0], params, args, here)
		passed, failed = passed + p, failed + f
		# The series checks build natively, before the other arches do:
		# those rewrite files of the work tree the builds share (a
		# mutation of page-flags.h), after which a native build of a
		# prefix would be a full one.
		say('== series checks')
		ensure_packages(all_series(), install=args.install)
		p, f = run_checks(all_series(), native_params(),
				  build_only=args.bases)
		passed, failed = passed + p, failed + f
		for a in arches[1:]:
			# Another arch: populate_eio, and the mutations that are bugs
			# only there (with their tests on its base).
			pa = load_params(args, a)
			mine = [m for m in mutations() if a in (mutation_arches(m)[0] or ())]
			say('== %s on %s: populate_eio and the mutations caught on %s (%s)'
			    % (args.bases[0], a, a, ' '.join(mine) or 'none'))
			p, f = run_mutants(args.bases[0], pa, args, mine,
					   extra_tests=['populate_eio'])
			passed, failed = passed + p, failed + f
	say('took %.1f s' % (time.monotonic() - t0))
	say('faultin: %d passed, %d failed' % (passed, failed))
	return 1 if failed else 0


def cmd_figures(args):
	"""The README's measured figures, from the runs' records."""
	text = figures.markdown(figures.load(overlay.cache_dir()))
	if not args.write:
		say(text)
		return 0
	if not figures.write_readme(args.write, text):
		raise Failure('%s has no "%s" ... "%s" section to fill'
			      % (args.write, figures.BEGIN, figures.END))
	say('%s: figures written from %s' % (args.write, os.path.join(overlay.cache_dir(), 'runs')))
	return 0


def load_results(rid):
	path = os.path.join(overlay.cache_dir(), 'results', rid, 'results.json')
	try:
		with open(path) as f:
			return json.load(f)['kernels']
	except (OSError, ValueError, KeyError) as e:
		raise Failure('results %s: cannot read %s (%s)' % (rid, path, e))


def cmd_compare(args):
	"""Per-case verdicts of two results records, and their cases' times."""
	old, new = load_results(args.old), load_results(args.new)
	n, diff = printer.compare(old, new)
	ta, tb = printer.guest_seconds(old), printer.guest_seconds(new)
	walls = [{k['label']: k.get('tests_seconds') for k in x} for x in (old, new)]
	for label in [k['label'] for k in new if k['label'] in ta]:
		wa, wb = walls[0].get(label), walls[1].get(label)
		say('%s: cases took %.1f s in %s, %.1f s in %s%s' % (
			label, ta[label], args.old, tb[label], args.new,
			'; its tests %.1f s and %.1f s from first boot to last' % (wa, wb)
			if wa and wb else ''))
	for k, name, a, b in diff:
		say('differs: %s on %s: %s in %s, %s in %s' % (name, k, a, args.old, b, args.new))
	say('compare: %d case(s) on %d kernel(s) both ran, %d differ' % (
		n, len(set(ta) & set(tb)), len(diff)))
	return 1 if diff or not n else 0


def cmd_deadlines(args):
	"""faultin_util.h's bounds against the slowest passes in the cache."""
	header = os.path.join(TOP, 'tools-testing', 'selftests', 'mm', 'faultin_util.h')
	results = os.path.join(overlay.cache_dir(), 'results')
	lines, ok = deadlines.report(deadlines.bounds(header),
				     deadlines.slowest_passes(results), args.margin)
	for line in lines:
		say(line)
	return 0 if ok else 1


def main(argv=None):
	ap = argparse.ArgumentParser(prog='faultin', description=__doc__,
				     formatter_class=argparse.RawDescriptionHelpFormatter)
	sub = ap.add_subparsers(dest='cmd', required=True)

	def common(p, many_bases=False, many_arches=False):
		if many_bases:
			p.add_argument('--bases', nargs='*', default=['mainline'],
				       help='bases: %s (default %%(default)s)' % ' '.join(overlay.BASES))
		else:
			p.add_argument('--base', default='mainline', help='default %(default)s')
		p.add_argument('--ksrc', default=os.environ.get('KSRC') or None,
			       help='use this kernel tree as the base (env KSRC)')
		if many_arches:
			p.add_argument('--arch', action='append', choices=qemu_config.arches(),
				       help='guest arch; more than once for several (default x86_64)')
		else:
			p.add_argument('--arch', default='x86_64', choices=qemu_config.arches())
		p.add_argument('--config', default=kernel.LEAN, choices=kernel.config_names(),
			       help='kernel configuration: lean, or configs/NAME.config on top '
			       '(debug: KASAN, lockdep, DEBUG_VM, ...) (default %(default)s)')

	def running(p):
		p.add_argument('--accel', default=os.environ.get('ACCEL') or 'tcg',
			       choices=['tcg', 'kvm'], help='QEMU accelerator (env ACCEL)')
		p.add_argument('--expect', default=os.path.join(HERE, 'expected'))
		p.add_argument('--no-cache', action='store_true',
			       help='rebuild even if an image of the same content exists')
		p.add_argument('-v', '--verbose', action='store_true',
			       help='echo the guest console')
		p.add_argument('--guests', type=int,
			       default=int(os.environ.get('GUESTS') or os.cpu_count() or 1),
			       help='guests booted at once, each a test of the same kernel '
			       '(env GUESTS; default: the host\'s cores, %(default)s); '
			       'bench boots one at a time')

	p = sub.add_parser('setup', help='install packages, import bases, apply series')
	common(p, True, True)
	p.set_defaults(fn=cmd_setup)

	p = sub.add_parser('build', help='build one kernel')
	common(p)
	p.add_argument('--variant', default='patched')
	p.add_argument('--no-cache', action='store_true')
	p.set_defaults(fn=cmd_build)

	p = sub.add_parser('run', help='the main job: build, boot, test, results table')
	common(p, True, True)
	running(p)
	p.add_argument('--variants', nargs='+', default=['base', 'patched'])
	p.add_argument('--tests', nargs='*', default=None, help='names from tests.conf')
	p.add_argument('--install', action='store_true', help='apt-get what is missing')
	p.add_argument('--distro', nargs='*', default=[], metavar='PKG',
		       help='also run on these prebuilt Debian kernel packages '
		       '(linux-image-* or linux-binary-*)')
	p.add_argument('--no-checks', dest='checks', action='store_false',
		       help='skip the series checks at the end')
	p.add_argument('--recheck', dest='reuse_checks', action='store_false',
		       default=os.environ.get('RECHECK', '') in ('', '0'),
		       help='run every series check, also of a series whose checks passed '
		       'before on the same inputs (env RECHECK=1)')
	p.set_defaults(fn=cmd_run)

	p = sub.add_parser('quick', help='edit-to-verdict: rebuild and run one test')
	common(p)
	running(p)
	p.add_argument('--variant', default='patched')
	p.add_argument('--test', default='populate_eio')
	p.set_defaults(fn=cmd_quick)

	p = sub.add_parser('test', help="the project's checks (what .ci/run runs)")
	common(p, True, True)
	running(p)
	p.add_argument('--variants', nargs='+', default=['base'])
	p.add_argument('--tests', nargs='*', default=None)
	p.add_argument('--install', action='store_true')
	p.add_argument('--unit-only', action='store_true', help='only the canned-log tests')
	p.set_defaults(fn=cmd_test)

	p = sub.add_parser('bench', help='populate/mlock benchmark, patched vs base')
	common(p)
	p.add_argument('--accel', default=os.environ.get('ACCEL') or 'tcg',
		       choices=['tcg', 'kvm'])
	p.add_argument('--rounds', type=int, default=0,
		       help='rounds, each booting A, A again and B (default: 2 with icount, 5 wall)')
	p.add_argument('--clock', default=os.environ.get('CLOCK') or 'icount',
		       choices=['icount', 'wall'],
		       help='icount: guest time counts instructions (deterministic, TCG only); '
		       'wall: the host clock (default %(default)s)')
	p.add_argument('--pair', nargs=2, default=['base', 'patched'], metavar=('A', 'B'),
		       help='variants to compare (default: base patched)')
	p.set_defaults(fn=cmd_bench)

	p = sub.add_parser('figures', help="the README's measured figures, from the runs' records")
	p.add_argument('--write', metavar='README', help='fill its generated section')
	p.set_defaults(fn=cmd_figures)

	p = sub.add_parser('compare', help='per-case verdicts of two results '
			   '(ids in <cache>/results) side by side: which differ')
	p.add_argument('old')
	p.add_argument('new')
	p.set_defaults(fn=cmd_compare)

	p = sub.add_parser('deadlines', help="faultin_util.h's bounds against the "
			   'slowest passes of the results in the cache')
	p.add_argument('--margin', type=float, default=deadlines.MARGIN,
		       help='a bound must be this many times the slowest pass '
		       '(default %(default)s)')
	p.set_defaults(fn=cmd_deadlines)

	p = sub.add_parser('check', help='series checks: git am, checkpatch, bisect builds, '
			   'sparse/W=1, manifest, MAINTAINERS-snippet')
	p.add_argument('--series', nargs='+', default=all_series())
	p.add_argument('--arch', default='x86_64', choices=qemu_config.arches())
	p.add_argument('--no-build', action='store_true', help='skip the build checks')
	p.set_defaults(fn=cmd_check)

	p = sub.add_parser('b4', help='b4 prep + b4 send -o: the mails, without sending')
	p.add_argument('--base', default='mainline')
	p.add_argument('--output', default=None)
	p.set_defaults(fn=cmd_b4)

	p = sub.add_parser('mutants', help='each mutation patch must be caught by its tests')
	common(p, many_arches=True)
	running(p)
	p.add_argument('names', nargs='*', help='mutations (default: all)')
	p.set_defaults(fn=cmd_mutants)

	p = sub.add_parser('parse', help='verdicts from saved console logs')
	p.add_argument('logs', nargs='+')
	p.set_defaults(fn=cmd_parse)

	p = sub.add_parser('table', help='print the last results table')
	p.add_argument('json', nargs='?')
	p.set_defaults(fn=cmd_table)

	args = ap.parse_args(argv)
	args.argv = list(argv) if argv is not None else sys.argv[1:]
	# 'make run CONFIG=debug' puts CONFIG=debug (and V=1, BASE=...) into
	# MAKEFLAGS; the kernel's and kselftest's makes must not inherit them.
	for k in ('MAKEFLAGS', 'MFLAGS', 'MAKEOVERRIDES', 'MAKELEVEL'):
		os.environ.pop(k, None)
	# A main() called from within a run (the unit tests do) keeps its own
	# record, if any, and gives the caller's back.
	global _REC
	outer, _REC = _REC, None
	rc = None	# None in a record: the run died of an unexpected error
	lock = None
	if argv is None:
		# A run that is told to stop (SIGTERM, a closed terminal) stops as
		# on Ctrl-C: its builds and guests with it, its table written.
		import signal

		def stop(signum, frame):
			raise KeyboardInterrupt
		for sig in (signal.SIGTERM, signal.SIGHUP):
			# Left alone where ignored: under nohup, SIGHUP must not stop it.
			if signal.getsignal(sig) != signal.SIG_IGN:
				signal.signal(sig, stop)
	try:
		if args.cmd not in READ_ONLY_CMDS and not getattr(args, 'unit_only', False):
			lock = overlay.lock_cache('faultin ' + args.cmd)
		rc = args.fn(args)
	except (Failure, overlay.OverlayError, kernel.BuildError, faultin_distro.DistroError,
		faultin_apt.AptError, ValueError) as e:
		error('faultin: error: %s' % e)
		rc = 2
	except OSError as e:
		# A full disk, a missing file: one line, not a traceback.
		error('faultin: error: %s' % e)
		rc = 2
	except KeyboardInterrupt:
		print('faultin: interrupted; what finished is kept in %s, rerun to go on'
		      % overlay.cache_dir(), file=sys.stderr)
		rc = 130
	finally:
		if _REC is not None:
			try:
				_REC.finish(rc)
			except OSError:
				pass
		_REC = outer
		if lock is not None:
			os.close(lock)
	return rc


if __name__ == '__main__':
	sys.exit(main())
