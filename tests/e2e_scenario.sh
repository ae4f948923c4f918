#!/usr/bin/env bash
# tests/e2e_scenario.sh - scenarios, runs and reports end to end: a real
# trace, a run over four quarters, the views, owned clusters, growth,
# long-context isolation, failures that must leave the database unchanged,
# and every report format. Usage: e2e_scenario.sh PATH/TO/piqplan
set -uo pipefail

PIQPLAN=${1:?usage: e2e_scenario.sh PATH/TO/piqplan}
. "$(dirname "$0")/lib.sh"
DATA=${PIQPLAN_TEST_DATA:?PIQPLAN_TEST_DATA must point at tests/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export PIQPLAN_DB="$tmp/s.db"


expect 0 init
expect 0 workload import conv "$DATA/workloads/azure_conv.csv" --model deepseek-ai/DeepSeek-V3
expect 0 workload import code "$DATA/workloads/azure_code.csv" --model meta-llama/Llama-3.1-70B

# --- create, show, set, copy -------------------------------------------------
expect 0 scenario create plan --workload conv,code --gpus H200-SXM-141GB,H100-SXM-80GB \
	--start 2027Q1 --quarters 4 --growth 15% --description "Q1-Q4 2027 budget"
expect 1 scenario create plan --workload conv --start 2027Q1 --quarters 4
contains "already exists" "$err" "duplicate scenario"
expect 2 scenario create x --workload conv --start 2027-Q1 --quarters 4
expect 2 scenario create x --workload conv --start 2027Q1 --quarters 0
expect 2 scenario create x --workload conv --start 2027Q1 --quarters 4 --utilization 1.5
expect 2 scenario create x --workload conv --start 2027Q1 --quarters 4 --growth fast
expect 2 scenario create x --workload conv --start 2027Q1 --quarters 4 --long-context sometimes
expect 1 scenario create x --workload nope --start 2027Q1 --quarters 4
contains "unknown workload 'nope'" "$err" "unknown workload"
expect 1 scenario create x --workload conv --gpus H300 --start 2027Q1 --quarters 4
check "failed creates left nothing" "SELECT count(*) = 1 FROM scenario"
expect 0 scenario show plan --json
contains '"growth_pct_per_quarter":	15' "$out" "growth stored"
expect 0 scenario copy plan fast
expect 0 scenario set fast --growth code=40%,conv=25%
check "per-workload growth" "SELECT count(*) = 2 FROM scenario_workload sw JOIN scenario s
	ON s.id = sw.scenario_id WHERE s.name = 'fast' AND sw.growth_pct_per_quarter IN (25, 40)"
expect 1 scenario set fast --growth nope=5
expect 0 scenario list
contains "fast" "$out" "scenario list"
expect 1 scenario run nope

# --- run ---------------------------------------------------------------------
expect 0 scenario run plan
contains "run 1 of scenario 'plan'" "$out" "run summary"
check "one run" "SELECT count(*) = 1 FROM run"
check "inputs hashed" "SELECT count(*) >= 6 FROM run_input WHERE run_id = 1"
check "run hash" "SELECT length(inputs_sha256) = 64 AND inputs_sha256 != printf('%064d', 0) FROM run"
check "4 quarters x 2 workloads in v_fleet" "SELECT count(DISTINCT quarter) = 4 AND
	count(DISTINCT workload) = 2 FROM v_fleet"
check "v_configs has the vllm command" "SELECT count(*) >= 2 AND
	sum(vllm_args LIKE 'vllm serve deepseek-ai/DeepSeek-V3 %') >= 1 FROM v_configs"
check "every chosen config has its flags" "SELECT count(*) = 0 FROM v_configs
	WHERE vllm_args NOT LIKE '%--max-num-seqs %' OR vllm_args NOT LIKE '%--max-num-batched-tokens %'"
# Demand grows 15 % a quarter, compounded: q3 = q0 x 1.15^3 = 1.520875 x q0.
check "demand growth" "SELECT abs(max(CASE WHEN quarter = '2027Q4' THEN demand_rps END) /
	max(CASE WHEN quarter = '2027Q1' THEN demand_rps END) - 1.520875) < 1e-3
	FROM run_fleet f JOIN run_pool p ON p.id = f.pool_id JOIN workload w ON w.id = p.workload_id
	WHERE w.name = 'conv' AND p.pool IN ('shared', 'short') AND f.run_id = 1"
