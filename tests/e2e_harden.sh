#!/usr/bin/env bash
# tests/e2e_harden.sh - one regression check (or a few) per defect of the
# hardening report (issue 15: D1-D23, and the import and output defects a
# new user met), run on the built binary. Each check asserts what the
# report says must hold -- the exit status, the message, the database left
# unchanged -- never output copied from the program. The reproducers are in
# tests/data/hardening/. Usage: e2e_harden.sh PATH/TO/piqplan
set -uo pipefail

PIQPLAN=${1:?usage: e2e_harden.sh PATH/TO/piqplan}
. "$(dirname "$0")/lib.sh"
DATA=${PIQPLAN_TEST_DATA:?PIQPLAN_TEST_DATA must point at tests/data}
SRC=${PIQPLAN_SOURCE_ROOT:?PIQPLAN_SOURCE_ROOT must point at the source tree}
H=$DATA/hardening
tmp=$(mktemp -d)
mounted=
cleanup() { [ -n "$mounted" ] && umount "$mounted" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
cd "$tmp"
export PIQPLAN_DB="$tmp/h.db"

json() { # json EXPR : a python expression on the JSON in $out as `j`
	python3 -c "import json,sys; j=json.load(open('$tmp/out')); print($1)"
}
q() { sqlite3 "$PIQPLAN_DB" "$1"; }
file_hash() { sha256sum "$1" | cut -d' ' -f1; }

# The base every case starts from: a catalog, two workloads, a cluster and
# a scenario that has run once (the report's base.db, rebuilt here).
expect 0 init
expect 0 workload import conv "$DATA/workloads/azure_conv.csv" --model deepseek-v3
expect 0 workload import code "$DATA/workloads/azure_code.csv" --model Llama-3.1-70B
expect 0 cluster add lab --gpu H100-SXM-80GB --gpus 16 --usd-per-hour 1.6
expect 0 scenario create s1 --workload conv,code --gpus H200-SXM-141GB,H100-SXM-80GB \
	--start 2027Q1 --quarters 4 --growth 15%
expect 0 scenario run s1
cp "$PIQPLAN_DB" "$tmp/base.db"
fresh() { rm -f "$PIQPLAN_DB" "$PIQPLAN_DB-wal" "$PIQPLAN_DB-shm"; cp "$tmp/base.db" "$PIQPLAN_DB"; }

# --- D1, D2, D20 and the newcomer's timestamps -----------------------------------
fresh
# 1900-01-01 to 2200-01-01 is 9467107200 s: more ns than an int64_t holds, but a good file.
expect 0 workload import d1 "$H/span-1900-2200.csv" --model deepseek-v3
[ "$(q "select span_s from workload where name='d1'")" = 9467107200.0 ] && ok || bad "D1: span"
expect 0 workload import d1b "$H/buckets-period-span-overflow.csv" --model deepseek-v3
expect 0 workload import d1p "$H/prometheus-window-span-overflow.csv" --model deepseek-v3 \
	--model-label m
before=$(db_hash)
expect 65 workload import d2 "$H/mooncake-ts-1e14.jsonl" --model deepseek-v3
contains "column timestamp: expected a time in milliseconds" "$err" "D2: 1e14 ms refused"
expect 65 workload import d2b "$H/mooncake-ts-1e13-with-0.jsonl" --model deepseek-v3
[ "$(db_hash)" = "$before" ] && ok || bad "D2: a refused trace changed the database"
# 11 requests 6 s apart: mean 11/60 s; the peak is never below the mean.
expect 0 workload import d20 "$H/peak-below-mean.csv" --model deepseek-v3
[ "$(q "select peak_rps >= mean_rps from workload where name='d20'")" = 1 ] && ok ||
	bad "D20: peak_rps below mean_rps"
# Relative seconds from 999 to 1000: 4 digits are seconds, not a year.
expect 0 workload import ts4 "$H/epoch-4-digits.csv" --model deepseek-v3
[ "$(q "select first_ts_s, span_s from workload where name='ts4'")" = "999.0|1.0" ] && ok ||
	bad "epoch seconds of 4 digits"
expect 0 workload import ts4f "$H/epoch-4-digits-fraction.csv" --model deepseek-v3
# 13 digits are epoch ms: 1764547200.012 s and a minute later.
expect 0 workload import ms "$H/epoch-ms.csv" --model deepseek-v3
[ "$(q "select first_ts_s, span_s from workload where name='ms'")" = "1764547200.012|60.0" ] &&
	ok || bad "epoch ms by magnitude"
expect 65 workload import ms-as-s "$H/epoch-ms.csv" --model deepseek-v3 --time-unit s
contains "epoch seconds up to 9223372035" "$err" "--time-unit s refuses ms values"
expect 0 workload import ms-as-us "$H/epoch-ms.csv" --model deepseek-v3 --time-unit us
[ "$(q "select span_s from workload where name='ms-as-us'")" = 0.06 ] && ok || bad "--time-unit us"
expect 2 workload import bad-unit "$H/epoch-ms.csv" --model deepseek-v3 --time-unit hours

# --- newcomer: Prometheus exports as they come -------------------------------------
fresh
# 120 DeepSeek-V3 requests and 9,000 Llama-3.1-8B ones: --model keeps the first only.
expect 0 workload import two "$H/prometheus-two-models.csv" --model deepseek-v3
[ "$(q "select requests from workload where name='two'")" = 120 ] && ok ||
	bad "Prometheus: --model did not filter the model column"
expect 65 workload import none "$H/prometheus-two-models.csv" --model Llama-3.1-70B
contains "the file has models" "$err" "Prometheus: no row of the model names the ones there"
# The same export series by series (as the HTTP API returns it) and grouped by window.
expect 0 workload import grouped "$H/prometheus-grouped.csv" --model deepseek-v3
expect 0 workload import series "$H/prometheus-series-major.csv" --model deepseek-v3
[ "$(q "select requests, peak_rps, prompt_tokens_p99 from workload where name='series'")" = \
  "$(q "select requests, peak_rps, prompt_tokens_p99 from workload where name='grouped'")" ] &&
	ok || bad "Prometheus: row order changed the workload"
[ "$(q "select count(*) from workload_bucket b join workload w on w.id = b.workload_id
	where w.name = 'series'")" -gt 1 ] && ok || bad "Prometheus: series order lost buckets"
# _sum and _count rows: exact means 1500/10 and 200/10 (midpoints would say 70.4 and 8.6).
expect 0 workload import sums "$H/prometheus-sum-count.csv" --model deepseek-v3
[ "$(q "select prompt_tokens_mean, output_tokens_mean, sums_estimated from workload
	where name='sums'")" = "150.0|20.0|0" ] && ok || bad "Prometheus: _sum rows not used"

# --- newcomer: a file that is not a workload says what it is and what is read ---------
fresh
before=$(db_hash)
expect 65 workload import j "$H/sharegpt-array.json" --model deepseek-v3
contains "found a JSON array" "$err" "detection: a JSON array"
contains "Mooncake JSON lines" "$err" "detection: names the JSON format read"
expect 65 workload import j "$H/prometheus-query-range.json" --model deepseek-v3
contains "Prometheus HTTP API response" "$err" "detection: Prometheus API JSON"
contains "window_start,window_end,model,metric,le,count" "$err" "detection: names the CSV wanted"
expect 65 workload import j "$H/gateway-log.jsonl" --model deepseek-v3
contains "expected Mooncake JSON lines" "$err" "detection: other JSON lines"
contains "'usage'" "$err" "detection: the keys found"
expect 65 workload import j "$H/pretty-json.json" --model deepseek-v3
contains "a JSON document spread over lines" "$err" "detection: pretty-printed JSON"
expect 65 workload import j "$H/vllm-metrics.prom" --model deepseek-v3
contains "Prometheus text exposition" "$err" "detection: a /metrics scrape"
expect 65 workload import j "$H/semicolons.csv" --model deepseek-v3
contains "separated by ';'" "$err" "detection: semicolons"
[ "$(db_hash)" = "$before" ] && ok || bad "detection: a refused file changed the database"

# --- D7, D21: a config.json past the limits is refused at once -----------------------
fresh
before=$(db_hash)
start=$SECONDS
expect 65 model import "$H/model-2e9-layers-deepseek.json" --id a/b
contains "num_hidden_layers' must be at most 1024" "$err" "D7: 2^31 layers refused"
expect 65 model import "$H/model-cpu-dos-qwen3moe.json" --id a/c
[ $((SECONDS - start)) -lt 20 ] && ok || bad "D7: refusing two configs took $((SECONDS - start)) s"
{ cat "$SRC/seeds/models/meta-llama--Llama-3.1-8B.json"; printf ' x'; } >"$tmp/trail.json"
expect 65 model import "$tmp/trail.json" --id t/t
contains "expected one JSON object, found more text after it" "$err" "D21: trailing text"
expect 65 model import /dev/zero --id z/z
contains "at most 1048576 bytes" "$err" "D12: model import /dev/zero stops at the limit"
[ "$(db_hash)" = "$before" ] && ok || bad "D7: refused configs changed the database"

# --- D8: a model id that vllm serve would read as an option ---------------------------
expect 2 model import "$SRC/seeds/models/meta-llama--Llama-3.1-8B.json" --id=--trust-remote-code
contains "does not start with '-'" "$err" "D8: --id starting with - refused"
cp "$SRC/seeds/models/meta-llama--Llama-3.1-8B.json" "$tmp/-x.json"
expect 65 model import -- "$tmp/-x.json"
[ "$(q "select count(*) from model where id like '-%'")" = 0 ] && ok || bad "D8: a - id was stored"
# A database edited by another tool: the id is refused when read back.
q "CREATE TEMP TABLE m AS SELECT * FROM model WHERE id = 'meta-llama/Llama-3.1-8B';
   UPDATE m SET id = '--trust-remote-code'; INSERT INTO model SELECT * FROM m"
expect 1 estimate --model=--trust-remote-code --gpu H200-SXM-141GB --isl 100 --osl 10
contains "in the database starts with '-'" "$err" "D8: a stored - id refused when read back"
lacks "vllm serve --trust" "$out" "D8: a stored - id reached a vllm serve line"

# --- D12: bounded memory for hostile lines, block ids and whole-file reads ------------
fresh
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
printf '{"timestamp": 0, "input_length": 1, "output_length": 1, "hash_ids": [1]}\n' >"$tmp/id1.jsonl"
r1=$(rss "$PIQPLAN" workload import m1 "$tmp/id1.jsonl" --model deepseek-v3)
r2=$(rss "$PIQPLAN" workload import m2 "$H/mooncake-one-block-id-2e30.jsonl" --model deepseek-v3)
[ "$(q "select count(*) from workload where name in ('m1','m2')")" = 2 ] && ok ||
	bad "D12: the block-id traces did not import"
[ $((r2 - r1)) -lt 32768 ] && ok || bad "D12: one block id 2^30-1 cost $((r2 - r1)) KiB more than id 1"
python3 -c "import sys; sys.stdout.write('timestamp,prompt_tokens,output_tokens,x\n1,1,1,' + 'a' * 3000000 + '\n')" >"$tmp/long.csv"
expect 65 workload import long "$tmp/long.csv" --model deepseek-v3
contains "long.csv:2: expected a CSV record of at most 1048576 bytes" "$err" "D12: a 3 MB CSV field"
expect 65 calibrate /dev/zero --dry-run
contains "NUL byte" "$err" "D12: calibrate /dev/zero stops at the first byte"

# --- D15, D16: CR-only lines; calibrate takes bytes as workload import does -----------
expect 65 workload import cr "$H/cr-only-line-numbers.csv" --model deepseek-v3
contains "cr-only-line-numbers.csv:3: column prompt_tokens" "$err" "D15: CR-only line numbers"
expect 65 calibrate "$H/calibrate-nul-in-model.csv" --dry-run
contains "NUL byte" "$err" "D16: a NUL in a calibration cell is refused"
expect 0 calibrate "$H/calibrate-bom.csv" --dry-run
tr a-z A-Z <"$SRC/seeds/measurements.csv" | head -1 >"$tmp/upper.csv"
tail -n +2 "$SRC/seeds/measurements.csv" | head -3 >>"$tmp/upper.csv"
expect 0 calibrate "$tmp/upper.csv" --dry-run
tr -d '\r' <"$SRC/seeds/measurements.csv" | head -2 | sed '1s/$/,model/; 2s/$/,x/' >"$tmp/dup.csv"
expect 65 calibrate "$tmp/dup.csv" --dry-run
contains "column model: expected once in the header" "$err" "D16: a duplicated header column"
printf '\0\0\0\0' >"$tmp/nul.csv"
expect 65 calibrate "$tmp/nul.csv"
contains "NUL byte" "$err" "D21: a NUL-only calibration file is not 'empty'"
printf 'prompt_tokens_lo,prompt_tokens_hi,output_tokens_lo,output_tokens_hi,requests\n0,1,0,1,0\n' >"$tmp/z.csv"
expect 65 workload import z "$tmp/z.csv" --model deepseek-v3
contains "z.csv:2: column requests: expected at least one request" "$err" "D21: all-zero buckets"

# --- D3: growth and rates beyond what can be planned ---------------------------------
fresh
before=$(db_hash)
expect 2 scenario create big --workload conv --start 2027Q1 --quarters 40 --growth 1e300
contains "at most 1000" "$err" "D3: --growth 1e300 refused"
expect 2 scenario create big --workload conv --start 2027Q1 --quarters 4 --growth conv=1e300
expect 65 workload import hot "$H/buckets-peak-1e300.csv" --model Llama-3.1-8B
contains "expected requests per second from 0 to 10000000" "$err" "D3: peak_rps 1e300 refused"
expect 65 workload import ns "$H/prometheus-1ns-window.csv" --model deepseek-v3 --model-label m
contains "request rates of at most 10000000" "$err" "D3: a 1-ns window refused"
[ "$(db_hash)" = "$before" ] && ok || bad "D3: refused inputs changed the database"
# The largest growth accepted, over 40 quarters, is more than a fleet: flagged, not wrapped.
expect 0 scenario create huge --workload conv --gpus H200-SXM-141GB --start 2027Q1 --quarters 40 \
	--growth 1000
before=$(db_hash)
expect 65 scenario run huge
contains "beyond what piqplan plans" "$err" "D3: a saturated fleet is an error, not 2 instances"
[ "$(db_hash)" = "$before" ] && ok || bad "D3: the failed run changed the database"

# --- D6: a database edited outside piqplan is input, checked when read back ----------
for t in "UPDATE scenario SET quarters = 100 WHERE name = 's1'" \
	 "UPDATE scenario SET start_quarter = 'garbage' WHERE name = 's1'" \
	 "UPDATE engine SET bw_efficiency = 0 WHERE id = 'vllm'" \
	 "UPDATE gpu SET nvlink_domain_gpus = 2147483647 WHERE id = 'H200-SXM-141GB'" \
	 "UPDATE workload SET peak_rps = 1e300 WHERE name = 'conv'" \
	 "UPDATE workload_bucket SET requests = -5 WHERE (workload_id, prompt_tokens_lo, output_tokens_lo) = (SELECT workload_id, prompt_tokens_lo, output_tokens_lo FROM workload_bucket LIMIT 1)" \
	 "UPDATE cluster SET gpus = 9223372036854775807 WHERE name = 'lab'" \
	 "UPDATE scenario SET slo_percentile = 1e300 WHERE name = 's1'" \
	 "UPDATE scenario SET long_ttft_ms_per_1k = -1 WHERE name = 's1'" \
	 "UPDATE scenario SET margin = 'none' WHERE name = 's1'" \
	 "UPDATE scenario SET demand_stat = 'p42' WHERE name = 's1'" \
	 "UPDATE scenario SET max_model_len = 9223372036854775807 WHERE name = 's1'" \
	 "UPDATE gpu SET memory_torch_bytes = memory_bytes * 2 WHERE id = 'H200-SXM-141GB'" \
	 "UPDATE gpu SET gpus_per_node = 0 WHERE id = 'H200-SXM-141GB'" \
	 "UPDATE gpu SET scaleout_bytes_per_s = -1 WHERE id = 'H200-SXM-141GB'" \
	 "UPDATE gpu SET arch = 'Kepler' WHERE id = 'H200-SXM-141GB'" \
	 "UPDATE gpu SET vllm_served = 7 WHERE id = 'H200-SXM-141GB'" \
	 "UPDATE workload SET rate_p99_rps = 1e300 WHERE name = 'conv'" \
	 "UPDATE workload SET total_tokens_max = 9223372036854775807 WHERE name = 'conv'" \
	 "UPDATE engine SET moe_bw_efficiency = 7 WHERE id = 'vllm'" \
	 "UPDATE engine SET layer_latency_us = -1 WHERE id = 'vllm'" \
	 "UPDATE engine_profile SET moe_bw_efficiency = 1e300 WHERE engine_id = 'vllm'" \
	 "UPDATE engine_profile SET log_p10 = 1, log_p90 = -1 WHERE engine_id = 'vllm'"; do
	fresh
	sqlite3 "$PIQPLAN_DB" "PRAGMA ignore_check_constraints = 1; $t"
	before=$(db_hash)
	expect 65 scenario run s1
	contains "as stored" "$err" "D6: $t"
	[ "$(db_hash)" = "$before" ] && ok || bad "D6: a refused run changed the database ($t)"
done
fresh
sqlite3 "$PIQPLAN_DB" "PRAGMA ignore_check_constraints = 1; UPDATE scenario SET quarters = 100"
expect 65 scenario show s1

# --- D13: a horizon ends by 9999Q4 ---------------------------------------------------
fresh
expect 2 scenario create far --workload conv --start 9999Q4 --quarters 4
contains "would end after 9999Q4" "$err" "D13: a horizon past 9999Q4 refused"
expect 0 scenario create far --workload conv --start 9999Q1 --quarters 4
expect 2 scenario set far --quarters 5
[ "$(q "select quarters from scenario where name = 'far'")" = 4 ] && ok || bad "D13: set kept"

# --- D17: the smaller gaps ------------------------------------------------------------
fresh
before=$(db_hash)
expect 2 price add h200 spot 0x10 --as-of 2026 --source hex
expect 2 price add h200 spot 2 --as-of 2026-02-31 --source x
contains "is not a date" "$err" "D17: 2026-02-31 refused"
expect 2 price add h200 spot 2 --as-of 2026-02-29 --source x
expect 2 price add h200 spot 1e308 --as-of 2026 --source x
contains "at most 10000" "$err" "D21: a 300-digit price refused"
expect 2 scenario create e --workload conv --start 2027Q1 --quarters 1 --growth ""
expect 2 scenario create e --workload conv --start 2027Q1 --quarters 1 --gpus ""
expect 2 scenario create e --workload conv --start 2027Q1 --quarters 1 --gpus ,
expect 2 scenario create e --workload , --start 2027Q1 --quarters 1
expect 2 scenario copy s1 ""
expect 2 workload import x "$H/good.csv" --model deepseek-v3 --edges ""
expect 2 workload import "a,b" "$H/good.csv" --model deepseek-v3
contains "without ','" "$err" "D17: a workload name with a comma refused"
expect 2 cluster add c --gpu h200 --gpus 20000000
contains "1 to 10000000" "$err" "D17: the GPU limit is named"
expect 2 cluster add c --gpu h200 --gpus 2 --usd-per-hour 1e300
[ "$(db_hash)" = "$before" ] && ok || bad "D17: refused commands changed the database"
expect 1 plan conv --ttft-ms 0.001
contains "no candidate configuration" "$err" "D17: plan with nothing that serves exits 1"
# A workload name holding '=' takes a growth of its own (split at the last '=').
expect 0 workload import 'a=b' "$H/good.csv" --model deepseek-v3
expect 0 scenario create eq --workload 'a=b' --start 2027Q1 --quarters 1 --growth 'a=b=5'
[ "$(q "select sw.growth_pct_per_quarter from scenario_workload sw join workload w
	on w.id = sw.workload_id where w.name = 'a=b'")" = 5.0 ] && ok || bad "--growth NAME=PCT with '='"

# --- D14 and newcomer: estimate's max_model_len and its JSON ---------------------------
fresh
# Llama-3.1-8B's max_position_embeddings is 131072: a 501,000-token request cannot be served.
expect 0 estimate --model Llama-3.1-8B --gpu H200-SXM-141GB --isl 500000 --osl 1000 --json
[ "$(json 'j["fits"]')" = False ] && ok || bad "D14: max_model_len past the context fits"
contains "max_position_embeddings" "$(json 'j["reason"]')" "D14: the reason names the context"
# 130,000 + 1,000 tokens fit the context: rounding up to 256 must not pass 131072.
expect 0 estimate --model Llama-3.1-8B --gpu H200-SXM-141GB --isl 130000 --osl 1000 --json
[ "$(json 'j["max_model_len"] <= 131072')" = True ] && ok || bad "D14: rounded past the context"
keys() { json 'sorted(j)'; }
expect 0 estimate --model Llama-3.1-8B --gpu H200-SXM-141GB --isl 100 --osl 10 --json
k1=$(keys); [ "$(json 'j["reason"]')" = None ] && ok || bad "estimate --json: reason not null"
expect 0 estimate --model deepseek-v3 --gpu H200-SXM-141GB --isl 2000 --osl 500 --tp 1 --json
k2=$(keys); [ "$(json 'j["fits"], j["kv_tokens"]')" = "False None" ] && ok ||
	bad "estimate --json: a value where there is none"
[ "$k1" = "$k2" ] && ok || bad "estimate --json: keys differ between fits and not"

# --- newcomer: report CSV numbers round-trip in the fewest digits --------------------
fresh
expect 0 report quarterly s1 --format csv
LC_ALL=C grep -Eq ',[0-9]+\.[0-9]*000000000[0-9]$|,[0-9]+\.[0-9]*99999999[0-9]$' "$tmp/out" &&
	bad "report CSV: a number printed with float noise" || ok
python3 - "$tmp/out" <<'PY' && ok || bad "report CSV: a number that is not the shortest round-trip"
import csv, sys
for r in csv.reader(open(sys.argv[1], newline="")):
    v = r[3]
    try:
        x = float(v)
    except ValueError:
        continue
    if v != repr(x) and v != repr(x).removesuffix(".0") and float(v) == x and len(v) > len(repr(x)):
        sys.exit(1)
PY

# --- newcomer: scenario run prints its hints on stderr -------------------------------
fresh
expect 0 scenario run s1
lacks "select * from v_configs" "$out" "scenario run: a hint on stdout"
contains "select * from v_configs" "$err" "scenario run: the hint on stderr"

# --- D22: 65,536 buckets sharing one prompt range are checked in one sweep -----------
fresh
python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    f.write('prompt_tokens_lo,prompt_tokens_hi,output_tokens_lo,output_tokens_hi,requests\n')
    f.write(''.join(f'0,+Inf,{k},{k+1},1\n' for k in range(65536)))" "$tmp/n2.csv"
start=$SECONDS
expect 0 workload import n2 "$tmp/n2.csv" --model deepseek-v3
[ $((SECONDS - start)) -lt 30 ] && ok || bad "D22: 65,536 buckets took $((SECONDS - start)) s"
[ "$(q "select requests from workload where name = 'n2'")" = 65536 ] && ok || bad "D22: requests"
{ head -n 60001 "$tmp/n2.csv"; printf '0,10,0,5,1\n'; } >"$tmp/n2b.csv"
expect 65 workload import n2b "$tmp/n2b.csv" --model deepseek-v3
contains "does not overlap the bucket on line 2" "$err" "D22: the overlap is still found"

# --- D4: a command whose stdout fails rolls back and exits 1 -------------------------
fresh
runs=$(q 'select count(*) from run')
"$PIQPLAN" scenario run s1 >/dev/full 2>"$tmp/err"; st=$?
[ $st -eq 1 ] && ok || bad "D4: scenario run > /dev/full exit $st, want 1"
[ "$(q 'select count(*) from run')" = "$runs" ] && ok || bad "D4: the run was kept after exit 1"
"$PIQPLAN" price add h200 spot 9 --as-of 2026 --source d4 >/dev/full 2>/dev/null; st=$?
[ $st -eq 1 ] && ok || bad "D4: price add > /dev/full exit $st, want 1"
[ "$(q "select count(*) from gpu_price where source='d4'")" = 0 ] && ok ||
	bad "D4: the price was kept after exit 1"
"$PIQPLAN" workload import d4 "$DATA/workloads/tiny_requests.csv" --model deepseek-v3 \
	>/dev/full 2>/dev/null
[ "$(q "select count(*) from workload where name='d4'")" = 0 ] && ok ||
	bad "D4: the workload was kept after exit 1"
"$PIQPLAN" report quarterly s1 >/dev/full 2>/dev/null; st=$?
[ $st -eq 1 ] && [ "$(q 'select count(*) from report')" = 0 ] && ok ||
	bad "D4: report > /dev/full exit $st and a report row kept"

# --- D5: refused or failing commands leave the file's bytes alone ------------------
fresh
sqlite3 "$PIQPLAN_DB" 'PRAGMA journal_mode=DELETE; PRAGMA user_version=99' >/dev/null
before=$(file_hash "$PIQPLAN_DB")
expect 1 model list
contains "newer than this piqplan" "$err" "D5: newer database refused"
[ "$(file_hash "$PIQPLAN_DB")" = "$before" ] && ok || bad "D5: a refused newer database changed"
[ "$(q 'PRAGMA journal_mode')" = delete ] && ok || bad "D5: journal mode switched on a refused file"
# Another application's database (D5), and one that happens to carry piqplan's user_version (D17).
for sql in 'PRAGMA application_id=42; CREATE TABLE t(x);' 'PRAGMA user_version=4; CREATE TABLE model(x);'; do
	rm -f "$tmp/other.db"
	sqlite3 "$tmp/other.db" "$sql"
	before=$(file_hash "$tmp/other.db")
	expect 1 --db "$tmp/other.db" model list
	contains "not a piqplan database" "$err" "D5, D17: a foreign database refused ($sql)"
	[ "$(file_hash "$tmp/other.db")" = "$before" ] && ok || bad "D5, D17: a foreign database changed ($sql)"
done
fresh
sqlite3 "$PIQPLAN_DB" 'PRAGMA journal_mode=DELETE' >/dev/null
before=$(file_hash "$PIQPLAN_DB")
expect 65 workload import bad "$DATA/workloads/bad_negative.csv" --model deepseek-v3
expect 0 model list
[ "$(file_hash "$PIQPLAN_DB")" = "$before" ] && ok ||
	bad "D5: a failed import or a read changed a DELETE-mode database's bytes"

# --- D9, D10: stored text cannot drive the terminal or shape the Markdown ---------
fresh
evil=$'\e]0;pwned\a\e[2J\e[31mRED\r\xc2\x9b'
expect 0 cluster add "$evil" --gpu H100-SXM-80GB --gpus 4
stored_hex=$(q "select hex(name) from cluster where name like '%pwned%'")
[ "$stored_hex" = "$(printf %s "$evil" | od -An -tx1 -v | tr -d ' \n' | tr a-f A-F)" ] && ok ||
	bad "D9: the name was not stored byte for byte"
noctl() { # noctl LABEL FILE: no ESC, BEL, CR, DEL or C1 byte in FILE
	if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]' "$2"; then
		bad "$1: a control character reached the output"; else ok; fi
}
expect 0 cluster list;                      noctl "D9: cluster list" "$tmp/out"
expect 1 cluster add "$evil" --gpu H100-SXM-80GB --gpus 4
noctl "D9: an error message naming it" "$tmp/err"
expect 0 scenario create $'s\e[2J' --workload conv --start 2027Q1 --quarters 1 \
	--description $'\e[2Jcleared\n# Injected\n---'
