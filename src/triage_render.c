/*
 * triage_render.c - a DAG's diagnosis as text, Markdown and JSON (see
 * triage.h); the layout rule and colours are render.h's.
 */
#include "dagdoc/util.h"

#include <math.h>
#include <cJSON.h>

#include "dagdoc/jsonout.h"
#include "dagdoc/render.h"
#include "dagdoc/triage.h"

/* ---- JSON --------------------------------------------------------------------- */

static cJSON *commit_json(const struct rk_commit *c)
{
	cJSON *o = cJSON_CreateObject(), *files = cJSON_CreateArray(), *rc = cJSON_CreateArray(), *why;

	cJSON_AddStringToObject(o, "id", c->commit.id);
	cJSON_AddStringToObject(o, "summary", c->commit.summary);
	cJSON_AddStringToObject(o, "author", c->commit.author);
	jsonout_time(o, "time", c->commit.time_ms);
	cJSON_AddStringToObject(o, "repo", c->repo ? c->repo : "");
	for (size_t i = 0; i < c->commit.files.n; i++)
		cJSON_AddItemToArray(files, cJSON_CreateString(c->commit.files.v[i]));
	cJSON_AddItemToObject(o, "files", files);
	for (size_t i = 0; i < c->commit.n_req_changes; i++) {
		const struct dd_req_change *ch = &c->commit.req_changes[i];
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "package", ch->package);
		jsonout_str(x, "from", ch->from);
		jsonout_str(x, "to", ch->to);
		cJSON_AddStringToObject(x, "file", ch->file);
		cJSON_AddItemToArray(rc, x);
	}
	cJSON_AddItemToObject(o, "requirement_changes", rc);
	why = jsonout_strv(&c->why);
	cJSON_AddItemToObject(o, "why", why);
	/* how its requirement change is tied to the failure, and what shows each link */
	cJSON_AddItemToObject(o, "links", jsonout_strv(&c->links));
	{
		cJSON *lw = cJSON_CreateArray();

		for (size_t i = 0; i < c->links.n && i < c->link_why.n; i++) {
			cJSON *x = cJSON_CreateObject();

			cJSON_AddStringToObject(x, "link", c->links.v[i]);
			cJSON_AddStringToObject(x, "detail", c->link_why.v[i]);
			cJSON_AddItemToArray(lw, x);
		}
		cJSON_AddItemToObject(o, "link_details", lw);
	}
	cJSON_AddNumberToObject(o, "suspicion", jsonout_round3(c->suspicion));
	return o;
}

