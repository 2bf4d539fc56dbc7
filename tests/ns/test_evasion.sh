# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Frames a compromised camera crafts to slip past the policy, sent raw
# (AF_PACKET) through its veth to the gateway, with the denied host
# listening raw on the far side: what the policy denies must not arrive
# there in any attach mode, and what it allows must, so the kernel is
# seen to route such frames at all.
#
#   stacked tags  3 to 12 802.1Q/802.1ad tags of id 0 (priority tags,
#                 which the kernel strips without any VLAN device), then
#                 UDP: judged by address up to 8 tags, malformed beyond
#   off-link ND   ICMPv6 neighbour solicitations and advertisements with
#                 hop limit 255 and a payload, sent to a denied global
#                 address: routed on like any packet, so judged like one

# EV_PY send IFACE DST_MAC TAGS KIND SRC DST TOKEN: one Ethernet frame
# out of IFACE, TAGS a comma list of TPID:VID (hex:decimal, outermost
# first), KIND udp (to UDP_PORT, hop limit 64) or ns/na (hop limit 255,
# target DST); TOKEN is the payload.
# EV_PY sniff IFACE OUT: every cfev-... token seen on IFACE, a line each,
# to OUT, which says "ready" first.
EV_PY='
import re, socket, struct, sys

def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def packet(kind, src, dst, token):
    v6 = ":" in dst
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    pay = token.encode()
    if kind == "udp":
        proto, hl = 17, 64
        seg = struct.pack("!HHHH", 40000, int(sys.argv[9]), 8 + len(pay), 0) + pay
    else:
        proto, hl = 58, 255
        flags = 0x60000000 if kind == "na" else 0
        seg = struct.pack("!BBHI", 136 if kind == "na" else 135, 0, 0, flags)
        seg += socket.inet_pton(socket.AF_INET6, dst) + pay
    s, d = socket.inet_pton(fam, src), socket.inet_pton(fam, dst)
    if not v6:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 1, 0, hl,
                        proto, 0, s, d)
        return 0x0800, h[:10] + struct.pack("!H", csum(h)) + h[12:] + seg
    c = csum(s + d + struct.pack("!IxxxB", len(seg), proto) + seg) or 0xffff
    at = 6 if proto == 17 else 2
    seg = seg[:at] + struct.pack("!H", c) + seg[at + 2:]
    h = struct.pack("!IHBB", 6 << 28, len(seg), proto, hl) + s + d
    return 0x86dd, h + seg

def send():
    ifname, dmac, tags, kind, src, dst, token = sys.argv[2:9]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((ifname, 0))
    etype, pkt = packet(kind, src, dst, token)
    f = bytes.fromhex(dmac.replace(":", "")) + sock.getsockname()[4]
    for t in filter(None, tags.split(",")):
        tpid, vid = t.split(":")
        f += struct.pack("!HH", int(tpid, 16), int(vid))
    sock.send(f + struct.pack("!H", etype) + pkt)

def sniff():
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    sock.bind((sys.argv[2], 0))
    out = open(sys.argv[3], "w", buffering=1)
    out.write("ready\n")
    while True:
        m = re.search(rb"cfev-[0-9a-z.-]+", sock.recv(65535))
        if m:
            out.write(m.group(0).decode() + "\n")

send() if sys.argv[1] == "send" else sniff()
'

# ev_sniff_start NS IFACE: a sniffer in NS on IFACE, into $T_DIR/sniff.out.
ev_sniff_start() {
	EV_SEEN=$T_DIR/sniff.out
	rm -f "$EV_SEEN"
	ip netns exec "$1" "$PY" -c "$EV_PY" sniff "$2" "$EV_SEEN" \
		</dev/null >/dev/null 2>"$T_DIR/sniff.err" &
	EV_SNIFF=$!
	wait_for 3000 grep -qsx ready "$EV_SEEN" ||
		fail "the sniffer in $1 did not start: $(cat "$T_DIR/sniff.err")"
}

ev_sniff_stop() {
	kill "$EV_SNIFF" 2>/dev/null
	wait "$EV_SNIFF" 2>/dev/null
	return 0
}

# ev_tags N: N 802.1Q/802.1ad priority tags, alternating.
ev_tags() {
	local i tags=
	for ((i = 0; i < $1; i++)); do
		tags="$tags,$([ $((i % 2)) -eq 0 ] && echo 8100 || echo 88a8):0"
	done
	echo "${tags#,}"
}

# ev_send NS IFACE DST_MAC TAGS KIND SRC DST TOKEN
ev_send() {
	local ns=$1
	shift
	ip netns exec "$ns" "$PY" -c "$EV_PY" send "$@" "$UDP_PORT" ||
		fail "cannot send $7 from $ns"
}

