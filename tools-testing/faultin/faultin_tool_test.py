#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of the harness itself, over canned console logs in test_data/."""

import ast
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import faultin  # noqa: E402
import faultin_parser as parser  # noqa: E402
import faultin_printer as printer  # noqa: E402
import faultin_figures as figures  # noqa: E402
import faultin_deadlines as deadlines  # noqa: E402
import qemu_config  # noqa: E402
from faultin_kernel import overlay, wanted_options  # noqa: E402
import selftest_patches  # noqa: E402  (mm-overlay/, on the path via faultin_kernel)


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

	def test_kernel_message_inside_a_tap_line_keeps_the_case_name(self):
		# Seen in a cold .ci/run: "Buffer I/O error ..." printed while the
		# guest wrote "ok 2 eio.private.via_pipe_read".
		res = parse('printk-in-tap-line.log')
		self.assertEqual(verdicts(res), {
			'populate_eio:eio.shared.via_pipe_read': 'pass',
			'populate_eio:eio.private.via_pipe_read': 'pass'})
		self.assertIn('Buffer I/O error',
			      res['populate_eio:eio.private.via_pipe_read'].detail)

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

	def test_rcu_self_detected_stall_is_a_crash(self):
		res = parser.parse_boot('t', [
			'faultin: run t', '1..1', '#  RUN           m.spin ...',
			'[   24.752] rcu: INFO: rcu_sched self-detected stall on CPU',
			'[   24.753] RIP: 0010:filemap_get_folios_contig+0x4e/0x127'], killed=True)
		self.assertEqual([(r.name, r.verdict) for r in res], [('t:m.spin', 'crash')])
		self.assertIn('self-detected stall', res[0].excerpt[0])

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

	def test_requeue_pi_race_may_fail_but_not_hang(self):
		rules = printer.load_expectations(os.path.join(HERE, 'expected'))
		case = 'futex_requeue_pi_signal_restart:futex-requeue-pi-signal-restart'
		k = [{'label': label, 'results': [{'name': case, 'verdict': v},
						  {'name': 'futex_wait_timeout:t', 'verdict': 'fail'}]}
		     for label, v in (('debian-6.12.117+deb12-cloud-amd64', 'fail'),
				      ('mainline+series', 'hang'))]
		self.assertEqual(printer.check(k, rules), [
			('debian-6.12.117+deb12-cloud-amd64', 'futex_wait_timeout:t', 'fail', 'pass'),
			('mainline+series', case, 'hang', 'pass|fail'),
			('mainline+series', 'futex_wait_timeout:t', 'fail', 'pass')])

	def test_number_only_names_are_filled(self):
		k = [{'label': 'a', 'results': [{'name': 'p:x', 'verdict': 'pass', 'num': 2}]},
		     {'label': 'b', 'results': [{'name': 'p:#2', 'verdict': 'missing', 'num': 2}]}]
		printer.fill_names(k)
		self.assertEqual(k[1]['results'][0]['name'], 'p:x')


OURS = ['populate_eio', 'populate_vma_change', 'uffd_continue', 'futex_fault', 'gup_pfnmap']


def runner(lines, killed=False):
	return {r.name: r for r in parser.parse_runner('ksft_fault_in', lines, killed, OURS)}


class RunnerTest(unittest.TestCase):
	"""kselftest's runner over run_vmtests.sh -t fault_in (test_data:
	7.3-rc7 without the fix)."""
	def lines(self):
		return parser.parse_log_file(os.path.join(HERE, 'test_data',
							  'ksft-runner-base.log'))[1]

	def test_cases_judged_as_direct_runs(self):
		res = runner(self.lines())
		v = verdicts(res)
		self.assertEqual(len(res), 54)
		self.assertEqual(v['ksft_fault_in:populate_eio:eio.shared.mlock'], 'hang')
		self.assertEqual(res['ksft_fault_in:populate_eio:eio.shared.mlock'].detail,
				 'kselftest harness timeout')
		self.assertEqual(v['ksft_fault_in:populate_eio:eio.private.madv_populate_read'],
				 'pass')
		self.assertEqual(sorted(v.values()).count('hang'), 14)
		self.assertEqual(sorted(v.values()).count('pass'), 40)
		self.assertTrue(all(r.seconds is None for r in res.values()))

	def test_guest_timeout_in_a_binary_is_its_case_hang_and_the_rest_missing(self):
		lines = self.lines()
		cut = [i for i, (_, t) in enumerate(lines) if 'RUN           eio.shared.mlock ' in t
		       or t.endswith('RUN           eio.shared.mlock ...')][0]
		lines = lines[:cut + 1] + [(90.0, 'faultin: exit ksft_fault_in rc=137'),
					   (90.0, 'faultin: done')]
		res = runner(lines)
		self.assertEqual(res['ksft_fault_in:populate_eio:eio.shared.mlock'].verdict, 'hang')
		self.assertEqual(res['ksft_fault_in:populate_vma_change'].verdict, 'missing')
		self.assertEqual(res['ksft_fault_in:gup_pfnmap'].detail,
				 'the runner never started it')

	def test_host_watchdog_is_hang(self):
		lines = self.lines()
		cut = [i for i, (_, t) in enumerate(lines) if 'running ./futex_fault' in t][0]
		res = runner(lines[:cut + 3], killed=True)
		self.assertEqual(res['ksft_fault_in:populate_eio:eio.shared.mlock'].verdict, 'hang')
		self.assertEqual(res['ksft_fault_in:futex_fault'].verdict, 'hang')
		self.assertEqual(res['ksft_fault_in:gup_pfnmap'].verdict, 'missing')

	def test_binary_that_is_not_there_is_missing(self):
		lines = [(1.0, 'faultin: run ksft_fault_in timeout=600'),
			 (1.1, '# # running ./populate_eio'),
			 (1.2, '# # ./run_vmtests.sh: line 233: ./populate_eio: No such file'),
			 (1.3, '# not ok 1 populate_eio # exit=127'),
			 (1.4, 'faultin: exit ksft_fault_in rc=0'), (1.5, 'faultin: done')]
		res = runner(lines)
		self.assertEqual(res['ksft_fault_in:populate_eio'].verdict, 'missing')
		self.assertIn('rc=127', res['ksft_fault_in:populate_eio'].detail)
		self.assertEqual(res['ksft_fault_in:futex_fault'].verdict, 'missing')

	def test_runner_cases_expected_as_direct_ones_and_compared(self):
		rules = [('mainline', 'populate_eio:eio.*.mlock', 'hang'),
			 ('6.12', 'ksft_fault_in', 'skip')]
		self.assertEqual(printer.expected(rules, 'mainline',
						  'ksft_fault_in:populate_eio:eio.shared.mlock'), 'hang')
		self.assertEqual(printer.expected(rules, '6.12', 'ksft_fault_in'), 'skip')
		k = [{'label': 'mainline', 'results': [
			{'name': 'populate_eio:eio.shared.mlock', 'verdict': 'hang'},
			{'name': 'ksft_fault_in:populate_eio:eio.shared.mlock', 'verdict': 'hang'},
			{'name': 'gup_pfnmap:pfnmap.vmsplice', 'verdict': 'pass'},
			{'name': 'ksft_fault_in:gup_pfnmap:pfnmap.vmsplice', 'verdict': 'fail'}]}]
		n, bad = printer.runner_agreement(k)
		self.assertEqual(n, 2)
		self.assertEqual(bad, [('mainline', 'gup_pfnmap:pfnmap.vmsplice', 'fail', 'pass')])


class SelftestPatchesTest(unittest.TestCase):
	"""How the selftest patches register a test in upstream's files."""
	MAKEFILE = ('TEST_GEN_FILES = cow\nTEST_GEN_FILES += rmap\n\nifneq ($(ARCH),arm64)\n'
		    'TEST_GEN_FILES += soft-dirty\nendif\n\nTEST_PROGS += ksft_cow.sh\n'
		    'TEST_PROGS += ksft_gup_test.sh\n\ninclude ../lib.mk\n')
	RUN = ('usage() {\n- rmap\n\ttest rmap\n\nexample: ./run_vmtests.sh -t "hmm"\n}\n'
	       'CATEGORY="rmap" run_test ./rmap\n\n'
	       'echo "SUMMARY: PASS=${count_pass}" | tap_prefix\n')

	sp = selftest_patches

	def test_makefile(self):
		m = self.sp.edit_makefile(self.MAKEFILE, 'populate_eio',
					  ['populate_eio.c', 'ksft_fault_in.sh'])
		self.assertIn('TEST_GEN_FILES += rmap\nTEST_GEN_FILES += populate_eio\n\n', m)
		self.assertIn('ksft_cow.sh\nTEST_PROGS += ksft_fault_in.sh\nTEST_PROGS += ksft_gup', m)
		m = self.sp.edit_makefile(m, 'futex_fault', ['futex_fault.c'])
		self.assertIn('populate_eio\nTEST_GEN_FILES += futex_fault\n\n', m)

	def test_run_vmtests(self):
		with self.assertRaises(self.sp.SelftestError):
			self.sp.edit_run_vmtests(self.RUN, 'futex_fault', ['futex_fault.c'])
		r = self.sp.edit_run_vmtests(self.RUN, 'populate_eio',
					     ['populate_eio.c', 'ksft_fault_in.sh'])
		self.assertIn('\ttest rmap\n- fault_in\n', r)
		self.assertIn('CATEGORY="fault_in" run_test ./populate_eio\n\necho "SUMMARY', r)
		r = self.sp.edit_run_vmtests(r, 'futex_fault', ['futex_fault.c'])
		self.assertIn('./populate_eio\nCATEGORY="fault_in" run_test ./futex_fault\n\n', r)

	def test_config_adds_only_what_is_missing(self):
		self.assertEqual(self.sp.edit_config('CONFIG_A=y\n', ['CONFIG_A=y', 'CONFIG_B=m']),
				 'CONFIG_A=y\nCONFIG_B=m\n')

	def test_every_file_is_in_a_patch(self):
		self.assertEqual(self.sp.stray_files(), [])
		for test, files, _ in self.sp.table():
			for f in files:
				self.assertTrue(os.path.exists(os.path.join(self.sp.TT, f)), f)


class SeriesTest(unittest.TestCase):
	def test_manifests_match_series(self):
		for series in sorted(os.listdir(os.path.join(overlay.TOP, 'patches'))):
			self.assertEqual(overlay.read_manifest(series),
					 overlay.series_touches(series), series)


class MutationTest(unittest.TestCase):
	def test_series_mutations_say_so_before_the_diff(self):
		on = overlay.mutation_on_series
		self.assertTrue(on('Mutation: x.\nApplies on: the series.\n\n--- a/mm/gup.c\n'))
		self.assertFalse(on('Mutation: x.\n\n--- a/mm/gup.c\n+Applies on: the series\n'))
		self.assertFalse(on('Mutation: x. Applies on: the series.\n--- a/mm/gup.c\n'))

	def test_every_mutation_is_guarded(self):
		import faultin
		for name, guards in faultin.mutations().items():
			self.assertTrue(guards, name)


