# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Metrics for Prometheus say what stats says, over stdout, HTTP and a
# node_exporter textfile; status and metrics flag an old database.
#
# The pinged "Russian" host is reached by no background traffic, so the
# deny class's counter moves only by what a test sends.

# A checker of the text exposition format, run over stdin: every sample
# belongs to a family announced by # HELP and # TYPE before it, families
# are not split, label values are well quoted.  Prints the problems.
PROM_CHECK='
import re, sys
typed, seen, last, bad = {}, set(), None, []
sample = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+]+)$")
label = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\n]|\\\\[\\\\n\"])*)\"(,|$)")
for n, line in enumerate(sys.stdin.read().splitlines(), 1):
    if line.startswith("# HELP "):
        continue
    if line.startswith("# TYPE "):
        _, _, name, typ = line.split(" ", 3)
        if name in typed:
            bad.append("%d: family %s announced twice" % (n, name))
        typed[name] = typ
        continue
    m = sample.match(line)
    if not m:
        bad.append("%d: not a sample: %r" % (n, line))
        continue
    name = m.group(1)
    if name not in typed:
        bad.append("%d: %s has no # TYPE" % (n, name))
    if name != last and name in seen:
        bad.append("%d: family %s split" % (n, name))
    seen.add(name)
    last = name
    labels = m.group(3) or ""
    pos = 0
    while pos < len(labels):
        lm = label.match(labels, pos)
        if not lm:
            bad.append("%d: bad labels %r" % (n, labels))
            break
        pos = lm.end()
print("\n".join(bad[:5]))
'

# prom_value NAME LABEL=VALUE...: the value of the one sample of NAME
# whose labels include these, from the exposition on stdin.
prom_value() {
	"$PY" -c '
import re, sys
name, want = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
hits = []
for line in sys.stdin:
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
    if not m or m.group(1) != name:
        continue
    labels = dict(re.findall(r"([a-zA-Z_]\w*)=\"((?:[^\"\\\\]|\\\\.)*)\"", m.group(2) or ""))
    if all(labels.get(k) == v for k, v in want.items()):
        hits.append(m.group(3))
print(hits[0] if len(hits) == 1 else "none-of-%d" % len(hits))
' "$@"
}

# metrics_ok: `camfence metrics` on stdout, checked for format, or fail.
metrics_ok() {
	local out bad
	out=$(cf metrics "$@" 2>"$T_DIR/metrics.err") ||
		fail "camfence metrics exited $?: $(tr '\n' ' ' <"$T_DIR/metrics.err")" ||
		return 1
	bad=$(echo "$out" | "$PY" -c "$PROM_CHECK")
	[ -z "$bad" ] || fail "metrics format: $(echo "$bad" | tr '\n' ';')" ||
		return 1
	printf '%s\n' "$out"
}

# want_eq WHAT GOT EXPECTED
want_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

RU_LABELS=('rule=deny country RU' action=deny kind=country country=RU)

# Denied pings show in the deny class's counters exactly as in stats -j;
# drops, fixed classes, ASN and net classes and the hooks are there too.
t_metrics_counts() {
	local n=6 m0 m1 s1 b1 mb drops
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	m0=$(metrics_ok | prom_value camfence_class_packets_total "${RU_LABELS[@]}")
	ip netns exec "$TOPO_CAM" ping -q -n -c $n -i 0.05 -W 1 \
		"$(topo_addr ru4)" >/dev/null 2>&1
	metrics_ok >"$T_DIR/m" || return 1
	s1=$(stat_class 'deny country RU' packets) || return 1
	b1=$(stat_class 'deny country RU' bytes) || return 1
	m1=$(prom_value camfence_class_packets_total "${RU_LABELS[@]}" <"$T_DIR/m")
	mb=$(prom_value camfence_class_bytes_total "${RU_LABELS[@]}" <"$T_DIR/m")
	want_eq "deny RU packets, metrics vs stats -j" "$m1" "$s1" || return 1
	want_eq "deny RU bytes, metrics vs stats -j" "$mb" "$b1" || return 1
	[ "$((m1 - m0))" -ge $n ] ||
		fail "deny RU went $m0 -> $m1 after $n pings" || return 1
	drops=$(prom_value camfence_dropped_packets_total <"$T_DIR/m")
	[ "$drops" -ge "$m1" ] 2>/dev/null ||
		fail "dropped_packets_total $drops < deny RU $m1" || return 1
	# the hooks as status -j names them: tc is tcx or clsact by kernel
	local want modes im em
	modes=$(hook_modes "$TOPO_GW_IF") || return 1
	read -r im em <<<"$modes"
	for want in \
		"camfence_class_packets_total kind=asn asn=64500 action=deny" \
		"camfence_class_packets_total kind=net net_line=9 action=allow" \
		"camfence_class_packets_total kind=default action=allow" \
		"camfence_class_packets_total kind=local action=allow" \
		"camfence_class_packets_total kind=country country=HK action=monitor" \
		"camfence_interface_info interface=$TOPO_GW_IF ingress=$im egress=$em" \
		"camfence_interface_up interface=$TOPO_GW_IF" \
		"camfence_policy_loaded" "camfence_ndp_packets_total" \
		"camfence_events_suppressed_total" "camfence_image_words_capacity"; do
		# shellcheck disable=SC2086 # split into name and labels
		set -- $want
		case $(prom_value "$@" <"$T_DIR/m") in
		[0-9]*) ;;
		*) fail "no single sample '$want' in the metrics"; return 1 ;;
		esac
	done
}

