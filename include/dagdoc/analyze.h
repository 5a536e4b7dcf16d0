/*
 * analyze.h - what a DAG's stored run history says: failures grouped by
 * fingerprint with their onset, flaky tasks, stalls, and health.
 *
 * analyze_dag reads the store only (no network), and the DAG's history
 * once (load_history in analyze.c: its runs in the window with their task
 * instances and tries, its source's newest health snapshot and import
 * errors); after that it reads only logs (each at most once: n_log_reads),
 * the last success of a failing task before it failed (the baseline) and
 * the runs of an upstream DAG a sensor names.  Failed tries whose log is
 * stored are classified with the pattern library; classifications are
 * cached in the store keyed by the library's hash, so a warm triage does
 * not classify again.  The result holds everything ranking and the
 * renderers draw (the run x task grid included): they read no store.
 *
 * Definitions used throughout:
 *  - a task's run state is the final state of its task instance in that
 *    run; "good" is success (skipped counts as neither good nor bad);
 *  - a failure group is the set of failed tries (failed, up_for_retry,
 *    crashed, timed_out) that share a fingerprint; a failed try without a
 *    log gets the fingerprint "<state>:<task_id>" ("failed:extract");
 *  - onset: for each task of a group, the first run failing with that
 *    fingerprint after the last good run before it; the group's onset is
 *    the earliest of its tasks' onsets of the current (or last) streak;
 *  - onset times are the times things ran: a group's onset_start_ms is the
 *    start of its first failed try in the onset run (the logical date stays
 *    beside it), its last_good_start_ms the start of its tasks' try in the
 *    last good run;
 *  - a task is the task the orchestrator runs, not one run of it: Prefect
 *    names its task runs <task>-<dynamic key> (load_model-863), and they
 *    are grouped by the task (load_model), as the Prefect UI does;
 *  - still failing: the task's newest run in the window failed with it;
 *  - quiet failures: what the stored logs of each task's successful tries
 *    in the window (the newest 40) say went wrong though the task
 *    succeeded (quiet.h); those logs are read once each too;
 *  - stuck: a task instance (or run) not finished as of as_of_ms, queued
 *    or running FAR_FACTOR times longer than the task's (run's) median
 *    and at least FAR_MIN_S (analyze.c); a task needs MIN_HISTORY runs.
 *
 * Ownership: analyze_dag fills a caller-provided struct an_result whose
 * fields it owns; analyze_release frees them.  The result borrows nothing.
 */
#ifndef DAGDOC_ANALYZE_H
#define DAGDOC_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "dagdoc/classify.h"
#include "dagdoc/logparse.h"
#include "dagdoc/model.h"
#include "dagdoc/pattern.h"
#include "dagdoc/quiet.h"
#include "dagdoc/store.h"
#include "dagdoc/util.h"

/* One run of the DAG, as the analysis sees it. */
struct an_run {
	char *run_id;
	int scheduled;               /* made by the scheduler (not manual, backfill...) */
	enum dd_state state;
	int64_t logical_ms;
	int64_t start_ms, end_ms;
};

/* What a run ran, as the orchestrator reports it (an_result.ran). */
struct an_ran {
	char *bundle_version;      /* Airflow 3: the Git DAG bundle's commit, NULL unknown */
	int dag_version;           /* the DAG version number, 0 unknown */
};

/* How a failure is tied to a package: the links `triage --explain` names. */
enum an_link {
	AN_LINK_NAMED = 1,         /* its message names the package: "No module named 'x'",
	                              "... from 'markupsafe'", "numpy.dtype size changed" (or the
	                              pattern that matched names it) */
	AN_LINK_FRAME = 2,         /* a frame of its traceback is the package's (site-packages/x, a
	                              venv's, a compiled x frame), or its exception is the package's
	                              own (sqlalchemy.exc.ObjectNotExecutableError) */
};

/* A distribution the failure is tied to, best first in an_group.ties. */
struct an_tie {
	char *dist;                /* PEP 503-normalised distribution ("scikit-learn"), or the prefix of
	                              a namespace package's ("google-cloud" matches google-cloud-*) */
	char *import_name;         /* as the failure shows it ("sklearn", "google.cloud") */
	int prefix;                /* dist is a namespace prefix */
	int links;                 /* enum an_link bits */
	double weight;             /* 1 for a package the message names and for the frame nearest the
	                              raise (not stdlib, not the orchestrator); less further out */
	char *named;               /* what names it ("the message names markupsafe"), or NULL */
	char *frame;               /* which frame ("the traceback passes through site-packages/sqlalchemy"),
	                              or NULL */
};

/* Whether a change of requirement `package` (normalised or not) is a change
 * of the tie's distribution: the distribution, the import name as a
 * distribution name (psycopg2 for psycopg2-binary), or a namespace prefix. */
