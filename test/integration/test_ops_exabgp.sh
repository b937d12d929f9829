#!/bin/bash
# test/integration/test_ops_exabgp.sh: operating the daemon in ExaBGP mode
# against the upstream BIRD, with pop2 (fake-healthd) announcing the same
# anycast prefix as a healthy alternative. Shown, at the upstream:
#   1. a degraded service (a "nagios" exec check exits 1 = WARNING) keeps its route,
#      now with our AS prepended 3 times, and the client's traffic moves to
#      pop2; back to pop1 when healthy again; the hook saw each transition;
#   2. a reload (SIGHUP) with one service changed sends updates only for
#      that service: the others' routes keep their age, no Deleted lines;
#   3. a manual disable (anycast-healthctl disable) survives a SIGKILL +
#      respawn: no announce, and the new daemon's status still says
#      disabled with the operator's reason;
#   4. a drain shows 65535:0 and the prepend at the upstream before the
#      withdraw, and status shows "draining" with time left;
# The manual actions go through the control socket with anycast-healthctl
# (as root; the daemon runs as ExaBGP's user and owns the socket).
#   5. systemd notify: WATCHDOG=1 keeps coming, STATUS= has the summary.
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD=${AHD_BUILD:-$LAB_ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
CTL="$BUILD/helper/anycast-healthctl"
[[ -x $DAEMON && -x $CTL ]] || lab_die "build the daemon first ($DAEMON, $CTL)"

DNS=$LAB_ANYCAST4/32
WEB=203.0.113.80/32
MAIL=203.0.113.25/32
A1=${LAB_POP_ASN[pop1]}

lab_init
lab_topology
lab_start_bird
lab_monitor_start

P1=$LAB_DIR/pop1
S=$P1/run # written by the daemon (runs as ExaBGP's user)
mkdir -p "$P1/etc/services.d" "$S"
chmod 0755 "$P1" "$P1/etc" "$P1/etc/services.d"
chown exabgp "$S" 2>/dev/null || chmod 0777 "$S"
echo 0 >"$S/dns-rc"
chmod 0644 "$S/dns-rc"
touch "$S/hooks.log"
chmod 0666 "$S/hooks.log"
SOCK=$S/control.sock # in $S: the daemon (user exabgp) creates it there

check() { # RC_FILE -> an exec check whose exit code is the file's content
	printf '{ "plugin": "exec", "interval": "200ms", "timeout": "150ms", "rise": 2, "fall": 2,
	    "options": { "command": ["/bin/sh", "-c", "exit $(cat %s)"],
	                 "convention": "nagios" } }' "$1"
}
echo 0 >"$S/ok-rc"
chmod 0644 "$S/ok-rc"

write_mail() { # MED
	cat >"$P1/etc/services.d/mail.json" <<-EOF
		{ "prefixes": ["$MAIL"], "checks": [ $(check "$S/ok-rc") ],
		  "announce": { "med": $1 } }
	EOF
	chmod 0644 "$P1/etc/services.d/mail.json"
}

cat >"$P1/etc/anycast-healthd.json" <<EOF
{ "pop": "pop1", "asn": $A1, "backend": "exabgp",
  "plugin_dir": "$BUILD/checks",
  "state_file": "$S/state.json",
  "control": { "socket": "$SOCK" },
  "allowed_prefixes": ["203.0.113.0/24"],
  "hooks": { "on_change": ["/bin/sh", "-c", "echo \"\$SERVICE \$OLD_STATE \$NEW_STATE \$POP\" >> $S/hooks.log"] },
  "exabgp": { "ack": true, "on_exit": "withdraw" } }
EOF
cat >"$P1/etc/services.d/dns.json" <<EOF
{ "prefixes": ["$DNS"], "checks": [ $(check "$S/dns-rc") ],
  "announce": { "communities": ["$A1:53"] },
  "drain": { "time": "3s" } }
