/*
 * report_webhook.c - what `report --post` sends (see report.h): the short
 * summary a Slack-compatible incoming webhook receives, Slack Block Kit,
 * the generic JSON object and PagerDuty Events API v2 events.
 */
#include "dagdoc/util.h"

#include <cJSON.h>

#include "dagdoc/http.h"
#include "dagdoc/jsonout.h"
#include "dagdoc/report.h"
#include "report_impl.h"

/* ---- webhook ------------------------------------------------------------------------------ */

static void slack_escape(struct dd_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '&')
			dd_buf_adds(b, "&amp;");
		else if (*s == '<')
			dd_buf_adds(b, "&lt;");
		else if (*s == '>')
			dd_buf_adds(b, "&gt;");
		else if ((unsigned char)*s >= 0x20 || *s == '\n')
			dd_buf_addch(b, *s);
	}
}

#define WEBHOOK_MAX_DAGS 15

/* first, then the five most flaky tasks as DAG.task (score); nothing when none. */
static void flaky_names(struct dd_buf *b, const struct report *r, const char *first)
{
	for (size_t i = 0; i < r->n_flaky && i < 5; i++) {
		dd_buf_adds(b, i ? ", " : first);
		slack_escape(b, r->dags[r->flaky[i].dag].dag_id);
		dd_buf_addch(b, '.');
		slack_escape(b, r->flaky[i].task_id);
		dd_buf_addf(b, " (%.2f)", r->flaky[i].score);
	}
}

char *report_webhook_text(const struct report *r)
{
	struct dd_buf b = DD_BUF_INIT;
	char made[32];
	size_t rec = 0, nnew = report_count_new(r, &rec), shown = 0, not_healthy = 0;

	triage_format_minute(r->made_ms, made, sizeof(made));
	dd_buf_addf(&b, "*dagdoc report* %s UTC, last ", made);
	slack_escape(&b, r->since);
	dd_buf_addf(&b, ": %zu DAG%s ran: %zu failing, %zu recovered, %zu healthy; failures: %zu new, %zu recurring",
	            r->n_dags, r->n_dags == 1 ? "" : "s", report_count(r, REPORT_FAILING),
	            report_count(r, REPORT_RECOVERED), report_count(r, REPORT_HEALTHY), nnew, rec);
	for (size_t i = 0; i < r->n_dags; i++) {
		const struct report_dag *d = &r->dags[i];
		size_t k = 0;
		const struct rk_cause *c = report_dag_top(d, &k);

		if (d->status == REPORT_HEALTHY)
			continue;
		if (not_healthy++ >= WEBHOOK_MAX_DAGS)
			continue;
		shown++;
		dd_buf_adds(&b, "\n• *");
		slack_escape(&b, d->dag_id);
		dd_buf_adds(&b, "* (");
		slack_escape(&b, d->source);
		dd_buf_addf(&b, ") %s", report_status_name(d->status));
		if (c) {
			dd_buf_addf(&b, ", %s: ", d->marks[k].is_new ? "*new*" : "recurring");
			slack_escape(&b, c->summary);
			dd_buf_addf(&b, " (confidence %.2f)", c->confidence);
			if (c->task_ids.n) {
				dd_buf_adds(&b, ", task ");
				slack_escape(&b, c->task_ids.v[0]);
			}
		}
	}
	if (not_healthy > shown)
		dd_buf_addf(&b, "\n… and %zu more", not_healthy - shown);
	if (report_count_degraded(r)) {
		size_t n = 0;

		dd_buf_adds(&b, "\nQuiet failures:");
		for (size_t i = 0; i < r->n_dags; i++)
			for (size_t k = 0; k < r->dags[i].triage.an.n_quiet; k++) {
				const struct quiet_finding *q = &r->dags[i].triage.an.quiet[k];

				if (n++ >= 5)
					continue;
				dd_buf_adds(&b, n > 1 ? ", " : " ");
				slack_escape(&b, r->dags[i].dag_id);
				dd_buf_addch(&b, '.');
				slack_escape(&b, q->task_id);
				dd_buf_addf(&b, " (%s)", quiet_kind_name(q->kind));
			}
		if (n > 5)
			dd_buf_addf(&b, " … and %zu more", n - 5);
	}
	flaky_names(&b, r, "\nFlaky: ");
	for (size_t i = 0; i < r->n_sources; i++)
		if (r->sources[i].error) {
			dd_buf_adds(&b, "\nSource ");
			slack_escape(&b, r->sources[i].name);
			dd_buf_adds(&b, " could not be read: ");
			slack_escape(&b, r->sources[i].error);
		}
	return dd_buf_detach(&b);
}

