/*
 * pattern_match.c - the finalized library (pattern.h): the Vectorscan
 * prefilter database (cached), and matching a line or a batch of lines
 * with PCRE2 JIT where the prefilter says a regex may match.
 */
#include "dagdoc/util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pattern_impl.h"

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
	int ok = dd_write_file_atomic(path, bytes, len, DD_WRITE_MKDIR, NULL) == 0 ? 2 : 0;

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
		dd_write_file_atomic(path, digits, lib->n_rx, DD_WRITE_MKDIR, NULL);   /* a cache: best effort */
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
	if (lib->db && hs_alloc_scratch(lib->db, &m->scratch) != HS_SUCCESS)
		dd_die_oom();
	m->md = pcre2_match_data_create(lib->max_ovec ? lib->max_ovec : 1, NULL);
	m->mctx = pcre2_match_context_create(NULL);
	if (!m->md || !m->mctx)
		dd_die_oom();
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
