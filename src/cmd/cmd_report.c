/*
 * cmd_report.c - `dagdoc report`: sync every configured source (or those
 * named), triage each DAG that ran in the period (or the DAGs named), and
 * write one report as text, Markdown, JSON or HTML; optionally post its
 * summary: Slack text or Block Kit, a JSON object, or PagerDuty events
 * (--post URL, --post-env VAR or the configuration's post: section).
 *
 * Exit status: 1 when a DAG is failing, 0 when none is; 2 when nothing
 * could be read (every source failed to sync), a DAG named on the command
 * line exists in no source, the report could not be written or the
 * webhook did not accept the summary (the report is still written).  A
 * source that cannot be reached while others can is reported in the
 * summary and on stderr, and its DAGs are reported from what the store
 * already holds.
 */
#include "dagdoc/util.h"

#include <cJSON.h>
#include <errno.h>
#include <unistd.h>

#include "dagdoc/jsonout.h"
#include "cli.h"
#include "dagdoc/gitcorr.h"
#include "dagdoc/http.h"
#include "dagdoc/report.h"
#include "dagdoc/secrets.h"
#include "dagdoc/store.h"
#include "dagdoc/triage.h"

#define POST_ATTEMPTS 4           /* a webhook failing (500, 502-504, 429) is asked this many times in all */

/* The report rendered whole in format, as valid UTF-8 (caller frees). */
static char *render_report(const struct report *r, const char *format, const struct report_style *st,
                           size_t *len)
{
	char *page = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&page, &n);
	struct dd_buf valid = DD_BUF_INIT;

	if (!m)
		dd_die_oom();
	if (!strcmp(format, "json")) {
		cJSON *j = report_to_json(r, st->explain);
		char *text;

		jsonout_schema_version(j);
		text = cJSON_Print(j);
		fputs(text, m);
		fputc('\n', m);
		free(text);
		cJSON_Delete(j);
	} else if (!strcmp(format, "md")) {
		report_render_md(r, st, m);
	} else if (!strcmp(format, "html")) {
		report_render_html(r, st, m);
	} else {
		report_render_text(r, st, m);
	}
	fclose(m);
	dd_utf8_fix(&valid, page, n);
	free(page);
	*len = valid.len;
	return dd_buf_detach(&valid);
}

/* Writes the report to path, replaced atomically so a reader never sees
 * half a report (every byte through the credential mask, as stdout's),
 * or to stdout. */
static int write_report(const struct report *r, const char *format, const char *path, int color, int explain)
{
	struct report_style st = { path ? 0 : color, explain };
	struct dd_error err = DD_ERROR_INIT;
	size_t len;
	char *page = render_report(r, format, &st, &len);
	int rc = 0;

	if (path) {
		struct dd_buf masked = DD_BUF_INIT;

		secrets_mask_append(&masked, page, len);
		rc = dd_write_file_atomic(path, dd_buf_str(&masked), masked.len, 0, &err);
		if (rc < 0)
			cli_errorf("report", "%s; check the directory exists and is writable", err.msg);
		dd_buf_release(&masked);
	} else if (fwrite(page, 1, len, stdout) != len || fflush(stdout) != 0) {
		rc = cli_errorf("report", "cannot write the report to standard output");
	}
	free(page);
	return rc < 0 ? -1 : 0;
}

/* Where and how the report is posted: from --post URL, --post-env VAR or the
 * configuration's post: section (the flags win). */
struct post_plan {
	enum report_post_format format;
	char *url;                  /* NULL: not posting */
	const char *url_from;       /* "the --post URL", "the URL in $VAR", for messages */
	const char *routing_key;    /* pagerduty, from the environment */
	const char *report_url;
	struct dd_buf from;         /* holds url_from when made */
};

#define PAGERDUTY_URL "https://events.pagerduty.com/v2/enqueue"
#define PAGERDUTY_KEY_ENV "DAGDOC_PAGERDUTY_ROUTING_KEY"
#define ROUTING_KEY_SLOT "@dagdoc-routing-key@"   /* replaced by the key after the body is masked */

static const char *env_value(const char *name)
{
	const char *v = name ? getenv(name) : NULL;

	return v && *v ? v : NULL;
}

/* Fills the plan; DD_EXIT_ERROR (said) when what is asked for cannot be posted: a
 * variable unset, a URL that is not http(s), no routing key. */
