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

#include "cli.h"
#include "dagdoc/pattern.h"
#include "dagdoc/runbook.h"
#include "dagdoc/store.h"
#include "dagdoc/triage.h"

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

static int cmd_runbook(int argc, char **argv, struct dd_cli *cli)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_DAG_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *id;
	struct cli_dag_opts o = CLI_DAG_OPTS_INIT;
	int c, rc, exit_code = DD_EXIT_ERROR;
	const struct dd_source *src = NULL;
	struct dd_session s;
	struct triage_result t;
	struct dd_error err = DD_ERROR_INIT;
	const struct pat_pattern *pat;
	struct pat_library *lib = NULL;
	int64_t dag_ref;

	memset(&t, 0, sizeof(t));
	memset(&s, 0, sizeof(s));
	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		if ((rc = cli_dag_option(&o, "runbook", c)) < 0 ||
		    (!rc && cli_common_option(cli, "runbook", c, argv, longopts) <= 0))
			goto out;
	}
	if (optind + 1 != argc) {
		cli_usage_error("runbook", optind == argc ? "name a DAG (or Prefect flow) or a pattern id"
		                                          : "runbook takes one DAG or pattern id");
		goto out;
	}
	id = argv[optind];
	/* a pattern's runbook needs no store */
	lib = cli_patterns(cli, "runbook", NULL);
	if (!lib)
		goto out;
	pat = pat_library_find(lib, id);
	if (pat) {
		runbook_render_pattern(pat, stdout);
		exit_code = DD_EXIT_OK;
		goto out;
	}
	if (cli_dag_session(cli, "runbook", &o, &s) < 0)
		goto out;
	s.lib = lib;          /* the session owns it from here */
	lib = NULL;
	rc = session_find_dag(&s, o.source, id, o.since_s, &src, &dag_ref, &err);
	if (rc != 0) {
		if (rc > 0) {
			cli_notes(&s);
			cli_errorf("runbook", "no DAG named '%s' in the store and no pattern with that id", id);
		} else {
			cli_session_error("runbook", &s, &err);
		}
		hint_not_pattern(s.lib, id);
		goto out;
	}
	if (session_triage(&s, src, dag_ref, o.since_s, &t, &err) < 0) {
		cli_session_error("runbook", &s, &err);
		goto out;
	}
	cli_notes(&s);
	runbook_render_dag(&t, stdout);
	exit_code = triage_exit_status(&t, s.cfg->degraded_exit) ? DD_EXIT_FAILING : DD_EXIT_OK;
out:
	triage_release(&t);
	pat_library_free(lib);
	cli_session_close(&s);
	cli_dag_opts_release(&o);
	return exit_code;
}

const struct dd_command command_runbook = {
	"runbook", cmd_runbook,
	"a pager-sized runbook for a DAG, or a pattern's checks and fix",
	"usage: dagdoc runbook <dag_id|flow_name|pattern_id> [--source NAME] [--since 30d]\n"
	"                      [--repo PATH]... [--offline]\n\n"
	"For a DAG: in under 25 lines, its state, the top cause with its confidence, the\n"
	"failing task and run with a link to it in the orchestrator's UI, the checks to\n"
	"run in order and the fix.  For a pattern id of the library (see 'dagdoc\n"
	"patterns list'): the pattern's category, checks and fix, placeholders as {name}.\n"
	"A name that is a pattern id is shown as the pattern.\n\n"
	"      --source NAME   the configured source to read (default: the first)\n"
	"      --since DUR     how far back to look (default 30d)\n"
	"      --repo PATH     a git repository to correlate with (repeatable)\n"
	"      --offline       use only what the store holds; no network\n\n"
	"Exit status: 1 when the DAG is failing, 0 when it is healthy or for a pattern,\n"
	"2 on error.\n\n" CLI_COMMON_HELP
};
