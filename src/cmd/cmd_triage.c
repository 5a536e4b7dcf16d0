/*
 * cmd_triage.c - `dagdoc triage <dag_id|flow_name>`: sync (unless
 * --offline), analyse, rank and print the likely causes.
 *
 * Exit status: 1 when the DAG is failing, 0 when it is healthy, 2 on error; a
 * DAG only degraded (quiet failures) exits with the config's degraded_exit (0).
 */
#include "dagdoc/util.h"

#include <cJSON.h>

#include "dagdoc/jsonout.h"
#include "cli.h"
#include "dagdoc/triage.h"

static int cmd_triage(int argc, char **argv, struct dd_cli *cli)
{
	enum { OPT_EXPLAIN = CLI_OPT_DAG_LAST + 1, OPT_FORMAT };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_DAG_LONGOPTS,
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "text", *dag_id;
	struct cli_dag_opts o = CLI_DAG_OPTS_INIT;
	int explain = 0, c, rc, exit_code = DD_EXIT_ERROR;
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
	if (optind + 1 != argc) {
		cli_usage_error("triage", optind == argc ? "name the DAG (or Prefect flow) to triage"
		                                         : "triage takes one DAG; use 'dagdoc report' for several");
		goto out;
	}
	dag_id = argv[optind];
	if (cli_dag_session(cli, "triage", &o, &s) < 0)
		goto out;
	if (session_find_dag(&s, o.source, dag_id, o.since_s, &src, &dag_ref, &err) != 0 ||
	    session_triage(&s, src, dag_ref, o.since_s, &t, &err) < 0) {
		cli_session_error("triage", &s, &err);
		if (!o.offline && !s.cfg->n_sources && session_stored_dags(&s))
			fprintf(stderr, "hint: 'dagdoc triage --offline' reads what the store already holds\n");
		goto out;
	}
	cli_notes(&s);
	if (!strcmp(format, "json")) {
		cJSON *j = triage_to_json(&t, explain);

		jsonout_schema_version(j);
		char *text = cJSON_Print(j);

		cli_put_utf8(stdout, text, strlen(text));
		putchar('\n');
		free(text);
		cJSON_Delete(j);
	} else {
		struct triage_style st = { cli->color, explain, 0, 0 };

		if (!strcmp(format, "md"))
			triage_render_md(&t, &st, stdout);
		else
			triage_render_text(&t, &st, stdout);
	}
	exit_code = triage_exit_status(&t, s.cfg->degraded_exit) ? DD_EXIT_FAILING : DD_EXIT_OK;
out:
	triage_release(&t);
	cli_session_close(&s);
	cli_dag_opts_release(&o);
	return exit_code;
}

const struct dd_command command_triage = {
	"triage", cmd_triage,
	"rank the likely causes of a DAG's failures, with evidence, checks and a fix",
	"usage: dagdoc triage <dag_id|flow_name> [--source NAME] [--since 30d] [--repo PATH]...\n"
	"                     [--offline] [--explain] [--format text|json|md]\n\n"
	"Syncs the DAG from its source (unless --offline), groups its failed tries by\n"
	"fingerprint, finds when each failure began, correlates that onset with the\n"
	"commits of the configured repositories (and --repo), and ranks the causes.\n\n"
	"      --source NAME   the configured source to read (default: the first)\n"
	"      --since DUR     how far back to look, ending at the newest run (default 30d)\n"
	"      --repo PATH     a git repository to correlate with (repeatable; adds to the config's)\n"
	"      --offline       use only what the store holds; no network\n"
	"      --explain       show every evidence weight behind each confidence\n"
	"      --format FMT    text (default), json or md\n\n"
	"Exit status: 1 when the DAG is failing, 0 when it is healthy, 2 on error.  A DAG\n"
	"whose tasks succeed but show quiet failures is \"degraded\": it exits with the\n"
	"configuration's degraded_exit (0 unless set to 1).\n\n" CLI_COMMON_HELP
};