# The policy info metric names the digest and path status -j shows.
t_metrics_policy_info() {
	local j digest path got gen
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	j=$(cf_json status) || return 1
	digest=$(echo "$j" | jq_py 'd["policy"]["digest"]')
	path=$(echo "$j" | jq_py 'd["policy"]["path"]')
	gen=$(echo "$j" | jq_py 'd["policy"]["generation"]')
	metrics_ok >"$T_DIR/m" || return 1
	got=$(prom_value camfence_policy_info "digest=$digest" "path=$path" \
		<"$T_DIR/m")
	want_eq "camfence_policy_info{digest=$digest}" "$got" 1 || return 1
	got=$(prom_value camfence_policy_generation <"$T_DIR/m")
	want_eq "camfence_policy_generation" "$got" "$gen"
}

# free_port: a TCP port nobody listens on in the gateway namespace.
free_port() {
	ip netns exec "$TOPO_GW" ${HTTP_AS:-} "$PY" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# http_get PORT PATH: "status|content-type" then the body, from inside
# the gateway namespace.
http_get() {
	ip netns exec "$TOPO_GW" ${HTTP_AS:-} "$PY" -c '
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=3)
c.request("GET", sys.argv[2])
r = c.getresponse()
print("%d|%s" % (r.status, r.getheader("Content-Type")))
sys.stdout.write(r.read().decode())' "$1" "$2"
}

# GET /metrics answers 200 with the exposition's content type and the
# counters stats shows; another path is 404; SIGTERM stops the server.
t_metrics_http() {
	local port pid out rc src
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	ip netns exec "$TOPO_CAM" ping -q -n -c 3 -i 0.05 -W 1 \
		"$(topo_addr ru4)" >/dev/null 2>&1
	port=$(free_port) || return 1
	# nsenter execs camfence: $! is the server itself, for its exit code
	nsenter --net="/run/netns/$TOPO_GW" "$CF" --bpffs "$CF_PIN" \
		--state "$CF_STATE" metrics --listen "127.0.0.1:$port" \
		2>"$T_DIR/srv.err" &
	pid=$!
	wait_for 3000 http_first "$port" "$T_DIR/first.http"
	out=$(cat "$T_DIR/first.http" 2>/dev/null)
	http_checks "$port" "$out"
	rc=$?
	kill -TERM $pid
	wait_for 2000 gone $pid
	kill -0 $pid 2>/dev/null && kill -KILL $pid
	wait $pid
	src=$?
	[ $rc -eq 0 ] || return $rc
	want_eq "metrics --listen exit after SIGTERM" "$src" 0
}

# http_first PORT FILE: GET /metrics answered, the answer in FILE.
http_first() {
	http_get "$1" /metrics >"$2" 2>/dev/null
}

# http_checks PORT FIRST_RESPONSE: what t_metrics_http expects.
http_checks() {
	local head s1 m1
	head=$(echo "$2" | head -n 1)
	want_eq "GET /metrics" "$head" \
		"200|text/plain; version=0.0.4; charset=utf-8" || return 1
	s1=$(stat_class 'deny country RU' packets) || return 1
	m1=$(echo "$2" | tail -n +2 |
		prom_value camfence_class_packets_total "${RU_LABELS[@]}")
	want_eq "deny RU packets over HTTP vs stats -j" "$m1" "$s1" || return 1
	[ "$m1" -ge 3 ] || fail "deny RU $m1 after 3 pings" || return 1
	head=$(http_get "$1" /nothing-here | head -n 1)
	want_eq "GET /nothing-here" "${head%%|*}" 404 || return 1
	# the counters are root's: another user's socket gets 403
	head=$(HTTP_AS="setpriv --reuid=65534 --regid=65534 --clear-groups" \
		http_get "$1" /metrics 2>/dev/null | head -n 1)
	want_eq "GET /metrics as uid 65534" "${head%%|*}" 403
}

