/*
 * sync.c - incremental sync of one source into the store (see
 * include/dagdoc/sync.h).  Network first, then one short transaction per
 * batch, so the write lock is never held across a slow listing.
 */
#include "dagdoc/util.h"

#include "dagdoc/sync.h"

#define CURSOR_RESUME "resume_ms"       /* list runs from here next time */
#define CURSOR_COVERED "covered_from_ms" /* window start the cursor is valid for */

/* ---- deep copies of what the connector hands to callbacks ---------------- */

static void copy_run(struct dd_run *d, const struct dd_run *s)
{
	*d = *s;
	d->run_id = dd_xstrdup(s->run_id);
	d->run_name = dd_xstrdup(s->run_name);
	d->run_type = dd_xstrdup(s->run_type);
	d->note = dd_xstrdup(s->note);
	d->bundle_version = dd_xstrdup(s->bundle_version);
}

static void copy_ti(struct dd_task_instance *d, const struct dd_task_instance *s)
{
	*d = *s;
	d->run_id = dd_xstrdup(s->run_id);
	d->task_id = dd_xstrdup(s->task_id);
	d->operator_name = dd_xstrdup(s->operator_name);
	d->hostname = dd_xstrdup(s->hostname);
	d->external_id = dd_xstrdup(s->external_id);
	d->note = dd_xstrdup(s->note);
}

static void copy_try(struct dd_try *d, const struct dd_try *s)
{
	*d = *s;
	d->run_id = dd_xstrdup(s->run_id);
	d->task_id = dd_xstrdup(s->task_id);
	d->hostname = dd_xstrdup(s->hostname);
	d->note = dd_xstrdup(s->note);
}

struct runs {
	struct dd_run *v;
	size_t n, cap;
};

static int on_run(const struct dd_run *r, void *ud)
{
	struct runs *rs = ud;

	DD_GROW(rs->v, rs->cap, rs->n + 1);
	copy_run(&rs->v[rs->n++], r);
	return 0;
}

static void runs_release(struct runs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		dd_run_release(&rs->v[i]);
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

/* One task instance with its tries. */
struct ti_tries {
	struct dd_task_instance ti;
	struct dd_try *tries;
	size_t n, cap;
};

struct tis {
	struct ti_tries *v;
	size_t n, cap;
};

static int on_ti(const struct dd_task_instance *ti, void *ud)
{
	struct tis *ts = ud;
	struct ti_tries *x;

	DD_GROW(ts->v, ts->cap, ts->n + 1);
	x = &ts->v[ts->n++];
	memset(x, 0, sizeof(*x));
	copy_ti(&x->ti, ti);
	return 0;
}

static int on_try(const struct dd_try *t, void *ud)
{
	struct ti_tries *x = ud;

	DD_GROW(x->tries, x->cap, x->n + 1);
	copy_try(&x->tries[x->n++], t);
	return 0;
}

static void tis_release(struct tis *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		dd_task_instance_release(&ts->v[i].ti);
		for (size_t j = 0; j < ts->v[i].n; j++)
			dd_try_release(&ts->v[i].tries[j]);
		free(ts->v[i].tries);
	}
	free(ts->v);
	memset(ts, 0, sizeof(*ts));
}

/* ---- the sync ------------------------------------------------------------ */

struct ctx {
	struct dd_store *s;
	struct dd_conn *c;
	const struct dd_source *src;
	const struct dd_sync_options *o;
	struct dd_sync_stats *st;
	int64_t source_ref;
	size_t batches;
	struct dd_strv reject_runs;  /* runs an object was rejected from (this sync) */
	size_t reject_unplaced;      /* rejected objects of no known run */
	int net_streak;              /* network failures in a row (runs, DAGs) */
};

/* ---- what could not be stored: counted, the first one kept --------------- */

/* Notes a problem for the summary (the first message is kept). */
static void note_problem(struct ctx *x, const char *msg)
{
	if (!x->st->first_problem[0])
		snprintf(x->st->first_problem, sizeof(x->st->first_problem), "%s", msg);
}

