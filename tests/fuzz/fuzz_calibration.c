/*
 * fuzz_calibration.c - libFuzzer target for the calibration CSV reader.
 *
 * The row checks are ingest/calibration_file.c's reader (lib/csvrows.c,
 * libcsv); what a row names is resolved by run/calibrate.c's
 * calib_rows_add() against an in-memory database holding the built-in
 * catalog -- the same two steps `piqplan calibrate` takes, fed the input
 * in pieces as calib_file_read() feeds a file. The fit that follows a
 * successful read is not run: it is arithmetic, not parsing.
 *
 * The input is split into chunks of irregular size (the first byte picks
 * the size) so records that straddle two feeds are covered too.
 */
#define _POSIX_C_SOURCE 200809L
#include "ingest/calibration_file.h"
#include "lib/util.h"
#include "run/calibrate.h"
#include "schema/catalog.h"
#include "schema/db.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct db *fuzz_db;

static int keep_row(void *arg, const struct calib_record *rec)
{
	return calib_rows_add(arg, rec->model, rec->gpu, rec->engine, rec->source, &rec->row);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct catalog_counts c;
	(void)argc;
	(void)argv;
	if (db_open(":memory:", &fuzz_db) || catalog_load(fuzz_db, &c))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct calib_rows rd;
	struct calib_reader *cr;
	size_t chunk = 4096, off = 0;
	int r = 0;

	if (size > 0) {
		chunk = 1 + data[0] % 64;
		data++;
		size--;
	}
	memset(&rd, 0, sizeof(rd));
	rd.db = fuzz_db;
	rd.path = "fuzz.csv";
	set_failure_status(EXIT_FAIL);
	cr = calib_reader_new("fuzz.csv", keep_row, &rd);
	while (r == 0 && off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		r = calib_reader_feed(cr, (const char *)data + off, n);
		off += n;
	}
	if (r == 0)
		r = calib_reader_finish(cr);
	/* Against the shipped catalog every way to fail is the input's fault. */
	if (r && failure_status() != EXIT_DATA)
		abort();
	calib_reader_free(cr);

	/* Every row kept must hold what the reader promises. */
	for (int i = 0; i < rd.nrows; i++) {
		const struct calib_row *cw = &rd.rows[i].row;
		if (!cw->model || !(cw->isl > 0) || !(cw->osl > 0) || !(cw->output_tok_s > 0) ||
		    cw->layout.tp < 1 || cw->layout.pp < 1 || cw->layout.dp < 1)
			abort();
	}
	calib_rows_release(&rd);
	return 0;
}
