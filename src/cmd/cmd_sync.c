/*
 * cmd_sync.c - `dagdoc sync [--source NAME] [--since DURATION] [DAG...]`:
 * fills the store incrementally from one source, or from every configured
 * source at once when none is named and no DAG is.  src/sync.c does the
 * work, through the session (session.h) that triage and report use too;
 * cli_session.c adds Ctrl-C handling and the progress display.
 *
 * Exit status: 0 when everything was stored; 2 on a usage, connector or
 * store error (of any source), or on Ctrl-C (after the current batch is
 * committed); 3 when the store is incomplete: an object the server sent
 * failed its checks, a run or DAG could not be read, or a log could not
 * be fetched this time (what was read whole is stored; the next sync
 * fetches the rest).
 *
 * TEST ONLY: DAGDOC_TEST_SLOW_BATCH=N, see src/cmd/cli_session.c.
 */
#include "dagdoc/util.h"

#include "cli.h"
#include "dagdoc/store.h"
#include "dagdoc/sync.h"

static int cmd_sync(int argc, char **argv, struct dd_cli *cli)
{
	enum { OPT_SOURCE = CLI_OPT_COMMON_LAST + 1, OPT_SINCE };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ NULL, 0, NULL, 0 },
	};
	const char *source_name = NULL, *since = "30d";
	struct dd_source *src;
	struct dd_session s;
	struct dd_error err = DD_ERROR_INIT;
	struct session_source_sync *v = NULL;
	struct dd_strv gaps = DD_STRV_INIT;
	char bytes[32];
	int64_t since_s;
	size_t n = 0;
	int c, exit_code = DD_EXIT_ERROR, failed = 0, partial = 0;

	memset(&s, 0, sizeof(s));
	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SOURCE:
			source_name = optarg;
			break;
		case OPT_SINCE:
			since = optarg;
			break;
		default:
			if (cli_common_option(cli, "sync", c, argv, longopts) <= 0)
				return DD_EXIT_ERROR;
		}
	}
	if (dd_parse_duration(since, &since_s, &err) < 0)
		return cli_usage_error("sync", "--since: %s", err.msg);
	if (cli_session_open(cli, "sync", 0, &s) < 0)
		goto out;
	/* --source, or the first source for DAGs named, else every source at once */
	v = dd_xcalloc(s.cfg->n_sources + 1, sizeof(*v));
	if (source_name || optind < argc || s.cfg->n_sources <= 1) {
		if (config_find_source(s.cfg, source_name, &src, &err) < 0) {
			cli_error("sync", &err);
			goto out;
		}
		v[n++].src = src;
	} else {
		for (size_t i = 0; i < s.cfg->n_sources; i++)
			v[n++].src = &s.cfg->sources[i];
	}
	if (session_sync_sources(&s, v, n, (const char *const *)argv + optind, (size_t)(argc - optind), since_s, 0) ==
	    DD_EINTR)
		failed = 1;
	for (size_t i = 0; i < n; i++) {
		const struct dd_sync_stats *st = &v[i].stats;

		if (v[i].rc < 0) {
			cli_session_error("sync", &s, &v[i].err);
			failed = 1;
			continue;
		}
		cli_format_bytes(st->log_bytes, bytes, sizeof(bytes));
		printf("synced %zu %s from %s (%s): %zu %s (%zu new), %zu %s, %zu %s (%s)\n", st->dags,
		       DD_PLURAL(st->dags, "DAG", "DAGs"), v[i].src->name, v[i].describe, st->runs_in_window,
		       DD_PLURAL(st->runs_in_window, "run", "runs"), st->runs_new, st->tries,
		       DD_PLURAL(st->tries, "try", "tries"), st->logs, DD_PLURAL(st->logs, "log", "logs"), bytes);
		if (st->logs_missing)
			printf("%zu log%s not kept by %s (recorded; not asked for again)\n", st->logs_missing,
			       st->logs_missing == 1 ? " is" : "s are", v[i].src->name);
		/* a sync that left gaps stored what arrived whole: exit 3, not the
		 * usage/runtime error 2, so a scheduler can tell "run it again" */
		dd_strv_release(&gaps);
		if (sync_gap_sentences(st, 1, &gaps)) {
			for (size_t k = 0; k < gaps.n; k++)
				if (n > 1)
					cli_errorf("sync", "%s: %s", v[i].src->name, gaps.v[k]);
				else
					cli_errorf("sync", "%s", gaps.v[k]);
			partial = 1;
		}
	}
	exit_code = failed ? DD_EXIT_ERROR : partial ? DD_EXIT_PARTIAL : DD_EXIT_OK;
out:
	free(v);
	dd_strv_release(&gaps);
	cli_session_close(&s);
	return exit_code;
}

const struct dd_command command_sync = {
	"sync", cmd_sync,
	"fetch new runs, tries and failed-try logs into the local store",
	"usage: dagdoc sync [--source NAME] [--since DURATION] [DAG...]\n\n"
	"Fills the store from one source (all DAGs, or the DAGs named), or from every\n"
	"configured source at once when neither a source nor a DAG is named.  Incremental:\n"
	"runs already finished and stored are not fetched again; only new and\n"
	"unfinished runs, the logs of failed tries not stored yet, and for each failing\n"
	"task the log of its last successful try.  Ctrl-C stops after the current batch;\n"
	"run the same command again to finish.  On a terminal a progress line per source\n"
	"shows DAGs done, runs, logs, bytes, retries and the time left.\n"
	"What the server sends is checked first: an object that fails is reported and\n"
	"nothing of its run is stored.  Exit status 3 when anything could not be\n"
	"stored whole (an object rejected, a run or DAG not read, a log not fetched);\n"
	"the next sync fetches it again.\n\n"
	"      --source NAME   the configured source (default: every source; with DAGs\n"
	"                      named, the first one)\n"
	"      --since DUR     how far back, by logical date (default 30d; 24h, 2w, ...)\n"
	CLI_COMMON_HELP
};