static cJSON *cause_json(const struct rk_cause *c, size_t rank, int explain)
{
	cJSON *o = cJSON_CreateObject(), *ent = cJSON_CreateObject(), *onset = cJSON_CreateObject();
	cJSON *commits = cJSON_CreateArray(), *ev = cJSON_CreateArray();

	cJSON_AddNumberToObject(o, "rank", (double)rank);
	cJSON_AddStringToObject(o, "kind", rk_kind_name(c->kind));
	cJSON_AddStringToObject(o, "category", c->category);
	cJSON_AddNumberToObject(o, "confidence", jsonout_round3(c->confidence));
	cJSON_AddStringToObject(o, "summary", c->summary);
	cJSON_AddStringToObject(o, "failure", c->failure);
	cJSON_AddBoolToObject(o, "stuck", c->stuck);
	jsonout_str(o, "pattern", c->pattern);
	cJSON_AddItemToObject(o, "task_ids", jsonout_strv(&c->task_ids));
	cJSON_AddStringToObject(o, "fingerprint", c->fingerprint);
	jsonout_str(onset, "first_bad_run", c->first_bad_run);
	jsonout_time(onset, "first_bad_time", c->first_bad_ms);
	jsonout_time(onset, "first_bad_logical_date", c->first_bad_logical_ms);
	jsonout_str(onset, "last_good_run", c->last_good_run);
	jsonout_time(onset, "last_good_time", c->last_good_ms);
	jsonout_time(onset, "last_good_logical_date", c->last_good_logical_ms);
	if (c->bundle_to) {
		jsonout_str(onset, "last_good_bundle_version", c->bundle_from);
		jsonout_str(onset, "first_bad_bundle_version", c->bundle_to);
	}
	cJSON_AddNumberToObject(onset, "failed_runs", (double)c->failed_runs);
	cJSON_AddNumberToObject(onset, "runs_since_onset", (double)c->runs_since_onset);
	cJSON_AddNumberToObject(onset, "failed_since_onset", (double)c->failed_since_onset);
	cJSON_AddNumberToObject(onset, "tries", (double)c->tries);
	cJSON_AddBoolToObject(onset, "still_failing", c->still_failing);
	cJSON_AddItemToObject(o, "onset", onset);
	for (size_t i = 0; i < c->n_entities; i++)
		cJSON_AddStringToObject(ent, c->entities[i].name, c->entities[i].value);
	cJSON_AddItemToObject(o, "entities", ent);
	for (size_t i = 0; i < c->n_commits; i++)
		cJSON_AddItemToArray(commits, commit_json(&c->commits[i]));
	cJSON_AddItemToObject(o, "commits", commits);
	if (c->outside) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "package", c->outside->package);
		jsonout_str(x, "file", c->outside->file);
		jsonout_str(x, "line", c->outside->text);
		if (c->outside->line)
			cJSON_AddNumberToObject(x, "line_number", c->outside->line);
		jsonout_str(x, "version", c->outside->version);
		cJSON_AddStringToObject(x, "why", c->outside->why);
		cJSON_AddItemToObject(o, "outside_repository", x);
	}
	for (size_t i = 0; i < c->n_evidence; i++) {
		if (explain) {
			cJSON *x = cJSON_CreateObject();

			cJSON_AddStringToObject(x, "text", c->evidence[i].text);
			cJSON_AddNumberToObject(x, "weight", jsonout_round3(c->evidence[i].weight));
			cJSON_AddItemToArray(ev, x);
		} else {
			cJSON_AddItemToArray(ev, cJSON_CreateString(c->evidence[i].text));
		}
	}
	cJSON_AddItemToObject(o, "evidence", ev);
	if (c->n_verdicts) {
		cJSON *vs = cJSON_CreateArray();

		for (size_t i = 0; i < c->n_verdicts; i++) {
			const struct rk_verdict *v = &c->verdicts[i];
			cJSON *x = cJSON_CreateObject();

			cJSON_AddStringToObject(x, "verdict", v->verdict > 0 ? "confirmed" : "refuted");
			cJSON_AddStringToObject(x, "what", v->what);
			cJSON_AddStringToObject(x, "tool", v->tool);
			jsonout_str(x, "source", v->source);
			jsonout_str(x, "line", v->line_text);
			jsonout_str(x, "by", v->user);
			jsonout_time(x, "at", v->at_ms);
			cJSON_AddBoolToObject(x, "stored", v->stored);
			cJSON_AddItemToArray(vs, x);
		}
		cJSON_AddItemToObject(o, "verdicts", vs);
	}
	cJSON_AddStringToObject(o, "established",
				c->confirmed > 0   ? "confirmed"
				: c->confirmed < 0 ? "refuted"
						   : "open");
	if (explain)
		cJSON_AddNumberToObject(o, "score", jsonout_round3(c->score));
	cJSON_AddItemToObject(o, "checks", jsonout_strv(&c->checks));
	cJSON_AddItemToObject(o, "fix", jsonout_strv(&c->fix));
	jsonout_str(o, "excerpt", c->excerpt);
	return o;
}

cJSON *triage_quiet_json(const struct quiet_finding *f)
{
	cJSON *o = cJSON_CreateObject(), *vals = cJSON_CreateArray(), *onset = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", quiet_kind_name(f->kind));
	jsonout_str(o, "task_id", f->task_id);
	jsonout_str(o, "what", f->what);
	jsonout_str(o, "detail", f->detail);
	if (f->onset < f->n_values) {
		jsonout_str(onset, "run_id", f->run_ids[f->onset]);
		jsonout_time(onset, "logical_date", f->run_ms[f->onset]);
	}
	cJSON_AddItemToObject(o, "onset", onset);
	if (isfinite(f->usual))
		cJSON_AddNumberToObject(o, "usual", f->usual);
	else
		cJSON_AddNullToObject(o, "usual");
	if (isfinite(f->now))
		cJSON_AddNumberToObject(o, "now", f->now);
	else
		cJSON_AddNullToObject(o, "now");
	jsonout_str(o, "upstream_dag", f->upstream_dag);
	cJSON_AddNumberToObject(o, "severity", jsonout_round3(f->severity));
	for (size_t i = 0; i < f->n_values; i++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "run_id", f->run_ids[i]);
		jsonout_time(x, "logical_date", f->run_ms[i]);
		if (isfinite(f->values[i]))
			cJSON_AddNumberToObject(x, "value", f->values[i]);
		else
			cJSON_AddNullToObject(x, "value");
		cJSON_AddItemToArray(vals, x);
	}
	cJSON_AddItemToObject(o, "values", vals);
	return o;
}

