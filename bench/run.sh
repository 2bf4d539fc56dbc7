#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/run.sh [--smoke] - camfence side by side with the kernel LPM trie,
# nftables and iptables + ipset, on the same compiled ranges (README.md).
#
#   1. prep    compile bench/policy.conf once; derive every competitor's
#              tables and the address sets from it (cfbench prep)
#   2. lookup  ns per lookup in the kernel, bpf_loop over address arrays;
#              camfence's whole XDP program per frame by path; prototypes
#   3. pps     frames through a veth pair between two namespaces made here,
#              generated with BPF_F_TEST_XDP_LIVE_FRAMES; every run's drops
#              are checked against the filter's own counters
#   4. push    camfence (its CLI, and the cache prototype), nft -f, ipset
#   5. memory  kernel memory of each one's tables
#   6. report  results.md, results.png (gnuplot), raw.json
#
# The full run writes bench/results/; --smoke runs everything small, in a
# scratch directory, and fails if any part breaks or any check fails; it
# never judges timings.  Traffic stays in the two namespaces: the one
# under test routes everything to a blackhole.
set -u
cd "$(dirname "$0")/.." || exit 1

O=${O:-build}
CFB=$PWD/$O/bench/cfbench
CF=$PWD/$O/camfence
POLICY=$PWD/bench/policy.conf
PY=/usr/bin/python3

SMOKE=0
[ "${1:-}" = --smoke ] && SMOKE=1
if [ $SMOKE = 1 ]; then
	# sets larger than the generator's 64k, so that a mix-up shows
	N=131072 PASSES=1 FRAMES=65536 WARMUP=4096 ROUNDS=1 REPS=1 PUSH_REPS=1
	SETTLE=0.2 MEM_REPS=1
else
	N=1048576 PASSES=7 FRAMES=2000000 WARMUP=65536 ROUNDS=3 REPS=2 PUSH_REPS=3
	SETTLE=1 MEM_REPS=5
fi

T=cfb$$
NS_GEN=$T-gen NS_DUT=$T-dut
DEV_GEN=${T}g DEV_DUT=${T}d
PIN=/sys/fs/bpf/cfbench-$$
WORK=$(mktemp -d /tmp/cfbench.XXXXXX)
STATE=$WORK/state
CACHE=$WORK/cache
OUT=$PWD/bench/results
[ $SMOKE = 1 ] && OUT=$WORK/results
FAILS=0
START=$(date +%s)

