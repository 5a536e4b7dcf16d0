/*
 * analyze.c - a DAG's stored history turned into failure groups with
 * onsets, per-task flakiness, and stalls.  See include/dagdoc/analyze.h.
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <math.h>
#include <cJSON.h>

#include "dagdoc/analyze.h"
#include "dagdoc/classify.h"
#include "dagdoc/knowledge.h"
#include "dagdoc/redact.h"

/* Thresholds of the stall findings: a duration is "far" from usual past
 * FAR_FACTOR times the task's median and at least FAR_MIN_S seconds; a
 * success is "far faster" under FAST_FACTOR of the median when the median
 * is at least FAST_MIN_S; the scheduler heartbeat is stale past
 * HEARTBEAT_STALE_S; an upstream DAG is stale when its newest success is
 * older than STALE_INTERVALS of its usual interval. */
#define FAR_FACTOR 3.0
#define FAR_MIN_S 300.0
#define FAST_FACTOR 0.2
#define FAST_MIN_S 60.0
#define HEARTBEAT_STALE_S 300
#define STALE_INTERVALS 2.0
#define GROWTH_FACTOR 2.0      /* newest third of successes vs oldest third */
#define GROWTH_MIN_RUNS 6
#define MIN_HISTORY 3          /* runs of a task needed before "usual" means anything */

/* ---- what is loaded from the store --------------------------------------- */

struct try_rec {
	int64_t ref;
	int try_number;
	enum dd_state state;
	int64_t start_ms, end_ms;
	int has_log;
	char *fp;                 /* group key, for failed tries */
	char *category, *error;   /* its classification, for failed tries with a log */
};

struct ti_rec {
	char *task_id;
	int map_index;
	enum dd_state state;
	int64_t queued_ms, start_ms, end_ms;
	struct try_rec *tries;
	size_t n_tries, cap_tries;
};

struct run_rec {
	int64_t ref;
	struct ti_rec *tis;
	size_t n_tis, cap_tis;
};

struct ctx {
	struct dd_store *store;
	const struct pat_library *lib;
	struct an_result *res;
	struct run_rec *runs;      /* parallel to res->runs */
	size_t cap_runs;
	struct dd_dag dag;
	int64_t dag_ref;
	struct dd_error *err;
	/* per group (by index): its newest failed try when it was classified
	 * while grouping, with its log, so no log is read twice */
	struct held {
		int64_t try_ref;
		struct dd_failure failure;
		struct dd_buf log;
	} *held;
	size_t cap_held, n_held_zeroed;
};

#define HELD_LOG_MAX ((size_t)1 << 20)   /* a larger log is read again rather than kept */

static void build_grid(struct ctx *c);

static char *fnv_hex(uint64_t h)
{
	return dd_xasprintf("%016llx", (unsigned long long)h);
}

static uint64_t fnv(uint64_t h, const char *s)
{
	h = dd_fnv1a(h, s ? s : "", s ? strlen(s) : 0);
	return h * 0x100000001b3ULL;   /* separator */
}

char *analyze_library_hash(const struct pat_library *lib)
{
	uint64_t h = DD_FNV_INIT;
	char conf[32];

	h = fnv(h, DD_VERSION);
	h = fnv(h, CLASSIFY_LOGIC);                         /* how the classifier decides */
	h = fnv(h, kb_digest(pat_library_knowledge(lib)));  /* what the knowledge base says */
	for (size_t i = 0; i < pat_library_count(lib); i++) {
		const struct pat_pattern *p = pat_library_get(lib, i);

		h = fnv(h, p->id);
		h = fnv(h, p->category);
		h = fnv(h, p->stage);
		snprintf(conf, sizeof(conf), "%.4f", p->confidence);
		h = fnv(h, conf);
		for (size_t j = 0; j < p->regex.n; j++)
			h = fnv(h, p->regex.v[j]);
		for (size_t j = 0; j < p->checks.n; j++)
			h = fnv(h, p->checks.v[j]);
		for (size_t j = 0; j < p->fix.n; j++)
			h = fnv(h, p->fix.v[j]);
	}
	return fnv_hex(h);
}

const char *an_stall_kind_name(enum an_stall_kind k)
{
	switch (k) {
	case AN_STALL_SENSOR_TIMEOUT: return "sensor_timeout";
	case AN_STALL_LONG_QUEUE: return "long_queue";
	case AN_STALL_LONG_RUNNING: return "long_running";
	case AN_STALL_UPSTREAM_DAG: return "upstream_dag_stale";
	case AN_STALL_FAST_SUCCESS: return "fast_success";
	case AN_STALL_SCHEDULER: return "scheduler";
	case AN_STALL_IMPORT_ERROR: return "import_error";
	case AN_STALL_UPSTREAM_FAILED: return "upstream_failed";
	case AN_STALL_DURATION_GROWTH: return "duration_growth";
	case AN_STALL_STUCK_QUEUED: return "stuck_queued";
	case AN_STALL_STUCK_RUNNING: return "stuck_running";
	}
	return "stall";
}

/* ---- loading ------------------------------------------------------------------ */

static int on_try(const struct dd_store_try *t, void *ud)
{
	struct run_rec *rr = ud;

	for (size_t i = 0; i < rr->n_tis; i++) {
		struct ti_rec *ti = &rr->tis[i];
		struct try_rec *tr;

		if (ti->map_index != t->t.map_index || strcmp(ti->task_id, t->t.task_id))
			continue;
		DD_GROW(ti->tries, ti->cap_tries, ti->n_tries + 1);
		tr = &ti->tries[ti->n_tries++];
		memset(tr, 0, sizeof(*tr));
		tr->ref = t->ref;
		tr->try_number = t->t.try_number;
		tr->state = t->t.state;
		tr->start_ms = t->t.start_ms;
		tr->end_ms = t->t.end_ms;
		tr->has_log = t->has_log && !t->log_missing;
		return 0;
	}
	return 0;
}

static int on_ti(const struct dd_store_ti *t, void *ud)
{
	struct run_rec *rr = ud;
	struct ti_rec *ti;

	DD_GROW(rr->tis, rr->cap_tis, rr->n_tis + 1);
	ti = &rr->tis[rr->n_tis++];
	memset(ti, 0, sizeof(*ti));
	ti->task_id = dd_xstrdup(t->ti.task_id);
	ti->map_index = t->ti.map_index;
	ti->state = t->ti.state;
	ti->queued_ms = t->ti.queued_ms;
	ti->start_ms = t->ti.start_ms;
	ti->end_ms = t->ti.end_ms;
	return 0;
}

static int on_run(const struct dd_store_run *r, void *ud)
{
	struct ctx *c = ud;
	struct an_result *res = c->res;
	struct an_run *ar;
	struct run_rec *rr;
	size_t cap = c->cap_runs;

	DD_GROW(res->runs, c->cap_runs, res->n_runs + 1);
	if (c->cap_runs != cap)
		c->runs = dd_xrealloc(c->runs, c->cap_runs * sizeof(*c->runs));
	ar = &res->runs[res->n_runs];
	rr = &c->runs[res->n_runs];
	res->n_runs++;
	memset(ar, 0, sizeof(*ar));
	memset(rr, 0, sizeof(*rr));
	ar->run_id = dd_xstrdup(r->run.run_id);
	ar->state = r->run.state;
	ar->logical_ms = r->run.logical_ms ? r->run.logical_ms : r->run.start_ms;
	ar->start_ms = r->run.start_ms;
	ar->end_ms = r->run.end_ms;
	rr->ref = r->ref;
	return 0;
}

static int load(struct ctx *c, int64_t dag_ref, int64_t from_ms, int64_t to_ms)
{
	int rc = store_runs(c->store, dag_ref, from_ms, to_ms ? to_ms + 1 : 0, on_run, c, c->err);

	for (size_t i = 0; rc == 0 && i < c->res->n_runs; i++) {
		rc = store_task_instances(c->store, c->runs[i].ref, on_ti, &c->runs[i], c->err);
		if (rc == 0)
			rc = store_tries(c->store, c->runs[i].ref, on_try, &c->runs[i], c->err);
	}
	return rc;
}

/* ---- classification of failed tries ---------------------------------------------- */

static char *fallback_key(const char *what, const char *task_id)
{
	return dd_xasprintf("%s:%s", what, task_id);
}

static void compare_with_baseline(struct ctx *c, struct an_group *g, const struct dd_buf *log);

