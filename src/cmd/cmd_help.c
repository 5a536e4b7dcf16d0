/*
 * cmd_help.c - `dagdoc help [COMMAND]` and `dagdoc version`.
 */
#include "dagdoc/util.h"

#include "cli.h"

static int cmd_help(int argc, char **argv, struct dd_cli *cli)
{
	const char *near;

	(void)cli;
	if (argc < 2) {
		cli_print_overview(stdout);
		return DD_EXIT_OK;
	}
	if (cli_print_command_help(argv[1], stdout) == 0)
		return DD_EXIT_OK;
	near = cli_closest_command(argv[1]);
	if (near)
		return cli_errorf("help", "no command named '%s'; did you mean '%s'?", argv[1], near);
	return cli_errorf("help", "no command named '%s'; see 'dagdoc help'", argv[1]);
}

static int cmd_version(int argc, char **argv, struct dd_cli *cli)
{
	(void)argc;
	(void)argv;
	(void)cli;
	printf("dagdoc %s\n", DD_VERSION);
	return DD_EXIT_OK;
}

const struct dd_command command_help = {
	"help", cmd_help,
	"show help for dagdoc or one command",
	"usage: dagdoc help [COMMAND]\n"
};

const struct dd_command command_version = {
	"version", cmd_version,
	"print the version",
	"usage: dagdoc version\n"
};
