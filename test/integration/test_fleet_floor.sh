#!/bin/bash
# test/integration/test_fleet_floor.sh: fleet mode against a real 3-member
# etcd cluster (TLS, client certificates) and three real PoPs announcing
# 203.0.113.53/32 to the lab's upstream BIRD: pop1 runs ExaBGP with the
# daemon as its process, pop2 and pop3 run BIRD with the daemon as sidecar.
# The service "dns" has floor.min_pops 1 and degraded.prepend 2; its one
# check is `test -e POP/ok` (interval 5 s, rise 1, fall 1), driven by
# `anycast-healthctl check dns` so every decision has a known start. Lease
# 5 s. pop1 and pop2 keep on_unreachable "local", pop3 has "hold". Shown:
#  1. the PoPs failing one by one withdraw until the last, pop3, which is
#     held: the upstream keeps one path, pop3's, prepended twice; status,
#     the fleet table, the on_change hook and the metric say held, and why;
#  2. pop1 recovering releases the hold: pop3 withdraws only after
#     pop1's route is there, the upstream's FIB never loses the prefix;
#  3. the two last PoPs failing at the same instant (RACE_REPS times,
#     default 20): exactly one path left each time, never none;
#  4. a disable that would leave no PoP announcing is refused (exit 1) and
#     done with --force; another PoP's disable is not refused;
#  5. pop3's daemon SIGKILLed: its key leaves etcd and the others' view
#     within the lease;
#  6. etcd losing its quorum: every view becomes not ready and
#     fleet_unreachable_total rises; pop1 ("local") withdraws as if alone,
#     pop3 ("hold") holds although its checks failed; quorum back: ready
#     again, pop3's hold asked of etcd and released;
#  7. a daemon with a client certificate of another CA never becomes
#     ready, and its key never appears.
# Prints: the hold decided (check started -> hook ran) in ms, etcd's answer
# to a floor question (metric) in ms, lease expiry seen at the others in s,
# the race's repetitions and how many etcd refused (both asked at once).
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=test/integration/etcd.sh
source "$(dirname "$0")/etcd.sh"