EOF
cat >"$P1/etc/services.d/web.json" <<EOF
{ "prefixes": ["$WEB"], "checks": [ $(check "$S/ok-rc") ] }
EOF
write_mail 10
chmod 0644 "$P1"/etc/*.json "$P1"/etc/services.d/*.json
"$DAEMON" --check-config --config "$P1/etc/anycast-healthd.json" >/dev/null ||
	lab_die "--check-config rejected the test configuration"

# systemd's notify socket, stood in for by socat
lab_spawn pop1 pop1/notify.out socat -u "UNIX-RECV:$S/notify.sock,mode=0777" \
	"OPEN:$S/notify.log,creat,append"
wait_for '[[ -S $S/notify.sock ]]' 5 || lab_die "no notify socket"

lab_service_start pop1 pop1
lab_service_start pop2 pop2
lab_start_exabgp pop2 "$LAB_FAKE_PROCESS" --name pop2 --tcp "$LAB_ANYCAST4:$LAB_SVC_PORT" "$DNS"
lab_start_exabgp pop1 env NOTIFY_SOCKET="$S/notify.sock" \
	WATCHDOG_USEC=400000 "$DAEMON" --exabgp --config "$P1/etc/anycast-healthd.json"
lab_wait_sessions 20

daemon_pid() {
	pgrep -P "$(lab_exabgp_pid pop1)" -f "anycast-healthd --exabgp" | head -1
}
via1() { upstream_has "$1" "${LAB_POP_V4[pop1]}"; }
# shellcheck source=test/integration/healthctl.sh
source "$(dirname "$0")/healthctl.sh"
# shellcheck source=test/integration/bird_time.sh
source "$(dirname "$0")/bird_time.sh"
route_age() { # PREFIX: the upstream's "since" of pop1's route
	lab_birdc show route "$1" | awk -v nh="${LAB_POP_V4[pop1]}" '
		/unicast \[/ { since = $0; sub(/.*unicast \[[^ ]+ /, "", since); sub(/[] ].*/, "", since) }
		$0 ~ "via " nh { print since }'
}

wait_for "via1 $DNS && via1 $WEB && via1 $MAIL" 20 ||
	lab_die "pop1's prefixes did not reach the upstream: $(lab_birdc show route)"
wait_for "[[ \$(upstream_best_via $DNS) == ${LAB_POP_V4[pop1]} ]]" 10 || lab_die "pop1 not best"
[[ $(lab_client_get "$LAB_ANYCAST4") == pop1 ]] || lab_die "client not served by pop1"
lab_log "pop1 announces dns, web and mail; the client reaches pop1"

# 1. Degraded: WARNING -> prepended, traffic to pop2, route kept.
echo 1 >"$S/dns-rc"
wait_for "upstream_routes $DNS | grep -q '${LAB_POP_V4[pop1]} .* $A1 $A1 $A1 $A1\$'" 10 ||
	lab_die "degraded route not prepended: $(upstream_routes "$DNS")"
wait_for "[[ \$(upstream_best_via $DNS) == ${LAB_POP_V4[pop2]} ]]" 5 || lab_die "pop2 not best"
wait_for '[[ $(lab_client_get "$LAB_ANYCAST4") == pop2 ]]' 5 || lab_die "traffic did not move"
via1 "$DNS" || lab_die "the degraded PoP lost its route"
lab_birdc show route "$DNS" all | grep -q "($A1,53)" || lab_die "degraded lost its community"
svc dns 's["state"] == "degraded" and [p["as"] for p in s["prefixes"]] == ["degraded"]' ||
	lab_die "status does not show dns announced as degraded: $(ctl --json status dns)"
lab_log "degraded: pop1 keeps $DNS with path $A1 x4, the client now reaches pop2"
echo 0 >"$S/dns-rc"
wait_for "[[ \$(upstream_best_via $DNS) == ${LAB_POP_V4[pop1]} ]]" 10 ||
	lab_die "pop1 not best again after recovering"
wait_for '[[ $(lab_client_get "$LAB_ANYCAST4") == pop1 ]]' 5 || lab_die "traffic did not return"
wait_for "grep -q 'dns degraded up pop1' $S/hooks.log" 5 || lab_die "hook missed: $(cat "$S/hooks.log")"
grep -q "dns up degraded pop1" "$S/hooks.log" || lab_die "hook missed up -> degraded"
lab_log "recovered: pop1 best again; hooks saw up -> degraded -> up"

# 2. Reload with mail changed: only mail's route is updated.
wait_for "svc_confirmed dns && svc_confirmed web && svc_confirmed mail" 5 ||
	lab_die "routes not confirmed by ExaBGP before the reload: $(ctl status)"
