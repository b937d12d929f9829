#!/bin/bash
# test/integration/test_fault_reconcile_bird.sh: reconciliation against a
# real BIRD sidecar (pop3) and the lab's upstream BIRD. One service, flag,
# 203.0.113.91/32 and 2001:db8:91::91/128 (exec: test -e FILE), with
# reconcile.interval 3s and stuck_after 2s. Shown:
#  1. our include file replaced by hand and `configure`d: the upstream
#     loses the route, and the daemon puts it back within one interval
#     (plus the configure), logs the drift once and counts it;
#  2. a BIRD that keeps refusing (the file replaced again, then BIRD's own
#     configuration broken so every configure is refused): the prefix
#     becomes stuck within interval + stuck_after + interval: status says
#     stuck, the gauge reads 1, the on_change hook hears NEW_STATE=stuck
#     once; BIRD's configuration mended, the retry puts it back, it is
#     confirmed and the hook hears OLD_STATE=stuck.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD=${AHD_BUILD:-$LAB_ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
CTL="$BUILD/helper/anycast-healthctl"
[[ -x $DAEMON ]] || lab_die "build the daemon first ($DAEMON missing)"
command -v nsenter >/dev/null || lab_die "missing tool: nsenter"

POP=pop3
P4=203.0.113.91/32
P6=2001:db8:91::91/128
INTERVAL=3

LAB_POPS=()
lab_init
lab_topology
lab_add_bird_pop "$POP"
lab_start_bird
lab_start_sidecar_bird "$POP"

P=$LAB_DIR/$POP
INC=$(lab_bird_inc "$POP")
CONF=$P/etc/anycast-healthd.json
SOCK=$P/control.sock
METRICS_PORT=9288
V4=${LAB_POP_V4[$POP]}
mkdir -p "$P/etc/services.d"
touch "$P/flag-ok"
cat >"$P/hook.sh" <<EOF
#!/bin/sh
echo "\$PREFIXES|\$OLD_STATE|\$NEW_STATE|\$REASON" >> $P/hook.out
EOF
chmod 0755 "$P/hook.sh"
cat >"$CONF" <<EOF
{ "pop": "$POP", "asn": ${LAB_POP_ASN[$POP]}, "backend": "bird",
  "plugin_dir": "$BUILD/checks",
  "allowed_prefixes": ["203.0.113.0/24", "2001:db8::/32"],
  "state_file": "$P/state.json",
  "control": { "socket": "$SOCK" },
  "metrics": { "listen": "127.0.0.1:$METRICS_PORT" },
  "hooks": { "on_change": ["$P/hook.sh"] },
  "reconcile": { "interval": "${INTERVAL}s", "stuck_after": "2s" },
  "bird": { "socket": "${LAB_SIDECAR_SOCK[$POP]}",
            "include_v4": "$INC/routes4.conf", "include_v6": "$INC/routes6.conf" } }
EOF
cat >"$P/etc/services.d/flag.json" <<EOF
{ "prefixes": ["$P4", "$P6"],
  "checks": [ { "plugin": "exec", "interval": "300ms", "timeout": "250ms", "rise": 1,
                "options": { "command": ["/bin/sh", "-c", "test -e $P/flag-ok"] } } ] }
EOF
"$DAEMON" --check-config --config "$CONF" >/dev/null ||
	lab_die "--check-config rejected $CONF: $("$DAEMON" --check-config --config "$CONF" 2>&1)"
lab_start_sidecar_daemon "$POP" "$CONF"
lab_wait_sessions
has4() { upstream_has "$P4" "$V4"; }
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

wait_for '[[ $(speaker_state "$P4") == confirmed ]]' 10 || lab_die "$P4 never confirmed: $(speaker_state "$P4")"
wait_for '[[ $(metric reconcile_passes_total) -ge 1 ]]' $((INTERVAL + 3)) ||
	lab_die "no reconciliation pass"
[[ $(metric reconcile_drift_total) == 0 ]] || lab_die "drift before anything drifted"