int an_tie_matches(const struct an_tie *t, const char *package);

/* What a change of the interpreter would explain of the failure (weight 0:
 * nothing): a module the standard library no longer has, a compiled
 * extension that does not fit, a SyntaxError. */
struct an_interp {
	double weight;             /* 1 for a removed module, less for what any version change may cause */
	char *why;                 /* "distutils was removed from the standard library in Python 3.12" */
	char *removed_in;          /* "3.12": the first version without it; NULL when any change explains it */
	char *running;             /* "3.12": the interpreter the failing try ran (its frames' lib/python3.12), NULL */
};

/* One task's history in the window. */
struct an_task {
	char *task_id;
	char *operator_name;
	int is_sensor;
	size_t runs;               /* runs in which the task has an instance */
	size_t success, failed, upstream_failed, skipped, running;
	size_t retried;            /* task instances with more than one try */
	size_t retry_recovered;    /* ... that ended in success after a failed try */
	size_t flips;              /* good <-> bad changes along the runs */
	double median_duration_s;  /* of successful tries, 0 when none */
	double median_queue_s;     /* start - queued, 0 when unknown */
	double intermittent;       /* 0..1: passes on retry, failures scattered */
	int64_t last_good_ms;      /* logical date of its newest good run, 0 none */
	char *last_good_run;
};

/* Failed tries sharing a fingerprint. */
struct an_group {
	char *fingerprint;
	struct dd_failure failure;  /* the newest failed try's classification */
	struct dd_strv task_ids;    /* tasks failing with it, by first failure */
	size_t n_tries;             /* failed tries in the window */
	size_t n_runs;              /* runs with at least one such try */
	size_t n_runs_final;        /* ... whose task ended failed (not recovered by a retry) */
	size_t n_tis;               /* task instances with such a try */
	size_t retry_recovered;     /* ... that a later try recovered (ended in success) */
	int64_t first_ms, last_ms;  /* logical dates of the first and last such run */
	char *first_run, *last_run;
	int64_t onset_ms;           /* first failing run of the current/last streak */
	char *onset_run;
	int64_t last_good_ms;       /* newest good run of those tasks before onset, 0 none */
	char *last_good_run;
	size_t good_before;         /* good runs of those tasks before the onset (window) */
	size_t runs_since_onset;    /* runs of those tasks from onset on */
	size_t failed_since_onset;  /* ... that failed with this fingerprint */
	int still_failing;
	double onset_sharpness;     /* 0..1: all good before and all bad after = 1; the same
	                               failure among the runs before the onset lowers it */
	size_t downstream_upstream_failed;  /* task instances it left upstream_failed */
	int64_t try_ref;            /* the newest failed try (for its log); failure carries its
	                               decisive frames and packages */
	char *input_drop;           /* a count its newest failing log reports as (nearly) 0 that the
	                               task's last successful log had ("loaded 0 orders", where the
	                               last success ... logged "loaded 3120 orders"), or NULL */
	int64_t onset_start_ms;     /* when its first failed try of the onset run started (wall clock;
	                               the run's start, else its logical date, when no try says) */
	int64_t last_good_start_ms; /* when its tasks' try of the last good run started, likewise; 0 none */
	struct an_tie *ties;        /* the distributions its failure is tied to, best first */
	size_t n_ties;
	struct an_interp interp;    /* what an interpreter change would explain of it */
};

/* The ties and the interpreter explanation of one failure, with the
 * knowledge base's import names and standard library (kb may be NULL:
 * import names are then taken as distribution names).  Fills *ties (caller
 * frees with an_ties_free) and *interp (an_interp_release). */
struct kb;
void an_failure_ties(const struct kb *kb, const struct dd_failure *f, struct an_tie **ties, size_t *n_ties,
                     struct an_interp *interp);
void an_ties_free(struct an_tie *t, size_t n);
void an_interp_release(struct an_interp *i);

enum an_stall_kind {
	AN_STALL_SENSOR_TIMEOUT,     /* a sensor timed out or kept rescheduling */
	AN_STALL_LONG_QUEUE,         /* queued far longer than usual */
	AN_STALL_LONG_RUNNING,       /* ran far longer than usual */
	AN_STALL_UPSTREAM_DAG,       /* a sensor waits on a DAG whose last success is old */
	AN_STALL_FAST_SUCCESS,       /* succeeded far faster than usual (empty input?) */
	AN_STALL_SCHEDULER,          /* scheduler unhealthy or heartbeat stale */
	AN_STALL_IMPORT_ERROR,       /* the DAG's file has an import error */
	AN_STALL_UPSTREAM_FAILED,    /* upstream_failed chain traced to its root task */
	AN_STALL_DURATION_GROWTH,    /* successful runs keep getting longer (input growth?) */
	AN_STALL_STUCK_QUEUED,       /* still queued, far longer than the task usually waits */
	AN_STALL_STUCK_RUNNING,      /* still running (or a sensor still waiting), far longer
	                                than usual; task_id NULL: the run as a whole */
};
const char *an_stall_kind_name(enum an_stall_kind k);

