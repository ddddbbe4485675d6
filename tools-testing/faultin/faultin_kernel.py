# SPDX-License-Identifier: GPL-2.0
"""Configure and build a guest kernel, pack an initramfs, boot it in QEMU."""

import dataclasses
import hashlib
import os
import platform
import re
import select
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, 'mm-overlay'))

import overlay  # noqa: E402
import qemu_config  # noqa: E402

SELFTESTS = os.path.join(TOP, 'tools-testing', 'selftests', 'mm')
# Tests that are guest scripts around a host program (stress-ng, trinity):
# the script goes in with the test binaries, the program (and its
# libraries) only into the guests of a run that has the script.
GUEST_TESTS = os.path.join(HERE, 'guest', 'tests')
GUEST_TOOLS = {'stress_ng': [('stress-ng', 'stress-ng')],
	       'trinity_family': [('trinity', 'trinity')]}
BENCH = os.path.join(TOP, 'tools-testing', 'bench')
# base.config: what a guest needs; selftests.config: what the tests need,
# with scsi_debug built in (the mm 'config' fragment the series adds asks
# for a module; the harness boots with scsi_debug.opts= instead).
CONFIGS = os.path.join(HERE, 'configs')
FRAGMENTS = [os.path.join(CONFIGS, 'base.config'),
	     os.path.join(CONFIGS, 'selftests.config')]
LEAN = 'lean'
TIMEOUT_FACTOR_RE = re.compile(r'^# faultin-timeout-factor:\s*(\d+)\s*$', re.M)


class BuildError(Exception):
	pass


def jobs():
	return str(os.cpu_count() or 1)


def config_names():
	"""'lean' and each configs/<name>.config other than the lean fragments."""
	lean = [os.path.basename(f) for f in FRAGMENTS]
	return [LEAN] + sorted(f[:-len('.config')] for f in os.listdir(CONFIGS)
			       if f.endswith('.config') and f not in lean)


def with_config(params, name):
	"""@params for kernels of configuration @name."""
	if name not in config_names():
		raise ValueError("unknown kernel config '%s' (have: %s)"
				 % (name, ' '.join(config_names())))
	return dataclasses.replace(params, config=name)


def _config_fragment(params):
	if params.config == LEAN:
		return ''
	with open(os.path.join(CONFIGS, params.config + '.config')) as f:
		return f.read()


def timeout_factor(params):
	"""How much longer guests of @params may take: its configuration
	fragment's '# faultin-timeout-factor: N' line (1 for lean) times the
	arch's own factor (qemu_configs/)."""
	m = TIMEOUT_FACTOR_RE.search(_config_fragment(params))
	return (int(m.group(1)) if m else 1) * params.timeout_factor


def native_arch():
	"""The QEMU arch name of the host (x86_64, aarch64)."""
	return platform.machine()


def is_cross(params):
	"""A guest of another arch than the host's: cross-compiled, its
	userland from faultin_sysroot, no KVM."""
	return params.qemu_arch != native_arch()


def config_suffix(params):
	"""What kernel labels carry after the base and variant: '/NAME' for a
	configuration other than lean, then '/ARCH' for an arch other than
	x86_64 (the arch of every label without one)."""
	out = '' if params.config == LEAN else '/' + params.config
	return out + ('' if params.linux_arch == 'x86_64' else '/' + params.linux_arch)


def _dirs(bid, params):
	c = overlay.cache_dir()
	tag = bid if params.config == LEAN else '%s-%s' % (bid, params.config)
	if params.linux_arch != 'x86_64':
		tag += '-' + params.linux_arch
	return {
		'tag': tag,
		'build': os.path.join(c, 'build', tag),
		'images': os.path.join(c, 'images', tag),
		'tests': os.path.join(c, 'tests', tag),
		'logs': os.path.join(c, 'logs'),
	}


def _fragment(params):
	text = ''
	for f in FRAGMENTS:
		with open(f) as fh:
			text += fh.read() + '\n'
	return text + params.kconfig + '\n' + _config_fragment(params)


def wanted_options(text):
	out = {}
	for line in text.splitlines():
		line = line.strip()
		if line.startswith('CONFIG_') and '=' in line:
			k, v = line.split('=', 1)
			out[k] = v
		elif line.startswith('# CONFIG_') and line.endswith(' is not set'):
			out[line[2:-len(' is not set')]] = 'n'
	return out


def read_config(path):
	out = {}
	with open(path) as f:
		for line in f:
			line = line.strip()
			if line.startswith('CONFIG_') and '=' in line:
				k, v = line.split('=', 1)
				out[k] = v
	return out


