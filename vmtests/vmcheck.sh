#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmcheck.sh - camfence's kernel-dependent suites (vmtests/suite.sh) over a
# matrix of kernels, one VM boot per kernel.
#
# Usage: vmtests/vmcheck.sh [--diff] [--no-tcx] [--slow] KERNEL...
#
#   KERNEL   6.1, 6.12, a linux-image-... package (kernel.sh fetches it),
#            or "host": the suite directly on the running kernel
#   --diff   add the differential test (slow under TCG)
#   --no-tcx run camfence with CAMFENCE_NO_TCX=1 (the clsact fallback)
#   --slow   keep the namespace fault tests, skipped by default under TCG
#
# The runner is vmtests/vm-run.sh, or vng (virtme-ng) when it is on PATH;
# VM_RUNNER=builtin|vng forces one.  VM_JOBS VMs run at once (default:
# one per host CPU), each with VM_CPUS CPUs (default: an equal share);
# VM_TIMEOUT bounds each (default 2400 s).  Per kernel: its results and
# time; at the end one line "N passed, N failed, N skipped" over all
# kernels.  A kernel that does not boot, or leaves no result, counts as
# one failure, and its console's tail is printed.  Work files are under
# $O/vm/.

set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
export O
VMDIR=$PWD/$O/vm
SUMMARY_RE='^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'

tot_p=0 tot_f=0 tot_s=0
rows=()

runner() {
	case ${VM_RUNNER:-auto} in
	builtin | vng) echo "$VM_RUNNER" ;;
	auto) command -v vng >/dev/null 2>&1 && echo vng || echo builtin ;;
	*) echo "vmcheck.sh: VM_RUNNER=$VM_RUNNER: builtin, vng or auto" >&2
	   exit 2 ;;
	esac
}

tree_kver() {
	local d
	for d in "$1"/lib/modules/*/; do d=${d%/}; echo "${d##*/}"; done | head -1
}

# What the guest's suite.sh needs from our environment.
PASS_VARS="O VM_LOGDIR CAMFENCE_NO_TCX SUITE_TIMEOUT CFVM_ACCEL VM_SLOW NS_TESTS
CAMFENCE SUITE_BIN"

# vng boots the image with its own initramfs and plumbing; suite.sh then
# points module autoload at the unpacked tree (VM_MODS).
run_vng() {
	local tree=$1 kver=$2 share=$3 cmd v
	# shellcheck disable=SC2034 # read through ${!v} below
	local VM_LOGDIR=$share/logs VM_MODS=$tree
	cmd="cd $(printf %q "$PWD") &&"
	for v in $PASS_VARS VM_MODS; do
		[ -n "${!v+x}" ] && cmd="$cmd $v=$(printf %q "${!v}")"
	done
	cmd="$cmd vmtests/suite.sh $SUITE_ARGS"
	# shellcheck disable=SC2046
	timeout -k 10 "${VM_TIMEOUT:-2400}" vng --run "$tree/boot/vmlinuz-$kver" \
		--user root --cpus "${VM_CPUS:-$(nproc)}" --memory "${VM_MEM:-2G}" \
		$([ "$CFVM_ACCEL" = tcg ] && echo --disable-kvm) \
		--rwdir "$share" --exec "$cmd" </dev/null
}

accel() {
	case ${VM_ACCEL:-auto} in kvm | tcg) echo "$VM_ACCEL"; return ;; esac
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
	   grep -qwE 'vmx|svm' /proc/cpuinfo; then echo kvm; else echo tcg; fi
}

run_builtin() {
	local tree=$1 kver=$2 work=$3 v pass=()
	for v in $PASS_VARS; do pass+=(-e "$v"); done
	VM_LOGDIR=$work/share/logs vmtests/vm-run.sh -k "$tree" -o "$work" \
		"${pass[@]}" -- vmtests/suite.sh $SUITE_ARGS
}

