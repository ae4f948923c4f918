-- 010_price_rule.sql - which price a plan uses, when a GPU has many quotes
--
-- Until now the newest quote of a pricing kind won. With the 2026 catalog a
-- GPU has four to seven on-demand quotes from different clouds, and the
-- newest is whichever source was read last: H100 at AWS's 6.88 while Lambda,
-- Nebius and RunPod quote 3.85-3.99, H200 at GCP's 10.44 beside B200 at
-- RunPod's 6.79. A plan that compares GPUs on such prices compares sources.
--
-- The rule (gpu_price_current below):
--   1. a price you added (`price add`, origin 'user') wins: the newest of them;
--   2. otherwise the median of the catalog's quotes dated within 180 days of
--      its newest quote (older quotes are stale, not outliers).
--
-- origin: 'catalog' for rows from seeds/prices.csv, 'user' for `price add`.
-- Rows already in a database are marked 'user' here, so an upgraded database
-- prices exactly as before; `piqplan init` re-marks the rows that are the
-- catalog's own (same GPU, kind, date, price and source) as 'catalog'.

ALTER TABLE gpu_price ADD COLUMN origin TEXT NOT NULL DEFAULT 'user'
	CHECK (origin IN ('catalog', 'user'));

-- One row per (GPU, pricing kind): the price a plan uses and how it was chosen.
--   usd_per_gpu_hour  the price
--   as_of             the quote's as_of (user) or the newest quote's (median)
--   as_of_date        likewise, as a date
--   quotes            how many quotes the price stands on (1 for a user price)
--   basis             'user' or 'median'
--   usd_min, usd_max  the range of those quotes
CREATE VIEW gpu_price_current AS
WITH
user_ranked AS (
	SELECT gpu_id, pricing, usd_per_gpu_hour, as_of, as_of_date,
	       row_number() OVER (PARTITION BY gpu_id, pricing
	                          ORDER BY as_of_date DESC, as_of DESC) AS rn
	  FROM gpu_price WHERE origin = 'user'),
catalog_dated AS (
	SELECT gpu_id, pricing, usd_per_gpu_hour, as_of, as_of_date,
	       max(as_of_date) OVER (PARTITION BY gpu_id, pricing) AS newest
	  FROM gpu_price p WHERE origin = 'catalog'
	   AND NOT EXISTS (SELECT 1 FROM gpu_price u WHERE u.origin = 'user'
	                    AND u.gpu_id = p.gpu_id AND u.pricing = p.pricing)),
catalog_recent AS (
	SELECT *,
	       row_number() OVER (PARTITION BY gpu_id, pricing
	                          ORDER BY usd_per_gpu_hour, as_of) AS rn,
	       count(*) OVER (PARTITION BY gpu_id, pricing) AS n,
	       min(usd_per_gpu_hour) OVER (PARTITION BY gpu_id, pricing) AS lo,
	       max(usd_per_gpu_hour) OVER (PARTITION BY gpu_id, pricing) AS hi
	  FROM catalog_dated WHERE as_of_date >= date(newest, '-180 days'))
SELECT gpu_id, pricing, usd_per_gpu_hour, as_of, as_of_date, 1 AS quotes, 'user' AS basis,
       usd_per_gpu_hour AS usd_min, usd_per_gpu_hour AS usd_max
  FROM user_ranked WHERE rn = 1
UNION ALL
SELECT gpu_id, pricing, avg(usd_per_gpu_hour),
       (SELECT c.as_of FROM catalog_recent c WHERE c.gpu_id = r.gpu_id AND c.pricing = r.pricing
         ORDER BY c.as_of_date DESC, c.as_of DESC LIMIT 1),
       max(newest), max(n), 'median', max(lo), max(hi)
  FROM catalog_recent r
 WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
 GROUP BY gpu_id, pricing;
