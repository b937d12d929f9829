#!/bin/bash
# test/integration/test_fault_sigstop.sh: the ExaBGP-mode loop watchdog
# (issue 8, "exabgp": { "watchdog": "3s" }) tells a stopped process from a
# wedged loop, against the lab's real upstream BIRD (AS 65000). pop1 runs
# the daemon as ExaBGP's process with two services, A 203.0.113.91/32 and
# B 203.0.113.92/32 (exec checks `test -e FILE`, 500 ms, rise 2, fall 2).
#   (a) SIGSTOP of the whole daemon for 10 s (> the watchdog): stopped time
#       does not count. While stopped, B's check is made to fail. Shown:
#       the upstream keeps A and B all along (nothing is sent), the
#       watchdog does not fire (no "event loop has not turned" line, the
#       same pid carries on after SIGCONT); after SIGCONT B's withdraw
#       reaches the upstream within interval x fall + 3 s and A never
#       leaves (the upstream kernel saw no change for it).
#   (b) a real wedge, the process running: strace delays the main thread's
#       third epoll_wait by 15 s (the watchdog thread sleeps, it does not
#       epoll; strace -p without -f traces the main thread only). Shown:
#       the upstream loses A and B within the watchdog + 3 s of the wedge,
#       the log has "event loop has not turned", ExaBGP starts a new daemon
#       (a new pid) and both routes come back after rise.
#   (c) the BIRD sidecar (pop3, its own BIRD) under the shipped unit's
#       watchdog, SIGSTOPped. systemd is not PID 1 here, so systemd-part.py
#       plays its part as the unit asks it to: a notify socket,
#       WATCHDOG_USEC (3 s here; the unit's WatchdogSec=30s) and, once
#       WATCHDOG=1 stops for that long, the WatchdogSignal (SIGABRT),
#       SIGKILL after the abort timeout (2 s here), then the unit's own
#       ExecStopPost= line (read from examples/systemd/, --config added).
#       Shown: pings stop while the daemon is stopped, C 203.0.113.93/32
#       stays at the upstream until the watchdog acts and leaves it within
#       5 s of ExecStopPost; BIRD's include file no longer has it.
#
# wait_for takes conditions in single quotes on purpose.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD=${AHD_BUILD:-$LAB_ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
[[ -x $DAEMON ]] || lab_die "build the daemon first ($DAEMON missing)"

A=203.0.113.91/32
B=203.0.113.92/32
INTERVAL_MS=500
RISE=2
FALL=2
WATCHDOG_S=3
STOP_S=10
WEDGE_S=15

LAB_POPS=(pop1)
lab_init
lab_topology
lab_add_bird_pop pop3
lab_start_bird
lab_monitor_start
lab_start_sidecar_bird pop3

P1=$LAB_DIR/pop1
V4=${LAB_POP_V4[pop1]}
LOG=$P1/healthd.log
mkdir -p "$P1/etc/services.d"
chmod 0755 "$P1" "$P1/etc" "$P1/etc/services.d"
cat >"$P1/etc/anycast-healthd.json" <<-EOF
	{ "pop": "pop1", "asn": ${LAB_POP_ASN[pop1]}, "backend": "exabgp",
	  "plugin_dir": "$BUILD/checks",
	  "allowed_prefixes": ["203.0.113.0/24"],
	  "exabgp": { "ack": true, "on_exit": "withdraw", "watchdog": "${WATCHDOG_S}s" } }
EOF
for s in a b; do
	p=$A
	[[ $s == b ]] && p=$B
	cat >"$P1/etc/services.d/$s.json" <<-EOF
		{ "prefixes": ["$p"],
		  "checks": [ { "plugin": "exec", "interval": "${INTERVAL_MS}ms", "timeout": "400ms",
		                "rise": $RISE, "fall": $FALL,
		                "options": { "command": ["/bin/sh", "-c", "test -e $P1/$s-ok || exit 2"] } } ] }
	EOF
	touch "$P1/$s-ok"
