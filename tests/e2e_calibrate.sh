#!/bin/bash
# e2e_calibrate.sh - end-to-end checks of calibration as a store: the built
# binary (path in $1) on fresh databases. `measurement add|import|list|
# remove` (the shipped rows, the user's own, duplicates, malformed files
# leaving the store as it was), `calibrate` from the store and from a file
# (exit codes, the JSON keys, --dry-run writes nothing, a real run writes
# the profiles with their spread, the fit does not make the error worse),
# and a smoke run of scripts/validate on a small store.
set -u
PIQPLAN=${1:?usage: e2e_calibrate.sh PATH/TO/piqplan}
. "$(dirname "$0")/lib.sh"
ROOT=${PIQPLAN_SOURCE_ROOT:?}
SEED="$ROOT/seeds/measurements.csv"
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

sql() {	# sql QUERY: one value
	python3 - "$PIQPLAN_DB" "$1" <<'PY'
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print("" if r is None else "|".join("" if v is None else str(v) for v in r))
PY
}

expect 0 init
# init loads every shipped measurement and the shipped profiles; again adds nothing.
seeded=$(sql "SELECT count(*) FROM measurement WHERE origin = 'seed'")
want=$(($(wc -l <"$SEED") - 1))
[ "$seeded" = "$want" ] || fail "init loaded $seeded measurements, seeds have $want"
profiles=$(sql "SELECT count(*) FROM engine_profile")
[ "$profiles" -gt 0 ] || fail "init loaded no fitted profiles"
expect 0 init
[ "$(sql "SELECT count(*) FROM measurement")" = "$want" ] || fail "a second init added rows"
grep -q ", 0 measurements, 0 fitted profiles" "$TMP/out" || fail "second init: $(cat "$TMP/out")"
# Serving modes the model does not have yet are stored but not fitted.
[ "$(sql "SELECT count(*) > 0 FROM measurement WHERE mode IN ('mtp', 'prefix-cache')")" = 1 ] ||
	fail "no mtp / prefix-cache rows stored"

# --- measurement list / add / import / remove ---------------------------------
expect 0 measurement list --engine trtllm --json
python3 - "$TMP/out" <<'PY' || fail "measurement list --json"
import json, sys
rows = json.load(open(sys.argv[1]))
assert rows and all(r["engine"] == "trtllm" and r["source"] for r in rows), rows[:2]
for k in ("id", "origin", "model", "gpu", "tp", "load", "output_tok_s", "mode", "source"):
    assert k in rows[0], k
PY
expect 0 measurement list --gpu MI300X-192GB
grep -q "MI300X-192GB" "$TMP/out" || fail "list --gpu: $(head -3 "$TMP/out")"

expect 2 measurement add --model llama-3.1-8b --gpu h100 --isl 500 --osl 200 \
	--concurrency 8 --output-tok-s 1500	# no --source
expect 2 measurement add --model llama-3.1-8b --gpu h100 --isl 500 --osl 200 \
	--output-tok-s 1500 --source x		# no load shape
expect 2 measurement add --model llama-3.1-8b --gpu h100 --isl 500 --osl 200 \
	--concurrency 8 --output-tok-s 1500 --source x --mode turbo
expect 1 measurement add --model nosuch --gpu h100 --isl 500 --osl 200 \
	--concurrency 8 --output-tok-s 1500 --source x
expect 0 measurement add --model llama-3.1-8b --gpu h100 --isl 500 --osl 200 \
	--concurrency 8 --output-tok-s 1500 --tpot-ms 5.1 --source "my lab, 2026-11-30"
grep -q "measurement [0-9]*: meta-llama/Llama-3.1-8B on 1 x H100-SXM-80GB (vllm)" "$TMP/out" ||
	fail "add: $(cat "$TMP/out")"
mine=$(sql "SELECT id FROM measurement WHERE origin = 'user'")
expect 0 measurement add --model llama-3.1-8b --gpu h100 --isl 500 --osl 200 \
	--concurrency 8 --output-tok-s 1500 --tpot-ms 5.1 --source "my lab, 2026-11-30"
grep -q "already stored" "$TMP/out" || fail "duplicate add: $(cat "$TMP/out")"

# import: a malformed row is FILE:LINE and the column, exit 65, nothing stored.
before=$(sql "SELECT count(*) FROM measurement")
{ head -1 "$SEED"; sed -n 2,3p "$SEED";
  echo "meta-llama/Llama-3.1-8B,H100-SXM-80GB,1,1,1,0,fp8,trtllm,abc,2048,offline,,100,,,,,standard,,x,"; } >"$TMP/bad.csv"
expect 65 measurement import "$TMP/bad.csv"
grep -q "bad.csv:4: column isl: expected a number from 0.001" "$TMP/err" ||
	fail "bad row message: $(cat "$TMP/err")"
