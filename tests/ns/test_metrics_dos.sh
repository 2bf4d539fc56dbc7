# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The daemon's metrics endpoint against local users: any of them can
# connect to it, none may stall the daemon's loop (links, reloads,
# signals) or keep root's scrape out.  Idle connections by the dozen from
# uid 65534, refused or allowed; a dual-stack listener that sees IPv4
# clients as ::ffff:127.0.0.1.
#
# The daemon runs in the gateway's namespace as test_daemon.sh's does,
# logging to $T_DIR/md.log.  Times are checked against a second (times
# T_SLOW): the pre-change server spent a second on each idle connection,
# one after the other, in the daemon's loop.

MD_PID=

# md_conf PORT|ADDR:PORT [LINES...]: the daemon's file.
md_conf() {
	local listen=$1 l
	shift
	[[ $listen == *:* ]] || listen=127.0.0.1:$listen
	{
		echo "interface $TOPO_GW_IF"
		echo "policy $DATA/ns.conf"
		echo "log stderr"
		echo "metrics-listen $listen"
		for l in "$@"; do echo "$l"; done
	} >"$T_DIR/md.conf"
}

# md_start: the daemon with $T_DIR/md.conf; 0 once it runs.
md_start() {
	: >"$T_DIR/md.log"
	: >"$T_DIR/md.times"
	nsenter --net="/run/netns/$TOPO_GW" "$CF" --bpffs "$CF_PIN" \
		--state "$CF_STATE" daemon --config "$T_DIR/md.conf" \
		</dev/null >>"$T_DIR/md.log" 2>&1 &
	MD_PID=$!
	wait_for 5000 md_started && kill -0 "$MD_PID" 2>/dev/null && return 0
	fail "daemon did not start: $(tail -n 3 "$T_DIR/md.log" | tr '\n' ' ')"
}

md_started() {
	grep -q 'daemon .* running' "$T_DIR/md.log" || gone "$MD_PID"
}

md_stop() {
	[ -n "$MD_PID" ] || return 0
	kill -TERM "$MD_PID" 2>/dev/null
	wait_for 2000 gone "$MD_PID"
	kill -KILL "$MD_PID" 2>/dev/null
	wait "$MD_PID"
	MD_PID=
}

# md_as UID CMD...: CMD in the gateway as UID (0: as root).
md_as() {
	local uid=$1
	shift
	if [ "$uid" -eq 0 ]; then
		ip netns exec "$TOPO_GW" "$@"
	else
		ip netns exec "$TOPO_GW" setpriv --reuid="$uid" \
			--regid="$uid" --clear-groups "$@"
	fi
}

# md_get UID HOST PORT: "STATUS MS", GET /metrics as UID and how long the
# answer took, or "none MS" (3 s timeout, times T_SLOW).
md_get() {
	md_as "$1" "$PY" -c '
import http.client, sys, time
t0 = time.monotonic()
try:
    c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=int(sys.argv[3]))
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read()
    st = r.status if r.status != 200 or b"camfence_build_info" in body else "empty"
except Exception:
    st = "none"
print(st, int((time.monotonic() - t0) * 1000))' "$2" "$3" $((3 * T_SLOW)) 2>/dev/null
}

# The idle attacker: N connections to PORT that never send a byte, held
# for HOLD seconds.  Prints "ready" once they are connected (or half a
# second went by), then "refused=R closed=C open=O open_after=A
# last_close_ms=L": R got a 403, C were closed without one, O were still
# open at the end, A were open PROBE seconds after "ready".
MD_IDLE='
import select, socket, sys, time
port, n, hold, probe = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
socks = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    socks.append(s)
t0 = time.monotonic()
pending = list(socks)
while pending and time.monotonic() < t0 + 0.5:
    _, w, _ = select.select([], pending, [], 0.05)
    pending = [s for s in pending if s not in w]
