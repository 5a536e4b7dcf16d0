/*
 * reqparse.c - pinned packages of Python dependency files and Dockerfiles,
 * and their differences.  See include/dagdoc/reqparse.h.
 *
 * TOML has no parser among dagdoc's libraries, so pyproject.toml and the
 * lock files are read line by line for the few shapes that carry
 * versions; JSON goes through cJSON and YAML through libyaml.
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <cJSON.h>
#include <yaml.h>

#include "dagdoc/reqparse.h"

#define MAX_INCLUDE_DEPTH 5

/* Does s..e (not NUL-terminated: text is read by its length) start with p? */
static int has_prefix(const char *s, const char *e, const char *p)
{
	size_t n = strlen(p);

	return (size_t)(e - s) >= n && !memcmp(s, p, n);
}

/* ---- names and sets ------------------------------------------------------ */

char *reqparse_normalize_name(const char *name, size_t len)
{
	struct dd_buf b = DD_BUF_INIT;
	int sep = 0;

	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c == '-' || c == '_' || c == '.') {
			sep = 1;
			continue;
		}
		if (sep && b.len)
			dd_buf_addch(&b, '-');
		sep = 0;
		dd_buf_addch(&b, (char)tolower((unsigned char)c));
	}
	return dd_buf_detach(&b);
}

static struct dd_req *find(const struct dd_reqset *set, const char *norm)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].name, norm))
			return &set->v[i];
	return NULL;
}

/* Adds or replaces; a pinned version wins over an unpinned mention.  line:
 * where the file declares it (0: unknown, or an included file's line). */
static void put(struct dd_reqset *set, const char *name, size_t nlen, const char *ver, size_t vlen, int line)
{
	char *norm;
	struct dd_req *r;

	if (memchr(name, '\0', nlen))   /* not a name: a binary file read as text */
		return;
	norm = reqparse_normalize_name(name, nlen);
	if (!*norm) {
		free(norm);
		return;
	}
	r = find(set, norm);
	if (r) {
		free(norm);
		if (vlen == 0 && *r->version)
			return;
		free(r->version);
		r->version = dd_xstrndup(ver, vlen);
		r->line = line;
		return;
	}
	DD_GROW(set->v, set->cap, set->n + 1);
	set->v[set->n].name = norm;
	set->v[set->n].version = dd_xstrndup(ver, vlen);
	set->v[set->n].line = line;
	set->n++;
}

/* Records that `from` requires `to` (both as written; once). */
static void put_edge(struct dd_reqset *set, const char *from, size_t flen, const char *to, size_t tlen)
{
	char *a, *b;

	if (!flen || !tlen || memchr(from, '\0', flen) || memchr(to, '\0', tlen))
		return;
	a = reqparse_normalize_name(from, flen);
	b = reqparse_normalize_name(to, tlen);
	if (!*a || !*b || !strcmp(a, b) || reqset_requires(set, a, b)) {
		free(a);
		free(b);
		return;
	}
	DD_GROW(set->edges, set->cap_edges, set->n_edges + 1);
	set->edges[set->n_edges].from = a;
	set->edges[set->n_edges].to = b;
	set->n_edges++;
}

const struct dd_req *reqset_find(const struct dd_reqset *set, const char *name)
{
	char *norm = reqparse_normalize_name(name, strlen(name));
	const struct dd_req *r = find(set, norm);

	free(norm);
	return r;
}

const char *reqset_get(const struct dd_reqset *set, const char *name)
{
	const struct dd_req *r = reqset_find(set, name);

	return r ? r->version : NULL;
}

int reqset_requires(const struct dd_reqset *set, const char *from, const char *to)
{
	char *a = reqparse_normalize_name(from, strlen(from)), *b = reqparse_normalize_name(to, strlen(to));
	int hit = 0;

	for (size_t i = 0; i < set->n_edges && !hit; i++)
		hit = !strcmp(set->edges[i].from, a) && !strcmp(set->edges[i].to, b);
	free(a);
	free(b);
	return hit;
}

int reqparse_is_exact(const char *v)
{
	if (!v || !isdigit((unsigned char)v[0]))
		return 0;
	return !strpbrk(v, "<>=!~^*,|; ");
}

void reqset_release(struct dd_reqset *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].name);
		free(set->v[i].version);
	}
	free(set->v);
	for (size_t i = 0; i < set->n_edges; i++) {
		free(set->edges[i].from);
		free(set->edges[i].to);
	}
	free(set->edges);
	memset(set, 0, sizeof(*set));
}

/* ---- file kinds ------------------------------------------------------------ */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

enum reqparse_kind reqparse_kind_for(const char *path)
{
	const char *b = base_name(path);

	if (!strcmp(b, "pyproject.toml"))
		return REQ_PYPROJECT;
	if (!strcmp(b, "poetry.lock") || !strcmp(b, "uv.lock") || !strcmp(b, "pdm.lock"))
		return REQ_LOCK_TOML;
	if (!strcmp(b, "Pipfile.lock"))
		return REQ_PIPFILE_LOCK;
	if (!strcmp(b, "Pipfile"))
		return REQ_PIPFILE;
	if (!strcmp(b, ".python-version") || !strcmp(b, "runtime.txt"))
		return REQ_PYTHON_VERSION;
	if (!strcmp(b, "environment.yml") || !strcmp(b, "environment.yaml") ||
	    (dd_starts_with(b, "environment") && (dd_ends_with(b, ".yml") || dd_ends_with(b, ".yaml"))))
		return REQ_CONDA;
	if (!strcmp(b, "Dockerfile") || dd_starts_with(b, "Dockerfile.") || dd_ends_with(b, ".Dockerfile") ||
	    dd_ends_with(b, ".dockerfile") || !strcmp(b, "Containerfile"))
		return REQ_DOCKERFILE;
	if ((dd_starts_with(b, "requirements") || dd_starts_with(b, "constraints")) &&
	    (dd_ends_with(b, ".txt") || dd_ends_with(b, ".in")))
		return REQ_TXT;
	if (strstr(path, "requirements/") && dd_ends_with(b, ".txt"))
		return REQ_TXT;
	return REQ_NONE;
}