# The default demand is the p99 of 60-s windowed rates: counted here from the file itself
# (15-s slots, windows of 4 slots wholly inside the trace, empty ones included, nearest
# rank), not read from piqplan.
p99=$(python3 - "$DATA/workloads/azure_conv.csv" <<'PY'
import csv, datetime, math, sys
from collections import Counter
t = [datetime.datetime.fromisoformat(r[0][:26]).replace(tzinfo=datetime.timezone.utc).timestamp()
     for r in list(csv.reader(open(sys.argv[1])))[1:]]
slots = Counter(math.floor(x / 15) for x in t)
lo, hi = min(slots), max(slots)
w = sorted(sum(slots.get(s + d, 0) for d in range(4)) for s in range(lo, hi - 2))
print(w[math.ceil(0.99 * len(w)) - 1] / 60)
PY
)
check "p99 of windowed rates planned" "SELECT abs(sum(demand_rps) - $p99) < 1e-6 FROM run_fleet f
	JOIN run_pool p ON p.id = f.pool_id JOIN workload w ON w.id = p.workload_id
	WHERE w.name = 'conv' AND f.quarter = '2027Q1' AND f.run_id = 1"
check "stored p99 is the file's" "SELECT abs(rate_p99_rps - $p99) < 1e-9 FROM workload WHERE name = 'conv'"
# Token volumes at the mean rate: 19,366 requests over the trace's span.
check "tokens at the mean" "SELECT abs(f.mean_rps - w.mean_rps) < 1e-9
	AND abs(f.output_tok_s - w.mean_rps * p.output_tokens_mean) < 1e-6 FROM run_fleet f
	JOIN run_pool p ON p.id = f.pool_id JOIN workload w ON w.id = p.workload_id
	WHERE w.name = 'conv' AND f.quarter = '2027Q1' AND f.run_id = 1"
check "instances never shrink as demand grows" "SELECT count(*) = 0 FROM run_fleet a
	JOIN run_fleet b ON a.pool_id = b.pool_id AND b.quarter > a.quarter WHERE b.instances < a.instances"
check "gpus = instances x gpus per instance" "SELECT count(*) = 0 FROM run_fleet f
	JOIN run_config c ON c.pool_id = f.pool_id AND c.chosen = 1 WHERE f.gpus != f.instances * c.gpus_per_instance"
# Nothing owned: cost = GPUs x price x hours (2027Q1: 90 days = 2,160 h).
check "cost = GPUs x price x hours" "SELECT count(*) = 0 FROM run_capacity
	WHERE gpus_owned = 0 AND abs(cost_usd - gpus_needed * usd_per_gpu_hour * hours) > 0.01"
check "2027Q1 has 2,160 hours" "SELECT count(*) > 0 AND min(hours) = 2160 AND max(hours) = 2160
	FROM run_capacity WHERE quarter = '2027Q1'"
check "no owned: shortfall = need" "SELECT count(*) = 0 FROM v_shortfall WHERE shortfall != gpus_needed"
# 90-day lead time: 2027-01-01 - 90 days = 2026-10-03.
check "order-by date" "SELECT count(*) > 0 AND min(order_by) = '2026-10-03' FROM v_orders
	WHERE quarter = '2027Q1'"
check "orders add up to the last shortfall" "SELECT count(*) = 0 FROM (SELECT gpu,
	sum(gpus_to_order) AS o FROM v_orders WHERE scenario = 'plan' GROUP BY gpu) x
	WHERE o != (SELECT shortfall FROM v_shortfall WHERE scenario = 'plan' AND quarter = '2027Q4'
	AND gpu = x.gpu)"
