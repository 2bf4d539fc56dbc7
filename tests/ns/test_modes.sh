# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Each ingress mode judges the same way, `status -j` says which one runs,
# and TC egress judges what reaches the cameras by its source.

# mode_check MODE: attach in MODE, check status and a verdict each way.
mode_check() {
	local mode=$1 got
	cf_attach "$TOPO_GW_IF" --mode "$mode" --policy "$DATA/ns.conf" ||
		return 1
	got=$(status_mode "$TOPO_GW_IF") || return 1
	[ "$got" = "$mode" ] ||
		fail "status -j says mode '$got' after --mode $mode" || return 1
	par expect_host icmp de4 pass
	par expect_host icmp ru4 drop
	par expect_host tcp de6 pass
	par expect_host tcp ru6 drop
	par expect_host udp asn4 drop
	par expect_host udp cnok6 pass
	par egress_expect icmp ru6 drop
	par egress_expect tcp de4 pass
	par_wait || return 1
	# The datapath the mode names is the one the kernel shows.
	mode_in_kernel "$TOPO_GW_IF" "$mode"
}

t_mode_native() { mode_check native; }
t_mode_generic() { mode_check generic; }
t_mode_tc() { mode_check tc; }

# auto picks native XDP on a veth.
t_mode_auto() {
	local got
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	got=$(status_mode "$TOPO_GW_IF") || return 1
	[ "$got" = native ] ||
		fail "auto attached '$got' on a veth, expected native" ||
		return 1
	expect_host icmp ru4 drop && mode_in_kernel "$TOPO_GW_IF" native
}

# Egress: internet hosts reach the camera only from allowed sources; the
# source is judged because that is the remote end of traffic to a camera.
t_egress_source() {
	local p h
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	for p in icmp tcp udp; do
		for h in de4:pass ru4:drop asn4:drop cnok4:pass \
			de6:pass ru6:drop cn6:drop hk6:pass; do
			par egress_expect $p "${h%%:*}" "${h#*:}"
		done
	done
	par_wait
}

# egress_expect PROTO HOST pass|drop: HOST (its address as source) to the
# camera.  A dropped ping never got to the camera: its request was judged
# at TC egress of the camera-facing veth, after XDP saw nothing of it.
egress_expect() {
	local src cam=$TOPO_CAM4
	src=$(topo_addr "$2")
	case $src in *:*) cam=$TOPO_CAM6 ;; esac
	expect "$1" "$TOPO_INET" "$cam" "$3" "$src" "camera (from $2)"
}

# The kernel's view: native or generic XDP running camfence's ingress
# program, or (tc mode) no XDP at all and the ingress program at tc; in
# every mode the egress program at tc egress.  tc is a tcx link, or a
# clsact filter where the kernel has no tcx (tc_hook_is).
mode_in_kernel() {
	local ids il ip el ep modes im em xdp want
	ids=$(hook_ids "$1") && modes=$(hook_modes "$1") || return 1
	read -r il ip el ep <<<"$ids"
	read -r im em <<<"$modes"
	xdp=$(kernel_xdp "$1")
	case $2 in
	native) want="driver $ip" ;;
	generic) want="generic $ip" ;;
	tc) want= ;;
	esac
	[ "$xdp" = "$want" ] ||
		fail "mode $2: the kernel shows XDP '$xdp' on $1, expected '$want'" ||
		return 1
	if [ "$2" = tc ]; then
		tc_hook_is "$1" ingress "$im" "$il" "$ip" || return 1
	else
		[ -z "$(kernel_clsact "$1" ingress)" ] ||
			fail "mode $2: clsact ingress filters on $1 too: $(kernel_clsact "$1" ingress | tr '\n' ' ')" ||
			return 1
	fi
	tc_hook_is "$1" egress "$em" "$el" "$ep"
}
