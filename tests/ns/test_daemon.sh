# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# camfence daemon: re-attach when the camera-facing interface is deleted
# and re-created, reload on file change and SIGHUP, keep the old policy on
# a bad file, survive SIGKILL (enforcement never stops; the next daemon
# adopts without pushing again), and log drops with attribution.
#
# The daemon runs in the gateway's namespace through nsenter (which execs
# it, so $DMN_PID is camfence itself), logs to stderr into
# $T_DIR/daemon.log, and reads $T_DIR/daemon.conf.  The policies it
# watches live in $T_DIR/policy; the "A" policy is ns.conf's, "B" denies
# Germany too (ns-flip.conf's).

DMN_PID=
DMN_LOG=
DMN_POLICY=

# dmn_policy_text A|B|BAD: a policy with absolute database paths.
dmn_policy_text() {
	echo "database csv $DATA/overlay.csv"
	echo "database csv $DATA/overlay-asn.csv"
	echo "default allow"
	case $1 in
	A) echo "deny country RU CN BY KP IR" ;;
	B) echo "deny country RU CN BY KP IR DE" ;;
	BAD) echo "deny contry RU" ;;
	esac
	echo "deny asn 64500"
	echo "allow net 203.0.113.200/32 2001:db8:c0::200/128"
	echo "monitor country HK"
}

# dmn_policy_write A|B|BAD [FILE]: replace the policy file atomically,
# as editors and configuration management do (write, then rename).
dmn_policy_write() {
	local f=${2:-$DMN_POLICY}
	dmn_policy_text "$1" >"$f.tmp" && mv -f "$f.tmp" "$f"
}

# dmn_conf [EXTRA LINES...]: the daemon's configuration file.
dmn_conf() {
	mkdir -p "$T_DIR/policy"
	DMN_POLICY=$T_DIR/policy/camfence-policy.conf
	DMN_LOG=$T_DIR/daemon.log
	: >"$DMN_LOG"
	{
		echo "# written by test_daemon.sh"
		echo "interface $TOPO_GW_IF"
		echo "policy $DMN_POLICY"
		echo "log stderr"
		echo "metrics-listen off"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$T_DIR/daemon.conf"
}

# dmn_start [N]: run the daemon in the background; 0 once the log says
# "running" for the N-th time (default 1), within 5 s (times T_SLOW).
dmn_start() {
	echo "---- start $(date +%T.%N)" >>"$DMN_LOG"
	nsenter --net="/run/netns/$TOPO_GW" "$CF" --bpffs "$CF_PIN" \
		--state "$CF_STATE" daemon --config "$T_DIR/daemon.conf" \
		</dev/null >>"$DMN_LOG" 2>&1 &
	DMN_PID=$!
	wait_for 5000 dmn_started "${1:-1}" && kill -0 "$DMN_PID" 2>/dev/null &&
		return 0
	fail "daemon did not start: $(tail -n 3 "$DMN_LOG" | tr '\n' ' ')"
}

# dmn_started N: the log says "running" N times, or the daemon is gone.
dmn_started() {
	[ "$(grep -c 'daemon .* running' "$DMN_LOG")" -ge "$1" ] ||
		gone "$DMN_PID"
}

# dmn_log_has ERE...: each of these is on a line of the daemon's log.
dmn_log_has() {
	local re
	for re in "$@"; do
		grep -qE -- "$re" "$DMN_LOG" || return 1
	done
}

# dmn_stop: SIGTERM, and the daemon must exit 0 within two seconds
# (times T_SLOW).
dmn_stop() {
	local rc
	[ -n "$DMN_PID" ] || return 0
	kill -TERM "$DMN_PID" 2>/dev/null
	wait_for 2000 gone "$DMN_PID"
	kill -KILL "$DMN_PID" 2>/dev/null
	wait "$DMN_PID"
	rc=$?
	DMN_PID=
	[ $rc -eq 0 ] || fail "daemon exited $rc on SIGTERM"
}

# dmn_policy_field digest|generation: of the live policy ("none").
dmn_policy_field() {
	local j
	j=$(cf_json status) || return 1
	echo "$j" | jq_py '(d.get("policy") or {}).get("'"$1"'", "none")'
}

# dmn_wait_digest OLD [SECONDS]: poll until the live digest is not OLD,
# for SECONDS (default 3) times T_SLOW; prints the milliseconds it took.
dmn_wait_digest() {
	local old=$1 s=${2:-3} t0
	t0=$(now_ms)
	if wait_for $((s * 1000)) dmn_digest_not "$old"; then
		echo $(($(now_ms) - t0))
		return 0
	fi
	fail "the live digest is still ${old:0:16} after $((s * T_SLOW)) s:" \
		"$(tail -n 2 "$DMN_LOG" | tr '\n' ' ')"
}

# dmn_digest_not OLD: a policy is live, and its digest is not OLD.
dmn_digest_not() {
	local d
	d=$(dmn_policy_field digest 2>/dev/null) || return 1
	[ "$d" != "$1" ] && [ "$d" != none ]
}

# dmn_attached_ifindex IFACE: the ifindex status lists IFACE attached at
# (ingress hook live, interface existing), or nothing.
dmn_attached_ifindex() {
	local j
	j=$(cf_json status) || return 1
	echo "$j" | jq_py '[i["ifindex"] for i in d["interfaces"]
		if i["ifname"] == "'"$1"'" and i["exists"] and i["ingress"]
		and not i["ingress"]["defunct"] and i["egress"]][:1]'
}

