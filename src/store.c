/*
 * store.c - the SQLite store (see include/dagdoc/store.h).
 */
#include "dagdoc/util.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#include "dagdoc/secrets.h"
#include "dagdoc/store.h"
#include "store_db.h"

/* ---- schema ------------------------------------------------------------ */

/* Migration N takes a store from user_version N-1 to N.  Append only:
 * never edit a step that has shipped. */
static const char *const migrations[] = {
	/* 1: the core schema */
	"CREATE TABLE sources ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL,"
	"  description TEXT,"
	"  last_sync_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE dags ("
	"  id INTEGER PRIMARY KEY,"
	"  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
	"  dag_id TEXT NOT NULL,"
	"  fileloc TEXT,"
	"  external_id TEXT,"
	"  is_paused INTEGER NOT NULL DEFAULT 0,"
	"  updated_ms INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (source_id, dag_id));"
	"CREATE TABLE tasks ("
	"  dag_ref INTEGER NOT NULL REFERENCES dags(id) ON DELETE CASCADE,"
	"  task_id TEXT NOT NULL,"
	"  operator TEXT,"
	"  is_sensor INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (dag_ref, task_id));"
	"CREATE TABLE task_deps ("
	"  dag_ref INTEGER NOT NULL REFERENCES dags(id) ON DELETE CASCADE,"
	"  upstream TEXT NOT NULL,"
	"  downstream TEXT NOT NULL,"
	"  PRIMARY KEY (dag_ref, upstream, downstream));"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  dag_ref INTEGER NOT NULL REFERENCES dags(id) ON DELETE CASCADE,"
	"  run_id TEXT NOT NULL,"
	"  run_name TEXT,"
	"  state TEXT NOT NULL,"
	"  run_type TEXT,"
	"  logical_ms INTEGER NOT NULL DEFAULT 0,"
	"  queued_ms INTEGER NOT NULL DEFAULT 0,"
	"  start_ms INTEGER NOT NULL DEFAULT 0,"
	"  end_ms INTEGER NOT NULL DEFAULT 0,"
	"  note TEXT,"
	"  UNIQUE (dag_ref, run_id));"
	"CREATE INDEX runs_by_dag_date ON runs (dag_ref, logical_ms);"
	"CREATE TABLE task_instances ("
	"  id INTEGER PRIMARY KEY,"
	"  run_ref INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  task_id TEXT NOT NULL,"
	"  map_index INTEGER NOT NULL DEFAULT -1,"
	"  state TEXT NOT NULL,"
	"  try_number INTEGER NOT NULL DEFAULT 0,"
	"  max_tries INTEGER NOT NULL DEFAULT 0,"
	"  operator TEXT,"
	"  hostname TEXT,"
	"  external_id TEXT,"
	"  queued_ms INTEGER NOT NULL DEFAULT 0,"
	"  start_ms INTEGER NOT NULL DEFAULT 0,"
	"  end_ms INTEGER NOT NULL DEFAULT 0,"
	"  note TEXT,"
	"  UNIQUE (run_ref, task_id, map_index));"
	"CREATE INDEX tis_by_task ON task_instances (task_id);"
	"CREATE TABLE tries ("
	"  id INTEGER PRIMARY KEY,"
	"  ti_ref INTEGER NOT NULL REFERENCES task_instances(id) ON DELETE CASCADE,"
	"  try_number INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  hostname TEXT,"
	"  queued_ms INTEGER NOT NULL DEFAULT 0,"
	"  start_ms INTEGER NOT NULL DEFAULT 0,"
	"  end_ms INTEGER NOT NULL DEFAULT 0,"
	"  note TEXT,"
	"  UNIQUE (ti_ref, try_number));"
	"CREATE INDEX tries_by_state ON tries (state);"
	"CREATE TABLE logs ("
	"  try_ref INTEGER PRIMARY KEY REFERENCES tries(id) ON DELETE CASCADE,"
	"  original_size INTEGER NOT NULL,"
	"  text_size INTEGER NOT NULL,"
	"  truncated INTEGER NOT NULL DEFAULT 0,"
	"  missing INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT,"
	"  data BLOB,"
	"  fetched_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE classifications ("
	"  try_ref INTEGER NOT NULL REFERENCES tries(id) ON DELETE CASCADE,"
	"  library_hash TEXT NOT NULL,"
	"  category TEXT,"
	"  pattern_id TEXT,"
	"  fingerprint TEXT,"
	"  confidence REAL NOT NULL DEFAULT 0,"
	"  failure_json TEXT,"
	"  created_ms INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (try_ref, library_hash));"
	"CREATE TABLE sync_cursors ("
	"  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
	"  dag_id TEXT NOT NULL DEFAULT '',"
	"  key TEXT NOT NULL,"
	"  value TEXT,"
	"  PRIMARY KEY (source_id, dag_id, key));"
	"CREATE TABLE import_errors ("
	"  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
	"  filename TEXT NOT NULL,"
	"  stack_trace TEXT,"
	"  timestamp_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX import_errors_by_source ON import_errors (source_id);"
	"CREATE TABLE health_snapshots ("
	"  id INTEGER PRIMARY KEY,"
	"  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
	"  taken_ms INTEGER NOT NULL,"
	"  scheduler_status TEXT,"
	"  scheduler_heartbeat_ms INTEGER NOT NULL DEFAULT 0,"
	"  metadatabase_status TEXT,"
	"  detail TEXT);"
	"CREATE INDEX health_by_source ON health_snapshots (source_id, taken_ms);"
	"PRAGMA application_id = 1684105060;",   /* STORE_APPLICATION_ID (store_db.c) */

	/* 2: report history (new vs recurring failures) and lookups by
	 * fingerprint */
	"CREATE TABLE report_history ("
	"  report_ms INTEGER NOT NULL,"
	"  scope TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL,"
	"  PRIMARY KEY (scope, fingerprint, report_ms));"
	"CREATE INDEX classifications_by_fingerprint ON classifications (fingerprint);",

	/* 3: where each source's UI is and the form of its links, learnt at
	 * sync (links then read the same offline) */
	("ALTER TABLE sources ADD COLUMN ui_form TEXT;"
	 "ALTER TABLE sources ADD COLUMN ui_base TEXT;"),

	/* 4: what each run ran, as the orchestrator reports it (Airflow 3: the
	 * DAG bundle's version, a git commit, and the DAG version number) */
	"CREATE TABLE run_versions ("
	"  run_ref INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
	"  bundle_version TEXT,"
	"  dag_version INTEGER NOT NULL DEFAULT 0);",

	/* 5: what engineers established about a failure (triage --evidence,
	 * --interactive): a verdict on a cause of the failure's fingerprint,
	 * so later triages, reports and runbooks show it and do not ask again */
	"CREATE TABLE established ("
	"  fingerprint TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  verdict INTEGER NOT NULL,"
	"  what TEXT NOT NULL,"
	"  tool TEXT NOT NULL,"
	"  detail TEXT,"
	"  user TEXT,"
	"  at_ms INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (fingerprint, kind, what));",
};

/* ---- prepared statements ------------------------------------------------ */

enum stmt_id {
	S_SOURCE_PUT,
	S_SOURCE_REF,
	S_SOURCE_SYNCED,
	S_SOURCE_UI_SET,
	S_SOURCE_UI_GET,
	S_DAG_PUT,
	S_DAG_REF,
	S_DAG_REF_ANY,
	S_DAG_GET,
	S_TASKS_DEL,
	S_DEPS_DEL,
	S_TASK_INS,
	S_DEP_INS,
	S_TASKS_GET,
	S_DEPS_GET,
	S_DAGS,
	S_RUN_PUT,
	S_RUN_GET,
	S_RUNS,
	S_TI_PUT,
	S_TIS,
	S_TRY_PUT,
	S_TRIES,
	S_FAILED_TRIES,
	S_LAST_SUCCESS,
	S_RECENT_SUCCESSES,
	S_COUNT,
	S_LOG_PUT,
	S_LOG_GET,
	S_CLASS_PUT,
	S_CLASS_GET,
	S_IE_DEL,
	S_IE_INS,
	S_IE_GET,
	S_HEALTH_PUT,
	S_HEALTH_GET,
	S_CURSOR_PUT,
	S_CURSOR_GET,
	S_REPORT_PUT,
	S_REPORT_SEEN,
	S_REPORT_PREVIOUS,
	S_RUN_VERSION_PUT,
	S_RUN_VERSIONS,
	S_FACT_PUT,
	S_FACTS,
	S__COUNT
};

/* Columns of a try row, shared by the try queries (see read_try). */
#define TRY_COLS \
	"t.id, t.ti_ref, ti.run_ref, r.run_id, ti.task_id, ti.map_index, t.try_number, " \
	"t.state, t.hostname, t.queued_ms, t.start_ms, t.end_ms, t.note, r.logical_ms, " \
	"ti.external_id, l.try_ref IS NOT NULL, coalesce(l.missing, 0), " \
	"coalesce(l.original_size, 0), coalesce(l.truncated, 0) "
#define TRY_FROM \
	"FROM tries t JOIN task_instances ti ON ti.id = t.ti_ref " \
	"JOIN runs r ON r.id = ti.run_ref LEFT JOIN logs l ON l.try_ref = t.id "
/* Task instances and tries are written one row per statement
 * (store_ti_put, store_try_put) or many (store_tis_put): the same
 * statement around one VALUES tuple per row. */
#define TI_INSERT \
	"INSERT INTO task_instances (run_ref, task_id, map_index, state, try_number, " \
	"max_tries, operator, hostname, external_id, queued_ms, start_ms, end_ms, note) VALUES "
#define TI_COLS 13
#define TI_UPSERT \
	" ON CONFLICT (run_ref, task_id, map_index) DO UPDATE SET state = excluded.state, " \
	"try_number = excluded.try_number, max_tries = excluded.max_tries, " \
	"operator = excluded.operator, hostname = excluded.hostname, " \
	"external_id = excluded.external_id, queued_ms = excluded.queued_ms, " \
	"start_ms = excluded.start_ms, end_ms = excluded.end_ms, note = excluded.note "
#define TRY_INSERT \
	"INSERT INTO tries (ti_ref, try_number, state, hostname, queued_ms, start_ms, " \
	"end_ms, note) VALUES "
