# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# topo.sh - the namespace topology the demo and the integration tests use.
# Sourced, not run.  Every address is from a documentation range
# (RFC 5737, RFC 3849), so nothing here can ever reach a real host.
#
#   cam  eth0 192.0.2.10/26    2001:db8:ca::10/64
#          |
#   gw   cf-cam 192.0.2.1/26   2001:db8:ca::1/64     <- camfence attaches here
#        cf-cam2 192.0.2.65/26 2001:db8:cb::1/64     (second camera, optional)
#        up0  192.0.2.129/25   2001:db8:ff::1/64
#          |
#   inet eth0 192.0.2.130/25   2001:db8:ff::2/64
#        lo   the "internet hosts" (TOPO_HOSTS), placed in countries and
#             ASNs by tests/data/overlay.csv
#
#   cam2 eth0 192.0.2.74/26    2001:db8:cb::10/64     (topo_add_camera2)
#
# Namespace names carry a per-run prefix (cft<pid>-) so parallel runs and
# leftovers of killed runs never clash; interface names are created inside
# the namespaces, so they can be fixed and short.

# Internet hosts: name, address, what the overlay says about it.
TOPO_HOSTS="
de4	198.51.100.10	DE
hk4	198.51.100.70	HK
us4	198.51.100.100	US
ru4	198.51.100.200	RU
asn4	203.0.113.10	AS64500
cnok4	203.0.113.200	CN,allow-net
cn4	203.0.113.150	CN
de6	2001:db8:de::10	DE
hk6	2001:db8:ac::10	HK
us6	2001:db8:5a::10	US
ru6	2001:db8:bad::10	RU
asn6	2001:db8:64::10	AS64500
cnok6	2001:db8:c0::200	CN,allow-net
cn6	2001:db8:c0::150	CN
"

TOPO_CAM4=192.0.2.10
TOPO_CAM6=2001:db8:ca::10
TOPO_CAM2_4=192.0.2.74
TOPO_CAM2_6=2001:db8:cb::10
TOPO_GW_IF=cf-cam
TOPO_GW_IF2=cf-cam2

# topo_init [PREFIX]: name this run's namespaces.
# shellcheck disable=SC2120 # PREFIX is optional
topo_init() {
	TOPO_P=${1:-cft$$-}
	TOPO_CAM=${TOPO_P}cam
	TOPO_CAM2=${TOPO_P}cam2
	TOPO_GW=${TOPO_P}gw
	TOPO_INET=${TOPO_P}inet
}

# topo_addr NAME: the address of an internet host by its name.
topo_addr() {
	local name addr rest
	while read -r name addr rest; do
		[ "$name" = "$1" ] && { echo "$addr"; return 0; }
	done <<<"$TOPO_HOSTS"
	echo "topo: no host named $1" >&2
	return 1
}

# Run in a namespace.  `ip netns exec` remounts /sys (and so hides bpffs):
# fine for traffic tools, wrong for camfence (use topo_gw_nsenter).
topo_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# Run in the gateway's network namespace only, keeping the host's bpffs.
topo_gw_nsenter() {
	nsenter --net="/run/netns/$TOPO_GW" "$@"
}

_topo_sysctl() {
	ip netns exec "$1" sysctl -qw "$2" >/dev/null
}

_topo_ns_new() {
	ip netns add "$1" || return 1
	ip -n "$1" link set lo up
	# No router advertisements, no DAD surprises on the links we make.
	_topo_sysctl "$1" net.ipv6.conf.all.accept_ra=0
	_topo_sysctl "$1" net.ipv6.conf.default.accept_ra=0
	_topo_sysctl "$1" net.ipv6.conf.default.accept_dad=0
}

# _topo_link NS_A IF_A NS_B IF_B: a veth pair between two namespaces.
_topo_link() {
	ip -n "$1" link add name "$2" type veth peer name "$4" netns "$3" &&
		ip -n "$1" link set "$2" up &&
		ip -n "$3" link set "$4" up
}

