/*
 * fuzz_evidence.c - libFuzzer target: arbitrary bytes as text an engineer
 * pasted (src/evidence.c): split at its prompts, every output recognised
 * and read, then judged against a hypothesis of each kind with entities
 * and a check carrying rules.  Must not crash, hang or leak; an output is
 * either recognised or says why not, and a verdict names what it found.
 */
#include "dagdoc/util.h"

#include "dagdoc/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = {"dependency_change", "resource_exhaustion", "config_change", "code_change"};
	struct dd_entity ents[] = {
		{"package", "pandas"},  {"from", "1.5.3"},          {"to", "2.0.0"},         {"conn_id", "warehouse"},
		{"variable", "bucket"}, {"commit", "1410967a2b3c"}, {"task_id", "features"},
	};
	struct dd_strv confirms = DD_STRV_INIT, refutes = DD_STRV_INIT;
	struct ev_check chk = {"pip show {package}", &confirms, &refutes};
	struct ev_set set = {NULL, 0, 0};
	char *text = dd_xstrndup((const char *)data, size);

	dd_strv_push(&confirms, "^Version: {to}$");
	dd_strv_push(&refutes, "^Version: {from}$");
	ev_parse(&set, "fuzz", text, strlen(text));
	for (size_t i = 0; i < set.n; i++) {
		const struct ev_output *o = &set.v[i];

		if ((o->kind == EV_UNKNOWN) != (o->why != NULL) || o->line < 1)
			abort();
		for (size_t k = 0; k < DD_ARRAY_SIZE(kinds); k++) {
			struct ev_verdict v;

			if (ev_judge(o, kinds[k], ents, DD_ARRAY_SIZE(ents), &chk, 1, &v) != EV_NONE &&
			    (!v.what || !v.line_text))
				abort();
			ev_verdict_release(&v);
		}
	}
	ev_set_release(&set);
	dd_strv_release(&confirms);
	dd_strv_release(&refutes);
	free(text);
	return 0;
}