#define TRY_COLS_PUT 8
#define TRY_UPSERT \
	" ON CONFLICT (ti_ref, try_number) DO UPDATE SET state = excluded.state, " \
	"hostname = excluded.hostname, queued_ms = excluded.queued_ms, " \
	"start_ms = excluded.start_ms, end_ms = excluded.end_ms, note = excluded.note "
/* rows one statement of store_tis_put writes at most */
#define ROWS_PER_PUT 32
/* runs r of DAG ?1 with logical date in [?2, ?3) (?3 0: open), as store_runs reads them */
#define RUNS_IN_WINDOW "r.dag_ref = ?1 AND r.logical_ms >= ?2 AND (?3 = 0 OR r.logical_ms < ?3) "
#define FAILURE_STATES "('failed', 'up_for_retry', 'crashed', 'timed_out')"
/* The task a task instance is of: a Prefect task run (external id) named
 * <task>-<key> is of its task, which the connector keeps as the operator. */
#define TASK_KEY \
	"CASE WHEN ti.external_id IS NOT NULL AND ti.operator IS NOT NULL " \
	"AND substr(ti.task_id, 1, length(ti.operator) + 1) = ti.operator || '-' " \
	"THEN ti.operator ELSE ti.task_id END"

static const char *const stmt_sql[S__COUNT] = {
	[S_SOURCE_PUT] =
		"INSERT INTO sources (name, kind, description) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
		"description = coalesce(excluded.description, sources.description) RETURNING id",
	[S_SOURCE_REF] = "SELECT id FROM sources WHERE name = ?1",
	[S_SOURCE_SYNCED] = "UPDATE sources SET last_sync_ms = ?2 WHERE id = ?1",
	[S_SOURCE_UI_SET] = "UPDATE sources SET ui_form = ?2, ui_base = ?3 WHERE id = ?1",
	[S_SOURCE_UI_GET] = "SELECT ui_form, ui_base FROM sources WHERE id = ?1",
	[S_DAG_PUT] =
		"INSERT INTO dags (source_id, dag_id, fileloc, external_id, is_paused, updated_ms) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (source_id, dag_id) DO UPDATE SET "
		"fileloc = coalesce(excluded.fileloc, dags.fileloc), "
		"external_id = coalesce(excluded.external_id, dags.external_id), "
		"is_paused = excluded.is_paused, updated_ms = excluded.updated_ms RETURNING id",
	[S_DAG_REF] =
		"SELECT d.id FROM dags d JOIN sources s ON s.id = d.source_id "
		"WHERE s.name = ?1 AND d.dag_id = ?2",
	[S_DAG_REF_ANY] =
		"SELECT d.id FROM dags d JOIN sources s ON s.id = d.source_id "
		"WHERE d.dag_id = ?1 ORDER BY s.name LIMIT 1",
	[S_DAG_GET] = "SELECT dag_id, fileloc, external_id, is_paused FROM dags WHERE id = ?1",
	[S_TASKS_DEL] = "DELETE FROM tasks WHERE dag_ref = ?1",
	[S_DEPS_DEL] = "DELETE FROM task_deps WHERE dag_ref = ?1",
	[S_TASK_INS] =
		"INSERT INTO tasks (dag_ref, task_id, operator, is_sensor) VALUES (?1, ?2, ?3, ?4) "
		"ON CONFLICT (dag_ref, task_id) DO UPDATE SET operator = excluded.operator, "
		"is_sensor = excluded.is_sensor",
	[S_DEP_INS] =
		"INSERT INTO task_deps (dag_ref, upstream, downstream) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
	[S_TASKS_GET] =
		"SELECT task_id, operator, is_sensor FROM tasks WHERE dag_ref = ?1 ORDER BY task_id",
	[S_DEPS_GET] =
		"SELECT upstream, downstream FROM task_deps WHERE dag_ref = ?1 "
		"ORDER BY upstream, downstream",
	[S_DAGS] =
		"SELECT d.id, d.source_id, s.name, d.dag_id, d.fileloc, d.is_paused, "
		"(SELECT count(*) FROM runs r WHERE r.dag_ref = d.id), "
		"(SELECT coalesce(max(logical_ms), 0) FROM runs r WHERE r.dag_ref = d.id), s.kind "
		"FROM dags d JOIN sources s ON s.id = d.source_id "
		"WHERE ?1 = 0 OR d.source_id = ?1 ORDER BY s.name, d.dag_id",
	[S_RUN_PUT] =
		"INSERT INTO runs (dag_ref, run_id, run_name, state, run_type, logical_ms, "
		"queued_ms, start_ms, end_ms, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
		"ON CONFLICT (dag_ref, run_id) DO UPDATE SET run_name = excluded.run_name, "
		"state = excluded.state, run_type = excluded.run_type, "
		"logical_ms = excluded.logical_ms, queued_ms = excluded.queued_ms, "
		"start_ms = excluded.start_ms, end_ms = excluded.end_ms, note = excluded.note "
		"RETURNING id",
	[S_RUN_GET] =
		"SELECT id, dag_ref, run_id, run_name, state, run_type, logical_ms, queued_ms, "
		"start_ms, end_ms, note FROM runs WHERE dag_ref = ?1 AND run_id = ?2",
	[S_RUNS] =
		"SELECT id, dag_ref, run_id, run_name, state, run_type, logical_ms, queued_ms, "
		"start_ms, end_ms, note FROM runs WHERE dag_ref = ?1 AND logical_ms >= ?2 "
		"AND (?3 = 0 OR logical_ms < ?3) ORDER BY logical_ms, id",
	[S_TI_PUT] = TI_INSERT "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)" TI_UPSERT "RETURNING id",
	[S_TIS] =
		"SELECT ti.id, ti.run_ref, r.run_id, ti.task_id, ti.map_index, ti.state, "
		"ti.try_number, ti.max_tries, ti.operator, ti.hostname, ti.external_id, "
		"ti.queued_ms, ti.start_ms, ti.end_ms, ti.note FROM task_instances ti "
		"JOIN runs r ON r.id = ti.run_ref WHERE " RUNS_IN_WINDOW
		"ORDER BY r.logical_ms, r.id, ti.task_id, ti.map_index",
	[S_TRY_PUT] = TRY_INSERT "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" TRY_UPSERT "RETURNING id",
	[S_TRIES] =
		"SELECT " TRY_COLS TRY_FROM "WHERE " RUNS_IN_WINDOW
		"ORDER BY r.logical_ms, r.id, ti.task_id, ti.map_index, t.try_number",
	[S_FAILED_TRIES] =
		"SELECT " TRY_COLS TRY_FROM "WHERE " RUNS_IN_WINDOW "AND t.state IN " FAILURE_STATES " "
		"AND (?4 = 0 OR l.try_ref IS NULL) "
		"ORDER BY r.logical_ms, r.id, ti.task_id, ti.map_index, t.try_number",
	/* "+t.state": not through tries_by_state (every success of every DAG),
	 * but the task's instances, then their tries */
	[S_LAST_SUCCESS] =
		"SELECT " TRY_COLS TRY_FROM "WHERE r.dag_ref = ?1 AND ti.task_id = ?2 "
		"AND +t.state = 'success' AND (?3 = 0 OR r.logical_ms < ?3) "
		"ORDER BY r.logical_ms DESC, r.id DESC, ti.map_index DESC, t.try_number DESC LIMIT 1",
	/* the successful try of each task in each of its newest `per_task` runs
	 * in the window (of a mapped task, the lowest map index's); a Prefect
	 * task run (external id) named <task>-<key> counts as its task */
	[S_RECENT_SUCCESSES] =
		"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY task_key ORDER BY lms DESC, rref DESC) AS rn "
		"FROM (SELECT " TRY_COLS ", " TASK_KEY " AS task_key, r.logical_ms AS lms, ti.run_ref AS rref, "
		"row_number() OVER (PARTITION BY " TASK_KEY ", ti.run_ref ORDER BY ti.map_index, ti.task_id, t.try_number DESC) "
		"AS per_run " TRY_FROM "WHERE r.dag_ref = ?1 AND r.logical_ms >= ?2 AND +t.state = 'success') AS runs_tries "
		"WHERE per_run = 1) AS ranked WHERE rn <= ?3 ORDER BY 14, 3, 5, 6, 7",
	[S_COUNT] =
		"SELECT (SELECT count(*) FROM runs WHERE dag_ref = ?1), "
		"(SELECT count(*) FROM task_instances ti JOIN runs r ON r.id = ti.run_ref "
		" WHERE r.dag_ref = ?1), "
		"(SELECT count(*) FROM tries t JOIN task_instances ti ON ti.id = t.ti_ref "
		" JOIN runs r ON r.id = ti.run_ref WHERE r.dag_ref = ?1), "
		"(SELECT count(*) FROM logs l JOIN tries t ON t.id = l.try_ref "
		" JOIN task_instances ti ON ti.id = t.ti_ref JOIN runs r ON r.id = ti.run_ref "
		" WHERE r.dag_ref = ?1 AND l.missing = 0)",
	[S_LOG_PUT] =
		"INSERT INTO logs (try_ref, original_size, text_size, truncated, missing, "
		"reason, data, fetched_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
		"ON CONFLICT (try_ref) DO UPDATE SET original_size = excluded.original_size, "
		"text_size = excluded.text_size, truncated = excluded.truncated, missing = excluded.missing, "
		"reason = excluded.reason, data = excluded.data, fetched_ms = excluded.fetched_ms",
	[S_LOG_GET] =
		"SELECT original_size, text_size, truncated, missing, data FROM logs WHERE try_ref = ?1",
	[S_CLASS_PUT] =
		"INSERT INTO classifications (try_ref, library_hash, category, pattern_id, "
		"fingerprint, confidence, failure_json, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
		"ON CONFLICT (try_ref, library_hash) DO UPDATE SET category = excluded.category, "
		"pattern_id = excluded.pattern_id, fingerprint = excluded.fingerprint, "
		"confidence = excluded.confidence, failure_json = excluded.failure_json, "
		"created_ms = excluded.created_ms",
	[S_CLASS_GET] =
		"SELECT category, pattern_id, fingerprint, confidence, failure_json, created_ms "
		"FROM classifications WHERE try_ref = ?1 AND library_hash = ?2",
	[S_IE_DEL] = "DELETE FROM import_errors WHERE source_id = ?1",
	[S_IE_INS] =
		"INSERT INTO import_errors (source_id, filename, stack_trace, timestamp_ms) "
		"VALUES (?1, ?2, ?3, ?4)",
	[S_IE_GET] =
		"SELECT filename, stack_trace, timestamp_ms FROM import_errors WHERE source_id = ?1 "
		"ORDER BY filename, rowid",
	[S_HEALTH_PUT] =
		"INSERT INTO health_snapshots (source_id, taken_ms, scheduler_status, "
		"scheduler_heartbeat_ms, metadatabase_status, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_HEALTH_GET] =
		"SELECT taken_ms, scheduler_status, scheduler_heartbeat_ms, metadatabase_status, detail "
		"FROM health_snapshots WHERE source_id = ?1 ORDER BY taken_ms DESC, id DESC LIMIT 1",
	[S_CURSOR_PUT] =
		"INSERT INTO sync_cursors (source_id, dag_id, key, value) VALUES (?1, ?2, ?3, ?4) "
		"ON CONFLICT (source_id, dag_id, key) DO UPDATE SET value = excluded.value",
	[S_CURSOR_GET] =
		"SELECT value FROM sync_cursors WHERE source_id = ?1 AND dag_id = ?2 AND key = ?3",
	[S_FACT_PUT] =
		"INSERT INTO established (fingerprint, kind, verdict, what, tool, detail, user, at_ms) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
	[S_FACTS] =
		"SELECT fingerprint, kind, verdict, what, tool, detail, user, at_ms FROM established "
		"ORDER BY at_ms, fingerprint, kind, what",
	[S_REPORT_PUT] =
		"INSERT INTO report_history (report_ms, scope, fingerprint) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
	/* reports are counted by their UTC date: two of one day (a re-run) are one */
	[S_REPORT_SEEN] =
		"SELECT count(DISTINCT report_ms / 86400000), coalesce(min(report_ms), 0) FROM report_history "
		"WHERE scope = ?1 AND fingerprint = ?2 AND (?3 = 0 OR report_ms < ?3)",
	[S_REPORT_PREVIOUS] =
		"SELECT DISTINCT fingerprint FROM report_history WHERE scope = ?1 AND (?2 = 0 OR report_ms < ?2) "
		"AND report_ms >= (SELECT max(report_ms) / 86400000 * 86400000 FROM report_history "
		"WHERE scope = ?1 AND (?2 = 0 OR report_ms < ?2)) ORDER BY fingerprint",
	[S_RUN_VERSION_PUT] =
		"INSERT INTO run_versions (run_ref, bundle_version, dag_version) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (run_ref) DO UPDATE SET bundle_version = excluded.bundle_version, "
		"dag_version = excluded.dag_version",
	[S_RUN_VERSIONS] =
		"SELECT v.run_ref, v.bundle_version, v.dag_version FROM run_versions v "
		"JOIN runs r ON r.id = v.run_ref WHERE " RUNS_IN_WINDOW "ORDER BY r.logical_ms, r.id",
};

