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

/* Adds or replaces; a pinned version wins over an unpinned mention. */
static void put(struct dd_reqset *set, const char *name, size_t nlen, const char *ver, size_t vlen)
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
		return;
	}
	DD_GROW(set->v, set->cap, set->n + 1);
	set->v[set->n].name = norm;
	set->v[set->n].version = dd_xstrndup(ver, vlen);
	set->n++;
}

const char *reqset_get(const struct dd_reqset *set, const char *name)
{
	char *norm = reqparse_normalize_name(name, strlen(name));
	struct dd_req *r = find(set, norm);

	free(norm);
	return r ? r->version : NULL;
}

void reqset_release(struct dd_reqset *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].name);
		free(set->v[i].version);
	}
	free(set->v);
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

/* Parses a PEP 508 requirement; conda's "pandas=1.5.3=build" when conda. */
static void parse_spec(struct dd_reqset *set, const char *s, size_t len, int conda)
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
		return;
	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s < end && *s == '[') {                 /* extras */
		while (s < end && *s != ']')
			s++;
		if (s < end)
			s++;
	}
	if (s < end && *s == '@') {                 /* direct reference: name @ url */
		put(set, name, nlen, "", 0);
		return;
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

		put(set, name, nlen, v, vlen);
	} else if (ver.len > 2 && ver.data[0] == '=' && ver.data[1] == '=' && !strpbrk(ver.data + 2, ",<>!~=*")) {
		put(set, name, nlen, ver.data + 2, ver.len - 2);
	} else if (ver.len > 3 && !strncmp(ver.data, "===", 3)) {
		put(set, name, nlen, ver.data + 3, ver.len - 3);
	} else {
		put(set, name, nlen, dd_buf_str(&ver), ver.len);
	}
	dd_buf_release(&ver);
}

/* ---- requirements.txt ----------------------------------------------------- */

struct parse_ctx {
	reqparse_include_fn include;
	void *ud;
	int depth;
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
		ctx->depth++;
		parse_txt(set, target, dd_buf_str(&text), text.len, ctx);
		ctx->depth--;
	}
	free(target);
	dd_buf_release(&text);
}

static void parse_txt_line(struct dd_reqset *set, const char *path, const char *s, size_t len,
                           struct parse_ctx *ctx)
{
	const char *end = s + len;

	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s == end || *s == '#')
		return;
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
				parse_spec(set, egg + 5, (size_t)(end - egg - 5), 0);
			return;
		}
		return;    /* other options: --index-url, --hash ... */
	}
	{
		const char *egg = memmem(s, (size_t)(end - s), "#egg=", 5);

		if (egg && memmem(s, (size_t)(egg - s), "://", 3)) {
			parse_spec(set, egg + 5, (size_t)(end - egg - 5), 0);
			return;
		}
	}
	parse_spec(set, s, (size_t)(end - s), 0);
}

static void parse_txt(struct dd_reqset *set, const char *path, const char *text, size_t len,
                      struct parse_ctx *ctx)
{
	const char *p = text, *end = text + len;
	struct dd_buf line = DD_BUF_INIT;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t n = (size_t)(e - p);

		if (n && p[n - 1] == '\r')
			n--;
		if (n && p[n - 1] == '\\') {            /* continuation */
			dd_buf_add(&line, p, n - 1);
		} else {
			dd_buf_add(&line, p, n);
			parse_txt_line(set, path, dd_buf_str(&line), line.len, ctx);
			dd_buf_reset(&line);
		}
		p = nl ? nl + 1 : end;
	}
	if (line.len)
		parse_txt_line(set, path, dd_buf_str(&line), line.len, ctx);
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

/* Poetry's "^2.0" / "~2.0" / "2.0.1" / "*" -> a version string. */
static void put_poetry(struct dd_reqset *set, const char *name, size_t nlen, const char *v, size_t vlen)
{
	if (vlen == 1 && v[0] == '*')
		vlen = 0;
	if (vlen && isdigit((unsigned char)v[0]) && !memchr(v, ',', vlen) && !memchr(v, '*', vlen)) {
		put(set, name, nlen, v, vlen);     /* exact */
		return;
	}
	put(set, name, nlen, v, vlen);
}

