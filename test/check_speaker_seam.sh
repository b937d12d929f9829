#!/bin/bash
# test/check_speaker_seam.sh: nothing outside helper/speakers/ names a
# speaker (exabgp, bird, frr, any case, code and comments alike). A speaker
# is one folder there plus one row in speakers/speakers.c: it owns its
# config block, exit policy, withdraw-all, reload rules, metrics and status
# details, and the rest of the daemon reaches it through backend_ops only.
# Plain grep, not git grep: it must also see a tree that is no checkout
# (or one root may not read through git), and a failing grep is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d helper/speakers ]] || { echo "speaker seam: no helper/speakers/ here" >&2; exit 1; }
hits=$(grep -rniE --include='*.[ch]' --include='meson.build' 'exabgp|bird|frr' \
	--exclude-dir=speakers helper) && rc=0 || rc=$?
((rc <= 1)) || { echo "speaker seam: grep failed ($rc)" >&2; exit 1; }
if [[ -n $hits ]]; then
	echo "speaker seam: outside helper/speakers/ these lines name a speaker:" >&2
	echo "$hits" >&2
	exit 1
fi
echo "speaker seam: no file outside helper/speakers/ names a speaker"