def _make(work, build, params, args, logf, progress=None):
	"""make in @work with output to @logf; with @progress (a BuildProgress),
	show what the log says was built so far while make runs."""
	cmd = ['make', '-C', work, 'O=' + build, 'ARCH=' + _karch(params)]
	if params.cross_compile:
		cmd.append('CROSS_COMPILE=' + params.cross_compile)
	t0 = time.monotonic()
	# make and its compilers in a process group of their own: on Ctrl-C
	# (or any exception here) the whole group is stopped (stop_group()),
	# so make deletes the targets it was writing (kbuild's
	# .DELETE_ON_ERROR) and a rerun builds them again.
	p = subprocess.Popen(cmd + args, stdout=logf, stderr=subprocess.STDOUT,
			     start_new_session=True)
	try:
		with open(logf.name, errors='replace') as f:
			while True:
				try:
					p.wait(timeout=1)
				except subprocess.TimeoutExpired:
					pass
				if progress is not None:
					progress.feed(f.read())
				if p.returncode is not None:
					break
				if progress is not None:
					progress.tick(time.monotonic() - t0)
	except BaseException:
		stop_group(p)
		raise
	if progress is not None:
		progress.finish(time.monotonic() - t0)
	return p.returncode


def stop_group(p, grace=30):
	"""SIGTERM to @p's process group, which make handles as a terminal's
	Ctrl-C (SIGINT would not do: a shell starts background jobs with it
	ignored, and make and its compilers inherit that); SIGKILL to what is
	left after @grace seconds."""
	import signal
	try:
		os.killpg(p.pid, signal.SIGTERM)
		p.wait(timeout=grace)
	except subprocess.TimeoutExpired:
		pass
	except ProcessLookupError:
		pass
	try:
		os.killpg(p.pid, signal.SIGKILL)
	except ProcessLookupError:
		pass
	p.wait()


class BuildProgress:
	"""Objects built so far, counted in kbuild's quiet output ('  CC  x.o'),
	against @estimate, the count of the last full build (None: unknown).
	On a terminal (@out) one line is redrawn every second; otherwise @log
	gets a line every 30 s."""
	OBJ = re.compile(r'^[ \t]+(?:CC|AS|LD|AR)[ \t]')

	def __init__(self, label, estimate, log=print, out=None):
		self.label = label
		self.estimate = estimate
		self.log = log
		self.out = out
		self.done = 0
		self.shown = 0.0
		self._rest = ''

	def feed(self, text):
		lines = (self._rest + text).split('\n')
		self._rest = lines.pop()
		self.done += sum(1 for line in lines if self.OBJ.match(line))

	def line(self, seconds):
		return '%s: building: %d of ~%s objects, %.0f s' % (
			self.label, self.done, self.estimate or '?', seconds)

	def tick(self, seconds):
		if seconds - self.shown < (1 if self.out else 30):
			return
		self.shown = seconds
		if self.out:
			self.out.write('\r' + self.line(seconds))
			self.out.flush()
		else:
			self.log(self.line(seconds))

	def finish(self, seconds):
		if self.out and self.shown:
			self.out.write('\r%s\n' % self.line(seconds))
			self.out.flush()


class CaseProgress:
	"""What a guest is doing, from its console as it arrives: the case
	running (the kselftest harness's '#  RUN' line) and how far through
	the plan. On a terminal (@out) one line is redrawn as each case starts
	and every second; otherwise @log gets a line when a case has run for
	@quiet seconds, and every @every seconds after that, so a long wait
	(a hang waiting for its timeout) always says what it waits on."""
	RUN = re.compile(r'^(?:\[\s*\d+\.\d+\]\s*)?#\s+RUN\s+(\S+)')
	PLAN = re.compile(r'^\s*1\.\.(\d+)\s*$')
	TAP = re.compile(r'^\s*(?:ok|not ok)\s+\d+')

	def __init__(self, label, log=print, out=None, quiet=10, every=30):
		self.label = label
		self.log = log
		self.out = out
		self.quiet = quiet
		self.every = every
		self.case = None
		self.started = 0.0
		self.shown = None
		self.n = 0
		self.plan = None

	def feed(self, text, seconds):
		m = self.RUN.match(text)
		if m:
			self.case, self.started, self.shown = m.group(1), seconds, None
			self.n += 1
			if self.out:
				self.tick(seconds, force=True)
			return
		m = self.PLAN.match(text)
		if m and self.plan is None:
			self.plan = int(m.group(1))
		elif self.TAP.match(text):
			self.case = None
		elif text.strip() == 'faultin: done':
			# The guest should power off now; say so if it does not
			# (a task the test left spinning can keep it up).
			self.case, self.started, self.shown = self.STOPPING, seconds, None

	STOPPING = object()

	def line(self, seconds):
		if self.case is self.STOPPING:
			return '%s: the test has finished, the guest has not stopped, %.0f s' % (
				self.label, seconds - self.started)
		of = '/%d' % self.plan if self.plan else ''
		return '%s: case %d%s %s, %.0f s' % (self.label, self.n, of, self.case,
						     seconds - self.started)

	def tick(self, seconds, force=False):
		if self.case is None:
			return
		if self.out and self.case is not self.STOPPING:
			if force or self.shown is None or seconds - self.shown >= 1:
				self.shown = seconds
				self.out.write('\r\033[K' + self.line(seconds))
				self.out.flush()
			return
		if seconds - self.started < self.quiet:
			return
		if self.shown is None or seconds - self.shown >= self.every:
			self.shown = seconds
			self.log(self.line(seconds) +
				 ('' if self.case is self.STOPPING else ' (still running)'))

	def finish(self):
		if self.out and self.n:
			self.out.write('\r\033[K')
			self.out.flush()