static void parse_pyproject(struct dd_reqset *set, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	enum { SEC_OTHER, SEC_PROJECT, SEC_OPTIONAL, SEC_POETRY_DEPS } sec = SEC_OTHER;
	int in_array = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e = nl ? nl : end;

		p = nl ? nl + 1 : end;
		trim(&s, &e);
		if (s == e || *s == '#')
			continue;
		if (*s == '[' && !in_array) {
			size_t n = (size_t)(e - s);

			if (n == 9 && has_prefix(s, e, "[project]"))
				sec = SEC_PROJECT;
			else if (has_prefix(s, e, "[project.optional-dependencies]"))
				sec = SEC_OPTIONAL;
			else if (has_prefix(s, e, "[tool.poetry.dependencies]") ||
			         has_prefix(s, e, "[tool.poetry.dev-dependencies]") ||
			         (has_prefix(s, e, "[tool.poetry.group.") && memmem(s, n, ".dependencies]", 14)))
				sec = SEC_POETRY_DEPS;
			else if (has_prefix(s, e, "[dependency-groups]"))
				sec = SEC_OPTIONAL;
			else
				sec = SEC_OTHER;
			continue;
		}
		if (in_array) {
			const char *q;
			size_t qlen;
			const char *cur = s;

			while (cur < e && quoted(cur, e, &q, &qlen)) {
				parse_spec(set, q, qlen, 0);
				cur = q + qlen + 1;
			}
			if (memchr(s, ']', (size_t)(e - s)) && !memchr(s, '"', (size_t)(e - s)))
				in_array = 0;
			else if (e > s && e[-1] == ']')
				in_array = 0;
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
				const char *q, *cur = br + 1;
				size_t qlen;

				while (cur < e && quoted(cur, e, &q, &qlen)) {
					parse_spec(set, q, qlen, 0);
					cur = q + qlen + 1;
				}
				in_array = !memchr(br, ']', (size_t)(e - br));
			}
			continue;
		}
		if (sec == SEC_POETRY_DEPS) {
			const char *eq = memchr(s, '=', (size_t)(e - s)), *ke, *v, *ve, *vkey;
			const char *q;
			size_t qlen;

			if (!eq)
				continue;
			ke = eq;
			while (ke > s && isspace((unsigned char)ke[-1]))
				ke--;
			if (ke - s == 6 && !strncmp(s, "python", 6))
				continue;
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
					put_poetry(set, s, (size_t)(ke - s), q, qlen);
				else
					put(set, s, (size_t)(ke - s), "", 0);
			} else if (quoted(v, ve, &q, &qlen)) {
				put_poetry(set, s, (size_t)(ke - s), q, qlen);
			}
		}
	}
}

/* poetry.lock / uv.lock: [[package]] blocks with name = "x" and version = "y". */
static void parse_lock_toml(struct dd_reqset *set, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	char *name = NULL;
	int in_package = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e = nl ? nl : end, *q;
		size_t qlen;

		p = nl ? nl + 1 : end;
		trim(&s, &e);
		if (s < e && *s == '[') {
			in_package = (size_t)(e - s) == 11 && !strncmp(s, "[[package]]", 11);
			free(name);
			name = NULL;
			continue;
		}
		if (!in_package)
			continue;
		if (has_prefix(s, e, "name") && quoted(s + 4, e, &q, &qlen)) {
			free(name);
			name = dd_xstrndup(q, qlen);
		} else if (has_prefix(s, e, "version") && name && quoted(s + 7, e, &q, &qlen)) {
			put(set, name, strlen(name), q, qlen);
			free(name);
			name = NULL;
		}
	}
	free(name);
}

/* ---- Pipfile.lock ------------------------------------------------------------ */