noctl "D9: scenario create" "$tmp/out"
expect 0 scenario run $'s\e[2J';            noctl "D9: scenario run" "$tmp/out"
expect 0 scenario show $'s\e[2J';           noctl "D9: scenario show" "$tmp/out"
expect 0 report quarterly $'s\e[2J';        noctl "D9: the Markdown report" "$tmp/out"
[ "$(grep -c '^# ' "$tmp/out")" = 1 ] && ok || bad "D10: a stored description made a heading"
! grep -q '^---' "$tmp/out" && ok || bad "D10: a stored description made a rule"
expect 0 scenario create '# Fake heading' --workload conv --start 2027Q1 --quarters 1
expect 0 scenario run '# Fake heading'
expect 0 report quarterly '# Fake heading'
[ "$(grep -c '^# ' "$tmp/out")" = 1 ] && ok || bad "D10: a scenario name made a heading"
expect 0 report quarterly $'s\e[2J' --format csv
LC_ALL=C grep -q $'\e\[2J' "$tmp/out" && ok || bad "D9: CSV must still carry the stored bytes"

# A database held EXCLUSIVE by another process: reading it is busy (75), as writing it is.
fresh
sqlite3 "$PIQPLAN_DB" 'PRAGMA journal_mode=DELETE' >/dev/null
( printf 'PRAGMA locking_mode=EXCLUSIVE;\nBEGIN EXCLUSIVE;\nSELECT 1;\n'; sleep 7; printf 'COMMIT;\n' ) |
	sqlite3 "$PIQPLAN_DB" >/dev/null &
