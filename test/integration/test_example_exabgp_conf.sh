#!/bin/bash
# test/integration/test_example_exabgp_conf.sh: examples/exabgp.conf is valid
# for the installed ExaBGP (its program path swapped for one that exists,
# since ExaBGP checks it), and still lists what the daemon depends on.
set -euo pipefail
cd "$(dirname "$0")/../.."
conf=examples/exabgp.conf
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sed 's|/usr/sbin/anycast-healthd|/bin/true|' "$conf" >"$tmp"
if ! out=$(cd /tmp && exabgp_api_cli=false exabgp --validate "$tmp" 2>&1); then
	echo "$out" | tail -20
	echo "FAIL: ExaBGP rejects $conf"
	exit 1
fi
for want in 'encoder json;' 'processes \[ healthd \];' 'neighbor-changes;' 'ipv4 unicast;' \
	'ipv6 unicast;' 'run /usr/sbin/anycast-healthd --exabgp --config '; do
	grep -q "$want" "$conf" || { echo "FAIL: $conf lacks '$want'"; exit 1; }
done
echo "test_example_exabgp_conf: OK"
