# SPDX-License-Identifier: GPL-2.0
"""Turn one guest's console log into a verdict per test case.

The guest runs one test binary per boot (see guest/init). Verdicts:
  pass     a TAP 'ok' line (and no kernel splat while the case ran)
  skip     'ok ... # SKIP'
  fail     'not ok', or planned cases left unreported by a 'Bail out!'
  hang     the case timed out: the kselftest harness reported 'Test
           terminated by timeout', or the guest's or host's watchdog killed
           the test while the case was running
  crash    an oops, BUG, panic, WARNING, lockup or stall on the console while
           the case ran (the excerpt is kept), or a console flood that made
           the host stop the guest
  missing  the case has no TAP line and none of the above explains why
Only a TAP 'ok' can ever become a pass.
"""

import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

VERDICTS = ('pass', 'skip', 'fail', 'hang', 'crash', 'missing')

TAP_RE = re.compile(r'^\s*(ok|not ok)\s+(\d+)\b\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$')
PLAN_RE = re.compile(r'^\s*1\.\.(\d+)\s*$')
RUN_RE = re.compile(r'^#\s+RUN\s+(\S+)\s*\.\.\.')
BAIL_RE = re.compile(r'^\s*Bail out!\s*(.*)$')
HARNESS_TIMEOUT = 'Test terminated by timeout'
CRASH_RE = re.compile(
	r'(BUG: |kernel BUG at |Oops: |Oops\[|general protection fault|'
	r'Kernel panic - not syncing|WARNING: |Unable to handle kernel|'
	r'rcu: INFO: rcu_\w+ (?:self-)?detected stall|INFO: task \S+ blocked for more than|'
	r'^faultin-host: console flood)')
CRASH_END_RE = re.compile(r'---\[ end (trace|Kernel panic)')
EXCERPT_LINES = 40
# What guest/init prints around the test.
RUN_MARK = 'faultin: run '
EXIT_MARK = 'faultin: exit '
DONE_MARK = 'faultin: done'
KILLED_RC = 137  # timeout -s KILL


@dataclass
class Result:
	name: str
	verdict: str
	seconds: Optional[float] = None
	detail: str = ''
	excerpt: List[str] = field(default_factory=list)
	num: Optional[int] = None


@dataclass
class _Case:
	name: str
	start: Optional[float]
	timed_out: bool = False
	excerpt: List[str] = field(default_factory=list)


def _excerpt(lines, i):
	out = []
	for _, text in lines[i:i + EXCERPT_LINES]:
		out.append(text)
		if CRASH_END_RE.search(text):
			break
	return out


def _strip(text):
	"""Drop a kernel timestamp ('[    1.234567] ') in front of a line."""
	return re.sub(r'^\[\s*\d+\.\d+\]\s?', '', text)


def as_lines(text_or_lines):
	"""Accept raw text, a list of strings, or [(seconds, text)]."""
	if isinstance(text_or_lines, str):
		return [(None, l) for l in text_or_lines.splitlines()]
	out = []
	for item in text_or_lines:
		out.append(item if isinstance(item, tuple) else (None, item))
	return out


def _tap_verdict(status, directive, timed_out):
	d = (directive or '').strip()
	if d.upper().startswith('SKIP'):
		return 'skip'
	if status == 'ok':
		return 'pass'
	if timed_out or d.upper().startswith('TIMEOUT'):
		return 'hang'
	return 'fail'


KSFT_SKIP_RC = 4


