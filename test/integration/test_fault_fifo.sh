#!/bin/bash
# test/integration/test_fault_fifo.sh: a FIFO where the daemon expects a
# file must be refused at once, never waited on (a blocking open() would
# stall the whole loop: checks, control socket, signals).
#   (a) a FIFO dropped into services.d, then SIGHUP: the reload is refused
#       naming the FIFO, the old configuration keeps running, the daemon
#       answers anycast-healthctl within a second and stops on SIGTERM;
#   (b) --check-config with a FIFO service file exits 1 promptly, naming it;
#   (c) a FIFO as state_file: the start is refused promptly with a clear
#       error (it may stand where the disables were: never "nothing
#       disabled").
set -euo pipefail
# shellcheck source=test/integration/fault.sh
source "$(dirname "$0")/fault.sh"

fault_config "$T/state.json"
"$DAEMON" --check-config --config "$CONF" >/dev/null || fail "config does not validate"
fault_start a
wait_for 'svc dns "s[\"state\"] == \"up\""' 10 || fail "dns never up"

# --- (a) SIGHUP with a FIFO in services.d
mkfifo "$T/etc/services.d/fifo.json"
kill -HUP "$DPID"
wait_for 'grep -q "fifo.json.*not a regular file (a FIFO)" "$T/daemon-a.log"' 5 ||
	fail "the reload did not report the FIFO"
for i in 1 2 3; do
	out=$(timeout 1 "$CTL" --socket "$SOCK" status dns) || fail "status did not answer within 1 s ($i)"
	grep -q "^dns  *up " <<<"$out" || fail "dns not up after the refused reload: $out"
done
grep -q "reload" "$T/daemon-a.log" || fail "no reload line in the log"
ok "a FIFO in services.d: reload refused, the daemon answers"
kill -TERM "$DPID"
wait_for '! kill -0 "$DPID" 2>/dev/null' 5 || fail "SIGTERM not obeyed"
wait "$FAKE" 2>/dev/null || true
FAKE=
ok "SIGTERM obeyed after the refused reload"

# --- (b) --check-config
rc=0
out=$(timeout 10 "$DAEMON" --check-config --config "$CONF" 2>&1) || rc=$?
[[ $rc == 1 ]] || fail "--check-config exited $rc (124: it hung): $out"
grep -q "services.d/fifo.json.*not a regular file (a FIFO)" <<<"$out" ||
	fail "--check-config did not name the FIFO: $out"
ok "--check-config with a FIFO: exit 1, file named"
rm "$T/etc/services.d/fifo.json"

# --- (c) a FIFO as the state file
mkfifo "$T/state.json"
rc=0
timeout 10 bash -c "$(declare -f fault_run); $(declare -p ROOT DAEMON CONF T); fault_run c" ||
	rc=$?
[[ $rc != 0 && $rc != 124 ]] || fail "start with a FIFO state file: exit $rc (124: it hung)"
grep -q "state file $T/state.json: .*not a regular file (a FIFO)" "$T/daemon-c.log" ||
	fail "no clear error for the FIFO state file"
ok "a FIFO as state_file: start refused (exit $rc)"