check "compute floor below cost (MoE memory tax > 1)" "SELECT count(*) = 0 FROM v_cost
	WHERE compute_floor_usd <= 0 OR memory_tax <= 1"
check "pools record the shared alternative" "SELECT count(*) = 0 FROM run_pool
	WHERE shared_alternative_usd IS NULL"

# --- owned clusters reduce the shortfall ---------------------------------------
gpu=$(q "SELECT gpu FROM v_shortfall WHERE quarter = '2027Q1' ORDER BY gpus_needed DESC LIMIT 1")
expect 0 cluster add owned --gpu "$gpu" --gpus 8 --usd-per-hour 1.5 --from 2027Q3
expect 0 scenario run plan
check "owned from 2027Q3 only" "SELECT sum(gpus_owned) = 8 FROM v_shortfall WHERE gpu = '$gpu'
	AND quarter IN ('2027Q1', '2027Q3')"
check "shortfall = need - owned" "SELECT count(*) > 0 AND sum(shortfall != max(0, gpus_needed - gpus_owned)) = 0
	FROM v_shortfall"
check "owned GPUs are used first" "SELECT gpus_needed >= 8 AND shortfall = gpus_needed - 8
	FROM v_shortfall WHERE quarter = '2027Q3' AND gpu = '$gpu'"
# Owned GPUs at 1.5 USD/h, the rest at the price: cost = 8 x 1.5 x h + shortfall x price x h
# (2027Q3: 92 days, 2,208 h).
check "owned GPUs at their own rate" "SELECT abs(cost_usd - (8 * 1.5 * hours
	+ shortfall * usd_per_gpu_hour * hours)) < 0.01 FROM run_capacity
	WHERE run_id = 2 AND quarter = '2027Q3' AND gpu_id = '$gpu'"
check "owned and acquired apart in v_cost" "SELECT count(*) = 1 FROM v_cost WHERE scenario = 'plan'
	AND quarter = '2027Q3' AND gpu = '$gpu' AND source = 'owned' AND gpus = 8
	AND usd_per_gpu_hour = 1.5 AND abs(cost_usd - 8 * 1.5 * 2208) < 0.01"
check "views show the latest run" "SELECT count(*) = 0 FROM v_shortfall WHERE run_id != 2"
expect 0 cluster remove owned

# --- a GPU without a price is left out, never priced at zero ---------------------
expect 0 scenario set fast --gpus H20-SXM-96GB,H200-SXM-141GB
expect 0 scenario run fast
contains "H20-SXM-96GB" "$err" "warning names the unpriced GPU"
check "unpriced GPU never in the plan" "SELECT count(*) = 0 FROM run_config WHERE gpu_id = 'H20-SXM-96GB'"
check "unpriced GPU noted" "SELECT count(*) = 1 FROM run_note WHERE text LIKE '%H20-SXM-96GB%'"
expect 0 scenario compare plan fast --json
contains '"quarters"' "$out" "compare json"
expect 0 scenario compare plan fast
contains "DIFF" "$out" "compare table"

# --- failures leave the database as it was --------------------------------------
expect 0 scenario create nogpu --workload conv --gpus H20-SXM-96GB --start 2027Q1 --quarters 2
h=$(db_hash)
expect 1 scenario run nogpu
contains "no candidate GPU" "$err" "no priced GPU"
expect 0 scenario set nogpu --gpus L4-24GB
h=$(db_hash)
expect 1 scenario run nogpu
contains "no configuration can serve" "$err" "DeepSeek-V3 cannot run on L4 instances"
[ "$(db_hash)" = "$h" ] && ok || bad "a failed run changed the database"

