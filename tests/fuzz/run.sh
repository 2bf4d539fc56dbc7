#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/fuzz/run.sh - run the libFuzzer harnesses (build/fuzz/fuzz_*).
#
# Builds nothing: `make tests` (or `make fuzz`) builds the harnesses.  For
# each harness NAME (tests/fuzz/fuzz_NAME.c):
#  1. replay every input in tests/fuzz/regressions/NAME/ (bugs found once
#     stay fixed); one PASS/FAIL line for the lot;
#  2. fuzz for $FUZZ_SECONDS (default 20; 0 only runs the corpora once),
#     starting from the repo's seeds (tests/fuzz/corpus/NAME/, read only)
#     and the scratch corpus $O/fuzz/corpus-NAME/, where new finds go.
#     Crashes are saved under $O/fuzz/artifacts/NAME/; replay one with
#     `$O/fuzz/fuzz_NAME FILE` (see tests/fuzz/README.md).
# The last line counts them: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${O:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
CLANG=${CLANG:-clang}
# A UBSan report must stop the fuzzer even if the build left it recoverable.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"

passed=0 failed=0 skipped=0
logs=$O/fuzz/logs

harnesses() {
	local src
	for src in tests/fuzz/fuzz_*.c; do
		[ -e "$src" ] && basename "$src" .c | sed 's/^fuzz_//'
	done
}

pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

# libFuzzer options a harness needs beyond the defaults.
extra_opts() {
	case $1 in
	csv) echo "-max_len=8192" ;; # past the reader's 4 KiB binary sniff
	compile) echo "-max_len=4096 -dict=tests/fuzz/policy.dict" ;;
	*) echo "-max_len=4096" ;;
	esac
}

replay() {
	local name=$1 bin=$2 dir=tests/fuzz/regressions/$1 log files
	files=$(find "$dir" -type f 2>/dev/null | sort)
	[ -n "$files" ] || return 0
	log=$logs/$name-regressions.log
	# shellcheck disable=SC2086 # one argument per file; names have no blanks
	if "$bin" $files >"$log" 2>&1; then
		pass "$name regressions: $(echo "$files" | wc -l) inputs replayed"
	else
		fail "$name regressions: see $log"
		grep -E '^(fuzz invariant|==[0-9]+==ERROR|SUMMARY|Running:)' \
			"$log" | tail -4 | sed 's/^/  /'
	fi
}

# "123456 runs, 9000 exec/s, cov 1090, ft 5058, corpus 269" from a log.
stats() {
	local log=$1 runs eps last cov ft corp
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	echo "${runs:-?} runs, ${eps:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
}

fuzz() {
	local name=$1 bin=$2 log=$logs/$1.log rc art=$O/fuzz/artifacts/$1/
	local scratch=$O/fuzz/corpus-$1 seeds=()
	local opts=(-print_final_stats=1 -timeout=10 -artifact_prefix="$art")
	mkdir -p "$scratch" "$art"
	[ -d "tests/fuzz/corpus/$name" ] && seeds=("tests/fuzz/corpus/$name")
	[ -f "tests/fuzz/$name.dict" ] && opts+=(-dict="tests/fuzz/$name.dict")
	# shellcheck disable=SC2207 # the options are single words
	opts+=($(extra_opts "$name"))
	if [ "$FUZZ_SECONDS" -gt 0 ]; then
		opts+=(-max_total_time="$FUZZ_SECONDS")
	else
		opts+=(-runs=0) # only run the corpora
	fi
	# The outer timeout is a backstop for a wedged fuzzer, not the limit.
	timeout -k 10 $((FUZZ_SECONDS + 120)) \
		"$bin" "${opts[@]}" "$scratch" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "$name: $(stats "$log")"
		return
	fi
	fail "$name (exit $rc): $(stats "$log"); log $log"
	grep -E '^(fuzz invariant|==[0-9]+==ERROR|SUMMARY|.*Test unit written)' \
		"$log" | tail -4 | sed 's/^/  /'
}

main() {
	local names name bin rt n
	names=$(harnesses)
	n=$(echo "$names" | grep -c .)
	rt=$("$CLANG" -print-file-name="libclang_rt.fuzzer-$(uname -m).a" 2>/dev/null)
	if [ ! -f "$rt" ]; then
		echo "SKIP fuzz: clang's libFuzzer runtime is not installed" \
			"(libclang-rt-14-dev; make deps)"
		echo "0 passed, 0 failed, $n skipped"
		exit 0
	fi
	mkdir -p "$logs"
	for name in $names; do
		bin=$O/fuzz/fuzz_$name
		if [ ! -x "$bin" ]; then
			fail "$name: $bin not built (make tests)"
			continue
		fi
		replay "$name" "$bin"
		fuzz "$name" "$bin"
	done
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}

main
