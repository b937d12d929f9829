# shellcheck shell=bash
# test/integration/etcd.sh: a real etcd v3 cluster in the lab, for the fleet
# tests (several PoP daemons sharing state through etcd). Source it after
# lib.sh (source "$(dirname "$0")/etcd.sh"); call lab_add_etcd after
# lab_topology, optionally lab_etcd_tls_init, then lab_start_etcd.
#
#            pop1 ---.
#            pop2 -------- up ------- etcd (m1 192.0.2.66, m2 .67, m3 .68)
#            pop3 ---'     (forwards)
#            pop4 ---'
#
# The members all live in one namespace (role "etcd"), each on its own
# address of 192.0.2.64/28 on the link to the upstream (up .65, members .66,
# .67, ... up to .78; IPv4 only). Every PoP reaches them through its default
# route via up, which forwards (lab_topology turns that on); so does the
# client. Peers talk plain http on :2380; clients http or, after
# lab_etcd_tls_init, https with client certificates on :2379.
#
# Files, all under $LAB_DIR: etcd-<i>/ (member i's data dir), etcd-<i>.log
# (its log, zap JSON lines; printed by lab_cleanup on failure), etcd-tls/
# (the certificates). The members are lab_spawn'ed, but out of LAB_PIDS:
# lab_cleanup stops the daemons first, then its hook lab_etcd_cleanup kills
# every member (paused ones too), before it empties the namespaces.
#
# Timeouts: --heartbeat-interval 50 --election-timeout 500 (ms), half of
# etcd's defaults: a lost leader is replaced in about 0.5-1 s instead of
# 1-2 s, which keeps the tests short, while 10 heartbeats per election
# timeout still ride out a busy CI host (the sanitizer build and other
# namespaces' daemons) without spurious elections. --pre-vote (etcd 3.5's
# default) keeps a member resumed after lab_etcd_pause_member from
# disturbing the leader with a new term. A request the cluster cannot
# commit (no quorum) fails after etcd's request timeout, 5 s + 2 election
# timeouts = 6 s.
#
# Globals are for the scripts that source this; wait_for takes conditions in
# single quotes on purpose (evaluated later).
# shellcheck disable=SC2034,SC2016

LAB_ETCD_NET=192.0.2.64/28
LAB_ETCD_GW=192.0.2.65
LAB_ETCD_MAX=13
LAB_ETCD_N=0
LAB_ETCD_TLS=0
LAB_ETCD_TLS_DIR=
LAB_ETCD_SCHEME=http
LAB_ETCD_ENDPOINTS=
LAB_ETCD_ENDPOINTS_JSON=
LAB_ETCD_URLS=()
LAB_ETCD_INITIAL_CLUSTER=
LAB_ETCD_UP_MS=
LAB_ETCD_STOPPED=()
LAB_ETCD_ALL_PIDS=()
LAB_ETCD_HOOKED=0
declare -A LAB_ETCD_PID=()
declare -A LAB_ETCD_CUT=()

# lab_etcd_addr I: member I's address (1: 192.0.2.66).
lab_etcd_addr() {
	echo "192.0.2.$((65 + $1))"
}

# lab_etcd_url I: member I's client URL (http or https, as the cluster runs).
lab_etcd_url() {
	echo "$LAB_ETCD_SCHEME://$(lab_etcd_addr "$1"):2379"
}

# lab_etcd_env_clean: `env` arguments unsetting every ETCD_* and ETCDCTL_*
# variable: etcd and etcdctl 3.4 refuse an environment variable that
# shadows a flag given, and the host's environment must not reach the lab.
lab_etcd_env_clean() {
	local v
	for v in $(compgen -e); do
		[[ $v == ETCD_* || $v == ETCDCTL_* ]] && printf -- '-u\n%s\n' "$v"
	done
	return 0
}