static void on_reject(const struct dd_reject *r, void *ud)
{
	struct ctx *x = ud;
	char msg[DD_ERROR_MSG_MAX];

	x->st->rejected++;
	snprintf(msg, sizeof(msg), "%s: %s: %s", r->endpoint, r->object, r->problem);
	note_problem(x, msg);
	if (r->run_id && !dd_strv_contains(&x->reject_runs, r->run_id))
		dd_strv_push(&x->reject_runs, r->run_id);
	else if (!r->run_id)
		x->reject_unplaced++;
}

/* A failure that stops the whole sync (else only this run or DAG is left
 * for the next sync): credentials, the store, Ctrl-C, a named DAG that
 * does not exist, or the third network failure in a row (the server is
 * gone: asking on would only wait). */
static int fatal(struct ctx *x, int rc)
{
	if (rc == DD_ENET)
		return ++x->net_streak >= 3;
	return rc != DD_EPROTO && rc != DD_ELIMIT;
}

static void progress(struct ctx *x)
{
	struct dd_conn_stats cs;

	conn_stats(x->c, &cs);
	x->st->requests = cs.requests;
	x->st->retries = cs.retries;
	if (x->o->progress)
		x->o->progress(x->st, x->o->progress_ud);
}

static int interrupted(struct ctx *x, struct dd_error *err)
{
	if (x->o->interrupted && *x->o->interrupted)
		return dd_error_set(err, DD_EINTR, "interrupted; run the same command again to finish");
	return 0;
}

/* A batch the store rolled back because it was busy (DD_EBUSY: another
 * dagdoc wrote the same rows at once, on PostgreSQL) is written again,
 * up to 3 times: `do { begin ... commit } while (redo_busy(rc, &n, err));` */
static int redo_busy(int rc, int *redone, struct dd_error *err)
{
	if (rc != DD_EBUSY || ++*redone > 3)
		return 0;
	dd_error_clear(err);
	return 1;
}

static int commit_batch(struct ctx *x, struct dd_error *err)
{
	x->batches++;
	if (x->o->batch_hook)
		x->o->batch_hook(x->batches, x->o->batch_hook_ud);
	return store_commit(x->s, err);
}

static int add_dag_id(const char *dag_id, void *ud)
{
	dd_strv_push(ud, dag_id);
	return 0;
}

struct ie_list {
	struct dd_import_error *v;
	size_t n, cap;
};

static int add_import_error(const struct dd_import_error *ie, void *ud)
{
	struct ie_list *ies = ud;

	DD_GROW(ies->v, ies->cap, ies->n + 1);
	ies->v[ies->n].filename = dd_xstrdup(ie->filename);
	ies->v[ies->n].stack_trace = dd_xstrdup(ie->stack_trace);
	ies->v[ies->n].timestamp_ms = ie->timestamp_ms;
	ies->n++;
	return 0;
}

/* Step 1: DAG definitions, import errors, health - fetched, then written
 * in one transaction.  Fails (writing nothing) when a DAG does not exist. */
static int refresh_definitions(struct ctx *x, const struct dd_strv *dag_ids, int64_t *dag_refs,
                               struct dd_error *err)
{
	struct dd_dag *dags = dd_xcalloc(dag_ids->n + 1, sizeof(*dags));
	/* per DAG: 0 fetched whole, 1 an object was rejected (keep what is stored),
	 * 2 could not be fetched (skip it this time) */
	int *partial = dd_xcalloc(dag_ids->n + 1, sizeof(*partial));
	struct ie_list ies = { NULL, 0, 0 };
	struct dd_health health;
	int have_health = 0, have_ies = 0, rc = 0, redone = 0;

