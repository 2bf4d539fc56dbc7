# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Push faults: pushes back to back under traffic, and pushes killed with
# SIGKILL in every stage, before and after the switch.  Every packet is
# judged by a whole policy, old or new, and never by none (DESIGN.md
# decision 3); a killed push leaves one of the two in force, whole.
#
# fault-a.conf denies the "German" hosts (de4, de6) that fault-b.conf
# allows; both allow the "US" hosts (us4, us6).  Their net rules sit on
# the same lines with the same verdicts and only swap prefixes, so each
# class keeps its counter slot across every push: what the deny class
# counted was judged by A, what the allow class counted by B.
#
# The traffic is our own (FAULT_SENDER): UDP to the German hosts, one
# way, so each datagram is counted exactly once, at XDP; ICMP echo to the
# US hosts, counted once as request (XDP) and once as reply (TC egress).
# FAULT_SINK counts the datagrams that reached the German hosts.

FAULT_PORT=9100
FAULT_LOOP_N=40		# pushes in faults_push_loop
FAULT_KILL_N=24		# killed pushes in faults_sigkill: 6 a kill mode
FAULT_DB=/usr/share/libloc-location/location.db

# FAULT_SENDER IV_MS CAP_S PORT UDP_DSTS ICMP_DSTS: a datagram to each
# UDP destination and an echo request to each ICMP one every IV_MS, until
# SIGTERM (or CAP_S); then half a second for the last replies, and one
# JSON line: what was sent and replied per destination.
FAULT_SENDER='
import json, os, select, signal, socket, struct, sys, time
iv, cap, port = float(sys.argv[1]) / 1000, float(sys.argv[2]), int(sys.argv[3])
udp = [a for a in sys.argv[4].split(",") if a]
icmp = [a for a in sys.argv[5].split(",") if a]
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
def fam(a):
    return socket.AF_INET6 if ":" in a else socket.AF_INET
def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
us = []
for a in udp:
    s = socket.socket(fam(a), socket.SOCK_DGRAM)
    s.connect((a, port))
    us.append((a, s))
ident, ps, by_fd = os.getpid() & 0xffff, [], {}
for a in icmp:
    v6 = fam(a) == socket.AF_INET6
    s = socket.socket(fam(a), socket.SOCK_RAW,
                      socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    s.connect((a, 0))    # raw sockets then see only what a sends
    s.setblocking(False)
    ps.append((a, v6, s))
    by_fd[s.fileno()] = (a, v6, s)
sent = {a: set() for a in udp + icmp}
got = {a: set() for a in icmp}
def drain(timeout):
    r = select.select(list(by_fd), [], [], max(timeout, 0))[0]
    for fd in r:
        a, v6, s = by_fd[fd]
        while True:
            try:
                b = s.recv(2048)
            except BlockingIOError:
                break
            if not v6:
                b = b[(b[0] & 15) * 4:]
            if len(b) < 8:
                continue
            t, _, _, i, q = struct.unpack("!BBHHH", b[:8])
            if t == (129 if v6 else 0) and i == ident:
                got[a].add(q)
def send(seq):
    for a, s in us:
        try:
            s.send(b"%d\n" % seq)
            sent[a].add(seq)
        except OSError:
            pass
    for a, v6, s in ps:
        h = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident, seq)
        p = h + b"camfence-fault-%06d" % seq
        if not v6:    # the kernel sums ICMPv6, not ICMP
            p = p[:2] + struct.pack("!H", csum(p)) + p[4:]
        try:
            s.send(p)
            sent[a].add(seq)
        except OSError:
            pass
t0 = nxt = time.monotonic()
seq = 0
while not stop and time.monotonic() - t0 < cap and seq < 65535:
    seq += 1
    send(seq)
    # Behind schedule (a slow or busy machine) the wait below is skipped:
    # read the replies anyway, before they overflow the socket buffers.
    drain(0)
    nxt += iv
    while time.monotonic() < nxt:
        drain(nxt - time.monotonic())
end = time.monotonic() + 0.5
while time.monotonic() < end and any(sent[a] - got[a] for a in icmp):
    drain(end - time.monotonic())