def _karch(params):
	return {'x86_64': 'x86', 'aarch64': 'arm64'}.get(params.linux_arch,
							  params.linux_arch)


def configure(bid, params, log=print):
	"""tinyconfig + our fragments, regenerated only when they change."""
	d = _dirs(bid, params)
	work = overlay.paths(bid)['work']
	frag = _fragment(params)
	stamp = hashlib.sha256(frag.encode()).hexdigest()
	cfg = os.path.join(d['build'], '.config')
	sfile = os.path.join(d['build'], '.faultin-config')
	if os.path.exists(cfg) and os.path.exists(sfile) and open(sfile).read() == stamp:
		return cfg
	os.makedirs(d['build'], exist_ok=True)
	os.makedirs(d['logs'], exist_ok=True)
	fpath = os.path.join(d['build'], 'faultin.config')
	with open(fpath, 'w') as f:
		f.write(frag)
	logpath = os.path.join(d['logs'], 'config-%s.log' % d['tag'])
	with open(logpath, 'w') as logf:
		if _make(work, d['build'], params, ['tinyconfig'], logf):
			raise BuildError('make tinyconfig failed, see %s' % logpath)
		r = subprocess.run([os.path.join(work, 'scripts/kconfig/merge_config.sh'),
				    '-m', '-O', d['build'], cfg, fpath],
				   stdout=logf, stderr=subprocess.STDOUT, cwd=d['build'])
		if r.returncode:
			raise BuildError('merge_config.sh failed, see %s' % logpath)
		if _make(work, d['build'], params, ['olddefconfig'], logf):
			raise BuildError('make olddefconfig failed, see %s' % logpath)
	have = read_config(cfg)
	bad = ['%s=%s (got %s)' % (k, v, have.get(k, 'n'))
	       for k, v in wanted_options(frag).items()
	       if have.get(k, 'n') != v and _kconfig_has(work, k, log)]
	if bad:
		raise BuildError('%s: options the fragments ask for did not stick:\n  %s'
				 % (bid, '\n  '.join(bad)))
	with open(sfile, 'w') as f:
		f.write(stamp)
	return cfg


def _kconfig_has(tree, option, log):
	"""False (and said) for an option no Kconfig file of the tree defines:
	it was renamed or folded into another (7.3 folded PROC_SYSCTL into
	SYSCTL), so asking for it is not an error in this tree."""
	r = subprocess.run(['grep', '-rqE', '--include=Kconfig*',
			    r'^\s*(menu)?config\s+%s\s*$' % option[len('CONFIG_'):], tree])
	if r.returncode == 1:
		log('%s: %s is not in this tree\'s Kconfig; not asked for'
		    % (os.path.basename(tree), option))
		return False
	return True


class Built:
	def __init__(self, image, seconds, kind, key, written):
		self.image = image
		self.seconds = seconds
		self.kind = kind        # full, rebuild, cached
		self.key = key
		self.written = written  # files the overlay wrote into the tree