	memset(&health, 0, sizeof(health));
	for (size_t i = 0; i < dag_ids->n && !rc; i++) {
		size_t before = x->st->rejected;

		rc = conn_get_dag(x->c, dag_ids->v[i], &dags[i], err);
		if (rc < 0 && !fatal(x, rc)) {
			note_problem(x, err->msg);
			x->st->dags_failed++;
			dd_error_clear(err);
			dd_dag_release(&dags[i]);
			partial[i] = 2;
			rc = 0;
			continue;
		}
		if (!rc && !dags[i].dag_id)
			dags[i].dag_id = dd_xstrdup(dag_ids->v[i]);
		partial[i] = x->st->rejected > before;
	}
	if (!rc && (rc = interrupted(x, err)) == 0) {
		struct dd_error ignored = DD_ERROR_INIT;
		size_t before = x->st->rejected;

		/* Health and import errors are best effort: not every server
		 * offers them, and their absence must not block a sync.  What
		 * fails its checks is not stored (the last good ones stay). */
		have_health = conn_health(x->c, &health, &ignored) == 0 &&
		              (health.scheduler_status || health.metadatabase_status || health.detail) &&
		              x->st->rejected == before;
		before = x->st->rejected;
		have_ies = conn_list_import_errors(x->c, add_import_error, &ies, &ignored) == 0 &&
		           x->st->rejected == before;
	}
	if (!rc) do {
		if ((rc = store_begin(x->s, err)) < 0)
			break;
		rc = store_source_put(x->s, x->src->name, dd_source_kind_name(x->src->kind),
		                      conn_describe(x->c), &x->source_ref, err);
		if (!rc) {
			struct dd_ui ui;

			conn_ui(x->c, &ui);
			rc = store_source_set_ui(x->s, x->source_ref, ui.form, ui.base, err);
		}
		for (size_t i = 0; i < dag_ids->n && !rc; i++) {
			if (partial[i] && store_dag_ref(x->s, x->src->name, dag_ids->v[i], &dag_refs[i], NULL) == 0)
				continue;   /* keep the stored definition until one comes whole */
			if (partial[i] == 2) {
				dag_refs[i] = 0;
				continue;
			}
			if (partial[i]) {
				/* a new DAG with a part rejected: its name only, no tasks yet */
				struct dd_dag bare = { 0 };

				bare.dag_id = dags[i].dag_id;
				rc = store_dag_put(x->s, x->source_ref, &bare, &dag_refs[i], err);
				continue;
			}
			rc = store_dag_put(x->s, x->source_ref, &dags[i], &dag_refs[i], err);
		}
		if (!rc && have_ies)
			rc = store_import_errors_replace(x->s, x->source_ref, ies.v, ies.n, err);
		if (!rc && have_health)
			rc = store_health_put(x->s, x->source_ref, dd_now_ms(), &health, err);
		if (!rc)
			rc = store_commit(x->s, err);
		else
			store_rollback(x->s);
	} while (redo_busy(rc, &redone, err));
	for (size_t i = 0; i < dag_ids->n; i++)
		dd_dag_release(&dags[i]);
	free(dags);
	free(partial);
	for (size_t i = 0; i < ies.n; i++) {
		free(ies.v[i].filename);
		free(ies.v[i].stack_trace);
	}
	free(ies.v);
	dd_health_release(&health);
	return rc;
}

/* Should this listed run be fetched again? */
static int needs_fetch(struct ctx *x, int64_t dag_ref, const struct dd_run *r, struct dd_error *err)
{
	struct dd_store_run stored;
	int rc = store_run_get(x->s, dag_ref, r->run_id, &stored, err);
	int fetch;

	if (rc == DD_ENOTFOUND) {
		dd_error_clear(err);
		return 1;
	}
	if (rc < 0)
		return rc;
	fetch = !dd_state_is_terminal(stored.run.state) || stored.run.state != r->state ||
	        (stored.run.end_ms && r->end_ms && stored.run.end_ms != r->end_ms);
	dd_run_release(&stored.run);
	return fetch;
}