# lab_add_etcd [N]: the etcd namespace, its link to up and N member
# addresses (default 3, at most 13). Call after lab_topology.
lab_add_etcd() {
	local n=${1:-3} i
	((n >= 1 && n <= LAB_ETCD_MAX)) || lab_die "lab_add_etcd: 1 to $LAB_ETCD_MAX members, not $n"
	((LAB_ETCD_N == 0)) || lab_die "lab_add_etcd: already added"
	[[ $(ip netns exec "$(lab_ns up)" sysctl -n net.ipv4.ip_forward 2>/dev/null) == 1 ]] ||
		lab_die "lab_add_etcd: up does not forward (call lab_topology first)"
	command -v etcd >/dev/null || lab_die "missing tool: etcd (package etcd-server)"
	command -v etcdctl >/dev/null || lab_die "missing tool: etcdctl (package etcd-client)"
	lab_ns_add etcd
	lab_link up to-etcd etcd to-up
	lab_addr up to-etcd "$LAB_ETCD_GW/28"
	for ((i = 1; i <= n; i++)); do lab_addr etcd to-up "$(lab_etcd_addr "$i")/28"; done
	ip -n "$(lab_ns etcd)" route add default via "$LAB_ETCD_GW"
	LAB_ETCD_N=$n
}

# lab_etcd_cert DIR NAME CA CN EKU [SAN]: NAME.pem and NAME-key.pem (EC
# P-256) in DIR, signed by CA (DIR/CA.pem, DIR/CA-key.pem).
lab_etcd_cert() {
	local dir=$1 name=$2 ca=$3 cn=$4 eku=$5 san=${6:-}
	{
		echo "basicConstraints = critical, CA:FALSE"
		echo "keyUsage = critical, digitalSignature, keyEncipherment"
		echo "extendedKeyUsage = $eku"
		[[ -z $san ]] || echo "subjectAltName = $san"
	} >"$dir/$name.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
		-keyout "$dir/$name-key.pem" -out "$dir/$name.csr" 2>/dev/null ||
		lab_die "openssl: cannot make the key of $name"
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca-key.pem" \
		-CAcreateserial -days 30 -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null ||
		lab_die "openssl: cannot sign $name"
}

# lab_etcd_ca DIR NAME CN: a self-signed CA, NAME.pem and NAME-key.pem.
lab_etcd_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj "/CN=$3" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-keyout "$1/$2-key.pem" -out "$1/$2.pem" 2>/dev/null || lab_die "openssl: cannot make CA $2"
}

