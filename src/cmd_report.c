/*
 * cmd_report.c - `dagdoc report`: sync every configured source (or those
 * named), triage each DAG that ran in the period (or the DAGs named), and
 * write one report as text, Markdown, JSON or HTML; optionally post its
 * summary to a Slack-compatible incoming webhook.
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

#include "dagdoc/cli.h"
#include "dagdoc/gitcorr.h"
#include "dagdoc/http.h"
#include "dagdoc/report.h"
#include "dagdoc/secrets.h"
#include "dagdoc/store.h"
#include "dagdoc/triage.h"

#define POST_ATTEMPTS 4           /* a webhook failing (500, 502-504, 429) is asked this many times in all */
#define RUN_SLACK_MS (8LL * 86400 * 1000)   /* a run's logical date may precede its start by its interval */

struct pick {
	int64_t ref;
	char *source;
	char *dag_id;
};

struct pick_ctx {
	struct pick *v;
	size_t n, cap;
	const struct dd_strv *names;
};

static int on_store_dag(const struct dd_store_dag *d, void *ud)
{
	struct pick_ctx *c = ud;

	if (c->names->n && !dd_strv_contains(c->names, d->dag_id))
		return 0;
	DD_GROW(c->v, c->cap, c->n + 1);
	c->v[c->n].ref = d->ref;
	c->v[c->n].source = dd_xstrdup(d->source_name);
	c->v[c->n].dag_id = dd_xstrdup(d->dag_id);
	c->n++;
	return 0;
}

struct ran_ctx {
	int64_t from_ms;
	int ran;
};

static int on_run(const struct dd_store_run *r, void *ud)
{
	struct ran_ctx *c = ud;
	struct an_run ar = { NULL, r->run.state, r->run.logical_ms, r->run.start_ms, r->run.end_ms };

	if (report_run_time(&ar) >= c->from_ms) {
		c->ran = 1;
		return 1;
	}
	return 0;
}

static int ran_since(struct dd_store *store, int64_t dag_ref, int64_t from_ms)
{
	struct ran_ctx c = { from_ms, 0 };
	struct dd_error err = DD_ERROR_INIT;

	store_runs(store, dag_ref, from_ms - RUN_SLACK_MS, 0, on_run, &c, &err);
	return c.ran;
}

static const struct dd_source *config_source(const struct dd_config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->n_sources; i++)
		if (!strcmp(cfg->sources[i].name, name))
			return &cfg->sources[i];
	return NULL;
}

/* Writes the report to path (through a temporary file renamed into place,
 * so a reader never sees half a report) or stdout. */
static int write_report(const struct report *r, const char *format, const char *path, int color, int explain)
{
	struct report_style st = { path ? 0 : color, explain };
	char *tmp = NULL;
	FILE *f = stdout, *file = NULL;
	int bad = 0;

	if (path) {
		tmp = dd_xasprintf("%s.tmp%ld", path, (long)getpid());
		file = fopen(tmp, "w");
		/* the file gets what stdout would: every byte through the credential mask */
		f = file ? cli_mask_fd(fileno(file)) : NULL;
		if (!f) {
			cli_errorf("report", "cannot write %s: %s; check the directory exists and is writable", tmp,
			           strerror(errno));
			if (file) {
				fclose(file);
				unlink(tmp);
			}
			free(tmp);
			return -1;
		}
	}
	if (!strcmp(format, "json")) {
		cJSON *j = report_to_json(r, explain);
		char *s = cJSON_Print(j);

		cli_put_utf8(f, s, strlen(s));
		fputc('\n', f);
		free(s);
		cJSON_Delete(j);
	} else if (!strcmp(format, "md")) {
		report_render_md(r, &st, f);
	} else if (!strcmp(format, "html")) {
		/* rendered whole, then written as valid UTF-8 */
		char *page = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&page, &len);

		if (m) {
			report_render_html(r, m);
			fclose(m);
			cli_put_utf8(f, page, len);
		} else {
			bad = 1;
		}
		free(page);
	} else {
		report_render_text(r, &st, f);
	}
	bad |= fflush(f) != 0 || ferror(f);
	if (path) {
		bad |= fclose(f) != 0;
		bad |= fclose(file) != 0;
		if (!bad && rename(tmp, path) < 0)
			bad = 1;
		if (bad) {
			cli_errorf("report", "cannot write %s: %s", path, strerror(errno));
			unlink(tmp);
		}
		free(tmp);
	}
	return bad ? -1 : 0;
}

/* Posts the summary; the webhook URL is a secret (Slack's path is the
 * token), so messages name only its origin.  The HTTP client's one retry
 * policy applies (a 500, Slack's "rollup_error", is asked again too). */
