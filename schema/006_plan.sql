-- 006_plan.sql - plans an expert would sign (issue 13): SLOs at a stated
-- percentile, the SLO batch, an SLO class per pool, one stated margin
-- policy, demand as a percentile of windowed arrival rates, pools shared by
-- the workloads of one model, incremental orders, owned GPUs costed every
-- quarter. New columns on workload, scenario, run_pool, run_config,
-- run_fleet and run_capacity; new tables run_pool_workload, run_fleet_share
-- and run_cost; the views rebuilt, and v_orders. README "SLOs and margins"
-- explains the arithmetic.

-- Windowed arrival rates and the longest request, measured at import.
-- Windows are peak_window_s long and slide in quarter-window steps; those
-- wholly inside the trace count, empty ones included (prometheus: the
-- export's own windows, weighted by length). NULL: not measured (a buckets
-- file, a trace shorter than one window, or a workload imported before 006).
ALTER TABLE workload ADD COLUMN rate_p50_rps REAL CHECK (rate_p50_rps IS NULL OR rate_p50_rps >= 0);
	-- median windowed arrival rate, requests/s
ALTER TABLE workload ADD COLUMN rate_p90_rps REAL CHECK (rate_p90_rps IS NULL OR rate_p90_rps >= 0);
	-- 90th percentile of windowed arrival rates, requests/s
ALTER TABLE workload ADD COLUMN rate_p99_rps REAL CHECK (rate_p99_rps IS NULL OR rate_p99_rps >= 0);
	-- 99th percentile of windowed arrival rates, requests/s
ALTER TABLE workload ADD COLUMN rate_p999_rps REAL CHECK (rate_p999_rps IS NULL OR rate_p999_rps >= 0);
	-- 99.9th percentile of windowed arrival rates, requests/s
ALTER TABLE workload ADD COLUMN rate_windows REAL CHECK (rate_windows IS NULL OR rate_windows >= 0);
	-- how many windows those percentiles are of (a one-hour trace at 60 s: 237)
ALTER TABLE workload ADD COLUMN arrivals_late INTEGER CHECK (arrivals_late IS NULL OR arrivals_late >= 0);
	-- arrivals more than half the arrival table (8.5 days at 60 s) out of order: in the mean, in no window
ALTER TABLE workload ADD COLUMN prompt_tokens_max INTEGER CHECK (prompt_tokens_max IS NULL OR prompt_tokens_max >= 0);
	-- longest prompt, tokens: exact from requests and mooncake files, a bucket's bound from histograms
ALTER TABLE workload ADD COLUMN output_tokens_max INTEGER CHECK (output_tokens_max IS NULL OR output_tokens_max >= 0);
	-- longest output, tokens (as prompt_tokens_max)
ALTER TABLE workload ADD COLUMN total_tokens_max INTEGER CHECK (total_tokens_max IS NULL OR total_tokens_max >= 0);
	-- longest prompt + output of one request, tokens (as prompt_tokens_max)

-- The scenario's service levels, demand and margin policy.
ALTER TABLE scenario ADD COLUMN slo_percentile REAL NOT NULL DEFAULT 99
	CHECK (slo_percentile > 0 AND slo_percentile < 100);
	-- the percentile of requests ttft_ms and tpot_ms hold for, percent (99: p99)
ALTER TABLE scenario ADD COLUMN long_ttft_ms_per_1k REAL NOT NULL DEFAULT 500
	CHECK (long_ttft_ms_per_1k > 0);
	-- TTFT target of the long SLO class: max(ttft_ms, this x prompt tokens / 1000), ms per 1,000 prompt tokens
ALTER TABLE scenario ADD COLUMN margin TEXT NOT NULL DEFAULT 'utilization'
	CHECK (margin IN ('utilization', 'spares', 'both'));
	-- the margin policy: utilization (instances at most `utilization` busy), spares
	-- (N+redundancy spare instances per GPU type across pools), or both
ALTER TABLE scenario ADD COLUMN demand_stat TEXT NOT NULL DEFAULT 'p99'
	CHECK (demand_stat IN ('mean', 'p50', 'p90', 'p99', 'p99.9', 'peak'));
	-- the arrival rate planned for: a percentile of the workloads' windowed rates,
	-- their busiest window (peak) or their mean; supersedes `demand`
ALTER TABLE scenario ADD COLUMN max_model_len INTEGER CHECK (max_model_len IS NULL OR max_model_len > 0);
	-- cap on every pool's max_model_len, tokens; NULL: each pool covers its longest request
