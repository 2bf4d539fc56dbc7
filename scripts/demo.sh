#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# demo.sh - camfence's main job, end to end, in throw-away namespaces:
#
#   camera --- [cf-cam] gateway [up0] --- "internet"
#
# attach camfence to the gateway's camera-facing veth, push
# tests/data/demo.conf (the packaged IPFire location database plus an
# overlay placing the documentation ranges in Germany, Russia, ...), send
# ping and TCP from the camera to allowed and denied hosts, show status,
# stats, events and lookups of real addresses, then take it all down.
#
# Builds nothing (`make demo` builds first).  Exits 1 when allowed traffic
# did not pass or denied traffic was not dropped, 77 when it cannot run
# (not root, camfence not built).  Leaves no namespace, pin or file behind.

set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CF=${CAMFENCE:-$ROOT/build/camfence}
POLICY=$ROOT/tests/data/demo.conf
PY=/usr/bin/python3
TCP_PORT=443
ok=1

. "$ROOT/scripts/topo.sh"

ARROW="->"
case ${LC_ALL:-${LC_CTYPE:-${LANG:-}}} in *UTF-8* | *utf8*) ARROW="→" ;; esac
MONITORED=
if [ -t 1 ]; then
	B=$(printf '\033[1m') G=$(printf '\033[32m') R=$(printf '\033[31m')
	N=$(printf '\033[0m')
else
	B='' G='' R='' N=''
fi

step() {
	printf '\n%s== %s%s\n' "$B" "$*" "$N"
}

die() {
	echo "demo: $*" >&2
	exit 77
}

# cf ARGS: camfence in the gateway's network namespace (nsenter keeps the
# host's bpffs, which `ip netns exec` would hide).
cf() {
	timeout 60 nsenter --net="/run/netns/$TOPO_GW" "$CF" \
		--bpffs "$PIN" --state "$STATE" "$@"
}

# show CMD...: print the command as an operator would type it, then run it.
show() {
	printf '%s# camfence %s%s\n' "$B" "$*" "$N"
	cf "$@" 2>&1
}

cleanup() {
	local pids
	pids=$(jobs -p)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	[ -e "/run/netns/$TOPO_GW" ] && cf detach --all >/dev/null 2>&1
	topo_down
	rm -rf "$PIN" "$TMP"
	wait 2>/dev/null
}

# Pin and scratch directories of demos killed before their trap ran.
reap_stale_dirs() {
	local d pid
	for d in /sys/fs/bpf/cf-demo-* /tmp/cf-demo-*.*; do
		[ -d "$d" ] || continue
		pid=${d#*/cf-demo-}
		pid=${pid%%.*}
		case $pid in '' | *[!0-9]*) continue ;; esac
		[ -d "/proc/$pid" ] || rm -rf "$d"
	done
}

preflight() {
	local t
	[ "$(id -u)" -eq 0 ] || die "run as root (namespaces and BPF)"
	[ -x "$CF" ] || die "$CF not found: run make first"
	for t in ip nsenter ping nc timeout "$PY"; do
		command -v "$t" >/dev/null || die "$t not found: run make deps"
	done
	[ -r /usr/share/libloc-location/location.db ] ||
		die "no location database: run make deps (libloc-database)"
	topo_bpffs_mount || die "cannot mount bpffs on /sys/fs/bpf"
}

setup() {
	topo_init "cfd$$-"
	PIN=/sys/fs/bpf/cf-demo-$$
	TMP=$(mktemp -d /tmp/cf-demo-$$.XXXXXX)
	STATE=$TMP/state
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	topo_reap_stale
	reap_stale_dirs
	step "1. Namespaces: a camera, a gateway and the \"internet\""
	topo_up || die "cannot create the namespaces"
	cat <<EOF
  $TOPO_CAM   eth0 $TOPO_CAM4 $TOPO_CAM6
      |
  $TOPO_GW    $TOPO_GW_IF (camfence: XDP in, TC out)    up0
                                                  |
  $TOPO_INET  198.51.100.0/24 203.0.113.0/24 2001:db8::/32 hosts
EOF
	# Something to connect to on every internet host.
	ip netns exec "$TOPO_INET" nc -4 -n -lk $TCP_PORT </dev/null \
		>/dev/null 2>&1 &
	ip netns exec "$TOPO_INET" nc -6 -n -lk $TCP_PORT </dev/null \
		>/dev/null 2>&1 &
}

# rule_of ADDR: the label of the class that judged the last packet to or
# from ADDR, from the event reader running in the background (text lines:
# "TIME IFACE DIR VERDICT LABEL SRC -> DST PROTO ...").
rule_of() {
	local r
	for _ in 1 2 3 4 5; do
		r=$(sed -n "s/^[^ ]* [^ ]* [a-z]*gress [a-z]* \(.*\) [^ ]* -> [^ ]* [a-z0-9]* .*/\1|&/p" \
			"$TMP/events.txt" 2>/dev/null | grep -F " $1 " | tail -n 1)
		[ -n "$r" ] && break
		sleep 0.1
	done
	r=${r%%|*}
	r=${r% malformed}
	echo "${r:-no event seen}"
}

# count_replies NS DST [SRC]: echo replies to 3 pings.
count_replies() {
	ip netns exec "$1" ping -n -c 3 -i 0.2 -W 1 ${3:+-I "$3"} "$2" \
		2>/dev/null | grep -c 'bytes from'
}

