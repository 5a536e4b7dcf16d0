/*
 * report.h - the nightly report over many DAGs: a model built from each
 * DAG's triage plus its run x task grid, the new-vs-recurring bookkeeping
 * against earlier reports kept in the store (report.c), and four
 * renderers (text and Markdown in report_text.c, report_json.c,
 * self-contained HTML in report_html.c) plus the short summary sent to a
 * chat webhook (report_webhook.c).  Renderers read struct report only:
 * no store, no connector.
 *
 * The period: a report covers the runs that ran in [from_ms, made_ms],
 * where a run's time is the latest of its logical date, start and end (a
 * daily Airflow run's logical date is a day before it actually runs).
 * Each DAG's triage looks further back (its own history window) to find
 * onsets and flakiness; only the period decides which DAGs are reported
 * and which failures count as "in this report".
 *
 * DAG status:
 *  - failing: the triage says still failing (its newest run failed, or a
 *    failure group is still failing);
 *  - recovered: not failing, but a run in the period failed or a failure
 *    group had a run in the period (e.g. a task that passed on retry);
 *  - healthy: otherwise.
 *
 * New vs recurring: every failure cause with a run in the period (or
 * still failing) is looked up by (scope "SOURCE/DAG", fingerprint) among
 * earlier reports (report_ms < made_ms): never seen = new; two causes of
 * one DAG with the same fingerprint are one failure.  Then this
 * report is recorded (report_record) so the next one sees it.
 *
 * Escaping: every string that reaches HTML goes through report_html_escape
 * (& < > " ' as entities, control characters dropped), so log text can
 * never inject markup.  The HTML page loads nothing from the network: CSS
 * and the SVG grids are inline, there is no script.
 *
 * Ownership: report_init/report_release own everything in struct report.
 * report_add_dag takes over the triage result it is given (the caller's
 * struct is zeroed).
 * report_to_json returns a new cJSON tree the caller deletes;
 * report_webhook_text, report_webhook_payload and report_dedup_key return
 * strings the caller frees; report_post_bodies appends strings the
 * caller's dd_strv owns.
 */
#ifndef DAGDOC_REPORT_H
#define DAGDOC_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dagdoc/config.h"
#include "dagdoc/model.h"
#include "dagdoc/store.h"
#include "dagdoc/triage.h"
#include "dagdoc/util.h"

#define REPORT_FLAKY_MIN 0.40    /* an_task.intermittent from which a task is called flaky */

enum report_status { REPORT_HEALTHY = 0, REPORT_RECOVERED, REPORT_FAILING };
const char *report_status_name(enum report_status s);    /* "healthy" ... */

/* Per cause of a DAG's triage. */
struct report_cause_mark {
	int in_report;               /* failing now or a run in the period */
	int is_new;                  /* in_report and never in an earlier report */
	int64_t seen_before;         /* earlier reports that had it */
	int64_t first_seen_ms;       /* the first of them, 0 when new */
	int dup;                     /* an earlier cause of the DAG has the same fingerprint:
	                              * the failure is counted, listed and recorded once */
};

struct report_dag {
	char *source;
	char *dag_id;
	enum report_status status;
	size_t runs_in_period, failed_in_period;
	struct triage_result triage; /* owned */
	struct report_cause_mark *marks;   /* one per triage.rk.causes */
	/* its run x task grid is triage.an.grid */
};

struct report_source {
	char *name;
	char *kind;                  /* "airflow", "prefect", "logs" */
	char *describe;              /* "airflow 2.10.5 (api v1)", NULL when not reached */
	char *error;                 /* why it could not be synced, NULL when fine */
	int synced;                  /* 0 with --offline */
};

struct report_flaky {
	size_t dag;                  /* index into dags */
	char *task_id;
	double score;
	size_t retry_recovered, failed, runs;
};

/* The causes of the report grouped by kind (report_finish): most DAGs
 * first, then best confidence. */
struct report_fleet_row {
	enum rk_kind kind;
	size_t n_dags;
	double best;                 /* best confidence among them */
	struct dd_strv dags;         /* dag ids */
};

/* A failure fixed since the previous report: its fingerprint was recorded
 * for the DAG on the latest earlier report date, and no cause of the DAG
 * is still failing with it (report_finish).  A DAG not in this report
 * (no run in the period) fixes nothing. */
struct report_fixed {
	size_t dag;                  /* index into dags */
	char *fingerprint;
};

struct report {
	int64_t made_ms;
	int64_t from_ms;             /* made_ms - since */
	char *since;                 /* as given: "24h" */
	struct report_source *sources;
	size_t n_sources;
	struct report_dag *dags;     /* failing first, then recovered, then healthy; by source, dag_id */
	size_t n_dags;
	struct report_flaky *flaky;  /* most flaky first (report_finish) */
	size_t n_flaky;
	struct report_fleet_row *fleet;
	size_t n_fleet;
	struct dd_strv notes;        /* DAGs named but not found, ... */
	struct report_fixed *fixed;  /* by DAG, then fingerprint (report_finish) */
	size_t n_fixed;
};

