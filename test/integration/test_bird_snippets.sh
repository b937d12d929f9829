#!/bin/bash
# test_bird_snippets.sh: every bird-snippets/*.conf parses with the real
# BIRD (`bird -p`) inside a minimal bird.conf, with the include files it
# names pointed at a temp dir: once holding an empty include file as the
# backend writes it, once holding routes with every attribute we render.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/ahdb-snip.XXXXXX)
trap 'rm -rf "$T"' EXIT

shopt -s nullglob
snippets=("$SRC"/bird-snippets/*.conf)
((${#snippets[@]})) || { echo "no snippets" >&2; exit 1; }

check() { # name bird.conf
	if ! out=$(bird -p -c "$2" 2>&1); then
		echo "FAIL: $1: $out" >&2
		exit 1
	fi
}

for s in "${snippets[@]}"; do
	name=$(basename "$s")
	sed "s#/var/lib/anycast-healthd/bird#$T#" "$s" >"$T/$name"
	grep -q "$T/routes4.conf" "$T/$name" || { echo "FAIL: $name: no routes4.conf include" >&2; exit 1; }
	cat >"$T/bird.conf" <<C
router id 192.0.2.2;
protocol device {}
include "$T/$name";
protocol bgp upstream {
	local 192.0.2.2 as 65002; neighbor 192.0.2.1 as 65000;
	ipv4 { import none; export filter anycast_healthd_export; };
	ipv6 { import none; export filter anycast_healthd_export; };
}
protocol bgp upstream_fn {
	local 192.0.2.2 as 65002; neighbor 192.0.2.3 as 65000;
	ipv4 { import none; export where anycast_healthd_route(); };
}
C
	printf '# anycast-healthd: no IPv4 routes\n' >"$T/routes4.conf"
	printf '# anycast-healthd: no IPv6 routes\n' >"$T/routes6.conf"
	check "$name (empty includes)" "$T/bird.conf"
	cat >"$T/routes4.conf" <<'R'
route 203.0.113.1/32 blackhole { bgp_path.prepend(65002); bgp_med = 100; bgp_community.add((65002,100)); bgp_large_community.add((65002,1,1)); };
route 203.0.113.2/32 blackhole;
R
	cat >"$T/routes6.conf" <<'R'
route 2001:db8::1/128 blackhole { bgp_med = 0; bgp_large_community.add((4200000000,0,4294967295)); };
R
	check "$name (routes)" "$T/bird.conf"
	# And a broken include is caught (so the check above means something).
	printf 'route 203.0.113.1/32 blackhole { bgp_med = ; };\n' >"$T/routes4.conf"
	if bird -p -c "$T/bird.conf" >/dev/null 2>&1; then
		echo "FAIL: $name: a broken include file parsed" >&2
		exit 1
	fi
	echo "ok: $name"
done