cJSON *triage_to_json(const struct triage_result *t, int explain)
{
	const struct an_result *an = &t->an;
	cJSON *o = cJSON_CreateObject(), *w = cJSON_CreateObject(), *s = cJSON_CreateObject();
	cJSON *causes = cJSON_CreateArray(), *stalls = cJSON_CreateArray(), *runs = cJSON_CreateArray();

	jsonout_str(o, "dag_id", an->dag_id);
	jsonout_str(o, "source", an->source);
	jsonout_str(o, "fileloc", an->fileloc);
	jsonout_time(w, "from", an->from_ms);
	jsonout_time(w, "to", an->to_ms);
	cJSON_AddItemToObject(o, "window", w);
	cJSON_AddNumberToObject(s, "runs", (double)an->n_runs);
	cJSON_AddNumberToObject(s, "failed", (double)an->n_failed);
	cJSON_AddNumberToObject(s, "succeeded", (double)an->n_success);
	cJSON_AddNumberToObject(s, "running", (double)an->n_running);
	cJSON_AddNumberToObject(s, "failure_groups", (double)an->n_groups);
	cJSON_AddBoolToObject(s, "failing", t->failing);
	cJSON_AddBoolToObject(s, "paused", an->is_paused);
	cJSON_AddBoolToObject(s, "not_running", t->an.not_running);
	if (t->an.not_running) {
		jsonout_time(s, "last_scheduled_run", an->last_scheduled_ms);
		cJSON_AddNumberToObject(s, "cadence_seconds", (double)(an->cadence_ms / 1000));
	}
	cJSON_AddBoolToObject(s, "degraded", t->degraded);
	cJSON_AddStringToObject(s, "status", t->failing ? "failing" : t->degraded ? "degraded" : "healthy");
	cJSON_AddNumberToObject(s, "unlogged_failed_tries", (double)an->n_unlogged);
	cJSON_AddItemToObject(o, "summary", s);
	for (size_t i = 0; i < t->rk.n_causes; i++)
		cJSON_AddItemToArray(causes, cause_json(&t->rk.causes[i], i + 1, explain));
	cJSON_AddItemToObject(o, "causes", causes);
	for (size_t i = 0; i < an->n_stalls; i++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "kind", an_stall_kind_name(an->stalls[i].kind));
		jsonout_str(x, "task_id", an->stalls[i].task_id);
		jsonout_str(x, "run_id", an->stalls[i].run_id);
		jsonout_str(x, "entity", an->stalls[i].entity);
		cJSON_AddStringToObject(x, "detail", an->stalls[i].detail);
		cJSON_AddItemToArray(stalls, x);
	}
	cJSON_AddItemToObject(o, "stalls", stalls);
	{
		cJSON *q = cJSON_CreateArray();

		for (size_t i = 0; i < an->n_quiet; i++)
			cJSON_AddItemToArray(q, triage_quiet_json(&an->quiet[i]));
		cJSON_AddItemToObject(o, "quiet_failures", q);
	}
	for (size_t i = an->n_runs > 10 ? an->n_runs - 10 : 0; i < an->n_runs; i++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "run_id", an->runs[i].run_id);
		cJSON_AddStringToObject(x, "state", dd_state_name(an->runs[i].state));
		jsonout_time(x, "logical_date", an->runs[i].logical_ms);
		cJSON_AddItemToArray(runs, x);
	}
	cJSON_AddItemToObject(o, "last_runs", runs);
	cJSON_AddItemToObject(o, "notes", jsonout_strv(&t->rk.notes));
	cJSON_AddItemToObject(o, "also_seen", jsonout_strv(&t->rk.also_seen));
	cJSON_AddItemToObject(o, "unrecognised_evidence", jsonout_strv(&t->unrecognised_evidence));
	cJSON_AddItemToObject(o, "unused_evidence", jsonout_strv(&t->rk.unused_evidence));
	jsonout_str(o, "ui_url", t->ui_url);
	return o;
}

