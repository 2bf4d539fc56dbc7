# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# lib.sh - helpers of the namespace tests: camfence in the gateway,
# traffic probes, JSON reading and expectations.  Sourced by run.sh after
# scripts/topo.sh.
#
# A test is a function t_NAME that returns 0 (pass), 1 (fail, with the
# reason in T_WHY) or 2 (skip, reason in T_WHY).  Probes never hang: every
# one has a timeout of a second or two.

TCP_PORT=8080
UDP_PORT=9000
PY=/usr/bin/python3 # from the `location` package: always there with libloc

# The reason also goes to a file: a helper that fails inside $(...) runs
# in a subshell, where T_WHY would be lost.
T_WHY=
fail() {
	T_WHY="$*"
	echo "$*" >"$T_DIR/why"
	return 1
}

skip() {
	T_WHY="$*"
	return 2
}

# cf ARGS...: camfence in the gateway's network namespace, with this run's
# pin and state directories, never the real installation's.
cf() {
	timeout 60 nsenter --net="/run/netns/$TOPO_GW" "$CF" \
		--bpffs "$CF_PIN" --state "$CF_STATE" "$@"
}

# cf_ok ARGS...: cf, and on failure record what it said.
cf_ok() {
	local out rc
	out=$(cf "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] && return 0
	fail "camfence $* exited $rc: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
}

# cf_attach IFACE [ATTACH OPTIONS...]
cf_attach() {
	cf_ok attach "$@"
}

# cf_push NAME: push tests/data/NAME.
cf_push() {
	cf_ok push "$DATA/$1"
}

# cf_reset: detach everything this run attached; the next test starts bare.
cf_reset() {
	cf detach --all >/dev/null 2>&1
	rm -rf "$CF_STATE"
	return 0
}

# jq_py EXPR: evaluate a Python expression over the JSON on stdin (bound
# to d); lists print one item a line, booleans as true/false.
jq_py() {
	"$PY" -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
if isinstance(v, list):
    for x in v:
        print(json.dumps(x) if isinstance(x, (dict, list)) else x)
elif isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, (dict,)):
    print(json.dumps(v))
else:
    print(v)
' "$1"
}

# ---------------------------------------------------------------- probes

# probe_icmp NS DST [SRC] [COUNT]: 0 if any echo reply came back.
probe_icmp() {
	local ns=$1 dst=$2 src=${3:-} n=${4:-1}
	ip netns exec "$ns" ping -q -n -c "$n" -i 0.2 -W 1 \
		${src:+-I "$src"} "$dst" >/dev/null 2>&1
}

# probe_tcp NS DST [SRC]: 0 if the three-way handshake completed.
probe_tcp() {
	local ns=$1 dst=$2 src=${3:-}
	ip netns exec "$ns" nc -z -n -w 1 ${src:+-s "$src"} "$dst" \
		$TCP_PORT >/dev/null 2>&1
}

# probe_udp NS DST RECEIVER_NS [SRC]: 0 if a datagram with a fresh token
# reached the receiver's listener.
UDP_SEQ=0
probe_udp() {
	local ns=$1 dst=$2 rns=$3 src=${4:-} tok f
	UDP_SEQ=$((UDP_SEQ + 1))
	tok="cf-$BASHPID-$UDP_SEQ-$dst"
	f=$T_DIR/udp-$rns-4.out
	case $dst in *:*) f=$T_DIR/udp-$rns-6.out ;; esac
	echo "$tok" | ip netns exec "$ns" nc -u -n -w 1 -q 0 \
		${src:+-s "$src"} "$dst" $UDP_PORT >/dev/null 2>&1
	for _ in 1 2 3 4 5 6; do
		grep -qxF "$tok" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# probe PROTO NS DST [SRC]: the receiving side of UDP is wherever DST
# lives, which is the camera for the cameras' addresses, else inet.
probe() {
	local proto=$1 ns=$2 dst=$3 src=${4:-} rns=$TOPO_INET
	case $dst in
	"$TOPO_CAM4" | "$TOPO_CAM6") rns=$TOPO_CAM ;;
	"$TOPO_CAM2_4" | "$TOPO_CAM2_6") rns=$TOPO_CAM2 ;;
	esac
	case $proto in
	icmp) probe_icmp "$ns" "$dst" "$src" ;;
	tcp) probe_tcp "$ns" "$dst" "$src" ;;
	udp) probe_udp "$ns" "$dst" "$rns" "$src" ;;
	*) return 1 ;;
	esac
}

# expect PROTO NS DST pass|drop [SRC] [LABEL]
expect() {
	local proto=$1 ns=$2 dst=$3 want=$4 src=${5:-} label=${6:-$3} got
	if probe "$proto" "$ns" "$dst" "$src"; then
		got=pass
	else
		got=drop
	fi
	[ "$got" = "$want" ] && return 0
	fail "$proto ${src:+$src }-> $label: expected $want, got $got"
}

