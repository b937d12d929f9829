#!/bin/bash
# test/integration/test_bird_sidecar.sh: anycast-healthd --bird as the
# sidecar of a real BIRD (pop3, AS 65003, bird-snippets/anycast-healthd.conf)
# peering the lab's upstream BIRD (AS 65000). Only pop3 is built (no ExaBGP
# PoPs). Services in pop3:
#   web   203.0.113.81/32 2001:db8:81::/64     tcp 127.0.0.1:8081 (tcp_sink),
#         MED 77, community, large community, prepend 2
#   dns   203.0.113.53/32 2001:db8:53::53/128  tcp on the lab service
#   flag  203.0.113.82/32 2001:db8:82::82/128  exec (test -e FILE)
#   bulk  1,000 services 2001:db8:100::N/128   tcp 127.0.0.1:9000 (tcp_sink),
#         one shared disable file (last phase only)
# Shown: prefixes reach the upstream after rise (IPv4 and IPv6) with their
# attributes; a stopped service's prefixes leave within interval x fall + 1 s;
# BIRD stopped and restarted while services change converges to the right
# set; a read-only include directory is a clear error while BIRD keeps its
# config and the daemon keeps running; SIGKILL then the unit's stop action
# withdraws everything; 1,000 services flipped together cost at most 5
# configures per flip (counted in BIRD's log); SIGTERM withdraws everything;
# every configure BIRD answered 0004/0005 ("in progress"; BIRD 3) was
# confirmed by `configure status`, none left unconfirmed.
#
# pop3's BIRD is LAB_SIDECAR_BIRD (lib.sh): BIRD 2 by default, BIRD 3 in
# test_bird_sidecar_bird3.sh.
#
# wait_for and ms_until take conditions in single quotes on purpose.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD=${AHD_BUILD:-$LAB_ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
TCP_SINK="$BUILD/test/bench/tcp_sink"
[[ -x $DAEMON ]] || lab_die "build the daemon first ($DAEMON missing)"
[[ -x $TCP_SINK ]] || lab_die "build tcp_sink first ($TCP_SINK missing)"
command -v nsenter >/dev/null || lab_die "missing tool: nsenter"

POP=pop3
INTERVAL_MS=300
RISE=3
FALL=2
WEB4=203.0.113.81/32
WEB6=2001:db8:81::/64
DNS4=$LAB_ANYCAST4/32
DNS6=$LAB_ANYCAST6/128
FLAG4=203.0.113.82/32
FLAG6=2001:db8:82::82/128
N_BULK=1000
MAX_CONFIGURES=5

LAB_POPS=() # no ExaBGP PoPs: the upstream peers pop3 only
lab_init
lab_topology
lab_add_bird_pop "$POP"
lab_start_bird
lab_start_sidecar_bird "$POP"
lab_log "$POP's BIRD: $("${LAB_SIDECAR_BIRD:-bird}" --version 2>&1)"

P=$LAB_DIR/$POP
INC=$(lab_bird_inc "$POP")
CONF=$P/etc/anycast-healthd.json
V4=${LAB_POP_V4[$POP]}
V6=${LAB_POP_V6[$POP]}
mkdir -p "$P/etc/services.d" "$P/disabled"
touch "$P/flag-ok"

# write_config COALESCE: the daemon file and the three small services.
write_config() {
	cat >"$CONF" <<-EOF
		{ "pop": "$POP", "asn": ${LAB_POP_ASN[$POP]}, "backend": "bird",
		  "plugin_dir": "$BUILD/checks",
		  "allowed_prefixes": ["203.0.113.0/24", "2001:db8::/32"],
		  "bird": { "socket": "${LAB_SIDECAR_SOCK[$POP]}",
		            "include_v4": "$INC/routes4.conf", "include_v6": "$INC/routes6.conf",
		            "on_exit": "withdraw", "coalesce": "$1" } }
	EOF
	local check="\"interval\": \"${INTERVAL_MS}ms\", \"rise\": $RISE, \"fall\": $FALL"
	cat >"$P/etc/services.d/web.json" <<-EOF
		{ "prefixes": ["$WEB4", "$WEB6"],
		  "checks": [ { "plugin": "tcp", $check, "timeout": "150ms",
		                "options": { "host": "127.0.0.1", "port": 8081 } } ],
		  "announce": { "med": 77, "communities": ["65003:81"],
		                "large_communities": ["65003:0:81"], "prepend": 2 } }
	EOF
	cat >"$P/etc/services.d/dns.json" <<-EOF
		{ "prefixes": ["$DNS4", "$DNS6"],
		  "checks": [ { "plugin": "tcp", $check, "timeout": "150ms",
		                "options": { "host": "$LAB_ANYCAST4", "port": $LAB_SVC_PORT } },
		              { "plugin": "tcp", $check, "timeout": "150ms",
		                "options": { "host": "$LAB_ANYCAST6", "port": $LAB_SVC_PORT } } ],
		  "announce": { "med": 100, "communities": ["65003:53"] } }
	EOF
	cat >"$P/etc/services.d/flag.json" <<-EOF
		{ "prefixes": ["$FLAG4", "$FLAG6"],
		  "checks": [ { "plugin": "exec", $check, "timeout": "250ms",
		                "options": { "command": ["/bin/sh", "-c", "test -e $P/flag-ok || exit 2"] } } ] }
	EOF
}

