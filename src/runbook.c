/*
 * runbook.c - the runbook of a DAG or of a pattern (see runbook.h).
 */
#include "dagdoc/util.h"

#include "dagdoc/runbook.h"

#define LINE_MAX_CHARS 160
#define MAX_CHECKS 5
#define MAX_FIX 3

/* label (padded to width) and one line of text, cut at LINE_MAX_CHARS
 * bytes (on a UTF-8 boundary) with "…". */
static void put_padded(FILE *out, int width, const char *label, const char *text)
{
	size_t n = strlen(text);
	const char *nl = strchr(text, '\n');

	if (nl)
		n = (size_t)(nl - text);
	if (n > LINE_MAX_CHARS) {
		n = LINE_MAX_CHARS;
		while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
			n--;
		fprintf(out, "%-*s %.*s…\n", width, label, (int)n, text);
	} else {
		fprintf(out, "%-*s %.*s\n", width, label, (int)n, text);
	}
}

static void put_line(FILE *out, const char *label, const char *text)
{
	put_padded(out, 8, label, text);
}

static void put_list(FILE *out, const char *title, const struct dd_strv *v, size_t max, int numbered)
{
	if (!v->n)
		return;
	fprintf(out, "%s\n", title);
	for (size_t i = 0; i < v->n && i < max; i++) {
		char label[32];

		if (numbered)
			snprintf(label, sizeof(label), "  %zu.", i + 1);
		else
			snprintf(label, sizeof(label), "  -");
		put_padded(out, 0, label, v->v[i]);
	}
}

void runbook_render_pattern(const struct pat_pattern *p, FILE *out)
{
	char head[256];

	snprintf(head, sizeof(head), "%s — %s", p->id, p->title ? p->title : "");
	fprintf(out, "%s\n", head);
	fprintf(out, "category %s, confidence %.2f (%s:%d)\n", p->category, p->confidence, p->file, p->line);
	put_list(out, "checks (in order)", &p->checks, MAX_CHECKS + 3, 1);
	put_list(out, "fix", &p->fix, MAX_FIX + 2, 0);
	if (!p->checks.n && !p->fix.n)
		fputs("(this pattern has no checks or fix)\n", out);
}

