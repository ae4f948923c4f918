#!/bin/bash
# e2e_estimate.sh - end-to-end checks of `piqplan estimate`: run the built
# binary (path in $1) on a fresh database and check exit codes and the key
# JSON fields, the failures included. Expected figures are worked out in
# the comments (the unit suite test_instance.c carries the arithmetic).
set -u
PIQPLAN=${1:?usage: e2e_estimate.sh PATH/TO/piqplan}
. "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export PIQPLAN_DB="$TMP/test.db"
fails=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect STATUS CMD...: run, keep stdout in $TMP/out, compare the exit status.
expect() {
	local want=$1; shift
	"$PIQPLAN" "$@" >"$TMP/out" 2>"$TMP/err"
	local got=$?
	[ "$got" = "$want" ] ||
		fail "exit $got, want $want: piqplan $* ($(head -c 300 "$TMP/err"))"
}

# field NAME: a JSON field of the last output, printed as python prints it.
field() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print(json.dumps(v))' \
		"$TMP/out" "$1"
}

check() {	# check NAME WANT
	local got
	got=$(field "$1")
	[ "$got" = "$2" ] || fail "$1 = $got, want $2 (last: $(head -c 200 "$TMP/out"))"
}

expect 0 init

# Llama-3.1-8B bf16 on one H100, vLLM 0.21 (test_instance.c works the budget by
# hand): weights 8,030,261,248 x 2 + the 32 MiB rotary cache, 131,072 B/token,
# 28,644 blocks of 16 = 458,304 tokens, max_num_seqs 305 at 1,500 resident
# tokens, max_model_len 1000+1000 rounded up to 256 = 2048.
expect 0 estimate --model meta-llama/Llama-3.1-8B --gpu H100-SXM-80GB --tp 1 \
	--precision bf16 --isl 1000 --osl 1000 --json
check fits true
check tp 1
check gpus 1
check kv_bytes_per_token_per_gpu 131072
check kv_tokens 458304
check kv_blocks 28644
check block_size 16
check max_num_seqs 305
check max_model_len 2048
check weights_bytes_per_gpu 16094076928
check nodes 1
check bound '"memory"'
want='"meta-llama/Llama-3.1-8B --tensor-parallel-size 1 --max-model-len 2048'
want+=' --max-num-seqs 305 --max-num-batched-tokens 8192 --gpu-memory-utilization 0.92"'
check vllm_args "$want"
python3 - "$TMP/out" <<'PY' || fail "launch: one node, the vllm serve line"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["launch"] == [{"node": 0, "engine": "vllm", "command": "vllm serve " + o["vllm_args"]}], o
PY
python3 - "$TMP/out" <<'PY' || fail "performance fields missing or not positive"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["output_tok_s"] > 0 and o["ttft_ms"] > 0 and o["tpot_ms"] > 0, o
PY

# Plain output names the flags and the figures.
expect 0 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --tp 1 --isl 1000 --osl 1000
grep -q 'vllm serve meta-llama/Llama-3.1-8B --tensor-parallel-size 1' "$TMP/out" ||
	fail "plain output lacks the vllm serve line"
grep -q '458,304 tokens' "$TMP/out" || fail "plain output lacks the KV tokens"

# DeepSeek-V3 in bf16 on 16 x A100-80GB (TP 8 x PP 2) does not fit: exit 0, fits false.
expect 0 estimate --model deepseek-ai/DeepSeek-V3 --gpu A100-SXM-80GB --tp 8 --pp 2 \
	--precision bf16 --isl 1000 --osl 1000 --json
check fits false
check gpus 16
grep -q '"reason":.*"weights .* GiB exceed 0.92 x 79.2 GiB"' "$TMP/out" ||
	fail "reason: $(cat "$TMP/out")"

# Online fp8 on an A100: vLLM runs it weight-only (FP8 Marlin, W8A16), and says so.
expect 0 estimate --model Llama-3.1-8B --gpu A100-SXM-80GB --tp 1 --precision fp8 \
	--isl 100 --osl 100 --json
check fits true
check note '"fp8 weights run weight-only on A100-SXM-80GB (FP8 Marlin, W8A16: bf16 compute)"'
grep -q -- '--quantization fp8' "$TMP/out" || fail "vllm_args: $(cat "$TMP/out")"

