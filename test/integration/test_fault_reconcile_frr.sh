#!/bin/bash
# test/integration/test_fault_reconcile_frr.sh: reconciliation against a
# real FRR 8.4 sidecar (pop4) and the lab's upstream BIRD. One service,
# flag, 203.0.113.93/32 with a prepend (exec: test -e FILE),
# reconcile.interval 3s, stuck_after 2s. Shown:
#  1. `no network` typed into vtysh: the upstream loses the route, and the
#     daemon, reading bgpd's table, asserts it again within one interval;
#     the drift is logged once and counted;
#  2. an operator (a loop) removing it again and again: stuck within
#     interval + stuck_after + interval (status, the gauge, the on_change
#     hook once); the loop stops: confirmed again, the hook hears it.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD=${AHD_BUILD:-$LAB_ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
CTL="$BUILD/helper/anycast-healthctl"
[[ -x $DAEMON ]] || lab_die "build the daemon first ($DAEMON missing)"
command -v vtysh >/dev/null || lab_die "missing tool: vtysh (package frr)"

POP=pop4
P4=203.0.113.93/32
INTERVAL=3

LAB_POPS=()
lab_init
lab_topology
lab_add_frr_pop "$POP"
lab_start_bird
lab_start_sidecar_frr "$POP"

P=$LAB_DIR/$POP
CONF=$P/etc/anycast-healthd.json
SOCK=$P/control.sock
METRICS_PORT=9290
ASN=${LAB_POP_ASN[$POP]}
mkdir -p "$P/etc/services.d"
touch "$P/flag-ok"
cat >"$P/hook.sh" <<EOF
#!/bin/sh
echo "\$PREFIXES|\$OLD_STATE|\$NEW_STATE|\$REASON" >> $P/hook.out
EOF
chmod 0755 "$P/hook.sh"
cat >"$CONF" <<EOF
{ "pop": "$POP", "asn": $ASN, "backend": "frr",
  "plugin_dir": "$BUILD/checks",
  "allowed_prefixes": ["203.0.113.0/24"],
  "state_file": "$P/state.json",
  "control": { "socket": "$SOCK" },
  "metrics": { "listen": "127.0.0.1:$METRICS_PORT" },
  "hooks": { "on_change": ["$P/hook.sh"] },
  "reconcile": { "interval": "${INTERVAL}s", "stuck_after": "2s" },
  "frr": { "socket_dir": "${LAB_FRR_DIR[$POP]}" } }
EOF
cat >"$P/etc/services.d/flag.json" <<EOF
{ "prefixes": ["$P4"],
  "checks": [ { "plugin": "exec", "interval": "300ms", "timeout": "250ms", "rise": 1,
                "options": { "command": ["/bin/sh", "-c", "test -e $P/flag-ok"] } } ],
  "announce": { "med": 93, "prepend": 1 } }
EOF
"$DAEMON" --check-config --config "$CONF" >/dev/null ||
	lab_die "--check-config rejected $CONF: $("$DAEMON" --check-config --config "$CONF" 2>&1)"
lab_wait_sessions 30
lab_start_frr_sidecar_daemon "$POP" "$CONF"
has4() { upstream_has "$P4" "${LAB_POP_V4[$POP]}"; }
wait_for has4 15 || lab_die "$P4 never reached the upstream"
lab_log "ok: $P4 at the upstream"

metric() { # NAME: its value (the first series)
	ip netns exec "$(lab_ns "$POP")" curl -s "http://127.0.0.1:$METRICS_PORT/metrics" |
		awk -v n="anycast_healthd_$1" '$1 ~ "^"n"({|$)" { print $2; exit }'
}
speaker_state() { # PREFIX: the SPEAKER column of status
	"$CTL" --socket "$SOCK" --json status flag |
		python3 -c 'import json,sys; d=json.load(sys.stdin); p=[x for s in d["services"] for x in s["prefixes"] if x["prefix"]==sys.argv[1]]; print(p[0]["speaker"] if p else "?")' "$1"
}
no_network() {
	lab_vtysh "$POP" -c "configure terminal" -c "router bgp $ASN" -c "address-family ipv4 unicast" \
		-c "no network $P4" -c "end" >/dev/null 2>&1 || true
}
LOG=$P/healthd.log

