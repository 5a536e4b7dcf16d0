/*
 * cmd_sync.c - `dagdoc sync [--source NAME] [--since DURATION] [DAG...]`:
 * fills the store from one source, incrementally.  src/sync.c does the
 * work; cli_run_sync (src/cli.c) adds Ctrl-C handling and the progress line
 * shared with triage and report.
 *
 * Exit status: 0 when everything was stored; 2 on a usage, connector or
 * store error, on Ctrl-C (after the current batch is committed), and when
 * the store is incomplete: an object the server sent failed its checks, a
 * run or DAG could not be read, or a log could not be fetched this time
 * (what was read whole is stored; the next sync fetches the rest).
 *
 * TEST ONLY: DAGDOC_TEST_SLOW_BATCH=N, see src/cli.c.
 */
#include "dagdoc/util.h"

#include "dagdoc/cli.h"
#include "dagdoc/store.h"
#include "dagdoc/sync.h"

int cmd_sync(int argc, char **argv, struct dd_cli *cli)
{
	enum { OPT_SOURCE = CLI_OPT_COMMON_LAST + 1, OPT_SINCE };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ NULL, 0, NULL, 0 },
	};
	const char *source_name = NULL, *since = "30d";
	struct dd_config *cfg;
	struct dd_source *src;
	struct dd_store *store = NULL;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_sync_stats st;
	char describe[256], bytes[32];
	int64_t since_s;
	char *store_path;
	int c, exit_code = DD_EXIT_ERROR;

	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SOURCE:
			source_name = optarg;
			break;
		case OPT_SINCE:
			since = optarg;
			break;
		default:
			if (cli_common_option(cli, "sync", c, argv) <= 0)
				return DD_EXIT_ERROR;
		}
	}
	if (dd_parse_duration(since, &since_s, &err) < 0)
		return cli_usage_error("sync", "--since: %s", err.msg);
	if (cli_config(cli, "sync", &cfg) < 0)
		return DD_EXIT_ERROR;
	if (config_find_source(cfg, source_name, &src, &err) < 0)
		return cli_error("sync", &err);

	store_path = cli_store_path(cli);
	if (store_open(store_path, &store, &err) < 0) {
		cli_error("sync", &err);
		goto out;
	}
	if (cli_run_sync(cli, "sync", src, store, (const char *const *)argv + optind,
	                 (size_t)(argc - optind), since_s, CLI_SYNC_NO_GAPS, &st, describe, sizeof(describe),
	                 NULL) < 0)
		goto out;

	cli_format_bytes(st.log_bytes, bytes, sizeof(bytes));
	printf("synced %zu DAG%s from %s (%s): %zu runs (%zu new), %zu tries, %zu logs (%s)\n",
	       st.dags, st.dags == 1 ? "" : "s", src->name, describe, st.runs_in_window,
	       st.runs_new, st.tries, st.logs, bytes);
	if (st.logs_missing)
		printf("%zu log%s not kept by %s (recorded; not asked for again)\n", st.logs_missing,
		       st.logs_missing == 1 ? " is" : "s are", src->name);
	if (cli_sync_gaps("sync", &st, 0))
		goto out;
	exit_code = DD_EXIT_OK;
out:
	store_close(store);
	free(store_path);
	return exit_code;
}
