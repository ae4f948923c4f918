-- 004_calibration.sql - what `piqplan calibrate` fitted into an engine
-- profile, and when. The fitted values themselves live in the engine
-- table's own columns (bw_efficiency, flops_efficiency, step_overhead_ms,
-- moe_efficiency_floor, moe_tokens_per_expert_half); these columns say
-- where they came from. All NULL for a profile nobody has fitted in this
-- database (the shipped seeds say in their source text how they were fitted).

ALTER TABLE engine ADD COLUMN fitted_at TEXT;        -- UTC time of the last fit, ISO 8601; NULL: never fitted here
ALTER TABLE engine ADD COLUMN fit_file TEXT;         -- the measurements file as given, and its SHA-256
ALTER TABLE engine ADD COLUMN fit_rows INTEGER CHECK (fit_rows IS NULL OR fit_rows > 0);
                                                     -- measured rows the fit used
ALTER TABLE engine ADD COLUMN fit_error_json TEXT;   -- JSON: parameters moved, their values before and
                                                     -- after, median/p90 absolute % error of output
                                                     -- tok/s, TTFT and TPOT before and after