# write_bulk: N_BULK services on one tcp_sink port and one disable file.
write_bulk() {
	local i
	for ((i = 1; i <= N_BULK; i++)); do
		printf '{ "prefixes": ["2001:db8:100::%x/128"], "disable_file": "%s",
		  "checks": [ { "plugin": "tcp", "interval": "1s", "timeout": "500ms",
		    "rise": 1, "fall": 1, "options": { "host": "127.0.0.1", "port": 9000 } } ] }\n' \
			"$i" "$P/disabled/bulk" >"$P/etc/services.d/bulk$i.json"
	done
}

start_daemon() {
	"$DAEMON" --check-config --config "$CONF" >/dev/null ||
		lab_die "--check-config rejected $CONF: $("$DAEMON" --check-config --config "$CONF")"
	lab_start_sidecar_daemon "$POP" "$CONF"
	DPID=${LAB_SIDECAR_DAEMON_PID[$POP]}
}

declare -A SINK_PID=()
sink_start() { # PORT
	lab_spawn "$POP" "$POP/sink.log" "$TCP_SINK" "$1" 1
	SINK_PID[$1]=$LAB_LAST_PID
	wait_for "lab_port_open $POP 127.0.0.1 $1" 5 || lab_die "tcp_sink on port $1 did not start"
}
sink_stop() { # PORT
	lab_stop "${SINK_PID[$1]}"
}

# has PREFIX: the upstream has PREFIX from pop3.
has() {
	if [[ $1 == *:* ]]; then upstream_has "$1" "$V6"; else upstream_has "$1" "$V4"; fi
}
# count4, count6: routes the upstream has from pop3.
count4() { upstream_count "${POP}_v4"; }
count6() { upstream_count "${POP}_v6"; }
# reconfigs: configures BIRD applied so far (its log says "Reconfiguring").
reconfigs() { grep -c '<INFO> Reconfiguring$' "$P/bird.log" || true; }
# daemon_configures: configures the daemon sent so far (it logs each).
daemon_configures() { grep -c 'bird: configure #' "$P/healthd.log" || true; }

# ms_until COND TIMEOUT: wait for COND, print elapsed ms; fail on timeout.
ms_until() {
	local t0
	t0=$(lab_now_us)
	wait_for "$1" "$2" || return 1
	lab_ms $(($(lab_now_us) - t0))
}

# stop_action: what the shipped systemd unit runs (ExecStopPost=) when the
# daemon is gone, also after a crash: `anycast-healthd --withdraw-all --bird`
# empties our include files and reconfigures BIRD. systemd sets
# SERVICE_RESULT; after a crash it is not "success", so it acts.
stop_action() {
	SERVICE_RESULT=signal ip netns exec "$(lab_ns "$POP")" \
		"${AHD_BUILD:-$LAB_ROOT/build}/helper/anycast-healthd" --withdraw-all --bird \
		--config "$CONF" >>"$LAB_DIR/stop-action.log" 2>&1 ||
		lab_die "stop action failed: $(cat "$LAB_DIR/stop-action.log")"
}

write_config 20ms
sink_start 8081
lab_service_start "$POP" "$POP"
lab_wait_sessions 20

# 1. After rise, all six prefixes (IPv4 and IPv6) reach the upstream; not
# before rise x interval has passed.
t0=$(lab_now_us)
start_daemon
wait_for "has $WEB4 && has $WEB6" 15 || lab_die "upstream did not learn web's prefixes: $(lab_birdc show route)"
t_web=$(($(lab_now_us) - t0))
wait_for "has $DNS4 && has $DNS6 && has $FLAG4 && has $FLAG6" 10 ||
	lab_die "upstream did not learn dns and flag: $(lab_birdc show route)"
