/*
 * fuzz_ingest.c - libFuzzer target for the workload parsers
 * (ingest/workload_file.c over planner/workload.c). Built once per format
 * with -DFUZZ_FORMAT set to a value of enum wl_format (WL_FMT_AUTO
 * exercises detection as well).
 *
 * The input is the whole file, handed to ingest_stream() through
 * fmemopen(). A parse must end in INGEST_OK with a histogram, or in a
 * data error with a message; anything else (a crash, a sanitizer report,
 * a leak, an I/O error on a memory stream) is a finding.
 */
#define _POSIX_C_SOURCE 200809L
#include "ingest/workload_file.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT WL_FMT_AUTO
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_opts opts = INGEST_OPTS_INIT;
	struct workload_summary sum;
	struct wl_hist *hist = NULL;
	char err[512];
	FILE *f;
	int r;

	/* fmemopen may refuse a zero-sized buffer: an empty file instead. */
	f = size ? fmemopen((void *)data, size, "rb") : fopen("/dev/null", "rb");
	if (!f)
		abort();
	opts.format = FUZZ_FORMAT;
	err[0] = '\0';
	r = ingest_stream(f, "fuzz", size, &opts, &sum, &hist, err, sizeof(err));
	fclose(f);
	if (r == INGEST_OK) {
		if (!hist)
			abort();
		wl_hist_free(hist);
	} else {
		/* Only "malformed input" is a right answer; always with a message. */
		if (hist || r != INGEST_ERR_DATA || !err[0] || !memchr(err, '\0', sizeof(err)))
			abort();
	}
	return 0;
}