struct dd_store {
	struct db *db;
	char *path;            /* as given (a URL may hold a password: messages use shown) */
	const char *shown;     /* the location as messages show it (db_shown) */
	int readonly;          /* store_open_readonly */
	struct db_stmt *stmts[S__COUNT];
	/* store_tis_put's statements by row count: [0] task instances, [1] tries */
	struct db_stmt *puts[2][ROWS_PER_PUT + 1];
};

/* ---- helpers -------------------------------------------------------------- */

/* The db layer's failure as err; a busy store (DD_EBUSY) has lost its
 * transaction, which is rolled back here so the caller can redo it. */
static int db_fail(struct dd_store *s, struct dd_error *err, const char *what)
{
	int rc = db_error(s->db, err, what);

	if (rc == DD_EBUSY)
		db_rollback(s->db);
	return rc;
}

static struct db_stmt *stmt(struct dd_store *s, enum stmt_id id, struct dd_error *err)
{
	struct db_stmt *st = s->stmts[id];

	if (!st && (st = db_prepare(s->db, stmt_sql[id], err)))
		s->stmts[id] = st;
	return st;
}

/* The prepared statement `id` with ?1 bound to ref, or NULL (err set). */
static struct db_stmt *stmt_ref(struct dd_store *s, enum stmt_id id, int64_t ref,
                                struct dd_error *err)
{
	struct db_stmt *st = stmt(s, id, err);

	if (st)
		db_bind_int64(st, 1, ref);
	return st;
}

static void done(struct db_stmt *st)
{
	db_reset(st);
}

/* Binds v; a text holding a registered credential (a server echoed one
 * into a message) is stored masked. */
static void bind_text(struct db_stmt *st, int i, const char *v)
{
	if (v && secrets_found(v, strlen(v))) {
		struct dd_buf b = DD_BUF_INIT;

		secrets_mask_append(&b, v, strlen(v));
		db_bind_text_owned(st, i, dd_buf_detach(&b));
	} else {
		db_bind_text(st, i, v);
	}
}

static char *col_text(struct db_stmt *st, int i)
{
	return dd_xstrdup(db_col_text(st, i));
}

/* Binds the queued/start/end times and the note, ?i to ?i+3, of a run, task
 * instance or try. */
static void bind_times(struct db_stmt *st, int i, int64_t queued_ms, int64_t start_ms,
                       int64_t end_ms, const char *note)
{
	db_bind_int64(st, i, queued_ms);
	db_bind_int64(st, i + 1, start_ms);
	db_bind_int64(st, i + 2, end_ms);
	bind_text(st, i + 3, note);
}

/* Reads what bind_times binds, from columns i to i+3. */
static void read_times(struct db_stmt *st, int i, int64_t *queued_ms, int64_t *start_ms,
                       int64_t *end_ms, char **note)
{
	*queued_ms = db_col_int64(st, i);
	*start_ms = db_col_int64(st, i + 1);
	*end_ms = db_col_int64(st, i + 2);
	*note = col_text(st, i + 3);
}

/* Ends a loop over rows: resets st; returns the callback's non-zero result
 * cb_rc, else a read error when the last step was not DB_DONE, else 0. */
static int rows_end(struct dd_store *s, struct db_stmt *st, int step_rc, int cb_rc,
                    struct dd_error *err, const char *what)
{
	done(st);
	if (cb_rc)
		return cb_rc;
	if (step_rc != DB_DONE)
		return db_fail(s, err, what);
	return 0;
}

/* Ends a one-row read: resets st; returns 0 when the step gave a row, 1
 * when there was none, else a read error. */
static int row_end(struct dd_store *s, struct db_stmt *st, int step_rc, struct dd_error *err,
                   const char *what)
{
	done(st);
	if (step_rc == DB_ROW)
		return 0;
	if (step_rc == DB_DONE)
		return 1;
	return db_fail(s, err, what);
}

/* Steps a write that returns no rows. */
static int exec_stmt(struct dd_store *s, struct db_stmt *st, struct dd_error *err, const char *what)
{
	int rc = db_step(st);

	done(st);
	if (rc == DB_FAIL)
		return db_fail(s, err, what);
	return 0;
}

/* Runs the write `id` whose only parameter is ?1 = ref. */
static int exec_with_ref(struct dd_store *s, enum stmt_id id, int64_t ref, struct dd_error *err,
                         const char *what)
{
	struct db_stmt *st = stmt_ref(s, id, ref, err);

	return st ? exec_stmt(s, st, err, what) : DD_ESTORE;
}

/* Steps a statement returning one integer (RETURNING id, SELECT id). */
static int exec_ref(struct dd_store *s, struct db_stmt *st, int64_t *out, struct dd_error *err,
                    const char *what, const char *notfound)
{
	int rc = db_step(st);

	if (rc == DB_ROW) {
		if (out)
			*out = db_col_int64(st, 0);
		rc = db_step(st);   /* finish RETURNING statements */
		done(st);
		if (rc == DB_FAIL)
			return db_fail(s, err, what);
		return 0;
	}
	done(st);
	if (rc == DB_DONE)
		return dd_error_set(err, DD_ENOTFOUND, "%s", notfound ? notfound : "not found in the store");
	return db_fail(s, err, what);
}

/* ---- open, migrate ---------------------------------------------------- */

static int migrate(struct dd_store *s, int target, struct dd_error *err)
{
	int version;
	int rc = db_schema_version(s->db, &version, err);

	if (rc < 0)
		return rc;
	if (version > STORE_SCHEMA_VERSION)
		return dd_error_set(err, DD_ESTORE,
		                    "this store was written by a newer dagdoc (schema %d); upgrade "
		                    "dagdoc or use another --store (%s, this dagdoc knows schema %d)",
		                    version, s->shown, STORE_SCHEMA_VERSION);
	while (version < target) {
		/* one process at a time, then re-read: another may have migrated */
		if ((rc = db_begin_migration(s->db, err)) < 0)
			return rc;
		if ((rc = db_schema_version(s->db, &version, err)) < 0)
			goto fail;
		if (version >= target) {
			db_commit(s->db, NULL);
			break;
		}
		if ((rc = db_exec(s->db, migrations[version], err, "migrating the store")) < 0 ||
		    (rc = db_set_schema_version(s->db, version + 1, err)) < 0 ||
		    (rc = db_commit(s->db, err)) < 0)
			goto fail;
		version++;
	}
	return 0;
fail:
	db_rollback(s->db);
	dd_error_prefix(err, "schema migration to version %d failed: ", version + 1);
	return DD_ESTORE;
}

static struct dd_store *store_new(const char *where, struct db *db, int readonly)
{
	struct dd_store *s = dd_xcalloc(1, sizeof(*s));

	s->db = db;
	s->path = dd_xstrdup(where);
	s->shown = db_shown(db);
	s->readonly = readonly;
	return s;
}

static int open_at(const char *where, const char *password, int target, struct dd_store **out,
                   struct dd_error *err)
{
	struct db *db;
	int rc;

	*out = NULL;
	if ((rc = db_open(where, password, 0, &db, err)) < 0)
		return rc;
	*out = store_new(where, db, 0);
	if ((rc = migrate(*out, target, err)) < 0 || (rc = db_check_writable(db, err)) < 0) {
		store_close(*out);
		*out = NULL;
	}
	return rc;
}

