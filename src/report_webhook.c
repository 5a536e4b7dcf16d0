/*
 * report_webhook.c - the short summary a Slack-compatible incoming webhook
 * receives (see report.h).
 */
#include "dagdoc/util.h"

#include <cJSON.h>

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
	if (r->n_flaky) {
		dd_buf_adds(&b, "\nFlaky:");
		for (size_t i = 0; i < r->n_flaky && i < 5; i++) {
			dd_buf_adds(&b, i ? ", " : " ");
			slack_escape(&b, r->dags[r->flaky[i].dag].dag_id);
			dd_buf_addch(&b, '.');
			slack_escape(&b, r->flaky[i].task_id);
			dd_buf_addf(&b, " (%.2f)", r->flaky[i].score);
		}
	}
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