class ArchTest(unittest.TestCase):
	"""Guests of other arches than the host's (issue 12: arm64)."""

	def test_mutation_arch_lines(self):
		self.assertEqual(faultin.mutation_arches('futex-fault-in-gup-write'),
				 (['arm64'], None))
		self.assertEqual(faultin.mutation_arches('hugetlb-cont-pte-tail-exclusive'),
				 (['arm64'], None))
		# A parenthesis after the arches says why; it names no arch.
		self.assertEqual(faultin.mutation_arches('futex-fault-in-gup-lookup'),
				 (None, ['x86_64']))
		self.assertEqual(faultin.mutation_arches('gup-eexist-errno'), (None, None))
		for m in faultin.mutations():
			for arches in faultin.mutation_arches(m):
				for a in arches or ():
					self.assertIn(a, qemu_config.arches(), m)

	def test_labels_and_timeouts(self):
		import faultin_kernel as kernel
		x86, arm = qemu_config.load('x86_64'), qemu_config.load('arm64')
		self.assertEqual(faultin.label('mainline', 'patched', x86), 'mainline+series')
		self.assertEqual(faultin.label('mainline', 'patched', arm), 'mainline+series/arm64')
		dbg = kernel.with_config(arm, 'debug')
		self.assertEqual(faultin.label('6.12', 'base', dbg), '6.12/debug/arm64')
		self.assertEqual(kernel.timeout_factor(x86), 1)
		self.assertEqual(kernel.timeout_factor(arm), arm.timeout_factor)
		self.assertEqual(kernel.timeout_factor(dbg),
				 arm.timeout_factor * kernel.timeout_factor(
					 kernel.with_config(x86, 'debug')))
		self.assertEqual(faultin.not_run('mainline/patched (arm64)', 'x', arm)['label'],
				 'mainline+series/arm64')
		self.assertEqual(faultin.not_run('mainline/mutant:m (arm64)', 'x', arm)['label'],
				 'mainline+mutant:m/arm64')
		self.assertEqual(faultin.not_run('linux-image-6.1.0-56-cloud-arm64', 'x', arm)
				 ['label'], 'linux-image-6.1.0-56-cloud-arm64')

	def test_figures_rows_of_x86_runs(self):
		self.assertTrue(figures._x86_only({'argv': ['--bases', 'mainline']}))
		self.assertTrue(figures._x86_only({'argv': ['--arch', 'x86_64']}))
		self.assertFalse(figures._x86_only({'argv': ['--arch', 'x86_64', '--arch', 'arm64']}))

	def test_arch_packages(self):
		arm = qemu_config.load('arm64')
		# qemu-system-aarch64, aarch64-linux-gnu-gcc and its static libc
		for p in ('qemu-system-arm', 'gcc-aarch64-linux-gnu', 'libc6-dev-arm64-cross'):
			self.assertIn(p, arm.packages)
		self.assertIn('qemu-system-x86', qemu_config.load('x86_64').packages)
		self.assertIn('qemu-system-arm', faultin.packages_for([], ['arm64']))
		self.assertNotIn('qemu-system-arm', faultin.packages_for([], ['x86_64']))

	def test_distro_arch(self):
		import faultin_distro
		self.assertEqual(faultin_distro.arch_of('linux-binary-7.3-cloud-arm64'), 'arm64')
		self.assertEqual(faultin_distro.arch_of(
			'linux-image-6.12.117+deb12-cloud-arm64-unsigned'), 'arm64')
		self.assertEqual(faultin_distro.arch_of('linux-image-6.1.0-56-cloud-amd64'), 'amd64')
		self.assertEqual(faultin.distro_arch('linux-binary-7.3-cloud-arm64'), 'arm64')
		self.assertEqual(faultin.distro_arch('linux-binary-7.3-cloud-amd64'), 'x86_64')

	def test_arch_options(self):
		ap = ['mutants', 'futex-fault-in-gup-write', '--arch', 'arm64', '--arch', 'x86_64']
		for argv in (ap, ['mutants', '--arch', 'arm64', 'futex-fault-in-gup-write',
				  '--arch', 'x86_64']):
			got = {}
			orig, env = faultin.cmd_mutants, os.environ.get('FAULTIN_CACHE')
			try:
				faultin.cmd_mutants = lambda a: got.update(vars(a)) or 0
				with tempfile.TemporaryDirectory() as d:
					os.environ['FAULTIN_CACHE'] = d
					# main() looks the function up when it builds the parser
					self.assertEqual(faultin.main(argv), 0)
			finally:
				faultin.cmd_mutants = orig
				if env is None:
					os.environ.pop('FAULTIN_CACHE', None)
				else:
					os.environ['FAULTIN_CACHE'] = env
			self.assertEqual(got['names'], ['futex-fault-in-gup-write'])
			self.assertEqual(faultin.arches_of(type('A', (), got)), ['arm64', 'x86_64'])

	def test_expected_by_arch(self):
		rules = printer.load_expectations(os.path.join(HERE, 'expected'))
		want = [
			('mainline+mutant:futex-fault-in-gup-write/arm64',
			 'futex_fault:ff.anon_free.lock_pi', 'hang'),
			('mainline+mutant:futex-fault-in-gup-write/arm64',
			 'futex_fault:ff.cow_after_fork.lock_pi', 'pass'),
			('mainline+mutant:futex-fault-in-gup-write',
			 'futex_fault:ff.shmem_clean.wake_op', 'pass'),
			('mainline+mutant:hugetlb-cont-pte-tail-exclusive/arm64',
			 'gup_hugetlb_pin:pin.cont_pte.pin_tail', 'crash'),
			('mainline+mutant:hugetlb-cont-pte-tail-exclusive/arm64',
			 'gup_hugetlb_pin:pin.pmd.pin_tail', 'pass'),
			('mainline/arm64', 'gup_hugetlb_pin:pin.cont_pte.pin_tail', 'pass'),
			('mainline+series', 'gup_hugetlb_pin:pin.cont_pte.pin_tail', 'skip'),
			('mainline+series', 'gup_hugetlb_pin:pin.pmd.pin_tail', 'pass'),
			('6.12/arm64', 'populate_eio:eio.shared.mlock', 'hang'),
			# a debug arm64 kernel: the arm64 rules, then the lean ones
			('mainline+mutant:futex-fault-in-gup-write/debug/arm64',
			 'futex_fault:ff.shmem_clean.lock_pi', 'hang'),
			('mainline+mutant:hugetlb-cont-pte-tail-exclusive/debug/arm64',
			 'gup_hugetlb_pin:pin.cont_pte.pin_all', 'crash'),
			('mainline/debug/arm64', 'stress_ng', 'skip'),
			('mainline/debug', 'stress_ng', 'pass'),
			('mainline/debug/arm64', 'populate_eio:eio.private.map_locked', 'hang'),
		]
		for label, case, v in want:
			self.assertEqual(printer.expected(rules, label, case), v, (label, case))


class SysrootTest(unittest.TestCase):
	"""faultin_sysroot over a made-up root (host ELF files stand in for the
	guest arch's: readelf reads either)."""

	def test_libraries_and_links(self):
		import faultin_sysroot as sr
		with tempfile.TemporaryDirectory() as root:
			libdir = os.path.join(root, 'lib', sr.TRIPLETS['arm64'])
			os.makedirs(libdir)
			os.makedirs(os.path.join(root, 'bin'))
			prog = os.path.join(root, 'bin', 'prog')
			shutil.copy(shutil.which('true'), prog)
			needed = sr.NEEDED.findall(sr._readelf(prog, '-d'))
			self.assertTrue(needed)
			with self.assertRaises(sr.SysrootError) as e:
				sr.shared_libs([prog], root, 'arm64')
			self.assertIn('needs %s' % needed[0], str(e.exception))
			host = faultin.kernel._shared_libs([prog])
			for lib in host:
				shutil.copy(lib, os.path.join(libdir, os.path.basename(lib)))
			# an absolute link, as packages ship them, made relative
			os.symlink('/lib/%s/%s' % (sr.TRIPLETS['arm64'], needed[0]),
				   os.path.join(root, 'bin', 'link'))
			sr._relink(root)
			link = os.readlink(os.path.join(root, 'bin', 'link'))
			self.assertFalse(link.startswith('/'))
			self.assertTrue(os.path.exists(os.path.join(root, 'bin', 'link')))
			got = sr.shared_libs([prog], root, 'arm64')
			self.assertIn('/lib/%s/%s' % (sr.TRIPLETS['arm64'], needed[0]), got)
			interp = [x for x in host if 'ld-linux' in x]
			self.assertTrue(set(interp) <= set(got), (interp, got))


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


BUILD_LOG = """\
make[1]: Entering directory '/root/.cache/faultin/build/mainline'
  SYNC    include/config/auto.conf
  HOSTCC  scripts/basic/fixdep
  WRAP    arch/x86/include/generated/uapi/asm/bpf_perf_event.h
  CC      scripts/mod/empty.o
  AS      arch/x86/entry/entry_64.o
  CC      mm/gup.o
mm/gup.c: In function 'fault_in_safe_writeable':
mm/gup.c:2071:9: warning: unused variable 'y' [-Wunused-variable]
 2071 |         int y;
  AR      mm/built-in.a
  LDS     arch/x86/kernel/vmlinux.lds
  LD      vmlinux.o
  CC [M]  fs/ext2/inode.o
  OBJCOPY arch/x86/boot/setup.bin
  BUILD   arch/x86/boot/bzImage
Kernel: arch/x86/boot/bzImage is ready  (#1)
"""


class BuildProgressTest(unittest.TestCase):
	def progress(self, estimate, out=None):
		import faultin_kernel
		self.logged = []
		return faultin_kernel.BuildProgress('mainline/base', estimate,
						    self.logged.append, out)

	def test_counts_objects_across_split_reads(self):
		p = self.progress(2100)
		for i in range(0, len(BUILD_LOG), 7):
			p.feed(BUILD_LOG[i:i + 7])
		self.assertEqual(p.done, 6)
		self.assertEqual(p.line(95.4), 'mainline/base: building: 6 of ~2100 objects, 95 s')
		self.assertEqual(self.progress(None).line(3),
				 'mainline/base: building: 0 of ~? objects, 3 s')

	def test_plain_line_every_30_s(self):
		p = self.progress(None)
		p.feed(BUILD_LOG)
		for t in (1, 29, 30, 45, 61):
			p.tick(t)
		p.finish(70)
		self.assertEqual(self.logged, ['mainline/base: building: 6 of ~? objects, 30 s',
					       'mainline/base: building: 6 of ~? objects, 61 s'])

	def test_terminal_line_redrawn_every_second(self):
		import io
		out = io.StringIO()
		p = self.progress(10, out)
		p.feed(BUILD_LOG)
		for t in (0.5, 1, 1.5, 2.1):
			p.tick(t)
		p.finish(3)
		self.assertEqual(self.logged, [])
		self.assertEqual(out.getvalue().split('\r'), [
			'', 'mainline/base: building: 6 of ~10 objects, 1 s',
			'mainline/base: building: 6 of ~10 objects, 2 s',
			'mainline/base: building: 6 of ~10 objects, 3 s\n'])


