#!/bin/bash
# e2e_disagg.sh - end-to-end checks of P/D disaggregation and wide EP (issue
# 14, part B): `plan` on the Azure conversation trace for DeepSeek-V3 over
# H200 and B200 lists the disaggregated candidate with its cost next to
# aggregated and wide EP; `estimate --wide-ep --role` writes the engines'
# lines; `scenario run` stores the pair (chosen or not) with its counts and
# both pools' commands. Figures asserted are worked by hand in the comments.
set -u
PIQPLAN=${1:?usage: e2e_disagg.sh PATH/TO/piqplan}
. "$(dirname "$0")/lib.sh"
DATA=${PIQPLAN_TEST_DATA:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PIQPLAN_DB="$tmp/test.db"

expect 0 init
expect 0 workload import conv "$DATA/workloads/azure_conv.csv" --model deepseek-ai/DeepSeek-V3

# --- plan: the three modes side by side --------------------------------------
expect 0 plan conv --gpus H200-SXM-141GB,B200-SXM-180GB
contains "serving modes" "$out" "plan text"
contains "aggregated" "$out" "plan text: aggregated"
contains "wide EP" "$out" "plan text: wide EP"
contains "disagg" "$out" "plan text: disagg"
contains "kv_role\":\"kv_producer" "$out" "plan text: prefill line"
contains "kv_role\":\"kv_consumer" "$out" "plan text: decode line"

expect 0 plan conv --gpus H200-SXM-141GB,B200-SXM-180GB --json
echo "$out" >"$tmp/plan.json"
python3 - "$tmp/plan.json" <<'PY' && ok || bad "plan --json: disagg properties"
import json, math, sys
d = json.load(open(sys.argv[1]))
g = d["disagg"]
assert g["fits"], g
assert g["usd"] > 0 and d["aggregated_usd"] > 0
# the loser is named with both costs
words = g["versus_aggregated"]
assert ("disaggregated costs" in words) != ("aggregated costs" in words and not words.startswith("disagg")), words
assert g["wins"] == (g["usd"] < d["aggregated_usd"])
# KV per request: DeepSeek-V3's MLA latent, 61 layers x 576 x 2 B = 70,272 B a token,
# for the mean prompt rounded up to a whole token (config.json; DESIGN.md section 4)
assert g["kv_bytes_per_request"] == 70272 * math.ceil(d["isl"]), (g["kv_bytes_per_request"], d["isl"])
# its hand-off over one 400 Gb/s link (MLA: one shard) at most bytes / (50 GB/s x 0.5) + 1 ms
assert g["kv_transfer_ms"] <= g["kv_bytes_per_request"] / (50e9 * 0.5) * 1e3 + 1.0
assert g["kv_transfer_ms"] >= g["kv_bytes_per_request"] / 50e9 * 1e3 + 1.0
# the P:D ratio is the rates' ratio; each side's instances cover the demand
p, q = g["prefill"], g["decode"]
assert abs(g["pd_ratio"] - q["rate_rps"] / p["rate_rps"]) < 1e-9 * g["pd_ratio"]
assert p["instances"] * p["rate_rps"] >= d["demand_rps"] - 1e-9
assert q["instances"] * q["rate_rps"] >= d["demand_rps"] - 1e-9
# each side meets its own SLO and stays under the utilisation target
assert p["ttft_ms"] <= d["ttft_ms"] and q["tpot_ms"] <= d["tpot_ms"]
assert p["utilization"] <= 0.7 + 1e-9 and q["utilization"] <= 0.7 + 1e-9
for side, role in ((p, "kv_producer"), (q, "kv_consumer")):
    assert side["launch"], side
    for c in side["launch"]:
        assert "--kv-transfer-config" in c["command"] and role in c["command"], c
        assert "NixlConnector" in c["command"]
# wide EP: listed with its cost; its candidates say so
assert d["wide_ep_usd"] is None or d["wide_ep_usd"] > 0
PY

# No GPU type with a scale-out network: disaggregation cannot be planned, and says why.
# (no aggregated candidate serves there either: exit 1, the JSON still printed)
expect 1 plan conv --gpus H100-NVL-94GB --json
echo "$out" >"$tmp/nvl.json"
python3 - "$tmp/nvl.json" <<'PY' && ok || bad "plan without a scale-out network"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d["disagg"]["fits"] and "scale-out network" in d["disagg"]["reason"], d["disagg"]
assert d["wide_ep_usd"] is None
PY

# --- estimate: one side of the pair, wide EP ----------------------------------
expect 2 estimate --model deepseek-v3 --gpu H200 --isl 2000 --osl 500 --wide-ep
contains "--wide-ep needs --dp" "$err" "wide EP without dp"
expect 2 estimate --model deepseek-v3 --gpu H200 --isl 2000 --osl 500 --role middle
contains "unknown --role 'middle'" "$err" "unknown role"
expect 2 estimate --model deepseek-v3 --gpu H200 --isl 2000 --osl 500 --no-eplb
expect 1 estimate --model deepseek-v3 --gpu H300 --isl 2000 --osl 500 --tp 1 --dp 32 --wide-ep
contains "unknown GPU 'H300'" "$err" "unknown GPU"
# DeepEP runs on NVIDIA: refused on MI300X, with the reason (exit 0, fits false)
expect 0 estimate --model deepseek-v3 --gpu MI300X --isl 2000 --osl 500 --tp 1 --dp 16 --wide-ep --json
echo "$out" | python3 -c 'import json, sys; d = json.load(sys.stdin)
assert not d["fits"] and "DeepEP runs on NVIDIA" in d["reason"], d["reason"]' &&
	ok || bad "wide EP on AMD: refused with the reason"
# a dense model has no experts to spread
expect 0 estimate --model Llama-3.1-8B --gpu H200 --isl 2000 --osl 500 --tp 1 --dp 16 --wide-ep --json
echo "$out" | python3 -c 'import json, sys; d = json.load(sys.stdin)
assert not d["fits"] and "needs routed experts" in d["reason"], d["reason"]' &&
	ok || bad "wide EP on a dense model: refused with the reason"
# EP32 over four 8-GPU nodes, decode side: one line per node, each with the
# low-latency kernels, EPLB's 32 redundant experts (one per GPU) and NIXL.
expect 0 estimate --model deepseek-v3 --gpu H200 --tp 1 --dp 32 --wide-ep --role decode \
	--isl 2000 --osl 500 --concurrency 2048 --json
echo "$out" >"$tmp/est.json"
python3 - "$tmp/est.json" <<'PY' && ok || bad "estimate --wide-ep --role decode"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["fits"] and d["gpus"] == 32 and d["nodes"] == 4, d
assert len(d["launch"]) == 4
for c in d["launch"]:
    s = c["command"]
    assert "--all2all-backend deepep_low_latency" in s
    assert "--enable-eplb --eplb-config '{\"num_redundant_experts\":32}'" in s
    assert "\"kv_role\":\"kv_consumer\"" in s
# decode-only: TPOT is one decode step at 64 running per rank (2048 / 32), and
# the output rate is exactly 32 x 64 / TPOT (Little's law, no prefill in the steps)
assert abs(d["running"] - 64) < 1e-9
assert abs(d["output_tok_s"] - 32 * 64 / (d["tpot_ms"] / 1e3)) < 1e-6 * d["output_tok_s"]
PY
expect 0 estimate --model deepseek-v3 --gpu H200 --tp 1 --dp 16 --wide-ep --role prefill \
	--engine sglang --isl 2000 --osl 500
contains "--moe-a2a-backend deepep --deepep-mode normal" "$out" "sglang wide EP prefill"
contains "--enable-eplb --ep-num-redundant-experts 16" "$out" "sglang EPLB"
contains "--disaggregation-mode prefill --disaggregation-transfer-backend nixl" "$out" \
	"sglang disaggregation"

# --- scenario run: the pair stored, chosen or not ------------------------------
expect 0 scenario create base --workload conv --gpus H200-SXM-141GB,B200-SXM-180GB \
	--start 2027Q1 --quarters 2
expect 0 scenario run base
check "base: the pair weighed and stored" \
	"select count(*) = 1 and sum(chosen) = 0 and sum(fits) = 1 from run_disagg"
check "base: its counts per quarter" "select count(*) = 2 from run_disagg_quarter"
check "base: the loser's reason names both costs" \
	"select reason like '%costs%more%USD%' from run_disagg"
check "base: both losing sides stored unchosen, with their roles" \
	"select count(*) = 2 from run_config_mode m join run_config c using (pool_id, rank)
	  where m.pd_role in ('prefill', 'decode') and c.chosen = 0"
check "base: their commands stored node by node" \
	"select count(*) >= 2 from run_launch x join run_config_mode m using (pool_id, rank)
	  where m.pd_role is not null and x.command like '%NixlConnector%'"
check "base: v_disagg" "select count(*) = 2 from v_disagg where scenario = 'base'"

# A tight TPOT (40 ms) and 11x growth a quarter: decode without prefill in its
# steps wins; the pool becomes a prefill pool and a decode pool.
expect 0 scenario create tight --workload conv --gpus H200-SXM-141GB,B200-SXM-180GB \
	--start 2027Q1 --quarters 4 --growth 1000% --tpot-ms 40
expect 0 scenario run tight
contains "shared-prefill pool" "$out" "tight: prefill pool"
contains "shared-decode pool" "$out" "tight: decode pool"
check "tight: disaggregation chosen" \
	"select chosen = 1 and decode_pool_id is not null and total_usd < aggregated_usd
	   from run_disagg d join run r on r.id = d.run_id join scenario s on s.id = r.scenario_id
	  where s.name = 'tight'"
check "tight: both pools' commands in v_launch" \
	"select count(distinct pool) = 2 from v_launch where scenario = 'tight'
	    and command like '%NixlConnector%'"
check "tight: fleet = instances x GPUs per instance, per pool" \
	"select count(*) = 0 from run_fleet f join run_config c on c.pool_id = f.pool_id and c.chosen
	  join run r on r.id = f.run_id join scenario s on s.id = r.scenario_id
	  where s.name = 'tight' and f.gpus != f.instances * c.gpus_per_instance"
check "tight: the prefill pool serves the input tokens, the decode pool the output" \
	"select sum(p.pool = 'shared-prefill' and f.output_tok_s = 0 and f.input_tok_s > 0) = 4
	    and sum(p.pool = 'shared-decode' and f.input_tok_s = 0 and f.output_tok_s > 0) = 4
	   from run_fleet f join run_pool p on p.id = f.pool_id join run r on r.id = f.run_id
	   join scenario s on s.id = r.scenario_id where s.name = 'tight'"
check "tight: the counts per quarter are the fleet's" \
	"select count(*) = 4 from run_disagg_quarter q join run_disagg d using (pool_id)
	   join run_fleet f on f.pool_id = d.pool_id and f.quarter = q.quarter
	  where d.chosen = 1 and f.instances = q.prefill_instances"
expect 0 report quarterly tight
contains "shared-prefill" "$out" "report: prefill pool"
contains "shared-decode" "$out" "report: decode pool"
contains "kv_consumer" "$out" "report: decode command"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
