/*
 * cmd_store.c - `dagdoc store migrate --to URL [--from FILE]`: copy a
 * store (the SQLite file) into an empty PostgreSQL database, ids and all,
 * so a team can share what one machine synced.
 */
#include "dagdoc/util.h"

#include "dagdoc/store.h"
#include "cli.h"

enum { OPT_TO = CLI_OPT_COMMON_LAST, OPT_FROM };

struct copied {
	struct dd_strv lines;
	int64_t rows;
};

static void on_table(const char *table, int64_t rows, void *ud)
{
	struct copied *c = ud;

	dd_strv_push_owned(&c->lines, dd_xasprintf("  %-18s %lld", table, (long long)rows));
	c->rows += rows;
}

static int store_migrate(struct dd_cli *cli, const char *from, const char *to)
{
	struct dd_config *cfg;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store *src = NULL, *dst = NULL;
	struct copied c = { DD_STRV_INIT, 0 };
	char *from_path, *to_shown = store_redact(to);
	int exit_code = DD_EXIT_ERROR;

	if (cli_config(cli, "store", &cfg) < 0)
		goto out_shown;
	from_path = from ? dd_xstrdup(from) : cli_store_path(cli);
	{
		struct store_opts o = { cfg->store_password, 0 };

		if (store_open_with(from_path, &o, &src, &err) < 0 || store_open_with(to, &o, &dst, &err) < 0) {
			cli_error("store", &err);
			goto out;
		}
	}
	if (store_copy(src, dst, on_table, &c, &err) < 0) {
		cli_error("store", &err);
		goto out;
	}
	printf("copied %s into %s (%lld rows, ids kept):\n", store_shown(src), to_shown, (long long)c.rows);
	for (size_t i = 0; i < c.lines.n; i++)
		printf("%s\n", c.lines.v[i]);
	printf("next: set 'store: %s' in the configuration (the password in store_password_env, "
	       "PGPASSWORD or ~/.pgpass)\n", to_shown);
	exit_code = DD_EXIT_OK;
out:
	store_close(dst);
	store_close(src);
	dd_strv_release(&c.lines);
	free(from_path);
out_shown:
	free(to_shown);
	return exit_code;
}

static int cmd_store(int argc, char **argv, struct dd_cli *cli)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "to", required_argument, NULL, OPT_TO },
		{ "from", required_argument, NULL, OPT_FROM },
		{ NULL, 0, NULL, 0 },
	};
	const char *to = NULL, *from = NULL;
	int c;

	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		if (c == OPT_TO)
			to = optarg;
		else if (c == OPT_FROM)
			from = optarg;
		else if (cli_common_option(cli, "store", c, argv, longopts) <= 0)
			return DD_EXIT_ERROR;
	}
	if (optind >= argc)
		return cli_usage_error("store", "what to do? 'dagdoc store migrate --to postgresql://...'");
	if (strcmp(argv[optind], "migrate"))
		return cli_usage_error("store", "unknown action '%s'; the one there is: migrate", argv[optind]);
	if (optind + 1 < argc)
		return cli_usage_error("store", "unexpected argument '%s'", argv[optind + 1]);
	if (!to || !store_is_url(to))
		return cli_usage_error("store", "migrate needs --to postgresql://USER@HOST/DATABASE (an empty database)");
	return store_migrate(cli, from, to);
}

const struct dd_command command_store = {
	"store", cmd_store,
	"copy the store into a PostgreSQL database (store migrate)",
	"usage: dagdoc store migrate --to postgresql://USER@HOST[:PORT]/DATABASE [--from FILE]\n\n"
	"Copies every table of a store (--from FILE, default the configured store)\n"
	"into an empty PostgreSQL database, in one transaction, keeping every id, and\n"
	"prints how many rows each table had.  A database holding data is refused.\n"
	"The password: in the URL, or the variable the configuration's\n"
	"store_password_env names, or libpq's own (PGPASSWORD, PGSERVICE, ~/.pgpass);\n"
	"it is never printed.  Then point 'store:' in the configuration at the URL:\n"
	"several dagdoc processes may use it at once.\n\n"
	"options:\n"
	"      --to URL        the PostgreSQL database (postgresql:// or postgres://)\n"
	"      --from FILE     the store to copy (default the configured one)\n" CLI_COMMON_HELP
};
