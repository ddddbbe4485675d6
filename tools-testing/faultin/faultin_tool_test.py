#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of the harness itself, over canned console logs in test_data/."""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import faultin_parser as parser  # noqa: E402
import faultin_printer as printer  # noqa: E402
import qemu_config  # noqa: E402
from faultin_kernel import overlay, wanted_options  # noqa: E402


def parse(name):
	binary, lines, killed = parser.parse_log_file(os.path.join(HERE, 'test_data', name))
	return {r.name: r for r in parser.parse_boot(binary, lines, killed)}


def read(path):
	with open(path) as f:
		return f.read()


def verdicts(res):
	return {n: r.verdict for n, r in res.items()}


class ParserTest(unittest.TestCase):
	def test_all_pass_with_seconds(self):
		res = parse('populate_eio-6.12-pass.log')
		self.assertEqual(set(verdicts(res).values()), {'pass'})
		self.assertEqual(len(res), 4)
		r = res['populate_eio:eio.shared.madv_populate_read']
		self.assertGreater(r.seconds, 0.1)
		self.assertLess(r.seconds, 5)

	def test_harness_timeout_is_hang(self):
		res = parse('populate_eio-6.1-harness-timeout.log')
		self.assertEqual(set(verdicts(res).values()), {'hang'})
		self.assertEqual(len(res), 4)
		r = res['populate_eio:eio.private.madv_populate_write']
		self.assertEqual(r.detail, 'kselftest harness timeout')
		self.assertAlmostEqual(r.seconds, 20, delta=1)

	def test_oops_in_case_is_crash_with_excerpt(self):
		res = parse('oops-in-case.log')
		self.assertEqual(verdicts(res), {
			'gup_pin:pfnmap.odirect_read': 'pass',
			'gup_pin:pfnmap.odirect_write': 'crash',
			'gup_pin:pfnmap.vmsplice': 'pass'})
		ex = res['gup_pin:pfnmap.odirect_write'].excerpt
		self.assertIn('BUG: kernel NULL pointer', ex[0])
		self.assertIn('end trace', ex[-1])

	def test_warning_after_ok_turns_pass_into_crash(self):
		res = parse('warning-after-ok.log')
		self.assertEqual(res['uffd_continue:continue_shmem'].verdict, 'crash')
		self.assertEqual(res['uffd_continue:continue_hugetlb'].verdict, 'pass')

	def test_host_watchdog_hang_then_missing(self):
		res = parse('host-watchdog.log')
		self.assertEqual(verdicts(res), {
			'populate_eio:eio.shared.mlock': 'pass',
			'populate_eio:eio.shared.map_populate': 'hang',
			'populate_eio:#3': 'missing',
			'populate_eio:#4': 'missing'})

	def test_guest_timeout_without_run_line(self):
		res = parse('guest-timeout.log')
		self.assertEqual(res['mlock_eio:mlock_populated_pages'].verdict, 'pass')
		self.assertEqual(res['mlock_eio:#2'].verdict, 'hang')

	def test_no_tap_is_missing(self):
		res = parse('missing-tap.log')
		self.assertEqual(verdicts(res), {'populate_eio': 'missing'})
		self.assertIn('rc=139', res['populate_eio'].detail)

	def test_boot_panic_is_crash(self):
		res = parser.parse_boot('populate_eio', parser.parse_log_file(
			os.path.join(HERE, 'test_data', 'boot-panic.log'))[1])
		self.assertEqual([(r.name, r.verdict) for r in res], [('populate_eio', 'crash')])
		self.assertIn('Kernel panic', res[0].excerpt[0])

	def test_boot_hang_is_hang(self):
		res = parser.parse_boot('x', [(1.0, 'Linux version 6.12')], killed=True)
		self.assertEqual([(r.name, r.verdict) for r in res], [('x', 'hang')])

	def test_plain_ksft_output(self):
		res = parse('ksft-plain.log')
		self.assertEqual(verdicts(res), {
			'futex_fault:wake_op_shared_file': 'pass',
			'futex_fault:lock_pi_cow_after_fork': 'fail',
			'futex_fault:robust_list_exit': 'skip',
			'futex_fault:readonly_efault': 'pass'})

	def test_bail_out_is_fail(self):
		res = parse('bail-out.log')
		self.assertEqual(verdicts(res), {'map_populate': 'fail'})
		self.assertIn('socketpair', res['map_populate'].detail)
		res = parser.parse_boot('t', ['faultin: run t', '1..2', 'ok 1 a',
					      'Bail out! gone', 'faultin: exit t rc=1'])
		self.assertEqual([(r.name, r.verdict) for r in res],
				 [('t:a', 'pass'), ('t:#2', 'fail')])

	def test_repeated_descriptions_stay_apart(self):
		res = parser.parse_boot('t', ['faultin: run t', '1..3', 'ok 1 same',
					      'not ok 2 same', 'ok 3 other',
					      'faultin: exit t rc=1'])
		self.assertEqual([(r.name, r.verdict) for r in res],
				 [('t:same [#1]', 'pass'), ('t:same [#2]', 'fail'),
				  ('t:other', 'pass')])

	def test_exit_status_only_when_asked_and_no_tap(self):
		log = ['faultin: run old', 'some text', 'faultin: exit old rc=0', 'faultin: done']
		self.assertEqual(parser.parse_boot('old', log)[0].verdict, 'missing')
		self.assertEqual(parser.parse_boot('old', log, exit_status=True)[0].verdict, 'pass')
		for rc, want in [(4, 'skip'), (1, 'fail'), (137, 'hang')]:
			log[2] = 'faultin: exit old rc=%d' % rc
			self.assertEqual(parser.parse_boot('old', log, exit_status=True)[0].verdict,
					 want, rc)
		tap = ['faultin: run t', '1..1', 'not ok 1 a', 'faultin: exit t rc=0']
		self.assertEqual(parser.parse_boot('t', tap, exit_status=True)[0].verdict, 'fail')

	def test_only_ok_is_pass(self):
		for line, want in [('ok 1 a', 'pass'), ('not ok 1 a', 'fail'),
				   ('ok 1 a # SKIP why', 'skip'), ('not ok 1 a # TIMEOUT', 'hang'),
				   ('ok 1 a # XFAIL known', 'pass'), ('nota ok 1 a', None)]:
			res = parser.parse_boot('t', ['faultin: run t', '1..1', line,
						      'faultin: exit t rc=0', 'faultin: done'])
			got = res[0].verdict if res[0].name == 't:a' else None
			if want is None:
				self.assertEqual(res[0].verdict, 'missing')
			else:
				self.assertEqual(got, want, line)


