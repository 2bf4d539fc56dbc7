# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Policy pushes: atomic under traffic, and a bad one changes nothing.

# replied_seqs FILE: the icmp_seq numbers ping got replies for.
replied_seqs() {
	sed -n 's/.*icmp_seq=\([0-9][0-9]*\) .*/\1/p' "$1" | sort -n
}

# seqs_prefix FILE SENT LABEL: the replies are exactly 1..k with drops
# from k+1 on, k well inside the run: one clean switch, no flapping and
# no packet let through after the new policy started dropping.
seqs_prefix() {
	local f=$1 sent=$2 label=$3 k i=0 s
	k=$(replied_seqs "$f" | wc -l)
	for s in $(replied_seqs "$f"); do
		i=$((i + 1))
		[ "$s" -eq $i ] ||
			fail "$label: reply to seq $s after seq $i was dropped" ||
			return 1
	done
	[ "$k" -ge 10 ] && [ "$k" -le $((sent - 10)) ] ||
		fail "$label: $k of $sent replied; the push did not land mid-run"
}

# Flip Germany to denied while two pings run at 100 packets/s each; the
# replies must stop at one point, and nothing may be judged by "no policy".
t_push_under_traffic() {
	local n=300 np0 np1
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	np0=$(stat_global no_policy) || return 1
	ip netns exec "$TOPO_CAM" ping -n -i 0.01 -c $n -W 1 \
		"$(topo_addr de4)" >"$T_DIR/ping4" 2>&1 &
	local p4=$!
	ip netns exec "$TOPO_CAM" ping -n -i 0.01 -c $n -W 1 \
		"$(topo_addr de6)" >"$T_DIR/ping6" 2>&1 &
	local p6=$!
	sleep 1
	cf_push ns-flip.conf || { wait $p4 $p6; return 1; }
	wait $p4 $p6
	seqs_prefix "$T_DIR/ping4" $n "IPv4 ping" || return 1
	seqs_prefix "$T_DIR/ping6" $n "IPv6 ping" || return 1
	np1=$(stat_global no_policy) || return 1
	[ "$np0" = "$np1" ] ||
		fail "no_policy counter moved from $np0 to $np1 during the push" ||
		return 1
	# And back: Germany answers again.
	cf_push ns.conf && expect_host icmp de4 pass && expect_host tcp de6 pass
}

# A policy that does not parse, or names a missing database, is refused
# with exit 2 and an error naming where; a dry run changes nothing; the
# policy in force keeps enforcing, at the same generation.
t_push_bad_keeps_old() {
	local g0 g1 rc
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	g0=$(status_generation) || return 1
	cf push "$DATA/ns-bad.conf" >"$T_DIR/push.out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "push ns-bad.conf exited $rc, expected 2" ||
		return 1
	grep -q 'ns-bad.conf:6:' "$T_DIR/push.out" ||
		fail "push error does not name ns-bad.conf:6: $(cat "$T_DIR/push.out")" ||
		return 1
	cf push "$DATA/ns-nodb.conf" >"$T_DIR/push.out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "push ns-nodb.conf exited $rc, expected 2" ||
		return 1
	grep -q 'no-such-overlay.csv' "$T_DIR/push.out" ||
		fail "push error does not name the missing database: $(cat "$T_DIR/push.out")" ||
		return 1
	cf_ok push --dry-run "$DATA/ns-flip.conf" || return 1
	g1=$(status_generation) || return 1
	[ "$g0" = "$g1" ] ||
		fail "generation moved from $g0 to $g1 without a good push" ||
		return 1
	expect_host icmp de4 pass && expect_host icmp ru4 drop &&
		expect_host tcp de6 pass && expect_host tcp ru6 drop
}
