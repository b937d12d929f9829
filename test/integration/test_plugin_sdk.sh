#!/bin/bash
# test/integration/test_plugin_sdk.sh: the SDK works as plugin authors use it.
# `meson install --destdir` a fresh install, build examples/plugin out of tree
# with nothing but the installed header (found through the installed
# anycast-healthd-check.pc) and a compiler, then have the installed daemon
# load it: --check-config accepts it (and places an option problem), and
# --probe runs it (in a worker: the example is not loop-safe) with the
# expected results and exit codes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${AHD_BUILD:-$ROOT/build}
work=$(mktemp -d /tmp/ahd-sdk.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

meson install -C "$BUILD" --destdir "$work/root" --quiet >/dev/null
pc=$(find "$work/root" -name anycast-healthd-check.pc | head -1)
[[ -n $pc ]] || fail "meson install put no anycast-healthd-check.pc"
hdr=$(find "$work/root" -name anycast-healthd-check.h | head -1)
[[ -n $hdr ]] || fail "meson install put no anycast-healthd-check.h"
daemon=$(find "$work/root" -type f -name anycast-healthd | head -1)
# The .pc names the real prefix; the sysroot maps it into the destdir.
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$work/root
cflags=$(pkg-config --cflags anycast-healthd-check | xargs)
[[ $cflags == "-I$(dirname "$hdr")" ]] || fail "pkg-config --cflags gives '$cflags'"
[[ -z $(pkg-config --libs anycast-healthd-check) ]] || fail "the .pc must not link anything"
echo "installed: $hdr, $pc (cflags $cflags)"

# Out of tree: a copy of the example, built by its Makefile.
cp -r examples/plugin "$work/src"
make -s -C "$work/src" >/dev/null
nm -D --defined-only "$work/src/diskfree.so" | grep -q ' anycast_healthd_check_plugin$' ||
	fail "diskfree.so does not export the descriptor"
extra=$(nm -D --defined-only "$work/src/diskfree.so" | awk '$2 ~ /[TDBR]/ {print $3}' |
	grep -v '^anycast_healthd_check_plugin$' | grep -v '^_' || true)
[[ -z $extra ]] || fail "diskfree.so exports more than its descriptor: $extra"

mkdir -p "$work/plugins" "$work/etc/services.d" "$work/data"
cp "$work/src/diskfree.so" "$work/plugins/"
# the loader refuses a plugin_dir or .so that group or others can write
chmod 0755 "$work/plugins"
chmod 0644 "$work/plugins/diskfree.so"
cat >"$work/etc/anycast-healthd.json" <<JSON
{ "pop": "sdk", "backend": "exabgp", "plugin_dir": "$work/plugins",
  "allowed_prefixes": ["203.0.113.0/24"] }
JSON
n=0
service() { # name warning critical
	n=$((n + 1))
	cat >"$work/etc/services.d/$1.json" <<JSON
{ "prefixes": ["203.0.113.$n/32"],
  "checks": [ { "plugin": "diskfree", "interval": "5s", "timeout": "2s",
                "options": { "path": "$work/data", "warning_percent": $2, "critical_percent": $3 } } ] }
JSON
}
service roomy 0 0
"$daemon" --config "$work/etc/anycast-healthd.json" --check-config >"$work/check.out" ||
	{ cat "$work/check.out"; fail "--check-config rejects the example plugin"; }

set +e
out=$("$daemon" --config "$work/etc/anycast-healthd.json" --probe roomy 2>&1)
rc=$?
set -e
echo "$out"
((rc == 0)) || fail "--probe roomy exited $rc, want 0"
grep -Eq "^checks\[0\] diskfree +OK +[0-9.]+ ms  $work/data: [0-9.]+% free" <<<"$out" ||
	fail "--probe roomy: no OK line"

rm "$work/etc/services.d/roomy.json"
service full 100 100 # nothing is 100% free: CRITICAL
set +e
out=$("$daemon" --config "$work/etc/anycast-healthd.json" --probe full 2>&1)
rc=$?
set -e
echo "$out"
((rc == 2)) || fail "--probe full exited $rc, want 2 (CRITICAL)"
grep -Eq "^checks\[0\] diskfree +CRITICAL " <<<"$out" || fail "--probe full: no CRITICAL line"

# An option problem lands at its position in the service file.
service bad 5 50
set +e
out=$("$daemon" --config "$work/etc/anycast-healthd.json" --check-config 2>&1)
rc=$?
set -e
((rc == 1)) || fail "--check-config accepted warning_percent < critical_percent"
grep -q "services.d/bad.json:3:[0-9]*: plugin \"diskfree\": option \"warning_percent\": must be critical_percent..100" \
	<<<"$out" || { echo "$out"; fail "no positioned option problem"; }
echo "test_plugin_sdk: OK"
