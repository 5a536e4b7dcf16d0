/*
 * cmd_triage.c - `dagdoc triage <dag_id|flow_name>`: sync (unless
 * --offline), analyse, rank and print the likely causes.
 *
 * Exit status: 1 when the DAG is failing, 0 when it is healthy, 2 on error; a
 * DAG only degraded (quiet failures) exits with the config's degraded_exit (0).
 */
#include "dagdoc/util.h"

#include <cJSON.h>
#include <unistd.h>

#include "dagdoc/jsonout.h"
#include "cli.h"
#include "dagdoc/evidence.h"
#include "dagdoc/triage.h"

static void print_result(const struct triage_result *t, const char *format, int explain, const struct dd_cli *cli)
{
	if (!strcmp(format, "json")) {
		cJSON *j = triage_to_json(t, explain);
		char *text;

		jsonout_schema_version(j);
		text = cJSON_Print(j);

		cli_put_utf8(stdout, text, strlen(text));
		putchar('\n');
		free(text);
		cJSON_Delete(j);
	} else {
		struct triage_style st = { cli->color, explain, 0, 0 };

		if (!strcmp(format, "md"))
			triage_render_md(t, &st, stdout);
		else
			triage_render_text(t, &st, stdout);
	}
}

/* The command of a check: "pip show numpy   (on the worker image ...)" -> "pip show numpy". */
static char *check_command(const char *check)
{
	size_t n = strcspn(check, "#(");
	const char *three = strstr(check, "   ");

	if (three && (size_t)(three - check) < n)
		n = (size_t)(three - check);
	while (n && check[n - 1] == ' ')
		n--;
	return dd_xstrndup(check, n);
}

/* The next check to ask for: of the best cause not refuted, the first one
 * whose output dagdoc reads and that was not asked yet.  NULL when none. */
static char *next_check(const struct triage_result *t, const struct dd_strv *asked, size_t *cause)
{
	for (size_t i = 0; i < t->rk.n_causes; i++) {
		const struct rk_cause *c = &t->rk.causes[i];

		if (c->confirmed < 0)
			continue;
		for (size_t k = 0; k < c->checks.n; k++) {
			char *cmd = check_command(c->checks.v[k]);

			if (ev_kind_of_command(cmd) != EV_UNKNOWN && !dd_strv_contains(asked, cmd)) {
				*cause = i;
				return cmd;
			}
			free(cmd);
		}
	}
	return NULL;
}

/* Reads a pasted answer up to an empty line or end of input.  0: skipped
 * (Enter alone), 1: text, -1: end of input before anything. */
static int read_answer(struct dd_buf *b)
{
	char line[4096];
	int any = 0;

	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "\n") || !strcmp(line, "\r\n"))
			return any;
		dd_buf_adds(b, line);
		any = 1;
	}
	clearerr(stdin);            /* Ctrl-D ends this answer; the next prompt reads again */
	return any ? 1 : -1;
}

static int has_prompt(const char *text)
{
	return dd_starts_with(text, "$ ") || strstr(text, "\n$ ") || strstr(text, "$ pip") || strstr(text, "$ kubectl");
}

/* The loop at a terminal: the next check, its output, the ranking again,
 * until a cause is confirmed or no check is left. */
static int interactive(struct dd_session *s, const struct dd_source *src, int64_t dag_ref, const struct cli_dag_opts *o,
                       struct ev_set *set, struct triage_result *t, struct dd_error *err, const struct dd_cli *cli)
{
	struct dd_strv asked = DD_STRV_INIT;
	struct triage_style st = { cli->color, 0, 3, 0 };
	int rc = 0, round = 0;

