#!/bin/bash
# test_systemd_unit.sh: the shipped unit (examples/systemd/) without a
# running systemd, with systemd's offline tools:
#   - `systemd-analyze security --offline=true`: exposure stays at or below
#     MAX_EXPOSURE (what the unit reached; see the comment at its top);
#   - `systemd-analyze verify` on a copy whose binary paths point at the
#     build (the unit as shipped names /usr/sbin, not installed here);
#   - the sysusers.d and tmpfiles.d snippets applied to a scratch root: the
#     user, the directories (group bird) and empty include files that BIRD
#     parses with our snippet.
# Skips (exit 0, saying so) where a tool is missing or has no offline mode.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${AHD_BUILD:-$ROOT/build}
DAEMON="$BUILD/helper/anycast-healthd"
SD="$ROOT/examples/systemd"
UNIT="$SD/anycast-healthd.service"
MAX_EXPOSURE=1.3

T=$(mktemp -d /tmp/ahdo-unit.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; }

if ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze not installed: unit not analysed"
elif ! systemd-analyze security --help 2>&1 | grep -q -- '--offline'; then
	skip "systemd-analyze $(systemd-analyze --version | head -1) has no --offline: unit not analysed"
else
	out=$(systemd-analyze security --offline=true "$UNIT" 2>&1) || true
	level=$(sed -n 's/.*Overall exposure level for anycast-healthd.service: \([0-9.]*\).*/\1/p' <<<"$out")
	[[ -n $level ]] || fail "no exposure level in: $out"
	awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }' ||
		fail "exposure $level is above $MAX_EXPOSURE:"$'\n'"$(grep '✗' <<<"$out")"
	echo "ok: systemd-analyze security: exposure $level (at most $MAX_EXPOSURE)"

	[[ -x $DAEMON ]] || fail "build the daemon first ($DAEMON missing)"
	sed "s#/usr/sbin/anycast-healthd#$DAEMON#g" "$UNIT" >"$T/anycast-healthd.service"
	if ! out=$(systemd-analyze verify "$T/anycast-healthd.service" 2>&1); then
		fail "systemd-analyze verify: $out"
	fi
	# verify also prints problems of other units it loads (e.g. bird.service);
	# ours must have none.
	if grep 'anycast-healthd.service' <<<"$out"; then
		fail "systemd-analyze verify complains about the unit"
	fi
	echo "ok: systemd-analyze verify"

	# The FRR drop-in, loaded the way systemd loads it: UNIT.d/ beside the
	# unit on the unit path. A key it got wrong would show as a warning
	# naming the drop-in.
	mkdir -p "$T/frr/anycast-healthd.service.d"
	cp "$T/anycast-healthd.service" "$T/frr/"
	sed "s#/usr/sbin/anycast-healthd#$DAEMON#g" "$SD/anycast-healthd.service.d/frr.conf" \
		>"$T/frr/anycast-healthd.service.d/frr.conf"
	if ! out=$(SYSTEMD_UNIT_PATH="$T/frr:" systemd-analyze verify anycast-healthd.service 2>&1); then
		fail "systemd-analyze verify with the FRR drop-in: $out"
	fi
	if grep 'anycast-healthd.service' <<<"$out"; then
		fail "systemd-analyze verify complains about the unit with the FRR drop-in"
	fi
	out=$(SYSTEMD_UNIT_PATH="$T/frr:" systemd-analyze security --offline=true anycast-healthd.service 2>&1) || true
	level=$(sed -n 's/.*Overall exposure level for anycast-healthd.service: \([0-9.]*\).*/\1/p' <<<"$out")
	[[ -n $level ]] || fail "no exposure level with the FRR drop-in in: $out"
	awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }' ||
		fail "exposure $level with the FRR drop-in is above $MAX_EXPOSURE"
	echo "ok: FRR drop-in: verify clean, exposure $level"
fi

if ! command -v systemd-sysusers >/dev/null || ! command -v systemd-tmpfiles >/dev/null; then
	skip "systemd-sysusers/systemd-tmpfiles not installed: snippets not applied"
	exit 0
fi
getent group bird >/dev/null || fail "no group bird (the bird2 package creates it)"
mkdir -p "$T/root/etc"
cp /etc/passwd /etc/group "$T/root/etc/"
systemd-sysusers --root="$T/root" "$SD/anycast-healthd.sysusers" >/dev/null 2>&1 ||
	fail "systemd-sysusers rejects anycast-healthd.sysusers"
grep -q '^anycast-healthd:' "$T/root/etc/passwd" || fail "sysusers created no user"
systemd-tmpfiles --root="$T/root" --create "$SD/anycast-healthd.tmpfiles" ||
	fail "systemd-tmpfiles rejects anycast-healthd.tmpfiles"
uid=$(awk -F: '$1 == "anycast-healthd" {print $3}' "$T/root/etc/passwd")
gid=$(getent group bird | cut -d: -f3)
for d in var/lib/anycast-healthd var/lib/anycast-healthd/bird; do
	[[ $(stat -c '%u:%g %a' "$T/root/$d") == "$uid:$gid 750" ]] ||
		fail "$d is $(stat -c '%u:%g %a' "$T/root/$d"), want $uid:$gid 750"
done
for f in routes4.conf routes6.conf; do
	[[ $(stat -c '%a' "$T/root/var/lib/anycast-healthd/bird/$f") == 644 ]] || fail "$f mode"
done
echo "ok: sysusers.d and tmpfiles.d: user, state directory (group bird), empty include files"

# BIRD, started before the daemon, must load those files.
sed "s#/var/lib/anycast-healthd/bird#$T/root/var/lib/anycast-healthd/bird#" \
	"$ROOT/bird-snippets/anycast-healthd.conf" >"$T/snippet.conf"
cat >"$T/bird.conf" <<EOF
router id 192.0.2.2;
protocol device {}
include "$T/snippet.conf";
EOF
out=$(bird -p -c "$T/bird.conf" 2>&1) || fail "BIRD rejects the tmpfiles.d include files: $out"
echo "ok: BIRD parses the include files tmpfiles.d creates"

# The FRR sidecar's tmpfiles.d snippet needs no group bird.
mkdir -p "$T/froot/etc"
cp "$T/root/etc/passwd" "$T/root/etc/group" "$T/froot/etc/"
systemd-tmpfiles --root="$T/froot" --create "$SD/anycast-healthd-frr.tmpfiles" ||
	fail "systemd-tmpfiles rejects anycast-healthd-frr.tmpfiles"
[[ $(stat -c '%u:%g %a' "$T/froot/var/lib/anycast-healthd") == "$uid:$(awk -F: '$1 == "anycast-healthd" {print $3}' "$T/froot/etc/group") 750" ]] ||
	fail "FRR state directory is $(stat -c '%u:%g %a' "$T/froot/var/lib/anycast-healthd")"
echo "ok: anycast-healthd-frr.tmpfiles: state directory owned by the daemon's user and group"
