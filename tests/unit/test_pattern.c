/* Unit tests: src/pattern.c (loading, validation, prefilter + PCRE2 matching, limits, fill). */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <cmocka.h>

#include "dagdoc/pattern.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static int setup(void **state)
{
	(void)state;
	setenv("DAGDOC_NO_CACHE", "1", 1);
	return 0;
}

struct hits {
	char ids[16][64];
	char ents[16][256];
	size_t n;
};

static int collect(const struct pat_match *m, void *ud)
{
	struct hits *h = ud;
	if (h->n >= 16)
		return 0;
	snprintf(h->ids[h->n], sizeof(h->ids[0]), "%s", m->pattern->id);
	struct dd_buf b = DD_BUF_INIT;
	for (size_t i = 0; i < m->n_ent; i++)
		dd_buf_addf(&b, "%s%s=%.*s", i ? " " : "", m->ent[i].name, (int)m->ent[i].len, m->ent[i].value);
	snprintf(h->ents[h->n], sizeof(h->ents[0]), "%s", dd_buf_str(&b));
	dd_buf_release(&b);
	h->n++;
	return 0;
}

static struct pat_library *load_unit(void)
{
	struct dd_strv problems = DD_STRV_INIT;
	struct dd_error err = DD_ERROR_INIT;
	struct pat_library *lib = pat_library_new();
	assert_int_equal(pat_library_add_dir(lib, FIXTURES "/patterns-unit", 0, &problems, &err), 0);
	assert_int_equal(problems.n, 0);
	assert_int_equal(pat_library_add_marker(lib, "^Marking task as SUCCESS\\b", 7, &err), 0);
	assert_int_equal(pat_library_finalize(lib, &err), 0);
	dd_strv_release(&problems);
	return lib;
}

static void test_load_and_match(void **state)
{
	(void)state;
	struct pat_library *lib = load_unit();
	struct pat_stats st;
	pat_library_stats(lib, &st);
	assert_int_equal(st.patterns, 5);
	assert_int_equal(st.regexes, 7 + 1);
	assert_int_equal(st.markers, 1);
	assert_int_equal(st.prefilter, 1);
	/* the backreference and the lookarounds need the approximate prefilter */
	assert_int_equal(st.prefilter_approx, 2);
	assert_int_equal(st.always_run, 0);
	assert_int_equal(pat_library_count(lib), 5);
	/* files load in name order, patterns in file order */
	assert_string_equal(pat_library_get(lib, 0)->id, "t.keyerror");
	assert_string_equal(pat_library_get(lib, 3)->id, "t.oom");
	assert_null(pat_library_get(lib, 5));
	const struct pat_pattern *p = pat_library_find(lib, "t.oom");
	assert_non_null(p);
	assert_string_equal(p->category, "resource");
	assert_int_equal(p->line, 3);
	assert_int_equal(p->regex.n, 2);
	assert_int_equal(p->regex_line[1], 7);
	assert_int_equal(p->examples.n, 2);
	assert_true(p->confidence > 0.79 && p->confidence < 0.81);
	assert_null(pat_library_find(lib, "nope"));

	struct pat_matcher *m = pat_matcher_new(lib);
	struct hits h;
	memset(&h, 0, sizeof(h));
	const char *l1 = "KeyError: 'customer_id'";
	assert_int_equal(pat_match_line(m, l1, strlen(l1), collect, &h), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.ids[0], "t.keyerror");
	assert_string_equal(h.ents[0], "key=customer_id");

	memset(&h, 0, sizeof(h));
	const char *l2 = "Process 17 exited with status code: -9; This indicates";
	assert_int_equal(pat_match_line(m, l2, strlen(l2), collect, &h), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.ids[0], "t.oom");
	assert_string_equal(h.ents[0], "exit_code=-9");

	/* approximate prefilter: PCRE2 decides */
	memset(&h, 0, sizeof(h));
	assert_int_equal(pat_match_line(m, "repeat foo foo", 14, collect, &h), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.ents[0], "word=foo");
	memset(&h, 0, sizeof(h));
	assert_int_equal(pat_match_line(m, "repeat foo bar", 14, collect, &h), 0);
	assert_int_equal(h.n, 0);
	assert_int_equal(pat_match_line(m, "lookbehind not", 14, collect, &h), 0);
	assert_int_equal(h.n, 0);
	assert_int_equal(pat_match_line(m, "xlookbehind", 11, collect, &h), 0);
	assert_int_equal(h.n, 1);

	/* markers are reported with their tag, not listed */
	memset(&h, 0, sizeof(h));
	assert_int_equal(pat_match_line(m, "Marking task as SUCCESS. dag_id=x", 33, collect, &h), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.ids[0], "marker.7");

	/* nothing, empty line, a line with a NUL byte */
	memset(&h, 0, sizeof(h));
	assert_int_equal(pat_match_line(m, "INFO all good", 13, collect, &h), 0);
	assert_int_equal(pat_match_line(m, "", 0, collect, &h), 0);
	assert_int_equal(pat_match_line(m, "KeyError: 'a\0b'", 16, collect, &h), 0);
	assert_int_equal(h.n, 1);

	/* anchored at the message start */
	memset(&h, 0, sizeof(h));
	const char *l3 = "INFO - KeyError: 'x'";
	pat_match_line(m, l3, strlen(l3), collect, &h);
	assert_int_equal(h.n, 0);

	pat_matcher_free(m);
	pat_library_free(lib);
}

