/*
 * pattern.c - pattern library: YAML loading (libyaml document API),
 * validation, PCRE2 JIT compilation, Vectorscan prefilter, matching.
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>
#include <hs.h>

#include "dagdoc/knowledge.h"
#include "dagdoc/pattern.h"

/* PCRE2 limits: far above what any real log line needs, far below a hang. */
#define PAT_MATCH_LIMIT 200000u
#define PAT_DEPTH_LIMIT 5000u
#define PAT_HEAP_LIMIT_KB 20480u
#define PAT_JIT_STACK_MAX (512 * 1024)

const char *const pat_categories[] = {
	"dependency_upgrade", "stalled_upstream", "intermittent", "resource", "orchestrator",
	"config_credentials", "code_bug", "data_quality", "ml_training", NULL,
};

const char *const pat_stages[] = { "parse", "schedule", "run", "teardown", NULL };

static int in_list(const char *const *list, const char *name)
{
	for (size_t i = 0; name && list[i]; i++)
		if (!strcmp(list[i], name))
			return 1;
	return 0;
}

int pat_stage_valid(const char *name)
{
	return in_list(pat_stages, name);
}

int pat_category_valid(const char *name)
{
	return in_list(pat_categories, name);
}

/* One compiled regex; the library's flat list of them is the prefilter's id space. */
struct pat_regex {
	pcre2_code *code;
	size_t pattern;            /* index into lib->pats */
	size_t index;              /* index within the pattern */
	unsigned prefilter;        /* 0 exact, 1 approximate, 2 not in the database (always run) */
	char **group_name;         /* by group number (NULL when unnamed), owned */
	uint32_t n_groups;
};

struct pat_library {
	struct pat_pattern **pats;  /* library patterns and markers, load order */
	size_t n_pats, cap_pats;
	struct pat_regex *rx;       /* built by finalize */
	size_t n_rx;
	size_t *first_rx;           /* per pattern: index of its first regex in rx */
	size_t *pub;                /* indices of non-marker patterns */
	size_t n_pub;
	size_t n_markers;
	size_t *always;             /* regex ids not in the prefilter */
	size_t n_always;
	hs_database_t *db;
	int finalized;
	int n_gen;                  /* user sources added so far */
	struct pat_stats stats;
	uint32_t max_ovec;
	struct kb *knowledge;       /* owned; may be NULL */
	/* Compiled code built at add time, kept until finalize (per pattern, per regex). */
	pcre2_code ***codes;
	size_t cap_codes;
};

/* ---------------------------------------------------------------- library */

struct pat_library *pat_library_new(void)
{
	return dd_xcalloc(1, sizeof(struct pat_library));
}

static void pattern_free(struct pat_pattern *p)
{
	if (!p)
		return;
	free(p->id);
	free(p->title);
	free(p->category);
	free(p->stage);
	free(p->file);
	dd_strv_release(&p->regex);
	free(p->regex_line);
	dd_strv_release(&p->checks);
	dd_strv_release(&p->fix);
	dd_strv_release(&p->examples);
	free(p->example_line);
	dd_strv_release(&p->counterexamples);
	free(p->counterexample_line);
	free(p);
}

static void free_codes(pcre2_code **codes, size_t n)
{
	if (!codes)
		return;
	for (size_t i = 0; i < n; i++)
		pcre2_code_free(codes[i]);
	free(codes);
}

void pat_library_set_knowledge(struct pat_library *lib, struct kb *kb)
{
	kb_free(lib->knowledge);
	lib->knowledge = kb;
}

const struct kb *pat_library_knowledge(const struct pat_library *lib)
{
	return lib ? lib->knowledge : NULL;
}

void pat_library_free(struct pat_library *lib)
{
	if (!lib)
		return;
	kb_free(lib->knowledge);
	for (size_t i = 0; i < lib->n_pats; i++) {
		if (lib->codes && !lib->finalized)
			free_codes(lib->codes[i], lib->pats[i]->regex.n);
		pattern_free(lib->pats[i]);
	}
	free(lib->pats);
	if (lib->finalized) {
		for (size_t i = 0; i < lib->n_rx; i++) {
			pcre2_code_free(lib->rx[i].code);
			for (uint32_t g = 0; g < lib->rx[i].n_groups; g++)
				free(lib->rx[i].group_name[g]);
			free(lib->rx[i].group_name);
		}
		for (size_t i = 0; i < lib->n_pats; i++)
			free(lib->codes[i]);
	}
	free(lib->codes);
	free(lib->rx);
	free(lib->first_rx);
	free(lib->pub);
	free(lib->always);
	if (lib->db)
		hs_free_database(lib->db);
	free(lib);
}

size_t pat_library_count(const struct pat_library *lib)
{
	if (lib->finalized)
		return lib->n_pub;
	size_t n = 0;
	for (size_t i = 0; i < lib->n_pats; i++)
		n += lib->pats[i]->tag == 0;
	return n;
}

const struct pat_pattern *pat_library_get(const struct pat_library *lib, size_t i)
{
	if (lib->finalized)
		return i < lib->n_pub ? lib->pats[lib->pub[i]] : NULL;
	for (size_t k = 0; k < lib->n_pats; k++)
		if (lib->pats[k]->tag == 0 && i-- == 0)
			return lib->pats[k];
	return NULL;
}

static ssize_t find_index(const struct pat_library *lib, const char *id)
{
	for (size_t i = 0; i < lib->n_pats; i++)
		if (lib->pats[i]->tag == 0 && !strcmp(lib->pats[i]->id, id))
			return (ssize_t)i;
	return -1;
}

const struct pat_pattern *pat_library_find(const struct pat_library *lib, const char *id)
{
	ssize_t i = find_index(lib, id);
	return i < 0 ? NULL : lib->pats[i];
}

void pat_library_stats(const struct pat_library *lib, struct pat_stats *st)
{
	*st = lib->stats;
	st->patterns = pat_library_count(lib);
}

/* ---------------------------------------------------------------- regex */