def build(bid, variant, series, params, log=print, use_cache=True):
	"""Build the variant's kernel image; reuse an image of the same content."""
	d = _dirs(bid, params)
	frag = _fragment(params)
	key = overlay.content_key(bid, variant, series) + '-' + \
		hashlib.sha256(frag.encode()).hexdigest()[:8]
	cached = os.path.join(d['images'], key, os.path.basename(params.kernel_path))
	if use_cache and os.path.exists(cached):
		return Built(cached, 0.0, 'cached', key, [])
	t0 = time.monotonic()
	written = overlay.sync(bid, variant, series, log)
	configure(bid, params, log)
	work = overlay.paths(bid)['work']
	img = os.path.join(d['build'], params.kernel_path)
	kind = 'rebuild' if os.path.exists(os.path.join(d['build'], 'vmlinux')) else 'full'
	logpath = os.path.join(d['logs'], 'build-%s.log' % d['tag'])
	log('%s/%s: building (%s; overlay wrote %s)' % (
		bid, variant, kind, ', '.join(written) if written else 'nothing'))
	countfile = os.path.join(d['build'], '.faultin-objcount')
	try:
		with open(countfile) as f:
			estimate = int(f.read())
	except (OSError, ValueError):
		estimate = None
	progress = BuildProgress('%s/%s' % (bid, variant), estimate, log,
				 sys.stdout if sys.stdout.isatty() else None)
	with open(logpath, 'w') as logf:
		rc = _make(work, d['build'], params,
			   ['-j' + jobs(), os.path.basename(params.kernel_path)], logf, progress)
	if rc:
		raise BuildError(build_failure('%s/%s' % (bid, variant), logpath, d['build']))
	if kind == 'full':
		with open(countfile, 'w') as f:
			f.write('%d\n' % progress.done)
	secs = time.monotonic() - t0
	os.makedirs(os.path.dirname(cached), exist_ok=True)
	try:
		shutil.copyfile(img, cached + '.tmp')
		os.rename(cached + '.tmp', cached)
	except BaseException:
		if os.path.exists(cached + '.tmp'):
			os.unlink(cached + '.tmp')
		raise
	return Built(cached, secs, kind, key, written)


NO_SPACE = 'No space left on device'


def build_failure(what, logpath, where):
	"""The message of a failed build: one line first (the disk being
	full is said as such), then the log's tail."""
	with open(logpath, errors='replace') as f:
		text = f.read()
	tail = ''.join(text.splitlines(True)[-25:])
	if NO_SPACE in text:
		st = os.statvfs(where)
		return ('%s: kernel build failed: no space left on device (%d MiB free on '
			'the file system of %s); free some and rerun, the build goes on where it '
			'stopped\n%s\n(full log: %s)' % (what, st.f_bavail * st.f_frsize >> 20,
							 where, tail, logpath))
	return '%s: kernel build failed: %s\n%s\n(full log: %s)' % (
		what, _first_error(logpath), tail, logpath)


def _first_error(path):
	with open(path, errors='replace') as f:
		for line in f:
			if 'error' in line or 'undefined reference' in line:
				return line.strip()
	return 'see ' + path


def _tail(path, n):
	with open(path, errors='replace') as f:
		return ''.join(f.readlines()[-n:])


def install_headers(bid, params):
	d = _dirs(bid, params)
	inc = os.path.join(d['build'], 'usr', 'include')
	if os.path.exists(os.path.join(inc, 'linux', 'mman.h')):
		return inc
	work = overlay.paths(bid)['work']
	logpath = os.path.join(d['logs'], 'headers-%s.log' % d['tag'])
	with open(logpath, 'w') as logf:
		if _make(work, d['build'], params, ['headers'], logf):
			raise BuildError('make headers failed, see %s' % logpath)
	return inc


def compile_tests(bid, params, log=print):
	"""Build tools-testing/selftests/mm against the base's kselftest headers."""
	d = _dirs(bid, params)
	out = os.path.join(d['tests'], 'bin')
	os.makedirs(out, exist_ok=True)
	src = overlay.paths(bid)['src']
	inc = install_headers(bid, params)
	logpath = os.path.join(d['logs'], 'tests-%s.log' % d['tag'])
	cmd = ['make', '-C', SELFTESTS, '-f', os.path.join(HERE, 'selftests.mk'),
	       'OUTPUT=' + out,
	       'KSFT_DIR=' + os.path.join(src, 'tools', 'testing', 'selftests'),
	       'KHDR_INCLUDES=-isystem ' + inc,
	       'CC=%sgcc' % params.cross_compile]
	with open(logpath, 'w') as logf:
		r = subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT)
	if r.returncode:
		raise BuildError('%s: selftests did not compile:\n%s' % (bid, _tail(logpath, 30)))
	for f in os.listdir(GUEST_TESTS):
		shutil.copy(os.path.join(GUEST_TESTS, f), os.path.join(out, f))
	_compile_upstream(src, params, inc, out, logpath, log)
	for c in sorted(os.listdir(BENCH)):
		if c.endswith('.c'):
			_cc(params, [os.path.join(BENCH, c)], os.path.join(out, c[:-2]),
			    ['-isystem', inc], logpath)
	return out


KSFT_PARTS = ['tools', 'scripts', 'lib', 'include', 'mm']


