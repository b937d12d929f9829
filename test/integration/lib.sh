# shellcheck shell=bash
# test/integration/lib.sh: the network-namespace lab shared by the
# integration tests and examples/lab/run. Source it, call lab_init, build the
# topology, start speakers and services; lab_init installs a trap that kills
# everything this run started and deletes its namespaces.
#
#            pop1 (ExaBGP AS 65001) ---.
#            pop2 (ExaBGP AS 65002) -------- up (BIRD AS 65000) --- client
#            pop3 (BIRD AS 65003) ---------'
#            pop4 (FRR AS 65004) ----------'  (lab_add_frr_pop pop4)
#
# pop3 exists only when a test asks for it (lab_add_bird_pop pop3): its own
# BIRD loads bird-snippets/anycast-healthd.conf and anycast-healthd --bird
# runs beside it as the sidecar.
#
# Every PoP holds the same anycast addresses on lo. The upstream installs its
# best routes into its kernel table, so the client's traffic follows BGP.
# With equal paths BIRD's last tie-break (lowest router id) picks pop1
# (192.0.2.2 < 192.0.2.6): deterministic, and a prepend from pop1 still moves
# traffic, which a per-neighbour local-pref would hide.
#
# Addresses (documentation ranges only):
#   up-pop1    192.0.2.0/30     (up .1, pop1 .2)   2001:db8:0:1::/64   (::1, ::2)
#   up-pop2    192.0.2.4/30     (up .5, pop2 .6)   2001:db8:0:2::/64   (::1, ::2)
#   up-pop3    192.0.2.8/30     (up .9, pop3 .10)  2001:db8:0:3::/64   (::1, ::2)
#   up-pop4    192.0.2.12/30    (up .13, pop4 .14) 2001:db8:0:4::/64   (::1, ::2)
#   up-client  198.51.100.0/24  (up .1, client .10) 2001:db8:0:100::/64 (::1, ::10)
#   anycast    203.0.113.53/32, 2001:db8:53::53/128 on lo in every PoP
#
# pop3's router id (192.0.2.10) is the highest: it carries traffic only when
# pop1 and pop2 have both withdrawn.
#
# Names: namespaces are "$LAB_PREFIX-<role>" (LAB_PREFIX=ahd<pid>); interfaces
# live only inside namespaces ("to-pop1", "to-up", ...), so parallel runs
# cannot collide and no name reaches 16 characters.
#
# Globals are for the scripts that source this; wait_for takes conditions in
# single quotes on purpose (evaluated later).
# shellcheck disable=SC2034,SC2016

LAB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_ROOT=$(cd "$LAB_LIB_DIR/../.." && pwd)
LAB_FAKE_PROCESS="$LAB_LIB_DIR/fake-healthd.sh"

LAB_ANYCAST4=203.0.113.53
LAB_ANYCAST6=2001:db8:53::53
LAB_ANYCAST_PREFIXES=("$LAB_ANYCAST4/32" "$LAB_ANYCAST6/128")
LAB_SVC_PORT=53
LAB_UP_ASN=65000
LAB_CLIENT4=198.51.100.10
LAB_CLIENT6=2001:db8:0:100::10
LAB_POPS=(pop1 pop2)

# BIRD-sidecar PoPs (lab_add_bird_pop) are not in LAB_POPS but in
# LAB_BIRD_POPS; the tables below know pop3 so it can be added on request.
LAB_BIRD_POPS=()
# FRR-sidecar PoPs (lab_add_frr_pop), likewise.
LAB_FRR_POPS=()

declare -A LAB_POP_ASN=([pop1]=65001 [pop2]=65002 [pop3]=65003 [pop4]=65004)
declare -A LAB_POP_V4=([pop1]=192.0.2.2 [pop2]=192.0.2.6 [pop3]=192.0.2.10 [pop4]=192.0.2.14)
declare -A LAB_POP_V6=([pop1]=2001:db8:0:1::2 [pop2]=2001:db8:0:2::2 [pop3]=2001:db8:0:3::2
	[pop4]=2001:db8:0:4::2)
declare -A LAB_UP_V4=([pop1]=192.0.2.1 [pop2]=192.0.2.5 [pop3]=192.0.2.9 [pop4]=192.0.2.13)
declare -A LAB_UP_V6=([pop1]=2001:db8:0:1::1 [pop2]=2001:db8:0:2::1 [pop3]=2001:db8:0:3::1
	[pop4]=2001:db8:0:4::1)

LAB_PREFIX=
LAB_DIR=
LAB_BIRD_SOCK=
LAB_NAMESPACES=()
LAB_PIDS=()
LAB_EXABGP_PIDS=()
LAB_EXABGP_USER_ENV=()
LAB_LAST_PID=
declare -A LAB_EXABGP_PID=()
LAB_CLEANED=0
# Commands lab_cleanup runs (eval, in order) after it stopped the tracked
# processes and before it empties the namespaces: etcd.sh stops its members
# there, after the daemons that talk to them.
LAB_CLEANUP_HOOKS=()
declare -A LAB_SVC_PIDS=()

lab_log() {
	printf '[lab %s] %s\n' "$(date +%T.%3N)" "$*" >&2
}

lab_die() {
	lab_log "FAIL: $*"
	exit 1
}

