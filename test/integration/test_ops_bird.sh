#!/bin/bash
# test_ops_bird.sh: operating the daemon in BIRD mode. A sidecar BIRD (AS
# 65002) loads bird-snippets/anycast-healthd.conf and the daemon's include
# files and peers an upstream BIRD (AS 65000) in another namespace (own
# two-namespace setup until the lab grows BIRD-sidecar helpers; namespaces
# ahdo-*). The daemon runs with --bird against the sidecar's socket. Shown
# at the upstream: degraded = path prepended 3 times with the route kept;
# a reload with one service changed touches only its route (the others'
# ages stay, no withdraw); a manual disable survives a SIGKILL and a fresh
# start; a drain shows 65535:0 and the prepend before the withdraw.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${AHD_BUILD:-$SRC/build}
DAEMON="$BUILD/helper/anycast-healthd"
[[ -x $DAEMON ]] || { echo "build the daemon first" >&2; exit 1; }
NS_S=ahdo-side-$$
NS_U=ahdo-up-$$
T=$(mktemp -d /tmp/ahdo-bird.XXXXXX)
DPID=

cleanup() {
	local rc=$?
	[[ -n $DPID ]] && kill -KILL "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	if ((rc != 0)); then
		echo "--- daemon log" >&2
		tail -n 40 "$T/daemon.log" >&2 || true
	fi
	for p in "$T"/*.pid; do
		[[ -f $p ]] && kill "$(cat "$p")" 2>/dev/null || true
	done
	ip netns del "$NS_S" 2>/dev/null || true
	ip netns del "$NS_U" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
log() { printf '[ops-bird %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
fail() {
	log "FAIL: $*"
	birdc -s "$T/up.ctl" show route all >&2 || true
	exit 1
}
wait_for() { # COND SECONDS
	local i
	for ((i = 0; i < $(($2 * 50)); i++)); do
		eval "$1" && return 0
		sleep 0.02
	done
	return 1
}
up() { birdc -s "$T/up.ctl" "$@" | tail -n +2; }
has() { up show route "$1" | grep -q "$1"; }
route_all() { up show route "$1" all; }
# shellcheck source=test/integration/bird_time.sh
source "$(dirname "$0")/bird_time.sh"
age() { up show route "$1" | awk '/unicast \[/ { s = $0; sub(/.*unicast \[[^ ]+ /, "", s); sub(/[] ].*/, "", s); print s }'; }

ip netns add "$NS_S"
ip netns add "$NS_U"
ip link add ahdo-s$$ netns "$NS_S" type veth peer name ahdo-u$$ netns "$NS_U"
ip -n "$NS_S" addr add 192.0.2.2/24 dev ahdo-s$$
ip -n "$NS_U" addr add 192.0.2.1/24 dev ahdo-u$$
for ns in "$NS_S" "$NS_U"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set ahdo-s$$ up
ip -n "$NS_U" link set ahdo-u$$ up

LAB='hold time 6; keepalive time 2; startup hold time 6; connect delay time 1;
	connect retry time 2; error wait time 1, 5;'
mkdir -p "$T/inc" "$T/etc/services.d"
sed "s#/var/lib/anycast-healthd/bird#$T/inc#" "$SRC/bird-snippets/anycast-healthd.conf" >"$T/snippet.conf"
: >"$T/inc/routes4.conf"
: >"$T/inc/routes6.conf"
cat >"$T/side.conf" <<C
router id 192.0.2.2;
log "$T/side.log" all;
protocol device {}
include "$T/snippet.conf";
protocol bgp up4 {
	local 192.0.2.2 as 65002; neighbor 192.0.2.1 as 65000; $LAB
	ipv4 { import none; export filter anycast_healthd_export; };
}
C
cat >"$T/up.conf" <<C
router id 192.0.2.1;
log "$T/up.log" all;
protocol device {}
protocol bgp side4 {
	local 192.0.2.1 as 65000; neighbor 192.0.2.2 as 65002; $LAB
	ipv4 { import all; export none; };
}
C
ip netns exec "$NS_S" bird -c "$T/side.conf" -s "$T/side.ctl" -P "$T/side.pid"
ip netns exec "$NS_U" bird -c "$T/up.conf" -s "$T/up.ctl" -P "$T/up.pid"

echo 0 >"$T/dns-rc"
echo 0 >"$T/ok-rc"
check() {
	printf '{ "plugin": "exec", "interval": "200ms", "timeout": "150ms", "rise": 2, "fall": 2,
	    "options": { "command": ["/bin/sh", "-c", "exit $(cat %s)"] } }' "$1"
}
write_mail() {
	cat >"$T/etc/services.d/mail.json" <<-EOF
		{ "prefixes": ["203.0.113.25/32"], "checks": [ $(check "$T/ok-rc") ],
		  "announce": { "communities": ["65002:$1"] } }
	EOF
}
cat >"$T/etc/ahd.json" <<EOF
{ "pop": "side", "asn": 65002, "backend": "bird", "plugin_dir": "$BUILD/checks",
  "state_file": "$T/state.json", "allowed_prefixes": ["203.0.113.0/24", "2001:db8::/32"],
  "bird": { "socket": "$T/side.ctl", "include_v4": "$T/inc/routes4.conf",
            "include_v6": "$T/inc/routes6.conf", "on_exit": "withdraw" } }