static int open_readonly(const char *where, const char *password, struct dd_store **out, struct dd_error *err)
{
	struct db *db;
	int version = 0, rc;

	*out = NULL;
	if ((rc = db_open(where, password, 1, &db, err)) < 0)
		return rc;
	if ((rc = db_schema_version(db, &version, err)) == 0 && version != STORE_SCHEMA_VERSION)
		rc = dd_error_set(err, DD_ESTORE, "the store %s has schema %d and this dagdoc reads schema %d; "
		                  "it cannot be migrated while it is read-only: open it once where it can be "
		                  "written", db_shown(db), version, STORE_SCHEMA_VERSION);
	if (rc < 0) {
		db_close(db);
		return rc;
	}
	*out = store_new(where, db, 1);
	return 0;
}

int store_open_with(const char *where, const struct store_opts *o, struct dd_store **out, struct dd_error *err)
{
	const char *password = o ? o->password : NULL;

	if (o && o->readonly)
		return open_readonly(where, password, out, err);
	return open_at(where, password, STORE_SCHEMA_VERSION, out, err);
}

int store_open(const char *path, struct dd_store **out, struct dd_error *err)
{
	return open_at(path, NULL, STORE_SCHEMA_VERSION, out, err);
}

int store_open_readonly(const char *path, struct dd_store **out, struct dd_error *err)
{
	return open_readonly(path, NULL, out, err);
}

int store_readonly(const struct dd_store *s)
{
	return s->readonly;
}

int store_migrate_to(const char *path, int version, struct dd_error *err)
{
	struct dd_store *s;
	int rc;

	if (version < 1 || version > STORE_SCHEMA_VERSION)
		return dd_error_set(err, DD_EUSAGE, "schema version %d is not between 1 and %d",
		                    version, STORE_SCHEMA_VERSION);
	rc = open_at(path, NULL, version, &s, err);
	store_close(s);
	return rc;
}

void store_close(struct dd_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < S__COUNT; i++)
		db_finalize(s->stmts[i]);
	for (int k = 0; k < 2; k++)
		for (int r = 0; r <= ROWS_PER_PUT; r++)
			db_finalize(s->puts[k][r]);
	db_close(s->db);
	free(s->path);
	free(s);
}

const char *store_path(const struct dd_store *s)
{
	return s->path;
}

const char *store_shown(const struct dd_store *s)
{
	return s->shown;
}

int store_is_postgres(const struct dd_store *s)
{
	return db_backend(s->db) == DB_PG;
}

int store_is_url(const char *where)
{
	return db_is_url(where);
}

void store_register_password(const char *where)
{
	db_register_password(where);
}

char *store_redact(const char *where)
{
	return db_redact(where);
}

int store_schema_version(struct dd_store *s)
{
	int v = -1;

	db_schema_version(s->db, &v, NULL);
	return v;
}

int store_begin(struct dd_store *s, struct dd_error *err)
{
	if (db_in_tx(s->db))
		return dd_error_set(err, DD_ERR, "internal error: nested store transaction");
	return db_begin(s->db, err);
}

int store_commit(struct dd_store *s, struct dd_error *err)
{
	if (!db_in_tx(s->db))
		return 0;
	return db_commit(s->db, err);
}

void store_rollback(struct dd_store *s)
{
	if (s)
		db_rollback(s->db);
}

int store_in_transaction(const struct dd_store *s)
{
	return db_in_tx(s->db);
}

int store_sync_lock(struct dd_store *s, const char *source_name, struct dd_error *err)
{
	return db_sync_lock(s->db, source_name, err);
}

void store_sync_unlock(struct dd_store *s, const char *source_name)
{
	if (s)
		db_sync_unlock(s->db, source_name);
}

int store_refresh_statistics(struct dd_store *s, struct dd_error *err)
{
	return db_refresh_statistics(s->db, err);
}

/* ---- sources -------------------------------------------------------------- */

int store_source_put(struct dd_store *s, const char *name, const char *kind,
                     const char *description, int64_t *source_ref, struct dd_error *err)
{
	struct db_stmt *st = stmt(s, S_SOURCE_PUT, err);

	if (!st)
		return DD_ESTORE;
	bind_text(st, 1, name);
	bind_text(st, 2, kind ? kind : "");
	bind_text(st, 3, description);
	return exec_ref(s, st, source_ref, err, "saving a source", NULL);
}

int store_source_ref(struct dd_store *s, const char *name, int64_t *source_ref,
                     struct dd_error *err)
{
	struct db_stmt *st = stmt(s, S_SOURCE_REF, err);
	char msg[300];

	if (!st)
		return DD_ESTORE;
	snprintf(msg, sizeof(msg), "source %s has never been synced; run 'dagdoc sync --source %s'",
	         name, name);
	bind_text(st, 1, name);
	return exec_ref(s, st, source_ref, err, "looking up a source", msg);
}

int store_source_set_synced(struct dd_store *s, int64_t source_ref, int64_t when_ms,
                            struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_SOURCE_SYNCED, source_ref, err);

	if (!st)
		return DD_ESTORE;
	db_bind_int64(st, 2, when_ms);
	return exec_stmt(s, st, err, "saving a source");
}

int store_source_set_ui(struct dd_store *s, int64_t source_ref, const char *form, const char *base,
                        struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_SOURCE_UI_SET, source_ref, err);

	if (!st)
		return DD_ESTORE;
	bind_text(st, 2, form && *form ? form : NULL);
	bind_text(st, 3, base && *base ? base : NULL);
	return exec_stmt(s, st, err, "saving a source");
}

int store_source_ui(struct dd_store *s, int64_t source_ref, char **form, char **base, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_SOURCE_UI_GET, source_ref, err);
	int rc;

	*form = *base = NULL;
	if (!st)
		return DD_ESTORE;
	rc = db_step(st);
	if (rc == DB_ROW) {
		*form = col_text(st, 0);
		*base = col_text(st, 1);
	}
	rc = row_end(s, st, rc, err, "reading a source");
	return rc > 0 ? 0 : rc;
}

/* ---- DAGs ------------------------------------------------------------------ */

int store_dag_put(struct dd_store *s, int64_t source_ref, const struct dd_dag *dag,
                  int64_t *dag_ref, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_DAG_PUT, source_ref, err);
	int64_t ref = 0;
	int rc;

	if (!st)
		return DD_ESTORE;
	bind_text(st, 2, dag->dag_id);
	bind_text(st, 3, dag->fileloc);
	bind_text(st, 4, dag->external_id);
	db_bind_int64(st, 5, dag->is_paused);
	db_bind_int64(st, 6, dd_now_ms());
	if ((rc = exec_ref(s, st, &ref, err, "saving a DAG", NULL)) < 0)
		return rc;
	if (dag_ref)
		*dag_ref = ref;
	if (!dag->n_tasks)
		return 0;
	if ((rc = exec_with_ref(s, S_TASKS_DEL, ref, err, "saving a DAG's tasks")) < 0 ||
	    (rc = exec_with_ref(s, S_DEPS_DEL, ref, err, "saving a DAG's tasks")) < 0)
		return rc;
	for (size_t i = 0; i < dag->n_tasks; i++) {
		const struct dd_task *t = &dag->tasks[i];

		if (!t->task_id)
			continue;
		if (!(st = stmt_ref(s, S_TASK_INS, ref, err)))
			return DD_ESTORE;
		bind_text(st, 2, t->task_id);
		bind_text(st, 3, t->operator_name);
		db_bind_int64(st, 4, t->is_sensor);
		if ((rc = exec_stmt(s, st, err, "saving a DAG's tasks")) < 0)
			return rc;
		for (size_t j = 0; j < t->n_downstream; j++) {
			if (!t->downstream[j])
				continue;
			if (!(st = stmt_ref(s, S_DEP_INS, ref, err)))
				return DD_ESTORE;
			bind_text(st, 2, t->task_id);
			bind_text(st, 3, t->downstream[j]);
			if ((rc = exec_stmt(s, st, err, "saving a DAG's dependencies")) < 0)
				return rc;
		}
	}
	return 0;
}

int store_dag_ref(struct dd_store *s, const char *source_name, const char *dag_id,
                  int64_t *dag_ref, struct dd_error *err)
{
	struct db_stmt *st = stmt(s, source_name ? S_DAG_REF : S_DAG_REF_ANY, err);
	char msg[600];

	if (!st)
		return DD_ESTORE;
	if (source_name) {
		snprintf(msg, sizeof(msg), "no DAG named %s from source %s in the store; run "
		         "'dagdoc sync --source %s %s' first", dag_id, source_name, source_name, dag_id);
		bind_text(st, 1, source_name);
		bind_text(st, 2, dag_id);
	} else {
		snprintf(msg, sizeof(msg), "no DAG named %s in the store; run 'dagdoc sync %s' first",
		         dag_id, dag_id);
		bind_text(st, 1, dag_id);
	}
	return exec_ref(s, st, dag_ref, err, "looking up a DAG", msg);
}

static struct dd_task *find_task(struct dd_dag *d, const char *task_id)
{
	for (size_t i = 0; i < d->n_tasks; i++)
		if (!strcmp(d->tasks[i].task_id, task_id))
			return &d->tasks[i];
	return NULL;
}

int store_dag_get(struct dd_store *s, int64_t dag_ref, struct dd_dag *out, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_DAG_GET, dag_ref, err);
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return DD_ESTORE;
	rc = db_step(st);
	if (rc != DB_ROW) {
		if ((rc = row_end(s, st, rc, err, "reading a DAG")) < 0)
			return rc;
		return dd_error_set(err, DD_ENOTFOUND, "no DAG with ref %lld in the store",
		                    (long long)dag_ref);
	}
	out->dag_id = col_text(st, 0);
	out->fileloc = col_text(st, 1);
	out->external_id = col_text(st, 2);
	out->is_paused = db_col_int(st, 3);
	done(st);

	if (!(st = stmt_ref(s, S_TASKS_GET, dag_ref, err)))
		goto fail;
	while ((rc = db_step(st)) == DB_ROW) {
		struct dd_task *t;

		DD_GROW(out->tasks, cap, out->n_tasks + 1);
		t = &out->tasks[out->n_tasks++];
		memset(t, 0, sizeof(*t));
		t->task_id = col_text(st, 0);
		t->operator_name = col_text(st, 1);
		t->is_sensor = db_col_int(st, 2);
	}
	done(st);
	if (rc != DB_DONE) {
		db_fail(s, err, "reading a DAG's tasks");
		goto fail;
	}
	if (!(st = stmt_ref(s, S_DEPS_GET, dag_ref, err)))
		goto fail;
	while ((rc = db_step(st)) == DB_ROW) {
		struct dd_task *t = find_task(out, db_col_text(st, 0));

		if (!t)
			continue;
		t->downstream = dd_xrealloc(t->downstream, (t->n_downstream + 2) * sizeof(char *));
		t->downstream[t->n_downstream++] = col_text(st, 1);
		t->downstream[t->n_downstream] = NULL;
	}
	done(st);
	if (rc != DB_DONE) {
		db_fail(s, err, "reading a DAG's dependencies");
		goto fail;
	}
	return 0;
