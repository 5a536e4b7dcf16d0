/*
 * session.c - the pipeline the commands share (see session.h): sync,
 * find a DAG, triage it with its upstream DAGs, build a report.
 */
#include "dagdoc/util.h"

#include <pthread.h>

#include <pwd.h>
#include <unistd.h>

#include "dagdoc/classify.h"
#include "dagdoc/evidence.h"
#include "dagdoc/connector.h"
#include "dagdoc/gitcorr.h"
#include "dagdoc/session.h"
#include "dagdoc/store.h"

/* A run's logical date may precede its start by its schedule interval:
 * look this much earlier for runs that ran in a report's period. */
#define RUN_SLACK_MS (8LL * 86400 * 1000)

static void note(struct dd_session *s, char *owned)
{
	dd_strv_push_owned(&s->notes, owned);
}

int session_open(struct dd_session *s, struct dd_config *cfg, const char *store_path, int offline,
                 struct dd_error *err)
{
	struct dd_error ro = DD_ERROR_INIT;
	struct store_opts o = { cfg ? cfg->store_password : NULL, 0 };
	int rc;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->offline = offline;
	rc = store_open_with(store_path, &o, &s->store, err);
	/* --offline only reads: a store this user may not write is read as it is */
	o.readonly = 1;
	if (rc < 0 && offline && store_open_with(store_path, &o, &s->store, &ro) == 0) {
		dd_error_clear(err);
		rc = 0;
	}
	return rc;
}

void session_close(struct dd_session *s)
{
	for (size_t i = 0; i < s->n_repos; i++)
		gitcorr_close(s->repos[i]);
	free(s->repos);
	pat_library_free(s->lib);
	store_close(s->store);
	dd_strv_release(&s->lib_problems);
	dd_strv_release(&s->synced);
	dd_strv_release(&s->notes);
	memset(s, 0, sizeof(*s));
}

int session_library(struct dd_session *s, struct dd_error *err)
{
	if (s->lib)
		return 0;
	return classify_library_load(NULL, &s->cfg->pattern_dirs, &s->lib, &s->lib_problems, err);
}

size_t session_repos(struct dd_session *s)
{
	if (s->repos_opened)
		return s->n_repos;
	s->repos_opened = 1;
	s->repos = dd_xcalloc(s->cfg->n_repos + 1, sizeof(*s->repos));
	for (size_t i = 0; i < s->cfg->n_repos; i++) {
		struct dd_error err = DD_ERROR_INIT;

		if (gitcorr_open(&s->cfg->repos[i], &s->repos[s->n_repos], &err) < 0)
			note(s, dd_xasprintf("%s; git correlation skips it", err.msg));
		else
			s->n_repos++;
	}
	return s->n_repos;
}

/* ---- sync ----------------------------------------------------------------------- */

struct progress_relay {
	const struct session_hooks *hooks;
	const char *source;
};

/* Sources synced at once report from their own threads: one at a time. */
static pthread_mutex_t relay_lock = PTHREAD_MUTEX_INITIALIZER;

static void relay_progress(const struct dd_sync_stats *st, void *ud)
{
	struct progress_relay *r = ud;

	pthread_mutex_lock(&relay_lock);
	r->hooks->progress(r->source, st, r->hooks->ud);
	pthread_mutex_unlock(&relay_lock);
}

/* One source into `store` (the session's, or a thread's own handle on the
 * same store): touches nothing of the session but its hooks. */
static int sync_source(struct dd_session *s, struct dd_store *store, const struct dd_source *src,
                       const char *const *dag_ids, size_t n, int64_t since_s, unsigned flags,
                       struct dd_sync_stats *stats, char *describe, struct dd_error *err)
{
	const struct session_hooks *h = &s->hooks;
	struct progress_relay relay = { h, src->name };
	struct dd_sync_options opts;
	struct dd_conn *conn = NULL;
	int rc;

