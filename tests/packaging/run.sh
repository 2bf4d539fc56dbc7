#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh - what `make install` ships: the files it installs and removes,
# man pages that render without warnings and document every command and
# option the binary has, a systemd unit that verifies and whose syscall
# filter admits every call camfence makes, and bash completion.
#
# Usage: tests/packaging/run.sh [TEST...]   (TEST names without t_)
# Prints PASS/FAIL/SKIP a test and "N passed, N failed, N skipped".

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
O=${O:-build}
CF=$ROOT/$O/camfence
UNIT=${UNIT:-packaging/camfence.service}
MANS="man/camfence.8 man/camfence.conf.5 man/camfence-policy.5"
TESTS="install_files install_prefix_usr uninstall_clean man_render
man_commands man_conf_directives unit_verify unit_hardening unit_syscalls
completion_commands completion_options completion_values example_policy"

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

# ---------------------------------------------------------------- helpers

# commands: the commands `camfence help` lists, one a line.
commands() {
	"$CF" help | sed -n '/^Commands/,/^$/s/^  \([a-z]\+\) .*/\1/p'
}

# long_opts CMD: the long options `camfence help CMD` shows.
long_opts() {
	"$CF" help "$1" | grep -o -- '--[a-z][a-z-]*' | sort -u
}

# installed DESTDIR PREFIX: make install there; prints nothing.
installed() {
	rm -rf "$1"
	make -s install DESTDIR="$1" PREFIX="$2" >"$T_DIR/make.out" 2>&1 ||
		fail "make install DESTDIR=$1 PREFIX=$2: $(tail -3 "$T_DIR/make.out")"
}

# complete WORDS...: COMPREPLY, one a line, for the command line WORDS
# (the last word is the one completed; "" for a fresh word).
complete_words() {
	bash -c '
		. completion/camfence.bash
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_camfence
		printf "%s\n" "${COMPREPLY[@]}"
	' camfence-test "$@" | sort
}

# has_lines WANT... < OUTPUT: every WANT is one of the lines.
has_lines() {
	local out w
	out=$(cat)
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$out" || { echo "$w"; return 1; }
	done
}

# ------------------------------------------------------------------ install

# Every file, where PREFIX says, with its mode; the unit names the binary.
t_install_files() {
	local d=$T_DIR/local f m
	installed "$d" /usr/local || return 1
	for f in sbin/camfence:755 lib/systemd/system/camfence.service:644 \
		share/man/man8/camfence.8:644 share/man/man5/camfence.conf.5:644 \
		share/man/man5/camfence-policy.5:644 \
		share/bash-completion/completions/camfence:644 \
		share/doc/camfence/examples/camfence.conf:644 \
		share/doc/camfence/examples/policy.conf:644; do
		m=$(stat -c %a "$d/usr/local/${f%:*}" 2>/dev/null) ||
			fail "make install did not install /usr/local/${f%:*}" ||
			return 1
		[ "$m" = "${f#*:}" ] ||
			fail "/usr/local/${f%:*} has mode $m, expected ${f#*:}" ||
			return 1
	done
	cmp -s "$CF" "$d/usr/local/sbin/camfence" ||
		fail "the installed binary is not $CF" || return 1
	grep -qx 'ExecStart=/usr/local/sbin/camfence daemon' \
		"$d/usr/local/lib/systemd/system/camfence.service" ||
		fail "the unit does not run /usr/local/sbin/camfence" || return 1
	[ -z "$(find "$d" -path "$d/usr/local" -prune -o -type f -print)" ] ||
		fail "make install wrote outside PREFIX: $(find "$d" -path "$d/usr/local" -prune -o -type f -print)"
}

# PREFIX=/usr puts the unit where Debian's systemd units live.
t_install_prefix_usr() {
	local d=$T_DIR/usr
	installed "$d" /usr || return 1
	[ -f "$d/lib/systemd/system/camfence.service" ] ||
		fail "PREFIX=/usr: no /lib/systemd/system/camfence.service" ||
		return 1
	grep -qx 'ExecStart=/usr/sbin/camfence daemon' \
		"$d/lib/systemd/system/camfence.service" ||
		fail "PREFIX=/usr: the unit does not run /usr/sbin/camfence" ||
		return 1
	[ -x "$d/usr/sbin/camfence" ] || fail "PREFIX=/usr: no /usr/sbin/camfence"
}

# uninstall takes every file install put there.
t_uninstall_clean() {
	local d=$T_DIR/un left
	installed "$d" /usr/local || return 1
	make -s uninstall DESTDIR="$d" PREFIX=/usr/local >/dev/null 2>&1 ||
		fail "make uninstall failed" || return 1
	left=$(find "$d" -type f)
	[ -z "$left" ] || fail "left after uninstall: $left"
}

