/*
 * calibration.h - calibration as a store (schema/009_measurement.sql): the
 * measurement table (insert, remove, read for a fit) and the fitted
 * profiles of the engine_profile table, in the caller's transaction.
 */
#ifndef PIQPLAN_CALIBRATION_H
#define PIQPLAN_CALIBRATION_H

#include <stdint.h>

struct db;
struct engine_profile;

/* One measurement row. Text fields are borrowed; 0 in an optional number is NULL. */
struct measurement {
	int64_t id;			/* set by measurement_each(); ignored on insert */
	const char *origin;		/* 'seed' or 'user' */
	const char *model, *gpu, *engine;
	int gpus, tp, pp, ep;
	const char *precision;		/* 'native', 'bf16', 'fp8', 'fp4' */
	const char *kv_dtype;		/* 'auto' (NULL means it) or 'fp8' */
	double isl, osl;		/* mean tokens */
	double osl_max;			/* max_tokens of each request when outputs stop at EOS
					 * (they vary, below it); 0: every output is osl long */
	const char *load;		/* 'offline', 'concurrency', 'rate' */
	double load_value;		/* 0: not stated */
	double output_tok_s;
	double ttft_ms, tpot_ms;	/* 0: not measured */
	const char *mode;		/* 'standard' (NULL means it), 'mtp', 'spec', 'disagg', 'prefix-cache' */
	const char *excluded;		/* why a standard row is kept out of fits; NULL or '': fitted */
	const char *source;		/* required, not empty */
	const char *notes;		/* NULL: '' */
};

/*
 * Insert m. *id (may be NULL) is the new row's id, or 0 when the same
 * measurement (same run, figures and source) is already stored. A row the
 * table's checks refuse is an error naming the constraint. 0, or -1 after
 * error().
 */
int measurement_insert(struct db *db, const struct measurement *m, int64_t *id);

/* Remove measurement `id`: 0, or -1 after error() ("no measurement 12"). */
int measurement_remove(struct db *db, int64_t id);

/*
 * Every measurement (of `engine` when not NULL; with fit_only, only the
 * standard rows not excluded), in id order, to fn; fn returns 0 to go on,
 * -1 to stop (after error()). 0, or -1.
 */
typedef int measurement_fn(void *arg, const struct measurement *m);
int measurement_each(struct db *db, const char *engine, int fit_only, measurement_fn *fn,
		     void *arg);

/*
 * Replace engine id's fitted profiles by fitted->profiles (rows > 0), with
 * the time and `source`. 0, or -1 after error().
 */
int engine_profiles_store(struct db *db, const char *id, const struct engine_profile *fitted,
			  const char *source);

#endif