/* Classifies the stored log of one try (the failure carries the decisive
 * frames and the packages); with g (the try is the group's newest), also
 * compares the log with the task's last success.  The log is read once. */
static int classify_stored(struct ctx *c, int64_t try_ref, struct dd_failure *out, struct dd_buf *log)
{
	struct dd_store_log_info info;
	int rc = store_log_get(c->store, try_ref, log, &info, c->err);

	c->res->n_log_reads += rc == 0;
	if (rc == 0)
		rc = classify_buffer(c->lib, "log", dd_buf_str(log), log->len, out, c->err);
	return rc;
}

static int classify_try(struct ctx *c, int64_t try_ref, struct dd_failure *out, struct an_group *g)
{
	struct dd_buf log = DD_BUF_INIT;
	int rc = classify_stored(c, try_ref, out, &log);

	if (rc == 0 && g)
		compare_with_baseline(c, g, &log);
	dd_buf_release(&log);
	return rc;
}

static void held_release(struct held *h)
{
	dd_failure_release(&h->failure);
	dd_buf_release(&h->log);
	h->try_ref = 0;
}

/* ---- what the failing log says differently from the last success --------------
 * A count the task logs ("loaded 3120 orders") that was at least
 * COUNT_MIN_BEFORE in the last successful try and is 0, or under
 * COUNT_DROP_RATIO of it, in the failing try, on a line that is otherwise
 * the same (numbers aside) and appears once in each: the input vanished.
 * A count is a number followed by a plural noun ("orders", "rows",
 * "files"), not by a unit of time: a pid ("process 27 to run"), a duration
 * ("took 0.2 s", "in 3 seconds") or a clock time is not a count.  Only
 * INFO and WARNING lines count, and only the first LOG_COUNT_LINES. */
#define COUNT_MIN_BEFORE 100.0
#define COUNT_DROP_RATIO 0.01
#define LOG_COUNT_LINES 5000

/* Whether the number ending at msg[i] (exclusive) counts things: " 3120 orders". */
static int count_noun_follows(const char *msg, size_t len, size_t i)
{
	static const char *const time_units[] = { "seconds", "secs", "minutes", "mins", "hours", "hrs", "days",
	                                          "weeks", "millis", "milliseconds", "microseconds", "nanoseconds",
	                                          "ms", "us", "ns" };
	size_t w = 0;

	if (i >= len || msg[i] != ' ')
		return 0;
	i++;
	while (i + w < len && isalpha((unsigned char)msg[i + w]))
		w++;
	if (w < 3 || (msg[i + w - 1] != 's' && msg[i + w - 1] != 'S'))
		return 0;
	for (size_t k = 0; k < DD_ARRAY_SIZE(time_units); k++)
		if (strlen(time_units[k]) == w && !strncasecmp(msg + i, time_units[k], w))
			return 0;
	return 1;
}

struct count_line {
	char *shape;          /* the message with each number as '#' */
	char *msg;
	double nums[4];
	size_t n_nums;
	int dup;              /* the shape appears more than once */
};

struct count_lines {
	struct count_line *v;
	size_t n, cap;
};

static int on_count_line(const struct dd_logline *l, void *ud)
{
	struct count_lines *cl = ud;
	struct dd_buf shape = DD_BUF_INIT;
	struct count_line x;
	int letters = 0, words = 0;

	if ((l->level != 20 && l->level != 30) || (l->flags & DD_LINE_CONT) || l->msg_len > 400)
		return 0;
	memset(&x, 0, sizeof(x));
	for (size_t i = 0; i < l->msg_len; ) {
		unsigned char ch = (unsigned char)l->msg[i];

		if (isdigit(ch) && (i == 0 || !isalnum((unsigned char)l->msg[i - 1]))) {
			char num[32];
			size_t k = 0;

			while (i < l->msg_len && (isdigit((unsigned char)l->msg[i]) || l->msg[i] == ',' || l->msg[i] == '.') &&
			       k + 1 < sizeof(num)) {
				if (l->msg[i] != ',')
					num[k++] = l->msg[i];
				i++;
			}
			num[k] = '\0';
			if (x.n_nums < DD_ARRAY_SIZE(x.nums))   /* -1: a number, but not a count */
				x.nums[x.n_nums] = count_noun_follows(l->msg, l->msg_len, i) ? strtod(num, NULL) : -1;
			x.n_nums++;
			dd_buf_addch(&shape, '#');
			letters = 0;
			continue;
		}
		letters = isalpha(ch) ? letters + 1 : 0;
		if (letters == 3)
			words++;
		dd_buf_addch(&shape, (char)ch);
		i++;
	}
	if (!x.n_nums || x.n_nums > DD_ARRAY_SIZE(x.nums) || !words || cl->n >= LOG_COUNT_LINES) {
		dd_buf_release(&shape);
		return 0;
	}
	x.shape = dd_buf_detach(&shape);
	for (size_t i = 0; i < cl->n; i++)
		if (!strcmp(cl->v[i].shape, x.shape)) {
			cl->v[i].dup = 1;
			free(x.shape);
			return 0;
		}
	x.msg = dd_xstrndup(l->msg, l->msg_len);
	DD_GROW(cl->v, cl->cap, cl->n + 1);
	cl->v[cl->n++] = x;
	return 0;
}

static void count_lines_in(const struct dd_buf *log, struct count_lines *out)
{
	struct dd_error e2 = DD_ERROR_INIT;
	struct dd_logreader *rd = logreader_new();

	if (logreader_feed(rd, dd_buf_str(log), log->len, on_count_line, out, &e2) == 0)
		logreader_finish(rd, on_count_line, out, &e2);
	logreader_free(rd);
}

static void count_lines_release(struct count_lines *cl)
{
	for (size_t i = 0; i < cl->n; i++) {
		free(cl->v[i].shape);
		free(cl->v[i].msg);
	}
	free(cl->v);
}

struct baseline {
	int64_t ref;
	char *run_id;
};

static int on_baseline(const struct dd_store_try *t, void *ud)
{
	struct baseline *b = ud;

	b->ref = t->ref;
	b->run_id = dd_xstrdup(t->t.run_id);
	return 0;
}

/* The task of a stored try of the analysis. */
static const char *task_of_try(const struct ctx *c, int64_t try_ref)
{
	for (size_t r = 0; r < c->res->n_runs; r++)
		for (size_t k = 0; k < c->runs[r].n_tis; k++)
			for (size_t t = 0; t < c->runs[r].tis[k].n_tries; t++)
				if (c->runs[r].tis[k].tries[t].ref == try_ref)
					return c->runs[r].tis[k].task_id;
	return NULL;
}

/* Sets g->input_drop when `log`, its newest failed try's, reports a count
 * that vanished since the same task's last successful try (whose log sync
 * stored). */
static void compare_with_baseline(struct ctx *c, struct an_group *g, const struct dd_buf *log)
{
	struct baseline b = { 0, NULL };
	struct dd_error e2 = DD_ERROR_INIT;
	struct count_lines now = { NULL, 0, 0 }, before = { NULL, 0, 0 };
	const char *task = task_of_try(c, g->try_ref);
	struct dd_buf ok_log = DD_BUF_INIT;
	struct dd_store_log_info info;

	if (!task || store_last_success_try(c->store, c->dag_ref, task, g->last_ms, on_baseline, &b, &e2) < 0 || !b.ref)
		goto out;
	count_lines_in(log, &now);
	if (now.n && store_log_get(c->store, b.ref, &ok_log, &info, &e2) == 0)
		count_lines_in(&ok_log, &before);
	for (size_t i = 0; i < now.n && !g->input_drop; i++) {
		const struct count_line *x = &now.v[i];

		if (x->dup)
			continue;
		for (size_t j = 0; j < before.n && !g->input_drop; j++) {
			const struct count_line *y = &before.v[j];

			if (y->dup || strcmp(x->shape, y->shape))
				continue;
			for (size_t k = 0; k < x->n_nums; k++)
				if (y->nums[k] >= COUNT_MIN_BEFORE && x->nums[k] >= 0 &&
				    x->nums[k] <= COUNT_DROP_RATIO * y->nums[k]) {
					struct dd_buf t = DD_BUF_INIT;

					/* log text: redacted before anyone sees it */
					dd_buf_adds(&t, "\"");
					redact_append(&t, x->msg, strlen(x->msg));
					dd_buf_addf(&t, "\", where the last success (%s) logged \"", b.run_id);
					redact_append(&t, y->msg, strlen(y->msg));
					dd_buf_adds(&t, "\"");
					g->input_drop = dd_buf_detach(&t);
					break;
				}
		}
	}
out:
	count_lines_release(&now);
	count_lines_release(&before);
	dd_buf_release(&ok_log);
	free(b.run_id);
}

