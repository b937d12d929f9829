# shellcheck shell=bash
# netns.sh: tear-down for tests that make their own namespaces.

# netns_purge NS...: kill every process inside each namespace (by pid: they
# are ours), then delete it. Never fails: it runs from EXIT traps.
netns_purge() {
	local ns p i
	for ns in "$@"; do
		for ((i = 0; i < 50; i++)); do
			p=$(ip netns pids "$ns" 2>/dev/null) || break
			[[ -z $p ]] && break
			# shellcheck disable=SC2086 # a list of pids
			kill -KILL $p 2>/dev/null
			sleep 0.05
		done
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
