# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Compiled artifacts: `camfence compile` on the host (no kernel, no state),
# `camfence push FILE` in the gateway without reading a database; the same
# verdicts and the same digest as the policy pushed from source; a damaged
# artifact changes nothing; artifact pushes take the state lock.

# art_compile NAME: compile tests/data/NAME.conf to $T_DIR/NAME.cfpa on the
# host, with pin and state directories that must stay untouched; the
# digest on stdout.
art_compile() {
	local none=$T_DIR/untouched j
	j=$("$CF" --bpffs "$none/bpffs" --state "$none/state" -j compile \
		"$DATA/$1.conf" -o "$T_DIR/$1.cfpa" 2>"$T_DIR/compile.err") ||
		fail "compile $1.conf: $(tr '\n' ' ' <"$T_DIR/compile.err")" ||
		return 1
	[ ! -e "$none" ] ||
		fail "compile created $none: it must need no kernel or state" ||
		return 1
	[ -s "$T_DIR/$1.cfpa" ] || fail "compile wrote no $1.cfpa" || return 1
	echo "$j" | jq_py 'd["digest"]'
}

# status_digest: the digest of the live image, or "none".
status_digest() {
	local j
	j=$(cf_json status) || return 1
	echo "$j" | jq_py '(d.get("policy") or {}).get("digest", "none")'
}

# art_push FILE: push an artifact, fail unless push -j says it was one;
# the wall time in milliseconds on stdout.
art_push() {
	local t0 t1 j
	t0=$(date +%s%N)
	j=$(cf_json push "$1") || return 1
	t1=$(date +%s%N)
	[ "$(echo "$j" | jq_py 'd.get("artifact")')" = true ] ||
		fail "push -j does not say artifact: $j" || return 1
	[ $VERBOSE -eq 1 ] && echo "     artifact push: $(((t1 - t0) / 1000000)) ms wall," \
		"$(echo "$j" | jq_py 'd["timing_ms"]')" >&2
	echo $(((t1 - t0) / 1000000))
}

# The artifact enforces what the policy does, with its digest; pushing
# the source policy afterwards gives that same digest; lookup explains
# from the artifact without a database.
t_artifact_push() {
	local dg ms live out
	dg=$(art_compile ns) || return 1
	cf_attach "$TOPO_GW_IF" || return 1
	ms=$(art_push "$T_DIR/ns.cfpa") || return 1
	live=$(status_digest) || return 1
	[ "$live" = "$dg" ] ||
		fail "status digest $live, compile said $dg" || return 1
	verdicts icmp 4 && verdicts tcp 6 && verdicts udp 4 || return 1
	out=$(cf lookup "$(topo_addr ru4)" 2>&1)
	echo "$out" | grep -q 'database: not available (pushed from an artifact)' ||
		fail "lookup after an artifact push: $out" || return 1
	lookup_is "$(topo_addr ru6)" drop "deny country RU" &&
		lookup_is "$(topo_addr hk4)" monitor "monitor country HK" &&
		lookup_is "$(topo_addr de4)" pass "default" || return 1
	cf_push ns.conf || return 1
	live=$(status_digest) || return 1
	[ "$live" = "$dg" ] ||
		fail "pushed from source: digest $live, the artifact's $dg" ||
		return 1
	# no database to read: well under a second (T_SLOW: TCG)
	[ "$ms" -lt $((1000 * T_SLOW)) ] || fail "artifact push took $ms ms"
}

# art_refused FILE WHAT: push FILE must exit 2 saying WHAT.
art_refused() {
	local rc out
	out=$(cf push "$1" 2>&1)
	rc=$?
	[ $rc -eq 2 ] || fail "push $(basename "$1") exited $rc, expected 2: $out" ||
		return 1
	echo "$out" | grep -q "$2" ||
		fail "push $(basename "$1") does not say '$2': $out"
}

# A damaged artifact (one flipped byte, cut short, wrong version) is
# refused with exit 2; the policy in force stays, same generation and
# digest; the intact artifact then applies.
t_artifact_bad_keeps_old() {
	local g0 d0 n f=$T_DIR/ns-flip.cfpa
	art_compile ns-flip >/dev/null || return 1
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	g0=$(status_generation) && d0=$(status_digest) || return 1
	n=$(stat -c %s "$f")
	"$PY" -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x55
open(sys.argv[2], "wb").write(b)' "$f" "$T_DIR/flipped.cfpa"
	art_refused "$T_DIR/flipped.cfpa" "checksum mismatch" || return 1
	head -c $((n - 100)) "$f" >"$T_DIR/short.cfpa"
	art_refused "$T_DIR/short.cfpa" "truncated" || return 1
	cp "$f" "$T_DIR/v9.cfpa"
	printf '\x09' | dd of="$T_DIR/v9.cfpa" bs=1 seek=4 conv=notrunc status=none
	art_refused "$T_DIR/v9.cfpa" "version 9" || return 1
	[ "$(status_generation)" = "$g0" ] && [ "$(status_digest)" = "$d0" ] ||
		fail "a refused artifact changed the live policy" || return 1
	expect_host icmp de4 pass && expect_host icmp ru4 drop || return 1
	art_push "$f" >/dev/null && expect_host icmp de4 drop &&
		expect_host tcp de6 drop
}