# add_result NAME HOW SECONDS RC LOG: fold one kernel's output into the
# totals.  No summary line means it never got to the end: one failure.
add_result() {
	local name=$1 how=$2 secs=$3 rc=$4 log=$5 line p=0 f=0 s=0 note=
	line=$(grep -E "$SUMMARY_RE" "$log" | tail -1)
	if [ -n "$line" ]; then
		# shellcheck disable=SC2046 # the three counts, split
		set -- $(echo "$line" | tr -dc '0-9 ')
		p=$1 f=$2 s=$3
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1 note=" (exit $rc)"
		fi
	else
		f=1 note=" (no result: exit $rc)"
		# 255: vm-run.sh has shown the console's tail already
		if [ "$rc" -ne 255 ] && [ -s "$log" ]; then
			echo "vmcheck.sh: $name printed no summary; its last lines:"
			tail -n 20 "$log" | sed 's/^/    | /'
		fi
	fi
	tot_p=$((tot_p + p)) tot_f=$((tot_f + f)) tot_s=$((tot_s + s))
	rows+=("$(printf '%-26s %-12s %4ss  %s passed, %s failed, %s skipped%s' \
		"$name" "$how" "$secs" "$p" "$f" "$s" "$note")")
}

# snapshot: the binaries the suites run, copied as built: a make in the
# tree while the VMs run (a quarter of an hour) must not change them
# under a suite, nor leave one half written.
snapshot() {
	local snap=$VMDIR/bin f
	rm -rf "$snap" && mkdir -p "$snap/tests" || return 1
	cp -p "$O/camfence" "$snap/" || return 1
	for f in test_datapath test_frames test_differential; do
		[ ! -x "$O/tests/$f" ] || cp -p "$O/tests/$f" "$snap/tests/" ||
			return 1
	done
	export CAMFENCE=$snap/camfence SUITE_BIN=$snap/tests
}

run_host() {
	local work=$VMDIR/host log t0 rc
	mkdir -p "$work" && rm -rf "$work/logs"
	log=$work/output.log
	echo "=== host kernel $(uname -r), directly"
	t0=$(date +%s)
	VM_LOGDIR=$work/logs CFVM_ACCEL=host vmtests/suite.sh $SUITE_ARGS 2>&1 |
		tee "$log"
	rc=${PIPESTATUS[0]}
	add_result "$(uname -r)" host $(($(date +%s) - t0)) "$rc" "$log"
}

# vm_job SPEC TREE: one VM; its output, exit status and time in its
# work directory (output.log, rc, secs).
vm_job() {
	local spec=$1 tree=$2 how kver work t0 rc
	how=$(runner) || exit 2
	kver=$(tree_kver "$tree")
	work=$VMDIR/$kver
	rm -rf "$work/share" "$work/rc" && mkdir -p "$work/share" || exit 1
	echo "=== kernel $spec: $kver ($how/$CFVM_ACCEL, ${VM_CPUS:-$(nproc)} CPUs)"
	t0=$(date +%s)
	if [ "$how" = vng ]; then
		run_vng "$tree" "$kver" "$work/share"
	else
		run_builtin "$tree" "$kver" "$work"
	fi >"$work/output.log" 2>&1 &
	if [ "$JOBS" -eq 1 ]; then
		tail -n +1 --pid=$! -f "$work/output.log"
	fi
	wait $!
	rc=$?
	echo "$rc" >"$work/rc"
	echo $(($(date +%s) - t0)) >"$work/secs"
	echo "$how/$CFVM_ACCEL" >"$work/how"
}

vm_result() {
	local work
	work=$VMDIR/$(tree_kver "$1")
	add_result "${work##*/}" "$(cat "$work/how" 2>/dev/null)" \
		"$(cat "$work/secs" 2>/dev/null || echo 0)" \
		"$(cat "$work/rc" 2>/dev/null || echo 1)" "$work/output.log"
}