print(json.dumps({"seconds": round(time.monotonic() - t0, 3),
    "stopped": bool(stop),
    "sent": {a: len(sent[a]) for a in sent},
    "replied": {a: len(got[a] & sent[a]) for a in icmp},
    "missing": {a: sorted(sent[a] - got[a])[:10] for a in icmp}}))
'

# FAULT_SINK PORT ADDRS READY CAP_S: count the datagrams to each of ADDRS
# until SIGTERM (or CAP_S), then drain and print one JSON line.
FAULT_SINK='
import json, select, signal, socket, sys, time
port, addrs, ready, cap = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3], float(sys.argv[4])
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
socks, got = {}, {a: 0 for a in addrs}
for a in addrs:
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET,
                      socket.SOCK_DGRAM)
    s.bind((a, port))
    s.setblocking(False)
    socks[s.fileno()] = (a, s)
open(ready, "w").close()
t0, end = time.monotonic(), None
while end is None or time.monotonic() < end:
    if end is None and (stop or time.monotonic() - t0 > cap):
        end = time.monotonic() + 0.3
    for fd in select.select(list(socks), [], [], 0.05)[0]:
        a, s = socks[fd]
        while True:
            try:
                s.recv(2048)
            except BlockingIOError:
                break
            got[a] += 1
print(json.dumps({"got": got}))
'

# FAULT_CHECK BEFORE AFTER SENT SUNK DENY_LINE ALLOW_LINE US_LINE DE US
# [PROBE_DROPS PROBE_PASSES]: the counters (stats -j before and after)
# against the traffic.  Counters are compared by slot, which the classes
# of both policies share; every class but local must count our traffic
# only.  Each probe ping to de4 adds a request to the deny class
# (dropped) or a request and its reply to the allow class.
FAULT_CHECK='
import json, sys
(bf, af, sf, kf, ld, la, lu, de, us) = sys.argv[1:10]
pd, pp = (int(x) for x in (sys.argv[10:12] or ["0", "0"]))
def load(f):
    with open(f) as fh:
        return json.load(fh)
b, a, snd, snk = load(bf), load(af), load(sf), load(kf)
def slots(d):
    return {c["counter"]: c["packets"] for c in d["classes"]}
def slot_of(line):
    s = [c["counter"] for c in a["classes"] if c["line"] == int(line)]
    if len(s) != 1:
        sys.exit("no single class on line %s: %s" % (line, a["classes"]))
    return s[0]
sb, sa = slots(b), slots(a)
delta = {k: sa[k] - sb.get(k, 0) for k in sa}
bad = []
dd, da, du = (delta[slot_of(x)] for x in (ld, la, lu))
de, us = de.split(","), us.split(",")
u_sent = sum(snd["sent"][x] for x in de)
u_got = sum(snk["got"][x] for x in de)
i_sent = sum(snd["sent"][x] for x in us)
i_rep = sum(snd["replied"][x] for x in us)
# The local class also counts link-local chatter (MLD reports to
# ff02::16 for a second or two after a link comes up): not ours to count.
dl = delta[[c["counter"] for c in a["classes"] if c["class"] == 1][0]]
other = sum(delta.values()) - dd - da - du - dl
if dd + da != u_sent + pd + 2 * pp:
    bad.append("deny %d + allow %d classes counted %d, sent %d + %d probe packets"
               % (dd, da, dd + da, u_sent, pd + 2 * pp))
if da != u_got + 2 * pp:
    bad.append("allow class counted %d, the hosts received %d + %d probe packets"
               % (da, u_got, 2 * pp))
if dd - pd <= 0 or da - 2 * pp <= 0:
    bad.append("the stream was not judged by both policies: A dropped %d, B passed %d"
               % (dd - pd, da - 2 * pp))
if i_rep != i_sent:
    bad.append("%d echo requests to %s got no reply (seqs %s)"
               % (i_sent - i_rep, us, snd["missing"]))
if du != i_sent + i_rep:
    bad.append("us class counted %d, sent %d requests and got %d replies"
               % (du, i_sent, i_rep))
if other:
    bad.append("other classes counted %d packets, expected none: %s"
               % (other, {k: v for k, v in delta.items() if v}))
for g in ("no_policy", "malformed"):
    m = a["global"][g]["packets"] - b["global"][g]["packets"]
    if m:
        bad.append("%s moved by %d" % (g, m))
