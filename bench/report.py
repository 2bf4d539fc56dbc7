#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""report.py WORK OUT [README] - the bench's raw files into results.

Reads what bench/run.sh left in WORK (machine.json, prep.json, lookup.json,
pps.jsonl, push.jsonl, mem.jsonl) and writes to OUT:
raw.json (all of it, plus the summary), results.md (the tables and the
targets) and results.png (gnuplot).  Medians throughout; the spread is in
raw.json.  A README with a results block (between the markers below) gets
the side-by-side table and the targets of a full run.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

MIB = 1024.0 * 1024.0
VARIANTS = [("bare", "bare XDP (ceiling)"), ("cf-xdp", "camfence XDP"),
            ("cf-xdp-proto", "camfence XDP, 12,4 layout (prototype)"),
            ("lpm-xdp", "LPM trie XDP"), ("cf-tc", "camfence TC"),
            ("nft", "nftables netdev ingress"), ("ipt", "iptables + ipset")]
CASES = [("4", "mixed"), ("4", "deny"), ("6", "mixed"), ("6", "deny")]


def load(work, name):
    with open(os.path.join(work, name)) as f:
        return json.load(f)


def lines(work, name):
    path = os.path.join(work, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:.{digits}f}"


def pps_summary(runs):
    out = {}
    for v, _ in VARIANTS:
        for fam, mix in CASES:
            ns = [r["run"]["ns_per_frame"] for r in runs
                  if r["variant"] == v and r["mix"] == mix
                  and str(r["run"]["family"]) == fam]
            if ns:
                out[f"{v}/v{fam}/{mix}"] = {
                    "ns_median": med(ns), "ns_min": min(ns),
                    "ns_max": max(ns), "mpps": 1e3 / med(ns), "n": len(ns)}
    return out


def push_summary(push):
    out = {}
    for what in ("camfence_cold", "camfence_full", "camfence_setup",
                 "camfence_policy_only", "nft", "ipset"):
        ms = [p["wall_ms"] for p in push if p["what"] == what]
        if ms:
            out[what] = {"wall_ms_median": med(ms), "wall_ms_min": min(ms),
                         "n": len(ms)}
        stages = [p["cli"]["timing_ms"] for p in push
                  if p["what"] == what and "cli" in p]
        if stages:
            out[what]["stages_ms_median"] = {
                k: med([s[k] for s in stages]) for k in stages[0]}
    return out


def mem_summary(mem, lookup):
    out = {}
    t = lookup.get("tables", {})
    if t:
        out["camfence_slot_bytes"] = t["image_memlock"]
        out["camfence_two_slots_bytes"] = 2 * t["image_memlock"]
        out["camfence_in_use_bytes"] = t["image_words_used"] * 4
        out["lpm_memlock_bytes"] = t["lpm4_memlock"] + t["lpm6_memlock"]
        out["lpm_kmem_delta_bytes"] = t["lpm_kmem_delta"]
    for what in ("nft", "ipset", "camfence"):
        d = [m["kmem_delta"] for m in mem if m["what"] == what]
        if d:
            out[what + "_kmem_delta_bytes"] = med(d)
    sizes = [m["memsize"] for m in mem if m["what"] == "ipset"]
    if sizes:
        out["ipset_memsize_bytes"] = med(sizes)
    return out