age_dns=$(route_age "$DNS") age_web=$(route_age "$WEB")
[[ -n $age_dns && -n $age_web ]] || lab_die "no route age: $(lab_birdc show route)"
mark=$(lab_monitor_mark)
lines=$(wc -l <"$P1/exabgp.log")
write_mail 20
kill -HUP "$(daemon_pid)"
wait_for "lab_birdc show route $MAIL all | grep -q 'BGP.med: 20'" 10 ||
	lab_die "mail's new MED did not reach the upstream: $(lab_birdc show route "$MAIL" all)"
wait_for "tail -n +$((lines + 1)) $P1/exabgp.log | grep -q 'reloaded: '" 5 ||
	lab_die "no reload summary: $(tail -n +"$((lines + 1))" "$P1/exabgp.log")"
wait_for "svc_confirmed dns && svc_confirmed web && svc_confirmed mail" 5 ||
	lab_die "ExaBGP did not confirm the reload's commands: $(ctl status)"
# Everything the reload sent is acked; what follows checks that nothing
# else arrives at the upstream, so give a stray update time to get there.
sleep 1
same_time "$(route_age "$DNS")" "$age_dns" && same_time "$(route_age "$WEB")" "$age_web" ||
	lab_die "unchanged services' routes were touched: dns $age_dns -> $(route_age "$DNS"), web $age_web -> $(route_age "$WEB")"
deleted=$(tail -n +"$((mark + 1))" "$LAB_DIR/monitor.log" | grep "Deleted" || true)
[[ -z $deleted ]] || lab_die "route churn on reload: $deleted"
new=$(tail -n +"$((lines + 1))" "$P1/exabgp.log")
grep -q "reloaded: 2 services unchanged, 1 changed, 0 added, 0 removed" <<<"$new" ||
	lab_die "no reload summary: $new"
if grep -E "info: (announce|withdraw) .*service=(dns|web)" <<<"$new"; then
	lab_die "the reload sent updates for unchanged services"
fi
lab_log "reload: mail re-announced with MED 20; dns and web untouched (ages $age_dns, $age_web)"

# 2b. A bad reload (here through anycast-healthctl) is rejected and changes nothing.
echo '{ "prefixes": ["198.51.100.1/32"], "checks": [] }' >"$P1/etc/services.d/bad.json"
chmod 0644 "$P1/etc/services.d/bad.json"
lines=$(wc -l <"$P1/exabgp.log")
if out=$(ctl reload 2>&1); then
	lab_die "anycast-healthctl reload accepted a bad configuration: $out"
fi
grep -q "reload refused, the old configuration keeps running" <<<"$out" ||
	lab_die "reload said: $out"
wait_for "tail -n +$((lines + 1)) $P1/exabgp.log | grep -q 'reload of .* rejected'" 5 ||
	lab_die "bad reload not rejected"
rm "$P1/etc/services.d/bad.json"
via1 "$DNS" && via1 "$WEB" && via1 "$MAIL" || lab_die "a rejected reload changed routes"
svc mail 's["state"] == "up"' || lab_die "a rejected reload changed mail: $(ctl status mail)"
lab_log "bad reload rejected (${out%%$'\n'*}), old configuration still running"

# 3. Manual disable survives a crash and respawn.
out=$(ctl disable web --reason "maintenance CHG-7") || lab_die "disable failed: $out"
[[ $out == "web: disabled (maintenance CHG-7)" ]] || lab_die "disable said: $out"
wait_for "! via1 $WEB" 5 || lab_die "disable did not withdraw web"
svc web 's["state"] == "disabled" and s["disabled_reason"] == "maintenance CHG-7"' ||
	lab_die "status after disable: $(ctl status web)"
grep -q '"web"' "$S/state.json" || lab_die "state file lacks the disable: $(cat "$S/state.json")"
mark=$(lab_monitor_mark)
lines=$(wc -l <"$P1/exabgp.log")
pid1=$(daemon_pid)
kill -KILL "$pid1"
wait_for '[[ -n $(daemon_pid) && $(daemon_pid) != "$pid1" ]]' 10 || lab_die "no respawn"
# The new daemon answers on its socket (the old one's file was stale) and
# web's checks pass many times over (rise 2): it would be announced by now.
wait_for "svc web 's[\"health\"] == \"up\" and s[\"checks\"][0][\"results\"][\"ok\"] >= 6'" 10 ||
	lab_die "web's checks did not run after the respawn: $(ctl status web 2>&1)"