class CaseProgressTest(unittest.TestCase):
	"""What a guest is doing, said while it does it (not only at its end)."""
	CONSOLE = [(2.0, 'TAP version 13'), (2.0, '1..3'),
		   (2.1, '#  RUN           eio.shared.mlock ...'),
		   (2.4, '#            OK  eio.shared.mlock'),
		   (2.4, 'ok 1 eio.shared.mlock'),
		   (2.5, '[    2.5] #  RUN           eio.shared.map_populate ...')]

	def feed(self, p, ticks):
		for t, text in self.CONSOLE:
			p.feed(text, t)
		for t in ticks:
			p.tick(t)
		p.finish()

	def test_plain_line_for_a_long_case_then_every_30_s(self):
		import faultin_kernel
		logged = []
		p = faultin_kernel.CaseProgress('mainline: populate_eio', logged.append)
		self.feed(p, (3, 12.4, 13, 42.5, 43, 80))
		self.assertEqual(logged, [
			'mainline: populate_eio: case 2/3 eio.shared.map_populate, 10 s (still running)',
			'mainline: populate_eio: case 2/3 eio.shared.map_populate, 40 s (still running)',
			'mainline: populate_eio: case 2/3 eio.shared.map_populate, 78 s (still running)'])

	def test_quick_cases_print_nothing(self):
		import faultin_kernel
		logged = []
		p = faultin_kernel.CaseProgress('x', logged.append)
		for t, text in self.CONSOLE:
			p.feed(text, t)
		p.tick(3)
		p.feed('ok 2 eio.shared.map_populate', 9.9)
		for t in (30, 60):
			p.tick(t)
		self.assertEqual(logged, [])

	def test_a_guest_that_does_not_stop_says_so(self):
		import faultin_kernel
		logged = []
		p = faultin_kernel.CaseProgress('6.12: fault_fail', logged.append)
		for t, text in self.CONSOLE + [(3.0, 'ok 2 eio.shared.map_populate'),
					       (3.1, 'faultin: exit fault_fail rc=1'),
					       (3.1, 'faultin: done')]:
			p.feed(text, t)
		for t in (5, 13.2, 20, 43.5):
			p.tick(t)
		self.assertEqual(logged, [
			'6.12: fault_fail: the test has finished, the guest has not stopped, 10 s',
			'6.12: fault_fail: the test has finished, the guest has not stopped, 40 s'])

	def test_terminal_line_redrawn_and_cleared(self):
		import faultin_kernel
		import io
		out = io.StringIO()
		p = faultin_kernel.CaseProgress('6.1: fault_fail', print, out)
		self.feed(p, (3.6,))
		self.assertEqual(out.getvalue().split('\r'), [
			'', '\033[K6.1: fault_fail: case 1/3 eio.shared.mlock, 0 s',
			'\033[K6.1: fault_fail: case 2/3 eio.shared.map_populate, 0 s',
			'\033[K6.1: fault_fail: case 2/3 eio.shared.map_populate, 1 s',
			'\033[K'])


class BenchReportTest(unittest.TestCase):
	def rounds(self, a2, b):
		return [{'A': {'mlock': [1.0, 1.0, 1.0]}, 'A2': {'mlock': [a2]},
			 'B': {'mlock': [b]}},
			{'A': {'mlock': [2.0]}, 'A2': {'mlock': [2.0]}, 'B': {'mlock': [2.0]}}]

	def test_ratios_spreads_and_targets(self):
		t = faultin.bench_report(self.rounds(1.001, 1.004))
		self.assertRegex(t, r'mlock .* 1\.0005 \(1\.0000\.\.1\.0010\) +1\.0020 \(1\.0000\.\.1\.0040\)')
		self.assertIn('A/A: every ratio and spread within 1 +/- 0.002: yes', t)
		self.assertIn('B/A: every ratio and spread within 1 +/- 0.005: yes', t)

	def test_a_spread_beyond_target_is_no(self):
		t = faultin.bench_report(self.rounds(1.003, 1.006))
		self.assertIn('A/A: every ratio and spread within 1 +/- 0.002: NO (largest deviation 0.0030)', t)
		self.assertIn('B/A: every ratio and spread within 1 +/- 0.005: NO (largest deviation 0.0060)', t)

	def test_a_side_without_samples_is_no_pass(self):
		r = self.rounds(1.0, 1.0)
		for x in r:
			x['A2'] = {}
		t = faultin.bench_report(r)
		self.assertIn('missing', t)
		self.assertIn('incomplete', t)
		self.assertIn('A/A: every ratio and spread within 1 +/- 0.002: NO', t)

	def test_samples_take_the_clock_asked_for(self):
		lines = [(0.1, 'bench warmup_anon_mlock 9.0 8.0'), (0.2, 'bench anon_mlock 1.5 1.25'),
			 (0.3, 'bench anon_mlock 1.75 1.5'), (0.4, 'bench anon_mlock 2')]
		self.assertEqual(faultin.bench_samples(lines), {'anon_mlock': [1.5, 1.75]})
		self.assertEqual(faultin.bench_samples(lines, 'cpu'), {'anon_mlock': [1.25, 1.5]})

	def test_min_takes_each_boots_least_repetition(self):
		# a timer interrupt in two of A's three repetitions, one of B's
		r = [{'A': {'c': [1.0, 1.05, 1.06]}, 'A2': {'c': [1.0, 1.0, 1.05]},
		      'B': {'c': [1.0, 1.04, 1.0]}}]
		self.assertIn('B/A: every ratio and spread within 1 +/- 0.005: NO (largest deviation 0.0476)',
			      faultin.bench_report(r))
		t = faultin.bench_report(r, stat=min)
		self.assertRegex(t, r'case +A min +B min')
		self.assertIn('A/A: every ratio and spread within 1 +/- 0.002: yes (largest deviation 0.0000)', t)
		self.assertIn('B/A: every ratio and spread within 1 +/- 0.005: yes (largest deviation 0.0000)', t)

	def test_summary_only_names_its_clock(self):
		t = faultin.bench_report(self.rounds(1.001, 1.004), ' (wall)', summary_only=True)
		self.assertEqual(t.splitlines(), [
			'A/A (wall): every ratio and spread within 1 +/- 0.002: yes (largest deviation 0.0010)',
			'B/A (wall): every ratio and spread within 1 +/- 0.005: yes (largest deviation 0.0040)'])

	def test_a_b_only_case_has_its_own_line_and_no_ratio(self):
		r = self.rounds(1.0, 1.0)
		r[0]['B']['file_mlock_to_error'] = [0.5, 0.7, 0.6]
		r[1]['B']['file_mlock_to_error'] = [0.4]
		t = faultin.bench_report(r)
		self.assertIn('file_mlock_to_error: B only (not run on A, which does not return '
			      'from it): median 0.500000000 s, rounds 0.600000000 0.400000000', t)
		self.assertIn('B/A: every ratio and spread within 1 +/- 0.005: yes', t)


class FiguresTest(unittest.TestCase):
	def setUp(self):
		self.td = tempfile.TemporaryDirectory()
		self.addCleanup(self.td.cleanup)

	def record(self, kind, argv, lines, rc):
		r = figures.Record(self.td.name, HERE, kind, argv)
		for x in lines:
			r.note(x)
		return r, r.finish(rc)

	def test_a_run_leaves_its_figures_not_its_table(self):
		r, path = self.record('run', ['run', '--install', '--distro', 'linux-image-x'],
				      ['mainline: full build took 233.9 s', 'a table line',
				       'verdicts: 3 pass, 1 hang', 'UNEXPECTED: x on y: pass (expected hang)',
				       'run took 12.0 s'], 1)
		self.assertTrue(r.doc['cold'])
		with open(path) as f:
			doc = __import__('json').load(f)
		self.assertEqual(doc['exit'], 1)
		self.assertNotIn('a table line', doc['lines'])
		t = figures.markdown(figures.load(self.td.name))
		self.assertIn('| first build of mainline | 233.9 s |', t)
		self.assertIn('exit 1, 1 UNEXPECTED: `verdicts: 3 pass, 1 hang`', t)
		self.assertIn('cold cache', t)

	def test_a_debug_run_has_a_row_of_its_own(self):
		self.record('run', ['run', '--bases', 'mainline', '--config', 'debug', '--no-checks'],
			    ['mainline/debug: full build took 500.0 s', 'verdicts: 9 pass',
			     'slowdown: mainline/debug vs mainline (results x): 30.0 s vs 10.0 s '
			     'over the 9 case(s) that pass on both: 3.00x'], 0)
		t = figures.markdown(figures.load(self.td.name))
		self.assertIn('| first build of mainline/debug | 500.0 s |', t)
		self.assertIn('`make run CONFIG=debug`', t)
		self.assertIn('3.00x`', t)
		self.assertNotIn('`make run` (all bases', t)

	def test_readme_section_is_replaced_and_nothing_else(self):
		self.record('test', ['test'], ['faultin: 5 passed, 0 failed'], 0)
		readme = os.path.join(self.td.name, 'README.md')
		with open(readme, 'w') as f:
			f.write('before\n%s\nSTALE\n%s\nafter\n' % (figures.BEGIN, figures.END))
		self.assertTrue(figures.write_readme(readme, figures.markdown(
			figures.load(self.td.name))))
		with open(readme) as f:
			s = f.read()
		self.assertTrue(s.startswith('before\n') and s.endswith('after\n'))
		self.assertNotIn('STALE', s)
		self.assertIn('`faultin: 5 passed, 0 failed`', s)
		with open(readme, 'w') as f:
			f.write('no markers\n')
		self.assertFalse(figures.write_readme(readme, 'x'))


	def test_rows_without_a_record_are_kept_and_marked(self):
		readme = os.path.join(self.td.name, 'README.md')
		with open(readme, 'w') as f:
			f.write('%s\n| step | figure | measured |\n| first build of 6.1/arm64 | 206.3 s | '
				'run x |\n| `make test` (old) | 1 s | run y |\n%s\n' % (figures.BEGIN, figures.END))
		self.assertTrue(figures.write_readme(readme, '| step | figure | measured |\n'
						      '| `make test` (old) | 2 s | run z |'))
		with open(readme) as f:
			s = f.read()
		self.assertIn('| first build of 6.1/arm64 | 206.3 s | run x (its record is no longer '
			      'in the cache) |', s)
		self.assertIn('| `make test` (old) | 2 s | run z |', s)
		self.assertNotIn('run y', s)


class DeadlinesTest(unittest.TestCase):
	def test_every_bound_in_faultin_util_h_names_its_binary(self):
		b = deadlines.bounds(os.path.join(HERE, '..', 'selftests', 'mm', 'faultin_util.h'))
		self.assertEqual(sorted(b), ['fault_fail', 'populate_eio', 'uffd_move'])
		self.assertTrue(all(secs >= 2 for _, secs in b.values()))

	def write(self, rid, kernels):
		d = os.path.join(self.td.name, rid)
		os.makedirs(d)
		with open(os.path.join(d, 'results.json'), 'w') as f:
			__import__('json').dump({'kernels': kernels}, f)

	def test_slowest_pass_of_direct_runs_decides_and_mutants_do_not(self):
		self.td = tempfile.TemporaryDirectory()
		self.addCleanup(self.td.cleanup)
		res = lambda name, verdict, secs: {'name': name, 'verdict': verdict, 'seconds': secs}
		self.write('r1', [{'label': 'mainline+series', 'results': [
			res('uffd_move:move.a', 'pass', 0.05), res('uffd_move:move.b', 'hang', 10.0),
			res('populate_eio:eio.x', 'pass', 0.9),
			res('ksft_fault_in:uffd_move:move.a', 'pass', None)]}])
		self.write('r2', [{'label': 'mainline+mutant:x', 'results': [
			res('uffd_move:move.a', 'pass', 9.0)]},
			{'label': 'mainline', 'results': [res('uffd_move:move.a', 'pass', 0.3)]}])
		p = deadlines.slowest_passes(self.td.name)
		self.assertEqual(p['uffd_move'][:4], (0.3, 'uffd_move:move.a', 'mainline', 'r2'))
		self.assertEqual(p['uffd_move'][4], 2)
		self.assertNotIn('ksft_fault_in', p)
		lines, ok = deadlines.report({'uffd_move': ('MOVE_BOUND_S', 2),
					      'populate_eio': ('POPULATE_BOUND_S', 5)}, p)
		self.assertTrue(ok, lines)
		self.assertIn('6.7x', lines[1])
		lines, ok = deadlines.report({'uffd_move': ('MOVE_BOUND_S', 1),
					      'fault_fail': ('FAIL_BOUND_S', 2)}, p)
		self.assertFalse(ok)
		self.assertIn('fault_fail     FAIL_BOUND_S 2 s: no pass measured', lines)
		self.assertIn('TOO TIGHT, under 5x', lines[1])
		self.assertEqual(lines[-1], 'deadlines: NOT ok (margin 5x the slowest pass)')


