# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# A local user who is not root must not take the fence down, nor steer
# what camfence writes.  A plain `mount -t bpf` is 1777, so anyone can
# make camfence's pin directory before camfence does and would own it;
# a state or cache directory below a world-writable sticky directory (as
# /tmp) likewise.  camfence refuses such directories (exit 3, naming the
# directory and its owner), never writes through a symbolic link planted
# in them, and keeps the cache off where it cannot trust the directory.
#
# Each test has a private bpffs mounted 1777 under a directory of its own
# ($LU; the host's /sys/fs/bpf is left as it is), its own pin and state
# directories, and uid 65534 as the local user.

LU_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
LU=

# lu_setup: $LU (root's, 0755) with bpf/, a fresh bpffs made 1777, and
# pub/, world-writable and sticky like /tmp; CF_PIN and CF_STATE (local
# to lu_run) point there.
lu_setup() {
	command -v setpriv >/dev/null || { skip "setpriv not found"; return; }
	LU=$(mktemp -d "/tmp/cf-test-$$.lu.XXXXXX") ||
		fail "cannot make a directory under /tmp" || return 1
	chmod 0755 "$LU" && mkdir "$LU/bpf" "$LU/pub" &&
		chmod 1777 "$LU/pub" || fail "cannot set up $LU" || return 1
	mount -t bpf bpf "$LU/bpf" && chmod 1777 "$LU/bpf" ||
		fail "cannot mount a bpffs on $LU/bpf" || return 1
	CF_PIN=$LU/bpf/camfence
	CF_STATE=$LU/state
}

# lu_teardown: detach, and whatever is still pinned goes with the mount.
lu_teardown() {
	[ -n "$LU" ] || return 0
	cf detach --all >/dev/null 2>&1
	umount "$LU/bpf" 2>/dev/null || umount -l "$LU/bpf" 2>/dev/null
	rm -rf "$LU"
	LU=
}

# lu_run BODY: BODY between lu_setup and lu_teardown, with this test's
# pin and state directories; BODY's verdict.
lu_run() {
	local CF_PIN CF_STATE rc
	lu_setup || return $?
	"$1"
	rc=$?
	lu_teardown
	return $rc
}

# lu_refused WHAT RC OUT PATH...: camfence exited 3 and named each PATH.
lu_refused() {
	local p
	[ "$2" -eq 3 ] || fail "$1: exit $2, expected 3: $3" || return 1
	for p in "${@:4}"; do
		[[ $3 == *"$p"* ]] ||
			fail "$1: the error does not name '$p': $3" || return 1
	done
}

# lu_unpin_as_nobody: uid 65534 tries every way to unpin what is there.
lu_unpin_as_nobody() {
	# shellcheck disable=SC2016 # $1 is the inner shell's
	$LU_NOBODY sh -c 'chmod -R u+rwx "$1"; rm -rf "$1/links" "$1/progs" "$1/maps" "$1"' \
		_ "$CF_PIN" >/dev/null 2>&1
	return 0
}

# lu_fence_stands WHEN: XDP still on the camera side, RU still dropped.
lu_fence_stands() {
	local why=
	[ -n "$(kernel_xdp "$TOPO_GW_IF")" ] ||
		why="no XDP program on $TOPO_GW_IF any more"
	expect_host icmp ru4 drop || why="${why:+$why; }$T_WHY"
	[ -z "$why" ] || fail "$1: $why"
}