/* Compiles one regex; on error fills msg with "regex error at offset N: text". */
static pcre2_code *compile_regex(const char *src, struct dd_buf *msg)
{
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, 0, &errcode, &erroff, NULL);
	if (!code) {
		PCRE2_UCHAR text[256];
		pcre2_get_error_message(errcode, text, sizeof(text));
		dd_buf_addf(msg, "regex error at offset %zu: %s", (size_t)erroff, (const char *)text);
		return NULL;
	}
	/* JIT failure is not fatal: the interpreter gives the same answers. */
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

static int code_has_group(const pcre2_code *code, const char *name, size_t len)
{
	uint32_t count = 0, entry = 0;
	PCRE2_SPTR table = NULL;
	pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
	pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
	for (uint32_t i = 0; i < count; i++) {
		const char *n = (const char *)table + i * entry + 2;
		if (strlen(n) == len && !memcmp(n, name, len))
			return 1;
	}
	return 0;
}

static int is_ident_start(int c) { return isalpha(c) || c == '_'; }
static int is_ident(int c) { return isalnum(c) || c == '_'; }

/* Finds the next {name} placeholder at or after *pos; returns 1 with its span. */
static int next_placeholder(const char *s, size_t *pos, size_t *name_off, size_t *name_len)
{
	for (size_t i = *pos; s[i]; i++) {
		if (s[i] != '{' || !is_ident_start((unsigned char)s[i + 1]))
			continue;
		if (i > 0 && (s[i - 1] == '$' || s[i - 1] == '%'))
			continue;   /* shell ${VAR}, curl -w %{time_total}: not placeholders */
		size_t j = i + 1;
		while (is_ident((unsigned char)s[j]))
			j++;
		if (s[j] != '}')
			continue;
		*name_off = i + 1;
		*name_len = j - i - 1;
		*pos = j + 1;
		return 1;
	}
	return 0;
}

void pat_fill(struct dd_buf *out, const char *tmpl, pat_lookup_fn lookup, void *ud)
{
	size_t pos = 0, off, len, last = 0;
	char name[128];
	while (next_placeholder(tmpl, &pos, &off, &len)) {
		dd_buf_add(out, tmpl + last, off - 1 - last);
		const char *v = NULL;
		if (len < sizeof(name)) {
			memcpy(name, tmpl + off, len);
			name[len] = 0;
			v = lookup ? lookup(name, ud) : NULL;
		}
		if (v)
			dd_buf_adds(out, v);
		else
			dd_buf_add(out, tmpl + off - 1, len + 2);
		last = pos;
	}
	dd_buf_adds(out, tmpl + last);
}

/* ---------------------------------------------------------------- YAML */

struct loader {
	struct pat_library *lib;
	const char *file;
	int user;
	yaml_document_t doc;
	struct dd_strv *problems;
	struct dd_error *err;
	size_t n_problems;
	int gen;                   /* 0 built-in, else the user source's generation */
};

__attribute__((format(printf, 4, 5)))
static void problem(struct loader *ld, const yaml_node_t *node, const struct pat_pattern *p, const char *fmt, ...)
{
	struct dd_buf b = DD_BUF_INIT;
	dd_buf_addf(&b, "%s:%lu: ", ld->file, node ? (unsigned long)node->start_mark.line + 1 : 1UL);
	if (p)
		dd_buf_addf(&b, "pattern %s: ", p->id);
	va_list ap;
	va_start(ap, fmt);
	dd_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (ld->n_problems == 0 && ld->err && ld->err->code == 0)
		dd_error_set(ld->err, DD_EPARSE, "%s", b.data);
	ld->n_problems++;
	if (ld->problems)
		dd_strv_push_owned(ld->problems, dd_buf_detach(&b));
	else
		dd_buf_release(&b);
}