def parse_boot(binary, lines, killed=False, exit_status=False) -> List[Result]:
	"""Verdicts for the cases of @binary from one boot's console @lines.

	@exit_status: the test predates TAP output; if it printed no TAP at
	all and exited by itself, judge it by its exit status as kselftest's
	runner.sh does (0 pass, 4 skip, anything else fail)."""
	lines = as_lines(lines)
	results: List[Result] = []
	started = False
	exit_rc = None
	done = False
	plan = None
	inflight: Optional[_Case] = None
	last_t = None
	boot_excerpt: List[str] = []
	orphan_excerpt: List[str] = []
	bail = None

	for i, (t, raw) in enumerate(lines):
		text = _strip(raw)
		if CRASH_RE.search(text):
			ex = _excerpt(lines, i)
			if inflight is not None:
				inflight.excerpt = inflight.excerpt or ex
			elif results:
				last = results[-1]
				if last.verdict != 'crash':
					last.detail = 'kernel splat after TAP %s' % last.verdict
					last.verdict = 'crash'
					last.excerpt = ex
			elif started:
				orphan_excerpt = orphan_excerpt or ex
			else:
				boot_excerpt = boot_excerpt or ex
			continue
		if text.startswith(RUN_MARK):
			started = True
			last_t = t
			continue
		if text.startswith(EXIT_MARK):
			m = re.search(r'rc=(\d+)', text)
			exit_rc = int(m.group(1)) if m else None
			continue
		if text.strip() == DONE_MARK:
			done = True
			continue
		if not started or exit_rc is not None:
			continue
		m = RUN_RE.match(text)
		if m:
			if inflight is not None:
				# The case before never printed a (well-formed)
				# TAP line: it must not vanish.
				results.append(_unreported(inflight, t, len(results) + 1))
			inflight = _Case(m.group(1), t)
			continue
		if inflight and HARNESS_TIMEOUT in text:
			inflight.timed_out = True
			continue
		m = PLAN_RE.match(text)
		if m:
			plan = int(m.group(1))
			if plan > MAX_PLAN:
				results.append(Result('plan', 'fail', None, 'malformed TAP: a plan '
						      'of 1..%d cases' % plan))
				plan = None
			continue
		m = BAIL_RE.match(text)
		if m:
			bail = m.group(1).strip() or 'no reason given'
			continue
		m = TAP_RE.match(text)
		if m:
			status, num, desc, directive = m.groups()
			glued = ''
			if inflight is not None and desc != inflight.name and \
			   desc.startswith(inflight.name):
				# A kernel message printed while the line was being
				# written ends up glued to the case name.
				glued = desc[len(inflight.name):]
				desc = inflight.name
			elif inflight is not None and desc and desc != inflight.name:
				# A TAP line for another case than the one running:
				# the running one is left unreported, not renamed.
				results.append(_unreported(inflight, t, len(results) + 1))
				inflight = None
			case = inflight if inflight is not None else _Case(desc, last_t)
			verdict = _tap_verdict(status, directive, case.timed_out)
			secs = None
			if t is not None and case.start is not None:
				secs = round(t - case.start, 2)
			r = Result(desc or case.name, verdict, secs,
				   (directive or '').strip(), [], int(num))
			if int(num) in {x.num for x in results}:
				r.name = '%s [#%s again]' % (r.name, num)
				r.detail = 'malformed TAP: number %s reported twice; TAP said %s' \
					% (num, verdict)
				r.verdict = verdict = 'fail'
			elif verdict == 'hang' and case.timed_out:
				r.detail = 'kselftest harness timeout'
			elif glued:
				r.detail = 'console text inside the TAP line: %s' % glued.strip()
			ex = case.excerpt or orphan_excerpt
			if ex:
				r.detail = 'kernel splat while the case ran; TAP said %s' % verdict
				r.verdict = 'crash'
				r.excerpt = ex
				orphan_excerpt = []
			results.append(r)
			inflight = None
			last_t = t
			continue

	guest_killed = killed or exit_rc == KILLED_RC
	why = 'guest killed by the host watchdog' if killed else \
		'test killed by the guest timeout' if exit_rc == KILLED_RC else \
		'test exited (rc=%s) without a TAP line' % exit_rc if exit_rc is not None else \
		'guest stopped without finishing' if not done else ''
	last_num = max([r.num for r in results if r.num] or [0])

	if not started:
		if boot_excerpt:
			return [Result(binary, 'crash', None, BOOT_SPLAT,
				       boot_excerpt)]
		last = [x for _, x in lines if x.strip() and not x.startswith('faultin-host:')]
		if last and not killed:
			# QEMU's own complaint, or the kernel's last word.
			why += '; the console\'s last line: %s' % last[-1].strip()[:200]
		if killed:
			return [Result(binary, 'hang', None, BOOT_HANG)]
		return [Result(binary, 'missing', None,
			       'guest never started the test' + (' (%s)' % why if why else ''))]

	if inflight is not None:
		secs = None
		end_t = lines[-1][0] if lines else None
		if end_t is not None and inflight.start is not None:
			secs = round(end_t - inflight.start, 2)
		if inflight.excerpt:
			results.append(Result(inflight.name, 'crash', secs,
					      'kernel splat while the case ran', inflight.excerpt,
					      last_num + 1))
		elif guest_killed:
			results.append(Result(inflight.name, 'hang', secs, why, [], last_num + 1))
		else:
			results.append(Result(inflight.name, 'missing', secs,
					      'no TAP line; ' + why, [], last_num + 1))
		last_num += 1

	if bail is not None and not guest_killed:
		why = 'Bail out! ' + bail
	if (not results and exit_status and plan is None and bail is None and
	    not orphan_excerpt and not guest_killed and exit_rc is not None):
		v = 'pass' if exit_rc == 0 else 'skip' if exit_rc == KSFT_SKIP_RC else 'fail'
		end_t = lines[-1][0] if lines else None
		secs = round(end_t - last_t, 2) if end_t is not None and last_t is not None else None
		return [Result(binary, v, secs, 'no TAP; exit status %d, judged as '
			       'kselftest runner.sh does' % exit_rc)]
	if not results:
		if bail is not None and not orphan_excerpt and not guest_killed:
			return [Result(binary, 'fail', None, why)]
		if orphan_excerpt:
			return [Result(binary, 'crash', None, 'kernel splat while the test ran',
				       orphan_excerpt)]
		return [Result(binary, 'hang' if guest_killed else 'missing', None,
			       'no TAP output; ' + (why or 'nothing reported'))]

	for r in results:
		if plan is not None and r.num and r.num > plan and r.verdict != 'crash':
			r.detail = 'malformed TAP: numbered %d, beyond the plan 1..%d; TAP said ' \
				'%s' % (r.num, plan, r.verdict)
			r.verdict = 'fail'
	seen = {r.num for r in results}
	running = guest_killed and inflight is None
	for n in range(1, (plan or 0) + 1):
		if n in seen:
			continue
		if running:
			# No RUN lines (plain ksft output): the first unreported
			# case is the one that was running when it was killed.
			results.append(Result('#%d' % n, 'hang', None, why, [], n))
			running = False
			continue
		if bail is not None:
			results.append(Result('#%d' % n, 'fail', None, why, [], n))
			continue
		results.append(Result('#%d' % n, 'missing', None,
				      'planned, no TAP line; ' + (why or 'test ended early'),
				      [], n))
	if orphan_excerpt:
		results.append(Result(binary, 'crash', None, 'kernel splat outside any case',
				      orphan_excerpt))
	_unique_names(results)
	for r in results:
		r.name = '%s:%s' % (binary, r.name)
	return results