# dmn_recreate_cam: delete the camera link and build it again, same
# names and addresses (the camera's routes go with its eth0).
dmn_recreate_cam() {
	ip -n "$TOPO_GW" link del "$TOPO_GW_IF" || return 1
	_topo_link "$TOPO_GW" "$TOPO_GW_IF" "$TOPO_CAM" eth0 &&
		_topo_addr "$TOPO_GW" "$TOPO_GW_IF" 192.0.2.1/26 2001:db8:ca::1/64 &&
		_topo_addr "$TOPO_CAM" eth0 "$TOPO_CAM4/26" "$TOPO_CAM6/64" &&
		ip -n "$TOPO_CAM" route add default via 192.0.2.1 &&
		ip -n "$TOPO_CAM" -6 route add default via 2001:db8:ca::1
}

# dmn_moved IFACE OLD: status shows IFACE attached at an ifindex not OLD.
dmn_moved() {
	local new
	new=$(dmn_attached_ifindex "$1" 2>/dev/null) || return 1
	[ -n "$new" ] && [ "$new" != "$2" ]
}

# dmn_reattach_check: recreate the link, then within 3 s (times T_SLOW)
# status must show it attached at its new ifindex, with no dead
# attachment left over, and denied traffic dropped again.  Prints the
# milliseconds it took.
dmn_reattach_check() {
	local old t0 ms n
	old=$(dmn_attached_ifindex "$TOPO_GW_IF") || return 1
	[ -n "$old" ] || fail "$TOPO_GW_IF not attached before the test" ||
		return 1
	dmn_recreate_cam || fail "cannot re-create $TOPO_GW_IF" || return 1
	t0=$(now_ms)
	wait_for 3000 dmn_moved "$TOPO_GW_IF" "$old" ||
		fail "$TOPO_GW_IF (was ifindex $old) not re-attached after $((3 * T_SLOW)) s:" \
			"$(tail -n 3 "$DMN_LOG" | tr '\n' ' ')" ||
		return 1
	ms=$(($(now_ms) - t0))
	n=$(cf_json status | jq_py 'len([i for i in d["interfaces"] if not i["exists"]])')
	[ "$n" = 0 ] || fail "$n attachments of gone interfaces left" ||
		return 1
	par expect_host icmp ru4 drop
	par expect_host udp asn4 drop
	par expect_host icmp de4 pass
	par_wait || return 1
	echo "$ms"
}

# The interface goes away and comes back under the same name.
t_daemon_reattach() {
	local ms
	dmn_conf && dmn_policy_write A && dmn_start || return 1
	expect_host icmp ru4 drop || { dmn_stop; return 1; }
	ms=$(dmn_reattach_check) || { dmn_stop; return 1; }
	grep -q "is back as ifindex" "$DMN_LOG" ||
		fail "the log does not say the interface came back" ||
		{ dmn_stop; return 1; }
	[ "$VERBOSE" -eq 1 ] && echo "     re-attached $ms ms after the link came back"
	dmn_stop
}

# A new policy file (renamed over the old) is in force within a second.
t_daemon_file_change() {
	local d0 ms
	dmn_conf && dmn_policy_write A && dmn_start || return 1
	d0=$(dmn_policy_field digest)
	expect_host icmp de4 pass || { dmn_stop; return 1; }
	dmn_policy_write B
	ms=$(dmn_wait_digest "$d0") || { dmn_stop; return 1; }
	expect_host icmp de4 drop || { dmn_stop; return 1; }
	# an edit in place (no rename) is seen too
	d0=$(dmn_policy_field digest)
	dmn_policy_text A >"$DMN_POLICY"
	dmn_wait_digest "$d0" >/dev/null || { dmn_stop; return 1; }
	expect_host icmp de4 pass || { dmn_stop; return 1; }
	[ "$VERBOSE" -eq 1 ] && echo "     new policy in force $ms ms after the rename"
	dmn_stop
}

# SIGHUP rereads the configuration file (not watched) and the policy.
t_daemon_sighup() {
	local d0 ms t0
	dmn_conf && dmn_policy_write A && dmn_start || return 1
	d0=$(dmn_policy_field digest)
	dmn_policy_write B "$T_DIR/policy/other.conf"
	t_sleep 0.4 # other.conf is no file of ours: no reload
	[ "$(dmn_policy_field digest)" = "$d0" ] ||
		fail "a file the daemon does not use changed the policy" ||
		{ dmn_stop; return 1; }
	sed -i "s|^policy .*|policy $T_DIR/policy/other.conf|" "$T_DIR/daemon.conf"
	t0=$(now_ms)
	kill -HUP "$DMN_PID"
	dmn_wait_digest "$d0" >/dev/null || { dmn_stop; return 1; }
	ms=$(($(now_ms) - t0))
	expect_host icmp de4 drop || { dmn_stop; return 1; }
	kill -0 "$DMN_PID" 2>/dev/null || fail "the daemon died on SIGHUP" ||
		return 1
	[ "$VERBOSE" -eq 1 ] && echo "     SIGHUP to new policy in force: $ms ms"
	dmn_stop || return 1
	# SIGTERM leaves the fence up, with the policy last loaded
	expect_host icmp de4 drop
}