static yaml_node_t *node_at(struct loader *ld, int idx)
{
	return yaml_document_get_node(&ld->doc, idx);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int scalar_has_nul(const yaml_node_t *n)
{
	return strlen((const char *)n->data.scalar.value) != n->data.scalar.length;
}

/* A scalar, or a sequence of scalars; fills sv and lines.  Returns 0 or -1 (problem reported). */
static int string_list(struct loader *ld, struct pat_pattern *p, const char *key, yaml_node_t *v,
                       struct dd_strv *sv, int **lines, int allow_scalar)
{
	size_t cap = 0, n = 0;
	if (v->type == YAML_SCALAR_NODE && allow_scalar) {
		if (scalar_has_nul(v)) {
			problem(ld, v, p, "'%s' contains a NUL character", key);
			return -1;
		}
		dd_strv_push(sv, scalar(v));
		DD_GROW(*lines, cap, 1);
		(*lines)[0] = (int)v->start_mark.line + 1;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		problem(ld, v, p, "'%s' must be %s", key, allow_scalar ? "a string or a list of strings" : "a list of strings");
		return -1;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node_at(ld, *it);
		if (!e || e->type != YAML_SCALAR_NODE) {
			problem(ld, e ? e : v, p, "every item of '%s' must be a string", key);
			return -1;
		}
		if (scalar_has_nul(e)) {
			problem(ld, e, p, "an item of '%s' contains a NUL character", key);
			return -1;
		}
		dd_strv_push(sv, scalar(e));
		DD_GROW(*lines, cap, n + 1);
		(*lines)[n++] = (int)e->start_mark.line + 1;
	}
	return 0;
}

static const char *const pattern_keys[] = {
	"id", "title", "match", "confidence", "checks", "fix", "examples", "counterexamples", "stage", NULL,
};

static int valid_id(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

/* Checks {placeholders} of checks/fix against the named groups of every regex. */
static int check_placeholders(struct loader *ld, struct pat_pattern *p, pcre2_code **codes,
                              const struct dd_strv *sv, const char *key, yaml_node_t *node)
{
	int bad = 0;
	for (size_t i = 0; i < sv->n; i++) {
		size_t pos = 0, off, len;
		while (next_placeholder(sv->v[i], &pos, &off, &len)) {
			for (size_t r = 0; r < p->regex.n; r++) {
				if (!code_has_group(codes[r], sv->v[i] + off, len)) {
					problem(ld, node, p, "%s item %zu uses {%.*s} but regex %zu has no group named '%.*s'",
					        key, i + 1, (int)len, sv->v[i] + off, r + 1, (int)len, sv->v[i] + off);
					bad = 1;
					break;
				}
			}
		}
	}
	return bad ? -1 : 0;
}

static void add_pattern(struct pat_library *lib, struct pat_pattern *p, pcre2_code **codes)
{
	DD_GROW(lib->pats, lib->cap_pats, lib->n_pats + 1);
	size_t cap = lib->cap_codes;
	DD_GROW(lib->codes, cap, lib->cap_pats);
	lib->cap_codes = cap;
	lib->pats[lib->n_pats] = p;
	lib->codes[lib->n_pats] = codes;
	lib->n_pats++;
}

static void replace_pattern(struct pat_library *lib, size_t i, struct pat_pattern *p, pcre2_code **codes)
{
	free_codes(lib->codes[i], lib->pats[i]->regex.n);
	pattern_free(lib->pats[i]);
	lib->pats[i] = p;
	lib->codes[i] = codes;
}

static void load_pattern(struct loader *ld, yaml_node_t *pn, size_t ordinal, const char *category)
{
	struct pat_pattern *p = dd_xcalloc(1, sizeof(*p));
	pcre2_code **codes = NULL;
	yaml_node_t *kn[DD_ARRAY_SIZE(pattern_keys)] = { 0 };
	yaml_node_t *vn[DD_ARRAY_SIZE(pattern_keys)] = { 0 };
	size_t before = ld->n_problems;

	p->file = dd_xstrdup(ld->file);
	p->line = (int)pn->start_mark.line + 1;
	p->user = ld->gen;
	p->category = dd_xstrdup(category ? category : "");
	p->id = dd_xasprintf("#%zu", ordinal);

	if (pn->type != YAML_MAPPING_NODE) {
		problem(ld, pn, p, "must be a mapping with id, title, match, confidence, checks, fix, examples");
		goto out;
	}
	/* First pass: find keys (need the id for every later message). */
	for (yaml_node_pair_t *pr = pn->data.mapping.pairs.start; pr < pn->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node_at(ld, pr->key), *v = node_at(ld, pr->value);
		const char *ks = scalar(k);
		size_t i;
		if (!ks || !v) {
			problem(ld, k ? k : pn, p, "keys must be plain strings");
			continue;
		}
		for (i = 0; pattern_keys[i]; i++)
			if (!strcmp(pattern_keys[i], ks))
				break;
		if (!pattern_keys[i])
			continue;   /* reported below, once the id is known */
		if (kn[i]) {
			problem(ld, k, p, "duplicate key '%s'", ks);
			continue;
		}
		kn[i] = k;
		vn[i] = v;
	}
	if (vn[0]) {
		const char *id = scalar(vn[0]);
		if (!id || !valid_id(id) || scalar_has_nul(vn[0])) {
			problem(ld, vn[0], p, "'id' must be a non-empty string of letters, digits, '.', '_' and '-'");
		} else {
			free(p->id);
			p->id = dd_xstrdup(id);
		}
	} else {
		problem(ld, pn, p, "missing key 'id'");
	}
	for (yaml_node_pair_t *pr = pn->data.mapping.pairs.start; pr < pn->data.mapping.pairs.top; pr++) {
		const char *ks = scalar(node_at(ld, pr->key));
		size_t i;
		if (!ks)
			continue;
		for (i = 0; pattern_keys[i]; i++)
			if (!strcmp(pattern_keys[i], ks))
				break;
		if (!pattern_keys[i])
			problem(ld, node_at(ld, pr->key), p,
			        "unknown key '%s' (expected id, title, match, confidence, checks, fix, examples, counterexamples, "
			        "stage)", ks);
	}
	/* title */
	if (!vn[1]) {
		problem(ld, pn, p, "missing key 'title'");
	} else if (!scalar(vn[1]) || !*scalar(vn[1]) || scalar_has_nul(vn[1]) || strchr(scalar(vn[1]), '\n')) {
		problem(ld, vn[1], p, "'title' must be a non-empty one-line string");
	} else {
		p->title = dd_xstrdup(scalar(vn[1]));
	}
	/* match */
	if (!vn[2]) {
		problem(ld, pn, p, "missing key 'match'");
	} else if (string_list(ld, p, "match", vn[2], &p->regex, &p->regex_line, 1) == 0) {
		if (p->regex.n == 0)
			problem(ld, vn[2], p, "'match' has no regex");
		codes = dd_xcalloc(p->regex.n ? p->regex.n : 1, sizeof(*codes));
		for (size_t r = 0; r < p->regex.n; r++) {
			struct dd_buf msg = DD_BUF_INIT;
			if (!*p->regex.v[r]) {
				struct yaml_node_s fake = *vn[2];
				fake.start_mark.line = (size_t)p->regex_line[r] - 1;
				problem(ld, &fake, p, "regex %zu is empty", r + 1);
				continue;
			}
			codes[r] = compile_regex(p->regex.v[r], &msg);
			if (!codes[r]) {
				struct yaml_node_s fake = *vn[2];
				fake.start_mark.line = (size_t)p->regex_line[r] - 1;
				if (p->regex.n > 1)
					problem(ld, &fake, p, "regex %zu: %s", r + 1, msg.data);
				else
					problem(ld, &fake, p, "%s", msg.data);
			}
			dd_buf_release(&msg);
		}
	}
	/* confidence */
	if (!vn[3]) {
		problem(ld, pn, p, "missing key 'confidence'");
	} else {
		const char *s = scalar(vn[3]);
		char *end = NULL;
		double c = s ? strtod(s, &end) : NAN;
		if (!s || !*s || !end || *end || !isfinite(c) || c < 0.0 || c > 1.0)
			problem(ld, vn[3], p, "'confidence' must be a number between 0 and 1, not '%s'", s ? s : "(not a scalar)");
		else
			p->confidence = c;
	}
	/* stage */
	if (vn[8]) {
		const char *s = scalar(vn[8]);
		if (!pat_stage_valid(s))
			problem(ld, vn[8], p, "'stage' must be one of parse, schedule, run, teardown, not '%s'",
			        s ? s : "(not a scalar)");
		else
			p->stage = dd_xstrdup(s);
	}
	/* checks, fix */
	for (int k = 4; k <= 5; k++) {
		int *lines = NULL;
		if (vn[k])
			string_list(ld, p, pattern_keys[k], vn[k], k == 4 ? &p->checks : &p->fix, &lines, 1);
		free(lines);
	}
	/* examples, counterexamples */
	if (!vn[6])
		problem(ld, pn, p, "missing key 'examples' (at least one example is required)");
	else if (string_list(ld, p, "examples", vn[6], &p->examples, &p->example_line, 1) == 0 && p->examples.n == 0)
		problem(ld, vn[6], p, "'examples' is empty (at least one example is required)");
	if (vn[7])
		string_list(ld, p, "counterexamples", vn[7], &p->counterexamples, &p->counterexample_line, 1);

	/* placeholders need every regex compiled */
	if (codes && ld->n_problems == before) {
		check_placeholders(ld, p, codes, &p->checks, "checks", vn[4]);
		check_placeholders(ld, p, codes, &p->fix, "fix", vn[5]);
	}
out:
	if (ld->n_problems != before) {
		free_codes(codes, p->regex.n);
		pattern_free(p);
		return;
	}
	ssize_t prev = find_index(ld->lib, p->id);
	if (prev >= 0 && ld->lib->pats[prev]->user == ld->gen) {
		problem(ld, pn, p, "duplicate id (first defined at %s:%d)", ld->lib->pats[prev]->file, ld->lib->pats[prev]->line);
		free_codes(codes, p->regex.n);
		pattern_free(p);
		return;
	}
	if (prev >= 0 && ld->user) {
		replace_pattern(ld->lib, (size_t)prev, p, codes);
		return;
	}
	add_pattern(ld->lib, p, codes);
}

static const char *base_category(const char *file, char *buf, size_t n)
{
	const char *b = strrchr(file, '/');
	b = b ? b + 1 : file;
	const char *dot = strrchr(b, '.');
	size_t len = dot ? (size_t)(dot - b) : strlen(b);
	if (len >= n)
		return NULL;
	memcpy(buf, b, len);
	buf[len] = 0;
	return pat_category_valid(buf) ? buf : NULL;
}

static int load_text(struct pat_library *lib, const char *name, const char *text, size_t len, int gen,
                     struct dd_strv *problems, struct dd_error *err)
{
	struct loader ld = { .lib = lib, .file = name, .user = gen != 0, .gen = gen, .problems = problems, .err = err };
	yaml_parser_t parser;
	if (lib->finalized)
		return dd_error_set(err, DD_ERR, "the pattern library is already finalized");
	if (!yaml_parser_initialize(&parser))
		return dd_error_set(err, DD_ERR, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		struct yaml_node_s fake;
		memset(&fake, 0, sizeof(fake));
		fake.start_mark = parser.problem_mark;
		problem(&ld, &fake, NULL, "YAML syntax error: %s%s%s", parser.problem ? parser.problem : "invalid YAML",
		        parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return DD_EPARSE;
	}
	yaml_parser_delete(&parser);

	yaml_node_t *root = yaml_document_get_root_node(&ld.doc);
	yaml_node_t *cat = NULL, *pats = NULL;
	const char *category = NULL;
	char fbuf[64];
	if (!root) {
		problem(&ld, NULL, NULL, "empty pattern file (expected 'category:' and 'patterns:')");
		goto done;
	}
	if (root->type != YAML_MAPPING_NODE) {
		problem(&ld, root, NULL, "a pattern file must be a mapping with 'category' and 'patterns'");
		goto done;
	}
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node_at(&ld, pr->key), *v = node_at(&ld, pr->value);
		const char *ks = scalar(k);
		if (ks && !strcmp(ks, "category") && !cat)
			cat = v;
		else if (ks && !strcmp(ks, "patterns") && !pats)
			pats = v;
		else if (ks && (!strcmp(ks, "category") || !strcmp(ks, "patterns")))
			problem(&ld, k, NULL, "duplicate key '%s'", ks);
		else
			problem(&ld, k ? k : root, NULL, "unknown key '%s' (expected category, patterns)", ks ? ks : "?");
	}
	if (!cat) {
		problem(&ld, root, NULL, "missing key 'category'");
	} else if (scalar(cat) && !strcmp(scalar(cat), "import_error")) {
		problem(&ld, cat, NULL,
		        "category 'import_error' was retired: a category names the cause and 'stage: parse' says the "
		        "DAG file did not load; use code_bug (a mistake in the file), dependency_upgrade (a package "
		        "missing or changed), orchestrator (an import timeout) or config_credentials, with 'stage: parse' "
		        "on the patterns");
	} else if (!pat_category_valid(scalar(cat))) {
		problem(&ld, cat, NULL,
		        "category '%s' is not one of dependency_upgrade, stalled_upstream, intermittent, resource, "
		        "orchestrator, config_credentials, code_bug, data_quality, ml_training",
		        scalar(cat) ? scalar(cat) : "(not a string)");
	} else {
		category = scalar(cat);
		const char *fc = base_category(name, fbuf, sizeof(fbuf));
		if (fc && strcmp(fc, category))
			problem(&ld, cat, NULL, "category '%s' does not match the file name (%s)", category, fc);
	}
	if (!pats) {
		problem(&ld, root, NULL, "missing key 'patterns'");
	} else if (pats->type != YAML_SEQUENCE_NODE) {
		problem(&ld, pats, NULL, "'patterns' must be a list");
	} else {
		size_t ord = 0;
		for (yaml_node_item_t *it = pats->data.sequence.items.start; it < pats->data.sequence.items.top; it++) {
			yaml_node_t *pn = node_at(&ld, *it);
			if (pn)
				load_pattern(&ld, pn, ++ord, category);
		}
	}
done:
	yaml_document_delete(&ld.doc);
	return ld.n_problems ? DD_EPARSE : 0;
}

int pat_library_add_string(struct pat_library *lib, const char *name, const char *text, size_t len,
                           int user, struct dd_strv *problems, struct dd_error *err)
{
	return load_text(lib, name ? name : "<string>", text, len, user ? ++lib->n_gen : 0, problems, err);
}

static int add_file_from(struct pat_library *lib, const char *path, int gen,
                         struct dd_strv *problems, struct dd_error *err)
{
	struct dd_buf b = DD_BUF_INIT;
	struct dd_error e = DD_ERROR_INIT;
	int rc = dd_read_file(path, 16 << 20, &b, &e);
	if (rc < 0) {
		if (problems)
			dd_strv_push_owned(problems, dd_xasprintf("%s:1: %s", path, e.msg));
		if (err && err->code == 0)
			dd_error_set(err, rc, "%s:1: %s", path, e.msg);
		dd_buf_release(&b);
		return rc;
	}
	rc = load_text(lib, path, b.data ? b.data : "", b.len, gen, problems, err);
	dd_buf_release(&b);
	return rc;
}

int pat_library_add_file(struct pat_library *lib, const char *path, int user,
                         struct dd_strv *problems, struct dd_error *err)
{
	return add_file_from(lib, path, user ? ++lib->n_gen : 0, problems, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pat_library_add_dir(struct pat_library *lib, const char *dir, int user,
                        struct dd_strv *problems, struct dd_error *err)
{
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		int code = e == ENOENT ? DD_ENOTFOUND : DD_EIO;
		struct dd_error tmp = DD_ERROR_INIT;
		dd_error_set(&tmp, code, "cannot open pattern directory %s: %s; check the path (DAGDOC_PATTERNS_DIR, "
		             "'patterns:' in the config, --patterns)", dir, strerror(e));
		if (problems)
			dd_strv_push(problems, tmp.msg);
		if (err && err->code == 0)
			*err = tmp;
		return code;
	}
	struct dd_strv names = DD_STRV_INIT;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (dd_ends_with(de->d_name, ".yaml") || dd_ends_with(de->d_name, ".yml"))
			dd_strv_push(&names, de->d_name);
	}
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	/* Duplicates inside one directory (built-in or user) are problems;
	 * a user directory replaces earlier sources' patterns by id. */
	int gen = user ? ++lib->n_gen : 0;
	int rc = 0;
	for (size_t i = 0; i < names.n; i++) {
		char *path = dd_xasprintf("%s/%s", dir, names.v[i]);
		int r = add_file_from(lib, path, gen, problems, err);
		if (r < 0 && rc == 0)
			rc = r;
		free(path);
	}
	dd_strv_release(&names);
	return rc;
}

int pat_library_add_marker(struct pat_library *lib, const char *regex, int tag, struct dd_error *err)
{
	struct dd_buf msg = DD_BUF_INIT;
	if (lib->finalized)
		return dd_error_set(err, DD_ERR, "the pattern library is already finalized");
	pcre2_code *code = compile_regex(regex, &msg);
	if (!code) {
		int rc = dd_error_set(err, DD_EPARSE, "internal marker %d: %s", tag, msg.data);
		dd_buf_release(&msg);
		return rc;
	}
	struct pat_pattern *p = dd_xcalloc(1, sizeof(*p));
	p->id = dd_xasprintf("marker.%d", tag);
	p->title = dd_xstrdup("internal marker");
	p->category = dd_xstrdup("");
	p->file = dd_xstrdup("<internal>");
	p->tag = tag > 0 ? tag : 1;
	dd_strv_push(&p->regex, regex);
	pcre2_code **codes = dd_xcalloc(1, sizeof(*codes));
	codes[0] = code;
	add_pattern(lib, p, codes);
	lib->n_markers++;
	return 0;
}

/* ---------------------------------------------------------------- finalize */

static void fill_groups(struct pat_regex *r)
{
	uint32_t cap = 0, count = 0, entry = 0;
	PCRE2_SPTR table = NULL;
	pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT, &cap);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMETABLE, &table);
	r->n_groups = cap + 1;
	r->group_name = dd_xcalloc(r->n_groups, sizeof(char *));
	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *e = table + i * entry;
		uint32_t g = ((uint32_t)e[0] << 8) | e[1];
		if (g < r->n_groups && !r->group_name[g])
			r->group_name[g] = dd_xstrdup((const char *)e + 2);
	}
}