/* ---- text ----------------------------------------------------------------------- */

#define C(st, code) render_color((st)->color, code)

static size_t good_before_first_failure(const struct an_result *an, int64_t first_ms)
{
	size_t n = 0;

	for (size_t i = 0; i < an->n_runs && an->runs[i].logical_ms < first_ms; i++)
		if (an->runs[i].state == DD_STATE_SUCCESS)
			n++;
	return n;
}

static void headline(const struct triage_result *t, const struct triage_style *st, FILE *out, const char *md)
{
	const struct an_result *an = &t->an;
	char when[32], iso[40];
	int64_t first = 0, first_ran = 0;

	for (size_t i = 0; i < an->n_runs; i++)
		if (dd_state_is_failure(an->runs[i].state)) {
			first = an->runs[i].logical_ms;
			first_ran = an->runs[i].start_ms;
			break;
		}
	fprintf(out, "%s%s%s%s%s — ", md, C(st, RC_BOLD), an->dag_id, C(st, RC_RESET), an->is_paused ? " (paused)" : "");
	if (t->an.not_running) {
		char every[24];

		triage_format_minute(an->last_scheduled_ms, when, sizeof(when));
		dd_format_duration((double)an->cadence_ms / 1000.0, every, sizeof(every));
		fprintf(out, "%sNOT RUNNING%s: no scheduled run since the one of %s (they came every %s), and the DAG "
		        "is not paused: is the scheduler making its runs? (a scheduler down, an import error, "
		        "max_active_runs reached, a changed schedule)\n%s", C(st, RC_RED), C(st, RC_RESET), when, every,
		        md[0] ? "\n" : "");
		if (!an->n_runs)
			return;
		fprintf(out, "%s%s%s%s — ", md, C(st, RC_BOLD), an->dag_id, C(st, RC_RESET));
	}
	if (!an->n_runs) {
		fprintf(out, "no runs in the window%s\n", an->is_paused ? "; the DAG is paused" : "");
		return;
	}
	if (!an->n_failed && !t->failing) {
		if (t->degraded)
			fprintf(out, "%sdegraded%s: %zu of the last %zu runs succeeded, but %zu quiet failure%s",
			        C(st, RC_YELLOW), C(st, RC_RESET), an->n_success, an->n_runs, an->n_quiet,
			        an->n_quiet == 1 ? "" : "s");
		else
			fprintf(out, "%shealthy%s: %zu of the last %zu runs succeeded", C(st, RC_GREEN),
			        C(st, RC_RESET), an->n_success, an->n_runs);
		if (an->n_groups)
			fprintf(out, " (%zu failure %s recovered on retry)", an->n_groups,
			        DD_PLURAL(an->n_groups, "kind", "kinds"));
		fputc('\n', out);
		return;
	}
	/* when it ran, and the logical date of the run beside it */
	triage_format_minute(first_ran ? first_ran : first, when, sizeof(when));
	dd_format_time(first, 0, iso, sizeof(iso));
	fprintf(out, "%s%zu of the last %zu runs failed%s", t->failing ? C(st, RC_RED) : C(st, RC_YELLOW),
	        an->n_failed, an->n_runs, C(st, RC_RESET));
	if (an->n_running)
		fprintf(out, ", %zu not finished", an->n_running);
	if (first)
		fprintf(out, " (first failure %s UTC, run of %.5s, after %zu good runs)", when, iso + 5,
		        good_before_first_failure(an, first));
	if (!t->failing)
		fprintf(out, "; recovered since");
	fputc('\n', out);
}



