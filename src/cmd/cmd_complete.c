/*
 * cmd_complete.c - `dagdoc complete sources|dags [--source NAME]`: the
 * words the shell completions offer (examples/dagdoc.bash-completion,
 * _dagdoc for zsh, dagdoc.fish), one a line.  Not listed by `dagdoc help`:
 * it is for the completions, not for people.
 *
 * sources: the configured source names.  dags: the DAG ids the store holds
 * (of one source with --source), read offline; a store that does not exist
 * yet is not created, and gives none.  Exit 0 whatever it finds; 2 on a
 * usage error or a configuration that cannot be read.
 */
#include "dagdoc/util.h"

#include <unistd.h>

#include "cli.h"

static int cmd_complete(int argc, char **argv, struct dd_cli *cli)
{
	enum { OPT_SOURCE = CLI_OPT_COMMON_LAST + 1 };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ NULL, 0, NULL, 0 },
	};
	const char *source = NULL, *what;
	struct dd_strv words = DD_STRV_INIT;
	int c, rc = DD_EXIT_OK;

	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		if (c == OPT_SOURCE)
			source = optarg;
		else if (cli_common_option(cli, "complete", c, argv, longopts) <= 0)
			return DD_EXIT_ERROR;
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "sources") && strcmp(argv[optind], "dags")))
		return cli_usage_error("complete", "name what to list: sources or dags");
	what = argv[optind];
	if (!strcmp(what, "sources")) {
		struct dd_config *cfg;

		if (cli_config(cli, "complete", &cfg) < 0)
			return DD_EXIT_ERROR;
		for (size_t i = 0; i < cfg->n_sources; i++)
			dd_strv_push(&words, cfg->sources[i].name);
	} else {
		char *path = cli_store_path(cli);
		struct dd_session s;
		struct dd_error err = DD_ERROR_INIT;
		int exists = store_is_url(path) || access(path, F_OK) == 0;

		free(path);
		if (exists) {
			if (cli_session_open(cli, "complete", 1, &s) < 0)
				return DD_EXIT_ERROR;
			if (session_dag_ids(&s, source, &words, &err) < 0)
				rc = cli_error("complete", &err);
			session_close(&s);
		}
	}
	for (size_t i = 0; i < words.n; i++)
		printf("%s\n", words.v[i]);
	dd_strv_release(&words);
	return rc;
}

const struct dd_command command_complete = {
	"complete", cmd_complete,
	NULL,   /* not listed by `dagdoc help` */
	"usage: dagdoc complete sources|dags [--source NAME]\n\n"
	"The words the shell completions offer, one a line: the configured source\n"
	"names, or the DAG ids the store holds (of one source with --source), read\n"
	"offline.  For the completion scripts; not listed by 'dagdoc help'.\n\n" CLI_COMMON_HELP
};
