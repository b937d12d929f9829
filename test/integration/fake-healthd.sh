#!/bin/bash
# test/integration/fake-healthd.sh: a stand-in for `anycast-healthd --exabgp`
# used as ExaBGP's process to check the lab itself (and to run the demo
# before the daemon exists). It announces PREFIXes while healthy and
# withdraws them while not, writing only on change, and always drains stdin
# (ExaBGP blocks when our stdin pipe fills). Exits when stdin closes.
#
# Healthy means: WITHDRAW_FILE (if given) does not exist, and every
# HOST:PORT given with --tcp accepts a connection.
#
# Usage: fake-healthd.sh --name NAME [--withdraw-file F] [--tcp HOST:PORT]...
#        (IPv6: --tcp [2001:db8::1]:53)
#        [--as-path "65001 65001"] [--interval SECONDS] PREFIX...
# Logs go to stderr, which ExaBGP passes through to its own; a change is
# logged as "fake-healthd NAME T: up -> down: withdrew P... at T0" where T0
# ($EPOCHREALTIME) is when the commands were about to be written.
set -u

name=fake withdraw_file='' as_path='' interval=0.01
tcp=() prefixes=()
while (($#)); do
	case $1 in
	--name) name=$2; shift ;;
	--withdraw-file) withdraw_file=$2; shift ;;
	--tcp) tcp+=("$2"); shift ;;
	--as-path) as_path=$2; shift ;;
	--interval) interval=$2; shift ;;
	-*)
		echo "fake-healthd: unknown option $1" >&2
		exit 2
		;;
	*) prefixes+=("$1") ;;
	esac
	shift
done

log() {
	echo "fake-healthd $name $EPOCHREALTIME: $*" >&2
}

healthy() {
	local hp host
	[[ -n $withdraw_file && -e $withdraw_file ]] && return 1
	for hp in "${tcp[@]}"; do
		# HOST:PORT, an IPv6 HOST in brackets: split at the last colon.
		host=${hp%:*} host=${host#[} host=${host%]}
		# shellcheck disable=SC2016 # expanded by the inner bash
		timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "${hp##*:}" \
			2>/dev/null || return 1
	done
	return 0
}

attrs="next-hop self"
[[ -n $as_path ]] && attrs+=" as-path [ $as_path ]"

state=unknown
log "started as $(id -un), pid $$, prefixes ${prefixes[*]}"
while :; do
	if healthy; then new=up; else new=down; fi
	if [[ $new != "$state" ]]; then
		at=$EPOCHREALTIME
		for p in "${prefixes[@]}"; do
			if [[ $new == up ]]; then
				echo "announce route $p $attrs"
			else
				echo "withdraw route $p"
			fi
		done
		log "$state -> $new: $([[ $new == up ]] && echo announced || echo withdrew) ${prefixes[*]} at $at"
		state=$new
	fi
	# Drain whatever ExaBGP sends (acks, JSON events) while waiting.
	read -r -t "$interval" line
	rc=$?
	if ((rc == 0)); then
		case $line in
		*'"type": "state"'*) log "event: $line" ;;
		error) log "ExaBGP answered error" ;;
		esac
	elif ((rc <= 128)); then
		log "stdin closed, exiting"
		exit 0
	fi
done