/* What the grid shows of a classified try: its category and its error
 * ("Type: message", else the title). */
static void keep_classification(struct try_rec *tr, const struct dd_failure *f)
{
	free(tr->category);
	free(tr->error);
	tr->category = dd_xstrdup(f->category);
	if (f->exc_type && f->exc_message && *f->exc_message)
		tr->error = dd_xasprintf("%s: %s", f->exc_type, f->exc_message);
	else if (f->exc_type)
		tr->error = dd_xstrdup(f->exc_type);
	else
		tr->error = dd_xstrdup(f->exc_message ? f->exc_message : f->title);
}

/* The group key of one failed try: from the cache, else classified now. */
static int try_key(struct ctx *c, const struct ti_rec *ti, struct try_rec *tr, char **key, struct held *keep)
{
	struct dd_store_classification sc;
	struct dd_failure f;
	int rc;

	*key = NULL;
	if (!tr->has_log) {
		c->res->n_unlogged++;
		*key = fallback_key(dd_state_name(tr->state == DD_STATE_UP_FOR_RETRY ? DD_STATE_FAILED : tr->state),
		                    ti->task_id);
		return 0;
	}
	memset(&sc, 0, sizeof(sc));
	rc = store_classification_get(c->store, tr->ref, c->res->library_hash, &sc, c->err);
	if (rc == 0 && classify_cache_decode(sc.failure_json, &f) == 0) {
		*key = sc.fingerprint ? dd_xstrdup(sc.fingerprint)
		                      : fallback_key(sc.category ? sc.category : "none", ti->task_id);
		store_classification_release(&sc);
		keep_classification(tr, &f);
		dd_failure_release(&f);
		return 0;
	}
	if (rc == 0) {               /* a cache entry of another form: classify again */
		store_classification_release(&sc);
		rc = DD_ENOTFOUND;
	}
	if (rc != DD_ENOTFOUND)
		return rc;
	memset(&f, 0, sizeof(f));
	{
		struct dd_buf log = DD_BUF_INIT;

		rc = classify_stored(c, tr->ref, &f, &log);
		if (rc == 0 && keep && log.len <= HELD_LOG_MAX) {
			held_release(keep);
			keep->log = log;
			dd_buf_init(&log);
		}
		dd_buf_release(&log);
	}
	if (rc == DD_ENOTFOUND) {         /* the log went missing: treat as unlogged */
		c->res->n_unlogged++;
		*key = fallback_key(dd_state_name(tr->state), ti->task_id);
		return 0;
	}
	if (rc < 0)
		return rc;
	c->res->n_classified++;
	{
		char *json = classify_cache_encode(&f);

		*key = f.fingerprint ? dd_xstrdup(f.fingerprint) : fallback_key(f.category, ti->task_id);
		sc.category = f.category;
		sc.pattern_id = f.pattern;
		sc.fingerprint = *key;
		sc.confidence = f.confidence;
		sc.failure_json = json;
		sc.created_ms = dd_now_ms();
		rc = store_classification_put(c->store, tr->ref, c->res->library_hash, &sc, c->err);
		free(json);
	}
	keep_classification(tr, &f);
	if (keep && rc == 0 && keep->log.data) {
		keep->failure = f;
		keep->try_ref = tr->ref;
	} else {
		dd_failure_release(&f);
	}
	return rc;
}

/* ---- groups ---------------------------------------------------------------------- */

static struct an_group *group_for(struct an_result *res, size_t *cap, const char *key)
{
	struct an_group *g;

	for (size_t i = 0; i < res->n_groups; i++)
		if (!strcmp(res->groups[i].fingerprint, key))
			return &res->groups[i];
	DD_GROW(res->groups, *cap, res->n_groups + 1);
	g = &res->groups[res->n_groups++];
	memset(g, 0, sizeof(*g));
	g->fingerprint = dd_xstrdup(key);
	return g;
}

static int task_index(const struct an_result *res, const char *task_id)
{
	for (size_t i = 0; i < res->n_tasks; i++)
		if (!strcmp(res->tasks[i].task_id, task_id))
			return (int)i;
	return -1;
}

const struct an_task *an_result_task(const struct an_result *r, const char *task_id)
{
	int i = task_index(r, task_id);

	return i < 0 ? NULL : &r->tasks[i];
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = dd_xstrdup(s);
}

/* The state of task t in run i: failed if any map index failed, success if
 * all succeeded; DD_STATE__COUNT when the run has no such task. */
static enum dd_state task_state(const struct run_rec *rr, const char *task_id)
{
	enum dd_state st = DD_STATE__COUNT;

	for (size_t k = 0; k < rr->n_tis; k++) {
		const struct ti_rec *ti = &rr->tis[k];

		if (strcmp(ti->task_id, task_id))
			continue;
		if (st == DD_STATE__COUNT || dd_state_is_failure(ti->state) ||
		    (st == DD_STATE_SUCCESS && ti->state != DD_STATE_SUCCESS))
			st = ti->state;
	}
	return st;
}

/* Whether run i has a failed try of task_id with group key `key`. */
static int run_has_key(const struct run_rec *rr, const char *task_id, const char *key, int *final_failed)
{
	int found = 0;

	*final_failed = 0;
	for (size_t k = 0; k < rr->n_tis; k++) {
		const struct ti_rec *ti = &rr->tis[k];

		if (strcmp(ti->task_id, task_id))
			continue;
		for (size_t t = 0; t < ti->n_tries; t++)
			if (ti->tries[t].fp && !strcmp(ti->tries[t].fp, key)) {
				found = 1;
				if (dd_state_is_failure(ti->state))
					*final_failed = 1;
			}
	}
	return found;
}