[ "$(sql "SELECT count(*) FROM measurement")" = "$before" ] || fail "a bad import stored rows"
# An absurd prompt length (it would overflow the token arithmetic): the same, with the bound.
{ head -1 "$SEED"; sed -n 2,3p "$SEED";
  echo "meta-llama/Llama-3.1-8B,H100-SXM-80GB,1,1,1,0,fp8,trtllm,1e300,2048,offline,,100,,,,,standard,,x,"; } >"$TMP/huge.csv"
expect 65 measurement import "$TMP/huge.csv"
grep -q "huge.csv:4: column isl: expected a number from 0.001 to 10000000" "$TMP/err" ||
	fail "absurd isl message: $(cat "$TMP/err")"
[ "$(sql "SELECT count(*) FROM measurement")" = "$before" ] || fail "an absurd import stored rows"
{ head -1 "$SEED" | sed 's/,tpot_ms//'; } >"$TMP/nocol.csv"
expect 65 measurement import "$TMP/nocol.csv"
grep -q "nocol.csv:1: missing column tpot_ms" "$TMP/err" || fail "missing column: $(cat "$TMP/err")"
# A row without a source needs --source; a serving mode it does not know is refused.
printf '%s\n%s\n' "model,gpu,gpus,tp,pp,ep,precision,engine,isl,osl,load,load_value,output_tok_s,ttft_ms,tpot_ms" \
	"openai/gpt-oss-20b,H100-SXM-80GB,1,1,1,0,native,vllm,1000,1000,concurrency,16,2400,,9.5" >"$TMP/mine.csv"
expect 65 measurement import "$TMP/mine.csv"
grep -q "mine.csv:2: column source" "$TMP/err" || fail "no source: $(cat "$TMP/err")"
expect 0 measurement import "$TMP/mine.csv" --source "my lab"
grep -q "imported 1 measurement from" "$TMP/out" || fail "import: $(cat "$TMP/out")"
expect 0 measurement import "$TMP/mine.csv" --source "my lab"
grep -q "imported 0 measurements from .* (1 already stored)" "$TMP/out" || fail "re-import: $(cat "$TMP/out")"
printf '%s\n%s\n' "model,gpu,gpus,tp,pp,ep,precision,engine,isl,osl,load,load_value,output_tok_s,ttft_ms,tpot_ms,mode,source" \
	"acme/None-1B,H100-SXM-80GB,1,1,1,0,bf16,vllm,100,100,rate,1,100,,,warp,x" >"$TMP/mode.csv"
expect 65 measurement import "$TMP/mode.csv"
grep -q "mode.csv:2: column mode: expected standard, mtp" "$TMP/err" || fail "mode: $(cat "$TMP/err")"
# A model the catalog lacks is stored with a warning (fitted once it is added).
sed -i 's/,warp,/,standard,/' "$TMP/mode.csv"
expect 0 measurement import "$TMP/mode.csv"
grep -q "mode.csv:2: unknown model 'acme/None-1B': stored" "$TMP/err" || fail "unknown model: $(cat "$TMP/err")"

expect 2 measurement remove abc
expect 1 measurement remove 999999
grep -q "no measurement 999999" "$TMP/err" || fail "remove missing: $(cat "$TMP/err")"
expect 0 measurement remove "$mine"
[ "$(sql "SELECT count(*) FROM measurement WHERE id = $mine")" = 0 ] || fail "remove left the row"

# --- calibrate -------------------------------------------------------------------
expect 2 calibrate --bogus
expect 1 calibrate --engine nosuch
expect 1 calibrate "$TMP/none.csv"
expect 65 calibrate "$TMP/bad.csv"
grep -q "bad.csv:4: column isl: expected a number from 0.001" "$TMP/err" || fail "calibrate bad file"
[ "$(sql "SELECT count(*) FROM engine_profile")" = "$profiles" ] || fail "a bad file changed the profiles"

# An unknown model in a file row is skipped with a warning naming it.
{ head -1 "$SEED"; grep ',trtllm,' "$SEED" | head -6;
  echo "acme/None-1B,H100-SXM-80GB,1,1,1,0,fp8,trtllm,128,128,offline,,100,,,,,standard,,x,"; } >"$TMP/unk.csv"
expect 0 calibrate "$TMP/unk.csv" --dry-run --in-sample
grep -q "unk.csv:8: unknown model 'acme/None-1B': row skipped" "$TMP/err" ||
	fail "unknown model warning: $(cat "$TMP/err")"