# DeepSeek-V3 native fp8 on H200 without --tp: one 8-GPU node (the layout search
# tries DP and EP too); MLA KV 61 x 576 x 2, whole on every rank.
expect 0 estimate --model deepseek-v3 --gpu H200-SXM-141GB --isl 1000 --osl 1000 --json
check fits true
check gpus 8
check kv_bytes_per_token_per_gpu 70272
# Every prediction carries its band and names the profile (the shipped vllm x Hopper fit).
python3 - "$TMP/out" <<'PY' || fail "band: $(cat "$TMP/out")"
import json, sys
b = json.load(open(sys.argv[1]))["band"]
assert b["profile"].startswith("vllm x Hopper"), b
assert b["rows"] > 0 and 0 < b["ratio_p10"] <= b["ratio_p90"], b
assert b["output_tok_s_p10"] <= b["output_tok_s_p90"], b
PY

# Llama-3.1-70B bf16 at TP 4: 2 x 80 x 2 x 128 x 2 = 81,920 B/token per GPU.
expect 0 estimate --model Llama-3.1-70B --gpu H100-SXM-80GB --tp 4 --precision bf16 \
	--isl 1000 --osl 1000 --concurrency 16 --json
check kv_bytes_per_token_per_gpu 81920
check mode '"concurrency"'
check running 16

# KV shorter than max_model_len: Llama-70B bf16 TP 2 holds ~36 k tokens.
expect 0 estimate --model Llama-3.1-70B --gpu H100-SXM-80GB --tp 2 --precision bf16 \
	--isl 1000 --osl 1000 --max-model-len 131072 --json
check fits false
grep -q '"reason":.*"KV holds .* tokens < max_model_len 131,072"' "$TMP/out" ||
	fail "reason: $(cat "$TMP/out")"

# Open loop beyond capacity: saturated, TTFT null.
expect 0 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --tp 1 --isl 1000 --osl 1000 \
	--rate 100000 --json
check saturated true
check ttft_ms null

# fp8 KV and quantization flags reach the vllm arguments.
expect 0 estimate --model Llama-3.1-70B --gpu H100-SXM-80GB --tp 4 --precision fp8 \
	--kv-dtype fp8 --isl 1000 --osl 1000 --gpu-memory-utilization 0.915 --json
grep -q -- '--quantization fp8 --kv-cache-dtype fp8 --max-model-len 2048' "$TMP/out" ||
	fail "vllm_args: $(cat "$TMP/out")"
check gpu_memory_utilization 0.915

# Other engines.
expect 0 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --tp 1 --engine trtllm \
	--isl 1000 --osl 1000 --json
check fits true
check engine '"trtllm"'

# The chosen layout serves the load: 64 clients on DeepSeek-V3 over B200. TP 4 (the fewest GPUs
# that hold its 671 B parameters in fp8) keeps KV for fewer than 64 sequences, so 64 clients
# would queue for a slot; the layout chosen must hold all 64 over its DP ranks.
expect 0 estimate --model deepseek-v3 --gpu B200 --tp 4 --dp 1 --isl 2000 --osl 500 \
	--concurrency 64 --json
python3 - "$TMP/out" <<'PY' || fail "TP 4 was expected to hold fewer than 64 sequences"
import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if o["fits"] and o["max_num_seqs"] < 64 else 1)
PY
expect 0 estimate --model deepseek-v3 --gpu B200 --isl 2000 --osl 500 --concurrency 64 --json
python3 - "$TMP/out" <<'PY' || fail "the chosen layout does not hold the 64 clients"
import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if o["fits"] and o["max_num_seqs"] * o["dp"] >= 64 else 1)
PY

# Usage errors: exit 2.
expect 2 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --tp 3 --isl 10 --osl 10
expect 2 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --isl 0 --osl 10
expect 2 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --isl 10 --osl 10 --precision fp7
expect 2 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --isl 10 --osl 10 --kv-dtype int4
expect 2 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --isl 10 --osl 10 \
	--rate 1 --concurrency 2
expect 2 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --isl 10 --osl 10 --rate 0
expect 2 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --isl 10 --osl 10 \
	--gpu-memory-utilization 1.5
expect 2 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --isl 10
expect 2 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --isl 10 --osl 10 --bogus
# Unknown names: exit 1.
expect 1 estimate --model no-such-model --gpu H100-SXM-80GB --isl 10 --osl 10
expect 1 estimate --model Llama-3.1-8B --gpu H300 --isl 10 --osl 10
expect 1 estimate --model Llama-3.1-8B --gpu H100-SXM-80GB --isl 10 --osl 10 \
	--engine nope
# Help.
expect 0 estimate --help
grep -q 'usage: piqplan estimate' "$TMP/out" || fail "help lacks usage"

if [ "$fails" -gt 0 ]; then
	echo "$fails estimate check(s) failed" >&2
	exit 1
fi
echo "e2e_estimate: all checks passed"