-- Scenarios from before 006 keep what they planned for, and their spares.
UPDATE scenario SET demand_stat = demand,
	margin = CASE WHEN redundancy > 0 THEN 'both' ELSE 'utilization' END;

-- What a pool is for and which SLO it holds.
ALTER TABLE run_pool ADD COLUMN model_id TEXT;            -- the model its workloads run on
ALTER TABLE run_pool ADD COLUMN slo_class TEXT CHECK (slo_class IS NULL OR slo_class IN ('chat', 'long'));
	-- chat: every request holds ttft_target_ms; long: the long class's per-token budget
ALTER TABLE run_pool ADD COLUMN slo_percentile REAL;       -- percent of requests the targets hold for (99)
ALTER TABLE run_pool ADD COLUMN ttft_target_ms REAL;       -- TTFT target of a chat request, ms
ALTER TABLE run_pool ADD COLUMN long_ttft_ms_per_1k REAL;  -- long class: TTFT target per 1,000 prompt tokens, ms; NULL: none
ALTER TABLE run_pool ADD COLUMN long_class_tokens INTEGER; -- requests of this many tokens (prompt+output) or more are of the long class; NULL: none
ALTER TABLE run_pool ADD COLUMN tpot_target_ms REAL;       -- TPOT target, ms
ALTER TABLE run_pool ADD COLUMN longest_tokens INTEGER;    -- the longest prompt + output sent to the pool
ALTER TABLE run_pool ADD COLUMN rejected_share REAL CHECK (rejected_share IS NULL OR
	(rejected_share >= 0 AND rejected_share <= 1));
	-- share of the pool's requests longer than max_model_len, which vLLM rejects
ALTER TABLE run_pool ADD COLUMN split_alternative_usd REAL; -- one shared pool chosen: what the best split would have added over the horizon
ALTER TABLE run_pool ADD COLUMN alternative_lost TEXT;     -- why the split or the shared pool not chosen lost, in words
-- From 006 on run_pool.workload_id is the first (by name) of the workloads a
-- pool serves; run_pool_workload lists them all.

-- The workloads a pool serves: workloads on one model share its pools.
CREATE TABLE run_pool_workload (
	run_id        INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	pool_id       INTEGER NOT NULL REFERENCES run_pool(id) ON DELETE CASCADE,
	workload_id   INTEGER NOT NULL REFERENCES workload(id),
	request_share REAL NOT NULL CHECK (request_share > 0 AND request_share <= 1),
	                                        -- share of the workload's requests sent to this pool
	PRIMARY KEY (pool_id, workload_id)
) STRICT;
CREATE INDEX run_pool_workload_run ON run_pool_workload(run_id);