char *report_webhook_payload(const struct report *r)
{
	char *text = report_webhook_text(r);
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "text", text);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(text);
	return s;
}

/* ---- shared by the formats ---------------------------------------------------------- */

/* Cuts b to at most max bytes on a character boundary, ending in "…" when
 * cut; never inside an "&amp;"-style entity of escaped mrkdwn. */
static void cut_text(struct dd_buf *b, size_t max)
{
	static const char ell[] = "\xe2\x80\xa6";
	size_t n;

	if (b->len <= max)
		return;
	n = max - (sizeof(ell) - 1);
	while (n > 0 && ((unsigned char)b->data[n] & 0xc0) == 0x80)
		n--;
	for (size_t k = n; k > 0 && n - k < 6; k--)
		if (b->data[k - 1] == ';')
			break;
		else if (b->data[k - 1] == '&') {
			n = k - 1;
			break;
		}
	b->len = n;
	b->data[n] = '\0';
	dd_buf_adds(b, ell);
}

static char *json_done(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	if (!s)
		dd_die_oom();
	return s;
}

/* The report's section for d: report_url#dag-SOURCE-DAG (the HTML report's
 * anchor, percent-encoded), or NULL without a report URL. */
static char *dag_report_link(const struct report_post_opts *o, const struct report_dag *d)
{
	struct dd_buf b = DD_BUF_INIT;
	char *id;

	if (!o->report_url || !*o->report_url)
		return NULL;
	id = dd_xasprintf("dag-%s-%s", d->source ? d->source : "", d->dag_id);
	dd_buf_addf(&b, "%.*s#", (int)strcspn(o->report_url, "#"), o->report_url);
	http_buf_add_escaped(&b, id);
	free(id);
	return dd_buf_detach(&b);
}

static const char *ui_name(const struct report_dag *d)
{
	const char *k = d->triage.source_kind;

	return k && !strcmp(k, "prefect") ? "Prefect" : k && !strcmp(k, "airflow") ? "Airflow" : "the orchestrator";
}

static void summary_line(struct dd_buf *b, const struct report *r)
{
	size_t rec = 0, nnew = report_count_new(r, &rec);

	dd_buf_addf(b, "%zu DAG%s ran: %zu failing, %zu recovered, %zu healthy; failures: %zu new, %zu recurring",
	            r->n_dags, r->n_dags == 1 ? "" : "s", report_count(r, REPORT_FAILING),
	            report_count(r, REPORT_RECOVERED), report_count(r, REPORT_HEALTHY), nnew, rec);
}

/* ---- Slack Block Kit ------------------------------------------------------------------ */

#define BLOCKS_HEADER_MAX 150   /* a header's plain_text, in characters */
#define BLOCKS_TEXT_MAX 3000    /* a section's or context element's mrkdwn text */
#define BLOCKS_MAX 50           /* blocks in one message */
#define BLOCKS_MAX_DAGS 40      /* a section each; the rest in one context line */

/* <url|text> with the URL's & < > escaped and | kept out of it. */
static void slack_link(struct dd_buf *b, const char *url, const char *text)
{
	dd_buf_addch(b, '<');
	for (const char *p = url; *p; p++)
		if (*p == '|')
			dd_buf_adds(b, "%7C");
		else if (*p != ' ')
			slack_escape(b, (char[]){ *p, 0 });
	dd_buf_addch(b, '|');
	slack_escape(b, text);
	dd_buf_addch(b, '>');
}

