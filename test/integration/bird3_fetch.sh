#!/bin/bash
# test/integration/bird3_fetch.sh [DIR]: a BIRD 3 for the tests on Debian 12,
# which has none. Debian 13's bird3 binary package runs here with its own
# loader and libraries, unpacked, not installed: a private apt
# configuration lists the machine's own Debian mirror (from
# /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list) with
# suite trixie; bird3 and the libraries it needs (its Depends/Pre-Depends
# named lib*, followed recursively with apt-cache depends) are fetched with
# apt-get download and unpacked with dpkg -x into DIR/root; the loader's
# --list then proves nothing is missing. DIR/bin/bird and DIR/bin/birdc
# exec BIRD 3's programs through that loader. DIR (default
# /var/cache/anycast-healthd-test/bird3) is reused while DIR/complete
# exists; a failed fetch leaves nothing behind. AHD_BIRD3_MIRROR overrides
# the mirror. Exit 0 with BIRD 3 ready,
# 1 with the reason on stderr (no network, no mirror, a library missing).
set -euo pipefail
DIR=${1:-${AHD_BIRD3_DIR:-/var/cache/anycast-healthd-test/bird3}}
SUITE=trixie

say() { echo "bird3_fetch: $*" >&2; }
die() {
	say "$*"
	exit 1
}

if [[ -f $DIR/complete && -x $DIR/bin/bird && -x $DIR/bin/birdc ]] &&
	"$DIR/bin/bird" --version 2>&1 | grep -q '^BIRD version 3\.'; then
	exit 0
fi

# The machine's own Debian mirror: the first URI of a deb822 stanza that is
# not the security archive, or the first classic "deb" line.
mirror() {
	local f=/etc/apt/sources.list.d/debian.sources u
	if [[ -r $f ]]; then
		u=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
		[[ -n $u ]] && { echo "$u"; return; }
	fi
	if [[ -r /etc/apt/sources.list ]]; then
		u=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) { print $i; exit } else break } }' /etc/apt/sources.list)
		[[ -n $u ]] && { echo "$u"; return; }
	fi
	echo http://deb.debian.org/debian
}

MIRROR=${AHD_BIRD3_MIRROR:-$(mirror)}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $KEYRING ]] || die "no $KEYRING to verify Debian $SUITE with"
TMP="$DIR.tmp.$$"
trap 'rm -rf "$TMP"' EXIT
rm -rf "$TMP"
mkdir -p "$TMP"/etc/sources.list.d "$TMP"/state/lists/partial "$TMP"/cache/archives/partial \
	"$TMP"/dl "$TMP"/root "$TMP"/bin
echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main" >"$TMP/etc/sources.list"
OPTS=(-o "Dir::Etc::SourceList=$TMP/etc/sources.list" -o "Dir::Etc::SourceParts=$TMP/etc/sources.list.d"
	-o "Dir::State=$TMP/state" -o "Dir::Cache=$TMP/cache" -o Dir::State::status=/var/lib/dpkg/status
	-o Acquire::http::Timeout=20 -o Acquire::Retries=1 -o APT::Sandbox::User=root)
say "fetching Debian $SUITE's bird3 from $MIRROR into $DIR"
apt-get "${OPTS[@]}" -q update >"$TMP/update.log" 2>&1 ||
	die "apt-get update for $MIRROR $SUITE failed: $(tail -3 "$TMP/update.log")"
# apt-get update succeeds with an unreachable mirror (it only warns).
apt-cache "${OPTS[@]}" show bird3 >/dev/null 2>&1 ||
	die "no bird3 from $MIRROR $SUITE: $(grep -m2 '^[WE]:' "$TMP/update.log" || tail -2 "$TMP/update.log")"

# bird3 plus, recursively, the lib* packages it depends on (Depends and
# Pre-Depends; virtual names and other packages are not needed to run it).
declare -A seen=()
queue=(bird3)
pkgs=()
while ((${#queue[@]})); do
	p=${queue[0]}
	queue=("${queue[@]:1}")
	[[ -n ${seen[$p]:-} ]] && continue
	seen[$p]=1
	pkgs+=("$p")
	deps=$(apt-cache "${OPTS[@]}" depends --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$p" 2>/dev/null |
		awk '$1 ~ /^\|?(Pre)?Depends:$/ && $2 !~ /^</ { sub(/:any$/, "", $2); print $2 }') ||
		die "apt-cache depends $p failed"
	for d in $deps; do
		[[ $d == lib* || $d == zlib1g ]] && [[ -z ${seen[$d]:-} ]] && queue+=("$d")
	done
done
say "packages: ${pkgs[*]}"
(cd "$TMP/dl" && apt-get "${OPTS[@]}" -q download "${pkgs[@]}") >"$TMP/download.log" 2>&1 ||
	die "apt-get download failed: $(tail -3 "$TMP/download.log")"
for f in "$TMP"/dl/*.deb; do dpkg -x "$f" "$TMP/root"; done

R=$DIR/root
loader=$(cd "$TMP/root" && ls usr/lib/*/ld-linux*.so.* lib*/ld-linux*.so.* 2>/dev/null | head -1) ||
	true
[[ -n $loader ]] || die "no dynamic loader in the unpacked libc6"
multiarch=$(basename "$(dirname "$loader")")
libpath="$R/usr/lib/$multiarch:$R/lib/$multiarch"
for prog in bird birdc; do
	[[ -x $TMP/root/usr/sbin/$prog ]] || die "bird3 has no usr/sbin/$prog"
	cat >"$TMP/bin/$prog" <<-EOF
		#!/bin/sh
		# BIRD 3 (Debian $SUITE's bird3) through its own loader and libraries.
		exec "$R/$loader" --library-path "$libpath" "$R/usr/sbin/$prog" "\$@"
	EOF
	chmod 0755 "$TMP/bin/$prog"
done
# Verify in place: the wrappers name DIR, so check from TMP by the same
# relative paths first.
tlib="$TMP/root/usr/lib/$multiarch:$TMP/root/lib/$multiarch"
for prog in bird birdc; do
	missing=$("$TMP/root/$loader" --list --library-path "$tlib" "$TMP/root/usr/sbin/$prog" 2>&1 |
		grep 'not found' || true)
	[[ -z $missing ]] || die "$prog: libraries missing: $missing"
done
ver=$("$TMP/root/$loader" --library-path "$tlib" "$TMP/root/usr/sbin/bird" --version 2>&1) || true
[[ $ver == "BIRD version 3."* ]] || die "the unpacked bird does not run: $ver"
rm -rf "$TMP/dl" "$TMP/cache" "$TMP/state"
echo "$ver" >"$TMP/complete"
mkdir -p "$(dirname "$DIR")"
rm -rf "$DIR"
mv "$TMP" "$DIR"
trap - EXIT
"$DIR/bin/bird" --version 2>&1 | grep -q '^BIRD version 3\.' || die "$DIR/bin/bird does not run"
say "$ver ready in $DIR"
