#!/usr/bin/env bash
# tests/e2e_slo.sh - issue 13's "done when", end to end: plans an expert
# would sign. On the Azure conversation trace with DeepSeek-V3 on H200 only
# (TPOT 100 ms): the emitted max_num_seqs keeps piqplan's own TPOT within
# the target at that batch, planned utilisation never exceeds the target,
# every chosen GPU is in the scenario's list, v_orders adds up to the last
# quarter's shortfall, owned GPUs cost their rate busy or idle and an
# unlisted type is unused capacity. A long-tail workload (97 % chat, 3 %
# 200k-1M-token requests) on Llama-4-Scout gets a plan under the default
# SLOs with its long requests in their own pool and the chat pool within
# the chat TTFT target. Values are worked out from the inputs or are
# invariants, never copied from piqplan's output.
# Usage: e2e_slo.sh PATH/TO/piqplan
set -uo pipefail

PIQPLAN=${1:?usage: e2e_slo.sh PATH/TO/piqplan}
. "$(dirname "$0")/lib.sh"
DATA=${PIQPLAN_TEST_DATA:?PIQPLAN_TEST_DATA must point at tests/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export PIQPLAN_DB="$tmp/s.db"


expect 0 init
expect 0 workload import conv "$DATA/workloads/azure_conv.csv" --model deepseek-ai/DeepSeek-V3

# --- DeepSeek-V3 on H200 only, TPOT 100 ms ------------------------------------------
expect 0 scenario create ds --workload conv --gpus H200-SXM-141GB --start 2027Q1 --quarters 4 \
	--growth 15% --tpot-ms 100
expect 0 scenario run ds
contains "TPOT p99" "$out" "the run names the percentile"
run=$(q "SELECT max(id) FROM run")

check "every chosen GPU is in the list" "SELECT (SELECT count(*) FROM run_config WHERE run_id = $run
	AND chosen = 1 AND gpu_id != 'H200-SXM-141GB') + (SELECT count(*) FROM run_fleet
	WHERE run_id = $run AND gpu_id != 'H200-SXM-141GB') + (SELECT count(*) FROM run_capacity
	WHERE run_id = $run AND gpu_id != 'H200-SXM-141GB' AND gpus_needed > 0) = 0"
check "planned utilisation never exceeds the target (0.7)" "SELECT max(utilization) <= 0.7
	AND count(*) = 4 FROM run_fleet WHERE run_id = $run"
check "utilisation is demand over serving capacity" "SELECT count(*) = 0 FROM run_fleet f
	JOIN run_config c ON c.pool_id = f.pool_id AND c.chosen = 1 WHERE f.run_id = $run
	AND abs(f.utilization - f.demand_rps / (f.instances * c.capacity_rps)) > 1e-9"
check "one margin: no spares by default" "SELECT sum(spare_gpus) = 0 FROM run_capacity
	WHERE run_id = $run"
check "SLOs named p99" "SELECT count(*) = 1 AND min(slo_percentile) = 'p99' FROM v_configs
	WHERE scenario = 'ds'"
check "the SLO batch is within the KV and its TPOT within the target" "SELECT count(*) = 1
	FROM v_configs WHERE scenario = 'ds' AND max_num_seqs <= kv_max_num_seqs
	AND tpot_full_ms <= 100 AND tpot_ms <= 100 AND ttft_ms <= 2000
	AND vllm_args LIKE '% --max-num-seqs ' || max_num_seqs || ' %'"
check "v_orders adds up to the last quarter's shortfall" "SELECT (SELECT sum(gpus_to_order)
	FROM v_orders WHERE scenario = 'ds') = (SELECT shortfall FROM v_shortfall
	WHERE scenario = 'ds' AND quarter = '2027Q4')"
check "v_shortfall has no order-by dates" "SELECT count(*) = 0 FROM pragma_table_info('v_shortfall')
	WHERE name = 'order_by'"

