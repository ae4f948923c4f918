-- 001_catalog.sql - the catalog: GPUs, their prices, models, engine profiles
-- and the clusters a team already owns. Seeded by `piqplan init` from the
-- files under seeds/ (embedded in the binary); users add their own rows.
--
-- Conventions for every piqplan table: STRICT, units in column names,
-- CHECK constraints for ranges, dates as ISO-8601 text.

-- One GPU type, with its specifications from public datasheets.
CREATE TABLE gpu (
	id                 TEXT PRIMARY KEY,        -- catalog id, e.g. 'H100-SXM-80GB'
	vendor             TEXT NOT NULL,           -- 'nvidia', 'amd'
	memory_bytes       INTEGER NOT NULL CHECK (memory_bytes > 0),  -- capacity the driver reports
	mem_bw_bytes_per_s REAL NOT NULL CHECK (mem_bw_bytes_per_s > 0), -- HBM bandwidth, bytes/s
	bf16_flops         REAL NOT NULL CHECK (bf16_flops > 0),      -- dense BF16 tensor FLOP/s
	fp8_flops          REAL CHECK (fp8_flops IS NULL OR fp8_flops > 0),  -- dense FP8 FLOP/s; NULL: no FP8 tensor cores
	fp4_flops          REAL CHECK (fp4_flops IS NULL OR fp4_flops > 0),  -- dense FP4 FLOP/s; NULL: none
	link_bytes_per_s   REAL NOT NULL CHECK (link_bytes_per_s > 0), -- GPU-to-GPU bandwidth per direction
	link               TEXT NOT NULL,           -- interconnect, e.g. 'NVLink4', 'PCIe Gen5 x16'
	nvlink_domain_gpus INTEGER NOT NULL CHECK (nvlink_domain_gpus >= 1), -- GPUs in one NVLink domain (1: PCIe only)
	tdp_watts          INTEGER CHECK (tdp_watts IS NULL OR tdp_watts > 0), -- board power
	source             TEXT NOT NULL            -- where the figures come from
) STRICT;

