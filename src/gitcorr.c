/*
 * gitcorr.c - commits in a time window, the files and package versions
 * they changed, path mapping and blame (libgit2).  See gitcorr.h.
 */
#include "dagdoc/util.h"

#include <fnmatch.h>
#include <git2.h>

#include "dagdoc/gitcorr.h"

/* Commits this many past the window's start are still read, for clocks
 * that disagree (git log --since uses the same slop). */
#define WALK_SLOP 5

struct gitcorr_repo {
	git_repository *repo;
	git_oid head;
	char *path;
	const struct dd_repo *cfg;
};

static int git_fail(struct dd_error *err, const char *what, const char *path)
{
	const git_error *e = git_error_last();

	return dd_error_set(err, DD_EGIT, "%s %s: %s", what, path, e && e->message ? e->message : "libgit2 error");
}

int gitcorr_open(const struct dd_repo *cfg, struct gitcorr_repo **out, struct dd_error *err)
{
	struct gitcorr_repo *r;
	git_object *obj = NULL;
	const char *branch = cfg->branch && *cfg->branch ? cfg->branch : "HEAD";

	*out = NULL;
	git_libgit2_init();
	r = dd_xcalloc(1, sizeof(*r));
	r->cfg = cfg;
	r->path = dd_xstrdup(cfg->path);
	if (git_repository_open_ext(&r->repo, cfg->path, 0, NULL) < 0) {
		dd_error_set(err, DD_EGIT, "%s is not a git repository (or cannot be read); check the repos: path in the config or --repo",
		             cfg->path);
		gitcorr_close(r);
		return DD_EGIT;
	}
	if (git_revparse_single(&obj, r->repo, branch) < 0) {
		dd_error_set(err, DD_EGIT, "no branch or commit '%s' in %s; set repos: branch to the deployed branch",
		             branch, cfg->path);
		gitcorr_close(r);
		return DD_EGIT;
	}
	{
		git_object *peeled = NULL;

		if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
			git_object_free(obj);
			git_fail(err, "cannot find the commit of", branch);
			gitcorr_close(r);
			return DD_EGIT;
		}
		git_oid_cpy(&r->head, git_object_id(peeled));
		git_object_free(peeled);
	}
	git_object_free(obj);
	*out = r;
	return 0;
}

void gitcorr_close(struct gitcorr_repo *r)
{
	if (!r)
		return;
	git_repository_free(r->repo);
	free(r->path);
	free(r);
	git_libgit2_shutdown();
}

const char *gitcorr_path(const struct gitcorr_repo *r)
{
	return r->path;
}

int64_t gitcorr_deploy_lag_ms(const struct gitcorr_repo *r)
{
	return r->cfg->deploy_lag_s * 1000;
}

void gitcorr_commit_release(struct gitcorr_commit *c)
{
	free(c->summary);
	free(c->author);
	dd_strv_release(&c->files);
	req_changes_free(c->req_changes, c->n_req_changes);
	memset(c, 0, sizeof(*c));
}

void gitcorr_commits_free(struct gitcorr_commit *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gitcorr_commit_release(&c[i]);
	free(c);
}

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

int gitcorr_window(struct gitcorr_repo *r, int64_t from_ms, int64_t to_ms,
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

char *gitcorr_map_path(struct gitcorr_repo *r, const char *opath)
{
	git_tree *tree;
	char *found = NULL;

	if (!opath || !*opath)
		return NULL;
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
	if (head_tree(r, &tree) < 0)
		return NULL;
	/* Longest suffix first: the whole path (made relative), then after each '/'. */
	for (const char *s = opath; s && *s; ) {
		while (*s == '/')
			s++;
		if (tree_has(tree, s)) {
			found = dd_xstrdup(s);
			break;
		}
		s = strchr(s, '/');
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

int gitcorr_blame_line(struct gitcorr_repo *r, const char *path, int line, int64_t since_ms,
                       int64_t as_of_ms, struct gitcorr_commit *out, int *before_since,
                       struct dd_error *err)
{
	git_blame_options opts;
	git_blame *blame = NULL;
	const git_blame_hunk *hunk;
	git_commit *asof, *c, *boundary = NULL;
	struct dd_error ignored = DD_ERROR_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	*before_since = 0;
	if (line < 1)
		return dd_error_set(err, DD_ENOTFOUND, "no line %d in %s", line, path);
	rc = commit_as_of(r, as_of_ms, &asof, err);
	if (rc < 0)
		return rc;
	if (count_lines(asof, path) < (size_t)line) {
		/* libgit2 answers for lines past the end too: check first. */
		git_commit_free(asof);
		return dd_error_set(err, DD_ENOTFOUND, "%s has no line %d in %s at that time", path, line, r->path);
	}
	git_blame_options_init(&opts, GIT_BLAME_OPTIONS_VERSION);
	git_oid_cpy(&opts.newest_commit, git_commit_id(asof));
	if (since_ms && commit_as_of(r, since_ms, &boundary, &ignored) == 0)
		git_oid_cpy(&opts.oldest_commit, git_commit_id(boundary));
	opts.min_line = (size_t)line;
	opts.max_line = (size_t)line;
	git_commit_free(asof);
	if (git_blame_file(&blame, r->repo, path, &opts) < 0) {
		git_commit_free(boundary);
		return dd_error_set(err, DD_ENOTFOUND, "%s has no line %d in %s at that time", path, line, r->path);
	}
	hunk = git_blame_get_hunk_byline(blame, (size_t)line);
	if (!hunk || git_commit_lookup(&c, r->repo, &hunk->final_commit_id) < 0) {
		git_blame_free(blame);
		git_commit_free(boundary);
		return dd_error_set(err, DD_ENOTFOUND, "%s has no line %d in %s at that time", path, line, r->path);
	}
	/* Tracked to the boundary: the line is older than the window. */
	if (boundary && (hunk->boundary || git_oid_equal(&hunk->final_commit_id, git_commit_id(boundary))))
		*before_since = 1;
	fill_header(out, c);
	git_commit_free(c);
	git_commit_free(boundary);
	git_blame_free(blame);
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

int gitcorr_diff_mentions(struct gitcorr_repo *r, const char *id, const char *path,
                          const char *needle)
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
	struct dd_reqset *set;
};

static int req_walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct req_walk *rw = payload;
	char *path;

	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB)
		return 0;
	path = dd_xasprintf("%s%s", root, git_tree_entry_name(entry));
	if (gitcorr_is_requirement_file(rw->r, path))
		parse_blob(rw->r->repo, rw->root, path, git_tree_entry_id(entry), rw->set);
	free(path);
	return 0;
}

int gitcorr_requirements_at(struct gitcorr_repo *r, int64_t as_of_ms, struct dd_reqset *out,
                            struct dd_error *err)
{
	git_commit *c;
	git_tree *tree;
	struct req_walk rw;
	int rc = commit_as_of(r, as_of_ms, &c, err);

	if (rc < 0)
		return rc;
	rc = git_commit_tree(&tree, c);
	git_commit_free(c);
	if (rc < 0)
		return git_fail(err, "cannot read the tree of", r->path);
	rw.r = r;
	rw.root = tree;
	rw.set = out;
	git_tree_walk(tree, GIT_TREEWALK_PRE, req_walk_cb, &rw);
	git_tree_free(tree);
	return 0;
}
