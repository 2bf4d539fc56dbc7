# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# One apply path (loader/apply.c) for push, attach --policy and the
# daemon: when recording the state files fails after the switch, the
# command reports failure and the previous policy is back in force, the
# state files as they were.  Never a failure report while the new policy
# enforces, never a state that describes the other policy.
#
# A state file is made unwritable by putting a directory where it goes:
# the rename over it fails (EISDIR) as root too.  "policy.conf" makes
# the first write fail, "active" the second, after policy.conf is written.

# ap_block NAME: a directory where the state file NAME goes.
ap_block() {
	rm -f "$CF_STATE/$1" && mkdir -p "$CF_STATE/$1"
}

# ap_unblock NAME: the directory gone, the file as saved in $T_DIR/NAME.0
# (or none, if there was none).
ap_unblock() {
	rmdir "$CF_STATE/$1" || return 1
	[ ! -e "$T_DIR/$1.0" ] || cp "$T_DIR/$1.0" "$CF_STATE/$1"
}

# ap_save: the state files as they are, to compare with later.
ap_save() {
	local f
	for f in policy.conf active; do
		rm -f "$T_DIR/$f.0"
		[ ! -e "$CF_STATE/$f" ] || cp "$CF_STATE/$f" "$T_DIR/$f.0"
	done
}

# ap_same NAME: the state file NAME is as saved (both absent counts).
ap_same() {
	if [ -e "$T_DIR/$1.0" ]; then
		cmp -s "$T_DIR/$1.0" "$CF_STATE/$1"
	else
		[ ! -e "$CF_STATE/$1" ]
	fi
}

# ap_old_in_force WHAT GEN DIGEST: after WHAT failed, the live policy has
# this generation and digest, status does not call it interrupted, and
# the traffic is judged by ns.conf (Germany passes, Russia is dropped),
# not ns-flip.conf.
ap_old_in_force() {
	local j g d warn
	j=$(cf_json status) || return 1
	g=$(echo "$j" | jq_py '(d.get("policy") or {}).get("generation", "none")')
	d=$(echo "$j" | jq_py '(d.get("policy") or {}).get("digest", "none")')
	warn=$(echo "$j" | jq_py '[w for w in d["warnings"] if "active" in w]')
	par expect_host icmp de4 pass
	par expect_host tcp de6 pass
	par expect_host icmp ru4 drop
	par_wait || fail "$1 reported failure, yet: $T_WHY; status generation $g (was $2)" ||
		return 1
	[ "$g" = "$2" ] && [ "$d" = "$3" ] ||
		fail "$1 reported failure, yet status shows generation $g digest ${d:0:16} (was $2, ${3:0:16})" ||
		return 1
	[ -z "$warn" ] || fail "after $1: $warn"
}

# ap_fails RC OUT WHAT: WHAT exited RC saying OUT; it must be 3 (a
# system error) and name the state file.
ap_fails() {
	[ "$1" -eq 3 ] || fail "$3 exited $1, expected 3: $(echo "$2" | tail -n 2 | tr '\n' ' ')" ||
		return 1
	echo "$2" | grep -q "$CF_STATE/" ||
		fail "$3 does not name the state file: $(echo "$2" | tr '\n' ' ')"
}

# push with either state file unwritable: exit 3, ns.conf still in force
# at its generation, both state files as they were; then, unblocked, the
# same push applies.
t_apply_push_record_fails() {
	local g0 d0 blk out rc
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	g0=$(status_generation) && d0=$(status_digest) || return 1
	ap_save
	for blk in policy.conf active; do
		ap_block $blk || return 1
		out=$(cf push "$DATA/ns-flip.conf" 2>&1)
		rc=$?
		ap_unblock $blk || return 1
		ap_old_in_force "push ($blk unwritable, exit $rc)" "$g0" "$d0" ||
			return 1
		ap_fails $rc "$out" "push ($blk unwritable)" || return 1
		ap_same policy.conf && ap_same active ||
			fail "push ($blk unwritable) left the state files changed" ||
			return 1
	done
	cf_push ns-flip.conf && expect_host icmp de4 drop || return 1
	[ "$(status_generation)" = $((g0 + 1)) ] ||
		fail "generation $(status_generation) after the good push, expected $((g0 + 1))"
}

# attach --policy: as the first attach (nothing loaded before: nothing
# left behind, not even policy.conf) and for a second camera beside a
# policy in force (that policy stays, the camera is not attached).
t_apply_attach_record_fails() {
	local g0 d0 out rc
	mkdir -m 0700 "$CF_STATE" && ap_save && ap_block active || return 1
	out=$(cf attach "$TOPO_GW_IF" --policy "$DATA/ns-flip.conf" 2>&1)
	rc=$?
	ap_unblock active || return 1
	ap_fails $rc "$out" "first attach (active unwritable)" || return 1
	ap_same policy.conf ||
		fail "the failed first attach left $CF_STATE/policy.conf behind" ||
		return 1
	[ -z "$(pins)" ] || fail "the failed first attach left pins: $(pins | tr '\n' ' ')" ||
		return 1

	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	g0=$(status_generation) && d0=$(status_digest) || return 1
	ap_save && ap_block active || return 1
	out=$(cf attach "$TOPO_GW_IF2" --policy "$DATA/ns-flip.conf" 2>&1)
	rc=$?
	ap_unblock active || return 1
	ap_old_in_force "attach $TOPO_GW_IF2 (exit $rc)" "$g0" "$d0" || return 1
	ap_fails $rc "$out" "attach $TOPO_GW_IF2 (active unwritable)" || return 1
	ap_same policy.conf ||
		fail "the failed attach rewrote $CF_STATE/policy.conf" || return 1
	[ "$(status_ifaces | tr '\n' ' ')" = "$TOPO_GW_IF " ] ||
		fail "after the failed attach, attached: $(status_ifaces | tr '\n' ' ')"
}

# The daemon: a reload whose record fails keeps the policy in force and
# says so; once the state file is writable again, SIGHUP applies it.
t_apply_daemon_record_fails() {
	local g0 d0
	dmn_conf && dmn_policy_write A && dmn_start || return 1
	g0=$(dmn_policy_field generation) && d0=$(dmn_policy_field digest) ||
		{ dmn_stop; return 1; }
	ap_save && ap_block active || { dmn_stop; return 1; }
	dmn_policy_write B
	wait_for 3000 dmn_log_has "file change failed; the policy in force stays" ||
		fail "the daemon logged no failed reload: $(tail -n 3 "$DMN_LOG" | tr '\n' ' ')" ||
		{ ap_unblock active; dmn_stop; return 1; }
	ap_unblock active || { dmn_stop; return 1; }
	ap_old_in_force "the daemon's reload" "$g0" "$d0" || { dmn_stop; return 1; }
	ap_same policy.conf ||
		fail "the failed reload rewrote $CF_STATE/policy.conf" ||
		{ dmn_stop; return 1; }
	kill -HUP "$DMN_PID"
	dmn_wait_digest "$d0" >/dev/null || { dmn_stop; return 1; }
	expect_host icmp de4 drop || { dmn_stop; return 1; }
	dmn_stop
}