/* ---- one requirement specifier ("pandas[sql]>=2.0 ; python_version>'3'") ---- */

static int is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* Parses a PEP 508 requirement; conda's "pandas=1.5.3=build" when conda.
 * Returns the length of the name it read at s (after blanks), 0 for none. */
static size_t parse_spec(struct dd_reqset *set, const char *s, size_t len, int conda, int line)
{
	const char *end = s + len, *name, *p;
	struct dd_buf ver = DD_BUF_INIT;
	size_t nlen;

	while (s < end && isspace((unsigned char)*s))
		s++;
	name = s;
	while (s < end && is_name_char(*s))
		s++;
	nlen = (size_t)(s - name);
	if (!nlen || !isalnum((unsigned char)name[0]))
		return 0;
	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s < end && *s == '[') {                 /* extras */
		while (s < end && *s != ']')
			s++;
		if (s < end)
			s++;
	}
	if (s < end && *s == '@') {                 /* direct reference: name @ url */
		put(set, name, nlen, "", 0, line);
		return nlen;
	}
	for (p = s; p < end && *p != ';' && *p != '#'; p++) {
		if (isspace((unsigned char)*p) || *p == '(' || *p == ')' || *p == '"' || *p == '\'')
			continue;
		if (*p == '\\' || (*p == '-' && p + 1 < end && p[1] == '-'))
			break;   /* continuation, or per-requirement options (--hash) */
		dd_buf_addch(&ver, *p);
	}
	if (conda && ver.len && ver.data[0] == '=' && (ver.len < 2 || ver.data[1] != '=')) {
		/* conda: =1.5.3 or =1.5.3=build -> 1.5.3 */
		char *v = ver.data + 1, *second = strchr(v, '=');
		size_t vlen = second ? (size_t)(second - v) : strlen(v);

		put(set, name, nlen, v, vlen, line);
	} else if (ver.len > 2 && ver.data[0] == '=' && ver.data[1] == '=' && !strpbrk(ver.data + 2, ",<>!~=*")) {
		put(set, name, nlen, ver.data + 2, ver.len - 2, line);
	} else if (ver.len > 3 && !strncmp(ver.data, "===", 3)) {
		put(set, name, nlen, ver.data + 3, ver.len - 3, line);
	} else {
		put(set, name, nlen, dd_buf_str(&ver), ver.len, line);
	}
	dd_buf_release(&ver);
	return nlen;
}

/* ---- requirements.txt ----------------------------------------------------- */

struct parse_ctx {
	reqparse_include_fn include;
	void *ud;
	int depth;
	int line;                /* of the line being read (0 inside an included file) */
	char *last;              /* the requirement read last (for `# via` under it) */
	int in_via;              /* reading a multi-line `# via` list */
};

static void parse_txt(struct dd_reqset *set, const char *path, const char *text, size_t len,
                      struct parse_ctx *ctx);

static void include_file(struct dd_reqset *set, const char *from, const char *arg, size_t alen,
                         struct parse_ctx *ctx)
{
	struct dd_buf text = DD_BUF_INIT;
	char *target;
	const char *slash = strrchr(from, '/');

	if (!ctx->include || ctx->depth >= MAX_INCLUDE_DEPTH || !alen)
		return;
	if (arg[0] == '/' || !slash)
		target = dd_xstrndup(arg, alen);
	else
		target = dd_xasprintf("%.*s/%.*s", (int)(slash - from), from, (int)alen, arg);
	if (ctx->include(target, &text, ctx->ud) == 0) {
		struct parse_ctx inner = { ctx->include, ctx->ud, ctx->depth + 1, 0, NULL, 0 };

		parse_txt(set, target, dd_buf_str(&text), text.len, &inner);
		free(inner.last);
	}
	free(target);
	dd_buf_release(&text);
}

/* pip-compile's (and uv's) annotations under a pin, indented: "# via pandas",
 * "# via pandas, scikit-learn", or "# via" and then "#   pandas" one a
 * line; "-r requirements.in" and "-c x.txt" name files, not packages. */
static void via_comment(struct dd_reqset *set, const char *s, const char *end, struct parse_ctx *ctx)
{
	const char *p = s + 1;           /* after '#' */
	size_t indent = 0;

	while (p < end && *p == ' ') {
		p++;
		indent++;
	}
	if (has_prefix(p, end, "via") && (p + 3 == end || isspace((unsigned char)p[3]))) {
		ctx->in_via = 1;
		p += 3;
	} else if (!ctx->in_via || indent < 2) {
		ctx->in_via = 0;
		return;
	}
	if (!ctx->last)
		return;
	while (p < end) {
		const char *a, *b;

		while (p < end && (isspace((unsigned char)*p) || *p == ','))
			p++;
		a = p;
		while (p < end && *p != ',')
			p++;
		if (a < p && *a != '-' && *a != '(') {
			for (b = a; b < p && (isalnum((unsigned char)*b) || *b == '-' || *b == '_' || *b == '.'); b++)
				;
			put_edge(set, a, (size_t)(b - a), ctx->last, strlen(ctx->last));
		}
	}
}

