/*
 * cmd_patterns.c - `dagdoc patterns list [--category C]`,
 * `dagdoc patterns show ID`, `dagdoc patterns test [DIR]`.
 */
#include "dagdoc/util.h"

#include "dagdoc/classify.h"
#include "cli.h"
#include "dagdoc/logparse.h"
#include "dagdoc/pattern.h"

enum { OPT_CATEGORY = CLI_OPT_COMMON_LAST + 1 };

/* in cmd_classify.c */

static int do_list(struct pat_library *lib, const char *category, struct dd_cli *cli)
{
	size_t n = pat_library_count(lib), shown = 0;
	const char *D = cli_color(cli, RC_DIM), *R = cli_color(cli, RC_RESET);
	for (size_t i = 0; i < n; i++) {
		const struct pat_pattern *p = pat_library_get(lib, i);
		if (category && strcmp(p->category, category))
			continue;
		printf("%-44s %-18s %.2f  %s%s%s\n", p->id, p->category, p->confidence, p->title,
		       p->user ? D : "", p->user ? " (user)" : "");
		(void)R;
		shown++;
	}
	if (cli->verbose)
		fprintf(stderr, "%zu patterns\n", shown);
	return DD_EXIT_OK;
}

static void print_list(const char *label, const struct dd_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		const char *s = sv->v[i];
		printf("%-16s", i == 0 ? label : "");
		/* multi-line values (example tracebacks) are indented */
		while (*s) {
			const char *e = strchr(s, '\n');
			size_t len = e ? (size_t)(e - s) : strlen(s);
			printf("%.*s\n", (int)len, s);
			s += len + (e ? 1 : 0);
			if (*s)
				printf("%-16s", "");
		}
		if (!*sv->v[i])
			printf("\n");
	}
}

static int do_show(struct pat_library *lib, const char *id)
{
	const struct pat_pattern *p = pat_library_find(lib, id);
	if (!p) {
		struct dd_closest near = DD_CLOSEST_INIT(id);
		int rc;

		for (size_t i = 0; i < pat_library_count(lib); i++)
			dd_closest_offer(&near, pat_library_get(lib, i)->id);
		if (dd_closest_pick(&near))
			rc = cli_errorf("patterns", "no pattern with id '%s'; did you mean '%s'?", id, dd_closest_pick(&near));
		else
			rc = cli_errorf("patterns", "no pattern with id '%s'; see 'dagdoc patterns list'", id);
		dd_closest_release(&near);
		return rc;
	}
	printf("%-16s%s\n", "id", p->id);
	printf("%-16s%s\n", "title", p->title);
	printf("%-16s%s\n", "category", p->category);
	printf("%-16s%.2f\n", "confidence", p->confidence);
	if (p->stage)
		printf("%-16s%s\n", "stage", p->stage);
	printf("%-16s%s:%d%s\n", "defined at", p->file, p->line, p->user ? " (user pattern)" : "");
	print_list("match", &p->regex);
	for (size_t i = 0; i < p->checks.n; i++) {
		const struct pat_check_rule *r = p->check_rules ? &p->check_rules[i] : NULL;

		printf("%-16s%s\n", i ? "" : "checks", p->checks.v[i]);
		for (size_t k = 0; r && k < r->confirms.n; k++)
			printf("%-16s  confirmed when its output matches  %s\n", "", r->confirms.v[k]);
		for (size_t k = 0; r && k < r->refutes.n; k++)
			printf("%-16s  refuted when its output matches    %s\n", "", r->refutes.v[k]);
	}
	print_list("fix", &p->fix);
	print_list("examples", &p->examples);
	print_list("counterexamples", &p->counterexamples);
	return DD_EXIT_OK;
}

/* ---- test ---------------------------------------------------------------- */

struct cx_state {
	struct pat_matcher *m;
	const struct pat_pattern *p;
	int matched;
	int limit;
	size_t line;
};

static int cx_line(const struct dd_logline *ln, void *ud)
{
	struct cx_state *st = ud;
	int r = pat_pattern_matches(st->m, st->p, ln->msg, ln->msg_len);
	if (r == 1 && !st->matched) {
		st->matched = 1;
		st->line = ln->lineno;
	}
	if (r == DD_ELIMIT)
		st->limit = 1;
	return 0;
}

static int test_pattern(struct pat_library *lib, struct pat_matcher *m, const struct pat_pattern *p,
                        size_t *n_ex, size_t *n_cx)
{
	int misses = 0;
	for (size_t i = 0; i < p->examples.n; i++) {
		struct dd_failure f;
		struct dd_error err = DD_ERROR_INIT;
		(*n_ex)++;
		if (classify_buffer(lib, p->id, p->examples.v[i], strlen(p->examples.v[i]), &f, &err) < 0) {
			printf("%s:%d: pattern %s: example %zu could not be classified: %s\n", p->file, p->example_line[i],
			       p->id, i + 1, err.msg);
			misses++;
		} else if (!f.pattern || strcmp(f.pattern, p->id)) {
			if (f.pattern)
				printf("%s:%d: pattern %s: example %zu classified as %s (%s, confidence %.2f)\n", p->file,
				       p->example_line[i], p->id, i + 1, f.pattern, f.category, f.confidence);
			else
				printf("%s:%d: pattern %s: example %zu classified as %s (no pattern matched)\n", p->file,
				       p->example_line[i], p->id, i + 1, f.category);
			misses++;
		}
		dd_failure_release(&f);
	}
	for (size_t i = 0; i < p->counterexamples.n; i++) {
		struct cx_state st = { .m = m, .p = p };
		struct dd_error err = DD_ERROR_INIT;
		struct dd_logreader *r = logreader_new();
		(*n_cx)++;
		logreader_feed(r, p->counterexamples.v[i], strlen(p->counterexamples.v[i]), cx_line, &st, &err);
		logreader_finish(r, cx_line, &st, &err);
		logreader_free(r);
		if (st.matched) {
			printf("%s:%d: pattern %s: counterexample %zu matched (its line %zu)\n", p->file,
			       p->counterexample_line[i], p->id, i + 1, st.line);
			misses++;
		} else if (st.limit) {
			printf("%s:%d: pattern %s: counterexample %zu hit the PCRE2 match limit\n", p->file,
			       p->counterexample_line[i], p->id, i + 1);
			misses++;
		}
	}
	return misses;
}

