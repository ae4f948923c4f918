#!/bin/bash
# e2e_calibrate.sh - end-to-end checks of `piqplan calibrate`: the built
# binary (path in $1) on a fresh database with the shipped measurements
# (seeds/calibration.csv): exit codes, the JSON keys, a malformed row
# (FILE:LINE, exit 65, database unchanged), --dry-run writes nothing, a
# real run writes the fit, and the fit does not make the error worse.
set -u
PIQPLAN=${1:?usage: e2e_calibrate.sh PATH/TO/piqplan}
. "$(dirname "$0")/lib.sh"
ROOT=${PIQPLAN_SOURCE_ROOT:?}
CSV="$ROOT/seeds/calibration.csv"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export PIQPLAN_DB="$TMP/test.db"
fails=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

expect() {
	local want=$1; shift
	"$PIQPLAN" "$@" >"$TMP/out" 2>"$TMP/err"
	local got=$?
	[ "$got" = "$want" ] ||
		fail "exit $got, want $want: piqplan $* ($(head -c 300 "$TMP/err"))"
}

engine_row() {	# the fitted columns of one engine, as text
	sqlite3 "$PIQPLAN_DB" "SELECT bw_efficiency, flops_efficiency, step_overhead_ms,
		moe_efficiency_floor, moe_tokens_per_expert_half, fitted_at FROM engine
		WHERE id = '$1'" 2>/dev/null || python3 - "$PIQPLAN_DB" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT bw_efficiency, flops_efficiency, step_overhead_ms, moe_efficiency_floor,"
                " moe_tokens_per_expert_half, fitted_at FROM engine WHERE id = ?",
                (sys.argv[2],)).fetchone())
PY
}

expect 0 init
before=$(engine_row vllm)

# Usage errors: no file, unknown option.
expect 2 calibrate
expect 2 calibrate "$CSV" --bogus
# An unknown engine for --engine: failure, exit 1.
expect 1 calibrate "$CSV" --engine nosuch
# A missing file: exit 1.
expect 1 calibrate "$TMP/none.csv"

# A malformed row: FILE:LINE and the column, exit 65, nothing written.
{ head -3 "$CSV"; echo "meta-llama/Llama-3.1-8B,H100-SXM-80GB,1,1,1,0,fp8,trtllm,abc,2048,offline,,100,,,x"; } >"$TMP/bad.csv"
expect 65 calibrate "$TMP/bad.csv"
grep -q "bad.csv:4: column isl: expected a number from 0.001" "$TMP/err" ||
	fail "bad row message: $(cat "$TMP/err")"
[ "$(engine_row vllm)" = "$before" ] || fail "a bad file changed the engine table"
# An absurd prompt length (it would overflow the token arithmetic): the same, with the bound.
{ head -3 "$CSV"; echo "meta-llama/Llama-3.1-8B,H100-SXM-80GB,1,1,1,0,fp8,trtllm,1e300,2048,offline,,100,,,x"; } >"$TMP/huge.csv"
expect 65 calibrate "$TMP/huge.csv"
grep -q "huge.csv:4: column isl: expected a number from 0.001 to 10000000" "$TMP/err" ||
	fail "absurd isl message: $(cat "$TMP/err")"
{ head -1 "$CSV" | sed 's/,tpot_ms//'; } >"$TMP/nocol.csv"
expect 65 calibrate "$TMP/nocol.csv"
grep -q "nocol.csv:1: missing column tpot_ms" "$TMP/err" || fail "missing column: $(cat "$TMP/err")"

# An unknown model in a row is skipped with a warning naming it.
{ head -3 "$CSV"; echo "acme/None-1B,H100-SXM-80GB,1,1,1,0,fp8,trtllm,128,128,offline,,100,,,x"; } >"$TMP/unk.csv"
expect 0 calibrate "$TMP/unk.csv" --dry-run
grep -q "unk.csv:4: unknown model 'acme/None-1B': row skipped" "$TMP/err" ||
	fail "unknown model warning: $(cat "$TMP/err")"

# --dry-run: the report, nothing written.
expect 0 calibrate "$CSV" --dry-run --json
python3 - "$TMP/out" <<'PY' || fail "dry-run JSON"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["dry_run"] is True
names = {e["engine"] for e in o["engines"]}
assert names == {"vllm", "sglang", "trtllm"}, names
for e in o["engines"]:
    for k in ("rows", "params", "error_before", "error_after", "rows_detail"):
        assert k in e, k
    assert set(e["params"]) == {"bw_efficiency", "flops_efficiency", "step_overhead_ms",
                                "moe_efficiency_floor", "moe_tokens_per_expert_half"}
    for m in ("output_tok_s", "ttft", "tpot"):
        assert "median_ape_pct" in e["error_after"][m] and "p90_ape_pct" in e["error_after"][m]
    assert len(e["rows_detail"]) == e["rows"]
    # The fit never makes the loss it minimises worse than where it started.
    assert e["error_after"]["loss"] <= e["error_before"]["loss"] + 1e-9, e["engine"]
PY
[ "$(engine_row vllm)" = "$before" ] || fail "--dry-run changed the engine table"

# A real run on one engine writes it (and records when), not the others.
trt_before=$(engine_row trtllm)
expect 0 calibrate "$CSV" --engine vllm
grep -q "engine vllm: 27 rows" "$TMP/out" || fail "plain output: $(head -3 "$TMP/out")"
grep -q "output tok/s" "$TMP/out" || fail "no error table"
[ "$(engine_row vllm)" != "$before" ] || fail "calibrate did not write vllm"
[ "$(engine_row trtllm)" = "$trt_before" ] || fail "--engine vllm changed trtllm"
python3 - "$PIQPLAN_DB" <<'PY' || fail "fit record"
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
at, rows, js = c.execute("SELECT fitted_at, fit_rows, fit_error_json FROM engine"
                         " WHERE id = 'vllm'").fetchone()
assert at and rows == 27, (at, rows)
j = json.loads(js)
# The fit minimises the loss; a median of one of its terms may move either way.
assert j["after"]["loss"] <= j["before"]["loss"] + 1e-9, (j["before"]["loss"], j["after"]["loss"])
PY

# Calibrating again from the fitted values: the error before is now the fitted one.
expect 0 calibrate "$CSV" --engine vllm --dry-run --json
python3 - "$TMP/out" <<'PY' || fail "second pass"
import json, sys
e = json.load(open(sys.argv[1]))["engines"][0]
assert e["error_before"]["output_tok_s"]["median_ape_pct"] < 40, e["error_before"]
PY

if [ "$fails" -gt 0 ]; then
	echo "e2e_calibrate: $fails failure(s)" >&2
	exit 1
fi
echo "e2e_calibrate: all checks passed"
