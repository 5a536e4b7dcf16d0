# zsh -f zsh_complete.zsh FPATH_DIR 'COMMAND LINE': the candidates zsh's
# completion offers after COMMAND LINE (TAB pressed at its end), one a line,
# sorted.  Drives an interactive zsh in a pseudo-terminal (zsh/zpty) with
# compinit and the completion functions of FPATH_DIR; compadd is wrapped to
# print what it adds.
zmodload zsh/zpty || exit 3
local tmp=${TMPDIR:-/tmp} out= line
zpty z zsh -f -i
zpty -w z "PROMPT= ; fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -d ${(q)tmp}/.zcompdump-test"
zpty -w z 'compadd () { builtin compadd -O __hits "$@"; (( $#__hits )) && print -rl -- "<hit>"${^__hits}; builtin compadd "$@" }'
zpty -w z "$2"$'\t'
integer quiet=0 waited=0
while (( waited < 100 && quiet < 15 )); do
	if zpty -r -t z line; then
		out+=$line
		quiet=0
	else
		sleep 0.1
		(( waited++ ))
		[[ $out == *'<hit>'* ]] && (( quiet++ ))
	fi
done
zpty -d z
print -r -- $out | tr -d '\r' | grep -a '<hit>' | sed 's/.*<hit>//' | sort -u
