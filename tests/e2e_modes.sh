#!/usr/bin/env bash
# tests/e2e_modes.sh - issue 14 part A's "done when", end to end: the
# serving modes inside one instance. On the Mooncake conversation trace
# (36.6 % of its prefix blocks are reused: 105,710 of 288,500 hash ids,
# counted by hand from the file) DeepSeek-V3 planned with prefix caching
# needs fewer GPUs than with --prefix-hit 0, and the run says by how many
# and on what assumption. `plan` on the Azure conversation trace over H200
# and B200 lists aggregated, MTP and fp8-KV candidates with their costs,
# and the winner's launch line runs the mode it assumes. The failure
# paths: a bad --prefix-hit, --spec-acceptance outside (0, 1), an unknown
# method, n-gram without an acceptance, speculation with PP. Values are
# worked out from the inputs or are invariants, never copied from
# piqplan's output.
# Usage: e2e_modes.sh PATH/TO/piqplan
set -uo pipefail

PIQPLAN=${1:?usage: e2e_modes.sh PATH/TO/piqplan}
. "$(dirname "$0")/lib.sh"
DATA=${PIQPLAN_TEST_DATA:?PIQPLAN_TEST_DATA must point at tests/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export PIQPLAN_DB="$tmp/m.db"

expect 0 init
expect 0 workload import mc "$DATA/workloads/mooncake_conversation.jsonl" \
	--model deepseek-ai/DeepSeek-V3
expect 0 workload import conv "$DATA/workloads/azure_conv.csv" --model deepseek-ai/DeepSeek-V3

# The reuse curve: 17 shares, none decreasing, the last the unbounded share
# (105,710 / 288,500 = 0.36641); within one minute (2^6 s) it is well below it.
check "mooncake reuse share" "SELECT abs(prefix_reuse_share - 105710.0 / 288500) < 1e-9
	FROM workload WHERE name = 'mc'"
check "reuse curve: 17 points ending at the share" "SELECT json_array_length(prefix_reuse_within)
	= 17 AND abs(json_extract(prefix_reuse_within, '\$[16]') - prefix_reuse_share) < 1e-5
	AND json_extract(prefix_reuse_within, '\$[6]') < prefix_reuse_share / 2
	FROM workload WHERE name = 'mc'"
check "no reuse measured for a request log" "SELECT prefix_reuse_share IS NULL
	AND prefix_reuse_within IS NULL FROM workload WHERE name = 'conv'"

# --- prefix caching on the Mooncake conversation trace --------------------------------
# At the trace's own rate every pool is one or two 8-GPU instances and whole instances hide
# a 20-30 % prefill saving; growing 50 % a quarter for a year, the fleet is large enough for it.
expect 0 scenario create pc --workload mc --gpus H200-SXM-141GB,B200-SXM-180GB \
	--start 2027Q1 --quarters 4 --growth 50%
expect 0 scenario copy pc nopc
expect 0 scenario set nopc --prefix-hit 0
expect 0 scenario show pc
contains "the workloads' measured prefix reuse" "$out" "scenario show: the default assumption"
expect 0 scenario run pc
expect 0 scenario run nopc
with=$(q "SELECT max(g) FROM (SELECT quarter, sum(gpus) AS g FROM v_fleet WHERE scenario = 'pc'
	GROUP BY quarter)")
without=$(q "SELECT max(g) FROM (SELECT quarter, sum(gpus) AS g FROM v_fleet
	WHERE scenario = 'nopc' GROUP BY quarter)")
[ "$with" -lt "$without" ] && ok || bad "prefix caching lowers the GPUs: $with vs $without"
# (A decode side of a disaggregated pool prefills nothing: its prefill side holds the hits.)
check "every chosen config assumes hits below the measured reuse" "SELECT count(*) > 0
	AND min(prefix_hit) > 0 AND max(prefix_hit) <= 105710.0 / 288500 + 1e-9
	FROM v_configs WHERE scenario = 'pc' AND mode NOT LIKE 'disagg-decode%'"
check "no hits with --prefix-hit 0" "SELECT max(prefix_hit) = 0 FROM v_configs
	WHERE scenario = 'nopc'"
check "the run planned without hits: as many GPUs as the scenario without them" "SELECT
	(SELECT sum(no_prefix_gpus) FROM v_configs WHERE scenario = 'pc') = $without"
check "a note says the plan assumes hits" "SELECT count(*) >= 1 FROM run_note n
	JOIN v_latest_run l ON l.run_id = n.run_id WHERE l.scenario = 'pc'
	AND n.text LIKE '%automatic prefix caching%' AND n.text LIKE '%planned without hits%'"
expect 0 report quarterly pc
contains "Serving mode per pool" "$out" "report: the modes section"
contains "planned without hits it needs" "$out" "report: by how much"

# --- modes on the Azure conversation trace, H200 and B200 ------------------------------
expect 0 plan conv --gpus H200-SXM-141GB,B200-SXM-180GB --top 40 --json
printf '%s' "$out" | python3 -c '
import json, sys
o = json.load(sys.stdin)
modes = {m["mode"]: m for m in o["modes"]}
for want in ("aggregated", "fp8-kv", "mtp"):
    assert want in modes, (want, sorted(modes))
    assert modes[want]["usd_per_hour"] > 0, modes[want]
best = o["candidates"][0]
cmd = best["launch"][0]["command"]
if "mtp" in best["mode"]:
    assert "--speculative-config" in cmd and "\"method\": \"mtp\"" in cmd, cmd
else:
    assert "--speculative-config" not in cmd, cmd
assert ("--kv-cache-dtype fp8" in cmd) == ("fp8-kv" in best["mode"]), (best["mode"], cmd)
for c in o["candidates"]:
    if "mtp" in c["mode"]:
        assert c["pp"] == 1, c          # vLLM runs no speculation with PP
' && ok || bad "plan lists aggregated, MTP and fp8-KV, the winner runs its mode: $out"

# --- estimate: the modes and their failure paths ---------------------------------------
expect 0 estimate --model deepseek-ai/DeepSeek-V3 --gpu H200-SXM-141GB --tp 8 --isl 2000 \
	--osl 500 --spec-method mtp --json
printf '%s' "$out" | python3 -c '
import json, sys
o = json.load(sys.stdin)
# DeepSeek-V3 report: one MTP module, 85 % acceptance -> 1 + 0.85 tokens a step.
assert o["fits"] and o["spec_method"] == "mtp" and o["spec_tokens"] == 1, o
assert abs(o["spec_tokens_per_step"] - 1.85) < 1e-9, o
assert "--speculative-config" in o["vllm_args"], o["vllm_args"]
' && ok || bad "estimate --spec-method mtp: $out"
expect 0 estimate --model deepseek-ai/DeepSeek-V3 --gpu H200-SXM-141GB --tp 4 --pp 2 --isl 2000 \
	--osl 500 --spec-method mtp --json
contains '"fits":	false' "$out" "MTP with PP does not fit"
contains "pipeline parallelism" "$out" "the reason names PP"
expect 0 estimate --model meta-llama/Llama-3.1-8B --gpu H100-SXM-80GB --isl 1000 --osl 200 \
	--spec-method mtp
contains "num_nextn_predict_layers 0" "$out" "MTP without MTP layers"
expect 2 estimate --model deepseek-v3 --gpu H200 --tp 8 --isl 100 --osl 10 --spec-method medusa
contains "unknown --spec-method" "$err" "unknown method"
expect 2 estimate --model deepseek-v3 --gpu H200 --tp 8 --isl 100 --osl 10 --spec-method mtp \
	--spec-acceptance 1
contains "between 0 and 1" "$err" "acceptance 1"
expect 2 estimate --model deepseek-v3 --gpu H200 --tp 8 --isl 100 --osl 10 --spec-method mtp \
	--spec-acceptance 0
expect 2 estimate --model deepseek-v3 --gpu H200 --tp 8 --isl 100 --osl 10 --spec-method ngram
contains "no published default acceptance" "$err" "ngram needs an acceptance"
expect 2 estimate --model deepseek-v3 --gpu H200 --tp 8 --isl 100 --osl 10 --spec-tokens 2
expect 2 estimate --model deepseek-v3 --gpu H200 --tp 8 --isl 100 --osl 10 --prefix-hit 1
expect 2 estimate --model deepseek-v3 --gpu H200 --tp 8 --isl 100 --osl 10 --prefix-hit -0.1
# A hit share lowers TTFT (half the prompt is not recomputed).
expect 0 estimate --model deepseek-v3 --gpu H200 --tp 8 --isl 8000 --osl 100 --concurrency 1 --json
t0=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ttft_ms"])')
expect 0 estimate --model deepseek-v3 --gpu H200 --tp 8 --isl 8000 --osl 100 --concurrency 1 \
	--prefix-hit 0.5 --json
t1=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ttft_ms"])')
python3 -c "assert $t1 < $t0" && ok || bad "prefix hits lower TTFT: $t1 vs $t0"

# Scenario and plan refuse a bad --prefix-hit, and change nothing.
before=$(db_hash)
expect 2 scenario set pc --prefix-hit 1.5
expect 2 scenario set pc --prefix-hit lots
expect 2 scenario create bad --workload mc --start 2027Q1 --quarters 1 --prefix-hit -1
expect 2 plan conv --prefix-hit 2
[ "$(db_hash)" = "$before" ] && ok || bad "a refused --prefix-hit changed the database"
expect 0 scenario set pc --prefix-hit measured
check "measured is stored as NULL" "SELECT prefix_hit IS NULL FROM scenario WHERE name = 'pc'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
