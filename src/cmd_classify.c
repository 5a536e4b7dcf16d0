/*
 * cmd_classify.c - `dagdoc classify [--format text|json] [FILE...|-]`:
 * classify each log file (or standard input) with the pattern library.
 */
#include "dagdoc/util.h"

#include <cjson/cJSON.h>

#include "dagdoc/classify.h"
#include "dagdoc/cli.h"
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

/* Loads built-ins + config pattern_dirs + --patterns dirs; prints every
 * problem.  Shared with cmd_patterns.c through this little helper. */
int cmd_load_patterns(struct dd_cli *cli, const char *cmd, const struct dd_strv *extra, struct pat_library **out);

int cmd_load_patterns(struct dd_cli *cli, const char *cmd, const struct dd_strv *extra, struct pat_library **out)
{
	struct dd_config *cfg;
	struct dd_strv dirs = DD_STRV_INIT, problems = DD_STRV_INIT;
	struct dd_error err = DD_ERROR_INIT;
	if (cli_config(cli, cmd, &cfg) < 0)
		return -1;
	for (size_t i = 0; i < cfg->pattern_dirs.n; i++)
		dd_strv_push(&dirs, cfg->pattern_dirs.v[i]);
	for (size_t i = 0; extra && i < extra->n; i++)
		dd_strv_push(&dirs, extra->v[i]);
	int rc = classify_library_load(NULL, &dirs, out, &problems, &err);
	dd_strv_release(&dirs);
	if (rc < 0) {
		if (problems.n) {
			for (size_t i = 0; i < problems.n; i++)
				fprintf(stderr, "%s\n", problems.v[i]);
			fprintf(stderr, "dagdoc %s: %zu problem%s in the pattern library; fix %s and run again\n", cmd,
			        problems.n, problems.n == 1 ? "" : "s", problems.n == 1 ? "it" : "them");
		} else {
			cli_error(cmd, &err);
		}
		dd_strv_release(&problems);
		return -1;
	}
	dd_strv_release(&problems);
	return 0;
}

static void print_text(const struct dd_failure *f, struct dd_cli *cli, FILE *out)
{
	const char *B = cli_style(cli, CLI_BOLD), *R = cli_style(cli, CLI_RESET), *D = cli_style(cli, CLI_DIM);
	const char *col = !strcmp(f->category, "none") ? cli_style(cli, CLI_GREEN) : cli_style(cli, CLI_RED);

	if (!strcmp(f->category, "none")) {
		fprintf(out, "%s%s%s: %snone%s - %s\n", B, f->input, R, col, R,
		        f->success ? "the task succeeded" : "no failure found");
	} else if (!strcmp(f->category, "unknown")) {
		fprintf(out, "%s%s%s: %sunknown%s - a failure neither a pattern nor the knowledge base explains\n", B,
		        f->input, R, col, R);
	} else {
		fprintf(out, "%s%s%s: %s%s%s  %s  %s\n", B, f->input, R, col, f->category, R, f->pattern, f->title);
		fprintf(out, "  confidence  %.2f\n", f->confidence);
	}
	if (f->stage)
		fprintf(out, "  stage       %s\n", f->stage);
	for (size_t i = 0; i < f->n_alternatives; i++)
		fprintf(out, "  %s %s %.2f (%s)\n", i ? "           " : "or perhaps ", f->alternatives[i].category,
		        f->alternatives[i].confidence, f->alternatives[i].source);
	if (f->exc_type || f->exc_message) {
		const char *msg = f->exc_message ? f->exc_message : "";
		const char *nl = strchr(msg, '\n');
		int len = nl ? (int)(nl - msg) : (int)strlen(msg);
		if (len > 300)
			len = 300;
		fprintf(out, "  exception   %s%s%.*s%s\n", f->exc_type ? f->exc_type : "", f->exc_type && *msg ? ": " : "",
		        len, msg, nl || (int)strlen(msg) > len ? " ..." : "");
	}
	if (f->line_first) {
		if (f->line_first == f->line_last)
			fprintf(out, "  line        %zu\n", f->line_first);
		else
			fprintf(out, "  lines       %zu-%zu\n", f->line_first, f->line_last);
	}
	if (f->fingerprint)
		fprintf(out, "  fingerprint %s\n", f->fingerprint);
	if (f->n_entities) {
		fprintf(out, "  entities   ");
		for (size_t i = 0; i < f->n_entities; i++)
			fprintf(out, " %s=%s", f->entities[i].name, f->entities[i].value);
		fprintf(out, "\n");
	}
	if (f->excerpt) {
		fprintf(out, "  excerpt\n");
		size_t ln = f->excerpt_first;
		const char *s = f->excerpt;
		(void)ln;
		while (*s) {
			const char *e = strchr(s, '\n');
			size_t len = e ? (size_t)(e - s) : strlen(s);
			fprintf(out, "    %s|%s %.*s\n", D, R, (int)len, s);
			s += len + (e ? 1 : 0);
		}
	}
	for (size_t i = 0; i < f->checks.n; i++)
		fprintf(out, "  check       %s\n", f->checks.v[i]);
	for (size_t i = 0; i < f->fix.n; i++)
		fprintf(out, "  fix         %s\n", f->fix.v[i]);
	for (size_t i = 0; i < f->n_secondary; i++)
		fprintf(out, "  %s   %s (%s) line %zu\n", i == 0 ? "also seen" : "         ", f->secondary[i].pattern,
		        f->secondary[i].category, f->secondary[i].line);
	if (f->retries) {
		fprintf(out, "  retries     %zu (line", f->retries);
		fprintf(out, "%s", f->n_retry_lines > 1 ? "s" : "");
		for (size_t i = 0; i < f->n_retry_lines; i++)
			fprintf(out, "%s %zu", i ? "," : "", f->retry_lines[i]);
		fprintf(out, "%s)\n", f->retries > f->n_retry_lines ? ", ..." : "");
	}
	for (size_t i = 0; i < f->warnings.n; i++)
		fprintf(out, "  warning     %s\n", f->warnings.v[i]);
}

int cmd_classify(int argc, char **argv, struct dd_cli *cli)
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
		if (cli_common_option(cli, "classify", c, argv) <= 0) {
			dd_strv_release(&extra);
			return DD_EXIT_ERROR;
		}
	}
	struct pat_library *lib = NULL;
	int rc = cmd_load_patterns(cli, "classify", &extra, &lib);
	dd_strv_release(&extra);
	if (rc < 0)
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
			char *s = cJSON_PrintUnformatted(o);
			cli_put_utf8(stdout, s, strlen(s));
			fputc('\n', stdout);
			free(s);
			cJSON_Delete(o);
		} else {
			if (i)
				fputc('\n', stdout);
			print_text(&f, cli, stdout);
		}
		dd_failure_release(&f);
	}
	fflush(stdout);
	pat_library_free(lib);
	if (errors)
		return DD_EXIT_ERROR;
	return failing ? DD_EXIT_FAILING : DD_EXIT_OK;
}