-- The chosen configuration's service levels.
ALTER TABLE run_config ADD COLUMN slo_percentile REAL;     -- percent of requests ttft_ms and tpot_ms are at (99)
ALTER TABLE run_config ADD COLUMN kv_max_num_seqs INTEGER; -- sequences per DP rank the KV (and the engine's cap) would hold;
	-- max_num_seqs is the SLO batch, the largest running batch meeting the TPOT target, at most this
ALTER TABLE run_config ADD COLUMN tpot_full_ms REAL;       -- TPOT at the percentile with max_num_seqs sequences running per rank, ms
ALTER TABLE run_config ADD COLUMN capacity_rps REAL;       -- requests/s per instance with every slot busy (at the SLO batch)
ALTER TABLE run_config ADD COLUMN utilization REAL;        -- rate_rps / capacity_rps: the busy fraction at the sustainable rate
-- From 006 on, ttft_ms and tpot_ms are at the percentile slo_percentile (TTFT
-- over the pool's requests, queueing included; TPOT over requests, each the
-- mean of its output tokens' steps), at rate_rps.

-- The fleet's demand at the mean, and each workload's share of a pool.
ALTER TABLE run_fleet ADD COLUMN mean_rps REAL CHECK (mean_rps IS NULL OR mean_rps >= 0);
	-- the pool's mean request rate with growth applied, requests/s
-- From 006 on: demand_rps is the planned demand (the scenario's demand_stat
-- with growth), input_tok_s and output_tok_s are at mean_rps, instances are
-- serving instances (spares are per GPU type: run_capacity.spare_gpus), and
-- utilization = demand_rps / (instances x capacity_rps): the busy fraction.

CREATE TABLE run_fleet_share (
	run_id       INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	quarter      TEXT NOT NULL,
	pool_id      INTEGER NOT NULL REFERENCES run_pool(id) ON DELETE CASCADE,
	workload_id  INTEGER NOT NULL REFERENCES workload(id),
	demand_rps   REAL NOT NULL CHECK (demand_rps >= 0),   -- the workload's planned requests/s in this pool
	mean_rps     REAL NOT NULL CHECK (mean_rps >= 0),     -- its mean requests/s in this pool
	input_tok_s  REAL NOT NULL CHECK (input_tok_s >= 0),  -- its prompt tokens/s at the mean
	output_tok_s REAL NOT NULL CHECK (output_tok_s >= 0), -- its generated tokens/s at the mean
	share        REAL NOT NULL CHECK (share >= 0 AND share <= 1), -- its share of the pool's planned demand
	PRIMARY KEY (run_id, quarter, pool_id, workload_id)
) STRICT, WITHOUT ROWID;

-- Spares per GPU type. From 006 on gpus_needed includes spare_gpus, the
-- shortfall is cumulative (v_orders says what to order when), cost_usd
-- includes every owned GPU at its stated rate whether it serves or not, and
-- the token and floor columns are at the mean rate.
ALTER TABLE run_capacity ADD COLUMN spare_gpus INTEGER CHECK (spare_gpus IS NULL OR spare_gpus >= 0);
	-- of gpus_needed, the N+k spares: k x the largest instance of any pool on this GPU type
ALTER TABLE run_capacity ADD COLUMN listed INTEGER CHECK (listed IS NULL OR listed IN (0, 1));
	-- 0: owned GPUs of a type the scenario does not list, reported as unused capacity

-- Cost per quarter, GPU type and source: owned GPUs at their stated rate,
-- acquired ones at the scenario's price.
CREATE TABLE run_cost (
	run_id              INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	quarter             TEXT NOT NULL,
	gpu_id              TEXT NOT NULL REFERENCES gpu(id),
	source              TEXT NOT NULL CHECK (source IN ('owned', 'acquired')),
	gpus                INTEGER NOT NULL CHECK (gpus >= 0),          -- owned: all owned; acquired: the shortfall
	gpus_in_service     INTEGER NOT NULL CHECK (gpus_in_service >= 0 AND gpus_in_service <= gpus),
	                                                                  -- of them, serving or spare
	pricing             TEXT NOT NULL,                               -- 'owned', or the scenario's kind
	usd_per_gpu_hour    REAL,                                        -- what each GPU of the row costs; NULL: owned, no rate stated (0)
	price_as_of         TEXT,                                        -- the price's date (acquired rows)
	hours               REAL NOT NULL CHECK (hours > 0),             -- hours in the quarter
	cost_usd            REAL NOT NULL CHECK (cost_usd >= 0),         -- gpus x rate x hours
	input_tokens        REAL NOT NULL CHECK (input_tokens >= 0),     -- served by the GPUs in service, at the mean rate
	output_tokens       REAL NOT NULL CHECK (output_tokens >= 0),
	usd_per_mtok_input  REAL,                                        -- cost split by GPU time in prefill / decode; NULL: no tokens
	usd_per_mtok_output REAL,
	compute_floor_usd   REAL NOT NULL CHECK (compute_floor_usd >= 0), -- 2*active*tokens/(peak*MFU) GPU-hours at this row's rate
	PRIMARY KEY (run_id, quarter, gpu_id, source)
) STRICT, WITHOUT ROWID;

DROP VIEW v_fleet;
DROP VIEW v_configs;
DROP VIEW v_shortfall;
DROP VIEW v_cost;

-- Fleet per quarter, workload, pool and GPU type (latest run of each
-- scenario). A pool's instances serve every workload of its model: share is
-- the workload's part of the pool's planned demand, gpus_share its GPUs.
CREATE VIEW v_fleet AS
	SELECT l.scenario, f.quarter, w.name AS workload, p.pool, f.gpu_id AS gpu,
	       f.instances, f.gpus, round(s.share, 4) AS share, round(f.gpus * s.share, 2) AS gpus_share,
	       round(f.utilization, 3) AS utilization,
	       round(s.demand_rps, 3) AS demand_rps, round(s.mean_rps, 3) AS mean_rps,
	       round(s.input_tok_s, 1) AS input_tok_s, round(s.output_tok_s, 1) AS output_tok_s,
	       f.run_id
	  FROM run_fleet f
	  JOIN v_latest_run l ON l.run_id = f.run_id
	  JOIN run_pool p ON p.id = f.pool_id
	  JOIN run_fleet_share s ON s.run_id = f.run_id AND s.quarter = f.quarter AND s.pool_id = f.pool_id
	  JOIN workload w ON w.id = s.workload_id
	 ORDER BY l.scenario, f.quarter, w.name, p.pool;

-- The chosen configuration of every pool, with its vllm serve command line;
-- ttft_ms and tpot_ms are at slo_percentile ('p99').
CREATE VIEW v_configs AS
	SELECT l.scenario,
	       (SELECT group_concat(name, ',') FROM (SELECT w.name FROM run_pool_workload pw
	          JOIN workload w ON w.id = pw.workload_id WHERE pw.pool_id = p.id ORDER BY w.name))
	         AS workload,
	       p.pool, p.slo_class, c.gpu_id AS gpu, c.tp, c.pp, c.dp, c.ep,
	       c.precision, c.gpus_per_instance, c.max_model_len, c.max_num_seqs, c.kv_max_num_seqs,
	       c.max_num_batched_tokens, c.gpu_memory_utilization, c.kv_tokens,
	       round(c.rate_rps, 3) AS rate_rps, round(c.capacity_rps, 3) AS capacity_rps,
	       'p' || printf('%g', c.slo_percentile) AS slo_percentile,
	       round(c.ttft_ms, 1) AS ttft_ms, round(c.tpot_ms, 2) AS tpot_ms,
	       round(c.tpot_full_ms, 2) AS tpot_full_ms,
	       round(c.usd_per_mtok_output, 4) AS usd_per_mtok_output,
	       c.vllm_args, c.run_id
	  FROM run_config c
	  JOIN v_latest_run l ON l.run_id = c.run_id
	  JOIN run_pool p ON p.id = c.pool_id
	 WHERE c.chosen = 1
	 ORDER BY l.scenario, workload, p.pool;

-- GPUs needed (spares included) against owned, per quarter and GPU type:
-- the shortfall is cumulative; v_orders says what to order by when.
CREATE VIEW v_shortfall AS
	SELECT l.scenario, c.quarter, c.gpu_id AS gpu, c.gpus_needed, c.spare_gpus, c.gpus_owned,
	       c.shortfall, c.run_id
	  FROM run_capacity c
	  JOIN v_latest_run l ON l.run_id = c.run_id
	 ORDER BY l.scenario, c.quarter, c.gpu_id;

-- What to order, for every run: the increase of the shortfall over the
-- previous quarter (the first quarter: all of it), by the quarter's first
-- day minus the lead time. Summed over the horizon it is the last quarter's
-- shortfall when the shortfall never falls (a fall orders nothing).
CREATE VIEW v_run_orders AS
	SELECT run_id, quarter, gpu, gpus_to_order, order_by FROM (
	  SELECT c.run_id, c.quarter, c.gpu_id AS gpu,
	         c.shortfall - coalesce(lag(c.shortfall) OVER (PARTITION BY c.run_id, c.gpu_id
	                                                       ORDER BY c.quarter), 0) AS gpus_to_order,
	         c.order_by
	    FROM run_capacity c)
	 WHERE gpus_to_order > 0;

-- What to order, and by when (latest run of each scenario).
CREATE VIEW v_orders AS
	SELECT l.scenario, o.run_id, o.quarter, o.gpu, o.gpus_to_order, o.order_by
	  FROM v_run_orders o
	  JOIN v_latest_run l ON l.run_id = o.run_id
	 ORDER BY l.scenario, o.quarter, o.gpu;

-- Cost per quarter, GPU type and source: owned GPUs (every one, busy or
-- idle, at its stated rate) and acquired ones (the shortfall at the
-- scenario's price), beside the compute floor by active parameters.
CREATE VIEW v_cost AS
	SELECT l.scenario, c.quarter, c.gpu_id AS gpu, c.source, c.gpus, c.gpus_in_service,
	       c.pricing, c.usd_per_gpu_hour, c.price_as_of, round(c.cost_usd, 2) AS cost_usd,
	       round(c.usd_per_mtok_input, 4) AS usd_per_mtok_input,
	       round(c.usd_per_mtok_output, 4) AS usd_per_mtok_output,
	       round(c.compute_floor_usd, 2) AS compute_floor_usd,
	       CASE WHEN c.compute_floor_usd > 0 THEN round(c.cost_usd / c.compute_floor_usd, 2) END
	         AS memory_tax,
	       c.run_id
	  FROM run_cost c
	  JOIN v_latest_run l ON l.run_id = c.run_id
	 ORDER BY l.scenario, c.quarter, c.gpu_id, c.source;