class LeanComparisonTest(unittest.TestCase):
	def test_slowdown_over_the_cases_that_pass_on_both(self):
		import json
		with tempfile.TemporaryDirectory() as td:
			old = os.environ.get('FAULTIN_CACHE')
			os.environ['FAULTIN_CACHE'] = td
			self.addCleanup(lambda: os.environ.__setitem__('FAULTIN_CACHE', old)
					if old is not None else os.environ.pop('FAULTIN_CACHE'))
			r = lambda n, v, s: {'name': n, 'verdict': v, 'seconds': s}
			os.makedirs(os.path.join(td, 'results', '20260101-000000'))
			with open(os.path.join(td, 'results', '20260101-000000', 'results.json'),
				  'w') as f:
				json.dump({'kernels': [{'label': 'mainline', 'results': [
					r('t:a', 'pass', 1.0), r('t:b', 'pass', 2.0),
					r('t:c', 'hang', 6.0)]}]}, f)
			dbg = {'label': 'mainline/debug', 'config': 'debug', 'results': [
				r('t:a', 'pass', 4.0), r('t:b', 'fail', 9.0), r('t:c', 'hang', 6.0)]}
			lines = faultin.lean_comparison([dbg, {'label': 'mainline', 'results': []}])
			self.assertEqual(lines, ['slowdown: mainline/debug vs mainline (results '
						 '20260101-000000): 4.0 s vs 1.0 s over the 1 case(s) '
						 'that pass on both: 4.00x'])
			dbg['label'] = '6.1/debug'
			self.assertIn('no results of 6.1', faultin.lean_comparison([dbg])[0])


class ConfigTest(unittest.TestCase):
	def test_fragment_options(self):
		w = wanted_options('CONFIG_A=y\n# CONFIG_B is not set\n#x\nCONFIG_C="s"\n')
		self.assertEqual(w, {'CONFIG_A': 'y', 'CONFIG_B': 'n', 'CONFIG_C': '"s"'})

	def test_arch_configs_load(self):
		for a in qemu_config.arches():
			self.assertTrue(qemu_config.load(a).kernel_path)

	def test_debug_config_is_lean_plus_its_fragment(self):
		import faultin_kernel as kernel
		lean = qemu_config.load('x86_64')
		dbg = kernel.with_config(lean, 'debug')
		self.assertIn('debug', kernel.config_names())
		self.assertEqual(lean.config, 'lean')
		w = wanted_options(kernel._fragment(dbg))
		for o in ('CONFIG_KASAN', 'CONFIG_PROVE_LOCKING', 'CONFIG_DEBUG_VM',
			  'CONFIG_DEBUG_VM_PGFLAGS', 'CONFIG_DEBUG_VM_MAPLE_TREE',
			  'CONFIG_DEBUG_ATOMIC_SLEEP', 'CONFIG_DEBUG_LIST', 'CONFIG_KFENCE'):
			self.assertEqual(w.get(o), 'y', o)
		self.assertTrue(kernel._fragment(dbg).startswith(kernel._fragment(lean)))
		self.assertEqual(kernel.timeout_factor(lean), 1)
		self.assertGreater(kernel.timeout_factor(dbg), 1)
		self.assertEqual(faultin.label('mainline', 'patched', dbg), 'mainline+series/debug')
		self.assertEqual(faultin.label('6.1', 'base', lean), '6.1')
		with self.assertRaisesRegex(ValueError, "unknown kernel config 'dbg'"):
			kernel.with_config(lean, 'dbg')

	def test_debug_kernels_build_in_trees_of_their_own(self):
		import faultin_kernel as kernel
		lean = qemu_config.load('x86_64')
		a = kernel._dirs('mainline', lean)['build']
		b = kernel._dirs('mainline', kernel.with_config(lean, 'debug'))['build']
		self.assertNotEqual(a, b)
		self.assertTrue(a.endswith(os.sep + 'mainline'))

	def test_debug_only_tests(self):
		import faultin_kernel as kernel
		lean = [t[0] for t in faultin.load_tests(config='lean')]
		debug = [t[0] for t in faultin.load_tests(config='debug')]
		self.assertNotIn('stress_ng', lean)
		self.assertIn('stress_ng', debug)
		self.assertIn('trinity_family', debug)
		self.assertEqual(set(lean), set(debug) - {'stress_ng', 'trinity_family'})
		with self.assertRaisesRegex(faultin.Failure, 'only on kernels of --config debug'):
			faultin.load_tests(['stress_ng'], 'lean')
		for t in faultin.load_tests(config='debug'):
			self.assertNotIn('config=', t[2])
		self.assertEqual(kernel.guest_tools(faultin.load_tests(config='debug')),
				 [('stress-ng', 'stress-ng'), ('trinity', 'trinity')])
		self.assertEqual(kernel.guest_tools(faultin.load_tests(config='lean')), [])
		for name in kernel.GUEST_TOOLS:
			self.assertTrue(os.access(os.path.join(kernel.GUEST_TESTS, name), os.X_OK))
			for prog, pkg in kernel.GUEST_TOOLS[name]:
				self.assertIn(pkg, faultin.PACKAGES, 'make setup must install %s' % pkg)

	def test_guest_tools_go_in_with_their_libraries(self):
		import faultin_kernel as kernel
		with tempfile.TemporaryDirectory() as stage:
			os.makedirs(os.path.join(stage, 'bin'))
			kernel._stage_tools([('bash', 'bash')], stage)
			self.assertTrue(os.path.exists(os.path.join(stage, 'bin', 'bash')))
			libs = kernel._shared_libs([shutil.which('bash')])
			self.assertTrue(libs)
			for lib in libs:
				self.assertTrue(os.path.exists(os.path.join(stage, lib.lstrip('/'))), lib)
			with self.assertRaisesRegex(kernel.BuildError, 'run "make setup" .package nope-pkg'):
				kernel._stage_tools([('no-such-program-x', 'nope-pkg')], stage)

	def test_a_debug_kernel_is_held_to_its_lean_rules(self):
		rules = [('mainline+series/debug', 'race:*', 'hang'),
			 ('mainline', 'eio:*', 'hang'), ('*', 'eio:x', 'skip')]
		self.assertEqual(printer.expected(rules, 'mainline/debug', 'eio:y'), 'hang')
		self.assertEqual(printer.expected(rules, 'mainline+series/debug', 'race:1'), 'hang')
		self.assertEqual(printer.expected(rules, 'mainline+series', 'race:1'), 'pass')
		self.assertEqual(printer.expected(rules, 'mainline+series/debug', 'eio:y'), 'pass')


class CacheTestCase(unittest.TestCase):
	"""A test whose faultin cache (FAULTIN_CACHE) is a fresh temporary
	directory."""

	def setUp(self):
		self.td = tempfile.TemporaryDirectory()
		self.old = os.environ.get('FAULTIN_CACHE')
		os.environ['FAULTIN_CACHE'] = self.td.name

	def tearDown(self):
		if self.old is None:
			del os.environ['FAULTIN_CACHE']
		else:
			os.environ['FAULTIN_CACHE'] = self.old
		self.td.cleanup()


class RunRecordTest(CacheTestCase):
	def test_a_main_inside_a_run_keeps_the_runs_record(self):
		outer = figures.Record(self.td.name, HERE, 'test', ['test'])
		faultin._REC = outer
		try:
			import contextlib
			import io
			with contextlib.redirect_stdout(io.StringIO()):
				faultin.main(['figures'])
				self.assertIs(faultin._REC, outer)
				faultin.say('verdicts: 1 pass')
		finally:
			faultin._REC = None
		self.assertEqual(outer.doc['lines'], ['verdicts: 1 pass'])

	def test_arguments_refused_leave_no_record(self):
		self.assertEqual(faultin.main(['bench', '--rounds', '-1']), 2)
		self.assertEqual(figures.load(self.td.name), [])

	def test_an_error_goes_into_the_record(self):
		rec = figures.Record(self.td.name, HERE, 'run', ['run'])
		faultin._REC = rec
		try:
			import contextlib
			import io
			with contextlib.redirect_stderr(io.StringIO()):
				faultin.error('faultin: error: no space left on device')
		finally:
			faultin._REC = None
		self.assertEqual(rec.doc['lines'], ['faultin: error: no space left on device'])


class InputsKeyTest(CacheTestCase):
	def test_inputs_key_follows_the_patches_and_the_tools(self):
		import faultin_series
		import faultin_kernel
		top = os.path.join(self.td.name, 'top')
		for d in ('patches/mainline', 'patches/6.1', 'mm-overlay', 'tools-testing/x'):
			os.makedirs(os.path.join(top, d))
		for f in ('patches/mainline/0001-a.patch', 'patches/6.1/0001-b.patch',
			  'mm-overlay/overlay.py', 'tools-testing/x/t.c', 'MAINTAINERS-snippet'):
			with open(os.path.join(top, f), 'w') as fh:
				fh.write('one\n')
		saved = (faultin_kernel.TOP, faultin_series.CHECK_TOOLS, overlay.base_version)
		overlay.base_version = lambda bid: '7.3-rc7'
		try:
			faultin_kernel.TOP = top
			faultin_series.CHECK_TOOLS = (('true',), ('faultin-no-such-tool', '--version'))
			key = lambda: faultin_series.inputs_key('mainline', 'mainline', True)
			k1 = key()
			self.assertEqual(key(), k1)
			with open(os.path.join(top, 'patches/6.1/0001-b.patch'), 'w') as fh:
				fh.write('two\n')
			self.assertEqual(key(), k1)	# another series' patch
			self.assertNotEqual(faultin_series.inputs_key('mainline', 'mainline', False), k1)
			with open(os.path.join(top, 'tools-testing/x/t.c'), 'w') as fh:
				fh.write('two\n')
			k2 = key()
			self.assertNotEqual(k2, k1)
			overlay.base_version = lambda bid: '7.3'
			self.assertNotEqual(key(), k2)
		finally:
			faultin_kernel.TOP, faultin_series.CHECK_TOOLS, overlay.base_version = saved


class CheckReuseTest(CacheTestCase):
	def setUp(self):
		super().setUp()
		import faultin_series
		self.key = ['k1']
		self.runs = []
		self.fail = []
		saved = (faultin.prepare, faultin_series.inputs_key, faultin_series.check_series,
			 faultin_series.check_maintainers, overlay.base_version)

		def check_series(bid, series, params, c, log, build=True):
			self.runs.append(series)
			c.ok('git am')
			if self.fail:
				c.fail('checkpatch', 'WARNING')
			else:
				c.ok('checkpatch')

		faultin.prepare = lambda s, k: s
		faultin_series.inputs_key = lambda bid, s, b: self.key[0]
		faultin_series.check_series = check_series
		faultin_series.check_maintainers = lambda bid, c: c.ok('MAINTAINERS-snippet')
		overlay.base_version = lambda bid: '7.3-rc7'

		def restore():
			(faultin.prepare, faultin_series.inputs_key, faultin_series.check_series,
			 faultin_series.check_maintainers, overlay.base_version) = saved
		self.addCleanup(restore)

	def checks(self, reuse=True):
		import contextlib
		import io
		out = io.StringIO()
		with contextlib.redirect_stdout(out):
			got = faultin.run_checks(['mainline'], None, reuse=reuse)
		return got, out.getvalue()

	def test_a_pass_on_the_same_inputs_is_kept_and_said(self):
		self.assertEqual(self.checks()[0], (3, 0))
		got, out = self.checks()
		self.assertEqual(got, (3, 0))
		self.assertEqual(self.runs, ['mainline'])
		self.assertIn('== series mainline: 2 check(s) passed in run', out)
		self.assertIn('not run again (RECHECK=1 runs them)', out)
		self.assertIn('series checks: 2 of the 3 passed were kept', out)

	def test_other_inputs_or_recheck_run_them_again(self):
		self.checks()
		self.key[0] = 'k2'
		self.checks()
		self.checks(reuse=False)
		self.assertEqual(self.runs, ['mainline'] * 3)

	def test_a_failure_is_never_kept(self):
		self.fail.append(1)
		self.assertEqual(self.checks()[0], (2, 1))
		self.assertEqual(self.checks()[0], (2, 1))
		self.fail.clear()
		self.assertEqual(self.checks()[0], (3, 0))
		self.assertEqual(self.runs, ['mainline'] * 3)


