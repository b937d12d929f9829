#!/bin/bash
# test/integration/test_lab_demo.sh: examples/lab/run, the demo, end to end
# with the built daemon: the client follows failover pop1 -> pop2 -> pop3
# (the BIRD sidecar PoP) -> pop4 (the FRR sidecar PoP) -> none and back,
# with times printed; then the fleet floor (etcd, min_pops 1): a bad check
# rolled out to every PoP withdraws pop1, pop2 and pop3 (each once etcd
# agreed) and leaves pop4 held, prepended, the client still answered by
# it (the demo itself fails when it is not), until the good check is back
# and every PoP announces again; the run leaves nothing behind.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp /tmp/ahd-demo.XXXXXX)
trap 'rm -f "$out"' EXIT
if ! AHD_LAB_PROCESS=daemon "$ROOT/examples/lab/run" >"$out" 2>&1; then
	cat "$out" >&2
	echo "FAIL: examples/lab/run failed" >&2
	exit 1
fi
fail() {
	cat "$out" >&2
	echo "FAIL: $*" >&2
	exit 1
}
# The client's answers in order of the demo's steps: pop1, pop2, pop3,
# pop4, none, pop4, pop3, pop1; then the floor: pop4 (the bad check at
# pop1..pop3), pop4 (held), pop1 (the good check back).
seq=$(awk '/port 53 answers:/ && /203\.0\.113\.53/ { print $NF }' "$out" | tr '\n' ' ')
[[ $seq == "pop1 pop2 pop3 pop4 answer) pop4 pop3 pop1 pop4 pop4 pop1 " ]] ||
	fail "unexpected client answers: $seq"
grep -q "pop3's service stopped -> upstream FIB changed" "$out" || fail "no pop3 withdraw time"
grep -q "pop4's service stopped -> upstream FIB route deleted" "$out" || fail "no pop4 withdraw time"
grep -q "configure -> upstream FIB" "$out" || fail "no BIRD configure time"
# The floor.
for pop in pop1 pop2 pop3; do
	grep -q "^$pop: bad check pushed, withdrawn -> upstream FIB changed" "$out" ||
		fail "$pop did not withdraw on the bad check"
	grep -q "^$pop: fleet: dns: etcd agreed to the withdraw at revision" "$out" ||
		fail "$pop withdrew without etcd's agreement"
done
grep -qxF "floor held: every PoP's checks fail, pop4 is held announcing (upstream: one path, AS path 65004 65004 65004), the client is still answered by pop4" "$out" ||
	fail "pop4 not held by the floor, or the client not answered"
grep -qE '^  pop4 +held +held +.*held by the floor: withdrawing would leave 0 PoPs announcing \(min_pops 1\)' "$out" ||
	fail "anycast-healthctl fleet does not show pop4 held"
grep -qxF "hold ended: pop4 is up again (not held), 4 of 4 PoPs announce, the client is back on pop1" "$out" ||
	fail "the hold did not end"
grep -q "clean: no namespace or process" "$out" || fail "cleanup not confirmed"
grep -E "FIB (changed|route deleted)|configure ->|etcd agreed|-> held|-> up,|^floor held|^hold ended" "$out"
echo "test_lab_demo: OK"
