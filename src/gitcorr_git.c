/*
 * gitcorr_git.c - the libgit2 work of git correlation: a commit-time walk that stops
 * at the window, requirement changes, path mapping, blame, diff searches,
 * the imports of a module.
 */
#include "dagdoc/util.h"

#include <dirent.h>
#include <fnmatch.h>
#include <time.h>

#include "dagdoc/pyimports.h"

#include "gitcorr_impl.h"

/* ---- a walk in commit-time order (max-heap) -------------------------------- */

struct heap_item {
	int64_t time;
	git_oid id;
};

struct walk {
	git_repository *repo;
	struct heap_item *h;
	size_t n, cap;
	git_oid *seen;          /* open-addressing set of queued commits */
	size_t seen_cap, seen_n;
};

static size_t oid_hash(const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h;
}

/* Returns 1 when id was already seen, else records it. */
static int seen_add(struct walk *w, const git_oid *id)
{
	size_t mask, i;

	if ((w->seen_n + 1) * 2 > w->seen_cap) {
		size_t ncap = w->seen_cap ? w->seen_cap * 2 : 256;
		git_oid *nv = dd_xcalloc(ncap, sizeof(*nv));

		for (size_t j = 0; j < w->seen_cap; j++) {
			if (git_oid_is_zero(&w->seen[j]))
				continue;
			for (i = oid_hash(&w->seen[j]) & (ncap - 1); !git_oid_is_zero(&nv[i]); i = (i + 1) & (ncap - 1))
				;
			nv[i] = w->seen[j];
		}
		free(w->seen);
		w->seen = nv;
		w->seen_cap = ncap;
	}
	mask = w->seen_cap - 1;
	for (i = oid_hash(id) & mask; !git_oid_is_zero(&w->seen[i]); i = (i + 1) & mask)
		if (git_oid_equal(&w->seen[i], id))
			return 1;
	w->seen[i] = *id;
	w->seen_n++;
	return 0;
}

static void heap_push(struct walk *w, int64_t time, const git_oid *id)
{
	size_t i;

	if (seen_add(w, id))
		return;
	DD_GROW(w->h, w->cap, w->n + 1);
	i = w->n++;
	while (i > 0 && w->h[(i - 1) / 2].time < time) {
		w->h[i] = w->h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->h[i].time = time;
	w->h[i].id = *id;
}

static struct heap_item heap_pop(struct walk *w)
{
	struct heap_item top = w->h[0], last = w->h[--w->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= w->n)
			break;
		if (c + 1 < w->n && w->h[c + 1].time > w->h[c].time)
			c++;
		if (w->h[c].time <= last.time)
			break;
		w->h[i] = w->h[c];
		i = c;
	}
	if (w->n)
		w->h[i] = last;
	return top;
}

static void walk_release(struct walk *w)
{
	free(w->h);
	free(w->seen);
}

/* Pops the newest commit (looked up) and queues its parents. */
static int walk_next(struct walk *w, git_commit **out)
{
	struct heap_item it;
	git_commit *c;

	*out = NULL;
	if (!w->n)
		return 0;
	it = heap_pop(w);
	if (git_commit_lookup(&c, w->repo, &it.id) < 0)
		return -1;
	for (unsigned i = 0; i < git_commit_parentcount(c); i++) {
		git_commit *p;

		if (git_commit_parent(&p, c, i) < 0)
			continue;    /* shallow clone: history ends here */
		heap_push(w, (int64_t)git_commit_time(p), git_commit_id(p));
		git_commit_free(p);
	}
	*out = c;
	return 1;
}

static int walk_start(struct walk *w, struct gitcorr_repo *r)
{
	git_commit *head;

	memset(w, 0, sizeof(*w));
	w->repo = r->repo;
	if (git_commit_lookup(&head, r->repo, &r->head) < 0)
		return -1;
	heap_push(w, (int64_t)git_commit_time(head), &r->head);
	git_commit_free(head);
	return 0;
}