# The attack as filed: nobody makes the pin tree on a 1777 bpffs before
# camfence.  attach refuses it; had it adopted the tree (as before), its
# owner could unlink the links and the fence would be gone.  The fix the
# error gives (remove it) works, and nobody cannot unpin camfence's own.
lu_pin_tree() {
	local out rc
	# shellcheck disable=SC2016 # $1 is the inner shell's
	$LU_NOBODY sh -c 'mkdir -m 0777 "$1" "$1/maps" "$1/progs" "$1/links"' \
		_ "$CF_PIN" || fail "uid 65534 cannot make $CF_PIN" || return 1
	out=$(cf attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		lu_unpin_as_nobody
		lu_fence_stands "uid 65534 unpinned the tree attach adopted" ||
			return 1
	fi
	lu_refused "attach over uid 65534's pin tree" $rc "$out" "$CF_PIN" \
		"uid 65534" "remove it" || return 1
	[ -z "$(kernel_xdp "$TOPO_GW_IF")" ] ||
		fail "XDP attached although attach refused" || return 1
	[ -z "$(find "$CF_PIN" -mindepth 1 ! -type d)" ] ||
		fail "pinned into uid 65534's tree: $(find "$CF_PIN" ! -type d)" ||
		return 1
	rm -rf "$CF_PIN"
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	expect_host icmp ru4 drop || return 1
	lu_unpin_as_nobody
	lu_fence_stands "after uid 65534 tried to unpin camfence's tree"
}
t_localuser_pin_tree() { lu_run lu_pin_tree; }

# A state directory nobody made first (below a sticky directory, as in
# /tmp): refused, nothing written into it, nothing attached.
lu_state_dir() {
	local out rc
	CF_STATE=$LU/pub/state
	$LU_NOBODY mkdir -m 0777 "$CF_STATE" ||
		fail "uid 65534 cannot make $CF_STATE" || return 1
	out=$(cf attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" 2>&1)
	rc=$?
	lu_refused "attach with uid 65534's state directory" $rc "$out" \
		"$CF_STATE" "uid 65534" || return 1
	[ -z "$(ls -A "$CF_STATE")" ] ||
		fail "written into uid 65534's state directory: $(ls -A "$CF_STATE" | tr '\n' ' ')" ||
		return 1
	[ -z "$(kernel_xdp "$TOPO_GW_IF")" ] ||
		fail "XDP attached although attach refused"
}
t_localuser_state_dir() { lu_run lu_state_dir; }

# The state directory is nobody's symbolic link to a directory of root's
# (as /etc would be): refused, and nothing written through it.
lu_state_symlink() {
	local out rc
	mkdir -m 0700 "$LU/rootdir" && echo untouched >"$LU/rootdir/keep" ||
		return 1
	CF_STATE=$LU/pub/state
	$LU_NOBODY ln -s "$LU/rootdir" "$CF_STATE" ||
		fail "uid 65534 cannot link $CF_STATE" || return 1
	out=$(cf attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" 2>&1)
	rc=$?
	lu_refused "attach with a symbolic link for the state directory" \
		$rc "$out" "$CF_STATE" "symbolic link" || return 1
	[ "$(ls -A "$LU/rootdir")" = keep ] ||
		fail "written through the link: $(ls -A "$LU/rootdir" | tr '\n' ' ')" ||
		return 1
	[ "$(cat "$LU/rootdir/keep")" = untouched ] ||
		fail "$LU/rootdir/keep changed"
}
t_localuser_state_symlink() { lu_run lu_state_symlink; }

# Symbolic links uid 65534 left in a state directory that became root's
# (made by them, chowned without -R).  The lock is not opened through one:
# attach refuses, and no file appears where it points.
lu_state_lock() {
	local out rc
	mkdir -m 0700 "$CF_STATE" && ln -s "$LU/victim" "$CF_STATE/lock" &&
		chown -h 65534:65534 "$CF_STATE/lock" || return 1
	out=$(cf attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" 2>&1)
	rc=$?
	[ ! -e "$LU/victim" ] ||
		fail "the lock was opened through a symbolic link: $LU/victim exists" ||
		return 1
	lu_refused "attach with a symbolic link for the lock" $rc "$out" \
		"$CF_STATE/lock" "symbolic link"
}
t_localuser_state_lock() { lu_run lu_state_lock; }

# Nor are the names of the temporary files earlier versions used
# (NAME.tmp) written through: the file they point to stays as it was,
# and what push saves are files of their own.
lu_state_tmp() {
	local f
	echo untouched >"$LU/victim" && mkdir -m 0700 "$CF_STATE" || return 1
	for f in active.tmp policy.conf.tmp; do
		ln -s "$LU/victim" "$CF_STATE/$f" &&
			chown -h 65534:65534 "$CF_STATE/$f" || return 1
	done
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" &&
		cf_push ns.conf || return 1
	[ "$(cat "$LU/victim")" = untouched ] ||
		fail "written through a symbolic link: $LU/victim now says $(head -c 60 "$LU/victim" | tr '\n' ' ')" ||
		return 1
	for f in active policy.conf; do
		[ -f "$CF_STATE/$f" ] && [ ! -L "$CF_STATE/$f" ] ||
			fail "$CF_STATE/$f is not a file of its own: $(ls -l "$CF_STATE/$f")" ||
			return 1
	done
	expect_host icmp ru4 drop
}
t_localuser_state_tmp() { lu_run lu_state_tmp; }

# Cache directories uid 65534 made, or one below a directory of theirs:
# the cache stays off (each push reads the databases) and nothing is
# written there.  A cache directory of root's is used (the control).
lu_cache_dir() {
	local c got
	cf_attach "$TOPO_GW_IF" || return 1
	c=$LU/pub/cache
	$LU_NOBODY mkdir -m 0777 "$c" || fail "uid 65534 cannot make $c" ||
		return 1
	for _ in 1 2; do
		got=$(dbc_push "$c" "$DATA/ns.conf") || return 1
		dbc_is "uid 65534's cache directory" "$got" false || return 1
	done
	[ -z "$(ls -A "$c")" ] ||
		fail "written into uid 65534's cache directory: $(ls -A "$c")" ||
		return 1
	$LU_NOBODY mkdir -m 0755 "$LU/pub/home" ||
		fail "uid 65534 cannot make $LU/pub/home" || return 1
	c=$LU/pub/home/cache
	for _ in 1 2; do
		got=$(dbc_push "$c" "$DATA/ns.conf") || return 1
		dbc_is "a cache below uid 65534's directory" "$got" false ||
			return 1
	done
	[ ! -e "$c" ] || fail "cache made below uid 65534's directory: $(ls -lA "$c")" ||
		return 1
	c=$LU/cache
	got=$(dbc_push "$c" "$DATA/ns.conf") &&
		got=$(dbc_push "$c" "$DATA/ns.conf") || return 1
	dbc_is "root's cache directory, second push" "$got" true || return 1
	expect_host icmp ru4 drop
}
t_localuser_cache_dir() { lu_run lu_cache_dir; }

# The state files below no local user can plant: root's 0700 state
# directory lets nobody else in.  What these tests put there (as root)
# stands for what an older or careless tool, a restored backup or a
# compromised root process left behind, which camfence must not follow,
# write through or block on: it opens state files without following a
# link, without waiting on a FIFO, and only if they are regular files of
# root's.  Each test is a difference camfence used to show: a file
# written through, another policy explained, a command that hung.

# lu_cf SECONDS ARGS...: cf with a shorter deadline (times T_SLOW), so a
# command that blocks shows as exit 124 instead of stalling the run.
lu_cf() {
	local s=$1
	shift
	CF_TIMEOUT=$((s * T_SLOW)) cf "$@"
}

# daemon.pid a link to a file elsewhere: the daemon used to truncate that
# file and write its PID into it.  It refuses to start, naming the file,
# and the one it points to is untouched; once it is removed, it starts.
lu_state_pidfile() {
	local out rc
	echo untouched >"$LU/victim" && mkdir -m 0700 "$CF_STATE" &&
		ln -s "$LU/victim" "$CF_STATE/daemon.pid" || return 1
	dmn_conf && dmn_policy_write A || return 1
	out=$(lu_cf 10 daemon --config "$T_DIR/daemon.conf" 2>&1)
	rc=$?
	[ "$(cat "$LU/victim")" = untouched ] ||
		fail "daemon.pid written through a symbolic link: $LU/victim now says $(head -c 60 "$LU/victim")" ||
		return 1
	lu_refused "daemon with a symbolic link for daemon.pid" $rc "$out" \
		"$CF_STATE/daemon.pid" "symbolic link" || return 1
	rm "$CF_STATE/daemon.pid" && dmn_start || return 1
	[ -f "$CF_STATE/daemon.pid" ] && [ ! -L "$CF_STATE/daemon.pid" ] ||
		fail "no daemon.pid of its own: $(ls -l "$CF_STATE")" ||
		{ dmn_stop; return 1; }
	dmn_stop
}
t_localuser_state_pidfile() { lu_run lu_state_pidfile; }

# policy.conf, which lookup explains from, a FIFO: lookup used to wait
# for a writer forever.  Then a link to another policy, which lookup used
# to explain instead of the one in force.  Both are refused, naming the
# file; the fence is not affected.
lu_state_policy() {
	local out rc
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	[ -f "$CF_STATE/policy.conf" ] ||
		fail "attach saved no $CF_STATE/policy.conf" || return 1
	rm "$CF_STATE/policy.conf" && mkfifo -m 0600 "$CF_STATE/policy.conf" ||
		return 1
	out=$(lu_cf 10 lookup "$(topo_addr ru4)" 2>&1)
	rc=$?
	[ $rc -ne 124 ] || fail "lookup hangs on a FIFO for policy.conf" ||
		return 1
	lu_refused "lookup with a FIFO for policy.conf" $rc "$out" \
		"$CF_STATE/policy.conf" "not a regular file" || return 1
	printf 'database csv %s\ndefault allow\n' "$DATA/overlay.csv" \
		>"$LU/allow-all.conf"
	rm "$CF_STATE/policy.conf" &&
		ln -s "$LU/allow-all.conf" "$CF_STATE/policy.conf" || return 1
	out=$(lu_cf 10 lookup "$(topo_addr ru4)" 2>&1)
	rc=$?
	lu_refused "lookup with a symbolic link for policy.conf" $rc "$out" \
		"$CF_STATE/policy.conf" "symbolic link" || return 1
	expect_host icmp ru4 drop
}
t_localuser_state_policy() { lu_run lu_state_policy; }

# A tc record (read without the lock by status, metrics and detach) a
# FIFO: status used to wait for a writer forever.  It is left out with a
# warning naming it; status, metrics and detach go on.
lu_state_tc_record() {
	local out rc rec cmd
	cf_attach "$TOPO_GW_IF" --policy "$DATA/ns.conf" || return 1
	rec=$CF_STATE/tc/1-tc-egress
	{ [ -d "$CF_STATE/tc" ] || mkdir -m 0700 "$CF_STATE/tc"; } &&
		mkfifo -m 0600 "$rec" || return 1
	for cmd in status metrics; do
		out=$(lu_cf 10 "$cmd" 2>&1)
		rc=$?
		[ $rc -ne 124 ] || fail "$cmd hangs on a FIFO for a tc record" ||
			return 1
		[ $rc -eq 0 ] || fail "$cmd exited $rc: $out" || return 1
		[[ $out == *"$rec left out: not a regular file"* ]] ||
			fail "$cmd does not say it left $rec out: $out" || return 1
	done
	[[ $out == *"camfence_interface_info{interface=\"$TOPO_GW_IF\""* ]] ||
		fail "metrics lost $TOPO_GW_IF: $out" || return 1
	out=$(lu_cf 10 detach --all 2>&1) ||
		fail "detach --all: $out" || return 1
	[ -z "$(kernel_xdp "$TOPO_GW_IF")" ] ||
		fail "XDP still attached after detach --all"
}
t_localuser_state_tc_record() { lu_run lu_state_tc_record; }