static void test_limit(void **state)
{
	(void)state;
	struct pat_library *lib = load_unit();
	struct pat_matcher *m = pat_matcher_new(lib);
	const struct pat_pattern *evil = pat_library_find(lib, "t.evil");
	char line[64];
	memset(line, 'a', 40);
	line[40] = 'b';
	line[41] = 0;
	/* (?:a|a)+\d$ on 40 a's backtracks 2^40 times: the match limit stops it */
	assert_int_equal(pat_pattern_matches(m, evil, line, 41), DD_ELIMIT);
	assert_string_equal(pat_matcher_last_limit(m), "t.evil");
	assert_int_equal(pat_pattern_matches(m, evil, "aa1", 3), 1);
	assert_int_equal(pat_pattern_matches(m, evil, "aab", 3), 0);
	pat_matcher_free(m);
	pat_library_free(lib);
}

static void test_user_override(void **state)
{
	(void)state;
	struct dd_strv problems = DD_STRV_INIT, dirs = DD_STRV_INIT;
	struct dd_error err = DD_ERROR_INIT;
	struct pat_library *lib = NULL;
	dd_strv_push(&dirs, FIXTURES "/patterns-user");
	assert_int_equal(pat_library_load(FIXTURES "/patterns-unit", &dirs, NULL, &lib, &problems, &err), 0);
	assert_int_equal(pat_library_count(lib), 6);
	const struct pat_pattern *p = pat_library_find(lib, "t.keyerror");
	assert_string_equal(p->category, "data_quality");
	assert_true(p->user > 0);
	assert_true(dd_ends_with(p->file, "patterns-user/mine.yaml"));
	/* replaced in place: load order kept */
	assert_ptr_equal(pat_library_get(lib, 0), p);
	assert_string_equal(pat_library_get(lib, 5)->id, "user.custom");

	struct pat_matcher *m = pat_matcher_new(lib);
	struct hits h;
	memset(&h, 0, sizeof(h));
	pat_match_line(m, "KeyError: 'amount'", 18, collect, &h);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.ents[0], "column=amount");
	pat_matcher_free(m);
	pat_library_free(lib);
	dd_strv_release(&dirs);
	dd_strv_release(&problems);
}

static void expect_problem(const struct dd_strv *problems, const char *want)
{
	for (size_t i = 0; i < problems->n; i++)
		if (!strcmp(problems->v[i], want))
			return;
	for (size_t i = 0; i < problems->n; i++)
		fprintf(stderr, "  problem: %s\n", problems->v[i]);
	fail_msg("missing problem: %s", want);
}