print("; ".join(bad) if bad else
      "udp sent %d: %d dropped by A, %d passed by B, %d received; icmp %d sent, %d replied; local %d"
      % (u_sent, dd - pd, da - 2 * pp, u_got, i_sent, i_rep, dl))
sys.exit(1 if bad else 0)
'

# FAULT_LEAKS BEFORE_IDS PIN: cf_image maps made since BEFORE_IDS was
# taken that nothing holds (no cf_policy slot, no fd of a process other
# than a camfence of this run, which is pinned under PIN), one a line.
# Other runs may make their own images meanwhile; theirs are held.
FAULT_LEAKS='
import glob, json, os, subprocess, sys
def bpftool(*args):
    r = subprocess.run(["bpftool", "-j"] + list(args), capture_output=True,
                       text=True, timeout=10)
    return json.loads(r.stdout) if r.returncode == 0 else []
before = set(open(sys.argv[1]).read().split())
maps = bpftool("map", "show")
held = set()
for m in maps:
    if m.get("name") != "cf_policy":
        continue
    for e in bpftool("map", "dump", "id", str(m["id"])):
        held.add(str(int.from_bytes(bytes(int(x, 16) for x in e["value"]),
                                    "little")))
for f in glob.glob("/proc/[0-9]*/fdinfo/*"):
    try:
        with open(os.path.dirname(os.path.dirname(f)) + "/cmdline") as c:
            if sys.argv[2] in c.read():
                continue
        for line in open(f):
            if line.startswith("map_id:"):
                held.add(line.split()[1])
    except OSError:
        pass
for m in maps:
    i = str(m["id"])
    if m.get("name") == "cf_image" and i not in before and i not in held:
        print(i)
'

# cf_image_ids: the ids of every cf_image map, one a line.
cf_image_ids() {
	bpftool -j map show | jq_py '[m["id"] for m in d
		if m.get("name") == "cf_image"]'
}

# fault_line FILE PREFIX: the line of FILE's rule naming PREFIX.
fault_line() {
	grep -n -- "^[a-z]* *net $2 " "$1" | cut -d: -f1 | grep -x '[0-9]*'
}

# fault_lines: FL_DENY (A's rule for the German hosts), FL_ALLOW (B's),
# FL_US (both); B must keep them on the same lines with the same verdicts.
fault_lines() {
	local a=$DATA/fault-a.conf b=$DATA/fault-b.conf
	FL_DENY=$(fault_line "$a" 198.51.100.0/28)
	FL_ALLOW=$(fault_line "$b" 198.51.100.0/28)
	FL_US=$(fault_line "$a" 198.51.100.96/27)
	if [ -n "$FL_DENY" ] && [ -n "$FL_ALLOW" ] && [ -n "$FL_US" ] &&
		[ "$FL_DENY" = "$(fault_line "$b" 198.51.100.16/28)" ] &&
		[ "$FL_ALLOW" = "$(fault_line "$a" 198.51.100.16/28)" ] &&
		[ "$FL_US" = "$(fault_line "$b" 198.51.100.96/27)" ] &&
		diff <(cut -c1-5 "$a" | grep -n -v '^#') \
			<(cut -c1-5 "$b" | grep -n -v '^#') >/dev/null; then
		return 0
	fi
	fail "fault-a.conf and fault-b.conf do not keep their rules on the same lines"
}

# fault_fast NAME: tests/data/NAME.conf without the libloc database (the
# line stays, as a comment, so the rules keep their lines): pushes of it
# take milliseconds.  Prints the copy's path.
fault_fast() {
	local f=$T_DIR/$1-fast.conf
	sed -e 's|^database libloc .*|# (no libloc database: a fast push)|' \
		-e "s|^database csv  *|database csv $DATA/|" \
		"$DATA/$1.conf" >"$f" && echo "$f"
}