# A non-loopback or malformed --listen address is refused, saying why.
t_metrics_listen_refused() {
	local addr out rc
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	for addr in 192.0.2.1:9733 0.0.0.0:9733 '[::]:9733' \
		'[2001:db8:ca::1]:9733'; do
		out=$(cf metrics --listen "$addr" --once 2>&1)
		rc=$?
		want_eq "metrics --listen $addr exit" "$rc" 2 || return 1
		case $out in
		*"not a loopback address"*--listen-any*) ;;
		*) fail "metrics --listen $addr said: $out"; return 1 ;;
		esac
	done
	for addr in 127.0.0.1 127.0.0.1:0 localhost:9733 '[::1]9733'; do
		out=$(cf metrics --listen "$addr" --once 2>&1)
		rc=$?
		want_eq "metrics --listen $addr exit" "$rc" 2 || return 1
		case $out in
		*"is not ADDR:PORT"*) ;;
		*) fail "metrics --listen $addr said: $out"; return 1 ;;
		esac
	done
}

# The textfile holds what stdout does, mode 0640 (the counters are not
# everyone's), and is replaced by a rename: a new inode each write, no
# temporary file left behind.
t_metrics_textfile() {
	local f=$T_DIR/prom/camfence.prom i1 i2 mode a b i
	mkdir -p "$T_DIR/prom"
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	ip netns exec "$TOPO_CAM" ping -q -n -c 2 -i 0.05 -W 1 \
		"$(topo_addr ru4)" >/dev/null 2>&1
	(umask 077 && cf metrics --textfile "$f") || fail "textfile write" ||
		return 1
	i1=$(stat -c %i "$f") || return 1
	mode=$(stat -c %a "$f")
	want_eq "textfile mode (umask 077)" "$mode" 640 || return 1
	cf_ok metrics --textfile "$f" || return 1
	i2=$(stat -c %i "$f")
	[ "$i1" != "$i2" ] || fail "textfile rewritten in place (inode $i1)" ||
		return 1
	want_eq "files beside the textfile" "$(ls -A "$T_DIR/prom")" \
		camfence.prom || return 1
	a=$(prom_value camfence_class_packets_total "${RU_LABELS[@]}" <"$f")
	b=$(stat_class 'deny country RU' packets) || return 1
	want_eq "deny RU in the textfile vs stats -j" "$a" "$b" || return 1
	# The same exposition both ways.  Counters move between two renders
	# when ARP or neighbour discovery happens to run (often, under TCG):
	# a few tries, back to back, for one pair taken in the same instant.
	for i in 1 2 3 4 5; do
		cf_ok metrics --textfile "$f" || return 1
		a=$(grep -v -e '_age_seconds ' -e '^camfence_interface_up' "$f")
		b=$(metrics_ok | grep -v -e '_age_seconds ' \
			-e '^camfence_interface_up')
		[ "$a" = "$b" ] && return 0
		sleep 0.2
	done
	fail "textfile and stdout differ: $(diff <(echo "$a") <(echo "$b") |
		head -n 4 | tr '\n' ' ')"
}

# textfile_mode_refused ARGS...: `camfence metrics ARGS` exits 1 (a bad
# command line) saying why the mode is refused.
textfile_mode_refused() {
	local out rc
	out=$(cf metrics "$@" 2>&1)
	rc=$?
	[ $rc -eq 1 ] && [[ $out == *"--textfile-mode: '"* ]] ||
		fail "metrics $*: exit $rc, said: $out"
}