sleep 0.5
expect 75 model list
contains "busy" "$err" "an EXCLUSIVE lock makes a read busy"
wait

# --- D11: an option's value is never --help or --db ------------------------------
fresh
expect 0 price add h200 spot 2 --as-of 2026 --source --help
[ "$(q "select count(*) from gpu_price where source='--help'")" = 1 ] && ok ||
	bad "D11: --source --help was not stored as the source"
expect 0 scenario create n --workload conv --start 2027Q1 --quarters 4 --description -h
[ "$(q "select description from scenario where name='n'")" = -h ] && ok ||
	bad "D11: --description -h was not stored"
expect 0 scenario create n2 --workload conv --start 2027Q1 --quarters 1 --description --db
[ "$(q "select description from scenario where name='n2'")" = --db ] && ok ||
	bad "D11: --description --db was not stored"
[ ! -e "$tmp/--workload" ] && ok || bad "D11: a file named after an option value was created"
expect 0 scenario create --help
contains "usage: piqplan scenario create" "$out" "D11: --help still asks for help"
expect 0 --db "$PIQPLAN_DB" model list
expect 0 model list --db "$PIQPLAN_DB"

# --- D14 (newcomer), D17: a missing database is not created ------------------------
for cmd in "model list" "gpu list" "workload list" "scenario list" "report list"; do
	# shellcheck disable=SC2086
	expect 1 --db "$tmp/typo.db" $cmd
	contains "piqplan init" "$err" "missing database: $cmd says run piqplan init"
