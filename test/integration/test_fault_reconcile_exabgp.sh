#!/bin/bash
# test/integration/test_fault_reconcile_exabgp.sh: reconciliation in ExaBGP
# mode against the lab's upstream BIRD. pop1's ExaBGP runs the daemon and a
# second process, "injector", which sends ExaBGP whatever this test appends
# to a file: ExaBGP takes commands from every process alike. One service,
# flag, 203.0.113.92/32 (exec: test -e FILE), reconcile.interval 3s,
# stuck_after 2s. Shown:
#  1. a withdraw of our route injected by the other process: the upstream
#     loses it, and the daemon, reading ExaBGP's adj-rib-out, sends the
#     announce again within one interval; the drift is logged once and
#     counted ("done" alone would have left it gone);
#  2. the other process withdrawing it again and again: stuck within
#     interval + stuck_after + interval (status, the gauge, the on_change
#     hook once); the injections stop: confirmed again, the hook hears it.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD=${AHD_BUILD:-$LAB_ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
CTL="$BUILD/helper/anycast-healthctl"
[[ -x $DAEMON ]] || lab_die "build the daemon first ($DAEMON missing)"

POP=pop1
P4=203.0.113.92/32
INTERVAL=3

LAB_POPS=("$POP") # the upstream peers pop1 only
lab_init
lab_topology
lab_start_bird