static int do_test(struct dd_cli *cli, const char *dir)
{
	struct pat_library *lib = NULL;
	struct dd_strv extra = DD_STRV_INIT;
	if (dir)
		dd_strv_push(&extra, dir);
	lib = cli_patterns(cli, "patterns", &extra);
	dd_strv_release(&extra);
	if (!lib)
		return DD_EXIT_ERROR;
	/* With DIR, only the patterns DIR defined are tested (on top of the rest);
	 * DIR is the last user source loaded, so its generation is the largest. */
	int gen = 0;
	for (size_t i = 0; dir && i < pat_library_count(lib); i++)
		if (pat_library_get(lib, i)->user > gen)
			gen = pat_library_get(lib, i)->user;
	struct pat_matcher *m = pat_matcher_new(lib);
	size_t n_pat = 0, n_ex = 0, n_cx = 0, misses = 0, bad_patterns = 0;
	for (size_t i = 0; i < pat_library_count(lib); i++) {
		const struct pat_pattern *p = pat_library_get(lib, i);
		if (dir && p->user != gen)
			continue;
		n_pat++;
		int mi = test_pattern(lib, m, p, &n_ex, &n_cx);
		misses += (size_t)mi;
		bad_patterns += mi > 0;
	}
	pat_matcher_free(m);
	pat_library_free(lib);
	if (misses) {
		printf("%zu of %zu patterns failed: %zu misses in %zu examples and %zu counterexamples\n", bad_patterns, n_pat,
		       misses, n_ex, n_cx);
		return DD_EXIT_FAILING;
	}
	printf("%zu %s passed: %zu %s, %zu %s\n", n_pat, DD_PLURAL(n_pat, "pattern", "patterns"), n_ex,
	       DD_PLURAL(n_ex, "example", "examples"), n_cx, DD_PLURAL(n_cx, "counterexample", "counterexamples"));
	return DD_EXIT_OK;
}

static int cmd_patterns(int argc, char **argv, struct dd_cli *cli)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "category", required_argument, NULL, OPT_CATEGORY },
		{ NULL, 0, NULL, 0 },
	};
	const char *category = NULL;
	int c;
	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		if (c == OPT_CATEGORY) {
			category = optarg;
			continue;
		}
		if (cli_common_option(cli, "patterns", c, argv, longopts) <= 0)
			return DD_EXIT_ERROR;
	}
	if (optind >= argc)
		return cli_usage_error("patterns", "missing subcommand: list, show ID or test [DIR]");
	const char *sub = argv[optind++];
	int nargs = argc - optind;

	if (!strcmp(sub, "test")) {
		if (category)
			return cli_usage_error("patterns", "--category goes with 'patterns list'");
		if (nargs > 1)
			return cli_usage_error("patterns", "'patterns test' takes at most one directory");
		return do_test(cli, nargs ? argv[optind] : NULL);
	}
	if (strcmp(sub, "list") && strcmp(sub, "show"))
		return cli_usage_error("patterns", "unknown subcommand '%s': use list, show ID or test [DIR]", sub);
	if (!strcmp(sub, "list")) {
		if (nargs)
			return cli_usage_error("patterns", "unexpected argument '%s'", argv[optind]);
		if (category && !pat_category_valid(category))
			return cli_usage_error("patterns",
			                       "unknown category '%s': use one of dependency_upgrade, stalled_upstream, "
			                       "intermittent, resource, orchestrator, config_credentials, code_bug, "
			                       "data_quality, ml_training",
			                       category);
	} else {
		if (category)
			return cli_usage_error("patterns", "--category goes with 'patterns list'");
		if (nargs != 1)
			return cli_usage_error("patterns", "'patterns show' takes one pattern id");
	}
	struct pat_library *lib = cli_patterns(cli, "patterns", NULL);
	if (!lib)
		return DD_EXIT_ERROR;
	int rc = !strcmp(sub, "list") ? do_list(lib, category, cli) : do_show(lib, argv[optind]);
	pat_library_free(lib);
	return rc;
}

const struct dd_command command_patterns = {
	"patterns", cmd_patterns,
	"list, show and test the pattern library",
	"usage: dagdoc patterns list [--category C]\n"
	"       dagdoc patterns show ID\n"
	"       dagdoc patterns test [DIR]\n\n"
	"The library is the built-in directory (DAGDOC_PATTERNS_DIR overrides it) plus\n"
	"the config's 'patterns' folders; a user pattern replaces the built-in with its id.\n"
	"'test' classifies every example (it must give its own pattern) and matches\n"
	"every counterexample (no regex of its pattern may match); with DIR it tests\n"
	"the patterns of DIR loaded on top of the rest.  Exit status 1 names each miss.\n\n"
	"      --category C    list only one category\n"
	CLI_COMMON_HELP
};