/* ---- prefilter database cache ----------------------------------------
 * Compiling ~300 regexes with Vectorscan takes about a second; a command
 * that classifies one small log should not pay that each time.  The
 * serialized database is cached under $XDG_CACHE_HOME/dagdoc (or
 * ~/.cache/dagdoc), keyed by a hash of the expressions, their flags and ids
 * and the Vectorscan version.  A cache that cannot be read or written is
 * simply not used; DAGDOC_NO_CACHE=1 turns it off. */

static char *cache_path(uint64_t key)
{
	char name[48];

	snprintf(name, sizeof(name), "prefilter-%016llx.hsdb", (unsigned long long)key);
	return dd_cache_path(name);
}

static hs_database_t *cache_load(const char *path)
{
	struct dd_buf b = DD_BUF_INIT;
	hs_database_t *db = NULL;
	if (path && dd_read_file(path, 256u << 20, &b, NULL) == 0 && b.len > 0 &&
	    hs_deserialize_database(b.data, b.len, &db) != HS_SUCCESS)
		db = NULL;
	dd_buf_release(&b);
	return db;
}

static void cache_store(const char *path, const hs_database_t *db)
{
	char *bytes = NULL;
	size_t len = 0;
	if (!path || hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		return;
	int ok = dd_write_file_atomic(path, bytes, len, NULL) == 0 ? 2 : 0;

	/* one library, one cache file: drop databases of older libraries */
	char *dir = dd_xstrdup(path);
	char *slash = strrchr(dir, '/');
	DIR *d = NULL;
	if (ok == 2 && slash) {
		*slash = 0;
		d = opendir(dir);
	}
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (dd_starts_with(de->d_name, "prefilter-") && dd_ends_with(de->d_name, ".hsdb") &&
		    !dd_starts_with(de->d_name, "prefilter-levels-") && strcmp(de->d_name, slash + 1)) {
			char *old = dd_xasprintf("%s/%s", dir, de->d_name);
			unlink(old);
			free(old);
		}
	}
	if (d)
		closedir(d);
	free(dir);
	free(bytes);   /* hs_serialize_database uses the misc allocator: malloc by default */
}

