# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The database records cache (camfence(8) --cache): a push that changes
# only rules maps the layered records instead of reading the databases,
# and enforces exactly what reading them would; a changed database is
# read again; the cache is root's only and used only from a directory
# root owns that nobody else can write.

# dbc_push CACHE POLICY: push with that cache directory; prints
# databases_cached (true/false).
dbc_push() {
	local j
	j=$(cf --cache "$1" -j push "$2" 2>"$T_DIR/dbc.err") ||
		fail "push $2: $(tr '\n' ' ' <"$T_DIR/dbc.err")" || return 1
	echo "$j" | jq_py 'd["databases_cached"]'
}

# dbc_policy NAME RULES: a policy over this test's copy of the overlay.
dbc_policy() {
	printf 'database csv %s\ndatabase csv %s\n%s\n' "$T_DIR/cc.csv" \
		"$T_DIR/asn.csv" "$2" >"$T_DIR/$1.conf"
}

# dbc_is WHAT GOT WANT: databases_cached as expected, else say which push.
dbc_is() {
	[ "$2" = "$3" ] || fail "$1: databases_cached $2, expected $3"
}

t_dbcache_policy_only() {
	local c=$T_DIR/cache got
	cp "$DATA/overlay.csv" "$T_DIR/cc.csv" &&
		cp "$DATA/overlay-asn.csv" "$T_DIR/asn.csv" || return 1
	dbc_policy ru 'deny country RU'
	dbc_policy hk 'deny country HK'
	cf_attach "$TOPO_GW_IF" || return 1

	got=$(dbc_push "$c" "$T_DIR/ru.conf") || return 1
	dbc_is "first push" "$got" false || return 1
	[ "$(stat -c %a "$c")" = 700 ] && [ "$(stat -c %a "$c/records")" = 600 ] ||
		fail "cache modes $(stat -c %a "$c" "$c/records" | tr '\n' ' '), want 700 and 600" ||
		return 1
	par expect_host icmp ru4 drop; par expect_host icmp hk4 pass
	par_wait || return 1

	# rules only: from the cache, and enforcing the new rules
	got=$(dbc_push "$c" "$T_DIR/hk.conf") || return 1
	dbc_is "policy-only push" "$got" true || return 1
	par expect_host icmp ru4 pass; par expect_host icmp hk4 drop
	par expect_host tcp hk6 drop; par expect_host tcp de6 pass
	par_wait || return 1

	# the database changes (ru4's range becomes HK): read again
	sed -i 's/^198\.51\.100\.128,198\.51\.100\.255,RU$/198.51.100.128,198.51.100.255,HK/' \
		"$T_DIR/cc.csv"
	grep -q '^198\.51\.100\.128,198\.51\.100\.255,HK$' "$T_DIR/cc.csv" ||
		fail "overlay.csv no longer has the RU range this test rewrites" ||
		return 1
	got=$(dbc_push "$c" "$T_DIR/hk.conf") || return 1
	dbc_is "push after a database change" "$got" false || return 1
	par expect_host icmp ru4 drop; par expect_host icmp hk4 drop
	par expect_host icmp de4 pass
	par_wait
}

# --cache none, and directories the cache must not trust: nothing read
# from them, nothing written into them, and the push still works.
t_dbcache_refused() {
	local got d
	cp "$DATA/overlay.csv" "$T_DIR/cc.csv" &&
		cp "$DATA/overlay-asn.csv" "$T_DIR/asn.csv" || return 1
	dbc_policy ru 'deny country RU'
	cf_attach "$TOPO_GW_IF" || return 1
	for _ in 1 2; do
		got=$(dbc_push none "$T_DIR/ru.conf") || return 1
		dbc_is "--cache none" "$got" false || return 1
	done
	for d in other group; do
		mkdir -m 0700 "$T_DIR/$d" || return 1
		case $d in
		other) chown nobody "$T_DIR/$d" ;;
		group) chmod 0770 "$T_DIR/$d" ;;
		esac
		for _ in 1 2; do
			got=$(dbc_push "$T_DIR/$d" "$T_DIR/ru.conf") || return 1
			dbc_is "cache dir $d" "$got" false || return 1
		done
		[ -z "$(ls -A "$T_DIR/$d")" ] ||
			fail "cache written into an untrusted directory ($d): $(ls -A "$T_DIR/$d")" ||
			return 1
	done
	expect_host icmp ru4 drop
}