# traffic_start IV_MS: FAULT_SINK in inet, FAULT_SENDER in the camera,
# the German hosts over UDP and the US hosts over ICMP.  The camera routes
# through the gateway's link-local address, as router advertisements set
# it up: neighbour discovery with the gateway's global address is judged
# and counted like any packet, and the counters must count the stream.
traffic_start() {
	local iv=$1 de us ll
	de=$(topo_addr de4),$(topo_addr de6)
	us=$(topo_addr us4),$(topo_addr us6)
	ll=$(ip -n "$TOPO_GW" -6 -br addr show dev "$TOPO_GW_IF" scope link |
		awk '{ sub("/.*", "", $3); print $3 }')
	ip -n "$TOPO_CAM" -6 route replace default via "$ll" dev eth0 ||
		fail "cannot route the camera through $ll" || return 1
	rm -f "$T_DIR/sink.ready" "$T_DIR/sink.json" "$T_DIR/send.json"
	ip netns exec "$TOPO_INET" "$PY" -c "$FAULT_SINK" $FAULT_PORT "$de" \
		"$T_DIR/sink.ready" $((120 * T_SLOW)) >"$T_DIR/sink.json" \
		2>"$T_DIR/sink.err" &
	TR_SINK=$!
	wait_for 2000 test -e "$T_DIR/sink.ready"
	[ -e "$T_DIR/sink.ready" ] ||
		fail "UDP sink did not start: $(tr '\n' ' ' <"$T_DIR/sink.err")" ||
		return 1
	ip netns exec "$TOPO_CAM" "$PY" -c "$FAULT_SENDER" "$iv" \
		$((110 * T_SLOW)) $FAULT_PORT "$de" "$us" >"$T_DIR/send.json" \
		2>"$T_DIR/send.err" &
	TR_SEND=$!
	sleep 0.2
	kill -0 $TR_SEND 2>/dev/null ||
		fail "traffic sender died: $(tr '\n' ' ' <"$T_DIR/send.err")"
}

# _stop PID: SIGTERM, two seconds (times T_SLOW) to finish, then SIGKILL.
_stop() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	wait_for 2000 gone "$1"
	kill -9 "$1" 2>/dev/null
	{ wait "$1"; } 2>/dev/null
}

# traffic_stop: the sender first, so the sink sees its last datagram.
traffic_stop() {
	_stop "${TR_SEND:-}"
	_stop "${TR_SINK:-}"
	TR_SEND=
	TR_SINK=
	ip -n "$TOPO_CAM" -6 route replace default via 2001:db8:ca::1
}

# traffic_alive: the sender still sends (it was not capped or killed).
traffic_alive() {
	kill -0 "${TR_SEND:-0}" 2>/dev/null ||
		fail "the traffic ended before the pushes did"
}

# fault_check BEFORE AFTER [PROBE_DROPS PROBE_PASSES]: FAULT_CHECK on
# the traffic just stopped; its summary goes to $T_DIR/check.out.
fault_check() {
	local out
	grep -q . "$T_DIR/send.json" && grep -q . "$T_DIR/sink.json" ||
		fail "no traffic report: $(cat "$T_DIR"/send.err "$T_DIR"/sink.err)" ||
		return 1
	out=$("$PY" -c "$FAULT_CHECK" "$1" "$2" "$T_DIR/send.json" \
		"$T_DIR/sink.json" "$FL_DENY" "$FL_ALLOW" "$FL_US" \
		"$(topo_addr de4),$(topo_addr de6)" \
		"$(topo_addr us4),$(topo_addr us6)" "${3:-0}" "${4:-0}" 2>&1)
	local rc=$?
	echo "$out" >"$T_DIR/check.out"
	[ $rc -eq 0 ] || fail "$out"
}

# status_is DIGEST GENERATION: status -j shows this policy, no warning.
status_is() {
	local j got
	j=$(cf_json status) || return 1
	got=$(echo "$j" | jq_py '"%s %s" % ((d.get("policy") or {}).get("digest"),
		(d.get("policy") or {}).get("generation"))')
	[ "$got" = "$1 $2" ] ||
		fail "status shows policy '$got', the last push made '$1 $2'" ||
		return 1
	[ ! -s "$T_DIR/cf.err" ] ||
		fail "status warns after a clean push: $(cat "$T_DIR/cf.err")"
}

# ---------------------------------------------------------------- loop

