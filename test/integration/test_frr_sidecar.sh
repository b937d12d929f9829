#!/bin/bash
# test/integration/test_frr_sidecar.sh: anycast-healthd --frr as the sidecar
# of a real FRR 8.4 (pop4, AS 65004: zebra, staticd, bgpd with a run
# directory of their own) peering the lab's upstream BIRD (AS 65000). Only
# pop4 is built. Services in pop4:
#   web  203.0.113.81/32 2001:db8:81::/64  exec: up file -> OK, degraded file
#        -> WARNING (nagios convention); MED 77, community, large community,
#        prepend 2; degraded: MED 500, community 65004:666 (prepend 2 + 3)
#   dns  203.0.113.53/32 2001:db8:53::53/128  tcp on the lab service
# Shown: prefixes reach the upstream after rise with their attributes; a
# stopped service's prefixes leave; degraded is one re-announce with the
# other attributes (the upstream never loses the route); bgpd restarted ->
# everything re-asserted; SIGTERM withdraws everything; --withdraw-all
# empties what we put into FRR after a SIGKILL.
#
# wait_for and ms_until take conditions in single quotes on purpose.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD=${AHD_BUILD:-$LAB_ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
[[ -x $DAEMON ]] || lab_die "build the daemon first ($DAEMON missing)"
command -v vtysh >/dev/null || lab_die "missing tool: vtysh (package frr)"

POP=pop4
INTERVAL_MS=200
RISE=2
FALL=2
WEB4=203.0.113.81/32
WEB6=2001:db8:81::/64
DNS4=$LAB_ANYCAST4/32
DNS6=$LAB_ANYCAST6/128

LAB_POPS=() # no ExaBGP PoPs: the upstream peers pop4 only
lab_init
lab_topology
lab_add_frr_pop "$POP"
lab_start_bird
lab_start_sidecar_frr "$POP"

P=$LAB_DIR/$POP
CONF=$P/etc/anycast-healthd.json
V4=${LAB_POP_V4[$POP]}
V6=${LAB_POP_V6[$POP]}
mkdir -p "$P/etc/services.d"
touch "$P/web-up"

check="\"interval\": \"${INTERVAL_MS}ms\", \"rise\": $RISE, \"fall\": $FALL"
cat >"$CONF" <<EOF
{ "pop": "$POP", "asn": ${LAB_POP_ASN[$POP]}, "backend": "frr",
  "plugin_dir": "$BUILD/checks",
  "allowed_prefixes": ["203.0.113.0/24", "2001:db8::/32"],
  "frr": { "socket_dir": "${LAB_FRR_DIR[$POP]}", "on_exit": "withdraw", "coalesce": "20ms" } }
EOF
cat >"$P/etc/services.d/web.json" <<EOF
{ "prefixes": ["$WEB4", "$WEB6"],
  "checks": [ { "plugin": "exec", $check, "timeout": "150ms",
                "options": { "convention": "nagios", "command": ["/bin/sh", "-c",
                  "test -e $P/web-up || exit 2; test -e $P/web-degraded && exit 1; exit 0"] } } ],
  "announce": { "med": 77, "communities": ["65004:81"],
                "large_communities": ["65004:0:81"], "prepend": 2 },
  "degraded": { "med": 500, "communities": ["65004:666"] } }
EOF
cat >"$P/etc/services.d/dns.json" <<EOF
{ "prefixes": ["$DNS4", "$DNS6"],
  "checks": [ { "plugin": "tcp", $check, "timeout": "150ms",
                "options": { "host": "$LAB_ANYCAST4", "port": $LAB_SVC_PORT } } ],
  "announce": { "med": 100 } }
EOF
"$DAEMON" --check-config --config "$CONF" >/dev/null ||
	lab_die "--check-config rejected $CONF: $("$DAEMON" --check-config --config "$CONF" 2>&1)"

