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

# Pins are root's alone: the tree 0700 (also when a looser directory was
# there before), every pin 0600, whatever the umask; nobody cannot list
# or open them.
t_pin_perms() {
	local p n=0
	command -v setpriv >/dev/null || { skip "setpriv not found"; return; }
	(umask 000 && mkdir -m 0777 "$CF_PIN") ||
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

# A database verified once is remembered in the state directory, so the
# next command skips libloc's seconds-long check; a change in place
# (ctime moves) makes it verify again, and a tampered file is refused.
t_verify_cache() {
	local key=/var/lib/location/signing-key.pem
	local db=/usr/share/libloc-location/location.db
	local copy=$T_DIR/copy.db size i out
	[ -r "$key" ] && [ -r "$db" ] ||
		{ skip "needs $db and $key (libloc-database, location)"; return; }
	cp "$db" "$copy" || fail "cannot copy $db" || return 1
	mkdir -p -m 700 "$CF_STATE" # as attach or push would have left it
	printf 'database libloc %s\ndeny country RU\n' "$copy" >"$T_DIR/v.conf"
	for i in 1 2; do
		out=$(cf -v compile "$T_DIR/v.conf" -o "$T_DIR/v.cfpa" 2>&1) ||
			fail "compile $i failed: $out" || return 1
		case $i/$out in
		1/*"signature verified with $key in"*) ;;
		2/*"signature verified with $key earlier; file unchanged"*) ;;
		*) fail "compile $i: unexpected verification note: $out"
			return 1 ;;
		esac
	done
	[ "$(stat -c %a "$CF_STATE/libloc-verified")" = 600 ] ||
		fail "the verification record is not 0600" || return 1
	size=$(stat -c %s "$copy")
	flip_bit "$copy" $((size / 2)) ||
		fail "cannot change $copy" || return 1
	out=$(cf compile "$T_DIR/v.conf" -o "$T_DIR/v.cfpa" 2>&1)
	[ $? -eq 2 ] && [[ $out == *"signature verification failed"* ]] ||
		fail "a database changed in place was not verified again: $out"
}