t0 = time.monotonic()
print("ready", flush=True)
data, closed = {s: b"" for s in socks}, {}
while len(closed) < n:
    left = t0 + hold - time.monotonic()
    if left <= 0:
        break
    r, _, _ = select.select([s for s in socks if s not in closed], [], [], left)
    for s in r:
        try:
            b = s.recv(4096)
        except OSError:
            b = b""
        if b:
            data[s] += b
        else:
            closed[s] = time.monotonic() - t0
refused = sum(1 for s in closed if data[s].startswith(b"HTTP/1.1 403 "))
late = sum(1 for s in socks if closed.get(s, 1e9) > probe)
print("refused=%d closed=%d open=%d open_after=%d last_close_ms=%d" % (
    refused, len(closed) - refused, n - len(closed), late,
    max(closed.values(), default=0) * 1000))
'

# md_idle_start UID N: the attacker in the background as UID, holding
# its connections 3 s and counting those open after 0.3 s (times
# T_SLOW); its report goes to $T_DIR/idle.out.  0 once they are made.
md_idle_start() {
	: >"$T_DIR/idle.out"
	md_as "$1" "$PY" -c "$MD_IDLE" "$MD_PORT" "$2" $((3 * T_SLOW)) \
		"$(awk -v k="$T_SLOW" 'BEGIN { print 0.3 * k }')" \
		>"$T_DIR/idle.out" 2>&1 &
	MD_IDLE_PID=$!
	wait_for 3000 grep -q '^ready' "$T_DIR/idle.out" ||
		fail "the idle clients did not connect: $(cat "$T_DIR/idle.out")"
}

# md_idle_field NAME: a number of the attacker's report, once it ended.
md_idle_field() {
	sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" "$T_DIR/idle.out"
}

# md_fast UID HOST WHAT: GET /metrics as UID answers 200 within a second.
md_fast() {
	local got
	got=$(md_get "$1" "$2" "$MD_PORT")
	echo "$3: ${got% *} in ${got#* } ms" >>"$T_DIR/md.times"
	[ "${got% *}" = 200 ] && [ "${got#* }" -lt $((1000 * T_SLOW)) ] ||
		fail "$3: got '$got' (status ms), expected 200 within $((1000 * T_SLOW)) ms"
}

# md_hup_fast: SIGHUP is seen (logged) within a second.
md_hup_fast() {
	local t0 n
	n=$(grep -c 'SIGHUP: reloading' "$T_DIR/md.log")
	t0=$(now_ms)
	kill -HUP "$MD_PID"
	wait_for 1000 md_hup_logged "$n" ||
		fail "SIGHUP not handled within $((1000 * T_SLOW)) ms under the idle connections"
	echo "SIGHUP logged after $(($(now_ms) - t0)) ms" >>"$T_DIR/md.times"
}

md_hup_logged() {
	[ "$(grep -c 'SIGHUP: reloading' "$T_DIR/md.log")" -gt "$1" ]
}

# md_flood_end: wait for the attacker's report; with -v, show it and
# the times measured.
md_flood_end() {
	wait "$MD_IDLE_PID"
	if [ "$VERBOSE" -eq 1 ]; then
		sed 's/^/     /' "$T_DIR/md.times"
		grep '^refused=' "$T_DIR/idle.out" | sed 's/^/     idle: /'
	fi
	grep -q '^refused=' "$T_DIR/idle.out" ||
		fail "the idle clients reported nothing: $(cat "$T_DIR/idle.out")"
}

# 40 idle connections from uid 65534, which the endpoint does not answer:
# each gets its 403 at once, without having sent a request; meanwhile
# root's scrape and a SIGHUP are handled within a second.
t_metrics_idle_refused() {
	local n=40 v
	command -v setpriv >/dev/null || { skip "setpriv not found"; return; }
	MD_PORT=$(free_port) || return 1
	md_conf "$MD_PORT"
	md_start || return 1
	md_idle_start 65534 $n || { md_stop; return 1; }
	md_fast 0 127.0.0.1 "root's scrape under $n idle connections" &&
		md_hup_fast &&
		md_fast 0 127.0.0.1 "root's scrape after SIGHUP"
	v=$?
	md_flood_end || v=1
	md_stop
	[ $v -eq 0 ] || return 1
	want_eq "idle connections of uid 65534 answered 403 ($(cat "$T_DIR/idle.out"))" \
		"$(md_idle_field refused)" $n || return 1
	v=$(md_idle_field last_close_ms)
	[ "$v" -lt $((1000 * T_SLOW)) ] ||
		fail "the last 403 came after $v ms: refused only after a read" ||
		return 1
	grep -q 'SIGHUP: .*\(pushed\|policy in force\)' "$T_DIR/md.log" ||
		fail "the reload did not complete: $(tail -n 2 "$T_DIR/md.log" | tr '\n' ' ')"
}

