#!/usr/bin/env bash
# tests/e2e.sh - end-to-end tests of the catalog commands: run the built
# binary on a temporary database and check exit statuses and output,
# the failures included. Usage: e2e.sh PATH/TO/piqplan
set -uo pipefail

PIQPLAN=${1:?usage: e2e.sh PATH/TO/piqplan}
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export PIQPLAN_DB="$tmp/e2e.db"

json() { # json EXPR : evaluate a python expression on the JSON in $out as `j`
	python3 -c "import json,sys; j=json.load(open('$tmp/out')); print($1)"
}

# --- help, version, usage --------------------------------------------------
expect 0 --help;                contains "Commands:" "$out" "--help lists commands"
expect 0 --version;             contains "piqplan " "$out" "--version"
expect 2;                       contains "usage:" "$err" "no arguments is a usage error"
expect 2 frobnicate;            contains "unknown command 'frobnicate'" "$err" "unknown command"
expect 0 help model;            contains "import" "$out" "help model lists subcommands"
expect 0 model show --help;     contains "usage: piqplan model show" "$out" "sub help"
expect 2 model;                 contains "SUBCOMMAND" "$err" "model without subcommand"
expect 2 model frob;            contains "unknown subcommand" "$err" "unknown subcommand"
for c in init model gpu price cluster; do expect 0 "$c" --help; done

# --- init: creates, then changes nothing -------------------------------------
expect 0 init;                  contains "added 24 GPUs, 63 prices, 29 models, 3 engine" "$out" "first init"
h1=$(db_hash)
expect 0 init;                  contains "added 0 GPUs, 0 prices, 0 models, 0 engine" "$out" "second init"
[ "$(db_hash)" = "$h1" ] && ok || bad "second init changed the database"
expect 0 --db "$tmp/other.db" init
[ -f "$tmp/other.db" ] && ok || bad "--db PATH did not create the file"
PIQPLAN_DB= expect 0 init;      [ -f "$tmp/piqplan.db" ] && ok || bad "default ./piqplan.db"
expect 2 init --bogus;          contains "unknown option '--bogus'" "$err" "init unknown option"

# --- models -------------------------------------------------------------------
expect 0 model list
[ "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" -eq 29 ] && ok || bad "model list: 29 rows"
contains "671.03B" "$out" "DeepSeek-V3 total in model list"
expect 0 model list --json;     [ "$(json 'len(j)')" = 29 ] && ok || bad "model list --json: 29"
expect 0 model show deepseek-ai/DeepSeek-V3 --json
# DeepSeek-V3: 61 layers x (512 + 64) x 2 B = 70,272 B/token (DESIGN.md section 4).
[ "$(json 'j["kv_bytes_per_token"]')" = 70272 ] && ok || bad "DeepSeek-V3 KV bytes"
[ "$(json 'j["attention"]')" = MLA ] && ok || bad "DeepSeek-V3 is MLA"
[ "$(json '(j["experts"], j["experts_per_token"])')" = "(256, 8)" ] && ok || bad "DeepSeek-V3 experts"
[ "$(json 'abs(j["total_params"] - 671.03e9) < 0.005 * 671.03e9')" = True ] && ok || bad "DeepSeek total"
[ "$(json 'type(j["layers"]).__name__')" = int ] && ok || bad "integers are JSON numbers"
expect 0 model show deepseek-v3;   contains "MLA" "$out" "suffix lookup, any case"
expect 0 model show LLAMA-3.1-70B --json
# Llama-3.1-70B: 2 x 80 layers x 8 KV heads x 128 x 2 B = 327,680 B/token.
[ "$(json 'j["kv_bytes_per_token"]')" = 327680 ] && ok || bad "Llama-70B KV bytes"
expect 1 model show nope;       contains "unknown model 'nope'" "$err" "unknown model"
expect 2 model show;            contains "usage:" "$err" "model show without ID"
expect 2 model show a b;        contains "unexpected argument" "$err" "model show two IDs"

# model import: a good config, a duplicate, bad JSON, an unsupported type
cp "${PIQPLAN_SOURCE_ROOT:-.}/seeds/models/meta-llama--Llama-3.1-8B.json" "$tmp/llama.json"
expect 0 model import "$tmp/llama.json" --id me/llama-copy
expect 0 model show me/llama-copy --json
[ "$(json 'j["total_params"]')" = 8030261248 ] && ok || bad "imported copy: 8,030,261,248 params (HF)"
expect 1 model import "$tmp/llama.json" --id me/llama-copy
contains "already exists" "$err" "duplicate import"
expect 0 model import "$tmp/llama.json" --id me/llama-copy --replace
h1=$(db_hash)
printf '{"model_type": "llama", "hidden_size": 4096,' >"$tmp/broken.json"
expect 65 model import "$tmp/broken.json" --id me/broken
contains "broken.json" "$err" "bad JSON names the file"
printf '{"model_type": "bert", "hidden_size": 768}' >"$tmp/bert.json"
expect 65 model import "$tmp/bert.json"
contains "unsupported model_type 'bert'" "$err" "unsupported model_type"
printf '\x00\x01\x02binary' >"$tmp/junk.json"
expect 65 model import "$tmp/junk.json"
expect 1 model import "$tmp/does-not-exist.json"
contains "cannot open" "$err" "missing file"
[ "$(db_hash)" = "$h1" ] && ok || bad "failed imports changed the database"

