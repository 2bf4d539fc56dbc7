#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh - camfence's integration tests: network namespaces joined by
# veth (scripts/topo.sh), real ICMP, TCP and UDP from a camera to
# "internet" hosts that tests/data/overlay*.csv places in countries and
# ASNs, with build/camfence attached to the gateway's camera-facing veth.
#
# Usage: tests/ns/run.sh [-v] [TEST...]   (root; TEST names without t_)
#
# Prints PASS/FAIL/SKIP a test and "N passed, N failed, N skipped"; exits
# 1 when a test failed.  camfence runs with a pin, a state and a cache
# directory of its own (never /sys/fs/bpf/camfence or /var/cache/camfence,
# which is read-only in vmtests' VMs), all removed at exit.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CF=${CAMFENCE:-$ROOT/build/camfence}
DATA=$ROOT/tests/data
VERBOSE=0

# The order matters only for speed: cheap sanity first.
TESTS="
plain_traffic
verdicts_icmp4 verdicts_icmp6 verdicts_tcp4 verdicts_tcp6
verdicts_udp4 verdicts_udp6 monitor_events
mode_native mode_generic mode_tc mode_auto egress_source
push_under_traffic push_bad_keeps_old
detach_restores attach_idempotent two_cameras_one_policy on_missing_policy
stats_counts events_fields
allowlist allowlist_nd lookup_local monitor_only
faults_push_loop faults_sigkill
artifact_push artifact_bad_keeps_old artifact_lock
dbcache_policy_only dbcache_refused
pin_perms db_signature_refused verify_cache
metrics_counts metrics_policy_info metrics_http metrics_allow_uid metrics_listen_refused metrics_textfile db_freshness_stale db_freshness_fresh
daemon_reattach daemon_file_change daemon_sighup daemon_bad_file daemon_kill_restart daemon_events
syslog_delivery syslog_fallback
learn_report learn_allow_seen learn_deny_foreign learn_bad_input
untyped_db_refused embedded_net_refused mapped_csv_row lookup_escapes dry_run_escapes embedded_left_out_json
metrics_idle_refused metrics_idle_allowed metrics_v4mapped metrics_textfile_mode metrics_digest_readback
localuser_pin_tree localuser_state_dir localuser_state_symlink localuser_state_lock localuser_state_tmp localuser_cache_dir localuser_state_pidfile localuser_state_policy localuser_state_tc_record
artifact_forged_digest apply_push_record_fails apply_attach_record_fails apply_daemon_record_fails
evasion_native evasion_generic evasion_tc evasion_nd_gateway evasion_nd_egress evasion_egress_vlan
"

n_pass=0
n_fail=0
n_skip=0

say_all_skipped() {
	echo "SKIP ns: $1"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}

preflight() {
	local t
	[ "$(id -u)" -eq 0 ] || say_all_skipped "needs root (network namespaces, BPF)"
	for t in ip nsenter ping nc timeout bpftool "$PY"; do
		command -v "$t" >/dev/null 2>&1 ||
			say_all_skipped "$t not found (make deps)"
	done
	[ -x "$CF" ] || say_all_skipped "$CF not built (make build/camfence)"
	topo_bpffs_mount 2>/dev/null ||
		say_all_skipped "cannot mount bpffs on /sys/fs/bpf"
}

# Pin and scratch directories of runs killed before their trap ran.
reap_stale_dirs() {
	local d pid
	for d in /sys/fs/bpf/cf-test-* /tmp/cf-test-*.*; do
		[ -d "$d" ] || continue
		pid=${d#*/cf-test-}
		pid=${pid%%.*}
		case $pid in '' | *[!0-9]*) continue ;; esac
		[ -d "/proc/$pid" ] || rm -rf "$d"
	done
}

cleanup() {
	local pids
	pids=$(jobs -p)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	if [ -d "/run/netns" ] && [ -e "/run/netns/$TOPO_GW" ]; then
		cf detach --all >/dev/null 2>&1
	fi
	topo_down
	rm -rf "$CF_PIN" "$T_DIR"
	wait 2>/dev/null
}

# run_test NAME: one test, its verdict, and a clean slate after it.
run_test() {
	local name=$1 rc t0
	T_WHY=
	rm -f "$T_DIR/why"
	t0=$(date +%s%N)
	"t_$name"
	rc=$?
	[ -z "$T_WHY" ] && [ -s "$T_DIR/why" ] && T_WHY=$(cat "$T_DIR/why")
	cf_reset
	case $rc in
	0) n_pass=$((n_pass + 1)); echo "PASS $name" ;;
	2) n_skip=$((n_skip + 1)); echo "SKIP $name: $T_WHY" ;;
	*) n_fail=$((n_fail + 1)); echo "FAIL $name: ${T_WHY:-returned $rc}" ;;
	esac
	[ $VERBOSE -eq 1 ] &&
		echo "     $((($(date +%s%N) - t0) / 1000000)) ms"
	return 0
}

main() {
	local t
	if [ "${1:-}" = -v ]; then
		VERBOSE=1
		shift
	fi
	. "$ROOT/scripts/topo.sh"
	. "$ROOT/tests/ns/lib.sh"
	for t in "$ROOT"/tests/ns/test_*.sh; do
		# shellcheck source=/dev/null
		. "$t"
	done
	preflight
	[ $# -gt 0 ] && TESTS="$*"
	for t in $TESTS; do
		declare -F "t_$t" >/dev/null || {
			echo "run.sh: no test named $t" >&2
			exit 1
		}
	done

	topo_init "cft$$-"
	CF_PIN=/sys/fs/bpf/cf-test-$$
	T_DIR=$(mktemp -d /tmp/cf-test-$$.XXXXXX)
	CF_STATE=$T_DIR/state
	# every camfence of the run, also those tests start without cf()
	export CAMFENCE_CACHE_DIR=$T_DIR/cache
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	topo_reap_stale
	reap_stale_dirs
	topo_up && topo_add_camera2 || {
		echo "FAIL topology: cannot build the namespaces"
		n_fail=$((n_fail + 1))
		echo "$n_pass passed, $n_fail failed, $n_skip skipped"
		exit 1
	}
	listen "$TOPO_INET"
	listen "$TOPO_CAM"
	listen "$TOPO_CAM2"
	sleep 0.2

	for t in $TESTS; do
		run_test "$t"
	done
	echo "$n_pass passed, $n_fail failed, $n_skip skipped"
	[ $n_fail -eq 0 ]
}

main "$@"