say() { printf 'bench: [%3ds] %s\n' "$(($(date +%s) - START))" "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }
check() {
	say "CHECK FAILED: $*"
	FAILS=$((FAILS + 1))
}

dut() { nsenter --net="/run/netns/$NS_DUT" "$@"; }
cf() { timeout 120 nsenter --net="/run/netns/$NS_DUT" "$CF" --bpffs "$PIN" --state "$STATE" --cache "$CACHE" "$@"; }
# cfq ARGS: camfence, quiet unless it fails
cfq() {
	local out
	out=$(cf "$@" 2>&1) && return 0
	say "camfence $*: $out"
	return 1
}
ms_now() { echo $(($(date +%s%N) / 1000000)); }
# jget KEY: a top-level field of the JSON object on stdin
jget() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

cleanup() {
	[ -d "$PIN" ] && cfq detach --all 2>&1
	rm -rf "$PIN"
	ip netns del "$NS_GEN" 2>/dev/null
	ip netns del "$NS_DUT" 2>/dev/null
	if [ $FAILS -eq 0 ] && [ -z "${CFBENCH_KEEP:-}" ]; then
		rm -rf "$WORK"
	else
		say "work directory kept: $WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

preflight() {
	local t
	[ "$(id -u)" -eq 0 ] || die "needs root (BPF, namespaces)"
	for t in "$CFB" "$CF"; do
		[ -x "$t" ] || die "$t missing: make bench-build"
	done
	for t in nft ipset iptables ip6tables ethtool nsenter gnuplot "$PY"; do
		command -v "$t" >/dev/null || die "$t missing: make deps"
	done
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf ||
		die "cannot mount bpffs"
}

machine() {
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	"$PY" - "$cpu" "$(nproc)" "$(uname -r)" "$(uname -m)" \
		"$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		"$SMOKE" "$(cut -d' ' -f1-3 /proc/loadavg)" \
		"$(awk '/MemTotal/ {print $2}' /proc/meminfo)" \
		"${POLICY#"$PWD"/}" <<'EOF' >"$WORK/machine.json"
import json, sys, datetime
a = sys.argv[1:]
print(json.dumps({"cpu": a[0], "cpus": int(a[1]), "kernel": a[2],
                  "arch": a[3], "commit": a[4], "smoke": a[5] == "1",
                  "load_start": a[6], "mem_kib": int(a[7]), "policy": a[8],
                  "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")}))
EOF
}

# ---- topology -------------------------------------------------------------

topo() {
	ip netns add "$NS_GEN" || die "netns"
	ip netns add "$NS_DUT" || die "netns"
	ip link add name "$DEV_GEN" netns "$NS_GEN" type veth peer name \
		"$DEV_DUT" netns "$NS_DUT" || die "veth"
	# nothing but the generator's frames may reach the filters' counters:
	# no router solicitations, MLD reports or DAD from the generator side
	ip netns exec "$NS_GEN" sysctl -qw "net.ipv6.conf.$DEV_GEN.disable_ipv6=1" ||
		die "sysctl"
	ip -n "$NS_GEN" link set "$DEV_GEN" up
	ip -n "$NS_DUT" link set "$DEV_DUT" up
	# the peer runs NAPI (needed to receive without XDP) and routes every
	# frame it accepts into a blackhole, as a gateway forwarding it would
	dut ethtool -K "$DEV_DUT" gro on >/dev/null || die "gro"
	dut sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 \
		"net.ipv4.conf.$DEV_DUT.rp_filter=0" || die "sysctl"
	dut ip route add blackhole default || die "route"
	dut ip -6 route add blackhole default || die "route6"
	SMAC=$(ip -n "$NS_GEN" -br link show "$DEV_GEN" | awk '{print $3}')
	DMAC=$(ip -n "$NS_DUT" -br link show "$DEV_DUT" | awk '{print $3}')
}

# ---- filters under test -----------------------------------------------------

# cf-xdp-proto: camfence's XDP program with the image of the layout the
# README proposes (bench/proto_table.c), attached by cfbench itself
VARIANTS="bare cf-xdp cf-xdp-proto lpm-xdp cf-tc nft ipt"
PROTO_V6=12,4

cf_push_timed() { # POLICY LABEL
	local t0 out
	t0=$(ms_now)
	out=$(cf -j push "$1") || { check "camfence push $1 failed"; return 1; }
	echo "{\"what\": \"$2\", \"wall_ms\": $(($(ms_now) - t0)), \"cli\": $out}" \
		>>"$WORK/push.jsonl"
}

nft_load_timed() {
	local t0
	t0=$(ms_now)
	dut nft -f "$WORK/nft.conf" || { check "nft -f failed"; return 1; }
	echo "{\"what\": \"nft\", \"wall_ms\": $(($(ms_now) - t0))}" >>"$WORK/push.jsonl"
}

# restore into cfb4-new/cfb6-new, swap with the live sets, drop the old
ipset_load_timed() {
	local t0
	t0=$(ms_now)
	if ! { dut ipset restore <"$WORK/ipset.restore" &&
		dut ipset swap cfb4-new cfb4 && dut ipset swap cfb6-new cfb6 &&
		dut ipset destroy cfb4-new && dut ipset destroy cfb6-new; }; then
		check "ipset restore/swap failed"
		return 1
	fi
	echo "{\"what\": \"ipset\", \"wall_ms\": $(($(ms_now) - t0))}" >>"$WORK/push.jsonl"
}

setup() {
	case $1 in
	cf-xdp) cfq attach "$DEV_DUT" --mode native &&
		cf_push_timed "$POLICY" camfence_setup ;;
	cf-tc) cfq attach "$DEV_DUT" --mode tc &&
		cf_push_timed "$POLICY" camfence_setup ;;
	nft) nft_load_timed ;;
	ipt) dut ipset create cfb4 hash:net family inet &&
		dut ipset create cfb6 hash:net family inet6 &&
		ipset_load_timed &&
		dut iptables -t raw -A PREROUTING -m set --match-set cfb4 dst -j DROP &&
		dut ip6tables -t raw -A PREROUTING -m set --match-set cfb6 dst -j DROP ;;
	*) true ;;
	esac
}