static double median(double *v, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 1; i < n; i++)          /* insertion sort: n is small */
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void compute_tasks(struct ctx *c)
{
	struct an_result *res = c->res;
	size_t cap = 0;

	/* Tasks: the DAG's, then any seen in runs only. */
	for (size_t i = 0; i < c->dag.n_tasks; i++) {
		DD_GROW(res->tasks, cap, res->n_tasks + 1);
		memset(&res->tasks[res->n_tasks], 0, sizeof(res->tasks[0]));
		res->tasks[res->n_tasks].task_id = dd_xstrdup(c->dag.tasks[i].task_id);
		res->tasks[res->n_tasks].operator_name = dd_xstrdup(c->dag.tasks[i].operator_name);
		res->tasks[res->n_tasks].is_sensor = c->dag.tasks[i].is_sensor;
		res->n_tasks++;
	}
	for (size_t r = 0; r < res->n_runs; r++)
		for (size_t k = 0; k < c->runs[r].n_tis; k++)
			if (task_index(res, c->runs[r].tis[k].task_id) < 0) {
				DD_GROW(res->tasks, cap, res->n_tasks + 1);
				memset(&res->tasks[res->n_tasks], 0, sizeof(res->tasks[0]));
				res->tasks[res->n_tasks].task_id = dd_xstrdup(c->runs[r].tis[k].task_id);
				res->n_tasks++;
			}

	for (size_t t = 0; t < res->n_tasks; t++) {
		struct an_task *at = &res->tasks[t];
		size_t n_tis = 1;     /* a mapped task has several instances per run */
		double *durs, *queues;

		for (size_t r = 0; r < res->n_runs; r++)
			n_tis += c->runs[r].n_tis;
		durs = dd_xcalloc(n_tis, sizeof(double));
		queues = dd_xcalloc(n_tis, sizeof(double));
		size_t nd = 0, nq = 0;
		int prev = -1;     /* 1 good, 0 bad */
		size_t failed_tis = 0;

		for (size_t r = 0; r < res->n_runs; r++) {
			enum dd_state st = task_state(&c->runs[r], at->task_id);

			if (st == DD_STATE__COUNT)
				continue;
			at->runs++;
			if (st == DD_STATE_SUCCESS) {
				at->success++;
				at->last_good_ms = res->runs[r].logical_ms;
				set_str(&at->last_good_run, res->runs[r].run_id);
			} else if (st == DD_STATE_UPSTREAM_FAILED) {
				at->upstream_failed++;
			} else if (dd_state_is_failure(st)) {
				at->failed++;
			} else if (st == DD_STATE_SKIPPED) {
				at->skipped++;
			} else if (!dd_state_is_terminal(st)) {
				at->running++;
			}
			if (st == DD_STATE_SUCCESS || (dd_state_is_failure(st) && st != DD_STATE_UPSTREAM_FAILED)) {
				int now = st == DD_STATE_SUCCESS;

				if (prev >= 0 && prev != now)
					at->flips++;
				prev = now;
			}
			for (size_t k = 0; k < c->runs[r].n_tis; k++) {
				const struct ti_rec *ti = &c->runs[r].tis[k];
				int had_failed_try = 0;

				if (strcmp(ti->task_id, at->task_id))
					continue;
				for (size_t x = 0; x < ti->n_tries; x++)
					if (dd_state_is_failed_try(ti->tries[x].state))
						had_failed_try = 1;
				if (ti->n_tries > 1)
					at->retried++;
				if (had_failed_try) {
					failed_tis++;
					if (ti->state == DD_STATE_SUCCESS)
						at->retry_recovered++;
				}
				if (ti->state == DD_STATE_SUCCESS && ti->n_tries) {
					const struct try_rec *last = &ti->tries[ti->n_tries - 1];

					if (last->start_ms && last->end_ms > last->start_ms)
						durs[nd++] = (double)(last->end_ms - last->start_ms) / 1000.0;
				} else if (ti->state == DD_STATE_SUCCESS && ti->start_ms && ti->end_ms > ti->start_ms) {
					durs[nd++] = (double)(ti->end_ms - ti->start_ms) / 1000.0;
				}
				if (ti->queued_ms && ti->start_ms > ti->queued_ms)
					queues[nq++] = (double)(ti->start_ms - ti->queued_ms) / 1000.0;
			}
		}
		at->median_duration_s = median(durs, nd);
		at->median_queue_s = median(queues, nq);
		free(durs);
		free(queues);
		/* Intermittent: recovering on retry, and failures scattered among
		 * successes (many flips for few failures) rather than one streak. */
		if (failed_tis || at->failed) {
			double recover = failed_tis ? (double)at->retry_recovered / (double)failed_tis : 0;
			double bad = (double)(at->failed + at->retry_recovered);
			double scatter = bad > 0 && at->success > 0 ? fmin(1.0, (double)at->flips / (2.0 * bad)) : 0;

			at->intermittent = fmin(1.0, 0.6 * recover + 0.4 * scatter +
			                             (recover > 0 && scatter > 0.5 ? 0.1 : 0));
		}
	}
}

static int build_groups(struct ctx *c)
{
	struct an_result *res = c->res;
	size_t cap = 0;
	int rc;

	for (size_t r = 0; r < res->n_runs; r++) {
		struct run_rec *rr = &c->runs[r];

		for (size_t k = 0; k < rr->n_tis; k++) {
			struct ti_rec *ti = &rr->tis[k];

			/* A failed task instance with no failed try stored: its state is the evidence. */
			if (dd_state_is_failure(ti->state) && ti->state != DD_STATE_UPSTREAM_FAILED) {
				int any = 0;

				for (size_t t = 0; t < ti->n_tries; t++)
					any |= dd_state_is_failed_try(ti->tries[t].state);
				if (!any) {
					DD_GROW(ti->tries, ti->cap_tries, ti->n_tries + 1);
					memset(&ti->tries[ti->n_tries], 0, sizeof(ti->tries[0]));
					ti->tries[ti->n_tries].state = ti->state;
					ti->tries[ti->n_tries].try_number = ti->n_tries + 1;
					ti->n_tries++;
				}
			}
			for (size_t t = 0; t < ti->n_tries; t++) {
				struct try_rec *tr = &ti->tries[t];
				struct an_group *g;
				int seen_in_ti = 0;

				if (!dd_state_is_failed_try(tr->state))
					continue;
				{
					struct held h = { 0, { 0 }, DD_BUF_INIT };

					rc = try_key(c, ti, tr, &tr->fp, &h);
					if (rc < 0) {
						held_release(&h);
						return rc;
					}
					g = group_for(res, &cap, tr->fp);
					DD_GROW(c->held, c->cap_held, res->n_groups);
					if (c->cap_held > c->n_held_zeroed) {
						memset(c->held + c->n_held_zeroed, 0,
						       (c->cap_held - c->n_held_zeroed) * sizeof(*c->held));
						c->n_held_zeroed = c->cap_held;
					}
					if (tr->ref && res->runs[r].logical_ms >= g->last_ms) {
						/* the group's newest try so far: keep what was read of it */
						struct held *gh = &c->held[g - res->groups];

						held_release(gh);
						if (h.try_ref)
							*gh = h;
						else
							held_release(&h);
					} else {
						held_release(&h);
					}
				}
				g->n_tries++;
				if (!dd_strv_contains(&g->task_ids, ti->task_id))
					dd_strv_push(&g->task_ids, ti->task_id);
				if (tr->ref && res->runs[r].logical_ms >= g->last_ms)
					g->try_ref = tr->ref;
				for (size_t u = 0; u < t; u++)
					if (ti->tries[u].fp && !strcmp(ti->tries[u].fp, tr->fp))
						seen_in_ti = 1;
				if (!seen_in_ti) {        /* once per task instance */
					g->n_tis++;
					if (ti->state == DD_STATE_SUCCESS)
						g->retry_recovered++;
				}
			}
		}
	}

	/* Per group: runs, onset, sharpness.  Each run touching the group's
	 * tasks is labelled B (a task ended failed with this fingerprint), G (a
	 * task succeeded, none ended failed with it) or N (neither: recovered
	 * on retry, upstream_failed, another failure).  The onset is the first
	 * B after the last G that precedes the newest B. */
	{
		char *label = dd_xcalloc(res->n_runs + 1, 1);

		for (size_t gi = 0; gi < res->n_groups; gi++) {
			struct an_group *g = &res->groups[gi];
			size_t last_b = (size_t)-1, onset = (size_t)-1, good_before = 0, bad_before = 0;

			for (size_t r = 0; r < res->n_runs; r++) {
				int in_run = 0, final_any = 0, good = 0, touched = 0;

				for (size_t t = 0; t < g->task_ids.n; t++) {
					int final_failed;
					enum dd_state st = task_state(&c->runs[r], g->task_ids.v[t]);

					if (st != DD_STATE__COUNT)
						touched = 1;
					if (run_has_key(&c->runs[r], g->task_ids.v[t], g->fingerprint, &final_failed)) {
						in_run = 1;
						final_any |= final_failed;
					} else if (st == DD_STATE_SUCCESS) {
						good = 1;
					}
				}
				label[r] = !touched ? 0 : final_any ? 'B' : good && !in_run ? 'G' : 'N';
				if (in_run) {
					g->n_runs++;
					if (final_any)
						g->n_runs_final++;
					if (!g->first_run) {
						g->first_ms = res->runs[r].logical_ms;
						set_str(&g->first_run, res->runs[r].run_id);
					}
					g->last_ms = res->runs[r].logical_ms;
					set_str(&g->last_run, res->runs[r].run_id);
				}
				if (label[r] == 'B')
					last_b = r;
			}
			if (last_b == (size_t)-1) {        /* every failure recovered on retry */
				g->onset_ms = g->first_ms;
				set_str(&g->onset_run, g->first_run);
				continue;
			}
			onset = last_b;
			for (size_t r = last_b + 1; r-- > 0; ) {
				if (label[r] == 'G')
					break;
				if (label[r] == 'B')
					onset = r;
			}
			for (size_t r = 0; r < onset; r++)
				if (label[r] == 'G') {
					good_before++;
					g->last_good_ms = res->runs[r].logical_ms;
					set_str(&g->last_good_run, res->runs[r].run_id);
				} else if (label[r] == 'B') {
					bad_before++;
				}
			g->onset_ms = res->runs[onset].logical_ms;
			set_str(&g->onset_run, res->runs[onset].run_id);
			g->good_before = good_before;
			g->still_failing = 1;
			/* A whole DAG run that succeeded after the last failure also ends
			 * it (the task may have been renamed or removed). */
			for (size_t r = last_b + 1; r < res->n_runs; r++)
				if (res->runs[r].state == DD_STATE_SUCCESS)
					g->still_failing = 0;
			for (size_t r = onset; r < res->n_runs; r++) {
				if (!label[r])
					continue;
				g->runs_since_onset++;
				if (label[r] == 'B')
					g->failed_since_onset++;
				if (label[r] == 'G' && r > last_b)
					g->still_failing = 0;
			}
			{
				double after = (double)g->failed_since_onset / (double)g->runs_since_onset;
				double before = good_before >= MIN_HISTORY ? 1.0
				              : good_before ? 0.5 + 0.5 * (double)good_before / MIN_HISTORY : 0.3;

				/* the same failure before the onset: it flaps, it did not begin here */
				if (good_before)
					before *= (double)good_before / (double)(good_before + bad_before);
				g->onset_sharpness = after * before;
			}
		}
		free(label);
	}
	return 0;
}

