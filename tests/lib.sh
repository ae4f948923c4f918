# tests/lib.sh - sourced by the end-to-end scripts, after they set PIQPLAN.
#
# Under a checker (PIQPLAN_WRAPPER, a command prefix such as "valgrind -q
# --error-exitcode=99"; `meson test --setup=valgrind` sets it), PIQPLAN is
# pointed at a one-line script beside the binary that runs it through the
# checker, so every piqplan the test starts is checked.
if [ -n "${PIQPLAN_WRAPPER:-}" ]; then
	pq_wrap="$(cd "$(dirname "$PIQPLAN")" && pwd)/.wrapped-$(basename "$0" .sh)"
	printf '#!/usr/bin/env bash\nexec %s %q "$@"\n' "$PIQPLAN_WRAPPER" "$PIQPLAN" >"$pq_wrap.tmp" &&
		chmod +x "$pq_wrap.tmp" && mv "$pq_wrap.tmp" "$pq_wrap" && PIQPLAN=$pq_wrap
fi

# The checks. A script sets $tmp (a scratch directory) before calling expect.
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect STATUS ARGS... : run piqplan ARGS, check its exit status; output in $out and $err.
expect() {
	local want=$1; shift
	"$PIQPLAN" "$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	out=$(cat "$tmp/out") err=$(cat "$tmp/err")
	if [ "$got" -eq "$want" ]; then ok; else bad "piqplan $* -> exit $got, want $want; stderr: $err"; fi
}
contains() { # contains WHAT TEXT LABEL
	case "$2" in *"$1"*) ok ;; *) bad "$3: expected '$1' in: ${2:0:400}" ;; esac
}
lacks() { # lacks WHAT TEXT LABEL
	case "$2" in *"$1"*) bad "$3: did not expect '$1'" ;; *) ok ;; esac
}
# q SQL: run a query on the test's database. check LABEL SQL: the query must print 1.
q() { sqlite3 "$PIQPLAN_DB" "$1"; }
check() {
	local v; v=$(q "$2"); [ "$v" = 1 ] && ok || bad "$1: got '$v' from: $2"
}
# The database's contents, to prove a failed command changed nothing.
db_hash() { sqlite3 "$PIQPLAN_DB" .dump | sha256sum; }