has() {
	if [[ $1 == *:* ]]; then upstream_has "$1" "$V6"; else upstream_has "$1" "$V4"; fi
}
count4() { upstream_count "${POP}_v4"; }
count6() { upstream_count "${POP}_v6"; }
ms_until() {
	local t0
	t0=$(lab_now_us)
	wait_for "$1" "$2" || return 1
	lab_ms $(($(lab_now_us) - t0))
}
# ours: lines of FRR's running config that are ours (network statements
# with our route-maps, our route-maps, blackhole statics).
ours() {
	lab_vtysh "$POP" -c "show running-config" |
		grep -E 'route-map ahd-|^ip route .* blackhole|^ipv6 route .* blackhole' || true
}

lab_service_start "$POP" "$POP"
lab_wait_sessions 30

# 1. After rise, all four prefixes reach the upstream with their attributes.
t0=$(lab_now_us)
lab_start_frr_sidecar_daemon "$POP" "$CONF"
DPID=${LAB_SIDECAR_DAEMON_PID[$POP]}
wait_for "has $WEB4 && has $WEB6 && has $DNS4 && has $DNS6" 15 ||
	lab_die "upstream did not learn the prefixes: $(lab_birdc show route); FRR: $(ours)"
t=$(($(lab_now_us) - t0))
lab_log "all four prefixes at the upstream $(lab_ms "$t") ms after the daemon started (rise $RISE x ${INTERVAL_MS} ms)"
((t >= (RISE - 1) * INTERVAL_MS * 1000)) || lab_die "announced before rise"
for p in "$WEB4" "$WEB6"; do
	all=$(lab_birdc show route "$p" all)
	grep -q 'BGP.as_path: 65004 65004 65004$' <<<"$all" || lab_die "$p: prepend missing: $all"
	grep -q 'BGP.med: 77$' <<<"$all" || lab_die "$p: MED missing: $all"
	grep -q 'BGP.community: (65004,81)$' <<<"$all" || lab_die "$p: community missing: $all"
	grep -q 'BGP.large_community: (65004, 0, 81)$' <<<"$all" || lab_die "$p: large community missing: $all"
done
all=$(lab_birdc show route "$DNS6" all)
{ grep -q 'BGP.as_path: 65004$' <<<"$all" && grep -q 'BGP.med: 100$' <<<"$all"; } ||
	lab_die "$DNS6: attributes wrong: $all"
lab_log "attributes at the upstream: path 65004 65004 65004, MED 77, (65004,81), (65004, 0, 81)"
lab_log "FRR holds: $(ours | tr '\n' ';')"

# 2. dns's service stops: its prefixes leave, web's stay.
t0=$(lab_now_us)
lab_service_stop "$POP"
wait_for "! has $DNS4 && ! has $DNS6" 10 || lab_die "dns's prefixes not withdrawn"
lab_log "dns service stopped -> upstream lost both prefixes after $(lab_ms $(($(lab_now_us) - t0))) ms"
{ has "$WEB4" && has "$WEB6"; } || lab_die "web was withdrawn with dns"
ours | grep -q "${DNS4%/*}" && lab_die "FRR still holds dns: $(ours)"
lab_service_start "$POP" "$POP"
t=$(ms_until "has $DNS4 && has $DNS6" 10) || lab_die "dns not re-announced"
lab_log "dns service back -> announced again in $t ms"

# 3. web degraded: one re-announce with the degraded attributes; the
# upstream's kernel route is never deleted meanwhile.
lab_monitor_start
mark=$(lab_monitor_mark)
touch "$P/web-degraded"
t=$(ms_until 'lab_birdc show route '"$WEB4"' all | grep -q "BGP.med: 500$" && lab_birdc show route '"$WEB6"' all | grep -q "BGP.med: 500$"' 10) ||
	lab_die "degraded attributes did not arrive: $(lab_birdc show route "$WEB4" all)"
all=$(lab_birdc show route "$WEB4" all)
grep -q 'BGP.community: (65004,666)$' <<<"$all" || lab_die "degraded community missing: $all"
# degraded starts from announce: prepend 2 + 3, the large community kept
grep -q 'BGP.as_path: 65004 65004 65004 65004 65004 65004$' <<<"$all" ||
	lab_die "degraded prepend (announce's + 3) missing: $all"
