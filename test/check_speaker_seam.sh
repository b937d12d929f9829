#!/bin/bash
# test/check_speaker_seam.sh: nothing outside helper/speakers/ names a
# speaker (exabgp, bird, frr, any case, code and comments alike). A speaker
# is one folder there plus one row in speakers/speakers.c: it owns its
# config block, exit policy, withdraw-all, reload rules, metrics and status
# details, and the rest of the daemon reaches it through backend_ops only.
set -euo pipefail
cd "$(dirname "$0")/.."
if hits=$(git grep -n -i -E 'exabgp|bird|frr' -- helper ':!helper/speakers'); then
	echo "speaker seam: outside helper/speakers/ these lines name a speaker:" >&2
	echo "$hits" >&2
	exit 1
fi
echo "speaker seam: no file outside helper/speakers/ names a speaker"