def targets(s):
    lk, pp, pu, me = s["lookup"], s["pps"], s["push"], s["mem"]
    rows = []

    def add(name, value, unit, ok, note=""):
        rows.append({"target": name, "value": value, "unit": unit,
                     "met": ok, "note": note})

    def lk_net(name, impl):
        return lk.get(name, {}).get(impl + "_net")

    def lay_net(name, impl):
        return lk.get(name, {}).get(impl + "2_net")

    for fam, name, limit in (("IPv4", "v4-uniform", 15), ("IPv6", "v6-dbnet", 30)):
        v = lk_net(name, "cf")
        add(f"camfence lookup {fam} <= {limit} ns ({name})", v, "ns",
            v is not None and v <= limit)
    for impl, text in (("cf", "12,4 layout"), ("flat", "12,4 layout + flat walk")):
        v = lay_net("v6-dbnet", impl)
        if v is not None:
            add(f"prototype, {text}: IPv6 <= 30 ns (v6-dbnet)", v, "ns",
                v <= 30)
    for name in ("v4-uniform", "v6-dbnet"):
        c, l = lk_net(name, "cf"), lk_net(name, "lpm")
        r = l / c if c and l else None
        add(f"camfence >= 10x faster than LPM trie ({name})", r, "x",
            r is not None and r >= 10)
    c, l = lay_net("v6-dbnet", "flat"), lk_net("v6-dbnet", "lpm")
    if c and l:
        add("prototype, 12,4 layout + flat walk: >= 10x LPM (v6-dbnet)",
            l / c, "x", l / c >= 10)

    def mpps(v, fam, mix):
        return pp.get(f"{v}/v{fam}/{mix}", {}).get("mpps")

    for fam in ("4", "6"):
        for mix in ("mixed", "deny"):
            c, b, n = mpps("cf-xdp", fam, mix), mpps("bare", fam, mix), \
                mpps("nft", fam, mix)
            r = 100 * c / b if c and b else None
            add(f"camfence XDP >= 90% of bare XDP (v{fam} {mix})", r, "%",
                r is not None and r >= 90)
            p = mpps("cf-xdp-proto", fam, mix)
            if fam == "6" and p and b:
                add(f"prototype, 12,4 layout: XDP >= 90% of bare (v6 {mix})",
                    100 * p / b, "%", 100 * p / b >= 90)
            r = c / n if c and n else None
            add(f"camfence XDP >= 3x nftables (v{fam} {mix})", r, "x",
                r is not None and r >= 3)
    full = pu.get("camfence_full", {}).get("wall_ms_median")
    pol = pu.get("camfence_policy_only", {}).get("wall_ms_median")
    add("policy-only push <= 50 ms (camfence push)", pol, "ms",
        pol is not None and pol <= 50)
    add("full compile + push <= 1 s (camfence push)", full, "ms",
        full is not None and full <= 1000)
    two = me.get("camfence_two_slots_bytes")
    add("table memory <= 64 MiB (both slots)", two / MIB if two else None,
        "MiB", two is not None and two <= 64 * MIB)
    return rows


def md_header(m, prep):
    return [
        "# camfence bench results", "",
        f"- date: {m['date']}; {m.get('seconds', '?')} s; commit {m['commit']}"
        + (" (SMOKE RUN: sizes cut down, numbers meaningless)" if m["smoke"] else ""),
        f"- machine: {m['cpu']}, {m['cpus']} CPUs, "
        f"{m['mem_kib'] // 1024} MiB, {m['arch']}; kernel {m['kernel']}",
        f"- load average at start {m['load_start']}, at end "
        f"{m.get('load_end', '?')} (other work shared the machine)",
        f"- data: {m.get('policy', 'bench/policy.conf')}: "
        f"{prep['classes']} classes, {prep['v4_ranges']} IPv4 + "
        f"{prep['v6_ranges']} IPv6 compiled ranges; camfence image "
        f"{prep['image_words'] * 4 / MIB:.2f} MiB in use; LPM trie "
        f"{prep['lpm4_prefixes']} + {prep['lpm6_prefixes']} prefixes; "
        f"nftables {prep['drop4_intervals']} + {prep['drop6_intervals']} "
        f"intervals; ipset {prep['ipset4_cidrs']} + {prep['ipset6_cidrs']} "
        "CIDRs", ""]


SET_TEXT = {
    "v4-uniform": "IPv4, uniform over 2^32",
    "v4-uniform-hot1k": "IPv4, hot set of 1k",
    "v4-dbnet": "IPv4, random address of a random database network",
    "v6-dbnet": "IPv6, random address of a random database network",
    "v6-dbnet-hot1k": "IPv6, hot set of 1k (database networks)",
    "v6-uniform": "IPv6, uniform over 2000::/3",
    "v4-deny": "IPv4, denied destinations only (64k)",
    "v6-deny": "IPv6, denied destinations only (64k)",
}


def mean_depth(prep, name, key="depth"):
    dep = prep["sets"].get(name.replace("-hot1k", ""), {}).get(key, [])
    return sum(i * x for i, x in enumerate(dep))


