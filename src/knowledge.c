/*
 * knowledge.c - the structural knowledge base (see knowledge.h): loading
 * knowledge/NAME.yaml with libyaml and the lookups.
 */
#include "dagdoc/util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <yaml.h>

#include "dagdoc/evidence.h"
#include "dagdoc/knowledge.h"
#include "dagdoc/pattern.h"

struct row {
	struct kb_entry e;
	long num;                 /* status, signal number or exit code */
	const char *tool;         /* tool exit codes: "dbt", "spark", "yarn" */
};

struct table {
	struct row *v;
	size_t n, cap;
};

struct pair {
	const char *import;       /* "sklearn", "google.cloud.storage", "airflow.providers.{name}" */
	const char *dist;
};

struct frame_role {
	const char *path;
	int role;                 /* KB_FRAME_* */
};

struct advice {
	const char *category;
	struct dd_strv checks, fix;
	struct pat_check_rule *rules;   /* parallel to checks: what confirms or refutes the cause */
};

struct kb {
	struct table exc, status, sig, code, tool_code;
	struct pair *dist;
	size_t n_dist, cap_dist;
	struct dd_strv own, published, stdlib;   /* sorted after loading */
	struct kb_removed *removed;
	size_t n_removed, cap_removed;
	struct kb_cue *cues;
	pcre2_code **cue_code;
	size_t n_cues, cap_cues;
	struct advice *advice;
	size_t n_advice, cap_advice;
	struct frame_role *frames;
	size_t n_frames, cap_frames;
	struct dd_strv pool;      /* every string the entries point at */
	char digest[17];
};

/* ---- loading ------------------------------------------------------------- */

struct loader {
	struct kb *kb;
	const char *file;
	yaml_document_t doc;
	struct dd_strv *problems;
	size_t n_problems;
};

static void problem(struct loader *ld, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct loader *ld, const yaml_node_t *n, const char *fmt, ...)
{
	struct dd_buf b = DD_BUF_INIT;
	va_list ap;

	dd_buf_addf(&b, "%s:%d: ", ld->file, n ? (int)n->start_mark.line + 1 : 1);
	va_start(ap, fmt);
	dd_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (ld->problems)
		dd_strv_push_owned(ld->problems, dd_buf_detach(&b));
	else
		dd_buf_release(&b);
	ld->n_problems++;
}

static yaml_node_t *node(struct loader *ld, int i)
{
	return yaml_document_get_node(&ld->doc, i);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *keep(struct kb *kb, const char *s)
{
	dd_strv_push(&kb->pool, s);
	return kb->pool.v[kb->pool.n - 1];
}

static int category_ok(const char *s)
{
	return s && (pat_category_valid(s) || !strcmp(s, "unknown"));
}

static int number(const char *s, double lo, double hi, double *out)
{
	char *end = NULL;
	double v;

	if (!s || !*s)
		return 0;
	v = strtod(s, &end);
	if (*end || !(v >= lo && v <= hi))
		return 0;
	*out = v;
	return 1;
}

/* The value node of `key` in mapping m, or NULL. */
static yaml_node_t *field(struct loader *ld, yaml_node_t *m, const char *key)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(ld, p->key));

		if (k && !strcmp(k, key))
			return node(ld, p->value);
	}
	return NULL;
}

/* Every key of m is one of `allowed` (a NULL-terminated list). */
static int only_keys(struct loader *ld, yaml_node_t *m, const char *const *allowed)
{
	int ok = 1;

	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(ld, p->key));
		size_t i;

		for (i = 0; k && allowed[i]; i++)
			if (!strcmp(allowed[i], k))
				break;
		if (!k || !allowed[i]) {
			struct dd_buf list = DD_BUF_INIT;

			for (i = 0; allowed[i]; i++)
				dd_buf_addf(&list, "%s%s", i ? ", " : "", allowed[i]);
			problem(ld, node(ld, p->key), "unknown key '%s' (expected %s)", k ? k : "?", list.data);
			dd_buf_release(&list);
			ok = 0;
		}
	}
	return ok;
}

