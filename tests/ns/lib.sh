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

# Time.  Under TCG (vmtests/ sets CFVM_ACCEL=tcg in its VMs) a guest runs
# 10-30 times slower than the host, and two VMs share its CPUs: there,
# deadlines and the few speed thresholds are T_SLOW times longer.  On the
# host (and under KVM) they stay as tight as written.
T_SLOW=1
[ "${CFVM_ACCEL:-}" = tcg ] && T_SLOW=10
# A database read under TCG alone takes 20-30 s.
CF_TIMEOUT=$((60 * T_SLOW))

# now_ms: the wall clock in milliseconds, without a fork.
now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}

	echo $((t / 1000))
}

# t_sleep SECONDS: sleep SECONDS (a decimal) times T_SLOW.
t_sleep() {
	sleep "$(awk -v s="$1" -v k=$T_SLOW 'BEGIN { print s * k }')"
}

# wait_for MS CMD...: run CMD every 50 ms until it succeeds (0) or MS
# milliseconds times T_SLOW have passed (1).  CMD must be quiet: it is
# a question, not an assertion.
wait_for() {
	local end=$(($(now_ms) + $1 * T_SLOW))

	shift
	until "$@"; do
		[ "$(now_ms)" -lt $end ] || return 1
		sleep 0.05
	done
}

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
	timeout $CF_TIMEOUT nsenter --net="/run/netns/$TOPO_GW" "$CF" \
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