# --dry-run on the store, one engine, in-sample: the report, nothing written.
shipped=$(sql "SELECT group_concat(round(log_p90, 6)) FROM engine_profile WHERE engine_id = 'trtllm'")
expect 0 calibrate --engine trtllm --dry-run --in-sample --json
python3 - "$TMP/out" <<'PY' || fail "dry-run JSON"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["dry_run"] is True and o["file"] == "measurement"
(e,) = o["engines"]
assert e["engine"] == "trtllm"
names = [p["profile"] for p in e["profiles"]]
assert names[0] == "trtllm" and "trtllm x Hopper x dense" in names, names
for p in e["profiles"]:
    for k in ("bw_efficiency", "flops_efficiency", "attn_efficiency", "kv_bw_efficiency",
              "moe_bw_efficiency",
              "layer_latency_us", "moe_layer_latency_us", "step_overhead_ms", "seq_overhead_us",
              "request_overhead_ms", "ttft_latency_ms", "rows", "log_p10", "log_p90"):
        assert k in p, k
    assert p["log_p10"] <= p["log_p90"]
assert len(e["rows_detail"]) == e["rows"]
assert "validation" not in e      # --in-sample: no cross-validation
# The fit does not make the loss it minimises worse than the unfitted start.
assert e["error_after"]["output_tok_s"]["median_ape_pct"] < 25, e["error_after"]
PY
[ "$(sql "SELECT group_concat(round(log_p90, 6)) FROM engine_profile WHERE engine_id = 'trtllm'")" = "$shipped" ] ||
	fail "--dry-run changed the profiles"

# A real run from a small file on one engine writes its profiles, held-out spreads and all.
{ head -1 "$SEED"; grep ',trtllm,' "$SEED" | grep H100 | head -30;
  grep ',trtllm,' "$SEED" | grep A100 | head -10; } >"$TMP/trt.csv"
expect 0 calibrate "$TMP/trt.csv" --engine trtllm
grep -q "engine trtllm: 40 rows" "$TMP/out" || fail "plain output: $(head -3 "$TMP/out")"
grep -q "held out, leave one source out" "$TMP/out" || fail "no held-out error"
python3 - "$PIQPLAN_DB" <<'PY' || fail "stored profiles"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("SELECT scope, scope_name, model_class, rows, log_p10, log_p90, out_of_sample,"
                 " source FROM engine_profile WHERE engine_id = 'trtllm'").fetchall()
scopes = {(s, n, k) for s, n, k, *_ in rows}
assert ("engine", "", "any") in scopes and ("arch", "Hopper", "any") in scopes, scopes
assert ("arch", "Ampere", "any") in scopes, scopes
for r in rows:
    assert r[4] <= r[5] and r[6] == 1 and "piqplan calibrate on 40 trtllm rows" in r[7], r
# The other engines keep the shipped profiles.
assert c.execute("SELECT count(*) FROM engine_profile WHERE engine_id = 'vllm'").fetchone()[0] > 0
PY
# An estimate now names that profile.
expect 0 estimate --model llama-3.1-8b --gpu A100-SXM-80GB --tp 1 --engine trtllm \
	--isl 1000 --osl 1000 --json
python3 - "$TMP/out" <<'PY' || fail "estimate band: $(cat "$TMP/out")"
import json, sys
b = json.load(open(sys.argv[1]))["band"]
assert b["profile"] == "trtllm x Ampere x dense" or b["profile"] == "trtllm x Ampere", b
assert b["validated"] is True and b["rows"] > 0, b
PY
expect 0 estimate --model llama-3.1-8b --gpu MI300X-192GB --tp 1 --engine trtllm \
	--isl 1000 --osl 1000
grep -q "unvalidated   no measurements of trtllm on CDNA3" "$TMP/out" ||
	fail "unvalidated band: $(grep -A2 band "$TMP/out")"

# --- scripts/validate on a small store ---------------------------------------------------
cp "$PIQPLAN_DB" "$TMP/small.db"
python3 - "$TMP/small.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("DELETE FROM measurement WHERE NOT (engine = 'trtllm' AND gpu_id IN"
          " ('H100-SXM-80GB', 'A100-SXM-80GB') AND model_id LIKE 'meta-llama/%')")
c.commit()
PY
PIQPLAN="$PIQPLAN" "$ROOT/scripts/validate" --db "$TMP/small.db" >"$TMP/val" 2>"$TMP/err" ||
	fail "scripts/validate: $(cat "$TMP/err")"
grep -q "leave one source out" "$TMP/val" && grep -q "trtllm x Ampere" "$TMP/val" &&
	grep -q "shipped rows, fitted" "$TMP/val" || fail "validate output: $(head -20 "$TMP/val")"

if [ "$fails" -gt 0 ]; then
	echo "e2e_calibrate: $fails failure(s)" >&2
	exit 1
fi
echo "e2e_calibrate: all checks passed"
