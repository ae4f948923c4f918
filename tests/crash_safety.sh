#!/usr/bin/env bash
# tests/crash_safety.sh - kill piqplan with SIGKILL at many points of a large
# `workload import` (a generated 300,000-row request log, new names and
# --replace of an existing workload) and of a long `scenario run`, then check
# that PRAGMA integrity_check is ok and that the database holds all or none of
# each interrupted command: a workload row present has exactly the buckets a
# clean import gives, a run row present has exactly the rows a clean run
# writes. Kill points are spread uniformly over 0..1.2x the clean duration.
# Usage: crash_safety.sh PATH/TO/piqplan [KILLS]
set -uo pipefail

PIQPLAN=$(realpath "${1:?usage: crash_safety.sh PATH/TO/piqplan [KILLS]}")
KILLS=${2:-${CRASH_KILLS:-32}}
DATA=${PIQPLAN_TEST_DATA:?PIQPLAN_TEST_DATA must point at tests/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export PIQPLAN_DB="$tmp/c.db"
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
q() { sqlite3 -cmd '.timeout 5000' "$PIQPLAN_DB" "$1"; }
check() { # check LABEL SQL : the query must print 1
	local v; v=$(q "$2"); [ "$v" = 1 ] && ok || bad "$1: got '$v' from: $2"
}
expect0() {
	"$PIQPLAN" "$@" >"$tmp/out" 2>"$tmp/err" && ok ||
		bad "piqplan $* -> exit $?; stderr: $(cat "$tmp/err")"
}
now_ms() { date +%s%3N; }
# A random delay in seconds, uniform over 0..1.2 x $1 milliseconds.
delay() {
	local ms=$(( (RANDOM * 32768 + RANDOM) % ($1 * 12 / 10 + 1) ))
	printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

# Start piqplan in the background, kill it with SIGKILL after a delay; sets
# killed=1 if it was still running (exit 137), 0 if it had finished (exit 0).
kill_after() {
	local d=$1; shift
	"$PIQPLAN" "$@" >/dev/null 2>"$tmp/err" &
	local pid=$!
	sleep "$d"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	local st=$?
	case $st in
	137) killed=1 ;;
	0) killed=0 ;;
	*) killed=0; bad "piqplan $* exited $st before the kill: $(cat "$tmp/err")" ;;
	esac
}

# A request log of 300,000 rows, 100 requests/s, prompt and output lengths
# spread log-uniformly (1..16k and 1..2k tokens). Same seed every time.
awk 'BEGIN { srand(7); print "timestamp,prompt_tokens,output_tokens"
	for (i = 0; i < 300000; i++)
		printf "%.2f,%d,%d\n", 1700000000 + i * 0.01, int(2 ^ (rand() * 14)), int(2 ^ (rand() * 11)) }' \
	>big.csv

