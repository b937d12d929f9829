#!/bin/bash
# test_ops_bird.sh: operating the daemon in BIRD mode. A sidecar BIRD (AS
# 65002) loads bird-snippets/anycast-healthd.conf and the daemon's include
# files and peers an upstream BIRD (AS 65000) in another namespace (own
# two-namespace setup until the lab grows BIRD-sidecar helpers; namespaces
# ahdo-*). The daemon runs with --bird against the sidecar's socket. Shown
# at the upstream: degraded = path prepended 3 times with the route kept;
# a reload with one service changed touches only its route (the others'
# ages stay, no withdraw); a manual disable survives a SIGKILL and a fresh
# start (and the new daemon's status still says disabled, with the reason);
# a drain shows 65535:0 and the prepend before the withdraw. Manual actions
# and status go through the control socket with anycast-healthctl.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${AHD_BUILD:-$SRC/build}
DAEMON="$BUILD/helper/anycast-healthd"
CTL="$BUILD/helper/anycast-healthctl"
[[ -x $DAEMON && -x $CTL ]] || { echo "build the daemon first" >&2; exit 1; }
NS_S=ahdo-side-$$
NS_U=ahdo-up-$$
T=$(mktemp -d /tmp/ahdo-bird.XXXXXX)
SOCK=$T/control.sock
DPID=

# shellcheck source=test/integration/netns.sh
source "$(dirname "$0")/netns.sh"
cleanup() {
	local rc=$?
	set +e # a failing kill or wait must not cut the tear-down short
	[[ -n $DPID ]] && kill -KILL "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	if ((rc != 0)); then
		echo "--- daemon log" >&2
		tail -n 40 "$T/daemon.log" >&2 || true
	fi
	for p in "$T"/*.pid; do
		[[ -f $p ]] && kill "$(cat "$p")" 2>/dev/null || true
	done
	netns_purge "$NS_S" "$NS_U"
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
	    "options": { "command": ["/bin/sh", "-c", "exit $(cat %s)"],
	                 "convention": "nagios" } }' "$1"
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
  "control": { "socket": "$SOCK" },
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
	"$DAEMON" --bird --config "$T/etc/ahd.json" \
		>>"$T/daemon.log" 2>&1 </dev/null &
	DPID=$!
}
# shellcheck source=test/integration/healthctl.sh
source "$(dirname "$0")/healthctl.sh"
start_daemon
wait_for 'has 203.0.113.53/32 && has 203.0.113.80/32 && has 203.0.113.25/32' 30 ||
	fail "routes did not reach the upstream"
route_all 203.0.113.53/32 | grep -q 'BGP.as_path: 65002$' || fail "unexpected path"
log "bird mode: dns, web and mail at the upstream"

# 1. Degraded: prepended, still announced.
echo 1 >"$T/dns-rc"
wait_for "route_all 203.0.113.53/32 | grep -q 'BGP.as_path: 65002 65002 65002 65002\$'" 10 ||
	fail "degraded path not prepended"
svc dns 's["state"] == "degraded" and [p["as"] for p in s["prefixes"]] == ["degraded"]' ||
	fail "status does not show dns announced as degraded: $(ctl --json status dns)"
echo 0 >"$T/dns-rc"
wait_for "route_all 203.0.113.53/32 | grep -q 'BGP.as_path: 65002\$'" 10 || fail "not back to up"
log "degraded: path 65002 x4, route kept; back to one 65002 when healthy"

# 2. Reload, mail changed: only mail's route moves.
wait_for "svc_confirmed dns && svc_confirmed web && svc_confirmed mail" 5 ||
	fail "routes not confirmed before the reload: $(ctl status)"
a_dns=$(age 203.0.113.53/32) a_web=$(age 203.0.113.80/32)
lines=$(wc -l <"$T/daemon.log")
write_mail 2
kill -HUP "$DPID"
wait_for "route_all 203.0.113.25/32 | grep -q '(65002,2)'" 10 || fail "mail's change missing"
wait_for "tail -n +$((lines + 1)) $T/daemon.log | grep -q 'reloaded: '" 5 || fail "no reload summary"
wait_for "svc_confirmed dns && svc_confirmed web && svc_confirmed mail" 5 ||
	fail "BIRD did not confirm the reload: $(ctl status)"
# Everything the reload changed is configured; what follows checks that
# nothing else arrives at the upstream, so give a stray update time to get there.
sleep 1
same_time "$(age 203.0.113.53/32)" "$a_dns" && same_time "$(age 203.0.113.80/32)" "$a_web" ||
	fail "reload touched unchanged routes ($a_dns/$a_web)"
tail -n +"$((lines + 1))" "$T/daemon.log" | grep -q "reloaded: 2 services unchanged, 1 changed" ||
	fail "no reload summary"
log "reload: only mail's route changed (dns $a_dns, web $a_web unchanged)"

# 3. Disable, SIGKILL, start again: web stays withdrawn.
out=$(ctl disable web --reason maintenance) || fail "disable failed: $out"
[[ $out == "web: disabled (maintenance)" ]] || fail "disable said: $out"
wait_for '! has 203.0.113.80/32' 5 || fail "disable did not withdraw"
svc web 's["state"] == "disabled" and s["disabled_reason"] == "maintenance"' ||
	fail "status after disable: $(ctl status web)"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
lines=$(wc -l <"$T/daemon.log")
start_daemon
# The new daemon answers on its socket (the old one's file was stale) and
# web's checks pass many times over (rise 2): it would be announced by now.
wait_for "svc web 's[\"health\"] == \"up\" and s[\"checks\"][0][\"results\"][\"ok\"] >= 6'" 15 ||
	fail "web's checks did not run after the restart: $(ctl status web 2>&1)"
wait_for "svc_confirmed dns && svc_confirmed mail" 10 ||
	fail "healthy services not announced after the restart: $(ctl status)"
wait_for 'has 203.0.113.53/32 && has 203.0.113.25/32' 5 || fail "healthy routes lost across the restart"
svc web 's["state"] == "disabled" and s["disabled"] and s["disabled_reason"] == "maintenance"
	and not any(p["announced"] for p in s["prefixes"])' ||
	fail "status after the restart: $(ctl --json status web)"
ctl status web | grep -Eq "^web +disabled .*maintenance" ||
	fail "status table after the restart: $(ctl status web)"
grep -q "203.0.113.80" "$T/inc/routes4.conf" && fail "web in BIRD's include after the restart"
if tail -n +"$((lines + 1))" "$T/daemon.log" | grep -E "info: announce .*service=web"; then
	fail "the restarted daemon announced the disabled web"
fi
has 203.0.113.80/32 && fail "disabled web came back after a restart"
out=$(ctl enable web) || fail "enable failed: $out"
wait_for 'has 203.0.113.80/32' 5 || fail "enable did not bring web back"
wait_for "svc web 's[\"state\"] == \"up\" and not s[\"disabled\"]'" 5 ||
	fail "status after enable: $(ctl status web)"
log "disable survived SIGKILL + restart (status: disabled, maintenance); enable brought web back"

# 4. Drain: 65535:0 + prepend first, then the withdraw.
t0=$(date +%s%N)
out=$(ctl drain dns --reason deploy) || fail "drain failed: $out"
svc dns 's["state"] == "draining" and s["drain_remaining_usec"] > 0
	and [(p["prefix"], p["route"], p["as"]) for p in s["prefixes"]]
	    == [("203.0.113.53/32", "announce", "draining")]' ||
	fail "status: $(ctl --json status dns)"
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
[[ ! -e $SOCK ]] || fail "control socket left behind after SIGTERM"
echo "test_ops_bird: OK"