teardown() {
	case $1 in
	cf-xdp | cf-tc) cfq detach --all ;;
	nft) dut nft delete table netdev cfbench ;;
	ipt) dut iptables -t raw -F PREROUTING && dut ip6tables -t raw -F PREROUTING &&
		dut ipset destroy cfb4 && dut ipset destroy cfb6 ;;
	*) true ;;
	esac
}

# drops_now VARIANT: what the filter has counted as dropped so far
drops_now() {
	case $1 in
	bare | lpm-xdp | cf-xdp | cf-xdp-proto)
		dut ethtool -S "$DEV_DUT" | awk '/rx_queue_0_xdp_drops/ {s += $2} END {print s + 0}' ;;
	cf-tc)
		cf -j stats | "$PY" -c 'import json,sys
d = json.load(sys.stdin)
print(sum(c["packets"] for c in d["classes"] if c["verdict"] == "drop"))' ;;
	nft)
		dut nft list chain netdev cfbench ingress |
			awk '/counter packets/ {for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1)} END {print s + 0}' ;;
	ipt)
		{ dut iptables -t raw -nvxL PREROUTING; dut ip6tables -t raw -nvxL PREROUTING; } |
			awk '$3 == "DROP" {s += $1} END {print s + 0}' ;;
	esac
}

# Frames the generator's veth handed to its peer.  A frame it could not
# (the peer's ring full, when the receiver falls behind on a loaded
# machine) never reaches any filter.
gen_sent() {
	nsenter --net="/run/netns/$NS_GEN" ethtool -S "$DEV_GEN" |
		awk '$1 == "tx_queue_0_xdp_xmit:" {print $2}'
}

