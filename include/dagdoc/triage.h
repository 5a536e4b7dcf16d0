/*
 * triage.h - one DAG's diagnosis: analysis of its stored history, ranked
 * causes, and their rendering as text, Markdown or JSON.  `dagdoc
 * triage`, `report` and `runbook` all go through triage_dag.
 *
 * The window is the `since` period ending at the DAG's newest stored run
 * (on a live system, now), so a diagnosis of an old incident reads the
 * same as it did then.
 *
 * Ownership: triage_dag fills a caller-provided struct triage_result
 * (triage_release frees it).  It borrows the store, library and
 * repositories during the call only.  triage_to_json returns a new cJSON
 * tree the caller deletes.
 */
#ifndef DAGDOC_TRIAGE_H
#define DAGDOC_TRIAGE_H

#include <stdint.h>
#include <stdio.h>

#include "dagdoc/analyze.h"
#include "dagdoc/config.h"
#include "dagdoc/gitcorr.h"
#include "dagdoc/pattern.h"
#include "dagdoc/rank.h"
#include "dagdoc/store.h"

struct triage_result {
	struct an_result an;
	struct rk_result rk;
	int failing;             /* still failing, or not running (an.not_running): exit 1 */
	int degraded;            /* quiet failures (an.quiet): tasks that succeed but did not do their
	                          * work; "degraded" when not failing (exit: config's degraded_exit) */
	int64_t newest_ms;       /* logical date of the newest run */
	char *ui_url;            /* link to the failing run in the orchestrator's UI (from the
	                          * source's UI as the last sync stored it), or NULL */
	char *source_kind;       /* "airflow", "prefect", "logs" */
	struct dd_strv unrecognised_evidence;   /* pasted outputs dagdoc could not read: "FILE line N: why" */
	/* Links into the UI for the run x task grid (an.grid), from the same
	 * stored form and base: cell_urls[i] to the newest try's log of
	 * an.grid.cells[i], run_urls[r] to run r; NULL arrays when the source
	 * has no UI, a NULL entry for a task that did not run. */
	char **cell_urls;
	char **run_urls;
};

/* dag_ref: from store_dag_ref.  since_s: window length.  in: the evidence
 * to weigh (rank.h), or NULL; its unrecognised outputs are listed in
 * unrecognised_evidence. */
int triage_dag(struct dd_store *store, int64_t dag_ref, const struct pat_library *lib,
               struct gitcorr_repo **repos, size_t n_repos, int64_t since_s, const struct rk_input *in,
               struct triage_result *out, struct dd_error *err);
void triage_release(struct triage_result *t);

/* Fills t->cell_urls and t->run_urls from a UI's form and base (connector.h:
 * conn_ui_try_link), replacing any; nothing when form is NULL or unknown.
 * triage_dag calls it with what the sync stored. */
void triage_link_grid(struct triage_result *t, const char *form, const char *base);

struct cJSON;
struct cJSON *triage_to_json(const struct triage_result *t, int explain);
/* One quiet failure as JSON: kind, task_id, what, detail, onset, usual, now, upstream_dag and its
 * values per run (the "quiet_failures" of triage_to_json and the report's JSON). */
struct cJSON *triage_quiet_json(const struct quiet_finding *f);
/* The exit status of a diagnosis: 1 failing, degraded_exit when only degraded, else 0. */
int triage_exit_status(const struct triage_result *t, int degraded_exit);

struct triage_style {
	int color;               /* ANSI colours */
	int explain;             /* every evidence weight */
	size_t max_causes;       /* 0: all */
	int width;               /* columns to fold text to; 0: RENDER_WIDTH */
};
void triage_render_text(const struct triage_result *t, const struct triage_style *st, FILE *out);
void triage_render_md(const struct triage_result *t, const struct triage_style *st, FILE *out);

/* One verdict as every renderer shows it (caller frees):
 *   "confirmed: numpy 2.0.0 deployed (pip show, 2026-12-07 03:12, by alice)"   (from the store)
 *   "confirmed: numpy 2.0.0 deployed (pip show, ev.txt line 2)"               (pasted now)
 * explain: "confirmed by pip show (ev.txt line 2: \"Version: 2.0.0\"): numpy 2.0.0 deployed". */
char *triage_verdict_text(const struct rk_verdict *v, int explain);

/* "2026-03-04 02:00" (UTC) into out (>= 20 bytes); "?" for 0. */
void triage_format_minute(int64_t ms, char *out, size_t outlen);

#endif
