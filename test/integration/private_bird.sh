# private_bird.sh: a real BIRD 2 with our bird-snippets on a private control
# socket in a directory of the caller's, no network namespace: static
# routes need no network, and with neither kernel nor BGP protocols BIRD
# sends nothing anywhere and touches no routing table. Sourced by tests
# and benchmarks; the caller owns cleanup (pbird_stop in its trap).
#
#   pbird_start DIR   writes DIR/bird.conf (device protocol + the snippet,
#                     include files DIR/routes4.conf, DIR/routes6.conf, created
#                     empty when missing) and starts BIRD on DIR/bird.ctl
#   pbird_stop DIR    stops it (SIGTERM, then SIGKILL), waits
#   pbird_routes DIR  prints the prefixes BIRD has from our static protocols

PBIRD_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

pbird_start() {
	local d=$1 i
	sed "s#/var/lib/anycast-healthd/bird#$d#" "$PBIRD_SRC/bird-snippets/anycast-healthd.conf" \
		>"$d/snippet.conf"
	for f in routes4.conf routes6.conf; do
		[[ -e $d/$f ]] || printf '# anycast-healthd: none yet\n' >"$d/$f"
	done
	cat >"$d/bird.conf" <<-EOF
		log "$d/bird.log" all;
		router id 192.0.2.2;
		protocol device { scan time 60; }
		include "$d/snippet.conf";
	EOF
	bird -p -c "$d/bird.conf" || return 1
	bird -f -c "$d/bird.conf" -s "$d/bird.ctl" -P "$d/bird.pid" >"$d/bird.out" 2>&1 &
	echo $! >"$d/bird.bgpid"
	for i in $(seq 100); do
		[[ -S $d/bird.ctl ]] && birdc -s "$d/bird.ctl" show status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "private BIRD did not start (see $d/bird.out)" >&2
	return 1
}

pbird_stop() {
	local d=$1 pid i
	[[ -f $d/bird.bgpid ]] || return 0
	pid=$(cat "$d/bird.bgpid")
	rm -f "$d/bird.bgpid"
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

pbird_routes() {
	birdc -s "$1/bird.ctl" show route protocol anycast_healthd4 |
		awk '$1 ~ /\// {print $1}'
	birdc -s "$1/bird.ctl" show route protocol anycast_healthd6 |
		awk '$1 ~ /\// {print $1}'
}