/* Step 2 for one run: fetch its task instances and tries, then write all
 * of it in one transaction.  Returns 0 (stored; *is_new said inside the
 * transaction, so two syncs at once never both count a run new), 1 (not
 * stored: an object of it was rejected or its fetch failed; the next sync
 * fetches it again), or a negative code that stops the sync. */
static int sync_one_run(struct ctx *x, const char *dag_id, int64_t dag_ref,
                        const struct dd_run *r, int *is_new, struct dd_error *err)
{
	struct tis ts = { NULL, 0, 0 };
	struct dd_store_run stored;
	size_t rejected = x->st->rejected;
	int64_t run_ref, ti_ref;
	int rc, redone = 0;

	*is_new = 0;
	rc = conn_list_task_instances(x->c, dag_id, r->run_id, on_ti, &ts, err);
	for (size_t i = 0; i < ts.n && !rc; i++) {
		if (!ts.v[i].ti.run_id)
			ts.v[i].ti.run_id = dd_xstrdup(r->run_id);
		rc = conn_list_tries(x->c, dag_id, &ts.v[i].ti, on_try, &ts.v[i], err);
	}
	if (rc < 0 && (rc == DD_ENOTFOUND || !fatal(x, rc))) {   /* gone meanwhile, or this run only */
		note_problem(x, err->msg);
		dd_error_clear(err);
		rc = 1;
		goto out;
	}
	if (rc)
		goto out;
	x->net_streak = 0;
	if (x->st->rejected > rejected) {
		rc = 1;             /* validate, then store: nothing of this run is written */
		goto out;
	}
	do {
	*is_new = 0;
	if ((rc = store_begin(x->s, err)) < 0)
		goto out;
	rc = store_run_get(x->s, dag_ref, r->run_id, &stored, err);
	if (rc == 0) {
		dd_run_release(&stored.run);
	} else if (rc == DD_ENOTFOUND) {
		*is_new = 1;
		dd_error_clear(err);
		rc = 0;
	}
	if (!rc)
		rc = store_run_put(x->s, dag_ref, r, &run_ref, err);
	if (!rc && (r->bundle_version || r->dag_version))
		rc = store_run_version_put(x->s, run_ref, r->bundle_version, r->dag_version, err);
	for (size_t i = 0; i < ts.n && !rc; i++) {
		rc = store_ti_put(x->s, run_ref, &ts.v[i].ti, &ti_ref, err);
		for (size_t j = 0; j < ts.v[i].n && !rc; j++)
			rc = store_try_put(x->s, ti_ref, &ts.v[i].tries[j], NULL, err);
	}
	if (!rc)
		rc = commit_batch(x, err);
	else
		store_rollback(x->s);
	} while (redo_busy(rc, &redone, err));
	if (!rc) {
		x->st->tis += ts.n;
		for (size_t i = 0; i < ts.n; i++)
			x->st->tries += ts.v[i].n;
	}
out:
	tis_release(&ts);
	return rc;
}