def md_lookup(lk, prep):
    out = ["## 1. Lookup cost in the kernel (ns per address, median)", "",
           "bpf_loop over an address array under BPF_PROG_TEST_RUN; every "
           "figure is minus the harness loop itself (reading the address: "
           "`harness`).  camfence runs bpf/lookup.h on its real image and "
           "map-in-map; the LPM trie holds the same compiled ranges.  Every "
           "answer is checked against the compiled ranges.  `depth`: nodes "
           "read below the root, mean.  Prototypes (not camfence yet, see "
           "bench/README.md): `flat` walks the same image as one 4 MiB map "
           "value (bench/proto_lookup.h); `12,4` is the image rebuilt with "
           "IPv6 nodes of stride 12 then 4 (bench/proto_table.c), walked "
           "by the unchanged bpf/lookup.h, and with the flat walk; all "
           "interleaved in the same passes.", "",
           "| addresses | camfence | LPM trie | LPM / camfence | harness "
           "| depth | flat | 12,4 | 12,4 + flat | depth 12,4 |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, text in SET_TEXT.items():
        r = lk.get(name)
        if not r:
            continue
        ratio = r["lpm_net"] / r["cf_net"] if r["cf_net"] > 0 else None
        pdepth = f"{mean_depth(prep, name, 'depth_proto'):.2f}" \
            if "cf2_net" in r else "n/a"
        out.append(f"| {text} | {fmt(r['cf_net'])} | {fmt(r['lpm_net'])} | "
                   f"{fmt(ratio)}x | {fmt(r['base']['median'])} | "
                   f"{mean_depth(prep, name):.2f} | {fmt(r.get('flat_net'))} | "
                   f"{fmt(r.get('cf2_net'))} | {fmt(r.get('flat2_net'))} | "
                   f"{pdepth} |")
    if prep.get("proto_image_words"):
        out += ["", f"Image in use: {prep['image_words'] * 4 / MIB:.2f} MiB; "
                f"with the 12,4 layout {prep['proto_image_words'] * 4 / MIB:.2f} MiB."]
    return out + [""]


def md_datapath(dp):
    if not dp:
        return []
    rows = [("empty_xdp", "an empty XDP program (the test run itself)"),
            ("v4_pass_root", "IPv4 allowed, walk ends at the root"),
            ("v4_drop_root_events", "IPv4 denied, root; events at the policy's rate (suppressed)"),
            ("v4_drop_root_no_events", "IPv4 denied, root; events off"),
            ("v6_pass_root", "IPv6 allowed, root"),
            ("v6_drop_deep_events", "IPv6 denied, nodes below the root; events at rate"),
            ("v6_drop_deep_no_events", "IPv6 denied, nodes below the root; events off")]
    out = ["### camfence's whole XDP program, one frame repeated (ns per frame)", "",
           f"cf_xdp_ingress under BPF_PROG_TEST_RUN, best of 5 x {dp['repeat']}: "
           "parsing, the policy lookup, counting and the drop path, with "
           "everything in cache.", "", "| frame | ns |", "|---|---:|"]
    out += [f"| {t} | {dp.get(k, 'n/a')} |" for k, t in rows]
    return out + [""]


def lost_frames(runs):
    """Frames per variant that never reached the filter, of all sent."""
    seen, lost, sent = set(), {}, {}
    for r in runs:
        key = (r["variant"], r["round"])
        sent[r["variant"]] = sent.get(r["variant"], 0) + \
            r["run"]["frames"] + r["run"]["warmup"]
        if key not in seen:
            seen.add(key)
            lost[r["variant"]] = lost.get(r["variant"], 0) + \
                r.get("lost_in_variant", 0)
    return {v: (lost[v], sent[v]) for v in lost if lost[v]}


def md_pps(pp, lost):
    out = ["## 2. Throughput through a veth pair (Mpps, median)", "",
           "Generator (XDP live frames) and receiver share one CPU, so "
           "each figure is both sides' cost; `+ns` is what the filter "
           "adds per frame over the bare XDP program, which drops exactly "
           "the frames the policy drops (stamped by the generator) without "
           "a lookup.  Mixed: random destinations (~10% denied); deny: a "
           "flood to denied destinations only.  Passed frames are routed "
           "into a blackhole, as a gateway would forward them.", "",
           "| filter | v4 mixed | v4 deny | v6 mixed | v6 deny |",
           "|---|---:|---:|---:|---:|"]
    for v, text in VARIANTS:
        cells = []
        for fam, mix in CASES:
            r, b = pp.get(f"{v}/v{fam}/{mix}"), pp.get(f"bare/v{fam}/{mix}")
            if not r:
                cells.append("n/a")
                continue
            extra = "" if v == "bare" or not b else \
                f" (+{r['ns_median'] - b['ns_median']:.0f} ns)"
            cells.append(f"{r['mpps']:.2f}{extra}")
        out.append(f"| {text} | " + " | ".join(cells) + " |")
    if lost:
        out += ["", "Frames that never reached the filter (the peer's ring "
                "full: the receiver fell behind, other work on the CPU): " +
                ", ".join(f"{v} {n} of {t}" for v, (n, t) in lost.items()) +
                "; drop counts were checked allowing for them."]
    return out + [""]


def md_push(pu):
    def stages(d, keys):
        return ", ".join(f"{k} {d[k]:.1f}" for k in keys if d.get(k))

    out = ["## 3. Push time (ms, median of the runs; best in parentheses)", "",
           "Wall time of the command (camfence: `camfence push` into an "
           "attached interface, the stages from its JSON).  Pushes are the "
           "measurement most hurt by other work on the machine: compare "
           "the best figures when the median and the best differ much.", "",
           "| what | ms | stages |", "|---|---:|---|"]
    for what, text in (("camfence_cold", "camfence push, cold (no caches)"),
                       ("camfence_full", "camfence push, full compile + push"),
                       ("camfence_setup", "camfence push after each attach (throughput set-up)"),
                       ("camfence_policy_only", "camfence push, policy-only change"),
                       ("nft", "nft -f (replace the table)"),
                       ("ipset", "ipset restore + swap + destroy")):
        r = pu.get(what)
        if r:
            out.append(f"| {text} ({r['n']} runs) | {fmt(r['wall_ms_median'], 0)} "
                       f"({fmt(r['wall_ms_min'], 0)}) | "
                       f"{stages(r.get('stages_ms_median', {}), ('databases', 'compile', 'build', 'switch'))} |")
    out += ["", "Full: the database records cache removed before each push "
            "(the libloc signature check stays remembered: it belongs to a "
            "database update).  Cold: both caches removed, the first push "
            "after a database update, signature check included.  "
            "Policy-only: two policies over the same databases, the records "
            "cache warm.  `switch` includes the map-in-map update, which "
            "waits for an RCU grace period."]
    return out + [""]


def md_mem(me):
    def mib(x):
        return "n/a" if x is None else f"{x / MIB:.1f}"

    return ["## 4. Kernel memory of the tables (MiB)", "",
            "BPF maps: memlock as the kernel reports it (fdinfo).  nftables "
            "and ipset: growth of unreclaimable slab + vmalloc + per-CPU "
            "memory (/proc/meminfo) while the tables load, median; ipset "
            "also by its own count (`ipset list -t`).", "",
            "| tables | MiB | how |", "|---|---:|---|",
            f"| camfence, one image map | {mib(me.get('camfence_slot_bytes'))} | memlock |",
            f"| camfence, both slots (during a push) | {mib(me.get('camfence_two_slots_bytes'))} | memlock |",
            f"| camfence, image in use | {mib(me.get('camfence_in_use_bytes'))} | words used |",
            f"| LPM trie (IPv4 + IPv6) | {mib(me.get('lpm_memlock_bytes'))} | memlock |",
            f"| LPM trie (IPv4 + IPv6) | {mib(me.get('lpm_kmem_delta_bytes'))} | meminfo growth |",
            f"| nftables interval sets | {mib(me.get('nft_kmem_delta_bytes'))} | meminfo growth |",
            f"| ipset hash:net | {mib(me.get('ipset_memsize_bytes'))} | ipset memsize |",
            f"| ipset hash:net | {mib(me.get('ipset_kmem_delta_bytes'))} | meminfo growth |",
            f"| camfence, a first push (new image map) | {mib(me.get('camfence_kmem_delta_bytes'))} | meminfo growth |",
            ""]


def md_side_by_side(s, lookup):
    lk, pp, pu, me = s["lookup"], s["pps"], s["push"], s["mem"]

    def net(name, impl):
        return fmt(lk.get(name, {}).get(impl + "_net"))

    def mpps(v, case):
        return fmt(pp.get(f"{v}/{case}", {}).get("mpps"), 2)

    def ms(key):
        return fmt(pu.get(key, {}).get("wall_ms_median"), 0)

    def mib(key):
        x = me.get(key)
        return "n/a" if x is None else f"{x / MIB:.1f}"

    lpm_ms = lookup.get("tables", {}).get("lpm_load_ms")
    return ["| | camfence | LPM trie (BPF) | nftables | iptables + ipset |",
            "|---|---:|---:|---:|---:|",
            f"| lookup, IPv4 random, ns | {net('v4-uniform', 'cf')} | "
            f"{net('v4-uniform', 'lpm')} | | |",
            f"| lookup, IPv6 random (database networks), ns | "
            f"{net('v6-dbnet', 'cf')} | {net('v6-dbnet', 'lpm')} | | |",
            f"| veth, IPv4 mixed, Mpps (bare XDP {mpps('bare', 'v4/mixed')}) | "
            f"{mpps('cf-xdp', 'v4/mixed')} | {mpps('lpm-xdp', 'v4/mixed')} | "
            f"{mpps('nft', 'v4/mixed')} | {mpps('ipt', 'v4/mixed')} |",
            f"| veth, IPv4 denied flood, Mpps (bare XDP {mpps('bare', 'v4/deny')}) | "
            f"{mpps('cf-xdp', 'v4/deny')} | {mpps('lpm-xdp', 'v4/deny')} | "
            f"{mpps('nft', 'v4/deny')} | {mpps('ipt', 'v4/deny')} |",
            f"| veth, IPv6 mixed, Mpps (bare XDP {mpps('bare', 'v6/mixed')}) | "
            f"{mpps('cf-xdp', 'v6/mixed')} | {mpps('lpm-xdp', 'v6/mixed')} | "
            f"{mpps('nft', 'v6/mixed')} | {mpps('ipt', 'v6/mixed')} |",
            f"| load the tables, ms | {ms('camfence_full')} (compile + push) | "
            f"{fmt(lpm_ms, 0)} (fill, compiled ranges given) | {ms('nft')} | "
            f"{ms('ipset')} |",
            f"| kernel memory, MiB | {mib('camfence_two_slots_bytes')} "
            f"(2 slots; {mib('camfence_in_use_bytes')} used) | "
            f"{mib('lpm_kmem_delta_bytes')} ({mib('lpm_memlock_bytes')} memlock) | "
            f"{mib('nft_kmem_delta_bytes')} | {mib('ipset_memsize_bytes')} |",
            ""]


README_BEGIN = "<!-- bench:results:begin -->"
README_END = "<!-- bench:results:end -->"


def update_readme(path, m, side, targets_md):
    """Replace the results block of a README with this run's tables."""
    with open(path) as f:
        text = f.read()
    if README_BEGIN not in text or README_END not in text:
        return
    head, rest = text.split(README_BEGIN, 1)
    tail = rest.split(README_END, 1)[1]
    block = [README_BEGIN, "",
             f"Latest `make bench`: {m['date']}, {m['cpu']} x{m['cpus']}, "
             f"kernel {m['kernel']}, load average {m['load_start']} at start "
             f"(commit {m['commit']}); all numbers in bench/results/.", ""]
    block += side + [("#" + l if l.startswith("## ") else l)
                     for l in targets_md] + [README_END]
    with open(path, "w") as f:
        f.write(head + "\n".join(block) + tail)


def md_targets(rows):
    out = ["## Targets", "", "| target | measured | met |", "|---|---:|:---:|"]
    for r in rows:
        out.append(f"| {r['target']} | {fmt(r['value'])} {r['unit']} | "
                   f"{'yes' if r['met'] else '**no**'} |")
    return out + [""]


GNUPLOT = r"""
set terminal pngcairo size 1400,1000 font ",10"
set output '{out}'
set multiplot layout 2,2 title "{title}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top left
set xtics rotate by -20 noenhanced
set title "Lookup, ns per address (log scale)"
set logscale y
plot '{d}/lookup.dat' using 2:xtic(1) title 'camfence', '' using 3 title 'LPM trie'
unset logscale y
set title "Throughput through veth, Mpps (generator + receiver on one CPU)"
set key top right
plot for [i=2:5] '{d}/pps.dat' using i:xtic(1) title columnheader(i)
set title "Push time, ms (log scale)"
set logscale y
set key off
plot '{d}/push.dat' using 2:xtic(1) notitle lc rgb "#4060c0"
unset logscale y
set title "Kernel memory of the tables, MiB"
plot '{d}/mem.dat' using 2:xtic(1) notitle lc rgb "#40a060"
unset multiplot
"""


def chart(s, out_png, title):
    with tempfile.TemporaryDirectory() as d:
        with open(f"{d}/lookup.dat", "w") as f:
            for name in SET_TEXT:
                r = s["lookup"].get(name)
                if r:
                    f.write(f'"{name}" {max(r["cf_net"], 0.1):.2f} '
                            f'{max(r["lpm_net"], 0.1):.2f}\n')
        with open(f"{d}/pps.dat", "w") as f:
            f.write('filter "v4 mixed" "v4 deny" "v6 mixed" "v6 deny"\n')
            for v, text in VARIANTS:
                cells = [s["pps"].get(f"{v}/v{fam}/{mix}", {}).get("mpps", 0)
                         for fam, mix in CASES]
                f.write(f'"{text}" ' + " ".join(f"{c:.3f}" for c in cells) + "\n")
        with open(f"{d}/push.dat", "w") as f:
            for key, text in (("camfence_full", "camfence full"),
                              ("camfence_policy_only", "camfence policy-only"),
                              ("nft", "nft -f"), ("ipset", "ipset restore+swap")):
                r = s["push"].get(key)
                if r:
                    f.write(f'"{text}" {max(r["wall_ms_median"], 0.1)}\n')
            r = s["push"].get("proto_policy_only_cached")
            if r:
                f.write(f'"camfence policy-only, cache" {max(r["total"], 0.1)}\n')
        with open(f"{d}/mem.dat", "w") as f:
            me = s["mem"]
            for key, text in (("camfence_two_slots_bytes", "camfence 2 slots"),
                              ("camfence_in_use_bytes", "camfence in use"),
                              ("lpm_kmem_delta_bytes", "LPM trie"),
                              ("nft_kmem_delta_bytes", "nftables"),
                              ("ipset_memsize_bytes", "ipset")):
                if me.get(key) is not None:
                    f.write(f'"{text}" {max(me[key], 0) / MIB:.2f}\n')
        script = GNUPLOT.format(out=out_png, d=d, title=title)
        subprocess.run(["gnuplot"], input=script, text=True, check=True)


def main():
    work, out = sys.argv[1], sys.argv[2]
    m, prep = load(work, "machine.json"), load(work, "prep.json")
    lookup = load(work, "lookup.json")
    pps, push, mem = lines(work, "pps.jsonl"), lines(work, "push.jsonl"), \
        lines(work, "mem.jsonl")
    dp = load(work, "datapath.json") \
        if os.path.exists(os.path.join(work, "datapath.json")) else {}

    s = {"lookup": {k: v for k, v in lookup.get("sets", {}).items()},
         "pps": pps_summary(pps), "push": push_summary(push),
         "mem": mem_summary(mem, lookup)}
    s["targets"] = targets(s)
    raw = {"machine": m, "prep": prep, "lookup": lookup, "pps": pps,
           "push": push, "mem": mem,
           "datapath": dp, "summary": s}
    # paths as the repository names them, not as this machine does
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/"
    with open(os.path.join(out, "raw.json"), "w") as f:
        f.write(json.dumps(raw, indent=1).replace(root, ""))
    side = md_side_by_side(s, lookup)
    md = md_header(m, prep) + side + md_targets(s["targets"]) + \
        md_lookup(s["lookup"], prep) + md_datapath(dp) + \
        md_pps(s["pps"], lost_frames(pps)) + \
        md_push(s["push"]) + md_mem(s["mem"])
    md.append("Raw numbers: raw.json (every run).  Chart: results.png.")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    chart(s, os.path.join(out, "results.png"),
          f"camfence bench, {m['date']}, kernel {m['kernel']}, {m['cpu']} x{m['cpus']}")
    if len(sys.argv) > 3 and not m["smoke"]:
        update_readme(sys.argv[3], m, side, md_targets(s["targets"]))
    bad = [r["target"] for r in s["targets"] if not r["met"]]
    print(f"report: {len(s['targets']) - len(bad)} of {len(s['targets'])} "
          "targets met", file=sys.stderr)


if __name__ == "__main__":
    main()
