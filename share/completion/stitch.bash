# bash completion for stitch.  Made by 'stitch --print-completion bash'
# from the command table in cmd/main.c: do not edit.
# _stitch_data CMD SUB: for the command CMD ('' before one) and its
# subcommand SUB, sets subs (the words that may come next), opts,
# vals (OPTION:KIND for options taking a value), operands (the kind of
# each operand: pkg, file or none) and rep (the last one repeats).
_stitch_data() {
	subs='' opts='' vals='' operands='' rep=''
	case "$1/$2" in
	/*) subs='build cache doctor env exec init install list lock log pin remove repo rollback run search show solve source switch test tree update upgrade verify watch which why' opts='--root --repo --switch --no-sandbox -q --quiet -y --yes --color --help --version' vals='--root:file --repo:file --switch:file --color:none' ;;
	build/*) subs='' opts='--target --locked --allow-pins --explain --with-test --json -j --help' vals='--target:none -j:none' operands='' rep='' ;;
	cache/status) opts='--json --help' vals='' operands='' rep='' ;;
	cache/remote) opts='--read-only --json --off --help' vals='' operands='none' rep='' ;;
	cache/clean) opts='--unused-days --json --help' vals='--unused-days:none' operands='' rep='' ;;
	cache/*) subs='status remote clean' opts='--json --read-only --off --unused-days --help' vals='--unused-days:none' operands='' rep='' ;;
	doctor/*) subs='' opts='--json --help' vals='' operands='' rep='' ;;
	env/*) subs='' opts='--shell --json --help' vals='' operands='' rep='' ;;
	exec/*) subs='' opts='--help' vals='' operands='none none' rep='1' ;;
	init/*) subs='' opts='--json --switch --help' vals='--switch:file' operands='' rep='' ;;
	install/*) subs='' opts='--dry-run --json -j --jobs --upgrade --pin --installed --help' vals='-j:none --jobs:none --pin:none --installed:none' operands='pkg' rep='1' ;;
	list/*) subs='' opts='--installed --pinned --json --help' vals='' operands='' rep='' ;;
	lock/*) subs='' opts='--check --json --upgrade --help' vals='' operands='' rep='' ;;
	log/*) subs='' opts='-n --max-count --reverse --json --help' vals='-n:none --max-count:none' operands='' rep='' ;;
	pin/add) opts='--json --help' vals='' operands='pkg file' rep='' ;;
	pin/remove) opts='--json --help' vals='' operands='pkg' rep='' ;;
	pin/list) opts='--json --help' vals='' operands='' rep='' ;;
	pin/*) subs='add remove list' opts='--json --help' vals='' operands='' rep='' ;;
	remove/*) subs='' opts='--recursive --dry-run --json --help' vals='' operands='pkg' rep='1' ;;
	repo/add) opts='--priority --json --help' vals='--priority:none' operands='none file' rep='' ;;
	repo/list) opts='--json --help' vals='' operands='' rep='' ;;
	repo/remove) opts='--json --help' vals='' operands='none' rep='' ;;
	repo/export) opts='--json --help' vals='' operands='file file' rep='' ;;
	repo/pack) opts='-o --update-index --json --help' vals='-o:file' operands='file' rep='' ;;
	repo/check) opts='--json --help' vals='' operands='file' rep='' ;;
	repo/*) subs='add list remove export pack check' opts='--json --priority -o --update-index --help' vals='--priority:none -o:file' operands='' rep='' ;;
	rollback/*) subs='' opts='--dry-run --json -j --jobs --help' vals='-j:none --jobs:none' operands='none' rep='' ;;
	run/*) subs='' opts='--pcap --target --net --help' vals='--pcap:file --target:none --net:none' operands='none' rep='' ;;
	search/*) subs='' opts='--json --help' vals='' operands='none' rep='' ;;
	show/*) subs='' opts='--json --help' vals='' operands='pkg' rep='' ;;
	solve/*) subs='' opts='--json --upgrade --pin --installed --help' vals='--pin:none --installed:none' operands='pkg' rep='1' ;;
	source/*) subs='' opts='--json --help' vals='' operands='pkg file' rep='' ;;
	switch/list) opts='--json --help' vals='' operands='' rep='' ;;
	switch/remove) opts='--json --help' vals='' operands='file' rep='' ;;
	switch/*) subs='list remove' opts='--json --help' vals='' operands='' rep='' ;;
	test/*) subs='' opts='--with-test --pcap --json --target -j --help' vals='--pcap:file --target:none -j:none' operands='pkg' rep='1' ;;
	tree/*) subs='' opts='--invert --dot --json --help' vals='' operands='pkg' rep='' ;;
	update/*) subs='' opts='--json --help' vals='' operands='' rep='' ;;
	upgrade/*) subs='' opts='--dry-run --json -j --help' vals='-j:none' operands='' rep='' ;;
	verify/*) subs='' opts='--keep --json --help' vals='' operands='' rep='' ;;
	watch/*) subs='' opts='--test --help' vals='' operands='' rep='' ;;
	which/*) subs='' opts='--json --help' vals='' operands='none' rep='' ;;
	why/*) subs='' opts='--dot --json --help' vals='' operands='pkg' rep='' ;;
	esac
}
# _stitch_takes OPTION VALS: OPTION takes a value, whose kind goes to _k.
_stitch_takes() {
	local v
	for v in $2; do
		if [[ ${v%%:*} == "$1" ]]; then
			_k=${v#*:}
			return 0
		fi
	done
	return 1
}

_stitch_value() {
	case $1 in
	pkg) COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "${g[@]}" __complete packages 2>/dev/null)" -- "$cur")) ;;
	file) COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
}

_stitch() {
	local cur=${COMP_WORDS[COMP_CWORD]} cmd='' sub='' w i n=0 _k gvals
	local subs opts vals operands rep
	local -a g=() ops
	COMPREPLY=()
	_stitch_data '' ''
	gvals=$vals
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in --root=* | --repo=*) g+=("$w"); continue ;; esac
		if _stitch_takes "$w" "$gvals $vals"; then
			if ((i + 1 == COMP_CWORD)); then
				_stitch_value "$_k"
				return
			fi
			case $w in --root | --repo) g+=("$w" "${COMP_WORDS[i + 1]}") ;; esac
			((i++))
			continue
		fi
		[[ $w == -* ]] && continue
		if [[ -z $cmd ]]; then
			cmd=$w
			_stitch_data "$cmd" ''
		elif [[ -n $subs && -z $sub ]]; then
			sub=$w
			_stitch_data "$cmd" "$sub"
		else
			((n++))
		fi
	done
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [[ -n $subs && -z $sub ]]; then
		COMPREPLY=($(compgen -W "$subs" -- "$cur"))
	else
		read -ra ops <<<"$operands"
		if ((n < ${#ops[@]})); then
			_stitch_value "${ops[n]}"
		elif [[ -n $rep ]]; then
			_stitch_value "${ops[${#ops[@]} - 1]}"
		fi
	fi
}
complete -F _stitch stitch