static void parse_txt_line(struct dd_reqset *set, const char *path, const char *s, size_t len,
                           struct parse_ctx *ctx)
{
	const char *end = s + len, *start = s;
	int line = ctx->depth ? 0 : ctx->line;
	size_t nlen;

	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s == end)
		return;
	if (*s == '#') {
		if (s > start)          /* pip-compile and uv indent their annotations; a user's comment is not one */
			via_comment(set, s, end, ctx);
		else
			ctx->in_via = 0;
		return;
	}
	ctx->in_via = 0;
	free(ctx->last);
	ctx->last = NULL;
	if (*s == '-') {
		static const char *const inc[] = { "-r", "-c", "--requirement", "--constraint" };
		static const char *const editable[] = { "-e", "--editable" };

		for (size_t i = 0; i < DD_ARRAY_SIZE(inc); i++) {
			size_t n = strlen(inc[i]);

			if ((size_t)(end - s) > n && !strncmp(s, inc[i], n) &&
			    (isspace((unsigned char)s[n]) || s[n] == '=')) {
				const char *a = s + n + 1, *b;

				while (a < end && (isspace((unsigned char)*a) || *a == '='))
					a++;
				for (b = a; b < end && !isspace((unsigned char)*b); b++)
					;
				include_file(set, path, a, (size_t)(b - a), ctx);
				return;
			}
		}
		for (size_t i = 0; i < DD_ARRAY_SIZE(editable); i++) {
			const char *egg;

			if (!dd_starts_with(s, editable[i]))
				continue;
			egg = memmem(s, (size_t)(end - s), "#egg=", 5);
			if (egg)
				parse_spec(set, egg + 5, (size_t)(end - egg - 5), 0, line);
			return;
		}
		return;    /* other options: --index-url, --hash ... */
	}
	{
		const char *egg = memmem(s, (size_t)(end - s), "#egg=", 5);

		if (egg && memmem(s, (size_t)(egg - s), "://", 3)) {
			parse_spec(set, egg + 5, (size_t)(end - egg - 5), 0, line);
			return;
		}
	}
	nlen = parse_spec(set, s, (size_t)(end - s), 0, line);
	if (nlen)
		ctx->last = dd_xstrndup(s, nlen);
}

static void parse_txt(struct dd_reqset *set, const char *path, const char *text, size_t len,
                      struct parse_ctx *ctx)
{
	const char *p = text, *end = text + len;
	struct dd_buf line = DD_BUF_INIT;
	int first = 0, at = 0;       /* the first line of a continued line; lines read */

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t n = (size_t)(e - p);

		at++;
		if (!line.len)
			first = at;
		if (n && p[n - 1] == '\r')
			n--;
		if (n && p[n - 1] == '\\') {            /* continuation */
			dd_buf_add(&line, p, n - 1);
		} else {
			dd_buf_add(&line, p, n);
			ctx->line = first;
			parse_txt_line(set, path, dd_buf_str(&line), line.len, ctx);
			dd_buf_reset(&line);
		}
		p = nl ? nl + 1 : end;
	}
	if (line.len) {
		ctx->line = first;
		parse_txt_line(set, path, dd_buf_str(&line), line.len, ctx);
	}
	dd_buf_release(&line);
}

/* ---- TOML subsets ------------------------------------------------------------ */

/* The text between the first pair of double or single quotes in [s, end). */
static int quoted(const char *s, const char *end, const char **q, size_t *qlen)
{
	const char *a, *b;

	for (a = s; a < end && *a != '"' && *a != '\''; a++)
		;
	if (a >= end)
		return 0;
	for (b = a + 1; b < end && *b != *a; b++)
		;
	if (b >= end)
		return 0;
	*q = a + 1;
	*qlen = (size_t)(b - a - 1);
	return 1;
}

static void trim(const char **s, const char **end)
{
	while (*s < *end && isspace((unsigned char)**s))
		(*s)++;
	while (*end > *s && isspace((unsigned char)(*end)[-1]))
		(*end)--;
}

/* The next line of [*p, end) that is neither blank nor a comment, trimmed,
 * as s..e; *line counts the lines read.  0 at the end of the text. */
static int next_line(const char **p, const char *end, const char **s, const char **e, int *line)
{
	while (*p < end) {
		const char *nl = memchr(*p, '\n', (size_t)(end - *p));

		*s = *p;
		*e = nl ? nl : end;
		*p = nl ? nl + 1 : end;
		(*line)++;
		trim(s, e);
		if (*s < *e && **s != '#')
			return 1;
	}
	return 0;
}

/* Poetry's "^2.0" / "~2.0" / "2.0.1" / "*" -> a version string. */
static void put_poetry(struct dd_reqset *set, const char *name, size_t nlen, const char *v, size_t vlen, int line)
{
	if (vlen == 1 && v[0] == '*')
		vlen = 0;
	put(set, name, nlen, v, vlen, line);
}

/* One `key = value` line of a table of dependencies (Poetry's, Pipfile's):
 * `pandas = "2.0.0"`, `torch = { version = "2.1.0", source = "x" }`. */
