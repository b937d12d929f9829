#!/bin/bash
# test/integration/test_fault_control_slow.sh: hostile local clients of the
# control socket cannot lock the operator out. Twenty clients that trickle
# a byte a second (for 8 s) are dropped 2 s after they connect, not kept
# alive by each byte; while they hold every slot a client is told "busy"
# in one clear line (exit 1, no "Broken pipe"); when group members hold
# them, root still gets the slot kept for it; strangers never take one.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${AHD_BUILD:-$ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
CTL="$BUILD/helper/anycast-healthctl"
[[ -x $DAEMON && -x $CTL ]] || {
	echo "build first ($DAEMON, $CTL)" >&2
	exit 1
}
# shellcheck source=test/integration/daemon.sh
. "$ROOT/test/integration/daemon.sh"

T=$(mktemp -d /tmp/ahd-ctlslow-XXXXXX)
chmod 0755 "$T"
FAKE=
SLOW=()
cleanup() {
	local p
	for p in "${SLOW[@]}" $FAKE; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	echo "--- daemon log" >&2
	tail -n 40 "$T/daemon.log" >&2 || true
	exit 1
}
ok() { echo "ok: $*"; }

SOCK=$T/run/control.sock
mkdir -p "$T/etc/services.d"
cat >"$T/etc/anycast-healthd.json" <<END
{ "pop": "tst1", "backend": "exabgp", "plugin_dir": "$BUILD/checks",
  "allowed_prefixes": ["203.0.113.0/24"], "state_file": "$T/state.json",
  "control": { "socket": "$SOCK", "group": "nogroup" } }
END
cat >"$T/etc/services.d/dns.json" <<END
{ "prefixes": ["203.0.113.53/32"],
  "checks": [ { "plugin": "file", "interval": "500ms", "timeout": "400ms", "rise": 1, "fall": 1,
                "options": { "path": "$T/etc/services.d/dns.json" } } ] }
END
daemon_start "$T/etc/anycast-healthd.json" || fail "daemon did not start"
# shellcheck source=test/integration/healthctl.sh
. "$ROOT/test/integration/healthctl.sh"

# slow N OUT: N clients that each send a byte a second for 8 s; OUT gets,
# per client, how it ended ("dropped", "busy", "denied", "kept") and after
# how many seconds.
SLOW_PY='
import socket, sys, threading, time
path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
res = [None] * n
def one(i):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    t0 = time.time()
    s.settimeout(1)
    got = b""
    for k in range(8):
        try:
            s.send(b"{" if k == 0 else b" ")
        except OSError:
            pass
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            d = b""
        if not d:
            res[i] = ("dropped", time.time() - t0)
            return
        got += d
        if b"\n" in got:
            res[i] = ("busy" if b"busy:" in got else "denied" if b"permission" in got else "other",
                      time.time() - t0)
            return
    res[i] = ("kept", time.time() - t0)
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
    time.sleep(0.01)
for t in ts:
    t.join()
open(out, "w").write("".join("%s %.2f\n" % r for r in res))
'

mkdir -m 1777 "$T/out"
AS_MEMBER=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
AS_STRANGER=(setpriv --reuid=nobody --regid=daemon --clear-groups)

# --- root's clients fill every slot: busy for the next, all dropped at 2 s
python3 -c "$SLOW_PY" "$SOCK" 20 "$T/out/root" &
SLOW+=($!)
sleep 0.7
set +e
err=$(ctl status 2>&1)
rc=$?
set -e
((rc == 1)) || fail "status with every slot held: exit $rc ($err)"
[[ $err == "anycast-healthctl: busy: 16 control clients connected, try again" ]] ||
	fail "busy said: $err"
ok "a full house answers busy"
# The slow clients' 2 s deadline ends (their times are asserted below):
# from then on root's status answers. Asked until it does, not once at a
# guessed instant: the clients' own start time is not ours to know.
start=$(date +%s%N)
answered=0
for _ in $(seq 50); do
	if out=$(timeout 3 "$CTL" --socket "$SOCK" status 2>&1); then
		answered=1
		break
	fi
	[[ $out == *"busy:"* ]] || fail "root's status while the slow clients hold the slots: $out"
	sleep 0.1
done
((answered)) || fail "root's status still refused 5 s after the slow clients connected"
ms=$((($(date +%s%N) - start) / 1000000))
ok "root's status answered once the slow clients were dropped (${ms} ms after the full house)"
wait "${SLOW[0]}"
python3 -c '
import sys
rows = [l.split() for l in open(sys.argv[1])]
dropped = [float(t) for w, t in rows if w == "dropped"]
busy = [w for w, t in rows if w == "busy"]
assert len(dropped) == 16 and len(busy) == 4, rows
assert max(dropped) < 3.0 and min(dropped) > 1.5, dropped
'  "$T/out/root" || fail "slow clients: $(tr '\n' ' ' <"$T/out/root")"
ok "16 trickling clients dropped 2 s after connecting, 4 more told busy"

# --- group members hold every slot they may: root still gets in
"${AS_MEMBER[@]}" /usr/bin/python3 -c "$SLOW_PY" "$SOCK" 20 "$T/out/member" &
SLOW+=($!)
sleep 0.5
start=$(date +%s%N)
timeout 3 "$CTL" --socket "$SOCK" status >/dev/null || fail "root shut out by members"
ms=$((($(date +%s%N) - start) / 1000000))
((ms < 1000)) || fail "root's status took $ms ms"
ok "root's status answered in ${ms} ms while members hold 15 slots"
set +e
err=$("${AS_MEMBER[@]}" "$CTL" --socket "$SOCK" status 2>&1)
rc=$?
set -e
((rc == 1)) || fail "a member with every slot held: exit $rc"
[[ $err == "anycast-healthctl: busy: 15 control clients connected, try again" ]] ||
	fail "member busy said: $err"
ok "a member is told busy, root's slot stays free"
wait "${SLOW[1]}"

# --- strangers (a socket opened up by mistake) are answered, take no slot
chmod 0666 "$SOCK"
"${AS_STRANGER[@]}" /usr/bin/python3 -c "$SLOW_PY" "$SOCK" 40 "$T/out/stranger" &
SLOW+=($!)
sleep 0.5
"${AS_MEMBER[@]}" "$CTL" --socket "$SOCK" status >/dev/null ||
	fail "a member was shut out by strangers"
wait "${SLOW[2]}"
[[ $(grep -c "^denied" "$T/out/stranger") == 40 ]] ||
	fail "strangers: $(cut -d" " -f1 "$T/out/stranger" | sort | uniq -c)"
ok "40 strangers refused at once, a member still served"
svc dns 's["state"] == "up"' || fail "dns not up"
