/*
 * analyze_compare.c - the failing log against the task's last success: a count that fell
 * to (nearly) zero says the input vanished (see analyze.h).
 */
#include "dagdoc/util.h"


#include "dagdoc/quiet.h"
#include "dagdoc/redact.h"

#include "analyze_impl.h"

/* ---- what the failing log says differently from the last success --------------
 * A count the task logs ("loaded 3120 orders") that was at least
 * COUNT_MIN_BEFORE in the last successful try and is 0, or under
 * COUNT_DROP_RATIO of it, in the failing try, on a line that is otherwise
 * the same (numbers aside) and appears once in each: the input vanished.
 * A count is what quiet_template says it is (quiet.h): a number followed
 * by a plural noun, not a unit of time.  Only
 * INFO and WARNING lines count, and only the first LOG_COUNT_LINES. */
#define COUNT_MIN_BEFORE 100.0
#define COUNT_DROP_RATIO 0.01
#define LOG_COUNT_LINES 5000

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
	struct quiet_num nums[DD_ARRAY_SIZE(((struct count_line *)0)->nums)];
	struct count_line x;
	int n;

	if ((l->level != 20 && l->level != 30) || (l->flags & DD_LINE_CONT) || l->msg_len > 400)
		return 0;
	memset(&x, 0, sizeof(x));
	n = quiet_template(l->msg, l->msg_len, &shape, nums, DD_ARRAY_SIZE(nums));
	if (n <= 0 || (size_t)n > DD_ARRAY_SIZE(x.nums) || cl->n >= LOG_COUNT_LINES) {
		dd_buf_release(&shape);
		return 0;
	}
	x.n_nums = (size_t)n;
	for (int k = 0; k < n; k++)   /* -1: a number, but not a count */
		x.nums[k] = nums[k].count ? nums[k].value : -1;
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

/* The newest successful try of `task` in a run before before_ms among the
 * runs the analysis loaded (whatever each run named the task's run). */
static int baseline_loaded(const struct ctx *c, const char *task, int64_t before_ms, struct baseline *b)
{
	for (size_t r = c->res->n_runs; r-- > 0;) {
		if (c->res->runs[r].logical_ms >= before_ms)
			continue;
		for (size_t k = 0; k < c->runs[r].n_tis; k++) {
			const struct ti_rec *ti = &c->runs[r].tis[k];

			if (strcmp(ti->task_id, task) || ti->state != DD_STATE_SUCCESS)
				continue;
			for (size_t t = ti->n_tries; t-- > 0;)
				if (ti->tries[t].state == DD_STATE_SUCCESS && ti->tries[t].has_log) {
					b->ref = ti->tries[t].ref;
					b->run_id = dd_xstrdup(c->res->runs[r].run_id);
					return 1;
				}
		}
	}
	return 0;
}

/* Sets g->input_drop when `log`, its newest failed try's, reports a count
 * that vanished since the same task's last successful try (whose log sync
 * stored). */
void an_compare_with_baseline(struct ctx *c, struct an_group *g, const struct dd_buf *log)
{
	struct baseline b = { 0, NULL };
	struct dd_error e2 = DD_ERROR_INIT;
	struct count_lines now = { NULL, 0, 0 }, before = { NULL, 0, 0 };
	const char *task = task_of_try(c, g->try_ref);
	struct dd_buf ok_log = DD_BUF_INIT;
	struct dd_store_log_info info;

	if (!task || (!baseline_loaded(c, task, g->last_ms, &b) &&
	              (store_last_success_try(c->store, c->dag_ref, task, g->last_ms, on_baseline, &b, &e2) < 0 || !b.ref)))
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