lab_log "web's prefixes at the upstream $(lab_ms "$t_web") ms after the daemon started (rise $RISE x ${INTERVAL_MS} ms)"
min_us=$(((RISE - 1) * INTERVAL_MS * 1000))
((t_web >= min_us)) || lab_die "announced before rise: $(lab_ms "$t_web") ms < $((min_us / 1000)) ms"
[[ $(count4) == 3 && $(count6) == 3 ]] || lab_die "unexpected route counts: $(count4) IPv4, $(count6) IPv6"
(($(stat -c %a "$INC/routes4.conf") == 644 && $(stat -c %a "$INC/routes6.conf") == 644)) ||
	lab_die "include files are not 0644"

# 2. Attributes arrive: prepend (path 65003 x 3), MED, community, large community.
for p in "$WEB4" "$WEB6"; do
	all=$(lab_birdc show route "$p" all)
	grep -q 'BGP.as_path: 65003 65003 65003$' <<<"$all" || lab_die "$p: prepend missing: $all"
	grep -q 'BGP.med: 77$' <<<"$all" || lab_die "$p: MED missing: $all"
	grep -q 'BGP.community: (65003,81)$' <<<"$all" || lab_die "$p: community missing: $all"
	grep -q 'BGP.large_community: (65003, 0, 81)$' <<<"$all" || lab_die "$p: large community missing: $all"
done
all=$(lab_birdc show route "$DNS6" all)
{ grep -q 'BGP.as_path: 65003$' <<<"$all" && grep -q 'BGP.med: 100$' <<<"$all"; } ||
	lab_die "$DNS6: attributes wrong: $all"
lab_log "attributes at the upstream: path 65003 65003 65003, MED 77, (65003,81), (65003, 0, 81)"

# 3. web's service stops: both its prefixes leave within interval x fall + 1 s.
limit_ms=$((INTERVAL_MS * FALL + 1000))
t0=$(lab_now_us)
sink_stop 8081
wait_for "! has $WEB4" 10 || lab_die "web's IPv4 prefix not withdrawn"
t4=$(($(lab_now_us) - t0))
wait_for "! has $WEB6" 10 || lab_die "web's IPv6 prefix not withdrawn"
t6=$(($(lab_now_us) - t0))
lab_log "web service stopped -> upstream lost $WEB4 in $(lab_ms "$t4") ms, $WEB6 in $(lab_ms "$t6") ms (limit $limit_ms ms)"
((t4 <= limit_ms * 1000 && t6 <= limit_ms * 1000)) || lab_die "withdraw over the $limit_ms ms limit"
{ has "$DNS4" && has "$FLAG6"; } || lab_die "other services were withdrawn with web"
sink_start 8081
t=$(ms_until "has $WEB4 && has $WEB6" 10) || lab_die "web not re-announced"
lab_log "web service back -> announced again in $t ms"

# 3b. A configure BIRD cannot finish at once: the operator added a table
# and a protocol, and removed them again from bird.conf; our next configure
# takes BIRD through the removal, which BIRD answers 0004 "in progress"
# (3.1.8 and 2.0.12 alike: the protocol's shutdown is an obstacle). The
# route change still reaches the upstream, and the in-progress answer is
# confirmed by `configure status`.
extra='# ahd-extra'
cat >>"$P/bird/bird.conf" <<-EOF
	ipv4 table ahd_extra4; $extra
	protocol static ahd_extra { ipv4 { table ahd_extra4; }; route 192.0.2.128/25 blackhole; } $extra
EOF
lab_sidecar_birdc "$POP" configure >/dev/null
wait_for 'lab_sidecar_birdc "$POP" show protocols | grep -q "^ahd_extra "' 10 ||
	lab_die "BIRD did not add the extra protocol: $(lab_sidecar_birdc "$POP" show protocols)"
sed -i "/$extra\$/d" "$P/bird/bird.conf"
in_progress() { grep -c 'bird: answer to configure [0-9]*: 000[45] ' "$P/healthd.log" || true; }
confirmed() { grep -c 'bird: configure [0-9]* applied: configure status answered 0003' "$P/healthd.log" || true; }
n4_before=$(in_progress)
nc_before=$(confirmed)
rm "$P/flag-ok"
t=$(ms_until "! has $FLAG4 && ! has $FLAG6" 10) || lab_die "flag not withdrawn through a configure in progress"
wait_for '! lab_sidecar_birdc "$POP" show protocols | grep -q "^ahd_extra "' 10 ||
	lab_die "BIRD kept the extra protocol"
