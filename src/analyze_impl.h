/*
 * analyze_impl.h - private to the analysis (src/analyze.c: loading,
 * classification, groups, the entry point; analyze_compare.c: the failing
 * log against the last success; analyze_stalls.c; analyze_grid.c).
 * analyze.h is the public surface.
 */
#ifndef DAGDOC_ANALYZE_IMPL_H
#define DAGDOC_ANALYZE_IMPL_H

#include "dagdoc/analyze.h"

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
	int64_t ref;
	char *task_id;            /* the task (a Prefect task run's task, not its run name) */
	int task;                  /* index into res->tasks (compute_tasks) */
	int map_index;
	enum dd_state state;
	int64_t queued_ms, start_ms, end_ms;
	char *external_id;        /* Prefect: the task run's id */
	struct try_rec *tries;
	size_t n_tries, cap_tries;
};

struct run_rec {
	int64_t ref;
	int prefect;              /* the source is Prefect (task runs are named <task>-<key>) */
	struct ti_rec *tis;
	size_t n_tis, cap_tis;
};

/* Is ti an instance of task at (of res->tasks)? */
static inline int ti_is(const struct ti_rec *ti, const struct an_result *res, const struct an_task *at)
{
	return ti->task == (int)(at - res->tasks);
}

struct ctx {
	struct dd_store *store;
	const struct pat_library *lib;
	struct an_result *res;
	struct run_rec *runs;      /* parallel to res->runs */
	size_t cap_runs;
	struct dd_dag dag;        /* its tasks named as the analysis names them (task_identity) */
	int64_t dag_ref;
	int prefect;
	struct dd_error *err;
	/* per group (by index): its newest failed try when it was classified
	 * while grouping, with its log, so no log is read twice */
	struct held {
		int64_t try_ref;
		struct dd_failure failure;
		struct dd_buf log;
	} *held;
	size_t cap_held, n_held_zeroed;
	/* the source's state as the last sync stored it (load_history) */
	int64_t source_ref;
	struct dd_health health;
	int64_t health_ms;          /* 0: no snapshot */
	struct dd_strv ie_files, ie_traces;   /* import errors of this DAG's file */
};

#define HELD_LOG_MAX ((size_t)1 << 20)   /* a larger log is read again rather than kept */

/* analyze.c */
int an_task_index(const struct an_result *res, const char *task_id);
void an_set_str(char **dst, const char *s);
double an_median(double *v, size_t n);
enum dd_state an_task_state(const struct run_rec *rr, int task);   /* task: index into res->tasks */

/* analyze_compare.c: what the failing log (already read) says differently
 * from the task's last successful log: sets g->input_drop. */
void an_compare_with_baseline(struct ctx *c, struct an_group *g, const struct dd_buf *log);

/* analyze_stalls.c: every stall finding, once groups, tasks and
 * c->res->as_of_ms are known; the newest time stored for the DAG. */
void an_find_stalls(struct ctx *c);
int64_t an_newest_stamp(const struct ctx *c);

/* analyze_quiet.c: quiet failures (res->quiet) from the tasks' successful logs. */
void an_find_quiet(struct ctx *c);

/* analyze_grid.c */
void an_build_grid(struct ctx *c);
void an_grid_release(struct an_grid *g);

#endif
