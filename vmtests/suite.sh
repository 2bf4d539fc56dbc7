#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# suite.sh - the kernel-dependent part of camfence's tests, on whatever
# kernel runs it: the datapath suites (build/tests/test_datapath,
# build/tests/test_frames, BPF_PROG_TEST_RUN) and the namespace suite
# (tests/ns/run.sh).  vmcheck.sh runs it inside each VM and directly on the
# host; it builds nothing, so the binaries must exist.
#
# Usage: vmtests/suite.sh [--diff] [--no-ns] [--no-datapath]
#
#   --diff  also the differential test (build/tests/test_differential);
#           minutes on a host, far longer under TCG, so off by default
#
# Prints a line per test, a time per suite and "N passed, N failed, N
# skipped".  Environment:
#   VM_LOGDIR      the suites' logs (default: a new directory under /tmp)
#   SUITE_TIMEOUT  seconds for each suite (default 900)
#   NS_TESTS       the namespace tests to run (default: all, but see
#                  ns_pick for CFVM_ACCEL=tcg, which vmcheck.sh sets)
#   SUITE_BIN      where the test binaries are (default $O/tests)
#   CAMFENCE       the camfence the namespace suite runs (default
#                  $O/camfence); vmcheck.sh sets both to its copies
#   VM_MODS        an unpacked kernel tree (kernel.sh) whose modules the
#                  running kernel loads on demand, for runners (vng) that
#                  do not set that up

set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
export CAMFENCE_TESTDATA=${CAMFENCE_TESTDATA:-$PWD/$O/testdata}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-900}

passed=0 failed=0 skipped=0