# expect_host PROTO HOST pass|drop: the camera to an internet host.
expect_host() {
	expect "$1" "$TOPO_CAM" "$(topo_addr "$2")" "$3" "" "$2 ($(topo_addr "$2"))"
}

# par CMD...: run an expectation (expect, expect_host...) in the
# background, so drops, which cost a probe's whole timeout, overlap.
PAR_N=0
PAR_PIDS=
par() {
	PAR_N=$((PAR_N + 1))
	(
		T_WHY=
		"$@" || echo "${T_WHY:-$* failed}" >"$T_DIR/par.$PAR_N"
	) &
	PAR_PIDS="$PAR_PIDS $!"
}

# par_wait: 0 when every par expectation held, else fail with the reasons.
par_wait() {
	local why
	# Never a bare `wait`: it would wait for the listeners too.
	[ -n "$PAR_PIDS" ] && wait $PAR_PIDS
	PAR_PIDS=
	why=$(cat "$T_DIR"/par.* 2>/dev/null)
	rm -f "$T_DIR"/par.*
	[ -z "$why" ] || fail "$(echo "$why" | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
}

# A TCP server that accepts and closes, on both families.  Not nc: its
# backlog of 1 drops the SYNs of probes that run at the same time.
TCP_SERVER='
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(256)
while True:
    s.accept()[0].close()
'

# listen NS: a TCP server and UDP listeners (one a family, each writing
# what it receives to $T_DIR/udp-NS-FAMILY.out) in a namespace.
listen() {
	local ns=$1
	ip netns exec "$ns" "$PY" -c "$TCP_SERVER" $TCP_PORT \
		</dev/null >/dev/null 2>&1 &
	ip netns exec "$ns" nc -4 -n -u -lk $UDP_PORT </dev/null \
		>"$T_DIR/udp-$ns-4.out" 2>/dev/null &
	ip netns exec "$ns" nc -6 -n -u -lk $UDP_PORT </dev/null \
		>"$T_DIR/udp-$ns-6.out" 2>/dev/null &
}

# ---------------------------------------------------------------- state

# cf_json ARGS...: camfence -j ARGS, output on stdout, or fail.
cf_json() {
	local out rc
	out=$(cf -j "$@" 2>"$T_DIR/cf.err")
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "camfence -j $* exited $rc: $(tail -n 2 "$T_DIR/cf.err" | tr '\n' ' ')"
		return 1
	fi
	printf '%s\n' "$out"
}

# pins: the files under the run's pin directory, one a line.
pins() {
	[ -d "$CF_PIN" ] || return 0
	find "$CF_PIN" -mindepth 1 | sort
}

# ---------------------------------------------------------------- events

# events_start COUNT [TIMEOUT]: read up to COUNT events in the background
# (JSON, one object a line) until events_wait.
events_start() {
	local n=$1 to=${2:-4}
	# Not through cf(): $! must be timeout(1), which passes the kill on.
	timeout 60 nsenter --net="/run/netns/$TOPO_GW" "$CF" --bpffs "$CF_PIN" \
		--state "$CF_STATE" -j events --count "$n" --timeout "$to" \
		>"$T_DIR/events.out" 2>"$T_DIR/events.err" &
	EV_PID=$!
	# Give the reader time to open the ring before traffic starts.
	sleep 0.3
	kill -0 $EV_PID 2>/dev/null && return 0
	wait $EV_PID
	fail "camfence events exited $? at once: $(tr '\n' ' ' <"$T_DIR/events.err")"
}

# events_wait: the reader's output, in $T_DIR/events.out.  The traffic is
# over when this is called and the reader prints each event as it comes,
# so it gets half a second to finish on its own and is then stopped.
events_wait() {
	local rc
	for _ in 1 2 3 4 5; do
		kill -0 $EV_PID 2>/dev/null || break
		sleep 0.1
	done
	kill $EV_PID 2>/dev/null
	wait $EV_PID
	rc=$?
	# 0: COUNT events or stopped; 143: stopped by timeout(1)'s signal.
	[ $rc -eq 0 ] || [ $rc -eq 143 ] ||
		fail "camfence events exited $rc: $(tr '\n' ' ' <"$T_DIR/events.err")"
}

# events_match ADDR VERDICT CLASS_WORD: how many events on stdin have ADDR
# as source or destination, this verdict, and a class naming CLASS_WORD.
events_match() {
	"$PY" -c '
import json, sys
addr, verdict, word = sys.argv[1:4]
n = 0
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    e = json.loads(line)
    if addr not in (e.get("src"), e.get("dst")):
        continue
    if e.get("verdict") != verdict:
        continue
    if word not in str(e.get("label", "")):
        continue
    n += 1
print(n)
' "$1" "$2" "$3"
}