static void cause_text(const struct rk_cause *c, size_t rank, const struct triage_style *st, FILE *out)
{
	char line[200], a[32], b[32];
	const char *ind = "   ";
	struct dd_buf buf = DD_BUF_INIT;

	snprintf(line, sizeof(line), "%zu. %s", rank, c->summary);
	fprintf(out, "%s%-68s%s %sconfidence %.2f%s\n", C(st, RC_BOLD), line, C(st, RC_RESET),
	        C(st, RC_DIM), c->confidence, C(st, RC_RESET));
	render_field(out, ind, "failure", c->failure, 8, st->width);
	for (size_t i = 0; i < c->task_ids.n; i++)
		dd_buf_addf(&buf, "%s%s", i ? ", " : "", c->task_ids.v[i]);
	triage_format_minute(c->first_bad_ms, a, sizeof(a));
	if (c->stuck) {
		dd_buf_addf(&buf, "%snot finished in run %s (%s)", c->task_ids.n ? ": " : "",
		            c->first_bad_run ? c->first_bad_run : "?", a);
	} else {
		dd_buf_addf(&buf, ": %zu failed %s, %zu failed %s%s; onset %s", c->failed_runs,
		            DD_PLURAL(c->failed_runs, "run", "runs"), c->tries, DD_PLURAL(c->tries, "try", "tries"),
		            !c->failed_runs && c->tries ? ", all recovered on retry" : "", a);
		triage_format_minute(c->first_bad_logical_ms, b, sizeof(b));
		if (c->first_bad_run)
			dd_buf_addf(&buf, " (%s, logical date %s)", c->first_bad_run, b);
		if (c->runs_since_onset)
			dd_buf_addf(&buf, ", %zu/%zu runs since", c->failed_since_onset, c->runs_since_onset);
		dd_buf_adds(&buf, c->still_failing ? "; still failing" : "; not failing now");
	}
	render_field(out, ind, "task", dd_buf_str(&buf), 8, st->width);
	dd_buf_reset(&buf);
	if (c->last_good_run) {
		triage_format_minute(c->last_good_ms, a, sizeof(a));
		triage_format_minute(c->last_good_logical_ms, b, sizeof(b));
		dd_buf_addf(&buf, "%s (%s, logical date %s)", a, c->last_good_run, b);
		render_field(out, ind, "last good", dd_buf_str(&buf), 8, st->width);
		dd_buf_reset(&buf);
	}
	if (c->bundle_to) {
		dd_buf_addf(&buf, "the commits between bundle versions %.7s (last good run) and %.7s (first bad run)",
		            c->bundle_from, c->bundle_to);
		render_field(out, ind, "window", dd_buf_str(&buf), 8, st->width);
		dd_buf_reset(&buf);
	}
	if (c->outside) {
		dd_buf_addf(&buf, "none in the repository: %s", c->outside->why);
		render_field(out, ind, "change", dd_buf_str(&buf), 8, st->width);
		dd_buf_reset(&buf);
	}
	for (size_t i = 0; i < c->n_commits && i < 3; i++) {
		const struct rk_commit *k = &c->commits[i];
		char when[32];
		const char *lt = strchr(k->commit.author, '<');
		int alen = lt ? (int)(lt - k->commit.author - (lt > k->commit.author && lt[-1] == ' ')) : (int)strlen(k->commit.author);

		triage_format_minute(k->commit.time_ms, when, sizeof(when));
		dd_buf_addf(&buf, "%.7s \"%s\" (%.*s, %s)", k->commit.id, k->commit.summary, alen, k->commit.author, when);
		render_field(out, ind, i ? "" : "change", dd_buf_str(&buf), 8, st->width);
		dd_buf_reset(&buf);
		for (size_t w = 0; w < k->why.n; w++)
			render_field(out, ind, "", k->why.v[w], 8, st->width);
	}
	/* which link tied the failure to the change */
	for (size_t i = 0; st->explain && c->n_commits && i < c->commits[0].links.n && i < c->commits[0].link_why.n; i++) {
		dd_buf_addf(&buf, "%s: %s", c->commits[0].links.v[i], c->commits[0].link_why.v[i]);
		render_field(out, ind, "link", dd_buf_str(&buf), 8, st->width);
		dd_buf_reset(&buf);
	}
	for (size_t i = 0; i < c->n_verdicts; i++) {
		char *v = triage_verdict_text(&c->verdicts[i], st->explain);

		render_field(out, ind, i ? "" : "evidence", v, 8, st->width);
		free(v);
	}
	for (size_t i = 0; i < c->checks.n; i++)
		render_field(out, ind, i ? "" : "check", c->checks.v[i], 8, st->width);
	for (size_t i = 0; i < c->fix.n; i++)
		render_field(out, ind, i ? "" : "fix", c->fix.v[i], 8, st->width);
	if (st->explain) {
		for (size_t i = 0; i < c->n_evidence; i++) {
			dd_buf_addf(&buf, "%+.2f  %s", c->evidence[i].weight, c->evidence[i].text);
			render_field(out, ind, i ? "" : "why", dd_buf_str(&buf), 8, st->width);
			dd_buf_reset(&buf);
		}
		dd_buf_addf(&buf, "= %.2f  -> confidence 1 - e^-%.2f = %.2f", c->score, c->score, c->confidence);
		render_field(out, ind, "", dd_buf_str(&buf), 8, st->width);
		dd_buf_reset(&buf);
	}
	dd_buf_release(&buf);
}