n4=$(($(in_progress) - n4_before))
((n4)) || lab_die "BIRD did not answer 0004/0005 to a configure that removes a protocol and a table"
wait_for '(($(confirmed) > nc_before))' 10 ||
	lab_die "BIRD answered 0004/0005 but configure status never confirmed: $(grep 'bird: ' "$P/healthd.log" | tail -5)"
lab_log "configure in progress: flag withdrawn in $t ms; $(grep -o 'bird: configure [0-9]* applied: .*' "$P/healthd.log" | tail -1)"
touch "$P/flag-ok"
wait_for "has $FLAG4 && has $FLAG6" 10 || lab_die "flag not back"

# 4. BIRD stopped; services change meanwhile; BIRD restarted: converges.
lab_stop_sidecar_bird "$POP"
wait_for '[[ $(count4) == 0 && $(count6) == 0 ]]' 10 || lab_die "upstream kept pop3's routes with its BIRD down"
rm "$P/flag-ok"
sink_stop 8081
# The daemon keeps the files current while BIRD is away.
wait_for '! grep -q "^route ${FLAG4%/*}/" "$INC/routes4.conf" && ! grep -q "^route ${WEB6%/*}/" "$INC/routes6.conf"' 10 ||
	lab_die "include files not kept current while BIRD was down"
sleep 1 # a few configure attempts against the missing socket
lab_start_sidecar_bird "$POP"
t=$(ms_until '[[ $(count4) == 1 && $(count6) == 1 ]] && has $DNS4 && has $DNS6' 20) ||
	lab_die "upstream did not converge after BIRD's restart: $(lab_birdc show route)"
lab_log "BIRD restarted -> upstream has exactly dns's prefixes after $t ms"
# Changes after the restart are applied over the new connection.
touch "$P/flag-ok"
sink_start 8081
t=$(ms_until '[[ $(count4) == 3 && $(count6) == 3 ]]' 15) ||
	lab_die "changes after BIRD's restart did not reach the upstream: $(lab_birdc show route)"
lab_log "services back after BIRD's restart -> all six prefixes in $t ms"
n=$(grep -c 'bird: BIRD is not running' "$P/healthd.log" || true)
((n == 1)) || lab_die "BIRD's absence logged $n times (want once)"
kill -0 "$DPID" || lab_die "the daemon died"

# 5. Read-only include directory (a read-only bind mount in the daemon's own
# mount namespace: chmod would not stop root): clear error, BIRD keeps its
# config, the daemon keeps running; writable again -> it catches up.
[[ $(readlink "/proc/$DPID/ns/mnt") != $(readlink /proc/self/ns/mnt) ]] ||
	lab_die "the daemon shares our mount namespace; refusing to mount"
nsenter -t "$DPID" -m -- mount --bind "$INC" "$INC"
nsenter -t "$DPID" -m -- mount -o remount,ro,bind "$INC"
if nsenter -t "$DPID" -m -- touch "$INC/probe" 2>/dev/null; then
	lab_die "root can still write $INC: the test would prove nothing"
fi
before=$(reconfigs)
rm "$P/flag-ok"
wait_for 'grep -q "bird: cannot write $INC/routes[46].conf: Read-only file system" "$P/healthd.log"' 10 ||
	lab_die "no clear error for the read-only include directory: $(tail -5 "$P/healthd.log")"
lab_log "read-only: $(grep -m1 "cannot write $INC" "$P/healthd.log")"
sleep $(((INTERVAL_MS * FALL + 1000) / 1000 + 1))
{ has "$FLAG4" && has "$FLAG6"; } ||
	lab_die "upstream lost flag's routes although the files could not change"
[[ $(reconfigs) == "$before" ]] || lab_die "BIRD reconfigured while the files could not be written"
lab_sidecar_birdc "$POP" show route "$FLAG4" | grep -q "${FLAG4%/*}" || lab_die "BIRD lost its config"
kill -0 "$DPID" || lab_die "the daemon died on a read-only include directory"
lab_log "read-only: BIRD kept its config, the upstream still has flag's routes, the daemon runs"
nsenter -t "$DPID" -m -- umount "$INC"
t=$(ms_until "! has $FLAG4 && ! has $FLAG6" 40) || lab_die "flag not withdrawn once the directory was writable"
lab_log "directory writable again -> flag withdrawn after $t ms (retry backoff)"
# Each retry fails the same way: logged once per file, and the recovery.
for f in routes4.conf routes6.conf; do
	n=$(grep -c "bird: cannot write $INC/$f" "$P/healthd.log" || true)
	((n == 1)) || lab_die "the write error for $f was logged $n times (want once)"
	grep -q "bird: $INC/$f written again" "$P/healthd.log" || lab_die "recovery of $f not logged"