static const char *required_string(struct loader *ld, yaml_node_t *m, const char *key)
{
	const char *s = scalar(field(ld, m, key));

	if (!s || !*s)
		problem(ld, m, "'%s' is required and must be a non-empty string", key);
	return s && *s ? s : NULL;
}

/* category, confidence (or weight), says and also of one entry. */
static int read_cause(struct loader *ld, yaml_node_t *m, struct kb_entry *e, const char *conf_key)
{
	const char *cat = scalar(field(ld, m, "category"));
	yaml_node_t *also = field(ld, m, "also"), *w = field(ld, m, "wrapper");
	double c = 0;

	if (!category_ok(cat)) {
		problem(ld, m, "'category' must be one of the causes or 'unknown', not '%s'", cat ? cat : "(missing)");
		return 0;
	}
	if (!number(scalar(field(ld, m, conf_key)), 0, 1, &c)) {
		problem(ld, m, "'%s' must be a number between 0 and 1", conf_key);
		return 0;
	}
	e->category = keep(ld->kb, cat);
	e->confidence = c;
	e->says = scalar(field(ld, m, "says")) ? keep(ld->kb, scalar(field(ld, m, "says"))) : NULL;
	if (also) {
		static const char *const also_keys[] = { "category", "confidence", NULL };
		const char *ac;

		if (also->type != YAML_MAPPING_NODE || !only_keys(ld, also, also_keys)) {
			problem(ld, also, "'also' must be a mapping {category: ..., confidence: ...}");
			return 0;
		}
		ac = scalar(field(ld, also, "category"));
		if (!category_ok(ac) || !number(scalar(field(ld, also, "confidence")), 0, 1, &c)) {
			problem(ld, also, "'also' needs a valid category and a confidence between 0 and 1");
			return 0;
		}
		e->also = keep(ld->kb, ac);
		e->also_confidence = c;
	}
	if (w) {
		const char *s = scalar(w);

		if (!s || (strcmp(s, "true") && strcmp(s, "false"))) {
			problem(ld, w, "'wrapper' must be true or false");
			return 0;
		}
		e->wrapper = !strcmp(s, "true");
	}
	e->file = keep(ld->kb, ld->file);
	e->line = (int)m->start_mark.line + 1;
	return 1;
}

enum tkind { T_EXC, T_STATUS, T_SIGNAL, T_CODE, T_TOOL_CODE };

static void read_rows(struct loader *ld, yaml_node_t *seq, enum tkind kind)
{
	static const char *const keys[][8] = {
		[T_EXC] = { "type", "category", "confidence", "says", "also", "wrapper", NULL },
		[T_STATUS] = { "status", "category", "confidence", "says", "also", NULL },
		[T_SIGNAL] = { "signal", "number", "category", "confidence", "says", "also", NULL },
		[T_CODE] = { "code", "category", "confidence", "says", "also", NULL },
		[T_TOOL_CODE] = { "tool", "code", "category", "confidence", "says", "also", NULL },
	};
	struct table *t = kind == T_EXC ? &ld->kb->exc : kind == T_STATUS ? &ld->kb->status
	                : kind == T_SIGNAL ? &ld->kb->sig : kind == T_CODE ? &ld->kb->code : &ld->kb->tool_code;

	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = node(ld, *it);
		struct row r;
		double num = 0;

		memset(&r, 0, sizeof(r));
		if (!m || m->type != YAML_MAPPING_NODE) {
			problem(ld, m, "each entry must be a mapping");
			continue;
		}
		if (!only_keys(ld, m, keys[kind]) || !read_cause(ld, m, &r.e, "confidence"))
			continue;
		switch (kind) {
		case T_EXC:
			if (!(r.e.key = required_string(ld, m, "type")))
				continue;
			r.e.key = keep(ld->kb, r.e.key);
			break;
		case T_STATUS:
			if (!number(scalar(field(ld, m, "status")), 100, 599, &num)) {
				problem(ld, m, "'status' must be an HTTP status from 100 to 599");
				continue;
			}
			break;
		case T_SIGNAL:
			if (!(r.e.key = required_string(ld, m, "signal")))
				continue;
			r.e.key = keep(ld->kb, r.e.key);
			if (!number(scalar(field(ld, m, "number")), 1, 64, &num)) {
				problem(ld, m, "'number' must be a signal number from 1 to 64");
				continue;
			}
			break;
		case T_TOOL_CODE:
			if (!(r.tool = required_string(ld, m, "tool")))
				continue;
			r.tool = keep(ld->kb, r.tool);
			/* fall through */
		case T_CODE:
			if (!number(scalar(field(ld, m, "code")), -255, 255, &num)) {
				problem(ld, m, "'code' must be an exit code from -255 to 255");
				continue;
			}
			break;
		}
		r.num = (long)num;
		if (!r.e.key) {
			char k[16];

			snprintf(k, sizeof(k), "%ld", r.num);
			r.e.key = keep(ld->kb, k);
		}
		DD_GROW(t->v, t->cap, t->n + 1);
		t->v[t->n++] = r;
	}
}