static int post_summary(const struct report *r, const char *url)
{
	struct http_opts o;
	struct http_client *c = NULL;
	struct http_xfer x;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf payload = DD_BUF_INIT;
	char *summary = report_webhook_payload(r), *origin = http_url_origin(url);
	int ok = 0;

	secrets_add(url);
	secrets_add(strstr(url, "://") ? strchr(strstr(url, "://") + 3, '/') : NULL);
	/* what is posted leaves the process too: through the credential mask, as valid UTF-8 */
	{
		struct dd_buf valid = DD_BUF_INIT;

		dd_utf8_fix(&valid, summary, strlen(summary));
		secrets_mask_append(&payload, dd_buf_str(&valid), valid.len);
		dd_buf_release(&valid);
	}
	memset(&o, 0, sizeof(o));
	memset(&x, 0, sizeof(x));
	o.base_url = url;
	o.service = "the webhook";
	o.server_hint = "is the chat service reachable from here";
	o.url_env = "the --post URL";
	o.timeout_s = 30;
	o.max_attempts = POST_ATTEMPTS;
	if (http_client_new(&o, &c, &err) < 0) {
		cli_errorf("report", "cannot post to the webhook at %s: %s", origin ? origin : "?", err.msg);
		goto out;
	}
	x.method = "POST";
	x.url = dd_xstrdup(url);
	x.post = payload.data;
	x.post_len = payload.len;
	x.accept = "*/*";
	http_run1(c, &x);
	if (!x.rc && x.status >= 200 && x.status < 300) {
		ok = 1;
	} else if (x.rc) {
		cli_errorf("report", "cannot post to the webhook at %s: %s", origin ? origin : "?", x.err.msg);
	} else {
		struct dd_buf shown = DD_BUF_INIT;
		char detail[200] = "";
		size_t k = 0;

		/* the body as sent back, masked before it is cut */
		secrets_mask_append(&shown, dd_buf_str(&x.body), x.body.len);
		for (size_t i = 0; i < shown.len && i < 120 && k + 1 < sizeof(detail); i++)
			detail[k++] = (shown.data[i] >= 0x20 && shown.data[i] < 0x7f) ? shown.data[i] : ' ';
		detail[k] = '\0';
		dd_buf_release(&shown);
		if (x.status >= 500 && x.status != 501)
			cli_errorf("report", "the webhook at %s kept answering %ld%s%s%s after %d attempts; the "
			           "report was written but its summary not posted: try again later",
			           origin ? origin : "?", x.status, *detail ? " (" : "", detail, *detail ? ")" : "",
			           x.attempts);
		else
			cli_errorf("report", "the webhook at %s refused the summary with %ld%s%s%s; check the --post "
			           "URL (an incoming-webhook URL of your chat)",
			           origin ? origin : "?", x.status, *detail ? " (" : "", detail, *detail ? ")" : "");
	}
	http_xfer_release(&x);
	free(x.url);
out:
	http_client_free(c);
	free(summary);
	dd_buf_release(&payload);
	free(origin);
	return ok ? 0 : -1;
}