static void put_table_dep(struct dd_reqset *set, const char *s, const char *e, int line)
{
	const char *eq = memchr(s, '=', (size_t)(e - s)), *ke, *v, *ve, *vkey, *q;
	size_t qlen;

	if (!eq)
		return;
	ke = eq;
	while (ke > s && isspace((unsigned char)ke[-1]))
		ke--;
	if (*s == '"' && ke > s + 1 && ke[-1] == '"') {
		s++;
		ke--;
	}
	v = eq + 1;
	ve = e;
	trim(&v, &ve);
	if (v < ve && *v == '{') {
		vkey = memmem(v, (size_t)(ve - v), "version", 7);
		if (vkey && quoted(vkey + 7, ve, &q, &qlen))
			put_poetry(set, s, (size_t)(ke - s), q, qlen, line);
		else
			put(set, s, (size_t)(ke - s), "", 0, line);
	} else if (quoted(v, ve, &q, &qlen)) {
		put_poetry(set, s, (size_t)(ke - s), q, qlen, line);
	}
}

/* `key = "value"` at s..e: the quoted value when the key is `key`. */
static int key_value(const char *s, const char *e, const char *key, const char **q, size_t *qlen)
{
	size_t kl = strlen(key);
	const char *p = s + kl;

	if (!has_prefix(s, e, key))
		return 0;
	while (p < e && isspace((unsigned char)*p))
		p++;
	if (p >= e || *p != '=')
		return 0;
	return quoted(p + 1, e, q, qlen);
}

static void parse_pyproject(struct dd_reqset *set, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	const char *s, *e;
	enum { SEC_OTHER, SEC_PROJECT, SEC_OPTIONAL, SEC_POETRY_DEPS, SEC_POETRY_MAIN } sec = SEC_OTHER;
	int in_array = 0, line = 0;

	while (next_line(&p, end, &s, &e, &line)) {
		const char *q;
		size_t qlen;

		if (*s == '[' && !in_array) {
			size_t n = (size_t)(e - s);

			if (n == 9 && has_prefix(s, e, "[project]"))
				sec = SEC_PROJECT;
			else if (has_prefix(s, e, "[project.optional-dependencies]"))
				sec = SEC_OPTIONAL;
			else if (has_prefix(s, e, "[tool.poetry.dependencies]"))
				sec = SEC_POETRY_MAIN;
			else if (has_prefix(s, e, "[tool.poetry.dev-dependencies]") ||
			         (has_prefix(s, e, "[tool.poetry.group.") && memmem(s, n, ".dependencies]", 14)))
				sec = SEC_POETRY_DEPS;
			else if (has_prefix(s, e, "[dependency-groups]"))
				sec = SEC_OPTIONAL;
			else
				sec = SEC_OTHER;
			continue;
		}
		if (in_array) {
			const char *cur = s;

			while (cur < e && quoted(cur, e, &q, &qlen)) {
				parse_spec(set, q, qlen, 0, line);
				cur = q + qlen + 1;
			}
			if (memchr(s, ']', (size_t)(e - s)) && !memchr(s, '"', (size_t)(e - s)))
				in_array = 0;
			else if (e > s && e[-1] == ']')
				in_array = 0;
			continue;
		}
		if (sec == SEC_PROJECT && key_value(s, e, "requires-python", &q, &qlen)) {
			put(set, "python", 6, q, qlen, line);     /* the interpreter the project runs on */
			continue;
		}
		if (sec == SEC_PROJECT || sec == SEC_OPTIONAL) {
			const char *eq = memchr(s, '=', (size_t)(e - s));
			const char *br;

			if (!eq)
				continue;
			if (sec == SEC_PROJECT && !has_prefix(s, e, "dependencies"))
				continue;
			br = memchr(eq, '[', (size_t)(e - eq));
			if (!br)
				continue;
			{
				const char *cur = br + 1;

				while (cur < e && quoted(cur, e, &q, &qlen)) {
					parse_spec(set, q, qlen, 0, line);
					cur = q + qlen + 1;
				}
				in_array = !memchr(br, ']', (size_t)(e - br));
			}
			continue;
		}
		if (sec == SEC_POETRY_DEPS || sec == SEC_POETRY_MAIN) {
			/* `python =` of a group is no interpreter pin; of the main table it is */
			if (has_prefix(s, e, "python") && (e - s == 6 || isspace((unsigned char)s[6]) || s[6] == '=') &&
			    sec == SEC_POETRY_DEPS)
				continue;
			put_table_dep(set, s, e, line);
		}
	}
}

/* The names of a uv `dependencies = [ { name = "x", extra = ["y"] }, ... ]`
 * array from s on, depth brackets deep already: edges from `pkg`.  Returns
 * the depth left open at e (0: the array ended). */
static int uv_dep_names(struct dd_reqset *set, const char *pkg, const char *s, const char *e, int depth)
{
	for (const char *c = s; c < e && depth > 0; c++) {
		const char *q;
		size_t qlen;

		if (*c == '"' || *c == '\'') {          /* a string: skip it whole */
			const char *close = memchr(c + 1, *c, (size_t)(e - c - 1));

			if (!close)
				break;
			c = close;
		} else if (*c == '[') {
			depth++;
		} else if (*c == ']') {
			depth--;
		} else if (depth == 1 && has_prefix(c, e, "name") && (c == s || !isalnum((unsigned char)c[-1])) &&
		           quoted(c + 4, e, &q, &qlen)) {
			const char *after = c + 4;

			while (after < e && isspace((unsigned char)*after))
				after++;
			if (after < e && *after == '=' && pkg)
				put_edge(set, pkg, strlen(pkg), q, qlen);
			c = q + qlen;      /* the closing quote */
		}
	}
	return depth;
}

