/*
 * calibrate.h - `piqplan calibrate`: resolve what each measured row of a
 * calibration file names against the catalog, fit each engine's
 * efficiencies to its rows (planner/calibrate.h) and store them in the
 * engine table (schema/calibration.h), in the caller's transaction.
 *
 * The caller reads the file (ingest/calibration_file.h checks every row)
 * between calibrate_begin() and calibrate_fit(), handing each row to
 * calib_rows_add():
 *
 *	calibrate_begin(db, &req, &cal);
 *	calib_file_read(req.path, on_row, &cal, cal.sha256);	 on_row: calib_rows_add(&cal.read, ...)
 *	calibrate_fit(db, &req, &cal);
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
	struct calib_row row;		/* row.model borrows from the calib_rows' model cache */
};

/* The rows a read kept, resolved against the catalog of db. */
struct calib_rows {
	struct db *db;
	const char *path;		/* the file, for warnings */
	const char *only_engine;	/* keep only this engine's rows; NULL: all */
	struct calib_model **models;	/* each model's parsed config, loaded once */
	int nmodels;
	struct calib_source *rows;
	int nrows, alloc;
	int skipped;			/* rows naming what the catalog lacks */
};

/*
 * Keep a checked row (row.model and row.gpu unset) measuring engine on
 * model and gpu (exact ids) when they are all in the catalog (and engine is
 * only_engine, if set), loading its model's config and GPU spec; warn
 * naming the first that is not and skip the row (rows->skipped). 0, or -1
 * after error().
 */
int calib_rows_add(struct calib_rows *rows, const char *model, const char *gpu,
		   const char *engine, const struct calib_row *row);
void calib_rows_release(struct calib_rows *rows);

/* What one engine's fit found. */
struct engine_fit {
	struct engine_profile before, after;
	struct calib_row *rows;		/* the engine's rows */
	struct calib_source **src;	/* where each came from */
	int n;
	unsigned params;		/* bit p: calib_param p was fitted */
	struct calib_error err_before, err_after;
};

struct calibration_request {
	const char *path;		/* the calibration file */
	const char *engine;		/* fit only this engine's rows; NULL: every engine in the file */
	int dry_run;			/* fit, store nothing */
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
 * before the file is read. 0, or -1 after error(). Either way *out is
 * ready for calib_rows_add() on out->read and for calibration_free().
 */
int calibrate_begin(struct db *db, const struct calibration_request *req,
		    struct calibration *out);

/*
 * Fit every engine of the rows kept, in order of first appearance, and
 * (unless req->dry_run) store the fits with the file's name and hash. 0,
 * or -1 after error(): no usable rows, a database failure.
 */
int calibrate_fit(struct db *db, const struct calibration_request *req, struct calibration *out);
void calibration_free(struct calibration *c);

/* A fit's parameters, before and after and whether fitted, by name (stored and printed). */
cJSON *engine_fit_params_json(const struct engine_fit *ef);
/* An error summary: rows, unfit, per metric n, median and p90 absolute % error, loss. */
cJSON *calib_error_json(const struct calib_error *e);

#endif
