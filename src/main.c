/*
 * main.c - the command table and dispatch.  Each command lives in
 * src/cmd_NAME.c; see include/dagdoc/cli.h for the calling convention.
 */
#include "dagdoc/util.h"

#include <unistd.h>

#include "dagdoc/cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct dd_cli *cli);
	const char *summary;
	const char *help;      /* usage and options, printed by `dagdoc help NAME` */
};

#define COMMON_HELP \
	"      --config FILE   configuration file (default $XDG_CONFIG_HOME/dagdoc/config.yaml)\n" \
	"      --store FILE    store (default $XDG_STATE_HOME/dagdoc/dagdoc.db)\n" \
	"  -v, --verbose       trace what is done on stderr (secrets are never shown)\n" \
	"  -h, --help          this help\n"

static const struct command commands[] = {
	{ "config", cmd_config, "print the effective configuration, secrets masked",
	  "usage: dagdoc config [--config FILE]\n\n"
	  "Prints the configuration dagdoc would use (file, then environment, then flags)\n"
	  "as YAML, with every secret shown as ****.  Warns when the file holds a secret\n"
	  "and is readable by group or others.\n\n" COMMON_HELP },
	{ "sync", cmd_sync, "fetch new runs, tries and failed-try logs into the local store",
	  "usage: dagdoc sync [--source NAME] [--since DURATION] [DAG...]\n\n"
	  "Fills the store from one source (all DAGs, or the DAGs named).  Incremental:\n"
	  "runs already finished and stored are not fetched again; only new and\n"
	  "unfinished runs, the logs of failed tries not stored yet, and for each failing\n"
	  "task the log of its last successful try.  Ctrl-C stops after the current batch;\n"
	  "run the same command again to finish.  A progress line is shown on a terminal.\n"
	  "What the server sends is checked first: an object that fails is reported and\n"
	  "nothing of its run is stored.  Exit status 2 also when anything could not be\n"
	  "stored whole (an object rejected, a run or DAG not read, a log not fetched);\n"
	  "the next sync fetches it again.\n\n"
	  "      --source NAME   the configured source (default: the first one)\n"
	  "      --since DUR     how far back, by logical date (default 30d; 24h, 2w, ...)\n"
	  COMMON_HELP },
	{ "classify", cmd_classify, "classify task logs with the pattern library",
	  "usage: dagdoc classify [--format text|json] [--patterns DIR] [FILE...|-]\n\n"
	  "Reads each log (Airflow 2/3 files or API JSON, Prefect, plain text; '-' or no\n"
	  "FILE = standard input) and prints the failure it shows: category, pattern,\n"
	  "confidence, exception, fingerprint, a redacted excerpt, checks, fix and the\n"
	  "other patterns that matched.  Category 'none' = no failure (the task\n"
	  "succeeded or nothing failed); 'unknown' = a failure no pattern explains.\n"
	  "JSON: one object per input, one per line.  One input is read up to 512 MiB\n"
	  "(more is an error: give it the log's end).  Exit status: 0 every input is\n"
	  "none, 1 a failure was found, 2 an input could not be read or a pattern is bad.\n\n"
	  "      --format F      text (default) or json\n"
	  "      --patterns DIR  also load the pattern files of DIR (repeatable; after\n"
	  "                      the config's pattern_dirs, overriding by id)\n"
	  COMMON_HELP },
	{ "patterns", cmd_patterns, "list, show and test the pattern library",
	  "usage: dagdoc patterns list [--category C]\n"
	  "       dagdoc patterns show ID\n"
	  "       dagdoc patterns test [DIR]\n\n"
	  "The library is the built-in directory (DAGDOC_PATTERNS_DIR overrides it) plus\n"
	  "the config's pattern_dirs; a user pattern replaces the built-in with its id.\n"
	  "'test' classifies every example (it must give its own pattern) and matches\n"
	  "every counterexample (no regex of its pattern may match); with DIR it tests\n"
	  "the patterns of DIR loaded on top of the rest.  Exit status 1 names each miss.\n\n"
	  "      --category C    list only one category\n"
	  COMMON_HELP },
	{ "triage", cmd_triage, "rank the likely causes of a DAG's failures, with evidence, checks and a fix",
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
	  "Exit status: 1 when the DAG is failing, 0 when it is healthy, 2 on error.\n\n" COMMON_HELP },
	{ "report", cmd_report, "triage every DAG that ran in a period into one report (text, md, json, html)",
	  "usage: dagdoc report [--since 24h] [--source NAME]... [--all | DAG...]\n"
	  "                     [--format text|md|json|html] [-o FILE] [--post URL]\n"
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
	  "      --repo PATH     a git repository to correlate with (repeatable)\n"
	  "      --offline       use only what the store holds; no network\n"
	  "      --no-record     do not record this report's failures (a preview: the next\n"
	  "                      report still calls them new)\n"
	  "      --explain       every evidence weight (text, md, json)\n\n"
	  "Exit status: 1 when a DAG is failing, 0 when none is, 2 when no source could be\n"
	  "read, a DAG named exists nowhere, or the report could not be written or posted.\n\n"
	  COMMON_HELP },
	{ "runbook", cmd_runbook, "a pager-sized runbook for a DAG, or a pattern's checks and fix",
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
	  "2 on error.\n\n" COMMON_HELP },
	{ "help", cmd_help, "show help for dagdoc or one command",
	  "usage: dagdoc help [COMMAND]\n" },
	{ "version", cmd_version, "print the version",
	  "usage: dagdoc version\n" },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < DD_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* The closest command name, or NULL when nothing is close. */
static const char *closest_command(const char *name)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	for (size_t i = 0; i < DD_ARRAY_SIZE(commands); i++) {
		size_t d = dd_edit_distance(name, commands[i].name);

		if (dd_starts_with(commands[i].name, name) && strlen(name) >= 2)
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = commands[i].name;
		}
	}
	return best_d <= 2 || (best && best_d <= strlen(name) / 2) ? best : NULL;
}