static void read_names(struct loader *ld, yaml_node_t *seq, struct dd_strv *out)
{
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		const char *s = scalar(node(ld, *it));

		if (!s || !*s) {
			problem(ld, node(ld, *it), "each item must be a non-empty name");
			continue;
		}
		dd_strv_push(out, s);
	}
}

static void read_distributions(struct loader *ld, yaml_node_t *seq)
{
	static const char *const keys[] = { "import", "dist", NULL };

	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = node(ld, *it);
		const char *imp, *dist;

		if (!m || m->type != YAML_MAPPING_NODE || !only_keys(ld, m, keys)) {
			if (!m || m->type != YAML_MAPPING_NODE)
				problem(ld, m, "each entry must be a mapping {import: ..., dist: ...}");
			continue;
		}
		if (!(imp = required_string(ld, m, "import")) || !(dist = required_string(ld, m, "dist")))
			continue;
		DD_GROW(ld->kb->dist, ld->kb->cap_dist, ld->kb->n_dist + 1);
		ld->kb->dist[ld->kb->n_dist++] = (struct pair){ keep(ld->kb, imp), keep(ld->kb, dist) };
	}
}

static void read_removed(struct loader *ld, yaml_node_t *seq)
{
	static const char *const keys[] = { "module", "in", "use", NULL };

	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = node(ld, *it);
		const char *mod, *in, *use;

		if (!m || m->type != YAML_MAPPING_NODE) {
			problem(ld, m, "each entry must be a mapping {module: ..., in: ..., use: ...}");
			continue;
		}
		if (!only_keys(ld, m, keys) || !(mod = required_string(ld, m, "module")) ||
		    !(in = required_string(ld, m, "in")))
			continue;
		use = scalar(field(ld, m, "use"));
		DD_GROW(ld->kb->removed, ld->kb->cap_removed, ld->kb->n_removed + 1);
		ld->kb->removed[ld->kb->n_removed++] =
			(struct kb_removed){ keep(ld->kb, mod), keep(ld->kb, in), use ? keep(ld->kb, use) : NULL };
	}
}

static void read_cues(struct loader *ld, yaml_node_t *seq, int on_type)
{
	static const char *const keys[] = { "match", "category", "weight", "says", NULL };
	struct kb *kb = ld->kb;

	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = node(ld, *it);
		struct kb_entry e;
		const char *rx;
		pcre2_code *code;
		int ec;
		PCRE2_SIZE eo;

		memset(&e, 0, sizeof(e));
		if (!m || m->type != YAML_MAPPING_NODE) {
			problem(ld, m, "each cue must be a mapping {match, category, weight, says}");
			continue;
		}
		if (!only_keys(ld, m, keys) || !read_cause(ld, m, &e, "weight") || !(rx = required_string(ld, m, "match")))
			continue;
		code = pcre2_compile((PCRE2_SPTR)rx, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
		if (!code) {
			PCRE2_UCHAR msg[256];

			pcre2_get_error_message(ec, msg, sizeof(msg));
			problem(ld, m, "cue regex: %s at offset %zu", (const char *)msg, (size_t)eo);
			continue;
		}
		pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
		DD_GROW(kb->cues, kb->cap_cues, kb->n_cues + 1);
		{
			size_t cap = kb->cap_cues;

			kb->cue_code = dd_xrealloc(kb->cue_code, cap * sizeof(*kb->cue_code));
		}
		kb->cues[kb->n_cues] = (struct kb_cue){ on_type, e.category, e.confidence, e.says, keep(kb, rx), e.file, e.line };
		kb->cue_code[kb->n_cues++] = code;
	}
}

