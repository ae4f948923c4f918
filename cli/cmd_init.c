/*
 * cmd_init.c - `piqplan init`: create or upgrade the database and load the
 * catalog, in one transaction: killed half way, it leaves the file as it
 * was (or empty), never a schema without its catalog. Safe to run again:
 * it adds only what is missing.
 */
#include "cli/cmd.h"
#include "cli/opts.h"
#include "lib/escape.h"
#include "schema/catalog.h"
#include "schema/db.h"

#include <stdio.h>

static int init_run(struct ctx *ctx, int argc, char **argv)
{
	static const struct opt opts[] = { OPT_END };
	char *pos[1];
	int npos;
	struct catalog_counts added;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 0, &npos);
	if (parsed)
		return parsed;
	if (db_migrate(ctx->db) || catalog_load(ctx->db, &added))
		return -1;
	tprintf("%s: schema %d; catalog added %d GPUs, %d prices, %d models, %d engine profiles, "
	       "%d measurements, %d fitted profiles\n", ctx->db_path, db_schema_version(),
	       added.gpus, added.prices, added.models, added.engines, added.measurements,
	       added.profiles);
	return 0;
}

static const struct subcmd init_subs[] = {
	{ NULL, init_run, CMD_CREATES, "[--db PATH]",
	  "Create the database (or bring it up to date) and load the built-in catalog.",
	  "The catalog is compiled into piqplan: the Hugging Face config.json of 15 models,\n"
	  "11 GPU types, dated GPU-hour prices, the vllm, sglang and trtllm engine profiles, the\n"
	  "published measurements they are fitted to and the fitted profiles.\n"
	  "Running init again adds only what is missing; your own rows and edits stay.\n"
	  "\n"
	  "Options:\n"
	  "  --db PATH   database file (default: $PIQPLAN_DB, else ./piqplan.db)\n" },
	{ 0 },
};

const struct cmd cmd_init = { "init", "create the database and load the catalog", init_subs };