/* poetry.lock / uv.lock: [[package]] blocks with name = "x" and version = "y";
 * the graph from poetry's [package.dependencies] tables (one `dep = ...` a
 * line) and uv's `dependencies = [ { name = "dep" }, ... ]` arrays. */
static void parse_lock_toml(struct dd_reqset *set, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *s, *e;
	char *name = NULL;
	enum { L_OTHER, L_TOP, L_PACKAGE, L_POETRY_DEPS } sec = L_TOP;
	int uv_deps = 0, line = 0;   /* inside a uv `dependencies = [` array */
	int array_depth = 0;         /* brackets open in a value that spans lines (not uv_deps) */

	while (next_line(&p, end, &s, &e, &line)) {
		const char *q;
		size_t qlen;

		if (uv_deps) {
			uv_deps = uv_dep_names(set, name, s, e, uv_deps);
			continue;
		}
		if (array_depth > 0) {
			for (const char *c = s; c < e; c++)
				array_depth += *c == '[' ? 1 : *c == ']' ? -1 : 0;
			continue;
		}
		if (*s == '[') {
			if ((size_t)(e - s) == 11 && !strncmp(s, "[[package]]", 11)) {
				sec = L_PACKAGE;
				free(name);
				name = NULL;
			} else if (has_prefix(s, e, "[package.dependencies]")) {
				sec = L_POETRY_DEPS;
			} else {
				sec = L_OTHER;   /* [package.extras], [package.metadata], [metadata] ... */
			}
			continue;
		}
		if (sec == L_TOP && key_value(s, e, "requires-python", &q, &qlen)) {
			put(set, "python", 6, q, qlen, line);     /* uv.lock's copy of the project's */
			continue;
		}
		if (sec == L_POETRY_DEPS && name) {
			const char *k = s, *ke;

			if (*k == '"')
				k++;
			for (ke = k; ke < e && (isalnum((unsigned char)*ke) || *ke == '-' || *ke == '_' || *ke == '.'); ke++)
				;
			if (ke > k && memchr(ke, '=', (size_t)(e - ke)))
				put_edge(set, name, strlen(name), k, (size_t)(ke - k));
		}
		if (sec != L_PACKAGE) {
			const char *eq = memchr(s, '=', (size_t)(e - s));

			for (const char *c = eq ? eq : e; c < e; c++)   /* a value continued on the next lines */
				array_depth += *c == '[' ? 1 : *c == ']' ? -1 : 0;
			if (array_depth < 0)
				array_depth = 0;
			continue;
		}
		if (has_prefix(s, e, "name") && !has_prefix(s, e, "name-") && quoted(s + 4, e, &q, &qlen) && !name) {
			name = dd_xstrndup(q, qlen);
		} else if (has_prefix(s, e, "version") && name && quoted(s + 7, e, &q, &qlen)) {
			put(set, name, strlen(name), q, qlen, 0);
		} else if (key_value(s, e, "dependencies", &q, &qlen) || (has_prefix(s, e, "dependencies") &&
		                                                          memchr(s, '[', (size_t)(e - s)))) {
			const char *br = memchr(s, '[', (size_t)(e - s));

			if (!br || !name)
				continue;
			uv_deps = uv_dep_names(set, name, br + 1, e, 1);
		} else {
			const char *eq = memchr(s, '=', (size_t)(e - s));

			for (const char *c = eq ? eq : e; c < e; c++)
				array_depth += *c == '[' ? 1 : *c == ']' ? -1 : 0;
			if (array_depth < 0)
				array_depth = 0;
		}
	}
	free(name);
}

/* ---- Pipfile.lock and Pipfile ---------------------------------------------- */

/* A Pipfile.lock entry's dependencies, where the lock records them: a list
 * of names or an object keyed by name. */
static void pipfile_lock_edges(struct dd_reqset *set, const char *pkg, const cJSON *deps)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, deps) {
		const char *n = cJSON_IsString(d) ? d->valuestring : d->string;

		if (n)
			put_edge(set, pkg, strlen(pkg), n, strcspn(n, " <>=!~;[("));
	}
}

static void parse_pipfile_lock(struct dd_reqset *set, const char *text, size_t len)
{
	static const char *const sections[] = { "default", "develop" };
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *req;

	if (!root)
		return;
	req = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "_meta"), "requires");
	if (cJSON_IsObject(req)) {
		const cJSON *pv = cJSON_GetObjectItemCaseSensitive(req, "python_full_version");

		if (!cJSON_IsString(pv))
			pv = cJSON_GetObjectItemCaseSensitive(req, "python_version");
		if (cJSON_IsString(pv))
			put(set, "python", 6, pv->valuestring, strlen(pv->valuestring), 0);
	}
	for (size_t i = 0; i < DD_ARRAY_SIZE(sections); i++) {
		cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, sections[i]), *pkg;

		cJSON_ArrayForEach(pkg, sec) {
			cJSON *ver = cJSON_GetObjectItemCaseSensitive(pkg, "version");
			const char *v = cJSON_IsString(ver) ? ver->valuestring : "";

			if (!pkg->string)
				continue;
			if (!strncmp(v, "==", 2))
				v += 2;
			put(set, pkg->string, strlen(pkg->string), v, strlen(v), 0);
			pipfile_lock_edges(set, pkg->string, cJSON_GetObjectItemCaseSensitive(pkg, "dependencies"));
		}
	}
	cJSON_Delete(root);
}

