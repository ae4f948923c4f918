/*
 * db.c - the thin wrapper over SQLite, and the migrations. This is the only
 * file in piqplan that calls sqlite3_* (see db.h for the contract).
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/db.h"
#include "lib/util.h"
#include "schema/embedded.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Milliseconds a writer waits for another writer before giving up (exit 75). */
#define BUSY_TIMEOUT_MS 5000

struct db {
	sqlite3 *handle;
	char *path;		/* as given, for messages */
	int last_rc;		/* primary result code of the last failure */
	int in_txn;
	int read_only;		/* opened immutable: a read-only medium */
};

struct stmt {
	struct db *db;
	sqlite3_stmt *handle;
};

static int fail(struct db *db, int rc, const char *what)
{
	db->last_rc = rc & 0xff;
	if (db->last_rc == SQLITE_BUSY || db->last_rc == SQLITE_LOCKED) {
		set_failure_status(EXIT_BUSY);
		return error("database is busy (another piqplan is writing); %s gave up after %d ms",
			     what, BUSY_TIMEOUT_MS);
	}
	return error("%s: %s", what, sqlite3_errmsg(db->handle));
}

int db_busy(const struct db *db)
{
	return db->last_rc == SQLITE_BUSY || db->last_rc == SQLITE_LOCKED;
}

int db_exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->handle, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	db->last_rc = rc & 0xff;
	if (db_busy(db)) {
		sqlite3_free(msg);
		return fail(db, rc, "statement");
	}
	/* ALTER TABLE ... ADD COLUMN ... CHECK re-checks the stored rows and reports a
	 * violation as SQLITE_ERROR: it is a constraint all the same. */
	if (msg && strstr(msg, "constraint failed"))
		db->last_rc = SQLITE_CONSTRAINT;
	error("%s", msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return -1;
}

int db_begin(struct db *db)
{
	if (db_exec(db, "BEGIN IMMEDIATE"))
		return -1;
	db->in_txn = 1;
	return 0;
}

int db_commit(struct db *db)
{
	int rc = sqlite3_exec(db->handle, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		fail(db, rc, "commit");
		db_rollback(db);
		return -1;
	}
	db->in_txn = 0;
	return 0;
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->handle))
		sqlite3_exec(db->handle, "ROLLBACK", NULL, NULL, NULL);
	db->in_txn = 0;
}

int db_savepoint(struct db *db)
{
	return db_exec(db, "SAVEPOINT piqplan");
}

int db_release(struct db *db)
{
	if (db_exec(db, "RELEASE piqplan")) {
		db_rollback_to(db);
		return -1;
	}
	return 0;
}

void db_rollback_to(struct db *db)
{
	if (!sqlite3_get_autocommit(db->handle) &&
	    sqlite3_exec(db->handle, "ROLLBACK TO piqplan", NULL, NULL, NULL) == SQLITE_OK)
		sqlite3_exec(db->handle, "RELEASE piqplan", NULL, NULL, NULL);
}

int64_t db_changes(struct db *db)
{
	return sqlite3_changes64(db->handle);
}

int64_t db_last_insert_rowid(struct db *db)
{
	return sqlite3_last_insert_rowid(db->handle);
}

struct stmt *db_prepare(struct db *db, const char *sql)
{
	sqlite3_stmt *h = NULL;
	int rc = sqlite3_prepare_v2(db->handle, sql, -1, &h, NULL);
	if (rc != SQLITE_OK) {
		fail(db, rc, "preparing statement");
		return NULL;
	}
	struct stmt *st = xmalloc(sizeof(*st));
	st->db = db;
	st->handle = h;
	return st;
}

static int param_index(struct stmt *st, const char *param)
{
	int i = sqlite3_bind_parameter_index(st->handle, param);
	if (i == 0)
		die("no parameter '%s' in statement: %s", param, sqlite3_sql(st->handle));
	return i;
}

void stmt_bind_text(struct stmt *st, const char *param, const char *value)
{
	int i = param_index(st, param);
	if (value)
		sqlite3_bind_text(st->handle, i, value, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st->handle, i);
}

void stmt_bind_blob(struct stmt *st, const char *param, const void *data, int len)
{
	sqlite3_bind_blob(st->handle, param_index(st, param), data, len, SQLITE_TRANSIENT);
}

void stmt_bind_int64(struct stmt *st, const char *param, int64_t value)
{
	sqlite3_bind_int64(st->handle, param_index(st, param), value);
}

void stmt_bind_double(struct stmt *st, const char *param, double value)
{
	sqlite3_bind_double(st->handle, param_index(st, param), value);
}

void stmt_bind_null(struct stmt *st, const char *param)
{
	sqlite3_bind_null(st->handle, param_index(st, param));
}

