# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Allow-list mode (default deny), monitor-only roll-out, and what counts
# as local.

ALLOWLIST_EXPECT="de:pass hk:pass us:drop ru:drop asn:drop cnok:pass cn:drop"

# Only Germany (and the named exception) passes; AS64500 is in Germany
# but its asn rule is more specific than the country rule.
t_allowlist() {
	local p f
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns-allowlist.conf" || return 1
	for p in icmp tcp; do
		for f in 4 6; do
			verdicts $p $f "$ALLOWLIST_EXPECT" || return 1
		done
	done
	par expect_host udp de4 pass
	par expect_host udp us6 drop
	# The camera LAN is allowed by name: the gateway answers.
	par expect icmp "$TOPO_CAM" 192.0.2.1 pass "" "gateway 192.0.2.1"
	par expect icmp "$TOPO_CAM" 2001:db8:ca::1 pass "" \
		"gateway 2001:db8:ca::1"
	# And what reaches the camera is judged by the same list.
	par egress_expect icmp us4 drop
	par egress_expect icmp de6 pass
	par_wait
}

# Neighbour discovery on the link passes before any lookup: with no rule
# for the LAN, a camera that routes through the gateway's link-local
# address (as one configured by router advertisements does) resolves it
# over IPv6 and reaches Germany, while the gateway's own (unlisted)
# global address stays closed.  ND sent to a global address is judged
# like any packet, and the gateway answers a camera that asks for its
# global address from that address: a camera routing through it needs it
# allowed (t_allowlist, where the LAN is).
t_allowlist_nd() {
	local ll rc
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns-allowlist-bare.conf" ||
		return 1
	ll=$(ip -n "$TOPO_GW" -6 -br addr show dev "$TOPO_GW_IF" scope link |
		awk '{ sub("/.*", "", $3); print $3 }')
	[ -n "$ll" ] || fail "no link-local address on $TOPO_GW_IF" || return 1
	ip -n "$TOPO_CAM" -6 route replace default via "$ll" dev eth0
	ip -n "$TOPO_CAM" -6 neigh flush dev eth0 2>/dev/null
	par expect_host icmp de6 pass
	par expect_host icmp de4 pass
	par expect_host icmp us6 drop
	par expect icmp "$TOPO_CAM" "$ll%eth0" pass "" "gateway $ll"
	par expect icmp "$TOPO_CAM" 2001:db8:ca::1 drop "" \
		"gateway 2001:db8:ca::1"
	par_wait
	rc=$?
	ip -n "$TOPO_CAM" -6 route replace default via 2001:db8:ca::1
	return $rc
}

# Local ranges are not in any database and not named by the policy: they
# pass even in allow-list mode, as their own class.  (The documentation
# ranges the namespaces use are not local, hence lookup here.)
t_lookup_local() {
	local a
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns-allowlist.conf" || return 1
	for a in 10.1.2.3 172.16.0.1 192.168.1.1 100.64.0.1 169.254.1.1 \
		127.0.0.1 224.0.0.251 fd00::1 fe80::1 ff02::1; do
		lookup_is "$a" pass local || return 1
	done
	lookup_is 198.51.100.100 drop default &&
		lookup_is 198.51.100.10 pass 'allow country DE' &&
		lookup_is 203.0.113.10 drop 'deny asn AS64500' &&
		lookup_is 203.0.113.200 pass 'allow net 203.0.113.200/32' &&
		lookup_is 2001:db8:bad::1 drop default &&
		lookup_is 192.0.2.10 pass 'allow net 192.0.2.0/25'
}

# Monitor-only: nothing is dropped, everything a rule names is logged.
t_monitor_only() {
	local ev n h
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns-monitor.conf" || return 1
	events_start 6 || return 1
	for h in ru4 asn4 cn6; do
		expect_host icmp $h pass || return 1
	done
	events_wait events_have "$(topo_addr ru4) monitor RU" \
		"$(topo_addr asn4) monitor 64500" "$(topo_addr cn6) monitor CN" ||
		return 1
	ev=$(cat "$T_DIR/events.out")
	for h in ru4:RU asn4:64500 cn6:CN; do
		n=$(echo "$ev" | events_match "$(topo_addr "${h%%:*}")" monitor \
			"${h#*:}")
		[ "${n:-0}" -ge 1 ] ||
			fail "no monitor event for ${h%%:*}: $ev" || return 1
	done
}