# pps_variant VARIANT ROUND: every family and mix, REPS times each, in one
# generator process; the filter must drop exactly the frames the policy
# drops, less at most the frames that never reached it.
pps_variant() {
	local v=$1 cases="" fam mix set xdp="" before after out want sent lost
	for fam in 4 6; do
		for mix in mixed deny; do
			set=v$fam-deny
			[ $mix = mixed ] && { [ $fam = 4 ] && set=v4-uniform || set=v6-dbnet; }
			for _ in $(seq 1 "$REPS"); do cases="$cases --case $fam:$set"; done
		done
	done
	case $v in
	bare) xdp="--xdp bare" ;;
	lpm-xdp) xdp="--xdp lpm" ;;
	cf-xdp-proto) xdp="--xdp camfence --image image-proto.bin" ;;
	esac
	before=$(drops_now "$v")
	sent=$(gen_sent)
	# shellcheck disable=SC2086 # lists of words
	out=$("$CFB" pps "$WORK" $cases --gen-ns "$NS_GEN" --gen-dev "$DEV_GEN" \
		--smac "$SMAC" --dmac "$DMAC" --frames "$FRAMES" --warmup "$WARMUP" \
		$xdp --dut-ns "$NS_DUT" --dut-dev "$DEV_DUT") ||
		{ check "pps $v: the generator failed"; return; }
	after=$(drops_now "$v")
	sent=$(($(gen_sent) - sent))
	lost=$(echo "$out" | "$PY" -c 'import json,sys
print(sum(json.loads(l)["frames"] + json.loads(l)["warmup"] for l in sys.stdin) - int(sys.argv[1]))' "$sent")
	echo "$out" | "$PY" -c '
import json, sys
v, r, lost = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for line in sys.stdin:
    run = json.loads(line)
    mix = "deny" if run["set"].endswith("-deny") else "mixed"
    print(json.dumps({"variant": v, "mix": mix, "round": r,
                      "lost_in_variant": lost, "run": run}))
' "$v" "$2" "$lost" >>"$WORK/pps.jsonl"
	want=$(echo "$out" | "$PY" -c 'import json,sys
print(sum(json.loads(l)["drops_expected"] for l in sys.stdin))')
	[ "$lost" -gt 0 ] && say "pps $v: $lost frames never reached the filter (receiver behind)"
	if [ "$((after - before))" -gt "$want" ] ||
		[ "$((after - before))" -lt "$((want - lost))" ]; then
		check "pps $v: dropped $((after - before)) frames, the policy drops $want ($lost lost on the way)"
	fi
}

pps_all() {
	local r v
	for r in $(seq 1 "$ROUNDS"); do
		for v in $VARIANTS; do
			say "pps round $r/$ROUNDS: $v"
			setup "$v" || { check "setup $v failed"; teardown "$v"; continue; }
			pps_variant "$v" "$r"
			teardown "$v" || check "teardown $v failed"
		done
	done
}

# ---- push ------------------------------------------------------------------

# Full: the records cache removed, the libloc signature check remembered
# (it belongs to a database update, not to compiling); cold: both caches
# removed, what the first push after a database update costs.
# Policy-only: two policies over the same databases, the cache warm.
push_all() {
	local a b
	say "push: camfence full, cold and policy-only, nft -f, ipset restore + swap"
	cfq attach "$DEV_DUT" --mode native || check "attach failed"
	sleep "$SETTLE"
	rm -rf "$CACHE"
	cf_push_timed "$POLICY" camfence_cold
	for _ in $(seq 1 "$PUSH_REPS"); do
		rm -f "$CACHE/records"
		a=$(kmem)
		cf_push_timed "$POLICY" camfence_full
		b=$(kmem)
	done
	echo "{\"what\": \"camfence\", \"kmem_delta\": $((b - a)), \"status\": $(cf -j status)}" \
		>>"$WORK/mem.jsonl"
	for _ in $(seq 1 "$((PUSH_REPS * 2))"); do
		cf_push_timed "$WORK/policy2.conf" camfence_policy_only
		cf_push_timed "$POLICY" camfence_policy_only
	done
	cfq detach --all
	setup nft
	for _ in $(seq 1 "$PUSH_REPS"); do nft_load_timed; done
	teardown nft
	setup ipt
	for _ in $(seq 1 "$PUSH_REPS"); do ipset_load_timed; done
	teardown ipt
}

# ---- memory ------------------------------------------------------------------

kmem() { awk '/^(SUnreclaim|VmallocUsed|Percpu):/ {s += $2} END {print s * 1024}' /proc/meminfo; }

# Kernel memory a filter's tables take: the growth of unreclaimable slab,
# vmalloc and per-CPU memory while they load, median of the repetitions
# (other work on the machine moves these counters too).
mem_all() {
	local a b memsize
	say "memory: nftables and ipset (kernel memory growth while loading)"
	for _ in $(seq 1 "$MEM_REPS"); do
		sleep "$SETTLE"
		a=$(kmem)
		dut nft -f "$WORK/nft.conf" || check "nft -f failed"
		b=$(kmem)
		echo "{\"what\": \"nft\", \"kmem_delta\": $((b - a))}" >>"$WORK/mem.jsonl"
		dut nft delete table netdev cfbench
		sleep "$SETTLE"
		a=$(kmem)
		dut ipset restore <"$WORK/ipset.restore" || check "ipset restore failed"
		b=$(kmem)
		memsize=$(dut ipset list -t | awk '/^Size in memory/ {s += $4} END {print s + 0}')
		echo "{\"what\": \"ipset\", \"kmem_delta\": $((b - a)), \"memsize\": $memsize}" \
			>>"$WORK/mem.jsonl"
		dut ipset destroy cfb4-new && dut ipset destroy cfb6-new
	done
}

# ---- the smoke run's data ---------------------------------------------------

# A small synthetic database (two CSVs: countries, then ASNs) and a policy
# on it, so that the smoke run exercises every part in seconds whatever
# the load: the full location.db takes most of a second per read.
smoke_data() {
	"$PY" - "$WORK" <<'EOF2' || die "smoke data"
import ipaddress, random, sys
w, r = sys.argv[1], random.Random(7)
ccs = ["CN", "RU", "DE", "US", "FR", "BR", "IN", "JP"]

def ranges(bits, tops, n):
    """One or two ranges (/17 to /24, or /17 to /48) in each of n /16s."""
    out = []
    for top in sorted(r.sample(tops, n)):
        start = top << (bits - 16)
        for k in range(r.randint(1, 2)):
            size = 1 << r.randint(bits - 24 if bits == 32 else bits - 48, bits - 17)
            lo = start + k * (1 << (bits - 17))
            out.append((lo, lo + size - 1))
    return out

with open(w + "/smoke-cc.csv", "w") as cc, open(w + "/smoke-asn.csv", "w") as asn:
    for bits, tops in ((32, range(0x0100, 0xdf00)), (128, range(0x2000, 0x4000))):
        for lo, hi in ranges(bits, tops, 1500):
            a, b = ipaddress.ip_address(lo), ipaddress.ip_address(hi)
            if bits == 128:
                a, b = ipaddress.IPv6Address(lo), ipaddress.IPv6Address(hi)
            cc.write(f"{a},{b},{r.choice(ccs)}\n")
            if r.random() < 0.5:
                asn.write(f"{a},{b},{64500 + r.randrange(20)}\n")
EOF2
	cat >"$WORK/smoke.conf" <<EOF2
# bench smoke: synthetic databases, written by bench/run.sh
database csv smoke-cc.csv
database csv smoke-asn.csv
default allow
deny country CN RU
deny asn 64500 64501 64502
allow asn 64519
monitor country JP
EOF2
}

# ---- main --------------------------------------------------------------------

preflight
if [ $SMOKE = 1 ]; then
	smoke_data
	POLICY=$WORK/smoke.conf
fi
machine
say "prep: compiling $POLICY (n=$N)"
"$CFB" prep "$POLICY" "$WORK" --n "$N" --dev "$DEV_DUT" \
	--proto-v6-strides "$PROTO_V6" || die "prep"
{ cat "$POLICY"; echo "deny country SD   # the policy-only change"; } >"$WORK/policy2.conf"
say "lookup: $PASSES passes"
# the layout proposed in README.md (image-proto.bin, built by
# bench/proto_table.c) is walked by the same code, interleaved
"$CFB" lookup "$WORK" --passes "$PASSES" --image2 image-proto.bin \
	>"$WORK/lookup.json" || check "lookup"
say "datapath: camfence's XDP program per frame, by path"
"$CFB" datapath "$WORK" >"$WORK/datapath.json" || check "datapath"
topo
pps_all
push_all
mem_all
"$PY" - "$(cut -d' ' -f1-3 /proc/loadavg)" "$(($(date +%s) - START))" \
	"$WORK/machine.json" <<'EOF' || check "machine.json"
import json, sys
p = sys.argv[3]
m = json.load(open(p))
m["load_end"], m["seconds"] = sys.argv[1], int(sys.argv[2])
json.dump(m, open(p, "w"))
EOF
mkdir -p "$OUT"
"$PY" bench/report.py "$WORK" "$OUT" bench/README.md || check "report"
for f in results.md results.png raw.json; do
	[ -s "$OUT/$f" ] || check "$OUT/$f not written"
done
if [ $FAILS -ne 0 ]; then
	say "$FAILS check(s) failed"
	exit 1
fi
if [ $SMOKE = 1 ]; then
	say "smoke passed in $(($(date +%s) - START)) s"
else
	say "done in $(($(date +%s) - START)) s: $OUT/results.md"
fi
