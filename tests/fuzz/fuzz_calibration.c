/*
 * fuzz_calibration.c - libFuzzer target for the calibration CSV reader.
 *
 * The row checks are ingest/calibration_file.c's reader (lib/csvrows.c,
 * libcsv); what a row names is resolved by keep_row(), a static function
 * of cli/cmd_calibrate.c, against an in-memory database holding the
 * built-in catalog -- so this file includes that source whole and feeds
 * the reader the input in pieces, as calib_file_read() does. The fit that
 * follows a successful read is not run: it is arithmetic, not parsing.
 *
 * The input is split into chunks of irregular size (the first byte picks
 * the size) so records that straddle two feeds are covered too.
 */
#include "../../cli/cmd_calibrate.c"
#include "schema/catalog.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct db *fuzz_db;

/* main.c's, which this target does not link. */
int usage_error(struct ctx *ctx)
{
	(void)ctx;
	return -1;
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
	struct reader rd;
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

	/* Every row kept must hold what read_row() promises. */
	for (int i = 0; i < rd.nrows; i++) {
		const struct calib_row *cw = &rd.rows[i].row;
		if (!cw->model || !(cw->isl > 0) || !(cw->osl > 0) || !(cw->output_tok_s > 0) ||
		    cw->layout.tp < 1 || cw->layout.pp < 1 || cw->layout.dp < 1)
			abort();
		free(rd.rows[i].engine);
		free(rd.rows[i].model_id);
	}
	free(rd.rows);
	for (int i = 0; i < rd.nmodels; i++) {
		free(rd.models[i]->id);
		free(rd.models[i]);
	}
	free(rd.models);
	return 0;
}