static void test_problems(void **state)
{
	(void)state;
	struct dd_strv problems = DD_STRV_INIT;
	struct dd_error err = DD_ERROR_INIT;
	struct pat_library *lib = pat_library_new();
	assert_int_equal(pat_library_add_dir(lib, FIXTURES "/patterns-bad", 1, &problems, &err), DD_EPARSE);
	const char *d = FIXTURES "/patterns-bad/";
	char want[512];
#define WANT(...) do { snprintf(want, sizeof(want), __VA_ARGS__); expect_problem(&problems, want); } while (0)
	WANT("%sa_regex.yaml:6: pattern bad.regex: regex error at offset 21: missing closing parenthesis", d);
	WANT("%sb_keys.yaml:7: pattern bad.unknown-key: unknown key 'colour' (expected id, title, match, confidence, "
	     "checks, fix, examples, counterexamples, stage)", d);
	WANT("%sb_keys.yaml:9: pattern bad.missing: missing key 'title'", d);
	WANT("%sb_keys.yaml:9: pattern bad.missing: missing key 'confidence'", d);
	WANT("%sc_confidence.yaml:6: pattern bad.confidence: 'confidence' must be a number between 0 and 1, not '1.5'", d);
	WANT("%sd_category.yaml:1: category 'network' is not one of dependency_upgrade, stalled_upstream, intermittent, "
	     "resource, orchestrator, config_credentials, code_bug, data_quality, ml_training", d);
	WANT("%se_placeholder.yaml:7: pattern bad.placeholder: checks item 1 uses {conn_id} but regex 2 has no group "
	     "named 'conn_id'", d);
	WANT("%sf_examples.yaml:3: pattern bad.no-examples: missing key 'examples' (at least one example is required)", d);
	WANT("%sg_dup.yaml:8: pattern bad.dup: duplicate id (first defined at %sg_dup.yaml:3)", d, d);
	WANT("%sh_syntax.yaml:5: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence", d);
	WANT("%si_retired.yaml:1: category 'import_error' was retired: a category names the cause and 'stage: parse' "
	     "says the DAG file did not load; use code_bug (a mistake in the file), dependency_upgrade (a package "
	     "missing or changed), orchestrator (an import timeout) or config_credentials, with 'stage: parse' on the "
	     "patterns", d);
	WANT("%sj_stage.yaml:7: pattern bad.stage: 'stage' must be one of parse, schedule, run, teardown, not 'runtime'", d);
	assert_int_equal(problems.n, 12);
	/* err carries the first problem */
	assert_int_equal(err.code, DD_EPARSE);
	assert_true(strstr(err.msg, "a_regex.yaml:6: pattern bad.regex: regex error") != NULL);
	pat_library_free(lib);
	dd_strv_release(&problems);

	/* strings: empty, not a mapping, a pattern that is not a mapping, an empty id */
	struct {
		const char *text, *want;
	} cases[] = {
		{ "", "s.yaml:1: empty pattern file (expected 'category:' and 'patterns:')" },
		{ "- a\n- b\n", "s.yaml:1: a pattern file must be a mapping with 'category' and 'patterns'" },
		{ "category: resource\npatterns:\n  - just a string\n",
		  "s.yaml:3: pattern #1: must be a mapping with id, title, match, confidence, checks, fix, examples" },
		{ "category: resource\npatterns:\n  - id: ''\n    title: t\n    match: x\n    confidence: 1\n    examples: [x]\n",
		  "s.yaml:3: pattern #1: 'id' must be a non-empty string of letters, digits, '.', '_' and '-'" },
		{ "category: resource\npatterns:\n  - id: a\n    title: t\n    match: []\n    confidence: 0.5\n    examples: [x]\n",
		  "s.yaml:5: pattern a: 'match' has no regex" },
		{ "category: resource\npatterns:\n  - id: a\n    title: t\n    match: x\n    confidence: high\n    examples: [x]\n",
		  "s.yaml:6: pattern a: 'confidence' must be a number between 0 and 1, not 'high'" },
		{ "category: resource\npatterns:\n  - id: a\n    title: t\n    match: x\n    confidence: 0.5\n    examples: []\n",
		  "s.yaml:7: pattern a: 'examples' is empty (at least one example is required)" },
		{ "category: code_bug\npatterns: []\nextra: 1\n", "s.yaml:3: unknown key 'extra' (expected category, patterns)" },
		/* checks that carry confirms / refutes (evidence.h) */
		{ "category: resource\npatterns:\n  - id: a\n    title: t\n    match: 'x(?<pod>\\S+)'\n"
		  "    confidence: 0.5\n    checks:\n      - run: kubectl describe pod {pod}\n        confirms:\n"
		  "          - 'Reason: {nosuch}'\n    examples: [xa]\n",
		  "s.yaml:10: pattern a: check 'kubectl describe pod {pod}': confirms item 1: {nosuch} is neither a "
		  "named group of the pattern nor an entity rank adds (package, from, to, commit, task_id)" },
		{ "category: resource\npatterns:\n  - id: a\n    title: t\n    match: x\n    confidence: 0.5\n"
		  "    checks:\n      - run: free -m\n        refutes: ['Mem: ({to}']\n    examples: [x]\n",
		  "s.yaml:9: pattern a: check 'free -m': refutes item 1: the regex does not compile: missing closing "
		  "parenthesis" },
		{ "category: resource\npatterns:\n  - id: a\n    title: t\n    match: x\n    confidence: 0.5\n"
		  "    checks:\n      - confirms: ['OOMKilled']\n    examples: [x]\n",
		  "s.yaml:8: pattern a: a check given as a mapping needs 'run': the command whose output it reads" },
		{ "category: resource\npatterns:\n  - id: a\n    title: t\n    match: x\n    confidence: 0.5\n"
		  "    checks:\n      - run: dmesg | tail\n        confirms: ['Killed process']\n    examples: [x]\n",
		  "s.yaml:8: pattern a: check 'dmesg | tail' has confirms/refutes, but dagdoc does not read that "
		  "command's output (pip show/freeze/list, kubectl describe pod, df, free, nvidia-smi, airflow "
		  "connections get|list, airflow variables get, python --version, git log)" },
		{ "category: resource\npatterns:\n  - id: a\n    title: t\n    match: x\n    confidence: 0.5\n"
		  "    checks:\n      - run: free -m\n        because: [x]\n    examples: [x]\n",
		  "s.yaml:9: pattern a: a check's keys are run (a non-empty command), confirms and refutes, not "
		  "'because'" },
	};
	for (size_t i = 0; i < DD_ARRAY_SIZE(cases); i++) {
		struct pat_library *l = pat_library_new();
		struct dd_strv pr = DD_STRV_INIT;
		struct dd_error e = DD_ERROR_INIT;
		assert_int_equal(pat_library_add_string(l, "s.yaml", cases[i].text, strlen(cases[i].text), 0, &pr, &e),
		                 DD_EPARSE);
		expect_problem(&pr, cases[i].want);
		dd_strv_release(&pr);
		pat_library_free(l);
	}

	/* a file named after a category must declare that category */
	struct pat_library *l = pat_library_new();
	struct dd_strv pr = DD_STRV_INIT;
	const char *t = "category: resource\npatterns: []\n";
	assert_int_equal(pat_library_add_string(l, "x/code_bug.yaml", t, strlen(t), 0, &pr, NULL), DD_EPARSE);
	expect_problem(&pr, "x/code_bug.yaml:1: category 'resource' does not match the file name (code_bug)");
	dd_strv_release(&pr);
	pat_library_free(l);

	/* duplicate ids across two built-in sources are problems, across user sources overrides */
	l = pat_library_new();
	const char *a = "category: resource\npatterns:\n  - id: same\n    title: t\n    match: x\n    confidence: 0.5\n    "
	                "examples: [x]\n";
	assert_int_equal(pat_library_add_string(l, "a.yaml", a, strlen(a), 0, &pr, NULL), 0);
	assert_int_equal(pat_library_add_string(l, "b.yaml", a, strlen(a), 0, &pr, NULL), DD_EPARSE);
	expect_problem(&pr, "b.yaml:3: pattern same: duplicate id (first defined at a.yaml:3)");
	assert_int_equal(pat_library_add_string(l, "c.yaml", a, strlen(a), 1, &pr, NULL), 0);
	assert_string_equal(pat_library_find(l, "same")->file, "c.yaml");
	dd_strv_release(&pr);
	pat_library_free(l);
}

