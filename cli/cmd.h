/*
 * cmd.h - the command table. Commands are data: each top-level command
 * lives in its own cli/cmd_NAME.c and exports one `const struct cmd`;
 * its sub-commands are a small table in that file. main.c looks the name
 * up and wraps writing sub-commands in one transaction; cmd_options()
 * (cli/cmd.c) parses a sub-command's options, answers --help and opens the
 * database when the sub-command needs it, so no command repeats that.
 */
#ifndef PIQPLAN_CMD_H
#define PIQPLAN_CMD_H

#include <stdint.h>
#include <stdio.h>

struct db;
struct cmd;
struct opt;
struct subcmd;

/* What a running sub-command is given. */
struct ctx {
	const char *db_path;		/* --db, $PIQPLAN_DB or ./piqplan.db */
	struct db *db;			/* open once cmd_options() returned 0 (CMD_DB) */
	const char *cmd_name;		/* "model" */
	const struct cmd *cmd;		/* the command, for its help */
	const struct subcmd *sub;	/* the running sub-command */
	/*
	 * Set by a writing command with work left for after its transaction
	 * (a report file moved into place): called once, with committed 1
	 * after COMMIT, 0 after a rollback. Returns 0, or -1 after error().
	 */
	int (*finish)(struct ctx *ctx, int committed);
	void *finish_arg;
};

enum cmd_flags {
	CMD_DB = 1 << 0,	/* needs the database open (an existing one) */
	CMD_WRITES = 1 << 1,	/* runs inside one write transaction (implies CMD_DB) */
	CMD_CREATES = 1 << 2,	/* may create the database (init; implies CMD_WRITES) */
};

struct subcmd {
	const char *name;	/* "show"; NULL for a command without sub-commands */
	/*
	 * argv[0] is the sub-command name (or the command name); returns 0 on
	 * success, 1 when --help was printed instead (cmd_options), -1 on
	 * failure after error() (exit status: failure_status()).
	 */
	int (*run)(struct ctx *ctx, int argc, char **argv);
	unsigned flags;
	const char *usage;	/* arguments after "piqplan model show " */
	const char *summary;	/* one line for listings */
	const char *help;	/* the options explained; may be NULL */
};

struct cmd {
	const char *name;
	const char *summary;
	const struct subcmd *subs;	/* ends with an entry whose run is NULL */
};

/* Print "usage: piqplan CMD SUB USAGE" to stderr; status EXIT_USAGE; -1. */
int usage_error(struct ctx *ctx);

/*
 * The vLLM flags estimate and plan take (--max-num-seqs, --max-num-batched-
 * tokens, --block-size; 0: the engine's choice): 0 when each is in range,
 * else the message and usage_error().
 */
int cmd_vllm_flags_check(struct ctx *ctx, int64_t max_seqs, int64_t max_batched, int64_t block);

/*
 * A sub-command's first step: parse its options (cli/opts.h, plus the
 * global --db PATH), check that it got min_pos..max_pos positional
 * arguments, then -- only then, so a usage error or --help touches no
 * file -- open the database its flags ask for (an existing one, read-only
 * when it only reads; created by init) and, for a writing sub-command,
 * begin its transaction. Returns 0 to go on; -1 after a usage error (exit
 * 2) or a database that cannot be used; 1 when -h/--help was printed (the
 * command returns that 1: exit 0, nothing done).
 */
int cmd_options(struct ctx *ctx, int argc, char **argv, const struct opt *opts,
		char **pos, int min_pos, int max_pos, int *npos);

/* Help text of a command (its sub-commands listed) or of one sub-command. */
void print_cmd_help(const struct cmd *c, FILE *out);
void print_sub_help(const struct cmd *c, const struct subcmd *s, FILE *out);

extern const struct cmd cmd_init;
extern const struct cmd cmd_model;
extern const struct cmd cmd_estimate;
extern const struct cmd cmd_gpu;
extern const struct cmd cmd_price;
extern const struct cmd cmd_cluster;
extern const struct cmd cmd_scenario;
extern const struct cmd cmd_workload;
extern const struct cmd cmd_report;
extern const struct cmd cmd_calibrate;
extern const struct cmd cmd_plan;
extern const struct cmd cmd_measurement;

#endif