/* The newest commit of the deployed branch not after as_of_ms. */
static int commit_as_of(struct gitcorr_repo *r, int64_t as_of_ms, git_commit **out, struct dd_error *err)
{
	struct walk w;
	git_commit *c;
	int rc;

	*out = NULL;
	if (walk_start(&w, r) < 0)
		return git_fail(err, "cannot read the history of", r->path);
	while ((rc = walk_next(&w, &c)) > 0) {
		if ((int64_t)git_commit_time(c) * 1000 <= as_of_ms) {
			*out = c;
			break;
		}
		git_commit_free(c);
	}
	walk_release(&w);
	if (rc < 0)
		return git_fail(err, "cannot read the history of", r->path);
	if (!*out) {
		char when[40];

		dd_format_time(as_of_ms, 0, when, sizeof(when));
		return dd_error_set(err, DD_ENOTFOUND, "%s has no commit before %s", r->path, when);
	}
	return 0;
}

/* ---- requirement files -------------------------------------------------------- */

int gitcorr_is_requirement_file(const struct gitcorr_repo *r, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; i < r->cfg->requirement_globs.n; i++) {
		const char *g = r->cfg->requirement_globs.v[i];

		if (!strchr(g, '/')) {
			if (fnmatch(g, base, 0) == 0)
				return 1;
			continue;
		}
		/* A glob with a directory matches at any depth: requirements/ *.txt
		 * (without the space) also matches svc/requirements/base.txt. */
		for (const char *s = path; s; s = strchr(s, '/')) {
			while (*s == '/')
				s++;
			if (fnmatch(g, s, 0) == 0)
				return 1;
		}
	}
	return 0;
}

struct tree_reader {
	git_repository *repo;
	git_tree *tree;
};

static int blob_text(git_repository *repo, const git_oid *id, struct dd_buf *out)
{
	git_blob *blob;

	if (git_oid_is_zero(id) || git_blob_lookup(&blob, repo, id) < 0)
		return -1;
	dd_buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return 0;
}

static int tree_include(const char *path, struct dd_buf *out, void *ud)
{
	struct tree_reader *tr = ud;
	git_tree_entry *e;
	int rc;

	if (!tr->tree || git_tree_entry_bypath(&e, tr->tree, path[0] == '/' ? path + 1 : path) < 0)
		return -1;
	rc = blob_text(tr->repo, git_tree_entry_id(e), out);
	git_tree_entry_free(e);
	return rc;
}

static void parse_blob(git_repository *repo, git_tree *tree, const char *path, const git_oid *id,
                       struct dd_reqset *set)
{
	struct dd_buf text = DD_BUF_INIT;
	struct tree_reader tr = { repo, tree };

	if (blob_text(repo, id, &text) == 0)
		reqparse(path, dd_buf_str(&text), text.len, tree_include, &tr, set);
	dd_buf_release(&text);
}

static void add_req_changes(struct gitcorr_commit *gc, git_repository *repo, git_tree *old_tree,
                            git_tree *new_tree, const git_diff_delta *d)
{
	struct dd_reqset a = DD_REQSET_INIT, b = DD_REQSET_INIT;
	struct dd_req_change *ch;
	size_t n;
	const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;

	parse_blob(repo, old_tree, d->old_file.path, &d->old_file.id, &a);
	parse_blob(repo, new_tree, d->new_file.path, &d->new_file.id, &b);
	reqparse_diff(&a, &b, path, &ch, &n);
	if (n) {
		gc->req_changes = dd_xrealloc(gc->req_changes, (gc->n_req_changes + n) * sizeof(*ch));
		memcpy(gc->req_changes + gc->n_req_changes, ch, n * sizeof(*ch));
		gc->n_req_changes += n;
	}
	free(ch);
	reqset_release(&a);
	reqset_release(&b);
}

/* ---- one commit ---------------------------------------------------------------- */