static void read_list(struct loader *ld, yaml_node_t *n, struct dd_strv *out, const char *what)
{
	if (!n) {
		problem(ld, NULL, "%s is missing", what);
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		problem(ld, n, "'%s' must be a list of strings", what);
		return;
	}
	read_names(ld, n, out);
}

/* The advice's placeholders (see advice.yaml): a rule may use them as a
 * pattern's rule uses its groups. */
static int advice_name(const char *name, size_t len, void *ud)
{
	static const char *const names[] = { "exception", "package", "module", "host", "status", "signal", "code" };

	(void)ud;
	for (size_t i = 0; i < DD_ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && !strncmp(names[i], name, len))
			return 1;
	return 0;
}

/* checks: strings, or mappings {run, confirms, refutes} as in a pattern (pattern.h). */
static void read_checks(struct loader *ld, yaml_node_t *n, struct advice *a)
{
	if (!n || n->type != YAML_SEQUENCE_NODE) {
		read_list(ld, n, &a->checks, "checks");
		return;
	}
	a->rules =
		dd_xcalloc((size_t)(n->data.sequence.items.top - n->data.sequence.items.start) + 1, sizeof(*a->rules));
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = node(ld, *it);
		struct pat_check_rule *r = &a->rules[a->checks.n];
		const char *run;

		if (e && e->type == YAML_SCALAR_NODE && *scalar(e)) {
			dd_strv_push(&a->checks, scalar(e));
			continue;
		}
		if (!e || e->type != YAML_MAPPING_NODE) {
			problem(ld, e ? e : n, "each check must be a string or a mapping {run, confirms, refutes}");
			continue;
		}
		if (!only_keys(ld, e, (const char *const[]){ "run", "confirms", "refutes", NULL }) ||
		    !(run = required_string(ld, e, "run")))
			continue;
		for (int side = 0; side < 2; side++) {
			yaml_node_t *list = field(ld, e, side ? "refutes" : "confirms");
			struct dd_strv *sv = side ? &r->refutes : &r->confirms;

			if (!list)
				continue;
			read_list(ld, list, sv, side ? "refutes" : "confirms");
			for (size_t k = 0; k < sv->n; k++) {
				struct dd_buf msg = DD_BUF_INIT;

				if (ev_rule_valid(sv->v[k], advice_name, NULL, &msg) < 0)
					problem(ld, list, "check '%s': %s item %zu: %s", run,
						side ? "refutes" : "confirms", k + 1, dd_buf_str(&msg));
				dd_buf_release(&msg);
			}
		}
		if ((r->confirms.n || r->refutes.n) && ev_kind_of_command(run) == EV_UNKNOWN)
			problem(ld, e,
				"check '%s' has confirms/refutes, but dagdoc does not read that command's output", run);
		dd_strv_push(&a->checks, run);
	}
}

static void read_advice(struct loader *ld, yaml_node_t *seq)
{
	static const char *const keys[] = { "category", "checks", "fix", NULL };
	struct kb *kb = ld->kb;

	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = node(ld, *it);
		const char *cat;
		struct advice *a;

		if (!m || m->type != YAML_MAPPING_NODE) {
			problem(ld, m, "each entry must be a mapping {category, checks, fix}");
			continue;
		}
		if (!only_keys(ld, m, keys))
			continue;
		cat = scalar(field(ld, m, "category"));
		if (!category_ok(cat)) {
			problem(ld, m, "'category' must be one of the causes or 'unknown', not '%s'", cat ? cat : "(missing)");
			continue;
		}
		DD_GROW(kb->advice, kb->cap_advice, kb->n_advice + 1);
		a = &kb->advice[kb->n_advice++];
		memset(a, 0, sizeof(*a));
		a->category = keep(kb, cat);
		read_checks(ld, field(ld, m, "checks"), a);
		read_list(ld, field(ld, m, "fix"), &a->fix, "fix");
	}
}