done
chmod 0644 "$P1"/etc/*.json "$P1"/etc/services.d/*.json
"$DAEMON" --check-config --config "$P1/etc/anycast-healthd.json" >/dev/null ||
	lab_die "--check-config rejected $P1/etc/anycast-healthd.json"
# ExaBGP may run its process as user exabgp: it must write the log.
install -m 0666 /dev/null "$LOG"
# The shell execs the daemon: ExaBGP's child is the daemon itself.
# shellcheck disable=SC2016 # expanded by that shell
lab_start_exabgp pop1 /bin/sh -c 'exec "$0" --exabgp --config "$1" 2>>"$2"' \
	"$DAEMON" "$P1/etc/anycast-healthd.json" "$LOG"

daemon_pid() {
	pgrep -P "$(lab_exabgp_pid pop1)" -f "anycast-healthd --exabgp" | head -1
}
has() { upstream_has "$1" "$V4"; }
# deleted MARK PREFIX: the upstream kernel dropped PREFIX's route after MARK.
deleted() {
	tail -n +"$(($1 + 1))" "$LAB_DIR/monitor.log" | grep -qE "^\[[^]]*\] Deleted $(lab_fib_via "$2" "$V4")"
}

lab_wait_sessions 20
wait_for "has $A && has $B" 15 || lab_die "the upstream did not learn A and B: $(lab_birdc show route)"
pid1=$(daemon_pid)
[[ -n $pid1 ]] || lab_die "no daemon process"
lab_log "A and B at the upstream; daemon pid $pid1"

# ---- (a) SIGSTOP for longer than the watchdog ----
mark=$(lab_monitor_mark)
kill -STOP "$pid1"
t_stop=$(lab_now_us)
sleep 1
rm "$P1/b-ok" # B's check fails now; the stopped daemon cannot know yet
while (($(lab_now_us) - t_stop < STOP_S * 1000000)); do
	{ has "$A" && has "$B"; } ||
		lab_die "(a) the upstream lost a route while the daemon was stopped: $(lab_birdc show route)"
	sleep 0.5
done
deleted "$mark" "$A" || deleted "$mark" "$B" && lab_die "(a) a route changed at the upstream during the stop"
[[ $(ps -o stat= -p "$pid1" | tr -d " ") == T* ]] || lab_die "(a) the daemon was not stopped: $(ps -o stat= -p "$pid1")"
t_cont=$(lab_now_us)
kill -CONT "$pid1"
lab_log "(a) stopped $(lab_ms $((t_cont - t_stop))) ms (watchdog ${WATCHDOG_S} s): the upstream kept A and B"
limit_ms=$((INTERVAL_MS * FALL + 3000))
wait_for "! has $B" $((limit_ms / 1000 + 10)) || lab_die "(a) B not withdrawn after SIGCONT"
t=$(($(lab_now_us) - t_cont))
lab_log "(a) SIGCONT -> upstream lost B in $(lab_ms "$t") ms (limit $limit_ms ms)"
((t <= limit_ms * 1000)) || lab_die "(a) B's withdraw took $(lab_ms "$t") ms, over $limit_ms ms"
sleep 2 # time for any wrong withdraw of A to show
has "$A" || lab_die "(a) A was withdrawn"
deleted "$mark" "$A" && lab_die "(a) A's route left the upstream's kernel at some point"
grep -q "event loop has not turned" "$LOG" && lab_die "(a) the watchdog fired for a stopped process: $(grep "has not turned" "$LOG")"
kill -0 "$pid1" 2>/dev/null || lab_die "(a) the daemon died"
[[ $(daemon_pid) == "$pid1" ]] || lab_die "(a) ExaBGP runs another daemon ($(daemon_pid), was $pid1)"
lab_log "(a) same pid $pid1 after SIGCONT, no watchdog line, A stayed"
touch "$P1/b-ok"
wait_for "has $B" 10 || lab_die "(a) B did not come back"

# ---- (b) a wedged loop in a running process ----
if ! command -v strace >/dev/null; then
	lab_log "SKIP (b): strace not installed"
else
	sleep 1
	mark=$(lab_monitor_mark)
	lines=$(wc -l <"$LOG")
	lab_spawn pop1 strace.log strace -p "$pid1" -qq -e trace=epoll_wait,epoll_pwait \
		-e inject=epoll_wait,epoll_pwait:delay_enter=${WEDGE_S}s:when=3
	strace_pid=$LAB_LAST_PID
	t_wedge=$(lab_now_us)
	limit_ms=$(((WATCHDOG_S + 3) * 1000))
	wait_for "! has $A && ! has $B" $((limit_ms / 1000 + 10)) ||
		lab_die "(b) the upstream kept routes of the wedged daemon: $(lab_birdc show route)"
	t=$(($(lab_now_us) - t_wedge))
	lab_log "(b) wedge (strace attached) -> upstream lost A and B in $(lab_ms "$t") ms (limit $limit_ms ms)"
	((t <= limit_ms * 1000)) || lab_die "(b) the withdraw took $(lab_ms "$t") ms, over $limit_ms ms"
	wait_for 'tail -n +"$((lines + 1))" "$LOG" | grep -q "exabgp: the event loop has not turned for"' 5 ||
		lab_die "(b) no watchdog line in the log"
	lab_log "(b) $(tail -n +"$((lines + 1))" "$LOG" | grep -m1 "event loop has not turned" | sed 's/^anycast-healthd: //')"
	# The wedge has done its job: strace detaches (strace 6.1 holds a
	# thread that exits during an injected delay until then).
	lab_stop "$strace_pid"
	# Gone, or a zombie ExaBGP has not reaped yet (kill -0 works on those).
	wait_for 'st=$(ps -o stat= -p "$pid1" | tr -d " "); [[ -z $st || $st == Z* ]]' 5 ||
		lab_die "(b) the wedged daemon did not exit: $(ps -o stat=,args= -p "$pid1")"
	wait_for '[[ -n $(daemon_pid) && $(daemon_pid) != "$pid1" ]]' 10 ||
		lab_die "(b) ExaBGP did not start a new daemon"
	pid2=$(daemon_pid)
	t0=$(lab_now_us)
	wait_for "has $A && has $B" 15 || lab_die "(b) A and B did not come back after the respawn"
	lab_log "(b) ExaBGP started pid $pid2; A and B back at the upstream $(lab_ms $(($(lab_now_us) - t0))) ms later"
fi

# ---- (c) the BIRD sidecar under the unit's watchdog ----
UNIT=$LAB_ROOT/examples/systemd/anycast-healthd.service
C=203.0.113.93/32
P3=$LAB_DIR/pop3
INC=$(lab_bird_inc pop3)
mkdir -p "$P3/etc/services.d"
cat >"$P3/etc/anycast-healthd.json" <<-EOF
	{ "pop": "pop3", "asn": ${LAB_POP_ASN[pop3]}, "backend": "bird",
	  "plugin_dir": "$BUILD/checks", "allowed_prefixes": ["203.0.113.0/24"],
	  "state_file": "$P3/state.json",
	  "bird": { "socket": "${LAB_SIDECAR_SOCK[pop3]}",
	            "include_v4": "$INC/routes4.conf", "include_v6": "$INC/routes6.conf" } }
EOF
cat >"$P3/etc/services.d/c.json" <<-EOF
	{ "prefixes": ["$C"],
	  "checks": [ { "plugin": "exec", "interval": "${INTERVAL_MS}ms", "timeout": "400ms",
	                "rise": $RISE, "fall": $FALL, "options": { "command": ["/bin/true"] } } ] }
EOF
"$DAEMON" --check-config --config "$P3/etc/anycast-healthd.json" >/dev/null ||
	lab_die "--check-config rejected $P3/etc/anycast-healthd.json"
# The unit's ExecStopPost=, as systemd would run it: its words, the binary
# from this build, our config.
post=$(sed -n 's/^ExecStopPost=//p' "$UNIT")
[[ $post == */anycast-healthd\ --withdraw-all* ]] || lab_die "(c) unexpected ExecStopPost= in $UNIT: $post"
read -r -a post_argv <<<"$post"
post_argv[0]=$DAEMON
post_argv+=(--config "$P3/etc/anycast-healthd.json")
SYSTEMD_PART=$LAB_DIR/systemd-part.py
install -m 0644 "$LAB_LIB_DIR/systemd-part.py" "$SYSTEMD_PART"
lab_spawn pop3 pop3/systemd.log chrt -f 50 python3 -u "$SYSTEMD_PART" "$P3" "$C" "${LAB_POP_V4[pop3]}" \
	"$LAB_BIRD_SOCK" "$WATCHDOG_S" "$DAEMON" "$P3/etc/anycast-healthd.json" -- "${post_argv[@]}"
sysd=$LAB_LAST_PID
wait_for "! kill -0 $sysd 2>/dev/null" 90 || lab_die "(c) systemd's part did not finish"
wait "$sysd" || true
sed 's/^/  (c) /' "$LAB_DIR/pop3/systemd.log"
grep -qx OK "$LAB_DIR/pop3/systemd.log" || lab_die "(c) failed; daemon log $P3/healthd.log"
grep -q "${C%/*}" "$INC/routes4.conf" && lab_die "(c) $C is still in $INC/routes4.conf"
has "$A" || lab_die "(c) pop1's A was lost meanwhile"

if grep -q "Traceback" "$P1/exabgp.log"; then lab_die "ExaBGP logged a traceback"; fi
lab_cleanup
lab_assert_clean
echo "test_fault_sigstop: OK"