static void fill_header(struct gitcorr_commit *gc, git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	const char *summary = git_commit_summary(c);

	git_oid_tostr(gc->id, sizeof(gc->id), git_commit_id(c));
	gc->summary = dd_xstrdup(summary ? summary : "");
	gc->author = a ? dd_xasprintf("%s <%s>", a->name, a->email) : dd_xstrdup("");
	gc->time_ms = (int64_t)git_commit_time(c) * 1000;
}

static int fill_changes(struct gitcorr_repo *r, git_commit *c, struct gitcorr_commit *gc)
{
	git_tree *tree = NULL, *ptree = NULL;
	git_commit *parent = NULL;
	git_diff *diff = NULL;
	int rc = -1;

	if (git_commit_tree(&tree, c) < 0)
		goto out;
	if (git_commit_parentcount(c) > 0 && git_commit_parent(&parent, c, 0) == 0 &&
	    git_commit_tree(&ptree, parent) < 0)
		goto out;
	if (git_diff_tree_to_tree(&diff, r->repo, ptree, tree, NULL) < 0)
		goto out;
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->status == GIT_DELTA_DELETED ? d->old_file.path : d->new_file.path;

		if (gc->files.n < GITCORR_MAX_FILES)
			dd_strv_push(&gc->files, path);
		else
			gc->files_truncated = 1;
		if (gitcorr_is_requirement_file(r, path))
			add_req_changes(gc, r->repo, ptree, tree, d);
	}
	rc = 0;
out:
	git_diff_free(diff);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	return rc;
}

int gc_window_git(struct gitcorr_repo *r, int64_t from_ms, int64_t to_ms,
                      struct gitcorr_commit **out, size_t *n_out, struct dd_error *err)
{
	struct gitcorr_commit *v = NULL;
	size_t n = 0, cap = 0;
	struct walk w;
	git_commit *c;
	int older = 0, rc;