def build_kselftests(bid, params, log=print):
	"""The 'faultin' branch's tools/testing/selftests/mm, built and installed
	as CI systems do it (make -C tools/testing/selftests TARGETS=mm install,
	dynamically linked), from a copy of the parts of the tree it reads.
	None if the branch adds no fault_in category (its series has no
	selftests)."""
	src = overlay.paths(bid)['src']
	wrapper = '%s:tools/testing/selftests/mm/ksft_fault_in.sh' % overlay.BRANCH
	if subprocess.run(['git', '-C', src, 'cat-file', '-e', wrapper],
			  stderr=subprocess.DEVNULL).returncode:
		return None
	tree = overlay.git(src, 'rev-parse', '%s:tools/testing/selftests' % overlay.BRANCH).strip()
	key = hashlib.sha256((tree + overlay.git(src, 'rev-parse', overlay.BASE_TAG)).encode())
	d = _dirs(bid, params)
	top = os.path.join(d['tests'], 'kselftest-' + key.hexdigest()[:12])
	inst = os.path.join(top, 'install')
	if os.path.exists(os.path.join(inst, '.complete')):
		return inst
	shutil.rmtree(top, ignore_errors=True)
	os.makedirs(os.path.join(top, 'tree'))
	inc = install_headers(bid, params)
	logpath = os.path.join(d['logs'], 'kselftest-%s.log' % d['tag'])
	log('%s: building tools/testing/selftests TARGETS=mm of branch %s (kselftest install)'
	    % (bid, overlay.BRANCH))
	a = subprocess.Popen(['git', '-C', src, 'archive', overlay.BRANCH] + KSFT_PARTS,
			     stdout=subprocess.PIPE)
	subprocess.run(['tar', '-x', '-C', os.path.join(top, 'tree')], stdin=a.stdout, check=True)
	if a.wait():
		raise BuildError('git archive of %s failed in %s' % (overlay.BRANCH, src))
	cmd = ['make', '-C', os.path.join(top, 'tree', 'tools', 'testing', 'selftests'),
	       '-j' + str(jobs()), 'TARGETS=mm', 'KHDR_INCLUDES=-isystem ' + inc,
	       'INSTALL_PATH=' + inst, 'install']
	# Always said: make exports a command line's ARCH ("x86_64 arm64")
	# to the environment of what it runs, this harness included.
	cmd += ['ARCH=' + params.linux_arch, 'CROSS_COMPILE=' + params.cross_compile]
	if is_cross(params):
		# libnuma and libcap (some mm tests link them) of the guest's arch
		import faultin_sysroot
		root = faultin_sysroot.ensure(params.deb_arch, log)
		cflags, ldflags = faultin_sysroot.build_flags(root, params.deb_arch)
		cmd += ['EXTRA_CFLAGS=' + cflags, 'LDFLAGS=' + ldflags]
	with open(logpath, 'w') as logf:
		r = subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT)
	if r.returncode:
		raise BuildError('%s: make -C tools/testing/selftests TARGETS=mm install failed: %s\n%s'
				 % (bid, _first_error(logpath), _tail(logpath, 20)))
	shutil.rmtree(os.path.join(top, 'tree'))
	with open(os.path.join(inst, '.complete'), 'w') as f:
		f.write(tree + '\n')
	return inst


def _shared_libs(paths):
	"""The shared libraries (and loader) that the ELF files in @paths need,
	from ldd."""
	out = set()
	for p in paths:
		with open(p, 'rb') as f:
			if f.read(4) != b'\x7fELF':
				continue
		r = subprocess.run(['ldd', p], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
				   text=True)
		for line in r.stdout.splitlines():
			m = re.search(r'(/\S+) \(0x', line)
			if m:
				out.add(m.group(1))
	return sorted(out)


def _userland(params):
	"""Where the guest's own programs and libraries come from: '/' (the
	host's) for a guest of the host's arch, faultin_sysroot's for others."""
	if not is_cross(params):
		return '/'
	import faultin_sysroot
	return faultin_sysroot.ensure(params.deb_arch)


def _stage_kselftest(inst, stage, params):
	"""The kselftest install at /kselftest, and bash (run_vmtests.sh) with
	the libraries it and the tests are linked against."""
	shutil.copytree(inst, os.path.join(stage, 'kselftest'), symlinks=True)
	if is_cross(params):
		import faultin_sysroot
		bash = faultin_sysroot.find(_userland(params), '/bin/bash')
	else:
		bash = shutil.which('bash') or '/bin/bash'
	shutil.copy(bash, os.path.join(stage, 'bin', 'bash'))
	elves = [bash]
	for dirpath, _, files in os.walk(inst):
		elves += [os.path.join(dirpath, f) for f in files
			  if os.access(os.path.join(dirpath, f), os.X_OK)]
	_stage_libs(elves, stage, params)


