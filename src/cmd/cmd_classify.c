/*
 * cmd_classify.c - `dagdoc classify [--format text|json] [FILE...|-]`:
 * classify each log file (or standard input) with the pattern library.
 */
#include "dagdoc/util.h"

#include <cjson/cJSON.h>

#include "dagdoc/classify.h"
#include "dagdoc/jsonout.h"
#include "cli.h"
#include "dagdoc/pattern.h"

enum { OPT_FORMAT = CLI_OPT_COMMON_LAST + 1, OPT_PATTERNS };

/* The most classify reads of one input (documented in `dagdoc help
 * classify`): an endless input (/dev/zero, a pipe that never closes) ends
 * with a sentence, not never. */
#define CLASSIFY_MAX_INPUT_MB 512

struct feed {
	struct classify *c;
	struct dd_error *err;
};

static int feed_piece(const char *p, size_t n, void *ud)
{
	struct feed *f = ud;

	return classify_feed(f->c, p, n, f->err);
}

/* Classifies one file or "-" (standard input), reading at most
 * CLASSIFY_MAX_INPUT_MB. */
static int classify_input(const struct pat_library *lib, const char *path, struct dd_failure *out,
                          struct dd_error *err)
{
	struct feed f = { classify_new(lib, path), err };
	int rc = dd_read_stream(path, (size_t)CLASSIFY_MAX_INPUT_MB << 20, feed_piece, &f, err);

	memset(out, 0, sizeof(*out));
	if (rc == DD_ELIMIT)
		dd_error_set(err, DD_ELIMIT, "%s: more than %d MiB of input; classify reads at most %d MiB of "
		             "one log: give it the end of the log (tail -c 256M FILE | dagdoc classify -)",
		             strcmp(path, "-") ? path : "standard input", CLASSIFY_MAX_INPUT_MB,
		             CLASSIFY_MAX_INPUT_MB);
	if (rc == 0)
		rc = classify_finish(f.c, out, err);
	classify_free(f.c);
	return rc;
}

static int cmd_classify(int argc, char **argv, struct dd_cli *cli)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "patterns", required_argument, NULL, OPT_PATTERNS },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, c;
	struct dd_strv extra = DD_STRV_INIT;

	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		if (c == OPT_FORMAT) {
			if (!strcmp(optarg, "json")) {
				json = 1;
			} else if (!strcmp(optarg, "text")) {
				json = 0;
			} else {
				dd_strv_release(&extra);
				return cli_usage_error("classify", "--format must be text or json, not '%s'", optarg);
			}
			continue;
		}
		if (c == OPT_PATTERNS) {
			dd_strv_push(&extra, optarg);
			continue;
		}
		if (cli_common_option(cli, "classify", c, argv, longopts) <= 0) {
			dd_strv_release(&extra);
			return DD_EXIT_ERROR;
		}
	}
	struct pat_library *lib = cli_patterns(cli, "classify", &extra);
	dd_strv_release(&extra);
	if (!lib)
		return DD_EXIT_ERROR;

	const char *stdin_only[] = { "-" };
	const char *const *inputs = optind < argc ? (const char *const *)argv + optind : stdin_only;
	size_t n_inputs = optind < argc ? (size_t)(argc - optind) : 1;
	int failing = 0, errors = 0;

	for (size_t i = 0; i < n_inputs; i++) {
		struct dd_failure f;
		struct dd_error err = DD_ERROR_INIT;
		if (classify_input(lib, inputs[i], &f, &err) < 0) {
			cli_error("classify", &err);
			errors++;
			dd_failure_release(&f);
			continue;
		}
		if (strcmp(f.category, "none"))
			failing = 1;
		if (json) {
			cJSON *o = dd_failure_to_json(&f);
			char *s;

			jsonout_schema_version(o);
			s = cJSON_PrintUnformatted(o);
			cli_put_utf8(stdout, s, strlen(s));
			fputc('\n', stdout);
			free(s);
			cJSON_Delete(o);
		} else {
			if (i)
				fputc('\n', stdout);
			dd_failure_render_text(&f, cli->color, stdout);
		}
		dd_failure_release(&f);
	}
	fflush(stdout);
	pat_library_free(lib);
	if (errors)
		return DD_EXIT_ERROR;
	return failing ? DD_EXIT_FAILING : DD_EXIT_OK;
}

const struct dd_command command_classify = {
	"classify", cmd_classify,
	"classify task logs with the pattern library",
	"usage: dagdoc classify [--format text|json] [--patterns DIR] [FILE...|-]\n\n"
	"Reads each log (Airflow 2/3 files or API JSON, Prefect, plain text; '-' or no\n"
	"FILE = standard input) and prints the failure it shows: category, pattern,\n"
	"confidence, exception, fingerprint, a redacted excerpt, checks, fix and the\n"
	"other patterns that matched.  Category 'none' = no failure (the task\n"
	"succeeded or nothing failed); 'unknown' = a failure no pattern explains.\n"
	"JSON: one object per input, one per line.  One input is read up to 512 MiB\n"
	"(more is an error: give it the log's end).  Exit status: 0 every input is\n"
	"none, 1 a failure was found, 2 an input could not be read or a pattern is bad.\n\n"
	"      --format F      text (default) or json\n"
	"      --patterns DIR  also load the pattern files of DIR (repeatable; after\n"
	"                      the config's 'patterns' folders, overriding by id)\n"
	CLI_COMMON_HELP
};
