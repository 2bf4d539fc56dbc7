#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh - the build itself: what it asks of the machine and when, the
# user's flags, and the dependencies it tracks.  Each test works on a copy
# of the tracked files in a scratch directory, so the checkout and its
# build/ are never touched.
#
# Usage: tests/build/run.sh [TEST...]   (TEST names without t_)
# Prints PASS/FAIL/SKIP a test and "N passed, N failed, N skipped".

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TESTS="no_probe_at_parse missing_package_named fuzzer_probe user_cflags
header_deps bpf_arch"

n_pass=0 n_fail=0 n_skip=0
T_WHY=

fail() {
	T_WHY="$*"
	return 1
}

skip() {
	T_WHY="$*"
	return 2
}

# The tracked files, as the work tree has them, into $SRC.
copy_tree() {
	SRC=$T_DIR/src
	mkdir -p "$SRC"
	(cd "$ROOT" && git ls-files -z --cached |
		xargs -0 cp --parents -t "$SRC" 2>/dev/null)
	[ -f "$SRC/Makefile" ] || fail "cannot copy the tree into $SRC"
}

# fake_tool NAME [BODY]: a NAME in $T_DIR/bin that logs each call to
# $T_DIR/calls, then runs BODY (default: the real NAME with its args).
fake_tool() {
	local name=$1 real
	real=$(command -v "$name")
	mkdir -p "$T_DIR/bin"
	cat >"$T_DIR/bin/$name" <<EOF
#!/bin/sh
echo "$name \$*" >>"$T_DIR/calls"
${2:-exec "$real" "\$@"}
EOF
	chmod +x "$T_DIR/bin/$name"
}

# ------------------------------------------------------------------ tests

# A fresh machine runs `make deps demo` before anything is installed: make
# must parse the Makefile and run deps without asking pkg-config or a
# compiler anything, or it decides the flags before the packages exist.
t_no_probe_at_parse() {
	local t
	copy_tree || return 1
	for t in pkg-config gcc cc clang; do
		fake_tool "$t" 'exit 1'
	done
	PATH=$T_DIR/bin:$PATH make --no-print-directory -C "$SRC" -n deps >"$T_DIR/out" 2>&1 ||
		{ fail "make -n deps: $(tail -2 "$T_DIR/out")"; return; }
	PATH=$T_DIR/bin:$PATH make --no-print-directory -C "$SRC" help >/dev/null 2>&1 ||
		{ fail "make help failed"; return; }
	[ ! -s "$T_DIR/calls" ] ||
		fail "make asked before deps ran: $(sort -u "$T_DIR/calls" | tr '\n' ';')"
}

# A library missing stops the build at once, naming the Debian package,
# and leaves no config.mk that would hide it next time.
t_missing_package_named() {
	copy_tree || return 1
	fake_tool pkg-config \
		'case "$*" in *libnl-route-3.0*) exit 1 ;; esac; exec /usr/bin/pkg-config "$@"'
	make --no-print-directory -C "$SRC" O=out PKG_CONFIG="$T_DIR/bin/pkg-config" out/policy/addr.o \
		>"$T_DIR/out" 2>&1 && { fail "the build went on without libnl-route-3.0"; return; }
	grep -q 'libnl-route-3-dev' "$T_DIR/out" ||
		{ fail "no Debian package named: $(tail -3 "$T_DIR/out" | tr '\n' ' ')"; return; }
	grep -q 'make deps' "$T_DIR/out" || { fail "no hint to run make deps"; return; }
	[ ! -e "$SRC/out/config.mk" ] || fail "config.mk left behind"
}

# The fuzzers are built where clang's libFuzzer runtime links, and left
# out (not failed) where it does not.  The probe runs when the build
# needs it, so installing the runtime later is seen by the next make.
t_fuzzer_probe() {
	copy_tree || return 1
	fake_tool clang 'case "$*" in *-fsanitize=fuzzer*) exit 1 ;; esac; exec clang "$@"'
	make --no-print-directory -C "$SRC" O=out CLANG="$T_DIR/bin/clang" out/config.mk >"$T_DIR/out" 2>&1 ||
		{ fail "config.mk: $(tail -2 "$T_DIR/out")"; return; }
	grep -qx 'FUZZER := 0' "$SRC/out/config.mk" ||
		{ fail "a clang without the runtime was taken as one with it"; return; }
	make --no-print-directory -C "$SRC" O=out CLANG="$T_DIR/bin/clang" fuzzers >"$T_DIR/out" 2>&1 ||
		{ fail "make fuzzers failed without the runtime: $(tail -2 "$T_DIR/out")"; return; }
	grep -q 'SKIP' "$T_DIR/out" && [ ! -e "$SRC/out/fuzz" ] ||
		{ fail "fuzzers not left out without the runtime: $(tail -2 "$T_DIR/out")"; return; }
	make --no-print-directory -C "$SRC" O=out out/config.mk >"$T_DIR/out" 2>&1 ||
		{ fail "config.mk: $(tail -2 "$T_DIR/out")"; return; }
	if clang -print-file-name="libclang_rt.fuzzer-$(uname -m).a" | grep -q /; then
		grep -qx 'FUZZER := 1' "$SRC/out/config.mk" ||
			fail "the runtime is installed, but config.mk was not updated"
	fi
}