static const char *lookup(const char *name, void *ud)
{
	(void)ud;
	if (!strcmp(name, "package"))
		return "pandas";
	if (!strcmp(name, "empty"))
		return "";
	return NULL;
}

static void test_fill(void **state)
{
	(void)state;
	struct dd_buf b = DD_BUF_INIT;
	pat_fill(&b, "pip show {package} && echo {missing} {empty}| {not a placeholder} {1x} ${HOME} %{time_total} {package}",
	         lookup, NULL);
	assert_string_equal(b.data, "pip show pandas && echo {missing} | {not a placeholder} {1x} ${HOME} %{time_total} pandas");
	dd_buf_reset(&b);
	pat_fill(&b, "", lookup, NULL);
	assert_string_equal(dd_buf_str(&b), "");
	pat_fill(&b, "{package", lookup, NULL);
	assert_string_equal(dd_buf_str(&b), "{package");
	dd_buf_release(&b);
	assert_true(pat_category_valid("ml_training"));
	assert_false(pat_category_valid("unknown"));
	assert_false(pat_category_valid("none"));
	assert_false(pat_category_valid(NULL));
}

static void test_builtin_dir(void **state)
{
	(void)state;
	setenv("DAGDOC_PATTERNS_DIR", "/some/where", 1);
	char *d = pat_builtin_dir();
	assert_string_equal(d, "/some/where");
	free(d);
	unsetenv("DAGDOC_PATTERNS_DIR");
}

