#!/bin/bash
# test_bird_attrs.sh: the BGP attributes anycast-healthd puts in its BIRD
# include file reach an eBGP upstream. A sidecar BIRD (AS 65002) loads
# bird-snippets/anycast-healthd.conf with a hand-written include file and
# peers an upstream BIRD (AS 65000) in another network namespace; the
# upstream must see the prefix with path prepend, communities, large
# communities and MED. Documentation ranges only; namespaces ahdb-*.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
NS_S=ahdb-side-$$
NS_U=ahdb-up-$$
T=$(mktemp -d /tmp/ahdb-attrs.XXXXXX)

# shellcheck source=test/integration/netns.sh
source "$(dirname "$0")/netns.sh"
cleanup() {
	set +e
	for p in "$T"/*.pid; do
		[[ -f $p ]] && kill "$(cat "$p")" 2>/dev/null
	done
	netns_purge "$NS_S" "$NS_U"
	rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; echo "--- upstream routes:" >&2; cat "$T/up.out" >&2 || true; exit 1; }

ip netns add "$NS_S"
ip netns add "$NS_U"
ip link add ahdb-s$$ netns "$NS_S" type veth peer name ahdb-u$$ netns "$NS_U"
ip -n "$NS_S" addr add 192.0.2.2/24 dev ahdb-s$$
ip -n "$NS_U" addr add 192.0.2.1/24 dev ahdb-u$$
ip -n "$NS_S" addr add 2001:db8:ff::2/64 dev ahdb-s$$ nodad
ip -n "$NS_U" addr add 2001:db8:ff::1/64 dev ahdb-u$$ nodad
for ns in "$NS_S" "$NS_U"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_S" link set ahdb-s$$ up
ip -n "$NS_U" link set ahdb-u$$ up

LAB='hold time 6; keepalive time 2; startup hold time 6; connect delay time 1;
	connect retry time 2; error wait time 1, 5;'

sed "s#/var/lib/anycast-healthd/bird#$T#" "$SRC/bird-snippets/anycast-healthd.conf" >"$T/snippet.conf"
# What the backend renders for a service with prepend 2, med 100, one
# community and one large community (asn 65002).
cat >"$T/routes4.conf" <<'R'
# anycast-healthd: desired IPv4 routes
route 203.0.113.53/32 blackhole { bgp_path.prepend(65002); bgp_path.prepend(65002); bgp_med = 100; bgp_community.add((65002,53)); bgp_large_community.add((65002,0,53)); };
R
cat >"$T/routes6.conf" <<'R'
# anycast-healthd: desired IPv6 routes
route 2001:db8:53::53/128 blackhole { bgp_med = 200; bgp_community.add((65002,54)); };
R

cat >"$T/side.conf" <<C
router id 192.0.2.2;
log "$T/side.log" all;
protocol device {}
include "$T/snippet.conf";
protocol bgp up4 {
	local 192.0.2.2 as 65002; neighbor 192.0.2.1 as 65000; $LAB
	ipv4 { import none; export filter anycast_healthd_export; };
}
protocol bgp up6 {
	local 2001:db8:ff::2 as 65002; neighbor 2001:db8:ff::1 as 65000; $LAB
	ipv6 { import none; export filter anycast_healthd_export; };
}
C
cat >"$T/up.conf" <<C
router id 192.0.2.1;
log "$T/up.log" all;
protocol device {}
protocol bgp side4 {
	local 192.0.2.1 as 65000; neighbor 192.0.2.2 as 65002; $LAB
	ipv4 { import all; export none; };
}
protocol bgp side6 {
	local 2001:db8:ff::1 as 65000; neighbor 2001:db8:ff::2 as 65002; $LAB
	ipv6 { import all; export none; };
}
C

ip netns exec "$NS_S" bird -c "$T/side.conf" -s "$T/side.ctl" -P "$T/side.pid"
ip netns exec "$NS_U" bird -c "$T/up.conf" -s "$T/up.ctl" -P "$T/up.pid"

ok=0
for _ in $(seq 1 150); do
	birdc -s "$T/up.ctl" show route all >"$T/up.out" 2>&1 || true
	if grep -q '203.0.113.53/32' "$T/up.out" && grep -q '2001:db8:53::53/128' "$T/up.out"; then
		ok=1
		break
	fi
	sleep 0.2
done
((ok)) || fail "routes did not arrive at the upstream within 30 s"
sleep 0.5
birdc -s "$T/up.ctl" show route all >"$T/up.out"

# The IPv4 route's block, up to the next prefix.
v4=$(awk '/203.0.113.53\/32/{p=1} /2001:db8:53/{p=0} p' "$T/up.out")
v6=$(awk '/2001:db8:53::53\/128/{p=1} p' "$T/up.out")
grep -q 'BGP.as_path: 65002 65002 65002$' <<<"$v4" || fail "v4 path prepend missing"
grep -q 'BGP.med: 100$' <<<"$v4" || fail "v4 MED missing"
grep -q 'BGP.community: (65002,53)$' <<<"$v4" || fail "v4 community missing"
grep -q 'BGP.large_community: (65002, 0, 53)$' <<<"$v4" || fail "v4 large community missing"
grep -q 'BGP.as_path: 65002$' <<<"$v6" || fail "v6 path wrong"
grep -q 'BGP.med: 200$' <<<"$v6" || fail "v6 MED missing"
grep -q 'BGP.community: (65002,54)$' <<<"$v6" || fail "v6 community missing"

# Changing the include file and configuring changes what the upstream sees
# (the path the backend takes): MED 100 -> 300.
sed -i 's/bgp_med = 100/bgp_med = 300/' "$T/routes4.conf"
birdc -s "$T/side.ctl" configure | grep -q '^Reconfigured' || fail "configure failed"
for _ in $(seq 1 50); do
	birdc -s "$T/up.ctl" show route all 203.0.113.53/32 >"$T/up.out"
	grep -q 'BGP.med: 300$' "$T/up.out" && break
	sleep 0.2
done
grep -q 'BGP.med: 300$' "$T/up.out" || fail "changed MED did not arrive"
echo "ok: prefix, prepend, community, large community and MED reached the eBGP upstream"
cat "$T/up.out"