-- A price for one GPU-hour, with the date it was quoted and its source.
-- Prices go stale: a GPU may have several rows per pricing kind; the newest
-- as_of_date wins. A GPU with no row for a pricing kind has no price for it
-- (never zero).
CREATE TABLE gpu_price (
	gpu_id           TEXT NOT NULL REFERENCES gpu(id) ON DELETE CASCADE,
	pricing          TEXT NOT NULL CHECK (pricing IN
	                   ('on-demand', 'reserved-1y', 'reserved-3y', 'spot', 'capacity-block', 'owned')),
	usd_per_gpu_hour REAL NOT NULL CHECK (usd_per_gpu_hour > 0),  -- USD per GPU per hour
	as_of            TEXT NOT NULL,            -- the date as the source gives it: 2026, 2026-Q1, 2026-05, 2026-05-18
	as_of_date       TEXT NOT NULL CHECK (as_of_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
	                                           -- first day of that period, for ordering
	source           TEXT NOT NULL,            -- who quoted it
	PRIMARY KEY (gpu_id, pricing, as_of)
) STRICT;

-- A model, from its Hugging Face config.json. The derived columns are
-- computed by piqplan's model arithmetic at import, for sqlite3 users; the
-- planner re-derives everything from config_json.
CREATE TABLE model (
	id                 TEXT PRIMARY KEY,        -- Hugging Face id, 'deepseek-ai/DeepSeek-V3'
	model_type         TEXT NOT NULL,           -- config.json model_type, e.g. 'deepseek_v3'
	attention          TEXT NOT NULL CHECK (attention IN ('MHA', 'GQA', 'MLA')),
	layers             INTEGER NOT NULL CHECK (layers > 0),
	hidden_size        INTEGER NOT NULL CHECK (hidden_size > 0),
	total_params       INTEGER NOT NULL CHECK (total_params > 0),   -- parameters held in memory
	active_params      INTEGER NOT NULL CHECK (active_params > 0 AND active_params <= total_params),
	                                                                -- parameters used per token
	experts            INTEGER NOT NULL CHECK (experts >= 0),       -- routed experts per MoE layer; 0: dense
	experts_per_token  INTEGER NOT NULL CHECK (experts_per_token >= 0 AND experts_per_token <= experts),
	kv_bytes_per_token INTEGER NOT NULL CHECK (kv_bytes_per_token > 0), -- bf16 KV, all layers
	max_context_tokens INTEGER NOT NULL CHECK (max_context_tokens > 0), -- max_position_embeddings
	native_format      TEXT NOT NULL,           -- checkpoint storage, e.g. 'bf16', 'fp8', 'mxfp4 experts'
	config_json        TEXT NOT NULL CHECK (json_valid(config_json)), -- config.json, verbatim
	source             TEXT NOT NULL,           -- where config.json came from
	imported_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

-- An inference engine's profile: its defaults (what it does when a flag is
-- not given) and the efficiency factors of piqplan's performance model,
-- fitted to published measurements by `piqplan calibrate`.
CREATE TABLE engine (
	id                          TEXT PRIMARY KEY,   -- 'vllm', 'sglang', 'trtllm'
	version                     TEXT NOT NULL,      -- engine version the defaults describe
	gpu_memory_utilization      REAL NOT NULL CHECK (gpu_memory_utilization > 0 AND gpu_memory_utilization <= 1),
	memory_fraction_of          TEXT NOT NULL CHECK (memory_fraction_of IN ('total', 'free')),
	                                                -- 'total': vLLM/SGLang, the fraction is of GPU memory;
	                                                -- 'free': TRT-LLM, of what is free after weights
	max_num_seqs_large          INTEGER NOT NULL CHECK (max_num_seqs_large > 0),  -- default on large GPUs
	max_num_seqs_small          INTEGER NOT NULL CHECK (max_num_seqs_small > 0),  -- default otherwise
	large_gpu_min_bytes         INTEGER NOT NULL CHECK (large_gpu_min_bytes >= 0), -- memory from which a GPU is "large"
	large_gpu_exclude           TEXT NOT NULL DEFAULT '', -- GPU ids containing this are never "large" (vLLM: 'A100')
	max_num_batched_tokens_large INTEGER NOT NULL CHECK (max_num_batched_tokens_large > 0),
	max_num_batched_tokens_small INTEGER NOT NULL CHECK (max_num_batched_tokens_small > 0),
	block_size_tokens           INTEGER NOT NULL CHECK (block_size_tokens > 0),   -- KV cache block (page)
	non_torch_tp1_bytes         INTEGER NOT NULL CHECK (non_torch_tp1_bytes >= 0), -- CUDA context, cuBLAS at TP 1
	non_torch_tpn_bytes         INTEGER NOT NULL CHECK (non_torch_tpn_bytes >= 0), -- the same plus NCCL at TP >= 2
	cuda_graph_bytes            INTEGER NOT NULL CHECK (cuda_graph_bytes >= 0),   -- captured CUDA graphs per GPU
	activation_bytes_per_token_dense REAL NOT NULL CHECK (activation_bytes_per_token_dense >= 0),
	                                                -- profile-run activation peak per batched token, dense model
	activation_bytes_per_token_moe   REAL NOT NULL CHECK (activation_bytes_per_token_moe >= 0),
	                                                -- the same for an MoE model
	bw_efficiency               REAL NOT NULL CHECK (bw_efficiency > 0 AND bw_efficiency <= 1),  -- achieved / peak HBM bandwidth
	flops_efficiency            REAL NOT NULL CHECK (flops_efficiency > 0 AND flops_efficiency <= 1), -- achieved / peak FLOP/s (prefill)
	moe_efficiency_floor        REAL NOT NULL CHECK (moe_efficiency_floor > 0 AND moe_efficiency_floor <= 1),
	                                                -- expert GEMMs' FLOP rate at ~0 tokens per expert, relative to
	                                                -- the dense path's flops_efficiency (weight reads are not penalised)
	moe_tokens_per_expert_half  REAL NOT NULL CHECK (moe_tokens_per_expert_half > 0),
	                                                -- tokens per expert at which it is half way from the floor to 1
	                                                -- (fitted by `piqplan calibrate`; see planner/calibrate.h)
	step_overhead_ms            REAL NOT NULL CHECK (step_overhead_ms >= 0),  -- scheduler + launch per step
	allreduce_alpha_us          REAL NOT NULL CHECK (allreduce_alpha_us >= 0), -- latency of one all-reduce
	link_efficiency             REAL NOT NULL CHECK (link_efficiency > 0 AND link_efficiency <= 1), -- achieved / peak link bandwidth
	source                      TEXT NOT NULL       -- where each default comes from
) STRICT;

-- GPUs a team already has (owned or committed), from a quarter on.
CREATE TABLE cluster (
	name             TEXT PRIMARY KEY,          -- e.g. 'us-east-h100'
	gpu_id           TEXT NOT NULL REFERENCES gpu(id),
	gpus             INTEGER NOT NULL CHECK (gpus > 0),
	pricing          TEXT NOT NULL DEFAULT 'owned' CHECK (pricing IN
	                   ('on-demand', 'reserved-1y', 'reserved-3y', 'spot', 'capacity-block', 'owned')),
	usd_per_gpu_hour REAL CHECK (usd_per_gpu_hour IS NULL OR usd_per_gpu_hour >= 0),
	                                           -- what this capacity costs per GPU-hour; NULL: not stated
	from_quarter     TEXT CHECK (from_quarter IS NULL OR from_quarter GLOB '[0-9][0-9][0-9][0-9]Q[1-4]'),
	                                           -- first quarter it is available; NULL: already
	created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
CREATE INDEX cluster_gpu ON cluster(gpu_id);