static unsigned hs_flags(unsigned level)
{
	/* No SINGLEMATCH: a batch holds many lines and every line's match must be
	 * reported.  MULTILINE: ^ and $ match at the line breaks between messages. */
	return HS_FLAG_MULTILINE | HS_FLAG_ALLOWEMPTY | (level ? HS_FLAG_PREFILTER : 0);
}

/* The prefilter level each regex ended with is cached too ("prefilter-
 * levels-<key>.txt", one digit per regex), keyed by the regexes and the
 * Vectorscan version: asking Vectorscan about ~500 expressions costs more
 * than a warm triage's analysis. */
static char *levels_path(const struct pat_library *lib)
{
	uint64_t key = DD_FNV_INIT;
	const char *ver = hs_version();
	char name[64];

	key = dd_fnv1a(key, ver, strlen(ver) + 1);
	for (size_t i = 0; i < lib->n_rx; i++) {
		const char *src = lib->pats[lib->rx[i].pattern]->regex.v[lib->rx[i].index];
		key = dd_fnv1a(key, src, strlen(src) + 1);
	}
	snprintf(name, sizeof(name), "prefilter-levels-%016llx.txt", (unsigned long long)key);
	return dd_cache_path(name);
}

static int levels_load(struct pat_library *lib, const char *path)
{
	struct dd_buf b = DD_BUF_INIT;
	int ok = path && dd_read_file(path, 1u << 20, &b, NULL) == 0 && b.len == lib->n_rx;
	for (size_t i = 0; ok && i < b.len; i++)
		ok = b.data[i] >= '0' && b.data[i] <= '2';
	for (size_t i = 0; ok && i < lib->n_rx; i++)
		lib->rx[i].prefilter = (unsigned)(b.data[i] - '0');
	dd_buf_release(&b);
	return ok;
}

