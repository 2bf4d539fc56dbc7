#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/run.sh - the whole default suite: unit tests (cmocka, ASan+UBSan),
# datapath tests (BPF_PROG_TEST_RUN), namespace integration tests,
# packaging, the build, the bench smoke, fuzzing, and last the datapath and
# namespace suites again on other kernels in VMs (vmtests/; VMCHECK=0
# leaves them out, KERNELS chooses them).
# Each layer reports its own counts; the last line sums them in the form
# CI runners read: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
O=${O:-build}
export CAMFENCE_TESTDATA=${CAMFENCE_TESTDATA:-$PWD/$O/testdata}
# check_printf=0: libloc's signature check formats every byte it hashes,
# and ASan's printf checks double what is already seconds.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:check_printf=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0 skipped=0
log_dir=$O/test-logs
mkdir -p "$log_dir"

# Add the counts a cmocka binary printed; a crash without a summary fails.
count_cmocka() {
	local log=$1 rc=$2 p f s
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	if [ -z "$p" ] && [ -z "$f" ]; then
		echo "  no summary (exit $rc): counted as one failure"
		f=1
	elif [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		echo "  exit $rc after the summary (sanitizer?): one failure"
		f=1
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
}

# Add the "N passed, N failed[, N skipped]" line a shell suite printed.
count_summary() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	if [ -z "$line" ]; then
		echo "  no summary from the $2 suite: one failure"
		failed=$((failed + 1))
		return
	fi
	set -- $(echo "$line" | tr -dc '0-9 ')
	passed=$((passed + $1)) failed=$((failed + $2))
	skipped=$((skipped + ${3:-0}))
}

run_cmocka() {
	local bin=$1 name log rc start
	name=$(basename "$bin")
	log=$log_dir/$name.log
	start=$(date +%s)
	"$bin" >"$log" 2>&1
	rc=$?
	grep -E '^\[ *(OK|FAILED|SKIPPED|ERROR|PASSED) *\]|^\[ *RUN|SKIP|error|ERROR|Summary' "$log" |
		grep -v '^\[ RUN' | sed 's/^/  /'
	count_cmocka "$log" "$rc"
	echo "== $name: $(( $(date +%s) - start ))s"
}

is_root() { [ "$(id -u)" -eq 0 ]; }

echo "== unit tests (policy/, ASan+UBSan)"
for t in tests/unit/test_*.c; do
	run_cmocka "$O/tests/$(basename "$t" .c)"
done

# run_root_layer TITLE DIR: cmocka binaries that load BPF programs.
run_root_layer() {
	local t
	echo "== $1"
	for t in "$2"/test_*.c; do
		[ -e "$t" ] || continue
		if is_root; then
			run_cmocka "$O/tests/$(basename "$t" .c)"
		else
			echo "SKIP $(basename "$t" .c): needs root to load BPF programs"
			skipped=$((skipped + 1))
		fi
	done
}

run_root_layer "datapath tests (BPF_PROG_TEST_RUN)" tests/bpf
run_root_layer "differential tests (BPF vs reference, real location.db)" tests/diff

echo "== namespace integration tests"
if [ -x tests/ns/run.sh ]; then
	log=$log_dir/ns.log
	start=$(date +%s)
	tests/ns/run.sh 2>&1 | tee "$log" | grep -E '^(PASS|FAIL|SKIP)'
	count_summary "$log" ns
	echo "== ns: $(( $(date +%s) - start ))s"
fi

echo "== packaging (install, man pages, unit, completion)"
if [ -x tests/packaging/run.sh ]; then
	log=$log_dir/packaging.log
	start=$(date +%s)
	O=$O tests/packaging/run.sh 2>&1 | tee "$log" | grep -E '^(PASS|FAIL|SKIP)'
	count_summary "$log" packaging
	echo "== packaging: $(( $(date +%s) - start ))s"
fi

echo "== build (when the machine is probed, user flags, header dependencies)"
if [ -x tests/build/run.sh ]; then
	log=$log_dir/build.log
	start=$(date +%s)
	tests/build/run.sh 2>&1 | tee "$log" | grep -E '^(PASS|FAIL|SKIP)'
	count_summary "$log" build
	echo "== build: $(( $(date +%s) - start ))s"
fi

echo "== bench smoke (every part of make bench, tiny; no timing judged)"
if is_root; then
	start=$(date +%s)
	if O=$O bench/run.sh --smoke >"$log_dir/bench-smoke.log" 2>&1; then
		echo "PASS bench-smoke"
		passed=$((passed + 1))
	else
		echo "FAIL bench-smoke: see $log_dir/bench-smoke.log"
		tail -n 5 "$log_dir/bench-smoke.log" | sed 's/^/  /'
		failed=$((failed + 1))
	fi
	echo "== bench smoke: $(( $(date +%s) - start ))s"
else
	echo "SKIP bench-smoke: needs root"
	skipped=$((skipped + 1))
fi

echo "== fuzzing (libFuzzer, ${FUZZ_SECONDS:-15}s per harness)"
if [ -x tests/fuzz/run.sh ]; then
	log=$log_dir/fuzz.log
	start=$(date +%s)
	FUZZ_SECONDS=${FUZZ_SECONDS:-15} O=$O tests/fuzz/run.sh 2>&1 | tee "$log" |
		grep -E '^(PASS|FAIL|SKIP|  )'
	count_summary "$log" fuzz
	echo "== fuzz: $(( $(date +%s) - start ))s"
fi

# Last: the VMs keep both CPUs busy, which would skew the layers above.
echo "== other kernels (vmtests: ${KERNELS:-6.1 6.12} in VMs)"
if [ "${VMCHECK:-1}" = 0 ]; then
	echo "SKIP vmcheck: VMCHECK=0"
	skipped=$((skipped + 1))
elif ! is_root; then
	echo "SKIP vmcheck: needs root"
	skipped=$((skipped + 1))
else
	log=$log_dir/vmcheck.log
	start=$(date +%s)
	# shellcheck disable=SC2086 # a list of kernels
	O=$O vmtests/vmcheck.sh ${KERNELS:-6.1 6.12} >"$log" 2>&1
	grep -E '^(FAIL|SKIP) |^=== (kernel|vmcheck)|^  [^ ].* passed, ' "$log" |
		grep -v ': output$'
	count_summary "$log" vmcheck
	echo "== vmcheck: $(( $(date +%s) - start ))s (console and suite logs: $O/vm/)"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