void report_init(struct report *r, int64_t made_ms, int64_t since_s, const char *since_label);
void report_release(struct report *r);

void report_add_source(struct report *r, const char *name, const char *kind,
                       const char *describe, const char *error, int synced);

/* Adds a DAG: takes over *t (zeroed on return).  Everything the renderers
 * draw comes from the triage (its grid included): they read no store. */
void report_add_dag(struct report *r, const char *source, struct triage_result *t);

/* The time a run "ran": the latest of its logical date, start and end. */
int64_t report_run_time(const struct an_run *run);

/* Sorts the DAGs, collects flaky tasks and the fleet rows, marks each cause new or
 * recurring against the store's report history (the reports of earlier
 * dates: a report made again the same UTC day, a retry, calls new what the
 * first one called new) and lists the failures fixed since the previous
 * report date.  With record set, also records this report's failures in
 * the store. */
int report_finish(struct report *r, struct dd_store *store, int record, struct dd_error *err);

/* The start (00:00 UTC) of the report date of a report made at ms. */
int64_t report_date_start(int64_t ms);

/* The DAG's first cause that is in the report (k its index), or NULL. */
const struct rk_cause *report_dag_top(const struct report_dag *d, size_t *k);
/* "not running: no scheduled run since 2026-03-10 02:00 (they came every
 * 1d)" into out when the DAG's scheduler stopped making its runs
 * (triage.an.not_running); returns 1 then, else 0 and out untouched. */
int report_not_running(const struct report_dag *d, char *out, size_t len);

size_t report_count(const struct report *r, enum report_status s);
/* DAGs with quiet failures (triage.degraded), whatever their status. */
size_t report_count_degraded(const struct report *r);
size_t report_count_new(const struct report *r, size_t *recurring);
/* Sources that could not be synced. */
size_t report_sources_failed(const struct report *r);

struct report_style {
	int color;                   /* ANSI colours (text only) */
	int explain;                 /* every evidence weight */
};
void report_render_text(const struct report *r, const struct report_style *st, FILE *out);
void report_render_md(const struct report *r, const struct report_style *st, FILE *out);
void report_render_html(const struct report *r, const struct report_style *st, FILE *out);
struct cJSON;
struct cJSON *report_to_json(const struct report *r, int explain);

/* The summary for a Slack-compatible incoming webhook: mrkdwn text with
 * &, <, > escaped as Slack asks.  Caller frees. */
char *report_webhook_text(const struct report *r);
/* {"text": report_webhook_text} as JSON.  Caller frees. */
char *report_webhook_payload(const struct report *r);

/* ---- what `report --post` sends (report_webhook.c) -----------------------
 * slack      {"text": report_webhook_text}: any Slack-compatible webhook.
 * blocks     Slack Block Kit: a header, the summary, one section per
 *            failing DAG (its rank-1 cause, links to the DAG in its UI and
 *            to its section of the report), context lines for the rest;
 *            within Slack's limits (50 blocks, header 150 and section 3000
 *            characters), "text" the notification fallback.
 * json       one documented object (README, "Posting the summary").
 * pagerduty  PagerDuty Events API v2: a trigger per failing DAG, its
 *            dedup_key from the rank-1 still-failing cause's fingerprint
 *            (report_dedup_key), so the same failure updates one incident
 *            night after night; a resolve per fixed failure (report.fixed).
 * Every body is one JSON text. */
enum report_post_format { REPORT_POST_SLACK = 0, REPORT_POST_BLOCKS, REPORT_POST_JSON, REPORT_POST_PAGERDUTY };
/* 0, or -1 for a name that is none of slack, blocks, json, pagerduty. */
int report_post_format_parse(const char *name, enum report_post_format *out);

struct report_post_opts {
	const char *report_url;      /* where the report (-o) is served; NULL: no links to it */
	const char *routing_key;     /* pagerduty: SECRET, the integration's routing key */
};

/* Appends the bodies to post, in order, to out (caller releases): one for
 * slack, blocks and json; for pagerduty one event each (none when no DAG
 * is failing and nothing was fixed). */
void report_post_bodies(const struct report *r, enum report_post_format f, const struct report_post_opts *o,
                        struct dd_strv *out);

/* "dagdoc/SOURCE/DAG/FINGERPRINT", at most 255 bytes (a longer
 * SOURCE/DAG is replaced by its hash).  Caller frees. */
char *report_dedup_key(const char *source, const char *dag_id, const char *fingerprint);

/* Appends s HTML-escaped (& < > " ' as entities; control characters other
 * than newline and tab dropped) to b.  NULL appends nothing. */
void report_html_escape(struct dd_buf *b, const char *s);

/* The compact letter for a grid cell in text and Markdown: '.' success,
 * 'r' success after a failed try, 'X' failed, 'u' upstream_failed,
 * 's' skipped, '~' running/queued, '-' other, ' ' no instance. */
char report_cell_letter(const struct an_cell *c);
/* The cell's state name for JSON and HTML: dd_state_name, "none" when the
 * task has no instance in the run. */
const char *report_cell_state(const struct an_cell *c);


#endif