ev_seen() {
	grep -qsxF "$1" "$EV_SEEN"
}

ev_mac() {
	ip -n "$1" -br link show dev "$2" | awk '{ print $3 }'
}

# ev_ll NS IFACE: the link-local address of IFACE.
ev_ll() {
	ip -n "$1" -6 -br addr show dev "$2" scope link |
		awk '{ sub("/.*", "", $3); print $3 }'
}

# evasion_check MODE: camfence attached in MODE with ns.conf (RU denied,
# DE allowed); the camera sends stacked-tag UDP to ru and de, and
# off-link ND to ru6; the inet host sniffs what arrives.  What reaches
# RU must be counted by its rule up to 8 tags and as malformed beyond:
# 6.18.44 drops frames with more than 8 priority tags itself, a kernel
# without that limit routes them.
evasion_check() {
	local mode=$1 gw n h src tok m0 m1 r0 r1 bad='' toks='' n_malf=0 n_ru=0
	cf_attach "$TOPO_GW_IF" --mode "$mode" --policy "$DATA/ns.conf" ||
		return 1
	gw=$(ev_mac "$TOPO_GW" "$TOPO_GW_IF")
	# the gateway's neighbours on both sides, so that nothing is queued
	expect_host icmp de4 pass && expect_host icmp de6 pass || return 1
	ev_sniff_start "$TOPO_INET" eth0 || return 1
	m0=$(stat_global malformed) &&
		r0=$(stat_class "deny country RU" packets) || return 1

	for n in 3 4 5 8 9 12; do
		for h in ru4 ru6 de4 de6; do
			case $h in
			de?) [ $n -gt 8 ] && continue ;;
			*) [ $n -gt 8 ] && n_malf=$((n_malf + 1)) ||
				n_ru=$((n_ru + 1)) ;;
			esac
			src=$TOPO_CAM4
			case $h in *6) src=$TOPO_CAM6 ;; esac
			tok=cfev-$$-$mode-$h-$n
			toks="$toks $tok"
			ev_send "$TOPO_CAM" eth0 "$gw" "$(ev_tags $n)" udp "$src" \
				"$(topo_addr $h)" "$tok" || return 1
		done
	done
	for h in ns na; do
		for n in 0 3; do
			tok=cfev-$$-$mode-$h-$n
			toks="$toks $tok"
			n_ru=$((n_ru + 1))
			ev_send "$TOPO_CAM" eth0 "$gw" "$(ev_tags $n)" $h \
				"$TOPO_CAM6" "$(topo_addr ru6)" "$tok" || return 1
		done
	done

	# What is allowed arrives (and tells when the rest would have).
	for tok in $toks; do
		case $tok in
		*-de?-*) wait_for 2000 ev_seen "$tok" ||
			bad="$bad ${tok#"cfev-$$-"}(lost)" ;;
		esac
	done
	sleep 0.2
	for tok in $toks; do
		case $tok in
		*-de?-*) ;;
		*) ev_seen "$tok" && bad="$bad ${tok#"cfev-$$-"}(arrived)" ;;
		esac
	done
	ev_sniff_stop
	[ -z "$bad" ] || fail "mode $mode:$bad" || return 1

	m1=$(stat_global malformed) &&
		r1=$(stat_class "deny country RU" packets) || return 1
	if [ $((m1 - m0)) -ne $n_malf ] || [ $((r1 - r0)) -ne $n_ru ]; then
		fail "mode $mode: malformed +$((m1 - m0)), deny country RU +$((r1 - r0)); expected +$n_malf and +$n_ru"
	fi
}

t_evasion_native() { evasion_check native; }
t_evasion_generic() { evasion_check generic; }
t_evasion_tc() { evasion_check tc; }

# Neighbour discovery with the gateway itself still works: the camera
# resolves its link-local and its global address from scratch and pings
# both, counted as ND (the solicitations go to ff02::1:ff00:0/104, the
# answers from the gateway's addresses to the camera).
t_evasion_nd_gateway() {
	local ll n0 n1
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	ll=$(ev_ll "$TOPO_GW" "$TOPO_GW_IF")
	[ -n "$ll" ] || fail "no link-local address on $TOPO_GW_IF" || return 1
	n0=$(stat_global ndp) || return 1
	ip -n "$TOPO_CAM" -6 neigh flush dev eth0
	ip -n "$TOPO_GW" -6 neigh flush dev "$TOPO_GW_IF"
	expect icmp "$TOPO_CAM" "$ll%eth0" pass "" "gateway $ll" &&
		expect icmp "$TOPO_CAM" 2001:db8:ca::1 pass "" \
			"gateway 2001:db8:ca::1" || return 1
	n1=$(stat_global ndp) || return 1
	[ "$n1" -gt "$n0" ] || fail "no neighbour discovery counted ($n0 -> $n1)"
}