int stmt_step(struct stmt *st)
{
	int rc = sqlite3_step(st->handle);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	int ext = sqlite3_extended_errcode(st->db->handle);
	if ((ext & 0xff) == SQLITE_CONSTRAINT) {
		st->db->last_rc = SQLITE_CONSTRAINT;
		return error("rejected by the database: %s", sqlite3_errmsg(st->db->handle));
	}
	return fail(st->db, rc, "query");
}

int stmt_step_once(struct stmt *st)
{
	int r = stmt_step(st);
	stmt_reset(st);
	return r;
}

void stmt_reset(struct stmt *st)
{
	sqlite3_reset(st->handle);
	sqlite3_clear_bindings(st->handle);
}

void stmt_finalize(struct stmt *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->handle);
	free(st);
}

int stmt_column_count(struct stmt *st)
{
	return sqlite3_column_count(st->handle);
}

const char *stmt_column_name(struct stmt *st, int col)
{
	return sqlite3_column_name(st->handle, col);
}

int stmt_is_null(struct stmt *st, int col)
{
	return sqlite3_column_type(st->handle, col) == SQLITE_NULL;
}

const char *stmt_text(struct stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st->handle, col);
	return t ? (const char *)t : "";
}

int stmt_bytes(struct stmt *st, int col)
{
	return sqlite3_column_bytes(st->handle, col);
}

int64_t stmt_int64(struct stmt *st, int col)
{
	return sqlite3_column_int64(st->handle, col);
}

double stmt_double(struct stmt *st, int col)
{
	return sqlite3_column_double(st->handle, col);
}

char stmt_type(struct stmt *st, int col)
{
	switch (sqlite3_column_type(st->handle, col)) {
	case SQLITE_INTEGER: return 'i';
	case SQLITE_FLOAT: return 'r';
	case SQLITE_TEXT: return 't';
	case SQLITE_BLOB: return 'b';
	default: return 'n';
	}
}

int db_schema_version(void)
{
	int n = 0;
	while (schema_migrations[n].name)
		n++;
	return n;
}

static int pragma_int(struct db *db, const char *sql, int64_t *out)
{
	struct stmt *st = db_prepare(db, sql);
	if (!st)
		return -1;
	int r = stmt_step(st);
	if (r == 1)
		*out = stmt_int64(st, 0);
	stmt_finalize(st);
	return r == 1 ? 0 : -1;
}

/* Apply migration `version` (0-based) and set user_version, in the open transaction. */
static int apply_migration(struct db *db, int64_t version, int64_t appid)
{
	const struct embedded_file *m = &schema_migrations[version];
	char pragma[96];
	if (db_exec(db, m->data)) {
		if (db->last_rc == SQLITE_CONSTRAINT)	/* a stored row breaks the new schema */
			return data_error("migration %s failed on a row already stored (above): was "
					  "the database edited outside piqplan? It stays at schema %lld",
					  m->name, (long long)version);
		return error("migration %s failed", m->name);
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %lld", (long long)version + 1);
	if (db_exec(db, pragma))
		return -1;
	if (appid == 0) {
		snprintf(pragma, sizeof(pragma), "PRAGMA application_id = %d", PIQPLAN_APPLICATION_ID);
		if (db_exec(db, pragma))
			return -1;
	}
	return 0;
}

/* What the file says it is, read without writing. */
struct db_header {
	int64_t version, appid, objects;
};

static int read_header(struct db *db, struct db_header *h)
{
	if (pragma_int(db, "PRAGMA user_version", &h->version) ||
	    pragma_int(db, "PRAGMA application_id", &h->appid) ||
	    pragma_int(db, "SELECT count(*) FROM sqlite_schema", &h->objects))
		return -1;
	return 0;
}

/* 0 when h is a piqplan database this binary can use (or an empty file), else error(). */
static int check_header(const struct db_header *h, const char *path)
{
	if (h->appid != PIQPLAN_APPLICATION_ID && (h->appid != 0 || h->objects != 0))
		return error("'%s' is not a piqplan database (application_id %lld, %lld schema "
			     "objects)", path, (long long)h->appid, (long long)h->objects);
	if (h->version > db_schema_version())
		return error("database '%s' has schema version %lld, newer than this piqplan "
			     "understands (%d); upgrade piqplan", path, (long long)h->version,
			     db_schema_version());
	return 0;
}

/*
 * Inside the caller's transaction: apply what is missing. Outside one: each
 * migration in its own IMMEDIATE transaction that re-reads user_version,
 * so two processes opening a fresh file at once do not both apply it.
 */
int db_migrate(struct db *db)
{
	int latest = db_schema_version();
	struct db_header h;
	if (db->in_txn) {
		if (read_header(db, &h) || check_header(&h, db->path))
			return -1;
		for (int64_t v = h.version; v < latest; v++)
			if (apply_migration(db, v, v == h.version ? h.appid : PIQPLAN_APPLICATION_ID))
				return -1;
		return 0;
	}
	for (;;) {
		if (read_header(db, &h) || check_header(&h, db->path))
			return -1;
		if (h.version == latest)
			return 0;
		if (db->read_only)
			return error("database '%s' has schema version %lld, older than this "
				     "piqplan's (%d), and cannot be upgraded where it is (read-only)",
				     db->path, (long long)h.version, latest);
		if (db_begin(db))
			return -1;
		if (read_header(db, &h) || check_header(&h, db->path))
			goto fail;
		if (h.version < latest && apply_migration(db, h.version, h.appid))
			goto fail;
		if (db_commit(db))
			return -1;
	}
fail:
	db_rollback(db);
	return -1;
}

/* 1 when an SQLite result code says the file (or its -shm) could not be opened for writing. */
static int cannot_write(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY || rc == SQLITE_PERM;
}

/* "file:" + path with what a URI would read as syntax percent-encoded. */
static char *immutable_uri(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#' || *p <= 0x20 || *p >= 0x7f)
			strbuf_addf(&sb, "%%%02X", *p);
		else
			strbuf_add(&sb, (const char *)p, 1);
	}
	strbuf_addstr(&sb, "?immutable=1");
	return strbuf_detach(&sb);
}