static cJSON *mrkdwn(struct dd_buf *b)
{
	cJSON *t = cJSON_CreateObject();

	cut_text(b, BLOCKS_TEXT_MAX);
	cJSON_AddStringToObject(t, "type", "mrkdwn");
	cJSON_AddStringToObject(t, "text", dd_buf_str(b));
	dd_buf_reset(b);
	return t;
}

static void add_section(cJSON *blocks, struct dd_buf *b)
{
	cJSON *x = cJSON_CreateObject();

	cJSON_AddStringToObject(x, "type", "section");
	cJSON_AddItemToObject(x, "text", mrkdwn(b));
	cJSON_AddItemToArray(blocks, x);
}

static void add_context(cJSON *blocks, struct dd_buf *b)
{
	cJSON *x = cJSON_CreateObject(), *el = cJSON_CreateArray();

	cJSON_AddStringToObject(x, "type", "context");
	cJSON_AddItemToArray(el, mrkdwn(b));
	cJSON_AddItemToObject(x, "elements", el);
	cJSON_AddItemToArray(blocks, x);
}

static void dag_section(struct dd_buf *b, const struct report_dag *d, const struct report_post_opts *o)
{
	size_t k = 0;
	const struct rk_cause *c = report_dag_top(d, &k);
	char *rep = dag_report_link(o, d);

	dd_buf_adds(b, "*");
	slack_escape(b, d->dag_id);
	dd_buf_adds(b, "* (");
	slack_escape(b, d->source);
	dd_buf_adds(b, ") failing");
	if (c) {
		dd_buf_addf(b, ", %s\n", d->marks[k].is_new ? "*new*" : "recurring");
		slack_escape(b, c->summary);
		dd_buf_addf(b, " (confidence %.2f)", c->confidence);
		if (c->task_ids.n) {
			dd_buf_adds(b, "\ntask ");
			slack_escape(b, c->task_ids.v[0]);
		}
		if (c->failure) {
			struct dd_buf f = DD_BUF_INIT;

			slack_escape(&f, c->failure);
			cut_text(&f, 600);
			dd_buf_addf(b, "%s%s", c->task_ids.n ? ": " : "\n", dd_buf_str(&f));
			dd_buf_release(&f);
		}
	}
	if (d->triage.ui_url || rep) {
		dd_buf_addch(b, '\n');
		if (d->triage.ui_url) {
			char *label = dd_xasprintf("Open in %s", ui_name(d));

			slack_link(b, d->triage.ui_url, label);
			free(label);
		}
		if (rep) {
			dd_buf_adds(b, d->triage.ui_url ? " · " : "");
			slack_link(b, rep, "In the report");
		}
	}
	free(rep);
}

/* what, then the DAGs of status st after the first skip, comma-separated; nothing when none. */
static void names_line(struct dd_buf *b, const struct report *r, enum report_status st, size_t skip,
                       const char *what)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_dags; i++) {
		if (r->dags[i].status != st || n++ < skip)
			continue;
		dd_buf_adds(b, n == skip + 1 ? what : ", ");
		slack_escape(b, r->dags[i].dag_id);
	}
}