/* upstream_failed task instances traced to the failed task(s) upstream of
 * them in the same run; counted on the groups of those roots. */
static void trace_upstream_failed(struct ctx *c)
{
	struct an_result *res = c->res;
	size_t nt = c->dag.n_tasks;

	if (!nt)
		return;
	for (size_t r = 0; r < res->n_runs; r++) {
		struct run_rec *rr = &c->runs[r];

		for (size_t k = 0; k < rr->n_tis; k++) {
			const char *target = rr->tis[k].task_id;
			unsigned char *seen;
			size_t *queue, qh = 0, qt = 0;

			if (rr->tis[k].state != DD_STATE_UPSTREAM_FAILED)
				continue;
			seen = dd_xcalloc(nt, 1);
			queue = dd_xcalloc(nt, sizeof(*queue));
			for (size_t i = 0; i < nt; i++)
				if (!strcmp(c->dag.tasks[i].task_id, target)) {
					seen[i] = 1;
					queue[qt++] = i;
				}
			while (qh < qt) {
				const char *cur = c->dag.tasks[queue[qh++]].task_id;

				/* upstream of cur: tasks listing cur downstream */
				for (size_t u = 0; u < nt; u++) {
					const struct dd_task *up = &c->dag.tasks[u];
					int is_up = 0;

					if (seen[u])
						continue;
					for (size_t d = 0; d < up->n_downstream; d++)
						if (!strcmp(up->downstream[d], cur))
							is_up = 1;
					if (!is_up)
						continue;
					seen[u] = 1;
					if (task_state(rr, up->task_id) == DD_STATE_UPSTREAM_FAILED) {
						queue[qt++] = u;
						continue;
					}
					for (size_t gi = 0; gi < res->n_groups; gi++) {
						int ff;

						if (run_has_key(rr, up->task_id, res->groups[gi].fingerprint, &ff) && ff)
							res->groups[gi].downstream_upstream_failed++;
					}
				}
			}
			free(seen);
			free(queue);
		}
	}
}

/* ---- stalls ------------------------------------------------------------------------ */

