/*
 * catalog.h - writing the catalog: the seeds shipped inside the binary
 * (seeds/), models from config.json text, prices, and the clusters a team
 * owns.
 */
#ifndef PIQPLAN_CATALOG_H
#define PIQPLAN_CATALOG_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* Rows `piqplan init` added, per table (0 everywhere on a second run). */
struct catalog_counts {
	int gpus, prices, models, engines, measurements, profiles;
};

/*
 * Load every seed into db, inside the caller's transaction. Rows that are
 * already there (same key) are left as they are, so running it twice
 * changes nothing and a user's own edits survive.
 */
int catalog_load(struct db *db, struct catalog_counts *added);

/*
 * Insert the model `id` from the text of its config.json and, when quant is
 * not NULL, its separate hf_quant_config.json (qlen bytes). The derived
 * columns come from planner/model.c. With replace, an existing row of that
 * id is overwritten; without it, an existing id is an error (exit 1).
 * Bad JSON, a config past the limits below, an unsupported model_type or
 * quantisation, or an id starting with '-' (vllm serve would read it as an
 * option) is a data error (exit 65).
 * Returns 1 if inserted, 0 if it existed and was left alone (skip_existing),
 * -1 on error.
 */
enum model_insert_mode { MODEL_FAIL_EXISTING, MODEL_SKIP_EXISTING, MODEL_REPLACE };

/*
 * Limits on a config.json (and on an hf_quant_config.json), checked before
 * the model arithmetic loops over it (a 4 KB file claiming 2^31 layers
 * would hold the write lock for hours): its size here, and its layer count
 * (num_hidden_layers, also inside text_config) and the length of any list
 * in it against planner/model.h's MODEL_MAX_LAYERS and MODEL_MAX_LIST, the
 * bounds the model arithmetic itself keeps.
 */
#define MODEL_CONFIG_MAX_BYTES	(1u << 20)

/*
 * A config's text checked against those limits, and for being one JSON
 * value with nothing after it. 0, or -1 after data_error() naming `what`.
 */
int model_config_check(const char *json, size_t len, const char *what);

/* 1 when id may be a model id: not empty, not starting with '-' (vllm serve would take it for an option). */
int model_id_valid(const char *id);
int catalog_add_model(struct db *db, const char *id, const char *json, size_t len,
		      const char *quant, size_t qlen, const char *source,
		      enum model_insert_mode mode, const char *what);

/* "deepseek-ai--DeepSeek-V3.json" -> "deepseek-ai/DeepSeek-V3" (caller frees) */
char *model_id_from_filename(const char *name);

/*
 * What a GPU-hour may cost (price add, cluster add --usd-per-hour), and how
 * many GPUs one cluster may hold: beyond them a figure is a typo, and
 * printing it would take 300 digits.
 */
#define PRICE_MAX_USD_PER_HOUR	10000.0
#define CLUSTER_MAX_GPUS	10000000
#define CLUSTER_MAX_GPUS_OWNED	1000000000000LL	/* every cluster of a GPU type, summed */

/*
 * Normalise a price date ("2026", "2026-Q1", "2026-05", "2026-05-18") to
 * YYYY-MM-DD; a day that the month does not have (2026-02-31) is refused.
 */
int price_date_normalise(const char *as_of, char out[11]);

/*
 * Record the price of one GPU-hour of gpu (an exact id) of a pricing kind,
 * quoted as_of (as written; date is it normalised), with where it comes
 * from. The same GPU, kind and as_of again updates that price. 0, or -1
 * after error().
 */
int price_insert(struct db *db, const char *gpu, const char *pricing, double usd_per_gpu_hour,
	      const char *as_of, const char *date, const char *source);

/*
 * Record a cluster: gpus GPUs of type gpu (an exact id), owned or committed
 * under a pricing kind, at usd_per_gpu_hour (NaN: not stated), available
 * from a quarter ("2027Q1", any case; NULL: now). A name that exists is an
 * error ("cluster 'x' already exists"). 0, or -1 after error().
 */
int cluster_insert(struct db *db, const char *name, const char *gpu, int64_t gpus,
		const char *pricing, double usd_per_gpu_hour, const char *from_quarter);

/* Remove a cluster; an unknown name is an error. 0, or -1 after error(). */
int cluster_delete(struct db *db, const char *name);

/*
 * The GPUs of type gpu owned in quarter ("2027Q1"): how many, the
 * GPU-weighted stated cost per hour of those with one (NaN when none is
 * stated), and how many have no stated cost. 0, or -1 after error().
 */
int cluster_owned(struct db *db, const char *gpu, const char *quarter, int64_t *gpus,
		  double *usd_per_gpu_hour, int64_t *unstated);

#endif
