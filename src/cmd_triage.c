/*
 * cmd_triage.c - `dagdoc triage <dag_id|flow_name>`: sync (unless
 * --offline), analyse, rank and print the likely causes.
 *
 * Exit status: 1 when the DAG is failing, 0 when it is healthy, 2 on error.
 */
#include "dagdoc/util.h"

#include <cJSON.h>

#include "dagdoc/classify.h"
#include "dagdoc/cli.h"
#include "dagdoc/gitcorr.h"
#include "dagdoc/store.h"
#include "dagdoc/sync.h"
#include "dagdoc/triage.h"

int cmd_triage(int argc, char **argv, struct dd_cli *cli)
{
	enum { OPT_SOURCE = CLI_OPT_COMMON_LAST + 1, OPT_SINCE, OPT_REPO, OPT_OFFLINE, OPT_EXPLAIN, OPT_FORMAT };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "repo", required_argument, NULL, OPT_REPO },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ NULL, 0, NULL, 0 },
	};
	const char *source_name = NULL, *since = "30d", *format = "text", *dag_id;
	struct dd_strv repo_args = DD_STRV_INIT;
	int offline = 0, explain = 0, c, exit_code = DD_EXIT_ERROR;
	struct dd_config *cfg;
	struct dd_source *src = NULL;
	struct dd_store *store = NULL;
	struct pat_library *lib = NULL;
	struct gitcorr_repo **repos = NULL;
	size_t n_repos = 0;
	struct triage_result t;
	struct dd_error err = DD_ERROR_INIT;
	int64_t since_s, dag_ref;

	memset(&t, 0, sizeof(t));
	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SOURCE: source_name = optarg; break;
		case OPT_SINCE: since = optarg; break;
		case OPT_REPO: dd_strv_push(&repo_args, optarg); break;
		case OPT_OFFLINE: offline = 1; break;
		case OPT_EXPLAIN: explain = 1; break;
		case OPT_FORMAT: format = optarg; break;
		default:
			if (cli_common_option(cli, "triage", c, argv) <= 0)
				goto out;
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "md")) {
		cli_usage_error("triage", "--format must be text, json or md, not '%s'", format);
		goto out;
	}
	if (dd_parse_duration(since, &since_s, &err) < 0) {
		cli_usage_error("triage", "--since: %s", err.msg);
		goto out;
	}
	if (optind + 1 != argc) {
		cli_usage_error("triage", optind == argc ? "name the DAG (or Prefect flow) to triage"
		                                         : "triage takes one DAG; use 'dagdoc report' for several");
		goto out;
	}
	dag_id = argv[optind];
	if (cli_config(cli, "triage", &cfg) < 0)
		goto out;
	for (size_t i = 0; i < repo_args.n; i++)
		config_add_repo(cfg, repo_args.v[i]);

	if (cli_open_store(cli, "triage", offline, &store) < 0)
		goto out;
	if (cli_find_dag(cli, "triage", store, source_name, offline, dag_id, since_s, 0, &src, &dag_ref) < 0)
		goto out;
	lib = cli_patterns(cli, "triage");
	if (!lib)
		goto out;
	n_repos = cli_open_repos(cfg, &repos);
	if (cli_triage(cli, "triage", store, src, dag_ref, lib, repos, n_repos, since_s, offline, &t) < 0)
		goto out;
	if (!strcmp(format, "json")) {
		cJSON *j = triage_to_json(&t, explain);
		char *s = cJSON_Print(j);

		cli_put_utf8(stdout, s, strlen(s));
		putchar('\n');
		free(s);
		cJSON_Delete(j);
	} else {
		struct triage_style st = { cli->color, explain, 0, 0 };

		if (!strcmp(format, "md"))
			triage_render_md(&t, &st, stdout);
		else
			triage_render_text(&t, &st, stdout);
	}
	exit_code = t.failing ? DD_EXIT_FAILING : DD_EXIT_OK;
out:
	triage_release(&t);
	cli_close_repos(repos, n_repos);
	pat_library_free(lib);
	store_close(store);
	dd_strv_release(&repo_args);
	return exit_code;
}