# tcp_state NS DST: "connected" or "timed out".
tcp_state() {
	if ip netns exec "$1" nc -z -n -w 1 "$2" $TCP_PORT >/dev/null 2>&1; then
		echo connected
	else
		echo "timed out"
	fi
}

# report FROM TO WHAT WANT REPLIES TCP: one line, and the verdict on it.
report() {
	local from=$1 to=$2 what=$3 want=$4 n=$5 tcp=$6 got rule how
	got=drop
	[ "$n" -gt 0 ] && got=pass
	if [ "$from" = camera ]; then
		printf '  camera %s %-17s' "$ARROW" "$to"
	else
		printf '  %17s %s camera' "$from" "$ARROW"
	fi
	printf ' (%s): %d/3 replies' "$what" "$n"
	[ -n "$tcp" ] && printf ', TCP %s' "$tcp"
	# TCP must agree with ping.
	case $got/$tcp in pass/timed* | drop/conn*) got=mixed ;; esac
	if [ "$got" != "$want" ]; then
		ok=0
		printf ' %s<- FAILED: expected %s%s\n' "$R" "$want" "$N"
		return
	fi
	rule=$(rule_of "$( [ "$from" = camera ] && echo "$to" || echo "$from")")
	case $want in
	drop) how="${G}dropped${N} by '$rule'" ;;
	*) how="${G}passed${N}" ;;
	esac
	[ "$want" = pass ] && [ -n "$MONITORED" ] &&
		[ "$MONITORED" = "$what" ] && how="$how, logged by '$rule'"
	printf ', %s\n' "$how"
}

# outbound HOST WHAT pass|drop: 3 pings and a TCP connection from the camera.
outbound() {
	local addr
	addr=$(topo_addr "$1")
	report camera "$addr" "$2" "$3" "$(count_replies "$TOPO_CAM" "$addr")" \
		"$(tcp_state "$TOPO_CAM" "$addr")"
}

# inbound HOST WHAT pass|drop: 3 pings from HOST's address to the camera.
inbound() {
	local addr cam=$TOPO_CAM4
	addr=$(topo_addr "$1")
	case $addr in *:*) cam=$TOPO_CAM6 ;; esac
	report "$addr" camera "$2" "$3" \
		"$(count_replies "$TOPO_INET" "$cam" "$addr")" ""
}

traffic() {
	step "4. Traffic (ping and TCP), with 'camfence events' running"
	# The reader shows only events newer than itself: start it first.
	# Not through cf(): $! must be timeout(1), which passes the kill on.
	timeout 60 nsenter --net="/run/netns/$TOPO_GW" "$CF" --bpffs "$PIN" \
		--state "$STATE" events --count 1000 --timeout 60 \
		>"$TMP/events.txt" 2>/dev/null &
	EV_PID=$!
	sleep 0.5
	echo "  from the camera (XDP judges the destination):"
	outbound de4 "DE, allowed" pass
	outbound ru4 "RU, denied" drop
	outbound asn4 "AS64500, denied" drop
	outbound cn4 "CN, denied" drop
	outbound cnok4 "CN, allow net exception" pass
	MONITORED="HK, monitored"
	outbound hk4 "HK, monitored" pass
	MONITORED=
	outbound de6 "DE, allowed" pass
	outbound ru6 "RU, denied" drop
	echo "  to the camera (TC egress judges the source):"
	inbound de4 "DE source" pass
	inbound ru4 "RU source" drop
	inbound ru6 "RU source" drop
	sleep 0.2
	kill "$EV_PID" 2>/dev/null
	wait "$EV_PID" 2>/dev/null
}

main() {
	local t0 t1
	preflight
	setup
	step "2. Attach camfence to $TOPO_GW's camera-facing veth $TOPO_GW_IF"
	show attach "$TOPO_GW_IF" || exit 1
	step "3. Push the policy: libloc database + overlay (tests/data/demo.conf)"
	sed -n '/^[a-z]/p' "$POLICY" | sed 's/^/    /'
	t0=$(date +%s%N)
	show push "$POLICY" || exit 1
	t1=$(date +%s%N)
	printf '  (compiled and switched in %d ms)\n' $(((t1 - t0) / 1000000))
	show status
	traffic
	step "5. Counters"
	show stats
	step "6. Events: what 'camfence events' printed during step 4"
	printf '%s# camfence events%s\n' "$B" "$N"
	# One line per flow: the repeats differ only in time and port.
	awk '{ k = $0; sub(/^[^ ]+ /, "", k); gsub(/:[0-9]+ /, " ", k)
	       if (!seen[k]++) print }' "$TMP/events.txt"
	echo "  ($(wc -l <"$TMP/events.txt") events in all, one per flow shown)"
	step "7. Lookups of real addresses against the real database"
	show lookup 1.1.1.1 77.88.8.8 2a02:6b8::feed:0ff 223.5.5.5 10.0.0.1
	step "8. Detach: the camera's traffic flows again, nothing is left"
	show detach --all
	outbound ru4 "RU, camfence detached" pass
	if [ -d "$PIN" ] && [ -n "$(find "$PIN" -mindepth 1)" ]; then
		echo "  ${R}pins left under $PIN${N}"
		ok=0
	fi
	echo
	if [ $ok -eq 1 ]; then
		echo "${G}demo: every allowed flow passed and every denied one was dropped${N}"
		exit 0
	fi
	echo "${R}demo: FAILED (see above)${N}"
	exit 1
}

main "$@"
