#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernel.sh - find, fetch and unpack a Debian kernel for the VM tests.
#
# Usage: vmtests/kernel.sh SPEC
#
# SPEC is a version ("6.1", "6.12": the newest linux-image-6.1.0-N-amd64 or
# linux-image-6.12.N+deb12-amd64 apt knows) or a package name
# (linux-image-6.1.0-56-amd64).  Only the generic amd64 flavour matches a
# version: the cloud flavour of 6.1 lacks 9p, which the VM's root needs.
#
# The package is fetched with `apt-get download`, unpacked with `dpkg -x`
# into $VM_CACHE/<package>_<version>/ and indexed with `depmod -b`; the
# directory is printed on stdout.  A cached kernel is reused; when apt
# cannot be asked (no package lists, no network) the newest cached kernel
# that matches SPEC is used.

set -u

VM_CACHE=${VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/camfence-vm}

say() { echo "kernel.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# The package-name pattern (an ERE) a SPEC stands for.
spec_pattern() {
	local v
	case $1 in
	linux-image-*)
		printf '^%s$' "$(printf %s "$1" | sed 's/[.+]/\\&/g')" ;;
	[0-9]*.[0-9]*)
		case $1 in *[!0-9.]*) return 1 ;; esac
		v=$(printf %s "$1" | sed 's/\./\\./g')
		# 6.1 is named 6.1.0-ABI-amd64, 6.12 is 6.12.N+debN-amd64
		printf '^linux-image-%s(\\.0-[0-9]+|\\.[0-9]+\\+deb[0-9]+)-amd64$' "$v" ;;
	*)
		return 1 ;;
	esac
}

# The newest package apt knows that matches pattern $1, or nothing.
apt_newest() {
	apt-cache search --names-only "$1" 2>/dev/null |
		awk '{ print $1 }' | grep -E "$1" | sort -V | tail -1
}

# The newest cached kernel whose package matches pattern $1.
cache_newest() {
	local d
	for d in "$VM_CACHE"/linux-image-*_*/; do
		[ -d "$d" ] || continue
		d=${d%/}
		d=${d##*/}
		printf '%s\n' "${d%%_*}" | grep -qE "$1" && echo "$d"
	done | sort -V | tail -1
}

# The one kernel release an unpacked tree holds.
tree_kver() {
	local d n=0 kver=
	for d in "$1"/lib/modules/*/; do
		[ -d "$d" ] || continue
		d=${d%/}
		kver=${d##*/}
		n=$((n + 1))
	done
	[ "$n" -eq 1 ] && echo "$kver"
}

# The tree must boot the way vm-run.sh boots it: 9p over virtio.
check_tree() {
	local dir=$1 kver=$2 cfg=$1/boot/config-$2
	[ -f "$dir/boot/vmlinuz-$kver" ] || die "$dir: no boot/vmlinuz-$kver"
	[ -f "$cfg" ] || die "$dir: no boot/config-$kver"
	grep -qE '^CONFIG_NET_9P_VIRTIO=(y|m)$' "$cfg" &&
		grep -qE '^CONFIG_9P_FS=(y|m)$' "$cfg" ||
		die "$kver lacks 9p over virtio (a cloud flavour?): cannot share the root"
}

# fetch PKG: download, unpack, index; prints the cache entry's name.
fetch() {
	local pkg=$1 ver name tmp kver
	ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null |
		sed -n 's/^Version: //p' | head -1)
	[ -n "$ver" ] || die "apt knows no version of $pkg"
	name=${pkg}_$ver
	if [ -d "$VM_CACHE/$name" ]; then
		echo "$name"
		return 0
	fi
	tmp=$(mktemp -d "$VM_CACHE/.fetch.XXXXXX") || exit 1
	say "fetching $pkg $ver into $VM_CACHE"
	( cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root \
		"$pkg=$ver" ) >&2 || { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
	dpkg -x "$tmp"/*.deb "$tmp/root" || { rm -rf "$tmp"; die "dpkg -x failed"; }
	rm -f "$tmp"/*.deb
	# merged-/usr packages put the modules under usr/lib; modprobe -d wants lib
	[ -d "$tmp/root/lib/modules" ] || [ ! -d "$tmp/root/usr/lib/modules" ] ||
		ln -s usr/lib "$tmp/root/lib"
	kver=$(tree_kver "$tmp/root") || { rm -rf "$tmp"; die "$pkg: no single lib/modules/<release>"; }
	depmod -b "$tmp/root" "$kver" || { rm -rf "$tmp"; die "depmod -b failed"; }
	( check_tree "$tmp/root" "$kver" ) || { rm -rf "$tmp"; exit 1; }
	mv "$tmp/root" "$VM_CACHE/$name" && rm -rf "$tmp" || exit 1
	echo "$name"
}

# Older cached kernels of the same pattern only take disk space.
prune() {
	local keep=$1 pat=$2 d n
	for d in "$VM_CACHE"/linux-image-*_*/; do
		[ -d "$d" ] || continue
		d=${d%/}
		n=${d##*/}
		[ "$n" = "$keep" ] && continue
		printf '%s\n' "${n%%_*}" | grep -qE "$pat" || continue
		say "removing the older $n"
		rm -rf "$d"
	done
}

main() {
	local spec=${1:-} pat pkg name
	[ -n "$spec" ] || die "usage: kernel.sh SPEC (6.1, 6.12, linux-image-...)"
	pat=$(spec_pattern "$spec") ||
		die "'$spec' is neither a version (6.1) nor a linux-image- package"
	mkdir -p "$VM_CACHE" || exit 1
	exec 9>"$VM_CACHE/.lock"
	flock 9 || die "cannot lock $VM_CACHE"
	pkg=$(apt_newest "$pat")
	# no linux-image at all: the package lists were never fetched
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ] &&
	   [ -z "$(apt_newest '^linux-image-')" ]; then
		say "apt has no package lists; apt-get update"
		apt-get update -qq >&2 && pkg=$(apt_newest "$pat")
	fi
	if [ -n "$pkg" ]; then
		name=$(fetch "$pkg") || exit 1
		prune "$name" "$pat"
	else
		name=$(cache_newest "$pat")
		[ -n "$name" ] ||
			die "no Debian package matches '$spec' and none is cached in $VM_CACHE"
		say "apt knows no $spec kernel; using the cached $name"
	fi
	echo "$VM_CACHE/$name"
}

main "$@"
