#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install every Debian 12 package camfence's build, run, tests and demo need.
# Safe to run again: apt-get skips what is already there.
set -e

PKGS="
	make gcc clang llvm pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
	libnl-3-dev libnl-route-3-dev
	libloc-dev libloc-database location
	libmaxminddb-dev
	libcmocka-dev libclang-rt-14-dev
	iproute2 iputils-ping netcat-openbsd util-linux procps
	nftables ipset iptables ethtool gnuplot-nox
	qemu-system-x86 busybox-static kmod cpio xz-utils
	python3 man-db groff-base strace openssl systemd
"

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: run as root (apt-get install)" >&2
	exit 1
fi

missing=$(dpkg-query -W -f='${Package} ${Status}\n' $PKGS 2>/dev/null |
	awk '$NF != "installed" { print $1 }')
# dpkg-query prints nothing for packages it has never heard of.
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
# npm fetches the real MaxMind-format and ASN test data (scripts/testdata.sh).
# NodeSource's nodejs ships its own npm and conflicts with Debian's package.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')

if [ -n "${missing% }" ]; then
	echo "deps: installing $missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "deps: all packages present"