/* The quiet failures: kind, task and what it logged, one line each (folded by the caller's width). */

static void quiet_text(const struct an_result *an, FILE *out, const char *head, const char *item, int md,
                       int explain)
{
	if (!an->n_quiet)
		return;
	fputs(head, out);
	for (size_t i = 0; i < an->n_quiet; i++) {
		const struct quiet_finding *f = &an->quiet[i];

		if (md) {
			fprintf(out, "%s`%s` in `%s`: ", item, quiet_kind_name(f->kind), f->task_id);
			render_md_text(out, f->detail, 0);
		} else {
			fprintf(out, "%s%-18s %s: %s", item, quiet_kind_name(f->kind), f->task_id, f->detail);
		}
		if (f->upstream_dag)
			fprintf(out, md ? "; upstream DAG `%s`" : "; upstream DAG %s", f->upstream_dag);
		fputc('\n', out);
		if (explain && !md && f->n_values) {
			/* the tracked value per run, oldest first; '|' before the onset */
			fprintf(out, "%s%-18s ", item, "   values");
			for (size_t k = 0; k < f->n_values; k++) {
				char v[40];

				quiet_format_value(f->values[k], v, sizeof(v));
				fprintf(out, "%s%s", k == f->onset ? " | " : k ? " " : "", v);
			}
			fputc('\n', out);
		}
	}
}

char *triage_verdict_text(const struct rk_verdict *v, int explain)
{
	const char *word = v->verdict > 0 ? "confirmed" : "refuted";
	char when[32];

	if (explain && v->line_text)
		return dd_xasprintf("%s by %s (%s: \"%s\"): %s", word, v->tool, v->source ? v->source : "the store",
		                    v->line_text, v->what);
	if (v->stored) {
		triage_format_minute(v->at_ms, when, sizeof(when));
		return dd_xasprintf("%s: %s (%s, %s%s%s)", word, v->what, v->tool, when, v->user ? ", by " : "",
		                    v->user ? v->user : "");
	}
	return dd_xasprintf("%s: %s (%s%s%s)", word, v->what, v->tool, v->source ? ", " : "",
			    v->source ? v->source : "");
}

/* Pasted outputs that were not read, or that bore on no cause: never silently dropped. */
static void evidence_left_out(const struct triage_result *t, FILE *out, const char *prefix)
{
	for (size_t i = 0; i < t->unrecognised_evidence.n; i++)
		fprintf(out, "\n%sunrecognised evidence: %s\n", prefix, t->unrecognised_evidence.v[i]);
	for (size_t i = 0; i < t->rk.unused_evidence.n; i++)
		fprintf(out, "\n%sunused evidence: %s\n", prefix, t->rk.unused_evidence.v[i]);
}

static void last_runs(const struct an_result *an, FILE *out, const char *prefix)
{
	size_t from = an->n_runs > 5 ? an->n_runs - 5 : 0;

	for (size_t i = an->n_runs; i-- > from; ) {
		char when[32];

		triage_format_minute(an->runs[i].logical_ms, when, sizeof(when));
		fprintf(out, "%s%s  %-8s %s\n", prefix, when, dd_state_name(an->runs[i].state), an->runs[i].run_id);
	}
}

