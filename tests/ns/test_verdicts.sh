# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# What the camera may reach under tests/data/ns.conf, for each protocol and
# family, with real traffic through the XDP (ingress, destination judged)
# and TC egress (replies, source judged) programs.

# Host -> verdict under ns.conf (hosts and their countries: topo.sh).
NS_CONF_EXPECT="de:pass us:pass hk:pass ru:drop asn:drop cnok:pass cn:drop"

# verdicts PROTO FAMILY [EXPECTATIONS]: probe every host of the family,
# all at once.
verdicts() {
	local proto=$1 fam=$2 exp=${3:-$NS_CONF_EXPECT} e
	for e in $exp; do
		par expect_host "$proto" "${e%%:*}$fam" "${e#*:}"
	done
	par_wait
}

# attach_ns_conf: attach to the camera-facing veth with ns.conf, once for
# the group of verdict tests (the next test that needs it reuses it).
attach_ns_conf() {
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf"
}

t_plain_traffic() {
	local p f
	# Without camfence every host answers: the topology itself is sound,
	# so a drop later on is camfence's doing.
	for p in icmp tcp udp; do
		for f in 4 6; do
			verdicts $p $f \
				"de:pass us:pass hk:pass ru:pass asn:pass cnok:pass cn:pass" ||
				return 1
		done
	done
}

t_verdicts_icmp4() { attach_ns_conf && verdicts icmp 4; }
t_verdicts_icmp6() { attach_ns_conf && verdicts icmp 6; }
t_verdicts_tcp4() { attach_ns_conf && verdicts tcp 4; }
t_verdicts_tcp6() { attach_ns_conf && verdicts tcp 6; }
t_verdicts_udp4() { attach_ns_conf && verdicts udp 4; }
t_verdicts_udp6() { attach_ns_conf && verdicts udp 6; }

# Monitor: HK passes, and each packet to it becomes an event naming the
# address, the verdict "monitor" and the class "monitor country HK".
t_monitor_events() {
	local ev n
	attach_ns_conf || return 1
	events_start 10 || return 1
	expect_host icmp hk4 pass || return 1
	expect_host tcp hk6 pass || return 1
	events_wait events_have "$(topo_addr hk4) monitor HK" \
		"$(topo_addr hk6) monitor HK" || return 1
	ev=$(cat "$T_DIR/events.out")
	n=$(echo "$ev" | events_match "$(topo_addr hk4)" monitor HK)
	[ "${n:-0}" -ge 1 ] || fail "no monitor event for hk4: $ev" || return 1
	n=$(echo "$ev" | events_match "$(topo_addr hk6)" monitor HK)
	[ "${n:-0}" -ge 1 ] || fail "no monitor event for hk6: $ev"
}