/*
 * The connection's settings, then a first read of the schema, quietly:
 * the result code of that read (the caller decides what it means).
 */
static int probe(struct db *db)
{
	sqlite3_stmt *st = NULL;
	sqlite3_extended_result_codes(db->handle, 1);
	sqlite3_busy_timeout(db->handle, BUSY_TIMEOUT_MS);
	int rc = sqlite3_prepare_v2(db->handle, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		rc = rc == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(db->handle);
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Open the file and read its header. A command that only reads, on a file
 * it cannot write (a read-only mount: WAL needs its -shm file), gets the
 * file opened as immutable instead: read-only, no -shm, no locks.
 */
static int open_and_read_header(struct db *db, enum db_mode mode, struct db_header *h)
{
	int flags = SQLITE_OPEN_READWRITE | (mode <= DB_INIT ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(db->path, &db->handle, flags, NULL);
	if (rc == SQLITE_OK)
		rc = probe(db);
	if (rc == SQLITE_OK)
		return read_header(db, h);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return fail(db, rc, "opening it");	/* exit 75, as for any busy database */
	if (mode != DB_READ || !cannot_write(rc)) {
		error("cannot open database '%s': %s%s", db->path,
		      db->handle ? sqlite3_errmsg(db->handle) : sqlite3_errstr(rc),
		      cannot_write(rc) && mode != DB_READ ? " (a read-only file or file system? "
		      "only commands that read work there)" : "");
		return -1;
	}
	sqlite3_close_v2(db->handle);
	char *uri = immutable_uri(db->path);
	rc = sqlite3_open_v2(uri, &db->handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc == SQLITE_OK)
		rc = probe(db);
	if (rc != SQLITE_OK) {
		error("cannot open database '%s' (read-only): %s", db->path,
		      db->handle ? sqlite3_errmsg(db->handle) : sqlite3_errstr(rc));
		return -1;
	}
	db->read_only = 1;
	return read_header(db, h);
}

int db_open_mode(const char *path, enum db_mode mode, struct db **out)
{
	struct db *db = xcalloc(1, sizeof(*db));
	struct db_header h = { 0, 0, 0 };
	struct stat st;

	*out = NULL;
	db->path = xstrdup(path);
	if (!*path) {
		error("the database path is empty (--db PATH or PIQPLAN_DB)");
		goto fail;
	}
	if (mode >= DB_EXISTING && strcmp(path, ":memory:") && stat(path, &st) != 0) {
		error("no database at '%s' (create it with 'piqplan init', or name another "
		      "with --db PATH)", path);
		goto fail;
	}
	if (open_and_read_header(db, mode, &h) || check_header(&h, path))
		goto fail;
	if (mode >= DB_EXISTING && h.objects == 0) {
		error("'%s' is not initialised (run 'piqplan init')", path);
		goto fail;
	}
	if (db_exec(db, "PRAGMA foreign_keys = ON") || db_exec(db, "PRAGMA synchronous = NORMAL"))
		goto fail;
	/* Only a database piqplan creates or initialises is put in WAL mode. */
	if (mode <= DB_INIT && db_exec(db, "PRAGMA journal_mode = WAL"))
		goto fail;
	if (mode != DB_INIT && db_migrate(db))
		goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	return -1;
}

int db_open(const char *path, struct db **out)
{
	return db_open_mode(path, DB_CREATE, out);
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (db->handle)
		db_rollback(db);
	sqlite3_close_v2(db->handle);
	free(db->path);
	free(db);
}
