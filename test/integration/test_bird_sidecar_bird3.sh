#!/bin/bash
# test/integration/test_bird_sidecar_bird3.sh: test_bird_sidecar.sh with
# BIRD 3 as pop3's BIRD (the sidecar's); the upstream stays BIRD 2. BIRD 3
# is Debian 13's bird3, unpacked by test/integration/bird3_fetch.sh into
# AHD_BIRD3_DIR (default /var/cache/anycast-healthd-test/bird3); test/run
# fetches it first. Without it this test exits 77 (skipped).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${AHD_BIRD3_DIR:-/var/cache/anycast-healthd-test/bird3}
if ! [[ -f $dir/complete && -x $dir/bin/bird && -x $dir/bin/birdc ]]; then
	echo "test_bird_sidecar_bird3: no BIRD 3 in $dir (run test/integration/bird3_fetch.sh): skipped"
	exit 77
fi
ver=$("$dir/bin/bird" --version 2>&1)
[[ $ver == "BIRD version 3."* ]] || {
	echo "test_bird_sidecar_bird3: $dir/bin/bird is not BIRD 3: $ver"
	exit 1
}
export LAB_SIDECAR_BIRD=$dir/bin/bird LAB_SIDECAR_BIRDC=$dir/bin/birdc
bash "$here/test_bird_sidecar.sh"
echo "test_bird_sidecar_bird3: OK ($ver)"
