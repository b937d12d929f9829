#!/bin/bash
# test/integration/test_canary_bird.sh: the canary with the BIRD sidecar
# (pop3). pop3's BIRD has two IPv4 upstream sessions: to the lab's "up"
# (192.0.2.9, the canary neighbour, exporting through
# anycast_healthd_canary_export) and to a second upstream "up2" (its own
# BIRD, AS 65010, 203.0.113.249, exporting through anycast_healthd_export).
# One service, 203.0.113.95/32 (exec: test -e FLAG, rise 1, fall 1), with
# "canary": { "neighbors": ["192.0.2.9"], "time": "4s" } and
# reconcile.interval 2s. Shown, per session at the two upstream BIRDs:
#  0. BIRD starts before the daemon wrote the canary files (the snippet's
#     pattern include), and the daemon writes them empty at start;
#  1. checks up: the route is at "up" (t_a), not at up2 at t_a + time/2,
#     at up2 about t_a + time (the figure is printed); it sat in
#     routes4-canary.conf (anycast_healthd_canary4) during the trial and is
#     in routes4.conf after it;
#  2. a check failing during a new trial: withdrawn from "up", up2 never
#     sees it (sampled until well past the trial's end);
#  3. recovery: a fresh full trial (not at up2 at half time, at up2 after
#     it); reconciliation passes after the promotion find no drift
#     (anycast_healthd_reconcile_drift_total 0);
#  4. a route on trial and the daemon killed (SIGKILL): --withdraw-all
#     empties the canary file too and "up" loses the route.
# shellcheck disable=SC2016,SC2034
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD=${AHD_BUILD:-$LAB_ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
[[ -x $DAEMON ]] || lab_die "build the daemon first ($DAEMON missing)"
command -v nsenter >/dev/null || lab_die "missing tool: nsenter"
command -v curl >/dev/null || lab_die "missing tool: curl"

POP=pop3
P4=203.0.113.95/32
TIME=4 # canary time, seconds
UP2_V4=203.0.113.249
POP_UP2_V4=203.0.113.250
UP2_ASN=65010
METRICS_PORT=9291

LAB_POPS=() # no ExaBGP PoPs
lab_init
lab_topology
lab_add_bird_pop "$POP"
lab_start_bird

# up2: a second upstream for pop3 only, with its own BIRD.
lab_ns_add up2
lab_link "$POP" to-up2 up2 to-pop
lab_addr "$POP" to-up2 "$POP_UP2_V4/30"
lab_addr up2 to-pop "$UP2_V4/30"
UP2_SOCK=$LAB_DIR/up2.ctl
cat >"$LAB_DIR/up2.conf" <<EOF
log "$LAB_DIR/up2.log" all;
router id $UP2_V4;
protocol device { scan time 10; }
protocol bgp $POP {
  local $UP2_V4 as $UP2_ASN; neighbor $POP_UP2_V4 as ${LAB_POP_ASN[$POP]};
  passive on;
  hold time 6; keepalive time 2; startup hold time 6;
  connect delay time 1; connect retry time 2; error wait time 1, 5;
  ipv4 { import all; export none; };
}
EOF
bird -p -c "$LAB_DIR/up2.conf" || lab_die "bird rejects $LAB_DIR/up2.conf"
lab_spawn up2 up2.out bird -f -c "$LAB_DIR/up2.conf" -s "$UP2_SOCK" -P "$LAB_DIR/up2.pid"
wait_for '[[ -S $UP2_SOCK ]] && birdc -s "$UP2_SOCK" show status >/dev/null 2>&1' 10 ||
	lab_die "up2's BIRD did not start"

# pop3's BIRD: what lab_start_sidecar_bird does, with a session to up2 and
# the canary filter on the IPv4 session to "up". Only the main include
# files are created here: the canary ones do not exist yet.
P=$LAB_DIR/$POP
INC=$(lab_bird_inc "$POP")
BIRD_CONF=$P/bird/bird.conf
SNIPPET=$P/bird/anycast-healthd.conf
sed "s#/var/lib/anycast-healthd/bird/#$INC/#g" \
	"$LAB_ROOT/bird-snippets/anycast-healthd.conf" >"$SNIPPET"
for f in routes4.conf routes6.conf; do
	printf '# anycast-healthd: no routes yet\n' >"$INC/$f"
done
grep -q "include \"$INC/routes4-canary.con" "$SNIPPET" || lab_die "$SNIPPET: no canary include"
[[ ! -e $INC/routes4-canary.conf ]] || lab_die "a canary file before the daemon started"
V4=${LAB_POP_V4[$POP]}
cat >"$BIRD_CONF" <<EOF
log "$P/bird.log" all;
timeformat log "%F %T.%3f";
router id $V4;
protocol device { scan time 10; }
include "$SNIPPET";
template bgp upstream {
  hold time 6; keepalive time 2; startup hold time 6;
  connect delay time 1; connect retry time 2; error wait time 1, 5;
}
protocol bgp up_v4 from upstream {
  local $V4 as ${LAB_POP_ASN[$POP]};
  neighbor ${LAB_UP_V4[$POP]} as $LAB_UP_ASN;
  ipv4 { import none; export filter anycast_healthd_canary_export; };
}
protocol bgp up_v6 from upstream {
  local ${LAB_POP_V6[$POP]} as ${LAB_POP_ASN[$POP]};
  neighbor ${LAB_UP_V6[$POP]} as $LAB_UP_ASN;
  ipv6 { import none; export filter anycast_healthd_export; };
}
protocol bgp up2_v4 from upstream {
  local $POP_UP2_V4 as ${LAB_POP_ASN[$POP]};
  neighbor $UP2_V4 as $UP2_ASN;
  ipv4 { import none; export filter anycast_healthd_export; };
}
EOF
chmod 0644 "$BIRD_CONF" "$SNIPPET" "$INC"/routes4.conf "$INC"/routes6.conf
SIDECAR_BIRD=${LAB_SIDECAR_BIRD:-bird}
"$SIDECAR_BIRD" -p -c "$BIRD_CONF" || lab_die "$SIDECAR_BIRD rejects $BIRD_CONF without canary files"
lab_spawn "$POP" "$POP/bird.out" "$SIDECAR_BIRD" -f -c "$BIRD_CONF" -s "${LAB_SIDECAR_SOCK[$POP]}" \
	-P "$P/bird.pid"
wait_for 'lab_sidecar_birdc '"$POP"' show status >/dev/null 2>&1' 10 ||
	lab_die "$POP's BIRD did not start (see $P/bird.out)"
lab_log "ok: 0. $POP's BIRD started before any canary file existed"

# The daemon.
CONF=$P/etc/anycast-healthd.json
FLAG=$P/flag-ok
mkdir -p "$P/etc/services.d"
cat >"$CONF" <<EOF
{ "pop": "$POP", "asn": ${LAB_POP_ASN[$POP]}, "backend": "bird",
  "plugin_dir": "$BUILD/checks",
  "allowed_prefixes": ["203.0.113.0/24", "2001:db8::/32"],
  "metrics": { "listen": "127.0.0.1:$METRICS_PORT" },
  "reconcile": { "interval": "2s" },
  "bird": { "socket": "${LAB_SIDECAR_SOCK[$POP]}",
            "include_v4": "$INC/routes4.conf", "include_v6": "$INC/routes6.conf" } }
EOF
cat >"$P/etc/services.d/canary.json" <<EOF
{ "prefixes": ["$P4"],
  "checks": [ { "plugin": "exec", "interval": "200ms", "timeout": "150ms", "rise": 1, "fall": 1,
                "options": { "command": ["/bin/sh", "-c", "test -e $FLAG"] } } ],
  "canary": { "neighbors": ["${LAB_UP_V4[$POP]}"], "time": "${TIME}s" } }
EOF
"$DAEMON" --check-config --config "$CONF" >/dev/null ||
	lab_die "--check-config rejected $CONF: $("$DAEMON" --check-config --config "$CONF" 2>&1)"
lab_start_sidecar_daemon "$POP" "$CONF"
wait_for '[[ -e $INC/routes4-canary.conf && -e $INC/routes6-canary.conf ]]' 10 ||
	lab_die "the daemon did not write the canary files"
grep -q '^# anycast-healthd: 0 IPv4 routes on trial' "$INC/routes4-canary.conf" ||
	lab_die "routes4-canary.conf: $(cat "$INC/routes4-canary.conf")"
lab_log "ok: 0. the daemon wrote both canary files empty at start"

lab_wait_sessions 30
wait_for 'birdc -s "$UP2_SOCK" show protocols | awk '\''$2 == "BGP" && $6 == "Established" { f = 1 } END { exit !f }'\''' 30 ||
	lab_die "up2's session to $POP not established: $(birdc -s "$UP2_SOCK" show protocols)"

at_up() { upstream_has "$P4" "$V4"; }
at_up2() {
	birdc -s "$UP2_SOCK" show route "$P4" | awk -v p="$P4" '$1 == p { f = 1 } END { exit !f }'
}
metric() { # NAME: its value (the first series)
	ip netns exec "$(lab_ns "$POP")" curl -s "http://127.0.0.1:$METRICS_PORT/metrics" |
		awk -v n="anycast_healthd_$1" '!f && $1 ~ "^"n"({|$)" { print $2; f = 1 }'
}
ms_since() { echo $((($(lab_now_us) - $1) / 1000)); }

# trial NAME: the flag is up; the route reaches "up" first, not up2 at half
# time, up2 about TIME after "up". Sets T_A (µs) and TRIAL_MS.
trial() {
	wait_for at_up 15 || lab_die "$1: $P4 never reached the canary upstream"
	T_A=$(lab_now_us)
	at_up2 && lab_die "$1: $P4 at up2 as soon as at the canary"
	grep -q "^route $P4 " "$INC/routes4-canary.conf" || lab_die "$1: $P4 not in routes4-canary.conf"
	grep -q "^route $P4 " "$INC/routes4.conf" && lab_die "$1: $P4 in routes4.conf while on trial"
	lab_sidecar_birdc "$POP" show route protocol anycast_healthd_canary4 | grep -q "^$P4" ||
		lab_die "$1: $P4 not in BIRD's anycast_healthd_canary4"
	wait_for '(($(lab_now_us) >= T_A + TIME * 500000))' $((TIME + 1))
	at_up2 && lab_die "$1: $P4 at up2 $(ms_since "$T_A") ms after the canary (time ${TIME}s)"
	local half
	half=$(ms_since "$T_A")
	wait_for at_up2 $((TIME + 6)) || lab_die "$1: $P4 never reached up2"
	TRIAL_MS=$(ms_since "$T_A")
	lab_log "ok: $1: $P4 at up (canary) at t_a, not at up2 at t_a+${half} ms, at up2 at t_a+${TRIAL_MS} ms (time ${TIME} s)"
	((TRIAL_MS >= TIME * 1000 - 1000)) || lab_die "$1: promoted after $TRIAL_MS ms, before the trial ended"
	((TRIAL_MS <= TIME * 1000 + 4000)) || lab_die "$1: promoted after $TRIAL_MS ms, long after the trial"
	at_up || lab_die "$1: the canary lost $P4 at the promotion"
	grep -q "^route $P4 " "$INC/routes4.conf" || lab_die "$1: $P4 not in routes4.conf after the trial"
	grep -q "^route $P4 " "$INC/routes4-canary.conf" && lab_die "$1: $P4 still in routes4-canary.conf"
	return 0
}

# 1. Checks up: a trial, then everyone.
touch "$FLAG"
trial "1. first announce"

# 2. Down, up again, and down during the new trial: up2 never hears it.
rm -f "$FLAG"
wait_for '! at_up && ! at_up2' 10 || lab_die "2. $P4 not withdrawn everywhere"
touch "$FLAG"
wait_for at_up 15 || lab_die "2. $P4 never reached the canary upstream again"
T_C=$(lab_now_us)
at_up2 && lab_die "2. $P4 at up2 at once"
wait_for '(($(lab_now_us) >= T_C + 1000000))' 3
rm -f "$FLAG"
wait_for '! at_up' 10 || lab_die "2. the canary kept $P4 after the check failed"
lab_log "ok: 2. check failed $(ms_since "$T_C") ms into the trial: withdrawn from the canary"
seen=0 samples=0
while (($(lab_now_us) < T_C + (TIME + 2) * 1000000)); do
	at_up2 && seen=1
	samples=$((samples + 1))
	sleep 0.1
done
((seen == 0)) || lab_die "2. up2 heard $P4 although its trial failed"
at_up && lab_die "2. the canary has $P4 again without a check up"
lab_log "ok: 2. up2 never saw $P4 ($samples samples until t+$((TIME + 2)) s)"

# 3. Recovery: a fresh full trial; reconciliation after it finds no drift.
touch "$FLAG"
trial "3. recovery"
passes0=$(metric reconcile_passes_total)
wait_for '(($(metric reconcile_passes_total) >= passes0 + 2))' 10 ||
	lab_die "3. no reconciliation pass after the promotion ($(metric reconcile_passes_total))"
drift=$(metric reconcile_drift_total)
[[ $drift == 0 ]] || lab_die "3. reconciliation found drift: $drift (see $P/healthd.log)"
! grep "bird: reconcile:" "$P/healthd.log" || lab_die "3. reconciliation judged a route wrong (above)"
lab_log "ok: 3. $(metric reconcile_passes_total) reconciliation passes, drift $drift, no reconcile line in the log"

# 4. On trial and the daemon killed: --withdraw-all empties the canary file.
rm -f "$FLAG"
wait_for '! at_up && ! at_up2' 10 || lab_die "4. $P4 not withdrawn everywhere"
touch "$FLAG"
wait_for at_up 15 || lab_die "4. $P4 never reached the canary upstream"
kill -KILL "${LAB_SIDECAR_DAEMON_PID[$POP]}"
wait "${LAB_SIDECAR_DAEMON_PID[$POP]}" 2>/dev/null || true
grep -q "^route $P4 " "$INC/routes4-canary.conf" || lab_die "4. $P4 not in the canary file"
ip netns exec "$(lab_ns "$POP")" "$DAEMON" --withdraw-all --config "$CONF" >>"$P/withdraw.log" 2>&1 ||
	lab_die "4. --withdraw-all failed: $(cat "$P/withdraw.log")"
grep -q "^route " "$INC/routes4-canary.conf" && lab_die "4. --withdraw-all left the canary file"
wait_for '! at_up' 10 || lab_die "4. the canary kept $P4 after --withdraw-all"
at_up2 && lab_die "4. up2 has $P4"
lab_log "ok: 4. --withdraw-all emptied routes4-canary.conf; the canary lost $P4"
lab_log "PASS test_canary_bird"
