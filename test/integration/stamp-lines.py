#!/usr/bin/env python3
# stamp-lines.py LOG [--pass]: copy stdin line by line to LOG, each line
# prefixed with the wall clock in microseconds at which it was read (the
# clock of `ip -ts monitor`); with --pass, stdin also goes on to stdout
# unchanged (before it is logged). The tests run it at real-time priority
# (chrt -f) so the stamp is when the writer wrote, not when a CPU hog let
# this reader run.
import os
import sys
import time

log = open(sys.argv[1], "ab", buffering=0)
passthru = "--pass" in sys.argv[2:]
buf = b""
while True:
    try:
        chunk = os.read(0, 1 << 16)
    except InterruptedError:
        continue
    if not chunk:
        break
    t = time.time_ns() // 1000
    if passthru:
        view = memoryview(chunk)
        while view:
            try:
                n = os.write(1, view)
            except BrokenPipeError:
                passthru = False
                break
            view = view[n:]
    buf += chunk
    *lines, buf = buf.split(b"\n")
    if lines:
        log.write(b"".join(b"%d %s\n" % (t, line) for line in lines))
if buf:
    log.write(b"%d %s\n" % (time.time_ns() // 1000, buf))