/* Pipfile (TOML): [packages] and [dev-packages] like Poetry's tables,
 * [requires] python_version / python_full_version. */
static void parse_pipfile(struct dd_reqset *set, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	const char *s, *e;
	enum { P_OTHER, P_PACKAGES, P_REQUIRES } sec = P_OTHER;
	int line = 0;

	while (next_line(&p, end, &s, &e, &line)) {
		const char *q;
		size_t qlen;

		if (*s == '[') {
			sec = has_prefix(s, e, "[packages]") || has_prefix(s, e, "[dev-packages]") ? P_PACKAGES
			    : has_prefix(s, e, "[requires]") ? P_REQUIRES : P_OTHER;
			continue;
		}
		if (sec == P_PACKAGES) {
			put_table_dep(set, s, e, line);
		} else if (sec == P_REQUIRES && (key_value(s, e, "python_full_version", &q, &qlen) ||
		                                 key_value(s, e, "python_version", &q, &qlen))) {
			put(set, "python", 6, q, qlen, line);
		}
	}
}

/* ---- .python-version, runtime.txt --------------------------------------------- */

/* The interpreter alone: the first line that is not a comment ("3.12",
 * "3.11.4"; runtime.txt writes "python-3.11.4"). */
static void parse_python_version(struct dd_reqset *set, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *s, *e;
	int line = 0;

	if (!next_line(&p, end, &s, &e, &line))
		return;
	if (has_prefix(s, e, "python-"))
		s += 7;
	else if (has_prefix(s, e, "python"))
		s += 6;
	if (s < e && isdigit((unsigned char)*s) && !memchr(s, '\0', (size_t)(e - s)))
		put(set, "python", 6, s, (size_t)(e - s), line);
}

/* ---- conda environment.yml ----------------------------------------------------- */

static void conda_list(struct dd_reqset *set, yaml_document_t *doc, yaml_node_t *list, int pip)
{
	if (!list || list->type != YAML_SEQUENCE_NODE)
		return;
	for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(doc, *it);

		if (n->type == YAML_SCALAR_NODE) {
			const char *v = (const char *)n->data.scalar.value;
			const char *colon = strstr(v, "::");      /* channel::package */

			if (colon)
				v = colon + 2;
			parse_spec(set, v, strlen(v), !pip, (int)n->start_mark.line + 1);
		} else if (n->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
				yaml_node_t *k = yaml_document_get_node(doc, pr->key);

				if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, "pip"))
					conda_list(set, doc, yaml_document_get_node(doc, pr->value), 1);
			}
		}
	}
}

static void parse_conda(struct dd_reqset *set, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;

	if (!yaml_parser_initialize(&parser))
		return;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_parser_delete(&parser);
		return;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(&doc, pr->key);

			if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, "dependencies"))
				conda_list(set, &doc, yaml_document_get_node(&doc, pr->value), 0);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
}

/* ---- Dockerfile ------------------------------------------------------------- */

/* The version at the start of s..e ("3.11" of "3.11-slim"), its length. */
static size_t version_prefix(const char *s, const char *e)
{
	const char *p = s;

	while (p < e && (isdigit((unsigned char)*p) || (*p == '.' && p > s && p + 1 < e && isdigit((unsigned char)p[1]))))
		p++;
	return (size_t)(p - s);
}

/* What an image tag says of the interpreter and the orchestrator:
 * python:3.11-slim, apache/airflow:2.10.5-python3.11, prefecthq/prefect:3.1.4-python3.12,
 * a "-py3.11" tag of any image. */
static void image_versions(struct dd_reqset *set, const char *name, const char *tag, size_t tlen, int line)
{
	static const struct {
		const char *image, *dist;
	} orchestrators[] = { { "apache/airflow", "apache-airflow" }, { "prefecthq/prefect", "prefect" } };
	const char *base = strrchr(name, '/'), *e = tag + tlen, *py = NULL;
	size_t vl;

	base = base ? base + 1 : name;
	if (!strcmp(base, "python") && (vl = version_prefix(tag, e)) > 0)
		put(set, "python", 6, tag, vl, line);
	for (const char *c = tag; c + 2 < e && !py; c++)
		if ((c == tag || c[-1] == '-' || c[-1] == '_') &&
		    (has_prefix(c, e, "python") || (has_prefix(c, e, "py") && isdigit((unsigned char)c[2])))) {
			const char *v = c + (has_prefix(c, e, "python") ? 6 : 2);

			if ((vl = version_prefix(v, e)) > 0) {
				py = v;
				put(set, "python", 6, v, vl, line);
			}
		}
	for (size_t i = 0; i < DD_ARRAY_SIZE(orchestrators); i++) {
		size_t il = strlen(orchestrators[i].image), nl = strlen(name);

		/* docker.io/apache/airflow, a registry mirror's .../apache/airflow */
		if (nl >= il && !strcmp(name + nl - il, orchestrators[i].image) && (nl == il || name[nl - il - 1] == '/')) {
			const char *v = tag;

			if (has_prefix(v, e, "slim-"))
				v += 5;
			if ((vl = version_prefix(v, e)) > 0)
				put(set, orchestrators[i].dist, strlen(orchestrators[i].dist), v, vl, line);
		}
	}
}

