#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# mkinitramfs.sh - the small initramfs that mounts the host's root in a VM.
#
# Usage: vmtests/mkinitramfs.sh KERNEL_TREE OUTPUT.cpio.gz
#
# KERNEL_TREE is what kernel.sh unpacked (boot/, lib/modules/<release>/,
# indexed by depmod -b).  The image holds busybox-static, vmtests/init and
# the modules the kernel needs before it can mount a 9p root over virtio
# (Debian builds 9p, virtio and overlayfs as modules), decompressed, since
# busybox's insmod reads plain .ko files only.  The rest of the modules
# are loaded on demand from KERNEL_TREE once the root is mounted.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
BUSYBOX=${BUSYBOX:-/bin/busybox}
# virtio_rng: early getrandom() must not wait for entropy under TCG
MODULES="virtio_pci 9pnet_virtio 9p overlay virtio_rng"

die() { echo "mkinitramfs.sh: $*" >&2; exit 1; }

# Add the module files "modprobe --show-depends" names, in load order.
add_modules() {
	local tree=$1 kver=$2 dst=$3 m line path n=0 name
	: >"$dst/order"
	for m in $MODULES; do
		modprobe -d "$tree" -S "$kver" --show-depends "$m" >"$dst/deps" ||
			die "$kver: no module $m"
		while read -r line; do
			case $line in insmod\ *) ;; *) continue ;; esac
			path=${line#insmod }
			path=${path%% *}
			name=${path##*/}
			name=${name%.xz}
			name=${name%.zst}
			grep -qxF "$name" "$dst/order" && continue
			case $path in
			*.xz) xz -dc "$path" >"$dst/$name" ;;
			*.zst) zstd -qdc "$path" >"$dst/$name" ;;
			*) cp "$path" "$dst/$name" ;;
			esac || die "cannot copy $path"
			echo "$name" >>"$dst/order"
			n=$((n + 1))
		done <"$dst/deps"
	done
	rm -f "$dst/deps"
	[ "$n" -gt 0 ] || echo "mkinitramfs.sh: $kver: all built in" >&2
}

main() {
	local tree=${1:-} out=${2:-} kver d
	[ -n "$tree" ] && [ -n "$out" ] ||
		die "usage: mkinitramfs.sh KERNEL_TREE OUTPUT.cpio.gz"
	for d in "$tree"/lib/modules/*/; do kver=${d%/}; kver=${kver##*/}; done
	[ -n "${kver:-}" ] && [ -f "$tree/lib/modules/$kver/modules.dep" ] ||
		die "$tree: no indexed lib/modules/<release> (kernel.sh makes one)"
	ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' ||
		die "$BUSYBOX is not a static busybox (apt-get install busybox-static)"

	tmp=$(mktemp -d) || exit 1
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp"/{bin,dev,proc,sys,newroot,lib/cfvm} || exit 1
	cp "$BUSYBOX" "$tmp/bin/busybox" || exit 1
	cp "$HERE/init" "$tmp/init" && chmod 0755 "$tmp/init" || exit 1
	add_modules "$tree" "$kver" "$tmp/lib/cfvm"
	mkdir -p "$(dirname "$out")" || exit 1
	(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$out.tmp" && mv "$out.tmp" "$out" || die "cannot write $out"
}

main "$@"
