-- 003_scenario.sql - scenarios (named sets of planning assumptions), their
-- runs and everything a run decides, the rendered reports, and the views
-- that are the documented query surface for sqlite3 users.

-- A named set of assumptions to plan a fleet under.
CREATE TABLE scenario (
	id                     INTEGER PRIMARY KEY,
	name                   TEXT NOT NULL UNIQUE,
	description            TEXT,
	start_quarter          TEXT NOT NULL CHECK (start_quarter GLOB '[0-9][0-9][0-9][0-9]Q[1-4]'),
	quarters               INTEGER NOT NULL CHECK (quarters BETWEEN 1 AND 40),
	growth_pct_per_quarter REAL NOT NULL DEFAULT 0 CHECK (growth_pct_per_quarter > -100),
	                                            -- demand growth per quarter, compounded, percent
	ttft_ms                REAL NOT NULL CHECK (ttft_ms > 0),  -- time-to-first-token target (p50 under load)
	tpot_ms                REAL NOT NULL CHECK (tpot_ms > 0),  -- time-per-output-token target
	utilization            REAL NOT NULL CHECK (utilization > 0 AND utilization <= 1),
	                                            -- highest planned busy share of an instance
	pricing                TEXT NOT NULL CHECK (pricing IN
	                         ('on-demand', 'reserved-1y', 'reserved-3y', 'spot', 'capacity-block', 'owned')),
	redundancy             INTEGER NOT NULL CHECK (redundancy >= 0), -- spare instances per pool (N+redundancy)
	long_context           TEXT NOT NULL CHECK (long_context = 'auto' OR long_context = 'off' OR
	                                            (long_context GLOB '[1-9]*' AND
	                                             long_context NOT GLOB '*[^0-9]*')),
	                                            -- isolation of long requests: 'auto', 'off' or a threshold in tokens
	engine_id              TEXT NOT NULL REFERENCES engine(id),
	demand                 TEXT NOT NULL DEFAULT 'peak' CHECK (demand IN ('peak', 'mean')),
	                                            -- plan for the workload's peak or mean request rate
	lead_time_days         INTEGER NOT NULL DEFAULT 90 CHECK (lead_time_days >= 0),
	                                            -- from order to GPUs in service
	mfu                    REAL NOT NULL DEFAULT 0.4 CHECK (mfu > 0 AND mfu <= 1),
	                                            -- model-FLOPs utilisation for the compute floor
	created_at             TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

-- The workloads a scenario serves, each with an optional growth of its own.
CREATE TABLE scenario_workload (
	scenario_id            INTEGER NOT NULL REFERENCES scenario(id) ON DELETE CASCADE,
	workload_id            INTEGER NOT NULL REFERENCES workload(id),
	growth_pct_per_quarter REAL CHECK (growth_pct_per_quarter IS NULL OR growth_pct_per_quarter > -100),
	                                            -- NULL: the scenario's growth
	PRIMARY KEY (scenario_id, workload_id)
) STRICT;

-- Candidate GPU types of a scenario; none listed means every GPU type.
CREATE TABLE scenario_gpu (
	scenario_id INTEGER NOT NULL REFERENCES scenario(id) ON DELETE CASCADE,
	gpu_id      TEXT NOT NULL REFERENCES gpu(id),
	PRIMARY KEY (scenario_id, gpu_id)
) STRICT;

-- One execution of a scenario.
CREATE TABLE run (
	id                   INTEGER PRIMARY KEY,
	scenario_id          INTEGER NOT NULL REFERENCES scenario(id) ON DELETE CASCADE,
	started_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	piqplan_version      TEXT NOT NULL,
	inputs_sha256        TEXT NOT NULL CHECK (length(inputs_sha256) = 64), -- over every input below
	candidates_evaluated INTEGER NOT NULL CHECK (candidates_evaluated >= 0),
	elapsed_ms           REAL NOT NULL CHECK (elapsed_ms >= 0),
	assumptions_json     TEXT NOT NULL CHECK (json_valid(assumptions_json))
	                                            -- the scenario's settings as the run read them
) STRICT;
CREATE INDEX run_scenario ON run(scenario_id);

-- Every input a run read, with its hash, so a run can be reproduced or audited.
CREATE TABLE run_input (
	run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	kind   TEXT NOT NULL,   -- 'model', 'gpu', 'price', 'engine', 'workload', 'cluster', 'scenario'
	name   TEXT NOT NULL,
	sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
	PRIMARY KEY (run_id, kind, name)
) STRICT, WITHOUT ROWID;

-- What a run wants its readers to know: GPUs left out for want of a price,
-- assumptions it had to make, risks it saw.
CREATE TABLE run_note (
	run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	seq    INTEGER NOT NULL,                 -- order of the notes
	kind   TEXT NOT NULL CHECK (kind IN ('warning', 'assumption', 'risk')),
	text   TEXT NOT NULL,
	PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

-- A pool: the part of one workload's traffic served by one configuration.
CREATE TABLE run_pool (
	id                 INTEGER PRIMARY KEY,
	run_id             INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	workload_id        INTEGER NOT NULL REFERENCES workload(id),
	pool               TEXT NOT NULL,          -- 'shared', 'short' or 'long'
	min_total_tokens   INTEGER NOT NULL,       -- requests with prompt+output in [min, max) go here
	max_total_tokens   INTEGER,                -- NULL: no upper bound
	request_share      REAL NOT NULL CHECK (request_share > 0 AND request_share <= 1),
	prompt_tokens_mean REAL NOT NULL,
	output_tokens_mean REAL NOT NULL,
	max_model_len      INTEGER NOT NULL CHECK (max_model_len > 0),
	threshold_choice   TEXT NOT NULL,          -- how the split was chosen, in words
	shared_alternative_usd REAL,               -- total cost over the horizon had the workload used one shared pool
	UNIQUE (run_id, workload_id, pool)
) STRICT;

-- Candidate per-instance configurations of a pool: the chosen one (rank 1)
-- and the others, with why they lost or why they cannot work.
CREATE TABLE run_config (
	run_id                  INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	pool_id                 INTEGER NOT NULL REFERENCES run_pool(id) ON DELETE CASCADE,
	rank                    INTEGER NOT NULL CHECK (rank >= 1), -- 1 = chosen; by total cost
	chosen                  INTEGER NOT NULL CHECK (chosen IN (0, 1)),
	gpu_id                  TEXT NOT NULL REFERENCES gpu(id),
	tp                      INTEGER NOT NULL CHECK (tp >= 1),
	pp                      INTEGER NOT NULL CHECK (pp >= 1),
	dp                      INTEGER NOT NULL CHECK (dp >= 1),
	ep                      INTEGER NOT NULL CHECK (ep IN (0, 1)),
	precision               TEXT NOT NULL,
	kv_dtype                TEXT NOT NULL,
	gpus_per_instance       INTEGER NOT NULL CHECK (gpus_per_instance >= 1),
	fits                    INTEGER NOT NULL CHECK (fits IN (0, 1)),
	max_model_len           INTEGER,
	max_num_seqs            INTEGER,
	max_num_batched_tokens  INTEGER,
	gpu_memory_utilization  REAL,
	kv_tokens               INTEGER,           -- KV-cache capacity per instance, tokens
	rate_rps                REAL,              -- sustainable requests/s per instance at the SLOs
	output_tok_s            REAL,              -- output tokens/s per instance at that rate
	ttft_ms                 REAL,
	tpot_ms                 REAL,
	usd_per_gpu_hour        REAL,              -- NULL: no price of the scenario's kind
	total_usd               REAL,              -- over the horizon
	usd_per_mtok_output     REAL,
	reason                  TEXT NOT NULL,     -- why it was chosen, lost, or cannot fit
	vllm_args               TEXT,              -- the exact `vllm serve` command line
	PRIMARY KEY (pool_id, rank)
) STRICT;

-- Per quarter x pool x GPU type: demand and the instances that serve it.
CREATE TABLE run_fleet (
	run_id        INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	quarter       TEXT NOT NULL,
	pool_id       INTEGER NOT NULL REFERENCES run_pool(id) ON DELETE CASCADE,
	gpu_id        TEXT NOT NULL REFERENCES gpu(id),
	demand_rps    REAL NOT NULL CHECK (demand_rps >= 0),   -- requests/s with growth applied
	input_tok_s   REAL NOT NULL CHECK (input_tok_s >= 0),  -- prompt tokens/s
	output_tok_s  REAL NOT NULL CHECK (output_tok_s >= 0), -- generated tokens/s
	instances     INTEGER NOT NULL CHECK (instances >= 0), -- including redundancy
	gpus          INTEGER NOT NULL CHECK (gpus >= 0),
	utilization   REAL NOT NULL CHECK (utilization >= 0 AND utilization <= 1),
	PRIMARY KEY (run_id, quarter, pool_id)
) STRICT;

-- Per quarter x GPU type: need against what is owned, and what it costs.
CREATE TABLE run_capacity (
	run_id              INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	quarter             TEXT NOT NULL,
	gpu_id              TEXT NOT NULL REFERENCES gpu(id),
	gpus_needed         INTEGER NOT NULL CHECK (gpus_needed >= 0),
	gpus_owned          INTEGER NOT NULL CHECK (gpus_owned >= 0),
	shortfall           INTEGER NOT NULL CHECK (shortfall >= 0),
	order_by            TEXT,                  -- YYYY-MM-DD; NULL when nothing is short
	pricing             TEXT NOT NULL,
	usd_per_gpu_hour    REAL,                  -- price of the shortfall GPUs (scenario's kind)
	price_as_of         TEXT,
	owned_usd_per_gpu_hour REAL,               -- what owned GPUs cost, when stated
	hours               REAL NOT NULL,         -- hours in the quarter
	cost_usd            REAL NOT NULL,         -- all GPUs needed, owned at their rate, the rest at the price
	input_tokens        REAL NOT NULL,         -- served in the quarter
	output_tokens       REAL NOT NULL,
	usd_per_mtok_input  REAL,                  -- cost split by token share
	usd_per_mtok_output REAL,
	compute_floor_usd   REAL NOT NULL,         -- cost by active parameters: 2*active*tokens/(peak*MFU) priced alike
	PRIMARY KEY (run_id, quarter, gpu_id)
) STRICT;

-- Rendered reports, as written.
CREATE TABLE report (
	id         INTEGER PRIMARY KEY,
	run_id     INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
	kind       TEXT NOT NULL,                 -- 'quarterly'
	format     TEXT NOT NULL CHECK (format IN ('md', 'html', 'csv', 'json')),
	body       TEXT NOT NULL,
	created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

-- The newest run of every scenario.
CREATE VIEW v_latest_run AS
	SELECT r.id AS run_id, s.name AS scenario, r.started_at
	  FROM run r JOIN scenario s ON s.id = r.scenario_id
	 WHERE r.id = (SELECT max(id) FROM run WHERE scenario_id = r.scenario_id);

-- Fleet per quarter, workload, pool and GPU type (latest run of each scenario).
CREATE VIEW v_fleet AS
	SELECT l.scenario, f.quarter, w.name AS workload, p.pool, f.gpu_id AS gpu,
	       f.instances, f.gpus, round(f.utilization, 3) AS utilization,
	       round(f.demand_rps, 3) AS demand_rps, round(f.input_tok_s, 1) AS input_tok_s,
	       round(f.output_tok_s, 1) AS output_tok_s, f.run_id
	  FROM run_fleet f
	  JOIN v_latest_run l ON l.run_id = f.run_id
	  JOIN run_pool p ON p.id = f.pool_id
	  JOIN workload w ON w.id = p.workload_id
	 ORDER BY l.scenario, f.quarter, w.name, p.pool;

-- The chosen configuration of every pool, with its vllm serve command line.
CREATE VIEW v_configs AS
	SELECT l.scenario, w.name AS workload, p.pool, c.gpu_id AS gpu, c.tp, c.pp, c.dp, c.ep,
	       c.precision, c.gpus_per_instance, c.max_model_len, c.max_num_seqs,
	       c.max_num_batched_tokens, c.gpu_memory_utilization, c.kv_tokens,
	       round(c.rate_rps, 3) AS rate_rps, round(c.ttft_ms, 1) AS ttft_ms,
	       round(c.tpot_ms, 2) AS tpot_ms, round(c.usd_per_mtok_output, 4) AS usd_per_mtok_output,
	       c.vllm_args, c.run_id
	  FROM run_config c
	  JOIN v_latest_run l ON l.run_id = c.run_id
	  JOIN run_pool p ON p.id = c.pool_id
	  JOIN workload w ON w.id = p.workload_id
	 WHERE c.chosen = 1
	 ORDER BY l.scenario, w.name, p.pool;

-- GPUs needed against owned, per quarter and GPU type: the budget question.
CREATE VIEW v_shortfall AS
	SELECT l.scenario, c.quarter, c.gpu_id AS gpu, c.gpus_needed, c.gpus_owned, c.shortfall,
	       c.order_by, c.run_id
	  FROM run_capacity c
	  JOIN v_latest_run l ON l.run_id = c.run_id
	 ORDER BY l.scenario, c.quarter, c.gpu_id;

-- Cost per quarter and GPU type, beside the compute floor by active parameters.
CREATE VIEW v_cost AS
	SELECT l.scenario, c.quarter, c.gpu_id AS gpu, c.pricing, c.usd_per_gpu_hour, c.price_as_of,
	       round(c.cost_usd, 2) AS cost_usd,
	       round(c.usd_per_mtok_input, 4) AS usd_per_mtok_input,
	       round(c.usd_per_mtok_output, 4) AS usd_per_mtok_output,
	       round(c.compute_floor_usd, 2) AS compute_floor_usd,
	       CASE WHEN c.compute_floor_usd > 0 THEN round(c.cost_usd / c.compute_floor_usd, 2) END
	         AS memory_tax,
	       c.run_id
	  FROM run_capacity c
	  JOIN v_latest_run l ON l.run_id = c.run_id
	 ORDER BY l.scenario, c.quarter, c.gpu_id;