sleep 0.3
if tail -n +"$((mark + 1))" "$LAB_DIR/monitor.log" | grep -E "^\[[^]]*\] Deleted .*(${WEB4%/*}|${WEB6%/*})" >&2; then
	lab_die "the upstream's route was deleted on the switch to degraded (withdraw + announce)"
fi
grep -c 'frr: batch #.*: .* 2 network, 0 no network' "$P/healthd.log" >/dev/null ||
	lab_die "the switch was not one batch of two network statements"
lab_log "web degraded -> MED 500, (65004,666) at the upstream in $t ms, no withdraw on the way"
rm "$P/web-degraded"
wait_for 'lab_birdc show route '"$WEB4"' all | grep -q "BGP.med: 77$"' 10 || lab_die "web not back to its attributes"

# 4. bgpd restarted: it forgets our statements; the daemon re-asserts all.
t0=$(lab_now_us)
lab_restart_frr_daemon "$POP" bgpd
lab_wait_sessions 30
t=$(ms_until "has $WEB4 && has $WEB6 && has $DNS4 && has $DNS6" 20) ||
	lab_die "not re-asserted after bgpd's restart: $(lab_birdc show route); FRR: $(ours)"
all=$(lab_birdc show route "$WEB6" all)
grep -q 'BGP.med: 77$' <<<"$all" || lab_die "attributes lost in the re-assert: $all"
grep -q 'frr: new connection to bgpd: asserting all' "$P/healthd.log" || lab_die "no re-assert logged"
lab_log "bgpd restarted -> everything back at the upstream $(lab_ms $(($(lab_now_us) - t0))) ms after the restart began"
kill -0 "$DPID" || lab_die "the daemon died"

# 5. SIGTERM: a clean stop withdraws everything and leaves nothing of ours.
t0=$(lab_now_us)
lab_stop_sidecar_daemon "$POP"
t=$(ms_until '[[ $(count4) == 0 && $(count6) == 0 ]]' 10) || lab_die "SIGTERM did not withdraw everything"
lab_log "SIGTERM -> all routes withdrawn at the upstream in $t ms"
[[ -z $(ours | grep -v '^route-map') ]] || lab_die "FRR still holds after SIGTERM: $(ours)"
[[ -z $(ours) ]] || lab_die "route-maps left after SIGTERM: $(ours)"

# 6. SIGKILL leaves everything in FRR; --withdraw-all empties it.
lab_start_frr_sidecar_daemon "$POP" "$CONF"
DPID=${LAB_SIDECAR_DAEMON_PID[$POP]}
wait_for "has $WEB4 && has $WEB6 && has $DNS4 && has $DNS6" 15 || lab_die "not announced again"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
sleep 0.5
[[ $(count4) == 2 && $(count6) == 2 ]] || lab_die "routes changed on SIGKILL alone"
t0=$(lab_now_us)
SERVICE_RESULT=signal ip netns exec "$(lab_ns "$POP")" "$DAEMON" --withdraw-all --frr \
	--config "$CONF" >>"$LAB_DIR/stop-action.log" 2>&1 ||
	lab_die "--withdraw-all failed: $(cat "$LAB_DIR/stop-action.log")"
wait_for '[[ $(count4) == 0 && $(count6) == 0 ]]' 10 ||
	lab_die "--withdraw-all did not withdraw everything: $(lab_birdc show route)"
[[ -z $(ours) ]] || lab_die "--withdraw-all left in FRR: $(ours)"
lab_log "SIGKILL + --withdraw-all -> nothing of ours in FRR, upstream empty after $(lab_ms $(($(lab_now_us) - t0))) ms"
lab_log "$(grep -m1 'withdraw-all: removed' "$LAB_DIR/stop-action.log")"

lab_cleanup
lab_assert_clean
echo "test_frr_sidecar: OK"
