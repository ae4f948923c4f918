-- 012_disagg.sql - serving modes that change how a pool is laid out (issue
-- 14, part B): prefill/decode disaggregation (a prefill pool and a decode
-- pool, each its own GPU type, parallelism and count, the KV handed over
-- the scale-out network) and wide expert parallelism across nodes (DeepEP
-- all-to-all, EPLB's redundant experts). Written by `scenario run`
-- (run/scenario_run.c); planner/disagg.h and planner/instance.h hold the
-- arithmetic.

-- How one stored configuration serves: its side of a disaggregated pair,
-- its MoE exchange and EPLB. A configuration without a row here is
-- aggregated, on vLLM's default exchange, without EPLB.
CREATE TABLE run_config_mode (
	run_id            INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	pool_id           INTEGER NOT NULL,
	rank              INTEGER NOT NULL,           -- run_config.rank
	pd_role           TEXT CHECK (pd_role IS NULL OR pd_role IN ('prefill', 'decode')),
	                                              -- NULL: aggregated (prefill and decode in one engine)
	a2a_backend       TEXT NOT NULL CHECK (a2a_backend IN ('allgather_reducescatter',
	                    'deepep_high_throughput', 'deepep_low_latency')),
	                                              -- vLLM --all2all-backend of the MoE layers
	redundant_experts INTEGER NOT NULL CHECK (redundant_experts >= 0),
	                                              -- EPLB's extra expert slots (0: no EPLB)
	wide_ep           INTEGER NOT NULL CHECK (wide_ep IN (0, 1)),
	                                              -- 1: DP attention x EP over nodes on DeepEP
	PRIMARY KEY (pool_id, rank),
	FOREIGN KEY (pool_id, rank) REFERENCES run_config(pool_id, rank) ON DELETE CASCADE
) STRICT;

-- A pool weighed disaggregated against aggregated: the pair found, what it
-- costs, whether it won. pool_id is the pool the decision was for: the
-- aggregated pool when aggregated won (the pair is then its losing
-- alternative, its two sides stored as unchosen run_config rows), the
-- prefill pool when disaggregation won (its decode pool is decode_pool_id).
CREATE TABLE run_disagg (
	run_id                INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	pool_id               INTEGER NOT NULL PRIMARY KEY REFERENCES run_pool(id) ON DELETE CASCADE,
	decode_pool_id        INTEGER REFERENCES run_pool(id) ON DELETE CASCADE,
	                                              -- the decode pool when chosen; else NULL
	chosen                INTEGER NOT NULL CHECK (chosen IN (0, 1)),
	fits                  INTEGER NOT NULL CHECK (fits IN (0, 1)),
	                                              -- 0: no pair serves the pool (reason says why)
	prefill_gpu_id        TEXT REFERENCES gpu(id),
	prefill_tp            INTEGER CHECK (prefill_tp IS NULL OR prefill_tp >= 1),
	prefill_dp            INTEGER CHECK (prefill_dp IS NULL OR prefill_dp >= 1),
	prefill_ep            INTEGER CHECK (prefill_ep IS NULL OR prefill_ep IN (0, 1)),
	prefill_wide_ep       INTEGER CHECK (prefill_wide_ep IS NULL OR prefill_wide_ep IN (0, 1)),
	prefill_gpus_per_instance INTEGER CHECK (prefill_gpus_per_instance IS NULL OR
	                                         prefill_gpus_per_instance >= 1),
	prefill_rate_rps      REAL CHECK (prefill_rate_rps IS NULL OR prefill_rate_rps > 0),
	                                              -- requests/s one prefill instance sustains
	prefill_ttft_ms       REAL,                   -- TTFT at the percentile, KV transfer included
	decode_gpu_id         TEXT REFERENCES gpu(id),
	decode_tp             INTEGER CHECK (decode_tp IS NULL OR decode_tp >= 1),
	decode_dp             INTEGER CHECK (decode_dp IS NULL OR decode_dp >= 1),
	decode_ep             INTEGER CHECK (decode_ep IS NULL OR decode_ep IN (0, 1)),
	decode_wide_ep        INTEGER CHECK (decode_wide_ep IS NULL OR decode_wide_ep IN (0, 1)),
	decode_gpus_per_instance INTEGER CHECK (decode_gpus_per_instance IS NULL OR
	                                        decode_gpus_per_instance >= 1),
	decode_rate_rps       REAL CHECK (decode_rate_rps IS NULL OR decode_rate_rps > 0),
	decode_tpot_ms        REAL,                   -- TPOT with no prefill in the decode steps
	decode_max_num_seqs   INTEGER,                -- the decode SLO batch per DP rank
	pd_ratio              REAL CHECK (pd_ratio IS NULL OR pd_ratio > 0),
	                                              -- prefill instances per decode instance (rates)
	kv_bytes_per_request  REAL CHECK (kv_bytes_per_request IS NULL OR kv_bytes_per_request >= 0),
	                                              -- the mean prompt's KV as handed over
	kv_transfer_ms        REAL CHECK (kv_transfer_ms IS NULL OR kv_transfer_ms >= 0),
	total_usd             REAL,                   -- the pair over the horizon, spares included
	aggregated_usd        REAL,                   -- the pool's best aggregated candidate; NULL: none
	reason                TEXT NOT NULL           -- why the loser lost, in words
) STRICT;

-- Instances of each side per quarter of the pair in run_disagg.
CREATE TABLE run_disagg_quarter (
	run_id            INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	pool_id           INTEGER NOT NULL REFERENCES run_disagg(pool_id) ON DELETE CASCADE,
	quarter           TEXT NOT NULL,
	prefill_instances INTEGER NOT NULL CHECK (prefill_instances >= 0),
	decode_instances  INTEGER NOT NULL CHECK (decode_instances >= 0),
	PRIMARY KEY (pool_id, quarter)
) STRICT;

-- Disaggregated against aggregated, per pool of the latest run of every
-- scenario: the pair, its counts per quarter, both costs, the winner.
CREATE VIEW v_disagg AS
	SELECT l.scenario, p.pool, q.quarter, d.chosen, d.fits,
	       d.prefill_gpu_id AS prefill_gpu, d.prefill_gpus_per_instance, q.prefill_instances,
	       d.decode_gpu_id AS decode_gpu, d.decode_gpus_per_instance, q.decode_instances,
	       round(d.pd_ratio, 3) AS pd_ratio, d.kv_bytes_per_request,
	       round(d.kv_transfer_ms, 2) AS kv_transfer_ms,
	       round(d.prefill_ttft_ms, 0) AS ttft_ms, round(d.decode_tpot_ms, 1) AS tpot_ms,
	       round(d.total_usd, 0) AS total_usd, round(d.aggregated_usd, 0) AS aggregated_usd,
	       d.reason, d.run_id
	  FROM run_disagg d
	  JOIN v_latest_run l ON l.run_id = d.run_id
	  JOIN run_pool p ON p.id = d.pool_id
	  LEFT JOIN run_disagg_quarter q ON q.pool_id = d.pool_id
	 ORDER BY l.scenario, p.pool, q.quarter;