static int plan_post(struct post_plan *pl, const struct dd_config *cfg, const char *post, const char *post_env,
                     const char *format, const char *report_url)
{
	const struct dd_post_config *pc = &cfg->post;
	const char *url = NULL, *key_env = pc->routing_key_env ? pc->routing_key_env : PAGERDUTY_KEY_ENV;
	int pagerduty_url = 0;

	pl->report_url = report_url ? report_url : pc->report_url;
	if (report_post_format_parse(format ? format : pc->format ? pc->format : "slack", &pl->format) < 0)
		return cli_usage_error("report", "--post-format must be slack, blocks, json or pagerduty, not '%s'",
		                       format);
	if (post) {
		url = post;
		dd_buf_adds(&pl->from, "the --post URL");
	} else if (post_env) {
		if (!(url = env_value(post_env)))
			return cli_errorf("report", "--post-env names %s, which is not set in the environment (or is "
			                  "empty); export it with the webhook URL", post_env);
		dd_buf_addf(&pl->from, "the URL in %s (--post-env)", post_env);
	} else if (pc->url_env) {
		if (!(url = env_value(pc->url_env)))
			return cli_errorf("report", "%s: post url_env names %s, which is not set in the environment (or "
			                  "is empty); export it with the webhook URL, or give --no-post",
			                  pc->origin, pc->url_env);
		dd_buf_addf(&pl->from, "the URL in %s (post url_env, %s)", pc->url_env, pc->origin);
	} else if (pl->format == REPORT_POST_PAGERDUTY) {
		url = PAGERDUTY_URL;
		pagerduty_url = 1;
		dd_buf_adds(&pl->from, "PagerDuty's Events API URL");
	} else if (format || pc->routing_key_env) {
		return cli_usage_error("report", "nothing to post to: give --post URL or --post-env VAR, or url_env "
		                       "in the configuration's post: section");
	} else {
		return 0;
	}
	pl->url_from = dd_buf_str(&pl->from);
	if (!pagerduty_url) {
		/* a webhook URL is a secret (Slack's path is its token): masked before anything can print it */
		secrets_add(url);
		secrets_add(strstr(url, "://") ? strchr(strstr(url, "://") + 3, '/') : NULL);
	}
	if (!dd_starts_with(url, "http://") && !dd_starts_with(url, "https://"))
		return cli_usage_error("report", "%s is not an http:// or https:// webhook URL", pl->url_from);
	if (pl->format == REPORT_POST_PAGERDUTY) {
		if (!(pl->routing_key = env_value(key_env)))
			return cli_errorf("report", "posting to PagerDuty needs its routing key (the integration key of "
			                  "an Events API v2 integration) in %s, which is not set%s", key_env,
			                  pc->routing_key_env ? "" : " (or name another variable with post "
			                  "routing_key_env)");
		if (strspn(pl->routing_key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
		    strlen(pl->routing_key))
			return cli_errorf("report", "%s does not hold a PagerDuty routing key (letters, digits, - and _)",
			                  key_env);
		secrets_add(pl->routing_key);
	}
	pl->url = dd_xstrdup(url);
	return 0;
}

/* The server's answer, masked before it is cut, as printable ASCII. */
static void answer_detail(const struct http_xfer *x, char *detail, size_t len)
{
	struct dd_buf shown = DD_BUF_INIT;
	size_t k = 0;

	secrets_mask_append(&shown, dd_buf_str(&x->body), x->body.len);
	for (size_t i = 0; i < shown.len && i < 120 && k + 1 < len; i++)
		detail[k++] = (shown.data[i] >= 0x20 && shown.data[i] < 0x7f) ? shown.data[i] : ' ';
	detail[k] = '\0';
	dd_buf_release(&shown);
}

/* Posts each body in turn through the HTTP client's one retry policy (a 500,
 * Slack's "rollup_error", and PagerDuty's 429 are asked again too); stops at
 * the first that is not accepted.  Messages name only the URL's origin. */
static int post_report(const struct report *r, const struct post_plan *pl)
{
	struct report_post_opts po = { pl->report_url, pl->routing_key ? ROUTING_KEY_SLOT : NULL };
	struct dd_strv bodies = DD_STRV_INIT;
	struct http_opts o;
	struct http_client *c = NULL;
	struct dd_error err = DD_ERROR_INIT;
	char *origin = http_url_origin(pl->url);
	const char *who = pl->format == REPORT_POST_PAGERDUTY ? "PagerDuty" : "the webhook";
	size_t sent = 0, n;
	int rc = -1;

	report_post_bodies(r, pl->format, &po, &bodies);
	n = bodies.n;
	memset(&o, 0, sizeof(o));
	o.base_url = pl->url;
	o.service = who;
	o.server_hint = "is the chat or paging service reachable from here";
	o.url_env = pl->url_from;
	o.timeout_s = 30;
	o.max_attempts = POST_ATTEMPTS;
	if (bodies.n && http_client_new(&o, &c, &err) < 0) {
		cli_errorf("report", "cannot post to %s at %s: %s", who, origin ? origin : "?", err.msg);
		goto out;
	}
	for (; sent < bodies.n; sent++) {
		struct http_xfer x;
		struct dd_buf payload = DD_BUF_INIT, valid = DD_BUF_INIT;
		char detail[200] = "";
		int ok;

		/* what is posted leaves the process too: as valid UTF-8, through the credential mask; then
		 * the routing key PagerDuty must be sent goes into its slot */
		dd_utf8_fix(&valid, bodies.v[sent], strlen(bodies.v[sent]));
		secrets_mask_append(&payload, dd_buf_str(&valid), valid.len);
		dd_buf_release(&valid);
		if (pl->routing_key) {
			char *slot = strstr(dd_buf_str(&payload), ROUTING_KEY_SLOT);

			if (slot) {
				size_t at = (size_t)(slot - payload.data);

				dd_buf_addf(&valid, "%.*s%s%s", (int)at, payload.data, pl->routing_key,
				            payload.data + at + strlen(ROUTING_KEY_SLOT));
				dd_buf_release(&payload);
				payload = valid;
			}
		}
		memset(&x, 0, sizeof(x));
		x.method = "POST";
		x.url = dd_xstrdup(pl->url);
		x.post = payload.data;
		x.post_len = payload.len;
		x.accept = "*/*";
		http_run1(c, &x);
		ok = !x.rc && x.status >= 200 && x.status < 300;
		if (!ok && x.rc)
			cli_errorf("report", "cannot post to %s at %s: %s", who, origin ? origin : "?", x.err.msg);
		else if (!ok)
			answer_detail(&x, detail, sizeof(detail));
		if (!ok && !x.rc && x.status >= 500 && x.status != 501)
			cli_errorf("report", "%s at %s kept answering %ld%s%s%s after %d attempts; the report was "
			           "written but its summary not posted: try again later", who, origin ? origin : "?",
			           x.status, *detail ? " (" : "", detail, *detail ? ")" : "", x.attempts);
		else if (!ok && !x.rc)
			cli_errorf("report", "%s at %s refused the %s with %ld%s%s%s; check %s", who,
			           origin ? origin : "?", pl->format == REPORT_POST_PAGERDUTY ? "event" : "summary",
			           x.status, *detail ? " (" : "", detail, *detail ? ")" : "",
			           pl->format == REPORT_POST_PAGERDUTY ? "the routing key and the URL" : pl->url_from);
		http_xfer_release(&x);
		free(x.url);
		dd_buf_release(&payload);
		if (!ok)
			break;
	}
	if (sent < n && sent)
		cli_errorf("report", "%zu of %zu events were posted before that one", sent, n);
	rc = sent == n ? 0 : -1;
out:
	http_client_free(c);
	dd_strv_release(&bodies);
	free(origin);
	return rc;
}

static int cmd_report(int argc, char **argv, struct dd_cli *cli)
{
	enum {
		OPT_SOURCE = CLI_OPT_COMMON_LAST + 1, OPT_SINCE, OPT_HISTORY, OPT_REPO, OPT_OFFLINE,
		OPT_EXPLAIN, OPT_FORMAT, OPT_ALL, OPT_POST, OPT_NO_RECORD, OPT_POST_ENV, OPT_POST_FORMAT,
		OPT_REPORT_URL, OPT_NO_POST,
	};
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "history", required_argument, NULL, OPT_HISTORY },
		{ "repo", required_argument, NULL, OPT_REPO },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "output", required_argument, NULL, 'o' },
		{ "post", required_argument, NULL, OPT_POST },
		{ "no-record", no_argument, NULL, OPT_NO_RECORD },
		{ "post-env", required_argument, NULL, OPT_POST_ENV },
		{ "post-format", required_argument, NULL, OPT_POST_FORMAT },
		{ "report-url", required_argument, NULL, OPT_REPORT_URL },
		{ "no-post", no_argument, NULL, OPT_NO_POST },
		{ NULL, 0, NULL, 0 },
	};
	const char *since = "24h", *history = "30d", *format = "text", *output = NULL, *post = NULL;
	const char *post_env = NULL, *post_format = NULL, *report_url = NULL;
	struct post_plan plan;
	int no_post = 0, plan_rc = 0;
	struct dd_strv source_names = DD_STRV_INIT, repo_args = DD_STRV_INIT, names = DD_STRV_INIT;
	int offline = 0, explain = 0, all = 0, no_record = 0, c, exit_code = DD_EXIT_ERROR;
	struct session_report_scope scope;
	struct session_report_outcome outcome;
	struct dd_session s;
	struct dd_error err = DD_ERROR_INIT;
	struct report rep;
	int trouble = 0;

	memset(&rep, 0, sizeof(rep));
	memset(&plan, 0, sizeof(plan));
	memset(&s, 0, sizeof(s));
	memset(&scope, 0, sizeof(scope));
	while ((c = getopt_long(argc, argv, ":vo:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SOURCE: dd_strv_push(&source_names, optarg); break;
		case OPT_SINCE: since = optarg; break;
		case OPT_HISTORY: history = optarg; break;
		case OPT_REPO: dd_strv_push(&repo_args, optarg); break;
		case OPT_OFFLINE: offline = 1; break;
		case OPT_EXPLAIN: explain = 1; break;
		case OPT_FORMAT: format = optarg; break;
		case OPT_ALL: all = 1; break;
		case 'o': output = optarg; break;
		case OPT_POST: post = optarg; break;
		case OPT_NO_RECORD: no_record = 1; break;
		case OPT_POST_ENV: post_env = optarg; break;
		case OPT_POST_FORMAT: post_format = optarg; break;
		case OPT_REPORT_URL: report_url = optarg; break;
		case OPT_NO_POST: no_post = 1; break;
		default:
			if (cli_common_option(cli, "report", c, argv, longopts) <= 0)
				goto out;
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "md") && strcmp(format, "html")) {
		cli_usage_error("report", "--format must be text, md, json or html, not '%s'", format);
		goto out;
	}
	if (dd_parse_duration(since, &scope.since_s, &err) < 0) {
		cli_usage_error("report", "--since: %s", err.msg);
		goto out;
	}
	if (dd_parse_duration(history, &scope.history_s, &err) < 0) {
		cli_usage_error("report", "--history: %s", err.msg);
		goto out;
	}
	if (scope.history_s < scope.since_s)
		scope.history_s = scope.since_s;
	if (all && optind < argc) {
		cli_usage_error("report", "name DAGs or give --all, not both");
		goto out;
	}
	if (post && !dd_starts_with(post, "http://") && !dd_starts_with(post, "https://")) {
		cli_usage_error("report", "--post needs an http:// or https:// webhook URL");
		goto out;
	}
	if (post && post_env) {
		cli_usage_error("report", "give --post URL or --post-env VAR, not both");
		goto out;
	}
	if (no_post && (post || post_env)) {
		cli_usage_error("report", "--no-post and --post%s contradict each other", post ? "" : "-env");
		goto out;
	}
	if (post_format && report_post_format_parse(post_format, &plan.format) < 0) {
		cli_usage_error("report", "--post-format must be slack, blocks, json or pagerduty, not '%s'", post_format);
		goto out;
	}
	for (int i = optind; i < argc; i++)
		if (!dd_strv_contains(&names, argv[i]))
			dd_strv_push(&names, argv[i]);
	if (cli_session_open(cli, "report", offline, &s) < 0)
		goto out;
	/* what cannot be posted is said now, and the report still written */
	if (!no_post)
		plan_rc = plan_post(&plan, s.cfg, post, post_env, post_format, report_url);
	for (size_t i = 0; i < repo_args.n; i++)
		config_add_repo(s.cfg, repo_args.v[i]);
	for (size_t i = 0; i < source_names.n; i++) {
		struct dd_source *src;

		if (config_find_source(s.cfg, source_names.v[i], &src, &err) < 0) {
			cli_error("report", &err);
			goto out;
		}
	}
	if (!s.cfg->n_sources && !offline) {
		struct dd_source *none;

		config_find_source(s.cfg, NULL, &none, &err);
		cli_error("report", &err);
		if (session_stored_dags(&s))
			fputs("hint: 'dagdoc report --offline' reads what the store already holds\n", stderr);
		goto out;
	}
	scope.since_label = since;
	scope.sources = &source_names;
	scope.dags = &names;
	scope.record = !no_record;
	if (session_report(&s, &scope, &rep, &outcome, &err) < 0) {
		cli_session_error("report", &s, &err);
		goto out;
	}
	cli_notes(&s);
	trouble = outcome.dags_missing || outcome.dags_failed;

	/* Write, post, exit. */
	if (write_report(&rep, format, output, cli->color, explain) < 0)
		trouble = 1;
	if (plan_rc || (plan.url && post_report(&rep, &plan) < 0))
		trouble = 1;
	if (outcome.sources_tried && outcome.sources_failed == outcome.sources_tried) {
		cli_errorf("report", "no source could be read; the report shows only what the store already held");
		trouble = 1;
	}
	exit_code = trouble ? DD_EXIT_ERROR
	            : report_count(&rep, REPORT_FAILING) || (s.cfg->degraded_exit && report_count_degraded(&rep))
	            ? DD_EXIT_FAILING : DD_EXIT_OK;
out:
	report_release(&rep);
	free(plan.url);
	dd_buf_release(&plan.from);
	cli_session_close(&s);
	dd_strv_release(&source_names);
	dd_strv_release(&repo_args);
	dd_strv_release(&names);
	return exit_code;
}

