/*
 * pattern.c - the pattern library (pattern.h): the categories and stages,
 * the library object, regex compilation, {placeholder} filling, the
 * built-in directory.  Loading is in pattern_load.c, the prefilter and
 * matching in pattern_match.c.
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <limits.h>

#include "dagdoc/knowledge.h"

#include "pattern_impl.h"

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

/* ---------------------------------------------------------------- library */

struct pat_library *pat_library_new(void)
{
	return dd_xcalloc(1, sizeof(struct pat_library));
}

void pattern_free(struct pat_pattern *p)
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
	for (size_t i = 0; p->check_rules && i < p->checks.n; i++) {
		dd_strv_release(&p->check_rules[i].confirms);
		dd_strv_release(&p->check_rules[i].refutes);
	}
	free(p->check_rules);
	dd_strv_release(&p->checks);
	dd_strv_release(&p->fix);
	dd_strv_release(&p->examples);
	free(p->example_line);
	dd_strv_release(&p->counterexamples);
	free(p->counterexample_line);
	free(p);
}

void free_codes(pcre2_code **codes, size_t n)
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

ssize_t find_index(const struct pat_library *lib, const char *id)
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
pcre2_code *compile_regex(const char *src, struct dd_buf *msg)
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

int code_has_group(const pcre2_code *code, const char *name, size_t len)
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
int next_placeholder(const char *s, size_t *pos, size_t *name_off, size_t *name_len)
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