def _stage_libs(elves, stage, params=None):
	"""The shared libraries (and loader) the ELF files @elves need, at the
	same paths under @stage; one another stage step copied stays. For a
	cross guest they come from its sysroot (found with readelf)."""
	if params is not None and is_cross(params):
		import faultin_sysroot
		root = _userland(params)
		pairs = [(lib, faultin_sysroot.find(root, lib))
			 for lib in faultin_sysroot.shared_libs(elves, root, params.deb_arch)]
	else:
		pairs = [(lib, lib) for lib in _shared_libs(elves)]
	for lib, src in pairs:
		dest = os.path.join(stage, lib.lstrip('/'))
		if not os.path.exists(dest):
			os.makedirs(os.path.dirname(dest), exist_ok=True)
			shutil.copy(os.path.realpath(src), dest)


def upstream_tests():
	out = []
	with open(os.path.join(HERE, 'upstream.conf')) as f:
		for line in f:
			w = line.split('#', 1)[0].split()
			if w:
				out.append((w[0], w[1:]))
	return out


def _compile_upstream(src, params, inc, out, logpath, log):
	"""Build upstream.conf's tests from the base tree, as its Makefile
	would: the test plus vm_util.c (and thp_settings.c where it exists)."""
	ksft = os.path.join(src, 'tools', 'testing', 'selftests')
	mm = os.path.join(ksft, 'mm')
	if not os.path.isdir(mm):
		mm = os.path.join(ksft, 'vm')
	for name, opts in upstream_tests():
		# src=PATH (under selftests/; default mm/NAME.c), with=FILE (more
		# sources from mm/), inc=DIR (under selftests/), -lLIB.
		kv = [o.split('=', 1) for o in opts if '=' in o]
		srcs = [v for k, v in kv if k == 'src']
		main = os.path.join(ksft, srcs[0]) if srcs else os.path.join(mm, name + '.c')
		if not os.path.exists(main):
			log('%s: no upstream %s in this base' % (os.path.basename(src), name))
			continue
		extra = []
		if not srcs:
			# thp_settings.c became hugepage_settings.c in 7.3.
			extra = [os.path.join(mm, h) for h in ('vm_util.c', 'thp_settings.c',
							      'hugepage_settings.c')
				 if os.path.exists(os.path.join(mm, h))]
		extra += [os.path.join(mm, v) for k, v in kv if k == 'with']
		if not all(os.path.exists(x) for x in extra):
			log('%s: upstream %s lacks its helpers in this base' % (
				os.path.basename(src), name))
			continue
		incs = ['-I' + os.path.join(ksft, v) for k, v in kv if k == 'inc']
		libs = [o for o in opts if o.startswith('-l')]
		# -D_GNU_SOURCE= as kselftest's lib.mk builds every test.
		_cc(params, [main] + extra, os.path.join(out, name),
		    ['-D_GNU_SOURCE=', '-pthread', '-I' + ksft, '-I' + mm] + incs +
		    ['-isystem', inc, '-lrt', '-lpthread', '-lm'] + libs +
		    (_sysroot_flags(params, log) if libs else []), logpath)


def _sysroot_flags(params, log):
	"""Compiler flags for the libraries (libcap) of a cross guest's arch."""
	if not is_cross(params):
		return []
	import faultin_sysroot
	root = faultin_sysroot.ensure(params.deb_arch, log)
	cflags, ldflags = faultin_sysroot.build_flags(root, params.deb_arch)
	return cflags.split() + ldflags.split()


def _cc(params, sources, output, extra, logpath):
	cmd = ['%sgcc' % params.cross_compile, '-Wall', '-O2', '-static', '-o', output]
	with open(logpath, 'a') as logf:
		r = subprocess.run(cmd + sources + extra, stdout=logf, stderr=subprocess.STDOUT)
	if r.returncode:
		raise BuildError('%s did not compile: %s\n%s' % (
			output, _first_error(logpath), _tail(logpath, 30)))


def guest_tools(tests):
	"""[(program, package)] the guest scripts among @tests run."""
	out = []
	for t in tests:
		name, _, binary = t[0].partition('=')
		for tool in GUEST_TOOLS.get(binary or name, []):
			if tool not in out:
				out.append(tool)
	return out


def _stage_tools(tools, stage):
	"""Host programs into the guest's /bin, with their libraries."""
	progs = []
	for prog, pkg in tools:
		path = shutil.which(prog)
		if not path:
			raise BuildError('%s is missing: run "make setup" (package %s)' % (prog, pkg))
		shutil.copy(path, os.path.join(stage, 'bin', prog))
		progs.append(path)
	_stage_libs(progs, stage)


