#!/bin/bash
# test_systemd_notify.sh: the daemon speaks systemd's notify protocol as the
# shipped unit (Type=notify, WatchdogSec=) needs it. The test binds the
# NOTIFY_SOCKET (a unix datagram socket) itself and runs the daemon with
# WATCHDOG_USEC and WATCHDOG_PID set, as systemd would: READY=1 arrives,
# then WATCHDOG=1 keeps arriving from the event loop at intervals shorter
# than WATCHDOG_USEC; SIGTERM gives STOPPING=1 and a clean exit. No network:
# the BIRD backend points at a socket nobody listens on and the only check
# is an exec of /bin/true.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${AHD_BUILD:-$ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
[[ -x $DAEMON ]] || { echo "build the daemon first ($DAEMON missing)" >&2; exit 1; }

T=$(mktemp -d /tmp/ahdo-notify.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/services.d" "$T/bird"
cat >"$T/anycast-healthd.json" <<EOF
{ "pop": "notify", "backend": "bird", "plugin_dir": "$BUILD/checks",
  "allowed_prefixes": ["203.0.113.0/24"],
  "bird": { "socket": "$T/bird.ctl", "include_v4": "$T/bird/routes4.conf",
            "include_v6": "$T/bird/routes6.conf" } }
EOF
cat >"$T/services.d/svc.json" <<EOF
{ "prefixes": ["203.0.113.7/32"],
  "checks": [ { "plugin": "exec", "interval": "200ms", "timeout": "150ms", "rise": 1, "fall": 1,
                "options": { "command": ["/bin/true"] } } ] }
EOF

python3 - "$DAEMON" "$T" <<'PY'
import os, signal, socket, subprocess, sys, time

daemon, tmp = sys.argv[1], sys.argv[2]
WATCHDOG_USEC = 2_000_000
path = os.path.join(tmp, "notify.sock")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(0.2)

env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC=str(WATCHDOG_USEC))
env.pop("JOURNAL_STREAM", None)
# WATCHDOG_PID must be the daemon's own pid: set it in a shell that execs it.
log = open(os.path.join(tmp, "daemon.log"), "w")
p = subprocess.Popen(["/bin/sh", "-c", 'export WATCHDOG_PID=$$; exec "$@"', "sh", daemon,
                      "--config", os.path.join(tmp, "anycast-healthd.json")],
                     env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)

msgs = []  # (time, field)
def collect(until):
    while time.monotonic() < until:
        try:
            data, _ = sock.recvfrom(4096)
        except socket.timeout:
            continue
        now = time.monotonic()
        for field in data.decode().split("\n"):
            if field:
                msgs.append((now, field))

def fail(why):
    p.kill()
    p.wait()
    log.close()
    sys.stderr.write(open(os.path.join(tmp, "daemon.log")).read())
    sys.exit("FAIL: %s; got %r" % (why, [m for _, m in msgs][:40]))

start = time.monotonic()
while time.monotonic() < start + 10 and not any(m == "READY=1" for _, m in msgs):
    collect(time.monotonic() + 0.2)
    if p.poll() is not None:
        fail("daemon exited with %d before READY=1" % p.returncode)
ready = [t for t, m in msgs if m == "READY=1"]
if not ready:
    fail("no READY=1 within 10 s")
print("ok: READY=1 after %.0f ms" % ((ready[0] - start) * 1000))
if not any(m.startswith("STATUS=") for _, m in msgs):
    fail("no STATUS= with READY=1")

collect(time.monotonic() + 6)
pings = [t for t, m in msgs if m == "WATCHDOG=1" and t >= ready[0]]
if len(pings) < 3:
    fail("only %d WATCHDOG=1 in 6 s with WATCHDOG_USEC=2s" % len(pings))
times = [ready[0]] + pings
gap = max(b - a for a, b in zip(times, times[1:]))
if gap * 1e6 >= WATCHDOG_USEC:
    fail("a %.0f ms gap between watchdog pings, WATCHDOG_USEC is %d ms" %
         (gap * 1000, WATCHDOG_USEC // 1000))
print("ok: %d WATCHDOG=1 in 6 s, longest gap %.0f ms (WATCHDOG_USEC %d ms)" %
      (len(pings), gap * 1000, WATCHDOG_USEC // 1000))

p.send_signal(signal.SIGTERM)
end = time.monotonic() + 10
while time.monotonic() < end and p.poll() is None:
    collect(time.monotonic() + 0.2)
collect(time.monotonic() + 0.3)
if p.poll() is None:
    fail("daemon still running 10 s after SIGTERM")
if not any(m == "STOPPING=1" for _, m in msgs):
    fail("no STOPPING=1 on SIGTERM")
if p.returncode != 0:
    fail("exit status %d after SIGTERM with BIRD away (files emptied, clean stop)" % p.returncode)
print("ok: SIGTERM gives STOPPING=1 and exit 0")
PY
