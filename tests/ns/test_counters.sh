# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Counters and events say exactly what happened to the traffic sent.
#
# What is counted is chosen so no background traffic can land in it: the
# camera talks to the "Russian" and "Hong Kong" hosts only when a test
# pings them, while ARP is not IP and IPv6 neighbour discovery stays in
# link-local/multicast (local class) or the gateway's documentation
# address (default class).

# Echo requests with 56 bytes of data, as frames: Ethernet + IP + ICMP.
FRAME4=$((14 + 20 + 8 + 56))
FRAME6=$((14 + 40 + 8 + 56))

# Pings to Russia are dropped at XDP: the class counts each request once,
# and its bytes are the frames' lengths.  Monitored Hong Kong passes and
# counts requests (ingress) and replies (egress).
t_stats_counts() {
	local n4=7 n6=5 nhk=4 p0 p1 b0 b1 h0 h1 d0 d1
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	p0=$(stat_class 'deny country RU' packets) || return 1
	b0=$(stat_class 'deny country RU' bytes) || return 1
	h0=$(stat_class 'monitor country HK' packets) || return 1
	d0=$(stat_class 'deny asn AS64500' packets) || return 1
	ip netns exec "$TOPO_CAM" ping -q -n -c $n4 -i 0.05 -W 1 \
		"$(topo_addr ru4)" >/dev/null 2>&1 &
	local pa=$!
	ip netns exec "$TOPO_CAM" ping -q -n -c $n6 -i 0.05 -W 1 \
		"$(topo_addr ru6)" >/dev/null 2>&1 &
	local pb=$!
	ip netns exec "$TOPO_CAM" ping -q -n -c $nhk -i 0.05 -W 1 \
		"$(topo_addr hk4)" >"$T_DIR/ping-hk" 2>&1 ||
		fail "ping hk4 failed: $(tail -n 2 "$T_DIR/ping-hk")" || return 1
	wait $pa $pb
	p1=$(stat_class 'deny country RU' packets) || return 1
	b1=$(stat_class 'deny country RU' bytes) || return 1
	h1=$(stat_class 'monitor country HK' packets) || return 1
	d1=$(stat_class 'deny asn AS64500' packets) || return 1
	[ $((p1 - p0)) -eq $((n4 + n6)) ] ||
		fail "deny country RU counted $((p1 - p0)) packets, sent $((n4 + n6))" ||
		return 1
	[ $((b1 - b0)) -eq $((n4 * FRAME4 + n6 * FRAME6)) ] ||
		fail "deny country RU counted $((b1 - b0)) bytes, sent $((n4 * FRAME4 + n6 * FRAME6))" ||
		return 1
	[ $((h1 - h0)) -eq $((2 * nhk)) ] ||
		fail "monitor country HK counted $((h1 - h0)) packets, expected $nhk requests + $nhk replies" ||
		return 1
	[ $((d1 - d0)) -eq 0 ] ||
		fail "deny asn 64500 counted $((d1 - d0)) packets, none sent"
}

# The events a drop of each kind must have produced; argv: ru4 ru6 cam4.
EVENTS_CHECK='
import json, sys
ru4, ru6, cam4 = sys.argv[1:4]
ev = [json.loads(l) for l in sys.stdin if l.strip().startswith("{")]
def has(**want):
    for e in ev:
        if all(str(e.get(k)) == str(v) for k, v in want.items()):
            if e.get("label", "").startswith("deny country RU"):
                return True
    print("no event with %s in %s" % (want, ev))
    return False
ok = has(dst=ru4, verdict="drop", direction="ingress", proto="icmp")
ok = ok and has(dst=ru6, verdict="drop", direction="ingress", proto="tcp", dport=8080)
ok = ok and has(src=ru4, dst=cam4, verdict="drop", direction="egress", proto="icmp")
sys.exit(0 if ok else 1)
'

# Events name the packet's addresses, direction, verdict and class.
t_events_fields() {
	local ev ru4 ru6 cam4
	ru4=$(topo_addr ru4)
	ru6=$(topo_addr ru6)
	cam4=$TOPO_CAM4
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	events_start 4 || return 1
	expect_host icmp ru4 drop || return 1	# 1 echo request
	expect_host tcp ru6 drop || return 1	# a SYN (perhaps a retry)
	expect icmp "$TOPO_INET" "$cam4" drop "$ru4" "camera from ru4" ||
		return 1
	events_wait "$PY" -c "$EVENTS_CHECK" "$ru4" "$ru6" "$cam4" || return 1
	ev=$(cat "$T_DIR/events.out")
	echo "$ev" >"$T_DIR/events.seen"
	"$PY" -c "$EVENTS_CHECK" "$ru4" "$ru6" "$cam4" \
		<"$T_DIR/events.seen" >"$T_DIR/ev.out" ||
		fail "$(head -c 600 "$T_DIR/ev.out")"
}
