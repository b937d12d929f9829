#!/bin/bash
# test_bird_withdraw_all.sh: the shipped unit's stop action against a real
# BIRD (private control socket, no network; see private_bird.sh). The
# ExecStopPost= line is taken from examples/systemd/anycast-healthd.service
# and run as systemd would, with $SERVICE_RESULT set:
#   - daemon SIGKILLed (on_exit "keep" does not matter then): the routes stay
#     in BIRD until the stop action, which withdraws every one of them;
#   - clean stop with on_exit "keep": the routes stay, and the stop action
#     with SERVICE_RESULT=success leaves them;
#   - BIRD not running: the stop action empties the files and succeeds;
#     BIRD started afterwards has none of our routes;
#   - the ExaBGP backend: a clear error, exit 1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${AHD_BUILD:-$ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
UNIT="$ROOT/examples/systemd/anycast-healthd.service"
[[ -x $DAEMON ]] || { echo "build the daemon first ($DAEMON missing)" >&2; exit 1; }
# shellcheck source=test/integration/private_bird.sh
source "$ROOT/test/integration/private_bird.sh"

T=$(mktemp -d /tmp/ahdo-wdall.XXXXXX)
dpid=
cleanup() {
	[[ -n $dpid ]] && kill -KILL "$dpid" 2>/dev/null || true
	pbird_stop "$T"
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/daemon.log "$T"/bird.out; do [[ -f $f ]] && { echo "--- $f"; tail -20 "$f"; }; done >&2
	exit 1
}

mkdir -p "$T/services.d"
cat >"$T/anycast-healthd.json" <<EOF
{ "pop": "wdall", "asn": 65002, "backend": "bird", "plugin_dir": "$BUILD/checks",
  "allowed_prefixes": ["203.0.113.0/24", "2001:db8::/32"],
  "bird": { "socket": "$T/bird.ctl", "include_v4": "$T/routes4.conf",
            "include_v6": "$T/routes6.conf", "on_exit": "keep" } }
EOF
for svc in a:203.0.113.10/32 b:203.0.113.11/32 c:2001:db8:10::/48; do
	cat >"$T/services.d/${svc%%:*}.json" <<EOF
{ "prefixes": ["${svc#*:}"],
  "checks": [ { "plugin": "exec", "interval": "200ms", "timeout": "150ms", "rise": 1, "fall": 1,
                "options": { "command": ["/bin/true"] } } ],
  "announce": { "communities": ["65002:10"] } }
EOF
done
WANT="2001:db8:10::/48 203.0.113.10/32 203.0.113.11/32"

# The unit's stop action, with the test's config.
stop_cmd=$(sed -n 's/^ExecStopPost=//p' "$UNIT")
[[ $stop_cmd == /usr/sbin/anycast-healthd\ --withdraw-all* ]] ||
	fail "unexpected ExecStopPost= in the unit: $stop_cmd"
read -r -a stop_argv <<<"${stop_cmd/\/usr\/sbin\/anycast-healthd/$DAEMON}"
stop_action() { # SERVICE_RESULT
	SERVICE_RESULT=$1 "${stop_argv[@]}" --config "$T/anycast-healthd.json" 2>>"$T/stop.log"
}

routes() { pbird_routes "$T" | sort | tr '\n' ' ' | sed 's/ $//'; }
wait_routes() { # WANT, within 10 s
	local i
	for i in $(seq 100); do
		[[ $(routes) == "$1" ]] && return 0
		sleep 0.1
	done
	fail "BIRD has \"$(routes)\", want \"$1\""
}
start_daemon() {
	"$DAEMON" --bird --config "$T/anycast-healthd.json" 2>>"$T/daemon.log" &
	dpid=$!
}

pbird_start "$T" || fail "private BIRD"

# 1. crash
start_daemon
wait_routes "$WANT"
kill -KILL "$dpid"
wait "$dpid" 2>/dev/null || true
dpid=
sleep 0.5
[[ $(routes) == "$WANT" ]] || fail "routes changed by the crash alone: $(routes)"
stop_action signal || fail "stop action after SIGKILL exited $?"
[[ -z $(routes) ]] || fail "after the stop action BIRD still has: $(routes)"
grep -q '^route' "$T/routes4.conf" "$T/routes6.conf" && fail "include files not empty"
grep -q 'withdraw-all: BIRD loaded empty include files' "$T/stop.log" ||
	fail "no confirmation logged: $(cat "$T/stop.log")"
echo "ok: SIGKILL, then the unit's stop action withdraws all 3 routes from BIRD"

# 2. clean stop keeps (on_exit keep); the stop action leaves it so
start_daemon
wait_routes "$WANT"
kill -TERM "$dpid"
rc=0
wait "$dpid" || rc=$?
dpid=
((rc == 0)) || fail "clean stop exited $rc"
stop_action success || fail "stop action after a clean stop exited $?"
sleep 0.3
[[ $(routes) == "$WANT" ]] || fail "clean stop with on_exit keep lost routes: $(routes)"
echo "ok: clean stop with on_exit keep: routes stay, the stop action does nothing"

# 3. BIRD not running
pbird_stop "$T"
stop_action watchdog || fail "stop action with BIRD stopped exited $?"
grep -q 'BIRD is not running' "$T/stop.log" || fail "BIRD not running: no notice"
pbird_start "$T" || fail "private BIRD restart"
sleep 0.3
[[ -z $(routes) ]] || fail "BIRD started after the stop action has: $(routes)"
echo "ok: with BIRD stopped the stop action empties the files; BIRD starts with none"

# 4. ExaBGP
if "$DAEMON" --withdraw-all --exabgp --config "$T/anycast-healthd.json" 2>"$T/exabgp.err"; then
	fail "--withdraw-all --exabgp succeeded"
fi
grep -q "is for the BIRD backend" "$T/exabgp.err" || fail "ExaBGP: $(cat "$T/exabgp.err")"
echo "ok: --withdraw-all refuses the ExaBGP backend with a clear message"