fail:
	dd_dag_release(out);
	return DD_ESTORE;
}

int store_dags(struct dd_store *s, int64_t source_ref, store_dag_cb cb, void *ud,
               struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_DAGS, source_ref, err);
	int rc, r = 0;

	if (!st)
		return DD_ESTORE;
	while ((rc = db_step(st)) == DB_ROW) {
		struct dd_store_dag d = {
			.ref = db_col_int64(st, 0),
			.source_ref = db_col_int64(st, 1),
			.source_name = db_col_text(st, 2),
			.dag_id = db_col_text(st, 3),
			.fileloc = db_col_text(st, 4),
			.is_paused = db_col_int(st, 5),
			.n_runs = db_col_int64(st, 6),
			.last_logical_ms = db_col_int64(st, 7),
			.source_kind = db_col_text(st, 8),
		};

		if ((r = cb(&d, ud)) != 0)
			break;
	}
	return rows_end(s, st, rc, r, err, "listing DAGs");
}

/* ---- runs, task instances, tries ---------------------------------------- */

int store_run_put(struct dd_store *s, int64_t dag_ref, const struct dd_run *run,
                  int64_t *run_ref, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_RUN_PUT, dag_ref, err);

	if (!st)
		return DD_ESTORE;
	bind_text(st, 2, run->run_id);
	bind_text(st, 3, run->run_name);
	bind_text(st, 4, dd_state_name(run->state));
	bind_text(st, 5, run->run_type);
	db_bind_int64(st, 6, run->logical_ms);
	bind_times(st, 7, run->queued_ms, run->start_ms, run->end_ms, run->note);
	return exec_ref(s, st, run_ref, err, "saving a run", NULL);
}

static void read_run(struct db_stmt *st, struct dd_store_run *r)
{
	memset(r, 0, sizeof(*r));
	r->ref = db_col_int64(st, 0);
	r->dag_ref = db_col_int64(st, 1);
	r->run.run_id = col_text(st, 2);
	r->run.run_name = col_text(st, 3);
	r->run.state = dd_state_parse(db_col_text(st, 4));
	r->run.run_type = col_text(st, 5);
	r->run.logical_ms = db_col_int64(st, 6);
	read_times(st, 7, &r->run.queued_ms, &r->run.start_ms, &r->run.end_ms, &r->run.note);
}

int store_run_get(struct dd_store *s, int64_t dag_ref, const char *run_id,
                  struct dd_store_run *out, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_RUN_GET, dag_ref, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return DD_ESTORE;
	bind_text(st, 2, run_id);
	rc = db_step(st);
	if (rc == DB_ROW)
		read_run(st, out);
	if ((rc = row_end(s, st, rc, err, "reading a run")) != 1)
		return rc;
	return dd_error_set(err, DD_ENOTFOUND, "run %s is not in the store", run_id);
}

int store_runs(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int64_t to_ms,
               store_run_cb cb, void *ud, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_RUNS, dag_ref, err);
	int rc, r = 0;

	if (!st)
		return DD_ESTORE;
	db_bind_int64(st, 2, from_ms);
	db_bind_int64(st, 3, to_ms);
	while ((rc = db_step(st)) == DB_ROW) {
		struct dd_store_run run;

		read_run(st, &run);
		r = cb(&run, ud);
		dd_run_release(&run.run);
		if (r)
			break;
	}
	return rows_end(s, st, rc, r, err, "reading runs");
}

int store_run_version_put(struct dd_store *s, int64_t run_ref, const char *bundle_version, int dag_version,
                          struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_RUN_VERSION_PUT, run_ref, err);
	int rc;

	if (!st)
		return DD_ESTORE;
	bind_text(st, 2, bundle_version);
	db_bind_int64(st, 3, dag_version);
	rc = db_step(st);
	done(st);
	return rc == DB_DONE ? 0 : db_fail(s, err, "saving a run's version");
}

int store_run_versions(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int64_t to_ms,
                       store_run_version_cb cb, void *ud, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_RUN_VERSIONS, dag_ref, err);
	int rc, r = 0;

	if (!st)
		return DD_ESTORE;
	db_bind_int64(st, 2, from_ms);
	db_bind_int64(st, 3, to_ms);
	while ((rc = db_step(st)) == DB_ROW) {
		r = cb(db_col_int64(st, 0), db_col_text(st, 1), db_col_int(st, 2), ud);
		if (r)
			break;
	}
	return rows_end(s, st, rc, r, err, "reading the runs' versions");
}

int store_count(struct dd_store *s, int64_t dag_ref, int64_t *n_runs, int64_t *n_tis,
                int64_t *n_tries, int64_t *n_logs, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_COUNT, dag_ref, err);
	int rc;

	if (!st)
		return DD_ESTORE;
	rc = db_step(st);
	if (rc == DB_ROW) {
		if (n_runs)
			*n_runs = db_col_int64(st, 0);
		if (n_tis)
			*n_tis = db_col_int64(st, 1);
		if (n_tries)
			*n_tries = db_col_int64(st, 2);
		if (n_logs)
			*n_logs = db_col_int64(st, 3);
	}
	done(st);
	if (rc != DB_ROW)
		return db_fail(s, err, "counting runs");
	return 0;
}

/* Binds a task instance's row, ?(at+1) to ?(at+TI_COLS). */
static void bind_ti(struct db_stmt *st, int at, int64_t run_ref, const struct dd_task_instance *ti)
{
	db_bind_int64(st, at + 1, run_ref);
	bind_text(st, at + 2, ti->task_id);
	db_bind_int64(st, at + 3, ti->map_index);
	bind_text(st, at + 4, dd_state_name(ti->state));
	db_bind_int64(st, at + 5, ti->try_number);
	db_bind_int64(st, at + 6, ti->max_tries);
	bind_text(st, at + 7, ti->operator_name);
	bind_text(st, at + 8, ti->hostname);
	bind_text(st, at + 9, ti->external_id);
	bind_times(st, at + 10, ti->queued_ms, ti->start_ms, ti->end_ms, ti->note);
}

/* Binds a try's row, ?(at+1) to ?(at+TRY_COLS_PUT). */
static void bind_try(struct db_stmt *st, int at, int64_t ti_ref, const struct dd_try *t)
{
	db_bind_int64(st, at + 1, ti_ref);
	db_bind_int64(st, at + 2, t->try_number);
	bind_text(st, at + 3, dd_state_name(t->state));
	bind_text(st, at + 4, t->hostname);
	bind_times(st, at + 5, t->queued_ms, t->start_ms, t->end_ms, t->note);
}

int store_ti_put(struct dd_store *s, int64_t run_ref, const struct dd_task_instance *ti,
                 int64_t *ti_ref, struct dd_error *err)
{
	struct db_stmt *st = stmt(s, S_TI_PUT, err);

	if (!st)
		return DD_ESTORE;
	bind_ti(st, 0, run_ref, ti);
	return exec_ref(s, st, ti_ref, err, "saving a task instance", NULL);
}

/* ---- many task instances and tries per statement -------------------------- */

struct ti_key {                 /* a task instance of store_tis_put's rows */
	const struct dd_task_instance *ti;
	size_t at;                  /* its index in rows[] */
	int64_t ref;
};

struct try_key {
	int64_t ti_ref;
	const struct dd_try *t;
	size_t at;                  /* its order among the run's tries */
};

/* Task instances by their key in a run: task_id, map_index. */
static int cmp_ti(const struct dd_task_instance *a, const struct dd_task_instance *b)
{
	int c = strcmp(a->task_id ? a->task_id : "", b->task_id ? b->task_id : "");

	if (c)
		return c;
	return a->map_index < b->map_index ? -1 : a->map_index > b->map_index;
}

static int cmp_ti_only(const void *a, const void *b)
{
	return cmp_ti(((const struct ti_key *)a)->ti, ((const struct ti_key *)b)->ti);
}

static int cmp_ti_key(const void *a, const void *b)
{
	const struct ti_key *x = a, *y = b;
	int c = cmp_ti(x->ti, y->ti);

	return c ? c : x->at < y->at ? -1 : x->at > y->at;
}