static int sync_runs(struct ctx *x, const char *dag_id, int64_t dag_ref, struct dd_error *err)
{
	struct runs rs = { NULL, 0, 0 };
	int64_t start = x->o->since_ms, covered = 0, resume = 0;
	int64_t oldest_open = 0, newest = 0;
	size_t rejected = x->st->rejected;
	int rc, hold_cursor, redone = 0;

	if (store_cursor_get_i64(x->s, x->source_ref, dag_id, CURSOR_COVERED, &covered, NULL) == 0 &&
	    store_cursor_get_i64(x->s, x->source_ref, dag_id, CURSOR_RESUME, &resume, NULL) == 0 &&
	    covered <= x->o->since_ms && resume > start)
		start = resume;
	else
		covered = x->o->since_ms;

	if ((rc = conn_list_runs(x->c, dag_id, start, on_run, &rs, err)) < 0)
		goto out;
	/* a run rejected from the listing could lie anywhere: keep the cursor */
	hold_cursor = x->st->rejected > rejected;
	x->st->runs_listed += rs.n;
	for (size_t i = 0; i < rs.n; i++) {
		const struct dd_run *r = &rs.v[i];
		int is_new, fetch;

		if ((rc = interrupted(x, err)) < 0)
			goto out;
		if (!dd_state_is_terminal(r->state) && (!oldest_open || r->logical_ms < oldest_open))
			oldest_open = r->logical_ms;
		if (r->logical_ms > newest)
			newest = r->logical_ms;
		if ((fetch = needs_fetch(x, dag_ref, r, err)) < 0) {
			rc = fetch;
			goto out;
		}
		if (!fetch) {
			x->st->runs_skipped++;
			continue;
		}
		if ((rc = sync_one_run(x, dag_id, dag_ref, r, &is_new, err)) < 0)
			goto out;
		if (rc == 1) {
			/* not stored complete: the cursor must not pass it */
			x->st->runs_incomplete++;
			if (!oldest_open || r->logical_ms < oldest_open)
				oldest_open = r->logical_ms;
			rc = 0;
			continue;
		}
		if (is_new)
			x->st->runs_new++;
		else
			x->st->runs_updated++;
		progress(x);
	}
	if (hold_cursor)
		goto out;
	/* Every listed run is stored: move the cursor. */
	if (oldest_open)
		resume = oldest_open;
	else if (newest)
		resume = newest;
	else
		resume = start;
	do {
		if ((rc = store_begin(x->s, err)) < 0)
			break;
		rc = store_cursor_put_i64(x->s, x->source_ref, dag_id, CURSOR_COVERED, covered, err);
		if (!rc)
			rc = store_cursor_put_i64(x->s, x->source_ref, dag_id, CURSOR_RESUME, resume, err);
		if (!rc)
			rc = store_commit(x->s, err);
		else
			store_rollback(x->s);
	} while (redo_busy(rc, &redone, err));
out:
	runs_release(&rs);
	return rc;
}

/* ---- logs ---------------------------------------------------------------- */

struct log_job {
	int64_t try_ref;
	char *run_id, *task_id, *external_id;
	int map_index, try_number;
	int baseline;               /* 1: a failing task's last success; 2: a success for quiet failures */
	size_t cap;                 /* bytes kept of its log (0: the store's default) */
	/* Outcome of the fetch, written after it in one short transaction. */
	enum { JOB_PENDING, JOB_FETCHED, JOB_MISSING, JOB_FAILED } outcome;
	struct dd_store_log_blob blob;
	char *missing_reason;
	size_t delivered;           /* bytes the connector delivered */
};

struct log_jobs {
	struct log_job *v;
	size_t n, cap;
	size_t log_cap, success_cap;   /* bytes kept of a log; of a success fetched for quiet failures */
	const char *dag_id;
	struct dd_strv failing_tasks;
};

static int has_job(const struct log_jobs *j, int64_t try_ref)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].try_ref == try_ref)
			return 1;
	return 0;
}

static void add_job(struct log_jobs *j, const struct dd_store_try *t, int baseline, size_t cap)
{
	struct log_job *q;

	if (has_job(j, t->ref))
		return;
	DD_GROW(j->v, j->cap, j->n + 1);
	q = &j->v[j->n++];
	memset(q, 0, sizeof(*q));
	q->try_ref = t->ref;
	q->run_id = dd_xstrdup(t->t.run_id);
	q->task_id = dd_xstrdup(t->t.task_id);
	q->external_id = dd_xstrdup(t->ti_external_id);
	q->map_index = t->t.map_index;
	q->try_number = t->t.try_number;
	q->baseline = baseline;
	q->cap = cap;
}

static int on_failed_try(const struct dd_store_try *t, void *ud)
{
	struct log_jobs *j = ud;

	if (!dd_strv_contains(&j->failing_tasks, t->t.task_id))
		dd_strv_push(&j->failing_tasks, t->t.task_id);
	if (!t->has_log)
		add_job(j, t, 0, j->log_cap);
	return 0;
}