done
expect 1 --db "$tmp/typo.db" workload import w "$DATA/workloads/tiny_requests.csv" --model x
[ ! -e "$tmp/typo.db" ] && ok || bad "D17: a read or write on a missing database created it"
expect 1 --db "" model list
contains "empty" "$err" "D17: --db '' is refused"
: >"$tmp/empty.db"
expect 1 --db "$tmp/empty.db" model list
contains "not initialised" "$err" "an empty file is not a database yet"

# --- D18: init is one transaction ----------------------------------------------
kills=0
for d in 0.005 0.01 0.015 0.02 0.03 0.04 0.06 0.08; do
	rm -f "$tmp/i.db" "$tmp/i.db-wal" "$tmp/i.db-shm"
	"$PIQPLAN" --db "$tmp/i.db" init >/dev/null 2>&1 &
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
	wait "$pid" 2>/dev/null
	[ -e "$tmp/i.db" ] || continue
	v=$(sqlite3 "$tmp/i.db" 'PRAGMA user_version' 2>/dev/null)
	g=$(sqlite3 "$tmp/i.db" 'SELECT count(*) FROM gpu' 2>/dev/null)
	if [ "${v:-0}" = 0 ] || [ "$g" = 11 ]; then ok; else
		bad "D18: init killed after ${d}s left schema $v with ${g:-no} GPUs"
	fi
