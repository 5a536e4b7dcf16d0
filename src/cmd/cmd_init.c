/*
 * cmd_init.c - `dagdoc init`: write a first, commented configuration from
 * what this machine shows, never over an existing one.
 */
#include "dagdoc/util.h"

#include <unistd.h>

#include "dagdoc/config.h"
#include "cli.h"

static int cmd_init(int argc, char **argv, struct dd_cli *cli)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf text = DD_BUF_INIT;
	struct dd_strv found = DD_STRV_INIT;
	char cwd[4096];
	char *path;
	int c, n_sources, exit_code = DD_EXIT_ERROR;

	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1)
		if (cli_common_option(cli, "init", c, argv, longopts) <= 0)
			return DD_EXIT_ERROR;
	if (optind < argc)
		return cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), ".");
	path = cli->config_path ? dd_xstrdup(cli->config_path) : config_default_file();
	n_sources = config_init_text(cwd, &text, &found, &err);
	if (dd_write_file_atomic(path, text.data, text.len, DD_WRITE_MKDIR | DD_WRITE_NEW | DD_WRITE_PRIVATE,
	                         &err) < 0) {
		if (err.code == DD_EEXIST)
			cli_errorf("init", "%s already exists and was left as it is; 'dagdoc config --config %s' "
			           "shows what it sets, or give another file with --config FILE", path, path);
		else
			cli_error("init", &err);
		goto out;
	}
	printf("wrote %s\n", path);
	if (found.n)
		for (size_t i = 0; i < found.n; i++)
			printf("  found %s\n", found.v[i]);
	else
		printf("  found no source and no git repository; the file says what to add\n");
	printf("next: %s, then 'dagdoc sync%s%s' and 'dagdoc report%s%s'\n",
	       n_sources ? "check it" : "add a source to it",
	       cli->config_path ? " --config " : "", cli->config_path ? path : "",
	       cli->config_path ? " --config " : "", cli->config_path ? path : "");
	exit_code = DD_EXIT_OK;
out:
	dd_strv_release(&found);
	dd_buf_release(&text);
	free(path);
	return exit_code;
}

const struct dd_command command_init = {
	"init", cmd_init,
	"write a first configuration from what is found here",
	"usage: dagdoc init [--config FILE]\n\n"
	"Writes a commented configuration (default ~/.config/dagdoc/config.yaml, mode\n"
	"600) from what it finds: the sources the environment names (DAGDOC_AIRFLOW_URL\n"
	"with DAGDOC_AIRFLOW_USERNAME/_PASSWORD/_TOKEN, PREFECT_API_URL with\n"
	"PREFECT_API_KEY or PREFECT_API_AUTH_STRING, DAGDOC_LOGS_PATH), the git\n"
	"repository the current folder is in (its branch, dags/ and flows/ folders)\n"
	"and the requirement files there.  Secrets go in as the names of their\n"
	"variables, never as values.  An existing file is never replaced.\n\n" CLI_COMMON_HELP
};