	memset(stats, 0, sizeof(*stats));
	memset(&opts, 0, sizeof(opts));
	opts.dag_ids = dag_ids;
	opts.n_dag_ids = n;
	opts.since_ms = dd_now_ms() - since_s * 1000;
	opts.interrupted = h->interrupted;
	if (h->progress) {
		opts.progress = relay_progress;
		opts.progress_ud = &relay;
	}
	opts.batch_hook = h->batch_hook;
	opts.batch_hook_ud = h->batch_hook_ud;
	/* one sync per source and store at a time, across processes */
	if ((rc = store_sync_lock(store, src->name, err)) < 0)
		return rc;
	rc = conn_open(src, h->verbose, &conn, err);
	if (rc < 0) {
		store_sync_unlock(store, src->name);
		return rc;
	}
	if (describe)
		snprintf(describe, 256, "%s", conn_describe(conn));
	if (!(flags & SESSION_SYNC_EACH) || !n) {
		rc = sync_run(store, conn, src, &opts, stats, err);
	} else {
		struct dd_sync_stats one, gaps;

		memset(&gaps, 0, sizeof(gaps));
		for (size_t i = 0; i < n; i++) {
			memset(&one, 0, sizeof(one));
			opts.dag_ids = dag_ids + i;
			opts.n_dag_ids = 1;
			rc = sync_run(store, conn, src, &opts, &one, err);
			sync_add_gaps(&gaps, &one);
			*stats = one;
			if (rc == DD_ENOTFOUND) {      /* another source may have it */
				rc = 0;
				dd_error_clear(err);
				continue;
			}
			if (rc < 0)
				break;
		}
		/* what any of them left out, not only the last */
		sync_clear_gaps(stats);
		sync_add_gaps(stats, &gaps);
	}
	conn_close(conn);
	store_sync_unlock(store, src->name);
	return rc;
}

static void note_synced(struct dd_session *s, const struct dd_source *src, const char *const *dag_ids, size_t n)
{
	for (size_t i = 0; i < (n ? n : 1); i++)
		dd_strv_push_owned(&s->synced, dd_xasprintf("%s\t%s", src->name, n ? dag_ids[i] : "*"));
}

int session_sync(struct dd_session *s, const struct dd_source *src, const char *const *dag_ids, size_t n,
                 int64_t since_s, unsigned flags, struct dd_sync_stats *stats, char *describe,
                 struct dd_error *err)
{
	struct dd_sync_stats local;
	int rc;

	if (!stats)
		stats = &local;
	if (s->hooks.sync_guard)
		s->hooks.sync_guard(1, s->hooks.ud);
	rc = sync_source(s, s->store, src, dag_ids, n, since_s, flags, stats, describe, err);
	if (s->hooks.sync_guard)
		s->hooks.sync_guard(0, s->hooks.ud);
	if (rc < 0)
		return rc;
	note_synced(s, src, dag_ids, n);
	return 0;
}

/* What one thread of session_sync_sources works on. */
struct source_job {
	struct dd_session *s;
	struct session_source_sync *out;
	const char *const *dag_ids;
	size_t n;
	int64_t since_s;
	unsigned flags;
};

static void *sync_source_thread(void *arg)
{
	struct source_job *j = arg;
	struct session_source_sync *o = j->out;
	struct dd_store *store = NULL;
	/* a handle of its own: a store handle is used by one thread at a time */
	struct store_opts opts = { j->s->cfg ? j->s->cfg->store_password : NULL, 0 };

	o->rc = store_open_with(store_path(j->s->store), &opts, &store, &o->err);
	if (o->rc == 0)
		o->rc = sync_source(j->s, store, o->src, j->dag_ids, j->n, j->since_s, j->flags, &o->stats, o->describe,
		                    &o->err);
	store_close(store);
	return NULL;
}

int session_sync_sources(struct dd_session *s, struct session_source_sync *v, size_t n, const char *const *dag_ids,
                         size_t n_dags, int64_t since_s, unsigned flags)
{
	struct source_job *jobs;
	pthread_t *threads;
	int stop = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&v[i].stats, 0, sizeof(v[i].stats));
		v[i].describe[0] = '\0';
		dd_error_clear(&v[i].err);
		v[i].rc = 0;
	}
	if (n == 1) {
		v[0].rc = session_sync(s, v[0].src, dag_ids, n_dags, since_s, flags, &v[0].stats, v[0].describe,
		                       &v[0].err);
		return v[0].rc == DD_EINTR ? DD_EINTR : 0;
	}
	jobs = dd_xcalloc(n, sizeof(*jobs));
	threads = dd_xcalloc(n, sizeof(*threads));
	if (s->hooks.sync_guard)
		s->hooks.sync_guard(1, s->hooks.ud);
	for (size_t i = 0; i < n; i++) {
		jobs[i] = (struct source_job){ s, &v[i], dag_ids, n_dags, since_s, flags };
		if (pthread_create(&threads[i], NULL, sync_source_thread, &jobs[i]) != 0) {
			threads[i] = 0;
			sync_source_thread(&jobs[i]);   /* no thread to be had: here, now */
		}
	}
	for (size_t i = 0; i < n; i++)
		if (threads[i])
			pthread_join(threads[i], NULL);
	if (s->hooks.sync_guard)
		s->hooks.sync_guard(0, s->hooks.ud);
	for (size_t i = 0; i < n; i++) {
		if (v[i].rc == 0)
			note_synced(s, v[i].src, dag_ids, n_dags);
		stop |= v[i].rc == DD_EINTR;
	}
	free(threads);
	free(jobs);
	return stop ? DD_EINTR : 0;
}