done
touch "$P/flag-ok"
wait_for '[[ $(count4) == 3 && $(count6) == 3 ]]' 10 || lab_die "flag not back"

# 6. SIGKILL: nothing withdraws (BIRD keeps the files); the unit's stop
# action then withdraws everything.
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
sleep 1
[[ $(count4) == 3 && $(count6) == 3 ]] || lab_die "routes changed on SIGKILL alone"
t0=$(lab_now_us)
stop_action
wait_for '[[ $(count4) == 0 && $(count6) == 0 ]]' 10 ||
	lab_die "the stop action did not withdraw everything: $(lab_birdc show route)"
lab_log "SIGKILL + stop action -> upstream has no route from $POP after $(lab_ms $(($(lab_now_us) - t0))) ms"

# 7. 1,000 services flipped together: a handful of configures per flip.
# Their checks run on their own jittered 1 s schedules, so "together" is a
# 1 s spread; a 500 ms coalescing window turns that into a few rounds.
write_config 500ms
write_bulk
sink_start 9000
start_daemon
want6=$((N_BULK + 3))
t=$(ms_until '[[ $(count6) == $want6 && $(count4) == 3 ]]' 30) ||
	lab_die "the bulk services did not all reach the upstream ($(count6) IPv6 routes)"
lab_log "$want6 IPv6 routes at the upstream $t ms after the daemon started"
sleep 1.5

# flip WHAT COND: do WHAT, wait for COND, print and check the configures.
flip() {
	local b d t
	b=$(reconfigs)
	d=$(daemon_configures)
	t0=$(lab_now_us)
	eval "$1"
	t=$(ms_until "$2" 30) || lab_die "flip '$1': upstream has $(count6) IPv6 routes"
	b=$(($(reconfigs) - b))
	d=$(($(daemon_configures) - d))
	lab_log "flip '$1': $N_BULK services at the upstream in $t ms with $b configures (BIRD's log; the daemon sent $d)"
	((b >= 1 && b <= MAX_CONFIGURES)) || lab_die "$b configures for one flip (at most $MAX_CONFIGURES)"
	((d <= MAX_CONFIGURES)) || lab_die "the daemon sent $d configures for one flip (at most $MAX_CONFIGURES)"
}
flip "sink_stop 9000" '[[ $(count6) == 3 ]]'
flip "sink_start 9000" '[[ $(count6) == $want6 ]]'
flip "touch $P/disabled/bulk" '[[ $(count6) == 3 ]]'
flip "rm $P/disabled/bulk" '[[ $(count6) == $want6 ]]'

# 8. SIGTERM: a clean stop withdraws everything it announced.
t0=$(lab_now_us)
lab_stop_sidecar_daemon "$POP"
t=$(ms_until '[[ $(count4) == 0 && $(count6) == 0 ]]' 10) || lab_die "SIGTERM did not withdraw everything"
lab_log "SIGTERM -> all $((want6 + 3)) routes withdrawn at the upstream in $t ms"
grep -q "ERROR\|error:" "$P/bird.out" && lab_die "BIRD logged errors: $(cat "$P/bird.out")"

# 9. BIRD's answers, by code: how many configures were applied at once
# (0003) and how many in progress (0004/0005), each then confirmed by
# `configure status` (BIRD 3 answers 0004 to most; a configure sent during
# such a wait is confirmed together with the one before). No wait may end
# unconfirmed.
n3=$(grep -c 'bird: answer to configure [0-9]*: 0003 ' "$P/healthd.log" || true)
n4=$(in_progress)
nc=$(confirmed)
lab_log "BIRD answered 0003 to $n3 configures and 0004/0005 to $n4; configure status confirmed $nc of those"
grep -q 'bird: cannot confirm configure\|bird: BIRD still reconfiguring' "$P/healthd.log" &&
	lab_die "configures left unconfirmed: $(grep 'cannot confirm\|still reconfiguring' "$P/healthd.log")"
((n4 == 0 || (nc >= 1 && nc <= n4))) || lab_die "$n4 configures in progress, $nc confirmed by configure status"

lab_cleanup
lab_assert_clean
echo "test_bird_sidecar: OK"