	*out = NULL;
	*n_out = 0;
	if (walk_start(&w, r) < 0)
		return git_fail(err, "cannot read the history of", r->path);
	while ((rc = walk_next(&w, &c)) > 0) {
		int64_t t = (int64_t)git_commit_time(c) * 1000;

		if (t < from_ms) {
			git_commit_free(c);
			if (++older > WALK_SLOP && (!w.n || w.h[0].time * 1000 < from_ms))
				break;
			continue;
		}
		older = 0;
		if (t <= to_ms) {
			DD_GROW(v, cap, n + 1);
			memset(&v[n], 0, sizeof(v[n]));
			fill_header(&v[n], c);
			if (fill_changes(r, c, &v[n]) < 0) {
				git_commit_free(c);
				n++;
				rc = -1;
				break;
			}
			n++;
		}
		git_commit_free(c);
	}
	walk_release(&w);
	if (rc < 0) {
		gitcorr_commits_free(v, n);
		return git_fail(err, "cannot read the history of", r->path);
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* ---- paths and blame -------------------------------------------------------------- */

static int head_tree(struct gitcorr_repo *r, git_tree **out)
{
	git_commit *c;
	int rc;

	if (git_commit_lookup(&c, r->repo, &r->head) < 0)
		return -1;
	rc = git_commit_tree(out, c);
	git_commit_free(c);
	return rc;
}

static int tree_has(git_tree *tree, const char *path)
{
	git_tree_entry *e;

	if (!*path || git_tree_entry_bypath(&e, tree, path) < 0)
		return 0;
	git_tree_entry_free(e);
	return 1;
}

char *gc_configured_map(const struct gitcorr_repo *r, const char *opath)
{
	for (size_t i = 0; i < r->cfg->n_maps; i++) {
		const struct dd_path_map *m = &r->cfg->maps[i];

		if (dd_starts_with(opath, m->from)) {
			const char *rest = opath + strlen(m->from);
			size_t tl = strlen(m->to);

			if (tl && m->to[tl - 1] != '/' && *rest && *rest != '/')
				return dd_xasprintf("%s/%s", m->to, rest);
			return dd_xasprintf("%s%s", m->to, *m->to == '\0' && *rest == '/' ? rest + 1 : rest);
		}
	}
	return NULL;
}

static int collect_file(const char *root, const git_tree_entry *entry, void *payload)
{
	if (git_tree_entry_type(entry) == GIT_OBJECT_BLOB)
		dd_strv_push_owned(payload, dd_xasprintf("%s%s", root, git_tree_entry_name(entry)));
	return 0;
}

/* The one file of the tree ending in "/" + suffix; NULL when none, or when
 * several do (which one was meant cannot be told). */
static char *file_ending_in(struct gitcorr_repo *r, git_tree *tree, const char *suffix)
{
	const char *found = NULL;
	size_t n = 0, sl = strlen(suffix);

	if (!r->files_read) {
		git_tree_walk(tree, GIT_TREEWALK_PRE, collect_file, &r->files);
		r->files_read = 1;
	}
	for (size_t i = 0; i < r->files.n; i++) {
		const char *f = r->files.v[i];
		size_t fl = strlen(f);

		if (fl > sl && f[fl - sl - 1] == '/' && !strcmp(f + fl - sl, suffix)) {
			n++;
			found = f;
		}
	}
	return n == 1 ? dd_xstrdup(found) : NULL;
}

/* The longest suffix of the orchestrator's path that is a file of the
 * deployed tree (/opt/airflow/dags/etl/load.py -> dags/etl/load.py), or
 * that ends exactly one file of it (DAGS_FOLDER/etl/load.py, another
 * install prefix -> dags/etl/load.py).  Suffixes are tried longest first,
 * so /usr/local/airflow/dags/config.py finds orchestration/dags/config.py
 * before a config.py at the root. */
char *gc_suffix_git(struct gitcorr_repo *r, const char *opath)
{
	git_tree *tree;
	char *found = NULL;

	if (head_tree(r, &tree) < 0)
		return NULL;
	for (const char *s = opath; s && *s && !found; s = strchr(s, '/')) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		if (tree_has(tree, s))
			found = dd_xstrdup(s);
		else
			found = file_ending_in(r, tree, s);
	}
	git_tree_free(tree);
	return found;
}

/* Lines of path in the commit's tree; 0 when absent. */
static size_t count_lines(git_commit *c, const char *path)
{
	git_tree *tree;
	git_tree_entry *e;
	git_blob *blob;
	size_t n = 0;

	if (git_commit_tree(&tree, c) < 0)
		return 0;
	if (git_tree_entry_bypath(&e, tree, path) == 0) {
		if (git_blob_lookup(&blob, git_commit_owner(c), git_tree_entry_id(e)) == 0) {
			const char *p = git_blob_rawcontent(blob);
			size_t len = (size_t)git_blob_rawsize(blob);

			for (size_t i = 0; i < len; i++)
				n += p[i] == '\n';
			if (len && p[len - 1] != '\n')
				n++;
			git_blob_free(blob);
		}
		git_tree_entry_free(e);
	}
	git_tree_free(tree);
	return n;
}

/* Blames line `line` of path as commit asof has it, the search stopping at
 * boundary (NULL: none).  Takes neither commit. */
static int blame_commits(struct gitcorr_repo *r, const char *path, int line, git_commit *asof,
                         git_commit *boundary, struct gitcorr_commit *out, int *before_since,
                         struct dd_error *err)
{
	git_blame_options opts;
	git_blame *blame = NULL;
	const git_blame_hunk *hunk;
	git_commit *c;