static int synced_already(const struct dd_session *s, const struct dd_source *src, const char *dag_id)
{
	char *one = dd_xasprintf("%s\t%s", src->name, dag_id), *all = dd_xasprintf("%s\t*", src->name);
	int yes = dd_strv_contains(&s->synced, one) || dd_strv_contains(&s->synced, all);

	free(one);
	free(all);
	return yes;
}

/* The sync's gaps as notes. */
static void gap_notes(struct dd_session *s, const struct dd_sync_stats *st)
{
	sync_gap_sentences(st, 0, &s->notes);
}

/* ---- the DAG a command names -------------------------------------------------------- */

struct stored_dags {
	struct dd_closest near;
	size_t n;
};

static int on_stored_dag(const struct dd_store_dag *d, void *ud)
{
	struct stored_dags *sd = ud;

	dd_closest_offer(&sd->near, d->dag_id);
	sd->n++;
	return 0;
}

static int count_dag(const struct dd_store_dag *d, void *ud)
{
	(void)d;
	++*(size_t *)ud;
	return 0;
}

size_t session_stored_dags(struct dd_session *s)
{
	struct dd_error ignored = DD_ERROR_INIT;
	size_t n = 0;

	if (s->store)
		store_dags(s->store, 0, count_dag, &n, &ignored);
	return n;
}

static int on_dag_id(const struct dd_store_dag *d, void *ud)
{
	struct dd_strv *out = ud;

	if (!dd_strv_contains(out, d->dag_id))
		dd_strv_push(out, d->dag_id);
	return 0;
}

int session_dag_ids(struct dd_session *s, const char *source, struct dd_strv *out, struct dd_error *err)
{
	int64_t ref = 0;
	int rc;

	if (source && (rc = store_source_ref(s->store, source, &ref, err)) < 0)
		return rc == DD_ENOTFOUND ? 0 : rc;
	return store_dags(s->store, ref, on_dag_id, out, err);
}

/* "no DAG named X in the store; did you mean Y?" */
static int no_such_dag(struct dd_session *s, const char *dag_id, struct dd_error *err)
{
	struct stored_dags sd = { DD_CLOSEST_INIT(dag_id), 0 };
	struct dd_error ignored = DD_ERROR_INIT;

	store_dags(s->store, 0, on_stored_dag, &sd, &ignored);
	if (dd_closest_pick(&sd.near))
		dd_error_set(err, DD_ENOTFOUND, "no DAG named '%s' in the store; did you mean '%s'?", dag_id,
		             dd_closest_pick(&sd.near));
	else if (s->offline && !sd.n)
		dd_error_set(err, DD_ENOTFOUND, "the store %s is empty: nothing has been synced into it yet; %s",
		             store_shown(s->store), s->cfg->n_sources
		             ? "run 'dagdoc sync' (without --offline) to fill it"
		             : "configure a source ('dagdoc init' writes a config) and run 'dagdoc sync'");
	else if (s->offline)
		dd_error_set(err, DD_ENOTFOUND, "no DAG named '%s' in the store; run 'dagdoc sync' first or drop "
		             "--offline", dag_id);
	else
		dd_error_set(err, DD_ENOTFOUND, "no DAG named '%s' in the store", dag_id);
	dd_closest_release(&sd.near);
	return 1;
}