static int cmp_try_key(const void *a, const void *b)
{
	const struct try_key *x = a, *y = b;

	if (x->ti_ref != y->ti_ref)
		return x->ti_ref < y->ti_ref ? -1 : 1;
	if (x->t->try_number != y->t->try_number)
		return x->t->try_number < y->t->try_number ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* The statement writing `rows` rows of kind 0 (task instances, returning
 * id, task_id, map_index) or 1 (tries), prepared at its first use. */
static struct db_stmt *put_stmt(struct dd_store *s, int kind, int rows, struct dd_error *err)
{
	struct db_stmt **st = &s->puts[kind][rows];
	int cols = kind ? TRY_COLS_PUT : TI_COLS;
	struct dd_buf b = DD_BUF_INIT;

	if (*st)
		return *st;
	dd_buf_adds(&b, kind ? TRY_INSERT : TI_INSERT);
	for (int r = 0; r < rows; r++) {
		dd_buf_adds(&b, r ? ", (" : "(");
		for (int c = 1; c <= cols; c++)
			dd_buf_addf(&b, "%s?%d", c > 1 ? ", " : "", r * cols + c);
		dd_buf_adds(&b, ")");
	}
	dd_buf_adds(&b, kind ? TRY_UPSERT : TI_UPSERT "RETURNING id, task_id, map_index");
	*st = db_prepare(s->db, dd_buf_str(&b), err);
	dd_buf_release(&b);
	return *st;
}

/* Writes keys[0..n) (distinct task instances) and sets their refs from
 * what the statement returns (found by key: the order rows come back in
 * is not promised). */
static int put_tis(struct dd_store *s, int64_t run_ref, struct ti_key *keys, size_t n, struct dd_error *err)
{
	for (size_t from = 0; from < n; from += ROWS_PER_PUT) {
		int rows = (int)(n - from < ROWS_PER_PUT ? n - from : ROWS_PER_PUT), rc;
		struct db_stmt *st = put_stmt(s, 0, rows, err);

		if (!st)
			return DD_ESTORE;
		for (int r = 0; r < rows; r++)
			bind_ti(st, r * TI_COLS, run_ref, keys[from + (size_t)r].ti);
		while ((rc = db_step(st)) == DB_ROW) {
			struct dd_task_instance got = { .task_id = (char *)db_col_text(st, 1),
			                                .map_index = db_col_int(st, 2) };

			for (size_t i = from; i < from + (size_t)rows; i++)
				if (!cmp_ti(&got, keys[i].ti)) {
					keys[i].ref = db_col_int64(st, 0);
					break;
				}
		}
		done(st);
		if (rc == DB_FAIL)
			return db_fail(s, err, "saving task instances");
	}
	for (size_t i = 0; i < n; i++)
		if (!keys[i].ref)
			return dd_error_set(err, DD_ESTORE, "saving task instances: the store %s did not return "
			                    "the id of %s[%d]", s->shown, keys[i].ti->task_id, keys[i].ti->map_index);
	return 0;
}

static int put_tries(struct dd_store *s, const struct try_key *keys, size_t n, struct dd_error *err)
{
	for (size_t from = 0; from < n; from += ROWS_PER_PUT) {
		int rows = (int)(n - from < ROWS_PER_PUT ? n - from : ROWS_PER_PUT), rc;
		struct db_stmt *st = put_stmt(s, 1, rows, err);

		if (!st)
			return DD_ESTORE;
		for (int r = 0; r < rows; r++)
			bind_try(st, r * TRY_COLS_PUT, keys[from + (size_t)r].ti_ref, keys[from + (size_t)r].t);
		if ((rc = exec_stmt(s, st, err, "saving tries")) < 0)
			return rc;
	}
	return 0;
}

int store_tis_put(struct dd_store *s, int64_t run_ref, const struct store_ti_rows *rows, size_t n,
                  struct dd_error *err)
{
	struct ti_key *keys = dd_xcalloc(n + 1, sizeof(*keys));
	struct try_key *tries = NULL;
	size_t n_keys = 0, n_tries = 0, total = 0;
	int rc;

	/* one row per key, the last given (as one upsert after another keeps) */
	for (size_t i = 0; i < n; i++)
		keys[i] = (struct ti_key){ .ti = rows[i].ti, .at = i };
	dd_qsort(keys, n, sizeof(*keys), cmp_ti_key);
	for (size_t i = 0; i < n; i++)
		if (i + 1 == n || cmp_ti(keys[i].ti, keys[i + 1].ti))
			keys[n_keys++] = keys[i];
	rc = put_tis(s, run_ref, keys, n_keys, err);
	/* every row's tries, under its key's ref; a try given twice: the last */
	for (size_t i = 0; i < n && rc == 0; i++)
		total += rows[i].n_tries;
	if (rc == 0 && total) {
		tries = dd_xcalloc(total, sizeof(*tries));
		for (size_t i = 0; i < n; i++) {
			struct ti_key probe = { .ti = rows[i].ti };
			const struct ti_key *k = bsearch(&probe, keys, n_keys, sizeof(*keys), cmp_ti_only);
			for (size_t j = 0; k && j < rows[i].n_tries; j++, n_tries++)
				tries[n_tries] = (struct try_key){ k->ref, &rows[i].tries[j], n_tries };
		}
		dd_qsort(tries, n_tries, sizeof(*tries), cmp_try_key);
		total = 0;
		for (size_t i = 0; i < n_tries; i++)
			if (i + 1 == n_tries || tries[i].ti_ref != tries[i + 1].ti_ref ||
			    tries[i].t->try_number != tries[i + 1].t->try_number)
				tries[total++] = tries[i];
		rc = put_tries(s, tries, total, err);
	}
	free(tries);
	free(keys);
	return rc;
}

int store_task_instances(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int64_t to_ms,
                         store_ti_cb cb, void *ud, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_TIS, dag_ref, err);
	int rc, r = 0;

	if (!st)
		return DD_ESTORE;
	db_bind_int64(st, 2, from_ms);
	db_bind_int64(st, 3, to_ms);
	while ((rc = db_step(st)) == DB_ROW) {
		struct dd_store_ti x;

		memset(&x, 0, sizeof(x));
		x.ref = db_col_int64(st, 0);
		x.run_ref = db_col_int64(st, 1);
		x.ti.run_id = col_text(st, 2);
		x.ti.task_id = col_text(st, 3);
		x.ti.map_index = db_col_int(st, 4);
		x.ti.state = dd_state_parse(db_col_text(st, 5));
		x.ti.try_number = db_col_int(st, 6);
		x.ti.max_tries = db_col_int(st, 7);
		x.ti.operator_name = col_text(st, 8);
		x.ti.hostname = col_text(st, 9);
		x.ti.external_id = col_text(st, 10);
		read_times(st, 11, &x.ti.queued_ms, &x.ti.start_ms, &x.ti.end_ms, &x.ti.note);
		r = cb(&x, ud);
		dd_task_instance_release(&x.ti);
		if (r)
			break;
	}
	return rows_end(s, st, rc, r, err, "reading task instances");
}

int store_try_put(struct dd_store *s, int64_t ti_ref, const struct dd_try *t,
                  int64_t *try_ref, struct dd_error *err)
{
	struct db_stmt *st = stmt(s, S_TRY_PUT, err);

	if (!st)
		return DD_ESTORE;
	bind_try(st, 0, ti_ref, t);
	return exec_ref(s, st, try_ref, err, "saving a try", NULL);
}

/* Iterates try rows (TRY_COLS) of a bound statement. */
static int each_try(struct dd_store *s, struct db_stmt *st, store_try_cb cb, void *ud,
                    int *n_rows, struct dd_error *err)
{
	int rc, r = 0, n = 0;

	while ((rc = db_step(st)) == DB_ROW) {
		struct dd_store_try x;

		memset(&x, 0, sizeof(x));
		x.ref = db_col_int64(st, 0);
		x.ti_ref = db_col_int64(st, 1);
		x.run_ref = db_col_int64(st, 2);
		x.t.run_id = col_text(st, 3);
		x.t.task_id = col_text(st, 4);
		x.t.map_index = db_col_int(st, 5);
		x.t.try_number = db_col_int(st, 6);
		x.t.state = dd_state_parse(db_col_text(st, 7));
		x.t.hostname = col_text(st, 8);
		read_times(st, 9, &x.t.queued_ms, &x.t.start_ms, &x.t.end_ms, &x.t.note);
		x.logical_ms = db_col_int64(st, 13);
		x.ti_external_id = db_col_text(st, 14);
		x.has_log = db_col_int(st, 15);
		x.log_missing = db_col_int(st, 16);
		x.log_size = db_col_int64(st, 17);
		x.log_truncated = db_col_int(st, 18);
		n++;
		r = cb(&x, ud);
		dd_try_release(&x.t);
		if (r)
			break;
	}
	if (n_rows)
		*n_rows = n;
	return rows_end(s, st, rc, r, err, "reading tries");
}

int store_tries(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int64_t to_ms,
                store_try_cb cb, void *ud, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_TRIES, dag_ref, err);

	if (!st)
		return DD_ESTORE;
	db_bind_int64(st, 2, from_ms);
	db_bind_int64(st, 3, to_ms);
	return each_try(s, st, cb, ud, NULL, err);
}

int store_failed_tries(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int64_t to_ms,
                       int only_without_log, store_try_cb cb, void *ud, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_FAILED_TRIES, dag_ref, err);

	if (!st)
		return DD_ESTORE;
	db_bind_int64(st, 2, from_ms);
	db_bind_int64(st, 3, to_ms);
	db_bind_int64(st, 4, only_without_log ? 1 : 0);
	return each_try(s, st, cb, ud, NULL, err);
}

int store_last_success_try(struct dd_store *s, int64_t dag_ref, const char *task_id,
                           int64_t before_ms, store_try_cb cb, void *ud, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_LAST_SUCCESS, dag_ref, err);
	int n = 0, rc;

	if (!st)
		return DD_ESTORE;
	bind_text(st, 2, task_id);
	db_bind_int64(st, 3, before_ms);
	rc = each_try(s, st, cb, ud, &n, err);
	if (rc)
		return rc;
	if (!n)
		return dd_error_set(err, DD_ENOTFOUND, "task %s has no successful try in the store",
		                    task_id);
	return 0;
}

int store_recent_successes(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int per_task, store_try_cb cb,
                           void *ud, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_RECENT_SUCCESSES, dag_ref, err);

	if (!st)
		return DD_ESTORE;
	db_bind_int64(st, 2, from_ms);
	db_bind_int64(st, 3, per_task);
	return each_try(s, st, cb, ud, NULL, err);
}

/* ---- logs ------------------------------------------------------------------ */

