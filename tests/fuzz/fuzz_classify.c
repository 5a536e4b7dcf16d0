/*
 * fuzz_classify.c - libFuzzer target: arbitrary bytes through the whole
 * classifier with the built-in pattern library and knowledge base (the
 * reader's layers, wrapped-message joining, tracebacks cut short, the
 * structural layer, the JSON form), fed in chunks whose sizes come from
 * the input.  Must not crash, hang or leak.
 */
#include "dagdoc/util.h"

#include <cjson/cJSON.h>

#include "dagdoc/classify.h"

static struct pat_library *lib;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_failure f;
	struct classify *c;
	size_t pos = 0, step;
	cJSON *j;
	char *s;

	if (!lib) {
		struct dd_strv problems = DD_STRV_INIT;

		setenv("DAGDOC_NO_CACHE", "1", 1);
		if (classify_library_load(NULL, NULL, &lib, &problems, &err) < 0) {
			fprintf(stderr, "fuzz_classify: %s\n", err.msg);
			abort();
		}
		dd_strv_release(&problems);
	}
	step = size ? 1 + data[0] % 61 : 1;
	c = classify_new(lib, "fuzz");
	while (pos < size) {
		size_t n = size - pos < step ? size - pos : step;

		if (classify_feed(c, (const char *)data + pos, n, &err) < 0)
			break;
		pos += n;
		step = step * 7 % 4093 + 1;
	}
	if (classify_finish(c, &f, &err) == 0) {
		j = dd_failure_to_json(&f);
		s = cJSON_PrintUnformatted(j);
		cJSON_free(s);
		cJSON_Delete(j);
		dd_failure_release(&f);
	}
	classify_free(c);
	return 0;
}
