# shellcheck shell=bash
# test/integration/fault.sh: what the fault tests (test_fault_*.sh) share: a
# plain daemon in ExaBGP mode on loopback only (no namespaces, no BGP): a
# fake ExaBGP that records every command and acks it with "done", one
# service "dns" with a file check, the control socket for anycast-healthctl.
# Source it after setting nothing; it sets T (the scratch directory), CONF,
# SOCK, CTL, DAEMON and a trap that stops what it started.
# shellcheck disable=SC2034

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${AHD_BUILD:-$ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
CTL="$BUILD/helper/anycast-healthctl"
[[ -x $DAEMON && -x $CTL ]] || {
	echo "build first ($DAEMON, $CTL)" >&2
	exit 1
}
# shellcheck source=test/integration/healthctl.sh
source "$ROOT/test/integration/healthctl.sh"

T=$(mktemp -d /tmp/ahd-fault-XXXXXX)
chmod 0755 "$T"
CONF=$T/etc/anycast-healthd.json
SOCK=$T/run/control.sock
FAKE=
FAULT_CLEANUP=()

fault_cleanup() {
	local c
	fault_stop
	for c in "${FAULT_CLEANUP[@]}"; do eval "$c" || true; done
	rm -rf "$T"
}
trap fault_cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	echo "--- daemon log" >&2
	cat "$T"/daemon*.log >&2 || true
	echo "--- commands" >&2
	cat "$T"/commands* >&2 || true
	exit 1
}
ok() { echo "ok: $*"; }
wait_for() { # COND SECONDS
	local i
	for ((i = 0; i < $2 * 50; i++)); do
		eval "$1" && return 0
		sleep 0.02
	done
	return 1
}

# fault_config STATE_FILE: the daemon file and services.d/dns.json; the
# metrics endpoint listens on $FAULT_METRICS (ADDRESS:PORT) when set.
fault_config() {
	mkdir -p "$T/etc/services.d" "$T/run"
	touch "$T/ready"
	cat >"$CONF" <<END
{ "pop": "tst1", "backend": "exabgp", "plugin_dir": "$BUILD/checks",
  "allowed_prefixes": ["203.0.113.0/24"],
  "state_file": "$1",
  "control": { "socket": "$SOCK" }, "metrics": { "listen": "${FAULT_METRICS:-}" } }
END
	cat >"$T/etc/services.d/dns.json" <<END
{ "prefixes": ["203.0.113.53/32"],
  "checks": [ { "plugin": "file", "interval": "200ms", "timeout": "100ms", "rise": 1, "fall": 1,
                "options": { "path": "$T/ready" } } ] }
END
}


# fault_run NAME: becomes the fake ExaBGP running the daemon (call it in a
# subshell), exiting with the daemon's status. The daemon's log goes to
# $T/daemon-NAME.log, the commands it sent to $T/commands-NAME.
fault_run() {
	exec python3 "$ROOT/test/integration/fake-exabgp.py" "$DAEMON" "$CONF" "$T/commands-$1" \
		"$T/daemon-$1.log"
}

# fault_start NAME: the same in the background; sets FAKE and DPID.
fault_start() {
	fault_run "$1" &
	FAKE=$!
	DPID=
	wait_for 'DPID=$(pgrep -P "$FAKE" -f anycast-healthd)' 10 || fail "daemon not running"
}

# fault_stop: SIGTERM to the daemon, and waits for the fake to see it go.
fault_stop() {
	[[ -n $FAKE ]] || return 0
	[[ -n ${DPID:-} ]] && kill -TERM "$DPID" 2>/dev/null
	wait "$FAKE" 2>/dev/null || true
	FAKE=
	DPID=
}