size_t store_log_cap(const char *text, size_t len, size_t max_bytes, struct dd_buf *out)
{
	char marker[128];
	size_t head, tail, mlen, omitted;

	if (!max_bytes)
		max_bytes = STORE_LOG_DEFAULT_MAX;
	if (len <= max_bytes) {
		dd_buf_add(out, text, len);
		return 0;
	}
	/* The marker's length depends on the omitted count: size it for the
	 * worst case, then fill the tail exactly. */
	mlen = dd_omitted_marker(marker, sizeof(marker), len, max_bytes);
	if (max_bytes < mlen + 2) {
		dd_buf_add(out, text, max_bytes);
		return len - max_bytes;
	}
	head = STORE_LOG_HEAD_BYTES;
	if (head > (max_bytes - mlen - 1) / 2)
		head = (max_bytes - mlen - 1) / 2;
	/* End the head at a line boundary when there is one. */
	for (size_t i = head; i > head / 2; i--)
		if (text[i - 1] == '\n') {
			head = i;
			break;
		}
	tail = max_bytes > head + mlen + 1 ? max_bytes - head - mlen - 1 : 0;
	/* Start the tail at a line boundary when there is one. */
	{
		size_t start = len - tail, lim = start + tail / 2;

		for (size_t i = start; i < lim && i < len; i++)
			if (text[i] == '\n' && i > 0) {
				tail = len - (i + 1);
				break;
			}
	}
	omitted = len - head - tail;
	mlen = dd_omitted_marker(marker, sizeof(marker), omitted, max_bytes);
	dd_buf_add(out, text, head);
	if (head && text[head - 1] != '\n')
		dd_buf_addch(out, '\n');
	dd_buf_add(out, marker, mlen);
	dd_buf_add(out, text + len - tail, tail);
	return omitted;
}

int store_log_pack(const char *text, size_t len, int truncated, size_t max_bytes,
                   struct dd_store_log_blob *out, struct dd_error *err)
{
	struct dd_buf capped = DD_BUF_INIT, masked = DD_BUF_INIT;
	const char *src = text ? text : "";
	size_t src_len = text ? len : 0;
	uLongf zlen;

	memset(out, 0, sizeof(*out));
	if (!max_bytes)
		max_bytes = STORE_LOG_DEFAULT_MAX;
	if (secrets_found(src, src_len)) {
		/* a credential echoed into a log is never stored */
		secrets_mask_append(&masked, src, src_len);
		src = masked.data;
		src_len = masked.len;
	}
	if (src_len > max_bytes) {
		store_log_cap(src, src_len, max_bytes, &capped);
		src = capped.data;
		src_len = capped.len;
		truncated = 1;
	}
	zlen = compressBound((uLong)src_len);
	out->data = dd_xmalloc(zlen ? zlen : 1);
	if (compress2(out->data, &zlen, (const Bytef *)src, (uLong)src_len, 6) != Z_OK) {
		store_log_blob_release(out);
		dd_buf_release(&capped);
		dd_buf_release(&masked);
		return dd_error_set(err, DD_ERR, "compressing a log failed (zlib)");
	}
	/* Give back what compressBound over-reserved. */
	out->data = dd_xrealloc(out->data, zlen ? zlen : 1);
	out->size = zlen;
	out->original_size = text ? (int64_t)len : 0;
	out->text_size = (int64_t)src_len;
	out->truncated = truncated ? 1 : 0;
	dd_buf_release(&capped);
	dd_buf_release(&masked);
	return 0;
}

void store_log_blob_release(struct dd_store_log_blob *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int store_log_put_blob(struct dd_store *s, int64_t try_ref, const struct dd_store_log_blob *b,
                       struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_LOG_PUT, try_ref, err);

	if (!st)
		return DD_ESTORE;
	db_bind_int64(st, 2, b->original_size);
	db_bind_int64(st, 3, b->text_size);
	db_bind_int64(st, 4, b->truncated);
	db_bind_int64(st, 5, 0);
	db_bind_null(st, 6);
	db_bind_blob(st, 7, b->data, b->size);
	db_bind_int64(st, 8, dd_now_ms());
	return exec_stmt(s, st, err, "saving a log");
}

int store_log_put(struct dd_store *s, int64_t try_ref, const char *text, size_t len,
                  int truncated, size_t max_bytes, struct dd_error *err)
{
	struct dd_store_log_blob b;
	int rc = store_log_pack(text, len, truncated, max_bytes, &b, err);

	if (rc < 0)
		return rc;
	rc = store_log_put_blob(s, try_ref, &b, err);
	store_log_blob_release(&b);
	return rc;
}

int store_log_put_missing(struct dd_store *s, int64_t try_ref, const char *reason,
                          struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_LOG_PUT, try_ref, err);

	if (!st)
		return DD_ESTORE;
	db_bind_int64(st, 2, 0);
	db_bind_int64(st, 3, 0);
	db_bind_int64(st, 4, 0);
	db_bind_int64(st, 5, 1);
	bind_text(st, 6, reason);
	db_bind_null(st, 7);
	db_bind_int64(st, 8, dd_now_ms());
	return exec_stmt(s, st, err, "saving a log");
}

int store_log_get(struct dd_store *s, int64_t try_ref, struct dd_buf *out,
                  struct dd_store_log_info *info, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_LOG_GET, try_ref, err);
	struct dd_store_log_info li;
	int rc;

	memset(&li, 0, sizeof(li));
	if (info)
		*info = li;
	if (!st)
		return DD_ESTORE;
	rc = db_step(st);
	if (rc != DB_ROW) {
		if ((rc = row_end(s, st, rc, err, "reading a log")) < 0)
			return rc;
		return dd_error_set(err, DD_ENOTFOUND, "no log stored for this try; run "
		                    "'dagdoc sync' to fetch it");
	}
	li.original_size = db_col_int64(st, 0);
	li.text_size = db_col_int64(st, 1);
	li.truncated = db_col_int(st, 2);
	li.missing = db_col_int(st, 3);
	li.stored_size = db_col_bytes(st, 4);
	if (info)
		*info = li;
	if (li.missing) {
		done(st);
		return dd_error_set(err, DD_ENOTFOUND, "the source had no log for this try");
	}
	{
		const Bytef *z = db_col_blob(st, 4);
		uLongf n = (uLongf)li.text_size;

		dd_buf_grow(out, (size_t)li.text_size + 1);
		if (li.text_size && (!z || uncompress((Bytef *)out->data + out->len, &n, z,
		                                      (uLong)li.stored_size) != Z_OK ||
		                     n != (uLongf)li.text_size)) {
			done(st);
			if (out->data)
				out->data[out->len] = '\0';
			return dd_error_set(err, DD_ESTORE, "a stored log in %s is damaged; run "
			                    "'dagdoc sync' again after deleting the store", s->shown);
		}
		out->len += (size_t)li.text_size;
		out->data[out->len] = '\0';
	}
	done(st);
	return 0;
}

/* ---- classifications ---------------------------------------------------- */

void store_classification_release(struct dd_store_classification *c)
{
	free(c->category);
	free(c->pattern_id);
	free(c->fingerprint);
	free(c->failure_json);
	memset(c, 0, sizeof(*c));
}

int store_classification_put(struct dd_store *s, int64_t try_ref, const char *library_hash,
                             const struct dd_store_classification *c, struct dd_error *err)
{
	struct db_stmt *st;

	if (s->readonly)
		return 0;       /* a cache: a store opened read-only keeps none */
	st = stmt_ref(s, S_CLASS_PUT, try_ref, err);
	if (!st)
		return DD_ESTORE;
	bind_text(st, 2, library_hash);
	bind_text(st, 3, c->category);
	bind_text(st, 4, c->pattern_id);
	bind_text(st, 5, c->fingerprint);
	db_bind_double(st, 6, c->confidence);
	bind_text(st, 7, c->failure_json);
	db_bind_int64(st, 8, c->created_ms ? c->created_ms : dd_now_ms());
	return exec_stmt(s, st, err, "saving a classification");
}

int store_classification_get(struct dd_store *s, int64_t try_ref, const char *library_hash,
                             struct dd_store_classification *out, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_CLASS_GET, try_ref, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return DD_ESTORE;
	bind_text(st, 2, library_hash);
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->category = col_text(st, 0);
		out->pattern_id = col_text(st, 1);
		out->fingerprint = col_text(st, 2);
		out->confidence = db_col_double(st, 3);
		out->failure_json = col_text(st, 4);
		out->created_ms = db_col_int64(st, 5);
	}
	if ((rc = row_end(s, st, rc, err, "reading a classification")) != 1)
		return rc;
	return dd_error_set(err, DD_ENOTFOUND, "this try has not been classified with this "
	                    "pattern library");
}

/* ---- import errors and health ------------------------------------------ */

int store_import_errors_replace(struct dd_store *s, int64_t source_ref,
                                const struct dd_import_error *ies, size_t n,
                                struct dd_error *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = exec_with_ref(s, S_IE_DEL, source_ref, err, "saving import errors")) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!(st = stmt_ref(s, S_IE_INS, source_ref, err)))
			return DD_ESTORE;
		bind_text(st, 2, ies[i].filename ? ies[i].filename : "");
		bind_text(st, 3, ies[i].stack_trace);
		db_bind_int64(st, 4, ies[i].timestamp_ms);
		if ((rc = exec_stmt(s, st, err, "saving import errors")) < 0)
			return rc;
	}
	return 0;
}

int store_import_errors(struct dd_store *s, int64_t source_ref, dd_import_error_cb cb,
                        void *ud, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_IE_GET, source_ref, err);
	int rc, r = 0;

	if (!st)
		return DD_ESTORE;
	while ((rc = db_step(st)) == DB_ROW) {
		struct dd_import_error ie = {
			.filename = (char *)db_col_text(st, 0),
			.stack_trace = (char *)db_col_text(st, 1),
			.timestamp_ms = db_col_int64(st, 2),
		};

		if ((r = cb(&ie, ud)) != 0)
			break;
	}
	return rows_end(s, st, rc, r, err, "reading import errors");
}

int store_health_put(struct dd_store *s, int64_t source_ref, int64_t taken_ms,
                     const struct dd_health *h, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_HEALTH_PUT, source_ref, err);

	if (!st)
		return DD_ESTORE;
	db_bind_int64(st, 2, taken_ms);
	bind_text(st, 3, h->scheduler_status);
	db_bind_int64(st, 4, h->scheduler_heartbeat_ms);
	bind_text(st, 5, h->metadatabase_status);
	bind_text(st, 6, h->detail);
	return exec_stmt(s, st, err, "saving a health snapshot");
}

int store_health_latest(struct dd_store *s, int64_t source_ref, struct dd_health *out,
                        int64_t *taken_ms, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_HEALTH_GET, source_ref, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return DD_ESTORE;
	rc = db_step(st);
	if (rc == DB_ROW) {
		if (taken_ms)
			*taken_ms = db_col_int64(st, 0);
		out->scheduler_status = col_text(st, 1);
		out->scheduler_heartbeat_ms = db_col_int64(st, 2);
		out->metadatabase_status = col_text(st, 3);
		out->detail = col_text(st, 4);
	}
	if ((rc = row_end(s, st, rc, err, "reading a health snapshot")) != 1)
		return rc;
	return dd_error_set(err, DD_ENOTFOUND, "no health snapshot stored for this source");
}