def make_initramfs(bid, params, bindir, busybox=None, distro=None,
		   kselftest=None, tools=()):
	"""busybox, guest/init and the tests; with @distro (a prebuilt kernel
	from faultin_distro), also the modules the tests need; with @kselftest
	(from build_kselftests()), that install and what it needs to run; with
	@tools (guest_tools()), those host programs."""
	d = _dirs(bid, params)
	tag = distro.label if distro else 'source'
	stage = os.path.join(d['tests'], 'root-' + tag)
	shutil.rmtree(stage, ignore_errors=True)
	for sub in ('bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'faultin'):
		os.makedirs(os.path.join(stage, sub))
	with open(os.path.join(stage, 'etc', 'passwd'), 'w') as f:
		f.write('root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n')
	with open(os.path.join(stage, 'etc', 'group'), 'w') as f:
		f.write('root:x:0:\nnogroup:x:65534:\n')
	if busybox is None:
		# busybox-static: the host's, or the guest arch's Debian package
		busybox = '/bin/busybox'
		if is_cross(params):
			import faultin_sysroot
			busybox = faultin_sysroot.find(_userland(params), busybox)
	if not os.path.exists(busybox):
		raise BuildError('%s is missing: run "make setup" (package busybox-static)' % busybox)
	shutil.copy(busybox, os.path.join(stage, 'bin', 'busybox'))
	os.symlink('busybox', os.path.join(stage, 'bin', 'sh'))
	shutil.copy(os.path.join(HERE, 'guest', 'init'), os.path.join(stage, 'init'))
	os.chmod(os.path.join(stage, 'init'), 0o755)
	for f in sorted(os.listdir(bindir)):
		shutil.copy(os.path.join(bindir, f), os.path.join(stage, 'faultin', f))
	if distro:
		import faultin_distro
		faultin_distro.stage_modules(distro, stage)
	if kselftest:
		_stage_kselftest(kselftest, stage, params)
	if tools:
		if is_cross(params):
			raise BuildError('host programs (%s) cannot run in a %s guest'
					 % (' '.join(t[0] for t in tools), params.linux_arch))
		_stage_tools(tools, stage)
	cpio = os.path.join(d['tests'], 'initramfs-%s.cpio' % tag)
	names = subprocess.run(['find', '.'], cwd=stage, stdout=subprocess.PIPE,
			       check=True).stdout
	with open(cpio, 'wb') as out:
		subprocess.run(['cpio', '--quiet', '-o', '-H', 'newc', '-R', '0:0'],
			       cwd=stage, input=names, stdout=out, check=True)
	return cpio


class GuestRun:
	def __init__(self, lines, killed, seconds, rc):
		self.lines = lines      # [(seconds since QEMU start, text)]
		self.killed = killed    # True: the host watchdog ended the guest
		self.seconds = seconds
		self.rc = rc


def qemu_command(params, image, initrd, append, accel='tcg', mem='1024', smp='2'):
	cmd = ['qemu-system-' + params.qemu_arch, '-accel', accel,
	       '-m', mem, '-smp', smp, '-nodefaults', '-display', 'none',
	       '-serial', 'stdio', '-no-reboot',
	       '-kernel', image, '-initrd', initrd,
	       '-append', ' '.join([params.kernel_command_line, append])]
	extra = list(params.extra_qemu_params)
	if accel == 'kvm' and is_cross(params):
		raise BuildError('ACCEL=kvm cannot run a %s guest on this %s host (TCG can)'
				 % (params.qemu_arch, native_arch()))
	if accel == 'kvm' and '-cpu' in extra:
		i = extra.index('-cpu')
		extra[i + 1] = 'host'
	return cmd + extra


# A console that says more than this is flooding: the guest is stopped
# and the case running is a crash (a normal boot and test write well
# under 1 MiB; the slowest I/O-error storm seen, printk-ratelimited,
# about 2 MiB). A line longer than MAX_LINE is cut into pieces.
MAX_CONSOLE = 32 << 20
MAX_LINE = 64 << 10
FLOOD_MARK = 'faultin-host: console flood'
# guest/init says this when the test has ended and it reboots the guest.
# A guest that has not stopped STOP_GRACE_S later is held up by a task
# the test left behind (an unkillable spin on CPU 0 keeps
# kernel_restart() from moving there); the host stops it
# rather than waiting for the deadline. A splat within the grace still
# counts; later ones (the spinner's RCU stall or soft lockup, some 20 s
# into the spin) are not waited for.
DONE_LINE = 'faultin: done'
STOP_GRACE_S = 5
STOP_MARK = 'faultin-host: the guest had not stopped'


class GuestStopped(Exception):
	"""A guest stopped by GuestGuard.stop(): no verdict may come of it."""


class GuestGuard:
	"""The guests that run at once, for run_guest(): stop() kills them all
	(Ctrl-C, or another guest's error) and refuses new ones."""

	def __init__(self):
		self._lock = threading.Lock()
		self._procs = set()
		self.stopped = False

	def add(self, p):
		with self._lock:
			if self.stopped:
				p.kill()
				raise GuestStopped('guests stopped')
			self._procs.add(p)

	def remove(self, p):
		with self._lock:
			self._procs.discard(p)

	def stop(self):
		with self._lock:
			self.stopped = True
			for p in self._procs:
				p.kill()


def run_guest(cmd, deadline, logpath, echo=None, max_console=MAX_CONSOLE,
	      progress=None, guard=None):
	"""Run QEMU; stamp each console line; kill it at the deadline, or
	when its console floods. With @guard, guard.stop() may kill it from
	another thread: then GuestStopped, not a result."""
	t0 = time.monotonic()
	p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
			     stderr=subprocess.STDOUT)
	fd = p.stdout.fileno()
	try:
		if guard is not None:
			guard.add(p)
		g = _watch_guest(p, fd, t0, cmd, deadline, logpath, echo, max_console,
				 progress)
		if guard is not None and guard.stopped:
			raise GuestStopped('guest stopped: %s' % logpath)
		return g
	except BaseException:
		p.kill()        # never leave a guest behind (Ctrl-C, SIGTERM)
		p.wait()
		raise
	finally:
		if guard is not None:
			guard.remove(p)
		p.stdout.close()
		if progress is not None:
			progress.finish()


