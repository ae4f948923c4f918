/*
 * lookup.h - turning the names people type into catalog ids, whether an
 * id is in the catalog, a model's parsed config, and the pricing kinds the
 * schema accepts.
 */
#ifndef PIQPLAN_LOOKUP_H
#define PIQPLAN_LOOKUP_H

struct db;
struct model_arch;

/*
 * Resolve a model name: the exact Hugging Face id; else the id ignoring
 * case; else the part after the '/' ignoring case, when only one model has
 * it. Returns a new string with the id, or NULL after error() (unknown:
 * "unknown model 'x'"; ambiguous: the candidates are listed).
 */
char *lookup_model(struct db *db, const char *name);

/*
 * The same for GPUs: exact id, id ignoring case, a unique prefix (a prefix
 * several forms share means the SXM one when exactly one is: "h200" is
 * H200-SXM-141GB, not H200-NVL-141GB), or the id without its form segment
 * ("MI355X-288GB" for MI355X-OAM-288GB).
 */
char *lookup_gpu(struct db *db, const char *name);

/*
 * Whether an exact id is in the catalog: 1 yes, 0 no, -1 after error().
 * No message either way: the caller says what a missing id means.
 */
int engine_exists(struct db *db, const char *id);
int model_exists(struct db *db, const char *id);
int gpu_exists(struct db *db, const char *id);

/* Load and parse a stored model's config.json. 0, or -1 after error(). */
int load_model_arch(struct db *db, const char *id, struct model_arch *out);

/* Pricing kinds the schema accepts; 1 if s is one of them. */
int pricing_valid(const char *s);
extern const char pricing_kinds_help[];

#endif