struct an_stall {
	enum an_stall_kind kind;
	char *task_id;               /* NULL for DAG-wide findings */
	char *run_id;                /* newest run it was seen in, NULL if none */
	char *detail;                /* one sentence with the numbers */
	char *entity;                /* upstream DAG, root task, file ... or NULL */
	size_t count;                /* how many runs/instances show it */
	double severity;             /* 0..1 */
	double seconds, usual_s;     /* stuck: how long so far, and the usual time (else 0) */
	struct dd_entity *entities;  /* import errors: what classifying the stack trace found */
	size_t n_entities;
};

#define AN_GRID_RUNS 14          /* newest runs in the run x task grid */

/* One task in one run of the grid. */
struct an_cell {
	enum dd_state state;         /* the task instance's final state (worst over map indexes);
	                              * DD_STATE__COUNT when the run has no instance of the task */
	int tries;                   /* tries of its newest instance (0 unknown) */
	int failed_tries;            /* tries that failed (a success with failed_tries > 0 passed on retry) */
	char *category;              /* of the newest failed try's classification, NULL when none */
	char *error;                 /* "AttributeError: ..." (redacted by classification), NULL */
	int64_t start_ms, end_ms;    /* wall clock of its newest try (else of the instance; of a mapped
	                              * task the earliest start and the latest end), 0 unknown */
	char *task_run_id;           /* Prefect: the task run's id (its page in the UI), else NULL */
};

/* The newest AN_GRID_RUNS runs by the DAG's tasks: what a report draws.
 * Rows are in the DAG's topological order (Kahn's algorithm over its
 * dependencies, ties broken by task id); tasks in no dependency (and tasks
 * seen only in runs) come after, by task id. */
struct an_grid {
	size_t n_runs, n_tasks;
	char **run_ids;              /* oldest first */
	int64_t *run_ms;             /* logical dates */
	int64_t *run_start_ms, *run_end_ms;   /* wall clock, 0 unknown */
	enum dd_state *run_states;
	char **task_ids;             /* topological (above) */
	struct an_cell *cells;       /* n_tasks * n_runs: cells[task * n_runs + run] */
};
const struct an_cell *an_grid_cell(const struct an_grid *g, size_t task, size_t run);

struct an_result {
	char *dag_id;
	char *source;
	char *source_kind;           /* "airflow", "prefect", "logs" (an Airflow log folder) */
	char *fileloc;
	int64_t from_ms, to_ms;
	int64_t as_of_ms;            /* when the states were read: when sync last read this
	                                DAG's runs, else (and for a log folder, which may be
	                                an old copy) the newest time stored for the DAG */
	struct an_run *runs;         /* oldest first */
	size_t n_runs;
	int is_paused;               /* as the source said at the last sync */
	/* Not running: unpaused, its scheduled runs came every cadence_ms
	 * (the median gap, from 3 or more), and by as_of_ms more than three
	 * of those, and more than twice the longest gap seen (a weekday
	 * schedule's weekend), have passed since the newest
	 * (last_scheduled_ms) without another.  Never for a log folder (it
	 * may be an old copy). */
	int not_running;
	int64_t cadence_ms, last_scheduled_ms;
	struct an_ran *ran;          /* parallel to runs: what each ran; NULL when no run says */
	size_t n_failed, n_success, n_running;
	struct an_task *tasks;       /* by task_id */
	size_t n_tasks;
	struct an_group *groups;     /* most failed runs first */
	size_t n_groups;
	struct an_stall *stalls;
	size_t n_stalls;
	struct an_grid grid;
	struct quiet_finding *quiet; /* quiet failures of tasks that succeeded (quiet.h), most severe first */
	size_t n_quiet;
	size_t n_classified;         /* tries classified now (not from the cache) */
	size_t n_log_reads;          /* stored logs read and decompressed (each at most once) */
	size_t n_unlogged;           /* failed tries without a stored log */
	char *library_hash;
};

/* Analyses dag_ref's runs with logical date in [from_ms, to_ms]. */
int analyze_dag(struct dd_store *store, int64_t dag_ref, const struct pat_library *lib,
                int64_t from_ms, int64_t to_ms, struct an_result *out, struct dd_error *err);
void analyze_release(struct an_result *r);

/* The cache key of a library's classifications (16 hex chars, static in lib's lifetime
 * is not guaranteed: the string is allocated, caller frees). */
char *analyze_library_hash(const struct pat_library *lib);

const struct an_task *an_result_task(const struct an_result *r, const char *task_id);

#endif