done
echo "D18: $kills of 8 kills landed during init"

# --- D19: report -o never lands on the database, or on any SQLite file ------------
fresh
before=$(db_hash)
expect 1 report quarterly s1 -o "$PIQPLAN_DB"
contains "is the database" "$err" "D19: -o the database itself is refused"
expect 1 report quarterly s1 -o "$PIQPLAN_DB-wal"
expect 1 report quarterly s1 -o "$tmp/base.db"
contains "SQLite database" "$err" "D19: -o another SQLite file is refused"
[ "$(db_hash)" = "$before" ] && ok || bad "D19: a refused report changed the database"
expect 0 model list
printf 'an older report\n' >"$tmp/keep.md"
expect 1 report quarterly s1 --run 99 -o "$tmp/keep.md"
[ "$(cat "$tmp/keep.md")" = "an older report" ] && ok || bad "D19: a failed report truncated -o FILE"
expect 0 report quarterly s1 -o "$tmp/keep.md"
contains "# Quarterly capacity report: s1" "$(cat "$tmp/keep.md")" "D19: the report replaced FILE"
[ -z "$(ls "$tmp" | grep 'keep.md.tmp')" ] && ok || bad "D19: a temporary file was left behind"

# --- D23: a database on read-only media can be read --------------------------------
mkdir "$tmp/ro"
if mount -t tmpfs -o size=16m tmpfs "$tmp/ro" 2>/dev/null; then
	mounted=$tmp/ro
	cp "$tmp/base.db" "$tmp/ro/r.db"
	mount -o remount,ro "$tmp/ro"
	expect 0 --db "$tmp/ro/r.db" model list
	expect 0 --db "$tmp/ro/r.db" workload show conv
	expect 0 --db "$tmp/ro/r.db" scenario show s1
	expect 1 --db "$tmp/ro/r.db" price add h200 spot 9 --as-of 2026 --source ro
	contains "read-only" "$err" "D23: a write on read-only media says why"
	umount "$tmp/ro" && mounted=