static void docker_from(struct dd_reqset *set, const char *s, const char *e, int line)
{
	const char *img, *ie, *colon, *at;

	while (s < e && isspace((unsigned char)*s))
		s++;
	while (s < e && *s == '-') {             /* --platform=... */
		while (s < e && !isspace((unsigned char)*s))
			s++;
		while (s < e && isspace((unsigned char)*s))
			s++;
	}
	img = s;
	while (s < e && !isspace((unsigned char)*s))
		s++;
	ie = s;
	at = memchr(img, '@', (size_t)(ie - img));
	if (at)
		ie = at;
	colon = NULL;
	for (const char *c = ie; c > img; c--)
		if (c[-1] == ':') {
			colon = c - 1;
			break;
		} else if (c[-1] == '/') {
			break;
		}
	if (img == ie)
		return;
	{
		/* Image names keep their case-insensitive path; store as-is lower. */
		char *name = dd_xstrndup(img, (size_t)((colon ? colon : ie) - img));
		const char *tag = colon ? colon + 1 : "latest";
		size_t tlen = colon ? (size_t)(ie - colon - 1) : 6;

		if (strchr(name, '$') == NULL && !memchr(tag, '$', tlen) && !memchr(name, '\0', strlen(name))) {
			image_versions(set, name, tag, tlen, line);
			DD_GROW(set->v, set->cap, set->n + 1);
			if (!find(set, name)) {
				set->v[set->n].name = name;
				set->v[set->n].version = dd_xstrndup(tag, tlen);
				set->v[set->n].line = line;
				set->n++;
				return;
			}
		}
		free(name);
	}
}

/* A FROM line with the ARG defaults declared before it substituted:
 * ARG PYTHON_VERSION=3.11 / FROM python:${PYTHON_VERSION}-slim. */
static void docker_substitute(const struct dd_strv *args, const char *s, const char *e, struct dd_buf *out)
{
	while (s < e) {
		const char *name = NULL;
		size_t nl = 0;

		if (*s == '$' && s + 1 < e && s[1] == '{') {
			const char *close = memchr(s, '}', (size_t)(e - s));

			if (close) {
				name = s + 2;
				nl = strcspn(name, ":}");
				if (name + nl > close)
					nl = (size_t)(close - name);
				s = close + 1;
			}
		} else if (*s == '$' && s + 1 < e && (isalpha((unsigned char)s[1]) || s[1] == '_')) {
			name = s + 1;
			for (s = name; s < e && (isalnum((unsigned char)*s) || *s == '_'); s++)
				;
			nl = (size_t)(s - name);
		}
		if (!name) {
			dd_buf_addch(out, *s++);
			continue;
		}
		{
			const char *val = NULL;

			for (size_t i = 0; i < args->n; i++)
				if (!strncmp(args->v[i], name, nl) && args->v[i][nl] == '=')
					val = args->v[i] + nl + 1;
			if (val)
				dd_buf_adds(out, val);
			else
				dd_buf_addf(out, "${%.*s}", (int)nl, name);   /* unknown: stays a variable */
		}
	}
}

/* ARG NAME=default: kept as "NAME=default" (quotes dropped), the last one wins. */
static void docker_arg(struct dd_strv *args, const char *s, const char *e)
{
	const char *eq, *v, *ve;

	while (s < e && isspace((unsigned char)*s))
		s++;
	eq = memchr(s, '=', (size_t)(e - s));
	if (!eq || eq == s)
		return;
	v = eq + 1;
	ve = e;
	trim(&v, &ve);
	if (ve - v >= 2 && (*v == '"' || *v == '\'') && ve[-1] == *v) {
		v++;
		ve--;
	}
	dd_strv_push_owned(args, dd_xasprintf("%.*s=%.*s", (int)(eq - s), s, (int)(ve - v), v));
}

static void docker_pip(struct dd_reqset *set, const char *s, const char *e, int line)
{
	const char *p = s;

	/* every "pip install" / "pip3 install" / "python -m pip install" in the line */
	while ((p = memmem(p, (size_t)(e - p), "install", 7)) != NULL) {
		const char *before = p;
		int is_pip;

		while (before > s && isspace((unsigned char)before[-1]))
			before--;
		is_pip = (before - s >= 3 && !strncmp(before - 3, "pip", 3)) ||
		         (before - s >= 4 && !strncmp(before - 4, "pip3", 4));
		p += 7;
		if (!is_pip)
			continue;
		while (p < e) {
			const char *a, *b;

			while (p < e && isspace((unsigned char)*p))
				p++;
			if (p >= e || *p == '&' || *p == ';' || *p == '|')
				break;
			a = p;
			while (p < e && !isspace((unsigned char)*p) && *p != ';' && *p != '&')
				p++;
			b = p;
			if (*a == '-') {
				/* options with a value: -r file, -c file, -i url, --index-url url */
				if ((b - a == 2 && (a[1] == 'r' || a[1] == 'c' || a[1] == 'i')) ||
				    (b - a > 2 && (has_prefix(a, b, "--index-url") || has_prefix(a, b, "--extra-index-url")) &&
				     !memchr(a, '=', (size_t)(b - a)))) {
					while (p < e && isspace((unsigned char)*p))
						p++;
					while (p < e && !isspace((unsigned char)*p))
						p++;
				}
				continue;
			}
			if (*a == '"' || *a == '\'') {
				a++;
				if (b > a && (b[-1] == '"' || b[-1] == '\''))
					b--;
			}
			if (b > a && !memchr(a, '/', (size_t)(b - a)) && !memchr(a, '$', (size_t)(b - a)))
				parse_spec(set, a, (size_t)(b - a), 0, line);
		}
	}
}