	if (count_lines(asof, path) < (size_t)line)   /* libgit2 answers for lines past the end too: check first */
		return dd_error_set(err, DD_ENOTFOUND, "%s has no line %d in %s at that time", path, line, r->path);
	git_blame_options_init(&opts, GIT_BLAME_OPTIONS_VERSION);
	git_oid_cpy(&opts.newest_commit, git_commit_id(asof));
	if (boundary)
		git_oid_cpy(&opts.oldest_commit, git_commit_id(boundary));
	opts.min_line = (size_t)line;
	opts.max_line = (size_t)line;
	if (git_blame_file(&blame, r->repo, path, &opts) < 0)
		return dd_error_set(err, DD_ENOTFOUND, "%s has no line %d in %s at that time", path, line, r->path);
	hunk = git_blame_get_hunk_byline(blame, (size_t)line);
	if (!hunk || git_commit_lookup(&c, r->repo, &hunk->final_commit_id) < 0) {
		git_blame_free(blame);
		return dd_error_set(err, DD_ENOTFOUND, "%s has no line %d in %s at that time", path, line, r->path);
	}
	/* Tracked to the boundary: the line is older than the window. */
	if (boundary && (hunk->boundary || git_oid_equal(&hunk->final_commit_id, git_commit_id(boundary))))
		*before_since = 1;
	fill_header(out, c);
	git_commit_free(c);
	git_blame_free(blame);
	return 0;
}

/* The commit an id (full or abbreviated) names; DD_ENOTFOUND saying so. */
static int commit_of_id(struct gitcorr_repo *r, const char *id, git_commit **out, struct dd_error *err)
{
	git_object *obj = NULL;

	*out = NULL;
	if (!id || !*id || strlen(id) > GITCORR_ID_HEX || strspn(id, "0123456789abcdefABCDEF") != strlen(id) ||
	    git_revparse_single(&obj, r->repo, id) < 0 ||
	    git_object_peel((git_object **)out, obj, GIT_OBJECT_COMMIT) < 0) {
		git_object_free(obj);
		*out = NULL;
		return dd_error_set(err, DD_ENOTFOUND, "%s has no commit %.12s", r->path, id ? id : "");
	}
	git_object_free(obj);
	return 0;
}

/* A point of the history: a commit id, else the newest commit not after ms. */
struct point {
	const char *id;
	int64_t ms;
};

static int commit_at(struct gitcorr_repo *r, const struct point *p, git_commit **out, struct dd_error *err)
{
	return p->id ? commit_of_id(r, p->id, out, err) : commit_as_of(r, p->ms, out, err);
}

/* Blames `line` of path as of `asof`, the search stopping at since (NULL or ms 0 without id: no bound). */
static int blame_points(struct gitcorr_repo *r, const char *path, int line, const struct point *since,
                        const struct point *asof, struct gitcorr_commit *out, int *before_since,
                        struct dd_error *err)
{
	git_commit *top, *boundary = NULL;
	struct dd_error ignored = DD_ERROR_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	*before_since = 0;
	if (line < 1)
		return dd_error_set(err, DD_ENOTFOUND, "no line %d in %s", line, path);
	if ((rc = commit_at(r, asof, &top, err)) < 0)
		return rc;
	if ((since->id || since->ms) && commit_at(r, since, &boundary, &ignored) < 0)
		boundary = NULL;
	rc = blame_commits(r, path, line, top, boundary, out, before_since, err);
	git_commit_free(top);
	git_commit_free(boundary);
	return rc;
}

int gc_blame_git(struct gitcorr_repo *r, const char *path, int line, int64_t since_ms,
                 int64_t as_of_ms, struct gitcorr_commit *out, int *before_since,
                 struct dd_error *err)
{
	struct point since = { NULL, since_ms }, asof = { NULL, as_of_ms };

	return blame_points(r, path, line, &since, &asof, out, before_since, err);
}

int gc_blame_at_git(struct gitcorr_repo *r, const char *path, int line, const char *since_id,
                    const char *as_of_id, struct gitcorr_commit *out, int *before_since,
                    struct dd_error *err)
{
	struct point since = { since_id, 0 }, asof = { as_of_id, 0 };