const struct dd_command command_report = {
	"report", cmd_report,
	"triage every DAG that ran in a period into one report (text, md, json, html)",
	"usage: dagdoc report [--since 24h] [--source NAME]... [--all | DAG...]\n"
	"                     [--format text|md|json|html] [-o FILE]\n"
	"                     [--post URL | --post-env VAR | --no-post] [--post-format FMT] [--report-url URL]\n"
	"                     [--history 30d] [--repo PATH]... [--offline] [--no-record] [--explain]\n\n"
	"Syncs every configured source (or those named), triages each DAG that ran in\n"
	"the period (or the DAGs named) and writes one report: a summary (DAGs that\n"
	"ran, failed, recovered; new failures vs recurring ones against earlier\n"
	"reports kept in the store; flaky tasks; causes across the fleet), then each\n"
	"failing DAG's triage and its run x task grid.  A source that cannot be read\n"
	"is named in the summary; its DAGs are reported from the store.\n\n"
	"      --since DUR     the period: DAGs with a run in it are reported (default 24h)\n"
	"      --history DUR   how far back each triage looks for onsets (default 30d)\n"
	"      --source NAME   only this configured source (repeatable)\n"
	"      --all           every DAG that ran (the default when no DAG is named)\n"
	"      --format FMT    text (default), md, json or html (one self-contained page)\n"
	"  -o, --output FILE   write the report to FILE (replaced atomically)\n"
	"      --post URL      send the summary to a Slack-compatible incoming webhook\n"
	"      --post-env VAR  the same, the URL read from the environment variable VAR\n"
	"                      (never on the command line; the config's post: url_env too)\n"
	"      --post-format FMT  slack (text, default), blocks (Slack Block Kit), json, or\n"
	"                      pagerduty (Events API v2; routing key in\n"
	"                      DAGDOC_PAGERDUTY_ROUTING_KEY or post: routing_key_env)\n"
	"      --report-url URL  where the report (-o) is served: the post links to it\n"
	"      --no-post       do not post, though the configuration says to\n"
	"      --repo PATH     a git repository to correlate with (repeatable)\n"
	"      --offline       use only what the store holds; no network\n"
	"      --no-record     do not record this report's failures (a preview: the next\n"
	"                      report still calls them new)\n"
	"      --explain       every evidence weight (in every format)\n\n"
	"Exit status: 1 when a DAG is failing (or, with degraded_exit: 1 in the\n"
	"configuration, shows quiet failures), 0 when none is, 2 when no source could be\n"
	"read, a DAG named exists nowhere, or the report could not be written or posted.\n\n"
	CLI_COMMON_HELP
};
