#!/bin/bash
# test/integration/test_fault_disk_full.sh: the state file on a full disk
# (a 64 KiB tmpfs in a private mount namespace, filled up). A disable still
# takes effect and says "applied, not saved"; once space returns the
# daemon's own retry writes the state file (and logs "saved") with no
# further action; after a restart the disable is still in force. The
# metric anycast_healthd_state_file_unsaved says 1 in between, 0 after.
set -euo pipefail
if [[ -z ${AHD_FAULT_UNSHARED:-} ]]; then
	command -v unshare >/dev/null || {
		echo "SKIP: unshare not installed"
		exit 77
	}
	AHD_FAULT_UNSHARED=1 exec unshare -m --propagation private "$0" "$@"
fi
# shellcheck source=test/integration/fault.sh
source "$(dirname "$0")/fault.sh"

mkdir "$T/state"
mount -t tmpfs -o size=64k,mode=0755 ahd-state "$T/state" || fail "cannot mount a tmpfs"
FAULT_CLEANUP+=('umount "$T/state"')
FAULT_METRICS=127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
unsaved() { curl -fsS "http://$FAULT_METRICS/metrics" | awk '/^anycast_healthd_state_file_unsaved\{/ { print $2 }'; }
fault_config "$T/state/state.json"
fault_start a
wait_for 'svc dns "s[\"state\"] == \"up\""' 10 || fail "dns never up"

# Fill the disk: nothing more fits.
dd if=/dev/zero of="$T/state/fill" bs=4k 2>/dev/null || true
if dd if=/dev/zero of="$T/state/more" bs=1 count=1 2>/dev/null; then
	fail "the tmpfs is not full"
fi

rc=0
out=$(ctl disable dns --reason "disk full test" 2>&1) || rc=$?
[[ $rc != 0 ]] || fail "disable claimed success on a full disk: $out"
grep -q "disable applied, not saved: No space left on device" <<<"$out" ||
	fail "disable did not say applied, not saved: $out"
wait_for 'grep -q "^withdraw route 203.0.113.53/32" "$T/commands-a"' 5 || fail "no withdraw"
svc dns 's["state"] == "disabled"' || fail "dns not disabled: $(ctl status dns)"
grep -q "cannot write the state file $T/state/state.json: No space left on device" \
	"$T/daemon-a.log" || fail "the failure was not logged"
[[ ! -s $T/state/state.json ]] || ! grep -q dns "$T/state/state.json" ||
	fail "the state file holds the disable on a full disk?"
[[ $(unsaved) == 1 ]] || fail "state_file_unsaved is not 1 on a full disk: $(unsaved)"
ok "full disk: disable applied, not saved (state_file_unsaved 1)"

# Space returns: the retry (1 s, doubling) saves without being asked.
sleep 2 # let a retry or two fail first: the backoff must not give up
rm -f "$T/state/fill" "$T/state/more"
wait_for 'grep -q "\"dns\"" "$T/state/state.json" 2>/dev/null' 10 ||
	fail "the state file never got the disable"
grep -q "disk full test" "$T/state/state.json" || fail "the reason is not in the state file"
grep -q "state file $T/state/state.json saved" "$T/daemon-a.log" || fail "no \"saved\" log line"
[[ $(grep -c "cannot write the state file" "$T/daemon-a.log") == 1 ]] ||
	fail "the failure was logged more than once"
wait_for '[[ $(unsaved) == 0 ]]' 5 || fail "state_file_unsaved still $(unsaved) after the save"
ok "space back: the state file saved by the retry (state_file_unsaved 0)"

# Restart: the disable is in force from the first moment.
fault_stop
fault_start b
wait_for '[[ -S $SOCK ]] && svc dns "s[\"state\"] == \"disabled\""' 10 ||
	fail "dns not disabled after the restart: $(ctl status dns 2>&1)"
sleep 1
! grep -q "^announce" "$T/commands-b" || fail "dns announced after the restart"
ok "restart: the disable survived"
