#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Fetch the real databases the reader tests use when present:
#   @ip-location-db/geolite2-country-mmdb  geolite2-country.mmdb (flat schema)
#   @ip-location-db/asn                    asn-ipv4.csv, asn-ipv6.csv
# into $CAMFENCE_TESTDATA (default build/testdata).  `npm pack` downloads a
# package's tarball without installing it.  Safe to run again: a package
# already unpacked is not fetched twice.
set -eu

DIR=${CAMFENCE_TESTDATA:-build/testdata}
PKGS="geolite2-country-mmdb:geolite2-country.mmdb asn:asn-ipv4.csv"

die() {
	echo "testdata: $*" >&2
	exit 1
}

command -v npm >/dev/null 2>&1 ||
	die "npm not found (Debian: apt-get install npm, or make deps)"
command -v tar >/dev/null 2>&1 || die "tar not found"
mkdir -p "$DIR" || die "cannot create $DIR"
DIR=$(cd "$DIR" && pwd) # npm pack runs in a temporary directory

# fetch NAME FILE: unpack @ip-location-db/NAME into $DIR/NAME unless FILE
# is already there.
fetch() {
	name=$1
	file=$2
	dest=$DIR/$name
	if [ -s "$dest/$file" ]; then
		echo "testdata: $dest/$file present"
		return 0
	fi
	tmp=$(mktemp -d "$DIR/.fetch.XXXXXX")
	if ! tgz=$(cd "$tmp" && npm pack --loglevel=error "@ip-location-db/$name" \
			2>"$tmp/npm.log" | tail -n 1) || [ -z "$tgz" ]; then
		cat "$tmp/npm.log" >&2
		rm -rf "$tmp"
		die "npm pack @ip-location-db/$name failed (offline?)"
	fi
	mkdir -p "$tmp/x"
	tar xzf "$tmp/$tgz" -C "$tmp/x" || {
		rm -rf "$tmp"
		die "cannot unpack $tgz"
	}
	[ -s "$tmp/x/package/$file" ] || {
		rm -rf "$tmp"
		die "@ip-location-db/$name has no $file"
	}
	rm -rf "$dest"
	mv "$tmp/x/package" "$dest"
	rm -rf "$tmp"
	echo "testdata: $dest/$file fetched ($tgz)"
}

for p in $PKGS; do
	fetch "${p%%:*}" "${p#*:}"
done
