#!/bin/bash
# e2e_plan.sh - end-to-end checks of `piqplan plan`: the built binary (path
# in $1) on a fresh database with the Azure conversation trace imported for
# Llama-3.1-70B: exit codes, the JSON keys, the ranking order, the unpriced
# GPUs left out with a warning, and the failures.
set -u
PIQPLAN=${1:?usage: e2e_plan.sh PATH/TO/piqplan}
. "$(dirname "$0")/lib.sh"
DATA=${PIQPLAN_TEST_DATA:?}
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

expect 0 init
expect 0 workload import conv "$DATA/workloads/azure_conv.csv" --model meta-llama/Llama-3.1-70B

expect 2 plan
expect 2 plan conv --bogus
expect 2 plan conv --utilization 1.5
expect 1 plan nosuch
grep -q "unknown workload 'nosuch'" "$TMP/err" || fail "unknown workload: $(cat "$TMP/err")"
expect 1 plan conv --engine nosuch
expect 1 plan conv --gpus NOPE-GPU

# Every GPU: the unpriced ones (H20, H200 NVL, MI350X, ... have no price: seeds/prices.csv) are named.
expect 0 plan conv --json --top 5
grep -q "no on-demand price for .*H20-SXM-96GB" "$TMP/err" || fail "no unpriced warning: $(cat "$TMP/err")"
python3 - "$TMP/out" <<'PY' || fail "plan JSON"
import json, sys
o = json.load(open(sys.argv[1]))
for k in ("workload", "model", "isl", "osl", "max_model_len", "evaluated", "feasible",
          "candidates", "infeasible"):
    assert k in o, k
assert o["model"] == "meta-llama/Llama-3.1-70B"
c = o["candidates"]
assert 0 < len(c) <= 5 and o["feasible"] >= len(c)
for x in c:
    for k in ("gpu", "tp", "pp", "dp", "ep", "precision", "gpus", "max_model_len",
              "max_num_seqs", "kv_tokens", "rate_rps", "ttft_ms", "tpot_ms",
              "usd_per_m_output_tokens", "vllm_args"):
        assert k in x, k
    assert x["ttft_ms"] <= 2000 and x["tpot_ms"] <= 100, x
    assert x["gpu"] not in ("H20-SXM-96GB", "H200-NVL-141GB", "MI350X-OAM-288GB"), x["gpu"]
    assert x["vllm_args"].startswith("meta-llama/Llama-3.1-70B --tensor-parallel-size")
    # USD per million output tokens = usd/h / (rate x osl x 3600) x 1e6.
    want = x["usd_per_hour"] / (x["rate_rps"] * o["osl"] * 3600) * 1e6
    assert abs(x["usd_per_m_output_tokens"] - want) <= 1e-9 * want, (x, want)
u = [x["usd_per_m_output_tokens"] for x in c]
assert u == sorted(u), u
assert all("reason" in r and r["candidates"] > 0 for r in o["infeasible"])
PY

# Only H100, a tight TPOT: fewer feasible; plain output has the table and the best line.
expect 0 plan conv --gpus H100-SXM-80GB --tpot-ms 30
grep -q "candidates evaluated" "$TMP/out" || fail "plain header: $(head -2 "$TMP/out")"
grep -q "best: vllm serve meta-llama/Llama-3.1-70B" "$TMP/out" || fail "no best line"
grep -q "H100-SXM-80GB" "$TMP/out" || fail "no H100 row"
# Only an unpriced GPU: nothing to plan with, exit 1.
expect 1 plan conv --gpus H20-SXM-96GB
grep -q "no candidate GPU has an on-demand price" "$TMP/err" || fail "unpriced only: $(cat "$TMP/err")"

if [ "$fails" -gt 0 ]; then
	echo "e2e_plan: $fails failure(s)" >&2
	exit 1
fi
echo "e2e_plan: all checks passed"
