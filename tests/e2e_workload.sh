#!/usr/bin/env bash
# tests/e2e_workload.sh - end-to-end tests of `piqplan workload`: every
# format imported through the built binary with its counts and sums, list,
# show, remove, --replace (also under a scenario), and every malformed input
# with its line number, exit status 65 and the database byte-for-byte
# unchanged. Usage: e2e_workload.sh PATH/TO/piqplan (PIQPLAN_TEST_DATA: tests/data).
#
# Expected figures are worked out independently: by hand for the tiny
# fixtures (tests/test_ingest.c has the working), and with Python's csv/json
# modules for the real traces (see tests/test_ingest.c, and the percentile
# check below, which runs Python on the same file).
set -uo pipefail

PIQPLAN=${1:?usage: e2e_workload.sh PATH/TO/piqplan}
PIQPLAN=$(cd "$(dirname "$PIQPLAN")" && pwd)/$(basename "$PIQPLAN")
. "$(dirname "$0")/lib.sh"
data=${PIQPLAN_TEST_DATA:-$(dirname "$0")/data}/workloads
data=$(cd "$data" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export PIQPLAN_DB="$tmp/w.db"


is() { # is GOT WANT LABEL
	[ "$1" = "$2" ] && ok || bad "$3: got '$1', want '$2'"
}
json() { # json EXPR : evaluate a python expression on the JSON in $out as `j`
	python3 -c "import json,sys; j=json.load(open('$tmp/out')); v = ($1); print(v)"
}

expect 0 init
expect 0 workload --help;              contains "import" "$out" "workload --help"
expect 0 workload import --help;       contains "--edges" "$out" "import --help"
expect 0 workload list;                is "$out" "NAME  MODEL  FORMAT  REQUESTS  MEAN RPS  PEAK RPS  PROMPT MEAN  OUTPUT MEAN  P99 TOTAL  IMPORTED" "empty list"
expect 0 workload list --json;         is "$(json 'len(j)')" 0 "empty list --json"

# --- the Azure conversation trace (issue 3) ---------------------------------
expect 0 workload import conv "$data/azure_conv.csv" --model deepseek-ai/DeepSeek-V3
contains "imported workload 'conv': 19366 requests" "$out" "conv import message"
is "$err" "" "no progress on stderr when it is not a terminal"
expect 0 workload show conv --json
# Issue 3: 19,366 requests, mean prompt 1,154.7, mean output 211.1, ~5.53 req/s.
# Python: sums 22,361,870 and 4,088,665; span 18:15:46.6805900 .. 19:14:08.4025270
# = 3501.721937 s, 19366 / 3501.721937 = 5.5304.
is "$(json 'j["requests"], j["prompt_tokens_sum"], j["output_tokens_sum"]')" \
	"(19366, 22361870, 4088665)" "conv counts and sums"
is "$(json '"%.1f %.1f %.2f" % (j["prompt_tokens_mean"], j["output_tokens_mean"], j["mean_rps"])')" \
	"1154.7 211.1 5.53" "conv means and rate"
is "$(json '"%.3f" % j["span_s"]')" "3501.722" "conv span"
is "$(json 'j["model"], j["format"], j["edges"], j["source_bytes"]')" \
	"('deepseek-ai/DeepSeek-V3', 'requests', 'log2', 719188)" "conv provenance"
is "$(json 'j["source_sha256"]')" "$(sha256sum <"$data/azure_conv.csv" | cut -c1-64)" "conv sha256"
is "$(json 'j["sums_estimated"], j["independent_marginals"], j["prefix_reuse_share"]')" \
	"(False, False, None)" "conv flags"
is "$(json 'j["peak_window_s"], j["peak_rps"] >= j["mean_rps"]')" "(60, True)" "conv peak"
# Buckets add up to the totals, and each bucket's sum lies within its bounds.
is "$(json 'sum(b["requests"] for b in j["buckets"]), sum(b["prompt_tokens_sum"] for b in j["buckets"]), sum(b["output_tokens_sum"] for b in j["buckets"])')" \
	"(19366, 22361870, 4088665)" "conv buckets add up"
is "$(json 'all(b["requests"] * b["prompt_tokens_lo"] <= b["prompt_tokens_sum"] < b["requests"] * b["prompt_tokens_hi"] for b in j["buckets"])')" \
	True "conv bucket sums within bounds"
# Percentiles: nearest rank computed by Python from the file; piqplan is exact
# below 2048 tokens and within 1/1024 above (README, Workloads).
python3 - "$data/azure_conv.csv" "$tmp/out" <<'EOF' && ok || bad "conv percentiles against Python's nearest rank"
import csv, json, math, sys
def nr(v, q):
	v = sorted(v)
	return v[math.ceil(q * len(v) - 1e-9) - 1]
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
p = [int(r['ContextTokens']) for r in rows]
o = [int(r['GeneratedTokens']) for r in rows]
t = [a + b for a, b in zip(p, o)]
j = json.load(open(sys.argv[2]))
bad = 0
for axis, v in (('prompt', p), ('output', o), ('total', t)):
	for q, key in ((.5, 'p50'), (.9, 'p90'), (.99, 'p99'), (.999, 'p999')):
		want, got = nr(v, q), j['%s_tokens_%s' % (axis, key)]
		tol = 0 if want < 2048 else want / 1024
		if abs(got - want) > tol:
			print('%s %s: got %s want %s' % (axis, key, got, want), file=sys.stderr)
			bad = 1
sys.exit(bad)
EOF
expect 0 workload show conv
contains "requests by prompt length" "$out" "plain show has a prompt histogram"
contains "requests by output length" "$out" "plain show has an output histogram"
# [1024, 2048) holds the most prompts (6868 of 19366, Python): a full 50-column bar.
contains "[1024, 2048)      6868  35.5% $(printf '#%.0s' $(seq 50))" "$out" "longest bar is 50 columns"
contains "19366 over 3501.7 s" "$out" "plain show: requests and span"
contains "(exact)" "$out" "plain show: exact sums"

# --- Azure code trace, another model ------------------------------------------
expect 0 workload import code "$data/azure_code.csv" --model llama-3.1-70b --description "code completion"
expect 0 workload show code --json
# Python: 8,819 requests, sums 18,059,974 / 245,896.
is "$(json 'j["requests"], j["prompt_tokens_sum"], j["output_tokens_sum"], j["model"], j["description"]')" \
	"(8819, 18059974, 245896, 'meta-llama/Llama-3.1-70B', 'code completion')" "code counts"

# --- the tiny hand-made files, one per format ---------------------------------
expect 0 workload import tr "$data/tiny_requests.csv" --model deepseek-v3
expect 0 workload show tr --json
# 5 requests over 120 s, sums 1353 / 1042, busiest 60 s holds 2 (test_ingest.c): 2/60 is
# below the mean 5/120, so the peak is the mean (a window is never less busy than the average).
is "$(json 'j["requests"], j["prompt_tokens_sum"], j["output_tokens_sum"], j["span_s"], len(j["buckets"])')" \
	"(5, 1353, 1042, 120, 4)" "tiny requests"
is "$(json '"%.6f %.6f" % (j["mean_rps"], j["peak_rps"])')" "0.041667 0.041667" "tiny requests rates"
# --edges 200: [0,200)^2 holds 4 requests (3+100+150+100 = 353 prompt), the rest 1;
# --window 120 in 30 s slots: 4 requests in the busiest 120 s -> 4/120, again below the mean.
expect 0 workload import tr200 "$data/tiny_requests.csv" --model deepseek-v3 --edges 200 --window 120
expect 0 workload show tr200 --json
is "$(json '[(b["prompt_tokens_lo"], b["prompt_tokens_hi"], b["requests"], b["prompt_tokens_sum"]) for b in j["buckets"]]')" \
	"[(0, 200, 4, 353), (200, 10000001, 1, 1000)]" "--edges 200"
is "$(json 'j["edges"], "%.6f" % j["peak_rps"], j["peak_window_s"]')" "('200', '0.041667', 120)" "--window 120"

expect 0 workload import tb "$data/tiny_buckets.csv" --model deepseek-v3
expect 0 workload show tb --json
# 30+10+20+5 = 65 requests; midpoint sums 12940 / 2060; peak = largest peak_rps 0.7.
is "$(json 'j["format"], j["requests"], j["prompt_tokens_sum"], j["output_tokens_sum"], j["peak_rps"], j["sums_estimated"]')" \
	"('buckets', 65, 12940, 2060, 0.7, True)" "tiny buckets"
expect 0 workload show tb;  contains "estimated from bucket midpoints" "$out" "buckets: estimated note"
contains "[1000, inf)" "$out" "open top bucket shown as inf"

# The file's model column says 'm': --model-label names it (rows of other models are left out).
expect 65 workload import tp "$data/tiny_prometheus.csv" --model deepseek-v3
contains "the file has models 'm'" "$err" "prometheus: the model column must name the model"
expect 0 workload import tp "$data/tiny_prometheus.csv" --model deepseek-v3 --model-label m
expect 0 workload show tp --json
# Marginal prompt total 22; independence joint sums 9355 / 794; busiest window 12/60.
is "$(json 'j["format"], j["requests"], j["prompt_tokens_sum"], j["output_tokens_sum"], round(j["peak_rps"], 9), j["independent_marginals"]')" \
	"('prometheus', 22, 9355, 794, 0.2, True)" "tiny prometheus"
expect 0 workload show tp;  contains "assumes they are independent" "$out" "prometheus: independence note"

expect 0 workload import tm "$data/tiny_mooncake.jsonl" --model deepseek-v3
expect 0 workload show tm --json
# 3 requests, sums 3600 / 35, 3 of 8 hash ids repeat.
is "$(json 'j["format"], j["requests"], j["prompt_tokens_sum"], j["output_tokens_sum"], j["prefix_reuse_share"]')" \
	"('mooncake', 3, 3600, 35, 0.375)" "tiny mooncake"
expect 0 workload show tm;  contains "37.5% of prefix-cache blocks" "$out" "mooncake: reuse line"

# --- the Mooncake traces -----------------------------------------------------
expect 0 workload import mc "$data/mooncake_conversation.jsonl" --model kimi-k2-instruct --format mooncake
expect 0 workload show mc --json
# Python: 12,031 requests, sums 144,793,823 / 4,122,048, timestamps 0 .. 3,536,999 ms.
is "$(json 'j["requests"], j["prompt_tokens_sum"], j["output_tokens_sum"], j["span_s"]')" \
	"(12031, 144793823, 4122048, 3536.999)" "mooncake conversation"
expect 0 workload import ms "$data/mooncake_synthetic.jsonl" --model kimi-k2-instruct
expect 0 workload show ms --json
# Python: 3,993 requests, sums 61,194,628 / 595,432; 77,953 of 121,877 blocks repeat.
is "$(json 'j["requests"], j["prompt_tokens_sum"], j["output_tokens_sum"], "%.6f" % j["prefix_reuse_share"]')" \
	"(3993, 61194628, 595432, '$(python3 -c 'print("%.6f" % (77953 / 121877))')')" "mooncake synthetic"

# --- a trace shorter than the peak window: the peak is the mean ---------------
# 4 requests at 0, 5, 10, 15 s: mean 4 / 15 s; the 60 s window would say 4 / 60.
printf 'timestamp,prompt_tokens,output_tokens\n0,10,1\n5,10,1\n10,10,1\n15,10,1\n' >short_trace.csv
expect 0 workload import short short_trace.csv --model deepseek-v3
expect 0 workload show short --json
is "$(json '"%.4f %.4f" % (j["mean_rps"], j["peak_rps"])')" "0.2667 0.2667" "short trace: peak = mean"
expect 0 workload remove short

# --- stdin --------------------------------------------------------------------
"$PIQPLAN" workload import piped - --model deepseek-v3 <"$data/tiny_requests.csv" >/dev/null 2>&1 \
	&& ok || bad "import from stdin"
expect 0 workload show piped --json
is "$(json 'j["requests"], j["source_file"], j["source_sha256"]')" \
	"(5, '-', '$(sha256sum <"$data/tiny_requests.csv" | cut -c1-64)')" "stdin import"

# --- list ---------------------------------------------------------------------
expect 0 workload list
is "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" 10 "list: 10 workloads"
contains "conv " "$out" "list names conv"
expect 0 workload list --json
is "$(json '[w["name"] for w in j][:2], j[1]["requests"], sorted(j[1])')" \
	"(['code', 'conv'], 19366, ['format', 'imported_at', 'mean_rps', 'model', 'name', 'output_tokens_mean', 'peak_rps', 'prompt_tokens_mean', 'requests', 'total_tokens_p99'])" \
	"list --json"

# --- failures that change nothing ---------------------------------------------
h0=$(db_hash)
expect 1 workload import conv "$data/tiny_requests.csv" --model deepseek-v3
contains "workload 'conv' already exists" "$err" "duplicate name"
expect 1 workload import new "$data/tiny_requests.csv" --model no-such-model
contains "unknown model 'no-such-model'" "$err" "unknown model"
expect 1 workload import new "$tmp/no-such-file.csv" --model deepseek-v3
contains "no-such-file.csv" "$err" "missing file named"
expect 2 workload import new "$data/tiny_requests.csv" --model deepseek-v3 --edges 5,3
contains "--edges '5,3'" "$err" "bad --edges named"
expect 2 workload import new "$data/tiny_requests.csv" --model deepseek-v3 --edges lin
expect 2 workload import new "$data/tiny_requests.csv" --model deepseek-v3 --edges 10,x
expect 2 workload import new "$data/tiny_requests.csv" --model deepseek-v3 --window 0
expect 2 workload import new "$data/tiny_requests.csv" --model deepseek-v3 --window -5
expect 2 workload import new "$data/tiny_requests.csv" --model deepseek-v3 --window soon
expect 2 workload import new "$data/tiny_requests.csv" --model deepseek-v3 --format csv
expect 2 workload import new "$data/tiny_requests.csv"
contains "usage:" "$err" "import without --model"
expect 2 workload import new --model deepseek-v3
expect 2 workload import new "$data/tiny_requests.csv" --model deepseek-v3 --bogus
expect 1 workload show nope;    contains "unknown workload 'nope'" "$err" "show unknown"
expect 1 workload remove nope;  contains "unknown workload 'nope'" "$err" "remove unknown"
expect 2 workload show
is "$(db_hash)" "$h0" "failed commands changed the database"

# --- malformed data: FILE:LINE: column NAME, exit 65, database unchanged --------
# bad FILE LINE-AND-COLUMN [IMPORT OPTIONS...]
malformed() {
	local file=$1 where=$2; shift 2
	local h=$(db_hash)
	expect 65 workload import broken "$file" --model deepseek-v3 "$@"
	contains "$(basename "$file")$where" "$err" "malformed $(basename "$file")"
	case "$err" in "piqplan: error: "*) ok ;; *) bad "error voice: $err" ;; esac
	is "$(db_hash)" "$h" "malformed $(basename "$file") changed the database"
}
hdr='timestamp,prompt_tokens,output_tokens'
printf '%s\n1,10,5\n2,10\n' "$hdr" >short.csv
malformed short.csv ":3: column output_tokens: expected"
printf '%s\n1,10,5\n2,10,5,9\n' "$hdr" >long.csv
malformed long.csv ":3: "
printf '%s\n1,10,5\n2,ten,5\n' "$hdr" >word.csv
malformed word.csv ":3: column prompt_tokens: expected"
printf '%s\n1,10,5\n2,1.5,5\n' "$hdr" >frac.csv
malformed frac.csv ":3: column prompt_tokens: expected"
printf '%s\n1,10,5\n2,10,5\n3,10,-7\n' "$hdr" >neg.csv
malformed neg.csv ":4: column output_tokens: expected"
printf '%s\n1,10,5\n2,99999999,5\n' "$hdr" >absurd.csv
malformed absurd.csv ":3: column prompt_tokens: expected"
printf '%s\n1,10,5\nyesterday,10,5\n' "$hdr" >when.csv
malformed when.csv ":3: column timestamp: expected"
printf '%s\n1,10,5\n2024-13-45 25:00:00,10,5\n' "$hdr" >date.csv
malformed date.csv ":3: column timestamp: expected"
printf 'timestamp,prompt_tokens\n1,10\n' >nocol.csv
malformed nocol.csv ":1: column output_tokens: expected"
printf '%s\n' "$hdr" >headeronly.csv
malformed headeronly.csv ":1: expected"
malformed "$data/bad_empty.csv" ":1: expected"
malformed "$data/bad_binary.csv" ":3: expected text"
head -c 4096 "$PIQPLAN" >elf.bin
malformed elf.bin ":1: expected"
malformed "$data/bad_negative.csv" ":4: column GeneratedTokens: expected"
malformed "$data/bad_mooncake_key.jsonl" ":2: column output_length: expected"
printf '{"timestamp": 0, "input_length": 10, "output_length": 1, "hash_ids": [0]}\n{"timestamp": 5, "input_len\n' >trunc.jsonl
malformed trunc.jsonl ":2: "
# A Mooncake file read as requests; overlapping buckets name both lines.
malformed "$data/tiny_mooncake.jsonl" ":1: " --format requests
printf 'prompt_tokens_lo,prompt_tokens_hi,output_tokens_lo,output_tokens_hi,requests\n0,100,0,50,3\n50,150,0,50,2\n' >overlap.csv
malformed overlap.csv ":"
contains "overlap.csv:3:" "$err" "overlap names line 3"
contains "line 2" "$err" "overlap names line 2"
# A bad row far down a large file: nothing of the good rows lands.
python3 -c "
import sys
w = sys.stdout.write
w('timestamp,prompt_tokens,output_tokens\n')
for i in range(100000): w('%d,%d,%d\n' % (1700000000 + i // 10, 100 + i % 900, 1 + i % 50))
w('1700020000,12,x\n')" >late.csv
malformed late.csv ":100002: column output_tokens: expected"
# Same name as an existing workload with --replace: the old one survives bad data.
h=$(db_hash)
expect 65 workload import conv word.csv --model deepseek-v3 --replace
is "$(db_hash)" "$h" "failed --replace kept the old workload"
expect 0 workload show conv --json;  is "$(json 'j["requests"]')" 19366 "conv intact"

# A failure of the database itself mid-import rolls everything back.
sqlite3 "$PIQPLAN_DB" "CREATE TRIGGER boom BEFORE INSERT ON workload_bucket
	WHEN (SELECT count(*) FROM workload_bucket WHERE workload_id =
	      (SELECT max(id) FROM workload)) >= 5
	BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;"
h=$(db_hash)
expect 1 workload import conv2 "$data/azure_conv.csv" --model deepseek-v3
contains "simulated failure" "$err" "database failure reported"
is "$(db_hash)" "$h" "database failure left rows behind"
sqlite3 "$PIQPLAN_DB" "DROP TRIGGER boom"

# --- --replace, scenarios, remove ---------------------------------------------
expect 0 workload import tr "$data/tiny_mooncake.jsonl" --model deepseek-v3 --replace
contains "replaced workload 'tr'" "$out" "replace message"
expect 0 workload show tr --json
is "$(json 'j["format"], j["requests"], len(j["buckets"])')" "('mooncake', 3, 3)" "replaced contents"
is "$(sqlite3 "$PIQPLAN_DB" "SELECT count(*) FROM workload WHERE name = 'tr'")" 1 "one row after replace"
is "$(sqlite3 "$PIQPLAN_DB" "SELECT count(*) FROM workload_bucket WHERE workload_id NOT IN (SELECT id FROM workload)")" \
	0 "no orphan buckets"

expect 0 scenario create s1 --workload conv,code --start 2027Q1 --quarters 4
expect 0 scenario create s2 --workload conv --start 2027Q1 --quarters 4
conv_id=$(sqlite3 "$PIQPLAN_DB" "SELECT id FROM workload WHERE name = 'conv'")
expect 0 workload import conv "$data/tiny_requests.csv" --model deepseek-v3 --replace
is "$(sqlite3 "$PIQPLAN_DB" "SELECT id, requests FROM workload WHERE name = 'conv'")" "$conv_id|5" \
	"replace under a scenario keeps the id"
is "$(sqlite3 "$PIQPLAN_DB" "SELECT count(*), sum(requests) FROM workload_bucket WHERE workload_id = $conv_id")" \
	"4|5" "replace under a scenario replaces the buckets"
is "$(sqlite3 "$PIQPLAN_DB" "SELECT count(*) FROM scenario_workload WHERE workload_id = $conv_id")" 2 \
	"scenarios still point at conv"
h=$(db_hash)
expect 1 workload remove conv
contains "used by scenarios 's1', 's2'" "$err" "remove names the scenarios"
expect 1 workload remove code
contains "used by scenario 's1'" "$err" "remove names the scenario"
is "$(db_hash)" "$h" "refused remove changed the database"
expect 0 scenario remove s1
expect 0 scenario remove s2
expect 0 workload remove conv;  contains "removed workload 'conv'" "$out" "remove"
expect 1 workload show conv
is "$(sqlite3 "$PIQPLAN_DB" "SELECT count(*) FROM workload_bucket WHERE workload_id = $conv_id")" 0 \
	"remove took the buckets"

# --- progress: only on a terminal, and cleared -------------------------------------
python3 -c "
import sys
w = sys.stdout.write
w('timestamp,prompt_tokens,output_tokens\n')
for i in range(150000): w('%d,%d,%d\n' % (1700000000 + i // 10, 100 + i % 900, 1 + i % 50))" >big.csv
expect 0 workload import big big.csv --model deepseek-v3
is "$err" "" "no progress when stderr is not a terminal"
if command -v script >/dev/null 2>&1; then
	script -qec "'$PIQPLAN' workload import big2 big.csv --model deepseek-v3" /dev/null \
		>"$tmp/tty" 2>&1
	contains "importing big.csv: " "$(cat "$tmp/tty")" "progress on a terminal"
	contains "MiB of" "$(cat "$tmp/tty")" "progress shows MiB"
	contains $'\r\033[K' "$(cat "$tmp/tty")" "progress line cleared"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
