-- 005_gpu_models.sql - what late-2026 GPUs and models need beyond 001: for a
-- GPU, the memory torch sees, its scale-out network, node size, form factor,
-- architecture family and whether vLLM's CUDA/ROCm path serves it; for a
-- model, its layer mix, what one sequence holds per layer kind, its MTP
-- layers and its checkpoint's quantisation (with hf_quant_config.json when
-- the checkpoint keeps it apart). Columns are NULL where unknown, and for
-- rows written before this migration until `piqplan init` fills them.

ALTER TABLE gpu ADD COLUMN memory_torch_bytes INTEGER CHECK (memory_torch_bytes IS NULL OR memory_torch_bytes > 0);
                                                -- what torch.cuda.mem_get_info() reports as total (vLLM's
                                                -- "total_memory"): below the driver's figure
ALTER TABLE gpu ADD COLUMN memory_torch_basis TEXT; -- 'measured: <log>' or 'estimate: <rule>'
ALTER TABLE gpu ADD COLUMN scaleout_bytes_per_s REAL CHECK (scaleout_bytes_per_s IS NULL OR scaleout_bytes_per_s > 0);
                                                -- network between nodes per GPU (NIC line rate), bytes/s
ALTER TABLE gpu ADD COLUMN gpus_per_node INTEGER CHECK (gpus_per_node IS NULL OR gpus_per_node >= 1);
                                                -- GPUs in the usual cloud node (a GB200/GB300 tray: 4)
ALTER TABLE gpu ADD COLUMN form_factor TEXT CHECK (form_factor IS NULL OR form_factor IN
                   ('SXM', 'PCIe', 'OAM', 'superchip', 'TPU'));
ALTER TABLE gpu ADD COLUMN arch TEXT CHECK (arch IS NULL OR arch IN
                   ('Ampere', 'Ada', 'Hopper', 'Blackwell', 'CDNA3', 'CDNA4', 'Gaudi', 'TPU'));
                                                -- architecture family
ALTER TABLE gpu ADD COLUMN vllm_served INTEGER CHECK (vllm_served IS NULL OR vllm_served IN (0, 1));
                                                -- 1: vLLM's CUDA or ROCm path serves it; 0: only other
                                                -- backends (Gaudi: vllm-gaudi, TPU: tpu-inference)

-- MI300X: rocm-smi reports 205,822,885,888 B = 196,288 MiB, not the 196,592 MiB
-- the first catalog had (shared/data/gpus-2026-NOTES.md).
UPDATE gpu SET memory_bytes = 196288 * 1048576
 WHERE id = 'MI300X-192GB' AND memory_bytes = 196592 * 1048576;

ALTER TABLE model ADD COLUMN layer_mix TEXT;        -- token mixers per layer, e.g. '45 linear + 15 full'
ALTER TABLE model ADD COLUMN kv_growth_bytes_per_token REAL;
                                                -- what each token adds once every window is full,
                                                -- the checkpoint's default KV dtype, all layers
ALTER TABLE model ADD COLUMN window_tokens INTEGER; -- sliding / chunked / V4 window (NULL: none)
ALTER TABLE model ADD COLUMN state_bytes_per_seq INTEGER;
                                                -- fixed per sequence: linear-attention and Mamba conv +
                                                -- SSM state, V4 compressor states
ALTER TABLE model ADD COLUMN indexer_bytes_per_token REAL;
                                                -- sparse-attention indexer keys per token (of the growth)
ALTER TABLE model ADD COLUMN seq_bytes_1m INTEGER;  -- what one 1,048,576-token sequence holds (default KV
                                                -- dtype, TP 1), whatever the model's own context limit
ALTER TABLE model ADD COLUMN mtp_layers INTEGER CHECK (mtp_layers IS NULL OR mtp_layers >= 0);
                                                -- multi-token-prediction layers in the checkpoint; vLLM
                                                -- loads them only for MTP speculative decoding
ALTER TABLE model ADD COLUMN quant_method TEXT;     -- the checkpoint's quant_method ('fp8', 'modelopt', ...);
                                                -- NULL: unquantised
ALTER TABLE model ADD COLUMN quant_config_json TEXT CHECK (quant_config_json IS NULL OR json_valid(quant_config_json));
                                                -- hf_quant_config.json verbatim, when the checkpoint has one
ALTER TABLE model ADD COLUMN note TEXT;             -- a caveat from reading the config (unknown family, ...)
ALTER TABLE model ADD COLUMN config_text TEXT;      -- config.json verbatim when it is not strict JSON (Python's
                                                -- Infinity / NaN); config_json then has those written as
                                                -- 1e999999 and 0.0 so json_valid() and json_extract() work
