#!/usr/bin/env bash
# tests/concurrency.sh - several `piqplan scenario run` processes on one
# database at once while sqlite3 readers loop over the views. Every run must
# finish (exit 0) or give up with exit 75 after the 5 s busy timeout, never
# anything else; the database must stay consistent; and no reader may ever
# see half a run: each reader query checks, in one SELECT (one snapshot),
# that every run has exactly the rows a clean run of its scenario writes and
# that the views show complete latest runs.
# Usage: concurrency.sh PATH/TO/piqplan [WRITERS]
set -uo pipefail

PIQPLAN=$(realpath "${1:?usage: concurrency.sh PATH/TO/piqplan [WRITERS]}")
WRITERS=${2:-6}
READERS=3
DATA=${PIQPLAN_TEST_DATA:?PIQPLAN_TEST_DATA must point at tests/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export PIQPLAN_DB="$tmp/c.db"

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

expect0 init
expect0 workload import conv "$DATA/workloads/azure_conv.csv" --model deepseek-ai/DeepSeek-V3
expect0 workload import code "$DATA/workloads/azure_code.csv" --model meta-llama/Llama-3.1-70B
# The same trace served by more models, so a run has plenty to plan.
for m in Qwen/Qwen3-235B-A22B moonshotai/Kimi-K2-Instruct meta-llama/Llama-3.1-405B \
	 mistralai/Mixtral-8x7B-v0.1; do
	expect0 workload import "${m#*/}" "$DATA/workloads/azure_conv.csv" --model "$m"
done
# Two scenarios of different sizes, so the runs differ in length and rows.
expect0 scenario create short --workload conv,code --gpus H200-SXM-141GB,H100-SXM-80GB \
	--start 2027Q1 --quarters 4 --growth 15%
expect0 scenario create long \
	--workload conv,code,Qwen3-235B-A22B,Kimi-K2-Instruct,Llama-3.1-405B,Mixtral-8x7B-v0.1 \
	--gpus H200-SXM-141GB,H100-SXM-80GB,B200-SXM-180GB,A100-SXM-80GB,MI300X-192GB,MI325X-256GB \
	--start 2027Q1 --quarters 8 --growth 10%
expect0 scenario run short
expect0 scenario run long

# What a complete run of each scenario writes, from the two clean runs.
tables="run_pool run_config run_fleet run_capacity run_input run_note run_pool_workload
	run_fleet_share run_cost"
want_rows=""
for sid in 1 2; do
	row="($sid"
	for t in $tables; do
		n=$(q "SELECT count(*) FROM $t WHERE run_id = $sid")
		[ "$n" -gt 0 ] && ok || bad "clean run of scenario $sid wrote no $t rows"
		row="$row, $n"
	done
	want_rows="$want_rows${want_rows:+, }$row)"
done
chosen=$(q "SELECT count(*) FROM run_config WHERE chosen = 1")
fleet=$(q "SELECT count(*) FROM run_fleet")
capacity=$(q "SELECT count(*) FROM run_capacity")
cost=$(q "SELECT count(*) FROM run_cost")

# One SELECT, one snapshot: 1 when every run is complete and the views show
# two complete latest runs.
consistent="WITH want(sid, pool, config, fleet, capacity, input, note, pool_workload, fleet_share,
	cost) AS (VALUES $want_rows)
SELECT (SELECT count(*) FROM run r JOIN want w ON w.sid = r.scenario_id
	WHERE (SELECT count(*) FROM run_pool x WHERE x.run_id = r.id) != w.pool
	   OR (SELECT count(*) FROM run_config x WHERE x.run_id = r.id) != w.config
	   OR (SELECT count(*) FROM run_fleet x WHERE x.run_id = r.id) != w.fleet
	   OR (SELECT count(*) FROM run_capacity x WHERE x.run_id = r.id) != w.capacity
	   OR (SELECT count(*) FROM run_input x WHERE x.run_id = r.id) != w.input
	   OR (SELECT count(*) FROM run_note x WHERE x.run_id = r.id) != w.note
	   OR (SELECT count(*) FROM run_pool_workload x WHERE x.run_id = r.id) != w.pool_workload
	   OR (SELECT count(*) FROM run_fleet_share x WHERE x.run_id = r.id) != w.fleet_share
	   OR (SELECT count(*) FROM run_cost x WHERE x.run_id = r.id) != w.cost
	   OR r.inputs_sha256 = printf('%064d', 0)) = 0
   AND (SELECT count(*) FROM run WHERE scenario_id NOT IN (SELECT sid FROM want)) = 0
   AND (SELECT count(*) FROM v_fleet) = $fleet
   AND (SELECT count(*) FROM v_shortfall) = $capacity
   AND (SELECT count(*) FROM v_cost) = $cost
   AND (SELECT count(*) FROM v_configs) = $chosen
   AND (SELECT count(DISTINCT run_id) FROM v_fleet) = 2
   AND (SELECT count(*) FROM v_configs WHERE vllm_args IS NULL OR vllm_args = '') = 0;"