else
	echo "D23: skipped (cannot mount a tmpfs here)"
fi

# --- A run stored before migration 006 lists no pool workloads (D19's base.db) ---------
fresh
expect 0 scenario run s1
q "DELETE FROM run_pool_workload"
for f in md html; do
	expect 0 report quarterly s1 --format $f
done

# --- An old database with a row its upgrade refuses: exit 65, named, no crash ----------
# Schema 5 (migrations 001-005, as piqplan wrote them) with a scenario of 100 quarters stored
# past its CHECK: migration 006 re-checks the table and fails.
old="$tmp/old.db"
rm -f "$old"
cat "$SRC"/schema/00[1-5]_*.sql | sqlite3 "$old"
sqlite3 "$old" "PRAGMA user_version = 5; PRAGMA application_id = 1346982224;
	INSERT INTO engine (id, version, gpu_memory_utilization, memory_fraction_of,
	  max_num_seqs_large, max_num_seqs_small, large_gpu_min_bytes, max_num_batched_tokens_large,
	  max_num_batched_tokens_small, block_size_tokens, non_torch_tp1_bytes, non_torch_tpn_bytes,
	  cuda_graph_bytes, activation_bytes_per_token_dense, activation_bytes_per_token_moe,
	  bw_efficiency, flops_efficiency, moe_efficiency_floor, moe_tokens_per_expert_half,
	  step_overhead_ms, allreduce_alpha_us, link_efficiency, source)
	VALUES ('vllm', '0.19', 0.9, 'total', 1024, 256, 75161927680, 8192, 2048, 16, 1, 1, 1,
	  1, 1, 0.8, 0.5, 0.1, 4, 5, 10, 0.8, 'x');
	PRAGMA ignore_check_constraints = 1;
	INSERT INTO scenario (name, start_quarter, quarters, ttft_ms, tpot_ms, utilization, pricing,
	  redundancy, long_context, engine_id)
	VALUES ('s', '2027Q1', 100, 1000, 100, 0.7, 'on-demand', 0, 'auto', 'vllm');" ||
	bad "could not build the schema-5 database"
PIQPLAN_DB="$old" expect 65 scenario list
contains "migration 006_plan.sql failed on a row already stored" "$err" \
	"an upgrade refused by a stored row names the migration"
[ "$(sqlite3 "$old" 'PRAGMA user_version')" = 5 ] && ok ||
	bad "the refused upgrade left a schema other than 5"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
