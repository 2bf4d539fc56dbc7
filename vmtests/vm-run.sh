#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vm-run.sh - run one command inside a VM booting another kernel, the way
# virtme/virtme-ng do: the host's / is the guest's root (9p, read-only),
# the command runs as root in the current directory, and its exit status
# is ours.
#
# Usage: vmtests/vm-run.sh -k KERNEL_TREE [-o DIR] [-t SECONDS] [-m MEM]
#                          [-c CPUS] [-e VAR]... -- COMMAND [ARG]...
#
#   -k  a kernel tree from kernel.sh (boot/vmlinuz-<release>, modules)
#   -o  work directory: initramfs, console.log, the result share
#       (default build/vm/<release>)
#   -t  seconds before qemu is killed (default $VM_TIMEOUT or 2400)
#   -m  guest memory (default $VM_MEM or 2G); -c guest CPUs (default nproc)
#   -e  pass the host's VAR into the guest (repeatable)
#
# The guest's console (kernel messages at warning level and above, and the
# command's output) is shown live and kept in DIR/console.log.  When the
# guest leaves no exit status (it did not boot, crashed or timed out) we
# print the console's tail and exit 255.  VM_ACCEL=kvm|tcg overrides the
# accelerator: KVM when /dev/kvm is usable and the CPU has VMX/SVM, TCG
# otherwise.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
QEMU=${QEMU:-qemu-system-x86_64}

die() { echo "vm-run.sh: $*" >&2; exit 2; }

usage() {
	sed -n 's/^# \{0,1\}//; /^Usage/,/^$/p' "$0" >&2
	exit 2
}

# /dev/kvm alone is not enough: nested setups expose one that cannot run
# a normal guest (KVM internal error at the first instruction).
pick_accel() {
	case ${VM_ACCEL:-auto} in
	kvm | tcg) echo "$VM_ACCEL"; return ;;
	auto) ;;
	*) die "VM_ACCEL=$VM_ACCEL: expected kvm, tcg or auto" ;;
	esac
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
	   grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo kvm
	else
		echo tcg
	fi
}

tree_kver() {
	local d kver=
	for d in "$1"/lib/modules/*/; do
		[ -d "$d" ] || continue
		[ -n "$kver" ] && return 1
		kver=${d%/}
		kver=${kver##*/}
	done
	[ -n "$kver" ] && echo "$kver"
}

# The initramfs depends on the kernel tree and on our init scripts; its
# .tree file names the tree it holds modules of, for a work directory
# (-o) used with another kernel since.
initramfs() {
	local tree=$1 img=$2 f
	if [ -f "$img" ] && [ "$(cat "$img.tree" 2>/dev/null)" = "$tree" ]; then
		for f in "$HERE/init" "$HERE/mkinitramfs.sh" \
			 "$tree/lib/modules/$KVER/modules.dep"; do
			[ "$f" -nt "$img" ] && break
		done
		[ "$f" -nt "$img" ] || return 0
	fi
	rm -f "$img.tree"
	"$HERE/mkinitramfs.sh" "$tree" "$img" && echo "$tree" >"$img.tree"
}

# The guest reads the command from the share; quote every word.
write_cmd() {
	local share=$1 v
	shift
	{
		echo "cd $(printf %q "$PWD") || exit 125"
		for v in $PASS_ENV; do
			[ -n "${!v+x}" ] && echo "export $v=$(printf %q "${!v}")"
		done
		printf 'exec'
		printf ' %q' "$@"
		echo
	} >"$share/cmd"
}

# Paths go on the kernel command line: no blanks or odd characters.
check_path() {
	case $1 in
	/*) ;;
	*) die "$1: not an absolute path" ;;
	esac
	case $1 in
	*[!A-Za-z0-9/._+~=-]*) die "$1: the VM needs a path without blanks or shell characters" ;;
	esac
}

run_qemu() {
	local tree=$1 share=$2 log=$3 accel=$4 cpu msize=${VM_MSIZE:-262144}
	[ "$accel" = kvm ] && cpu=host || cpu=max
	cpu=${VM_CPU:-$cpu}
	[ "$accel" = tcg ] && accel=tcg,thread=multi
	timeout -k 10 "$TIMEOUT" "$QEMU" -nodefaults -no-user-config \
		-machine pc -accel "$accel" -cpu "$cpu" -smp "$CPUS" -m "$MEM" \
		-display none -vga none -serial stdio -no-reboot -nic none \
		-kernel "$tree/boot/vmlinuz-$KVER" -initrd "$WORK/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init cfvm.out=$share cfvm.mods=$tree cfvm.init=$HERE/guest-init cfvm.msize=$msize ${VM_APPEND:-}" \
		-virtfs "local,path=/,mount_tag=cfroot,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$share,mount_tag=cfout,security_model=none,multidevs=remap" \
		-device virtio-rng-pci </dev/null 2>&1 |
		sed -u 's/\r$//' | tee "$log"
	return "${PIPESTATUS[0]}"
}

main() {
	local tree='' opt share log accel qrc rc t0
	WORK='' TIMEOUT=${VM_TIMEOUT:-2400} MEM=${VM_MEM:-2G} CPUS=${VM_CPUS:-$(nproc)}
	PASS_ENV=
	while getopts k:o:t:m:c:e:h opt; do
		case $opt in
		k) tree=$OPTARG ;;
		o) WORK=$OPTARG ;;
		t) TIMEOUT=$OPTARG ;;
		m) MEM=$OPTARG ;;
		c) CPUS=$OPTARG ;;
		e) PASS_ENV="$PASS_ENV $OPTARG" ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ -n "$tree" ] && [ $# -gt 0 ] || usage
	command -v "$QEMU" >/dev/null || die "$QEMU not found (make deps)"
	tree=$(cd "$tree" 2>/dev/null && pwd) || die "$tree: no such directory"
	KVER=$(tree_kver "$tree") || die "$tree: not one kernel release under lib/modules"
	[ -f "$tree/boot/vmlinuz-$KVER" ] || die "$tree: no boot/vmlinuz-$KVER"
	WORK=${WORK:-build/vm/$KVER}
	mkdir -p "$WORK" && WORK=$(cd "$WORK" && pwd) || exit 2
	share=$WORK/share
	log=$WORK/console.log
	for opt in "$tree" "$share" "$HERE"; do check_path "$opt"; done

	initramfs "$tree" "$WORK/initramfs.cpio.gz" || die "no initramfs"
	rm -rf "$share" && mkdir -p "$share" || exit 2
	write_cmd "$share" "$@"
	accel=$(pick_accel)
	echo "vm-run.sh: booting $KVER ($accel, $CPUS CPUs, $MEM)" >&2
	t0=$(date +%s)
	run_qemu "$tree" "$share" "$log" "$accel"
	qrc=$?
	if [ ! -f "$share/status" ]; then
		echo "vm-run.sh: $KVER left no exit status after $(($(date +%s) - t0))s" \
			"(qemu exit $qrc$([ $qrc -eq 124 ] && echo ": timed out after ${TIMEOUT}s"));" \
			"the console's last lines:" >&2
		tail -n 40 "$log" | sed 's/^/    | /' >&2
		exit 255
	fi
	rc=$(cat "$share/status")
	echo "vm-run.sh: $KVER: exit $rc after $(($(date +%s) - t0))s" >&2
	exit "$rc"
}

main "$@"
