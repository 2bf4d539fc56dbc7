# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# attach, detach and what they leave behind.

# nothing_attached IFACE IDS: no XDP or clsact filter on the interface,
# and none of the links hook_ids reported before the detach (IDS) is left
# in the kernel.
nothing_attached() {
	local xdp il ip el ep l side
	xdp=$(kernel_xdp "$1")
	[ -z "$xdp" ] || fail "XDP still on $1: $xdp" || return 1
	for side in ingress egress; do
		l=$(kernel_clsact "$1" $side | tr '\n' ' ')
		[ -z "$l" ] ||
			fail "clsact $side filters still on $1: progs $l" ||
			return 1
	done
	read -r il ip el ep <<<"$2"
	for l in $il $el; do
		[ "$l" = - ] && continue
		[ -z "$(kernel_link "$l")" ] ||
			fail "link $l of $1 still in the kernel: $(kernel_link "$l")" ||
			return 1
	done
	return 0
}

# Detach gives the camera its traffic back and takes every pin with it.
t_detach_restores() {
	local rc ids
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	expect_host icmp ru4 drop || return 1
	[ -n "$(pins)" ] || fail "nothing pinned under $CF_PIN after attach" ||
		return 1
	ids=$(hook_ids "$TOPO_GW_IF") || return 1
	cf_ok detach "$TOPO_GW_IF" || return 1
	expect_host icmp ru4 pass && expect_host tcp ru6 pass &&
		expect_host udp asn4 pass || return 1
	nothing_attached "$TOPO_GW_IF" "$ids" || return 1
	[ -z "$(pins)" ] ||
		fail "pins left after the last detach: $(pins | tr '\n' ' ')" ||
		return 1
	cf detach "$TOPO_GW_IF" >/dev/null 2>&1
	rc=$?
	[ $rc -eq 4 ] || fail "detach of a detached interface exited $rc, expected 4"
}

# A second attach of the same interface changes nothing and fails nothing.
t_attach_idempotent() {
	local n ids il ip el ep modes em
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	cf_attach "$TOPO_GW_IF" || return 1
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	n=$(status_ifaces | grep -cx "$TOPO_GW_IF")
	[ "$n" -eq 1 ] || fail "status lists $TOPO_GW_IF $n times" || return 1
	# One XDP program and one egress hook, the ones status names.
	ids=$(hook_ids "$TOPO_GW_IF") && modes=$(hook_modes "$TOPO_GW_IF") ||
		return 1
	read -r il ip el ep <<<"$ids"
	read -r _ em <<<"$modes"
	[ "$(kernel_xdp "$TOPO_GW_IF")" = "driver $ip" ] ||
		fail "XDP on $TOPO_GW_IF: '$(kernel_xdp "$TOPO_GW_IF")', expected 'driver $ip'" ||
		return 1
	# tc_hook_is: a single clsact filter, or a tcx link and no filter
	tc_hook_is "$TOPO_GW_IF" egress "$em" "$el" "$ep" || return 1
	if [ "$em" = tc ]; then
		n=$(bpftool -j link show |
			jq_py 'len([l for l in d if l["prog_id"] == '"$ep"'])')
		[ "$n" -eq 1 ] ||
			fail "$n links run the egress program after three attaches" ||
			return 1
	fi
	expect_host icmp de4 pass && expect_host icmp ru4 drop
}

# Two camera-facing interfaces are judged by the one policy: a push
# reaches both, and detaching one leaves the other fenced.
t_two_cameras_one_policy() {
	local n ids idx
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	cf_attach "$TOPO_GW_IF2" || return 1
	n=$(status_ifaces | grep -cxE "$TOPO_GW_IF|$TOPO_GW_IF2")
	[ "$n" -eq 2 ] || fail "status lists $n of the 2 interfaces" || return 1
	expect icmp "$TOPO_CAM2" "$(topo_addr ru4)" drop "" "cam2 -> ru4" &&
		expect tcp "$TOPO_CAM2" "$(topo_addr de6)" pass "" "cam2 -> de6" ||
		return 1
	cf_push ns-flip.conf || return 1
	expect icmp "$TOPO_CAM2" "$(topo_addr de4)" drop "" "cam2 -> de4" &&
		expect_host icmp de4 drop || return 1
	ids=$(hook_ids "$TOPO_GW_IF2") || return 1
	idx=$(ip -n "$TOPO_GW" -o link show "$TOPO_GW_IF2" | cut -d: -f1)
	[ -n "$(pins | grep "/links/$idx-")" ] ||
		fail "no link pins of $TOPO_GW_IF2 (ifindex $idx)" || return 1
	cf_ok detach "$TOPO_GW_IF2" || return 1
	expect icmp "$TOPO_CAM2" "$(topo_addr de4)" pass "" "cam2 -> de4" &&
		expect_host icmp de4 drop || return 1
	[ -z "$(pins | grep "/links/$idx-")" ] ||
		fail "pins of $TOPO_GW_IF2 left: $(pins | grep "/links/$idx-")" ||
		return 1
	[ -n "$(pins | grep /links/)" ] ||
		fail "detaching $TOPO_GW_IF2 took $TOPO_GW_IF's pins too" || return 1
	nothing_attached "$TOPO_GW_IF2" "$ids"
}

# Attached but without a policy, the operator's choice decides: drop
# fences everything IP until the first push; pass lets all through.
t_on_missing_policy() {
	cf_attach "$TOPO_GW_IF" --on-missing-policy drop || return 1
	status_has_policy && fail "status reports a policy before any push" &&
		return 1
	expect_host icmp de4 drop && expect_host tcp de6 drop || return 1
	cf_push ns.conf || return 1
	expect_host icmp de4 pass && expect_host icmp ru4 drop || return 1
	cf_reset
	cf_attach "$TOPO_GW_IF" --on-missing-policy pass || return 1
	expect_host icmp ru4 pass && expect_host tcp ru6 pass
}
