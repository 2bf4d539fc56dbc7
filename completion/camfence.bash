# SPDX-License-Identifier: GPL-2.0-only
# bash completion for camfence(8).  Self-contained: works without the
# bash-completion package's helpers.  tests/packaging/run.sh checks that it
# knows every command and option `camfence help` lists.

_camfence_cmds="attach compile daemon detach events help learn lookup metrics
	push report stats status version"
_camfence_common="-j --json -p --pretty -v --verbose -q --quiet -h --help"
_camfence_global="$_camfence_common --bpffs --state --version"

# _camfence_opts CMD: the options of a command (its own, then the common).
_camfence_opts()
{
	local o
	case $1 in
	attach) o="-m --mode -P --policy --on-missing-policy -e --egress
		--no-egress" ;;
	detach) o="-a --all --keep" ;;
	push) o="-n --dry-run -c --capacity" ;;
	compile) o="-o --output" ;;
	status) o="--max-db-age" ;;
	stats) o="-z --zero" ;;
	events) o="-c --count -t --timeout" ;;
	lookup) o="-P --policy" ;;
	daemon) o="-c --config -i --interface -P --policy --on-missing-policy
		--metrics-listen --metrics-textfile --metrics-textfile-mode
		--metrics-allow-uid --database-max-age --log" ;;
	metrics) o="-l --listen --listen-any --allow-uid -t --textfile
		--textfile-mode --interval --once --max-db-age" ;;
	learn) o="-s --sample" ;;
	report) o="-s --suggest --home --by --policy" ;;
	esac
	echo "$o $_camfence_common"
}

# _camfence_resolve WORD: the command a unique prefix names, else WORD.
_camfence_resolve()
{
	local c found= n=0
	for c in $_camfence_cmds; do
		[ "$c" = "$1" ] && { echo "$c"; return; }
		[[ $c == "$1"* ]] && { found=$c; n=$((n + 1)); }
	done
	[ $n -eq 1 ] && echo "$found" || echo "$1"
}

_camfence_ifaces()
{
	local d
	for d in /sys/class/net/*; do
		[ -e "$d" ] && printf '%s\n' "${d##*/}"
	done
}

# _camfence_files CUR: file names (directories to descend into too).
_camfence_files()
{
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -f -- "$1"))
}

# _camfence_value CMD PREV CUR: complete an option's argument; 1 when PREV
# takes none.
_camfence_value()
{
	local words=
	case $2 in
	--bpffs | --state)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$3"))
		return 0 ;;
	-m | --mode) words="auto native generic tc" ;;
	--on-missing-policy) words="pass drop" ;;
	--log) words="syslog stderr" ;;
	--by) words="asn country" ;;
	--textfile-mode | --metrics-textfile-mode) words="0640 0600 0644" ;;
	-s | --suggest) [ "$1" = report ] && words="allow-seen deny-foreign" ;;
	-i | --interface)
		COMPREPLY=($(compgen -W "$(_camfence_ifaces)" -- "$3"))
		return 0 ;;
	-P | --policy | -o | --output | --config | --metrics-textfile)
		_camfence_files "$3"
		return 0 ;;
	-t | -c) # metrics --textfile, daemon --config; else numbers
		[ "$1" = metrics ] || [ "$1" = daemon ] && _camfence_files "$3"
		return 0 ;;
	--textfile)
		_camfence_files "$3"
		return 0 ;;
	--allow-uid | --metrics-allow-uid)
		COMPREPLY=($(compgen -u -- "$3"))
		return 0 ;;
	--count | --capacity | --timeout | --max-db-age | \
	--database-max-age | --interval | --sample | --home | --listen | -l | \
	--metrics-listen)
		return 0 ;;
	*) return 1 ;;
	esac
	COMPREPLY=($(compgen -W "$words" -- "$3"))
	return 0
}

# _camfence_args CMD CUR: complete a positional argument.
_camfence_args()
{
	case $1 in
	attach | detach) COMPREPLY=($(compgen -W "$(_camfence_ifaces)" -- "$2")) ;;
	push | compile) _camfence_files "$2" ;;
	learn) COMPREPLY=($(compgen -W "start stop status clear" -- "$2")) ;;
	help) COMPREPLY=($(compgen -W "$_camfence_cmds" -- "$2")) ;;
	esac
}

_camfence()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= i
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	# the command is the first word that is no global option or its value
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--bpffs | --state) i=$((i + 1)) ;;
		-*) ;;
		*) cmd=$(_camfence_resolve "${COMP_WORDS[i]}"); break ;;
		esac
	done
	_camfence_value "$cmd" "$prev" "$cur" && return 0
	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$_camfence_global" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_camfence_cmds" -- "$cur"))
		fi
	elif [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_camfence_opts "$cmd")" -- "$cur"))
	else
		_camfence_args "$cmd" "$cur"
	fi
	return 0
}

complete -F _camfence camfence