# run_vms SPEC...: fetch every kernel first (one apt at a time), then run
# up to JOBS VMs at once; a parallel VM's output is shown when it ends.
run_vms() {
	local spec tree i j n=0 trees=() specs=() running=()
	for spec in "$@"; do
		if tree=$(vmtests/kernel.sh "$spec"); then
			trees+=("$tree")
			specs+=("$spec")
		else
			add_result "$spec" "no kernel" 0 1 /dev/null
		fi
	done
	CFVM_ACCEL=$(accel)
	export CFVM_ACCEL
	for i in "${!trees[@]}"; do
		if [ "$JOBS" -eq 1 ]; then
			vm_job "${specs[$i]}" "${trees[$i]}"
			vm_result "${trees[$i]}"
			continue
		fi
		vm_job "${specs[$i]}" "${trees[$i]}" &
		running+=("$i")
		n=$((n + 1))
		[ $n -lt "$JOBS" ] && [ "$i" -lt $((${#trees[@]} - 1)) ] && continue
		wait
		for j in "${running[@]}"; do
			echo "=== kernel ${specs[$j]}: output"
			cat "$VMDIR/$(tree_kver "${trees[$j]}")/output.log"
			vm_result "${trees[$j]}"
		done
		running=()
		n=0
	done
}

main() {
	local k t0 vms=()
	SUITE_ARGS=
	while [ $# -gt 0 ]; do
		case $1 in
		--diff) SUITE_ARGS="$SUITE_ARGS --diff" ;;
		--no-tcx) export CAMFENCE_NO_TCX=1 ;;
		--slow) export VM_SLOW=1 ;;
		-*) echo "usage: vmcheck.sh [--diff] [--no-tcx] [--slow] KERNEL..." >&2
		    exit 2 ;;
		*) break ;;
		esac
		shift
	done
	[ $# -gt 0 ] || set -- 6.1 6.12
	[ "$(id -u)" -eq 0 ] || { echo "vmcheck.sh: needs root" >&2; exit 2; }
	for k in "$@"; do [ "$k" = host ] || vms+=("$k"); done
	# one VM a CPU by default: TCG keeps one busy, and the suites are
	# mostly one process at a time
	JOBS=${VM_JOBS:-$((${#vms[@]} < $(nproc) ? ${#vms[@]} : $(nproc)))}
	[ "$JOBS" = 0 ] && JOBS=1
	case $JOBS in '' | *[!0-9]* | 0) echo "vmcheck.sh: VM_JOBS=$JOBS" >&2; exit 2 ;; esac
	# a suite cut short still reports what ran before the VM is killed
	export VM_TIMEOUT=${VM_TIMEOUT:-2400}
	[ -n "${SUITE_TIMEOUT:-}" ] ||
		export SUITE_TIMEOUT=$((VM_TIMEOUT > 600 ? VM_TIMEOUT - 300 : VM_TIMEOUT / 2))
	# parallel VMs share the host's CPUs
	[ -n "${VM_CPUS:-}" ] || export VM_CPUS=$(( $(nproc) / JOBS > 0 ? $(nproc) / JOBS : 1 ))
	snapshot || { echo "vmcheck.sh: cannot copy the binaries to $VMDIR/bin" >&2; exit 1; }
	t0=$(date +%s)
	# the host first and alone: VMs would skew its timing-sensitive tests
	for k in "$@"; do [ "$k" = host ] && run_host; done
	[ ${#vms[@]} -eq 0 ] || run_vms "${vms[@]}"
	echo "=== vmcheck: $(($(date +%s) - t0))s${CAMFENCE_NO_TCX:+, CAMFENCE_NO_TCX=1}"
	printf '  %s\n' "${rows[@]}"
	echo "$tot_p passed, $tot_f failed, $tot_s skipped"
	[ "$tot_f" -eq 0 ]
}

main "$@"
