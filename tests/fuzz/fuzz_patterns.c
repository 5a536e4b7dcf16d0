/*
 * libFuzzer target: the pattern loader (libyaml + validation + PCRE2
 * compile), the prefilter build and matching.  Input = one YAML file.
 * Built and run by tests/fuzz/run.sh (`make fuzz`).
 */
#include "dagdoc/util.h"

#include "dagdoc/classify.h"
#include "dagdoc/pattern.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("DAGDOC_NO_CACHE", "1", 1);   /* never write cache files while fuzzing */
	return 0;
}

static int on_match(const struct pat_match *m, void *ud)
{
	size_t *n = ud;
	for (size_t i = 0; i < m->n_ent; i++)
		*n += m->ent[i].len;   /* touch every capture */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dd_strv problems = DD_STRV_INIT;
	struct dd_error err = DD_ERROR_INIT;
	struct pat_library *lib = pat_library_new();
	int rc = pat_library_add_string(lib, "fuzz/code_bug.yaml", (const char *)data, size, 0, &problems, &err);
	for (size_t i = 0; i < problems.n; i++)
		if (strncmp(problems.v[i], "fuzz/code_bug.yaml:", 19) != 0)
			abort();   /* every problem names the file and a line */
	if (rc == 0 && classify_add_markers(lib, &err) == 0 && pat_library_finalize(lib, &err) == 0) {
		struct pat_matcher *m = pat_matcher_new(lib);
		size_t n = 0;
		for (size_t i = 0; i < pat_library_count(lib); i++) {
			const struct pat_pattern *p = pat_library_get(lib, i);
			for (size_t k = 0; k < p->examples.n; k++) {
				pat_match_line(m, p->examples.v[k], strlen(p->examples.v[k]), on_match, &n);
				struct dd_failure f;
				if (classify_buffer(lib, "ex", p->examples.v[k], strlen(p->examples.v[k]), &f, &err) == 0)
					dd_failure_release(&f);
			}
			for (size_t k = 0; k < p->counterexamples.n; k++)
				pat_pattern_matches(m, p, p->counterexamples.v[k], strlen(p->counterexamples.v[k]));
			struct dd_buf b = DD_BUF_INIT;
			for (size_t k = 0; k < p->checks.n; k++)
				pat_fill(&b, p->checks.v[k], NULL, NULL);
			dd_buf_release(&b);
		}
		pat_matcher_free(m);
	}
	pat_library_free(lib);
	dd_strv_release(&problems);
	return 0;
}