static void print_overview(FILE *out)
{
	fprintf(out,
	        "usage: dagdoc <command> [options] [args]\n\n"
	        "dagdoc finds out why Airflow and Prefect pipelines fail.\n\n"
	        "commands:\n");
	for (size_t i = 0; i < DD_ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
	        "\n'dagdoc help <command>' or 'dagdoc <command> --help' shows a command's options.\n"
	        "Exit status: 0 nothing failing, 1 failures found, 2 usage or runtime error.\n");
}

int cli_print_command_help(const char *name, FILE *out)
{
	const struct command *c = find_command(name);

	if (!c)
		return -1;
	fprintf(out, "dagdoc %s - %s\n\n%s", c->name, c->summary, c->help);
	return 0;
}

int cmd_help(int argc, char **argv, struct dd_cli *cli)
{
	(void)cli;
	if (argc < 2) {
		print_overview(stdout);
		return DD_EXIT_OK;
	}
	if (cli_print_command_help(argv[1], stdout) == 0)
		return DD_EXIT_OK;
	{
		const char *near = closest_command(argv[1]);

		if (near)
			return cli_errorf("help", "no command named '%s'; did you mean '%s'?", argv[1], near);
		return cli_errorf("help", "no command named '%s'; see 'dagdoc help'", argv[1]);
	}
}

int cmd_version(int argc, char **argv, struct dd_cli *cli)
{
	(void)argc;
	(void)argv;
	(void)cli;
	printf("dagdoc %s\n", DD_VERSION);
	return DD_EXIT_OK;
}

/* True when argv (after the command) asks for help, before any "--". */
static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct dd_cli cli;
	const struct command *cmd;
	const char *no_color = getenv("NO_COLOR");
	int rc;

	cli_mask_streams();
	memset(&cli, 0, sizeof(cli));
	cli.color = isatty(STDOUT_FILENO) && !(no_color && *no_color);

	if (argc < 2) {
		print_overview(stderr);
		return DD_EXIT_ERROR;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(argc - 1, argv + 1, &cli);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_overview(stdout);
		return DD_EXIT_OK;
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "dagdoc: unknown option '%s'; options go after the command, see 'dagdoc help'\n", argv[1]);
		return DD_EXIT_ERROR;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		const char *near = closest_command(argv[1]);

		if (near)
			fprintf(stderr, "dagdoc: '%s' is not a command; did you mean '%s'?\n", argv[1], near);
		else
			fprintf(stderr, "dagdoc: '%s' is not a command; see 'dagdoc help'\n", argv[1]);
		return DD_EXIT_ERROR;
	}
	if (cmd->fn != cmd_help && wants_help(argc - 1, argv + 1)) {
		cli_print_command_help(cmd->name, stdout);
		return DD_EXIT_OK;
	}
	optind = 0;      /* glibc: reinitialise getopt for the command */
	opterr = 0;
	rc = cmd->fn(argc - 1, argv + 1, &cli);
	if (cli.cfg_loaded)
		config_release(&cli.cfg);
	if (fflush(stdout) != 0 && rc == DD_EXIT_OK)
		rc = DD_EXIT_ERROR;
	return rc;
}
