/*
 * pattern_load.c - pattern files (pattern.h): YAML read with libyaml's
 * document API, every field checked, every problem reported as
 * FILE:LINE: pattern ID: what is wrong.
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <yaml.h>

#include "dagdoc/evidence.h"
#include "pattern_impl.h"

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

struct group_ctx {
	pcre2_code **codes;
	size_t n;
};

/* Every regex of the pattern has the named group (rule placeholders, as checks'). */
static int has_group(const char *name, size_t len, void *ud)
{
	const struct group_ctx *g = ud;

	if (!g->codes || !g->n)
		return 0;
	for (size_t r = 0; r < g->n; r++)
		if (!g->codes[r] || !code_has_group(g->codes[r], name, len))
			return 0;
	return 1;
}

/* checks: strings, or mappings {run, confirms, refutes} (pattern.h). */
static void check_list(struct loader *ld, struct pat_pattern *p, yaml_node_t *v, pcre2_code **codes)
{
	struct group_ctx g = { codes, p->regex.n };
	int *lines = NULL;

	if (v->type != YAML_SEQUENCE_NODE) {
		string_list(ld, p, "checks", v, &p->checks, &lines, 1);
		free(lines);
		p->check_rules = dd_xcalloc(p->checks.n + 1, sizeof(*p->check_rules));
		return;
	}
	p->check_rules = dd_xcalloc((size_t)(v->data.sequence.items.top - v->data.sequence.items.start) + 1,
	                            sizeof(*p->check_rules));
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node_at(ld, *it);
		struct pat_check_rule *rule = &p->check_rules[p->checks.n];
		const char *run = NULL;

		if (e && e->type == YAML_SCALAR_NODE && !scalar_has_nul(e)) {
			dd_strv_push(&p->checks, scalar(e));
			continue;
		}
		if (!e || e->type != YAML_MAPPING_NODE) {
			problem(ld, e ? e : v, p,
				"every item of 'checks' must be a string or a mapping {run, confirms, refutes}");
			continue;
		}
		for (yaml_node_pair_t *pr = e->data.mapping.pairs.start; pr < e->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = node_at(ld, pr->key), *val = node_at(ld, pr->value);
			const char *ks = scalar(k);
			struct dd_strv *sv = NULL;

			if (ks && !strcmp(ks, "run") && scalar(val) && *scalar(val) && !scalar_has_nul(val)) {
				run = scalar(val);
				continue;
			}
			if (ks && !strcmp(ks, "confirms"))
				sv = &rule->confirms;
			else if (ks && !strcmp(ks, "refutes"))
				sv = &rule->refutes;
			if (!sv) {
				problem(ld, k ? k : e, p,
					"a check's keys are run (a non-empty command), confirms and refutes, not '%s'",
					ks ? ks : "(not a string)");
				continue;
			}
			if (string_list(ld, p, ks, val, sv, &lines, 1) < 0) {
				free(lines);
				lines = NULL;
				continue;
			}
			for (size_t r = 0; r < sv->n; r++) {
				struct dd_buf msg = DD_BUF_INIT;

				if (ev_rule_valid(sv->v[r], has_group, &g, &msg) < 0) {
					struct yaml_node_s at = *val;

					at.start_mark.line = (size_t)lines[r] - 1;
					problem(ld, &at, p, "check '%s': %s item %zu: %s", run ? run : "?", ks, r + 1,
						dd_buf_str(&msg));
				}
				dd_buf_release(&msg);
			}
			free(lines);
			lines = NULL;
		}
		if (!run) {
			problem(ld, e, p, "a check given as a mapping needs 'run': the command whose output it reads");
			dd_strv_release(&rule->confirms);
			dd_strv_release(&rule->refutes);
			continue;
		}
		if ((rule->confirms.n || rule->refutes.n) && ev_kind_of_command(run) == EV_UNKNOWN)
			problem(ld, e, p,
				"check '%s' has confirms/refutes, but dagdoc does not read that command's output "
				"(pip show/freeze/list, kubectl describe pod, df, free, nvidia-smi, airflow "
				"connections get|list, airflow variables get, python --version, git log)",
				run);
		dd_strv_push(&p->checks, run);
	}
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
	if (vn[4])
		check_list(ld, p, vn[4], codes);
	if (vn[5]) {
		int *lines = NULL;

		string_list(ld, p, pattern_keys[5], vn[5], &p->fix, &lines, 1);
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