expect0 init
# Clean import: the reference bucket count and its duration.
t0=$(now_ms)
expect0 workload import ref big.csv --model meta-llama/Llama-3.1-8B
import_ms=$(( $(now_ms) - t0 ))
nb=$(q "SELECT count(*) FROM workload_bucket b JOIN workload w ON w.id = b.workload_id
	WHERE w.name = 'ref'")
[ "$nb" -gt 100 ] && ok || bad "clean import stored $nb buckets"
check "clean import counts every row" "SELECT requests = 300000 FROM workload WHERE name = 'ref'"
# A small workload to be replaced by the big file: old or new, never a mix.
expect0 workload import rep "$DATA/workloads/azure_code.csv" --model meta-llama/Llama-3.1-8B
nb_small=$(q "SELECT count(*) FROM workload_bucket b JOIN workload w ON w.id = b.workload_id
	WHERE w.name = 'rep'")
small_req=$(q "SELECT requests FROM workload WHERE name = 'rep'")

# Every workload row has its complete set of buckets (those named imp_* come
# from the big file; 'rep' is either the small file or the big one).
consistent_workloads() {
	check "$1: integrity" "SELECT integrity_check = 'ok' FROM pragma_integrity_check"
	check "$1: no orphan buckets" "SELECT count(*) = 0 FROM workload_bucket
		WHERE workload_id NOT IN (SELECT id FROM workload)"
	check "$1: imports all or nothing" "SELECT count(*) = 0 FROM workload w WHERE name LIKE 'imp_%'
		AND (requests != 300000 OR (SELECT count(*) FROM workload_bucket b
		WHERE b.workload_id = w.id) != $nb OR (SELECT sum(requests) FROM workload_bucket b
		WHERE b.workload_id = w.id) != 300000)"
	check "$1: replace all or nothing" "SELECT (requests = $small_req AND nb = $nb_small)
		OR (requests = 300000 AND nb = $nb) FROM (SELECT w.requests, (SELECT count(*)
		FROM workload_bucket b WHERE b.workload_id = w.id) AS nb FROM workload w
		WHERE name = 'rep')"
}

imp_done=0 imp_killed=0
for i in $(seq 1 "$KILLS"); do
	if [ $((i % 3)) -eq 0 ]; then
		kill_after "$(delay "$import_ms")" workload import rep big.csv \
			--model meta-llama/Llama-3.1-8B --replace
	else
		kill_after "$(delay "$import_ms")" workload import "imp_$i" big.csv \
			--model meta-llama/Llama-3.1-8B
	fi
	if [ "$killed" = 1 ]; then imp_killed=$((imp_killed + 1)); else imp_done=$((imp_done + 1)); fi
	consistent_workloads "import kill $i"
done
# The database is still usable for writing after the last kill.
expect0 workload import after big.csv --model meta-llama/Llama-3.1-8B
consistent_workloads "after the import kills"
echo "workload import: $KILLS SIGKILLs over 0-$((import_ms * 12 / 10)) ms" \
	"($imp_killed mid-command, $imp_done after it finished)"

# --- scenario run --------------------------------------------------------------
expect0 workload import conv "$DATA/workloads/azure_conv.csv" --model deepseek-ai/DeepSeek-V3
expect0 workload import code "$DATA/workloads/azure_code.csv" --model meta-llama/Llama-3.1-70B
# The same trace served by more models, so a run has plenty to plan.
for m in Qwen/Qwen3-235B-A22B moonshotai/Kimi-K2-Instruct meta-llama/Llama-3.1-405B \
	 mistralai/Mixtral-8x7B-v0.1; do
	expect0 workload import "${m#*/}" "$DATA/workloads/azure_conv.csv" --model "$m"
done
expect0 scenario create long \
	--workload conv,code,Qwen3-235B-A22B,Kimi-K2-Instruct,Llama-3.1-405B,Mixtral-8x7B-v0.1 \
	--gpus H200-SXM-141GB,H100-SXM-80GB,B200-SXM-180GB,A100-SXM-80GB,MI300X-192GB,MI325X-256GB \
	--start 2027Q1 --quarters 8 --growth 10%
t0=$(now_ms)
expect0 scenario run long
run_ms=$(( $(now_ms) - t0 ))
tables="run_pool run_config run_fleet run_capacity run_input run_note run_pool_workload
	run_fleet_share run_cost"
declare -A want
for t in $tables; do
	want[$t]=$(q "SELECT count(*) FROM $t WHERE run_id = 1")
	[ "${want[$t]}" -gt 0 ] && ok || bad "clean run wrote no $t rows"
done

consistent_runs() {
	check "$1: integrity" "SELECT integrity_check = 'ok' FROM pragma_integrity_check"
	local t
	for t in $tables; do
		check "$1: every run has all its $t rows" "SELECT count(*) = 0 FROM run r
			WHERE (SELECT count(*) FROM $t x WHERE x.run_id = r.id) != ${want[$t]}"
		check "$1: no $t rows without a run" "SELECT count(*) = 0 FROM $t
			WHERE run_id NOT IN (SELECT id FROM run)"
	done
	check "$1: every run finished (hash written)" "SELECT count(*) = 0 FROM run
		WHERE inputs_sha256 = printf('%064d', 0) OR candidates_evaluated = 0"
}

runs_done=0 runs_killed=0
for i in $(seq 1 "$KILLS"); do
	kill_after "$(delay "$run_ms")" scenario run long
	if [ "$killed" = 1 ]; then runs_killed=$((runs_killed + 1)); else runs_done=$((runs_done + 1)); fi
	consistent_runs "run kill $i"
done
# A kill between COMMIT and exit keeps a complete run: at least the runs that
# finished, at most one more per kill.
check "runs kept: clean + finished <= runs <= clean + every attempt" "SELECT count(*)
	BETWEEN 1 + $runs_done AND 1 + $KILLS FROM run"
late=$(( $(q "SELECT count(*) FROM run") - 1 - runs_done ))
echo "scenario run: $late killed runs had committed (killed between COMMIT and exit)"
expect0 scenario run long
consistent_runs "after the run kills"
expect0 report quarterly long --format json
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/out" && ok ||
	bad "report after the kills is not valid JSON"
echo "scenario run: $KILLS SIGKILLs over 0-$((run_ms * 12 / 10)) ms" \
	"($runs_killed mid-command, $runs_done after it finished)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