P=$LAB_DIR/$POP
SOCK=$P/run/control.sock
METRICS_PORT=9289
mkdir -p "$P/etc/services.d" "$P/run"
chmod 0755 "$P" "$P/etc" "$P/etc/services.d"
# ExaBGP runs the daemon as its user, which must own where it writes
# (the control socket, the state file).
if ((${#LAB_EXABGP_USER_ENV[@]} == 0)) && id exabgp >/dev/null 2>&1; then
	chown exabgp: "$P/run"
fi
touch "$P/flag-ok" "$P/inject.cmd"
chmod 0666 "$P/inject.cmd"
cat >"$P/injector.sh" <<EOF
#!/bin/sh
exec tail -n +1 -F $P/inject.cmd
EOF
cat >"$P/hook.sh" <<EOF
#!/bin/sh
echo "\$PREFIXES|\$OLD_STATE|\$NEW_STATE|\$REASON" >> $P/hook.out
EOF
touch "$P/hook.out"
chmod 0755 "$P/injector.sh" "$P/hook.sh"
chmod 0666 "$P/hook.out"
cat >"$P/etc/anycast-healthd.json" <<EOF
{ "pop": "$POP", "asn": ${LAB_POP_ASN[$POP]}, "backend": "exabgp",
  "plugin_dir": "$BUILD/checks",
  "allowed_prefixes": ["203.0.113.0/24"],
  "state_file": "$P/run/state.json",
  "control": { "socket": "$SOCK" },
  "metrics": { "listen": "127.0.0.1:$METRICS_PORT" },
  "hooks": { "on_change": ["$P/hook.sh"] },
  "reconcile": { "interval": "${INTERVAL}s", "stuck_after": "2s" } }
EOF
cat >"$P/etc/services.d/flag.json" <<EOF
{ "prefixes": ["$P4"],
  "checks": [ { "plugin": "exec", "interval": "300ms", "timeout": "250ms", "rise": 1,
                "options": { "command": ["/bin/sh", "-c", "test -e $P/flag-ok"] } } ] }
EOF
chmod -R a+rX "$P/etc"
"$DAEMON" --check-config --config "$P/etc/anycast-healthd.json" >/dev/null ||
	lab_die "--check-config rejected the configuration"
LAB_EXABGP_EXTRA_CONF="process injector {
  run $P/injector.sh;
  encoder text;
}"
LAB_EXABGP_MORE_PROCESSES="injector "
lab_start_exabgp "$POP" "$DAEMON" --exabgp --config "$P/etc/anycast-healthd.json"
lab_wait_sessions 20
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
inject() { echo "$1" >>"$P/inject.cmd"; }
LOG=$P/exabgp.log

wait_for '[[ -S $SOCK ]] && [[ $(speaker_state "$P4") == confirmed ]]' 10 ||
	lab_die "$P4 never confirmed"
wait_for '[[ $(metric reconcile_passes_total) -ge 1 ]]' $((INTERVAL + 3)) || lab_die "no reconciliation pass"
[[ $(metric reconcile_drift_total) == 0 ]] || lab_die "drift before anything drifted"

# 1. Another process withdraws our route.
inject "withdraw route $P4 next-hop self"
t0=$(lab_now_us)
wait_for '! has4' 10 || lab_die "the upstream kept $P4 after the injected withdraw"
lab_log "ok: the upstream lost $P4 to the injected withdraw"
wait_for has4 $((INTERVAL + 3)) || lab_die "$P4 not announced again within one interval"
ms=$((($(lab_now_us) - t0) / 1000))
lab_log "ok: $P4 back at the upstream ${ms} ms after the injected withdraw (interval ${INTERVAL} s)"
((ms <= INTERVAL * 1000 + 2500)) || lab_die "back after $ms ms: more than one interval"
(($(grep -c "reconcile: $P4 missing from ExaBGP's adj-rib-out" "$LOG") == 1)) ||
	lab_die "the drift was not logged exactly once: $(grep -c "reconcile: $P4" "$LOG")"
wait_for '[[ $(metric reconcile_drift_total) -ge 1 ]]' 3 || lab_die "drift not counted"
wait_for '[[ $(speaker_state "$P4") == confirmed ]]' $((INTERVAL + 3)) ||
	lab_die "$P4 not confirmed after the repair: $(speaker_state "$P4")"
lab_log "ok: drift logged once, counted ($(metric reconcile_drift_total)), confirmed again"

# 2. The other process keeps withdrawing it: stuck.
(while :; do echo "withdraw route $P4 next-hop self" >>"$P/inject.cmd"; sleep 0.2; done) &
INJ=$!
t0=$(lab_now_us)
wait_for '[[ $(speaker_state "$P4") == stuck ]]' $((INTERVAL + 2 + INTERVAL + 3)) || {
	kill $INJ
	lab_die "$P4 never stuck: $(speaker_state "$P4")"
}
lab_log "ok: $P4 stuck $((($(lab_now_us) - t0) / 1000)) ms after the withdraws began"
[[ $(metric reconcile_stuck) == 1 ]] || { kill $INJ; lab_die "stuck gauge: $(metric reconcile_stuck)"; }
wait_for 'grep -q "^$P4|up|stuck|missing from ExaBGP" "$P/hook.out"' 5 || {
	kill $INJ
	lab_die "the hook did not hear stuck: $(cat "$P/hook.out")"
}
sleep $((INTERVAL * 2))
(($(grep -c "^$P4|up|stuck|" "$P/hook.out") == 1)) || { kill $INJ; lab_die "the stuck hook ran more than once"; }
kill $INJ
wait $INJ 2>/dev/null || true
wait_for '[[ $(speaker_state "$P4") == confirmed ]]' $((INTERVAL * 2 + 3)) ||
	lab_die "$P4 not confirmed once the withdraws stopped: $(speaker_state "$P4")"
wait_for has4 5 || lab_die "$P4 not back at the upstream"
[[ $(metric reconcile_stuck) == 0 ]] || lab_die "stuck gauge after recovery: $(metric reconcile_stuck)"
wait_for 'grep -q "^$P4|stuck|up|" "$P/hook.out"' 5 || lab_die "the hook did not hear the recovery"
lab_log "ok: the withdraws stopped: $P4 back, confirmed, gauge 0, the hook heard it"

lab_cleanup
lab_assert_clean
echo "test_fault_reconcile_exabgp: OK"
