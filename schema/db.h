/*
 * db.h - the one door to SQLite. Every other file speaks SQL through these
 * calls: literal SQL text with named parameters (":gpu"), always bound,
 * never formatted into strings.
 *
 * Opening a database applies the connection settings piqplan relies on
 * (foreign keys, a busy timeout), checks that the file is piqplan's and
 * brings the schema up to date with the migrations embedded in the binary.
 * A database written by a newer piqplan is refused.
 *
 * Errors are reported with error() and returned as -1; db_busy() tells the
 * caller whether the last failure was SQLITE_BUSY/LOCKED (exit status 75).
 */
#ifndef PIQPLAN_DB_H
#define PIQPLAN_DB_H

#include <stdint.h>

struct db;
struct stmt;

/* 'PIQP' as a big-endian integer: identifies a piqplan file to `file` and to us. */
#define PIQPLAN_APPLICATION_ID 0x50495150

/*
 * How a command opens the database. Whatever the mode, the file is checked
 * before anything is written to it: an SQLite file carrying piqplan's
 * application_id (or, where one may be created, an empty one) whose schema
 * version this binary knows. A refused file is left exactly as it was --
 * journal mode included: only a database being created or initialised is
 * switched to WAL, never one a command merely opens.
 */
enum db_mode {
	DB_CREATE,	/* create the file if missing, WAL, migrate (tests, fuzzers) */
	DB_INIT,	/* as DB_CREATE but not migrated: `piqplan init` migrates
			   inside its one transaction (db_migrate) with the catalog */
	DB_EXISTING,	/* the file must exist and be initialised: "run piqplan init"
			   otherwise (exit 1), nothing created; migrated if older */
	DB_READ,	/* as DB_EXISTING, for a command that only reads: on media that
			   cannot be written it is opened read-only (immutable) */
};

/* Open path as mode says. path may be ":memory:" (DB_CREATE). 0, or -1 after error(). */
int db_open_mode(const char *path, enum db_mode mode, struct db **out);
/* db_open_mode(path, DB_CREATE, out). */
int db_open(const char *path, struct db **out);
void db_close(struct db *db);

/*
 * Bring the schema to db_schema_version(). Inside an open transaction
 * (db_begin) every migration joins it, so they commit or vanish with the
 * caller's work; otherwise each runs in its own transaction. 0 or -1.
 */
int db_migrate(struct db *db);

/* The schema version this binary writes (the number of its last migration). */
int db_schema_version(void);

/* Run SQL without parameters or results (may hold several statements). */
int db_exec(struct db *db, const char *sql);

/* One transaction at a time; BEGIN IMMEDIATE so writers queue on the busy timeout. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);	/* no-op when no transaction is open */

/*
 * A savepoint (named piqplan): inside an open transaction it nests (the
 * dispatcher's BEGIN IMMEDIATE around a writing command), with none open it
 * starts one. db_release() keeps what was done since -- committing, when
 * the savepoint started the transaction -- and db_rollback_to() undoes it;
 * either ends the innermost savepoint. 0, or -1 after error(); a failed
 * release has rolled back to the savepoint.
 */
int db_savepoint(struct db *db);
int db_release(struct db *db);
void db_rollback_to(struct db *db);	/* no-op when the transaction is already gone */

/* 1 if the last failure was the database being busy or locked. */
int db_busy(const struct db *db);

/* Rows changed by the last INSERT/UPDATE/DELETE. */
int64_t db_changes(struct db *db);
int64_t db_last_insert_rowid(struct db *db);

/*
 * Prepared statements. db_prepare() returns NULL after error() on bad SQL.
 * Binding an unknown parameter name is a programming error and dies.
 * stmt_step() returns 1 for a row, 0 when done, -1 after error().
 */
struct stmt *db_prepare(struct db *db, const char *sql);
void stmt_bind_text(struct stmt *st, const char *param, const char *value); /* NULL binds NULL */
void stmt_bind_blob(struct stmt *st, const char *param, const void *data, int len);
void stmt_bind_int64(struct stmt *st, const char *param, int64_t value);
void stmt_bind_double(struct stmt *st, const char *param, double value); /* NaN binds NULL */
void stmt_bind_null(struct stmt *st, const char *param);
int stmt_step(struct stmt *st);
void stmt_reset(struct stmt *st);	/* ready to bind and step again */
void stmt_finalize(struct stmt *st);	/* NULL is fine */

/* Column accessors for the current row, by index from 0. */
int stmt_column_count(struct stmt *st);
const char *stmt_column_name(struct stmt *st, int col);
int stmt_is_null(struct stmt *st, int col);
const char *stmt_text(struct stmt *st, int col);	/* "" for NULL; valid until next step */
int stmt_bytes(struct stmt *st, int col);
int64_t stmt_int64(struct stmt *st, int col);
double stmt_double(struct stmt *st, int col);
/* 'i' integer, 'r' real, 't' text, 'b' blob, 'n' null */
char stmt_type(struct stmt *st, int col);

/* Convenience: step a statement expected to give at most one row; 1 row, 0 none, -1 error. */
int stmt_step_once(struct stmt *st);

#endif