int session_find_dag(struct dd_session *s, const char *source_name, const char *dag_id, int64_t since_s,
                     const struct dd_source **src_out, int64_t *dag_ref, struct dd_error *err)
{
	struct dd_source *src = NULL;
	struct dd_error missing = DD_ERROR_INIT;
	int rc;

	*src_out = NULL;
	if (!s->offline || source_name) {
		rc = config_find_source(s->cfg, source_name, &src, err);
		if (rc < 0)
			return rc;
	}
	if (!s->offline) {
		const char *ids[1] = { dag_id };
		struct dd_sync_stats st;

		rc = session_sync(s, src, ids, 1, since_s, 0, &st, NULL, err);
		if (rc < 0)
			return rc;
		gap_notes(s, &st);
	}
	if (store_dag_ref(s->store, src ? src->name : NULL, dag_id, dag_ref, &missing) < 0)
		return no_such_dag(s, dag_id, err);
	/* Offline without a source name: the configured source the stored DAG is from. */
	for (size_t i = 0; !src && i < s->cfg->n_sources; i++) {
		int64_t ref;
		struct dd_error e2 = DD_ERROR_INIT;

		if (store_dag_ref(s->store, s->cfg->sources[i].name, dag_id, &ref, &e2) == 0 && ref == *dag_ref)
			src = &s->cfg->sources[i];
	}
	*src_out = src;
	return 0;
}

/* ---- triage ----------------------------------------------------------------------------- */

/* Syncs the DAGs the failures name as upstream (a sensor's upstream_dag)
 * that are not the triaged one; returns how many were synced. */
static size_t sync_upstream_dags(struct dd_session *s, const struct dd_source *src, const struct triage_result *t,
                                 int64_t since_s)
{
	struct dd_strv ids = DD_STRV_INIT;
	size_t synced = 0;

	for (size_t i = 0; i < t->an.n_groups; i++) {
		const char *up = dd_failure_entity(&t->an.groups[i].failure, "upstream_dag");

		if (up && strcmp(up, t->an.dag_id) && !dd_strv_contains(&ids, up) && !synced_already(s, src, up))
			dd_strv_push(&ids, up);
	}
	for (size_t i = 0; i < ids.n; i++) {
		const char *one[1] = { ids.v[i] };
		struct dd_sync_stats st;
		struct dd_error err = DD_ERROR_INIT;

		if (session_sync(s, src, one, 1, since_s, 0, &st, NULL, &err) == 0) {
			gap_notes(s, &st);
			synced++;
		} else {
			note(s, dd_xasprintf("could not sync %s, the upstream DAG a sensor of %s waits on (%s); the "
			                     "diagnosis goes on without it", ids.v[i], t->an.dag_id, err.msg));
		}
	}
	dd_strv_release(&ids);
	return synced;
}

/* The verdicts the store holds, as rank weighs them (strings owned here). */
struct facts {
	struct rk_fact *v;
	size_t n, cap;
	struct dd_strv strings;
};

static const char *keep(struct facts *f, const char *s)
{
	if (!s)
		return NULL;
	dd_strv_push(&f->strings, s);
	return f->strings.v[f->strings.n - 1];
}

static int on_fact(const struct dd_store_fact *sf, void *ud)
{
	struct facts *f = ud;

	DD_GROW(f->v, f->cap, f->n + 1);
	f->v[f->n++] = (struct rk_fact){ keep(f, sf->fingerprint), keep(f, sf->kind), sf->verdict, keep(f, sf->what),
		                         keep(f, sf->tool), keep(f, sf->user), sf->at_ms };
	return 0;
}

static const char *local_user(void)
{
	const char *u = getenv("USER");
	const struct passwd *pw;

	if (u && *u)
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : NULL;
}

/* Records the verdicts the pasted outputs gave (those not read from the store). */
static void record_verdicts(struct dd_session *s, const struct triage_result *t)
{
	int64_t now = dd_now_ms();
	size_t n = 0;

	for (size_t i = 0; i < t->rk.n_causes; i++) {
		const struct rk_cause *c = &t->rk.causes[i];

		for (size_t k = 0; k < c->n_verdicts; k++) {
			const struct rk_verdict *v = &c->verdicts[k];
			char *detail;
			struct dd_error err = DD_ERROR_INIT;

			if (v->stored || !c->fingerprint)
				continue;
			if (store_readonly(s->store)) {
				n++;
				continue;
			}
			detail = v->line_text ? dd_xasprintf("%s: %s", v->source, v->line_text) : dd_xstrdup(v->source);
			if (store_fact_put(s->store,
					   &(struct dd_store_fact){c->fingerprint, rk_kind_name(c->kind), v->verdict,
								   v->what, v->tool, detail, local_user(), now},
					   &err) < 0)
				note(s, dd_xasprintf("%s; what the evidence established is not kept", err.msg));
			free(detail);
		}
	}
	if (n)
		note(s, dd_xasprintf("the store %s is read-only here: what the evidence established is not kept",
		                     store_shown(s->store)));
}