static void test_cache(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/dagdoc-test-pattern-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	setenv("XDG_CACHE_HOME", tmpl, 1);
	unsetenv("DAGDOC_NO_CACHE");
	struct hits h;
	for (int round = 0; round < 2; round++) {   /* compile + store, then load */
		struct pat_library *lib = load_unit();
		struct pat_matcher *m = pat_matcher_new(lib);
		struct pat_stats st;
		/* the same prefilter levels whether asked of Vectorscan or read back */
		pat_library_stats(lib, &st);
		assert_int_equal(st.prefilter, 1);
		assert_int_equal(st.prefilter_approx, 2);
		assert_int_equal(st.always_run, 0);
		memset(&h, 0, sizeof(h));
		pat_match_line(m, "Task exited with return code 137", 32, collect, &h);
		assert_int_equal(h.n, 1);
		assert_string_equal(h.ents[0], "exit_code=137");
		pat_matcher_free(m);
		pat_library_free(lib);
	}
	char *cmd = dd_xasprintf("ls %s/dagdoc/prefilter-*.hsdb %s/dagdoc/prefilter-levels-*.txt >/dev/null 2>&1 && "
	                         "rm -rf %s", tmpl, tmpl, tmpl);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	setenv("DAGDOC_NO_CACHE", "1", 1);
	unsetenv("XDG_CACHE_HOME");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_load_and_match, setup),
		cmocka_unit_test_setup(test_limit, setup),
		cmocka_unit_test_setup(test_user_override, setup),
		cmocka_unit_test_setup(test_problems, setup),
		cmocka_unit_test_setup(test_fill, setup),
		cmocka_unit_test_setup(test_builtin_dir, setup),
		cmocka_unit_test_setup(test_cache, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