static void parse_pipfile_lock(struct dd_reqset *set, const char *text, size_t len)
{
	static const char *const sections[] = { "default", "develop" };
	cJSON *root = cJSON_ParseWithLength(text, len);

	if (!root)
		return;
	for (size_t i = 0; i < DD_ARRAY_SIZE(sections); i++) {
		cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, sections[i]), *pkg;

		cJSON_ArrayForEach(pkg, sec) {
			cJSON *ver = cJSON_GetObjectItemCaseSensitive(pkg, "version");
			const char *v = cJSON_IsString(ver) ? ver->valuestring : "";

			if (!pkg->string)
				continue;
			if (!strncmp(v, "==", 2))
				v += 2;
			put(set, pkg->string, strlen(pkg->string), v, strlen(v));
		}
	}
	cJSON_Delete(root);
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
			parse_spec(set, v, strlen(v), !pip);
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

static void docker_from(struct dd_reqset *set, const char *s, const char *e)
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

		if (strchr(name, '$') == NULL) {
			DD_GROW(set->v, set->cap, set->n + 1);
			if (!find(set, name)) {
				set->v[set->n].name = name;
				set->v[set->n].version = dd_xstrndup(tag, tlen);
				set->n++;
				return;
			}
		}
		free(name);
	}
}

static void docker_pip(struct dd_reqset *set, const char *s, const char *e)
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
				parse_spec(set, a, (size_t)(b - a), 0);
		}
	}
}

static void parse_dockerfile(struct dd_reqset *set, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	struct dd_buf line = DD_BUF_INIT;

	while (p <= end) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		const char *e = nl ? nl : end;
		size_t n = (size_t)(e - p);

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
			if ((size_t)(le - s) > 5 && !strncasecmp(s, "FROM", 4) && isspace((unsigned char)s[4]))
				docker_from(set, s + 5, le);
			else if ((size_t)(le - s) > 4 && !strncasecmp(s, "RUN", 3) && isspace((unsigned char)s[3]))
				docker_pip(set, s + 4, le);
			dd_buf_reset(&line);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	dd_buf_release(&line);
}

/* ---- entry points ------------------------------------------------------------ */

void reqparse(const char *path, const char *text, size_t len,
              reqparse_include_fn include, void *ud, struct dd_reqset *out)
{
	struct parse_ctx ctx = { include, ud, 0 };

	switch (reqparse_kind_for(path)) {
	case REQ_TXT: parse_txt(out, path, text, len, &ctx); break;
	case REQ_PYPROJECT: parse_pyproject(out, text, len); break;
	case REQ_LOCK_TOML: parse_lock_toml(out, text, len); break;
	case REQ_PIPFILE_LOCK: parse_pipfile_lock(out, text, len); break;
	case REQ_CONDA: parse_conda(out, text, len); break;
	case REQ_DOCKERFILE: parse_dockerfile(out, text, len); break;
	case REQ_NONE: break;
	}
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(((const struct dd_req_change *)a)->package, ((const struct dd_req_change *)b)->package);
}

static void add_change(struct dd_req_change **v, size_t *n, size_t *cap, const char *pkg,
                       const char *from, const char *to, const char *file)
{
	DD_GROW(*v, *cap, *n + 1);
	(*v)[*n].package = dd_xstrdup(pkg);
	(*v)[*n].from = dd_xstrdup(from);
	(*v)[*n].to = dd_xstrdup(to);
	(*v)[*n].file = dd_xstrdup(file);
	(*n)++;
}

void reqparse_diff(const struct dd_reqset *old, const struct dd_reqset *new_, const char *file,
                   struct dd_req_change **out, size_t *n_out)
{
	struct dd_req_change *v = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < new_->n; i++) {
		struct dd_req *o = find(old, new_->v[i].name);

		if (!o)
			add_change(&v, &n, &cap, new_->v[i].name, NULL, new_->v[i].version, file);
		else if (strcmp(o->version, new_->v[i].version))
			add_change(&v, &n, &cap, new_->v[i].name, o->version, new_->v[i].version, file);
	}
	for (size_t i = 0; i < old->n; i++)
		if (!find(new_, old->v[i].name))
			add_change(&v, &n, &cap, old->v[i].name, old->v[i].version, NULL, file);
	if (n)
		qsort(v, n, sizeof(*v), cmp_change);
	*out = v;
	*n_out = n;
}

void req_changes_free(struct dd_req_change *changes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(changes[i].package);
		free(changes[i].from);
		free(changes[i].to);
		free(changes[i].file);
	}
	free(changes);
}