def _watch_guest(p, fd, t0, cmd, deadline, logpath, echo, max_console, progress):
	lines, buf, killed, flooded = [], b'', False, False
	total = 0
	stop_by = None	# STOP_GRACE_S after the guest said the test is done
	with open(logpath, 'w') as logf:
		logf.write('# %s\n' % ' '.join(cmd))
		while True:
			now = time.monotonic() - t0
			left = deadline - now
			if left <= 0:
				killed = True
				p.kill()
				break
			if stop_by is not None:
				if stop_by <= now:
					# Every verdict is in; what keeps the guest up
					# is a task the test left in the kernel.
					msg = '%s %d s after the test ended: stopped' % (
						STOP_MARK, STOP_GRACE_S)
					logf.write('%9.3f| %s\n' % (now, msg))
					if progress is not None:
						progress.log('%s: %s' % (progress.label, msg[len('faultin-host: '):]))
					p.kill()
					break
				left = min(left, stop_by - now)
			r, _, _ = select.select([fd], [], [], min(left, 1.0))
			if progress is not None:
				progress.tick(time.monotonic() - t0)
			if not r:
				continue
			chunk = os.read(fd, 65536)
			if not chunk:
				break
			total += len(chunk)
			if total > max_console:
				killed = flooded = True
				p.kill()
				last = (lines[-1][1] if lines else buf.decode('utf-8', 'replace'))[:200]
				now = time.monotonic() - t0
				text = '%s: more than %d MiB in %.0f s, guest stopped; the last ' \
					'line: %s' % (FLOOD_MARK, max_console >> 20, now, last)
				lines.append((now, text))
				logf.write('%9.3f| %s\n' % (now, text))
				buf = b''
				break
			buf += chunk
			while True:
				i = buf.find(b'\n', 0, MAX_LINE + 1)
				if i >= 0:
					raw, buf = buf[:i], buf[i + 1:]
				elif len(buf) > MAX_LINE:
					raw, buf = buf[:MAX_LINE], buf[MAX_LINE:]
				else:
					break
				now = time.monotonic() - t0
				text = raw.decode('utf-8', 'replace').rstrip('\r')
				lines.append((now, text))
				logf.write('%9.3f| %s\n' % (now, text))
				if echo:
					echo(text)
				if progress is not None:
					progress.feed(text, now)
				if stop_by is None and text.strip() == DONE_LINE:
					stop_by = now + STOP_GRACE_S
		if buf:
			now = time.monotonic() - t0
			text = buf.decode('utf-8', 'replace').rstrip('\r')
			lines.append((now, text))
			logf.write('%9.3f| %s\n' % (now, text))
		if killed and not flooded:
			logf.write('%9.3f| faultin-host: guest killed at the %.0f s deadline\n'
				   % (time.monotonic() - t0, deadline))
	rc = p.wait()
	return GuestRun(lines, killed, time.monotonic() - t0, rc)