# -------------------------------------------------------------------- man

t_man_render() {
	local f w
	command -v man >/dev/null || { skip "man not found (man-db)"; return; }
	command -v groff >/dev/null || { skip "groff not found"; return; }
	for f in $MANS; do
		w=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
		[ -z "$w" ] || fail "$f: man --warnings: $w" || return 1
		w=$(groff -ww -z -man "$f" 2>&1)
		[ -z "$w" ] || fail "$f: groff -ww: $w" || return 1
		MANWIDTH=80 man -l "$f" 2>/dev/null | grep -q '^NAME' ||
			fail "$f renders without a NAME section" || return 1
	done
}

# camfence(8) has a section for every command and names each option the
# binary's help shows, and every exit code.
t_man_commands() {
	local c o n=0
	[ -x "$CF" ] || { skip "$CF not built"; return; }
	for c in $(commands); do
		grep -q "^\.SS \"$c\( \|\"\)" man/camfence.8 ||
			fail "camfence.8 has no section for '$c'" || return 1
		for o in $(long_opts "$c"); do
			grep -qF -- "$(sed 's/-/\\-/g' <<<"$o")" man/camfence.8 ||
				fail "camfence.8 does not document $c $o" ||
				return 1
			n=$((n + 1))
		done
	done
	[ $n -ge 20 ] || fail "only $n options found in camfence help" || return 1
	for c in 0 1 2 3 4; do
		sed -n '/^\.SH "EXIT STATUS"/,/^\.SH/p' man/camfence.8 |
			grep -qx "\.B $c" || fail "camfence.8 lacks exit code $c" ||
			return 1
	done
}

# camfence.conf(5) documents every directive the daemon's parser knows.
t_man_conf_directives() {
	local d n=0
	[ -f loader/conf.c ] || { skip "no loader/conf.c"; return; }
	for d in $(grep -o 'tok_is(d, "[a-z-]*")' loader/conf.c |
		sed 's/.*"\(.*\)")/\1/'); do
		grep -q "^\.BR\? $(sed 's/-/\\\\-/g' <<<"$d") " man/camfence.conf.5 ||
			grep -q "^\.BI $(sed 's/-/\\\\-/g' <<<"$d") " man/camfence.conf.5 ||
			fail "camfence.conf.5 does not document '$d'" || return 1
		grep -q "^#\?$d\b" packaging/camfence.conf ||
			fail "the example camfence.conf does not show '$d'" ||
			return 1
		n=$((n + 1))
	done
	[ $n -ge 5 ] || fail "only $n directives found in loader/conf.c"
}

# ------------------------------------------------------------------- unit

# The installed unit, its binary in the test's tree, through systemd's
# own checker.
t_unit_verify() {
	local d=$T_DIR/unit out
	command -v systemd-analyze >/dev/null ||
		{ skip "systemd-analyze not found"; return; }
	installed "$d" /usr || return 1
	sed "s|^ExecStart=/usr/sbin/camfence|ExecStart=$d/usr/sbin/camfence|" \
		"$d/lib/systemd/system/camfence.service" >"$T_DIR/camfence.service"
	out=$(systemd-analyze verify --man=no "$T_DIR/camfence.service" 2>&1) ||
		fail "systemd-analyze verify: $out" || return 1
	[ -z "$out" ] || fail "systemd-analyze verify: $out" || return 1
	out=$(systemd-analyze security --offline=yes "$T_DIR/camfence.service" 2>&1 |
		sed -n 's/.*Overall exposure level for camfence.service: \([0-9.]*\).*/\1/p')
	[ -n "$out" ] || { skip "systemd-analyze security --offline unsupported"; return; }
	awk -v s="$out" 'BEGIN { exit !(s <= 3.0) }' ||
		fail "exposure level $out, expected at most 3.0"
}

# unit_key KEY: the values of KEY= in the unit, one line each.
unit_key() {
	sed -n "s/^$1=//p" "$UNIT"
}

