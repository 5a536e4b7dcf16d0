/*
 * sync.c - incremental sync of one source into the store (see
 * include/dagdoc/sync.h).  Network first, then one short transaction per
 * batch, so the write lock is never held across a slow listing.
 *
 * The sync asks for data, not for DAGs: runs of every DAG in one listing,
 * the task instances of many runs at once, logs of every DAG in one pool
 * (the connector's fleet operations, connector.h), so its requests follow
 * the amount of new data and a sync with nothing new costs a few requests
 * per source, whatever the number of DAGs.
 */
#include "dagdoc/util.h"

#include <pthread.h>

#include "dagdoc/sync.h"

#define CURSOR_RESUME "resume_ms"       /* list runs from here next time */
#define CURSOR_COVERED "covered_from_ms" /* window start the cursor is valid for */
#define CURSOR_DEFINED "defined_ms"     /* when the DAG's definition was last stored whole */
/* "FROM SUCCESS_LOGS": every log the DAG wants from FROM on, with that
 * success_logs, is stored (or known missing) for its stored runs; "0" when
 * not: set in the transaction of the first run written for the DAG, and
 * left so when a log could not be fetched. */
#define CURSOR_LOGS_DONE "logs_done"
#define DAGS_PER_LISTING 100            /* DAGs whose runs one listing asks for */
#define RUNS_PER_BLOCK 2000             /* runs whose task instances one call asks for */
#define DEFAULT_LOG_BATCH 64            /* logs fetched (and written) together */
/* A sync that added this many runs, a tenth of its window or more, has
 * the store refresh its statistics (store_refresh_statistics). */
#define STATISTICS_AFTER_RUNS 200
/* A DAG with new runs has its definition read again; one whose runs are
 * only unfinished ones read again, when the stored one is older than this. */
#define DEFINITION_MAX_AGE_MS (3600 * 1000)

struct runs {
	struct dd_run *v;
	size_t n, cap;
};

