/*
 * fuzz_reqparse.c - libFuzzer target: arbitrary bytes as a dependency file
 * (the first byte picks which: requirements.txt, constraints.txt,
 * pyproject.toml, poetry.lock, uv.lock, Pipfile.lock, environment.yml,
 * Dockerfile, Pipfile, .python-version), with -r includes answered by the
 * same text once, then the difference from nothing and from itself.  Must
 * not crash, hang or leak; package names are normalised, the graph's edges
 * join two different normalised names, a line number is within the text,
 * and a file does not differ from itself.
 */
#include "dagdoc/util.h"

#include "dagdoc/reqparse.h"

struct inc {
	const char *text;
	size_t len;
	int used;
};

static int include_once(const char *path, struct dd_buf *out, void *ud)
{
	struct inc *in = ud;

	(void)path;
	if (in->used++)
		return 1;
	dd_buf_add(out, in->text, in->len);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const names[] = { "requirements.txt", "constraints.txt", "pyproject.toml",
	                                     "poetry.lock", "uv.lock", "Pipfile.lock", "environment.yml",
	                                     "Dockerfile", "Pipfile", ".python-version" };
	struct dd_reqset set = DD_REQSET_INIT, none = DD_REQSET_INIT;
	struct dd_req_change *ch = NULL;
	struct inc in;
	size_t n = 0;
	const char *name;

	if (size < 1)
		return 0;
	name = names[data[0] % DD_ARRAY_SIZE(names)];
	in = (struct inc){ (const char *)data + 1, size - 1, 0 };
	reqparse(name, (const char *)data + 1, size - 1, include_once, &in, &set);
	for (size_t i = 0; i < set.n; i++) {
		char *norm = reqparse_normalize_name(set.v[i].name, strlen(set.v[i].name));

		/* a Dockerfile's FROM image keeps its name as written */
		if (!set.v[i].version || (strcmp(name, "Dockerfile") && strcmp(norm, set.v[i].name)))
			abort();
		if (set.v[i].line < 0 || (size_t)set.v[i].line > size)
			abort();
		free(norm);
	}
	for (size_t i = 0; i < set.n_edges; i++) {
		char *norm = reqparse_normalize_name(set.edges[i].to, strlen(set.edges[i].to));

		if (strcmp(norm, set.edges[i].to))
			abort();
		free(norm);
		if (!set.edges[i].from[0] || !set.edges[i].to[0] || !strcmp(set.edges[i].from, set.edges[i].to))
			abort();
	}
	reqparse_diff(&none, &set, name, &ch, &n);
	req_changes_free(ch, n);
	reqparse_diff(&set, &set, name, &ch, &n);
	if (n)
		abort();
	req_changes_free(ch, n);
	reqset_release(&set);
	return 0;
}