# make CFLAGS=... replaces the optimisation and debug flags only: the
# project's -std, -D_GNU_SOURCE, -I and warnings stay.
t_user_cflags() {
	copy_tree || return 1
	make --no-print-directory -C "$SRC" O=out CFLAGS=-O0 V=1 out/policy/parse.o out/policy/db_libloc.o \
		out/loader/main.o >"$T_DIR/out" 2>&1 ||
		{ fail "make CFLAGS=-O0: $(grep -m1 -i error "$T_DIR/out")"; return; }
	grep -E ' -c loader/main\.c' "$T_DIR/out" >"$T_DIR/line"
	for f in -std=gnu11 -D_GNU_SOURCE -Ipolicy -Werror -O0; do
		grep -q -- " $f" "$T_DIR/line" || { fail "$f missing: $(cat "$T_DIR/line")"; return; }
	done
	! grep -q -- ' -O2' "$T_DIR/line" || fail "-O2 kept beside CFLAGS=-O0"
}

# Objects depend on the headers they include, no more: touching a header
# rebuilds what includes it and nothing else.
t_header_deps() {
	copy_tree || return 1
	make --no-print-directory -C "$SRC" O=out out/policy/sha256.o out/policy/parse.o \
		out/bpf/camfence.bpf.o >"$T_DIR/out" 2>&1 ||
		{ fail "build: $(tail -2 "$T_DIR/out")"; return; }
	grep -q 'policy.h' "$SRC/out/policy/parse.d" 2>/dev/null ||
		{ fail "no dependency file names parse.c's headers"; return; }
	sleep 1
	touch "$SRC/policy/policy.h" "$SRC/bpf/learn.h"
	make --no-print-directory -C "$SRC" O=out out/policy/sha256.o out/policy/parse.o \
		out/bpf/camfence.bpf.o >"$T_DIR/out" 2>&1 ||
		{ fail "rebuild: $(tail -2 "$T_DIR/out")"; return; }
	# the build lines only: make also says "'X' is up to date"
	grep -Eq '^  CC +out/policy/sha256\.o$' "$T_DIR/out" &&
		{ fail "sha256.o rebuilt for a header it does not include"; return; }
	grep -Eq '^  CC +out/policy/parse\.o$' "$T_DIR/out" ||
		{ fail "parse.o not rebuilt after policy.h changed"; return; }
	grep -Eq '^  BPF +out/bpf/camfence\.bpf\.o$' "$T_DIR/out" ||
		{ fail "camfence.bpf.o not rebuilt after bpf/learn.h changed"; return; }
	return 0
}

# The BPF target architecture follows the machine's (or ARCH=).
t_bpf_arch() {
	local a want
	copy_tree || return 1
	for a in x86_64:x86 aarch64:arm64 riscv64:riscv; do
		want=${a#*:}
		make --no-print-directory -C "$SRC" O=out ARCH="${a%%:*}" -n -B out/bpf/camfence.bpf.o \
			2>/dev/null | grep -q -- "-D__TARGET_ARCH_$want " ||
			{ fail "ARCH=${a%%:*} does not build for $want"; return; }
	done
}

# ------------------------------------------------------------------- main

main() {
	local t rc
	[ $# -gt 0 ] && TESTS="$*"
	command -v git >/dev/null || {
		echo "SKIP build: git not found"
		echo "0 passed, 0 failed, 1 skipped"
		exit 0
	}
	for t in $TESTS; do
		T_WHY=
		T_DIR=$(mktemp -d /tmp/cf-build.XXXXXX)
		"t_$t"
		rc=$?
		rm -rf "$T_DIR"
		case $rc in
		0) n_pass=$((n_pass + 1)); echo "PASS $t" ;;
		2) n_skip=$((n_skip + 1)); echo "SKIP $t: $T_WHY" ;;
		*) n_fail=$((n_fail + 1)); echo "FAIL $t: ${T_WHY:-returned $rc}" ;;
		esac
	done
	echo "$n_pass passed, $n_fail failed, $n_skip skipped"
	[ $n_fail -eq 0 ]
}

main "$@"