# The textfile's mode: --textfile-mode, and the daemon's
# metrics-textfile-mode, whatever the umask; a world-writable, special or
# non-octal mode is refused (the daemon's names file:line:column).  A
# symlink another user planted at the old temporary name, or at the
# textfile's own, is not followed: its target stays as it was.
t_metrics_textfile_mode() {
	local d f m rc
	command -v setpriv >/dev/null || { skip "setpriv not found"; return; }
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	# a directory the collector's user may write to, as node_exporter's
	# (outside $T_DIR, which uid 65534 cannot enter)
	d=$(mktemp -d "/tmp/cf-test-$$.tm.XXXXXX") && chmod 1777 "$d" ||
		return 1
	f=$d/camfence.prom
	textfile_mode_planted "$d" "$f"
	rc=$?
	rm -rf "$d"
	[ $rc -eq 0 ] && textfile_mode_daemon
}

# textfile_mode_planted DIR FILE: t_metrics_textfile_mode's writes with
# symlinks planted by uid 65534, and the refused modes.
textfile_mode_planted() {
	local d=$1 f=$2 m
	echo victim >"$T_DIR/victim"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		ln -s "$T_DIR/victim" "$f.tmp" || fail "cannot plant $f.tmp" ||
		return 1
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		ln -s "$T_DIR/victim" "$f" || fail "cannot plant $f" || return 1
	for m in 0644 600 0640; do
		(umask 077 && cf metrics --textfile "$f" --textfile-mode $m) ||
			fail "textfile write with mode $m" || return 1
		want_eq "textfile --textfile-mode $m" "$(stat -c %a "$f")" \
			"${m#0}" || return 1
	done
	want_eq "the planted symlinks' target" "$(cat "$T_DIR/victim")" victim ||
		return 1
	want_eq "the textfile's type and owner" "$(stat -c %F:%u "$f")" \
		"regular file:0" || return 1
	want_eq "files beside the textfile" "$(ls -A "$d" | tr '\n' ' ')" \
		"camfence.prom camfence.prom.tmp " || return 1
	for m in 0646 0777 4750 0o640 64 06400 rw-r----- ''; do
		textfile_mode_refused --textfile "$f" --textfile-mode "$m" ||
			return 1
	done
}

