# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The daemon's `log syslog` (the default): its messages and drop events
# reach /dev/log as RFC 3164 datagrams, ident camfence[PID], facility
# daemon, at the priority each deserves, and nothing goes to stderr.
#
# This machine has no syslog daemon and no /dev/log, and the host's /dev
# must not change, so the daemon runs in a mount namespace of its own
# (unshare -m, propagation private) whose /dev is a small tmpfs: the
# device nodes a process needs, bind-mounted from the host's /dev, and
# /dev/log, a unix datagram socket a Python listener binds.  The listener
# writes each datagram as one line of $T_DIR/syslog.out.

SL_PID=

# Runs as root inside the new mount namespace: SL_DIR ARGS...  Builds the
# private /dev, starts the listener unless SL_LISTEN=0, then execs ARGS
# (the daemon), so the caller's $! and this shell's $$ are the daemon.
SL_NS_SETUP='
set -e
d=$1
shift
mkdir -p "$d/hostdev"
mount --rbind /dev "$d/hostdev"
mount -t tmpfs -o mode=0755,size=1m cf-syslog-dev /dev
for n in null zero full random urandom tty; do
	: >"/dev/$n"
	mount --bind "$d/hostdev/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
umount -l "$d/hostdev"
[ "$SL_LISTEN" = 0 ] && exec "$@"
"$PY" -c "$SL_LISTEN_PY" /dev/log "$d/syslog.out" $$ </dev/null \
	>/dev/null 2>>"$d/listener.err" &
echo $! >"$d/listener.pid"
for i in $(seq 50); do
	[ -S /dev/log ] && break
	sleep 0.05
done
[ -S /dev/log ] || { echo "no /dev/log listener" >&2; exit 1; }
exec "$@"
'

# SOCKET OUT PID: one datagram a line (a newline inside one escaped),
# until process PID is gone, so an interrupted test leaves no listener.
SL_LISTEN_PY='
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
s.settimeout(0.5)
out = open(sys.argv[2], "ab", buffering=0)
while True:
    try:
        m = s.recv(65536).rstrip(b"\0")
    except socket.timeout:
        try:
            os.kill(int(sys.argv[3]), 0)
        except ProcessLookupError:
            break
        continue
    out.write(m.replace(b"\n", b"\\n") + b"\n")
'

# sl_policy GOOD|BAD: the policy the daemon reads, replaced by a rename.
# BAD misspells "country" on line 4, column 6.
sl_policy() {
	local f=$T_DIR/sl-policy.conf
	{
		echo "database csv $DATA/overlay.csv"
		echo "database csv $DATA/overlay-asn.csv"
		echo "default allow"
		if [ "$1" = BAD ]; then
			echo "deny contry RU"
		else
			echo "deny country RU CN BY KP IR"
		fi
		echo "deny asn 64500"
	} >"$f.tmp" && mv -f "$f.tmp" "$f"
}

# sl_start [nolisten]: the daemon, logging to syslog, in its own mount
# namespace; with nolisten nothing listens on its /dev/log yet.
sl_start() {
	local listen=1
	[ "${1:-}" = nolisten ] && listen=0
	: >"$T_DIR/syslog.out"
	: >"$T_DIR/sl.err"
	{
		echo "interface $TOPO_GW_IF"
		echo "policy $T_DIR/sl-policy.conf"
		echo "log syslog"
		echo "metrics-listen off"
	} >"$T_DIR/sl.conf"
	PY=$PY SL_LISTEN_PY=$SL_LISTEN_PY SL_LISTEN=$listen \
		unshare -m --propagation private bash -c "$SL_NS_SETUP" \
		sl-setup "$T_DIR" \
		nsenter --net="/run/netns/$TOPO_GW" "$CF" --bpffs "$CF_PIN" \
		--state "$CF_STATE" daemon --config "$T_DIR/sl.conf" \
		</dev/null >"$T_DIR/sl.err" 2>&1 &
	SL_PID=$!
	[ $listen = 0 ] && return 0
	sl_wait 6 "camfence daemon [^ ]+ running \\(pid $SL_PID\\)"
}

# sl_stop: the daemon, then the listener (its pid in a file: it may have
# been started in a subshell).
sl_stop() {
	local l
	if [ -n "$SL_PID" ]; then
		kill -TERM "$SL_PID" 2>/dev/null
		wait "$SL_PID" 2>/dev/null
	fi
	l=$(cat "$T_DIR/listener.pid" 2>/dev/null)
	[ -n "$l" ] && kill "$l" 2>/dev/null
	SL_PID=
	rm -f "$T_DIR/listener.pid"
}

# sl_wait SEVERITY ERE: wait up to 3 s for a datagram from the daemon at
# facility daemon (3) and SEVERITY (3 err, 4 warning, 5 notice, 6 info)
# whose message matches ERE: "<PRI>Mmm dd hh:mm:ss camfence[PID]: MSG".
sl_wait() {
	local re
	re="^<$((3 * 8 + $1))>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} camfence\\[$SL_PID\\]: $2"
	for _ in $(seq 60); do
		grep -qE -- "$re" "$T_DIR/syslog.out" && return 0
		sleep 0.05
	done
	fail "no syslog message <$((24 + $1))> matching '$2'; got:" \
		"$(tail -n 4 "$T_DIR/syslog.out" | tr '\n' ' ')" \
		"stderr: $(tail -n 2 "$T_DIR/sl.err" | tr '\n' ' ')"
}