class SelftestSourceOfTruthTest(CacheTestCase):
	"""make patches / make check on a tiny tree with mm's three files."""

	def setUp(self):
		super().setUp()
		self.sp = selftest_patches
		tree = os.path.join(self.td.name, 'linux')
		mm = os.path.join(tree, 'tools', 'testing', 'selftests', 'mm')
		os.makedirs(mm)
		os.makedirs(os.path.join(tree, 'mm'))
		for name, text in [('Makefile', SelftestPatchesTest.MAKEFILE),
				   ('run_vmtests.sh', SelftestPatchesTest.RUN),
				   ('config', 'CONFIG_USERFAULTFD=y\n')]:
			with open(os.path.join(mm, name), 'w') as f:
				f.write(text)
		for name, text in [('Makefile', 'all:\n'), ('mm/gup.c', 'a\n')]:
			with open(os.path.join(tree, name), 'w') as f:
				f.write(text)
		self.bid = overlay.import_base(None, tree, log=lambda m: None)
		self.src = overlay.paths(self.bid)['src']
		overlay.git(self.src, 'checkout', '-q', '-b', overlay.BRANCH)
		with open(os.path.join(self.src, 'mm', 'gup.c'), 'w') as f:
			f.write('b\n')
		overlay.git(self.src, *overlay.IDENT, 'commit', '-q', '-am', 'mm/gup: fix')
		# A copy of our selftests that the test may change.
		self.tt = os.path.join(self.td.name, 'tt')
		shutil.copytree(self.sp.TT, self.tt)
		self.old_tt, self.sp.TT = self.sp.TT, self.tt

	def tearDown(self):
		self.sp.TT = self.old_tt
		super().tearDown()

	def test_regenerate_then_compare_agrees(self):
		self.sp.regenerate(self.src, log=lambda m: None)
		kernel, tests = self.sp.split_branch(self.src)
		self.assertEqual(len(tests), len(self.sp.table()))
		self.assertEqual(self.sp.compare(self.src), [])
		blob = overlay.git(self.src, 'show', '%s:tools/testing/selftests/mm/populate_eio.c'
				   % overlay.BRANCH, text=False)
		self.assertEqual(blob, read(os.path.join(self.tt, 'populate_eio.c')).encode())
		mode = overlay.git(self.src, 'ls-tree', overlay.BRANCH,
				   'tools/testing/selftests/mm/ksft_fault_in.sh').split()[0]
		self.assertEqual(mode, '100755')

	def test_regenerate_keeps_messages_and_is_stable(self):
		self.sp.regenerate(self.src, log=lambda m: None)
		_, first = self.sp.split_branch(self.src)
		overlay.git(self.src, *overlay.IDENT, 'commit', '-q', '--amend', '-m', 'mine')
		self.sp.regenerate(self.src, log=lambda m: None)
		_, again = self.sp.split_branch(self.src)
		self.assertEqual(first[:-1], again[:-1])
		self.assertEqual(overlay.git(self.src, 'log', '-1', '--format=%s').strip(), 'mine')

	def test_compare_names_the_file_and_the_patch(self):
		self.sp.regenerate(self.src, log=lambda m: None)
		with open(os.path.join(self.tt, 'futex_fault.c'), 'a') as f:
			f.write('/* changed */\n')
		with open(os.path.join(self.tt, 'stray.c'), 'w') as f:
			f.write('\n')
		diffs = self.sp.compare(self.src)
		self.assertEqual(len(diffs), 2)
		self.assertIn('stray.c is in no selftest patch', diffs[0])
		self.assertRegex(diffs[1], r'^tools-testing/selftests/mm/futex_fault.c differs from '
				 r'what "selftests/mm: add futex_fault')

	def test_kernel_commit_after_the_selftests_is_refused(self):
		self.sp.regenerate(self.src, log=lambda m: None)
		with open(os.path.join(self.src, 'mm', 'gup.c'), 'w') as f:
			f.write('c\n')
		overlay.git(self.src, *overlay.IDENT, 'commit', '-q', '-am', 'mm/gup: more')
		with self.assertRaisesRegex(self.sp.SelftestError, 'selftests go last'):
			self.sp.compare(self.src)


class OverlayTest(CacheTestCase):
	"""The overlay on a tiny git 'kernel' instead of a real one."""

	def setUp(self):
		super().setUp()
		tree = os.path.join(self.td.name, 'linux')
		os.makedirs(os.path.join(tree, 'mm'))
		for name, text in [('Makefile', 'all:\n'), ('mm/gup.c', 'a\nb\nc\n'),
				   ('mm/internal.h', 'h\n')]:
			with open(os.path.join(tree, name), 'w') as f:
				f.write(text)
		self.bid = overlay.import_base(None, tree, log=lambda m: None)

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

	def test_sync_stopped_half_way_is_undone_by_the_next(self):
		p = overlay.paths(self.bid)
		overlay.sync(self.bid, 'base', '6.12', log=lambda m: None)
		for f, text in (('gup.c', 'a\nB\nc\n'), ('internal.h', 'H\n')):
			with open(os.path.join(p['src'], 'mm', f), 'w') as fh:
				fh.write(text)
		real_open, calls = open, []

		def ctrl_c_on_second_write(path, mode='r', *a, **k):
			if 'wb' in mode and path.startswith(p['work'] + os.sep):
				calls.append(path)
				if len(calls) == 2:
					raise KeyboardInterrupt
			return real_open(path, mode, *a, **k)
		overlay.open = ctrl_c_on_second_write
		try:
			with self.assertRaises(KeyboardInterrupt):
				overlay.sync(self.bid, 'patched', '6.12')
		finally:
			del overlay.open
		self.assertEqual(read(os.path.join(p['work'], 'mm', 'gup.c')), 'a\nB\nc\n')
		self.assertEqual(overlay.sync(self.bid, 'base', '6.12'), ['mm/gup.c'])
		self.assertEqual(read(os.path.join(p['work'], 'mm', 'gup.c')), 'a\nb\nc\n')
		self.assertEqual(read(os.path.join(p['work'], 'mm', 'internal.h')), 'h\n')

	def test_cover_results_need_every_test_of_tests_conf(self):
		names = []
		with open(os.path.join(HERE, 'tests.conf')) as f:
			for line in f:
				if line.split() and not line.startswith('#'):
					names.append(line.split()[0].split('=')[0])
		col = {'results': [{'name': n + ':x', 'verdict': 'pass'} for n in names]}
		self.assertTrue(overlay._covers_all_tests(col))
		col['results'].pop()
		self.assertFalse(overlay._covers_all_tests(col))

	def test_series_that_no_longer_applies_says_rebase_due_in_one_line(self):
		with self.assertRaises(overlay.OverlayError) as e:
			overlay.apply_series(self.bid, 'mainline', log=lambda m: None)
		msg = str(e.exception)
		self.assertEqual(len(msg.splitlines()), 1, msg)
		self.assertIn('patches/mainline/0001-', msg)
		self.assertIn('rebase due', msg)

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


# argv[0] of a command whose program name is computed: (file, the expression
# as ast.unparse() writes it) -> the programs it can name on this host.
DYNAMIC_PROGRAMS = {
	('faultin_kernel.py', "'qemu-system-' + params.qemu_arch"): ['qemu-system-x86_64'],
	('faultin_kernel.py', "'%sgcc' % params.cross_compile"): ['gcc'],
	# A script in the kernel tree.
	('faultin_kernel.py', "os.path.join(work, 'scripts/kconfig/merge_config.sh')"): [],
	# Decompresses .ko.xz, .ko.zst, .ko.gz modules.
	('faultin_distro.py', 'tool'): ['xz', 'zstd', 'gzip'],
	# modinfo, looked up in sbin too.
	('faultin_distro.py', 'modinfo'): ['modinfo'],
	# depmod, looked up in sbin too.
	('faultin_distro.py', '_depmod()'): ['depmod'],
	# The versions that go into a series check's inputs key.
	('faultin_series.py', 'list(tool)'): ['gcc', 'sparse', 'b4', 'git', 'perl'],
}
SUBPROCESS_CALLS = {'run', 'Popen', 'call', 'check_call', 'check_output'}


def harness_sources():
	paths = [p for p in sorted(glob.glob(os.path.join(HERE, '*.py')))
		 if os.path.basename(p) != os.path.basename(__file__)]
	paths.append(os.path.join(overlay.TOP, 'mm-overlay', 'overlay.py'))
	out = {}
	for p in paths:
		with open(p) as f:
			out[p] = ast.parse(f.read(), p)
	return out


def _leftmost(node):
	while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
		node = node.left
	return node


def _callee(call):
	f = call.func
	if isinstance(f, ast.Attribute):
		if isinstance(f.value, ast.Name) and f.value.id == 'subprocess':
			return 'subprocess.' + f.attr
		return f.attr
	return f.id if isinstance(f, ast.Name) else None


def _calls(node, scope):
	"""(innermost enclosing function or module, call) for every call."""
	for child in ast.iter_child_nodes(node):
		func = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
		inner = child if func else scope
		if isinstance(child, ast.Call):
			yield scope, child
		yield from _calls(child, inner)


def _params(scope):
	if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
		return set()
	a = scope.args
	return {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}


def programs_run(sources):
	"""[(path, line, argv[0] expression)] for every command the sources run:
	the first element of the list given to subprocess, or to one of our
	functions that hands its parameter to subprocess, followed through the
	variables, for loops and our functions' return values it came from."""
	funcs, runners = {}, {'subprocess.' + c for c in SUBPROCESS_CALLS}
	for path, tree in sources.items():
		for n in ast.walk(tree):
			if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
				funcs.setdefault(n.name, []).append((path, n))
	for path, tree in sources.items():
		for scope, call in _calls(tree, tree):
			if (_callee(call) in runners and call.args and
			    isinstance(_leftmost(call.args[0]), ast.Name) and
			    _leftmost(call.args[0]).id in _params(scope)):
				runners.add(scope.name)

	def bound(scope, name):
		out = []
		for n in ast.walk(scope):
			if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and
							     t.id == name for t in n.targets):
				out.append(n.value)
			elif (isinstance(n, ast.For) and isinstance(n.target, ast.Name) and
			      n.target.id == name):
				for v in ([n.iter] if not isinstance(n.iter, ast.Name)
					  else bound(scope, n.iter.id)):
					out.extend(v.elts if isinstance(v, ast.List) else [v])
		return out

	def argv0(path, scope, node, seen):
		node = _leftmost(node)
		if isinstance(node, ast.List):
			return [(path, node.lineno, node.elts[0])] if node.elts else []
		if isinstance(node, ast.Name):
			if node.id in _params(scope) and scope.name in runners:
				return []	# its callers are scanned
			vals = bound(scope, node.id)
			if vals:
				return [x for v in vals for x in argv0(path, scope, v, seen)]
		name = _callee(node) if isinstance(node, ast.Call) else None
		if name in funcs and name not in seen:
			out = []
			for fpath, f in funcs[name]:
				for r in ast.walk(f):
					if isinstance(r, ast.Return) and r.value is not None:
						out += argv0(fpath, f, r.value, seen | {name})
			if out:
				return out
		return [(path, node.lineno, node)]

	out = []
	for path, tree in sources.items():
		for scope, call in _calls(tree, tree):
			if _callee(call) in runners and call.args:
				out += argv0(path, scope, call.args[0], set())
	return out