static void runs_release(struct runs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		dd_run_release(&rs->v[i]);
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

/* What the sync knows of one DAG. */
struct dag {
	const char *dag_id;          /* owned */
	int64_t ref;                 /* 0: not stored (yet), or left out this time */
	int stored_paused;           /* -1: not stored */
	int listed_paused;           /* from the listing; -1 unknown */
	int refresh;                 /* fetch its definition */
	int defined;                 /* its definition was read by this sync */
	int skip;                    /* its definition or runs could not be read: next sync */
	int64_t start, covered;      /* its runs are listed from start; window the cursor covers */
	int64_t read_ms;             /* when its runs were read */
	struct runs listed;
	unsigned char *fetch;        /* per listed run: its task instances are wanted */
	size_t n_fetch, n_delivered;
	size_t n_new;                /* of which not stored yet */
	int64_t oldest_open, newest;
	int hold_cursor;             /* a run was rejected from the listing */
	size_t gaps;                 /* its objects rejected or runs left out (this sync) */
	int runs_done;               /* runs stored and cursor moved */
	int logs_were_done;          /* nothing to plan: every log it wants is stored */
	int logs_reset;              /* its logs_done cursor was cleared by a run written */
	size_t logs_failed;          /* its logs that could not be fetched (this sync) */
};

struct ctx {
	struct dd_store *s;
	struct dd_conn *c;
	const struct dd_source *src;
	const struct dd_sync_options *o;
	struct dd_sync_stats *st;
	int64_t source_ref;
	size_t batches;
	struct dag *dags;
	size_t n_dags, cap_dags;
	size_t last_found;           /* find_dag's last answer: runs and logs come DAG by DAG */
	struct dd_strv reject_runs;  /* "dag\037run" an object was rejected from (this sync) */
	size_t reject_unplaced;      /* rejected objects of no known DAG */
	int net_streak;              /* network failures in a row (runs, DAGs) */
	char last_run_failure[DD_ERROR_MSG_MAX];   /* the sentence of the last run left out */
	int fetching;                /* a thread is fetching task instances (fetch_runs) */
	int fatal_rc;                /* a callback's reason to stop */
	struct dd_error fatal_err;
};

/* ---- what could not be stored: counted, the first one kept --------------- */

/* Notes a problem for the summary (the first message is kept). */
static void note_problem(struct ctx *x, const char *msg)
{
	if (!x->st->first_problem[0])
		snprintf(x->st->first_problem, sizeof(x->st->first_problem), "%s", msg);
}

static struct dag *find_dag(struct ctx *x, const char *dag_id)
{
	if (!dag_id)
		return NULL;
	if (x->last_found < x->n_dags && !strcmp(x->dags[x->last_found].dag_id, dag_id))
		return &x->dags[x->last_found];
	for (size_t i = 0; i < x->n_dags; i++)
		if (!strcmp(x->dags[i].dag_id, dag_id)) {
			x->last_found = i;
			return &x->dags[i];
		}
	return NULL;
}

static char *run_key(const char *dag_id, const char *run_id)
{
	return dd_xasprintf("%s\037%s", dag_id ? dag_id : "", run_id);
}

static int run_rejected(struct ctx *x, const char *dag_id, const char *run_id)
{
	char *k;
	int yes;

	if (!x->reject_runs.n)
		return 0;
	k = run_key(dag_id, run_id);
	yes = dd_strv_contains(&x->reject_runs, k);
	free(k);
	return yes;
}

static void on_reject(const struct dd_reject *r, void *ud)
{
	struct ctx *x = ud;
	struct dag *d = find_dag(x, r->dag_id);
	char msg[DD_ERROR_MSG_MAX];

	x->st->rejected++;
	snprintf(msg, sizeof(msg), "%s: %s: %s", r->endpoint, r->object, r->problem);
	note_problem(x, msg);
	if (d)
		d->gaps++;
	if (r->run_id) {
		char *k = run_key(d ? d->dag_id : r->dag_id, r->run_id);

		if (!dd_strv_contains(&x->reject_runs, k))
			dd_strv_push(&x->reject_runs, k);
		free(k);
	} else if (!d) {
		x->reject_unplaced++;
	}
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

/* The same for a run's failure: the runs of one failed request arrive one
 * after another with the same sentence, and count as one failure. */
static int run_fatal(struct ctx *x, const struct dd_error *e)
{
	if (e->code == DD_ENET && !strcmp(e->msg, x->last_run_failure))
		return 0;
	snprintf(x->last_run_failure, sizeof(x->last_run_failure), "%s", e->msg);
	return fatal(x, e->code);
}

static void progress(struct ctx *x)
{
	struct dd_conn_stats cs;

	/* while another thread uses the connection its counters come with
	 * each block (write_block) */
	if (!x->fetching) {
		conn_stats(x->c, &cs);
		x->st->requests = cs.requests;
		x->st->retries = cs.retries;
		x->st->bytes = cs.bytes;
	}
	if (x->o->progress)
		x->o->progress(x->st, x->o->progress_ud);
}

static int interrupted(struct ctx *x, struct dd_error *err)
{
	if (x->o->interrupted && *x->o->interrupted)
		return dd_error_set(err, DD_EINTR, "interrupted; run the same command again to finish");
	return 0;
}

static int commit_batch(struct ctx *x, struct dd_error *err)
{
	x->batches++;
	if (x->o->batch_hook)
		x->o->batch_hook(x->batches, x->o->batch_hook_ud);
	return store_commit(x->s, err);
}

/* A batch the store rolled back because it was busy (DD_EBUSY: another
 * dagdoc wrote the same rows at once, on PostgreSQL) is written again,
 * up to 3 times: `do rc = write(...); while (redo_busy(rc, &n, err));` */
static int redo_busy(int rc, int *redone, struct dd_error *err)
{
	if (rc != DD_EBUSY || ++*redone > 3)
		return 0;
	dd_error_clear(err);
	return 1;
}

/* Stops a connector operation from inside its callback: keeps why. */
static int stop(struct ctx *x, int rc, const struct dd_error *e)
{
	x->fatal_rc = rc;
	x->fatal_err = *e;
	return rc;
}

/* The code a connector operation returned, with a callback's reason to
 * stop put back in err. */
static int op_result(struct ctx *x, int rc, struct dd_error *err)
{
	if (x->fatal_rc && rc == x->fatal_rc)
		*err = x->fatal_err;
	return rc;
}

/* ---- step 1: which DAGs, and their definitions ------------------------------ */

static int add_summary(const struct dd_dag *d, void *ud)
{
	struct ctx *x = ud;
	struct dag *g;

	if (!d->dag_id || find_dag(x, d->dag_id))
		return 0;
	DD_GROW(x->dags, x->cap_dags, x->n_dags + 1);
	g = &x->dags[x->n_dags++];
	memset(g, 0, sizeof(*g));
	g->dag_id = dd_xstrdup(d->dag_id);
	g->listed_paused = d->is_paused;
	g->stored_paused = -1;
	return 0;
}

static void add_named(struct ctx *x, const char *dag_id)
{
	struct dd_dag d = { 0 };

	d.dag_id = (char *)dag_id;
	d.is_paused = -1;
	add_summary(&d, x);
	x->dags[x->n_dags - 1].refresh = 1;   /* a DAG asked for by name: always its current definition */
}

static int on_stored_dag(const struct dd_store_dag *sd, void *ud)
{
	struct dag *g = find_dag(ud, sd->dag_id);

	if (g) {
		g->ref = sd->ref;
		g->stored_paused = sd->is_paused;
	}
	return 0;
}

/* The source's row, its UI, health and import errors: one transaction. */
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

static int refresh_source(struct ctx *x, struct dd_error *err)
{
	struct ie_list ies = { NULL, 0, 0 };
	struct dd_health health;
	struct dd_error ignored = DD_ERROR_INIT;
	size_t before = x->st->rejected;
	int have_health, have_ies, rc, redone = 0;

	/* Health and import errors are best effort: not every server offers
	 * them, and their absence must not block a sync.  What fails its
	 * checks is not stored (the last good ones stay). */
	memset(&health, 0, sizeof(health));
	have_health = conn_health(x->c, &health, &ignored) == 0 &&
	              (health.scheduler_status || health.metadatabase_status || health.detail) &&
	              x->st->rejected == before;
	before = x->st->rejected;
	have_ies = conn_list_import_errors(x->c, add_import_error, &ies, &ignored) == 0 &&
	           x->st->rejected == before;
	do {
		struct dd_ui ui;

		if ((rc = store_begin(x->s, err)) < 0)
			break;
		rc = store_source_put(x->s, x->src->name, dd_source_kind_name(x->src->kind), conn_describe(x->c),
		                      &x->source_ref, err);
		conn_ui(x->c, &ui);
		if (!rc)
			rc = store_source_set_ui(x->s, x->source_ref, ui.form, ui.base, err);
		if (!rc && have_ies)
			rc = store_import_errors_replace(x->s, x->source_ref, ies.v, ies.n, err);
		if (!rc && have_health)
			rc = store_health_put(x->s, x->source_ref, dd_now_ms(), &health, err);
		if (!rc)
			rc = store_commit(x->s, err);
		else
			store_rollback(x->s);
	} while (redo_busy(rc, &redone, err));
	for (size_t i = 0; i < ies.n; i++) {
		free(ies.v[i].filename);
		free(ies.v[i].stack_trace);
	}
	free(ies.v);
	dd_health_release(&health);
	return rc;
}

/* What a definitions call needs in its callback. */
struct defs {
	struct ctx *x;
	struct dag **which;          /* the DAGs asked for */
	size_t *gaps_before;         /* their gaps before the call */
};

/* Writes one DAG's definition as it arrives (one short transaction): a
 * DAG with a part rejected keeps the stored definition (a new one is
 * stored by name only); one that could not be read is left out of this
 * sync. */
static int on_definition(size_t i, const struct dd_dag *d, const struct dd_error *e, void *ud)
{
	struct defs *f = ud;
	struct ctx *x = f->x;
	struct dag *g = f->which[i];
	struct dd_error err = DD_ERROR_INIT;
	struct dd_dag bare = { 0 };
	int rc, redone = 0;

	g->refresh = 0;
	g->defined = 1;
	if (e) {
		if (e->code == DD_ENOTFOUND && x->o->n_dag_ids)
			return stop(x, e->code, e);     /* a DAG named that the source does not have */
		if (e->code != DD_ENOTFOUND && fatal(x, e->code))
			return stop(x, e->code, e);
		note_problem(x, e->msg);
		x->st->dags_failed++;
		g->gaps++;
		g->skip = 1;                         /* its runs wait for the next sync */
		return 0;
	}
	x->net_streak = 0;
	if (g->gaps > f->gaps_before[i]) {
		bare.dag_id = (char *)g->dag_id;
		d = &bare;
	}
	do {
		struct dd_dag named = *d;

		if ((rc = store_begin(x->s, &err)) < 0)
			break;
		if (!named.dag_id)
			named.dag_id = (char *)g->dag_id;
		/* with a part rejected, a stored definition is kept until one comes whole */
		if (d != &bare || !g->ref)
			rc = store_dag_put(x->s, x->source_ref, &named, &g->ref, &err);
		/* read again by the next sync until it comes whole */
		if (!rc)
			rc = store_cursor_put_i64(x->s, x->source_ref, g->dag_id, CURSOR_DEFINED,
			                          d == &bare ? 0 : dd_now_ms(), &err);
		if (!rc)
			rc = store_commit(x->s, &err);
		else
			store_rollback(x->s);
	} while (redo_busy(rc, &redone, &err));
	return rc < 0 ? stop(x, rc, &err) : 0;
}

/* Fetches the definitions of the DAGs marked `refresh` (all at once) and
 * writes each as it arrives. */
static int refresh_definitions(struct ctx *x, struct dd_error *err)
{
	struct defs f = { x, NULL, NULL };
	const char **ids;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < x->n_dags; i++)
		n += x->dags[i].refresh && !x->dags[i].skip;
	if (!n)
		return 0;
	ids = dd_xcalloc(n, sizeof(*ids));
	f.which = dd_xcalloc(n, sizeof(*f.which));
	f.gaps_before = dd_xcalloc(n, sizeof(*f.gaps_before));
	n = 0;
	for (size_t i = 0; i < x->n_dags; i++)
		if (x->dags[i].refresh && !x->dags[i].skip) {
			f.which[n] = &x->dags[i];
			f.gaps_before[n] = x->dags[i].gaps;
			ids[n++] = x->dags[i].dag_id;
		}
	rc = op_result(x, conn_get_dags(x->c, ids, n, on_definition, &f, err), err);
	if (rc > 0)
		rc = DD_ERR;
	/* a definition the connector never delivered: left for the next sync */
	for (size_t i = 0; i < n && rc == 0; i++)
		if (f.which[i]->refresh) {
			f.which[i]->refresh = 0;
			f.which[i]->skip = 1;
			f.which[i]->gaps++;
			x->st->dags_failed++;
			note_problem(x, "a DAG's definition did not come with the others");
		}
	free(f.gaps_before);
	free(f.which);
	free(ids);
	return rc;
}

/* ---- step 2: runs ----------------------------------------------------------- */

static int on_listed_run(size_t i, const struct dd_run *r, void *ud)
{
	struct dag **group = ud;
	struct dag *g = group[i];

	DD_GROW(g->listed.v, g->listed.cap, g->listed.n + 1);
	dd_run_copy(&g->listed.v[g->listed.n++], r);
	return 0;
}

/* Where each DAG's listing starts: its cursor when it covers the window. */
static void set_start(struct ctx *x, struct dag *g)
{
	int64_t covered = 0, resume = 0;

	g->start = x->o->since_ms;
	g->covered = x->o->since_ms;
	if (g->ref && store_cursor_get_i64(x->s, x->source_ref, g->dag_id, CURSOR_COVERED, &covered, NULL) == 0 &&
	    store_cursor_get_i64(x->s, x->source_ref, g->dag_id, CURSOR_RESUME, &resume, NULL) == 0 &&
	    covered <= x->o->since_ms && resume > g->start) {
		g->start = resume;
		g->covered = covered;
	}
}

/* Lists the runs of every DAG, DAGS_PER_LISTING at a time.  A listing that
 * fails leaves its DAGs for the next sync. */
static int list_runs(struct ctx *x, struct dd_error *err)
{
	struct dag **group = dd_xcalloc(DAGS_PER_LISTING, sizeof(*group));
	const char **ids = dd_xcalloc(DAGS_PER_LISTING, sizeof(*ids));
	int64_t *since = dd_xcalloc(DAGS_PER_LISTING, sizeof(*since));
	int rc = 0;

	for (size_t i = 0; i < x->n_dags && rc == 0;) {
		size_t n = 0, rejected = x->st->rejected;
		int64_t t0 = dd_now_ms();   /* the run states read now are as of t0 or later */

		for (; i < x->n_dags && n < DAGS_PER_LISTING; i++) {
			struct dag *g = &x->dags[i];

			if (g->skip)
				continue;
			set_start(x, g);
			group[n] = g;
			ids[n] = g->dag_id;
			since[n++] = g->start;
		}
		if (!n)
			break;
		if ((rc = interrupted(x, err)) < 0)
			break;
		rc = conn_list_runs_multi(x->c, ids, since, n, on_listed_run, group, err);
		if (rc == DD_ENET)
			x->net_streak += (int)n - 1;   /* a network failure for each DAG of the listing */
		if (rc < 0 && !fatal(x, rc)) {
			/* their runs could not be listed: the next sync lists them again */
			note_problem(x, err->msg);
			x->st->dags_failed += n;
			for (size_t k = 0; k < n; k++) {
				group[k]->skip = 1;
				group[k]->gaps++;
				runs_release(&group[k]->listed);
			}
			dd_error_clear(err);
			rc = 0;
			continue;
		}
		if (rc > 0)
			rc = DD_ERR;
		if (rc < 0)
			break;
		x->net_streak = 0;
		for (size_t k = 0; k < n; k++) {
			group[k]->read_ms = t0;
			x->st->runs_listed += group[k]->listed.n;
			/* a run rejected from the listing could lie anywhere: keep the cursor */
			if (x->st->rejected > rejected && (group[k]->gaps || x->reject_unplaced))
				group[k]->hold_cursor = 1;
		}
		progress(x);
	}
	free(group);
	free(ids);
	free(since);
	return rc;
}

/* Should this listed run be fetched: 2 (new to the store), 1 (again:
 * unfinished or changed), 0 (no)? */
static int needs_fetch(struct ctx *x, int64_t dag_ref, const struct dd_run *r, struct dd_error *err)
{
	struct dd_store_run stored;
	int rc, fetch;

	if (!dag_ref)
		return 2;
	rc = store_run_get(x->s, dag_ref, r->run_id, &stored, err);
	if (rc == DD_ENOTFOUND) {
		dd_error_clear(err);
		return 2;
	}
	if (rc < 0)
		return rc;
	fetch = !dd_state_is_terminal(stored.run.state) || stored.run.state != r->state ||
	        (stored.run.end_ms && r->end_ms && stored.run.end_ms != r->end_ms);
	dd_run_release(&stored.run);
	return fetch;
}

/* Was the DAG's definition stored whole (not by name only, nor kept from
 * before because a part of a newer one was rejected) less than max_age ago? */
/* When g's definition was last stored whole (0: never, or not whole). */
static int64_t defined_ms(struct ctx *x, const struct dag *g)
{
	int64_t when = 0;

	if (store_cursor_get_i64(x->s, x->source_ref, g->dag_id, CURSOR_DEFINED, &when, NULL) < 0)
		return 0;
	return when > 0 ? when : 0;
}

/* Decides, for each DAG, which listed runs to fetch and whether its
 * definition must be read: a DAG not stored yet or not stored whole, one
 * with new runs, one with runs to fetch again whose definition is older
 * than DEFINITION_MAX_AGE_MS, or one whose pause the listing reports
 * changed. */
static int plan_runs(struct ctx *x, struct dd_error *err)
{
	for (size_t i = 0; i < x->n_dags; i++) {
		struct dag *g = &x->dags[i];

		if (g->skip)
			continue;
		g->fetch = dd_xcalloc(g->listed.n + 1, 1);
		for (size_t k = 0; k < g->listed.n; k++) {
			const struct dd_run *r = &g->listed.v[k];
			int f = needs_fetch(x, g->ref, r, err);

			if (f < 0)
				return f;
			if (!dd_state_is_terminal(r->state) && (!g->oldest_open || r->logical_ms < g->oldest_open))
				g->oldest_open = r->logical_ms;
			if (r->logical_ms > g->newest)
				g->newest = r->logical_ms;
			g->fetch[k] = f > 0;
			g->n_new += f == 2;
			g->n_fetch += f > 0;
			if (!f)
				x->st->runs_skipped++;
		}
		x->st->runs_to_fetch += g->n_fetch;
		if (!g->defined) {
			int64_t when = g->ref ? defined_ms(x, g) : 0;

			if (!when || g->n_new || (g->n_fetch && dd_now_ms() - when >= DEFINITION_MAX_AGE_MS) ||
			    (g->listed_paused >= 0 && g->listed_paused != g->stored_paused))
				g->refresh = 1;
		}
	}
	return 0;
}

/* Moves a DAG's cursor once every listed run is stored (one small
 * transaction), and records when its runs were read. */
static int finish_runs(struct ctx *x, struct dag *g, struct dd_error *err)
{
	int64_t resume;
	int rc, redone = 0;

	g->runs_done = 1;
	x->st->dags_done++;
	if (g->hold_cursor)
		return 0;
	if (g->oldest_open)
		resume = g->oldest_open;
	else if (g->newest)
		resume = g->newest;
	else
		resume = g->start;
	do {
		if ((rc = store_begin(x->s, err)) < 0)
			break;
		rc = store_cursor_put_i64(x->s, x->source_ref, g->dag_id, CURSOR_COVERED, g->covered, err);
		if (!rc)
			rc = store_cursor_put_i64(x->s, x->source_ref, g->dag_id, CURSOR_RESUME, resume, err);
		if (!rc)
			rc = store_cursor_put_i64(x->s, x->source_ref, g->dag_id, STORE_CURSOR_RUNS_READ, g->read_ms, err);
		if (!rc)
			rc = store_commit(x->s, err);
		else
			store_rollback(x->s);
	} while (redo_busy(rc, &redone, err));
	return rc;
}

/* One run, its task instances and tries: written in ONE transaction.
 * *is_new is decided inside it, so two syncs at once never both count a
 * run new. */
static int write_run(struct ctx *x, struct dag *g, const struct dd_run *r, const struct dd_ti_tries *v, size_t n,
                     int *is_new, struct dd_error *err)
{
	struct dd_store_run stored;
	int64_t run_ref;
	int rc;

	*is_new = 0;
	if ((rc = store_begin(x->s, err)) < 0)
		return rc;
	rc = store_run_get(x->s, g->ref, r->run_id, &stored, err);
	if (rc == 0) {
		dd_run_release(&stored.run);
	} else if (rc == DD_ENOTFOUND) {
		*is_new = 1;
		dd_error_clear(err);
		rc = 0;
	}
	if (!rc)
		rc = store_run_put(x->s, g->ref, r, &run_ref, err);
	/* a run added: the DAG's logs are to be planned, whatever stops this sync */
	if (!rc && !g->logs_reset)
		rc = store_cursor_put(x->s, x->source_ref, g->dag_id, CURSOR_LOGS_DONE, "0", err);
	if (!rc && (r->bundle_version || r->dag_version))
		rc = store_run_version_put(x->s, run_ref, r->bundle_version, r->dag_version, err);
	if (!rc && n) {
		struct store_ti_rows *rows = dd_xcalloc(n, sizeof(*rows));

		for (size_t i = 0; i < n; i++)
			rows[i] = (struct store_ti_rows){ &v[i].ti, v[i].tries, v[i].n_tries };
		rc = store_tis_put(x->s, run_ref, rows, n, err);
		free(rows);
	}
	if (!rc)
		rc = commit_batch(x, err);
	else
		store_rollback(x->s);
	if (!rc) {
		g->logs_reset = 1;
		x->st->tis += n;
		for (size_t i = 0; i < n; i++)
			x->st->tries += v[i].n_tries;
	}
	return rc;
}

/* A run left out (rejected object, failed fetch): the cursor must not pass it. */
static void leave_out(struct ctx *x, struct dag *g, const struct dd_run *r)
{
	x->st->runs_incomplete++;
	g->gaps++;
	if (!g->oldest_open || r->logical_ms < g->oldest_open)
		g->oldest_open = r->logical_ms;
}

/* Writes one run as its task instances came (or leaves it out): in the
 * writing thread. */
static int write_answer(struct ctx *x, const struct dd_run_key *k, const struct dd_ti_tries *v, size_t n,
                        const struct dd_error *e, int tainted, struct dd_error *err)
{
	struct dag *g = find_dag(x, k->dag_id);
	const struct dd_run *r = k->user;
	int is_new, rc, redone = 0;

	if (!g)
		return 0;
	g->n_delivered++;
	if (e) {
		if (e->code != DD_ENOTFOUND && run_fatal(x, e)) {
			*err = *e;
			return e->code;
		}
		note_problem(x, e->msg);    /* gone meanwhile, or this run only */
		leave_out(x, g, r);
		return 0;
	}
	x->net_streak = 0;
	x->last_run_failure[0] = '\0';
	/* validate, then store: nothing of a run with an object rejected is
	 * written, nor of any run of a request with an object that named no
	 * run (it may be of any of them) */
	if (tainted || run_rejected(x, k->dag_id, k->run_id)) {
		leave_out(x, g, r);
		return 0;
	}
	do
		rc = write_run(x, g, r, v, n, &is_new, err);
	while (redo_busy(rc, &redone, err));
	if (rc < 0)
		return rc;
	if (is_new)
		x->st->runs_new++;
	else
		x->st->runs_updated++;
	x->st->runs_fetched++;
	progress(x);
	return 0;
}

/* ---- task instances: one thread asks, the sync's own thread writes ---------------
 * So the requests of the next block of runs are in flight while the last
 * block is written.  The fetching thread touches only the connection and
 * its block; what the connector reports (answers, rejected objects, its
 * counters) is copied into the block and applied by the writing thread. */

struct held_reject {
	char *endpoint, *object, *dag_id, *run_id, *problem;
};

struct run_answer {              /* answers[i] is for keys[i] */
	int answered;
	struct dd_ti_tries *v;
	size_t n;
	int failed;
	struct dd_error err;
};

struct block {
	struct dd_run_key *keys;
	size_t n;
	struct run_answer *answers;
	struct held_reject *rejects;
	size_t n_rejects, cap_rejects;
	int rc;                       /* the connector call's own result */
	struct dd_error err;
	struct dd_conn_stats stats;   /* the connector's counters after the call */
};

struct fetcher {
	struct ctx *x;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct block *ready;          /* fetched, not taken yet (one at most) */
	int done;                     /* the fetcher has no more blocks */
	int stop;                     /* the writer stopped: ask no more */
	size_t di, ri;                /* where the next block starts */
	struct block *current;        /* the block being fetched */
};

static void block_free(struct block *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		conn_ti_tries_release(b->answers[i].v, b->answers[i].n);
	for (size_t i = 0; i < b->n_rejects; i++) {
		free(b->rejects[i].endpoint);
		free(b->rejects[i].object);
		free(b->rejects[i].dag_id);
		free(b->rejects[i].run_id);
		free(b->rejects[i].problem);
	}
	free(b->rejects);
	free(b->answers);
	free(b->keys);
	free(b);
}

static void hold_reject(const struct dd_reject *r, void *ud)
{
	struct block *b = ((struct fetcher *)ud)->current;
	struct held_reject *h;

	DD_GROW(b->rejects, b->cap_rejects, b->n_rejects + 1);
	h = &b->rejects[b->n_rejects++];
	h->endpoint = dd_xstrdup(r->endpoint);
	h->object = dd_xstrdup(r->object);
	h->dag_id = dd_xstrdup(r->dag_id);
	h->run_id = dd_xstrdup(r->run_id);
	h->problem = dd_xstrdup(r->problem);
}

static int stopped(struct fetcher *f)
{
	int stop;

	pthread_mutex_lock(&f->lock);
	stop = f->stop;
	pthread_mutex_unlock(&f->lock);
	return stop || (f->x->o->interrupted && *f->x->o->interrupted);
}

static int hold_answer(const struct dd_run_key *k, const struct dd_ti_tries *v, size_t n, const struct dd_error *e,
                       void *ud)
{
	struct fetcher *f = ud;
	struct block *b = f->current;
	/* k is one of the keys the call was given (connector.h) */
	size_t i = (size_t)((uintptr_t)k - (uintptr_t)b->keys) / sizeof(*k);
	struct run_answer *a;

	if ((uintptr_t)k < (uintptr_t)b->keys || i >= b->n || b->answers[i].answered)
		return 0;          /* not asked for, or delivered twice: the first answer stands */
	a = &b->answers[i];
	a->answered = 1;
	if (e) {
		a->failed = 1;
		a->err = *e;
	} else if (n) {
		a->v = dd_xcalloc(n, sizeof(*a->v));
		a->n = n;
		for (size_t t = 0; t < n; t++) {
			dd_task_instance_copy(&a->v[t].ti, &v[t].ti);
			a->v[t].tries = dd_xcalloc(v[t].n_tries + 1, sizeof(*a->v[t].tries));
			a->v[t].n_tries = v[t].n_tries;
			for (size_t j = 0; j < v[t].n_tries; j++)
				dd_try_copy(&a->v[t].tries[j], &v[t].tries[j]);
		}
	}
	return stopped(f) ? DD_EINTR : 0;
}

/* The next RUNS_PER_BLOCK runs to fetch, in DAG order. */
static struct block *next_block(struct fetcher *f)
{
	struct ctx *x = f->x;
	struct block *b = dd_xcalloc(1, sizeof(*b));

	b->keys = dd_xcalloc(RUNS_PER_BLOCK, sizeof(*b->keys));
	for (; f->di < x->n_dags && b->n < RUNS_PER_BLOCK; f->di++, f->ri = 0) {
		struct dag *g = &x->dags[f->di];

		if (g->skip || !g->ref)
			continue;
		for (; f->ri < g->listed.n && b->n < RUNS_PER_BLOCK; f->ri++)
			if (g->fetch[f->ri]) {
				b->keys[b->n].dag_id = g->dag_id;
				b->keys[b->n].run_id = g->listed.v[f->ri].run_id;
				b->keys[b->n++].user = &g->listed.v[f->ri];
			}
		if (f->ri < g->listed.n)
			break;          /* the block is full inside this DAG */
	}
	b->answers = dd_xcalloc(b->n + 1, sizeof(*b->answers));
	return b;
}

static void *fetch_blocks(void *arg)
{
	struct fetcher *f = arg;
	struct ctx *x = f->x;
	int last;

	conn_on_reject(x->c, hold_reject, f);
	for (;;) {
		struct block *b = next_block(f);

		if (!b->n || stopped(f)) {
			block_free(b);
			break;
		}
		f->current = b;
		b->rc = conn_list_run_tis(x->c, b->keys, b->n, hold_answer, f, &b->err);
		conn_stats(x->c, &b->stats);
		last = b->rc != 0;     /* b is the writer's once handed over */
		pthread_mutex_lock(&f->lock);
		while (f->ready && !f->stop)
			pthread_cond_wait(&f->cond, &f->lock);
		if (f->stop) {
			pthread_mutex_unlock(&f->lock);
			block_free(b);
			break;
		}
		f->ready = b;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
		if (last)
			break;
	}
	pthread_mutex_lock(&f->lock);
	f->done = 1;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* Writes one fetched block: its rejected objects first (they came before
 * the runs they belong to), then each run. */
static int write_block(struct ctx *x, struct block *b, struct dd_error *err)
{
	int tainted = 0, rc = 0;

	x->st->requests = b->stats.requests;
	x->st->retries = b->stats.retries;
	x->st->bytes = b->stats.bytes;
	for (size_t i = 0; i < b->n_rejects; i++) {
		struct held_reject *h = &b->rejects[i];
		struct dd_reject r = { h->endpoint, h->object, h->dag_id, h->run_id, h->problem };

		on_reject(&r, x);
		tainted |= !h->run_id;
	}
	/* Ctrl-C: stop after the run being written (the others are asked for
	 * again by the next sync).  A run the connector never answered for in
	 * a call that went through is left out, so no cursor passes it. */
	for (size_t i = 0; i < b->n && rc == 0 && (rc = interrupted(x, err)) == 0; i++) {
		struct run_answer *a = &b->answers[i];
		struct dag *g;

		if (a->answered)
			rc = write_answer(x, &b->keys[i], a->v, a->n, a->failed ? &a->err : NULL, tainted, err);
		else if (b->rc == 0 && (g = find_dag(x, b->keys[i].dag_id))) {
			g->n_delivered++;
			note_problem(x, "the server's answer left a run out");
			leave_out(x, g, b->keys[i].user);
		}
	}
	if (rc == 0 && b->rc == DD_EINTR)   /* the fetcher saw Ctrl-C */
		rc = dd_error_set(err, DD_EINTR, "interrupted; run the same command again to finish");
	else if (rc == 0 && b->rc) {
		rc = b->rc < 0 ? b->rc : DD_ERR;
		*err = b->err;
	}
	return rc;
}

/* Moves the cursors of the DAGs from *first_open on whose every run is
 * in, in DAG order (a DAG still waiting for runs stops it there). */
static int finish_dags(struct ctx *x, size_t *first_open, struct dd_error *err)
{
	int rc = 0;

	for (; rc == 0 && *first_open < x->n_dags; ++*first_open) {
		struct dag *g = &x->dags[*first_open];

		if (g->skip || !g->ref) {
			x->st->dags_done += !g->runs_done;
			g->runs_done = 1;
			continue;
		}
		if (g->n_delivered < g->n_fetch)
			break;
		rc = finish_runs(x, g, err);
	}
	return rc;
}

/* Fetches the task instances of every run to fetch, RUNS_PER_BLOCK runs
 * per connector call in DAG order (the next block is fetched while one is
 * written); each DAG's cursor moves once its last run is in. */
static int fetch_runs(struct ctx *x, struct dd_error *err)
{
	struct fetcher f = { .x = x };
	pthread_t thread;
	size_t first_open = 0;
	int rc = 0;

	pthread_mutex_init(&f.lock, NULL);
	pthread_cond_init(&f.cond, NULL);
	x->fetching = 1;
	if (pthread_create(&thread, NULL, fetch_blocks, &f) != 0) {
		x->fetching = 0;
		return dd_error_set(err, DD_ERR, "could not start a thread to fetch task instances");
	}
	for (;;) {
		struct block *b;

		pthread_mutex_lock(&f.lock);
		while (!f.ready && !f.done)
			pthread_cond_wait(&f.cond, &f.lock);
		b = f.ready;
		f.ready = NULL;
		pthread_cond_broadcast(&f.cond);
		pthread_mutex_unlock(&f.lock);
		if (!b)
			break;
		rc = write_block(x, b, err);
		block_free(b);
		if (rc == 0)
			rc = finish_dags(x, &first_open, err);
		if (rc == 0)
			progress(x);
		if (rc)
			break;
	}
	pthread_mutex_lock(&f.lock);
	f.stop = 1;
	pthread_cond_broadcast(&f.cond);
	pthread_mutex_unlock(&f.lock);
	pthread_join(thread, NULL);
	block_free(f.ready);
	x->fetching = 0;
	conn_on_reject(x->c, on_reject, x);
	pthread_cond_destroy(&f.cond);
	pthread_mutex_destroy(&f.lock);
	if (rc == 0)
		rc = finish_dags(x, &first_open, err);   /* the last ones */
	if (rc == 0 && interrupted(x, err) < 0)
		rc = DD_EINTR;
	return rc;
}

/* ---- step 3: logs ---------------------------------------------------------------- */

struct log_job {
	int64_t try_ref;
	const char *dag_id;          /* in ctx.dags */
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
	const char *dag_id;            /* the DAG being planned */
	size_t dag_first;              /* its first job (jobs of one DAG are not repeated) */
	struct dd_strv failing_tasks;  /* of that DAG */
};

static int has_job(const struct log_jobs *j, int64_t try_ref)
{
	for (size_t i = j->dag_first; i < j->n; i++)
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
	q->dag_id = j->dag_id;
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

static void dag_log_failed(struct ctx *x, const struct log_job *job)
{
	struct dag *g = find_dag(x, job->dag_id);

	if (g)
		g->logs_failed++;
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
		dag_log_failed(x, job);
		if (!x->st->logs_failed)
			snprintf(x->st->first_log_error, sizeof(x->st->first_log_error), "%s", lerr->msg);
		x->st->logs_failed++;
	} else if (store_log_pack(text, len, truncated, job->cap, &job->blob, &perr) == 0) {
		job->outcome = JOB_FETCHED;
		job->delivered = len;
	} else {
		job->outcome = JOB_FAILED;
		dag_log_failed(x, job);
		if (!x->st->logs_failed)
			snprintf(x->st->first_log_error, sizeof(x->st->first_log_error), "%s", perr.msg);
		x->st->logs_failed++;
	}
	x->st->logs_done++;
	progress(x);
	return 0;
}

/* Writes one fetched batch of logs in one transaction (again when the
 * store was busy); the blobs are released after. */
static int write_logs_once(struct ctx *x, struct log_job *jobs, size_t n, struct dd_error *err)
{
	size_t logs = 0, missing = 0, baselines = 0, successes = 0;
	uint64_t bytes = 0;
	int rc = store_begin(x->s, err);

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

static int write_logs(struct ctx *x, struct log_job *jobs, size_t n, struct dd_error *err)
{
	int rc, redone = 0;

	do
		rc = write_logs_once(x, jobs, n, err);
	while (redo_busy(rc, &redone, err));
	for (size_t i = 0; i < n; i++)
		store_log_blob_release(&jobs[i].blob);
	return rc;
}

/* The logs one DAG wants: failed tries in the window without a log, the
 * newest success of each task that failed (a baseline), and when every
 * run the DAG listed is stored (none rejected or left out: only then are
 * the newest successes those a sync that did not fail would pick), the
 * newest successes of every task, which quiet failures are read from. */
static int plan_logs(struct ctx *x, struct dag *g, struct log_jobs *j, struct dd_error *err)
{
	int rc;

	j->dag_id = g->dag_id;
	j->dag_first = j->n;
	dd_strv_release(&j->failing_tasks);
	rc = store_failed_tries(x->s, g->ref, x->o->since_ms, 0, 0, on_failed_try, j, err);
	for (size_t i = 0; i < j->failing_tasks.n && rc == 0; i++) {
		rc = store_last_success_try(x->s, g->ref, j->failing_tasks.v[i], 0, on_baseline, j, err);
		if (rc == DD_ENOTFOUND) {
			dd_error_clear(err);
			rc = 0;
		}
	}
	if (rc == 0 && !g->gaps && x->src->success_logs > 0)
		rc = store_recent_successes(x->s, g->ref, x->o->since_ms, x->src->success_logs, on_success, j, err);
	return rc;
}

/* Is every log the DAG wants already stored, for this window and
 * success_logs (so planning them would find nothing)? */
static int logs_done(struct ctx *x, struct dag *g)
{
	char *v = NULL;
	long long from = 0;
	int success_logs = -1, yes;

	if (g->n_fetch || store_cursor_get(x->s, x->source_ref, g->dag_id, CURSOR_LOGS_DONE, &v, NULL) < 0 || !v)
		return 0;
	yes = sscanf(v, "%lld %d", &from, &success_logs) == 2 && from > 0 && from <= x->o->since_ms &&
	      success_logs == x->src->success_logs;
	free(v);
	g->logs_were_done = yes;
	return yes;
}

/* Records, for each DAG whose logs were planned and all fetched (none
 * failed, none of its objects rejected), that nothing is left to plan. */
static int note_logs_done(struct ctx *x, struct dd_error *err)
{
	int rc = 0, redone = 0;

	do {
		if ((rc = store_begin(x->s, err)) < 0)
			break;
		for (size_t i = 0; i < x->n_dags && rc == 0; i++) {
			struct dag *g = &x->dags[i];
			char v[64];

			if (g->skip || !g->ref || g->logs_were_done || g->logs_failed || g->gaps || !g->runs_done)
				continue;
			snprintf(v, sizeof(v), "%lld %d", (long long)x->o->since_ms, x->src->success_logs);
			rc = store_cursor_put(x->s, x->source_ref, g->dag_id, CURSOR_LOGS_DONE, v, err);
		}
		if (!rc)
			rc = store_commit(x->s, err);
		else
			store_rollback(x->s);
	} while (redo_busy(rc, &redone, err));
	return rc;
}

/* Fetches the logs of every DAG, log_batch at a time whatever their DAG,
 * so the connector keeps its concurrency busy; one transaction per batch. */
static int sync_logs(struct ctx *x, struct dd_error *err)
{
	struct log_jobs j = { 0 };
	size_t batch = x->o->log_batch ? x->o->log_batch : DEFAULT_LOG_BATCH;
	int rc = 0;

	j.log_cap = x->src->max_log_bytes > 0 ? (size_t)x->src->max_log_bytes : 0;
	j.success_cap = x->src->success_log_bytes > 0 ? (size_t)x->src->success_log_bytes : 0;
	if (j.log_cap && (!j.success_cap || j.success_cap > j.log_cap))
		j.success_cap = j.log_cap;
	for (size_t i = 0; i < x->n_dags && rc == 0; i++)
		if (!x->dags[i].skip && x->dags[i].ref && !logs_done(x, &x->dags[i]))
			rc = plan_logs(x, &x->dags[i], &j, err);
	x->st->logs_planned = j.n;
	for (size_t off = 0; off < j.n && rc == 0; off += batch) {
		size_t n = j.n - off < batch ? j.n - off : batch;
		struct dd_log_request *reqs;

		if ((rc = interrupted(x, err)) < 0)
			break;
		reqs = dd_xcalloc(n, sizeof(*reqs));
		for (size_t i = 0; i < n; i++) {
			struct log_job *q = &j.v[off + i];

			reqs[i].dag_id = q->dag_id;
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
	if (rc == 0)
		rc = note_logs_done(x, err);
	jobs_release(&j);
	return rc;
}

/* ---- the sync ------------------------------------------------------------------- */

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
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	conn_on_reject(c, on_reject, &x);
	if (opts->n_dag_ids) {
		for (size_t i = 0; i < opts->n_dag_ids; i++)
			if (!find_dag(&x, opts->dag_ids[i]))
				add_named(&x, opts->dag_ids[i]);
	} else {
		rc = op_result(&x, conn_list_dag_summaries(c, add_summary, &x, err), err);
	}
	stats->dags_total = x.n_dags;
	if (rc == 0)
		rc = interrupted(&x, err);
	if (rc == 0)
		rc = refresh_source(&x, err);
	if (rc == 0)
		rc = store_dags(s, x.source_ref, on_stored_dag, &x, err);
	/* DAGs named: their definitions first (one the source lacks stops here) */
	if (rc == 0 && opts->n_dag_ids)
		rc = refresh_definitions(&x, err);
	if (rc == 0)
		rc = list_runs(&x, err);
	if (rc == 0)
		rc = plan_runs(&x, err);
	if (rc == 0)
		rc = refresh_definitions(&x, err);
	if (rc == 0)
		rc = fetch_runs(&x, err);
	if (rc == 0)
		rc = sync_logs(&x, err);
	for (size_t i = 0; i < x.n_dags && rc == 0; i++) {
		struct dag *g = &x.dags[i];

		if (g->skip || !g->ref)
			continue;
		rc = store_runs(s, g->ref, opts->since_ms, 0, count_run, &stats->runs_in_window, err);
		stats->dags++;
	}
	if (rc == 0)
		stats->dags_done = x.n_dags;
	if (rc == 0 && stats->runs_new >= STATISTICS_AFTER_RUNS &&
	    stats->runs_new * 10 >= stats->runs_in_window) {
		struct dd_error ignored = DD_ERROR_INIT;

		store_refresh_statistics(s, &ignored);   /* only ever a speed-up */
	}
	if (rc == 0 && x.source_ref)
		rc = store_source_set_synced(s, x.source_ref, dd_now_ms(), err);
	if (store_in_transaction(s))
		store_rollback(s);
	progress(&x);
	conn_on_reject(c, NULL, NULL);
	dd_strv_release(&x.reject_runs);
	for (size_t i = 0; i < x.n_dags; i++) {
		free((char *)x.dags[i].dag_id);
		runs_release(&x.dags[i].listed);
		free(x.dags[i].fetch);
	}
	free(x.dags);
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