BOOT_SPLAT = 'kernel splat before the test ran'
BOOT_HANG = 'guest never started the test (guest killed by the host watchdog)'
# No selftest plans this many cases; a plan above it is malformed (and
# would otherwise make a 'missing' row for every number up to it).
MAX_PLAN = 100000


def _unreported(case, t, num):
	secs = None
	if t is not None and case.start is not None:
		secs = round(t - case.start, 2)
	if case.excerpt:
		return Result(case.name, 'crash', secs, 'kernel splat while the case ran',
			      case.excerpt, num)
	return Result(case.name, 'missing', secs, 'no TAP line before the next case started',
		      [], num)


def boot_failed(results):
	"""True if a boot's only result is a splat before the test started,
	or the host's watchdog stopping a guest that never started it."""
	return len(results) == 1 and (results[0].verdict, results[0].detail) in (
		('crash', BOOT_SPLAT), ('hang', BOOT_HANG))


def _unique_names(results):
	"""Plain ksft tests may reuse a description; tell them apart by number."""
	count = {}
	for r in results:
		count[r.name] = count.get(r.name, 0) + 1
	for r in results:
		if count[r.name] > 1 and r.num:
			r.name = '%s [#%d]' % (r.name, r.num)


def parse_log_file(path) -> Tuple[str, List[Tuple[Optional[float], str]], bool]:
	"""Read a console log written by the harness ('  12.345| text' lines) or
	a plain one. Returns (binary, lines, killed)."""
	lines = []
	killed = False
	binary = None
	with open(path, errors='replace') as f:
		for raw in f:
			raw = raw.rstrip('\n')
			if raw.startswith('# qemu'):
				continue
			m = re.match(r'^\s*(\d+\.\d+)\| ?(.*)$', raw)
			t, text = (float(m.group(1)), m.group(2)) if m else (None, raw)
			if text.startswith('faultin-host: guest killed'):
				killed = True
				continue
			if text.startswith(RUN_MARK) and binary is None:
				binary = text[len(RUN_MARK):].split()[0]
			lines.append((t, text))
	return binary or 'unknown', lines, killed


