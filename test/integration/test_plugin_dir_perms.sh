#!/bin/bash
# test/integration/test_plugin_dir_perms.sh: a plugin_dir that others can
# write is refused before anything in it is mapped. A tcp.so whose
# constructor writes a marker file sits in a world-writable plugin_dir:
# --check-config (run as root, as the daemon is) must exit 1 naming the
# directory, its owner and mode, and the marker must not exist. As a control,
# the same file in a 0755 directory does get loaded (its constructor runs,
# and it is then refused for exporting no descriptor), so the marker proves
# what it should.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${AHD_BUILD:-$ROOT/build}
DAEMON=$BUILD/helper/anycast-healthd
[[ -x $DAEMON ]] || { echo "build the daemon first ($DAEMON missing)" >&2; exit 1; }
work=$(mktemp -d /tmp/ahd-perms.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$work/out" 2>/dev/null || true; exit 1; }

mkdir -p "$work/plugins" "$work/etc/services.d"
cat >"$work/evil.c" <<EOF
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void)
{
	int fd = open("$work/marker", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}
EOF
cc -shared -fPIC -o "$work/plugins/tcp.so" "$work/evil.c"
chmod 0644 "$work/plugins/tcp.so"
cat >"$work/etc/anycast-healthd.json" <<EOF
{ "pop": "perms", "backend": "exabgp", "plugin_dir": "$work/plugins",
  "allowed_prefixes": ["203.0.113.0/24"] }
EOF
cat >"$work/etc/services.d/web.json" <<EOF
{ "prefixes": ["203.0.113.80/32"],
  "checks": [ { "plugin": "tcp", "options": { "host": "127.0.0.1", "port": 80 } } ] }
EOF

check_config() { # -> rc, output in $work/out
	local rc=0
	"$DAEMON" --check-config --config "$work/etc/anycast-healthd.json" >"$work/out" 2>&1 || rc=$?
	echo "$rc"
}

for mode in 0777 1777 0775; do
	chmod "$mode" "$work/plugins"
	rc=$(check_config)
	[[ $rc == 1 ]] || fail "plugin_dir mode $mode: --check-config exit $rc, want 1"
	by="group and others"
	[[ $mode == 0775 ]] && by="group"
	want="plugin directory $work/plugins (owner uid 0, mode $mode) is writable by $by"
	grep -qF "$want" "$work/out" || fail "plugin_dir mode $mode: no '$want'"
	grep -qF "chmod go-w $work/plugins" "$work/out" || fail "plugin_dir mode $mode: no fix named"
	grep -qF "services.d/web.json:" "$work/out" || fail "plugin_dir mode $mode: no file position"
	[[ ! -e $work/marker ]] || fail "plugin_dir mode $mode: the plugin's constructor ran"
	echo "mode $mode: refused, nothing loaded"
done

chmod 0755 "$work/plugins"
rc=$(check_config)
[[ $rc == 1 ]] || fail "control: --check-config exit $rc, want 1 (no descriptor)"
grep -qF "exports no anycast_healthd_check_plugin" "$work/out" || fail "control: not loaded"
[[ -e $work/marker ]] || fail "control: the constructor did not write the marker"
echo "control: from a 0755 directory the same file is loaded and its constructor runs"