/* ---- sync cursors ---------------------------------------------------------- */

int store_cursor_put(struct dd_store *s, int64_t source_ref, const char *dag_id,
                     const char *key, const char *value, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_CURSOR_PUT, source_ref, err);

	if (!st)
		return DD_ESTORE;
	bind_text(st, 2, dag_id ? dag_id : "");
	bind_text(st, 3, key);
	bind_text(st, 4, value);
	return exec_stmt(s, st, err, "saving a sync cursor");
}

int store_cursor_get(struct dd_store *s, int64_t source_ref, const char *dag_id,
                     const char *key, char **value, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_CURSOR_GET, source_ref, err);
	int rc;

	*value = NULL;
	if (!st)
		return DD_ESTORE;
	bind_text(st, 2, dag_id ? dag_id : "");
	bind_text(st, 3, key);
	rc = db_step(st);
	if (rc == DB_ROW)
		*value = col_text(st, 0);
	if ((rc = row_end(s, st, rc, err, "reading a sync cursor")) < 0 || (rc == 0 && *value))
		return rc;
	return dd_error_set(err, DD_ENOTFOUND, "sync cursor %s is unset", key);
}

int store_cursor_put_i64(struct dd_store *s, int64_t source_ref, const char *dag_id,
                         const char *key, int64_t value, struct dd_error *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)value);
	return store_cursor_put(s, source_ref, dag_id, key, buf, err);
}

int store_cursor_get_i64(struct dd_store *s, int64_t source_ref, const char *dag_id,
                         const char *key, int64_t *value, struct dd_error *err)
{
	char *v, *end;
	long long x;
	int rc = store_cursor_get(s, source_ref, dag_id, key, &v, err);

	if (rc < 0)
		return rc;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || end == v || *end) {
		rc = dd_error_set(err, DD_EPARSE, "sync cursor %s holds '%s', not a number", key, v);
		free(v);
		return rc;
	}
	free(v);
	*value = x;
	return 0;
}

/* ---- report history ------------------------------------------------------ */

int store_report_put(struct dd_store *s, int64_t report_ms, const char *scope,
                     const char *fingerprint, struct dd_error *err)
{
	struct db_stmt *st = stmt_ref(s, S_REPORT_PUT, report_ms, err);

	if (!st)
		return DD_ESTORE;
	bind_text(st, 2, scope);
	bind_text(st, 3, fingerprint);
	return exec_stmt(s, st, err, "saving report history");
}

int store_report_seen(struct dd_store *s, const char *scope, const char *fingerprint,
                      int64_t before_ms, int64_t *count, int64_t *first_ms,
                      struct dd_error *err)
{
	struct db_stmt *st = stmt(s, S_REPORT_SEEN, err);
	int rc;

	if (!st)
		return DD_ESTORE;
	bind_text(st, 1, scope);
	bind_text(st, 2, fingerprint);
	db_bind_int64(st, 3, before_ms);
	rc = db_step(st);
	if (rc == DB_ROW) {
		if (count)
			*count = db_col_int64(st, 0);
		if (first_ms)
			*first_ms = db_col_int64(st, 1);
	}
	done(st);
	if (rc != DB_ROW)
		return db_fail(s, err, "reading report history");
	return 0;
}

/* ---- what engineers established ------------------------------------------ */

int store_fact_put(struct dd_store *s, const struct dd_store_fact *f, struct dd_error *err)
{
	struct db_stmt *st = stmt(s, S_FACT_PUT, err);

	if (!st)
		return DD_ESTORE;
	bind_text(st, 1, f->fingerprint);
	bind_text(st, 2, f->kind);
	db_bind_int64(st, 3, f->verdict);
	bind_text(st, 4, f->what);
	bind_text(st, 5, f->tool);
	bind_text(st, 6, f->detail);
	bind_text(st, 7, f->user);
	db_bind_int64(st, 8, f->at_ms);
	return exec_stmt(s, st, err, "saving what was established");
}

int store_facts(struct dd_store *s, int (*cb)(const struct dd_store_fact *f, void *ud), void *ud,
                struct dd_error *err)
{
	struct db_stmt *st = stmt(s, S_FACTS, err);
	int rc, stop = 0;

	if (!st)
		return DD_ESTORE;
	while (!stop && (rc = db_step(st)) == DB_ROW) {
		struct dd_store_fact f = {
			db_col_text(st, 0), db_col_text(st, 1),
			db_col_int(st, 2), db_col_text(st, 3),
			db_col_text(st, 4), db_col_text(st, 5),
			db_col_text(st, 6), db_col_int64(st, 7),
		};

		stop = cb(&f, ud);
	}
	done(st);
	if (!stop && rc != DB_DONE)
		return db_fail(s, err, "reading what was established");
	return stop;
}

int store_report_previous(struct dd_store *s, const char *scope, int64_t before_ms, struct dd_strv *out,
                          struct dd_error *err)
{
	struct db_stmt *st = stmt(s, S_REPORT_PREVIOUS, err);
	int rc;

	if (!st)
		return DD_ESTORE;
	bind_text(st, 1, scope);
	db_bind_int64(st, 2, before_ms);
	while ((rc = db_step(st)) == DB_ROW)
		dd_strv_push(out, db_col_text(st, 0));
	done(st);
	if (rc != DB_DONE)
		return db_fail(s, err, "reading report history");
	return 0;
}

/* ---- copying a store ------------------------------------------------------- */

/* Every table, parents first; `id`: it has an identity column. */
static const struct {
	const char *name;
	int id;
} tables[] = {
	{ "sources", 1 }, { "dags", 1 }, { "tasks", 0 }, { "task_deps", 0 }, { "runs", 1 },
	{ "task_instances", 1 }, { "tries", 1 }, { "logs", 0 }, { "classifications", 0 },
	{ "sync_cursors", 0 }, { "import_errors", 0 }, { "health_snapshots", 1 }, { "report_history", 0 },
	{ "run_versions", 0 }, { "established", 0 },
};

/* The rows of a table, into *n. */
static int count_rows(struct dd_store *s, const char *table, int64_t *n, struct dd_error *err)
{
	char *sql = dd_xasprintf("SELECT count(*) FROM %s", table);
	struct db_stmt *st = db_prepare(s->db, sql, err);
	int rc = DD_ESTORE;

	free(sql);
	if (st && (rc = db_step(st)) == DB_ROW) {
		*n = db_col_int64(st, 0);
		rc = 0;
	} else if (st) {
		rc = db_fail(s, err, "counting rows");
	}
	db_finalize(st);
	return rc;
}

/* Copies table's rows from one store into the other, ids included. */
static int copy_table(struct dd_store *from, struct dd_store *to, const char *table, int64_t *n,
                      struct dd_error *err)
{
	char *sql = dd_xasprintf("SELECT * FROM %s", table);
	struct db_stmt *rd = db_prepare(from->db, sql, err), *wr = NULL;
	int rc = DD_ESTORE, step;

	free(sql);
	*n = 0;
	if (!rd)
		return rc;
	while ((step = db_step(rd)) == DB_ROW) {
		int ncol = db_col_count(rd);

		if (!wr) {
			struct dd_buf b = DD_BUF_INIT;

			dd_buf_addf(&b, "INSERT INTO %s (", table);
			/* column names come from the file: quoted, a '"' doubled */
			for (int i = 0; i < ncol; i++) {
				dd_buf_adds(&b, i ? ", \"" : "\"");
				for (const char *p = db_col_name(rd, i); p && *p; p++)
					dd_buf_adds(&b, *p == '"' ? "\"\"" : (char[]){ *p, 0 });
				dd_buf_adds(&b, "\"");
			}
			dd_buf_adds(&b, ") VALUES (");
			for (int i = 0; i < ncol; i++)
				dd_buf_addf(&b, "%s?%d", i ? ", " : "", i + 1);
			dd_buf_adds(&b, ")");
			wr = db_prepare(to->db, dd_buf_str(&b), err);
			dd_buf_release(&b);
			if (!wr)
				goto out;
		}
		/* values as text: the target converts them to its columns' types */
		for (int i = 0; i < ncol; i++)
			switch (db_col_type(rd, i)) {
			case DB_T_NULL: db_bind_null(wr, i + 1); break;
			case DB_T_BLOB: db_bind_blob(wr, i + 1, db_col_blob(rd, i), db_col_bytes(rd, i)); break;
			case DB_T_VALUE: db_bind_text(wr, i + 1, db_col_text(rd, i)); break;
			}
		if ((rc = exec_stmt(to, wr, err, "copying rows")) < 0)
			goto out;
		(*n)++;
	}
	rc = step == DB_DONE ? 0 : db_fail(from, err, "reading rows to copy");
out:
	db_finalize(wr);
	db_finalize(rd);
	return rc;
}

int store_copy(struct dd_store *from, struct dd_store *to, store_copy_cb cb, void *ud, struct dd_error *err)
{
	int64_t n;
	int rc;

	for (size_t i = 0; i < DD_ARRAY_SIZE(tables); i++) {
		if ((rc = count_rows(to, tables[i].name, &n, err)) < 0)
			return rc;
		if (n)
			return dd_error_set(err, DD_EEXIST, "the store %s already holds data (%lld rows in %s); "
			                    "dagdoc copies into an empty database only: create a new one and "
			                    "pass its URL", to->shown, (long long)n, tables[i].name);
	}
	if ((rc = store_begin(to, err)) < 0)
		return rc;
	for (size_t i = 0; i < DD_ARRAY_SIZE(tables); i++) {
		if ((rc = copy_table(from, to, tables[i].name, &n, err)) < 0 ||
		    (tables[i].id && (rc = db_reset_identity(to->db, tables[i].name, err)) < 0)) {
			store_rollback(to);
			return rc;
		}
		if (cb)
			cb(tables[i].name, n, ud);
	}
	if ((rc = store_commit(to, err)) < 0)
		return rc;
	{
		struct dd_error ignored = DD_ERROR_INIT;

		db_refresh_statistics(to->db, &ignored);   /* only ever a speed-up: the copy is in */
	}
	return 0;
}