# lab_etcd_tls_init: certificates in $LAB_DIR/etcd-tls and TLS on for the
# next lab_start_etcd (https, --client-cert-auth against the lab CA):
#   ca.pem                      the lab CA (LAB_ETCD_CA)
#   server.pem/-key.pem         every member's: IP SANs 192.0.2.66 to .78
#                               and 127.0.0.1, serverAuth and clientAuth
#                               (etcd's JSON gateway dials its own gRPC
#                               server with it)
#   admin.pem/-key.pem          lab_etcdctl's client certificate
#   pop1..pop4.pem/-key.pem     CN=popN client certificates
#   bad-client.pem/-key.pem     CN=bad-client, signed by another CA
#                               (other-ca.pem): the members reject it
# Exports LAB_ETCD_CA and LAB_ETCD_CLIENT_CERT_<name> and
# LAB_ETCD_CLIENT_KEY_<name> for pop1..pop4, admin and bad_client (the
# name's "-" as "_"); lab_etcd_client_cert NAME prints "CERT KEY".
# LAB_ETCD_TLS=0 before lab_start_etcd goes back to plain http.
lab_etcd_tls_init() {
	local dir="$LAB_DIR/etcd-tls" san="IP:127.0.0.1" i name var
	command -v openssl >/dev/null || lab_die "missing tool: openssl"
	mkdir -p "$dir"
	chmod 0755 "$dir"
	for ((i = 1; i <= LAB_ETCD_MAX; i++)); do san+=",IP:$(lab_etcd_addr "$i")"; done
	lab_etcd_ca "$dir" ca "anycast-healthd lab etcd CA"
	lab_etcd_ca "$dir" other-ca "some other CA"
	lab_etcd_cert "$dir" server ca "etcd member" "serverAuth, clientAuth" "$san"
	for name in admin pop1 pop2 pop3 pop4; do
		lab_etcd_cert "$dir" "$name" ca "$name" clientAuth
	done
	lab_etcd_cert "$dir" bad-client other-ca bad-client clientAuth
	rm -f "$dir"/*.csr "$dir"/*.ext "$dir"/*.srl
	# The daemon under test may run as another user (ExaBGP's process).
	chmod 0644 "$dir"/*.pem
	for name in admin pop1 pop2 pop3 pop4 bad-client; do
		var=${name//-/_}
		export "LAB_ETCD_CLIENT_CERT_$var=$dir/$name.pem" "LAB_ETCD_CLIENT_KEY_$var=$dir/$name-key.pem"
	done
	export LAB_ETCD_CA="$dir/ca.pem"
	LAB_ETCD_TLS_DIR=$dir
	LAB_ETCD_TLS=1
}

# lab_etcd_client_cert NAME: "CERT KEY" of a client certificate (pop1..pop4,
# admin, bad-client).
lab_etcd_client_cert() {
	[[ -n $LAB_ETCD_TLS_DIR && -f $LAB_ETCD_TLS_DIR/$1.pem ]] ||
		lab_die "lab_etcd_client_cert: no certificate $1 (lab_etcd_tls_init first)"
	echo "$LAB_ETCD_TLS_DIR/$1.pem $LAB_ETCD_TLS_DIR/$1-key.pem"
}

# lab_etcd_spawn I STATE: start member I (initial cluster state new or
# existing), pid in LAB_ETCD_PID[I].
lab_etcd_spawn() {
	local i=$1 state=$2 addr tls=() env_clean=()
	addr=$(lab_etcd_addr "$i")
	if ((LAB_ETCD_TLS)); then
		tls=(--client-cert-auth --trusted-ca-file "$LAB_ETCD_CA"
			--cert-file "$LAB_ETCD_TLS_DIR/server.pem" --key-file "$LAB_ETCD_TLS_DIR/server-key.pem")
	fi
	mapfile -t env_clean < <(lab_etcd_env_clean)
	lab_spawn etcd "etcd-$i.log" env "${env_clean[@]}" etcd --name "m$i" \
		--data-dir "$LAB_DIR/etcd-$i" --logger zap --log-outputs stderr \
		--listen-client-urls "$(lab_etcd_url "$i")" \
		--advertise-client-urls "$(lab_etcd_url "$i")" \
		--listen-peer-urls "http://$addr:2380" --initial-advertise-peer-urls "http://$addr:2380" \
		--initial-cluster "$LAB_ETCD_INITIAL_CLUSTER" --initial-cluster-state "$state" \
		--initial-cluster-token "$LAB_PREFIX" \
		--heartbeat-interval 50 --election-timeout 500 --pre-vote "${tls[@]}"
	LAB_ETCD_PID[$i]=$LAB_LAST_PID
	# Out of LAB_PIDS, which lab_cleanup stops together with the daemons:
	# lab_etcd_cleanup stops the members after them.
	unset 'LAB_PIDS[-1]'
	LAB_ETCD_ALL_PIDS+=("$LAB_LAST_PID")
	((LAB_ETCD_HOOKED)) || LAB_CLEANUP_HOOKS+=(lab_etcd_cleanup)
	LAB_ETCD_HOOKED=1
}

# lab_etcd_cleanup: lab_cleanup's hook: every member ever started is
# resumed and killed (SIGKILL: on SIGTERM a leader first hands over its
# leadership, and with all members stopping at once that hangs for
# seconds; the data is thrown away anyway), and reaped.
lab_etcd_cleanup() {
	local pid
	for pid in "${LAB_ETCD_ALL_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null || true
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in "${LAB_ETCD_ALL_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	for pid in "${LAB_ETCD_ALL_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && lab_log "etcd member left: $(ps -o pid=,args= -p "$pid")"
	done
	LAB_ETCD_PID=()
	return 0
}

# lab_start_etcd [N]: a new cluster of members 1..N (default: all that
# lab_add_etcd made; fresh data dirs), waits up to 30 s until every member
# is healthy (lab_etcdctl endpoint health: a quorum read through each).
# Sets LAB_ETCD_URLS (array), LAB_ETCD_ENDPOINTS ("URL,URL,URL", for
# etcdctl), LAB_ETCD_ENDPOINTS_JSON ('["URL", ...]', for a daemon file's
# fleet.etcd), LAB_ETCD_PID[I] and LAB_ETCD_UP_MS (start to healthy).
lab_start_etcd() {
	local n=${1:-$LAB_ETCD_N} i t0 urls=() json=() peers=()
	((LAB_ETCD_N)) || lab_die "lab_start_etcd: lab_add_etcd first"
	((n >= 1 && n <= LAB_ETCD_N)) || lab_die "lab_start_etcd: 1 to $LAB_ETCD_N members, not $n"
	for i in "${!LAB_ETCD_PID[@]}"; do
		[[ -z ${LAB_ETCD_PID[$i]} ]] || lab_die "lab_start_etcd: member $i runs (lab_stop_etcd first)"
	done
	LAB_ETCD_PID=()
	LAB_ETCD_SCHEME=http
	((LAB_ETCD_TLS)) && LAB_ETCD_SCHEME=https
	for ((i = 1; i <= n; i++)); do
		rm -rf "$LAB_DIR/etcd-$i"
		urls+=("$(lab_etcd_url "$i")")
		json+=("\"$(lab_etcd_url "$i")\"")
		peers+=("m$i=http://$(lab_etcd_addr "$i"):2380")
	done
	LAB_ETCD_URLS=("${urls[@]}")
	LAB_ETCD_ENDPOINTS=$(
		IFS=,
		echo "${urls[*]}"
	)
	LAB_ETCD_ENDPOINTS_JSON="[$(
		IFS=,
		echo "${json[*]}"
	)]"
	LAB_ETCD_INITIAL_CLUSTER=$(
		IFS=,
		echo "${peers[*]}"
	)
	t0=$(lab_now_us)
	for ((i = 1; i <= n; i++)); do lab_etcd_spawn "$i" new; done
	wait_for 'lab_etcd_healthy' 30 || {
		lab_etcdctl endpoint health >&2 || true
		lab_die "etcd did not come up (see $LAB_DIR/etcd-*.log)"
	}
	LAB_ETCD_UP_MS=$(lab_ms $(($(lab_now_us) - t0)))
	lab_log "etcd: $n members ($LAB_ETCD_SCHEME) healthy after $LAB_ETCD_UP_MS ms"
}

# lab_etcd_healthy [I...]: every member named (default: all of the cluster)
# answers a quorum read.
lab_etcd_healthy() {
	local members
	members=$(
		IFS=,
		echo "$*"
	)
	if [[ -n $members ]]; then
		lab_etcdctl_at "$members" --dial-timeout 1s --command-timeout 2s endpoint health
	else
		lab_etcdctl --dial-timeout 1s --command-timeout 2s endpoint health
	fi >/dev/null 2>&1
}

# lab_stop_etcd: stop every member (SIGTERM); their data dirs stay until
# the next lab_start_etcd, which makes a new cluster.
lab_stop_etcd() {
	local i
	for i in "${!LAB_ETCD_PID[@]}"; do
		[[ -z ${LAB_ETCD_PID[$i]} ]] || lab_etcd_stop_member "$i"
	done
}

# lab_etcdctl ARGS...: ETCDCTL_API=3 etcdctl in the etcd namespace against
# every member (--endpoints LAB_ETCD_ENDPOINTS), with the admin client
# certificate when TLS is on; dial timeout 2 s, command timeout etcdctl's
# 5 s (a later --dial-timeout or --command-timeout in ARGS wins). Another
# --endpoints in ARGS does not replace the list (etcdctl appends it): use
# lab_etcdctl_at for some members only.
lab_etcdctl() {
	lab_etcdctl_eps "$LAB_ETCD_ENDPOINTS" "$@"
}

# lab_etcdctl_at I[,I...] ARGS...: lab_etcdctl against those members only.
lab_etcdctl_at() {
	local eps="" i members
	IFS=, read -ra members <<<"$1"
	shift
	for i in "${members[@]}"; do eps+="${eps:+,}$(lab_etcd_url "$i")"; done
	lab_etcdctl_eps "$eps" "$@"
}

# lab_etcdctl_eps ENDPOINTS ARGS...: what the two above share.
lab_etcdctl_eps() {
	local eps=$1 tls=() env_clean=()
	shift
	if [[ $LAB_ETCD_SCHEME == https ]]; then
		tls=(--cacert "$LAB_ETCD_CA" --cert "$LAB_ETCD_CLIENT_CERT_admin"
			--key "$LAB_ETCD_CLIENT_KEY_admin")
	fi
	mapfile -t env_clean < <(lab_etcd_env_clean)
	ip netns exec "$(lab_ns etcd)" env "${env_clean[@]}" ETCDCTL_API=3 etcdctl \
		--endpoints "$eps" --dial-timeout 2s "${tls[@]}" "$@"
}

# lab_etcd_leader: the index of the member that is leader (empty, status 1,
# when none of the running ones says it is).
lab_etcd_leader() {
	local i
	for i in "${!LAB_ETCD_PID[@]}"; do
		[[ -n ${LAB_ETCD_PID[$i]} ]] || continue
		lab_etcdctl_at "$i" --dial-timeout 1s --command-timeout 1s endpoint status -w simple 2>/dev/null | awk -F', ' '$5 == "true" { f = 1 } END { exit !f }' &&
			{
				echo "$i"
				return 0
			}
	done
	return 1
}

# lab_etcd_member_pid I: member I's pid (empty when stopped).
lab_etcd_member_pid() {
	echo "${LAB_ETCD_PID[$1]:-}"
}

# lab_etcd_stop_member I: stop member I cleanly (SIGTERM: a leader hands
# its leadership to a follower first); its data dir stays.
lab_etcd_stop_member() {
	[[ -n ${LAB_ETCD_PID[$1]:-} ]] || lab_die "lab_etcd_stop_member: member $1 does not run"
	lab_stop "${LAB_ETCD_PID[$1]}"
	LAB_ETCD_PID[$1]=
}

# lab_etcd_kill_member I: crash member I (SIGKILL: no leadership transfer,
# the others elect a new leader after the election timeout).
lab_etcd_kill_member() {
	[[ -n ${LAB_ETCD_PID[$1]:-} ]] || lab_die "lab_etcd_kill_member: member $1 does not run"
	kill -KILL "${LAB_ETCD_PID[$1]}" 2>/dev/null || true
	wait "${LAB_ETCD_PID[$1]}" 2>/dev/null || true
	LAB_ETCD_PID[$1]=
}

# lab_etcd_start_member I: restart a stopped member I with its data dir
# (--initial-cluster-state existing); waits up to 30 s until it answers a
# quorum read (so: only while the others hold a quorum with it; use
# lab_etcd_quorum_restore after lab_etcd_quorum_loss).
lab_etcd_start_member() {
	[[ -z ${LAB_ETCD_PID[$1]:-} ]] || lab_die "lab_etcd_start_member: member $1 runs"
	[[ -d $LAB_DIR/etcd-$1 ]] || lab_die "lab_etcd_start_member: member $1 never ran"
	lab_etcd_spawn "$1" existing
	wait_for "lab_etcd_healthy $1" 30 || lab_die "etcd member $1 did not come back (see $LAB_DIR/etcd-$1.log)"
}

# lab_etcd_pause_member I / lab_etcd_resume_member I: SIGSTOP / SIGCONT
# member I: it keeps its sockets (connections to it hang instead of
# failing), the others see it as gone. Resume before the test ends.
lab_etcd_pause_member() {
	[[ -n ${LAB_ETCD_PID[$1]:-} ]] || lab_die "lab_etcd_pause_member: member $1 does not run"
	kill -STOP "${LAB_ETCD_PID[$1]}"
}
lab_etcd_resume_member() {
	[[ -n ${LAB_ETCD_PID[$1]:-} ]] || lab_die "lab_etcd_resume_member: member $1 does not run"
	kill -CONT "${LAB_ETCD_PID[$1]}"
}

# lab_etcd_quorum_loss: stop (SIGTERM) the highest-numbered members until
# fewer than a majority run (3 members: m2 and m3; m1 stays up: its
# address accepts connections, but nothing can be committed and quorum
# reads fail: a put through the gateway answers an error after about 6 s).
# Leaves the members stopped in LAB_ETCD_STOPPED (an array). Like every
# function that starts or stops members, not to be called in a subshell.
lab_etcd_quorum_loss() {
	local n=${#LAB_ETCD_PID[@]} i running=()
	LAB_ETCD_STOPPED=()
	for ((i = 1; i <= n; i++)); do [[ -n ${LAB_ETCD_PID[$i]:-} ]] && running+=("$i"); done
	for ((i = ${#running[@]} - 1; i >= 0 && ${#running[@]} - ${#LAB_ETCD_STOPPED[@]} > n / 2; i--)); do
		lab_etcd_stop_member "${running[$i]}"
		LAB_ETCD_STOPPED+=("${running[$i]}")
	done
}

# lab_etcd_quorum_restore: start every stopped member again (existing data
# dirs) and wait until all are healthy.
lab_etcd_quorum_restore() {
	local i
	for i in "${!LAB_ETCD_PID[@]}"; do
		[[ -n ${LAB_ETCD_PID[$i]} ]] || lab_etcd_spawn "$i" existing
	done
	wait_for 'lab_etcd_healthy' 30 || lab_die "etcd quorum did not come back (see $LAB_DIR/etcd-*.log)"
}

# lab_etcd_cut POP [reject|drop]: etcd unreachable from POP only, both
# ways; the other PoPs, and the members among themselves, are untouched.
# In both modes up drops what the members send to POP's address (an `ip
# rule` on up: iif to-etcd, to POP, action blackhole), so an established
# stream (a watch) gets nothing more either; and what POP sends:
#   reject (default): by an "unreachable 192.0.2.64/28" route in POP's
#     namespace: new connections fail at once (EHOSTUNREACH, curl "No
#     route to host" or "Couldn't connect"); established ones stall until
#     a timeout or TCP keepalive ends them.
#   drop: a silent partition: up drops it too (iif to-POP, to the members'
#     /28, blackhole): connects time out, established connections stall,
#     nothing is ever refused.
# lab_etcd_uncut POP removes it all. POP: any PoP with a link to up
# (pop1..pop4).
lab_etcd_cut() {
	local pop=$1 mode=${2:-reject} up
	up=$(lab_ns up)
	[[ -z ${LAB_ETCD_CUT[$pop]:-} ]] || lab_die "lab_etcd_cut: $pop is already cut"
	[[ -n ${LAB_POP_V4[$pop]:-} ]] || lab_die "lab_etcd_cut: no PoP $pop"
	case $mode in
	reject) ip -n "$(lab_ns "$pop")" route add unreachable "$LAB_ETCD_NET" ;;
	drop) ip -n "$up" rule add iif "to-$pop" to "$LAB_ETCD_NET" blackhole priority 100 ;;
	*) lab_die "lab_etcd_cut: mode reject or drop, not $mode" ;;
	esac
	ip -n "$up" rule add iif to-etcd to "${LAB_POP_V4[$pop]}" blackhole priority 100
	LAB_ETCD_CUT[$pop]=$mode
}
lab_etcd_uncut() {
	local pop=$1 up
	up=$(lab_ns up)
	case ${LAB_ETCD_CUT[$pop]:-} in
	reject) ip -n "$(lab_ns "$pop")" route del unreachable "$LAB_ETCD_NET" ;;
	drop) ip -n "$up" rule del iif "to-$pop" to "$LAB_ETCD_NET" blackhole priority 100 ;;
	*) lab_die "lab_etcd_uncut: $pop is not cut" ;;
	esac
	ip -n "$up" rule del iif to-etcd to "${LAB_POP_V4[$pop]}" blackhole priority 100
	LAB_ETCD_CUT[$pop]=
}
