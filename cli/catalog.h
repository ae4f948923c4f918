/*
 * catalog.h - the catalog shipped inside the binary (seeds/), and adding
 * models to a database from config.json text.
 */
#ifndef PIQPLAN_CATALOG_H
#define PIQPLAN_CATALOG_H

#include <stddef.h>

struct db;

/* Rows `piqplan init` added, per table (0 everywhere on a second run). */
struct catalog_counts {
	int gpus, prices, models, engines;
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
 * Bad JSON, an unsupported model_type or quantisation, or an id starting
 * with '-' (vllm serve would read it as an option) is a data error (exit 65).
 * Returns 1 if inserted, 0 if it existed and was left alone (skip_existing),
 * -1 on error.
 */
enum model_insert_mode { MODEL_FAIL_EXISTING, MODEL_SKIP_EXISTING, MODEL_REPLACE };
int catalog_add_model(struct db *db, const char *id, const char *json, size_t len,
		      const char *quant, size_t qlen, const char *source,
		      enum model_insert_mode mode, const char *what);

/* "deepseek-ai--DeepSeek-V3.json" -> "deepseek-ai/DeepSeek-V3" (caller frees) */
char *model_id_from_filename(const char *name);

/* Normalise a price date ("2026", "2026-Q1", "2026-05", "2026-05-18") to YYYY-MM-DD. */
int price_date_normalise(const char *as_of, char out[11]);

#endif