# textfile_mode_daemon: metrics-textfile-mode from the daemon's file,
# applied on its first textfile write; o+w refused with file:line:col.
textfile_mode_daemon() {
	local out rc pid
	printf 'interface %s\npolicy %s\nlog stderr\nmetrics-listen off\nmetrics-textfile %s\nmetrics-textfile-mode 0604\n' \
		"$TOPO_GW_IF" "$DATA/ns.conf" "$T_DIR/d.prom" >"$T_DIR/tm.conf"
	nsenter --net="/run/netns/$TOPO_GW" "$CF" --bpffs "$CF_PIN" \
		--state "$CF_STATE" daemon --config "$T_DIR/tm.conf" \
		</dev/null >"$T_DIR/tm.log" 2>&1 &
	pid=$!
	wait_for 5000 test -e "$T_DIR/d.prom"
	kill -TERM $pid
	wait $pid
	want_eq "the daemon's textfile, metrics-textfile-mode 0604" \
		"$(stat -c %a "$T_DIR/d.prom" 2>&1)" 604 || return 1
	sed -i 's/^metrics-textfile-mode .*/metrics-textfile-mode  0666/' \
		"$T_DIR/tm.conf"
	out=$(cf daemon --config "$T_DIR/tm.conf" 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [[ $out == *"tm.conf:6:24: '0666' lets every user write"* ]] ||
		fail "metrics-textfile-mode 0666: exit $rc, said: $out"
}

# The packaged location.db (built 2022-10-29) is stale by the default
# 30 days: status warns with its age in days, metrics say stale 1; a
# larger --max-db-age or CAMFENCE_MAX_DB_AGE silences both.
t_db_freshness_stale() {
	local pol=$T_DIR/old-db.conf db=/usr/share/libloc-location/location.db
	local j built days warn m got t0 t1
	[ -r $db ] || { skip "$db not installed"; return 2; }
	printf 'database libloc %s\ndatabase csv %s\ndefault allow\ndeny country RU\n' \
		"$db" "$DATA/overlay.csv" >"$pol"
	# signatures are test_security's: here they would only cost time
	# (45 s under TCG)
	CAMFENCE_NO_VERIFY=1 cf_attach "$TOPO_GW_IF" --policy "$pol" || return 1
	j=$(cf_json status) || return 1
	built=$(echo "$j" | jq_py 'd["policy"]["db_built_at"]')
	days=$((($(date +%s) - built) / 86400))
	[ "$days" -gt 30 ] || { skip "$db is only $days days old"; return 2; }
	warn="database built $(date -u -d "@$built" +%F) is $days days old (max 30)"
	got=$(echo "$j" | jq_py '[w for w in d["warnings"] if "database" in w]')
	want_eq "status -j database warning" "$got" "$warn" || return 1
	want_eq "status -j db_stale" "$(echo "$j" | jq_py 'd["policy"]["db_stale"]')" \
		true || return 1
	cf status | grep -qxF "WARNING: $warn" ||
		fail "status (text) lacks 'WARNING: $warn'" || return 1
	t0=$(date +%s)
	m=$(metrics_ok) || return 1
	t1=$(date +%s)
	want_eq "camfence_database_stale" \
		"$(echo "$m" | prom_value camfence_database_stale)" 1 || return 1
	want_eq "camfence_database_build_timestamp_seconds" \
		"$(echo "$m" | prom_value camfence_database_build_timestamp_seconds)" \
		"$built" || return 1
	# the age at some second while metrics ran
	got=$(echo "$m" | prom_value camfence_database_age_seconds)
	[ "$got" -ge $((t0 - built)) ] 2>/dev/null &&
		[ "$got" -le $((t1 - built)) ] ||
		fail "camfence_database_age_seconds $got, built at $built," \
			"read between $t0 and $t1" ||
		return 1
	j=$(cf_json status --max-db-age 36500) || return 1
	want_eq "status --max-db-age 36500 db_stale" \
		"$(echo "$j" | jq_py 'd["policy"]["db_stale"]')" false || return 1
	got=$(CAMFENCE_MAX_DB_AGE=36500 cf metrics |
		prom_value camfence_database_stale)
	want_eq "CAMFENCE_MAX_DB_AGE=36500 database_stale" "$got" 0
}

# A CSV database written just now is fresh: no warning, stale 0, age
# 0 days; a bad threshold is refused naming where it came from.
t_db_freshness_fresh() {
	local pol=$T_DIR/fresh.conf j m got out
	cp "$DATA/overlay.csv" "$T_DIR/fresh.csv"
	touch "$T_DIR/fresh.csv"
	printf 'database csv %s\ndefault allow\ndeny country RU\n' \
		"$T_DIR/fresh.csv" >"$pol"
	cf_attach "$TOPO_GW_IF" --policy "$pol" || return 1
	j=$(cf_json status) || return 1
	got=$(echo "$j" | jq_py '[w for w in d["warnings"] if "database" in w]')
	want_eq "status -j database warnings" "$got" "" || return 1
	want_eq "status -j db_age_days" \
		"$(echo "$j" | jq_py 'd["policy"]["db_age_days"]')" 0 || return 1
	m=$(metrics_ok) || return 1
	want_eq "camfence_database_stale" \
		"$(echo "$m" | prom_value camfence_database_stale)" 0 || return 1
	want_eq "camfence_database_max_age_seconds" \
		"$(echo "$m" | prom_value camfence_database_max_age_seconds)" \
		$((30 * 86400)) || return 1
	out=$(CAMFENCE_MAX_DB_AGE=soon cf status 2>&1)
	want_eq "status with CAMFENCE_MAX_DB_AGE=soon exit" "$?" 1 || return 1
	case $out in
	*CAMFENCE_MAX_DB_AGE*soon*) ;;
	*) fail "CAMFENCE_MAX_DB_AGE=soon said: $out" ;;
	esac
}

# What only an older camfence, or someone with root and bpf(2), installs:
# a copy of the live image whose header claims another digest (its bytes
# inverted) over the same tables, frozen and put in cf_policy's slot as
# push does.  Traffic is judged as before: the tables are the same.
LIE_PY='
import ctypes, mmap, platform, struct, sys
NR = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
if NR is None:
    sys.exit(77)
libc = ctypes.CDLL(None, use_errno=True)
keep = []

def ptr(b):
    buf = ctypes.create_string_buffer(b, len(b))
    keep.append(buf)
    return ctypes.addressof(buf), buf

def bpf(cmd, attr):
    a, _ = ptr(attr.ljust(128, b"\0"))
    r = libc.syscall(NR, cmd, ctypes.c_void_p(a), 128)
    if r < 0:
        raise OSError(ctypes.get_errno(), "bpf command %d" % cmd)
    return r