int cmd_report(int argc, char **argv, struct dd_cli *cli)
{
	enum {
		OPT_SOURCE = CLI_OPT_COMMON_LAST + 1, OPT_SINCE, OPT_HISTORY, OPT_REPO, OPT_OFFLINE,
		OPT_EXPLAIN, OPT_FORMAT, OPT_ALL, OPT_POST, OPT_NO_RECORD,
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
		{ NULL, 0, NULL, 0 },
	};
	const char *since = "24h", *history = "30d", *format = "text", *output = NULL, *post = NULL;
	struct dd_strv source_names = DD_STRV_INIT, repo_args = DD_STRV_INIT, names = DD_STRV_INIT;
	int offline = 0, explain = 0, all = 0, no_record = 0, c, exit_code = DD_EXIT_ERROR;
	int64_t since_s, history_s;
	struct dd_config *cfg;
	struct dd_store *store = NULL;
	struct pat_library *lib = NULL;
	struct gitcorr_repo **repos = NULL;
	size_t n_repos = 0, n_tried = 0, n_failed = 0;
	struct dd_error err = DD_ERROR_INIT;
	struct report rep;
	struct pick_ctx picks = { NULL, 0, 0, NULL };
	int trouble = 0;

	memset(&rep, 0, sizeof(rep));
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
		default:
			if (cli_common_option(cli, "report", c, argv) <= 0)
				goto out;
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "md") && strcmp(format, "html")) {
		cli_usage_error("report", "--format must be text, md, json or html, not '%s'", format);
		goto out;
	}
	if (dd_parse_duration(since, &since_s, &err) < 0) {
		cli_usage_error("report", "--since: %s", err.msg);
		goto out;
	}
	if (dd_parse_duration(history, &history_s, &err) < 0) {
		cli_usage_error("report", "--history: %s", err.msg);
		goto out;
	}
	if (history_s < since_s)
		history_s = since_s;
	if (all && optind < argc) {
		cli_usage_error("report", "name DAGs or give --all, not both");
		goto out;
	}
	if (post && !dd_starts_with(post, "http://") && !dd_starts_with(post, "https://")) {
		cli_usage_error("report", "--post needs an http:// or https:// webhook URL");
		goto out;
	}
	for (int i = optind; i < argc; i++)
		if (!dd_strv_contains(&names, argv[i]))
			dd_strv_push(&names, argv[i]);
	picks.names = &names;
	if (cli_config(cli, "report", &cfg) < 0)
		goto out;
	for (size_t i = 0; i < repo_args.n; i++)
		config_add_repo(cfg, repo_args.v[i]);
	for (size_t i = 0; i < source_names.n; i++) {
		struct dd_source *s;

		if (config_find_source(cfg, source_names.v[i], &s, &err) < 0) {
			cli_error("report", &err);
			goto out;
		}
	}
	if (!cfg->n_sources && !offline) {
		cli_errorf("report", "no source is configured; add one to the config file or set DAGDOC_AIRFLOW_URL "
		           "or PREFECT_API_URL");
		fputs("hint: 'dagdoc report --offline' reads what the store already holds\n", stderr);
		goto out;
	}
	if (cli_open_store(cli, "report", offline, &store) < 0)
		goto out;
	lib = cli_patterns(cli, "report");
	if (!lib)
		goto out;
	report_init(&rep, dd_now_ms(), since_s, since);

	/* 1. Sync each source; one that cannot be read is reported and skipped. */
	for (size_t i = 0; i < cfg->n_sources; i++) {
		const struct dd_source *src = &cfg->sources[i];
		char describe[256] = "";
		int rc = 0;

		if (source_names.n && !dd_strv_contains(&source_names, src->name))
			continue;
		dd_error_clear(&err);
		if (!offline) {
			n_tried++;
			rc = cli_run_sync(cli, "report", src, store, (const char *const *)names.v, names.n, history_s,
			                  CLI_SYNC_QUIET | CLI_SYNC_SKIP_MISSING, NULL, describe, sizeof(describe), &err);
			if (rc == DD_EINTR) {
				cli_error("report", &err);
				goto out;
			}
			if (rc < 0) {
				n_failed++;
				cli_warnf("source %s could not be read: %s; the report uses what the store already holds",
				          src->name, err.msg);
			}
		}
		report_add_source(&rep, src->name, dd_source_kind_name(src->kind), describe[0] ? describe : NULL,
		                  rc < 0 ? err.msg : NULL, !offline);
	}

	/* 2. The DAGs: those named, or every DAG that ran in the period. */
	if (!cfg->n_sources) {
		store_dags(store, 0, on_store_dag, &picks, &err);
	} else {
		for (size_t i = 0; i < rep.n_sources; i++) {
			int64_t sref;

			if (store_source_ref(store, rep.sources[i].name, &sref, &err) < 0)
				continue;
			store_dags(store, sref, on_store_dag, &picks, &err);
		}
	}
	for (size_t i = 0; i < names.n; i++) {
		int found = 0;

		for (size_t k = 0; k < picks.n && !found; k++)
			found = !strcmp(picks.v[k].dag_id, names.v[i]);
		if (!found) {
			cli_errorf("report", "no DAG named '%s' in %s", names.v[i],
			           source_names.n ? "the sources named" : "any source");
			dd_strv_push_owned(&rep.notes, dd_xasprintf("no DAG named '%s' in any source", names.v[i]));
			trouble = 1;
		}
	}
	n_repos = cli_open_repos(cfg, &repos);
	for (size_t i = 0; i < picks.n; i++) {
		struct triage_result t;

		if (!names.n && !ran_since(store, picks.v[i].ref, rep.from_ms))
			continue;
		memset(&t, 0, sizeof(t));
		if (triage_dag(store, picks.v[i].ref, lib, repos, n_repos, history_s, &t, &err) < 0) {
			cli_warnf("%s: %s", picks.v[i].dag_id, err.msg);
			dd_strv_push_owned(&rep.notes, dd_xasprintf("%s could not be triaged: %s", picks.v[i].dag_id, err.msg));
			triage_release(&t);
			trouble = 1;
			continue;
		}
		t.ui_url = triage_ui_url(config_source(cfg, picks.v[i].source), &t);
		report_add_dag(&rep, picks.v[i].source, &t);
	}
	if (!no_record && store_readonly(store)) {
		cli_warnf("the store %s is read-only here: this report's failures are not recorded (as with "
		          "--no-record)", store_path(store));
		no_record = 1;
	}
	if (report_finish(&rep, store, !no_record, &err) < 0) {
		cli_error("report", &err);
		goto out;
	}

	/* 3. Write, post, exit. */
	if (write_report(&rep, format, output, cli->color, explain) < 0)
		trouble = 1;
	if (post && post_summary(&rep, post) < 0)
		trouble = 1;
	if (n_tried && n_failed == n_tried) {
		cli_errorf("report", "no source could be read; the report shows only what the store already held");
		trouble = 1;
	}
	exit_code = trouble ? DD_EXIT_ERROR : report_count(&rep, REPORT_FAILING) ? DD_EXIT_FAILING : DD_EXIT_OK;
out:
	for (size_t i = 0; i < picks.n; i++) {
		free(picks.v[i].source);
		free(picks.v[i].dag_id);
	}
	free(picks.v);
	report_release(&rep);
	cli_close_repos(repos, n_repos);
	pat_library_free(lib);
	store_close(store);
	dd_strv_release(&source_names);
	dd_strv_release(&repo_args);
	dd_strv_release(&names);
	return exit_code;
}
