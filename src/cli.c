/*
 * cli.c - helpers shared by the commands: common options, configuration,
 * colour, error printing.
 */
#include "dagdoc/util.h"

#include "dagdoc/cli.h"

int cli_common_option(struct dd_cli *cli, const char *cmd, int opt, char **argv)
{
	switch (opt) {
	case CLI_OPT_CONFIG:
		cli->config_path = optarg;
		return 1;
	case CLI_OPT_STORE:
		cli->store_path = optarg;
		return 1;
	case 'v':
		cli->verbose++;
		return 1;
	case ':':
		cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		return -1;
	case '?':
		if (optopt && optopt < 0x1000)
			cli_usage_error(cmd, "unknown option '-%c'", optopt);
		else
			cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		return -1;
	default:
		return 0;
	}
}

int cli_config(struct dd_cli *cli, const char *cmd, struct dd_config **out)
{
	struct dd_error err = DD_ERROR_INIT;

	if (!cli->cfg_loaded) {
		if (config_load(cli->config_path, &cli->cfg, &err) < 0) {
			cli_error(cmd, &err);
			return -1;
		}
		cli->cfg_loaded = 1;
		for (size_t i = 0; i < cli->cfg.warnings.n; i++)
			cli_warnf("%s", cli->cfg.warnings.v[i]);
	}
	if (out)
		*out = &cli->cfg;
	return 0;
}

char *cli_store_path(struct dd_cli *cli)
{
	if (cli->store_path)
		return dd_xstrdup(cli->store_path);
	if (cli->cfg_loaded && cli->cfg.store_path)
		return dd_xstrdup(cli->cfg.store_path);
	return config_default_store();
}

int cli_error(const char *cmd, const struct dd_error *err)
{
	fprintf(stderr, "dagdoc %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
	return DD_EXIT_ERROR;
}

int cli_errorf(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dagdoc %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return DD_EXIT_ERROR;
}

void cli_warnf(const char *fmt, ...)
{
	va_list ap;

	fputs("dagdoc: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dagdoc %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see 'dagdoc help %s'\n", cmd);
	return DD_EXIT_ERROR;
}

const char *cli_style(const struct dd_cli *cli, enum cli_style s)
{
	static const char *const seq[] = {
		[CLI_RESET] = "\033[0m", [CLI_BOLD] = "\033[1m", [CLI_DIM] = "\033[2m",
		[CLI_RED] = "\033[31m", [CLI_GREEN] = "\033[32m", [CLI_YELLOW] = "\033[33m",
		[CLI_BLUE] = "\033[34m", [CLI_CYAN] = "\033[36m",
	};

	return cli->color ? seq[s] : "";
}