# The same from the allowed scraper's uid: it holds 4 connections at
# most (a new one drops its oldest), each closed a second after accept
# without a request; root's scrape, its own new scrape and a SIGHUP still
# go through within a second.
t_metrics_idle_allowed() {
	local n=40 v
	command -v setpriv >/dev/null || { skip "setpriv not found"; return; }
	MD_PORT=$(free_port) || return 1
	md_conf "$MD_PORT" "metrics-allow-uid 65534"
	md_start || return 1
	md_idle_start 65534 $n || { md_stop; return 1; }
	md_fast 0 127.0.0.1 "root's scrape under $n idle connections of the allowed uid" &&
		md_fast 65534 127.0.0.1 "the allowed uid's scrape beside its idle connections" &&
		md_hup_fast
	v=$?
	md_flood_end || v=1
	md_stop
	[ $v -eq 0 ] || return 1
	want_eq "idle connections still open at the end ($(cat "$T_DIR/idle.out"))" \
		"$(md_idle_field open)" 0 || return 1
	want_eq "idle connections refused with 403" "$(md_idle_field refused)" 0 ||
		return 1
	v=$(md_idle_field open_after)
	[ "$v" -le 4 ] ||
		fail "$v idle connections of one uid held past $((300 * T_SLOW)) ms (cap 4)" ||
		return 1
	v=$(md_idle_field last_close_ms)
	[ "$v" -lt $((1500 * T_SLOW)) ] ||
		fail "the last idle connection was closed after $v ms (deadline 1 s)"
}

# A listener on [::ffff:127.0.0.1] sees IPv4 clients as v4-mapped IPv6;
# their sockets are in the IPv4 table, where the owner must be looked up,
# or root is refused.  The same for a dual-stack [::] (--listen-any):
# root over IPv4 and IPv6 gets 200, uid 65534 403.
t_metrics_v4mapped() {
	local got pid rc=0
	command -v setpriv >/dev/null || { skip "setpriv not found"; return; }
	MD_PORT=$(free_port) || return 1
	md_conf "[::ffff:127.0.0.1]:$MD_PORT"
	md_start || return 1
	md_fast 0 127.0.0.1 "root via [::ffff:127.0.0.1]" || rc=1
	got=$(md_get 65534 127.0.0.1 "$MD_PORT")
	[ $rc -eq 0 ] && want_eq "uid 65534 via [::ffff:127.0.0.1]" "${got% *}" 403 ||
		rc=1
	md_stop
	[ $rc -eq 0 ] || return 1
	MD_PORT=$(free_port) || return 1
	nsenter --net="/run/netns/$TOPO_GW" "$CF" --bpffs "$CF_PIN" \
		--state "$CF_STATE" metrics --listen "[::]:$MD_PORT" --listen-any \
		2>"$T_DIR/srv.err" &
	pid=$!
	wait_for 3000 md_listening || rc=1
	[ $rc -eq 0 ] && md_fast 0 127.0.0.1 "root via [::] over IPv4" &&
		md_fast 0 ::1 "root via [::] over IPv6" || rc=1
	got=$(md_get 65534 127.0.0.1 "$MD_PORT")
	[ $rc -eq 0 ] && want_eq "uid 65534 via [::] over IPv4" "${got% *}" 403 ||
		rc=1
	kill -TERM $pid
	wait $pid
	return $rc
}

md_listening() {
	ip netns exec "$TOPO_GW" ss -Htln "sport = :$MD_PORT" | grep -q .
}
