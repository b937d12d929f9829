#!/bin/bash
# test/check_speaker_seam.sh: nothing outside helper/speakers/ may name a
# speaker (exabgp, bird, frr, any case): a speaker is one folder plus one
# row in the speakers' table, and owns its config block, exit policy,
# withdraw-all, metrics and status details.
#
# The seam is not finished: test/speaker-seam-debt.txt lists, per file, how
# many lines still name a speaker. This check fails when a file names
# speakers on more lines than listed there (or a new file does), so the
# debt only shrinks; --update rewrites the list after a change lowered it.
# Done when the list is empty and this file says so.
set -euo pipefail
cd "$(dirname "$0")/.."
DEBT=test/speaker-seam-debt.txt
now=$(git grep -c -i -E 'exabgp|bird|frr' -- helper ':!helper/speakers' || true)
if [[ ${1:-} == --update ]]; then
	{
		echo "# file:lines naming a speaker outside helper/speakers/ (test/check_speaker_seam.sh)"
		echo "$now"
	} >"$DEBT"
	echo "speaker seam: $(awk -F: '{ n += $2 } END { print n + 0 }' <<<"$now") lines left, written to $DEBT"
	exit 0
fi
bad=0
while IFS=: read -r file n; do
	[[ -z $file ]] && continue
	allowed=$(awk -F: -v f="$file" '$1 == f { print $2 }' "$DEBT")
	if [[ -z $allowed ]]; then
		echo "speaker seam: $file names a speaker ($n lines) and is not in $DEBT:" >&2
		git grep -n -i -E 'exabgp|bird|frr' -- "$file" | head -5 >&2
		bad=1
	elif ((n > allowed)); then
		echo "speaker seam: $file names a speaker on $n lines, $allowed allowed ($DEBT):" >&2
		git grep -n -i -E 'exabgp|bird|frr' -- "$file" | head -5 >&2
		bad=1
	fi
done <<<"$now"
((bad == 0)) || exit 1
echo "speaker seam: $(awk -F: '{ n += $2 } END { print n + 0 }' <<<"$now") lines outside helper/speakers/ still name a speaker (none may be added)"
