# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Who may reach the pinned objects, and which databases are trusted.

NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"

# mode_is PATH MODE: stat's octal mode of PATH is MODE.
mode_is() {
	local m
	m=$(stat -c %a "$1") || fail "cannot stat $1" || return 1
	[ "$m" = "$2" ] || fail "$1 has mode $m, expected $2"
}

# Pins are root's alone: the tree 0700 (also when a directory of root's
# that others could read was there before), every pin 0600, whatever the
# umask; nobody cannot list or open them.  (One others could write is
# refused: test_localuser.sh.)
t_pin_perms() {
	local p n=0
	command -v setpriv >/dev/null || { skip "setpriv not found"; return; }
	(umask 000 && mkdir -m 0755 "$CF_PIN") ||
		fail "cannot make a loose $CF_PIN" || return 1
	(umask 000 && cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf") ||
		return 1
	mode_is "$CF_PIN" 700 || return 1
	for p in $(pins); do
		if [ -d "$p" ]; then
			mode_is "$p" 700 || return 1
		else
			mode_is "$p" 600 || return 1
			n=$((n + 1))
		fi
	done
	[ "$n" -ge 9 ] || fail "only $n pins under $CF_PIN: $(pins | tr '\n' ' ')" ||
		return 1
	if $NOBODY ls "$CF_PIN" >/dev/null 2>&1; then
		fail "nobody can list $CF_PIN"
		return 1
	fi
	if $NOBODY test -r "$CF_PIN/maps/cf_policy"; then
		fail "nobody can read $CF_PIN/maps/cf_policy"
		return 1
	fi
	# the same check as root passes: the refusal above is the permission
	ls "$CF_PIN/maps" | grep -qx cf_policy ||
		fail "no cf_policy pin to check" || return 1
	expect_host icmp ru4 drop
}

# A libloc database that fails its signature is refused by push (exit 2,
# the file and the key named) and the old policy keeps enforcing.
# flip_bit FILE OFFSET: change one bit of FILE in place.
flip_bit() {
	"$PY" -c 'import sys
f = open(sys.argv[1], "r+b")
f.seek(int(sys.argv[2]))
b = f.read(1)
f.seek(-1, 1)
f.write(bytes([b[0] ^ 1]))' "$1" "$2"
}

t_db_signature_refused() {
	local key=/var/lib/location/signing-key.pem
	local db=/usr/share/libloc-location/location.db
	local bad=$T_DIR/tampered.db g0 g1 rc size
	[ -r "$key" ] && [ -r "$db" ] ||
		{ skip "needs $db and $key (libloc-database, location)"; return; }
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	g0=$(status_generation) || return 1
	cp "$db" "$bad" || fail "cannot copy $db" || return 1
	size=$(stat -c %s "$bad")
	# one bit in the middle of the network tree, far past the header
	flip_bit "$bad" $((size / 2)) ||
		fail "cannot change $bad" || return 1
	cat >"$T_DIR/tampered.conf" <<-EOF
	database libloc $bad
	database csv $DATA/overlay.csv
	default allow
	deny country DE
	EOF
	cf push "$T_DIR/tampered.conf" >"$T_DIR/push.out" 2>&1
	rc=$?
	rm -f "$bad"
	[ $rc -eq 2 ] || fail "push of a tampered database exited $rc, expected 2: $(cat "$T_DIR/push.out")" ||
		return 1
	grep -qF "$bad: signature verification failed with $key" "$T_DIR/push.out" ||
		fail "push did not name the database and key: $(cat "$T_DIR/push.out")" ||
		return 1
	g1=$(status_generation) || return 1
	[ "$g0" = "$g1" ] || fail "generation moved from $g0 to $g1" || return 1
	expect_host icmp de4 pass && expect_host icmp ru4 drop
}

# A database verified once is remembered in the cache directory, so the
# next command skips libloc's seconds-long check; a change in place
# (ctime moves) makes it verify again, and a tampered file is refused.
t_verify_cache() {
	local key=/var/lib/location/signing-key.pem
	local db=/usr/share/libloc-location/location.db
	local copy=$T_DIR/copy.db size i out
	[ -r "$key" ] && [ -r "$db" ] ||
		{ skip "needs $db and $key (libloc-database, location)"; return; }
	local cache=$T_DIR/cache
	cp "$db" "$copy" || fail "cannot copy $db" || return 1
	printf 'database libloc %s\ndeny country RU\n' "$copy" >"$T_DIR/v.conf"
	for i in 1 2; do
		out=$(cf --cache "$cache" -v compile "$T_DIR/v.conf" -o "$T_DIR/v.cfpa" 2>&1) ||
			fail "compile $i failed: $out" || return 1
		case $i/$out in
		1/*"signature verified with $key in"*) ;;
		2/*"signature verified with $key earlier; file unchanged"*) ;;
		*) fail "compile $i: unexpected verification note: $out"
			return 1 ;;
		esac
	done
	[ "$(stat -c %a "$cache")" = 700 ] &&
		[ "$(stat -c %a "$cache/libloc-verified")" = 600 ] ||
		fail "the cache directory is not 0700 or the verification record not 0600" ||
		return 1
	size=$(stat -c %s "$copy")
	flip_bit "$copy" $((size / 2)) ||
		fail "cannot change $copy" || return 1
	out=$(cf --cache "$cache" compile "$T_DIR/v.conf" -o "$T_DIR/v.cfpa" 2>&1)
	[ $? -eq 2 ] && [[ $out == *"signature verification failed"* ]] ||
		fail "a database changed in place was not verified again: $out"
}

# ------------------------------------------------------- metrics-allow-uid

AU_PID=

# au_start ARGS...: the daemon in the gateway with $T_DIR/au.conf and
# ARGS; 0 once it says it serves metrics.  Environment passes through.
au_start() {
	: >"$T_DIR/au.log"
	nsenter --net="/run/netns/$TOPO_GW" "$CF" --bpffs "$CF_PIN" \
		--state "$CF_STATE" daemon --config "$T_DIR/au.conf" "$@" \
		</dev/null >>"$T_DIR/au.log" 2>&1 &
	AU_PID=$!
	for _ in $(seq 50); do
		grep -q 'daemon .* running' "$T_DIR/au.log" && return 0
		kill -0 "$AU_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "daemon did not start: $(tail -n 3 "$T_DIR/au.log" | tr '\n' ' ')"
}

au_stop() {
	[ -n "$AU_PID" ] || return 0
	kill -TERM "$AU_PID" 2>/dev/null
	wait "$AU_PID"
	AU_PID=
}

# au_conf PORT [UID_LINE]: the daemon's file, with that directive.
au_conf() {
	{
		echo "interface $TOPO_GW_IF"
		echo "policy $DATA/ns.conf"
		echo "log stderr"
		echo "metrics-listen 127.0.0.1:$1"
		[ -n "${2:-}" ] && echo "$2"
	} >"$T_DIR/au.conf"
}

# au_status PORT UID: the HTTP status GET /metrics gets as UID.
au_status() {
	ip netns exec "$TOPO_GW" setpriv --reuid="$2" --regid="$2" \
		--clear-groups "$PY" -c '
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=3)
c.request("GET", "/metrics")
print(c.getresponse().status)' "$1" 2>/dev/null
}

# au_expect PORT WHAT UID=STATUS...: each uid gets its status.
au_expect() {
	local port=$1 what=$2 p got
	shift 2
	for p in "$@"; do
		got=$(au_status "$port" "${p%=*}")
		[ "$got" = "${p#*=}" ] ||
			fail "$what: uid ${p%=*} got '$got', expected ${p#*=}" ||
			return 1
	done
}

# au_hup: SIGHUP, and wait until the daemon logged the reload's outcome:
# the policy loaded, or the file refused.
au_hup() {
	local re='SIGHUP: (pushed|policy in force)|SIGHUP failed|not reloaded' n
	n=$(grep -cE "$re" "$T_DIR/au.log")
	kill -HUP "$AU_PID"
	for _ in $(seq 50); do
		[ "$(grep -cE "$re" "$T_DIR/au.log")" -gt "$n" ] && return 0
		sleep 0.1
	done
	fail "no reload logged after SIGHUP: $(tail -n 2 "$T_DIR/au.log" | tr '\n' ' ')"
}

# The daemon's metrics endpoint answers root and the one uid named by
# --metrics-allow-uid, else camfence.conf's metrics-allow-uid (a user
# name or a uid), else CAMFENCE_METRICS_ALLOW_UID; any other uid gets
# 403.  SIGHUP applies a changed directive; a bad one names file:line:col.
t_metrics_allow_uid() {
	local port out rc
	command -v setpriv >/dev/null || { skip "setpriv not found"; return; }
	getent passwd daemon bin nobody >/dev/null ||
		{ skip "needs the users daemon, bin and nobody"; return; }
	port=$(free_port) || return 1
	# the file names a user; the environment's uid 2 (bin) is overridden
	au_conf "$port" "metrics-allow-uid daemon"
	CAMFENCE_METRICS_ALLOW_UID=2 au_start || return 1
	grep -q "for root and uid 1 (daemon)" "$T_DIR/au.log" ||
		fail "the log does not say whom metrics answer: $(grep metrics "$T_DIR/au.log")" ||
		{ au_stop; return 1; }
	au_expect "$port" "file's 'daemon' over env 2" 0=200 1=200 2=403 \
		65534=403 || { au_stop; return 1; }
	# a uid, on SIGHUP
	au_conf "$port" "metrics-allow-uid 65534"
	au_hup && au_expect "$port" "file's 65534 after SIGHUP" 65534=200 \
		1=403 2=403 || { au_stop; return 1; }
	# no directive: the environment the daemon started with
	au_conf "$port"
	au_hup && au_expect "$port" "env 2 once the directive is gone" \
		2=200 1=403 65534=403 0=200 || { au_stop; return 1; }
	# a bad directive is refused; the uid in force stays
	au_conf "$port" "metrics-allow-uid cf-no-such-user"
	au_hup || { au_stop; return 1; }
	grep -qF "$T_DIR/au.conf:5:19: unknown user 'cf-no-such-user'" \
		"$T_DIR/au.log" || fail "no file:line:col for the unknown user: $(tail -n 3 "$T_DIR/au.log" | tr '\n' ' ')" ||
		{ au_stop; return 1; }
	au_expect "$port" "env 2 after a bad reload" 2=200 1=403 ||
		{ au_stop; return 1; }
	au_stop
	# the flag beats the file
	au_conf "$port" "metrics-allow-uid daemon"
	au_start --metrics-allow-uid nobody || return 1
	au_expect "$port" "--metrics-allow-uid over the file" 65534=200 \
		1=403 || { au_stop; return 1; }
	au_stop
	# at start a bad value stops the daemon, exit 2, file:line:col named
	au_conf "$port" "metrics-allow-uid -1"
	out=$(cf daemon --config "$T_DIR/au.conf" 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [[ $out == *"au.conf:5:19: '-1' is negative"* ]] ||
		fail "a negative uid: exit $rc, said: $out"
}