_topo_addr() {
	local ns=$1 dev=$2 a
	shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$dev" nodad || return 1 ;;
		*) ip -n "$ns" addr add "$a" dev "$dev" || return 1 ;;
		esac
	done
}

# _topo_camera NS GW_IF CAM4 GW4 CAM6 GW6: a camera behind the gateway.
_topo_camera() {
	_topo_ns_new "$1" &&
		_topo_link "$TOPO_GW" "$2" "$1" eth0 &&
		_topo_addr "$TOPO_GW" "$2" "$4/26" "$6/64" &&
		_topo_addr "$1" eth0 "$3/26" "$5/64" &&
		ip -n "$1" route add default via "$4" &&
		ip -n "$1" -6 route add default via "$6"
}

_topo_inet_hosts() {
	local name addr rest
	while read -r name addr rest; do
		[ -n "$name" ] || continue
		case $addr in
		*:*) _topo_addr "$TOPO_INET" lo "$addr/128" || return 1 ;;
		*) _topo_addr "$TOPO_INET" lo "$addr/32" || return 1 ;;
		esac
	done <<<"$TOPO_HOSTS"
}

_topo_routes() {
	local r
	for r in 198.51.100.0/24 203.0.113.0/24; do
		ip -n "$TOPO_GW" route add "$r" via 192.0.2.130 || return 1
	done
	ip -n "$TOPO_GW" -6 route add 2001:db8::/32 via 2001:db8:ff::2 &&
		ip -n "$TOPO_INET" route add default via 192.0.2.129 &&
		ip -n "$TOPO_INET" -6 route add default via 2001:db8:ff::1
}

# topo_up: cam, gw and inet, with routes and forwarding; 0 or 1.
topo_up() {
	[ -n "${TOPO_P:-}" ] || topo_init
	_topo_ns_new "$TOPO_GW" || return 1
	_topo_ns_new "$TOPO_INET" || return 1
	_topo_sysctl "$TOPO_GW" net.ipv4.ip_forward=1
	_topo_sysctl "$TOPO_GW" net.ipv6.conf.all.forwarding=1
	_topo_camera "$TOPO_CAM" "$TOPO_GW_IF" $TOPO_CAM4 192.0.2.1 \
		$TOPO_CAM6 2001:db8:ca::1 || return 1
	_topo_link "$TOPO_GW" up0 "$TOPO_INET" eth0 &&
		_topo_addr "$TOPO_GW" up0 192.0.2.129/25 2001:db8:ff::1/64 &&
		_topo_addr "$TOPO_INET" eth0 192.0.2.130/25 2001:db8:ff::2/64 &&
		_topo_inet_hosts && _topo_routes
}

# topo_add_camera2: a second camera on its own gateway interface.
topo_add_camera2() {
	_topo_camera "$TOPO_CAM2" "$TOPO_GW_IF2" $TOPO_CAM2_4 192.0.2.65 \
		$TOPO_CAM2_6 2001:db8:cb::1
}

# _topo_ns_del NS: stop what still runs in a namespace of ours (listeners
# of a run that was killed), then remove it; its veths go with it.
_topo_ns_del() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	ip netns del "$1" 2>/dev/null
}

# topo_down: remove this run's namespaces.
topo_down() {
	local ns
	[ -n "${TOPO_P:-}" ] || return 0
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		case $ns in
		"$TOPO_P"*) _topo_ns_del "$ns" ;;
		esac
	done
	return 0
}

# topo_reap_stale: remove namespaces left by runs that were killed
# (cft<pid>-... or cfd<pid>-... whose process is gone).
topo_reap_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		pid=$(echo "$ns" | sed -n 's/^cf[td]\([0-9][0-9]*\)-.*/\1/p')
		[ -n "$pid" ] || continue
		[ -d "/proc/$pid" ] && continue
		_topo_ns_del "$ns"
	done
	return 0
}

# topo_bpffs_mount: make sure bpffs is where camfence pins.
topo_bpffs_mount() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
}