static int triage_with_facts(struct dd_session *s, int64_t dag_ref, int64_t since_s, struct triage_result *t,
                             struct dd_error *err)
{
	struct facts f = { NULL, 0, 0, DD_STRV_INIT };
	struct dd_error e2 = DD_ERROR_INIT;
	struct rk_input in;
	int rc;

	if (store_facts(s->store, on_fact, &f, &e2) < 0)
		note(s, dd_xasprintf("%s; earlier verdicts are left out", e2.msg));
	in = (struct rk_input){ s->evidence, f.v, f.n, s->lib };
	rc = triage_dag(s->store, dag_ref, s->lib, s->repos, s->n_repos, since_s, &in, t, err);
	free(f.v);
	dd_strv_release(&f.strings);
	return rc;
}

int session_triage(struct dd_session *s, const struct dd_source *src, int64_t dag_ref, int64_t since_s,
                   struct triage_result *t, struct dd_error *err)
{
	int rc = session_library(s, err);

	if (rc < 0)
		return rc;
	session_repos(s);
	if (s->hooks.step && s->n_repos) {
		char *what = dd_xasprintf("triage: analysing the history and reading the git history of %s%s",
		                          s->cfg->repos[0].path, s->n_repos > 1 ? " and others" : "");

		s->hooks.step(what, s->hooks.ud);
		free(what);
	}
	rc = triage_with_facts(s, dag_ref, since_s, t, err);
	if (s->hooks.step && s->n_repos)
		s->hooks.step(NULL, s->hooks.ud);
	if (rc < 0)
		return rc;
	if (!s->offline && src && sync_upstream_dags(s, src, t, since_s)) {
		/* A sensor waits on other DAGs: with their history stored, look again. */
		triage_release(t);
		rc = triage_with_facts(s, dag_ref, since_s, t, err);
	}
	if (rc == 0 && s->evidence)
		record_verdicts(s, t);
	return rc;
}

/* ---- report ------------------------------------------------------------------------------ */

struct pick {
	int64_t ref;
	char *source;
	char *dag_id;
	int is_paused;
	int64_t last_logical_ms;
};

struct pick_ctx {
	struct pick *v;
	size_t n, cap;
	const struct dd_strv *names;
};

static int on_pick(const struct dd_store_dag *d, void *ud)
{
	struct pick_ctx *c = ud;

	if (c->names->n && !dd_strv_contains(c->names, d->dag_id))
		return 0;
	DD_GROW(c->v, c->cap, c->n + 1);
	c->v[c->n].ref = d->ref;
	c->v[c->n].source = dd_xstrdup(d->source_name);
	c->v[c->n].dag_id = dd_xstrdup(d->dag_id);
	c->v[c->n].is_paused = d->is_paused;
	c->v[c->n].last_logical_ms = d->last_logical_ms;
	c->n++;
	return 0;
}

struct ran_ctx {
	int64_t from_ms;
	int ran;
};

static int on_run(const struct dd_store_run *r, void *ud)
{
	struct ran_ctx *c = ud;
	struct an_run ar = { .state = r->run.state, .logical_ms = r->run.logical_ms, .start_ms = r->run.start_ms,
	                     .end_ms = r->run.end_ms };

	if (report_run_time(&ar) >= c->from_ms) {
		c->ran = 1;
		return 1;
	}
	return 0;
}

static int ran_since(struct dd_store *store, int64_t dag_ref, int64_t from_ms)
{
	struct ran_ctx c = { from_ms, 0 };
	struct dd_error err = DD_ERROR_INIT;

	store_runs(store, dag_ref, from_ms - RUN_SLACK_MS, 0, on_run, &c, &err);
	return c.ran;
}

static const struct dd_source *config_source(const struct dd_config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->n_sources; i++)
		if (!strcmp(cfg->sources[i].name, name))
			return &cfg->sources[i];
	return NULL;
}

/* 1. Each source synced (all at once); one that cannot be read is named
 * and skipped. */
