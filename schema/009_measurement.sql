-- 009_measurement.sql - calibration as a store: the measurements the step-time
-- model is fitted to (the shipped published rows and the user's own, each
-- with its source), the profiles fitted to them per engine x GPU vendor or
-- family x model class with the spread of their residuals, and the band and
-- profile stored with every run configuration.

-- One measured benchmark: what ran (model, GPU, layout, precision, engine),
-- how it was loaded, and what it did. `piqplan init` loads the published
-- rows piqplan ships (origin 'seed'); `piqplan measurement add|import` adds
-- the user's own (origin 'user'). A measurement calibrates parameters; it
-- never answers a query itself.
CREATE TABLE measurement (
	id            INTEGER PRIMARY KEY,
	origin        TEXT NOT NULL CHECK (origin IN ('seed', 'user')),
	model_id      TEXT NOT NULL,             -- Hugging Face id as measured (may be absent from the catalog)
	gpu_id        TEXT NOT NULL,             -- GPU id as measured
	gpus          INTEGER NOT NULL CHECK (gpus >= 1),   -- GPUs of the whole instance
	tp            INTEGER NOT NULL CHECK (tp >= 1),
	pp            INTEGER NOT NULL CHECK (pp >= 1),
	ep            INTEGER NOT NULL CHECK (ep IN (0, 1)), -- 1: expert parallel
	precision     TEXT NOT NULL CHECK (precision IN ('native', 'bf16', 'fp8', 'fp4')),
	kv_dtype      TEXT NOT NULL DEFAULT 'auto' CHECK (kv_dtype IN ('auto', 'fp8')),
	                                          -- KV cache: the model dtype, or fp8 (TRT-LLM's FP8
	                                          -- engines set it by themselves)
	engine        TEXT NOT NULL,             -- 'vllm', 'sglang', 'trtllm', ...
	isl_tokens    REAL NOT NULL CHECK (isl_tokens > 0),  -- mean prompt tokens per request
	osl_tokens    REAL NOT NULL CHECK (osl_tokens > 0),  -- mean output tokens per request
	osl_max_tokens REAL CHECK (osl_max_tokens IS NULL OR osl_max_tokens >= osl_tokens),
	                                          -- the cap on each output when outputs stop at EOS and
	                                          -- so vary below it (ShareGPT: 2048 - prompt); NULL:
	                                          -- every output is osl_tokens long (ignore_eos)
	load          TEXT NOT NULL CHECK (load IN ('offline', 'concurrency', 'rate')),
	load_value    REAL CHECK (load_value IS NULL OR load_value > 0),
	                                          -- offline: requests queued; concurrency: clients;
	                                          -- rate: requests/s
	output_tok_s  REAL NOT NULL CHECK (output_tok_s > 0), -- output tokens/s of the whole instance
	ttft_ms       REAL CHECK (ttft_ms IS NULL OR ttft_ms > 0),  -- mean time to first token
	tpot_ms       REAL CHECK (tpot_ms IS NULL OR tpot_ms > 0),  -- mean time per output token
	mode          TEXT NOT NULL DEFAULT 'standard' CHECK (mode IN
	                ('standard', 'mtp', 'spec', 'disagg', 'prefix-cache')),
	                                          -- serving mode; only 'standard' rows are fitted until
	                                          -- the model has the others
	excluded      TEXT,                      -- why a 'standard' row is kept out of fits; NULL: fitted
	source        TEXT NOT NULL CHECK (length(source) > 0), -- where the numbers come from
	notes         TEXT NOT NULL DEFAULT '',  -- conversions, engine version, flags
	added_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	CHECK (gpus % (tp * pp) = 0)
) STRICT;
CREATE INDEX measurement_engine ON measurement(engine);
-- The same measurement (same run, same figures, same source) is stored once:
-- `init` and a repeated `measurement import` add nothing the second time.
CREATE UNIQUE INDEX measurement_key ON measurement(engine, model_id, gpu_id, gpus, tp, pp, ep,
	precision, isl_tokens, osl_tokens, load, coalesce(load_value, 0), output_tok_s, source);

-- The starting point of every engine's fit (and what answers before any fit):
-- engine-wide values of the step-time parameters 001's columns do not have.
-- bw_efficiency (now of weight reads only), flops_efficiency and
-- step_overhead_ms keep their meaning;
-- moe_efficiency_floor and moe_tokens_per_expert_half are no longer used
-- (the expert GEMMs are bound by moe_bw_efficiency and the latencies instead).
ALTER TABLE engine ADD COLUMN attn_efficiency REAL CHECK (attn_efficiency IS NULL OR
                  (attn_efficiency > 0 AND attn_efficiency <= 1));
                                          -- attention FLOPs: achieved / peak bf16 FLOP/s
ALTER TABLE engine ADD COLUMN kv_bw_efficiency REAL CHECK (kv_bw_efficiency IS NULL OR
                  (kv_bw_efficiency > 0 AND kv_bw_efficiency <= 1));
                                          -- KV cache reads: achieved / peak HBM bandwidth
ALTER TABLE engine ADD COLUMN moe_bw_efficiency REAL CHECK (moe_bw_efficiency IS NULL OR
                  (moe_bw_efficiency > 0 AND moe_bw_efficiency <= 1));
                                          -- grouped expert GEMMs: achieved / peak HBM bandwidth
ALTER TABLE engine ADD COLUMN layer_latency_us REAL CHECK (layer_latency_us IS NULL OR layer_latency_us >= 0);
                                          -- fixed time per decoder layer per pass