# gone PID: the process has exited.
gone() {
	! kill -0 "$1" 2>/dev/null
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
# (JSON, one object a line) until events_wait; the reader gives up by
# itself after TIMEOUT seconds (default 10, times T_SLOW).
events_start() {
	local n=$1 to=$((${2:-10} * T_SLOW))
	# Not through cf(): $! must be timeout(1), which passes the kill on.
	timeout $CF_TIMEOUT nsenter --net="/run/netns/$TOPO_GW" "$CF" \
		--bpffs "$CF_PIN" --state "$CF_STATE" \
		-j events --count "$n" --timeout "$to" \
		>"$T_DIR/events.out" 2>"$T_DIR/events.err" &
	EV_PID=$!
	# Traffic must not start before the reader reads: what it finds in
	# the ring from before its start it skips as history.
	wait_for 5000 ev_ready_or_gone
	if ! kill -0 $EV_PID 2>/dev/null; then
		wait $EV_PID
		fail "camfence events exited $? at once: $(tr '\n' ' ' <"$T_DIR/events.err")"
		return 1
	fi
	ev_reader_ready ||
		fail "camfence events opened no ring buffer in $((5 * T_SLOW)) s"
}

# ev_reader_ready: the reader (timeout(1)'s child, camfence: nsenter
# execs it) holds an epoll instance.  That is libbpf's ring buffer, made
# after the reader took its start time: every event from now on is shown.
ev_reader_ready() {
	local p

	for p in $(pgrep -P "$EV_PID"); do
		[ -n "$(find "/proc/$p/fd" -lname 'anon_inode:\[eventpoll\]' \
			-print -quit 2>/dev/null)" ] && return 0
	done
	return 1
}

ev_ready_or_gone() {
	ev_reader_ready || ! kill -0 $EV_PID 2>/dev/null
}

# events_wait [CHECK...]: stop the reader; what it read is in
# $T_DIR/events.out.  The traffic is over when this is called, but the
# reader may still be printing: it ends by itself at COUNT events, and is
# stopped once CHECK (a quiet command, events.out on its stdin) holds or
# after 5 s (times T_SLOW); without CHECK, after half a second.
events_wait() {
	local rc ms=500

	[ $# -gt 0 ] && ms=5000
	wait_for $ms ev_done "$@"
	kill $EV_PID 2>/dev/null
	wait $EV_PID
	rc=$?
	# 0: COUNT events or stopped; 143: stopped by timeout(1)'s signal.
	[ $rc -eq 0 ] || [ $rc -eq 143 ] ||
		fail "camfence events exited $rc: $(tr '\n' ' ' <"$T_DIR/events.err")"
}

# ev_done [CHECK...]: the reader has exited, or CHECK holds.
ev_done() {
	kill -0 $EV_PID 2>/dev/null || return 0
	[ $# -gt 0 ] && "$@" <"$T_DIR/events.out" >/dev/null 2>&1
}

# events_have "ADDR VERDICT CLASS_WORD"...: each of these matches an
# event on stdin (events_match).
events_have() {
	local ev s n

	ev=$(cat)
	for s in "$@"; do
		# shellcheck disable=SC2086 # the three words
		n=$(echo "$ev" | events_match $s)
		[ "${n:-0}" -ge 1 ] || return 1
	done
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
# account.  Debian's bpftool 7.1 predates tcx: `net show` lists XDP and
# clsact filters but not tcx links, and `link show` gives a tcx link's
# type as the number 11 without its interface; so tcx hooks are checked
# by link id and program, clsact filters by interface, side and program.
#
# camfence's tc hooks are tcx links (status mode "tc") where the kernel
# has tcx (6.6 on), and cls_bpf filters in a clsact qdisc ("tc-clsact")
# before it (Debian 12's 6.1) or under CAMFENCE_NO_TCX=1.

# hook_ids IFACE: "<ingress link> <ingress prog> <egress link> <egress
# prog>" as status -j reports them ("-" for a missing one).
hook_ids() {
	local j
	j=$(cf_json status) || return 1
	echo "$j" | jq_py '" ".join(str((i.get(h) or {}).get(k, "-"))
		for i in d["interfaces"] if i["ifname"] == "'"$1"'"
		for h in ("ingress", "egress") for k in ("link_id", "prog_id"))'
}

# hook_modes IFACE: "<ingress mode> <egress mode>" as status -j reports
# them (xdp-native, xdp-generic, tc, tc-clsact; "-" for a missing one).
hook_modes() {
	local j
	j=$(cf_json status) || return 1
	echo "$j" | jq_py '" ".join(str((i.get(h) or {}).get("mode", "-"))
		for i in d["interfaces"] if i["ifname"] == "'"$1"'"
		for h in ("ingress", "egress"))'
}

# kernel_tcx: yes when the running kernel has tcx (its BTF names
# BPF_TCX_EGRESS; without BTF, by version: 6.6 on), else no.
kernel_tcx() {
	if [ -r /sys/kernel/btf/vmlinux ]; then
		grep -qa BPF_TCX_EGRESS /sys/kernel/btf/vmlinux
	else
		printf '6.6\n%s\n' "$(uname -r | cut -d- -f1)" | sort -V -C
	fi && echo yes || echo no
}
KERNEL_TCX=$(kernel_tcx)

# tc_mode_expected: the mode camfence's tc hooks must have here, "tc" or
# "tc-clsact".
tc_mode_expected() {
	case ${CAMFENCE_NO_TCX:-} in
	'' | 0) ;;
	*) echo tc-clsact; return 0 ;;
	esac
	[ "$KERNEL_TCX" = yes ] && echo tc || echo tc-clsact
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

# kernel_clsact IFACE ingress|egress: the programs of the clsact filters
# on that side of IFACE, one a line, or nothing.
kernel_clsact() {
	nsenter --net="/run/netns/$TOPO_GW" bpftool -j net show dev "$1" |
		jq_py '[x["id"] for x in d[0].get("tc", [])
			if x["devname"] == "'"$1"'" and x["kind"] == "clsact/'"$2"'"]'
}

# tcx_link_is LINK PROG WHAT: the kernel has link LINK, a tcx link (type
# 11 to bpftool 7.1) running program PROG.
tcx_link_is() {
	local got
	got=$(kernel_link "$1")
	case $got in
	"11 $2" | "tcx $2") return 0 ;;
	esac
	fail "$3: link '$1' is '$got' in the kernel, expected a tcx link of prog $2"
}

# tc_hook_is IFACE ingress|egress MODE LINK PROG: status -j's MODE for
# that hook is the one this kernel must get (tc_mode_expected), and the
# kernel runs PROG there that way: by tcx link LINK and no clsact filter,
# or by one clsact filter and nothing else.
tc_hook_is() {
	local want got
	want=$(tc_mode_expected)
	[ "$3" = "$want" ] ||
		fail "tc $2 of $1: status -j says mode '$3', this kernel must get '$want'" ||
		return 1
	got=$(kernel_clsact "$1" "$2" | tr '\n' ' ')
	if [ "$3" = tc ]; then
		[ -z "$got" ] ||
			fail "tc $2 of $1: clsact filters of progs $got next to the tcx link" ||
			return 1
		tcx_link_is "$4" "$5" "tc $2"
		return
	fi
	[ "$got" = "$5 " ] ||
		fail "tc $2 of $1: the kernel's clsact filters run progs '$got', expected one of prog $5"
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