_faults_push_loop() {
	local a b i p out s0 s1 t0 ms last
	fault_lines || return 1
	a=$(fault_fast fault-a) && b=$(fault_fast fault-b) ||
		fail "cannot write the fast policies" || return 1
	cf_attach "$TOPO_GW_IF" --policy "$a" || return 1
	s0=$T_DIR/stats0.json
	s1=$T_DIR/stats1.json
	cf_json stats >"$s0" || return 1
	traffic_start 2 || return 1
	t0=$(date +%s%N)
	for i in $(seq $FAULT_LOOP_N); do
		p=$b
		[ $((i % 2)) -eq 0 ] && p=$a
		out=$(cf -j push "$p" 2>"$T_DIR/push.err") ||
			fail "push $i of $FAULT_LOOP_N ($(basename "$p")): $out $(cat "$T_DIR/push.err")" ||
			return 1
		last=$out
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
	# Let the last policy judge some traffic too, then stop it.
	sleep 0.2
	traffic_alive || return 1
	traffic_stop
	cf_json stats >"$s1" || return 1
	fault_check "$s0" "$s1" || return 1
	echo "     faults_push_loop: $FAULT_LOOP_N pushes in $ms ms;" \
		"$(cat "$T_DIR/check.out")"
	status_is "$(echo "$last" | jq_py 'd["digest"]')" \
		"$(echo "$last" | jq_py 'd["generation"]')"
}

# Forty pushes alternating A and B while 2000 packets/s flow (a stream
# to each host, a packet every 2 ms; pushes of the overlay alone take
# ~25 ms): every packet counted once by a class of A or B, each verdict
# as its class says, every echo to the always-allowed hosts answered,
# none judged by no policy, and status shows the last push.
t_faults_push_loop() {
	local rc
	_faults_push_loop
	rc=$?
	traffic_stop
	return $rc
}

# ---------------------------------------------------------------- kill

# live_digest: the digest and generation status -j shows ("none" when no
# policy is live); its warnings go to $T_DIR/cf.err.
live_digest() {
	local j
	j=$(cf_json status) || return 1
	echo "$j" >"$T_DIR/status.json"
	echo "$j" | jq_py '"%s %s" % ((d.get("policy") or {}).get("digest", "none"),
		(d.get("policy") or {}).get("generation", "none"))'
}

# active_digest: the digest the state directory says was pushed last.
active_digest() {
	sed -n 's/^digest=//p' "$CF_STATE/active" 2>/dev/null
}

# probe_de WANT: one echo to de4: pass or drop.  A reply comes in well
# under a millisecond here, so an expected drop waits 0.3 s only: a
# reply later than that would still show in the counters.
probe_de() {
	local w=1
	[ "$1" = drop ] && w=0.3
	if ip netns exec "$TOPO_CAM" ping -q -n -c 1 -W $w \
		"$(topo_addr de4)" >/dev/null 2>&1; then
		echo pass
	else
		echo drop
	fi
}

# FAULT_KILLER PID MODE MS STATE_DIR: SIGKILL a push at a point chosen by
# MODE, watched through /proc (a push spends ~95% of its time reading
# the database, so a random delay alone almost never lands near the
# switch):
#   time     MS after the start: reading databases, compiling
#   runtime  MS after it opens the pinned maps: lock, live image, build
#   image    MS after its new image map appears, not yet frozen: fill
#            (10-30 ms), freeze, the switch, just after it
#   state    as soon as it writes a state file: after the switch, before
#            the state says so
# Prints "hit MS" (killed MS after the start) or "exited MS".
FAULT_KILLER='
import os, signal, sys, time
pid, mode, ms, state = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
t0, w0 = time.monotonic(), time.time_ns()
def alive():
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
def maps():
    d, out = "/proc/%d/fd" % pid, []
    try:
        fds = os.listdir(d)
    except OSError:
        return out
    for fd in fds:
        try:
            if os.readlink(d + "/" + fd) != "anon_inode:bpf-map":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                i = dict(l.split(":", 1) for l in f if ":" in l)
        except OSError:
            continue
        out.append((int(i.get("map_flags", "0"), 16) & 0x400 != 0,
                    i.get("frozen", "0").strip() == "1"))
    return out
def state_written():
    for n in os.listdir(state):
        try:
            if n.endswith(".tmp") and \
               os.stat(os.path.join(state, n)).st_mtime_ns > w0:
                return True
        except OSError:
            pass
    return False
seen = {"time": lambda: True,
        "runtime": lambda: bool(maps()),
        "image": lambda: any(m and not f for m, f in maps()),
        "state": state_written}[mode]
if mode == "time":
    time.sleep(ms / 1000)
    ms = 0
