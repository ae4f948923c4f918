-- 002_workload.sql - workloads: what the traffic looks like, as a joint
-- histogram of prompt x output lengths with arrival rates. Written by
-- `piqplan workload import`, read by the planner.

-- One imported workload, with where it came from and its summary figures.
CREATE TABLE workload (
	id                    INTEGER PRIMARY KEY,
	name                  TEXT NOT NULL UNIQUE,     -- user's name, e.g. 'chat'
	model_id              TEXT NOT NULL REFERENCES model(id), -- the model this traffic is for
	description           TEXT,
	format                TEXT NOT NULL CHECK (format IN ('requests', 'buckets', 'prometheus', 'mooncake')),
	source_file           TEXT NOT NULL,            -- file name as given on import
	source_sha256         TEXT NOT NULL CHECK (length(source_sha256) = 64), -- of the file's bytes
	source_bytes          INTEGER NOT NULL CHECK (source_bytes >= 0),
	edges                 TEXT NOT NULL,            -- bin edges: 'log2' or 'N1,N2,...'
	requests              INTEGER NOT NULL CHECK (requests > 0),
	first_ts_s            REAL,                     -- first arrival, seconds (epoch when the file has dates); NULL: unknown
	last_ts_s             REAL,                     -- last arrival, seconds
	span_s                REAL CHECK (span_s IS NULL OR span_s >= 0), -- last - first, seconds
	mean_rps              REAL CHECK (mean_rps IS NULL OR mean_rps >= 0),   -- requests / span
	peak_rps              REAL CHECK (peak_rps IS NULL OR peak_rps >= 0),   -- busiest window
	peak_window_s         REAL CHECK (peak_window_s IS NULL OR peak_window_s > 0), -- that window, seconds
	prompt_tokens_sum     INTEGER NOT NULL CHECK (prompt_tokens_sum >= 0),
	output_tokens_sum     INTEGER NOT NULL CHECK (output_tokens_sum >= 0),
	prompt_tokens_mean    REAL NOT NULL,
	output_tokens_mean    REAL NOT NULL,
	prompt_tokens_p50     REAL, prompt_tokens_p90 REAL, prompt_tokens_p99 REAL, prompt_tokens_p999 REAL,
	output_tokens_p50     REAL, output_tokens_p90 REAL, output_tokens_p99 REAL, output_tokens_p999 REAL,
	total_tokens_p50      REAL, total_tokens_p90 REAL, total_tokens_p99 REAL, total_tokens_p999 REAL,
	                                                -- percentiles of prompt, output, prompt+output (tokens)
	sums_estimated        INTEGER NOT NULL CHECK (sums_estimated IN (0, 1)),
	                                                -- 1: token sums from bucket midpoints, not exact
	independent_marginals INTEGER NOT NULL CHECK (independent_marginals IN (0, 1)),
	                                                -- 1: prompt and output measured separately and
	                                                -- combined assuming independence (prometheus)
	prefix_reuse_share    REAL CHECK (prefix_reuse_share IS NULL OR
	                                  (prefix_reuse_share >= 0 AND prefix_reuse_share <= 1)),
	                                                -- share of prefix-cache blocks seen before (mooncake)
	imported_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

-- One non-empty cell of a workload's joint histogram; bounds half-open [lo, hi).
CREATE TABLE workload_bucket (
	workload_id        INTEGER NOT NULL REFERENCES workload(id) ON DELETE CASCADE,
	prompt_tokens_lo   INTEGER NOT NULL CHECK (prompt_tokens_lo >= 0),
	prompt_tokens_hi   INTEGER NOT NULL CHECK (prompt_tokens_hi > prompt_tokens_lo),
	output_tokens_lo   INTEGER NOT NULL CHECK (output_tokens_lo >= 0),
	output_tokens_hi   INTEGER NOT NULL CHECK (output_tokens_hi > output_tokens_lo),
	requests           INTEGER NOT NULL CHECK (requests > 0),
	prompt_tokens_sum  INTEGER NOT NULL CHECK (prompt_tokens_sum >= 0), -- exact unless sums_estimated
	output_tokens_sum  INTEGER NOT NULL CHECK (output_tokens_sum >= 0),
	PRIMARY KEY (workload_id, prompt_tokens_lo, output_tokens_lo)
) STRICT, WITHOUT ROWID;