# Add the counts a cmocka binary printed; no summary, or a bad exit after
# a clean summary (a sanitizer report), is one failure.
count_cmocka() {
	local log=$1 rc=$2 p f s
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	if [ "$rc" -eq 124 ]; then
		echo "  timed out after ${SUITE_TIMEOUT}s: one failure"
		f=$((${f:-0} + 1))
	elif [ -z "$p" ] && [ -z "$f" ]; then
		echo "  no summary (exit $rc): one failure"
		tail -n 15 "$log" | sed 's/^/  | /'
		f=1
	elif [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		echo "  exit $rc after the summary (sanitizer?): one failure"
		f=1
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
}

run_cmocka() {
	local name=$1 bin=${SUITE_BIN:-$O/tests}/$1 log=$LOGS/$1.log rc t0
	echo "== $name"
	if [ ! -x "$bin" ]; then
		echo "  $bin not built (make $O/tests/$1): one failure"
		failed=$((failed + 1))
		return
	fi
	t0=$(date +%s)
	timeout -k 10 "$SUITE_TIMEOUT" "$bin" >"$log" 2>&1
	rc=$?
	grep -E '^\[ *(OK|FAILED|SKIPPED|ERROR|PASSED) *\]|SKIP|error|ERROR' "$log" |
		sed 's/^/  /'
	count_cmocka "$log" "$rc"
	echo "== $name: $(($(date +%s) - t0))s"
}

# PASS/FAIL/SKIP lines of tests/ns/run.sh -v, each with its time.
ns_lines() {
	awk '/^(PASS|FAIL|SKIP) / { if (l != "") print l; l = $0; next }
	     /^ +[0-9]+ ms$/ && l != "" { print l " (" $1 " ms)"; l = ""; next }
	     END { if (l != "") print l }' "$1" | sed 's/^/  /'
}

# The namespace tests to run: NS_TESTS, or all of tests/ns/run.sh's but,
# under TCG, the fault tests (each push of the whole location.db takes
# 20-30 s there: faults_sigkill alone ran 13 minutes and outran its own
# traffic).  VM_SLOW=1 keeps them.  Those left out are counted skipped.
ns_pick() {
	local t all
	NS_PICKED=${NS_TESTS:-}
	[ -n "$NS_PICKED" ] && return
	[ "${CFVM_ACCEL:-}" = tcg ] && [ "${VM_SLOW:-0}" != 1 ] || return
	all=$(awk '/^TESTS="/ { f = 1; sub(/^TESTS="/, "") }
		f { if (sub(/".*$/, "")) { print; exit } print }' tests/ns/run.sh)
	[ -n "$all" ] || return
	for t in $all; do
		case $t in
		faults_*)
			echo "  SKIP $t: too slow under TCG (VM_SLOW=1 runs it)"
			skipped=$((skipped + 1)) ;;
		*) NS_PICKED="$NS_PICKED $t" ;;
		esac
	done
}

# A run cut short has no summary: count what it printed, and one failure.
run_ns() {
	local log=$LOGS/ns.log line t0 rc
	echo "== ns${NS_TESTS:+: $NS_TESTS}"
	ns_pick
	t0=$(date +%s)
	# shellcheck disable=SC2086
	timeout -k 10 "$SUITE_TIMEOUT" tests/ns/run.sh -v $NS_PICKED \
		>"$log" 2>&1
	rc=$?
	ns_lines "$log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "  no summary from tests/ns/run.sh (exit $rc$([ $rc -eq 124 ] &&
			echo ", timed out after ${SUITE_TIMEOUT}s")): one failure"
		tail -n 5 "$log" | sed 's/^/  | /'
		line="$(grep -c '^PASS ' "$log") passed,"
		line="$line $(($(grep -c '^FAIL ' "$log") + 1)) failed,"
		line="$line $(grep -c '^SKIP ' "$log") skipped"
	fi
	# shellcheck disable=SC2046 # the three counts, split
	set -- $(echo "$line" | tr -dc '0-9 ')
	passed=$((passed + $1)) failed=$((failed + $2))
	skipped=$((skipped + ${3:-0}))
	echo "== ns: $(($(date +%s) - t0))s"
}

# Point module autoload, and the modprobe on PATH, at VM_MODS.
mods_autoload() {
	[ -n "${VM_MODS:-}" ] || return 0
	[ -d "/lib/modules/$(uname -r)" ] && return 0
	[ -d "$VM_MODS/lib/modules/$(uname -r)" ] || {
		echo "suite.sh: $VM_MODS has no modules for $(uname -r)" >&2
		return 1
	}
	mkdir -p /run/cfvm/bin &&
		printf '#!/bin/sh\nexec /sbin/modprobe -d %s "$@"\n' "$VM_MODS" \
			>/run/cfvm/bin/modprobe &&
		chmod 0755 /run/cfvm/bin/modprobe &&
		echo /run/cfvm/bin/modprobe >/proc/sys/kernel/modprobe || return 1
	export PATH=/run/cfvm/bin:$PATH
}

main() {
	local diff=0 ns=1 dp=1
	for a in "$@"; do
		case $a in
		--diff) diff=1 ;;
		--no-ns) ns=0 ;;
		--no-datapath) dp=0 ;;
		*) echo "usage: suite.sh [--diff] [--no-ns] [--no-datapath]" >&2
		   exit 2 ;;
		esac
	done
	[ "$(id -u)" -eq 0 ] || { echo "suite.sh: needs root" >&2; exit 2; }
	LOGS=${VM_LOGDIR:-$(mktemp -d /tmp/cfvm-logs.XXXXXX)}
	mkdir -p "$LOGS" || exit 1
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	mods_autoload || exit 1
	echo "== kernel $(uname -r)${CAMFENCE_NO_TCX:+ (CAMFENCE_NO_TCX=$CAMFENCE_NO_TCX)}, logs in $LOGS"
	if [ $dp -eq 1 ]; then
		run_cmocka test_datapath
		run_cmocka test_frames
	fi
	[ $diff -eq 1 ] && run_cmocka test_differential
	[ $ns -eq 1 ] && run_ns
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}

main "$@"
