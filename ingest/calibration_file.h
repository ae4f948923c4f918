/*
 * calibration_file.h - a calibration file (the format of
 * shared/data/benchmarks/calibration.csv, and seeds/measurements.csv) read
 * as measured rows, streaming: the header is
 * matched by name (columns model, gpu, gpus, tp, pp, ep, precision, engine,
 * isl, osl, load, load_value, output_tok_s, ttft_ms, tpot_ms, in any
 * order; optional source, mode, excluded, notes, kv_dtype and osl_max;
 * others ignored), and every data row is checked before the caller sees it. No database here:
 * which model, GPU and engine a row names is for the caller to resolve
 * (run/calibrate.c against the catalog).
 *
 * Errors are reported with data_error() (exit status 65) as
 * "FILE:LINE: column NAME: expected ..."; LINE is where the row starts.
 * The first one stops the read. Blank lines are skipped.
 */
#ifndef PIQPLAN_CALIBRATION_FILE_H
#define PIQPLAN_CALIBRATION_FILE_H

#include <stddef.h>

#include "planner/calibrate.h"

/* One checked data row. */
struct calib_record {
	long line;			/* the physical line the row starts on */
	const char *model;		/* ids as written (not empty); valid during the callback */
	const char *gpu;
	const char *engine;
	const char *source;		/* optional columns: '' when absent */
	const char *mode;		/* 'standard' when absent or empty */
	const char *excluded;		/* why the row is kept out of fits; '' */
	const char *notes;
	const char *kv_dtype;		/* 'auto' when absent or empty, or 'fp8' */
	/*
	 * layout (dp = gpus / (tp x pp), bf16 KV), load, load_value, isl, osl,
	 * output_tok_s, ttft_s and tpot_s (seconds; 0 when not measured) and
	 * line are filled; model is NULL and gpu zeroed: the caller resolves them.
	 */
	struct calib_row row;
};

/* Called once per checked row; 0 to go on, -1 to stop (after error()). */
typedef int calib_record_fn(void *arg, const struct calib_record *rec);

struct calib_reader;

/* A reader for input called `name` in messages, handing rows to fn(arg, ...). */
struct calib_reader *calib_reader_new(const char *name, calib_record_fn *fn, void *arg);
/* Feed more bytes, in pieces of any size. 0, or -1 after error(). */
int calib_reader_feed(struct calib_reader *r, const char *data, size_t len);
/* The end of the input: the last row, and "empty file" when there was no header. 0 or -1. */
int calib_reader_finish(struct calib_reader *r);
void calib_reader_free(struct calib_reader *r);

/*
 * Read the file at path through a reader, with the SHA-256 of its bytes in
 * sha256_hex (64 hex digits and a NUL). 0, or -1 after error() (cannot open
 * or read: exit 1; malformed: exit 65).
 */
int calib_file_read(const char *path, calib_record_fn *fn, void *arg, char sha256_hex[65]);

#endif
