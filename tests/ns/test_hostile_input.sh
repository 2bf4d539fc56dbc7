# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Input camfence did not write: a database where a signed one belongs,
# rules that can never match, IPv4 written as IPv6 in a CSV file, and
# database text with control characters on its way to a terminal.

# hi_policy NAME TEXT: write $T_DIR/NAME.conf.
hi_policy() {
	printf '%s\n' "$2" >"$T_DIR/$1.conf"
}

# hi_refused NAME WANT: push $T_DIR/NAME.conf is refused with exit 2, the
# one error line holds WANT, and the policy in force stays.
hi_refused() {
	local g0 g1 rc
	g0=$(status_generation) || return 1
	cf push "$T_DIR/$1.conf" >"$T_DIR/push.out" 2>&1
	rc=$?
	[ $rc -eq 2 ] ||
		fail "push $1.conf exited $rc, expected 2: $(cat "$T_DIR/push.out")" ||
		return 1
	grep -qF -- "$2" "$T_DIR/push.out" ||
		fail "push $1.conf: expected '$2', got: $(cat "$T_DIR/push.out")" ||
		return 1
	g1=$(status_generation) || return 1
	[ "$g0" = "$g1" ] || fail "generation moved from $g0 to $g1"
}

# With a signing key configured, a database line without a format must
# name a signed libloc database: a CSV file there is refused at its line
# (the key is never read for that), and `database csv` takes it anyway.
t_untyped_db_refused() {
	local csv=$DATA/overlay.csv
	cf_attach "$TOPO_GW_IF" || return 1
	cf_push ns.conf || return 1
	echo "any file: a key is configured" >"$T_DIR/key.pem"
	hi_policy untyped "default allow
database   $csv
deny country RU"
	CAMFENCE_LOCATION_KEY=$T_DIR/key.pem hi_refused untyped \
		"untyped.conf:2:12: $csv: content is a CSV database, but a libloc signing key is configured ($T_DIR/key.pem): write \`database csv $csv\` to use it unverified" ||
		return 1
	hi_policy typed "database csv $csv
deny country DE"
	CAMFENCE_LOCATION_KEY=$T_DIR/key.pem cf_ok push "$T_DIR/typed.conf" ||
		return 1
	expect_host icmp de4 drop && expect_host icmp ru4 pass
}

# A net rule wholly inside an embedded-IPv4 range never matches: refused
# with the IPv4 rule to write.  64:ff9b:1::/48 is not decoded: accepted.
t_embedded_net_refused() {
	cf_attach "$TOPO_GW_IF" || return 1
	cf_push ns.conf || return 1
	hi_policy embedded "database csv $DATA/overlay.csv
deny net 64:ff9b:1::/48 2000::/3
allow net 192.0.2.0/24   ::ffff:198.51.100.10"
	hi_refused embedded \
		"embedded.conf:3:26: ::ffff:198.51.100.10 can never match: IPv4-mapped addresses (::ffff:0:0/96) are judged as the IPv4 address they carry; write \`net 198.51.100.10/32\`"
}

# A CSV row ::ffff:a.b.c.d is IPv4 a.b.c.d: it decides real IPv4 traffic.
t_mapped_csv_row() {
	cf_attach "$TOPO_GW_IF" || return 1
	printf '::ffff:%s,::ffff:%s,CN\n' "$(topo_addr de4)" "$(topo_addr de4)" \
		>"$T_DIR/mapped.csv"
	hi_policy mapped "database csv $DATA/overlay.csv
database csv $T_DIR/mapped.csv
deny country CN"
	cf_ok push "$T_DIR/mapped.conf" || return 1
	expect_host icmp de4 drop && expect_host icmp ru4 pass
}

# The packaged database names AS59265 with C1 controls in it (an en dash
# encoded twice): lookup shows them escaped, and -j as valid JSON.  No
# datapath needed; the AS gets an address from a CSV without a name, so
# the name comes from location.db.
t_lookup_escapes() {
	local db=/usr/share/libloc-location/location.db out
	[ -r "$db" ] || { skip "needs $db (libloc-database)"; return; }
	echo "198.51.100.0,198.51.100.255,59265" >"$T_DIR/as59265.csv"
	hi_policy escapes "database libloc $db
database csv $T_DIR/as59265.csv
deny asn 59265"
	cf lookup --policy "$T_DIR/escapes.conf" 198.51.100.7 \
		64:ff9b:1::198.51.100.7 >"$T_DIR/lookup.out" 2>&1 ||
		fail "lookup failed: $(cat "$T_DIR/lookup.out")" || return 1
	# no C0 but newline, no DEL, no C1 raw or as UTF-8
	if LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f-\x9f]' "$T_DIR/lookup.out"; then
		fail "raw control bytes in lookup: $(od -c "$T_DIR/lookup.out" | head -n 20)"
		return 1
	fi
	grep -qF 'AS59265 China telecom â\xc2\x80\xc2\x93 China Next Generation Internet' \
		"$T_DIR/lookup.out" ||
		fail "lookup does not show AS59265's name escaped: $(cat "$T_DIR/lookup.out")" ||
		return 1
	grep -qF 'local-use NAT64 (64:ff9b:1::/48, RFC 8215): not decoded; judged as IPv6' \
		"$T_DIR/lookup.out" ||
		fail "lookup of 64:ff9b:1:: does not say it is not decoded: $(cat "$T_DIR/lookup.out")" ||
		return 1
	out=$(cf_json lookup --policy "$T_DIR/escapes.conf" 198.51.100.7) ||
		return 1
	[ "$(echo "$out" | jq_py 'd["addresses"][0]["database"]["as_name"] == "China telecom \u00e2\u0080\u0093 China Next Generation Internet"')" = true ] ||
		fail "lookup -j as_name: $out"
}

