/*
 * lookup.h - turning the names people type into catalog ids, and small
 * output helpers shared by the commands.
 */
#ifndef PIQPLAN_LOOKUP_H
#define PIQPLAN_LOOKUP_H

#include <cjson/cJSON.h>

struct db;
struct model_arch;
struct strbuf;

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

/* Load and parse a stored model's config.json. 0, or -1 after error(). */
int load_model_arch(struct db *db, const char *id, struct model_arch *out);

/*
 * Print a JSON value to stdout followed by a newline, then free it. Like
 * json_print(), the text is valid UTF-8 whatever bytes the strings held.
 */
void print_json(cJSON *v);

/*
 * cJSON_Print(v) with every byte that is not part of well-formed UTF-8
 * replaced by U+FFFD, so the text is valid JSON even when a stored name
 * holds other bytes. A new string, or NULL when out of memory.
 */
char *json_print(const cJSON *v);

/*
 * Length of the well-formed UTF-8 sequence at s (1-4); if there is none,
 * minus the number of bytes one U+FFFD replaces (Unicode's maximal subpart).
 */
int utf8_seq_len(const char *s);

/* Append s, replacing every byte that is not well-formed UTF-8 by U+FFFD. */
void strbuf_add_utf8(struct strbuf *sb, const char *s);

/* The `vllm serve` arguments of a sized instance, whole, in a new string. */
struct instance;
char *vllm_args_alloc(const struct instance *in, const struct model_arch *m, const char *model_id);

/* Pricing kinds the schema accepts; 1 if s is one of them. */
int pricing_valid(const char *s);
extern const char pricing_kinds_help[];

#endif