	return blame_points(r, path, line, &since, &asof, out, before_since, err);
}

int gc_range_git(struct gitcorr_repo *r, const char *from_id, const char *to_id,
                 struct gitcorr_commit **out, size_t *n_out, int *off_branch, struct dd_error *err)
{
	git_commit *to = NULL, *from = NULL, *c;
	git_revwalk *walk = NULL;
	git_oid oid;
	struct gitcorr_commit *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*out = NULL;
	*n_out = 0;
	*off_branch = 0;
	if ((rc = commit_of_id(r, to_id, &to, err)) < 0)
		return rc;
	if (from_id && (rc = commit_of_id(r, from_id, &from, err)) < 0) {
		git_commit_free(to);
		return rc;
	}
	if (!git_oid_equal(&r->head, git_commit_id(to)) &&
	    git_graph_descendant_of(r->repo, &r->head, git_commit_id(to)) != 1)
		*off_branch = 1;
	if (git_revwalk_new(&walk, r->repo) < 0 || git_revwalk_sorting(walk, GIT_SORT_TIME) < 0 ||
	    git_revwalk_push(walk, git_commit_id(to)) < 0 || (from && git_revwalk_hide(walk, git_commit_id(from)) < 0)) {
		rc = git_fail(err, "cannot read the history of", r->path);
		goto out;
	}
	while (n < GITCORR_MAX_RANGE && git_revwalk_next(&oid, walk) == 0) {
		if (git_commit_lookup(&c, r->repo, &oid) < 0) {
			rc = git_fail(err, "cannot read the history of", r->path);
			goto out;
		}
		DD_GROW(v, cap, n + 1);
		memset(&v[n], 0, sizeof(v[n]));
		fill_header(&v[n], c);
		rc = fill_changes(r, c, &v[n]);
		git_commit_free(c);
		n++;
		if (rc < 0) {
			rc = git_fail(err, "cannot read the history of", r->path);
			goto out;
		}
	}
	rc = 0;
out:
	git_revwalk_free(walk);
	git_commit_free(to);
	git_commit_free(from);
	if (rc < 0) {
		gitcorr_commits_free(v, n);
		return rc;
	}
	*out = v;
	*n_out = n;
	return 0;
}

struct mention {
	const char *needle;
	int found;
};

static int mention_line(const git_diff_delta *d, const git_diff_hunk *h, const git_diff_line *l, void *ud)
{
	struct mention *m = ud;
	char *text;

	(void)d;
	(void)h;
	if (l->origin != GIT_DIFF_LINE_ADDITION && l->origin != GIT_DIFF_LINE_DELETION)
		return 0;
	text = dd_xstrndup(l->content, l->content_len);
	if (strcasestr(text, m->needle))
		m->found = 1;
	free(text);
	return m->found ? 1 : 0;      /* non-zero stops the walk */
}

int gc_mentions_git(struct gitcorr_repo *r, const char *id, const char *path, const char *needle)
{
	git_oid oid;
	git_commit *c = NULL, *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	char *paths[1];
	struct mention m = { needle, 0 };

	if (!needle || !*needle || git_oid_fromstr(&oid, id) < 0 || git_commit_lookup(&c, r->repo, &oid) < 0)
		return 0;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	paths[0] = (char *)path;
	opts.pathspec.strings = paths;
	opts.pathspec.count = 1;
	opts.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH;
	if (git_commit_tree(&tree, c) == 0 &&
	    (git_commit_parentcount(c) == 0 || (git_commit_parent(&parent, c, 0) == 0 && git_commit_tree(&ptree, parent) == 0)) &&
	    git_diff_tree_to_tree(&diff, r->repo, ptree, tree, &opts) == 0)
		git_diff_foreach(diff, NULL, NULL, NULL, mention_line, &m);
	git_diff_free(diff);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	git_commit_free(c);
	return m.found;
}

struct req_walk {
	struct gitcorr_repo *r;
	git_tree *root;
	struct dd_reqset *set;       /* gitcorr_requirements_at: everything, merged */
	struct dd_strv *files;       /* gc_req_lines_git: the requirement files' paths */
};

static int req_walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct req_walk *rw = payload;
	char *path;

	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB)
		return 0;
	path = dd_xasprintf("%s%s", root, git_tree_entry_name(entry));
	if (!gitcorr_is_requirement_file(rw->r, path))
		free(path);
	else if (rw->files)
		dd_strv_push_owned(rw->files, path);
	else {
		parse_blob(rw->r->repo, rw->root, path, git_tree_entry_id(entry), rw->set);
		free(path);
	}
	return 0;
}

