#!/bin/bash
# test/integration/test_lab_demo.sh: examples/lab/run, the demo, end to end
# with the built daemon: the client follows failover pop1 -> pop2 -> pop3
# (the BIRD sidecar PoP) -> pop4 (the FRR sidecar PoP) -> none and back,
# with times printed, and the run leaves nothing behind.
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
# pop4, none, pop4, pop3, pop1.
seq=$(awk '/port 53 answers:/ && /203\.0\.113\.53/ { print $NF }' "$out" | tr '\n' ' ')
[[ $seq == "pop1 pop2 pop3 pop4 answer) pop4 pop3 pop1 " ]] || fail "unexpected client answers: $seq"
grep -q "pop3's service stopped -> upstream FIB changed" "$out" || fail "no pop3 withdraw time"
grep -q "pop4's service stopped -> upstream FIB route deleted" "$out" || fail "no pop4 withdraw time"
grep -q "configure -> upstream FIB" "$out" || fail "no BIRD configure time"
grep -q "clean: no namespace or process" "$out" || fail "cleanup not confirmed"
grep -E "FIB (changed|route deleted)|configure ->" "$out"
echo "test_lab_demo: OK"
