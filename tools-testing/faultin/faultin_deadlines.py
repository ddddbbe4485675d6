# SPDX-License-Identifier: GPL-2.0
"""The selftests' deadlines against the pass times measured in the cache.

faultin_util.h keeps every test's bound in one place, each as
'#define NAME_BOUND_S <seconds>  /* <binary>: ... */'. A call must return
within its bound; kselftest's harness reports a timeout (a hang) one
second later. `faultin deadlines` reads those bounds and the verdicts of
every results record in the cache, and prints, per binary, the slowest
pass seen (direct runs; mutants left out) and how many times that fits in
the bound. A bound under MARGIN times the slowest pass is too tight: a
slow host could turn a pass into a fail or a hang.
"""

import glob
import json
import os
import re

MARGIN = 5
BOUND = re.compile(r'^#define\s+(\w+_BOUND_S)\s+(\d+)\s*/\*\s*([\w-]+):')


def bounds(header):
	"""{binary: (macro, seconds)} from faultin_util.h's deadline block."""
	out = {}
	with open(header) as f:
		for line in f:
			m = BOUND.match(line)
			if m:
				out[m.group(3)] = (m.group(1), int(m.group(2)))
	return out


def slowest_passes(results_dir):
	"""{binary: (seconds, case, kernel, record id, passes)} over the records."""
	out = {}
	for path in sorted(glob.glob(os.path.join(results_dir, '*', 'results.json'))):
		rid = os.path.basename(os.path.dirname(path))
		try:
			with open(path) as f:
				doc = json.load(f)
		except (OSError, ValueError):
			continue
		for k in doc.get('kernels', []):
			if 'mutant' in k.get('label', ''):
				continue
			for r in k.get('results', []):
				if r.get('verdict') != 'pass' or r.get('seconds') is None:
					continue
				binary = r['name'].split(':', 1)[0]
				old = out.get(binary)
				n = old[4] + 1 if old else 1
				if not old or r['seconds'] > old[0]:
					out[binary] = (r['seconds'], r['name'], k.get('label', '?'), rid, n)
				else:
					out[binary] = old[:4] + (n,)
	return out


def report(bounds_, passes, margin=MARGIN):
	"""Lines to print, and whether every bound has its margin."""
	lines, ok = [], True
	for binary in sorted(bounds_):
		macro, bound = bounds_[binary]
		p = passes.get(binary)
		if not p:
			lines.append('%-14s %s %d s: no pass measured' % (binary, macro, bound))
			ok = False
			continue
		secs, case, kernel, rid, n = p
		ratio = bound / secs if secs > 0 else float('inf')
		tight = ratio < margin
		ok = ok and not tight
		lines.append('%-14s %s %d s: slowest of %d passes %.2f s (%s on %s, %s): %s' %
			     (binary, macro, bound, n, secs, case, kernel, rid,
			      'TOO TIGHT, under %dx' % margin if tight
			      else '%.1fx' % ratio if ratio != float('inf') else 'ok'))
	lines.append('deadlines: %s (margin %dx the slowest pass)' %
		     ('ok' if ok else 'NOT ok', margin))
	return lines, ok