	for (;;) {
		const struct rk_cause *top;
		struct dd_buf b = DD_BUF_INIT;
		size_t ci = 0, before = set->n;
		char *cmd, *origin;
		int got;

		if ((rc = session_triage(s, src, dag_ref, o->since_s, t, err)) < 0)
			break;
		cli_notes(s);
		top = t->rk.n_causes ? &t->rk.causes[0] : NULL;
		if (round++ == 0 || !top)
			triage_render_text(t, &st, stdout);
		if (!top) {
			printf("\nnothing to confirm: no cause is ranked\n");
			break;
		}
		if (top->confirmed > 0) {
			printf("\nconfirmed: %s\n", top->summary);
			for (size_t i = 0; i < top->n_verdicts; i++) {
				char *v = triage_verdict_text(&top->verdicts[i], 0);

				printf("   %s\n", v);
				free(v);
			}
			for (size_t i = 0; i < top->fix.n; i++)
				printf("%s %s\n", i ? "   " : "fix", top->fix.v[i]);
			break;
		}
		cmd = next_check(t, &asked, &ci);
		if (!cmd) {
			printf("\nno check left whose output dagdoc reads; the ranking stands:\n\n");
			triage_render_text(t, &st, stdout);
			break;
		}
		printf("\ncause %zu: %s (confidence %.2f)\ncheck: %s\n"
		       "paste its output, end with an empty line or Ctrl-D (Enter alone skips):\n",
		       ci + 1, t->rk.causes[ci].summary, t->rk.causes[ci].confidence, cmd);
		fflush(stdout);
		dd_strv_push(&asked, cmd);
		got = read_answer(&b);
		if (got < 0) {
			printf("\nend of input: the ranking stands\n");
			free(cmd);
			dd_buf_release(&b);
			break;
		}
		if (got == 0) {
			printf("skipped\n");
		} else {
			char *text = has_prompt(dd_buf_str(&b)) ? dd_xstrdup(dd_buf_str(&b))
			                                        : dd_xasprintf("$ %s\n%s", cmd, dd_buf_str(&b));

			origin = dd_xasprintf("answer %d", round);
			ev_parse(set, origin, text, strlen(text));
			for (size_t i = before; i < set->n; i++)
				printf("read: %s%s%s\n", ev_kind_name(set->v[i].kind), set->v[i].why ? ": " : "",
				       set->v[i].why ? set->v[i].why : "");
			free(origin);
			free(text);
		}
		free(cmd);
		dd_buf_release(&b);
		triage_release(t);
	}
	dd_strv_release(&asked);
	return rc;
}

static int cmd_triage(int argc, char **argv, struct dd_cli *cli)
{
	enum { OPT_EXPLAIN = CLI_OPT_DAG_LAST + 1, OPT_FORMAT, OPT_EVIDENCE, OPT_INTERACTIVE };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_DAG_LONGOPTS,
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "evidence", required_argument, NULL, OPT_EVIDENCE },
		{ "interactive", no_argument, NULL, OPT_INTERACTIVE },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "text", *dag_id;
	struct cli_dag_opts o = CLI_DAG_OPTS_INIT;
	int explain = 0, inter = 0, c, rc, exit_code = DD_EXIT_ERROR;
	struct dd_strv files = DD_STRV_INIT;
	struct ev_set set = { NULL, 0, 0 };
	const struct dd_source *src = NULL;
	struct dd_session s;
	struct triage_result t;
	struct dd_error err = DD_ERROR_INIT;
	int64_t dag_ref;

	memset(&t, 0, sizeof(t));
	memset(&s, 0, sizeof(s));
	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_EXPLAIN: explain = 1; break;
		case OPT_FORMAT: format = optarg; break;
		case OPT_EVIDENCE: dd_strv_push(&files, optarg); break;
		case OPT_INTERACTIVE: inter = 1; break;
		default:
			if ((rc = cli_dag_option(&o, "triage", c)) < 0 ||
			    (!rc && cli_common_option(cli, "triage", c, argv, longopts) <= 0))
				goto out;
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "md")) {
		cli_usage_error("triage", "--format must be text, json or md, not '%s'", format);
		goto out;
	}
	/* --evidence a.txt b.txt: the operands after the DAG are evidence files too */
	for (int i = optind + 1; files.n && i < argc; i++)
		dd_strv_push(&files, argv[i]);
	if (optind == argc || (optind + 1 != argc && !files.n)) {
		cli_usage_error("triage", optind == argc ? "name the DAG (or Prefect flow) to triage"
		                                         : "triage takes one DAG; use 'dagdoc report' for several");
		goto out;
	}
	if (inter && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		cli_usage_error(
			"triage",
			"--interactive needs a terminal to read pasted outputs from; without one, "
			"save the outputs to a file and pass --evidence FILE (or --evidence - for standard input)");
		goto out;
	}
	if (inter && strcmp(format, "text")) {
		cli_usage_error("triage", "--interactive prints text; drop --format");
		goto out;
	}
	dag_id = argv[optind];
	if (ev_read_files(&set, &files, &err) < 0) {
		cli_error("triage", &err);
		goto out;
	}
	if (cli_dag_session(cli, "triage", &o, &s) < 0)
		goto out;
	if (files.n || inter)
		s.evidence = &set;
	if (session_find_dag(&s, o.source, dag_id, o.since_s, &src, &dag_ref, &err) != 0 ||
	    (inter ? interactive(&s, src, dag_ref, &o, &set, &t, &err, cli)
	           : session_triage(&s, src, dag_ref, o.since_s, &t, &err)) < 0) {
		cli_session_error("triage", &s, &err);
		if (!o.offline && !s.cfg->n_sources && session_stored_dags(&s))
			fprintf(stderr, "hint: 'dagdoc triage --offline' reads what the store already holds\n");
		goto out;
	}
	cli_notes(&s);
	if (!inter)
		print_result(&t, format, explain, cli);
	exit_code = triage_exit_status(&t, s.cfg->degraded_exit) ? DD_EXIT_FAILING : DD_EXIT_OK;