wait_for "svc_confirmed dns && svc_confirmed mail" 5 ||
	lab_die "healthy services not re-announced after the respawn: $(ctl status)"
wait_for "via1 $DNS && via1 $MAIL" 5 || lab_die "healthy services lost their routes on respawn"
svc web 's["state"] == "disabled" and s["disabled"] and s["disabled_reason"] == "maintenance CHG-7"
	and not any(p["announced"] for p in s["prefixes"])' ||
	lab_die "status after the respawn: $(ctl --json status web)"
ctl status web | grep -Eq "^web +disabled .*maintenance CHG-7" ||
	lab_die "status table after the respawn: $(ctl status web)"
if tail -n +"$((lines + 1))" "$P1/exabgp.log" | grep -E "info: announce .*service=web"; then
	lab_die "the respawned daemon announced the disabled web"
fi
via1 "$WEB" && lab_die "a disabled service came back after a crash"
tail -n +"$((mark + 1))" "$LAB_DIR/monitor.log" | grep -q "${WEB%/32} " &&
	lab_die "web reached the upstream's FIB after the restart"
lab_log "disable survived SIGKILL + respawn; web stays withdrawn, status: disabled (maintenance CHG-7)"
out=$(ctl enable web) || lab_die "enable failed: $out"
wait_for "via1 $WEB" 5 || lab_die "enable did not bring web back"
wait_for "svc web 's[\"state\"] == \"up\" and not s[\"disabled\"]'" 5 ||
	lab_die "status after enable: $(ctl status web)"
lab_log "enable: web announced again"

# 4. Drain: 65535:0 and the prepend first, then the withdraw.
t_start=$(lab_now_us)
out=$(ctl drain dns --reason deploy) || lab_die "drain failed: $out"
svc dns 's["state"] == "draining" and s["drain_remaining_usec"] > 0
	and [p["as"] for p in s["prefixes"]] == ["draining"]' ||
	lab_die "status not draining: $(ctl --json status dns)"
wait_for "lab_birdc show route $DNS all | grep -q '(65535,0)'" 3 ||
	lab_die "no GRACEFUL_SHUTDOWN at the upstream: $(lab_birdc show route "$DNS" all)"
via1 "$DNS" || lab_die "withdrawn before the drain time"
upstream_routes "$DNS" | grep -q "${LAB_POP_V4[pop1]} .* $A1 $A1 $A1 $A1\$" ||
	lab_die "draining route not prepended: $(upstream_routes "$DNS")"
wait_for "! via1 $DNS" 6 || lab_die "drain did not withdraw"
t_wd=$(lab_now_us)
((t_wd - t_start >= 2900000)) || lab_die "withdrawn $(lab_ms $((t_wd - t_start))) ms after the drain began"
lab_log "drain: 65535:0 + prepend at the upstream, withdrawn $(lab_ms $((t_wd - t_start))) ms after the drain began"
ctl enable dns >/dev/null || lab_die "enable after the drain failed"
wait_for "via1 $DNS" 5 || lab_die "dns not back after enable"

# 5. sd_notify: watchdog pings keep coming, STATUS= summarises.
wait_for "grep -q 'STATUS=3 up, 0 degraded, 0 down, 0 disabled' $S/notify.log" 5 ||
	lab_die "no STATUS summary: $(tr '\n' ' ' <"$S/notify.log" | tail -c 400)"
n1=$(grep -o "WATCHDOG=1" "$S/notify.log" | wc -l)
t0=$(lab_now_us)
wait_for "((\$(grep -o WATCHDOG=1 $S/notify.log | wc -l) > n1))" 2 ||
	lab_die "no watchdog pings in 2 s ($n1 before)"
lab_log "notify: STATUS summary seen, a watchdog ping $(lab_ms $(($(lab_now_us) - t0))) ms later"

grep -q "Traceback" "$P1/exabgp.log" && lab_die "ExaBGP logged a traceback"
lab_cleanup
lab_assert_clean
echo "test_ops_exabgp: OK"