ALTER TABLE engine ADD COLUMN moe_layer_latency_us REAL CHECK (moe_layer_latency_us IS NULL OR moe_layer_latency_us >= 0);
                                          -- fixed extra per MoE layer per pass
ALTER TABLE engine ADD COLUMN seq_overhead_us REAL CHECK (seq_overhead_us IS NULL OR seq_overhead_us >= 0);
                                          -- per running sequence per engine step
ALTER TABLE engine ADD COLUMN request_overhead_ms REAL CHECK (request_overhead_ms IS NULL OR request_overhead_ms >= 0);
                                          -- per request
ALTER TABLE engine ADD COLUMN ttft_latency_ms REAL CHECK (ttft_latency_ms IS NULL OR ttft_latency_ms >= 0);
                                          -- front-end latency before a first token (not engine time)

-- A fitted profile: the step-time parameters of one engine on a GPU vendor or
-- family, for a model class, fitted to `rows` measurements (each shrunk
-- toward its parent: engine -> vendor -> family -> family x class), with the
-- spread of its residuals. The planner uses the most specific profile that
-- exists for a GPU's family and a model's class and says which.
CREATE TABLE engine_profile (
	engine_id            TEXT NOT NULL REFERENCES engine(id) ON DELETE CASCADE,
	scope                TEXT NOT NULL CHECK (scope IN ('engine', 'vendor', 'arch')),
	scope_name           TEXT NOT NULL DEFAULT '' CHECK ((scope = 'engine') = (scope_name = '')),
	                                          -- '' for the engine, a gpu.vendor or a gpu.arch
	model_class          TEXT NOT NULL CHECK (model_class IN ('any', 'dense', 'moe')),
	bw_efficiency        REAL NOT NULL CHECK (bw_efficiency > 0 AND bw_efficiency <= 1),
	flops_efficiency     REAL NOT NULL CHECK (flops_efficiency > 0 AND flops_efficiency <= 1),
	attn_efficiency      REAL NOT NULL CHECK (attn_efficiency > 0 AND attn_efficiency <= 1),
	kv_bw_efficiency     REAL NOT NULL CHECK (kv_bw_efficiency > 0 AND kv_bw_efficiency <= 1),
	moe_bw_efficiency    REAL NOT NULL CHECK (moe_bw_efficiency > 0 AND moe_bw_efficiency <= 1),
	layer_latency_us     REAL NOT NULL CHECK (layer_latency_us >= 0),
	moe_layer_latency_us REAL NOT NULL CHECK (moe_layer_latency_us >= 0),
	step_overhead_ms     REAL NOT NULL CHECK (step_overhead_ms >= 0),
	seq_overhead_us      REAL NOT NULL CHECK (seq_overhead_us >= 0),
	request_overhead_ms  REAL NOT NULL CHECK (request_overhead_ms >= 0),
	ttft_latency_ms      REAL NOT NULL CHECK (ttft_latency_ms >= 0),
	rows                 INTEGER NOT NULL CHECK (rows >= 1),    -- measurements fitted
	rows_dense           INTEGER NOT NULL CHECK (rows_dense >= 0),
	rows_moe             INTEGER NOT NULL CHECK (rows_moe >= 0 AND rows_dense + rows_moe = rows),
	log_p10              REAL NOT NULL,       -- p10 of ln(predicted / measured) output tok/s
	log_p90              REAL NOT NULL CHECK (log_p90 >= log_p10), -- p90 of the same
	out_of_sample        INTEGER NOT NULL CHECK (out_of_sample IN (0, 1)),
	                                          -- 1: residuals of held-out predictions (a family
	                                          -- profile: leave-one-source-out; a vendor or engine
	                                          -- profile: leave-one-family-out)
	fitted_at            TEXT NOT NULL,       -- UTC, ISO 8601
	source               TEXT NOT NULL,       -- 'shipped: scripts/calibrate on seeds/measurements.csv'
	                                          -- or 'piqplan calibrate on N measurements'
	PRIMARY KEY (engine_id, scope, scope_name, model_class)
) STRICT;

-- The band of every stored configuration: the profile that answered and the
-- p10/p90 of measured / predicted output tok/s from its residuals.
ALTER TABLE run_config ADD COLUMN perf_profile TEXT;  -- 'vllm x Hopper x MoE'; NULL: before 009
ALTER TABLE run_config ADD COLUMN perf_rows INTEGER CHECK (perf_rows IS NULL OR perf_rows >= 0);
                                          -- measurements behind it (0: unfitted)
ALTER TABLE run_config ADD COLUMN perf_validated INTEGER CHECK (perf_validated IS NULL OR perf_validated IN (0, 1));
                                          -- 1: the profile's rows include this GPU family and model class
ALTER TABLE run_config ADD COLUMN perf_note TEXT;     -- why not validated, e.g. 'no measurements of sglang on CDNA4: sglang x amd profile used'
ALTER TABLE run_config ADD COLUMN band_lo REAL CHECK (band_lo IS NULL OR band_lo > 0);
                                          -- p10 of measured / predicted throughput
ALTER TABLE run_config ADD COLUMN band_hi REAL CHECK (band_hi IS NULL OR band_hi >= band_lo);
                                          -- p90 of the same
-- The GPU counts at the band's ends: instances sized for the throughput at
-- band_hi (fewest GPUs) and band_lo (most).
ALTER TABLE run_fleet ADD COLUMN gpus_lo INTEGER CHECK (gpus_lo IS NULL OR gpus_lo >= 0);
ALTER TABLE run_fleet ADD COLUMN gpus_hi INTEGER CHECK (gpus_hi IS NULL OR gpus_hi >= gpus_lo);