# The emitted batch, run through piqplan's own instance model (estimate, a closed loop
# of max_num_seqs x DP clients at the pool's mean lengths): TPOT within 100 ms.
# (In the serving mode it chose: its KV dtype and speculation, issue 14.)
read -r tp pp dp ep prec seqs mml isl osl kvd spec k acc < <(q "SELECT c.tp, c.pp, c.dp, c.ep,
	c.precision, c.max_num_seqs, c.max_model_len, round(p.prompt_tokens_mean),
	round(p.output_tokens_mean), c.kv_dtype, coalesce(c.spec_method, '-'),
	coalesce(c.spec_tokens, 0), coalesce(c.spec_acceptance, 0)
	FROM run_config c JOIN run_pool p ON p.id = c.pool_id WHERE c.run_id = $run
	AND c.chosen = 1" | tr '|' ' ')
epflag=(); [ "$ep" = 1 ] && epflag=(--ep)
[ "$spec" != - ] && epflag+=(--spec-method "$spec" --spec-tokens "$k" --spec-acceptance "$acc")
expect 0 estimate --model deepseek-ai/DeepSeek-V3 --gpu H200-SXM-141GB --tp "$tp" --pp "$pp" \
	--dp "$dp" "${epflag[@]}" --precision "$prec" --kv-dtype "$kvd" --isl "${isl%.0}" \
	--osl "${osl%.0}" --max-model-len "$mml" --concurrency $((seqs * dp)) --json
printf '%s' "$out" | python3 -c "
import json, sys
o = json.load(sys.stdin)
assert o['fits'] and o['running'] == $seqs, o
assert o['tpot_ms'] <= 100, o['tpot_ms']
" && ok || bad "estimate at the emitted max_num_seqs ($seqs per rank): $out"

# --- owned GPUs: paid for busy or idle; an unlisted type is unused capacity ---------------
expect 0 cluster add old-h100 --gpu H100-SXM-80GB --gpus 16 --pricing owned --usd-per-hour 1.2
expect 0 cluster add big-h200 --gpu H200-SXM-141GB --gpus 64 --pricing owned --usd-per-hour 2
expect 0 scenario run ds
run=$(q "SELECT max(id) FROM run")
check "no plan on the unlisted H100s" "SELECT count(*) = 0 FROM run_config WHERE run_id = $run
	AND gpu_id = 'H100-SXM-80GB'"
# 16 x 1.2 USD x the quarter's hours (2027Q1: 90 days, 2,160 h), every quarter.
check "unlisted H100s reported as unused capacity" "SELECT count(*) = 4 AND sum(gpus_needed) = 0
	AND sum(listed) = 0 AND min(gpus_owned) = 16
	AND abs(sum(CASE WHEN quarter = '2027Q1' THEN cost_usd END) - 16 * 1.2 * 2160) < 0.01
	FROM run_capacity WHERE run_id = $run AND gpu_id = 'H100-SXM-80GB'"
check "their note says so" "SELECT count(*) = 1 FROM run_note WHERE run_id = $run
	AND text LIKE 'owned H100-SXM-80GB GPUs (16 in 2027Q1) are not in the scenario''s GPU list%'"
# 64 owned H200 cover the need: nothing to acquire, and every one of the 64 costs 2 USD/h.
check "owned H200 cover the need, idle ones paid" "SELECT count(*) = 4 AND max(shortfall) = 0
	AND max(gpus_needed) < 64 AND sum(abs(cost_usd - 64 * 2 * hours) < 0.01) = 4
	FROM run_capacity WHERE run_id = $run AND gpu_id = 'H200-SXM-141GB'"
check "v_cost: owned rows at the owned rate, nothing acquired" "SELECT count(*) = 8
	AND sum(source = 'owned') = 8 AND sum(gpus_in_service > 0) = 4
	AND sum(gpus_in_service = 0) = 4 FROM v_cost WHERE scenario = 'ds'"
check "nothing to order" "SELECT count(*) = 0 FROM v_orders WHERE scenario = 'ds'"
expect 0 cluster remove old-h100
expect 0 cluster remove big-h200

# --- margins: spares per GPU type, across pools ----------------------------------------
expect 0 scenario copy ds ds-spares
expect 0 scenario set ds-spares --margin spares --redundancy 1
expect 0 scenario run ds-spares
run=$(q "SELECT max(id) FROM run")
check "N+1 per GPU type: one instance's GPUs" "SELECT count(*) = 4 FROM run_capacity c
	JOIN run_config g ON g.run_id = c.run_id AND g.chosen = 1
	WHERE c.run_id = $run AND c.spare_gpus = g.gpus_per_instance"
expect 2 scenario set ds-spares --margin some
expect 2 scenario set ds-spares --slo-percentile 100
expect 0 scenario set ds-spares --slo-percentile p90 --demand peak
expect 0 scenario show ds-spares
contains "TTFT p90" "$out" "show names the percentile"
expect 0 scenario run ds-spares
check "p90 and peak stored with the run" "SELECT count(*) = 1 FROM run WHERE id = (SELECT max(id)
	FROM run) AND json_extract(assumptions_json, '$.slo_percentile') = 90
	AND json_extract(assumptions_json, '$.demand') = 'peak'"