static char *blocks_payload(const struct report *r, const struct report_post_opts *o)
{
	cJSON *msg = cJSON_CreateObject(), *blocks = cJSON_CreateArray(), *x;
	struct dd_buf b = DD_BUF_INIT;
	char made[32];
	size_t failing = report_count(r, REPORT_FAILING), shown = 0;

	triage_format_minute(r->made_ms, made, sizeof(made));
	/* the fallback text of notifications: the summary line */
	dd_buf_adds(&b, "dagdoc report: ");
	summary_line(&b, r);
	cJSON_AddStringToObject(msg, "text", dd_buf_str(&b));
	dd_buf_reset(&b);

	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "type", "header");
	dd_buf_addf(&b, "dagdoc: %zu of %zu DAG%s failing", failing, r->n_dags, r->n_dags == 1 ? "" : "s");
	cut_text(&b, BLOCKS_HEADER_MAX);
	{
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "type", "plain_text");
		cJSON_AddStringToObject(t, "text", dd_buf_str(&b));
		cJSON_AddItemToObject(x, "text", t);
	}
	dd_buf_reset(&b);
	cJSON_AddItemToArray(blocks, x);

	dd_buf_addf(&b, "*%s UTC*, last ", made);
	slack_escape(&b, r->since);
	dd_buf_adds(&b, ": ");
	summary_line(&b, r);
	if (o->report_url && *o->report_url) {
		dd_buf_adds(&b, "\n");
		slack_link(&b, o->report_url, "The report");
	}
	add_section(blocks, &b);
	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "type", "divider");
	cJSON_AddItemToArray(blocks, x);

	for (size_t i = 0; i < r->n_dags && shown < BLOCKS_MAX_DAGS; i++)
		if (r->dags[i].status == REPORT_FAILING) {
			dag_section(&b, &r->dags[i], o);
			add_section(blocks, &b);
			shown++;
		}
	if (failing > shown) {
		dd_buf_addf(&b, "… and %zu more failing", failing - shown);
		names_line(&b, r, REPORT_FAILING, shown, ": ");
		add_context(blocks, &b);
	}
	names_line(&b, r, REPORT_RECOVERED, 0, "Recovered: ");
	if (b.len)
		add_context(blocks, &b);
	flaky_names(&b, r, "Flaky: ");
	if (b.len)
		add_context(blocks, &b);
	for (size_t i = 0; i < r->n_sources; i++)
		if (r->sources[i].error) {
			dd_buf_adds(&b, b.len ? "\nSource " : "Source ");
			slack_escape(&b, r->sources[i].name);
			dd_buf_adds(&b, " could not be read: ");
			slack_escape(&b, r->sources[i].error);
		}
	if (b.len)
		add_context(blocks, &b);
	dd_buf_release(&b);
	/* by construction: 3 + BLOCKS_MAX_DAGS + 4 */
	_Static_assert(3 + BLOCKS_MAX_DAGS + 4 <= BLOCKS_MAX, "a message holds at most 50 blocks");
	cJSON_AddItemToObject(msg, "blocks", blocks);
	return json_done(msg);
}

/* ---- the generic JSON object ---------------------------------------------------------- */