# lab_now_us: wall clock in microseconds (same clock as `ip -ts monitor`).
lab_now_us() {
	local t=$EPOCHREALTIME
	echo "${t/./}"
}

# lab_ms US: microseconds as milliseconds with one decimal.
lab_ms() {
	local us=$1 sign=
	((us >= 0)) || { sign=-; us=$((-us)); }
	printf '%s%d.%d' "$sign" $((us / 1000)) $(((us % 1000) / 100))
}

# lab_need_packages PKG...: install the Debian packages that are missing.
lab_need_packages() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	((${#missing[@]})) || return 0
	lab_log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -q &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# lab_init: per-run prefix and temp dir, and the cleanup trap. Needs root.
lab_init() {
	((EUID == 0)) || lab_die "the lab needs root (network namespaces)"
	local tool
	for tool in ip bird birdc exabgp socat ${LAB_SIDECAR_BIRD:-} ${LAB_SIDECAR_BIRDC:-}; do
		command -v "$tool" >/dev/null || lab_die "missing tool: $tool"
	done
	LAB_PREFIX="ahd$$"
	LAB_DIR=$(mktemp -d "/tmp/ahd-lab.XXXXXX")
	# ExaBGP drops to user exabgp before starting its process: the process
	# must be able to reach its files.
	chmod 0755 "$LAB_DIR"
	# ...and its program and plugins live in this checkout. Where user
	# exabgp cannot reach the checkout (cloned under a 0700 directory, as
	# CI may do), ExaBGP keeps root for its process instead: the lab then
	# still runs, without the privilege drop operators get.
	LAB_EXABGP_USER_ENV=()
	if ! runuser -u exabgp -- test -x "$LAB_ROOT/test/integration/fake-healthd.sh" 2>/dev/null; then
		LAB_EXABGP_USER_ENV=(exabgp_daemon_user=root)
		lab_log "note: user exabgp cannot reach $LAB_ROOT; ExaBGP runs its process as root"
	fi
	trap lab_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	lab_log "run $LAB_PREFIX, files in $LAB_DIR"
}

# lab_ns ROLE: the full namespace name of a role (up, pop1, pop2, client).
lab_ns() {
	echo "$LAB_PREFIX-$1"
}

# lab_ns_add ROLE: create the namespace with lo up.
lab_ns_add() {
	local ns
	ns=$(lab_ns "$1")
	ip netns add "$ns"
	LAB_NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up
}

# lab_link ROLE1 IF1 ROLE2 IF2: a veth pair created directly inside the two
# namespaces (never in the host's, so names cannot clash), both ends up.
lab_link() {
	local ns1 ns2
	ns1=$(lab_ns "$1")
	ns2=$(lab_ns "$3")
	ip -n "$ns1" link add "$2" type veth peer name "$4" netns "$ns2"
	ip -n "$ns1" link set "$2" up
	ip -n "$ns2" link set "$4" up
}

# lab_addr ROLE IF ADDR/LEN: IPv6 addresses skip DAD so they work at once.
lab_addr() {
	local ns
	ns=$(lab_ns "$1")
	if [[ $3 == *:* ]]; then
		ip -n "$ns" addr add "$3" dev "$2" nodad
	else
		ip -n "$ns" addr add "$3" dev "$2"
	fi
}

# lab_topology: namespaces, links, addresses, static routes, anycast on lo.
lab_topology() {
	local r pop
	for r in up "${LAB_POPS[@]}" client; do lab_ns_add "$r"; done
	ip netns exec "$(lab_ns up)" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
	for pop in "${LAB_POPS[@]}"; do lab_pop_link "$pop"; done
	lab_link up to-client client to-up
	lab_addr up to-client 198.51.100.1/24
	lab_addr up to-client 2001:db8:0:100::1/64
	lab_addr client to-up "$LAB_CLIENT4/24"
	lab_addr client to-up "$LAB_CLIENT6/64"
	ip -n "$(lab_ns client)" route add default via 198.51.100.1
	ip -n "$(lab_ns client)" -6 route add default via 2001:db8:0:100::1
}

# lab_pop_link POP: POP's link to the upstream, its addresses and default
# routes, and the anycast addresses on its lo.
lab_pop_link() {
	local pop=$1
	lab_link up "to-$pop" "$pop" to-up
	lab_addr up "to-$pop" "${LAB_UP_V4[$pop]}/30"
	lab_addr up "to-$pop" "${LAB_UP_V6[$pop]}/64"
	lab_addr "$pop" to-up "${LAB_POP_V4[$pop]}/30"
	lab_addr "$pop" to-up "${LAB_POP_V6[$pop]}/64"
	ip -n "$(lab_ns "$pop")" route add default via "${LAB_UP_V4[$pop]}"
	ip -n "$(lab_ns "$pop")" -6 route add default via "${LAB_UP_V6[$pop]}"
	lab_addr "$pop" lo "$LAB_ANYCAST4/32"
	lab_addr "$pop" lo "$LAB_ANYCAST6/128"
}

# lab_spawn ROLE LOG CMD...: run CMD in the role's namespace in the
# background, stdout and stderr to $LAB_DIR/LOG; the pid (CMD's own: ip
# netns exec execs it) is tracked and left in LAB_LAST_PID. Not to be called
# in a subshell: the process must stay this shell's child.
lab_spawn() {
	local ns=$1 log=$2
	shift 2
	ns=$(lab_ns "$ns")
	ip netns exec "$ns" "$@" >>"$LAB_DIR/$log" 2>&1 </dev/null &
	LAB_LAST_PID=$!
	LAB_PIDS+=("$LAB_LAST_PID")
}

# lab_stop PID...: TERM, then KILL after 3 s; reaps our children.
lab_stop() {
	local pid i
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "$@"; do
		for ((i = 0; i < 60; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# lab_upstream_conf: the upstream BIRD's configuration on stdout: one IPv4
# and one IPv6 session per PoP (ExaBGP and BIRD-sidecar ones alike).
lab_upstream_conf() {
	local pop
	cat <<-EOF
		log "$LAB_DIR/bird.log" all;
		router id 192.0.2.1;
		protocol device { scan time 10; }
		protocol kernel kernel4 { ipv4 { import none; export all; }; }
		protocol kernel kernel6 { ipv6 { import none; export all; }; }
		template bgp pop {
		  local as $LAB_UP_ASN;
		  passive on;
		  hold time 6; keepalive time 2; startup hold time 6;
		  connect delay time 1; connect retry time 2; error wait time 1, 5;
		}
	EOF
	for pop in "${LAB_POPS[@]}" "${LAB_BIRD_POPS[@]}" "${LAB_FRR_POPS[@]}"; do
		cat <<-EOF
			protocol bgp ${pop}_v4 from pop {
			  neighbor ${LAB_POP_V4[$pop]} as ${LAB_POP_ASN[$pop]};
			  ipv4 { import all; export none; };
			}
			protocol bgp ${pop}_v6 from pop {
			  neighbor ${LAB_POP_V6[$pop]} as ${LAB_POP_ASN[$pop]};
			  ipv6 { import all; export none; };
			}
		EOF
	done
}

# lab_start_bird: the upstream BIRD in "up", one IPv4 and one IPv6 session
# per PoP, best routes exported to the kernel. Sets LAB_BIRD_SOCK.
lab_start_bird() {
	local conf="$LAB_DIR/bird.conf"
	LAB_BIRD_SOCK="$LAB_DIR/bird.ctl"
	lab_upstream_conf >"$conf"
	bird -p -c "$conf" || lab_die "bird rejects $conf"
	lab_spawn up bird.out bird -f -c "$conf" -s "$LAB_BIRD_SOCK" -P "$LAB_DIR/bird.pid"
	wait_for '[[ -S $LAB_BIRD_SOCK ]] && birdc -s "$LAB_BIRD_SOCK" show status >/dev/null 2>&1' 10 ||
		lab_die "bird did not start (see $LAB_DIR/bird.out)"
}

# lab_birdc ARGS...: a command on the upstream BIRD, greeting stripped.
lab_birdc() {
	birdc -s "$LAB_BIRD_SOCK" "$@" | tail -n +2
}

# lab_exabgp_conf POP PROCESS_SCRIPT: ExaBGP's config for a PoP: one IPv4 and
# one IPv6 neighbour (the upstream), both feeding the process "healthd".
lab_exabgp_conf() {
	local pop=$1 run=$2 af laddr peer family
	printf 'process healthd {\n  run %s;\n  encoder json;\n}\n' "$run"
	for af in 4 6; do
		if ((af == 4)); then
			laddr=${LAB_POP_V4[$pop]} peer=${LAB_UP_V4[$pop]} family=ipv4
		else
			laddr=${LAB_POP_V6[$pop]} peer=${LAB_UP_V6[$pop]} family=ipv6
		fi
		cat <<-EOF
			neighbor $peer {
			  router-id ${LAB_POP_V4[$pop]};
			  local-address $laddr;
			  local-as ${LAB_POP_ASN[$pop]};
			  peer-as $LAB_UP_ASN;
			  hold-time 6;
			  family { $family unicast; }
			  api { processes [ healthd ${LAB_EXABGP_MORE_PROCESSES:-}]; neighbor-changes; }
			}
		EOF
	done
}

# lab_start_exabgp POP CMD...: ExaBGP in the PoP's namespace, running CMD as
# its process (through a generated wrapper, so CMD may hold any argument).
# Extra ExaBGP settings: LAB_EXABGP_ENV=(exabgp_api_ack=false ...); extra
# configuration text: LAB_EXABGP_EXTRA_CONF, with the names of the processes
# it defines that the neighbors take commands from in
# LAB_EXABGP_MORE_PROCESSES ("injector ").
lab_start_exabgp() {
	local pop=$1 dir="$LAB_DIR/$1"
	shift
	mkdir -p "$dir"
	chmod 0755 "$dir"
	{
		echo '#!/bin/bash'
		printf 'exec'
		printf ' %q' "$@"
		echo
	} >"$dir/process.sh"
	chmod 0755 "$dir/process.sh"
	lab_exabgp_conf "$pop" "$dir/process.sh" >"$dir/exabgp.conf"
	# LAB_EXABGP_EXTRA_CONF: more of ExaBGP's configuration (a second
	# process, for a test that injects commands of its own).
	[[ -z ${LAB_EXABGP_EXTRA_CONF:-} ]] || printf '%s\n' "$LAB_EXABGP_EXTRA_CONF" >>"$dir/exabgp.conf"
	chmod 0644 "$dir/exabgp.conf"
	# api.cli off: two ExaBGPs on one host must not share /run/exabgp pipes.
	lab_spawn "$pop" "$pop/exabgp.log" env exabgp_api_cli=false \
		exabgp_daemon_daemonize=false exabgp_log_destination=stdout \
		"${LAB_EXABGP_USER_ENV[@]}" "${LAB_EXABGP_ENV[@]}" exabgp "$dir/exabgp.conf"
	LAB_EXABGP_PIDS+=("$LAB_LAST_PID")
	LAB_EXABGP_PID[$pop]=$LAB_LAST_PID
}

# lab_exabgp_pid POP: pid of that PoP's ExaBGP.
lab_exabgp_pid() {
	echo "${LAB_EXABGP_PID[$1]}"
}

# lab_stop_exabgp POP: stop one PoP's ExaBGP (its process sees EOF and must
# exit on its own; whatever is left in the namespace is killed in cleanup).
lab_stop_exabgp() {
	lab_stop "$(lab_exabgp_pid "$1")"
}

# lab_daemon_config POP [PLUGIN_DIR]: anycast-healthd's config for POP in
# $LAB_DIR/POP/etc from the templates in examples/lab/pop (daemon file and
# services.d/dns.json: tcp checks on the anycast addresses, disable file
# $LAB_DIR/POP/disabled/dns). A BIRD-sidecar PoP gets the bird daemon file
# (anycast-healthd.bird.json.in: its BIRD's socket and include files), an
# FRR-sidecar PoP the frr one (anycast-healthd.frr.json.in: its vty sockets).
# PLUGIN_DIR defaults to $AHD_BUILD/checks or build/checks. Sets
# LAB_DAEMON_CONF to the daemon file.
lab_daemon_config() {
	local pop=$1 plugin_dir=${2:-${AHD_BUILD:-$LAB_ROOT/build}/checks}
	local dir="$LAB_DIR/$1" f out in daemon_in=anycast-healthd.json
	lab_is_bird_pop "$pop" && daemon_in=anycast-healthd.bird.json
	lab_is_frr_pop "$pop" && daemon_in=anycast-healthd.frr.json
	mkdir -p "$dir/etc/services.d" "$dir/disabled"
	# ExaBGP runs its process as user exabgp: it must read all of this.
	chmod 0755 "$dir" "$dir/etc" "$dir/etc/services.d" "$dir/disabled"
	for f in anycast-healthd.json services.d/dns.json; do
		out="$dir/etc/$f"
		in=$f
		[[ $f == anycast-healthd.json ]] && in=$daemon_in
		sed -e "s|@POP@|$pop|g" -e "s|@ASN@|${LAB_POP_ASN[$pop]}|g" \
			-e "s|@PLUGIN_DIR@|$plugin_dir|g" -e "s|@DIR@|$dir|g" \
			-e "s|@ANYCAST4@|$LAB_ANYCAST4|g" -e "s|@ANYCAST6@|$LAB_ANYCAST6|g" \
			-e "s|@SOCK@|${LAB_SIDECAR_SOCK[$pop]:-}|g" -e "s|@INC@|$dir/routes|g" \
			-e "s|@FRRDIR@|${LAB_FRR_DIR[$pop]:-}|g" \
			-e "s|@PORT@|$LAB_SVC_PORT|g" "$LAB_ROOT/examples/lab/pop/$in.in" >"$out"
		chmod 0644 "$out"
	done
	LAB_DAEMON_CONF="$dir/etc/anycast-healthd.json"
}

# ---- BIRD-sidecar PoPs: BIRD with bird-snippets/ + anycast-healthd --bird ----
#
# Files of a BIRD PoP (e.g. pop3), all under $LAB_DIR/POP:
#   bird/bird.conf, bird/anycast-healthd.conf  BIRD's config and our snippet
#   routes/routes4.conf, routes/routes6.conf   the include files the daemon owns
#   bird.ctl, bird.log, bird.out               BIRD's socket and logs
#   healthd.log                                the daemon's log
#
# The sidecar PoPs' BIRD is `bird`/`birdc` on PATH (BIRD 2, like the
# upstream's) unless LAB_SIDECAR_BIRD and LAB_SIDECAR_BIRDC name other
# programs: test/integration/test_bird_sidecar_bird3.sh points them at BIRD
# 3 (test/integration/bird3_fetch.sh); the upstream stays BIRD 2.

declare -A LAB_SIDECAR_SOCK=()
declare -A LAB_SIDECAR_PID=()
declare -A LAB_SIDECAR_DAEMON_PID=()

# lab_is_bird_pop POP: whether POP was added with lab_add_bird_pop.
lab_is_bird_pop() {
	local p
	for p in "${LAB_BIRD_POPS[@]}"; do [[ $p == "$1" ]] && return 0; done
	return 1
}

# lab_add_bird_pop POP: a BIRD-sidecar PoP (pop3): its namespace, link and
# addresses like the other PoPs, and the upstream's sessions to it (the
# upstream is reconfigured when it already runs). Call after lab_topology.
lab_add_bird_pop() {
	local pop=$1 dir="$LAB_DIR/$1"
	[[ -n ${LAB_POP_ASN[$pop]:-} ]] || lab_die "no addresses for PoP $pop"
	lab_is_bird_pop "$pop" && return 0
	lab_ns_add "$pop"
	lab_pop_link "$pop"
	LAB_BIRD_POPS+=("$pop")
	mkdir -p "$dir/bird" "$dir/routes"
	chmod 0755 "$dir" "$dir/bird" "$dir/routes"
	LAB_SIDECAR_SOCK[$pop]="$dir/bird.ctl"
	if [[ -n $LAB_BIRD_SOCK && -S $LAB_BIRD_SOCK ]]; then
		lab_upstream_conf >"$LAB_DIR/bird.conf"
		lab_birdc configure | grep -q Reconfigured ||
			lab_die "the upstream BIRD refused the sessions to $pop"
	fi
}

# lab_bird_inc POP: the directory of POP's include files (the daemon's).
lab_bird_inc() {
	echo "$LAB_DIR/$1/routes"
}

# lab_start_sidecar_bird POP: POP's own BIRD: bird-snippets/anycast-healthd.conf
# (include paths pointed at lab_bird_inc; each include stays on its own
# line) plus one IPv4 and one IPv6 session to the upstream exporting through
# anycast_healthd_export. Missing include files are created empty first,
# as BIRD cannot start without them. Log times carry milliseconds.
lab_start_sidecar_bird() {
	local pop=$1 dir="$LAB_DIR/$1" inc f
	inc=$(lab_bird_inc "$pop")
	local conf="$dir/bird/bird.conf" snippet="$dir/bird/anycast-healthd.conf"
	sed "s#/var/lib/anycast-healthd/bird/#$inc/#g" \
		"$LAB_ROOT/bird-snippets/anycast-healthd.conf" >"$snippet"
	for f in routes4.conf routes6.conf; do
		grep -q "^[[:space:]]*include \"$inc/$f\";\$" "$snippet" ||
			lab_die "$snippet: no include of $inc/$f on a line of its own"
		[[ -e $inc/$f ]] || printf '# anycast-healthd: no routes yet\n' >"$inc/$f"
	done
	cat >"$conf" <<-EOF
		log "$dir/bird.log" all;
		timeformat log "%F %T.%3f";
		router id ${LAB_POP_V4[$pop]};
		protocol device { scan time 10; }
		include "$snippet";
		template bgp upstream {
		  hold time 6; keepalive time 2; startup hold time 6;
		  connect delay time 1; connect retry time 2; error wait time 1, 5;
		}
		protocol bgp up_v4 from upstream {
		  local ${LAB_POP_V4[$pop]} as ${LAB_POP_ASN[$pop]};
		  neighbor ${LAB_UP_V4[$pop]} as $LAB_UP_ASN;
		  ipv4 { import none; export filter anycast_healthd_export; };
		}
		protocol bgp up_v6 from upstream {
		  local ${LAB_POP_V6[$pop]} as ${LAB_POP_ASN[$pop]};
		  neighbor ${LAB_UP_V6[$pop]} as $LAB_UP_ASN;
		  ipv6 { import none; export filter anycast_healthd_export; };
		}
	EOF
	chmod 0644 "$conf" "$snippet" "$inc"/routes4.conf "$inc"/routes6.conf
	local bird=${LAB_SIDECAR_BIRD:-bird}
	"$bird" -p -c "$conf" || lab_die "$bird rejects $conf"
	lab_spawn "$pop" "$pop/bird.out" "$bird" -f -c "$conf" -s "${LAB_SIDECAR_SOCK[$pop]}" \
		-P "$dir/bird.pid"
	LAB_SIDECAR_PID[$pop]=$LAB_LAST_PID
	wait_for 'lab_sidecar_birdc '"$pop"' show status >/dev/null 2>&1' 10 ||
		lab_die "$pop's BIRD did not start (see $dir/bird.out)"
}

# lab_stop_sidecar_bird POP: stop POP's BIRD (SIGTERM: it closes its
# sessions with a notification, so the upstream drops its routes at once).
lab_stop_sidecar_bird() {
	lab_stop "${LAB_SIDECAR_PID[$1]}"
	LAB_SIDECAR_PID[$1]=
}

# lab_sidecar_birdc POP ARGS...: a command on POP's BIRD, greeting stripped.
lab_sidecar_birdc() {
	local pop=$1
	shift
	[[ -S ${LAB_SIDECAR_SOCK[$pop]} ]] || return 1
	"${LAB_SIDECAR_BIRDC:-birdc}" -s "${LAB_SIDECAR_SOCK[$pop]}" "$@" | tail -n +2
}

# lab_start_sidecar_daemon POP CONF [ARGS...]: anycast-healthd --bird with
# daemon file CONF in POP's namespace, log in POP/healthd.log. It runs as
# root here; its include files are still written 0644 for BIRD's user.
lab_start_sidecar_daemon() {
	local pop=$1 conf=$2
	shift 2
	lab_spawn "$pop" "$pop/healthd.log" "${AHD_BUILD:-$LAB_ROOT/build}/helper/anycast-healthd" \
		--bird --config "$conf" "$@"
	LAB_SIDECAR_DAEMON_PID[$pop]=$LAB_LAST_PID
}

# lab_stop_sidecar_daemon POP: SIGTERM (a clean stop: it withdraws or keeps
# as its on_exit says), KILL after 3 s.
lab_stop_sidecar_daemon() {
	lab_stop "${LAB_SIDECAR_DAEMON_PID[$1]}"
	LAB_SIDECAR_DAEMON_PID[$1]=
}

# ---- FRR-sidecar PoPs: zebra, staticd and bgpd + anycast-healthd --frr ----
#
# Files of an FRR PoP (e.g. pop4), all under $LAB_DIR/POP:
#   frr/                                 FRR's run directory (owned by user
#                                        frr): zebra.conf, staticd.conf,
#                                        bgpd.conf, the *.vty sockets,
#                                        zserv.api, pid files, *.log
#   healthd.log                          the daemon's log
# Each FRR daemon gets --vty_socket, -z, -i and -f of its own, so nothing
# touches /run/frr or /etc/frr of the host.

declare -A LAB_FRR_DIR=()
declare -A LAB_FRR_PID=()

# lab_is_frr_pop POP: whether POP was added with lab_add_frr_pop.
lab_is_frr_pop() {
	local p
	for p in "${LAB_FRR_POPS[@]}"; do [[ $p == "$1" ]] && return 0; done
	return 1
}

# lab_add_frr_pop POP: an FRR-sidecar PoP (pop4): its namespace, link and
# addresses like the other PoPs, and the upstream's sessions to it (the
# upstream is reconfigured when it already runs). Call after lab_topology.
lab_add_frr_pop() {
	local pop=$1 dir="$LAB_DIR/$1"
	[[ -n ${LAB_POP_ASN[$pop]:-} ]] || lab_die "no addresses for PoP $pop"
	lab_is_frr_pop "$pop" && return 0
	for tool in /usr/lib/frr/zebra /usr/lib/frr/staticd /usr/lib/frr/bgpd; do
		[[ -x $tool ]] || lab_die "missing tool: $tool (package frr)"
	done
	lab_ns_add "$pop"
	lab_pop_link "$pop"
	LAB_FRR_POPS+=("$pop")
	mkdir -p "$dir/frr"
	chmod 0755 "$dir"
	chown frr:frr "$dir/frr"
	LAB_FRR_DIR[$pop]="$dir/frr"
	if [[ -n $LAB_BIRD_SOCK && -S $LAB_BIRD_SOCK ]]; then
		lab_upstream_conf >"$LAB_DIR/bird.conf"
		lab_birdc configure | grep -q Reconfigured ||
			lab_die "the upstream BIRD refused the sessions to $pop"
	fi
}

# lab_frr_bgpd_conf POP: bgpd's configuration of POP on stdout: router bgp
# with the upstream as IPv4 and IPv6 neighbour, fast timers, no policy
# needed for eBGP export (our route-maps set the attributes).
lab_frr_bgpd_conf() {
	local pop=$1
	cat <<-EOF
		frr defaults traditional
		hostname $pop
		router bgp ${LAB_POP_ASN[$pop]}
		 bgp router-id ${LAB_POP_V4[$pop]}
		 no bgp ebgp-requires-policy
		 no bgp default ipv4-unicast
		 timers bgp 2 6
		 neighbor ${LAB_UP_V4[$pop]} remote-as $LAB_UP_ASN
		 neighbor ${LAB_UP_V4[$pop]} timers connect 1
		 neighbor ${LAB_UP_V6[$pop]} remote-as $LAB_UP_ASN
		 neighbor ${LAB_UP_V6[$pop]} timers connect 1
		 address-family ipv4 unicast
		  neighbor ${LAB_UP_V4[$pop]} activate
		 exit-address-family
		 address-family ipv6 unicast
		  neighbor ${LAB_UP_V6[$pop]} activate
		 exit-address-family
	EOF
}

# lab_start_frr_daemon POP NAME: one FRR daemon (zebra, staticd, bgpd) of
# POP in the foreground, tracked like every lab process.
lab_start_frr_daemon() {
	local pop=$1 name=$2 dir=${LAB_FRR_DIR[$1]} extra=()
	[[ $name == zebra ]] || extra=(-P 0)
	[[ $name == zebra ]] && extra=(-P 0 -A 127.0.0.1)
	lab_spawn "$pop" "$pop/frr-$name.out" "/usr/lib/frr/$name" -u frr -g frr \
		--vty_socket "$dir" -z "$dir/zserv.api" -i "$dir/$name.pid" -f "$dir/$name.conf" \
		--log "file:$dir/$name.log" "${extra[@]}"
	LAB_FRR_PID[$pop.$name]=$LAB_LAST_PID
}

# lab_frr_answers POP NAME: the daemon answers on its vty socket.
lab_frr_answers() {
	[[ -S ${LAB_FRR_DIR[$1]}/$2.vty ]] &&
		ip netns exec "$(lab_ns "$1")" vtysh --vty_socket "${LAB_FRR_DIR[$1]}" -d "$2" \
			-c "show version" >/dev/null 2>&1
}

# lab_start_sidecar_frr POP: POP's FRR: zebra, then staticd and bgpd with
# lab_frr_bgpd_conf; waits until each answers on its vty socket.
lab_start_sidecar_frr() {
	local pop=$1 dir=${LAB_FRR_DIR[$1]} d
	lab_frr_bgpd_conf "$pop" >"$dir/bgpd.conf"
	: >"$dir/zebra.conf"
	: >"$dir/staticd.conf"
	chown frr:frr "$dir"/*.conf
	for d in zebra staticd bgpd; do
		lab_start_frr_daemon "$pop" "$d"
		wait_for "lab_frr_answers $pop $d" 10 ||
			lab_die "$pop's $d did not start (see $LAB_DIR/$pop/frr-$d.out)"
	done
}

# lab_stop_frr_daemon POP NAME / lab_restart_frr_daemon POP NAME.
lab_stop_frr_daemon() {
	lab_stop "${LAB_FRR_PID[$1.$2]}"
	LAB_FRR_PID[$1.$2]=
}
lab_restart_frr_daemon() {
	lab_stop_frr_daemon "$1" "$2"
	lab_start_frr_daemon "$1" "$2"
	wait_for "lab_frr_answers $1 $2" 10 || lab_die "$1's $2 did not restart"
}

# lab_vtysh POP ARGS...: vtysh against POP's FRR (e.g. -c "show run").
lab_vtysh() {
	local pop=$1
	shift
	ip netns exec "$(lab_ns "$pop")" vtysh --vty_socket "${LAB_FRR_DIR[$pop]}" "$@"
}

# lab_start_frr_sidecar_daemon POP CONF [ARGS...]: anycast-healthd --frr
# with daemon file CONF in POP's namespace, log in POP/healthd.log;
# lab_stop_sidecar_daemon stops it.
lab_start_frr_sidecar_daemon() {
	local pop=$1 conf=$2
	shift 2
	lab_spawn "$pop" "$pop/healthd.log" "${AHD_BUILD:-$LAB_ROOT/build}/helper/anycast-healthd" \
		--frr --config "$conf" "$@"
	LAB_SIDECAR_DAEMON_PID[$pop]=$LAB_LAST_PID
}

# upstream_count PROTOCOL: how many routes the upstream has from PROTOCOL
# (e.g. pop3_v6).
upstream_count() {
	lab_birdc show route protocol "$1" count | awk '/ routes for / { n = $1 } END { print n + 0 }'
}

# lab_wait_sessions [TIMEOUT]: every BGP session at the upstream Established.
lab_wait_sessions() {
	wait_for '! lab_birdc show protocols | awk '\''$2 == "BGP" && $6 != "Established" { bad = 1 } END { exit !bad }'\''' \
		"${1:-20}" || {
		lab_birdc show protocols >&2
		lab_die "BGP sessions not established"
	}
}

# upstream_routes PREFIX: the upstream's routes for exactly PREFIX, one line
# each: "PROTOCOL NEXT_HOP best|- AS_PATH..."; returns 1 when there is none.
upstream_routes() {
	lab_birdc show route "$1" all | awk '
		/^[^ \t].*unicast \[/ || /^[ \t]+unicast \[/ {
			if (proto != "") print proto, via, best, path
			proto = $0; sub(/.*unicast \[/, "", proto); sub(/[ \]].*/, "", proto)
			best = ($0 ~ /\] \*/) ? "best" : "-"; via = "-"; path = ""
			next
		}
		$1 == "via" { via = $2 }
		$1 == "BGP.as_path:" { $1 = ""; path = substr($0, 2) }
		END { if (proto != "") print proto, via, best, path; exit proto == "" }'
}

# upstream_best PREFIX: "NEXT_HOP AS_PATH" of the best route (empty if none).
upstream_best() {
	upstream_routes "$1" | awk '$3 == "best" { $1 = ""; $3 = ""; print substr($0, 2) }' | tr -s ' '
}

# upstream_best_via PREFIX: next hop of the best route (empty if none).
upstream_best_via() {
	upstream_routes "$1" | awk '$3 == "best" { print $2 }'
}

# upstream_has PREFIX NEXT_HOP: whether the upstream has a route via it.
upstream_has() {
	upstream_routes "$1" | awk -v nh="$2" '$2 == nh { f = 1 } END { exit !f }'
}

# wait_for COND TIMEOUT: evaluate the shell condition COND every 20 ms until
# it holds (0) or TIMEOUT seconds (fractions allowed) pass (1).
wait_for() {
	local cond=$1 deadline
	deadline=$(($(lab_now_us) + $(awk -v t="$2" 'BEGIN { printf "%d", t * 1000000 }')))
	while :; do
		eval "$cond" && return 0
		(($(lab_now_us) > deadline)) && return 1
		sleep 0.02
	done
}

# lab_service_start POP TEXT [PORT]: a TCP service on the anycast addresses
# (IPv4 and IPv6) in POP answering every connection with TEXT
# (text-server.py: socat's fork mode lost answers while health checks that
# close with a reset hit the same listener).
lab_service_start() {
	local pop=$1 text=$2 port=${3:-$LAB_SVC_PORT} p4
	mkdir -p "$LAB_DIR/$pop"
	lab_spawn "$pop" "$pop/service.log" python3 "$LAB_LIB_DIR/text-server.py" \
		"$LAB_ANYCAST4" "$port" "$text"
	p4=$LAB_LAST_PID
	lab_spawn "$pop" "$pop/service.log" python3 "$LAB_LIB_DIR/text-server.py" \
		"$LAB_ANYCAST6" "$port" "$text"
	LAB_SVC_PIDS[$pop]="$p4 $LAB_LAST_PID"
	wait_for "lab_port_open $pop $LAB_ANYCAST4 $port && lab_port_open $pop $LAB_ANYCAST6 $port" 5 ||
		lab_die "service in $pop did not start"
}

# lab_service_stop POP: stop the PoP's service.
lab_service_stop() {
	# shellcheck disable=SC2086 # two pids
	lab_stop ${LAB_SVC_PIDS[$1]}
	LAB_SVC_PIDS[$1]=
}

# lab_port_open ROLE ADDR PORT: something listens there.
lab_port_open() {
	[[ -n $(ip netns exec "$(lab_ns "$1")" ss -Hltn "src [$2]:$3" 2>/dev/null) ]] ||
		[[ -n $(ip netns exec "$(lab_ns "$1")" ss -Hltn "src $2:$3" 2>/dev/null) ]]
}

# lab_client_get ADDR [PORT]: what the service the client reaches answers.
lab_client_get() {
	local addr=$1 port=${2:-$LAB_SVC_PORT}
	[[ $addr == *:* ]] && addr="[$addr]"
	ip netns exec "$(lab_ns client)" timeout 5 socat -T 2 -u \
		"TCP:$addr:$port,connect-timeout=2" - 2>/dev/null
}

# lab_monitor_start: record the upstream's kernel route changes with
# timestamps in $LAB_DIR/monitor.log.
lab_monitor_start() {
	: >"$LAB_DIR/monitor.log"
	lab_spawn up monitor.log ip -ts monitor route
	sleep 0.2
}

# lab_monitor_mark: a mark for lab_monitor_wait (lines seen so far).
lab_monitor_mark() {
	wc -l <"$LAB_DIR/monitor.log"
}

# lab_monitor_wait MARK REGEX TIMEOUT: wait for a route change after MARK
# whose text (after the timestamp) matches the extended REGEX; print its
# time in microseconds. Host routes show without /32 or /128.
lab_monitor_wait() {
	local mark=$1 re=$2 line ts
	wait_for 'line=$(tail -n +"$((mark + 1))" "$LAB_DIR/monitor.log" | grep -m1 -E "^\[[^]]*\] ($re)")' "$3" ||
		return 1
	ts=${line#[}
	ts=${ts%%]*}
	echo "$(date -d "${ts%.*}" +%s)${ts#*.}"
}

# lab_fib_via PREFIX VIA: regex for the upstream's kernel route to PREFIX via VIA.
lab_fib_via() {
	local p=${1%/32}
	p=${p%/128}
	echo "${p//./\\.} via ${2//./\\.} "
}

# lab_cleanup: kill every process of this run (ExaBGP first: it respawns its
# process), run LAB_CLEANUP_HOOKS, then kill whatever is still inside our
# namespaces, delete them and the temp dir. On failure the logs are printed
# first. Idempotent.
lab_cleanup() {
	local rc=$? ns pid f left i
	((LAB_CLEANED)) && return 0
	LAB_CLEANED=1
	# A second Ctrl-C must not interrupt the cleanup itself.
	trap "" INT TERM
	if ((rc != 0)) && [[ -d $LAB_DIR ]]; then
		for f in "$LAB_DIR"/*.log "$LAB_DIR"/*.out "$LAB_DIR"/*/*.log; do
			[[ -s $f ]] || continue
			echo "----- ${f#"$LAB_DIR"/} (last 30 lines)" >&2
			tail -n 30 "$f" >&2
		done
	fi
	((${#LAB_EXABGP_PIDS[@]})) && lab_stop "${LAB_EXABGP_PIDS[@]}"
	((${#LAB_PIDS[@]})) && lab_stop "${LAB_PIDS[@]}"
	for f in "${LAB_CLEANUP_HOOKS[@]}"; do eval "$f" || true; done
	for ns in "${LAB_NAMESPACES[@]}"; do
		# Anything left inside our namespaces is ours (e.g. ExaBGP's
		# process, socat's children): kill it by pid, never by name.
		for ((i = 0; i < 50; i++)); do
			left=$(ip netns pids "$ns" 2>/dev/null)
			[[ -z $left ]] && break
			for pid in $left; do kill -KILL "$pid" 2>/dev/null || true; done
			sleep 0.05
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	LAB_NAMESPACES=()
	[[ -n $LAB_DIR && -d $LAB_DIR && -z ${LAB_KEEP:-} ]] && rm -rf "$LAB_DIR"
	[[ -n ${LAB_KEEP:-} ]] && lab_log "kept $LAB_DIR"
	return 0
}

# lab_assert_clean: after lab_cleanup, nothing of this run is left: no
# namespace with our prefix, no tracked pid alive, no process whose command
# line names our temp dir (bird, exabgp, the process wrapper).
lab_assert_clean() {
	local bad=0 pid
	if ip netns list | grep -q "^$LAB_PREFIX-"; then
		lab_log "namespaces left: $(ip netns list | grep "^$LAB_PREFIX-" | tr '\n' ' ')"
		bad=1
	fi
	for pid in "${LAB_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			lab_log "process left: $(ps -o pid=,args= -p "$pid")"
			bad=1
		fi
	done
	if pgrep -f "$LAB_DIR/" >/dev/null; then
		lab_log "processes left: $(pgrep -af "$LAB_DIR/")"
		bad=1
	fi
	((bad == 0)) || lab_die "cleanup left things behind"
	lab_log "clean: no namespace or process of $LAB_PREFIX left"
}