wait_for '[[ $(speaker_state "$P4") == confirmed ]]' 10 || lab_die "$P4 never confirmed"
wait_for '[[ $(metric reconcile_passes_total) -ge 1 ]]' $((INTERVAL + 3)) || lab_die "no reconciliation pass"
[[ $(metric reconcile_drift_total) == 0 ]] || lab_die "drift before anything drifted: $(grep reconcile "$LOG")"

# 1. `no network` typed into vtysh.
no_network
t0=$(lab_now_us)
wait_for '! has4' 10 || lab_die "the upstream kept $P4 after no network"
lab_log "ok: the upstream lost $P4 to 'no network' in vtysh"
wait_for has4 $((INTERVAL + 3)) || lab_die "$P4 not asserted again within one interval"
ms=$((($(lab_now_us) - t0) / 1000))
lab_log "ok: $P4 back at the upstream ${ms} ms after 'no network' (interval ${INTERVAL} s)"
((ms <= INTERVAL * 1000 + 2500)) || lab_die "back after $ms ms: more than one interval"
(($(grep -c "reconcile: $P4 missing from bgpd's table" "$LOG") == 1)) ||
	lab_die "the drift was not logged exactly once"
upstream_routes "$P4" | grep -q "$ASN $ASN\$" || lab_die "the repair lost the prepend: $(upstream_routes "$P4")"
wait_for '[[ $(metric reconcile_drift_total) -ge 1 ]]' 3 || lab_die "drift not counted"
wait_for '[[ $(speaker_state "$P4") == confirmed ]]' $((INTERVAL + 3)) ||
	lab_die "$P4 not confirmed after the repair: $(speaker_state "$P4")"
lab_log "ok: drift logged once, counted ($(metric reconcile_drift_total)), confirmed again, with its prepend"

# 2. Removed again and again: stuck.
(while :; do no_network; sleep 0.3; done) &
LOOP=$!
t0=$(lab_now_us)
wait_for '[[ $(speaker_state "$P4") == stuck ]]' $((INTERVAL + 2 + INTERVAL + 3)) || {
	kill $LOOP
	lab_die "$P4 never stuck: $(speaker_state "$P4")"
}
lab_log "ok: $P4 stuck $((($(lab_now_us) - t0) / 1000)) ms after the removals began"
[[ $(metric reconcile_stuck) == 1 ]] || { kill $LOOP; lab_die "stuck gauge: $(metric reconcile_stuck)"; }
wait_for 'grep -q "^$P4|up|stuck|missing from bgpd" "$P/hook.out"' 5 || {
	kill $LOOP
	lab_die "the hook did not hear stuck: $(cat "$P/hook.out" 2>/dev/null)"
}
sleep $((INTERVAL * 2))
(($(grep -c "^$P4|up|stuck|" "$P/hook.out") == 1)) || { kill $LOOP; lab_die "the stuck hook ran more than once"; }
kill $LOOP
wait $LOOP 2>/dev/null || true
wait_for '[[ $(speaker_state "$P4") == confirmed ]]' $((INTERVAL * 2 + 3)) ||
	lab_die "$P4 not confirmed once the removals stopped: $(speaker_state "$P4")"
wait_for has4 5 || lab_die "$P4 not back at the upstream"
[[ $(metric reconcile_stuck) == 0 ]] || lab_die "stuck gauge after recovery: $(metric reconcile_stuck)"
wait_for 'grep -q "^$P4|stuck|up|" "$P/hook.out"' 5 || lab_die "the hook did not hear the recovery"
lab_log "ok: the removals stopped: $P4 back, confirmed, gauge 0, the hook heard it"

lab_stop_sidecar_daemon "$POP"
lab_cleanup
lab_assert_clean
echo "test_fault_reconcile_frr: OK"
