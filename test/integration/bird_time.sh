# shellcheck shell=bash
# bird_time.sh: comparing the "since" stamps BIRD prints in "show route".

# same_time T1 T2: BIRD's "since" stamps (HH:MM:SS.mmm) name the same moment.
# BIRD converts its monotonic stamp to wall-clock time at display, so the
# printed value can move by a millisecond between two "show route" calls;
# a real change here is at least a second later.
same_time() {
	[[ -n $1 && -n $2 ]] || return 1
	awk -v a="$1" -v b="$2" 'function ms(t, p) { split(t, p, ":"); return (p[1] * 3600 + p[2] * 60 + p[3]) * 1000 }
		BEGIN { d = ms(a) - ms(b); exit !(d <= 5 && d >= -5) }'
}
