/*
 * calibration.h - writing what `piqplan calibrate` fitted into the engine
 * table (schema/001_catalog.sql, 004_calibration.sql), in the caller's
 * transaction.
 */
#ifndef PIQPLAN_CALIBRATION_H
#define PIQPLAN_CALIBRATION_H

struct db;
struct engine_profile;

/*
 * Store the fitted efficiencies of `after` (bw_efficiency, flops_efficiency,
 * step overhead, the MoE floor and half-way point) into engine id, with
 * the time, the file they were fitted to (file_desc: "PATH sha256 HEX"),
 * how many rows and the fit's errors (fit_json). 0, or -1 after error().
 */
int engine_store_fit(struct db *db, const char *id, const struct engine_profile *after,
		     const char *file_desc, int rows, const char *fit_json);

#endif
