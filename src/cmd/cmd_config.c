/*
 * cmd_config.c - `dagdoc config`: the effective configuration, masked.
 */
#include "dagdoc/util.h"

#include "cli.h"

static int cmd_config(int argc, char **argv, struct dd_cli *cli)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct dd_config *cfg;
	int c;

	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1)
		if (cli_common_option(cli, "config", c, argv, longopts) <= 0)
			return DD_EXIT_ERROR;
	if (optind < argc)
		return cli_usage_error("config", "unexpected argument '%s'", argv[optind]);
	if (cli_config(cli, "config", &cfg) < 0)
		return DD_EXIT_ERROR;
	if (cli->store_path) {
		free(cfg->store_path);
		cfg->store_path = dd_xstrdup(cli->store_path);
	}
	config_print(cfg, stdout);
	return DD_EXIT_OK;
}

const struct dd_command command_config = {
	"config", cmd_config,
	"print the effective configuration, secrets masked",
	"usage: dagdoc config [--config FILE]\n\n"
	"Prints the configuration dagdoc would use (file, then environment, then flags)\n"
	"as YAML, with every secret shown as ****.  Warns when the file holds a secret\n"
	"and is readable by group or others.\n\n" CLI_COMMON_HELP
};
