/*
 * store_db.h - private to the store (src/store.c, src/store_db.c): one
 * small database interface over the two backends, SQLite (a file) and
 * PostgreSQL (libpq, a postgresql:// or postgres:// URL).
 *
 * Every dialect difference lives in store_db.c: the SQL translation for
 * PostgreSQL (db_translate: ?N placeholders to $N, column types, PRAGMAs),
 * how the schema version and the owner are kept (SQLite: PRAGMA
 * user_version and application_id; PostgreSQL: the dagdoc_meta table),
 * transactions, the sync lock, and the mapping of failures to DD_E* codes
 * and sentences that name the store (a URL always without its password).
 *
 * Statements are written once, in SQL both backends accept, with ?N
 * placeholders.  Binding a text or blob keeps the pointer until db_reset
 * (nothing is copied, as SQLITE_STATIC).  Columns read back are valid
 * until the next db_step or db_reset.  On PostgreSQL a statement is
 * prepared on the server at its first execution (with the types of its
 * first bindings: int64 as int8, double as float8, blob as bytea, text
 * and NULL inferred), results come back in binary; a blob is binary-safe
 * both ways.
 *
 * Failures: db_step returns DB_FAIL and keeps the failure in the
 * connection; db_error turns it into a dd_error ("what: ...").  A
 * deadlock or serialization failure (SQLSTATE 40P01, 40001) of a
 * statement outside a transaction is retried (DB_RETRIES times); inside
 * one it is DD_EBUSY and the transaction is lost (the caller rolls back).
 */
#ifndef DAGDOC_STORE_DB_H
#define DAGDOC_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "dagdoc/error.h"

enum db_backend { DB_SQLITE, DB_PG };

/* db_step results */
#define DB_DONE 0
#define DB_ROW 1
#define DB_FAIL (-1)

#define DB_RETRIES 4

struct db;
struct db_stmt;

/* Is `where` a PostgreSQL URL (postgresql:// or postgres://)? */
int db_is_url(const char *where);
/* `where` as messages show it: a URL as scheme://user@host:port/db (no
 * password, no parameters), a path as is.  Caller frees. */
char *db_redact(const char *where);
/* Registers the password of a URL `where` (if any) with secrets.h. */
void db_register_password(const char *where);

/* Opens the store's database.  SQLite: creates the file (mode 0600) and
 * its parents unless readonly; WAL, busy_timeout 5000 ms, foreign keys.
 * PostgreSQL: connects (password: the URL's, else `password` when not
 * NULL, else libpq's own PGPASSWORD/~/.pgpass/service), registers the
 * password with the secrets module; readonly sets
 * default_transaction_read_only.  Checks the owner: another application's
 * database is refused ("not a dagdoc store"). */
int db_open(const char *where, const char *password, int readonly, struct db **out, struct dd_error *err);
void db_close(struct db *db);
enum db_backend db_backend(const struct db *db);
/* The location as given (a URL may hold its password: never print it),
 * and as messages show it (db_redact). */
const char *db_where(const struct db *db);
const char *db_shown(const struct db *db);

/* The schema version (0 for a new store); db_set_schema_version inside
 * the migration's transaction. */
int db_schema_version(struct db *db, int *out, struct dd_error *err);
int db_set_schema_version(struct db *db, int version, struct dd_error *err);
/* Starts a migration's transaction: BEGIN IMMEDIATE (SQLite) or BEGIN and
 * a transaction advisory lock (PostgreSQL), so one process migrates at a
 * time; the caller re-reads the version after it. */
int db_begin_migration(struct db *db, struct dd_error *err);

/* Runs sql (one or more statements, translated for PostgreSQL). */
int db_exec(struct db *db, const char *sql, struct dd_error *err, const char *what);
int db_begin(struct db *db, struct dd_error *err);
int db_commit(struct db *db, struct dd_error *err);
void db_rollback(struct db *db);    /* no-op outside a transaction */
int db_in_tx(const struct db *db);

/* Prepares sql (?N placeholders).  NULL on failure (err set). */
struct db_stmt *db_prepare(struct db *db, const char *sql, struct dd_error *err);
void db_finalize(struct db_stmt *st);
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_bind_double(struct db_stmt *st, int i, double v);
void db_bind_text(struct db_stmt *st, int i, const char *v);   /* NULL binds NULL */
void db_bind_text_owned(struct db_stmt *st, int i, char *v);   /* freed by db_reset */
void db_bind_blob(struct db_stmt *st, int i, const void *p, size_t n);
void db_bind_null(struct db_stmt *st, int i);
int db_step(struct db_stmt *st);
/* Resets the statement for its next execution and clears its bindings. */
void db_reset(struct db_stmt *st);
int db_col_count(struct db_stmt *st);
const char *db_col_name(struct db_stmt *st, int i);
int64_t db_col_int64(struct db_stmt *st, int i);
int db_col_int(struct db_stmt *st, int i);
double db_col_double(struct db_stmt *st, int i);
const char *db_col_text(struct db_stmt *st, int i);            /* NULL for NULL */
const void *db_col_blob(struct db_stmt *st, int i);
size_t db_col_bytes(struct db_stmt *st, int i);
/* What the column of this row holds (copying rows between backends). */
enum db_type { DB_T_NULL, DB_T_VALUE, DB_T_BLOB };
enum db_type db_col_type(struct db_stmt *st, int i);

/* Turns the connection's last failure into err; returns its code
 * (DD_ESTORE, DD_EBUSY for a deadlock or serialization failure). */
int db_error(struct db *db, struct dd_error *err, const char *what);

/* One sync per source at a time (store_sync_lock). */
int db_sync_lock(struct db *db, const char *source_name, struct dd_error *err);
void db_sync_unlock(struct db *db, const char *source_name);

/* PostgreSQL, a store opened for writing: DD_ESTORE when this session
 * may not write it (a read-only user or server), said before the first
 * write fails, so that --offline can read it instead (store_open falls
 * back to read-only for a file it cannot write).  SQLite: 0. */
int db_check_writable(struct db *db, struct dd_error *err);

/* PostgreSQL: ANALYZE of the tables a sync fills; SQLite: nothing. */
int db_refresh_statistics(struct db *db, struct dd_error *err);

/* PostgreSQL: moves table's identity sequence past its largest id
 * (after rows were copied with their ids); SQLite: nothing. */
int db_reset_identity(struct db *db, const char *table, struct dd_error *err);

/* The SQL as PostgreSQL runs it; caller frees. */
char *db_translate(const char *sql);

#endif
