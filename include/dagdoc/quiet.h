/*
 * quiet.h - quiet failures: what the logs of *successful* tries say went
 * wrong.  A task that succeeds can still have done nothing useful: a count
 * it logs fell off a cliff ("Loaded 0 rows into warehouse.orders"), the
 * partition it read lags its run's date more than usual (the model trained
 * on yesterday's data), or the training it ran went wrong (a NaN loss, a
 * loss that diverged, a validation loss that rose while the training loss
 * fell, a final loss far worse than the task's previous runs).
 *
 * The module reads log text only (no store, no network).  One task at a
 * time: quiet_task_new, then quiet_task_add_log for each successful try's
 * log, oldest run first (one log per run: the run's successful try), then
 * quiet_task_finish appends what it finds.
 *
 *  - Templates (kind QUIET_VALUE): each line's message (the logging prefix
 *    stripped by the log reader) with its numbers as '#' is a template; a
 *    number followed by a plural noun ("1,204,332 rows", "12 files", "3
 *    batches"; not a unit of time) is a count, tracked per template and
 *    position per run.  A template is tracked when it appears once in at
 *    least QUIET_MIN_SHARE of the task's logs and QUIET_MIN_POINTS of them.
 *  - Robust statistics: the newest value is compared with the median and
 *    MAD of the QUIET_BASELINE values before the onset (at least
 *    QUIET_MIN_POINTS).  It is far off when it lies outside the range of
 *    those values (a value the history has had is not) and differs from
 *    the median by more than QUIET_K robust deviations (1.4826 x MAD,
 *    floored at QUIET_FLOOR_REL of the median, so a noisy-but-normal series
 *    and a constant one are not flagged for a small move) and by at least
 *    half the median; a zero where the history never had one (and its
 *    median is at least 3) is far off too.  The onset is the first run of the
 *    newest streak of far-off values; a series that recovered is not a
 *    finding.
 *  - Stale inputs (QUIET_STALE_INPUT): a date a line names as what it read
 *    (a partition `dt=2026-12-01`, `ds=`, `date=`, `partition=`, a path's
 *    `2026/12/01` or `2026-12-01`, a date in quotes on a line with WHERE)
 *    gives the lag, in days, behind the run's logical date; flagged when
 *    the newest lag is at least a day more than the usual (median) lag and
 *    more than any before.
 *  - Training (QUIET_TRAIN_*): per-epoch (or per-logging-step) losses as
 *    Keras ("Epoch 3/10" then "... - loss: 0.41 - val_loss: 0.52"),
 *    PyTorch Lightning ("Epoch 3: 100%|...| 313/313 [..., v_num=0,
 *    train_loss=0.41, val_loss=0.52]"), Hugging Face Trainer ("{'loss':
 *    0.41, ..., 'epoch': 3.0}", "{'eval_loss': 0.52, ...}") and plain
 *    scripts ("epoch 3 loss=nan") print them.  Flagged in the newest run:
 *    a NaN or infinite loss; divergence (the last training loss above
 *    twice the lowest and above the first); over-fitting (the validation
 *    loss rose for the last two epochs to 1.15 x its lowest while the
 *    training loss kept falling); a final loss (validation when there is
 *    one) far off the task's previous runs by the statistics above and at
 *    least 1.5 x their median.
 *
 * Ownership: quiet_task_new allocates (quiet_task_free frees); strings
 * passed in are copied.  quiet_task_finish appends findings to a caller's
 * array that quiet_findings_free releases.
 */
#ifndef DAGDOC_QUIET_H
#define DAGDOC_QUIET_H

#include <stddef.h>
#include <stdint.h>

#include "dagdoc/util.h"

#define QUIET_MIN_POINTS 5      /* values before the one judged */
#define QUIET_BASELINE 14       /* values the baseline takes, newest first */
#define QUIET_MIN_SHARE 0.6     /* of the task's logs a template appears in */
#define QUIET_K 4.0             /* robust deviations that are "far" */
#define QUIET_FLOOR_REL 0.1     /* the smallest deviation, relative to the median */

enum quiet_kind {
	QUIET_VALUE = 1,           /* a count far from its history (or zero where never) */
	QUIET_STALE_INPUT,         /* the input partition lags more than usual */
	QUIET_TRAIN_NAN,           /* a loss became NaN or infinite */
	QUIET_TRAIN_DIVERGED,      /* the training loss diverged */
	QUIET_TRAIN_OVERFIT,       /* validation loss rose while training loss fell */
	QUIET_TRAIN_WORSE,         /* the final loss is far worse than in previous runs */
};
/* "value", "stale_input", "training_nan", "training_diverged",
 * "training_overfit", "training_worse". */
const char *quiet_kind_name(enum quiet_kind k);

struct quiet_finding {
	enum quiet_kind kind;
	char *task_id;
	char *what;                /* the template ("Loaded # rows into warehouse.orders") or the metric
	                              ("val_loss"); log text: redacted */
	char *detail;              /* one sentence with the numbers */
	double *values;            /* the tracked value per run with a log, oldest first (NAN: the run's
	                              log did not say); training: the run's final loss; stale: lag (days) */
	char **run_ids;            /* parallel to values */
	int64_t *run_ms;           /* parallel: logical dates */
	size_t n_values;
	size_t onset;              /* index into values of the first run of the streak */
	double usual;              /* the baseline's median (NAN: none, e.g. a NaN loss in a first run) */
	double now;                /* the newest value */
	char *upstream_dag;        /* stale input: the upstream DAG a sensor of the DAG waits for, or NULL */
	double severity;           /* 0..1, for ordering */
	size_t task_index;         /* the order it was found in (analysis: ties of equal severity) */
};
void quiet_findings_free(struct quiet_finding *v, size_t n);

struct quiet_task;
struct quiet_task *quiet_task_new(const char *task_id);
void quiet_task_free(struct quiet_task *q);
/* One run's successful log (text as stored).  Logs must come oldest run first. */
void quiet_task_add_log(struct quiet_task *q, const char *run_id, int64_t logical_ms, const char *text, size_t len);
/* Appends the task's findings to *v (grown with DD_GROW semantics). */
void quiet_task_finish(struct quiet_task *q, struct quiet_finding **v, size_t *n, size_t *cap);

/* The upstream DAG a sensor's log says it waits for (Airflow's
 * ExternalTaskSensor: "Poking for tasks ['load'] in dag ingest_orders on
 * ..."), or NULL; caller frees. */
char *quiet_sensor_upstream(const char *text, size_t len);

/*
 * The template of one message: its numbers as '#'.  Fills nums with up to
 * max numbers (what each is, and whether it is a count: followed by a
 * plural noun that is not a unit of time) and returns how many numbers the
 * message holds, or -1 when it has no word of three letters (no template).
 * Shared with the failing-log comparison (analyze_compare.c).
 */
struct quiet_num {
	double value;
	int count;
};
int quiet_template(const char *msg, size_t len, struct dd_buf *shape, struct quiet_num *nums, size_t max);

/* A value as people read it: 1,204,332 (integers with separators), 0.4123, nan. */
void quiet_format_value(double v, char *out, size_t n);

/* Sparkline points: the finite values scaled to 0..1 (NAN stays NAN). */
void quiet_scale(const double *v, size_t n, double *out);

#endif