/* The tree of the newest commit not after as_of_ms. */
static int tree_as_of(struct gitcorr_repo *r, int64_t as_of_ms, git_tree **tree, struct dd_error *err)
{
	git_commit *c;
	int rc = gc_open_git(r, err);

	if (rc == 0)
		rc = commit_as_of(r, as_of_ms, &c, err);
	if (rc < 0)
		return rc;
	rc = git_commit_tree(tree, c);
	git_commit_free(c);
	return rc < 0 ? git_fail(err, "cannot read the tree of", r->path) : 0;
}

int gitcorr_requirements_at(struct gitcorr_repo *r, int64_t as_of_ms, struct dd_reqset *out,
                            struct dd_error *err)
{
	git_tree *tree;
	struct req_walk rw;
	int rc = tree_as_of(r, as_of_ms, &tree, err);

	if (rc < 0)
		return rc;
	rw = (struct req_walk){ r, tree, out, NULL };
	git_tree_walk(tree, GIT_TREEWALK_PRE, req_walk_cb, &rw);
	git_tree_free(tree);
	return 0;
}

/* Line `line` (1-based) of text, blanks around it removed. */
static char *text_line(const char *text, size_t len, int line)
{
	const char *p = text, *end = text + len;

	for (int i = 1; i < line && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		p = nl ? nl + 1 : end;
	}
	{
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\\'))
			e--;
		return dd_xstrndup(p, (size_t)(e - p));
	}
}

int gc_req_lines_git(struct gitcorr_repo *r, int64_t as_of_ms, const struct dd_strv *packages,
                     struct gitcorr_req_line **out, size_t *n_out, struct dd_error *err)
{
	git_tree *tree;
	struct dd_strv files = DD_STRV_INIT;
	struct req_walk rw;
	struct dd_buf *texts;
	struct dd_reqset *sets;
	struct gitcorr_req_line *v = NULL;
	size_t n = 0, cap = 0;
	int rc = tree_as_of(r, as_of_ms, &tree, err);

	*out = NULL;
	*n_out = 0;
	if (rc < 0)
		return rc;
	rw = (struct req_walk){ r, tree, NULL, &files };
	git_tree_walk(tree, GIT_TREEWALK_PRE, req_walk_cb, &rw);
	texts = dd_xcalloc(files.n + 1, sizeof(*texts));
	sets = dd_xcalloc(files.n + 1, sizeof(*sets));
	for (size_t f = 0; f < files.n; f++) {
		git_tree_entry *e;

		if (git_tree_entry_bypath(&e, tree, files.v[f]) < 0)
			continue;
		if (blob_text(r->repo, git_tree_entry_id(e), &texts[f]) == 0)   /* includes are their own files */
			reqparse(files.v[f], dd_buf_str(&texts[f]), texts[f].len, NULL, NULL, &sets[f]);
		git_tree_entry_free(e);
	}
	for (size_t p = 0; p < packages->n; p++)
		for (size_t f = 0; f < files.n; f++) {
			const struct dd_req *q = reqset_find(&sets[f], packages->v[p]);

			if (!q)
				continue;
			DD_GROW(v, cap, n + 1);
			v[n].package = dd_xstrdup(q->name);
			v[n].file = dd_xstrdup(files.v[f]);
			v[n].line = q->line;
			v[n].text = q->line ? text_line(dd_buf_str(&texts[f]), texts[f].len, q->line) : dd_xstrdup("");
			v[n].version = dd_xstrdup(q->version);
			n++;
		}
	for (size_t f = 0; f < files.n; f++) {
		dd_buf_release(&texts[f]);
		reqset_release(&sets[f]);
	}
	free(texts);
	free(sets);
	dd_strv_release(&files);
	git_tree_free(tree);
	*out = v;
	*n_out = n;
	return 0;
}

/* ---- what a Python module imports ------------------------------------------------ */