check "consistent before the race" "$consistent"
# The check is not vacuous: a run missing one row, or a run still being
# written (hash not yet set), fails it.
sqlite3 "$PIQPLAN_DB" ".backup $tmp/half.db"
cp "$tmp/half.db" "$tmp/unfinished.db"
v=$(sqlite3 "$tmp/half.db" "DELETE FROM run_capacity WHERE rowid = (SELECT max(rowid)
	FROM run_capacity); $consistent")
[ "$v" = 0 ] && ok || bad "a run missing a capacity row passed the reader check ($v)"
v=$(sqlite3 "$tmp/unfinished.db" "UPDATE run SET inputs_sha256 = printf('%064d', 0)
	WHERE id = 1; $consistent")
[ "$v" = 0 ] && ok || bad "an unfinished run passed the reader check ($v)"

# Readers: loop until the writers are done; log anything but "1".
reader() {
	local n=0 v
	while [ ! -e "$tmp/stop" ]; do
		v=$(sqlite3 -cmd '.timeout 5000' "$PIQPLAN_DB" "$consistent" 2>&1)
		[ "$v" = 1 ] || printf 'reader %s saw: %s\n' "$1" "$v" >>"$tmp/reader.bad"
		sqlite3 -cmd '.timeout 5000' "$PIQPLAN_DB" "SELECT * FROM v_fleet; SELECT * FROM v_shortfall;
			SELECT * FROM v_cost; SELECT * FROM v_configs" >/dev/null 2>>"$tmp/reader.bad"
		n=$((n + 1))
	done
	echo "$n" >"$tmp/reads.$1"
}
for r in $(seq 1 $READERS); do reader "$r" & done
readers_pids=$(jobs -p)

pids=()
for w in $(seq 1 "$WRITERS"); do
	if [ $((w % 2)) -eq 1 ]; then s=long; else s=short; fi
	"$PIQPLAN" scenario run "$s" >"$tmp/w$w.out" 2>"$tmp/w$w.err" &
	pids+=($!)
done
done0=0 busy=0
for w in $(seq 1 "$WRITERS"); do
	wait "${pids[$((w - 1))]}"
	st=$?
	case $st in
	0) done0=$((done0 + 1)); ok ;;
	75) busy=$((busy + 1))
	    grep -q "busy" "$tmp/w$w.err" && ok || bad "writer $w exit 75 without a busy message" ;;
	*) bad "writer $w exited $st: $(cat "$tmp/w$w.err")" ;;
	esac
done

# A writer held up longer than the busy timeout gives up with 75 and leaves
# nothing: sqlite3 holds the write lock for 9 s while two runs start.
runs_before=$(q "SELECT count(*) FROM run")
sqlite3 -bail "$PIQPLAN_DB" >/dev/null 2>"$tmp/locker.err" <<SQL &
.timeout 5000
BEGIN IMMEDIATE;
.shell touch "$tmp/locked"
.shell sleep 9
COMMIT;
SQL
locker=$!
for _ in $(seq 1 100); do [ -e "$tmp/locked" ] && break; sleep 0.1; done
[ -e "$tmp/locked" ] && ok || bad "sqlite3 could not take the write lock: $(cat "$tmp/locker.err")"
t0=$(date +%s%3N)
"$PIQPLAN" scenario run short >/dev/null 2>"$tmp/b1.err" & b1=$!
"$PIQPLAN" scenario run long >/dev/null 2>"$tmp/b2.err" & b2=$!
wait $b1; st1=$?
wait $b2; st2=$?
waited=$(( $(date +%s%3N) - t0 ))
wait $locker
[ "$st1" = 75 ] && [ "$st2" = 75 ] && ok ||
	bad "runs behind a 9 s lock exited $st1 and $st2, want 75"
grep -q "busy" "$tmp/b1.err" && ok || bad "no busy message: $(cat "$tmp/b1.err")"
# They waited the 5 s timeout (and not much longer) before giving up.
[ "$waited" -ge 4500 ] && [ "$waited" -lt 8500 ] && ok || bad "gave up after $waited ms"
check "busy runs left nothing" "SELECT count(*) = $runs_before FROM run"

touch "$tmp/stop"
for p in $readers_pids; do wait "$p"; done
reads=0
for f in "$tmp"/reads.*; do reads=$((reads + $(cat "$f"))); done
if [ -s "$tmp/reader.bad" ]; then
	bad "readers saw an inconsistent database: $(head -c 600 "$tmp/reader.bad")"
else
	ok
fi

check "integrity" "SELECT integrity_check = 'ok' FROM pragma_integrity_check"
check "consistent after the race" "$consistent"
check "one new run per writer that finished" "SELECT count(*) = 2 + $done0 FROM run"
check "run ids are distinct and dense" "SELECT max(id) - min(id) + 1 = count(*) FROM run"
# The database is still writable after the race.
expect0 scenario run short
check "consistent after one more run" "$consistent"
echo "$WRITERS concurrent scenario runs: $done0 finished, $busy gave up with exit 75;" \
	"$READERS readers made $reads consistent reads"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