void triage_render_text(const struct triage_result *t, const struct triage_style *st, FILE *out)
{
	size_t max = st->max_causes ? st->max_causes : t->rk.n_causes;

	headline(t, st, out, "");
	quiet_text(&t->an, out, "\nquiet failures (the task succeeded)\n", "   ", 0, st->explain);
	if (!t->rk.n_causes) {
		fputs("\nlast runs\n", out);
		last_runs(&t->an, out, "   ");
	}
	for (size_t i = 0; i < t->rk.n_causes && i < max; i++) {
		fputc('\n', out);
		cause_text(&t->rk.causes[i], i + 1, st, out);
	}
	if (t->an.n_stalls || t->rk.also_seen.n) {
		fputs("\nalso seen\n", out);
		for (size_t i = 0; i < t->an.n_stalls; i++)
			fprintf(out, "   %-18s %s\n", an_stall_kind_name(t->an.stalls[i].kind), t->an.stalls[i].detail);
		for (size_t i = 0; i < t->rk.also_seen.n; i++)
			fprintf(out, "   %-18s %s\n", "failure", t->rk.also_seen.v[i]);
	}
	evidence_left_out(t, out, "");
	for (size_t i = 0; i < t->rk.notes.n; i++)
		fprintf(out, "\nnote: %s\n", t->rk.notes.v[i]);
	if (t->ui_url)
		fprintf(out, "\n%s\n", t->ui_url);
}

/* ---- Markdown --------------------------------------------------------------------- */

/* Writes s with the characters Markdown would interpret escaped. */
void triage_render_md(const struct triage_result *t, const struct triage_style *st, FILE *out)
{
	struct triage_style plain = *st;
	size_t max = st->max_causes ? st->max_causes : t->rk.n_causes;

	plain.color = 0;
	headline(t, &plain, out, "### ");
	quiet_text(&t->an, out, "\n**Quiet failures** (the task succeeded)\n\n", "- ", 1, 0);
	for (size_t i = 0; i < t->rk.n_causes && i < max; i++) {
		const struct rk_cause *c = &t->rk.causes[i];
		char a[32];

		fprintf(out, "\n**%zu. ", i + 1);
		render_md_text(out, c->summary, 0);
		fprintf(out, "** — confidence %.2f, `%s`\n\n", c->confidence, rk_kind_name(c->kind));
		fputs("- failure: ", out);
		render_md_code(out, c->failure, 0);
		fputs("\n- tasks: ", out);
		for (size_t k = 0; k < c->task_ids.n; k++) {
			fputs(k ? ", " : "", out);
			render_md_code(out, c->task_ids.v[k], 0);
		}
		triage_format_minute(c->first_bad_ms, a, sizeof(a));
		if (c->stuck)
			fprintf(out, "; not finished in the run of %s\n", a);
		else
			fprintf(out, "; %zu failed %s since %s%s\n", c->failed_runs, DD_PLURAL(c->failed_runs, "run", "runs"), a, c->still_failing ? ", still failing" : "");
		if (c->outside) {
			fputs("- change: none in the repository: ", out);
			render_md_text(out, c->outside->why, 0);
			fputc('\n', out);
		}
		for (size_t k = 0; k < c->n_commits && k < 3; k++) {
			fprintf(out, "- change: `%.7s` ", c->commits[k].commit.id);
			render_md_text(out, c->commits[k].commit.summary, 0);
			for (size_t w = 0; w < c->commits[k].why.n; w++) {
				fputs(" — ", out);
				render_md_text(out, c->commits[k].why.v[w], 0);
			}
			fputc('\n', out);
		}
		for (size_t k = 0; st->explain && c->n_commits && k < c->commits[0].links.n && k < c->commits[0].link_why.n; k++) {
			fprintf(out, "- link %s: ", c->commits[0].links.v[k]);
			render_md_text(out, c->commits[0].link_why.v[k], 0);
			fputc('\n', out);
		}
		for (size_t k = 0; k < c->n_verdicts; k++) {
			char *v = triage_verdict_text(&c->verdicts[k], st->explain);

			fputs("- evidence: ", out);
			render_md_text(out, v, 0);
			fputc('\n', out);
			free(v);
		}
		for (size_t k = 0; k < c->checks.n; k++) {
			fputs("- check: ", out);
			render_md_code(out, c->checks.v[k], 0);
			fputc('\n', out);
		}
		for (size_t k = 0; k < c->fix.n; k++) {
			fputs("- fix: ", out);
			render_md_text(out, c->fix.v[k], 0);
			fputc('\n', out);
		}
		if (st->explain)
			for (size_t k = 0; k < c->n_evidence; k++) {
				fprintf(out, "- why %+.2f: ", c->evidence[k].weight);
				render_md_text(out, c->evidence[k].text, 0);
				fputc('\n', out);
			}
	}
	if (!t->rk.n_causes) {
		fputs("\n```\n", out);
		last_runs(&t->an, out, "");
		fputs("```\n", out);
	}
	evidence_left_out(t, out, "> ");
}