class PrinterTest(unittest.TestCase):
	def kernels(self):
		out = []
		for lab, log in [('6.12', 'populate_eio-6.12-pass.log'),
				 ('6.1', 'populate_eio-6.1-harness-timeout.log')]:
			out.append({'label': lab, 'build': {'kind': 'rebuild', 'seconds': 9.0},
				    'results': [r.__dict__ for r in parse(log).values()]})
		return out

	def test_table(self):
		t = printer.table(self.kernels())
		self.assertIn('populate_eio:eio.shared.madv_populate_read', t)
		self.assertRegex(t, r'pass \d+\.\ds +hang 20\.0s')

	def test_expectations(self):
		with tempfile.NamedTemporaryFile('w', delete=False) as f:
			f.write('6.1 populate_eio:* hang\n')
		rules = printer.load_expectations(f.name)
		os.unlink(f.name)
		self.assertEqual(printer.check(self.kernels(), rules), [])
		bad = printer.check(self.kernels(), [])
		self.assertEqual(len(bad), 4)

	def test_unlisted_skip_is_unexpected(self):
		k = [{'label': '6.12', 'results': [{'name': 'a:b', 'verdict': 'skip'}]}]
		self.assertEqual(printer.check(k, []), [('6.12', 'a:b', 'skip', 'pass')])

	def test_number_only_names_are_filled(self):
		k = [{'label': 'a', 'results': [{'name': 'p:x', 'verdict': 'pass', 'num': 2}]},
		     {'label': 'b', 'results': [{'name': 'p:#2', 'verdict': 'missing', 'num': 2}]}]
		printer.fill_names(k)
		self.assertEqual(k[1]['results'][0]['name'], 'p:x')


class SeriesTest(unittest.TestCase):
	def test_manifests_match_series(self):
		for series in sorted(os.listdir(os.path.join(overlay.TOP, 'patches'))):
			self.assertEqual(overlay.read_manifest(series),
					 overlay.series_touches(series), series)


