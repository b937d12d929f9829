# shellcheck shell=bash disable=SC2034
# daemon.sh: one anycast-healthd for a test, outside namespaces, under a
# fake ExaBGP (fake-exabgp.py: acks every command with "done", lists the
# routes it holds for `show adj-rib out`; the commands go to $T/commands). Needs DAEMON
# and T (the test's directory). Sets DPID (the daemon), FAKE (the fake,
# whose end ends the daemon) and URL (the metrics endpoint, when the
# config listens). The caller's trap kills FAKE.

# daemon_start CONFIG: starts the daemon; false when it did not come up.
daemon_start() {
	rm -f "$T/daemon.log" # a previous daemon's "started" must not count
	python3 "$(dirname "${BASH_SOURCE[0]}")/fake-exabgp.py" "$DAEMON" "$1" "$T/commands" "$T/daemon.log" &
	FAKE=$!
	local i
	for ((i = 0; i < 500; i++)); do
		grep -q "notice: started" "$T/daemon.log" 2>/dev/null && break
		sleep 0.02
	done
	DPID=$(pgrep -P "$FAKE" -f anycast-healthd) || return 1
	URL=$(grep -o 'http://127.0.0.1:[0-9]*/metrics' "$T/daemon.log" | head -1) || true
}

# daemon_stop: ends the daemon (SIGTERM) and its fake.
daemon_stop() {
	kill "$DPID" 2>/dev/null || true
	wait "$FAKE" 2>/dev/null || true
}

# rss_kb PID: resident set size in kB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
