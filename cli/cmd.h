/*
 * cmd.h - the command table. Commands are data: each top-level command
 * lives in its own cli/cmd_NAME.c and exports one `const struct cmd`;
 * its sub-commands are a small table in that file. main.c looks the name
 * up, handles --help, opens the database when the sub-command needs it and
 * wraps writing sub-commands in one transaction, so no command repeats that.
 */
#ifndef PIQPLAN_CMD_H
#define PIQPLAN_CMD_H

struct db;
struct subcmd;

/* What a running sub-command is given. */
struct ctx {
	const char *db_path;		/* --db, $PIQPLAN_DB or ./piqplan.db */
	struct db *db;			/* open and migrated when CMD_DB is set */
	const char *cmd_name;		/* "model" */
	const struct subcmd *sub;	/* the running sub-command */
};

enum cmd_flags {
	CMD_DB = 1 << 0,	/* needs the database open */
	CMD_WRITES = 1 << 1,	/* runs inside one write transaction (implies CMD_DB) */
};

struct subcmd {
	const char *name;	/* "show"; NULL for a command without sub-commands */
	/*
	 * argv[0] is the sub-command name (or the command name); returns 0 on
	 * success, -1 on failure after error() (exit status: failure_status()).
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
