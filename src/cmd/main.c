/*
 * main.c - the command table (commands.def) and dispatch.  Each command
 * lives in src/cmd/cmd_NAME.c; see cli.h for the calling convention.
 */
#include "dagdoc/util.h"

#include <unistd.h>

#include "cli.h"

static const struct dd_command *const commands[] = {
#define DD_COMMAND(name) &command_##name,
#include "commands.def"
#undef DD_COMMAND
};

static const struct dd_command *find_command(const char *name)
{
	for (size_t i = 0; i < DD_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

const char *cli_closest_command(const char *name)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	for (size_t i = 0; i < DD_ARRAY_SIZE(commands); i++) {
		size_t d = dd_edit_distance(name, commands[i]->name);

		if (dd_starts_with(commands[i]->name, name) && strlen(name) >= 2)
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = commands[i]->name;
		}
	}
	return best_d <= 2 || (best && best_d <= strlen(name) / 2) ? best : NULL;
}

void cli_print_overview(FILE *out)
{
	fprintf(out,
	        "usage: dagdoc <command> [options] [args]\n\n"
	        "dagdoc finds out why Airflow and Prefect pipelines fail.\n\n"
	        "commands:\n");
	for (size_t i = 0; i < DD_ARRAY_SIZE(commands); i++)
		if (commands[i]->summary)
			fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out,
	        "\n'dagdoc help <command>' or 'dagdoc <command> --help' shows a command's options.\n"
	        "Exit status: 0 nothing failing, 1 failures found, 2 usage or runtime error.\n");
}

int cli_print_command_help(const char *name, FILE *out)
{
	const struct dd_command *c = find_command(name);

	if (!c)
		return -1;
	fprintf(out, "dagdoc %s - %s\n\n%s", c->name, c->summary ? c->summary : "for the shell completions", c->help);
	return 0;
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
	const struct dd_command *cmd;
	const char *no_color = getenv("NO_COLOR");
	int rc;

	cli_mask_streams();
	memset(&cli, 0, sizeof(cli));
	cli.color = isatty(STDOUT_FILENO) && !(no_color && *no_color);

	if (argc < 2) {
		cli_print_overview(stderr);
		return DD_EXIT_ERROR;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return command_version.run(argc - 1, argv + 1, &cli);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_print_overview(stdout);
		return DD_EXIT_OK;
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "dagdoc: unknown option '%s'; options go after the command, see 'dagdoc help'\n", argv[1]);
		return DD_EXIT_ERROR;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		const char *near = cli_closest_command(argv[1]);

		if (near)
			fprintf(stderr, "dagdoc: '%s' is not a command; did you mean '%s'?\n", argv[1], near);
		else
			fprintf(stderr, "dagdoc: '%s' is not a command; see 'dagdoc help'\n", argv[1]);
		return DD_EXIT_ERROR;
	}
	if (cmd != &command_help && wants_help(argc - 1, argv + 1)) {
		cli_print_command_help(cmd->name, stdout);
		return DD_EXIT_OK;
	}
	optind = 0;      /* glibc: reinitialise getopt for the command */
	opterr = 0;
	rc = cmd->run(argc - 1, argv + 1, &cli);
	if (cli.cfg_loaded)
		config_release(&cli.cfg);
	if (fflush(stdout) != 0 && rc == DD_EXIT_OK)
		rc = DD_EXIT_ERROR;
	return rc;
}