# --- GPUs and prices -----------------------------------------------------------
expect 0 gpu list;              [ "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" -eq 24 ] && ok || bad "24 GPUs"
expect 0 gpu show h100-sxm --json
# gpus.csv: 81,559 MiB = 85,520,809,984 B; 3.35 TB/s; 989 / 1979 dense TFLOPS.
[ "$(json 'j["memory_bytes"]')" = 85520809984 ] && ok || bad "H100 memory bytes"
[ "$(json 'j["mem_bw_bytes_per_s"] == 3.35e12 and j["bf16_flops"] == 989e12 and j["fp8_flops"] == 1979e12')" = True ] && ok || bad "H100 figures"
expect 0 gpu show A100-SXM-80GB --json
[ "$(json 'j["fp8_flops"]')" = None ] && ok || bad "A100 has no FP8"
expect 1 gpu show H300;         contains "unknown GPU 'H300'" "$err" "unknown GPU"
expect 1 gpu show H1;           contains "ambiguous" "$err" "ambiguous GPU prefix"
expect 0 price list --json;     [ "$(json 'len(j)')" = 63 ] && ok || bad "63 prices"
expect 0 price add L40S-48GB on-demand 1.49 --as-of 2026-11 --source "test quote"
expect 0 price list --gpu L40S-48GB --json
[ "$(json '(j[0]["usd_per_gpu_hour"], j[0]["as_of"])')" = "(1.49, '2026-11')" ] && ok || bad "price added"
h1=$(db_hash)
expect 2 price add L40S-48GB free 1.49 --as-of 2026-11 --source x
expect 2 price add L40S-48GB spot -1 --as-of 2026-11 --source x
expect 2 price add L40S-48GB spot 1 --as-of yesterday --source x
expect 2 price add L40S-48GB spot 1 --source x
expect 1 price add H300 spot 1 --as-of 2026 --source x
[ "$(db_hash)" = "$h1" ] && ok || bad "failed price adds changed the database"

# --- clusters -----------------------------------------------------------------
expect 0 cluster add lab --gpu h100-sxm --gpus 64 --usd-per-hour 1.6 --from 2027q2
expect 0 cluster list --json
[ "$(json '(j[0]["gpu"], j[0]["gpus"], j[0]["from_quarter"], j[0]["pricing"])')" = "('H100-SXM-80GB', 64, '2027Q2', 'owned')" ] && ok || bad "cluster stored"
h1=$(db_hash)
expect 1 cluster add lab --gpu h100-sxm --gpus 8;  contains "already exists" "$err" "duplicate cluster"
expect 2 cluster add c2 --gpu h100-sxm --gpus 0
expect 2 cluster add c2 --gpu h100-sxm --gpus eight
expect 2 cluster add c2 --gpu h100-sxm --gpus 8 --from 2027-Q1
expect 2 cluster add c2 --gpu h100-sxm --gpus 8 --pricing free
expect 2 cluster add c2 --gpus 8
expect 1 cluster add c2 --gpu H300 --gpus 8
expect 1 cluster remove nope;   contains "unknown cluster 'nope'" "$err" "remove unknown cluster"
[ "$(db_hash)" = "$h1" ] && ok || bad "failed cluster commands changed the database"
expect 0 cluster remove lab
expect 0 cluster list --json;   [ "$(json 'len(j)')" = 0 ] && ok || bad "cluster removed"

# --- the database itself ---------------------------------------------------------
sqlite3 "$PIQPLAN_DB" 'PRAGMA user_version = 999'
expect 1 model list;            contains "newer than this piqplan" "$err" "newer database refused"
printf 'not a database at all, just text that is long enough to be a header.....' >"$tmp/text.db"
expect 1 --db "$tmp/text.db" model list
# Busy: hold a write lock in another process; a writer gives up with 75.
expect 0 --db "$tmp/busy.db" init
sqlite3 "$tmp/busy.db" "BEGIN IMMEDIATE; SELECT 1; " >/dev/null 2>&1 # releases at exit
( printf 'BEGIN IMMEDIATE;\n'; sleep 8; printf 'COMMIT;\n' ) | sqlite3 "$tmp/busy.db" &
sleep 0.5
expect 75 --db "$tmp/busy.db" cluster add x --gpu L4-24GB --gpus 1
contains "busy" "$err" "busy database"
wait

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