# Poll every millisecond (this machine may have two CPUs to share with
# the push), every 0.2 ms once the push holds the pinned maps.
while alive() and time.monotonic() - t0 < 10:
    if seen():
        time.sleep(ms / 1000)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:    # exited and reaped meanwhile
            break
        print("hit %d" % ((time.monotonic() - t0) * 1000))
        sys.exit(0)
    time.sleep(0.0002 if mode != "runtime" and maps() else 0.001)
print("exited %d" % ((time.monotonic() - t0) * 1000))
'

# kill_plan I: "MODE MS" for the I-th kill; the modes take turns.
kill_plan() {
	case $(($1 % 4)) in
	1) echo "time $((RANDOM % T_PUSH))" ;;
	2) echo "runtime $((RANDOM % 8))" ;;
	3) echo "image $((RANDOM % 30))" ;;
	0) echo "state 0" ;;
	esac
}

# kill_one I: push the policy not in force, SIGKILL it at a point
# kill_plan picks, and check what is in force then.  One line a kill in
# $T_DIR/kills.log: the mode, then before, after or done.
kill_one() {
	local i=$1 alt=b mode ms rc out live gen verdict want act what
	[ "$CUR" = b ] && alt=a
	read -r mode ms <<<"$(kill_plan "$i")"
	nsenter --net="/run/netns/$TOPO_GW" "$CF" --bpffs "$CF_PIN" \
		--state "$CF_STATE" -j push "$DATA/fault-$alt.conf" \
		>"$T_DIR/kill.out" 2>&1 &
	K_PID=$!
	what=$(timeout 15 "$PY" -c "$FAULT_KILLER" $K_PID "$mode" "$ms" \
		"$CF_STATE" 2>&1)
	{ wait $K_PID; } 2>/dev/null
	rc=$?
	K_PID=
	what="kill $i ($mode $ms ms, ${what:-killer failed})"
	out=$(live_digest) || return 1
	read -r live gen <<<"$out"
	case $live in
	"$DG_A") act=a ;;
	"$DG_B") act=b ;;
	*) fail "$what: live policy '$live' is neither A nor B"
		return 1 ;;
	esac
	case $rc/$act in
	0/"$alt") out=completed ;;
	137/"$CUR") out=before ;;
	137/"$alt") out=after ;;
	*) fail "$what: push of $alt exited $rc, policy $act is live: $(tail -c 300 "$T_DIR/kill.out")"
		return 1 ;;
	esac
	echo "$mode $out $what, $CUR -> $act, generation $gen" >>"$T_DIR/kills.log"
	# Killed between the switch and the state write: status must say so.
	if [ "$(active_digest)" != "$live" ]; then
		K_STALE=$((K_STALE + 1))
		grep -q 'does not describe the live image' "$T_DIR/status.json" ||
			fail "$what: the state names another policy than the live one, and status does not warn" ||
			return 1
	elif [ -s "$T_DIR/cf.err" ] ||
		grep -q 'does not describe' "$T_DIR/status.json"; then
		fail "$what: status warns with the state in step: $(cat "$T_DIR/cf.err" "$T_DIR/status.json")"
		return 1
	fi
	out=$(stat_global no_policy) || return 1
	[ "$out" = "$NP0" ] ||
		fail "$what: no_policy moved from $NP0 to $out" || return 1
	want=drop
	[ "$act" = b ] && want=pass
	verdict=$(probe_de $want)
	[ "$verdict" = "$want" ] ||
		fail "$what: policy $act is live but de4 got $verdict" ||
		return 1
	[ "$verdict" = pass ] && K_PASSES=$((K_PASSES + 1))
	[ "$verdict" = drop ] && K_DROPS=$((K_DROPS + 1))
	CUR=$act
}

# kill_summary: "N before the switch (time n, ...), ..." from kills.log.
kill_summary() {
	awk '{ n[$2]++; k[$2 " " $1]++ }
	END {
		split("before after completed", o, " ")
		split("time runtime image state", md, " ")
		for (i = 1; i <= 3; i++) {
			s = ""
			for (j = 1; j <= 4; j++)
				if (k[o[i] " " md[j]])
					s = s sprintf("%s%s %d", s ? ", " : "", md[j], k[o[i] " " md[j]])
			printf "%s%d %s%s", (i > 1 ? "; " : ""), n[o[i]] + 0, o[i],
				(s ? " (" s ")" : "")
		}
	}' "$T_DIR/kills.log"
}

