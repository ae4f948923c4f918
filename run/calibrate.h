/*
 * calibrate.h - `piqplan calibrate`: gather measured rows (the measurement
 * table, or a calibration file), resolve what each names against the
 * catalog, fit each engine's tree of profiles (planner/calibrate.h), set
 * each profile's spread from held-out predictions, and store the profiles
 * in the engine_profile table (schema/calibration.h), in the caller's
 * transaction. The same rows cross-validated by source and by GPU family
 * are what scripts/validate prints.
 *
 * Rows come from the store:
 *
 *	calibrate_begin(db, &req, &cal);
 *	calibrate_load_store(db, &cal);		 the fitted measurements
 *	calibrate_fit(db, &req, &cal);
 *
 * or from a file, read between begin and fit (ingest/calibration_file.h
 * checks every row), each handed to calib_rows_add().
 *
 * A row naming a model, GPU or engine the catalog does not have is
 * skipped with a warning naming it, so one file of measurements can carry
 * rows for models a database has not added. A malformed row stops
 * everything before anything is fitted (exit status 65).
 */
#ifndef PIQPLAN_RUN_CALIBRATE_H
#define PIQPLAN_RUN_CALIBRATE_H

#include <cjson/cJSON.h>

#include "planner/calibrate.h"

struct db;
struct calib_model;

/* One kept row and the ids it names. */
struct calib_source {
	char *engine;
	char *model_id;
	char *source;			/* where the measurement comes from */
	struct calib_row row;		/* row.model borrows from the calib_rows' model cache */
};

/* The rows a read kept, resolved against the catalog of db. */
struct calib_rows {
	struct db *db;
	const char *path;		/* the file, for warnings ("measurement" for the store) */
	const char *only_engine;	/* keep only this engine's rows; NULL: all */
	struct calib_model **models;	/* each model's parsed config, loaded once */
	int nmodels;
	struct calib_source *rows;
	int nrows, alloc;
	int skipped;			/* rows naming what the catalog lacks */
};

/*
 * Keep a checked row (row.model and row.gpu unset) measuring engine on
 * model and gpu (exact ids) from `source` when they are all in the catalog
 * (and engine is only_engine, if set), loading its model's config and GPU
 * spec; warn naming the first that is not and skip the row
 * (rows->skipped). 0, or -1 after error().
 */
int calib_rows_add(struct calib_rows *rows, const char *model, const char *gpu,
		   const char *engine, const char *source, const struct calib_row *row);
void calib_rows_release(struct calib_rows *rows);

/* What one engine's fit found. */
struct engine_fit {
	struct engine_profile before, after;	/* after: the fitted profiles */
	struct calib_row *rows;		/* the engine's rows */
	struct calib_source **src;	/* where each came from */
	int n;
	struct calib_error err_before, err_after;
	double *loso, *lofo;		/* per row: ln(pred/measured) held out by source / by
					 * family; NaN where not predicted (NULL: not run) */
	struct calib_pred *loso_pred, *lofo_pred;
	int nsources, nfamilies;
};

struct calibration_request {
	const char *path;		/* a calibration file; NULL: the measurement table */
	const char *engine;		/* fit only this engine's rows; NULL: every engine */
	int dry_run;			/* fit, store nothing */
	int in_sample;			/* skip the cross-validation: spreads in-sample */
	int validate;			/* cross-validate both ways even with dry_run (scripts/validate) */
};

struct calibration {
	char sha256[65];		/* of the file: the caller's reader fills it in */
	struct calib_rows read;
	char **engines;			/* in order of first appearance (borrowed from read) */
	int nengines;
	struct engine_fit *fits;	/* one per engine */
};

/*
 * Start a calibration as req says: an unknown req->engine is an error
 * before anything is read. 0, or -1 after error(). Either way *out is
 * ready for calib_rows_add() on out->read and for calibration_free().
 */
int calibrate_begin(struct db *db, const struct calibration_request *req,
		    struct calibration *out);

/* Every fitted measurement of the store (standard mode, not excluded) into out->read. */
int calibrate_load_store(struct db *db, struct calibration *out);

/*
 * Fit every engine of the rows kept, in order of first appearance: the
 * tree, the errors before (the engine's stored profiles) and after, the
 * held-out residuals (leave-one-source-out and leave-one-family-out unless
 * req->in_sample) and the spreads, and (unless req->dry_run) store the
 * profiles. 0, or -1 after error(): no usable rows, a database failure.
 */
int calibrate_fit(struct db *db, const struct calibration_request *req, struct calibration *out);
void calibration_free(struct calibration *c);

/* A profile's parameters by name, rows and spread (stored and printed). */
cJSON *perf_profile_json(const char *engine, const struct perf_profile *pr);
/* An error summary: rows, unfit, per metric n, median and p90 absolute % error, loss. */
cJSON *calib_error_json(const struct calib_error *e);

#endif