# kselftest's runner (run_kselftest.sh) prefixes a test's output with '# ';
# run_vmtests.sh prefixes each binary's output with another '# ' and opens
# it with 'running ./<binary>'; it closes it with its own TAP line.
RUNNER_START_RE = re.compile(r'^# # running \./(\S+)')
RUNNER_END_RE = re.compile(r'^# (ok|not ok) \d+ (\S+)(?:\s+#\s*(.*))?$')


def parse_runner(name, lines, killed=False, expect=()):
	"""Verdicts from one boot that ran kselftest's runner over
	run_vmtests.sh: each binary's cases, judged exactly as a direct run of
	that binary, named '<name>:<binary>:<case>'. A binary in @expect that
	the runner never started is 'missing'. A splat before the runner
	started, or the watchdog stopping a guest before it started, is the
	boot failing: one result, as parse_boot() gives."""
	lines = as_lines(lines)
	segments = []           # [binary, [(t, text)], rc or None]
	cur = None
	started = done = False
	for t, raw in lines:
		text = _strip(raw)
		if text.startswith(RUN_MARK):
			started = True
			continue
		if text.strip() == DONE_MARK:
			done = True
		if not started:
			continue
		m = RUNNER_START_RE.match(text)
		if m:
			cur = [m.group(1), [(t, RUN_MARK + m.group(1))], None]
			segments.append(cur)
			continue
		if cur is None:
			continue
		m = RUNNER_END_RE.match(text)
		if m and m.group(2) == cur[0]:
			rc = 0
			if m.group(1) == 'not ok':
				rcm = re.search(r'exit=(\d+)', m.group(3) or '')
				rc = int(rcm.group(1)) if rcm else 1
			elif (m.group(3) or '').upper().startswith('SKIP'):
				rc = KSFT_SKIP_RC
			cur[1] += [(t, '%s%s rc=%d' % (EXIT_MARK, cur[0], rc)), (t, DONE_MARK)]
			cur[2] = rc
			cur = None
			continue
		if text.startswith('# # '):
			cur[1].append((t, text[4:]))
		elif text.startswith('# #') or text.startswith('# ['):
			continue        # run_vmtests.sh's own lines: '# [PASS]', '# # ----'
		elif not text.startswith('#'):
			cur[1].append((t, text))    # kernel messages: splats count
	if not started:
		# The same boot failure parse_boot() sees, before the runner.
		boot = parse_boot(name, lines, killed)
		if boot_failed(boot):
			return boot
	results = []
	seen = set()
	for binary, seg, rc in segments:
		seen.add(binary)
		finished = rc is not None
		seg_killed = not finished and (killed or done)
		if not finished and not killed and done:
			# The guest's timeout ended the runner in this binary.
			seg.append((seg[-1][0], '%s%s rc=%d' % (EXIT_MARK, binary, KILLED_RC)))
			seg_killed = False
		for r in parse_boot(binary, seg, seg_killed):
			r.name = '%s:%s' % (name, r.name)
			# The runner's prefixing (sed without perl) passes a
			# binary's output on in bursts: no per-case times.
			r.seconds = None
			results.append(r)
	for binary in expect:
		if binary not in seen:
			why = 'the runner never started it' if done or killed else \
				'the guest stopped before the runner reached it'
			if not started:
				why = 'guest never started the runner'
			results.append(Result('%s:%s' % (name, binary),
					      'hang' if killed and not seen else 'missing', None, why))
	return results
