#!/usr/bin/env python3
# fake-exabgp.py: a stand-in for ExaBGP around one anycast-healthd
# --exabgp, outside namespaces: runs the daemon on pipes, records every
# command it writes, acks each with "done", and keeps a RIB as ExaBGP's
# adj-rib-out would (announce adds, withdraw removes), listed for
# `show adj-rib out` in ExaBGP 4.2's form before its "done". Exits with
# the daemon's status.
# Usage: fake-exabgp.py DAEMON CONFIG COMMANDS_FILE LOG_FILE
import subprocess
import sys

daemon, conf, cmds, log = sys.argv[1:]
p = subprocess.Popen([daemon, "--exabgp", "--config", conf], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=open(log, "w"))
rib = {}
with open(cmds, "w") as f:
    for line in p.stdout:
        f.write(line.decode())
        f.flush()
        w = line.decode().split()
        if w[:2] == ["announce", "route"]:
            rib[w[2]] = True
        elif w[:2] == ["withdraw", "route"]:
            rib.pop(w[2], None)
        elif w[:3] == ["show", "adj-rib", "out"]:
            for pfx in rib:
                fam = "ipv6" if ":" in pfx else "ipv4"
                p.stdin.write(("neighbor 192.0.2.1 %s unicast %s next-hop self\n"
                               % (fam, pfx)).encode())
        p.stdin.write(b"done\n")
        p.stdin.flush()
sys.exit(p.wait())
