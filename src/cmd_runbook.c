/*
 * cmd_runbook.c - `dagdoc runbook <dag_id|pattern_id>`: what an on-call
 * engineer needs on a pager or in chat, in under 25 lines: the DAG's
 * state, the top cause with its confidence, the failing task and run with
 * a link into the orchestrator's UI, the checks in order and the fix.
 * Given a pattern id of the library, prints that pattern's checks and fix
 * (placeholders left as {name}).
 *
 * Exit status: 1 when the DAG is failing, 0 when it is healthy or a
 * pattern was shown, 2 on error.
 */
#include "dagdoc/util.h"

#include "dagdoc/cli.h"
#include "dagdoc/gitcorr.h"
#include "dagdoc/pattern.h"
#include "dagdoc/report.h"
#include "dagdoc/store.h"
#include "dagdoc/triage.h"

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

static int pattern_runbook(const struct pat_pattern *p, FILE *out)
{
	char head[256];

	snprintf(head, sizeof(head), "%s — %s", p->id, p->title ? p->title : "");
	fprintf(out, "%s\n", head);
	fprintf(out, "category %s, confidence %.2f (%s:%d)\n", p->category, p->confidence, p->file, p->line);
	put_list(out, "checks (in order)", &p->checks, MAX_CHECKS + 3, 1);
	put_list(out, "fix", &p->fix, MAX_FIX + 2, 0);
	if (!p->checks.n && !p->fix.n)
		fputs("(this pattern has no checks or fix)\n", out);
	return DD_EXIT_OK;
}

static void dag_runbook(const struct triage_result *t, const struct dd_source *src, FILE *out)
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
		dd_buf_addf(&b, "STUCK: %zu run(s) not finished; %zu of the last %zu runs failed", an->n_running,
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
	} else {
		dd_buf_addf(&b, "healthy: %zu of the last %zu runs succeeded", an->n_success, an->n_runs);
	}
	fprintf(out, "%s\n", dd_buf_str(&b));
	dd_buf_reset(&b);
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
	else if (!src)
		put_line(out, "link", "none: the source is not configured (read from the store)");
	else if (src->kind == DD_SOURCE_LOGS)
		put_line(out, "link", "none: source is a log folder, which has no UI");
	else
		put_line(out, "link", "none: the source has no UI URL");
	if (top) {
		put_list(out, "checks (in order)", &top->checks, MAX_CHECKS, 1);
		put_list(out, "fix", &top->fix, MAX_FIX, 0);
	}
	if (t->rk.n_causes > 1) {
		dd_buf_addf(&b, "%zu other cause(s), next: %s (%.2f); details: dagdoc triage %s", t->rk.n_causes - 1,
		            t->rk.causes[1].summary, t->rk.causes[1].confidence, an->dag_id);
		put_line(out, "also", dd_buf_str(&b));
	}
	dd_buf_release(&b);
}

/* The hint after "no DAG named X": the nearest pattern id when X looks
 * like a mistyped one. */
static void hint_not_pattern(const struct pat_library *lib, const char *id)
{
	struct dd_closest near = DD_CLOSEST_INIT(id);

	for (size_t i = 0; i < pat_library_count(lib); i++)
		dd_closest_offer(&near, pat_library_get(lib, i)->id);
	if (dd_closest_pick(&near))
		fprintf(stderr, "hint: did you mean the pattern '%s'? 'dagdoc patterns list' shows them all\n",
		        dd_closest_pick(&near));
	else
		fprintf(stderr, "hint: '%s' is not a pattern id either; 'dagdoc patterns list' shows them\n", id);
	dd_closest_release(&near);
}

int cmd_runbook(int argc, char **argv, struct dd_cli *cli)
{
	enum { OPT_SOURCE = CLI_OPT_COMMON_LAST + 1, OPT_SINCE, OPT_REPO, OPT_OFFLINE };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "repo", required_argument, NULL, OPT_REPO },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ NULL, 0, NULL, 0 },
	};
	const char *source_name = NULL, *since = "30d", *id;
	struct dd_strv repo_args = DD_STRV_INIT;
	int offline = 0, c, rc, exit_code = DD_EXIT_ERROR;
	struct dd_config *cfg;
	struct dd_source *src = NULL;
	struct dd_store *store = NULL;
	struct pat_library *lib = NULL;
	struct gitcorr_repo **repos = NULL;
	size_t n_repos = 0;
	struct triage_result t;
	struct dd_error err = DD_ERROR_INIT;
	const struct pat_pattern *pat;
	int64_t since_s, dag_ref;

	memset(&t, 0, sizeof(t));
	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SOURCE: source_name = optarg; break;
		case OPT_SINCE: since = optarg; break;
		case OPT_REPO: dd_strv_push(&repo_args, optarg); break;
		case OPT_OFFLINE: offline = 1; break;
		default:
			if (cli_common_option(cli, "runbook", c, argv) <= 0)
				goto out;
		}
	}
	if (dd_parse_duration(since, &since_s, &err) < 0) {
		cli_usage_error("runbook", "--since: %s", err.msg);
		goto out;
	}
	if (optind + 1 != argc) {
		cli_usage_error("runbook", optind == argc ? "name a DAG (or Prefect flow) or a pattern id"
		                                          : "runbook takes one DAG or pattern id");
		goto out;
	}
	id = argv[optind];
	if (cli_config(cli, "runbook", &cfg) < 0)
		goto out;
	lib = cli_patterns(cli, "runbook");
	if (!lib)
		goto out;
	pat = pat_library_find(lib, id);
	if (pat) {
		exit_code = pattern_runbook(pat, stdout);
		goto out;
	}
	for (size_t i = 0; i < repo_args.n; i++)
		config_add_repo(cfg, repo_args.v[i]);
	if (cli_open_store(cli, "runbook", offline, &store) < 0)
		goto out;
	rc = cli_find_dag(cli, "runbook", store, source_name, offline, id, since_s, 1, &src, &dag_ref);
	if (rc != 0) {
		if (rc > 0)
			cli_errorf("runbook", "no DAG named '%s' in the store and no pattern with that id", id);
		hint_not_pattern(lib, id);
		goto out;
	}
	n_repos = cli_open_repos(cfg, &repos);
	if (cli_triage(cli, "runbook", store, src, dag_ref, lib, repos, n_repos, since_s, offline, &t) < 0)
		goto out;
	dag_runbook(&t, src, stdout);
	exit_code = t.failing ? DD_EXIT_FAILING : DD_EXIT_OK;
out:
	triage_release(&t);
	cli_close_repos(repos, n_repos);
	pat_library_free(lib);
	store_close(store);
	dd_strv_release(&repo_args);
	return exit_code;
}