static void read_frames(struct loader *ld, yaml_node_t *seq)
{
	static const char *const keys[] = { "path", "role", NULL };
	struct kb *kb = ld->kb;

	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = node(ld, *it);
		const char *path, *role;

		if (!m || m->type != YAML_MAPPING_NODE) {
			problem(ld, m, "each entry must be a mapping {path, role}");
			continue;
		}
		if (!only_keys(ld, m, keys) || !(path = required_string(ld, m, "path")))
			continue;
		role = scalar(field(ld, m, "role"));
		if (!role || (strcmp(role, "internal") && strcmp(role, "task_code") && strcmp(role, "infra_client"))) {
			problem(ld, m, "'role' must be internal, task_code or infra_client");
			continue;
		}
		DD_GROW(kb->frames, kb->cap_frames, kb->n_frames + 1);
		kb->frames[kb->n_frames++] = (struct frame_role){ keep(kb, path),
		                                                  !strcmp(role, "internal") ? KB_FRAME_INTERNAL
		                                                  : !strcmp(role, "task_code") ? KB_FRAME_TASK_CODE
		                                                  : KB_FRAME_INFRA_CLIENT };
	}
}

static void load_doc(struct loader *ld)
{
	yaml_node_t *root = yaml_document_get_root_node(&ld->doc);

	if (!root) {
		problem(ld, NULL, "empty knowledge file");
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		problem(ld, root, "a knowledge file must be a mapping of tables");
		return;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(ld, p->key), *v = node(ld, p->value);
		const char *ks = scalar(k);

		if (!ks || !v || v->type != YAML_SEQUENCE_NODE) {
			problem(ld, k, "'%s' must be a list", ks ? ks : "?");
			continue;
		}
		if (!strcmp(ks, "exceptions"))
			read_rows(ld, v, T_EXC);
		else if (!strcmp(ks, "statuses"))
			read_rows(ld, v, T_STATUS);
		else if (!strcmp(ks, "signals"))
			read_rows(ld, v, T_SIGNAL);
		else if (!strcmp(ks, "exit_codes"))
			read_rows(ld, v, T_CODE);
		else if (!strcmp(ks, "tool_exit_codes"))
			read_rows(ld, v, T_TOOL_CODE);
		else if (!strcmp(ks, "distributions"))
			read_distributions(ld, v);
		else if (!strcmp(ks, "own_module_names"))
			read_names(ld, v, &ld->kb->own);
		else if (!strcmp(ks, "published_top"))
			read_names(ld, v, &ld->kb->published);
		else if (!strcmp(ks, "modules"))
			read_names(ld, v, &ld->kb->stdlib);
		else if (!strcmp(ks, "removed"))
			read_removed(ld, v);
		else if (!strcmp(ks, "cues"))
			read_cues(ld, v, 0);
		else if (!strcmp(ks, "type_cues"))
			read_cues(ld, v, 1);
		else if (!strcmp(ks, "advice"))
			read_advice(ld, v);
		else if (!strcmp(ks, "frames"))
			read_frames(ld, v);
		else
			problem(ld, k, "unknown table '%s' (expected exceptions, statuses, signals, exit_codes, "
			        "tool_exit_codes, distributions, own_module_names, published_top, modules, removed, cues, type_cues, advice, "
			        "frames)", ks);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_row_key(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->e.key, ((const struct row *)b)->e.key);
}

static int cmp_row_num(const void *a, const void *b)
{
	long x = ((const struct row *)a)->num, y = ((const struct row *)b)->num;

	return x < y ? -1 : x > y;
}

static void sort_names(struct dd_strv *v, int normalize)
{
	if (normalize)
		for (size_t i = 0; i < v->n; i++) {
			struct dd_buf b = DD_BUF_INIT;

			kb_normalize_name(v->v[i], &b);
			free(v->v[i]);
			v->v[i] = dd_buf_detach(&b);
		}
	if (v->n > 1)
		qsort(v->v, v->n, sizeof(*v->v), cmp_str);
}

static int is_yaml_name(const char *n)
{
	size_t l = strlen(n);

	return n[0] != '.' && ((l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml")));
}

int kb_load(const char *dir, struct kb **out, struct dd_strv *problems, struct dd_error *err)
{
	struct kb *kb = dd_xcalloc(1, sizeof(*kb));
	struct dd_strv names = DD_STRV_INIT;
	uint64_t h = DD_FNV_INIT;
	size_t n_problems = 0;
	DIR *d;
	struct dirent *de;

	*out = NULL;
	if (!(d = opendir(dir))) {
		kb_free(kb);
		return dd_error_set(err, errno == ENOENT ? DD_ENOTFOUND : DD_EIO,
		                    "cannot read the knowledge directory %s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)))
		if (is_yaml_name(de->d_name))
			dd_strv_push(&names, de->d_name);
	closedir(d);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.n; i++) {
		char *path = dd_xasprintf("%s/%s", dir, names.v[i]);
		struct dd_buf text = DD_BUF_INIT;
		struct loader ld = { .kb = kb, .file = path, .problems = problems };
		yaml_parser_t parser;
		struct dd_error e2 = DD_ERROR_INIT;

		if (dd_read_file(path, 0, &text, &e2) < 0) {
			dd_strv_push_owned(problems, dd_xasprintf("%s: %s", path, e2.msg));
			n_problems++;
		} else if (!yaml_parser_initialize(&parser)) {
			n_problems++;
		} else {
			h = dd_fnv1a(h, names.v[i], strlen(names.v[i]));
			h = dd_fnv1a(h, text.data ? text.data : "", text.len);
			yaml_parser_set_input_string(&parser, (const unsigned char *)(text.data ? text.data : ""), text.len);
			if (!yaml_parser_load(&parser, &ld.doc)) {
				dd_strv_push_owned(problems, dd_xasprintf("%s:%d: YAML syntax error: %s", path,
				                                          (int)parser.problem_mark.line + 1,
				                                          parser.problem ? parser.problem : "invalid YAML"));
				n_problems++;
			} else {
				load_doc(&ld);
				yaml_document_delete(&ld.doc);
				n_problems += ld.n_problems;
			}
			yaml_parser_delete(&parser);
		}
		dd_buf_release(&text);
		free(path);
	}
	dd_strv_release(&names);
	if (n_problems) {
		kb_free(kb);
		return dd_error_set(err, DD_EPARSE, "%s", problems && problems->n ? problems->v[0]
		                                                                   : "the knowledge base has problems");
	}
	qsort(kb->exc.v, kb->exc.n, sizeof(struct row), cmp_row_key);
	qsort(kb->status.v, kb->status.n, sizeof(struct row), cmp_row_num);
	qsort(kb->sig.v, kb->sig.n, sizeof(struct row), cmp_row_num);
	qsort(kb->code.v, kb->code.n, sizeof(struct row), cmp_row_num);
	sort_names(&kb->own, 0);
	sort_names(&kb->published, 1);
	sort_names(&kb->stdlib, 0);
	snprintf(kb->digest, sizeof(kb->digest), "%016llx", (unsigned long long)h);
	*out = kb;
	return 0;
}

void kb_free(struct kb *kb)
{
	if (!kb)
		return;
	free(kb->exc.v);
	free(kb->status.v);
	free(kb->sig.v);
	free(kb->code.v);
	free(kb->tool_code.v);
	free(kb->dist);
	dd_strv_release(&kb->own);
	dd_strv_release(&kb->published);
	dd_strv_release(&kb->stdlib);
	free(kb->removed);
	for (size_t i = 0; i < kb->n_cues; i++)
		pcre2_code_free(kb->cue_code[i]);
	free(kb->cue_code);
	free(kb->cues);
	for (size_t i = 0; i < kb->n_advice; i++) {
		for (size_t k = 0; kb->advice[i].rules && k < kb->advice[i].checks.n; k++) {
			dd_strv_release(&kb->advice[i].rules[k].confirms);
			dd_strv_release(&kb->advice[i].rules[k].refutes);
		}
		free(kb->advice[i].rules);
		dd_strv_release(&kb->advice[i].checks);
		dd_strv_release(&kb->advice[i].fix);
	}
	free(kb->advice);
	free(kb->frames);
	dd_strv_release(&kb->pool);
	free(kb);
}

char *kb_builtin_dir(void)
{
	return dd_data_dir("knowledge", "DAGDOC_KNOWLEDGE_DIR");
}

const char *kb_digest(const struct kb *kb)
{
	return kb ? kb->digest : "";
}

/* ---- lookups ------------------------------------------------------------- */

static const struct row *find_key(const struct table *t, const char *key)
{
	struct row probe;

	probe.e.key = key;
	return t->n ? bsearch(&probe, t->v, t->n, sizeof(struct row), cmp_row_key) : NULL;
}

static const struct kb_entry *find_num(const struct table *t, long num)
{
	struct row probe;
	const struct row *r;

	probe.num = num;
	r = t->n ? bsearch(&probe, t->v, t->n, sizeof(struct row), cmp_row_num) : NULL;
	return r ? &r->e : NULL;
}

const struct kb_entry *kb_exception(const struct kb *kb, const char *type)
{
	const struct row *r;
	const char *dot;
	struct dd_buf b = DD_BUF_INIT;

	if (!kb || !type || !*type)
		return NULL;
	if (!strncmp(type, "builtins.", 9))
		type += 9;   /* SQLAlchemy's "(builtins.KeyError) ..." */
	if ((r = find_key(&kb->exc, type)))
		return &r->e;
	if (!strchr(type, '.')) {
		/* a class printed without its module ("raise AirflowSensorTimeout(...)",
		 * a pasted line): the first entry of that class name */
		size_t tl = strlen(type);

		for (size_t i = 0; i < kb->exc.n; i++) {
			const char *k = kb->exc.v[i].e.key;
			size_t kl = strlen(k);

			if (kl > tl && k[kl - tl - 1] == '.' && !strcmp(k + kl - tl, type))
				return &kb->exc.v[i].e;
		}
		return NULL;
	}
	/* "pkg.mod.*" for the longest covering module */
	dd_buf_adds(&b, type);
	while ((dot = strrchr(b.data, '.'))) {
		b.len = (size_t)(dot - b.data);
		b.data[b.len] = 0;
		dd_buf_adds(&b, ".*");
		r = find_key(&kb->exc, b.data);
		b.len -= 2;
		b.data[b.len] = 0;
		if (r)
			break;
	}
	dd_buf_release(&b);
	return r ? &r->e : NULL;
}

const struct kb_entry *kb_http_status(const struct kb *kb, int status)
{
	return kb ? find_num(&kb->status, status) : NULL;
}

const struct kb_entry *kb_signal(const struct kb *kb, int number)
{
	return kb ? find_num(&kb->sig, number) : NULL;
}

const struct kb_entry *kb_exit_code(const struct kb *kb, int code)
{
	return kb ? find_num(&kb->code, code) : NULL;
}

const struct kb_entry *kb_tool_exit_code(const struct kb *kb, const char *tool, int code)
{
	for (size_t i = 0; kb && tool && i < kb->tool_code.n; i++)
		if (kb->tool_code.v[i].num == code && !strcmp(kb->tool_code.v[i].tool, tool))
			return &kb->tool_code.v[i].e;
	return NULL;
}

void kb_normalize_name(const char *name, struct dd_buf *out)
{
	int dash = 0;

	for (const char *s = name; *s; s++) {
		if (*s == '-' || *s == '_' || *s == '.') {
			dash = 1;
			continue;
		}
		if (dash && out->len)
			dd_buf_addch(out, '-');
		dash = 0;
		dd_buf_addch(out, (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s));
	}
}

static int has_name(const struct dd_strv *v, const char *name)
{
	const char *key = name;

	return v->n && bsearch(&key, v->v, v->n, sizeof(*v->v), cmp_str) != NULL;
}

/* "airflow.providers.{name}" against "airflow.providers.google.cloud": the
 * dist with {name} filled by the next component. */
static char *dist_of(const struct pair *p, const char *module)
{
	const char *ph = strstr(p->import, "{name}");
	size_t pre;
	const char *rest;
	size_t len;

	if (!ph) {
		size_t l = strlen(p->import);

		if (strncmp(module, p->import, l) || (module[l] && module[l] != '.'))
			return NULL;
		return dd_xstrdup(p->dist);
	}
	pre = (size_t)(ph - p->import);
	if (strncmp(module, p->import, pre))
		return NULL;
	rest = module + pre;
	len = strcspn(rest, ".");
	if (!len)
		return NULL;
	{
		const char *dph = strstr(p->dist, "{name}");
		struct dd_buf b = DD_BUF_INIT;

		if (!dph)
			return dd_xstrdup(p->dist);
		dd_buf_add(&b, p->dist, (size_t)(dph - p->dist));
		for (size_t i = 0; i < len; i++)
			dd_buf_addch(&b, rest[i] == '_' ? '-' : rest[i]);
		dd_buf_adds(&b, dph + 6);
		return dd_buf_detach(&b);
	}
}

int kb_distribution(const struct kb *kb, const char *module, char **dist)
{
	size_t best = 0, top;
	char *found = NULL;
	struct dd_buf b = DD_BUF_INIT;
	int rc;

	*dist = NULL;
	if (!kb || !module || !*module)
		return 0;
	for (size_t i = 0; i < kb->n_dist; i++) {
		size_t l = strlen(kb->dist[i].import);
		char *d;

		if (l <= best || !(d = dist_of(&kb->dist[i], module)))
			continue;
		free(found);
		found = d;
		best = l;
	}
	if (found) {
		*dist = found;
		return 1;
	}
	top = strcspn(module, ".");
	{
		char *t = dd_xstrndup(module, top);

		if (has_name(&kb->own, t)) {
			free(t);
			return -1;
		}
		kb_normalize_name(t, &b);
		free(t);
	}
	rc = has_name(&kb->published, b.data ? b.data : "");
	if (rc)
		*dist = dd_buf_detach(&b);
	else
		dd_buf_release(&b);
	return rc;
}

int kb_stdlib(const struct kb *kb, const char *module, const struct kb_removed **removed)
{
	size_t top = strcspn(module ? module : "", ".");
	char *t;
	int in;

	if (removed)
		*removed = NULL;
	if (!kb || !module || !top)
		return 0;
	for (size_t i = 0; i < kb->n_removed; i++) {
		size_t l = strlen(kb->removed[i].module);

		if (!strncmp(module, kb->removed[i].module, l) && (!module[l] || module[l] == '.')) {
			if (removed)
				*removed = &kb->removed[i];
			return 1;
		}
	}
	t = dd_xstrndup(module, top);
	in = has_name(&kb->stdlib, t);
	free(t);
	return in;
}

size_t kb_cue_count(const struct kb *kb)
{
	return kb ? kb->n_cues : 0;
}

const struct kb_cue *kb_cue_get(const struct kb *kb, size_t i)
{
	return kb && i < kb->n_cues ? &kb->cues[i] : NULL;
}

int kb_cue_matches(const struct kb *kb, size_t i, const char *text, size_t len)
{
	pcre2_match_data *md;
	int rc;

	if (!kb || i >= kb->n_cues)
		return 0;
	md = pcre2_match_data_create_from_pattern(kb->cue_code[i], NULL);
	rc = pcre2_match(kb->cue_code[i], (PCRE2_SPTR)text, len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

int kb_frame_role(const struct kb *kb, const char *file)
{
	size_t best = 0;
	int role = 0;

	for (size_t i = 0; kb && file && i < kb->n_frames; i++) {
		size_t l = strlen(kb->frames[i].path);

		if (l > best && strstr(file, kb->frames[i].path)) {
			best = l;
			role = kb->frames[i].role;
		}
	}
	return role;
}

static const struct advice *advice_for(const struct kb *kb, const char *category)
{
	for (size_t i = 0; kb && category && i < kb->n_advice; i++)
		if (!strcmp(kb->advice[i].category, category))
			return &kb->advice[i];
	return NULL;
}

const struct dd_strv *kb_checks(const struct kb *kb, const char *category)
{
	const struct advice *a = advice_for(kb, category);

	return a ? &a->checks : NULL;
}

const struct pat_check_rule *kb_check_rules(const struct kb *kb, const char *category)
{
	const struct advice *a = advice_for(kb, category);

	return a ? a->rules : NULL;
}

const struct dd_strv *kb_fixes(const struct kb *kb, const char *category)
{
	const struct advice *a = advice_for(kb, category);

	return a ? &a->fix : NULL;
}