static void levels_store(const struct pat_library *lib, const char *path)
{
	char *digits = dd_xcalloc(lib->n_rx + 1, 1);
	for (size_t i = 0; i < lib->n_rx; i++)
		digits[i] = (char)('0' + lib->rx[i].prefilter);
	if (path)
		dd_write_file_atomic(path, digits, lib->n_rx, NULL);   /* a cache: best effort */
	free(digits);
}

static int build_prefilter(struct pat_library *lib)
{
	size_t n = lib->n_rx;
	if (n == 0)
		return 0;
	char *levels = levels_path(lib);
	int levels_known = levels_load(lib, levels);
	/* Which regexes Vectorscan can take exactly, approximately or not at
	 * all: hs_expression_info parses without compiling. */
	for (size_t i = 0; i < n && !levels_known; i++) {
		struct pat_regex *r = &lib->rx[i];
		const char *src = lib->pats[r->pattern]->regex.v[r->index];
		if (strstr(src, "\\A") || strstr(src, "\\Z") || strstr(src, "\\z") || strstr(src, "\\G")) {
			r->prefilter = 2;   /* buffer anchors mean something else in a batch of lines */
			continue;
		}
		for (r->prefilter = 0; r->prefilter < 2; r->prefilter++) {
			hs_expr_info_t *info = NULL;
			hs_compile_error_t *ce = NULL;
			if (hs_expression_info(src, hs_flags(r->prefilter), &info, &ce) == HS_SUCCESS) {
				free(info);
				break;
			}
			if (ce)
				hs_free_compile_error(ce);
		}
	}
	const char **expr = dd_xcalloc(n, sizeof(char *));
	unsigned *flags = dd_xcalloc(n, sizeof(unsigned));
	unsigned *ids = dd_xcalloc(n, sizeof(unsigned));
	size_t *map = dd_xcalloc(n, sizeof(size_t));
	int ok = 0;
	for (int attempt = 0; attempt < (int)(2 * n + 2); attempt++) {
		size_t m = 0;
		uint64_t key = DD_FNV_INIT;
		const char *ver = hs_version();
		key = dd_fnv1a(key, ver, strlen(ver) + 1);
		for (size_t i = 0; i < n; i++) {
			struct pat_regex *r = &lib->rx[i];
			if (r->prefilter == 2)
				continue;
			expr[m] = lib->pats[r->pattern]->regex.v[r->index];
			flags[m] = hs_flags(r->prefilter);
			ids[m] = (unsigned)i;
			map[m] = i;
			key = dd_fnv1a(key, expr[m], strlen(expr[m]) + 1);
			key = dd_fnv1a(key, &flags[m], sizeof(flags[m]));
			key = dd_fnv1a(key, &ids[m], sizeof(ids[m]));
			m++;
		}
		if (m == 0) {
			ok = 1;
			break;
		}
		char *path = cache_path(key);
		hs_database_t *db = cache_load(path);
		if (db) {
			free(path);
			lib->db = db;
			ok = 1;
			break;
		}
		hs_compile_error_t *ce = NULL;
		if (hs_compile_multi(expr, flags, ids, (unsigned)m, HS_MODE_BLOCK, NULL, &db, &ce) == HS_SUCCESS) {
			cache_store(path, db);
			free(path);
			lib->db = db;
			ok = 1;
			break;
		}
		free(path);
		int bad = ce ? ce->expression : -1;
		if (ce)
			hs_free_compile_error(ce);
		if (bad < 0 || (size_t)bad >= m)
			break;   /* not an expression's fault: run without a prefilter */
		lib->rx[map[bad]].prefilter++;
		levels_known = 0;   /* changed: write them again */
	}
	free(expr);
	free(flags);
	free(ids);
	free(map);
	if (ok && !levels_known)
		levels_store(lib, levels);
	free(levels);
	return ok;
}