# --- long-context isolation: chosen exactly when it is cheaper ----------------------
expect 0 scenario copy plan iso
expect 0 scenario set iso --long-context 4096
expect 0 scenario run iso
check "forced threshold splits" "SELECT count(*) = 2 FROM run_pool p JOIN run r ON r.id = p.run_id
	JOIN scenario s ON s.id = r.scenario_id JOIN workload w ON w.id = p.workload_id
	WHERE s.name = 'iso' AND w.name = 'conv'"
expect 0 scenario set iso --long-context off
expect 0 scenario run iso
check "off means one shared pool" "SELECT count(*) = 2 AND min(pool) = 'shared' FROM run_pool p
	WHERE p.run_id = (SELECT max(id) FROM run)"
expect 0 scenario set iso --long-context auto
expect 0 scenario run iso
# auto keeps a split only when the split costs less than the shared pool stored beside it.
check "auto chooses the cheaper" "SELECT count(*) = 0 FROM (SELECT p.workload_id,
	count(*) AS pools, sum(c.total_usd) AS chosen, max(p.shared_alternative_usd) AS shared
	FROM run_pool p JOIN run_config c ON c.pool_id = p.id AND c.chosen = 1
	WHERE p.run_id = (SELECT max(id) FROM run) GROUP BY p.workload_id)
	WHERE (pools = 2 AND chosen >= shared) OR (pools = 1 AND abs(chosen - shared) > 0.01)"

# --- reports ------------------------------------------------------------------
expect 0 report quarterly plan
first=$(printf '%s\n' "$out" | head -1)
[ "$first" = "# Quarterly capacity report: plan" ] && ok || bad "md opens with the scenario: $first"
contains "Q1-Q4 2027 budget" "$out" "md has the description"
contains "vllm serve deepseek-ai/DeepSeek-V3" "$out" "md has the command line"
contains "Risks and assumptions" "$out" "md has risks"
expect 0 report quarterly plan --format html -o "$tmp/r.html"
html=$(cat "$tmp/r.html")
contains "<svg" "$html" "html has charts"
[ "$(grep -o '<svg' "$tmp/r.html" | wc -l)" -ge 3 ] && ok || bad "three charts"
lacks "<script" "$html" "html has no scripts"
lacks 'src="http' "$html" "html has no external assets"
expect 0 report quarterly plan --format json
printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["scenario"] == "plan" and d["summary"]["rows"]' \
	&& ok || bad "json report parses"
expect 0 report quarterly plan --format csv --run 1
[ "$(printf '%s\n' "$out" | head -1)" = "section,row,column,value" ] && ok || bad "csv header"
expect 1 report quarterly plan --run 999
expect 2 report quarterly plan --format pdf
expect 1 report quarterly nogpu
contains "has not been run" "$err" "report of a scenario never run"
expect 0 report list --json
check "reports stored" "SELECT count(*) = 4 FROM report"

# Hostile strings come out escaped in every format.
expect 0 scenario create '<b>x</b>' --workload code --gpus H100-SXM-80GB --start 2027Q1 --quarters 1 \
	--description '=HYPERLINK("http://evil") <script>alert(1)</script> | pipe'
expect 0 scenario run '<b>x</b>'
expect 0 report quarterly '<b>x</b>' --format html
lacks "<script>alert" "$out" "html escapes a script tag"
contains "&lt;script&gt;" "$out" "html entity-escapes"
expect 0 report quarterly '<b>x</b>' --format md
lacks "<script>" "$out" "md escapes a script tag"
contains '\|' "$out" "md escapes pipes"
expect 0 report quarterly '<b>x</b>' --format csv
contains "\"'=HYPERLINK" "$out" "csv neutralises a formula"
expect 0 report quarterly '<b>x</b>' --format json
printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["description"].startswith("=HYPERLINK")' \
	&& ok || bad "json keeps the string exact"

expect 0 scenario remove fast
check "runs removed with their scenario" "SELECT count(*) = 0 FROM run r JOIN scenario s ON s.id = r.scenario_id WHERE s.name = 'fast'"
expect 1 scenario remove fast

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