class SeriesCheckTest(unittest.TestCase):
	def test_diagnostics_ignore_line_numbers(self):
		import faultin_series
		base = faultin_series._diagnostics(
			'mm/gup.c:100:5: warning: symbol x was not declared\nCC mm/gup.o\n')
		moved = faultin_series._diagnostics(
			'mm/gup.c:130:5: warning: symbol x was not declared\n'
			'mm/gup.c:2071:9: warning: unused variable y\n')
		self.assertEqual(sorted(moved - base),
				 ['mm/gup.c: warning: unused variable y'])


class ConfigTest(unittest.TestCase):
	def test_fragment_options(self):
		w = wanted_options('CONFIG_A=y\n# CONFIG_B is not set\n#x\nCONFIG_C="s"\n')
		self.assertEqual(w, {'CONFIG_A': 'y', 'CONFIG_B': 'n', 'CONFIG_C': '"s"'})

	def test_arch_configs_load(self):
		for a in qemu_config.arches():
			self.assertTrue(qemu_config.load(a).kernel_path)


class OverlayTest(unittest.TestCase):
	"""The overlay on a tiny git 'kernel' instead of a real one."""

	def setUp(self):
		self.td = tempfile.TemporaryDirectory()
		self.old = os.environ.get('FAULTIN_CACHE')
		os.environ['FAULTIN_CACHE'] = self.td.name
		tree = os.path.join(self.td.name, 'linux')
		os.makedirs(os.path.join(tree, 'mm'))
		for name, text in [('Makefile', 'all:\n'), ('mm/gup.c', 'a\nb\nc\n'),
				   ('mm/internal.h', 'h\n')]:
			with open(os.path.join(tree, name), 'w') as f:
				f.write(text)
		self.bid = overlay.import_base(None, tree, log=lambda m: None)

	def tearDown(self):
		if self.old is None:
			del os.environ['FAULTIN_CACHE']
		else:
			os.environ['FAULTIN_CACHE'] = self.old
		self.td.cleanup()

	def test_sync_writes_only_changed_files(self):
		p = overlay.paths(self.bid)
		self.assertEqual(overlay.sync(self.bid, 'base', '6.12', log=lambda m: None), [])
		gup = os.path.join(p['work'], 'mm', 'gup.c')
		hdr = os.path.join(p['work'], 'mm', 'internal.h')
		t_hdr = os.stat(hdr).st_mtime_ns
		with open(os.path.join(p['src'], 'mm', 'gup.c'), 'w') as f:
			f.write('a\nB\nc\n')
		self.assertEqual(overlay.sync(self.bid, 'patched', '6.12'), ['mm/gup.c'])
		self.assertEqual(read(gup), 'a\nB\nc\n')
		self.assertEqual(overlay.sync(self.bid, 'patched', '6.12'), [])
		self.assertEqual(overlay.sync(self.bid, 'base', '6.12'), ['mm/gup.c'])
		self.assertEqual(read(gup), 'a\nb\nc\n')
		self.assertEqual(os.stat(hdr).st_mtime_ns, t_hdr)
		man = read(os.path.join(p['overlay'], 'patched', 'MANIFEST'))
		self.assertIn('mm/gup.c', man)

	def test_patch_variant_in_private_index(self):
		src = overlay.paths(self.bid)['src']
		patch = os.path.join(self.td.name, 'm.patch')
		with open(os.path.join(src, 'mm', 'internal.h'), 'w') as f:
			f.write('h2\n')
		with open(patch, 'w') as f:
			f.write(subprocess.run(['git', '-C', src, 'diff'], check=True,
					       stdout=subprocess.PIPE, text=True).stdout)
		subprocess.run(['git', '-C', src, 'checkout', '-q', '--', '.'], check=True)
		tree = overlay._tree_from_patches(src, [patch])
		out = subprocess.run(['git', '-C', src, 'diff', '--name-only', overlay.BASE_TAG,
				      tree], stdout=subprocess.PIPE, text=True).stdout
		self.assertEqual(out.split(), ['mm/internal.h'])
		self.assertEqual(read(os.path.join(src, 'mm', 'internal.h')), 'h\n')


if __name__ == '__main__':
	unittest.main()