out:
	ev_set_release(&set);
	dd_strv_release(&files);
	triage_release(&t);
	cli_session_close(&s);
	cli_dag_opts_release(&o);
	return exit_code;
}

const struct dd_command command_triage = {
	"triage", cmd_triage,
	"rank the likely causes of a DAG's failures, with evidence, checks and a fix",
	"usage: dagdoc triage <dag_id|flow_name> [--source NAME] [--since 30d] [--repo PATH]...\n"
	"                     [--offline] [--explain] [--format text|json|md]\n"
	"                     [--evidence FILE...] [--interactive]\n\n"
	"Syncs the DAG from its source (unless --offline), groups its failed tries by\n"
	"fingerprint, finds when each failure began, correlates that onset with the\n"
	"commits of the configured repositories (and --repo), and ranks the causes.\n\n"
	"      --source NAME   the configured source to read (default: the first)\n"
	"      --since DUR     how far back to look, ending at the newest run (default 30d)\n"
	"      --repo PATH     a git repository to correlate with (repeatable; adds to the config's)\n"
	"      --offline       use only what the store holds; no network\n"
	"      --explain       show every evidence weight behind each confidence\n"
	"      --format FMT    text (default), json or md\n"
	"      --evidence FILE outputs of the checks, pasted into FILE ('-': standard input; repeatable,\n"
	"                      and the operands after the DAG are files too): each is recognised by its\n"
	"                      '$ command' line or its shape (pip show/freeze/list, kubectl describe pod,\n"
	"                      df, free, nvidia-smi, airflow connections get|list, airflow variables get,\n"
	"                      python --version, git log); a cause they confirm rises, one they refute\n"
	"                      falls; what they establish is kept in the store for the failure\n"
	"      --interactive   at a terminal: show the top cause's next check, read its output (end with\n"
	"                      an empty line or Ctrl-D; Enter alone skips), rank again, until a cause is\n"
	"                      confirmed or the checks run out; then print its fix\n\n"
	"Exit status: 1 when the DAG is failing, 0 when it is healthy, 2 on error.  A DAG\n"
	"whose tasks succeed but show quiet failures is \"degraded\": it exits with the\n"
	"configuration's degraded_exit (0 unless set to 1).\n\n" CLI_COMMON_HELP
};