EOF
cat >"$T/etc/services.d/dns.json" <<EOF
{ "prefixes": ["203.0.113.53/32"], "checks": [ $(check "$T/dns-rc") ],
  "drain": { "time": "3s" } }
EOF
cat >"$T/etc/services.d/web.json" <<EOF
{ "prefixes": ["203.0.113.80/32"], "checks": [ $(check "$T/ok-rc") ] }
EOF
write_mail 1
"$DAEMON" --check-config --config "$T/etc/ahd.json" >/dev/null || fail "config rejected"

start_daemon() {
	AHD_TEST_TRIGGER="$T/trigger" "$DAEMON" --bird --config "$T/etc/ahd.json" \
		>>"$T/daemon.log" 2>&1 </dev/null &
	DPID=$!
}
trigger() {
	local n
	touch "$T/trigger.out"
	n=$(wc -l <"$T/trigger.out")
	printf '%s\n' "$@" >"$T/trigger"
	kill -USR2 "$DPID"
	wait_for '[[ ! -s $T/trigger ]]' 5 || fail "trigger not taken"
	tail -n +"$((n + 1))" "$T/trigger.out"
}
start_daemon
wait_for 'has 203.0.113.53/32 && has 203.0.113.80/32 && has 203.0.113.25/32' 30 ||
	fail "routes did not reach the upstream"
route_all 203.0.113.53/32 | grep -q 'BGP.as_path: 65002$' || fail "unexpected path"
log "bird mode: dns, web and mail at the upstream"

# 1. Degraded: prepended, still announced.
echo 1 >"$T/dns-rc"
wait_for "route_all 203.0.113.53/32 | grep -q 'BGP.as_path: 65002 65002 65002 65002\$'" 10 ||
	fail "degraded path not prepended"
echo 0 >"$T/dns-rc"
wait_for "route_all 203.0.113.53/32 | grep -q 'BGP.as_path: 65002\$'" 10 || fail "not back to up"
log "degraded: path 65002 x4, route kept; back to one 65002 when healthy"

# 2. Reload, mail changed: only mail's route moves.
sleep 1.2
a_dns=$(age 203.0.113.53/32) a_web=$(age 203.0.113.80/32)
write_mail 2
kill -HUP "$DPID"
wait_for "route_all 203.0.113.25/32 | grep -q '(65002,2)'" 10 || fail "mail's change missing"
sleep 1
same_time "$(age 203.0.113.53/32)" "$a_dns" && same_time "$(age 203.0.113.80/32)" "$a_web" ||
	fail "reload touched unchanged routes ($a_dns/$a_web)"
grep -q "reloaded: 2 services unchanged, 1 changed" "$T/daemon.log" || fail "no reload summary"
log "reload: only mail's route changed (dns $a_dns, web $a_web unchanged)"

# 3. Disable, SIGKILL, start again: web stays withdrawn.
trigger "disable web maintenance" | grep -q "^OK disable web" || fail "disable failed"
wait_for '! has 203.0.113.80/32' 5 || fail "disable did not withdraw"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
start_daemon
sleep 3
has 203.0.113.80/32 && fail "disabled web came back after a restart"
has 203.0.113.53/32 && has 203.0.113.25/32 || fail "healthy routes lost across the restart"
trigger "enable web" | grep -q "^OK enable web" || fail "enable failed"
wait_for 'has 203.0.113.80/32' 5 || fail "enable did not bring web back"
log "disable survived SIGKILL + restart; enable brought web back"

# 4. Drain: 65535:0 + prepend first, then the withdraw.
t0=$(date +%s%N)
out=$(trigger "drain dns deploy" "status")
grep -qE "^prefix dns 203.0.113.53/32 announce draining" <<<"$out" || fail "status: $out"
wait_for "route_all 203.0.113.53/32 | grep -q '(65535,0)'" 3 || fail "no 65535:0 at the upstream"
has 203.0.113.53/32 || fail "withdrawn before the drain time"
route_all 203.0.113.53/32 | grep -q 'BGP.as_path: 65002 65002 65002 65002$' ||
	fail "draining path not prepended"
wait_for '! has 203.0.113.53/32' 6 || fail "drain did not withdraw"
t1=$(date +%s%N)
(((t1 - t0) / 1000000 >= 2900)) || fail "withdrawn too early ($(((t1 - t0) / 1000000)) ms)"
log "drain: 65535:0 + prepend, withdrawn $(((t1 - t0) / 1000000)) ms after the drain began"

kill -TERM "$DPID"
wait "$DPID" || true
DPID=
wait_for '! has 203.0.113.25/32' 10 || fail "SIGTERM did not withdraw"
echo "test_ops_bird: OK"
