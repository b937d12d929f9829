# shellcheck shell=bash
# healthctl.sh: asking a test's daemon through anycast-healthctl. Needs
# CTL (the CLI) and SOCK (the daemon's control socket) set by the test.

ctl() { "$CTL" --socket "$SOCK" "$@"; }

# svc SERVICE EXPR: true when the Python expression EXPR holds for the
# service's "status --json" object s (false while the daemon is not there).
svc() {
	local j
	j=$(ctl --json status "$1" 2>/dev/null) || return 1
	python3 -c 'import json, sys
s = json.loads(sys.argv[1])["services"][0]
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$j" "$2"
}

# svc_confirmed SERVICE: every prefix announced and confirmed by the speaker.
svc_confirmed() { svc "$1" 'all(p["announced"] and p["speaker"] == "confirmed" for p in s["prefixes"])'; }
