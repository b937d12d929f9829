#!/bin/bash
# test/integration/test_fault_metrics_burst.sh: hostile scrapers cannot
# stall the metrics endpoint or the checks. First a daemon with one
# service: 64 idle connections held while 2,000 quick scrapes run, then a
# burst of 400 idle connections (past the connection and per-address
# limits) that go away: a normal scrape answers within 2 s with the right
# text after each. Then a daemon with 10,000 services (31 MB a scrape):
# eight readers taking a byte a second cost under 50 MB of RSS (four are
# served a chunk at a time, four get 503), checks keep producing results,
# and a normal scrape works once they are gone.
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

T=$(mktemp -d /tmp/ahd-mburst-XXXXXX)
chmod 0755 "$T"
FAKE=
HELPERS=()
cleanup() {
	local p
	for p in "${HELPERS[@]}" $FAKE; do kill "$p" 2>/dev/null || true; done
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

# config N: a daemon file and N services, each with a file check.
config() {
	rm -rf "${T:?}/etc"
	mkdir -p "$T/etc/services.d"
	cat >"$T/etc/anycast-healthd.json" <<END
{ "pop": "tst1", "backend": "exabgp", "plugin_dir": "$BUILD/checks",
  "allowed_prefixes": ["10.0.0.0/8"], "state_file": "$T/state.json",
  "control": { "socket": "$SOCK" }, "metrics": { "listen": "127.0.0.1:0" } }
END
	python3 -c '
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    a = 10 << 24 | (i + 1)
    json.dump({"prefixes": ["%d.%d.%d.%d/32" % (a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255)],
               "checks": [{"plugin": "file", "interval": "2s", "timeout": "1s", "rise": 1,
                           "fall": 1, "options": {"path": d + "/s00000.json"}}]},
              open("%s/s%05d.json" % (d, i), "w"))
' "$T/etc/services.d" "$1"
}

# scrape_ok SECONDS: a normal scrape within SECONDS carries s00000's state.
scrape_ok() {
	local m
	m=$(curl -sf -m "$1" "$URL") || return 1
	grep -qxF 'anycast_healthd_service_state{pop="tst1",service="s00000",state="up"} 1' <<<"$m"
}

SOCK=$T/run/control.sock
# shellcheck source=test/integration/healthctl.sh
. "$ROOT/test/integration/healthctl.sh"

# --- one service: bursts of connections and scrapes
config 1
daemon_start "$T/etc/anycast-healthd.json" || fail "daemon did not start"
[[ -n $URL ]] || fail "no metrics URL in the log"
for ((i = 0; i < 250; i++)); do svc s00000 's["state"] == "up"' && break; sleep 0.02; done
scrape_ok 2 || fail "first scrape"
python3 -c '
import socket, sys, time
host, port = sys.argv[1].split("/")[2].split(":")
port = int(port)
idle = [socket.create_connection((host, port)) for _ in range(64)]
bad = 0
t0 = time.time()
for _ in range(2000):
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
        bad += not (data.startswith(b"HTTP/1.0 200") or data.startswith(b"HTTP/1.1 200"))
    except OSError:
        bad += 1
    if bad > 10:
        break  # stalled: say so now, not after 2,000 timeouts
print("2000 quick scrapes beside 64 idle connections: %d failed, %.1f s" % (bad, time.time() - t0))
sys.exit(1 if bad else 0)
' "$URL" || fail "quick scrapes failed"
scrape_ok 2 || fail "no scrape after 64 idle connections and 2,000 quick scrapes"
ok "2,000 quick scrapes beside 64 idle connections; a scrape answers after"
python3 -c '
import socket, sys, time
host, port = sys.argv[1].split("/")[2].split(":")
idle = []
for _ in range(400):
    try:
        idle.append(socket.create_connection((host, int(port)), timeout=1))
    except OSError:
        pass
time.sleep(1)
for s in idle:
    s.close()
' "$URL"
start=$(date +%s%N)
scrape_ok 2 || fail "the endpoint did not come back after 400 connections"
ok "a scrape answers $((($(date +%s%N) - start) / 1000000)) ms after a burst past the connection limit"
daemon_stop

# --- 10,000 services: slow readers, memory and checks
config 10000
daemon_start "$T/etc/anycast-healthd.json" || fail "daemon with 10,000 services did not start"
for ((i = 0; i < 1500; i++)); do svc s09999 's["state"] == "up"' && break; sleep 0.02; done
svc s09999 's["state"] == "up"' || fail "s09999 never up"
curl -sf -m 20 -o "$T/full" "$URL" || fail "full scrape"
size=$(stat -c %s "$T/full")
((size > 20000000)) || fail "a scrape of 10,000 services is only $size bytes"
before=$(rss_kb "$DPID")
oks() { ctl --json status s05000 | python3 -c 'import json, sys; print(json.load(sys.stdin)["services"][0]["checks"][0]["results"]["ok"])'; }
ok0=$(oks)
python3 -c '
import socket, sys, threading, time
host, port = sys.argv[1].split("/")[2].split(":")
out = []
def reader():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    head = b""
    for _ in range(12):
        d = s.recv(1)
        if not d:
            break
        head += d
        time.sleep(1)
    out.append(head.split(b" ")[1].decode() if b" " in head else "?")
    s.close()
ts = [threading.Thread(target=reader) for _ in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
open(sys.argv[2], "w").write(" ".join(sorted(out)))
' "$URL" "$T/slow" &
HELPERS+=($!)
peak=$before
for ((i = 0; i < 26; i++)); do
	r=$(rss_kb "$DPID")
	((r > peak)) && peak=$r
	sleep 0.5
done
wait "${HELPERS[0]}" || fail "slow readers failed"
ok1=$(oks)
echo "RSS before ${before} kB, peak under 8 slow readers ${peak} kB; s05000 ok results $ok0 -> $ok1"
(((peak - before) < 50 * 1024)) || fail "RSS grew by $(((peak - before) / 1024)) MB"
[[ $(cat "$T/slow") == "200 200 200 200 503 503 503 503" ]] || fail "slow readers got: $(cat "$T/slow")"
((ok1 >= ok0 + 3)) || fail "checks stalled: $ok0 -> $ok1 ok results in 13 s"
ok "8 slow readers: 4 served, 4 told 503, RSS +$(((peak - before) / 1024)) MB, checks kept running"
sleep 11 # the served slow readers are past the connection timeout
scrape_ok 10 || fail "no scrape after the slow readers"
ok "a normal scrape after the slow readers"
