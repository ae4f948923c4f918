#!/bin/bash
# e2e_vllm.sh - end-to-end checks of issue 10 (instances vLLM would really
# run): the built binary (path in $1) on a fresh database. DeepSeek-V3 TP 1 x
# DP 8 on one 8 x H200 node with its experts sharded over the eight GPUs;
# DP 16 with EP over two 8 x H100 nodes and its two node commands; TP over
# PCIe (Llama-3.1-70B TP 4 on L40S); an FP8 checkpoint on A100 run
# weight-only; never --quantization fp8 for gpt-oss; fp4 only from an fp4
# checkpoint; --trust-remote-code for Kimi-K2; layouts vLLM refuses; the
# engine flags the memory model takes; the commands stored by a run.
set -u
PIQPLAN=${1:?usage: e2e_vllm.sh PATH/TO/piqplan}
. "$(dirname "$0")/lib.sh"
DATA=${PIQPLAN_TEST_DATA:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PIQPLAN_DB="$tmp/test.db"
TMP=$tmp

# py EXPR [LABEL]: a Python assertion on the last JSON output (j).
py() {
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert $1, j" "$tmp/out" \
		2>/dev/null && ok || bad "${2:-$1}: ${out:0:600}"
}
fail() { bad "$@"; }

expect 0 init

# --- DeepSeek-V3 TP 1 x DP 8 on 8 x H200: fits, experts split over the 8 GPUs -------
# Routed experts 58 x 256 x 3 x 7168 x 2048 = 653.9 B parameters (fp8): / 8 = 81.7 GB
# a GPU, not 653.9 GB copied to every DP rank; with the attention, dense layers and
# bf16 embeddings whole on each rank about 100 GB (93.9 GiB) a GPU.
expect 0 estimate --model deepseek-v3 --gpu H200-SXM-141GB --tp 1 --dp 8 --isl 2000 \
	--osl 500 --json
py 'j["fits"] and j["gpus"] == 8 and j["nodes"] == 1 and not j["ep"]' "DeepSeek-V3 TP1 DP8"
py '90 * 2**30 < j["weights_bytes_per_gpu"] < 100 * 2**30' "experts sharded over TP x DP"
py 'j["kv_blocks"] > 0 and j["block_size"] == 64' "FlashMLA blocks of 64"
py '"--data-parallel-size 8" in j["vllm_args"] and len(j["launch"]) == 1' "one command"

# --- DP 16 with EP over two 8 x H100 nodes: two commands -----------------------------
expect 0 estimate --model deepseek-v3 --gpu H100-SXM-80GB --tp 1 --dp 16 --ep --isl 2000 \
	--osl 500 --json
py 'j["fits"] and j["gpus"] == 16 and j["nodes"] == 2' "DP16 EP fits on two nodes"
py 'len(j["launch"]) == 2 and [c["node"] for c in j["launch"]] == [0, 1]' "two node commands"
py '"--data-parallel-size-local 8" in j["launch"][0]["command"] and "--headless" not in j["launch"][0]["command"]' "node 0"
py '"--data-parallel-start-rank 8 --headless" in j["launch"][1]["command"] and "--data-parallel-address ${HEAD_IP:?" in j["launch"][1]["command"]' "node 1"
py 'all("--enable-expert-parallel" in c["command"] for c in j["launch"])' "EP on both"
expect 0 estimate --model deepseek-v3 --gpu H100-SXM-80GB --tp 1 --dp 16 --ep --isl 2000 \
	--osl 500
grep -q '^nodes       2 of 8 GPUs' "$TMP/out" || fail "plain: nodes line: $(head -5 "$TMP/out")"
grep -q '^  node 0: vllm serve deepseek-ai/DeepSeek-V3 ' "$TMP/out" || fail "plain: node 0"
grep -q '^  node 1: vllm serve deepseek-ai/DeepSeek-V3 .*--headless' "$TMP/out" ||
	fail "plain: node 1"
# The same layout without a node's worth of whole ranks: TP 16 x DP 2 straddles nodes.
expect 0 estimate --model deepseek-v3 --gpu H100-SXM-80GB --tp 16 --dp 2 --ep --cross-node-tp \
	--isl 2000 --osl 500 --json
py 'not j["fits"] and "does not fit whole in a 8-GPU node" in j["reason"]' "DP rank across nodes"

# --- TP over PCIe: Llama-3.1-70B TP 4 on 4 x L40S answers ----------------------------
expect 0 estimate --model Llama-3.1-70B --gpu L40S-48GB --tp 4 --isl 1000 --osl 500 --json
py 'j["fits"] and j["gpus"] == 4 and j["tp"] == 4' "Llama-70B TP4 on L40S"
# Two L40S nodes: the catalog has no scale-out network for L40S, so it says so.
expect 0 estimate --model Llama-3.1-405B --gpu L40S-48GB --tp 8 --pp 2 --precision fp8 \
	--isl 1000 --osl 500 --json
py 'not j["fits"] and "no scale-out network" in j["reason"]' "L40S across nodes"

# --- An FP8 checkpoint on A100: weight-only (FP8 Marlin, W8A16) -----------------------
expect 0 estimate --model Qwen3-30B-A3B-FP8 --gpu A100-SXM-80GB --tp 1 --isl 1000 --osl 500 \
	--json
py 'j["fits"] and "weight-only" in j["note"] and "--quantization" not in j["vllm_args"]' \
	"FP8 checkpoint on A100"

# --- gpt-oss: never --quantization fp8 -----------------------------------------------
expect 0 estimate --model gpt-oss-120b --gpu H100-SXM-80GB --tp 2 --precision fp8 --isl 1000 \
	--osl 500 --json
py 'not j["fits"] and "quant_method '"'"'mxfp4'"'"'" in j["reason"]' "gpt-oss fp8 refused"
expect 0 estimate --model gpt-oss-120b --gpu H100-SXM-80GB --isl 1000 --osl 500 --json
py 'j["fits"] and "--quantization" not in j["vllm_args"]' "gpt-oss native"
expect 0 workload import chat "$DATA/workloads/azure_conv.csv" --model openai/gpt-oss-120b
expect 0 plan chat --json --top 50
py 'j["candidates"] and all("--quantization" not in c["vllm_args"] and all("--quantization" not in l["command"] for l in c["launch"]) for c in j["candidates"])' \
	"no plan line carries --quantization for gpt-oss"

# --- fp4 only from a pre-quantised checkpoint -----------------------------------------
expect 0 estimate --model Llama-3.1-8B --gpu B200-SXM-180GB --tp 1 --precision fp4 --isl 1000 \
	--osl 500 --json
py 'not j["fits"] and j["reason"].startswith("fp4 needs a pre-quantised MXFP4 or NVFP4 checkpoint")' \
	"fp4 from bf16 refused"
expect 0 estimate --model nvidia/Qwen3-235B-A22B-NVFP4 --gpu B200-SXM-180GB --tp 2 \
	--precision fp4 --isl 1000 --osl 500 --json
py 'j["fits"] and j["precision"] == "native"' "fp4 from an NVFP4 checkpoint"

# --- Kimi-K2: --trust-remote-code (its config has auto_map) ---------------------------
expect 0 estimate --model Kimi-K2-Instruct --gpu B200-SXM-180GB --tp 8 --isl 1000 --osl 500 --json
py 'j["fits"] and "--trust-remote-code" in j["vllm_args"]' "Kimi-K2 trust-remote-code"
expect 0 estimate --model Kimi-K2-Instruct --gpu B200-SXM-180GB --tp 8 --isl 1000 --osl 500 \
	--engine sglang --json
py 'j["launch"][0]["command"].startswith("python -m sglang.launch_server --model-path moonshotai/Kimi-K2-Instruct ") and "--trust-remote-code" in j["launch"][0]["command"] and "--mem-fraction-static" in j["launch"][0]["command"]' \
	"SGLang line"
expect 0 estimate --model Kimi-K2-Instruct --gpu B200-SXM-180GB --tp 8 --isl 1000 --osl 500 \
	--engine trtllm --json
py 'j["launch"][0]["command"].startswith("trtllm-serve moonshotai/Kimi-K2-Instruct --backend pytorch --tp_size 8 ") and "--trust_remote_code" in j["launch"][0]["command"]' \
	"TensorRT-LLM line"

# --- max_model_len: never above the model's context -----------------------------------
# Qwen3-8B's context is 40,960: isl + osl = 40,950 rounds up to 41,216, capped at 40,960.
expect 0 estimate --model Qwen3-8B --gpu H100-SXM-80GB --tp 1 --isl 40000 --osl 950 --json
py 'j["max_model_len"] == 40960 and "--max-model-len 40960" in j["vllm_args"]' "capped"
expect 0 estimate --model Qwen3-8B --gpu H100-SXM-80GB --tp 1 --isl 1000 --osl 100 \
	--max-model-len 65536 --json
py 'not j["fits"] and "exceeds the model'"'"'s context of 40,960" in j["reason"]' "refused"

# --- layouts vLLM refuses: fits false with the reason ----------------------------------
expect 0 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --tp 1 --ep --isl 100 --osl 100 --json
py 'not j["fits"] and "dense" in j["reason"]' "EP on a dense model"
expect 0 estimate --model Qwen/Qwen2.5-7B-Instruct --gpu H100-SXM-80GB --tp 8 --isl 100 \
	--osl 100 --json
py 'not j["fits"] and j["reason"] == "tp 8 does not divide the 28 attention heads"' "heads / TP"
expect 0 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --tp 16 --isl 100 --osl 100 --json
py 'not j["fits"] and "--cross-node-tp" in j["reason"]' "TP across nodes not asked for"
expect 0 estimate --model Llama-3.1-405B --gpu H100-SXM-80GB --tp 16 --precision fp8 \
	--cross-node-tp --isl 1000 --osl 500 --json
py 'j["fits"] and j["nodes"] == 2 and len(j["launch"]) == 2 and j["launch"][1]["command"].startswith("ray start --address=")' \
	"TP 16 across two nodes, asked for, over Ray"

# --- the engine flags the memory model takes -------------------------------------------
expect 0 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --tp 1 --isl 1000 --osl 1000 \
	--max-num-seqs 256 --json
cp "$TMP/out" "$TMP/graphs.json"
expect 0 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --tp 1 --isl 1000 --osl 1000 \
	--max-num-seqs 256 --enforce-eager --json
python3 - "$TMP/graphs.json" "$TMP/out" <<'PY' || fail "--enforce-eager frees the graphs' estimate"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["cuda_graph_estimate_bytes"] > 0 and b["cuda_graph_estimate_bytes"] == 0, (a, b)
assert abs(b["kv_budget_bytes_per_gpu"] - a["kv_budget_bytes_per_gpu"]
           - a["cuda_graph_estimate_bytes"]) < 2, (a, b)
assert "--enforce-eager" in b["vllm_args"] and b["max_num_seqs"] == 256, b
PY
expect 0 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --tp 1 --isl 1000 --osl 1000 \
	--max-num-batched-tokens 16384 --block-size 32 --json
py 'j["max_num_batched_tokens"] == 16384 and j["block_size"] == 32 and "--block-size 32" in j["vllm_args"]' \
	"batched tokens and block size"
expect 2 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --isl 10 --osl 10 --block-size -1
expect 0 workload import code "$DATA/workloads/azure_code.csv" --model meta-llama/Llama-3.1-8B
expect 0 plan code --json --top 3 --enforce-eager --max-num-seqs 128 --gpus H100-SXM-80GB
py 'all("--enforce-eager" in c["vllm_args"] and c["max_num_seqs"] <= 128 for c in j["candidates"])' \
	"plan takes the flags"

# --- model import: bad input names the field, exit 65 ----------------------------------
printf '{"model_type":"llama","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":2,"vocab_size":100,"intermediate_size":128,"max_position_embeddings":4096,"quantization_config":{"quant_method":"bitsandbytes"}}' \
	>"$TMP/bnb.json"
expect 65 model import "$TMP/bnb.json" --id test/bnb
grep -q "quant_method 'bitsandbytes'" "$TMP/err" || fail "quant_method named: $(cat "$TMP/err")"
printf '{"model_type":"llama","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":2,"vocab_size":100,"intermediate_size":128,"max_position_embeddings":4096}' \
	>"$TMP/tiny.json"
expect 2 model import "$TMP/tiny.json" --id -rm
printf '{"quantization": {"quant_algo": "W2A16"}}' >"$TMP/hfq.json"
expect 65 model import "$TMP/tiny.json" --id test/w2 --quant-config "$TMP/hfq.json"
grep -q "W2A16" "$TMP/err" || fail "quant_algo named: $(cat "$TMP/err")"

# --- a run stores every node's command with its configuration ---------------------------
expect 0 scenario create s --workload code --gpus H100-SXM-80GB --start 2027Q1 --quarters 1
expect 0 scenario run s
n=$(sqlite3 "$PIQPLAN_DB" "SELECT count(*) FROM run_launch l JOIN run_config c
	ON c.pool_id = l.pool_id AND c.rank = l.rank WHERE c.max_num_seqs IS NOT NULL")
[ "$n" -gt 0 ] || fail "run_launch rows: $n"
bad=$(sqlite3 "$PIQPLAN_DB" "SELECT count(*) FROM run_config c WHERE c.max_num_seqs IS NOT NULL
	AND (c.nodes IS NULL OR c.nodes != (SELECT count(*) FROM run_launch l
	WHERE l.pool_id = c.pool_id AND l.rank = c.rank)
	OR c.vllm_args != (SELECT command FROM run_launch l WHERE l.pool_id = c.pool_id
	AND l.rank = c.rank AND l.node = 0))")
[ "$bad" = 0 ] || fail "configurations whose commands do not match their nodes: $bad"
v=$(sqlite3 "$PIQPLAN_DB" "SELECT count(*) FROM v_launch WHERE scenario = 's' AND node = 0
	AND command LIKE 'vllm serve meta-llama/Llama-3.1-8B %'")
[ "$v" = 1 ] || fail "v_launch: $v"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