BUILD=${AHD_BUILD:-$LAB_ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
CTL="$BUILD/helper/anycast-healthctl"
[[ -x $DAEMON && -x $CTL ]] || lab_die "build the daemon first ($DAEMON missing)"
RACE_REPS=${RACE_REPS:-20}
LEASE=5
PFX=$LAB_ANYCAST4/32
METRICS_PORT=9293

LAB_POPS=(pop1)
lab_init
lab_topology
lab_add_bird_pop pop2
lab_add_bird_pop pop3
lab_add_etcd 3
lab_etcd_tls_init
lab_start_etcd 3
lab_start_bird
lab_monitor_start

# pop_config POP BACKEND ON_UNREACHABLE [CERT_NAME]: POP's daemon file and
# service file under $LAB_DIR/POP (run/ holds what the daemon writes).
pop_config() {
	local pop=$1 backend=$2 unreach=$3 cert_name=${4:-$1} p="$LAB_DIR/$1" cert key speaker
	read -r cert key < <(lab_etcd_client_cert "$cert_name")
	mkdir -p "$p/etc/services.d" "$p/run"
	chmod 0755 "$p" "$p/etc" "$p/etc/services.d"
	if [[ $backend == exabgp ]]; then
		speaker='"exabgp": { "ack": true, "on_exit": "withdraw" }'
		# ExaBGP runs the daemon as its user: it owns what the daemon writes.
		if ((${#LAB_EXABGP_USER_ENV[@]} == 0)) && id exabgp >/dev/null 2>&1; then
			chown exabgp: "$p/run"
		fi
	else
		local inc
		inc=$(lab_bird_inc "$pop")
		speaker="\"bird\": { \"socket\": \"${LAB_SIDECAR_SOCK[$pop]}\", \"on_exit\": \"withdraw\",
		  \"include_v4\": \"$inc/routes4.conf\", \"include_v6\": \"$inc/routes6.conf\" }"
	fi
	cat >"$p/hook.sh" <<-EOF
		#!/bin/sh
		echo "\$(date +%s%6N)|\$OLD_STATE|\$NEW_STATE|\$REASON" >> $p/run/hook.out
	EOF
	chmod 0755 "$p/hook.sh"
	cat >"$p/etc/anycast-healthd.json" <<-EOF
		{ "pop": "$pop", "asn": ${LAB_POP_ASN[$pop]}, "backend": "$backend",
		  "plugin_dir": "$BUILD/checks",
		  "allowed_prefixes": ["203.0.113.0/24"],
		  "state_file": "$p/run/state.json",
		  "control": { "socket": "$p/run/control.sock" },
		  "metrics": { "listen": "127.0.0.1:$METRICS_PORT" },
		  "hooks": { "on_change": ["$p/hook.sh"] },
		  $speaker,
		  "fleet": { "etcd": $LAB_ETCD_ENDPOINTS_JSON, "lease": "${LEASE}s",
		             "on_unreachable": "$unreach",
		             "tls": { "ca_file": "$LAB_ETCD_CA", "cert_file": "$cert", "key_file": "$key" } } }
	EOF
	cat >"$p/etc/services.d/dns.json" <<-EOF
		{ "prefixes": ["$PFX"],
		  "checks": [ { "plugin": "exec", "interval": "5s", "timeout": "1s", "rise": 1, "fall": 1,
		                "options": { "command": ["/bin/sh", "-c", "test -e $p/ok"] } } ],
		  "floor": { "min_pops": 1 },
		  "degraded": { "prepend": 2 } }
	EOF
	chmod -R a+rX "$p/etc"
	touch "$p/ok"
	chmod 0644 "$p/ok"
	"$DAEMON" --check-config --config "$p/etc/anycast-healthd.json" >/dev/null ||
		lab_die "--check-config rejected $pop's configuration: $("$DAEMON" --check-config --config "$p/etc/anycast-healthd.json" 2>&1)"
}

start_pop() {
	case $1 in
	pop1) lab_start_exabgp pop1 "$DAEMON" --exabgp --config "$LAB_DIR/pop1/etc/anycast-healthd.json" ;;
	*) lab_start_sidecar_daemon "$1" "$LAB_DIR/$1/etc/anycast-healthd.json" ;;
	esac
}

pop_config pop1 exabgp local
pop_config pop2 bird local
pop_config pop3 bird hold
lab_start_sidecar_bird pop2
lab_start_sidecar_bird pop3
for pop in pop1 pop2 pop3; do start_pop "$pop"; done
lab_wait_sessions 30

ctlp() { # POP ARGS...: anycast-healthctl against POP's daemon
	local pop=$1
	shift
	"$CTL" --socket "$LAB_DIR/$pop/run/control.sock" "$@"
}
# jq_ok POP VERB EXPR: the Python expression EXPR holds for the --json reply
# d of `VERB dns` at POP (s: its first service).
jq_ok() {
	local j
	j=$(ctlp "$1" --json "$2" dns 2>/dev/null) || return 1
	python3 -c 'import json, sys
d = json.loads(sys.argv[1]); s = d["services"][0] if d.get("services") else {}
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$j" "$3"
}
state_is() { jq_ok "$1" status "s['state'] == '$2'"; }
announced() { jq_ok "$1" status "all(p['announced'] for p in s['prefixes'])"; }
# view_is POP N: POP's fleet view is ready and counts N PoPs announcing dns
# (the metric is there only while the view is ready).
view_is() { [[ $(metric "$1" fleet_pops_announcing) == "$2" ]]; }
metric() { # POP NAME [LABEL_MATCH]: the value of the first matching series
	local text
	text=$(ip netns exec "$(lab_ns "$1")" curl -s "http://127.0.0.1:$METRICS_PORT/metrics") || return 1
	awk -v n="anycast_healthd_$2" -v m="${3:-}" '$1 ~ "^"n"({|$)" && index($1, m) { print $2; exit }' <<<"$text"
}
# etcd_keys PREFIX: the keys etcd holds under PREFIX (of the fleet's), one a line.
etcd_keys() { lab_etcdctl get --prefix "/anycast-healthd/services/$1" --keys-only | grep . || true; }
refused_at() { local v; v=$(metric "$1" fleet_floor_answers_total 'answer="refused"'); echo "${v:-0}"; }
# paths: the upstream's paths to the prefix, "NEXT_HOP AS_PATH" a line, sorted.
paths() { { upstream_routes "$PFX" || true; } | awk '{ $1 = ""; $3 = ""; print }' | tr -s ' ' | sed 's/^ //' | sort; }
npaths() { paths | grep -c . || true; }
only_via() { [[ $(paths) == "${LAB_POP_V4[$1]} $2" ]]; }
asp() { # POP [PREPENDS]: the AS path POP's route shows at the upstream
	local a=${LAB_POP_ASN[$1]} i out=${LAB_POP_ASN[$1]}
	for ((i = 0; i < ${2:-0}; i++)); do out+=" $a"; done
	echo "$out"
}
fail_pop() { rm -f "$LAB_DIR/$1/ok"; }
heal_pop() { touch "$LAB_DIR/$1/ok"; }
check() { ctlp "$1" check dns >/dev/null || lab_die "$1: check dns refused"; }
# deleted_since MARK: the upstream's kernel deleted the prefix after MARK.
deleted_since() { tail -n +"$(($1 + 1))" "$LAB_DIR/monitor.log" | grep -q "Deleted $LAB_ANYCAST4 "; }
hook_last() { tail -n 1 "$LAB_DIR/$1/run/hook.out" 2>/dev/null; }
dump() {
	local pop
	lab_log "upstream paths: $(paths | tr '\n' ';')"
	for pop in pop1 pop2 pop3; do
		lab_log "$pop: $(ctlp "$pop" status dns 2>&1 | head -3 | tail -1)"
	done
	ctlp pop1 fleet >&2 || true
}
die() {
	dump
	lab_die "$*"
}

wait_for '[[ $(npaths) == 3 ]]' 30 || die "the three PoPs never all reached the upstream"
for pop in pop1 pop2 pop3; do
	wait_for "view_is $pop 3" 20 || die "$pop's fleet view never showed 3 PoPs announcing"
done
keys=$(etcd_keys dns/ | grep -c . || true)
((keys == 3)) || die "etcd holds $keys keys for dns, not 3"
lab_log "ok: 3 PoPs announce $PFX, every view ready and counting 3, 3 keys in etcd"

# 0. How fast a change in etcd reaches a view: a key put by hand (a PoP
# "ghost" announcing), then deleted, seen at pop1, 5 times each.
ghost='{"announced": true, "held": false, "state": "up", "since": 1, "reason": "by hand"}'
watch_us=()
for ((i = 0; i < 5; i++)); do
	t0=$(lab_now_us)
	lab_etcdctl put /anycast-healthd/services/dns/ghost "$ghost" >/dev/null
	wait_for 'view_is pop1 4' 5 || die "pop1's view never saw the key put by hand"
	watch_us+=($(($(lab_now_us) - t0)))
	t0=$(lab_now_us)
	lab_etcdctl del /anycast-healthd/services/dns/ghost >/dev/null
	wait_for 'view_is pop1 3' 5 || die "pop1's view never saw the key deleted by hand"
	watch_us+=($(($(lab_now_us) - t0)))
done
watch_max=$(lab_ms "$(printf '%s\n' "${watch_us[@]}" | sort -n | tail -1)")
lab_log "ok: etcd put/delete -> pop1's view (etcdctl's own ~100 ms included): max $watch_max ms of ${#watch_us[@]}: $(for u in "${watch_us[@]}"; do printf '%s ' "$(lab_ms "$u")"; done)"

# 1. One by one: pop1 and pop2 withdraw (others still announce), pop3 is held.
fail_pop pop1
check pop1
wait_for 'state_is pop1 down && ! announced pop1 && [[ $(npaths) == 2 ]]' 10 ||
	die "pop1 did not withdraw with two others announcing"
wait_for 'view_is pop3 2 && view_is pop2 2' 10 || die "the views did not count pop1 out"
fail_pop pop2
check pop2
wait_for 'state_is pop2 down && only_via pop3 "$(asp pop3)"' 10 ||
	die "pop2 did not withdraw with pop3 announcing"
answer_ms=$(awk -v s="$(metric pop2 fleet_floor_last_answer_seconds)" 'BEGIN { printf "%.1f", s * 1000 }')
granted=$(metric pop2 fleet_floor_answers_total 'answer="granted"')
((${granted:-0} >= 1)) || die "pop2 withdrew without etcd granting it (granted=$granted)"
wait_for 'view_is pop3 1' 10 || die "pop3's view did not count pop2 out"
fail_pop pop3
t0=$(lab_now_us)
check pop3
wait_for '[[ $(hook_last pop3) =~ ^[0-9]+\|[a-z]+\|held\| ]]' 10 || die "pop3's hook never heard NEW_STATE=held"
t_hook=$(hook_last pop3)
hold_ms=$(lab_ms $((${t_hook%%|*} - t0)))
wait_for 'state_is pop3 held' 5 || die "pop3's status does not say held"
jq_ok pop3 status "'held by the floor: withdrawing would leave 0 PoPs announcing (min_pops 1)' in s['reason']" ||
	die "pop3's reason does not explain the hold: $(ctlp pop3 --json status dns)"
wait_for 'only_via pop3 "$(asp pop3 2)"' 10 || die "the upstream does not keep pop3's path prepended twice"
[[ $(metric pop3 service_held) == 1 ]] || die "service_held is not 1 at pop3"
[[ $(ctlp pop1 fleet dns) =~ $'\n'"  pop3 "+"held "+"held " ]] || die "pop1's fleet table does not show pop3 held"
deleted_since 0 && die "the upstream's FIB lost $PFX while PoPs withdrew one by one"
lab_log "ok: pop1, pop2 withdrew; pop3 held (upstream: $(paths)); hold decided in $hold_ms ms (check started -> hook); etcd answered pop2's floor question in $answer_ms ms"

# 2. pop1 recovers: pop3's hold is released, never a gap at the upstream.
mark=$(lab_monitor_mark)
heal_pop pop1
check pop1
wait_for 'state_is pop3 down && only_via pop1 "$(asp pop1)"' 15 ||
	die "pop1's return did not release pop3's hold"
jq_ok pop3 status "s['reason'].startswith('floor released')" ||
	die "pop3's reason does not say the floor released it: $(ctlp pop3 --json status dns)"
[[ $(metric pop3 service_held) == 0 ]] || die "service_held still 1 at pop3"
deleted_since "$mark" && die "the upstream's FIB lost $PFX while the hold was released"
lab_log "ok: pop1 back, pop3's hold released: upstream $(paths), no gap in the FIB"

# 3. The race: pop1 out, pop2 and pop3 fail at the same instant.
heal_pop pop2
heal_pop pop3
check pop2
check pop3
wait_for '[[ $(npaths) == 3 ]]' 15 || die "pop2 and pop3 did not announce again"
fail_pop pop1
check pop1
wait_for 'state_is pop1 down && [[ $(npaths) == 2 ]] && view_is pop2 2 && view_is pop3 2' 15 ||
	die "pop1 did not withdraw before the race"
refused0=$(($(refused_at pop2) + $(refused_at pop3)))
mark=$(lab_monitor_mark)
# checks_at_once POP...: start dns's checks at every POP at the same instant.
checks_at_once() {
	local pop pids=() pid
	for pop in "$@"; do
		ctlp "$pop" check dns >/dev/null &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid" || return 1; done
}
held2=0 held3=0 race_us=()
for ((rep = 1; rep <= RACE_REPS; rep++)); do
	t0=$(lab_now_us)
	fail_pop pop2
	fail_pop pop3
	checks_at_once pop2 pop3 || die "race $rep: a check was refused"
	wait_for '{ state_is pop2 held && state_is pop3 down; } || { state_is pop3 held && state_is pop2 down; }' 10 ||
		die "race $rep: not exactly one of pop2, pop3 held"
	held=pop3
	state_is pop2 held && held=pop2
	if [[ $held == pop2 ]]; then held2=$((held2 + 1)); else held3=$((held3 + 1)); fi
	wait_for 'only_via $held "$(asp $held 2)"' 10 || die "race $rep: the upstream does not hold $held's path alone"
	h=$(hook_last "$held")
	[[ $h =~ ^[0-9]+\|[a-z]+\|held\| ]] || die "race $rep: $held's hook did not hear NEW_STATE=held ($h)"
	race_us+=($((${h%%|*} - t0)))
	heal_pop pop2
	heal_pop pop3
	checks_at_once pop2 pop3 || die "race $rep: a check was refused"
	wait_for '[[ $(npaths) == 2 ]] && view_is pop2 2 && view_is pop3 2' 15 ||
		die "race $rep: pop2 and pop3 did not both announce again"
done
refused=$(($(refused_at pop2) + $(refused_at pop3) - refused0))
deleted_since "$mark" && die "the upstream's FIB lost $PFX during the race"
race_max=$(lab_ms "$(printf '%s\n' "${race_us[@]}" | sort -n | tail -1)")
race_med=$(lab_ms "$(printf '%s\n' "${race_us[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')")
lab_log "ok: race x$RACE_REPS: exactly one path left every time (pop2 held $held2, pop3 held $held3); etcd refused $refused stale questions (both asked at once); the FIB never lost $PFX; hold decided (checks started -> hook): median $race_med ms, max $race_max ms"

# 4. Manual acts against the floor: pop1 is out, pop2 and pop3 announce.
ctlp pop2 disable dns --reason "maintenance A" >/dev/null || die "pop2's disable refused with pop3 announcing"
wait_for 'only_via pop3 "$(asp pop3)" && view_is pop3 1' 10 || die "pop2's disable did not withdraw it"
set +e
out=$(ctlp pop3 disable dns --reason "maintenance B" 2>&1)
rc=$?
set -e
((rc == 1)) || die "a disable of the last PoP was not refused (exit $rc: $out)"
[[ $out == *floor* ]] || die "the refusal does not name the floor: $out"
{ state_is pop3 up && only_via pop3 "$(asp pop3)"; } || die "the refused disable changed something"
ctlp pop3 disable dns --reason "maintenance B" --force >/dev/null || die "disable --force refused"
wait_for '[[ $(npaths) == 0 ]]' 10 || die "disable --force did not withdraw the last PoP"
lab_log "ok: disable of the last PoP refused ($out), done with --force"
ctlp pop2 enable dns >/dev/null
ctlp pop3 enable dns >/dev/null
wait_for '[[ $(npaths) == 2 ]] && view_is pop1 2' 15 || die "pop2 and pop3 did not come back after enable"

# 5. SIGKILL: pop3's key leaves etcd and the others' views within the lease.
kill -KILL "${LAB_SIDECAR_DAEMON_PID[pop3]}"
t0=$(lab_now_us)
wait "${LAB_SIDECAR_DAEMON_PID[pop3]}" 2>/dev/null || true
etcd_gone=
# counted_out: pop3's key gone from etcd (when first seen so: etcd_gone)
# and from pop1's and pop2's views.
counted_out() {
	[[ -n $etcd_gone || -n $(etcd_keys dns/pop3) ]] || etcd_gone=$(lab_now_us)
	[[ -n $etcd_gone ]] && view_is pop1 1 && view_is pop2 1
}
wait_for counted_out $((LEASE + 5)) || die "pop3's key outlived its lease (etcd: ${etcd_gone:-still there})"
gone_s=$(awk -v us=$(($(lab_now_us) - t0)) 'BEGIN { printf "%.2f", us / 1e6 }')
etcd_s=$(awk -v us=$((etcd_gone - t0)) 'BEGIN { printf "%.2f", us / 1e6 }')
# etcd revokes an expired lease within 0.5 s; the views follow its watch.
awk -v e="$etcd_s" -v v="$gone_s" -v l="$LEASE" 'BEGIN { exit !(e <= l + 1 && v <= e + 2) }' ||
	die "pop3 counted out after $etcd_s s in etcd, $gone_s s in the views; lease ${LEASE}s"
lab_log "ok: pop3's daemon SIGKILLed: its key gone in etcd after $etcd_s s, at pop1 and pop2 after $gone_s s (lease ${LEASE}s)"
start_pop pop3
wait_for 'view_is pop1 2 && state_is pop3 up' 20 || die "pop3's daemon did not rejoin"

# 6. Quorum lost: not ready everywhere; local withdraws, hold holds.
heal_pop pop1
check pop1
wait_for '[[ $(npaths) == 3 ]] && view_is pop1 3' 15 || die "pop1 did not announce again"
un1=$(metric pop1 fleet_unreachable_total)
lab_etcd_quorum_loss
t0=$(lab_now_us)
wait_for '[[ $(metric pop1 fleet_ready) == 0 && $(metric pop2 fleet_ready) == 0 && $(metric pop3 fleet_ready) == 0 ]]' 20 ||
	die "the fleet stayed ready without etcd's quorum"
notready_s=$(awk -v us=$(($(lab_now_us) - t0)) 'BEGIN { printf "%.1f", us / 1e6 }')
(($(metric pop1 fleet_unreachable_total) > un1)) || die "fleet_unreachable_total did not rise at pop1"
jq_ok pop1 fleet "not d['fleet']['ready'] and d['fleet']['problem'] != ''" || die "pop1's fleet does not say why it is not ready"
fail_pop pop1
check pop1
wait_for 'state_is pop1 down && ! announced pop1' 10 || die "pop1 (on_unreachable local) did not withdraw"
fail_pop pop3
check pop3
wait_for 'state_is pop3 held' 10 || die "pop3 (on_unreachable hold) did not hold"
jq_ok pop3 status "'etcd unreachable' in s['reason']" || die "pop3's reason does not name etcd: $(ctlp pop3 --json status dns)"
both="${LAB_POP_V4[pop2]} $(asp pop2)"$'\n'"${LAB_POP_V4[pop3]} $(asp pop3 2)"
both=$(sort <<<"$both")
wait_for '[[ $(paths) == "$both" ]]' 10 ||
	die "the upstream does not show pop2 and pop3 (held, prepended)"
lab_log "ok: quorum lost: not ready after $notready_s s; pop1 (local) withdrew, pop3 (hold) holds"
lab_etcd_quorum_restore
wait_for 'view_is pop1 1 && view_is pop2 1' 30 || die "the views did not come back with the quorum"
wait_for 'state_is pop3 down && only_via pop2 "$(asp pop2)"' 15 || die "pop3's hold was not released after etcd came back"
lab_log "ok: quorum back: views ready, pop3's hold asked of etcd and released (pop2 announces)"

# 7. A client certificate of another CA: never ready, no key.
P4=$LAB_DIR/pop4
pop_config pop4 exabgp local bad-client
# Its own ExaBGP stand-in: a pipe it reads commands from (none come; "ack"
# off) and one it writes to (through cat into its log; both must be pipes);
# no metrics (pop1's port is taken). Closing fd 9 ends it.
sed -i -e 's/"ack": true/"ack": false/' -e '/"metrics":/d' "$P4/etc/anycast-healthd.json"
mkfifo "$P4/stdin"
lab_spawn pop1 pop4/healthd.log /bin/sh -c '"$0" --exabgp --config "$1" <"$2" | cat' \
	"$DAEMON" "$P4/etc/anycast-healthd.json" "$P4/stdin"
exec 9>"$P4/stdin"
SOCK4=$P4/run/control.sock
wait_for '[[ -S $SOCK4 ]]' 10 || die "the bad-client daemon has no control socket"
sleep $((LEASE + 1))
"$CTL" --socket "$SOCK4" --json fleet | python3 -c 'import json, sys
d = json.load(sys.stdin)["fleet"]
sys.exit(0 if not d["ready"] and d["problem"] else 1)' || die "the bad-client daemon's fleet is ready: $("$CTL" --socket "$SOCK4" fleet)"
[[ -z $(etcd_keys dns/pop4) ]] ||
	die "a key of the bad-client daemon is in etcd"
lab_log "ok: a client certificate of another CA: not ready after $((LEASE + 1)) s ($("$CTL" --socket "$SOCK4" --json fleet | python3 -c 'import json,sys; print(json.load(sys.stdin)["fleet"]["problem"])')), no key in etcd"
exec 9>&-

lab_log "figures: hold decided $hold_ms ms; etcd floor answer $answer_ms ms; lease expiry seen at the others after $gone_s s (lease ${LEASE}s); race x$RACE_REPS, $refused refused; quorum loss seen after $notready_s s"
lab_cleanup
lab_assert_clean
lab_log "PASS"