void runbook_render_dag(const struct triage_result *t, FILE *out)
{
	const struct an_result *an = &t->an;
	const struct rk_cause *top = t->rk.n_causes ? &t->rk.causes[0] : NULL;
	struct dd_buf b = DD_BUF_INIT;
	char when[32];

	/* state */
	dd_buf_addf(&b, "%s (%s) — ", an->dag_id, an->source ? an->source : "?");
	if (!an->n_runs) {
		dd_buf_adds(&b, "no runs in the window");
	} else if (t->failing && top && top->stuck) {
		dd_buf_addf(&b, "STUCK: %zu %s not finished; %zu of the last %zu runs failed", an->n_running,
		            DD_PLURAL(an->n_running, "run", "runs"),
		            an->n_failed, an->n_runs);
	} else if (t->failing) {
		int64_t onset = top ? top->first_bad_ms : 0;

		dd_buf_addf(&b, "FAILING: %zu of the last %zu runs failed", an->n_failed, an->n_runs);
		if (onset) {
			triage_format_minute(onset, when, sizeof(when));
			dd_buf_addf(&b, ", since %s UTC", when);
		}
	} else if (an->n_failed || t->rk.n_causes) {
		dd_buf_addf(&b, "recovered: newest run %s; %zu of the last %zu runs failed",
		            dd_state_name(an->runs[an->n_runs - 1].state), an->n_failed, an->n_runs);
	} else if (t->degraded) {
		dd_buf_addf(&b, "DEGRADED: %zu of the last %zu runs succeeded, but %zu quiet failure%s", an->n_success,
		            an->n_runs, an->n_quiet, an->n_quiet == 1 ? "" : "s");
	} else {
		dd_buf_addf(&b, "healthy: %zu of the last %zu runs succeeded", an->n_success, an->n_runs);
	}
	fprintf(out, "%s\n", dd_buf_str(&b));
	dd_buf_reset(&b);
	/* the most severe quiet failure, with the run it started in */
	if (an->n_quiet) {
		const struct quiet_finding *q = &an->quiet[0];

		for (size_t i = 1; i < an->n_quiet; i++)
			if (an->quiet[i].severity > q->severity)
				q = &an->quiet[i];
		dd_buf_addf(&b, "%s in %s: %s", quiet_kind_name(q->kind), q->task_id, q->detail);
		if (q->upstream_dag)
			dd_buf_addf(&b, "; upstream DAG %s", q->upstream_dag);
		if (an->n_quiet > 1)
			dd_buf_addf(&b, " (+%zu more: dagdoc triage %s)", an->n_quiet - 1, an->dag_id);
		put_line(out, "quiet", dd_buf_str(&b));
		dd_buf_reset(&b);
	}
	if (top) {
		const char *run = NULL;

		for (size_t i = 0; i < an->n_groups; i++)
			if (!strcmp(an->groups[i].fingerprint, top->fingerprint))
				run = an->groups[i].last_run;
		dd_buf_addf(&b, "%s (confidence %.2f, %s)", top->summary, top->confidence, rk_kind_name(top->kind));
		put_line(out, "cause", dd_buf_str(&b));
		dd_buf_reset(&b);
		put_line(out, "failure", top->failure);
		for (size_t i = 0; i < top->task_ids.n && i < 3; i++)
			dd_buf_addf(&b, "%s%s", i ? ", " : "", top->task_ids.v[i]);
		if (top->task_ids.n > 3)
			dd_buf_addf(&b, " (+%zu)", top->task_ids.n - 3);
		dd_buf_addf(&b, " in run %s", run ? run : top->first_bad_run ? top->first_bad_run : "?");
		if (top->runs_since_onset)
			dd_buf_addf(&b, " (%zu/%zu runs since onset failed)", top->failed_since_onset, top->runs_since_onset);
		put_line(out, "task", dd_buf_str(&b));
		dd_buf_reset(&b);
		for (size_t i = 0; i < top->n_verdicts; i++) {
			char *v = triage_verdict_text(&top->verdicts[i], 0);

			put_line(out, "evidence", v);
			free(v);
		}
		if (top->n_commits) {
			const struct rk_commit *k = &top->commits[0];

			triage_format_minute(k->commit.time_ms, when, sizeof(when));
			dd_buf_addf(&b, "%.7s \"%s\" (%s)", k->commit.id, k->commit.summary, when);
			put_line(out, "change", dd_buf_str(&b));
			dd_buf_reset(&b);
		}
	} else if (an->n_runs) {
		const struct an_run *last = &an->runs[an->n_runs - 1];

		triage_format_minute(last->logical_ms, when, sizeof(when));
		dd_buf_addf(&b, "%s %s (%s)", when, dd_state_name(last->state), last->run_id);
		put_line(out, "last run", dd_buf_str(&b));
		dd_buf_reset(&b);
	}
	if (t->ui_url)
		put_line(out, "link", t->ui_url);
	else if (t->source_kind && !strcmp(t->source_kind, "logs"))
		put_line(out, "link", "none: source is a log folder, which has no UI");
	else
		put_line(out, "link", "none: the source has no UI URL");
	if (top) {
		put_list(out, "checks (in order)", &top->checks, MAX_CHECKS, 1);
		put_list(out, "fix", &top->fix, MAX_FIX, 0);
	}
	if (t->rk.n_causes > 1) {
		dd_buf_addf(&b, "%zu other %s, next: %s (%.2f); details: dagdoc triage %s", t->rk.n_causes - 1,
		            DD_PLURAL(t->rk.n_causes - 1, "cause", "causes"),
		            t->rk.causes[1].summary, t->rk.causes[1].confidence, an->dag_id);
		put_line(out, "also", dd_buf_str(&b));
	}
	dd_buf_release(&b);
}

