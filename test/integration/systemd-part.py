#!/usr/bin/env python3
"""systemd's part for one Type=notify unit with WatchdogSec, for tests on
machines where systemd is not PID 1 (test_fault_sigstop.sh (c)).

Starts the daemon with NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID as
systemd does, waits for READY=1, a few WATCHDOG=1 and the prefix at the
upstream, SIGSTOPs the daemon, and then acts as systemd's watchdog does when
WATCHDOG=1 stops for WATCHDOG_USEC: the WatchdogSignal (SIGABRT), SIGKILL
after the abort timeout, then the unit's ExecStopPost= command (argv after
"--"). Prints OK when the upstream lost the prefix afterwards; FAIL and exit
1 on anything else.

Usage: systemd-part.py DIR PREFIX NEXTHOP UPSTREAM_SOCK WATCHDOG_S DAEMON CONF -- POST...
"""
import os
import signal
import socket
import subprocess
import sys
import time

ABORT_S = 2.0  # TimeoutAbortSec: the unit's TimeoutStopSec (20 s) in real life
SETTLE_S = 60  # startup: READY=1 and the route at the upstream

d_dir, prefix, nexthop, up_sock, wd_s, daemon, conf = sys.argv[1:8]
assert sys.argv[8] == "--"
post = sys.argv[9:]
wd = float(wd_s)


def say(*a):
    print("[systemd %.3f]" % time.monotonic(), *a, flush=True)


def fail(why):
    print("FAIL " + why, flush=True)
    sys.exit(1)


def upstream_has():
    out = subprocess.run(["birdc", "-s", up_sock, "show", "route", "for", prefix.split("/")[0],
                          "all"], capture_output=True, text=True).stdout
    return prefix in out and nexthop in out


path = os.path.join(d_dir, "notify.sock")
if os.path.exists(path):
    os.unlink(path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(0.05)
env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC=str(int(wd * 1e6)))
env.pop("JOURNAL_STREAM", None)
log = open(os.path.join(d_dir, "healthd.log"), "w")
normal = lambda: os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
d = subprocess.Popen(["/bin/sh", "-c", 'export WATCHDOG_PID=$$; exec "$@"', "sh", daemon, "--bird",
                      "--config", conf], env=env, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=log, preexec_fn=normal)
start = time.monotonic()
ready, pings, last, stopped_at, gaps = False, 0, None, None, []
while True:
    try:
        fields = sock.recv(4096).decode().split("\n")
    except socket.timeout:
        fields = []
    now = time.monotonic()
    for f in fields:
        if f == "READY=1":
            ready, last = True, now
            say("READY=1 after %.0f ms" % ((now - start) * 1e3))
        elif f == "WATCHDOG=1":
            if stopped_at is not None:
                fail("a stopped daemon sent WATCHDOG=1")
            if last is not None:
                gaps.append(now - last)
            pings, last = pings + 1, now
    if d.poll() is not None:
        fail("the daemon exited by itself (%s)" % d.returncode)
    if stopped_at is None:
        if now - start > SETTLE_S:
            fail("no READY=1, pings and route within %d s (ready %s, %d pings)" %
                 (SETTLE_S, ready, pings))
        if ready and pings >= 5 and upstream_has():
            say("%s at the upstream, %d pings, longest gap %.0f ms (WATCHDOG_USEC %.0f ms); SIGSTOP"
                % (prefix, pings, max(gaps) * 1e3, wd * 1e3))
            os.kill(d.pid, signal.SIGSTOP)
            stopped_at = now
        continue
    if now - last < wd:
        continue
    # the watchdog is due
    if not upstream_has():
        fail("%s left the upstream before the watchdog acted" % prefix)
    say("no WATCHDOG=1 for %.0f ms: SIGABRT" % ((now - last) * 1e3))
    os.kill(d.pid, signal.SIGABRT)  # stays pending: a stopped process cannot act on it
    try:
        d.wait(timeout=ABORT_S)
    except subprocess.TimeoutExpired:
        say("still there after %.0f s: SIGKILL" % ABORT_S)
        d.kill()
        d.wait()
    say("main process gone (%s); ExecStopPost: %s" % (d.returncode, " ".join(post)))
    post_env = {k: v for k, v in env.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    r = subprocess.run(post, env=post_env, preexec_fn=normal)
    if r.returncode != 0:
        fail("ExecStopPost exited %d" % r.returncode)
    end = time.monotonic() + 5
    while upstream_has():
        if time.monotonic() > end:
            fail("%s still at the upstream 5 s after ExecStopPost" % prefix)
        time.sleep(0.05)
    say("%s gone from the upstream %.0f ms after the SIGSTOP" %
        (prefix, (time.monotonic() - stopped_at) * 1e3))
    print("OK", flush=True)
    sys.exit(0)