static void add_stall(struct an_result *res, size_t *cap, enum an_stall_kind kind, const char *task_id,
                      const char *run_id, const char *entity, size_t count, double severity,
                      char *detail)
{
	struct an_stall *s;

	DD_GROW(res->stalls, *cap, res->n_stalls + 1);
	s = &res->stalls[res->n_stalls++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->task_id = dd_xstrdup(task_id);
	s->run_id = dd_xstrdup(run_id);
	s->entity = dd_xstrdup(entity);
	s->count = count;
	s->severity = severity;
	s->detail = detail;
}

/* Successful tries of a task getting steadily longer: the median of the
 * newest third against the oldest third. */
static void growth_stall(struct ctx *c, const struct an_task *at, size_t *cap)
{
	struct an_result *res = c->res;
	size_t n = 0, n_tis = 1;     /* a mapped task has several instances per run */
	double *d;

	for (size_t r = 0; r < res->n_runs; r++)
		n_tis += c->runs[r].n_tis;
	d = dd_xcalloc(n_tis, sizeof(double));
	for (size_t r = 0; r < res->n_runs; r++)
		for (size_t k = 0; k < c->runs[r].n_tis; k++) {
			const struct ti_rec *ti = &c->runs[r].tis[k];
			const struct try_rec *last;

			if (strcmp(ti->task_id, at->task_id) || ti->state != DD_STATE_SUCCESS || !ti->n_tries)
				continue;
			last = &ti->tries[ti->n_tries - 1];
			if (last->start_ms && last->end_ms > last->start_ms)
				d[n++] = (double)(last->end_ms - last->start_ms) / 1000.0;
		}
	if (n >= GROWTH_MIN_RUNS) {
		size_t third = n / 3;
		double first = median(d, third);              /* median() sorts its slice: */
		double last = median(d + n - third, third);   /* the two slices do not overlap */

		if (first > 0 && last >= FAST_MIN_S && last >= GROWTH_FACTOR * first)
			add_stall(res, cap, AN_STALL_DURATION_GROWTH, at->task_id, NULL, NULL, n, 0.5,
			          dd_xasprintf("%s's successful runs grew from %.0f s to %.0f s (x%.1f) over the window: more input?",
			                       at->task_id, first, last, last / first));
	}
	free(d);
}

static void duration_stalls(struct ctx *c, size_t *cap)
{
	struct an_result *res = c->res;

	for (size_t t = 0; t < res->n_tasks; t++) {
		const struct an_task *at = &res->tasks[t];
		size_t long_q = 0, long_run = 0, fast = 0;
		const char *q_run = NULL, *l_run = NULL, *f_run = NULL;
		double worst_q = 0, worst_l = 0, fastest = 0;

		if (at->success < MIN_HISTORY)
			continue;
		for (size_t r = 0; r < res->n_runs; r++)
			for (size_t k = 0; k < c->runs[r].n_tis; k++) {
				const struct ti_rec *ti = &c->runs[r].tis[k];
				double q, d;

				if (strcmp(ti->task_id, at->task_id))
					continue;
				q = ti->queued_ms && ti->start_ms > ti->queued_ms ? (double)(ti->start_ms - ti->queued_ms) / 1000.0 : 0;
				d = ti->start_ms && ti->end_ms > ti->start_ms ? (double)(ti->end_ms - ti->start_ms) / 1000.0 : 0;
				if (at->median_queue_s > 0 && q > FAR_FACTOR * at->median_queue_s && q > FAR_MIN_S) {
					long_q++;
					q_run = res->runs[r].run_id;
					worst_q = fmax(worst_q, q);
				}
				/* Failed tries that ran far longer than a success (one try
				 * at a time: a task instance's span includes retry delays). */
				for (size_t x = 0; x < ti->n_tries; x++) {
					const struct try_rec *tr = &ti->tries[x];
					double td = tr->start_ms && tr->end_ms > tr->start_ms
					          ? (double)(tr->end_ms - tr->start_ms) / 1000.0 : 0;

					if (dd_state_is_failed_try(tr->state) && at->median_duration_s > 0 &&
					    td > FAR_FACTOR * at->median_duration_s && td > FAR_MIN_S) {
						long_run++;
						l_run = res->runs[r].run_id;
						worst_l = fmax(worst_l, td);
					}
				}
				if (ti->state == DD_STATE_SUCCESS && at->median_duration_s >= FAST_MIN_S && d > 0 &&
				    d < FAST_FACTOR * at->median_duration_s) {
					fast++;
					f_run = res->runs[r].run_id;
					fastest = fastest == 0 ? d : fmin(fastest, d);
				}
			}
		growth_stall(c, at, cap);
		if (long_q)
			add_stall(res, cap, AN_STALL_LONG_QUEUE, at->task_id, q_run, NULL, long_q, 0.5,
			          dd_xasprintf("%s waited up to %.0f s in the queue (usually %.0f s) in %zu run(s)",
			                       at->task_id, worst_q, at->median_queue_s, long_q));
		if (long_run)
			add_stall(res, cap, AN_STALL_LONG_RUNNING, at->task_id, l_run, NULL, long_run, 0.5,
			          dd_xasprintf("%s ran up to %.0f s before failing (a success usually takes %.0f s): %zu failed tries",
			                       at->task_id, worst_l, at->median_duration_s, long_run));
		if (fast)
			add_stall(res, cap, AN_STALL_FAST_SUCCESS, at->task_id, f_run, NULL, fast, 0.4,
			          dd_xasprintf("%s succeeded in %.0f s where it usually takes %.0f s (%zu run(s)): empty input?",
			                       at->task_id, fastest, at->median_duration_s, fast));
	}
}

/* Still queued or running when the states were read. */
static int is_waiting(enum dd_state s)
{
	return s == DD_STATE_QUEUED || s == DD_STATE_SCHEDULED || s == DD_STATE_LATE || s == DD_STATE_PENDING;
}

static int is_running(enum dd_state s)
{
	return s == DD_STATE_RUNNING || s == DD_STATE_UP_FOR_RESCHEDULE || s == DD_STATE_DEFERRED ||
	       s == DD_STATE_RESTARTING;
}

static double seconds_between(int64_t from_ms, int64_t to_ms)
{
	return from_ms && to_ms > from_ms ? (double)(to_ms - from_ms) / 1000.0 : 0;
}

/* The newest time the store holds for this DAG, when no sync time is known. */
static int64_t newest_stamp(const struct ctx *c)
{
	int64_t t = 0;

	for (size_t r = 0; r < c->res->n_runs; r++) {
		const struct an_run *ar = &c->res->runs[r];

		t = ar->start_ms > t ? ar->start_ms : t;
		t = ar->end_ms > t ? ar->end_ms : t;
		for (size_t k = 0; k < c->runs[r].n_tis; k++) {
			const struct ti_rec *ti = &c->runs[r].tis[k];

			t = ti->queued_ms > t ? ti->queued_ms : t;
			t = ti->start_ms > t ? ti->start_ms : t;
			t = ti->end_ms > t ? ti->end_ms : t;
		}
	}
	return t;
}

struct stuck {
	size_t n;
	double worst_s;
	const char *run_id;
};

static void stuck_note(struct stuck *s, double elapsed, const char *run_id, char *run_flag)
{
	if (run_flag)
		*run_flag = 1;
	s->n++;
	if (elapsed > s->worst_s) {
		s->worst_s = elapsed;
		s->run_id = run_id;
	}
}

static int far_longer(double elapsed, double usual)
{
	return elapsed > FAR_MIN_S && elapsed > FAR_FACTOR * usual;
}

/* Task instances, and runs, that were still queued or running when the
 * source was last read, far longer than they usually take. */
static void stuck_stalls(struct ctx *c, size_t *cap)
{
	struct an_result *res = c->res;
	int64_t now = res->as_of_ms;
	double *run_durs = dd_xcalloc(res->n_runs + 1, sizeof(double));
	char *task_stuck = dd_xcalloc(res->n_runs + 1, 1);    /* runs with a stuck task */
	size_t n_run_durs = 0;
	struct stuck whole = { 0, 0, NULL };
	double usual_run;
	char took[24], usual[24];

	for (size_t t = 0; t < res->n_tasks; t++) {
		const struct an_task *at = &res->tasks[t];
		struct stuck queued = { 0, 0, NULL }, running = { 0, 0, NULL };

		if (at->runs < MIN_HISTORY)
			continue;
		for (size_t r = 0; r < res->n_runs; r++)
			for (size_t k = 0; k < c->runs[r].n_tis; k++) {
				const struct ti_rec *ti = &c->runs[r].tis[k];
				const struct try_rec *last = ti->n_tries ? &ti->tries[ti->n_tries - 1] : NULL;
				int64_t started = last && last->start_ms ? last->start_ms : ti->start_ms;

				if (strcmp(ti->task_id, at->task_id))
					continue;
				if (is_waiting(ti->state) && far_longer(seconds_between(ti->queued_ms, now), at->median_queue_s))
					stuck_note(&queued, seconds_between(ti->queued_ms, now), res->runs[r].run_id, &task_stuck[r]);
				else if (is_running(ti->state) && at->median_duration_s > 0 &&
				         far_longer(seconds_between(started, now), at->median_duration_s))
					stuck_note(&running, seconds_between(started, now), res->runs[r].run_id, &task_stuck[r]);
			}
		if (queued.n) {
			dd_format_duration(queued.worst_s, took, sizeof(took));
			if (at->median_queue_s > 0)
				dd_format_duration(at->median_queue_s, usual, sizeof(usual));
			else
				snprintf(usual, sizeof(usual), "an unknown time");
			add_stall(res, cap, AN_STALL_STUCK_QUEUED, at->task_id, queued.run_id, NULL, queued.n, 0.8,
			          dd_xasprintf("%s has been queued for %s in run %s (it usually waits %s): %zu instance(s) not started",
			                       at->task_id, took, queued.run_id, usual, queued.n));
			res->stalls[res->n_stalls - 1].seconds = queued.worst_s;
			res->stalls[res->n_stalls - 1].usual_s = at->median_queue_s;
		}
		if (running.n) {
			dd_format_duration(running.worst_s, took, sizeof(took));
			dd_format_duration(at->median_duration_s, usual, sizeof(usual));
			add_stall(res, cap, AN_STALL_STUCK_RUNNING, at->task_id, running.run_id, NULL, running.n, 0.8,
			          dd_xasprintf("%s %s for %s in run %s (a success usually takes %s): %zu instance(s) not finished",
			                       at->task_id, at->is_sensor ? "has been waiting" : "has been running", took,
			                       running.run_id, usual, running.n));
			res->stalls[res->n_stalls - 1].seconds = running.worst_s;
			res->stalls[res->n_stalls - 1].usual_s = at->median_duration_s;
		}
	}
	/* A run that is not finishing while none of its tasks is stuck: nothing
	 * gets scheduled (pools, concurrency limits, the scheduler). */
	for (size_t r = 0; r < res->n_runs; r++)
		if (res->runs[r].state == DD_STATE_SUCCESS && res->runs[r].end_ms > res->runs[r].start_ms && res->runs[r].start_ms)
			run_durs[n_run_durs++] = seconds_between(res->runs[r].start_ms, res->runs[r].end_ms);
	usual_run = n_run_durs >= MIN_HISTORY ? median(run_durs, n_run_durs) : 0;
	free(run_durs);
	for (size_t r = 0; usual_run > 0 && r < res->n_runs; r++) {
		const struct an_run *ar = &res->runs[r];

		if (dd_state_is_terminal(ar->state) || !far_longer(seconds_between(ar->start_ms, now), usual_run))
			continue;
		if (!task_stuck[r])
			stuck_note(&whole, seconds_between(ar->start_ms, now), ar->run_id, NULL);
	}
	free(task_stuck);
	if (whole.n) {
		dd_format_duration(whole.worst_s, took, sizeof(took));
		dd_format_duration(usual_run, usual, sizeof(usual));
		add_stall(res, cap, AN_STALL_STUCK_RUNNING, NULL, whole.run_id, NULL, whole.n, 0.6,
		          dd_xasprintf("run %s has been going for %s (a successful run usually takes %s) with no task stuck: "
		                       "are its tasks waiting for a pool slot or a concurrency limit?",
		                       whole.run_id, took, usual));
		res->stalls[res->n_stalls - 1].seconds = whole.worst_s;
		res->stalls[res->n_stalls - 1].usual_s = usual_run;
	}
}

struct dag_last_success {
	int64_t last_ms;
	int64_t prev_ms;
	double interval_s;
	size_t n;
	int64_t stamps[64];
};

static int on_upstream_run(const struct dd_store_run *r, void *ud)
{
	struct dag_last_success *ls = ud;
	int64_t t = r->run.logical_ms ? r->run.logical_ms : r->run.start_ms;

	if (ls->n < DD_ARRAY_SIZE(ls->stamps))
		ls->stamps[ls->n++] = t;
	else {
		memmove(ls->stamps, ls->stamps + 1, sizeof(ls->stamps) - sizeof(ls->stamps[0]));
		ls->stamps[ls->n - 1] = t;
	}
	if (r->run.state == DD_STATE_SUCCESS)
		ls->last_ms = t;
	return 0;
}

/* Sensors naming an upstream DAG (entity upstream_dag) whose newest success is old. */
static void upstream_dag_stalls(struct ctx *c, size_t *cap)
{
	struct an_result *res = c->res;

	for (size_t gi = 0; gi < res->n_groups; gi++) {
		const char *up = dd_failure_entity(&res->groups[gi].failure, "upstream_dag");
		struct dag_last_success ls;
		struct dd_error e2 = DD_ERROR_INIT;
		int64_t ref;
		double *iv;
		size_t ni = 0;
		char when[40];

		if (!up || store_dag_ref(c->store, NULL, up, &ref, &e2) < 0)
			continue;
		memset(&ls, 0, sizeof(ls));
		if (store_runs(c->store, ref, 0, 0, on_upstream_run, &ls, &e2) < 0 || ls.n < 2)
			continue;
		iv = dd_xcalloc(ls.n, sizeof(double));
		for (size_t i = 1; i < ls.n; i++)
			if (ls.stamps[i] > ls.stamps[i - 1])
				iv[ni++] = (double)(ls.stamps[i] - ls.stamps[i - 1]) / 1000.0;
		ls.interval_s = median(iv, ni);
		free(iv);
		if (ls.interval_s <= 0)
			continue;
		{
			int64_t ref_time = res->groups[gi].last_ms ? res->groups[gi].last_ms : res->to_ms;
			double age = ls.last_ms ? (double)(ref_time - ls.last_ms) / 1000.0 : 1e18;

			if (age < STALE_INTERVALS * ls.interval_s)
				continue;
			if (ls.last_ms)
				dd_format_time(ls.last_ms, 0, when, sizeof(when));
			add_stall(res, cap, AN_STALL_UPSTREAM_DAG, res->groups[gi].task_ids.v[0],
			          res->groups[gi].last_run, up, 1, 0.9,
			          ls.last_ms ? dd_xasprintf("upstream DAG %s last succeeded at %s, %.1f of its usual intervals before this failure",
			                                    up, when, age / ls.interval_s)
			                     : dd_xasprintf("upstream DAG %s has no successful run in the store", up));
		}
	}
}

static void sensor_stalls(struct ctx *c, size_t *cap)
{
	struct an_result *res = c->res;

	for (size_t t = 0; t < res->n_tasks; t++) {
		const struct an_task *at = &res->tasks[t];
		size_t resched = 0, timeouts = 0;
		const char *last_run = NULL;

		if (!at->is_sensor)
			continue;
		for (size_t r = 0; r < res->n_runs; r++)
			for (size_t k = 0; k < c->runs[r].n_tis; k++) {
				const struct ti_rec *ti = &c->runs[r].tis[k];

				if (strcmp(ti->task_id, at->task_id))
					continue;
				for (size_t x = 0; x < ti->n_tries; x++)
					if (ti->tries[x].state == DD_STATE_UP_FOR_RESCHEDULE)
						resched++;
				if (dd_state_is_failure(ti->state) && ti->state != DD_STATE_UPSTREAM_FAILED) {
					timeouts++;
					last_run = res->runs[r].run_id;
				}
			}
		if (timeouts)
			add_stall(res, cap, AN_STALL_SENSOR_TIMEOUT, at->task_id, last_run, NULL, timeouts, 0.8,
			          dd_xasprintf("sensor %s failed in %zu run(s)%s", at->task_id, timeouts,
			                       resched ? " after rescheduling" : ""));
	}
}

static int on_import_error(const struct dd_import_error *ie, void *ud)
{
	void **p = ud;
	struct ctx *c = p[0];
	size_t *cap = p[1];
	const char *fl = c->res->fileloc;
	const char *base;

	if (!fl || !ie->filename)
		return 0;
	base = strrchr(fl, '/');
	base = base ? base + 1 : fl;
	if (strcmp(ie->filename, fl) && !dd_ends_with(ie->filename, base))
		return 0;
	{
		const char *last = ie->stack_trace ? ie->stack_trace : "";
		const char *end = last + strlen(last);
		const char *line;

		while (end > last && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		line = end;
		while (line > last && line[-1] != '\n')
			line--;
		struct dd_failure f;
		struct dd_error e2 = DD_ERROR_INIT;
		struct an_stall *st;

		struct dd_buf red = DD_BUF_INIT;

		/* The stack trace is raw text from the source: redact what is shown. */
		redact_append(&red, line, (size_t)(end - line));
		add_stall(c->res, cap, AN_STALL_IMPORT_ERROR, NULL, NULL, ie->filename, 1, 1.0,
		          dd_xasprintf("%s does not parse: %s", ie->filename, dd_buf_str(&red)));
		dd_buf_release(&red);
		/* What the stack trace names (the missing module, the bad line ...). */
		st = &c->res->stalls[c->res->n_stalls - 1];
		memset(&f, 0, sizeof(f));
		if (ie->stack_trace && classify_buffer(c->lib, ie->filename, ie->stack_trace, strlen(ie->stack_trace),
		                                       &f, &e2) == 0) {
			st->entities = f.entities;
			st->n_entities = f.n_entities;
			f.entities = NULL;
			f.n_entities = 0;
		}
		dd_failure_release(&f);
	}
	return 0;
}

static void health_stalls(struct ctx *c, int64_t source_ref, size_t *cap)
{
	struct dd_health h;
	struct dd_error e2 = DD_ERROR_INIT;
	int64_t taken;
	void *p[2] = { c, cap };

	store_import_errors(c->store, source_ref, on_import_error, p, &e2);
	memset(&h, 0, sizeof(h));
	if (store_health_latest(c->store, source_ref, &h, &taken, &e2) < 0)
		return;
	if (h.scheduler_status && strcmp(h.scheduler_status, "healthy")) {
		add_stall(c->res, cap, AN_STALL_SCHEDULER, NULL, NULL, "scheduler", 1, 0.8,
		          dd_xasprintf("the scheduler reported itself %s", h.scheduler_status));
	} else if (h.scheduler_heartbeat_ms && taken - h.scheduler_heartbeat_ms > HEARTBEAT_STALE_S * 1000LL) {
		add_stall(c->res, cap, AN_STALL_SCHEDULER, NULL, NULL, "scheduler", 1, 0.7,
		          dd_xasprintf("the scheduler's last heartbeat was %lld s old when checked",
		                       (long long)((taken - h.scheduler_heartbeat_ms) / 1000)));
	}
	dd_health_release(&h);
}

static void upstream_failed_stalls(struct ctx *c, size_t *cap)
{
	struct an_result *res = c->res;

	for (size_t gi = 0; gi < res->n_groups; gi++) {
		const struct an_group *g = &res->groups[gi];

		if (g->downstream_upstream_failed)
			add_stall(res, cap, AN_STALL_UPSTREAM_FAILED, g->task_ids.v[0], g->last_run,
			          g->task_ids.v[0], g->downstream_upstream_failed, 0.3,
			          dd_xasprintf("%zu downstream task instance(s) were left upstream_failed by %s",
			                       g->downstream_upstream_failed, g->task_ids.v[0]));
	}
}

/* ---- entry --------------------------------------------------------------------- */

static int cmp_group(const void *a, const void *b)
{
	const struct an_group *x = a, *y = b;

	if (x->n_runs_final != y->n_runs_final)
		return x->n_runs_final < y->n_runs_final ? 1 : -1;
	if (x->n_tries != y->n_tries)
		return x->n_tries < y->n_tries ? 1 : -1;
	return x->last_ms < y->last_ms ? 1 : x->last_ms > y->last_ms ? -1 : 0;
}

struct find_dag {
	int64_t ref;
	char *source, *source_kind;
	int64_t source_ref;
};

static int find_dag_cb(const struct dd_store_dag *d, void *ud)
{
	struct find_dag *f = ud;

	if (d->ref != f->ref)
		return 0;
	f->source = dd_xstrdup(d->source_name);
	f->source_kind = dd_xstrdup(d->source_kind);
	f->source_ref = d->source_ref;
	return 1;
}

int analyze_dag(struct dd_store *store, int64_t dag_ref, const struct pat_library *lib,
                int64_t from_ms, int64_t to_ms, struct an_result *out, struct dd_error *err)
{
	struct ctx c;
	struct find_dag fd = { dag_ref, NULL, NULL, 0 };
	size_t stall_cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.store = store;
	c.dag_ref = dag_ref;
	c.lib = lib;
	c.res = out;
	c.err = err;
	out->from_ms = from_ms;
	out->to_ms = to_ms;
	out->library_hash = analyze_library_hash(lib);
	rc = store_dag_get(store, dag_ref, &c.dag, err);
	if (rc < 0)
		goto done;
	out->dag_id = dd_xstrdup(c.dag.dag_id);
	out->fileloc = dd_xstrdup(c.dag.fileloc);
	rc = store_dags(store, 0, find_dag_cb, &fd, err);
	if (rc < 0)
		goto done;
	out->source = fd.source;
	out->source_kind = fd.source_kind;
	rc = load(&c, dag_ref, from_ms, to_ms);
	if (rc < 0)
		goto done;
	for (size_t r = 0; r < out->n_runs; r++) {
		if (out->runs[r].state == DD_STATE_SUCCESS)
			out->n_success++;
		else if (dd_state_is_failure(out->runs[r].state))
			out->n_failed++;
		else if (!dd_state_is_terminal(out->runs[r].state))
			out->n_running++;
	}
	compute_tasks(&c);
	rc = store_begin(store, err);
	if (rc < 0)
		goto done;
	rc = build_groups(&c);
	if (rc < 0) {
		store_rollback(store);
		goto done;
	}
	rc = store_commit(store, err);
	if (rc < 0)
		goto done;
	/* The newest failed try of each group, classified in full. */
	for (size_t gi = 0; gi < out->n_groups; gi++) {
		struct an_group *g = &out->groups[gi];

		struct held *h = gi < c.n_held_zeroed ? &c.held[gi] : NULL;

		if (h && h->try_ref && h->try_ref == g->try_ref) {
			/* classified while grouping: its log is still here */
			g->failure = h->failure;
			memset(&h->failure, 0, sizeof(h->failure));
			compare_with_baseline(&c, g, &h->log);
			continue;
		}
		if (g->try_ref && classify_try(&c, g->try_ref, &g->failure, g) == 0)
			continue;
		dd_failure_release(&g->failure);
		memset(&g->failure, 0, sizeof(g->failure));
		dd_error_clear(err);
	}
	if (out->n_groups)
		qsort(out->groups, out->n_groups, sizeof(*out->groups), cmp_group);
	trace_upstream_failed(&c);
	sensor_stalls(&c, &stall_cap);
	duration_stalls(&c, &stall_cap);
	/* A log folder may be a copy taken long ago: its own newest time is "now". */
	if ((!fd.source_kind || strcmp(fd.source_kind, "logs")) &&
	    store_cursor_get_i64(store, fd.source_ref, out->dag_id, STORE_CURSOR_RUNS_READ, &out->as_of_ms, err) < 0) {
		out->as_of_ms = 0;
		dd_error_clear(err);
	}
	if (!out->as_of_ms)
		out->as_of_ms = newest_stamp(&c);
	stuck_stalls(&c, &stall_cap);
	upstream_dag_stalls(&c, &stall_cap);
	upstream_failed_stalls(&c, &stall_cap);
	health_stalls(&c, fd.source_ref, &stall_cap);
	build_grid(&c);   /* (defined below with the rest of the grid) */
	rc = 0;
done:
	for (size_t r = 0; r < out->n_runs; r++) {
		for (size_t k = 0; k < c.runs[r].n_tis; k++) {
			struct ti_rec *ti = &c.runs[r].tis[k];

			for (size_t t = 0; t < ti->n_tries; t++) {
				free(ti->tries[t].fp);
				free(ti->tries[t].category);
				free(ti->tries[t].error);
			}
			free(ti->tries);
			free(ti->task_id);
		}
		free(c.runs[r].tis);
	}
	free(c.runs);
	for (size_t i = 0; i < c.n_held_zeroed; i++)
		held_release(&c.held[i]);
	free(c.held);
	dd_dag_release(&c.dag);
	if (rc < 0)
		analyze_release(out);
	return rc;
}

/* ---- the run x task grid -------------------------------------------------------- */

/* Which of several states of one task in one run the grid shows: a failure
 * over upstream_failed over unfinished over success over skipped. */
static int grid_rank(enum dd_state s)
{
	if (s == DD_STATE__COUNT)
		return -1;
	if (dd_state_is_failure(s) && s != DD_STATE_UPSTREAM_FAILED)
		return 6;
	if (s == DD_STATE_UPSTREAM_FAILED)
		return 5;
	if (!dd_state_is_terminal(s))
		return 4;
	if (s == DD_STATE_SUCCESS)
		return 2;
	if (s == DD_STATE_SKIPPED)
		return 1;
	return 3;
}

const struct an_cell *an_grid_cell(const struct an_grid *g, size_t task, size_t run)
{
	return &g->cells[task * g->n_runs + run];
}

static void build_grid(struct ctx *c)
{
	struct an_result *res = c->res;
	struct an_grid *g = &res->grid;
	size_t first = res->n_runs > AN_GRID_RUNS ? res->n_runs - AN_GRID_RUNS : 0;

	g->n_runs = res->n_runs - first;
	g->n_tasks = res->n_tasks;
	g->run_ids = dd_xcalloc(g->n_runs + 1, sizeof(char *));
	g->run_ms = dd_xcalloc(g->n_runs + 1, sizeof(int64_t));
	g->run_states = dd_xcalloc(g->n_runs + 1, sizeof(enum dd_state));
	g->task_ids = dd_xcalloc(g->n_tasks + 1, sizeof(char *));
	g->cells = dd_xcalloc(g->n_runs * g->n_tasks + 1, sizeof(struct an_cell));
	for (size_t i = 0; i < g->n_runs * g->n_tasks; i++)
		g->cells[i].state = DD_STATE__COUNT;
	for (size_t t = 0; t < g->n_tasks; t++)
		g->task_ids[t] = dd_xstrdup(res->tasks[t].task_id);
	for (size_t r = 0; r < g->n_runs; r++) {
		const struct run_rec *rr = &c->runs[first + r];

		g->run_ids[r] = dd_xstrdup(res->runs[first + r].run_id);
		g->run_ms[r] = res->runs[first + r].logical_ms;
		g->run_states[r] = res->runs[first + r].state;
		for (size_t k = 0; k < rr->n_tis; k++) {
			const struct ti_rec *ti = &rr->tis[k];
			int t = task_index(res, ti->task_id);
			const struct try_rec *newest_failed = NULL;
			struct an_cell *cell;

			if (t < 0)
				continue;
			cell = &g->cells[(size_t)t * g->n_runs + r];
			if (grid_rank(ti->state) > grid_rank(cell->state))
				cell->state = ti->state;
			for (size_t x = 0; x < ti->n_tries; x++) {
				const struct try_rec *tr = &ti->tries[x];

				if (tr->try_number > cell->tries)
					cell->tries = tr->try_number;
				if (dd_state_is_failed_try(tr->state)) {
					cell->failed_tries++;
					if (!newest_failed || tr->try_number > newest_failed->try_number)
						newest_failed = tr;
				}
			}
			if (newest_failed && newest_failed->category) {
				free(cell->category);
				free(cell->error);
				cell->category = dd_xstrdup(newest_failed->category);
				cell->error = dd_xstrdup(newest_failed->error);
			}
		}
	}
}

static void grid_release(struct an_grid *g)
{
	for (size_t r = 0; r < g->n_runs; r++)
		free(g->run_ids[r]);
	for (size_t t = 0; t < g->n_tasks; t++)
		free(g->task_ids[t]);
	for (size_t i = 0; i < g->n_runs * g->n_tasks; i++) {
		free(g->cells[i].category);
		free(g->cells[i].error);
	}
	free(g->run_ids);
	free(g->run_ms);
	free(g->run_states);
	free(g->task_ids);
	free(g->cells);
	memset(g, 0, sizeof(*g));
}

void analyze_release(struct an_result *r)
{
	grid_release(&r->grid);
	free(r->dag_id);
	free(r->source);
	free(r->source_kind);
	free(r->fileloc);
	for (size_t i = 0; i < r->n_runs; i++)
		free(r->runs[i].run_id);
	free(r->runs);
	for (size_t i = 0; i < r->n_tasks; i++) {
		free(r->tasks[i].task_id);
		free(r->tasks[i].operator_name);
		free(r->tasks[i].last_good_run);
	}
	free(r->tasks);
	for (size_t i = 0; i < r->n_groups; i++) {
		struct an_group *g = &r->groups[i];

		free(g->fingerprint);
		dd_failure_release(&g->failure);
		dd_strv_release(&g->task_ids);
		free(g->first_run);
		free(g->last_run);
		free(g->onset_run);
		free(g->input_drop);
		free(g->last_good_run);
	}
	free(r->groups);
	for (size_t i = 0; i < r->n_stalls; i++) {
		free(r->stalls[i].task_id);
		free(r->stalls[i].run_id);
		free(r->stalls[i].detail);
		free(r->stalls[i].entity);
		for (size_t e = 0; e < r->stalls[i].n_entities; e++) {
			free(r->stalls[i].entities[e].name);
			free(r->stalls[i].entities[e].value);
		}
		free(r->stalls[i].entities);
	}
	free(r->stalls);
	free(r->library_hash);
	memset(r, 0, sizeof(*r));
}