# 1. Our include file replaced by hand and configured: put back.
printf '# replaced by hand\n' >"$INC/routes4.conf.hand"
mv "$INC/routes4.conf.hand" "$INC/routes4.conf"
lab_sidecar_birdc "$POP" configure | grep -q Reconfigured || lab_die "BIRD refused the hand-made file"
t0=$(lab_now_us)
wait_for '! has4' 10 || lab_die "the upstream kept $P4 after the hand-made configure"
lab_log "ok: the upstream lost $P4 after the hand-made configure"
wait_for has4 $((INTERVAL + 3)) || lab_die "$P4 not put back within one interval"
ms=$((($(lab_now_us) - t0) / 1000))
lab_log "ok: $P4 back at the upstream ${ms} ms after the hand-made configure (interval ${INTERVAL} s)"
((ms <= INTERVAL * 1000 + 2500)) || lab_die "put back after $ms ms: more than one interval"
grep -q "reconcile: $P4 missing at BIRD" "$P/healthd.log" || lab_die "the drift was not logged"
(($(grep -c "reconcile: $P4 missing at BIRD" "$P/healthd.log") == 1)) || lab_die "the drift was logged more than once"
grep -q "route $P4 " "$INC/routes4.conf" || lab_die "the include file was not rewritten"
wait_for '[[ $(metric reconcile_drift_total) -ge 1 ]]' 3 || lab_die "drift not counted: $(metric reconcile_drift_total)"
wait_for '[[ $(speaker_state "$P4") == confirmed ]]' $((INTERVAL + 3)) ||
	lab_die "$P4 not confirmed after the repair: $(speaker_state "$P4")"
has6() { upstream_has "$P6" "${LAB_POP_V6[$POP]}"; }
has6 || lab_die "the IPv6 prefix suffered from the IPv4 repair"
lab_log "ok: drift logged once, counted ($(metric reconcile_drift_total)), confirmed again"

# 2. A BIRD that keeps refusing: our file replaced by hand and configured
# again, then BIRD's own configuration broken, so that every configure
# (the repair included) is refused: stuck; mended, the retry repairs it.
printf '# replaced by hand\n' >"$INC/routes4.conf.hand"
mv "$INC/routes4.conf.hand" "$INC/routes4.conf"
BIRD_CONF=$P/bird/bird.conf
cp "$BIRD_CONF" "$BIRD_CONF.good"
lab_sidecar_birdc "$POP" configure | grep -q Reconfigured || lab_die "BIRD refused the hand-made file"
echo 'this is not a BIRD configuration;' >>"$BIRD_CONF"
t0=$(lab_now_us)
wait_for '[[ $(speaker_state "$P4") == stuck ]]' $((INTERVAL + 2 + INTERVAL + 3)) ||
	lab_die "$P4 never stuck: $(speaker_state "$P4")"
lab_log "ok: $P4 stuck $((($(lab_now_us) - t0) / 1000)) ms after BIRD began refusing"
! has4 || lab_die "the upstream has $P4 though BIRD does not"
[[ $(metric reconcile_stuck) == 1 ]] || lab_die "stuck gauge: $(metric reconcile_stuck)"
wait_for 'grep -q "^$P4|up|stuck|missing at BIRD" "$P/hook.out"' 5 ||
	lab_die "the hook did not hear stuck: $(cat "$P/hook.out" 2>/dev/null)"
grep -q "reconcile: $P4 still missing at BIRD after 2 s of repairs: stuck" "$P/healthd.log" ||
	lab_die "stuck not logged"
c0=$(grep -c 'bird: configure #' "$P/healthd.log")
sleep $((INTERVAL * 3))
c=$(($(grep -c 'bird: configure #' "$P/healthd.log") - c0))
lab_log "ok: stuck for $((INTERVAL * 3)) s: $c configures (the refusal's backoff), the stuck hook once"
((c <= 8)) || lab_die "$c configures in $((INTERVAL * 3)) s while stuck"
(($(grep -c "^$P4|up|stuck|" "$P/hook.out") == 1)) || lab_die "the stuck hook ran more than once"
mv "$BIRD_CONF.good" "$BIRD_CONF"
wait_for has4 35 || lab_die "$P4 not back at the upstream once BIRD accepts again"
wait_for '[[ $(speaker_state "$P4") == confirmed ]]' $((INTERVAL + 3)) ||
	lab_die "$P4 not confirmed once BIRD holds it: $(speaker_state "$P4")"
[[ $(metric reconcile_stuck) == 0 ]] || lab_die "stuck gauge after recovery: $(metric reconcile_stuck)"
wait_for 'grep -q "^$P4|stuck|up|" "$P/hook.out"' 5 ||
	lab_die "the hook did not hear the recovery: $(cat "$P/hook.out")"
lab_log "ok: BIRD accepts again: $P4 back, confirmed, gauge 0, the hook heard it"

lab_stop_sidecar_daemon "$POP"
lab_cleanup
lab_assert_clean
echo "test_fault_reconcile_bird: OK"