static int report_sync(struct dd_session *s, const struct session_report_scope *sc, struct report *r,
                       struct session_report_outcome *out, struct dd_error *err)
{
	struct session_source_sync *v = dd_xcalloc(s->cfg->n_sources + 1, sizeof(*v));
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < s->cfg->n_sources; i++)
		if (!sc->sources->n || dd_strv_contains(sc->sources, s->cfg->sources[i].name))
			v[n++].src = &s->cfg->sources[i];
	if (!s->offline && n) {
		out->sources_tried += n;
		rc = session_sync_sources(s, v, n, (const char *const *)sc->dags->v, sc->dags->n, sc->history_s,
		                          SESSION_SYNC_EACH);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (v[i].rc < 0) {
			out->sources_failed++;
			note(s, dd_xasprintf("source %s could not be read: %s; the report uses what the store "
			                     "already holds", v[i].src->name, v[i].err.msg));
		} else if (!s->offline) {
			gap_notes(s, &v[i].stats);
		}
		report_add_source(r, v[i].src->name, dd_source_kind_name(v[i].src->kind),
		                  v[i].describe[0] ? v[i].describe : NULL, v[i].rc < 0 ? v[i].err.msg : NULL,
		                  !s->offline);
	}
	if (rc == DD_EINTR) {
		for (size_t i = 0; i < n; i++)
			if (v[i].rc == DD_EINTR)
				*err = v[i].err;
	}
	free(v);
	return rc;
}

/* 2. The DAGs: those named, or every DAG stored for the sources read. */
static void report_pick(struct dd_session *s, const struct session_report_scope *sc, struct report *r,
                        struct pick_ctx *picks, struct session_report_outcome *out)
{
	struct dd_error err = DD_ERROR_INIT;

	picks->names = sc->dags;
	if (!s->cfg->n_sources) {
		store_dags(s->store, 0, on_pick, picks, &err);
	} else {
		for (size_t i = 0; i < r->n_sources; i++) {
			int64_t sref;

			if (store_source_ref(s->store, r->sources[i].name, &sref, &err) < 0)
				continue;
			store_dags(s->store, sref, on_pick, picks, &err);
		}
	}
	for (size_t i = 0; i < sc->dags->n; i++) {
		int found = 0;

		for (size_t k = 0; k < picks->n && !found; k++)
			found = !strcmp(picks->v[k].dag_id, sc->dags->v[i]);
		if (!found) {
			note(s, dd_xasprintf("no DAG named '%s' in %s", sc->dags->v[i],
			                     sc->sources->n ? "the sources named" : "any source"));
			dd_strv_push_owned(&r->notes, dd_xasprintf("no DAG named '%s' in any source", sc->dags->v[i]));
			out->dags_missing++;
		}
	}
}

int session_report(struct dd_session *s, const struct session_report_scope *sc, struct report *r,
                   struct session_report_outcome *out, struct dd_error *err)
{
	struct pick_ctx picks = { NULL, 0, 0, NULL };
	int record = sc->record, rc;

	memset(out, 0, sizeof(*out));
	rc = session_library(s, err);
	if (rc < 0)
		return rc;
	report_init(r, dd_now_ms(), sc->since_s, sc->since_label);
	rc = report_sync(s, sc, r, out, err);
	if (rc < 0)
		return rc;
	report_pick(s, sc, r, &picks, out);
	for (size_t i = 0; i < picks.n; i++) {
		struct triage_result t;
		struct dd_error e = DD_ERROR_INIT;

		int silent = !sc->dags->n && !ran_since(s->store, picks.v[i].ref, r->from_ms);

		/* a DAG that did not run in the period is in the report only when
		 * the scheduler stopped making its runs (it ran within the history) */
		if (silent && (picks.v[i].is_paused || picks.v[i].last_logical_ms < r->made_ms - sc->history_s * 1000))
			continue;
		memset(&t, 0, sizeof(t));
		/* the sources were synced above: the upstream DAGs of their sensors with them */
		if (session_triage(s, config_source(s->cfg, picks.v[i].source), picks.v[i].ref, sc->history_s, &t,
		                   &e) < 0) {
			note(s, dd_xasprintf("%s: %s", picks.v[i].dag_id, e.msg));
			dd_strv_push_owned(&r->notes, dd_xasprintf("%s could not be triaged: %s", picks.v[i].dag_id,
			                                           e.msg));
			triage_release(&t);
			out->dags_failed++;
			continue;
		}
		if (silent && !t.an.not_running) {
			triage_release(&t);
			continue;
		}
		report_add_dag(r, picks.v[i].source, &t);
	}
	for (size_t i = 0; i < picks.n; i++) {
		free(picks.v[i].source);
		free(picks.v[i].dag_id);
	}
	free(picks.v);
	if (record && store_readonly(s->store)) {
		note(s, dd_xasprintf("the store %s is read-only here: this report's failures are not recorded (as "
		                     "with --no-record)", store_shown(s->store)));
		record = 0;
	}
	return report_finish(r, s->store, record, err);
}