static int on_baseline(const struct dd_store_try *t, void *ud)
{
	struct log_jobs *j = ud;

	if (!t->has_log)
		add_job(j, t, 1, j->log_cap);
	return 0;
}

static int on_success(const struct dd_store_try *t, void *ud)
{
	struct log_jobs *j = ud;

	if (!t->has_log)
		add_job(j, t, 2, j->success_cap);
	return 0;
}

static void jobs_release(struct log_jobs *j)
{
	for (size_t i = 0; i < j->n; i++) {
		store_log_blob_release(&j->v[i].blob);
		free(j->v[i].missing_reason);
		free(j->v[i].run_id);
		free(j->v[i].task_id);
		free(j->v[i].external_id);
	}
	free(j->v);
	dd_strv_release(&j->failing_tasks);
}

/* Called by the connector as each log arrives: cap and compress it now
 * (the text is only valid during the call), keep the blob for the write. */
static int on_log(const struct dd_log_request *req, const char *text, size_t len, int truncated,
                  const struct dd_error *lerr, void *ud)
{
	struct ctx *x = ud;
	struct log_job *job = req->user;
	struct dd_error perr = DD_ERROR_INIT;

	if (lerr && lerr->code == DD_ENOTFOUND) {
		job->outcome = JOB_MISSING;
		job->missing_reason = dd_xstrdup(lerr->msg);
	} else if (lerr) {
		job->outcome = JOB_FAILED;
		if (!x->st->logs_failed)
			snprintf(x->st->first_log_error, sizeof(x->st->first_log_error), "%s", lerr->msg);
		x->st->logs_failed++;
	} else if (store_log_pack(text, len, truncated, job->cap, &job->blob, &perr) == 0) {
		job->outcome = JOB_FETCHED;
		job->delivered = len;
	} else {
		job->outcome = JOB_FAILED;
		if (!x->st->logs_failed)
			snprintf(x->st->first_log_error, sizeof(x->st->first_log_error), "%s", perr.msg);
		x->st->logs_failed++;
	}
	progress(x);
	return 0;
}

/* Writes one fetched batch of logs in one transaction. */
static int write_logs(struct ctx *x, struct log_job *jobs, size_t n, struct dd_error *err)
{
	size_t logs, missing, baselines, successes;
	uint64_t bytes;
	int rc, redone = 0;

	do {
	logs = missing = baselines = successes = 0;
	bytes = 0;
	rc = store_begin(x->s, err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct log_job *q = &jobs[i];

		if (q->outcome == JOB_FETCHED) {
			rc = store_log_put_blob(x->s, q->try_ref, &q->blob, err);
			logs++;
			bytes += q->delivered;
			baselines += q->baseline == 1;
			successes += q->baseline == 2;
		} else if (q->outcome == JOB_MISSING) {
			rc = store_log_put_missing(x->s, q->try_ref, q->missing_reason, err);
			missing++;
		}
	}
	if (rc == 0)
		rc = commit_batch(x, err);
	else
		store_rollback(x->s);
	} while (redo_busy(rc, &redone, err));
	for (size_t i = 0; i < n; i++)
		store_log_blob_release(&jobs[i].blob);
	if (rc == 0) {
		x->st->logs += logs;
		x->st->log_bytes += bytes;
		x->st->baselines += baselines;
		x->st->successes += successes;
		x->st->logs_missing += missing;
		progress(x);
	}
	return rc;
}

/* complete: every run the DAG listed is stored (none rejected or left out): only then are the
 * newest successes the same as a sync that did not fail would pick. */