#define IMPORT_DEPTH 3       /* the DAG file's imports, theirs, and theirs */
#define MAX_IMPORT_FILES 64

/* Drops the last directory of "a/b/" (to "a/"; "" stays ""). */
static void dir_up(char *dir)
{
	size_t n = strlen(dir);
	char *slash;

	if (!n)
		return;
	dir[n - 1] = '\0';
	slash = strrchr(dir, '/');
	if (slash)
		slash[1] = '\0';
	else
		dir[0] = '\0';
}

/* dir + extra + rel as a module file ("rel.py") or package ("rel/__init__.py"). */
static char *module_file(git_tree *tree, const char *dir, const char *extra, const char *rel)
{
	char *f;

	if (*rel) {
		f = dd_xasprintf("%s%s%s.py", dir, extra, rel);
		if (tree_has(tree, f))
			return f;
		free(f);
	}
	f = dd_xasprintf("%s%s%s%s__init__.py", dir, extra, rel, *rel ? "/" : "");
	if (tree_has(tree, f))
		return f;
	free(f);
	return NULL;
}

static char *resolve_module(git_tree *tree, const char *from, const char *mod)
{
	static const char *const extra[] = { "", "plugins/", "src/" };
	char *dir = dd_xstrdup(from), *slash, *rel, *found = NULL;
	int dots = 0;

	slash = strrchr(dir, '/');
	if (slash)
		slash[1] = '\0';
	else
		dir[0] = '\0';
	while (mod[dots] == '.')
		dots++;
	rel = dd_xstrdup(mod + dots);
	for (char *c = rel; *c; c++)
		if (*c == '.')
			*c = '/';
	if (dots) {
		/* from .x: the importing file's package; each further dot, one up */
		for (int i = 1; i < dots && *dir; i++)
			dir_up(dir);
		found = module_file(tree, dir, "", rel);
	} else {
		for (;;) {
			for (size_t e = 0; e < DD_ARRAY_SIZE(extra) && !found; e++)
				found = module_file(tree, dir, extra[e], rel);
			if (found || !*dir)
				break;
			dir_up(dir);
		}
	}
	free(rel);
	free(dir);
	return found;
}

int gc_imports_git(struct gitcorr_repo *r, const char *path, int64_t as_of_ms, struct dd_strv *out,
                       struct dd_error *err)
{
	git_commit *c;
	git_tree *tree;
	struct dd_strv queue = DD_STRV_INIT;
	size_t *depth = dd_xcalloc(MAX_IMPORT_FILES + 1, sizeof(*depth));
	int rc = commit_as_of(r, as_of_ms, &c, err);

	if (rc < 0) {
		free(depth);
		return rc;
	}
	rc = git_commit_tree(&tree, c);
	git_commit_free(c);
	if (rc < 0) {
		free(depth);
		return git_fail(err, "cannot read the tree of", r->path);
	}
	dd_strv_push(&queue, path);
	for (size_t q = 0; q < queue.n; q++) {
		git_tree_entry *e;
		struct dd_buf text = DD_BUF_INIT;
		struct dd_strv mods = DD_STRV_INIT;

		if (depth[q] >= IMPORT_DEPTH || git_tree_entry_bypath(&e, tree, queue.v[q]) < 0)
			continue;
		rc = blob_text(r->repo, git_tree_entry_id(e), &text);
		git_tree_entry_free(e);
		if (rc == 0)
			pyimports_parse(dd_buf_str(&text), &mods);
		for (size_t m = 0; m < mods.n && queue.n < MAX_IMPORT_FILES; m++) {
			char *file = resolve_module(tree, queue.v[q], mods.v[m]);

			if (file && !dd_strv_contains(&queue, file)) {
				depth[queue.n] = depth[q] + 1;
				dd_strv_push(&queue, file);
				dd_strv_push(out, file);
			}
			free(file);
		}
		dd_strv_release(&mods);
		dd_buf_release(&text);
	}
	dd_strv_release(&queue);
	free(depth);
	git_tree_free(tree);
	return 0;
}