def dpkg_owners(path):
	"""The packages that ship @path, whichever side of the /usr merge dpkg
	has it on."""
	tries = []
	for p in (path, os.path.realpath(path)):
		tries += [p, p[len('/usr'):] if p.startswith('/usr/') else '/usr' + p]
	for p in dict.fromkeys(tries):
		r = subprocess.run(['dpkg', '-S', p], stdout=subprocess.PIPE,
				   stderr=subprocess.DEVNULL, text=True)
		owners = set()
		for line in r.stdout.splitlines() if r.returncode == 0 else []:
			if ': ' in line and not line.startswith('diversion by'):
				owners.update(o.strip().split(':')[0]
					      for o in line.rsplit(': ', 1)[0].split(','))
		if owners:
			return sorted(owners)
	return []


def _always_installed(package):
	r = subprocess.run(['dpkg-query', '-W', '-f=${Priority} ${Essential}', package],
			   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
	prio, _, essential = r.stdout.partition(' ')
	return prio == 'required' or essential.strip() == 'yes'


@unittest.skipUnless(shutil.which('dpkg') and shutil.which('dpkg-query'),
		     'needs dpkg to map programs to Debian packages')
class SetupInstallsWhatHarnessRunsTest(unittest.TestCase):
	"""Every program the harness runs comes with a required package or one
	in faultin.PACKAGES, which 'make setup' installs."""

	def programs(self):
		names, computed = {}, []
		for path, line, node in programs_run(harness_sources()):
			where = '%s:%d' % (os.path.relpath(path, overlay.TOP), line)
			if isinstance(node, ast.Constant) and isinstance(node.value, str):
				names.setdefault(node.value, where)
				continue
			key = (os.path.basename(path), ast.unparse(node))
			if key not in DYNAMIC_PROGRAMS:
				computed.append('%s: %s' % (where, key[1]))
			for n in DYNAMIC_PROGRAMS.get(key, []):
				names.setdefault(n, where)
		self.assertEqual(computed, [], 'program names computed at run time: '
				 'add them to DYNAMIC_PROGRAMS')
		return names

	def test_scan_finds_known_programs(self):
		names = self.programs()
		for n in ('git', 'make', 'modinfo', 'apt-get', 'dpkg-deb', 'cpio',
			  'qemu-system-x86_64'):
			self.assertIn(n, names)

	def test_setup_installs_every_program(self):
		sbin = os.pathsep.join([os.environ.get('PATH', os.defpath), '/usr/sbin', '/sbin'])
		bad = []
		for name, where in sorted(self.programs().items()):
			if os.path.isabs(name):
				continue
			path = shutil.which(name) or shutil.which(name, path=sbin)
			if not path:
				bad.append('%s (run at %s) is not installed' % (name, where))
				continue
			owners = dpkg_owners(path)
			if not owners:
				bad.append('%s: no package ships %s' % (name, path))
			elif not any(o in faultin.PACKAGES or _always_installed(o) for o in owners):
				bad.append('%s (run at %s) comes with %s, which is neither '
					   'required nor in faultin.PACKAGES'
					   % (name, where, ', '.join(owners)))
		self.assertEqual(bad, [])


class MainlineAndDistroTest(CacheTestCase):
	"""The mainline base, split Debian packaging, runs that stop part-way."""

	def test_split_packages(self):
		import faultin_distro
		self.assertEqual(faultin_distro.packages_of('linux-binary-7.3-cloud-amd64'),
				 ['linux-binary-7.3-cloud-amd64', 'linux-modules-7.3-cloud-amd64'])
		self.assertEqual(faultin_distro.packages_of('linux-image-6.1.0-56-cloud-amd64'),
				 ['linux-image-6.1.0-56-cloud-amd64'])

	def unpacked(self, package, files):
		root = os.path.join(self.td.name, 'distro', package)
		for f in files:
			os.makedirs(os.path.dirname(os.path.join(root, f)), exist_ok=True)
			open(os.path.join(root, f), 'w').close()
		with open(os.path.join(root, '.complete'), 'w') as f:
			f.write('7.3~rc7-1~exp1\n')
		return root

	def test_fetch_finds_usr_lib_modules_layout(self):
		import faultin_distro
		root = self.unpacked('linux-binary-7.3-cloud-amd64', [
			'usr/lib/modules/7.3-cloud-amd64/vmlinuz',
			'usr/lib/modules/7.3-cloud-amd64/kernel/drivers/scsi/scsi_debug.ko.xz'])
		dk = faultin_distro.fetch('linux-binary-7.3-cloud-amd64', log=lambda m: None)
		self.assertEqual(dk.release, '7.3-cloud-amd64')
		self.assertEqual(dk.label, 'debian-7.3-cloud-amd64')
		self.assertEqual(dk.image, os.path.join(root, 'usr/lib/modules/7.3-cloud-amd64/vmlinuz'))
		self.assertEqual(dk.moddir, os.path.join(root, 'usr/lib/modules/7.3-cloud-amd64'))
		self.assertEqual(faultin_distro.package_version(dk), '7.3~rc7-1~exp1')

	def test_fetch_finds_boot_layout(self):
		import faultin_distro
		self.unpacked('linux-image-6.1.0-56-cloud-amd64', [
			'boot/vmlinuz-6.1.0-56-cloud-amd64',
			'lib/modules/6.1.0-56-cloud-amd64/kernel/drivers/scsi/sd_mod.ko'])
		dk = faultin_distro.fetch('linux-image-6.1.0-56-cloud-amd64', log=lambda m: None)
		self.assertEqual(dk.release, '6.1.0-56-cloud-amd64')
		self.assertEqual(dk.series(), '6.1')

	def test_distro_kernel_picks_the_base_whose_selftests_fit(self):
		import faultin
		import faultin_distro
		for rel, want in [('7.3-cloud-amd64', 'mainline'),
				  ('7.2.13+deb14-cloud-amd64', 'mainline'),
				  ('6.12.117+deb12-cloud-amd64', '6.12'),
				  ('6.1.0-56-cloud-amd64', '6.1')]:
			dk = faultin_distro.DistroKernel('p', '/', rel, None, None)
			self.assertEqual(faultin.distro_base(dk), want, rel)

	def test_staged_modules_load_deps_first_and_leave_the_disks_to_the_tests(self):
		# An arm64 kernel without scsi_debug: null_blk (after configfs,
		# which it needs) is staged, and guest/init loads neither disk.
		import faultin_distro
		from unittest import mock
		rel = '7.3-cloud-arm64'
		root = self.unpacked('linux-binary-7.3-cloud-arm64', [
			'usr/lib/modules/%s/vmlinuz' % rel,
			'usr/lib/modules/%s/kernel/fs/configfs/configfs.ko' % rel,
			'usr/lib/modules/%s/kernel/drivers/block/null_blk/null_blk.ko' % rel,
			'usr/lib/modules/%s/kernel/drivers/block/loop.ko' % rel])
		dk = faultin_distro.DistroKernel('linux-binary-7.3-cloud-arm64', root, rel, None,
						 os.path.join(root, 'usr/lib/modules', rel))
		deps = {'null_blk': ['configfs']}
		dest = os.path.join(self.td.name, 'stage')
		with mock.patch.object(faultin_distro, '_depends',
				       lambda p: deps.get(os.path.basename(p).split('.')[0], [])), \
		     mock.patch.object(faultin_distro, '_depmod', lambda: 'true'):
			names = faultin_distro.stage_modules(dk, dest)
		self.assertEqual(names, ['configfs', 'null_blk', 'loop'])
		self.assertEqual(read(os.path.join(dest, 'lib/modules/faultin/load')),
				 'configfs\nloop\n')

	def test_a_run_that_stops_keeps_a_table_and_says_what_it_did_not_run(self):
		import faultin
		rdir = faultin.results_dir()
		done = {'label': 'mainline', 'base': 'mainline', 'variant': 'base',
			'version': '7.3~rc7-1~exp1', 'build': {'kind': 'full', 'seconds': 400.0},
			'results': [{'name': 'populate_eio:eio.shared.mlock', 'verdict': 'hang',
				     'seconds': 15.0}]}
		cols = [done, faultin.not_run('mainline/patched', 'kernel build failed'),
			faultin.not_run('linux-binary-7.3-cloud-amd64', 'an earlier step failed')]
		faultin.write_results(rdir, cols)
		text = read(os.path.join(rdir, 'table.txt'))
		self.assertIn('populate_eio:eio.shared.mlock  hang 15.0s', text)
		self.assertIn('mainline+series: NOT RUN (kernel build failed)', text)
		self.assertIn('7.3~rc7-1~exp1', text)
		self.assertTrue(os.path.exists(os.path.join(rdir, 'results.json')))

	def test_table_with_no_results_says_so_in_one_line(self):
		import contextlib
		import io
		import faultin
		out = io.StringIO()
		with contextlib.redirect_stdout(out):
			rc = faultin.main(['table'])
		self.assertEqual(rc, 1)
		self.assertEqual(len(out.getvalue().splitlines()), 1)
		self.assertIn('no results yet', out.getvalue())

	def test_unknown_base_is_one_line(self):
		with self.assertRaises(overlay.OverlayError) as e:
			overlay.base_id('5.4')
		self.assertEqual(len(str(e.exception).splitlines()), 1)
		self.assertIn('mainline', str(e.exception))

	def test_boot_splat_is_a_boot_failure(self):
		lines = [(0.5, 'Linux version 6.12.117'),
			 (1.0, 'Oops: int3: 0000 [#1] PREEMPT SMP NOPTI'),
			 (1.1, 'RIP: 0010:sched_clock_cpu+0x10/0x1c0'),
			 (2.0, '---[ end trace 0000000000000000 ]---')]
		res = parser.parse_boot('futex_wait_uninitialized_heap', lines)
		self.assertTrue(parser.boot_failed(res))
		res = parse('oops-in-case.log')
		self.assertFalse(parser.boot_failed(list(res.values())))

	def guest_boots(self, boots, test=('futex_wait_uninitialized_heap', 60, '', False),
			ksft=None):
		"""run_tests() over fake guests: each boot prints the next list
		of console lines; returns the column and the logs left behind."""
		import argparse
		import contextlib
		import io
		import faultin
		import faultin_kernel
		rdir = faultin.results_dir()
		bindir = os.path.join(self.td.name, 'bin')
		os.makedirs(bindir)
		open(os.path.join(bindir, 'futex_wait_uninitialized_heap'), 'w').close()
		calls = []

		def fake_guest(cmd, deadline, logpath, echo=None, progress=None, guard=None):
			lines = boots[len(calls)]
			killed = lines is self.STUCK
			calls.append(logpath)
			with open(logpath, 'w') as f:
				f.write('\n'.join(t for _, t in lines))
			return faultin_kernel.GuestRun(lines, killed, 3.0, 0)

		real = faultin_kernel.run_guest
		faultin_kernel.run_guest = fake_guest
		try:
			col = {'label': 'debian-6.12', 'results': []}
			args = argparse.Namespace(accel='tcg', verbose=False)
			params = qemu_config.load('x86_64')
			with contextlib.redirect_stdout(io.StringIO()):
				faultin.run_tests(col, 'img', os.path.join(bindir, '..', 'i.cpio'),
						  params, [test], args, rdir, ksft=ksft)
		finally:
			faultin_kernel.run_guest = real
		return col, sorted(os.listdir(os.path.join(rdir, 'logs'))), len(calls)

	SPLAT = [(0.5, 'Linux version 6.12.117'),
		 (1.0, 'Oops: int3: 0000 [#1] PREEMPT SMP NOPTI'),
		 (1.1, 'RIP: 0010:sched_clock_cpu+0x10/0x1c0'),
		 (2.0, '---[ end trace 0000000000000000 ]---')]
	PASS = [(0.5, 'Linux version 6.12.117'),
		(2.0, 'faultin: run futex_wait_uninitialized_heap timeout=60 kernel=6.12'),
		(2.1, 'TAP version 13'), (2.1, '1..1'),
		(2.2, 'ok 1 futex-wait-uninitialized-heap'),
		(2.3, 'faultin: exit futex_wait_uninitialized_heap rc=0'),
		(2.4, 'faultin: done')]

	def test_boot_splat_boots_again_and_the_test_counts(self):
		col, logs, n = self.guest_boots([self.SPLAT, self.PASS])
		self.assertEqual(n, 2)
		self.assertEqual([(r['name'], r['verdict']) for r in col['results']],
				 [('futex_wait_uninitialized_heap:futex-wait-uninitialized-heap',
				   'pass')])
		self.assertEqual(logs, ['debian-6.12-futex_wait_uninitialized_heap-boot1.log',
					'debian-6.12-futex_wait_uninitialized_heap.log'])

	KSFT = ('ksft_fault_in', 600, 'faultin.ksft=mm:ksft_fault_in.sh', False)
	# Debian's 7.2.13 once printed nothing after this for 225 s, until
	# the host's watchdog stopped it; the next boot ran the test.
	STUCK = [(0.3, 'Probing EDD (edd=off to disable)... ok')]

	def test_guest_stuck_before_the_test_boots_again(self):
		(r,) = parser.parse_boot('uffd_move', self.STUCK, True)
		self.assertTrue(parser.boot_failed([r]))
		self.assertTrue(parser.boot_failed(parser.parse_runner(
			'ksft_fault_in', self.STUCK, True, OURS)))
		# Killed once the test ran: the test's hang, not the boot's.
		self.assertFalse(parser.boot_failed(parser.parse_boot(
			'futex_wait_uninitialized_heap', self.PASS[:3], True)))
		col, logs, n = self.guest_boots([self.STUCK, self.PASS])
		self.assertEqual(n, 2)
		self.assertEqual([r['verdict'] for r in col['results']], ['pass'])

	def test_runner_guest_stuck_twice_is_a_boot_hang(self):
		col, logs, n = self.guest_boots([self.STUCK, self.STUCK], self.KSFT, ksft='x')
		self.assertEqual(n, 2)
		(r,) = col['results']
		self.assertEqual((r['name'], r['verdict']), ('ksft_fault_in:boot', 'hang'))
		self.assertIn('stopped at its deadline', r['detail'])

	def test_runner_boot_splat_boots_again(self):
		# Debian's 7.3-rc7 once died of an int3 Oops before kselftest's
		# runner started: that is the boot failing, as for a direct test,
		# not 9 missing binaries.
		res = parser.parse_runner('ksft_fault_in', self.SPLAT, False, OURS)
		self.assertTrue(parser.boot_failed(res))
		started = [(2.0, 'faultin: run ksft_fault_in timeout=600 kernel=7.3')] + \
			[(2.5 + t, x) for t, x in self.SPLAT]
		self.assertFalse(parser.boot_failed(
			parser.parse_runner('ksft_fault_in', started, False, OURS)))
		col, logs, n = self.guest_boots([self.SPLAT, self.SPLAT], self.KSFT, ksft='x')
		self.assertEqual(n, 2)
		(r,) = col['results']
		self.assertEqual((r['name'], r['verdict']), ('ksft_fault_in:boot', 'crash'))
		self.assertEqual(logs, ['debian-6.12-ksft_fault_in-boot1.log',
					'debian-6.12-ksft_fault_in.log'])

	def test_two_boot_splats_are_a_boot_failure_not_the_tests_crash(self):
		col, logs, n = self.guest_boots([self.SPLAT, self.SPLAT])
		self.assertEqual(n, 2)
		(r,) = col['results']
		self.assertEqual((r['name'], r['verdict']),
				 ('futex_wait_uninitialized_heap:boot', 'crash'))
		self.assertIn('guest boot failed twice', r['detail'])

	def test_private_apt_never_names_the_system_configuration(self):
		import faultin_apt
		apt = faultin_apt.PrivateApt('arm64')
		opts = ' '.join(apt._opts())
		self.assertIn(self.td.name, opts)
		for o in ('Dir::Etc::sourcelist', 'Dir::Etc::sourceparts', 'Dir::State::Lists',
			  'Dir::State::status', 'Dir::Cache', 'Dir::Etc::preferences',
			  'Dir::Etc::preferencesparts'):
			v = opts.split(o + '=', 1)[1].split()[0]
			self.assertTrue(v.startswith(self.td.name), (o, v))
		self.assertIn('APT::Architectures=arm64', opts)

	def test_no_mirror_host_in_the_repository(self):
		r = subprocess.run(['git', '-C', overlay.TOP, 'grep', '-n', '-I', '-E',
				    r'(deb|ftp|mirror)[.-][a-z0-9.-]*\.(org|net|com)/'],
				   stdout=subprocess.PIPE, text=True)
		self.assertEqual(r.stdout, '')


class HostileInputTest(CacheTestCase):
	"""Bad input to the harness: one clear line, a non-zero exit, nothing
	half-written in the cache, and no verdict that is not earned. (A
	series that no longer applies and a kernel that panics at boot are
	tested above: OverlayTest, MainlineAndDistroTest.)"""

	def main(self, argv):
		"""faultin.main(@argv) -> (exit status, stderr lines)."""
		import contextlib
		import io
		err, out = io.StringIO(), io.StringIO()
		with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
			rc = faultin.main(argv)
		return rc, err.getvalue().splitlines()

	def cache_holds(self):
		return sorted(f for f in os.listdir(self.td.name) if f != 'lock')

	def test_unknown_names_are_one_line_before_any_work(self):
		for argv, word in (
			(['run', '--variants', 'base', 'pached', '--no-checks'], "'pached'"),
			(['run', '--tests', 'populate_eio', 'no_such_test'], 'no_such_test'),
			(['run', '--bases', '5.4'], "'5.4'"),
			(['build', '--variant', 'prefix:99'], 'prefix:99'),
			(['build', '--variant', 'prefix:x'], 'prefix:x'),
			(['quick', '--variant', 'mutant:no-such'], 'no-such'),
			(['mutants', 'no-such-mutation'], 'no-such-mutation'),
			(['bench', '--pair', 'base', 'nope'], "'nope'"),
			(['bench', '--clock', 'icount', '--accel', 'kvm'], 'icount needs TCG'),
			(['test', '--variants', 'nope'], "'nope'")):
			rc, err = self.main(argv)
			self.assertEqual(rc, 2, argv)
			self.assertEqual(len(err), 1, (argv, err))
			self.assertIn(word, err[0])
			self.assertEqual(self.cache_holds(), [], argv)

	def fake_base(self, tarball):
		old = overlay.BASES['6.12']
		overlay.BASES['6.12'] = ('linux-source-fake', tarball)
		self.addCleanup(overlay.BASES.__setitem__, '6.12', old)

	def tarball(self, path, cut=None):
		tree = os.path.join(self.td.name, 'linux-fake')
		os.makedirs(os.path.join(tree, 'mm'), exist_ok=True)
		with open(os.path.join(tree, 'Makefile'), 'w') as f:
			f.write('# fake\n')
		with open(os.path.join(tree, 'mm', 'gup.c'), 'wb') as f:
			f.write(os.urandom(1 << 16))
		os.makedirs(os.path.dirname(path), exist_ok=True)
		subprocess.run(['tar', '-cJf', path, '-C', self.td.name, 'linux-fake'], check=True)
		shutil.rmtree(tree)
		if cut:
			with open(path, 'r+b') as f:
				f.truncate(os.path.getsize(path) // cut)

	def assert_no_tree(self):
		src = overlay.paths('6.12')['src']
		self.assertFalse(os.path.exists(src))
		self.assertFalse(os.path.exists(src + '.tmp'))

	def test_missing_tarball(self):
		self.fake_base(os.path.join(self.td.name, 'nowhere', 'linux-source-6.12.tar.xz'))
		with self.assertRaises(overlay.OverlayError) as e:
			overlay.import_base('6.12', log=lambda m: None)
		self.assertEqual(len(str(e.exception).splitlines()), 1)
		self.assertIn('is missing', str(e.exception))
		self.assert_no_tree()

	def test_truncated_tarball_leaves_no_tree_and_a_good_one_imports(self):
		usr_src = tempfile.TemporaryDirectory()     # outside the cache
		self.addCleanup(usr_src.cleanup)
		path = os.path.join(usr_src.name, 'linux-source-6.12.tar.xz')
		self.tarball(path, cut=2)
		self.fake_base(path)
		with self.assertRaises(overlay.OverlayError) as e:
			overlay.import_base('6.12', log=lambda m: None)
		msg = str(e.exception)
		self.assertEqual(len(msg.splitlines()), 1, msg)
		self.assertIn('truncated or corrupt', msg)
		self.assertIn('reinstall linux-source-fake', msg)
		self.assert_no_tree()
		self.assertTrue(os.path.exists(path))     # not ours to delete
		self.tarball(path)
		self.assertEqual(overlay.import_base('6.12', log=lambda m: None), '6.12')
		self.assertTrue(os.path.exists(os.path.join(overlay.paths('6.12')['src'],
							    'mm', 'gup.c')))

	def test_truncated_tarball_in_the_cache_is_removed_to_fetch_again(self):
		path = os.path.join(self.td.name, 'mainline', '1', 'linux-source-7.3.tar.xz')
		self.tarball(path, cut=3)
		self.fake_base(path)
		with self.assertRaises(overlay.OverlayError) as e:
			overlay.import_base('6.12', log=lambda m: None)
		self.assertIn('the next run fetches it again', str(e.exception))
		self.assertFalse(os.path.exists(path))
		self.assert_no_tree()

	def test_build_interrupted_then_rerun_finishes(self):
		import faultin_kernel
		work = os.path.join(self.td.name, 'tree')
		os.makedirs(work)
		pidfile = os.path.join(self.td.name, 'recipe.pid')
		with open(os.path.join(work, 'Makefile'), 'w') as f:
			f.write('.DELETE_ON_ERROR:\n'
				'all: $(O)/obj\n'
				'$(O)/obj:\n'
				'\t@echo $$$$ > %s; echo part > $@; sleep $(NAP); echo done >> $@\n'
				% pidfile)
		out = os.path.join(self.td.name, 'out')
		os.makedirs(out)
		params = qemu_config.load('x86_64')

		class CtrlC:
			"""A BuildProgress whose tick is where Ctrl-C arrives."""
			def feed(self, text):
				pass

			def tick(self, secs):
				if os.path.exists(pidfile):
					raise KeyboardInterrupt

			def finish(self, secs):
				pass

		import time
		t0 = time.monotonic()
		with open(os.path.join(self.td.name, 'build.log'), 'w') as logf:
			with self.assertRaises(KeyboardInterrupt):
				faultin_kernel._make(work, out, params, ['all', 'NAP=60'], logf, CtrlC())
		self.assertLess(time.monotonic() - t0, 30)
		with open(pidfile) as f:
			pid = int(f.read())
		with self.assertRaises(ProcessLookupError):    # the recipe was stopped
			os.kill(pid, 0)
		self.assertFalse(os.path.exists(os.path.join(out, 'obj')))   # and its output
		with open(os.path.join(self.td.name, 'build.log'), 'w') as logf:
			rc = faultin_kernel._make(work, out, params, ['all', 'NAP=0'], logf)
		self.assertEqual(rc, 0)
		self.assertEqual(read(os.path.join(out, 'obj')), 'part\ndone\n')

	def test_full_disk_during_a_build_says_so_first(self):
		import faultin_kernel
		log = os.path.join(self.td.name, 'build.log')
		with open(log, 'w') as f:
			f.write('  CC      mm/gup.o\n/usr/bin/ld: final link failed: '
				'No space left on device\nmake[2]: *** [vmlinux] Error 1\n')
		msg = faultin_kernel.build_failure('mainline/patched', log, self.td.name)
		first = msg.splitlines()[0]
		self.assertIn('mainline/patched: kernel build failed: no space left on device', first)
		self.assertIn('MiB free', first)
		self.assertIn(log, msg)

	def test_full_disk_anywhere_else_is_one_line(self):
		def full(args):
			raise OSError(28, 'No space left on device', '/cache/results/x/results.json')
		old = faultin.cmd_table
		faultin.cmd_table = full
		try:
			rc, err = self.main(['table'])
		finally:
			faultin.cmd_table = old
		self.assertEqual(rc, 2)
		self.assertEqual(len(err), 1, err)
		self.assertIn('No space left on device', err[0])

	def test_kernel_that_does_not_boot_says_why(self):
		import faultin_kernel
		bogus = os.path.join(self.td.name, 'bzImage')
		with open(bogus, 'wb') as f:
			f.write(os.urandom(4096))
		params = qemu_config.load('x86_64')
		cmd = faultin_kernel.qemu_command(params, bogus, bogus, 'faultin.test=t')
		g = faultin_kernel.run_guest(cmd, 60, os.path.join(self.td.name, 'console.log'))
		self.assertFalse(g.killed)
		(r,) = parser.parse_boot('t', g.lines, g.killed)
		self.assertEqual(r.verdict, 'missing')
		self.assertIn('guest never started the test', r.detail)
		self.assertIn('qemu', r.detail)

	def test_console_flood_stops_the_guest_and_is_a_crash(self):
		import faultin_kernel
		import time
		log = os.path.join(self.td.name, 'console.log')
		flood = [sys.executable, '-c', 'import sys\n'
			 'print("faultin: run t", flush=True)\n'
			 'print("#  RUN           f.a ...", flush=True)\n'
			 'while True: sys.stdout.write("printk storm\\n" * 1000)']
		t0 = time.monotonic()
		g = faultin_kernel.run_guest(flood, 120, log, max_console=1 << 20)
		self.assertLess(time.monotonic() - t0, 60)
		self.assertTrue(g.killed)
		self.assertLess(os.path.getsize(log), 3 << 20)
		res = parser.parse_boot('t', g.lines, g.killed)
		self.assertEqual([(r.name, r.verdict) for r in res], [('t:f.a', 'crash')])
		self.assertIn('console flood', res[0].excerpt[0])
		self.assertIn('printk storm', res[0].excerpt[0])
		# From the saved log too.
		binary, lines, killed = parser.parse_log_file(log)
		self.assertEqual([r.verdict for r in parser.parse_boot(binary, lines, killed)],
				 ['crash'])

	def test_interrupted_guest_is_not_left_behind(self):
		import faultin_kernel
		import signal

		def ctrl_c(signum, frame):
			raise KeyboardInterrupt
		old = signal.signal(signal.SIGALRM, ctrl_c)
		pidfile = os.path.join(self.td.name, 'guest.pid')
		guest = [sys.executable, '-c', 'import os, time\n'
			 'open(%r, "w").write(str(os.getpid()))\n'
			 'time.sleep(60)\n' % pidfile]
		try:
			signal.alarm(1)
			with self.assertRaises(KeyboardInterrupt):
				faultin_kernel.run_guest(guest, 60, os.path.join(self.td.name, 'c.log'))
		finally:
			signal.alarm(0)
			signal.signal(signal.SIGALRM, old)
		with self.assertRaises(ProcessLookupError):
			os.kill(int(read(pidfile)), 0)

	def test_a_guest_that_does_not_stop_after_the_test_is_stopped(self):
		import faultin_kernel
		guest = [sys.executable, '-c', 'import sys, time\n'
			 'print("faultin: done", flush=True)\n'
			 'time.sleep(0.2)\n'
			 'print("rcu: INFO: rcu_sched self-detected stall on CPU", flush=True)\n'
			 'time.sleep(60)\n']
		log = os.path.join(self.td.name, 'c.log')
		said = []
		progress = faultin_kernel.CaseProgress('mainline: fault_fail', said.append)
		old = faultin_kernel.STOP_GRACE_S
		faultin_kernel.STOP_GRACE_S = 1
		try:
			g = faultin_kernel.run_guest(guest, 60, log, progress=progress)
		finally:
			faultin_kernel.STOP_GRACE_S = old
		self.assertLess(g.seconds, 10)
		self.assertFalse(g.killed)
		# what came within the grace is kept, and said
		self.assertEqual([t for _, t in g.lines][-1],
				 'rcu: INFO: rcu_sched self-detected stall on CPU')
		self.assertIn('faultin-host: the guest had not stopped 1 s after the test '
			      'ended: stopped', read(log))
		self.assertIn('mainline: fault_fail: the guest had not stopped 1 s after the '
			      'test ended: stopped', said)

	def test_guard_stop_kills_every_guest_and_gives_no_result(self):
		import threading
		import faultin_kernel
		guard = faultin_kernel.GuestGuard()
		pids = [os.path.join(self.td.name, 'g%d.pid' % i) for i in range(2)]
		errs = []

		def guest(i):
			cmd = [sys.executable, '-c', 'import os, time\n'
			       'open(%r, "w").write(str(os.getpid()))\n'
			       'time.sleep(60)\n' % pids[i]]
			try:
				faultin_kernel.run_guest(cmd, 60, pids[i] + '.log', guard=guard)
			except faultin_kernel.GuestStopped as e:
				errs.append(e)
		threads = [threading.Thread(target=guest, args=(i,)) for i in range(2)]
		for t in threads:
			t.start()
		for _ in range(100):
			if all(os.path.exists(p) and read(p) for p in pids):
				break
			time.sleep(0.1)
		guard.stop()
		for t in threads:
			t.join(10)
		self.assertEqual(len(errs), 2)
		for p in pids:
			with self.assertRaises(ProcessLookupError):
				os.kill(int(read(p)), 0)
		with self.assertRaises(faultin_kernel.GuestStopped):
			faultin_kernel.run_guest([sys.executable, '-c', 'pass'], 60,
						 os.path.join(self.td.name, 'late.log'), guard=guard)

	def test_last_guest_seconds_come_from_the_newest_record_before(self):
		import json
		import faultin
		root = os.path.join(self.td.name, 'results')
		for rid, secs in (('20261201-010000', 5.0), ('20261201-020000', 7.0),
				  ('20261201-040000', 9.0)):
			os.makedirs(os.path.join(root, rid))
			with open(os.path.join(root, rid, 'results.json'), 'w') as f:
				json.dump({'kernels': [{'label': 'mainline', 'results': [],
							'guests': {'populate_eio': secs}}]}, f)
		os.makedirs(os.path.join(root, '20261201-030000'))
		here = os.path.join(root, '20261201-030000')
		self.assertEqual(faultin.last_guest_seconds('mainline', here), {'populate_eio': 7.0})
		self.assertEqual(faultin.last_guest_seconds('6.12', here), {})

	def test_longest_first_uses_a_record_only_if_it_timed_every_job(self):
		import faultin
		plan = [(0, 'a', 'a', None, 10), (1, 'b', 'b', None, 30), (2, 'c', 'c', None, 20)]
		names = lambda p: [j[1] for j in p]
		self.assertEqual(names(faultin.longest_first(plan, {})), ['b', 'c', 'a'])
		self.assertEqual(names(faultin.longest_first(plan, {'a': 9, 'b': 1, 'c': 5})),
				 ['a', 'c', 'b'])
		# a run of b alone: its record says nothing of a and c
		self.assertEqual(names(faultin.longest_first(plan, {'b': 1})), ['b', 'c', 'a'])

	def test_guests_at_once_keep_the_plan_order(self):
		import argparse
		import contextlib
		import io
		import threading
		import faultin
		import faultin_kernel
		rdir = faultin.results_dir()
		bindir = os.path.join(self.td.name, 'bin')
		os.makedirs(bindir)
		names = ['t%d' % i for i in range(5)]
		for n in names:
			open(os.path.join(bindir, n), 'w').close()
		lock = threading.Lock()
		running = [0, 0]	# now, most at once

		def fake_guest(cmd, deadline, logpath, echo=None, progress=None, guard=None):
			append = cmd[cmd.index('-append') + 1].split()
			binary = [w for w in append if w.startswith('faultin.test=')][0][13:]
			with lock:
				running[0] += 1
				running[1] = max(running)
			# the first test takes longest: it finishes last
			time.sleep(0.3 if binary == 't0' else 0.05)
			with lock:
				running[0] -= 1
			lines = [(0.1, 'TAP version 13'), (0.1, '1..1'), (0.2, 'ok 1 %s' % binary),
				 (0.3, 'faultin: exit %s rc=0' % binary), (0.4, 'faultin: done')]
			open(logpath, 'w').close()
			return faultin_kernel.GuestRun(lines, False, 1.0, 0)

		real = faultin_kernel.run_guest
		faultin_kernel.run_guest = fake_guest
		try:
			col = {'label': 'mainline', 'results': []}
			args = argparse.Namespace(accel='tcg', verbose=False, guests=2)
			out = io.StringIO()
			with contextlib.redirect_stdout(out):
				faultin.run_tests(col, 'img', os.path.join(bindir, '..', 'i.cpio'),
						  qemu_config.load('x86_64'),
						  [(n, 60, '', False) for n in names], args, rdir)
		finally:
			faultin_kernel.run_guest = real
		self.assertEqual([r['name'] for r in col['results']], names)
		self.assertEqual(running[1], 2)
		self.assertEqual(col['guests_at_once'], 2)
		self.assertEqual(sorted(col['guests']), names)
		self.assertIn('mainline: 5 guest(s) in ', out.getvalue())

	def test_a_line_without_end_is_cut_not_hoarded(self):
		import faultin_kernel
		long = [sys.executable, '-c', 'print("x" * 300000)']
		g = faultin_kernel.run_guest(long, 60, os.path.join(self.td.name, 'c.log'))
		self.assertEqual([len(t) for _, t in g.lines],
				 [65536, 65536, 65536, 65536, 300000 - 4 * 65536])

	def test_malformed_tap_never_passes(self):
		res = parse('malformed-tap.log')
		self.assertEqual(verdicts(res), {
			'malformed:t.first': 'pass',
			'malformed:t.second': 'missing',        # 'ok' without a number
			'malformed:t.third': 'pass',
			'malformed:t.third [#3 again]': 'fail',
			'malformed:t.fourth': 'missing',        # 'not ok four'
			'malformed:t.ghost': 'fail',            # beyond the plan
			'malformed:#4': 'missing'})
		res = parser.parse_boot('t', ['faultin: run t', '1..999999999', 'ok 1 a',
					      'faultin: exit t rc=0', 'faultin: done'])
		self.assertEqual([(r.name, r.verdict) for r in res],
				 [('t:plan', 'fail'), ('t:a', 'pass')])

	def test_second_run_on_one_cache_is_refused(self):
		holder = subprocess.Popen(
			[sys.executable, '-c', 'import sys, time\n'
			 'sys.path.insert(0, %r)\n'
			 'import overlay\n'
			 'overlay.lock_cache("faultin run")\n'
			 'print("locked", flush=True)\n'
			 'time.sleep(60)\n' % os.path.join(overlay.TOP, 'mm-overlay')],
			stdout=subprocess.PIPE, text=True)
		try:
			self.assertEqual(holder.stdout.readline().strip(), 'locked')
			rc, err = self.main(['build', '--base', 'mainline'])
			self.assertEqual(rc, 2)
			self.assertEqual(len(err), 1, err)
			self.assertIn('in use by another faultin (pid %d, faultin run' % holder.pid,
				      err[0])
			self.assertEqual(self.cache_holds(), [])
			self.assertEqual(self.main(['table'])[0], 1)   # reading needs no lock
		finally:
			holder.kill()
			holder.wait()
			holder.stdout.close()
		os.close(overlay.lock_cache('test'))    # a killed holder leaves no lock


if __name__ == '__main__':
	unittest.main()
