#!/bin/bash
# test/integration/test_lab_smoke.sh: checks the lab harness itself, with
# fake-healthd.sh as ExaBGP's process in both PoPs: the upstream learns both
# anycast prefixes from both PoPs over IPv4 and IPv6 sessions, the client
# reaches pop1, a withdraw on pop1 moves the client to pop2 (time from the
# trigger to the upstream's FIB change is printed), and cleanup leaves
# nothing behind.
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "$0")/lib.sh"

lab_init
lab_topology
lab_start_bird
lab_monitor_start

withdraw_file="$LAB_DIR/pop1-withdraw"
for pop in "${LAB_POPS[@]}"; do
	lab_service_start "$pop" "$pop"
	lab_start_exabgp "$pop" "$LAB_FAKE_PROCESS" --name "$pop" \
		--withdraw-file "$LAB_DIR/$pop-withdraw" "${LAB_ANYCAST_PREFIXES[@]}"
done
lab_wait_sessions 20
lab_log "BGP sessions established"

# Both prefixes from both PoPs, each with its PoP's AS as path; pop1 best.
for prefix in "${LAB_ANYCAST_PREFIXES[@]}"; do
	if [[ $prefix == *:* ]]; then v1=${LAB_POP_V6[pop1]} v2=${LAB_POP_V6[pop2]}; else
		v1=${LAB_POP_V4[pop1]} v2=${LAB_POP_V4[pop2]}
	fi
	wait_for "upstream_has $prefix $v1 && upstream_has $prefix $v2" 10 ||
		lab_die "upstream lacks $prefix from both PoPs: $(upstream_routes "$prefix")"
	upstream_routes "$prefix" | sed "s|^|[lab] $prefix: |" >&2
	[[ $(upstream_best "$prefix") == "$v1 ${LAB_POP_ASN[pop1]}" ]] ||
		lab_die "best route for $prefix is not via pop1: $(upstream_best "$prefix")"
	routes=$(upstream_routes "$prefix")
	grep -q "^pop2_v[46] $v2 - ${LAB_POP_ASN[pop2]}\$" <<<"$routes" ||
		lab_die "pop2's route for $prefix not as expected: $routes"
done

# The upstream's FIB follows, so the client reaches pop1 (IPv4 and IPv6).
for a in "$LAB_ANYCAST4" "$LAB_ANYCAST6"; do
	wait_for "[[ \$(lab_client_get $a) == pop1 ]]" 10 ||
		lab_die "client does not reach pop1 at $a (got '$(lab_client_get "$a")')"
	lab_log "client -> $a: $(lab_client_get "$a")"
done

# Withdraw on pop1; measure trigger -> upstream kernel route via pop2.
mark=$(lab_monitor_mark)
t0=$(lab_now_us)
touch "$withdraw_file"
t4=$(lab_monitor_wait "$mark" "$(lab_fib_via "${LAB_ANYCAST_PREFIXES[0]}" "${LAB_POP_V4[pop2]}")" 10) ||
	lab_die "upstream FIB did not move $LAB_ANYCAST4 to pop2"
t6=$(lab_monitor_wait "$mark" "$(lab_fib_via "${LAB_ANYCAST_PREFIXES[1]}" "${LAB_POP_V6[pop2]}")" 10) ||
	lab_die "upstream FIB did not move $LAB_ANYCAST6 to pop2"
sent=$(grep -m1 'fake-healthd pop1 .*up -> down' "$LAB_DIR/pop1/exabgp.log" | sed -E 's/.* at ([0-9.]+)$/\1/')
sent=${sent/./}
lab_log "withdraw trigger -> fake process wrote withdraw: $(lab_ms $((sent - t0))) ms"
lab_log "withdraw trigger -> upstream FIB via pop2: IPv4 $(lab_ms $((t4 - t0))) ms, IPv6 $(lab_ms $((t6 - t0))) ms"
lab_log "withdraw written -> upstream FIB via pop2: IPv4 $(lab_ms $((t4 - sent))) ms, IPv6 $(lab_ms $((t6 - sent))) ms"

for a in "$LAB_ANYCAST4" "$LAB_ANYCAST6"; do
	[[ $(lab_client_get "$a") == pop2 ]] || lab_die "client does not reach pop2 at $a"
	lab_log "client -> $a: $(lab_client_get "$a")"
done
for prefix in "${LAB_ANYCAST_PREFIXES[@]}"; do
	[[ $(upstream_routes "$prefix" | wc -l) == 1 ]] ||
		lab_die "upstream still has more than pop2's route for $prefix: $(upstream_routes "$prefix")"
done

# Re-announce: back to pop1.
mark=$(lab_monitor_mark)
t0=$(lab_now_us)
rm "$withdraw_file"
t4=$(lab_monitor_wait "$mark" "$(lab_fib_via "${LAB_ANYCAST_PREFIXES[0]}" "${LAB_POP_V4[pop1]}")" 10) ||
	lab_die "upstream FIB did not move $LAB_ANYCAST4 back to pop1"
lab_log "announce trigger -> upstream FIB via pop1: IPv4 $(lab_ms $((t4 - t0))) ms"
wait_for "[[ \$(lab_client_get $LAB_ANYCAST6) == pop1 ]]" 10 || lab_die "IPv6 client not back on pop1"
[[ $(lab_client_get "$LAB_ANYCAST4") == pop1 ]] || lab_die "client not back on pop1"
lab_log "client back on pop1"

# ExaBGP ran the process as Debian's unprivileged user.
grep -q "fake-healthd pop1 .*started as exabgp" "$LAB_DIR/pop1/exabgp.log" ||
	lab_log "note: process did not run as user exabgp: $(grep -m1 'started as' "$LAB_DIR/pop1/exabgp.log")"

lab_cleanup
lab_assert_clean
echo "test_lab_smoke: OK"