# The hardening the unit promises, key by key (no systemd needed).
t_unit_hardening() {
	local k caps want
	caps=$(unit_key CapabilityBoundingSet | tr ' ' '\n' | sort | tr '\n' ' ')
	[ "$caps" = "CAP_BPF CAP_NET_ADMIN CAP_SYS_ADMIN " ] ||
		fail "CapabilityBoundingSet is '$caps'" || return 1
	[ -z "$(unit_key AmbientCapabilities)" ] ||
		fail "AmbientCapabilities set for a root service" || return 1
	for want in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
		PrivateTmp=yes PrivateDevices=yes LockPersonality=yes \
		MemoryDenyWriteExecute=yes RestrictNamespaces=yes \
		SystemCallArchitectures=native RestrictRealtime=yes \
		RestrictSUIDSGID=yes ProtectKernelModules=yes \
		ProtectControlGroups=yes Restart=on-failure \
		"ExecStart=/usr/sbin/camfence daemon" \
		'ExecReload=/bin/kill -HUP $MAINPID' \
		"RestrictAddressFamilies=AF_NETLINK AF_UNIX AF_INET AF_INET6" \
		RuntimeDirectory=camfence RuntimeDirectoryMode=0700 \
		RuntimeDirectoryPreserve=yes IPAddressDeny=any; do
		grep -qxF -- "$want" "$UNIT" || fail "unit lacks $want" || return 1
	done
	unit_key ReadWritePaths | grep -qw /sys/fs/bpf ||
		fail "/sys/fs/bpf is not writable" || return 1
	unit_key Before | grep -qw network-pre.target &&
		unit_key Wants | grep -qw network-pre.target ||
		fail "not ordered before network-pre.target" || return 1
	for k in $(sed -n 's/^\([A-Za-z]*\)=.*/\1/p' "$UNIT" | sort | uniq -d); do
		case $k in
		After | Before | Wants | Documentation) ;;
		*) fail "$k given twice"; return 1 ;;
		esac
	done
}

# filter_names GROUP...: the syscalls systemd puts in the groups, nested
# groups expanded.
filter_names() {
	local g
	for g in "$@"; do
		case $g in
		@*) filter_names $(systemd-analyze syscall-filter "$g" |
			sed -n 's/^    \([@a-z0-9_-]\+\)$/\1/p') ;;
		*) echo "$g" ;;
		esac
	done
}

# Every syscall attach, push, status, stats, lookup, detach and the daemon
# make (in a namespace of the test's own) is one the unit's
# SystemCallFilter admits.
t_unit_syscalls() {
	local ns=cfpkg$$ pin=/sys/fs/bpf/cfpkg-$$ allowed used bad filter
	[ "$(id -u)" -eq 0 ] || { skip "needs root"; return; }
	for k in strace systemd-analyze ip nsenter; do
		command -v $k >/dev/null || { skip "$k not found"; return; }
	done
	[ -x "$CF" ] || { skip "$CF not built"; return; }
	filter=$(unit_key SystemCallFilter)
	allowed=$(filter_names $filter | sort -u)
	[ "$(wc -l <<<"$allowed")" -gt 100 ] ||
		{ skip "systemd-analyze lists no syscalls"; return; }
	ip netns add "$ns" || fail "cannot add netns $ns" || return 1
	ip -n "$ns" link add name cfpa type veth peer name cfpb &&
		ip -n "$ns" link set cfpa up && ip -n "$ns" link set cfpb up ||
		fail "cannot make the veth pair" || { ip netns del "$ns"; return 1; }
	(
		cd "$T_DIR" || exit 1
		run() {
			nsenter --net="/run/netns/$ns" strace -f -qq -o "strace.$1" \
				"$CF" --bpffs "$pin" --state "$T_DIR/state" "$@" \
				>/dev/null 2>&1
		}
		run attach cfpa --policy "$ROOT/tests/data/ns.conf" &&
			run push "$ROOT/tests/data/ns-flip.conf" && run status &&
			run stats && run lookup 198.51.100.1 && run detach cfpa ||
			exit 1
		# the daemon itself, until it says it runs, then SIGTERM
		nsenter --net="/run/netns/$ns" strace -f -qq -o strace.daemon \
			"$CF" --bpffs "$pin" --state "$T_DIR/state" daemon \
			-c /dev/null -i cfpa -P "$ROOT/tests/data/ns.conf" \
			--log stderr --metrics-listen 127.0.0.1:$((20000 + $$ % 10000)) \
			--metrics-allow-uid nobody \
			>daemon.out 2>&1 &
		spid=$!
		for i in $(seq 50); do
			grep -q running daemon.out && break
			sleep 0.1
		done
		dpid=$(pgrep -P $spid)
		[ -n "$dpid" ] && kill -TERM "$dpid"
		wait $spid
		grep -q running daemon.out
	)
	rc=$?
	nsenter --net="/run/netns/$ns" "$CF" --bpffs "$pin" \
		--state "$T_DIR/state" detach --all >/dev/null 2>&1
	ip netns del "$ns"
	[ $rc -eq 0 ] || fail "a camfence command failed under strace" || return 1
	used=$(cat "$T_DIR"/strace.* |
		sed -n 's/^[0-9]\+ \+\([a-z0-9_]\+\)(.*/\1/p' | sort -u)
	[ "$(wc -l <<<"$used")" -gt 10 ] ||
		fail "strace saw only: $used" || return 1
	bad=$(comm -23 <(echo "$used") <(echo "$allowed") | tr '\n' ' ')
	[ -z "$bad" ] || fail "SystemCallFilter=$filter refuses: $bad"
}