static char *json_payload(const struct report *r, const struct report_post_opts *o)
{
	cJSON *j = cJSON_CreateObject(), *meta = cJSON_CreateObject(), *sum = cJSON_CreateObject();
	cJSON *dags = cJSON_CreateArray(), *fixed = cJSON_CreateArray(), *srcs = cJSON_CreateArray();
	char date[32];

	dd_format_time(report_date_start(r->made_ms), 0, date, sizeof(date));
	date[10] = '\0';
	cJSON_AddStringToObject(j, "dagdoc", "report");
	jsonout_schema_version(j);
	report_json_head(r, meta, sum);
	cJSON_AddStringToObject(meta, "date", date);
	jsonout_str(meta, "url", o->report_url && *o->report_url ? o->report_url : NULL);
	cJSON_AddItemToObject(j, "report", meta);
	cJSON_AddNumberToObject(sum, "fixed", (double)r->n_fixed);
	cJSON_AddItemToObject(j, "summary", sum);
	for (size_t i = 0; i < r->n_dags; i++) {
		const struct report_dag *d = &r->dags[i];
		size_t k = 0;
		const struct rk_cause *c = report_dag_top(d, &k);
		cJSON *x, *links, *tasks;
		char *rep;

		if (d->status == REPORT_HEALTHY)
			continue;
		x = cJSON_CreateObject();
		links = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "source", d->source);
		cJSON_AddStringToObject(x, "dag_id", d->dag_id);
		cJSON_AddStringToObject(x, "status", report_status_name(d->status));
		jsonout_str(x, "cause", c ? c->summary : NULL);
		jsonout_str(x, "category", c ? c->category : NULL);
		jsonout_str(x, "failure", c ? c->failure : NULL);
		if (c)
			cJSON_AddNumberToObject(x, "confidence", jsonout_round3(c->confidence));
		else
			cJSON_AddNullToObject(x, "confidence");
		jsonout_str(x, "fingerprint", c ? c->fingerprint : NULL);
		cJSON_AddBoolToObject(x, "new", c && d->marks[k].is_new);
		tasks = cJSON_AddArrayToObject(x, "task_ids");
		for (size_t t = 0; c && t < c->task_ids.n; t++)
			cJSON_AddItemToArray(tasks, cJSON_CreateString(c->task_ids.v[t]));
		rep = dag_report_link(o, d);
		jsonout_str(links, "dag", d->triage.ui_url);
		jsonout_str(links, "report", rep);
		free(rep);
		cJSON_AddItemToObject(x, "links", links);
		cJSON_AddItemToArray(dags, x);
	}
	cJSON_AddItemToObject(j, "dags", dags);
	for (size_t i = 0; i < r->n_fixed; i++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "source", r->dags[r->fixed[i].dag].source);
		cJSON_AddStringToObject(x, "dag_id", r->dags[r->fixed[i].dag].dag_id);
		cJSON_AddStringToObject(x, "fingerprint", r->fixed[i].fingerprint);
		cJSON_AddItemToArray(fixed, x);
	}
	cJSON_AddItemToObject(j, "fixed", fixed);
	for (size_t i = 0; i < r->n_sources; i++)
		if (r->sources[i].error) {
			cJSON *x = cJSON_CreateObject();

			cJSON_AddStringToObject(x, "name", r->sources[i].name);
			cJSON_AddStringToObject(x, "error", r->sources[i].error);
			cJSON_AddItemToArray(srcs, x);
		}
	cJSON_AddItemToObject(j, "sources_failed", srcs);
	return json_done(j);
}

/* ---- PagerDuty Events API v2 ----------------------------------------------------------- */

#define PD_SUMMARY_MAX 1024
#define PD_DEDUP_MAX 255

char *report_dedup_key(const char *source, const char *dag_id, const char *fingerprint)
{
	char *k = dd_xasprintf("dagdoc/%s/%s/%s", source ? source : "", dag_id, fingerprint ? fingerprint : "");

	if (strlen(k) > PD_DEDUP_MAX) {
		uint64_t h = dd_fnv1a(DD_FNV_INIT, source ? source : "", strlen(source ? source : ""));

		h = dd_fnv1a(h, "/", 1);
		h = dd_fnv1a(h, dag_id, strlen(dag_id));
		free(k);
		k = dd_xasprintf("dagdoc/%016llx/%.200s", (unsigned long long)h, fingerprint ? fingerprint : "");
	}
	return k;
}

/* The cause a DAG pages for: its first cause in the report that still
 * fails, else its first in the report. */
static const struct rk_cause *paging_cause(const struct report_dag *d, size_t *k_out)
{
	for (size_t k = 0; k < d->triage.rk.n_causes; k++)
		if (d->marks[k].in_report && d->triage.rk.causes[k].still_failing) {
			*k_out = k;
			return &d->triage.rk.causes[k];
		}
	return report_dag_top(d, k_out);
}

static cJSON *pd_event(const struct report_post_opts *o, const char *action, const struct report_dag *d,
                       const char *fingerprint)
{
	cJSON *e = cJSON_CreateObject();
	char *key = report_dedup_key(d->source, d->dag_id, fingerprint);

	cJSON_AddStringToObject(e, "routing_key", o->routing_key ? o->routing_key : "");
	cJSON_AddStringToObject(e, "event_action", action);
	cJSON_AddStringToObject(e, "dedup_key", key);
	free(key);
	return e;
}

static void pd_link(cJSON *links, const char *href, const char *text)
{
	cJSON *l = cJSON_CreateObject();

	cJSON_AddStringToObject(l, "href", href);
	cJSON_AddStringToObject(l, "text", text);
	cJSON_AddItemToArray(links, l);
}