static void parse_dockerfile(struct dd_reqset *set, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	struct dd_buf line = DD_BUF_INIT, from = DD_BUF_INIT;
	struct dd_strv args = DD_STRV_INIT;
	int at = 0, first = 0;

	while (p <= end) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		const char *e = nl ? nl : end;
		size_t n = (size_t)(e - p);

		at++;
		if (!line.len)
			first = at;
		if (n && p[n - 1] == '\r')
			n--;
		if (n && p[n - 1] == '\\') {
			dd_buf_add(&line, p, n - 1);
			dd_buf_addch(&line, ' ');
		} else {
			const char *s, *le;

			dd_buf_add(&line, p, n);
			s = dd_buf_str(&line);
			le = s + line.len;
			while (s < le && isspace((unsigned char)*s))
				s++;
			if ((size_t)(le - s) > 5 && !strncasecmp(s, "FROM", 4) && isspace((unsigned char)s[4])) {
				docker_substitute(&args, s + 5, le, &from);
				docker_from(set, dd_buf_str(&from), dd_buf_str(&from) + from.len, first);
				dd_buf_reset(&from);
			} else if ((size_t)(le - s) > 4 && !strncasecmp(s, "RUN", 3) && isspace((unsigned char)s[3])) {
				docker_pip(set, s + 4, le, first);
			} else if ((size_t)(le - s) > 4 && !strncasecmp(s, "ARG", 3) && isspace((unsigned char)s[3])) {
				docker_arg(&args, s + 4, le);
			}
			dd_buf_reset(&line);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	dd_buf_release(&line);
	dd_buf_release(&from);
	dd_strv_release(&args);
}

/* ---- entry points ------------------------------------------------------------ */

void reqparse(const char *path, const char *text, size_t len,
              reqparse_include_fn include, void *ud, struct dd_reqset *out)
{
	struct parse_ctx ctx = { include, ud, 0, 0, NULL, 0 };

	switch (reqparse_kind_for(path)) {
	case REQ_TXT: parse_txt(out, path, text, len, &ctx); break;
	case REQ_PYPROJECT: parse_pyproject(out, text, len); break;
	case REQ_LOCK_TOML: parse_lock_toml(out, text, len); break;
	case REQ_PIPFILE_LOCK: parse_pipfile_lock(out, text, len); break;
	case REQ_PIPFILE: parse_pipfile(out, text, len); break;
	case REQ_CONDA: parse_conda(out, text, len); break;
	case REQ_DOCKERFILE: parse_dockerfile(out, text, len); break;
	case REQ_PYTHON_VERSION: parse_python_version(out, text, len); break;
	case REQ_NONE: break;
	}
	free(ctx.last);
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(((const struct dd_req_change *)a)->package, ((const struct dd_req_change *)b)->package);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_change(struct dd_req_change **v, size_t *n, size_t *cap, const char *pkg,
                       const char *from, const char *to, const char *file, const struct dd_reqset *graph)
{
	struct dd_req_change *ch;

	DD_GROW(*v, *cap, *n + 1);
	ch = &(*v)[(*n)++];
	memset(ch, 0, sizeof(*ch));
	ch->package = dd_xstrdup(pkg);
	ch->from = dd_xstrdup(from);
	ch->to = dd_xstrdup(to);
	ch->file = dd_xstrdup(file);
	for (size_t i = 0; i < graph->n_edges; i++)
		if (!strcmp(graph->edges[i].to, pkg) && !dd_strv_contains(&ch->required_by, graph->edges[i].from))
			dd_strv_push(&ch->required_by, graph->edges[i].from);
	if (ch->required_by.n > 1)
		qsort(ch->required_by.v, ch->required_by.n, sizeof(char *), cmp_str);
}

void reqparse_diff(const struct dd_reqset *old, const struct dd_reqset *new_, const char *file,
                   struct dd_req_change **out, size_t *n_out)
{
	struct dd_req_change *v = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < new_->n; i++) {
		struct dd_req *o = find(old, new_->v[i].name);

		if (!o)
			add_change(&v, &n, &cap, new_->v[i].name, NULL, new_->v[i].version, file, new_);
		else if (strcmp(o->version, new_->v[i].version))
			add_change(&v, &n, &cap, new_->v[i].name, o->version, new_->v[i].version, file, new_);
	}
	for (size_t i = 0; i < old->n; i++)
		if (!find(new_, old->v[i].name))
			add_change(&v, &n, &cap, old->v[i].name, old->v[i].version, NULL, file, old);
	if (n)
		qsort(v, n, sizeof(*v), cmp_change);
	*out = v;
	*n_out = n;
}

void req_change_release(struct dd_req_change *ch)
{
	free(ch->package);
	free(ch->from);
	free(ch->to);
	free(ch->file);
	dd_strv_release(&ch->required_by);
	memset(ch, 0, sizeof(*ch));
}

void req_change_copy(struct dd_req_change *to, const struct dd_req_change *from)
{
	memset(to, 0, sizeof(*to));
	to->package = dd_xstrdup(from->package);
	to->from = dd_xstrdup(from->from);
	to->to = dd_xstrdup(from->to);
	to->file = dd_xstrdup(from->file);
	for (size_t i = 0; i < from->required_by.n; i++)
		dd_strv_push(&to->required_by, from->required_by.v[i]);
}

void req_changes_free(struct dd_req_change *changes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		req_change_release(&changes[i]);
	free(changes);
}