# ------------------------------------------------------------- completion

# Every command, by prefix too.
t_completion_commands() {
	local want got miss
	[ -x "$CF" ] || { skip "$CF not built"; return; }
	want=$(commands | sort)
	got=$(complete_words camfence "")
	[ "$want" = "$got" ] ||
		fail "commands completed: $(echo $got), camfence help: $(echo $want)" ||
		return 1
	[ "$(complete_words camfence at)" = attach ] ||
		fail "'camfence at' completes to '$(complete_words camfence at)'" ||
		return 1
	[ "$(complete_words camfence st | tr '\n' ' ')" = "stats status " ] ||
		fail "'camfence st' completes to '$(complete_words camfence st)'" ||
		return 1
	miss=$(complete_words camfence -j --bpffs /tmp help "" | has_lines $want) ||
		fail "'camfence -j --bpffs /tmp help' misses $miss" || return 1
	[ "$(complete_words camfence --v)" = "$(printf -- '--verbose\n--version')" ] ||
		fail "'camfence --v' completes to '$(complete_words camfence --v)'"
}

# Every long option of every command, after the command or its prefix.
t_completion_options() {
	local c o got
	[ -x "$CF" ] || { skip "$CF not built"; return; }
	for c in $(commands); do
		got=$(complete_words camfence "$c" --)
		for o in $(long_opts "$c") --json --help; do
			grep -qxF -- "$o" <<<"$got" ||
				fail "'camfence $c --' does not offer $o" || return 1
		done
	done
	got=$(complete_words camfence det --a)
	[ "$got" = --all ] || fail "'camfence det --a' completes to '$got'"
}

# Values: interfaces, modes, files, subcommands.
t_completion_values() {
	local got
	mkdir -p "$T_DIR/files" && touch "$T_DIR/files/policy.conf" "$T_DIR/files/pol2.conf"
	got=$(complete_words camfence attach "")
	has_lines lo <<<"$got" >/dev/null ||
		fail "'camfence attach' does not offer lo: $got" || return 1
	[ "$(complete_words camfence detach l)" = lo ] ||
		fail "'camfence detach l' does not complete to lo" || return 1
	got=$(complete_words camfence attach lo --mode "" | tr '\n' ' ')
	[ "$got" = "auto generic native tc " ] ||
		fail "attach --mode offers '$got'" || return 1
	got=$(complete_words camfence push "$T_DIR/files/po")
	[ "$got" = "$T_DIR/files/pol2.conf"$'\n'"$T_DIR/files/policy.conf" ] ||
		fail "push FILE offers '$got'" || return 1
	got=$(complete_words camfence compile -o "$T_DIR/files/poli")
	[ "$got" = "$T_DIR/files/policy.conf" ] ||
		fail "compile -o offers '$got'" || return 1
	got=$(complete_words camfence daemon --interface "")
	has_lines lo <<<"$got" >/dev/null ||
		fail "daemon --interface does not offer lo" || return 1
	got=$(complete_words camfence daemon --log "" | tr '\n' ' ')
	[ "$got" = "stderr syslog " ] || fail "daemon --log offers '$got'" ||
		return 1
	got=$(complete_words camfence learn s | tr '\n' ' ')
	[ "$got" = "start status stop " ] || fail "learn s offers '$got'" ||
		return 1
	got=$(complete_words camfence events --count "")
	[ -z "$got" ] || fail "events --count N offers '$got'"
}

# ------------------------------------------------------------------ example

# The example policy compiles (the signature check is the unit tests').
t_example_policy() {
	local out
	[ -x "$CF" ] || { skip "$CF not built"; return; }
	out=$(CAMFENCE_NO_VERIFY=1 "$CF" compile packaging/policy.conf 2>&1) ||
		fail "packaging/policy.conf: $out"
}

# ---------------------------------------------------------------- driver

main() {
	local t rc
	T_DIR=$(mktemp -d /tmp/cf-pkg.XXXXXX)
	trap 'rm -rf "$T_DIR"' EXIT
	[ $# -gt 0 ] && TESTS="$*"
	for t in $TESTS; do
		T_WHY=
		"t_$t"
		rc=$?
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