static int sync_logs(struct ctx *x, const char *dag_id, int64_t dag_ref, int complete, struct dd_error *err)
{
	struct log_jobs j = { .dag_id = dag_id };
	size_t batch = x->o->log_batch ? x->o->log_batch : 16;
	int rc;

	j.log_cap = x->src->max_log_bytes > 0 ? (size_t)x->src->max_log_bytes : 0;
	j.success_cap = x->src->success_log_bytes > 0 ? (size_t)x->src->success_log_bytes : 0;
	if (j.log_cap && (!j.success_cap || j.success_cap > j.log_cap))
		j.success_cap = j.log_cap;

	/* Failed tries in the window without a log (and the tasks that failed). */
	rc = store_failed_tries(x->s, dag_ref, x->o->since_ms, 0, 0, on_failed_try, &j, err);
	for (size_t i = 0; i < j.failing_tasks.n && rc == 0; i++) {
		rc = store_last_success_try(x->s, dag_ref, j.failing_tasks.v[i], 0, on_baseline, &j, err);
		if (rc == DD_ENOTFOUND) {
			dd_error_clear(err);
			rc = 0;
		}
	}
	/* the newest successes of every task: what quiet failures are read from */
	if (rc == 0 && complete && x->src->success_logs > 0)
		rc = store_recent_successes(x->s, dag_ref, x->o->since_ms, x->src->success_logs, on_success, &j, err);
	for (size_t off = 0; off < j.n && rc == 0; off += batch) {
		size_t n = j.n - off < batch ? j.n - off : batch;
		struct dd_log_request *reqs;

		if ((rc = interrupted(x, err)) < 0)
			break;
		reqs = dd_xcalloc(n, sizeof(*reqs));
		for (size_t i = 0; i < n; i++) {
			struct log_job *q = &j.v[off + i];

			reqs[i].dag_id = dag_id;
			reqs[i].run_id = q->run_id;
			reqs[i].task_id = q->task_id;
			reqs[i].map_index = q->map_index;
			reqs[i].try_number = q->try_number;
			reqs[i].external_id = q->external_id;
			reqs[i].user = q;
		}
		/* Fetch outside any transaction; then one short write. */
		rc = conn_fetch_logs(x->c, reqs, n, on_log, x, err);
		if (rc > 0)
			rc = DD_ERR;
		if (rc == 0)
			rc = write_logs(x, j.v + off, n, err);
		free(reqs);
	}
	jobs_release(&j);
	return rc;
}

static int count_run(const struct dd_store_run *r, void *ud)
{
	(void)r;
	(*(size_t *)ud)++;
	return 0;
}

int sync_run(struct dd_store *s, struct dd_conn *c, const struct dd_source *src,
             const struct dd_sync_options *opts, struct dd_sync_stats *stats,
             struct dd_error *err)
{
	struct ctx x = { .s = s, .c = c, .src = src, .o = opts, .st = stats };
	struct dd_strv dag_ids = DD_STRV_INIT;
	int64_t *dag_refs = NULL;
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	conn_on_reject(c, on_reject, &x);
	if (opts->n_dag_ids) {
		for (size_t i = 0; i < opts->n_dag_ids; i++)
			if (!dd_strv_contains(&dag_ids, opts->dag_ids[i]))
				dd_strv_push(&dag_ids, opts->dag_ids[i]);
	} else {
		rc = conn_list_dags(c, add_dag_id, &dag_ids, err);
	}
	if (rc == 0)
		rc = interrupted(&x, err);
	if (rc == 0) {
		dag_refs = dd_xcalloc(dag_ids.n + 1, sizeof(*dag_refs));
		rc = refresh_definitions(&x, &dag_ids, dag_refs, err);
	}
	stats->dags_total = dag_ids.n;
	for (size_t i = 0; i < dag_ids.n && rc == 0; i++) {
		stats->current_dag = dag_ids.v[i];
		stats->dags_done = i;
		progress(&x);
		if ((rc = interrupted(&x, err)) < 0)
			break;
		if (!dag_refs[i])
			continue;          /* its definition could not be fetched (counted) */
		size_t gaps = stats->rejected + stats->runs_incomplete + stats->dags_failed;
		{
			int64_t t0 = dd_now_ms();   /* the run states read now are as of t0 or later */

			rc = sync_runs(&x, dag_ids.v[i], dag_refs[i], err);
			if (rc < 0 && !fatal(&x, rc)) {
				/* its runs could not be listed: the next sync lists them again */
				note_problem(&x, err->msg);
				stats->dags_failed++;
				dd_error_clear(err);
				rc = 0;
			} else if (rc == 0) {
				x.net_streak = 0;
				rc = store_cursor_put_i64(s, x.source_ref, dag_ids.v[i], STORE_CURSOR_RUNS_READ, t0, err);
			}
		}
		if (rc == 0)
			rc = sync_logs(&x, dag_ids.v[i], dag_refs[i],
			               stats->rejected + stats->runs_incomplete + stats->dags_failed == gaps, err);
		if (rc == 0)
			rc = store_runs(s, dag_refs[i], opts->since_ms, 0, count_run, &stats->runs_in_window,
			                err);
		if (rc == 0) {
			stats->dags++;
			progress(&x);
		}
	}
	if (rc == 0)
		stats->dags_done = dag_ids.n;
	if (rc == 0 && x.source_ref)
		rc = store_source_set_synced(s, x.source_ref, dd_now_ms(), err);
	if (store_in_transaction(s))
		store_rollback(s);
	progress(&x);
	stats->current_dag = NULL;
	conn_on_reject(c, NULL, NULL);
	dd_strv_release(&x.reject_runs);
	free(dag_refs);
	dd_strv_release(&dag_ids);
	return rc < 0 ? rc : rc > 0 ? DD_ERR : 0;
}