# Egress: a denied host's neighbour advertisement, hop limit 255 and a
# payload, to the camera's global address.  The gateway routes it, hop
# limit 254, so TC egress judges it by its source and drops it; the same
# from an allowed host arrives.
t_evasion_nd_egress() {
	local gw bad=
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	gw=$(ev_mac "$TOPO_GW" up0)
	egress_expect icmp de6 pass || return 1
	ev_sniff_start "$TOPO_CAM" eth0 || return 1
	ev_send "$TOPO_INET" eth0 "$gw" "" na "$(topo_addr ru6)" "$TOPO_CAM6" \
		cfev-$$-egress-ru6 &&
		ev_send "$TOPO_INET" eth0 "$gw" "" na "$(topo_addr de6)" \
			"$TOPO_CAM6" cfev-$$-egress-de6 || return 1
	wait_for 2000 ev_seen cfev-$$-egress-de6 || bad="de6 lost"
	ev_seen cfev-$$-egress-ru6 && bad="$bad ru6 arrived"
	ev_sniff_stop
	[ -z "$bad" ] || fail "egress neighbour advertisements: $bad"
}

# ev_vlan_stack NS IFACE N: N VLAN devices on IFACE, each on the last
# (ids 11, 12, ...), named cfv1..cfvN; prints the innermost's name.
ev_vlan_stack() {
	local ns=$1 lower=$2 i
	for ((i = 1; i <= $3; i++)); do
		ip -n "$ns" link add link "$lower" name "cfv$i" type vlan \
			id $((10 + i)) || return 1
		ip -n "$ns" link set "cfv$i" up || return 1
		lower=cfv$i
	done
	echo "$lower"
}

# Egress through stacked VLAN devices, as a gateway whose cameras sit
# behind QinQ would send: the innermost tags in the frame, the outermost
# in skb->vlan_tci (veth offloads it), five in all.  TC egress must see
# through them and judge the source: a denied host's UDP to the camera
# is dropped, an allowed host's arrives.  Needs 802.1Q devices
# (CONFIG_VLAN_8021Q), which some kernels lack.
t_evasion_egress_vlan() {
	local gwv camv rc
	ip -n "$TOPO_GW" link add link "$TOPO_GW_IF" name cfvt type vlan id 9 \
		2>/dev/null || skip "this kernel has no 802.1Q devices" || return
	ip -n "$TOPO_GW" link del cfvt
	if gwv=$(ev_vlan_stack "$TOPO_GW" "$TOPO_GW_IF" 5) &&
		camv=$(ev_vlan_stack "$TOPO_CAM" eth0 5) &&
		ip -n "$TOPO_GW" addr add 2001:db8:e0::1/64 dev "$gwv" nodad &&
		ip -n "$TOPO_CAM" addr add 2001:db8:e0::10/64 dev "$camv" nodad &&
		ip -n "$TOPO_GW" -6 neigh replace 2001:db8:e0::10 \
			lladdr "$(ev_mac "$TOPO_CAM" eth0)" dev "$gwv" nud permanent
	then
		ev_vlan_egress
		rc=$?
	else
		fail "cannot build the VLAN stacks"
		rc=1
	fi
	ev_vlan_down
	return $rc
}

ev_vlan_egress() {
	local gw bad='' r0 r1
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	gw=$(ev_mac "$TOPO_GW" up0)
	egress_expect icmp de6 pass || return 1
	ev_sniff_start "$TOPO_CAM" eth0 || return 1
	r0=$(stat_class "deny country RU" packets) || return 1
	ev_send "$TOPO_INET" eth0 "$gw" "" udp "$(topo_addr ru6)" \
		2001:db8:e0::10 cfev-$$-vlan-egress-ru6 &&
		ev_send "$TOPO_INET" eth0 "$gw" "" udp "$(topo_addr de6)" \
			2001:db8:e0::10 cfev-$$-vlan-egress-de6 || return 1
	wait_for 2000 ev_seen cfev-$$-vlan-egress-de6 || bad="de6 lost"
	ev_seen cfev-$$-vlan-egress-ru6 && bad="$bad ru6 arrived"
	ev_sniff_stop
	r1=$(stat_class "deny country RU" packets) || return 1
	[ -z "$bad" ] || fail "through 5 stacked VLAN devices: $bad" || return 1
	[ $((r1 - r0)) -eq 1 ] ||
		fail "deny country RU +$((r1 - r0)) for one frame through the VLAN stack"
}

ev_vlan_down() {
	ip -n "$TOPO_GW" link del cfv1 2>/dev/null
	ip -n "$TOPO_CAM" link del cfv1 2>/dev/null
	return 0
}