# ---------------------------------------------------------------- status

# status_mode IFACE: native, generic or tc, as `status -j` reports the
# interface's ingress hook.
status_mode() {
	local j
	j=$(cf_json status) || return 1
	echo "$j" | jq_py '[i["ingress"]["mode"] for i in d["interfaces"]
		if i["ifname"] == "'"$1"'" and i["ingress"]][:1]' |
		sed 's/^xdp-//; s/^tc-clsact$/tc/' | grep . ||
		fail "status -j lists no ingress hook on $1: $j"
}

# status_generation: the live policy's generation, or "none".
status_generation() {
	local j
	j=$(cf_json status) || return 1
	echo "$j" | jq_py '(d.get("policy") or {}).get("generation", "none")'
}

# status_ifaces: the attached interfaces, one a line.
status_ifaces() {
	local j
	j=$(cf_json status) || return 1
	echo "$j" | jq_py '[i["ifname"] for i in d["interfaces"]]'
}

# status_has_policy: true when a policy image is live.
status_has_policy() {
	local j
	j=$(cf_json status) || return 1
	[ "$(echo "$j" | jq_py 'd.get("policy") is not None')" = true ]
}

# stat_global NAME: packets of a datapath counter (no_policy, non_ip...).
stat_global() {
	local j
	j=$(cf_json stats) || return 1
	echo "$j" | jq_py 'd["global"]["'"$1"'"]["packets"]'
}

# stat_class RULE FIELD: packets or bytes of the class whose label is
# RULE ("deny country RU"; the label adds "(file:line)").
stat_class() {
	local j v
	j=$(cf_json stats) || return 1
	v=$(echo "$j" | jq_py '[c["'"$2"'"] for c in d["classes"]
		if c["label"] == "'"$1"'" or c["label"].startswith("'"$1"' (")]')
	case $v in
	'' | *[!0-9]*)
		fail "stats -j has no single class '$1': $(echo "$j" |
			jq_py '[c["label"] for c in d["classes"]]' | tr '\n' ',')"
		;;
	*) echo "$v" ;;
	esac
}

# ---------------------------------------------------------------- kernel
#
# What the kernel itself has attached, independent of camfence's own
# account.  Debian's bpftool 7.1 predates tcx: `net show` lists XDP but
# not tcx links, and `link show` gives a tcx link's type as the number 11
# without its interface; so tcx hooks are checked by link id and program.

# hook_ids IFACE: "<ingress link> <ingress prog> <egress link> <egress
# prog>" as status -j reports them ("-" for a missing one).
hook_ids() {
	local j
	j=$(cf_json status) || return 1
	echo "$j" | jq_py '" ".join(str((i.get(h) or {}).get(k, "-"))
		for i in d["interfaces"] if i["ifname"] == "'"$1"'"
		for h in ("ingress", "egress") for k in ("link_id", "prog_id"))'
}

# kernel_xdp IFACE: "driver <prog id>" or "generic <prog id>", or nothing.
kernel_xdp() {
	nsenter --net="/run/netns/$TOPO_GW" bpftool -j net show dev "$1" |
		jq_py '[x["mode"] + " " + str(x["id"])
			for x in d[0].get("xdp", []) if x["devname"] == "'"$1"'"]'
}

# kernel_link ID: "<type> <prog id>" of a BPF link, or nothing.
kernel_link() {
	bpftool -j link show | jq_py '[str(l["type"]) + " " + str(l["prog_id"])
		for l in d if str(l["id"]) == "'"$1"'"]'
}

# lookup_is ADDR VERDICT RULE: `lookup -j` gives ADDR this verdict by a
# rule whose label or text starts with RULE, and the live image agrees.
lookup_is() {
	local j out
	j=$(cf_json lookup "$1") || return 1
	out=$(echo "$j" | "$PY" -c '
import json, sys
addr, verdict, rule = sys.argv[1:4]
a = json.load(sys.stdin)["addresses"][0]
r = a.get("rule") or {}
text = " ".join(r.get("text", "").split())
k = a.get("kernel") or {}
if a.get("verdict") != verdict:
    print("verdict %s, expected %s" % (a.get("verdict"), verdict))
elif not (r.get("label", "").startswith(rule) or text.startswith(rule)):
    print("rule %r / %r, expected %r" % (r.get("label"), text, rule))
elif k.get("agrees") is not True:
    print("the kernel does not agree: %s" % k)
' "$1" "$2" "$3") || return 1
	[ -z "$out" ] || fail "lookup $1: $out"
}