int pat_library_finalize(struct pat_library *lib, struct dd_error *err)
{
	if (lib->finalized)
		return dd_error_set(err, DD_ERR, "the pattern library is already finalized");
	size_t n = 0, cap = 0, n_mark = 0;
	for (size_t i = 0; i < lib->n_pats; i++)
		n += lib->pats[i]->regex.n;
	lib->rx = dd_xcalloc(n ? n : 1, sizeof(*lib->rx));
	lib->first_rx = dd_xcalloc(lib->n_pats ? lib->n_pats : 1, sizeof(size_t));
	lib->pub = dd_xcalloc(lib->n_pats ? lib->n_pats : 1, sizeof(size_t));
	for (size_t i = 0; i < lib->n_pats; i++) {
		struct pat_pattern *p = lib->pats[i];
		lib->first_rx[i] = lib->n_rx;
		if (p->tag == 0) {
			p->index = lib->n_pub;
			lib->pub[lib->n_pub++] = i;
		} else {
			p->index = n_mark++;
		}
		for (size_t r = 0; r < p->regex.n; r++) {
			struct pat_regex *x = &lib->rx[lib->n_rx++];
			x->code = lib->codes[i][r];
			x->pattern = i;
			x->index = r;
			fill_groups(x);
			if (x->n_groups > lib->max_ovec)
				lib->max_ovec = x->n_groups;
		}
	}
	lib->finalized = 1;
	lib->stats.regexes = n;
	lib->stats.markers = lib->n_markers;
	/* DAGDOC_NO_PREFILTER=1: PCRE2 on every line (for measuring the prefilter's effect) */
	const char *nopf = getenv("DAGDOC_NO_PREFILTER");
	int use_pf = !(nopf && *nopf && strcmp(nopf, "0"));
	if (use_pf && build_prefilter(lib) && lib->db) {
		lib->stats.prefilter = 1;
	} else if (lib->db == NULL) {
		for (size_t i = 0; i < lib->n_rx; i++)
			lib->rx[i].prefilter = 2;
	}
	for (size_t i = 0; i < lib->n_rx; i++) {
		if (lib->rx[i].prefilter == 0)
			lib->stats.prefilter_exact++;
		else if (lib->rx[i].prefilter == 1)
			lib->stats.prefilter_approx++;
		else {
			lib->stats.always_run++;
			DD_GROW(lib->always, cap, lib->n_always + 1);
			lib->always[lib->n_always++] = i;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- matching */

struct pat_matcher {
	const struct pat_library *lib;
	hs_scratch_t *scratch;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
	unsigned char *seen;       /* per regex id: candidate on this line */
	size_t *cand;
	size_t n_cand;
	const char *last_limit;
	/* batch mode: (line, regex id) candidate pairs of the last pat_batch_scan */
	struct pat_pair { size_t line, id; } *pairs;
	size_t n_pairs, cap_pairs, pos_pairs;
	size_t *last_line;         /* per regex id: line of its last pair + 1 (dedupe) */
	const size_t *starts;      /* of the batch being scanned */
	size_t n_starts;
	int batch_failed;          /* hs_scan failed: every line gets every regex */
};

struct pat_matcher *pat_matcher_new(const struct pat_library *lib)
{
	struct pat_matcher *m = dd_xcalloc(1, sizeof(*m));
	m->lib = lib;
	if (lib->db && hs_alloc_scratch(lib->db, &m->scratch) != HS_SUCCESS) {
		fprintf(stderr, "dagdoc: out of memory\n");
		abort();
	}
	m->md = pcre2_match_data_create(lib->max_ovec ? lib->max_ovec : 1, NULL);
	m->mctx = pcre2_match_context_create(NULL);
	if (!m->md || !m->mctx) {
		fprintf(stderr, "dagdoc: out of memory\n");
		abort();
	}
	pcre2_set_match_limit(m->mctx, PAT_MATCH_LIMIT);
	pcre2_set_depth_limit(m->mctx, PAT_DEPTH_LIMIT);
	pcre2_set_heap_limit(m->mctx, PAT_HEAP_LIMIT_KB);
	m->jit = pcre2_jit_stack_create(32 * 1024, PAT_JIT_STACK_MAX, NULL);
	if (m->jit)
		pcre2_jit_stack_assign(m->mctx, NULL, m->jit);
	m->seen = dd_xcalloc(lib->n_rx ? lib->n_rx : 1, 1);
	m->cand = dd_xcalloc(lib->n_rx ? lib->n_rx : 1, sizeof(size_t));
	m->last_line = dd_xcalloc(lib->n_rx ? lib->n_rx : 1, sizeof(size_t));
	return m;
}

void pat_matcher_free(struct pat_matcher *m)
{
	if (!m)
		return;
	if (m->scratch)
		hs_free_scratch(m->scratch);
	pcre2_match_data_free(m->md);
	pcre2_match_context_free(m->mctx);
	if (m->jit)
		pcre2_jit_stack_free(m->jit);
	free(m->seen);
	free(m->cand);
	free(m->pairs);
	free(m->last_line);
	free(m);
}

const char *pat_matcher_last_limit(const struct pat_matcher *m)
{
	return m->last_limit;
}

static int on_hs_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx)
{
	(void)from;
	(void)to;
	(void)flags;
	struct pat_matcher *m = ctx;
	if (!m->seen[id]) {
		m->seen[id] = 1;
		m->cand[m->n_cand++] = id;
	}
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* 1 match, 0 no match, DD_ELIMIT limit hit. */
static int run_regex(struct pat_matcher *m, const struct pat_regex *r, const char *s, size_t len)
{
	int rc = pcre2_match(r->code, (PCRE2_SPTR)s, len, 0, 0, m->md, m->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL)
		return 0;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
	    rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_NOMEMORY) {
		m->last_limit = m->lib->pats[r->pattern]->id;
		return DD_ELIMIT;
	}
	return 0;   /* other errors (e.g. bad UTF in a UTF pattern): no match */
}

static void add_cand(struct pat_matcher *m, size_t id)
{
	if (!m->seen[id]) {
		m->seen[id] = 1;
		m->cand[m->n_cand++] = id;
	}
}

static int run_candidates(struct pat_matcher *m, const char *msg, size_t len, pat_match_cb cb, void *ud);

int pat_match_line(struct pat_matcher *m, const char *msg, size_t len, pat_match_cb cb, void *ud)
{
	const struct pat_library *lib = m->lib;
	m->n_cand = 0;
	if (lib->db && hs_scan(lib->db, len ? msg : "", (unsigned)(len > UINT_MAX ? UINT_MAX : len), 0, m->scratch,
	                       on_hs_match, m) != HS_SUCCESS) {
		/* cannot happen with our callback; fall back to checking everything */
		for (size_t i = 0; i < lib->n_rx; i++)
			add_cand(m, i);
	}
	return run_candidates(m, msg, len, cb, ud);
}

/* Batch: map a match end offset to its line (binary search on starts). */
static int on_hs_batch(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx)
{
	(void)from;
	(void)flags;
	struct pat_matcher *m = ctx;
	size_t off = to ? (size_t)to - 1 : 0;
	size_t lo = 0, hi = m->n_starts;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->starts[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (m->last_line[id] == lo + 1)
		return 0;
	m->last_line[id] = lo + 1;
	DD_GROW(m->pairs, m->cap_pairs, m->n_pairs + 1);
	m->pairs[m->n_pairs++] = (struct pat_pair){ lo, id };
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct pat_pair *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int pat_batch_scan(struct pat_matcher *m, const char *buf, size_t len, const size_t *starts, size_t n)
{
	const struct pat_library *lib = m->lib;
	m->n_pairs = 0;
	m->pos_pairs = 0;
	m->batch_failed = 0;
	memset(m->last_line, 0, (lib->n_rx ? lib->n_rx : 1) * sizeof(size_t));
	m->starts = starts;
	m->n_starts = n;
	if (!lib->db || n == 0)
		return 0;
	if (len > UINT_MAX || hs_scan(lib->db, len ? buf : "", (unsigned)len, 0, m->scratch, on_hs_batch, m) != HS_SUCCESS) {
		m->batch_failed = 1;
		return 0;
	}
	m->starts = NULL;
	/* the pairs of one regex come in offset order; different regexes interleave */
	if (m->n_pairs > 1)
		qsort(m->pairs, m->n_pairs, sizeof(*m->pairs), cmp_pair);
	return 0;
}

int pat_batch_line(struct pat_matcher *m, size_t i, const char *msg, size_t len, pat_match_cb cb, void *ud)
{
	const struct pat_library *lib = m->lib;
	m->n_cand = 0;
	if (m->batch_failed) {
		for (size_t k = 0; k < lib->n_rx; k++)
			add_cand(m, k);
	} else {
		while (m->pos_pairs < m->n_pairs && m->pairs[m->pos_pairs].line < i)
			m->pos_pairs++;
		while (m->pos_pairs < m->n_pairs && m->pairs[m->pos_pairs].line == i)
			add_cand(m, m->pairs[m->pos_pairs++].id);
	}
	return run_candidates(m, msg, len, cb, ud);
}

static int run_candidates(struct pat_matcher *m, const char *msg, size_t len, pat_match_cb cb, void *ud)
{
	const struct pat_library *lib = m->lib;
	int limits = 0;
	for (size_t i = 0; i < lib->n_always; i++)
		add_cand(m, lib->always[i]);
	if (m->n_cand > 1)
		qsort(m->cand, m->n_cand, sizeof(size_t), cmp_size);
	size_t done_pattern = (size_t)-1;
	int stopped = 0;
	for (size_t c = 0; c < m->n_cand; c++) {
		size_t id = m->cand[c];
		m->seen[id] = 0;
		if (stopped)
			continue;
		const struct pat_regex *r = &lib->rx[id];
		if (r->pattern == done_pattern)
			continue;
		int hit = run_regex(m, r, msg, len);
		if (hit == DD_ELIMIT) {
			limits++;
			continue;
		}
		if (!hit)
			continue;
		done_pattern = r->pattern;
		struct pat_match pm;
		pm.pattern = lib->pats[r->pattern];
		pm.regex_index = r->index;
		pm.n_ent = 0;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
		uint32_t npairs = pcre2_get_ovector_count(m->md);
		for (uint32_t g = 1; g < r->n_groups && g < npairs && pm.n_ent < PAT_MAX_ENTITIES; g++) {
			if (!r->group_name[g] || ov[2 * g] == PCRE2_UNSET)
				continue;
			pm.ent[pm.n_ent].name = r->group_name[g];
			pm.ent[pm.n_ent].value = msg + ov[2 * g];
			pm.ent[pm.n_ent].len = ov[2 * g + 1] - ov[2 * g];
			pm.n_ent++;
		}
		if (cb && cb(&pm, ud))
			stopped = 1;
	}
	m->n_cand = 0;
	return stopped ? DD_EINTR : limits;
}

int pat_pattern_matches(struct pat_matcher *m, const struct pat_pattern *p, const char *text, size_t len)
{
	const struct pat_library *lib = m->lib;
	ssize_t idx = -1;
	for (size_t i = 0; i < lib->n_pats; i++)
		if (lib->pats[i] == p)
			idx = (ssize_t)i;
	if (idx < 0)
		return 0;
	int limit = 0;
	for (size_t r = 0; r < p->regex.n; r++) {
		int hit = run_regex(m, &lib->rx[lib->first_rx[idx] + r], text, len);
		if (hit == 1)
			return 1;
		if (hit == DD_ELIMIT)
			limit = 1;
	}
	return limit ? DD_ELIMIT : 0;
}

/* ---------------------------------------------------------------- discovery */

char *pat_builtin_dir(void)
{
	return dd_data_dir("patterns", "DAGDOC_PATTERNS_DIR");
}

int pat_library_load(const char *builtin_dir, const struct dd_strv *user_dirs,
                     int (*before_finalize)(struct pat_library *lib, struct dd_error *err),
                     struct pat_library **out, struct dd_strv *problems, struct dd_error *err)
{
	struct pat_library *lib = pat_library_new();
	char *dir = builtin_dir ? dd_xstrdup(builtin_dir) : pat_builtin_dir();
	int rc = 0;
	*out = NULL;
	if (!dir) {
		pat_library_free(lib);
		return dd_error_set(err, DD_ENOTFOUND,
		                    "cannot find the built-in pattern directory; set DAGDOC_PATTERNS_DIR or reinstall dagdoc");
	}
	rc = pat_library_add_dir(lib, dir, 0, problems, err);
	free(dir);
	for (size_t i = 0; user_dirs && i < user_dirs->n; i++) {
		int r = pat_library_add_dir(lib, user_dirs->v[i], 1, problems, err);
		if (r < 0 && rc == 0)
			rc = r;
	}
	if (rc == 0 && before_finalize)
		rc = before_finalize(lib, err);
	if (rc == 0)
		rc = pat_library_finalize(lib, err);
	if (rc < 0) {
		pat_library_free(lib);
		return rc;
	}
	*out = lib;
	return 0;
}