# An artifact of a policy file whose name holds ESC, a C1 control (U+009B,
# CSI, as UTF-8) and a byte that is not UTF-8, saved under a name with an
# OSC sequence: push --dry-run shows both names, in its first line and in
# the label of each class it would add or change, escaped; no control
# byte reaches the terminal.
t_dry_run_escapes() {
	local name art
	name=$(printf 'evil\033[31m\302\233\237.conf')
	art=$T_DIR/$(printf 'art\033]0;owned\007.cfpa')
	cf_attach "$TOPO_GW_IF" || return 1
	cf_push ns.conf || return 1
	hi_policy evil "database csv $DATA/overlay.csv
database csv $DATA/overlay-asn.csv
default allow
deny country RU DE
allow asn 64500"
	mv "$T_DIR/evil.conf" "$T_DIR/$name" || return 1
	art_compile_file "$T_DIR/$name" "$art" >/dev/null || return 1
	cf push --dry-run "$art" >"$T_DIR/dry.out" 2>&1 ||
		fail "push --dry-run failed: $(cat "$T_DIR/dry.out")" || return 1
	if LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f-\x9f]' "$T_DIR/dry.out"; then
		fail "raw control bytes in push --dry-run: $(od -c "$T_DIR/dry.out" | head -n 20)"
		return 1
	fi
	grep -qF '/art\x1b]0;owned\x07.cfpa (nothing applied):' \
		"$T_DIR/dry.out" &&
		grep -qF '+ deny country DE (evil\x1b[31m\xc2\x9b\x9f.conf:4)' \
			"$T_DIR/dry.out" &&
		grep -qF '~ allow asn AS64500 (evil\x1b[31m\xc2\x9b\x9f.conf:5): was drop' \
			"$T_DIR/dry.out" ||
		fail "push --dry-run does not show the names escaped: $(cat "$T_DIR/dry.out")"
}

# IPv6 database ranges inside the embedded-IPv4 prefixes are left out;
# text mode notes how many, and -j says it as embedded_v6_left_out: push
# (with and without --dry-run), compile and lookup alike.  An artifact,
# which does not record it, says null.
t_embedded_left_out_json() {
	local j got what
	cf_attach "$TOPO_GW_IF" || return 1
	printf '%s\n' '64:ff9b::c633:6400,64:ff9b::c633:64ff,CN' \
		'2002:c633:6400::,2002:c633:64ff:ffff:ffff:ffff:ffff:ffff,CN' \
		'2001:db8:ee::,2001:db8:ee::ffff,CN' >"$T_DIR/embedded.csv"
	hi_policy embv6 "database csv $DATA/overlay.csv
database csv $T_DIR/embedded.csv
deny country CN"
	cf push "$T_DIR/embv6.conf" >"$T_DIR/push.out" 2>&1 ||
		fail "push embv6.conf: $(cat "$T_DIR/push.out")" || return 1
	grep -q '^note: 2 IPv6 database ranges in 64:ff9b::/96' "$T_DIR/push.out" ||
		fail "push does not note 2 ranges left out: $(cat "$T_DIR/push.out")" ||
		return 1
	for what in "push --dry-run" push "compile -o $T_DIR/embv6.cfpa" \
		"lookup 2001:db8:ee::1 --policy"; do
		# shellcheck disable=SC2086 # what is a command and its options
		j=$(cf_json $what "$T_DIR/embv6.conf") || return 1
		got=$(echo "$j" | jq_py 'd.get("embedded_v6_left_out", "missing")')
		[ "$got" = 2 ] ||
			fail "$what -j: embedded_v6_left_out $got, expected 2: $j" ||
			return 1
	done
	j=$(cf_json push "$T_DIR/embv6.cfpa") || return 1
	got=$(echo "$j" | jq_py 'd.get("embedded_v6_left_out", "missing")')
	[ "$got" = None ] ||
		fail "push -j of an artifact: embedded_v6_left_out $got, expected null" ||
		return 1
	expect_host icmp de4 pass
}
