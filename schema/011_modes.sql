-- 011_modes.sql - the serving modes inside one instance (issue 14, part A):
-- prefix caching, fp8 KV cache, speculative decoding (MTP, EAGLE-3, n-gram)
--
-- Every configuration a run evaluates says which mode it runs in (`mode`,
-- a short text other layouts share: part B stores 'disagg' and 'wide-ep'
-- through the same column), the assumptions of that mode, and -- on the
-- chosen row of a pool -- what the best configuration of another mode would
-- have needed and cost, so the report can say what the choice saved.
--
-- mode values:
--   'aggregated'   one instance, the checkpoint's KV dtype, no speculation
--   'fp8-kv'       --kv-cache-dtype fp8
--   'mtp'          --speculative-config {"method": "mtp", ...}: the
--                  checkpoint's multi-token-prediction layers
--   'eagle3'       an EAGLE-3 draft head
--   'ngram'        prompt-lookup speculation
--   'mtp+fp8-kv'   (and 'eagle3+fp8-kv', ...) a speculative mode with fp8 KV
--   'wide-ep'      DP attention x EP over nodes on DeepEP (part B), and
--   'disagg-prefill', 'disagg-decode'  the sides of a P/D-disaggregated pair,
--                  each with what it adds: 'wide-ep+mtp', 'disagg-decode+mtp+fp8-kv'
-- Prefix caching is not a mode: vLLM's V1 engine caches prefixes by
-- default, so every mode runs with it, and prefix_hit says what share of
-- prompt tokens the configuration assumed its cache serves.

ALTER TABLE run_config ADD COLUMN mode TEXT NOT NULL DEFAULT 'aggregated'
	CHECK (length(mode) BETWEEN 1 AND 32);        -- serving mode, see above
ALTER TABLE run_config ADD COLUMN spec_method TEXT
	CHECK (spec_method IS NULL OR spec_method IN ('mtp', 'eagle3', 'ngram'));
	                                              -- speculative method; NULL: none
ALTER TABLE run_config ADD COLUMN spec_tokens INTEGER
	CHECK (spec_tokens IS NULL OR spec_tokens BETWEEN 1 AND 16); -- num_speculative_tokens
ALTER TABLE run_config ADD COLUMN spec_acceptance REAL
	CHECK (spec_acceptance IS NULL OR (spec_acceptance > 0 AND spec_acceptance < 1));
	                                              -- per-token acceptance assumed
ALTER TABLE run_config ADD COLUMN spec_tokens_per_step REAL
	CHECK (spec_tokens_per_step IS NULL OR spec_tokens_per_step >= 1);
	                                              -- expected tokens a step emits per sequence
ALTER TABLE run_config ADD COLUMN prefix_hit REAL
	CHECK (prefix_hit IS NULL OR (prefix_hit >= 0 AND prefix_hit < 1));
	                                              -- share of prompt tokens its prefix cache serves
ALTER TABLE run_config ADD COLUMN prefix_retention_s REAL
	CHECK (prefix_retention_s IS NULL OR prefix_retention_s >= 0);
	                                              -- s a freed KV block stays cached at its rate
ALTER TABLE run_config ADD COLUMN next_mode TEXT
	CHECK (next_mode IS NULL OR length(next_mode) BETWEEN 1 AND 32);
	                                              -- chosen row: the best other mode; NULL: none
ALTER TABLE run_config ADD COLUMN next_mode_gpus INTEGER
	CHECK (next_mode_gpus IS NULL OR next_mode_gpus >= 0);
	                                              -- its serving GPUs in the busiest quarter
ALTER TABLE run_config ADD COLUMN next_mode_cost_usd REAL
	CHECK (next_mode_cost_usd IS NULL OR next_mode_cost_usd >= 0);
	                                              -- its cost over the horizon (as total_usd)
ALTER TABLE run_config ADD COLUMN no_prefix_gpus INTEGER
	CHECK (no_prefix_gpus IS NULL OR no_prefix_gpus >= 0);
	                                              -- chosen row assuming hits: the serving GPUs
	                                              -- (busiest quarter) of the pool planned
	                                              -- without them (NULL: not planned)

-- The scenario's prefix-cache assumption: the share of prompt tokens an
-- unbounded cache would serve. NULL: the workloads' measured reuse
-- (workload.prefix_reuse_share; 0 where not measured); 0: none assumed.
ALTER TABLE scenario ADD COLUMN prefix_hit REAL
	CHECK (prefix_hit IS NULL OR (prefix_hit >= 0 AND prefix_hit < 1));

-- How soon prefix blocks are reused (Mooncake hash_ids): a JSON array of
-- 17 shares of all prefix blocks, reused within 2^0, 2^1, ... 2^16 s of
-- their previous use (the last entry at most prefix_reuse_share). What a
-- finite cache keeps follows from it. NULL: not measured.
ALTER TABLE workload ADD COLUMN prefix_reuse_within TEXT
	CHECK (prefix_reuse_within IS NULL OR json_valid(prefix_reuse_within));

DROP VIEW v_configs;

-- The chosen configuration of every pool, with its vllm serve command line;
-- ttft_ms and tpot_ms are at slo_percentile ('p99'). mode is the serving
-- mode it runs; next_mode the best configuration of another mode, with its
-- GPUs (busiest quarter) and cost over the horizon beside this one's.
CREATE VIEW v_configs AS
	SELECT l.scenario,
	       (SELECT group_concat(name, ',') FROM (SELECT w.name FROM run_pool_workload pw
	          JOIN workload w ON w.id = pw.workload_id WHERE pw.pool_id = p.id ORDER BY w.name))
	         AS workload,
	       p.pool, p.slo_class, c.gpu_id AS gpu, c.tp, c.pp, c.dp, c.ep,
	       c.precision, c.kv_dtype, c.mode, c.spec_method, c.spec_tokens,
	       round(c.spec_acceptance, 3) AS spec_acceptance,
	       round(c.prefix_hit, 4) AS prefix_hit,
	       c.gpus_per_instance, c.max_model_len, c.max_num_seqs, c.kv_max_num_seqs,
	       c.max_num_batched_tokens, c.gpu_memory_utilization, c.kv_tokens,
	       round(c.rate_rps, 3) AS rate_rps, round(c.capacity_rps, 3) AS capacity_rps,
	       'p' || printf('%g', c.slo_percentile) AS slo_percentile,
	       round(c.ttft_ms, 1) AS ttft_ms, round(c.tpot_ms, 2) AS tpot_ms,
	       round(c.tpot_full_ms, 2) AS tpot_full_ms,
	       round(c.usd_per_mtok_output, 4) AS usd_per_mtok_output,
	       round(c.total_usd, 2) AS total_usd,
	       c.next_mode, c.next_mode_gpus, round(c.next_mode_cost_usd, 2) AS next_mode_cost_usd,
	       c.no_prefix_gpus,
	       c.vllm_args, c.run_id
	  FROM run_config c
	  JOIN v_latest_run l ON l.run_id = c.run_id
	  JOIN run_pool p ON p.id = c.pool_id
	 WHERE c.chosen = 1
	 ORDER BY l.scenario, workload, p.pool;