# What the daemon says and sees reaches syslog: start (info), a drop
# event with rule, country and AS (notice), SIGHUP (info), a bad policy
# (err, with file:line:column, then the warning that the old one stays),
# the stop (info); stderr stays empty and the host's /dev untouched.
t_syslog_delivery() {
	local pol=$T_DIR/sl-policy.conf rc dev0
	command -v unshare >/dev/null || { skip "unshare not found"; return; }
	dev0=$(ls -la /dev/log 2>&1)
	sl_policy GOOD && sl_start || { sl_stop; return 1; }
	( sl_checks "$pol" )
	rc=$?
	sl_stop
	[ "$VERBOSE" -eq 1 ] && sed 's/^/     /' "$T_DIR/syslog.out"
	[ $rc -eq 0 ] || return 1
	[ ! -s "$T_DIR/sl.err" ] ||
		fail "the daemon wrote to stderr: $(head -n 3 "$T_DIR/sl.err" | tr '\n' ' ')" ||
		return 1
	[ "$(ls -la /dev/log 2>&1)" = "$dev0" ] &&
		! grep -q cf-syslog-dev /proc/self/mounts ||
		fail "the host's /dev changed: $(ls -la /dev/log 2>&1)"
}

# sl_checks POLICY: the expectations, in a subshell so a failure returns.
sl_checks() {
	local pol=$1
	sl_wait 6 "start: (pushed|policy in force is) $pol, generation" || return 1
	expect_host udp asn4 drop || return 1
	sl_wait 5 "[^ ]+ $TOPO_GW_IF ingress drop deny asn AS64500 \\(sl-policy\\.conf:5\\) [^ ]+ -> 203\\.0\\.113\\.10:$UDP_PORT udp .* remote 203\\.0\\.113\\.10: DE \\(Germany\\), AS64500 EXAMPLE-UNTRUSTED-CLOUD" ||
		return 1
	kill -HUP "$SL_PID"
	sl_wait 6 "SIGHUP: reloading $T_DIR/sl\\.conf and the policy" &&
		sl_wait 6 "SIGHUP: policy in force is $pol" || return 1
	sl_policy BAD
	sl_wait 3 "$pol:4:6: " &&
		sl_wait 4 "file change failed; the policy in force stays" ||
		return 1
	kill -TERM "$SL_PID"
	sl_wait 6 "Terminated: stopping; the fence stays up"
}

# sl_err_wait ERE: wait up to 3 s for a line of the daemon's stderr.
sl_err_wait() {
	for _ in $(seq 60); do
		grep -qE -- "$1" "$T_DIR/sl.err" && return 0
		sleep 0.05
	done
	fail "no '$1' on stderr: $(tail -n 3 "$T_DIR/sl.err" | tr '\n' ' ')"
}

# sl_listen_late: the listener in the daemon's mount namespace, now.
sl_listen_late() {
	local mnt=/proc/$SL_PID/ns/mnt
	nsenter --mount="$mnt" "$PY" -c "$SL_LISTEN_PY" /dev/log \
		"$T_DIR/syslog.out" "$SL_PID" </dev/null >/dev/null 2>&1 &
	echo $! >"$T_DIR/listener.pid"
	for _ in $(seq 50); do
		nsenter --mount="$mnt" test -S /dev/log && return 0
		sleep 0.05
	done
	fail "the late listener did not bind /dev/log"
}

# With nothing on /dev/log, `log syslog` says so once on stderr and logs
# there, events included, instead of losing every line; once a listener
# appears, the next message after the retry interval (2 s) goes to it.
t_syslog_fallback() {
	local rc
	command -v unshare >/dev/null || { skip "unshare not found"; return; }
	sl_policy GOOD && sl_start nolisten || { sl_stop; return 1; }
	( sl_fallback_checks )
	rc=$?
	sl_stop
	return $rc
}

sl_fallback_checks() {
	sl_err_wait "^camfence: warning: nothing listens on /dev/log; logging to stderr until syslog is up$" &&
		sl_err_wait "^camfence daemon [^ ]+ running \\(pid $SL_PID\\)$" ||
		return 1
	expect_host icmp ru4 drop || return 1
	sl_err_wait "^event: .* drop deny country RU .* remote 198\\.51\\.100\\.200: RU \\(Russia\\)" ||
		return 1
	sl_listen_late || return 1
	sleep 2.1
	kill -HUP "$SL_PID"
	sl_wait 6 "syslog is up at /dev/log; logging here" &&
		sl_wait 6 "SIGHUP: reloading $T_DIR/sl\\.conf and the policy" &&
		sl_err_wait "^syslog is up at /dev/log; logging there$" ||
		return 1
	expect_host udp asn4 drop || return 1
	sl_wait 5 ".* drop deny asn AS64500 " || return 1
	! grep -q "SIGHUP\\|AS64500" "$T_DIR/sl.err" ||
		fail "logged to stderr with syslog up: $(grep "SIGHUP\\|AS64500" "$T_DIR/sl.err" | head -n 2)"
}