# A broken policy keeps the old one in force and says where it is broken;
# fixing the file reloads.
t_daemon_bad_file() {
	local d0 g0
	dmn_conf && dmn_policy_write A && dmn_start || return 1
	d0=$(dmn_policy_field digest)
	g0=$(dmn_policy_field generation)
	dmn_policy_write BAD
	# the daemon has read the file once it says what is wrong with it
	wait_for 3000 dmn_log_has "$DMN_POLICY:4:6: " "policy in force stays"
	grep -q "$DMN_POLICY:4:6: " "$DMN_LOG" ||
		fail "no file:line:col error in the log: $(tail -n 3 "$DMN_LOG" | tr '\n' ' ')" ||
		{ dmn_stop; return 1; }
	grep -q "policy in force stays" "$DMN_LOG" ||
		fail "the log does not say the old policy stays" ||
		{ dmn_stop; return 1; }
	[ "$(dmn_policy_field digest)" = "$d0" ] ||
		fail "a bad policy file changed the live policy" ||
		{ dmn_stop; return 1; }
	[ "$(dmn_policy_field generation)" = "$g0" ] ||
		fail "a bad policy file changed the generation" ||
		{ dmn_stop; return 1; }
	par expect_host icmp ru4 drop
	par expect_host icmp de4 pass
	par_wait || { dmn_stop; return 1; }
	dmn_policy_write B
	dmn_wait_digest "$d0" >/dev/null || { dmn_stop; return 1; }
	expect_host icmp de4 drop || { dmn_stop; return 1; }
	dmn_stop
}

# SIGKILL: the fence stays up; a new daemon adopts without pushing.
t_daemon_kill_restart() {
	local g0 d0
	dmn_conf && dmn_policy_write A && dmn_start || return 1
	g0=$(dmn_policy_field generation)
	d0=$(dmn_policy_field digest)
	kill -KILL "$DMN_PID"
	wait "$DMN_PID" 2>/dev/null
	DMN_PID=
	par expect_host icmp ru4 drop
	par expect_host udp asn4 drop
	par expect_host icmp de4 pass
	par_wait || return 1
	dmn_start 2 || return 1
	[ "$(dmn_policy_field generation)" = "$g0" ] ||
		fail "restart pushed again: generation $g0 -> $(dmn_policy_field generation)" ||
		{ dmn_stop; return 1; }
	[ "$(dmn_policy_field digest)" = "$d0" ] ||
		fail "restart changed the digest" || { dmn_stop; return 1; }
	[ "$(grep -c 'adopted the datapath' "$DMN_LOG")" -ge 1 ] ||
		fail "the second daemon did not adopt the pins" ||
		{ dmn_stop; return 1; }
	dmn_reattach_check >/dev/null || { dmn_stop; return 1; }
	dmn_stop
}

# dmn_metrics: GET /metrics from the daemon's endpoint in the gateway.
dmn_metrics() {
	ip netns exec "$TOPO_GW" "$PY" -c '
import urllib.request
r = urllib.request.urlopen("http://127.0.0.1:9733/metrics", timeout=2)
print(r.read().decode())'
}

# A drop shows up in the daemon's log, attributed to country and AS, and
# in the metrics the daemon serves.
t_daemon_events() {
	local line m d drops
	dmn_conf "metrics-listen 127.0.0.1:9733" && dmn_policy_write A &&
		dmn_start || return 1
	expect_host icmp asn4 drop || { dmn_stop; return 1; }
	wait_for 2000 dmn_log_has "^event: .* drop .*203\.0\.113\.10"
	line=$(grep "^event: .* drop .*203\.0\.113\.10" "$DMN_LOG" | head -n 1)
	[ -n "$line" ] || fail "no drop event for asn4 in the log" ||
		{ dmn_stop; return 1; }
	case $line in
	*"deny asn AS64500"*"DE (Germany), AS64500 EXAMPLE-UNTRUSTED-CLOUD"*) ;;
	*) fail "event without rule or attribution: $line"
		dmn_stop
		return 1 ;;
	esac
	m=$(dmn_metrics) || fail "the daemon serves no metrics" ||
		{ dmn_stop; return 1; }
	d=$(dmn_policy_field digest)
	echo "$m" | grep -q "^camfence_policy_info{.*digest=\"$d\"" ||
		fail "metrics name another policy than $d" ||
		{ dmn_stop; return 1; }
	drops=$(echo "$m" | awk '/^camfence_dropped_packets_total/ { s += $NF }
		END { print s + 0 }')
	[ "$drops" -gt 0 ] || fail "metrics count no drop" ||
		{ dmn_stop; return 1; }
	dmn_stop
}