outer = bpf(7, struct.pack("<QII", ptr(sys.argv[1].encode() + b"\0")[0], 0, 0))
key, _ = ptr(struct.pack("<I", 0))
val, vbuf = ptr(bytes(4))
bpf(1, struct.pack("<IIQQQ", outer, 0, key, val, 0))
live = bpf(14, struct.pack("<III", struct.unpack("<I", vbuf.raw)[0], 0, 0))
info, ibuf = ptr(bytes(96))
bpf(15, struct.pack("<IIQ", live, 96, info))
mtype, _, ksz, vsz, ents, mflags = struct.unpack("<6I", ibuf.raw[:24])
size = -(-ents * vsz // mmap.PAGESIZE) * mmap.PAGESIZE
src = mmap.mmap(live, size, mmap.MAP_SHARED, mmap.PROT_READ)
n_words = struct.unpack("<I", src[8:12])[0]
img = bytearray(src[:n_words * 4])
src.close()
img[64:96] = bytes(b ^ 0xff for b in img[64:96])
new = bpf(0, struct.pack("<7I16s", mtype, ksz, vsz, ents, mflags, 0, 0, b"cf_image"))
dst = mmap.mmap(new, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
dst[:len(img)] = bytes(img)
dst.close()
bpf(22, struct.pack("<I", new))
nv, _ = ptr(struct.pack("<I", new))
bpf(2, struct.pack("<IIQQQ", outer, 0, key, nv, 0))
print(bytes(img[64:96]).hex())
'

# The digest metrics show is the one status shows, read back from the
# live tables; when the header claims another, metrics say which the
# tables are and camfence_policy_digest_mismatch is 1, where status
# warns.  One server across the three images: what it remembers is the
# image's, not the server's.
t_metrics_digest_readback() {
	local port pid dg rc
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	dg=$(cf_json status | jq_py 'd["policy"]["digest"]') || return 1
	port=$(free_port) || return 1
	nsenter --net="/run/netns/$TOPO_GW" "$CF" --bpffs "$CF_PIN" \
		--state "$CF_STATE" metrics --listen "127.0.0.1:$port" \
		2>"$T_DIR/srv.err" &
	pid=$!
	md_checks "$port" "$dg"
	rc=$?
	kill -TERM $pid
	wait_for 2000 gone $pid
	kill -0 $pid 2>/dev/null && kill -KILL $pid
	wait $pid
	return $rc
}

# md_scrape PORT: GET /metrics into $T_DIR/m, or fail.
md_scrape() {
	wait_for 3000 http_first "$1" "$T_DIR/m.http" ||
		fail "GET /metrics: $(cat "$T_DIR/srv.err")" || return 1
	tail -n +2 "$T_DIR/m.http" >"$T_DIR/m"
}

# md_is WHEN DIGEST MISMATCH: the scrape in $T_DIR/m says these.
md_is() {
	local got
	got=$(prom_value camfence_policy_info "digest=$2" <"$T_DIR/m")
	want_eq "$1: camfence_policy_info{digest=${2:0:16}...}" "$got" 1 ||
		return 1
	got=$(prom_value camfence_policy_digest_mismatch <"$T_DIR/m")
	want_eq "$1: camfence_policy_digest_mismatch" "$got" "$3"
}

# md_checks PORT DIGEST: what t_metrics_digest_readback expects of the
# server on PORT, DIGEST being the live policy's.
md_checks() {
	local port=$1 dg=$2 claim j
	md_scrape "$port" && md_is "pushed by camfence" "$dg" 0 || return 1
	claim=$("$PY" -c "$LIE_PY" "$CF_PIN/maps/cf_policy" 2>"$T_DIR/lie.err")
	case $? in
	0) ;;
	77) skip "no bpf(2) number for $(uname -m)"; return ;;
	*) fail "cannot install the lying image: $(cat "$T_DIR/lie.err")"; return 1 ;;
	esac
	j=$(cf_json status) || return 1
	[ "$(echo "$j" | jq_py 'd["policy"]["digest"]')" = "$dg" ] &&
		echo "$j" | jq_py 'd["warnings"]' | grep -q "claims digest ${claim:0:16}" ||
		fail "status does not see the lying header: $j" || return 1
	md_scrape "$port" && md_is "header claims ${claim:0:16}" "$dg" 1 ||
		return 1
	[ "$(prom_value camfence_policy_info "digest=$claim" <"$T_DIR/m")" = none-of-0 ] ||
		fail "metrics show the header's claim ${claim:0:16}" || return 1
	cf_push ns-flip.conf || return 1
	dg=$(cf_json status | jq_py 'd["policy"]["digest"]') || return 1
	md_scrape "$port" && md_is "pushed again" "$dg" 0 && expect_host icmp de4 drop
}