# While another holder has the state lock, an artifact push waits for it:
# it starts before the holder lets go and ends after.
t_artifact_lock() {
	local t0 t1 freed holder hold=1.5
	[ $T_SLOW -gt 1 ] && hold=5
	art_compile ns >/dev/null || return 1
	cf_attach "$TOPO_GW_IF" || return 1
	rm -f "$T_DIR/locked" "$T_DIR/freed"
	# the release time is written before flock(1) lets go, so no push
	# can end before it
	flock "$CF_STATE/lock" -c "touch '$T_DIR/locked'; sleep $hold;
		date +%s%N >'$T_DIR/freed'" &
	holder=$!
	wait_for 2000 test -e "$T_DIR/locked" ||
		fail "the lock holder did not start" || { wait $holder; return 1; }
	t0=$(date +%s%N)
	cf_ok push "$T_DIR/ns.cfpa" || { wait $holder; return 1; }
	t1=$(date +%s%N)
	wait $holder
	freed=$(cat "$T_DIR/freed" 2>/dev/null)
	[ -n "$freed" ] || fail "the lock holder wrote no release time" ||
		return 1
	[ "$t0" -lt "$freed" ] ||
		fail "push started $(((t0 - freed) / 1000000)) ms after the lock was free: nothing tested" ||
		return 1
	[ "$t1" -ge "$freed" ] ||
		fail "push finished $(((freed - t1) / 1000000)) ms before the lock was released"
}

# art_forge SRC DIGEST DST: SRC with DIGEST (hex) in its header's digest
# field and the trailer resealed, as anyone can (artifact.h's format).
art_forge() {
	"$PY" -c 'import hashlib, sys
b = bytearray(open(sys.argv[1], "rb").read())
assert b[:4] == b"CFPA"
b[72:104] = bytes.fromhex(sys.argv[2])
b[-32:] = hashlib.sha256(b[:-32]).digest()
open(sys.argv[3], "wb").write(b)' "$1" "$2" "$3"
}

# art_compile_file FILE OUT: compile FILE (any path) to OUT on the host;
# the digest on stdout.
art_compile_file() {
	local none=$T_DIR/untouched j
	j=$("$CF" --bpffs "$none/bpffs" --state "$none/state" -j compile \
		"$1" -o "$2" 2>"$T_DIR/compile.err") ||
		fail "compile $1: $(tr '\n' ' ' <"$T_DIR/compile.err")" || return 1
	echo "$j" | jq_py 'd["digest"]'
}

# art_sighup N: SIGHUP the daemon and wait for its N-th SIGHUP reload to
# be logged, done or failed.
art_sighup() {
	kill -HUP "$DMN_PID"
	wait_for 5000 art_sighups "$1" ||
		fail "the daemon logged no SIGHUP reload: $(tail -n 2 "$DMN_LOG" | tr '\n' ' ')"
}

art_sighups() {
	[ "$(grep -cE 'SIGHUP: (policy in force is|pushed) |SIGHUP failed' \
		"$DMN_LOG")" -ge "$1" ]
}

# The issue's forgery: the daemon enforces a policy denying RU; an
# artifact of a policy allowing everything, with the deny policy's digest
# in its header and the trailer resealed, is pushed.  It must not go live
# under the borrowed digest: the push is refused (exit 2, "digest
# mismatch"), a SIGHUP finds the configured tables live, RU stays
# dropped and status shows the digest of what enforces.  A genuine
# permissive artifact does go live, under its own digest, and the
# daemon's next reload notices and puts its policy back.
t_artifact_forged_digest() {
	local dcfg dperm rc out st ru
	dmn_conf && dmn_policy_write A && dmn_start || return 1
	dcfg=$(dmn_policy_field digest) || { dmn_stop; return 1; }
	printf 'database csv %s\ndefault allow\n' "$DATA/overlay.csv" \
		>"$T_DIR/allow-all.conf"
	dperm=$(art_compile_file "$T_DIR/allow-all.conf" "$T_DIR/allow-all.cfpa") ||
		{ dmn_stop; return 1; }
	[ "$dperm" != "$dcfg" ] || fail "the two policies share a digest" ||
		{ dmn_stop; return 1; }
	art_forge "$T_DIR/allow-all.cfpa" "$dcfg" "$T_DIR/forged.cfpa" ||
		{ fail "cannot forge the artifact"; dmn_stop; return 1; }
	out=$(cf push "$T_DIR/forged.cfpa" 2>&1)
	rc=$?
	art_sighup 1 || { dmn_stop; return 1; }
	expect_host icmp ru4 drop && ru=drop || ru=pass
	st=$(dmn_policy_field digest) || { dmn_stop; return 1; }
	if [ $rc -ne 2 ] || [ $ru != drop ] || [ "$st" != "$dcfg" ]; then
		fail "forged artifact: push exited $rc ($(echo "$out" | tail -n 1));" \
			"after SIGHUP ru4: $ru, status digest ${st:0:16}" \
			"(configured ${dcfg:0:16}, the artifact's tables ${dperm:0:16})"
		dmn_stop
		return 1
	fi
	echo "$out" | grep -q "digest mismatch" ||
		fail "the refusal does not say digest mismatch: $out" ||
		{ dmn_stop; return 1; }
	# genuine: live under its own digest, until the daemon's next reload
	cf_ok push "$T_DIR/allow-all.cfpa" || { dmn_stop; return 1; }
	[ "$(dmn_policy_field digest)" = "$dperm" ] ||
		fail "status does not show the pushed artifact's digest" ||
		{ dmn_stop; return 1; }
	expect_host icmp ru4 pass || { dmn_stop; return 1; }
	art_sighup 2 || { dmn_stop; return 1; }
	[ "$(dmn_policy_field digest)" = "$dcfg" ] ||
		fail "the daemon did not put its policy back over $dperm" ||
		{ dmn_stop; return 1; }
	expect_host icmp ru4 drop || { dmn_stop; return 1; }
	dmn_stop
}
