#!/bin/bash
# test/integration/test_exabgp.sh: anycast-healthd as ExaBGP's process in
# pop1, against the upstream BIRD (AS 65000), all real daemons in the lab
# namespaces. Services in pop1:
#   web4  203.0.113.80/32      tcp (a socat listener) + exec (test -e FILE)
#   dns6  2001:db8:53::53/128  exec (test -e FILE) + tcp (the lab service)
#   bad   203.0.113.99/32      the crash and hang test plugins (combine any)
# Shown: both prefixes reach the upstream after rise; web4's prefix leaves
# within interval x fall + 1 s of its service stopping and returns after;
# the disable file withdraws it; a SIGKILLed daemon is respawned by ExaBGP
# with no withdraw of the healthy prefixes; SIGTERM withdraws; the bad
# service never reaches the upstream and never disturbs the others; the same
# flow works with ExaBGP's api.ack off.
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD=${AHD_BUILD:-$LAB_ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
[[ -x $DAEMON ]] || lab_die "build the daemon first ($DAEMON missing)"

WEB4=203.0.113.80
WEB4_PREFIX=$WEB4/32
DNS6_PREFIX=$LAB_ANYCAST6/128
BAD_PREFIX=203.0.113.99/32
INTERVAL_MS=300
FALL=2
RISE=2

lab_init
lab_topology
lab_start_bird
lab_monitor_start

P1=$LAB_DIR/pop1
mkdir -p "$P1/etc/services.d" "$P1/plugins" "$P1/disabled"
# The test plugins live beside the built-in ones in one plugin_dir (the
# loader refuses symlinks that leave it, so copy).
cp "$BUILD"/checks/*.so "$BUILD"/checks/testing/*.so "$P1/plugins/"
chmod 0755 "$P1" "$P1/etc" "$P1/etc/services.d" "$P1/plugins" "$P1/disabled"
chmod 0644 "$P1"/plugins/*.so
touch "$P1/web4-exec-ok" "$P1/dns6-exec-ok"

write_config() { # ACK(true|false)
	cat >"$P1/etc/anycast-healthd.json" <<-EOF
		{ "pop": "pop1", "asn": ${LAB_POP_ASN[pop1]}, "backend": "exabgp",
		  "plugin_dir": "../plugins",
		  "allowed_prefixes": ["203.0.113.0/24", "2001:db8:53::/48"],
		  "exabgp": { "ack": $1, "on_exit": "withdraw" } }
	EOF
	cat >"$P1/etc/services.d/web4.json" <<-EOF
		{ "prefixes": ["$WEB4_PREFIX"],
		  "checks": [
		    { "plugin": "tcp", "interval": "${INTERVAL_MS}ms", "timeout": "150ms",
		      "rise": $RISE, "fall": $FALL, "options": { "host": "$WEB4", "port": 8080 } },
		    { "plugin": "exec", "interval": "${INTERVAL_MS}ms", "timeout": "250ms",
		      "rise": $RISE, "fall": $FALL,
		      "options": { "command": ["/bin/sh", "-c", "test -e $P1/web4-exec-ok || exit 2"] } } ],
		  "disable_file": "../../disabled/web4",
		  "announce": { "med": 50, "communities": ["65001:80"] } }
	EOF
	cat >"$P1/etc/services.d/dns6.json" <<-EOF
		{ "prefixes": ["$DNS6_PREFIX"],
		  "checks": [
		    { "plugin": "exec", "interval": "${INTERVAL_MS}ms", "timeout": "250ms",
		      "rise": $RISE, "fall": $FALL,
		      "options": { "command": ["/bin/sh", "-c", "test -e $P1/dns6-exec-ok || exit 2"] } },
		    { "plugin": "tcp", "interval": "${INTERVAL_MS}ms", "timeout": "150ms",
		      "rise": $RISE, "fall": $FALL,
		      "options": { "host": "$LAB_ANYCAST6", "port": $LAB_SVC_PORT } } ] }
	EOF
	cat >"$P1/etc/services.d/bad.json" <<-EOF
		{ "prefixes": ["$BAD_PREFIX"], "combine": "any",
		  "checks": [
		    { "plugin": "crash", "interval": "${INTERVAL_MS}ms", "timeout": "200ms", "rise": 1, "fall": 1 },
		    { "plugin": "hang", "interval": "${INTERVAL_MS}ms", "timeout": "200ms", "rise": 1, "fall": 1 } ] }
	EOF
	chmod 0644 "$P1"/etc/*.json "$P1"/etc/services.d/*.json
}

# The daemon is ExaBGP's child; its plugin workers (same command line) are
# the daemon's children.
daemon_pid() {
	pgrep -P "$(lab_exabgp_pid pop1)" -f "anycast-healthd --exabgp" | head -1
}

# has PREFIX: the upstream has a route for it via pop1.
has() {
	local v=${LAB_POP_V4[pop1]}
	[[ $1 == *:* ]] && v=${LAB_POP_V6[pop1]}
	upstream_has "$1" "$v"
}

# ms_until COND TIMEOUT: wait for COND, print elapsed ms; fail on timeout.
ms_until() {
	local t0
	t0=$(lab_now_us)
	wait_for "$1" "$2" || return 1
	lab_ms $(($(lab_now_us) - t0))
}

start_web4() {
	lab_spawn pop1 pop1/web4.log socat "TCP4-LISTEN:8080,bind=$WEB4,reuseaddr,fork" SYSTEM:true
	WEB4_PID=$LAB_LAST_PID
	wait_for "lab_port_open pop1 $WEB4 8080" 5 || lab_die "web4 listener did not start"
}

write_config true
"$DAEMON" --check-config --config "$P1/etc/anycast-healthd.json" ||
	lab_die "--check-config rejected the test configuration"
ip -n "$(lab_ns pop1)" addr add "$WEB4/32" dev lo
lab_service_start pop1 pop1
start_web4
# pop2 only keeps its sessions up; it announces nothing.
lab_start_exabgp pop2 "$LAB_FAKE_PROCESS" --name pop2
lab_start_exabgp pop1 "$DAEMON" --exabgp --config "$P1/etc/anycast-healthd.json"
lab_wait_sessions 20

# 1. Both healthy prefixes arrive after rise; the bad service's never does.
t=$(ms_until "has $WEB4_PREFIX && has $DNS6_PREFIX" 15) ||
	lab_die "upstream did not learn both prefixes: $(lab_birdc show route)"
lab_log "both prefixes at the upstream $t ms after sessions were up"
routes=$(upstream_routes "$WEB4_PREFIX")
grep -q "${LAB_POP_ASN[pop1]}\$" <<<"$routes" || lab_die "unexpected as path: $routes"
lab_birdc show route "$WEB4_PREFIX" all | grep -q "BGP.community: (65001,80)" ||
	lab_die "community 65001:80 missing at the upstream"
pid1=$(daemon_pid)
[[ -n $pid1 ]] || lab_die "no daemon process"

# 2. web4's service stops: withdrawn within interval x fall + 1 s.
limit_ms=$((INTERVAL_MS * FALL + 1000))
lab_stop "$WEB4_PID"
t=$(ms_until "! has $WEB4_PREFIX" 10) || lab_die "web4 not withdrawn after its service stopped"
lab_log "web4 service stopped -> upstream lost $WEB4_PREFIX in $t ms (limit $limit_ms ms)"
((${t%.*} <= limit_ms)) || lab_die "withdraw took $t ms, over the $limit_ms ms limit"
has "$DNS6_PREFIX" || lab_die "dns6 was withdrawn with web4"
grep -q "withdraw.*$WEB4_PREFIX.*" "$LAB_DIR/pop1/exabgp.log" ||
	lab_die "the withdraw was not logged"

# 3. It comes back after rise.
start_web4
t=$(ms_until "has $WEB4_PREFIX" 10) || lab_die "web4 not re-announced after its service returned"
lab_log "web4 service restored -> upstream regained $WEB4_PREFIX in $t ms"

# 4. The disable file withdraws it; removing it brings it back.
touch "$P1/disabled/web4"
t=$(ms_until "! has $WEB4_PREFIX" 5) || lab_die "disable file did not withdraw web4"
lab_log "disable file -> withdrawn in $t ms"
rm "$P1/disabled/web4"
t=$(ms_until "has $WEB4_PREFIX" 5) || lab_die "removing the disable file did not re-announce web4"
lab_log "disable file removed -> announced in $t ms"

# 5. The exec check alone failing withdraws too (combine all).
rm "$P1/dns6-exec-ok"
wait_for "! has $DNS6_PREFIX" 5 || lab_die "dns6 not withdrawn when its exec check failed"
touch "$P1/dns6-exec-ok"
wait_for "has $DNS6_PREFIX" 5 || lab_die "dns6 not back after its exec check passed"
lab_log "exec check failure withdrew dns6 and its recovery re-announced it"

# 6. SIGKILL: ExaBGP respawns the daemon; the healthy prefixes never leave.
sleep 1
mark=$(lab_monitor_mark)
kill -KILL "$pid1"
wait_for '[[ -n $(daemon_pid) && $(daemon_pid) != "$pid1" ]]' 10 ||
	lab_die "ExaBGP did not respawn the daemon"
pid2=$(daemon_pid)
# Long enough for the new instance to decide every service (rise) and more.
sleep $(((INTERVAL_MS * (RISE + 3)) / 1000 + 2))
deleted=$(tail -n +"$((mark + 1))" "$LAB_DIR/monitor.log" | grep -E "^\[[^]]*\] Deleted .*(${WEB4//./\\.}|${LAB_ANYCAST6}) " || true)
[[ -z $deleted ]] || lab_die "route churn after the daemon's restart: $deleted"
has "$WEB4_PREFIX" && has "$DNS6_PREFIX" || lab_die "prefixes missing after respawn"
lab_log "SIGKILL: respawned as pid $pid2, no withdraw of healthy prefixes at the upstream"

# 7. The bad service: its plugins crashed and hung all along; never announced.
upstream_routes "$BAD_PREFIX" >/dev/null && lab_die "the bad service reached the upstream"
grep -qE "crash|signal" "$LAB_DIR/pop1/exabgp.log" || lab_die "no sign of the crash plugin in the log"
lab_log "crash and hang plugins cost only their own service"

# 8. SIGTERM withdraws what the daemon announced (then ExaBGP respawns it).
kill -TERM "$pid2"
t=$(ms_until "! has $WEB4_PREFIX && ! has $DNS6_PREFIX" 5) ||
	lab_die "SIGTERM did not withdraw the prefixes"
lab_log "SIGTERM -> both prefixes withdrawn in $t ms"
wait_for "has $WEB4_PREFIX && has $DNS6_PREFIX" 15 || lab_die "respawned daemon did not re-announce"

# 9. ExaBGP with api.ack off, our config "ack": false: same flow.
lab_stop_exabgp pop1
wait_for '[[ -z $(daemon_pid) ]]' 10 || lab_die "daemon did not exit when ExaBGP stopped"
write_config false
LAB_EXABGP_ENV=(exabgp_api_ack=false)
lab_start_exabgp pop1 "$DAEMON" --exabgp --config "$P1/etc/anycast-healthd.json"
LAB_EXABGP_ENV=()
wait_for "has $WEB4_PREFIX && has $DNS6_PREFIX" 30 || lab_die "ack off: prefixes not announced"
lab_stop "$WEB4_PID"
t=$(ms_until "! has $WEB4_PREFIX" 10) || lab_die "ack off: web4 not withdrawn"
lab_log "ack off: announce and withdraw work (withdraw in $t ms)"
grep -q "Traceback" "$LAB_DIR/pop1/exabgp.log" && lab_die "ExaBGP logged a traceback"

lab_cleanup
lab_assert_clean
echo "test_exabgp: OK"
