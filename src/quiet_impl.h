/*
 * quiet_impl.h - private to the quiet failures (quiet.c: templates, input
 * dates, statistics, the task; quiet_train.c: training metrics).  quiet.h
 * is the public surface.
 */
#ifndef DAGDOC_QUIET_IMPL_H
#define DAGDOC_QUIET_IMPL_H

#include "dagdoc/quiet.h"

/* quiet.c: statistics (see quiet.h) */
double quiet_median(const double *v, size_t n);
int quiet_far(double x, const double *b, size_t n, double min_ratio);
int quiet_far_lag(double x, const double *b, size_t n, double min_ratio);
size_t quiet_onset(const double *v, size_t n, double min_ratio, int (*far)(double, const double *, size_t, double));
/* The date of an input a message names (see quiet.h), as days since 1970. */
int quiet_input_date(const char *msg, size_t len, int64_t *day);

struct quiet_task;
/* Appends a finding of q's task with values (one per log) and its onset (a log's index). */
struct quiet_finding *quiet_add_finding(struct quiet_task *q, struct quiet_finding **v, size_t *n, size_t *cap,
                                        enum quiet_kind kind, const double *values, size_t onset);
size_t quiet_task_logs(const struct quiet_task *q);
const char *quiet_task_run(const struct quiet_task *q, size_t i);

/* quiet_train.c: one log's losses, then per run what they say. */
struct qt_point {
	double key;                /* the epoch (or the step's order when no epoch is known) */
	double train, val;         /* NAN: not logged */
};

struct qt_run {
	int has;                   /* the log printed losses */
	double final;              /* the final loss: validation when logged, else training */
	int nan;                   /* a loss was NaN or infinite */
	int diverged, overfit;
	char *why;                 /* what the newest problem is, with its numbers */
};

struct qt_train {
	/* the log being read */
	struct qt_point *p;
	size_t n_p, cap_p;
	double epoch;              /* from "Epoch N/M", "Epoch N:", "epoch N" (or a step); NAN unknown */
	const char *unit;          /* "epoch", or "step" when the log names steps (or nothing) and no epoch */
	int seen_epoch;
	char train_name[32], val_name[32];
	double nan_key;
	char nan_name[32];
	int nan;
	/* per log read */
	struct qt_run *runs;
	size_t n_runs, cap_runs;
	char final_name[32];
};

void qt_train_begin(struct qt_train *t);
void qt_train_line(struct qt_train *t, const char *msg, size_t len);
void qt_train_end(struct qt_train *t);
void qt_train_judge(struct quiet_task *q, struct qt_train *t, struct quiet_finding **v, size_t *n, size_t *cap);
void qt_train_release(struct qt_train *t);

#endif