check "peak demand is the busiest window" "SELECT abs(f.demand_rps - w.peak_rps) < 1e-9
	FROM run_fleet f JOIN run_pool p ON p.id = f.pool_id JOIN workload w ON w.id = p.workload_id
	WHERE f.run_id = (SELECT max(id) FROM run) AND f.quarter = '2027Q1'"

# --- a long tail: 97 % chat, 3 % 200k-1M tokens, Llama-4-Scout ------------------------------
# The chat requests are the Azure conversation trace's 19,366; 599 long ones (3 % of 19,965)
# are spread over the same hour, prompts log-uniform in 200,000-1,000,000, outputs 256-1,024.
longest=$(python3 - "$DATA/workloads/azure_conv.csv" "$tmp/longtail.csv" <<'PY'
import csv, datetime, random, sys
random.seed(13)
rows = [(r[0][:26], int(r[1]), int(r[2])) for r in list(csv.reader(open(sys.argv[1])))[1:]]
t0 = datetime.datetime.fromisoformat(rows[0][0])
span = (datetime.datetime.fromisoformat(rows[-1][0]) - t0).total_seconds()
for i in range(599):
    t = t0 + datetime.timedelta(seconds=random.uniform(0, span))
    rows.append((t.strftime("%Y-%m-%d %H:%M:%S.%f"), int(200000 * 5 ** random.random()),
                 random.randint(256, 1024)))
rows.sort()
with open(sys.argv[2], "w") as f:
    f.write("timestamp,prompt_tokens,output_tokens\n")
    f.writelines("%s,%d,%d\n" % r for r in rows)
print(max(p + o for _, p, o in rows))
PY
)
expect 0 workload import tail "$tmp/longtail.csv" --model meta-llama/Llama-4-Scout-17B-16E-Instruct
expect 0 scenario create lt --workload tail --gpus H100-SXM-80GB,H200-SXM-141GB,B200-SXM-180GB \
	--start 2027Q1 --quarters 4
expect 0 scenario run lt
run=$(q "SELECT max(id) FROM run")
check "two pools: chat and long" "SELECT count(*) = 2 AND sum(pool = 'short' AND slo_class = 'chat')
	= 1 AND sum(pool = 'long' AND slo_class = 'long') = 1 FROM run_pool WHERE run_id = $run"
# The long pool holds the 599 long requests and nothing else: its threshold lies between the
# chat trace's longest (14,089 tokens) and the shortest long one (200,256).
check "the long requests in their own pool" "SELECT abs(request_share - 599.0 / 19965) < 1e-9
	AND min_total_tokens > 14089 AND min_total_tokens <= 200256 FROM run_pool
	WHERE run_id = $run AND pool = 'long'"
check "the chat pool within the chat TTFT target" "SELECT count(*) = 1 FROM v_configs
	WHERE scenario = 'lt' AND pool = 'short' AND slo_percentile = 'p99' AND ttft_ms <= 2000
	AND tpot_ms <= 100"
check "the long pool serves its longest request" "SELECT max_model_len >= $longest
	AND longest_tokens = $longest AND rejected_share = 0 FROM run_pool
	WHERE run_id = $run AND pool = 'long'"
check "the shared alternative costs more and says why" "SELECT count(*) = 2
	AND min(shared_alternative_usd) > 0 AND min(alternative_lost) LIKE 'one shared pool%'
	FROM run_pool WHERE run_id = $run"
check "split cheaper than shared" "SELECT (SELECT sum(total_usd) FROM run_config WHERE run_id = $run
	AND chosen = 1) < (SELECT max(shared_alternative_usd) FROM run_pool WHERE run_id = $run)"
# Isolation off: one shared pool where every request holds the chat TTFT -- a 1M-token
# prefill cannot start its first token within 2 s, so no plan, and the database is unchanged.
expect 0 scenario set lt --long-context off
h=$(db_hash)
expect 1 scenario run lt
contains "no configuration can serve" "$err" "off: the chat TTFT cannot hold for 1M-token prompts"
[ "$(db_hash)" = "$h" ] && ok || bad "a failed run changed the database"

# --- the report names the percentile, the margin and the orders ----------------------------
expect 0 report quarterly ds
contains "SLO percentile" "$out" "report: percentile"
contains "What to order, and by when" "$out" "report: orders"
contains "margin" "$out" "report: margin policy"
expect 0 report quarterly lt --format json
printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
pools = {r["pool"]: r for r in d["pools"]["rows"]}
assert set(pools) == {"short", "long"}, pools
assert pools["long"]["slo_class"] == "long" and pools["long"]["long_ttft_ms_per_1k"] == 500
assert all(r["slo_percentile"] == "p99" for r in d["configs"]["rows"])
' && ok || bad "json report: pools and percentiles"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