/* ---- gaps ----------------------------------------------------------------------- */

void sync_add_gaps(struct dd_sync_stats *to, const struct dd_sync_stats *from)
{
	if (to == from)
		return;
	to->rejected += from->rejected;
	to->runs_incomplete += from->runs_incomplete;
	to->dags_failed += from->dags_failed;
	to->logs_failed += from->logs_failed;
	if (!to->first_problem[0])
		memcpy(to->first_problem, from->first_problem, sizeof(to->first_problem));
	if (!to->first_log_error[0])
		memcpy(to->first_log_error, from->first_log_error, sizeof(to->first_log_error));
}

void sync_clear_gaps(struct dd_sync_stats *st)
{
	st->rejected = st->runs_incomplete = st->dags_failed = st->logs_failed = 0;
	st->first_problem[0] = st->first_log_error[0] = '\0';
}

static void add_gap(struct dd_buf *b, size_t n, const char *one, const char *many)
{
	if (n)
		dd_buf_addf(b, "%s%zu %s", b->len ? ", " : "", n, n == 1 ? one : many);
}

int sync_gap_sentences(const struct dd_sync_stats *st, int as_error, struct dd_strv *out)
{
	struct dd_buf what = DD_BUF_INIT;
	int kinds = !!st->rejected + !!st->runs_incomplete + !!st->dags_failed + !!st->logs_failed;

	add_gap(&what, st->rejected, "object the server sent failed its checks",
	        "objects the server sent failed their checks");
	add_gap(&what, st->runs_incomplete, "run was left out", "runs were left out");
	add_gap(&what, st->dags_failed, "DAG could not be read", "DAGs could not be read");
	if (what.len)
		dd_strv_push_owned(out, as_error
		        ? dd_xasprintf("the store is incomplete: %s (first: %s); what they belong to was not "
		                       "stored: run sync again to fetch it", what.data, st->first_problem)
		        : dd_xasprintf("the store is incomplete: %s (first: %s); the next sync fetches them again",
		                       what.data, st->first_problem));
	if (st->logs_failed)
		dd_strv_push_owned(out, as_error
		        ? dd_xasprintf("%zu log%s could not be fetched (first: %s); run sync again to fetch them",
		                       st->logs_failed, st->logs_failed == 1 ? "" : "s", st->first_log_error)
		        : dd_xasprintf("%zu log%s could not be fetched (first: %s); the next sync fetches them again",
		                       st->logs_failed, st->logs_failed == 1 ? "" : "s", st->first_log_error));
	dd_buf_release(&what);
	return kinds;
}