static char *pd_trigger(const struct report *r, const struct report_dag *d, const struct report_post_opts *o)
{
	size_t k = 0;
	const struct rk_cause *c = paging_cause(d, &k);
	cJSON *e = pd_event(o, "trigger", d, c ? c->fingerprint : NULL);
	cJSON *p = cJSON_AddObjectToObject(e, "payload"), *cd, *links, *tasks;
	struct dd_buf b = DD_BUF_INIT;
	char *rep = dag_report_link(o, d);

	dd_buf_addf(&b, "%s (%s) failing", d->dag_id, d->source ? d->source : "?");
	if (c)
		dd_buf_addf(&b, ": %s (confidence %.2f)", c->summary, c->confidence);
	cut_text(&b, PD_SUMMARY_MAX);
	cJSON_AddStringToObject(p, "summary", dd_buf_str(&b));
	dd_buf_release(&b);
	cJSON_AddStringToObject(p, "source", d->source ? d->source : "dagdoc");
	cJSON_AddStringToObject(p, "severity", "error");
	jsonout_time(p, "timestamp", r->made_ms);
	cJSON_AddStringToObject(p, "component", d->dag_id);
	cJSON_AddStringToObject(p, "group", d->source ? d->source : "");
	cJSON_AddStringToObject(p, "class", c && c->category ? c->category : "unknown");
	cd = cJSON_AddObjectToObject(p, "custom_details");
	jsonout_str(cd, "failure", c ? c->failure : NULL);
	jsonout_str(cd, "fingerprint", c ? c->fingerprint : NULL);
	tasks = cJSON_AddArrayToObject(cd, "task_ids");
	for (size_t t = 0; c && t < c->task_ids.n; t++)
		cJSON_AddItemToArray(tasks, cJSON_CreateString(c->task_ids.v[t]));
	cJSON_AddBoolToObject(cd, "new", c && d->marks[k].is_new);
	cJSON_AddNumberToObject(cd, "earlier_reports", c ? (double)d->marks[k].seen_before : 0);
	jsonout_time(cd, "first_reported", c ? d->marks[k].first_seen_ms : 0);
	links = cJSON_AddArrayToObject(e, "links");
	if (d->triage.ui_url) {
		char *text = dd_xasprintf("The failing run in %s", ui_name(d));

		pd_link(links, d->triage.ui_url, text);
		free(text);
	}
	if (rep)
		pd_link(links, rep, "dagdoc report");
	free(rep);
	cJSON_AddStringToObject(e, "client", "dagdoc");
	if (o->report_url && *o->report_url)
		cJSON_AddStringToObject(e, "client_url", o->report_url);
	return json_done(e);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

int report_post_format_parse(const char *name, enum report_post_format *out)
{
	static const char *const names[] = { "slack", "blocks", "json", "pagerduty" };

	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i])) {
			*out = (enum report_post_format)i;
			return 0;
		}
	return -1;
}

void report_post_bodies(const struct report *r, enum report_post_format f, const struct report_post_opts *o,
                        struct dd_strv *out)
{
	switch (f) {
	case REPORT_POST_BLOCKS:
		dd_strv_push_owned(out, blocks_payload(r, o));
		break;
	case REPORT_POST_JSON:
		dd_strv_push_owned(out, json_payload(r, o));
		break;
	case REPORT_POST_PAGERDUTY:
		for (size_t i = 0; i < r->n_dags; i++)
			if (r->dags[i].status == REPORT_FAILING)
				dd_strv_push_owned(out, pd_trigger(r, &r->dags[i], o));
		for (size_t i = 0; i < r->n_fixed; i++)
			dd_strv_push_owned(out, json_done(pd_event(o, "resolve", &r->dags[r->fixed[i].dag],
			                                           r->fixed[i].fingerprint)));
		break;
	default:
		dd_strv_push_owned(out, report_webhook_payload(r));
	}
}