# fault_push_timed NAME: push tests/data/NAME cleanly; its digest on stdout,
# its wall time in ms in $T_DIR/push.ms, its report in push.json.
fault_push_timed() {
	local out t0
	t0=$(date +%s%N)
	out=$(cf -j push "$DATA/$1" 2>"$T_DIR/push.err") ||
		fail "push $1: $out $(cat "$T_DIR/push.err")" || return 1
	echo $((($(date +%s%N) - t0) / 1000000)) >"$T_DIR/push.ms"
	echo "$out" >"$T_DIR/push.json"
	echo "$out" | jq_py 'd["digest"]'
}

_faults_sigkill() {
	local i s0 s1 leaks gen dg
	[ -r "$FAULT_DB" ] || { skip "$FAULT_DB not installed"; return 2; }
	fault_lines || return 1
	cf_attach "$TOPO_GW_IF" || return 1
	DG_A=$(fault_push_timed fault-a.conf) || return 1
	T_PUSH=$(cat "$T_DIR/push.ms")
	DG_B=$(fault_push_timed fault-b.conf) || return 1
	# The shorter of the two, so most timed kills land inside a push.
	[ "$(cat "$T_DIR/push.ms")" -lt "$T_PUSH" ] &&
		T_PUSH=$(cat "$T_DIR/push.ms")
	[ "$DG_A" != "$DG_B" ] || fail "A and B have one digest: $DG_A" ||
		return 1
	CUR=b
	K_STALE=0 K_DROPS=0 K_PASSES=0
	: >"$T_DIR/kills.log"
	cf_image_ids >"$T_DIR/maps0" || return 1
	s0=$T_DIR/stats0.json
	s1=$T_DIR/stats1.json
	cf_json stats >"$s0" || return 1
	NP0=$(jq_py 'd["global"]["no_policy"]["packets"]' <"$s0")
	traffic_start 5 || return 1
	for i in $(seq $FAULT_KILL_N); do
		kill_one "$i" || return 1
	done
	traffic_alive || return 1
	traffic_stop
	cf_json stats >"$s1" || return 1
	fault_check "$s0" "$s1" $K_DROPS $K_PASSES || return 1
	# Whatever the kills left behind, a clean push goes through.
	i=a dg=$DG_A
	[ "$CUR" = a ] && i=b dg=$DG_B
	fault_push_timed "fault-$i.conf" >/dev/null || return 1
	gen=$(jq_py 'd["generation"]' <"$T_DIR/push.json")
	status_is "$dg" "$gen" || return 1
	# The killed pushes' images are gone once the kernel has freed them
	# (an old image waits out an RCU grace period): three seconds.
	wait_for 3000 no_leaks
	leaks=$(cat "$T_DIR/leaks")
	[ -z "$leaks" ] ||
		fail "cf_image maps nothing holds, $((3 * T_SLOW)) s after the last push: ids $(echo "$leaks" | tr '\n' ' ')" ||
		return 1
	echo "     faults_sigkill: $FAULT_KILL_N kills of a ${T_PUSH} ms push:" \
		"$(kill_summary); state stale (and reported) after $K_STALE;" \
		"cf_image maps system-wide $(grep -c . "$T_DIR/maps0") before," \
		"$(cf_image_ids | grep -c .) after, none unheld;" \
		"$(cat "$T_DIR/check.out")"
}

# no_leaks: FAULT_LEAKS finds no unheld image; what it found in
# $T_DIR/leaks.
no_leaks() {
	"$PY" -c "$FAULT_LEAKS" "$T_DIR/maps0" "$CF_PIN" >"$T_DIR/leaks"
	[ ! -s "$T_DIR/leaks" ]
}

# Twenty-four pushes of the real database killed at chosen points while
# the traffic flows: after each, A or B is whole and in force, the probe
# agrees with it, a stale state file is reported, and nothing leaks.
t_faults_sigkill() {
	local rc
	K_PID=
	_faults_sigkill
	rc=$?
	[ -n "$K_PID" ] && kill -9 "$K_PID" 2>/dev/null &&
		{ wait "$K_PID"; } 2>/dev/null
	traffic_stop
	return $rc
}
