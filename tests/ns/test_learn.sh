# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Learning mode: a camera behind a gateway with no policy yet talks to a
# German and a Russian host; `report` names both with their country and
# AS, and the policies it suggests, pushed, allow what was seen and deny
# the rest (allow-seen) or deny what is abroad (deny-foreign).

# learn_pings HOST...: the camera pings each host (the gateway passes all:
# no policy), or fail.
learn_pings() {
	local h
	for h in "$@"; do
		probe_icmp "$TOPO_CAM" "$(topo_addr "$h")" ||
			fail "$h ($(topo_addr "$h")) unreachable while learning" ||
			return 1
	done
}

# learn_check JSON PYTHON_CONDITION...: each condition holds over the
# report (d), or fail naming the first that does not.
learn_check() {
	local j=$1 why
	shift
	why=$(echo "$j" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
cams = {c["camera"]: c for c in d["cameras"]}
cam = cams.get(sys.argv[1], {})
cc = {g["country"]: g for g in cam.get("countries", [])}
asn = {g["asn"]: g for g in cam.get("asns", [])}
con = {c["addr"]: c for c in cam.get("contacts", [])}
for cond in sys.argv[2:]:
    if not eval(cond):
        print(cond)
        break
' "$TOPO_CAM4" "$@") || return 1
	[ -z "$why" ] || fail "report -j: not $why: $j"
}

t_learn_report() {
	local j de=$(topo_addr de4) ru=$(topo_addr ru4)
	cf_attach "$TOPO_GW_IF" || return 1
	cf_ok learn start --sample 1 || return 1
	j=$(cf_json learn status) || return 1
	[ "$(echo "$j" | jq_py 'd["learning"] and d["sample"] == 1')" = true ] ||
		fail "learn status -j after start: $j" || return 1
	learn_pings de4 ru4 || return 1
	j=$(cf_json report --policy "$DATA/ns.conf") || return 1
	learn_check "$j" 'd["learning"] and d["sample"] == 1' \
		'cc["DE"]["packets"] >= 2 and cc["DE"]["country_name"] == "Germany"' \
		'cc["RU"]["packets"] >= 2' \
		'asn[64501]["as_name"] == "EXAMPLE-DE-HOSTING"' \
		'asn[64501]["countries"] == "DE" and asn[64501]["remotes"] == 1' \
		'asn[None]["packets"] >= 2' \
		'con["'"$de"'"]["from_camera"] and con["'"$de"'"]["to_camera"]' \
		'con["'"$ru"'"]["country"] == "RU" and con["'"$ru"'"]["asn"] is None' \
		'"'"$(topo_addr us4)"'" not in con' || return 1

	# stopped: what was recorded stays, nothing more is added
	cf_ok learn stop || return 1
	learn_pings de4 || return 1
	j=$(cf_json report --policy "$DATA/ns.conf") || return 1
	learn_check "$j" 'not d["learning"]' \
		'con["'"$de"'"]["packets"] == '"$(echo "$j" | jq_py \
		"[c['packets'] for x in d['cameras'] for c in x['contacts'] if c['addr'] == '$de']")" ||
		return 1
	cf_ok learn clear || return 1
	j=$(cf_json learn status) || return 1
	[ "$(echo "$j" | jq_py 'd["pairs"]')" = 0 ] ||
		fail "learn clear left pairs: $j"
}

# learn_suggest FILE ARGS...: what `report --suggest ARGS` prints, into FILE.
learn_suggest() {
	local f=$1
	shift
	cf report --policy "$DATA/ns.conf" --suggest "$@" >"$f" 2>"$T_DIR/cf.err" ||
		fail "report --suggest $*: $(tr '\n' ' ' <"$T_DIR/cf.err")"
}

t_learn_allow_seen() {
	local f=$T_DIR/allow-seen.conf
	cf_attach "$TOPO_GW_IF" || return 1
	cf_ok learn start || return 1
	learn_pings de4 ru4 || return 1
	learn_suggest "$f" allow-seen || return 1
	grep -qx 'default deny' "$f" && grep -q '^allow asn 64501 ' "$f" &&
		grep -q "^allow net $(topo_addr ru4)/32 " "$f" ||
		fail "allow-seen: $(tr '\n' '|' <"$f")" || return 1
	cf_ok learn stop && cf_ok push "$f" || return 1
	# seen: pass; not seen, AS64500 in Germany included: drop
	par expect_host icmp de4 pass
	par expect_host icmp ru4 pass
	par expect_host icmp us4 drop
	par expect_host icmp asn4 drop
	par expect_host icmp hk6 drop
	par_wait
}

t_learn_deny_foreign() {
	local f=$T_DIR/deny-foreign.conf
	cf_attach "$TOPO_GW_IF" || return 1
	cf_ok learn start --sample 1 || return 1
	learn_pings de4 asn4 ru4 || return 1
	learn_suggest "$f" deny-foreign --home RU || return 1
	grep -qx 'default allow' "$f" && grep -q '^deny asn 64501 ' "$f" &&
		grep -q '^deny asn 64500 ' "$f" ||
		fail "deny-foreign: $(tr '\n' '|' <"$f")" || return 1
	cf_ok learn stop && cf_ok push "$f" || return 1
	par expect_host icmp de4 drop
	par expect_host icmp asn4 drop
	par expect_host icmp ru4 pass
	par expect_host icmp us4 pass
	par_wait
}

# Bad options are refused with the reason, before anything changes.
t_learn_bad_input() {
	local out
	cf_attach "$TOPO_GW_IF" || return 1
	out=$(cf learn start --sample 0 2>&1) &&
		fail "learn start --sample 0 succeeded" && return 1
	echo "$out" | grep -q -- '--sample' ||
		fail "learn --sample 0 said: $out" || return 1
	out=$(cf report --suggest deny-foreign 2>&1) &&
		fail "deny-foreign without --home succeeded" && return 1
	echo "$out" | grep -q -- '--home' ||
		fail "deny-foreign without --home said: $out" || return 1
	out=$(cf report --suggest deny-foreign --home XY 2>&1) &&
		fail "--home XY succeeded" && return 1
	echo "$out" | grep -q "XY" || fail "--home XY said: $out"
}
