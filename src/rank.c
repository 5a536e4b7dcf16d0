/*
 * rank.c - candidate causes with transparent evidence weights.
 * See include/dagdoc/rank.h.
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <math.h>
#include <strings.h>

#include "dagdoc/evidence.h"
#include "dagdoc/knowledge.h"
#include "dagdoc/pattern.h"
#include "dagdoc/rank.h"
#include "dagdoc/traceback.h"

/*
 * The weights, in one place.  A cause's score is the sum of the weights of
 * its evidence; confidence = 1 - exp(-score), so one strong piece of
 * evidence gives ~0.6, two ~0.85, three ~0.95.
 */
#define W_PATTERN        1.00  /* x pattern confidence: the log says what failed */
#define W_UNEXPLAINED    0.25  /* a failure no pattern explained */
#define W_COVERAGE       0.30  /* x share of the runs since onset that failed with it */
#define W_SHARP_ONSET    0.50  /* x onset sharpness, for changes: good runs, then it always fails */
#define W_PKG_NAMED      1.20  /* x tie weight: a package the failure is tied to moved (its message
                                  names it, or the traceback passes through it) */
#define W_LOCK_GRAPH     1.00  /* x tie weight: a package that one the failure is tied to requires
                                  moved (the lock file's graph) */
#define W_INTERPRETER    1.20  /* x what a new interpreter explains: the Python version moved */
#define W_CORROBORATE    0.30  /* a second link of the same change, x its weight */
#define W_REQS_CHANGED   0.30  /* requirements moved in the window, none the failure is tied to */
#define W_LOOSE_PIN      0.20  /* no commit moved it, but a requirement line leaves it free to move */
#define W_BLAME          1.20  /* a commit in the window last changed the failing line */
#define W_BLAME_OLD     -0.30  /* the failing line is older than the window */
#define W_TOUCH_FRAME    0.60  /* a commit in the window touched a file of the traceback */
#define W_TOUCH_DAG      0.40  /* a commit in the window touched the DAG file */
#define W_TOUCH_IMPORT   0.30  /* ... or a repository module the DAG file imports (3 levels) */
#define W_TOUCH_CONFIG   0.40  /* a commit in the window touched configuration files */
#define W_DIFF_NAMES     0.80  /* that commit's diff adds or removes what the failure names */
#define W_NO_COMMIT      0.30  /* nothing was committed in the window: look elsewhere */
#define W_RETRY_PASSES   0.90  /* x share of failed task instances a retry recovered */
#define W_SCATTERED      0.60  /* x the task's intermittent score */
#define W_STALL          0.80  /* x stall severity (sensor, upstream DAG, queue, scheduler) */
#define W_INPUT_GONE     1.20  /* a count in the log fell to ~0 since the last success: the data
                                  analogue of a package the failure names moving */
#define W_IMPORT_ERROR   1.00  /* the DAG's file has an import error */
#define W_CONFIRMED      3.00  /* an output (or a verdict in the store) confirms the cause */
#define W_REFUTED       -3.00  /* ... refutes it */
#define DEV_FILE_FACTOR  0.30  /* weight kept for a dev/test-only requirement file */
#define ALT_CAUSE_RATIO  0.60  /* a second kind for the same group is shown above this share */
#define FILLER_SCORE     (W_UNEXPLAINED + W_COVERAGE + 1e-9)   /* an unknown cause this weak says only
                                                                  "a try failed" */
#define MAX_CAUSES       6
#define MAX_GROUPS       8

const char *rk_kind_name(enum rk_kind k)
{
	static const char *const names[RK__COUNT] = {
		"dependency_change", "code_change", "config_change", "upstream_stall",
		"intermittent_fault", "resource_exhaustion", "orchestrator_fault", "data_issue", "unknown",
	};

	return (int)k >= 0 && k < RK__COUNT ? names[k] : "unknown";
}

static int is_change_kind(enum rk_kind k)
{
	return k == RK_DEPENDENCY_CHANGE || k == RK_CODE_CHANGE || k == RK_CONFIG_CHANGE;
}

static int contains_ci(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

/* The kind a failure category points at. */
static enum rk_kind kind_of_category(const struct dd_failure *f)
{
	const char *cat = f->category ? f->category : "unknown";

	if (!strcmp(cat, "dependency_upgrade")) return RK_DEPENDENCY_CHANGE;
	if (!strcmp(cat, "code_bug")) return RK_CODE_CHANGE;
	if (!strcmp(cat, "data_quality")) return RK_DATA_ISSUE;
	if (!strcmp(cat, "stalled_upstream")) return RK_UPSTREAM_STALL;
	if (!strcmp(cat, "intermittent")) return RK_INTERMITTENT_FAULT;
	if (!strcmp(cat, "resource")) return RK_RESOURCE_EXHAUSTION;
	if (!strcmp(cat, "orchestrator")) return RK_ORCHESTRATOR_FAULT;
	if (!strcmp(cat, "config_credentials")) return RK_CONFIG_CHANGE;
	if (!strcmp(cat, "ml_training")) {
		/* Training failures split by what ran out or went wrong. */
		if (contains_ci(f->title, "memory") || contains_ci(f->title, "OOM"))
			return RK_RESOURCE_EXHAUSTION;
		if (contains_ci(f->title, "NaN") || contains_ci(f->title, "infinit"))
			return RK_DATA_ISSUE;
		if (contains_ci(f->title, "NCCL") || contains_ci(f->title, "timeout") || contains_ci(f->title, "timed out"))
			return RK_INTERMITTENT_FAULT;
		return RK_CODE_CHANGE;
	}
	return RK_UNKNOWN;
}

/* ---- evidence bookkeeping ----------------------------------------------------- */

struct cand {
	double score;
	struct rk_evidence *ev;
	size_t n_ev, cap_ev;
	struct rk_commit *commits;
	size_t n_commits, cap_commits;
	struct dd_req_change change;          /* the implicated package change (owned; package NULL: none) */
	double change_w;                      /* the weight that implicated it */
	struct rk_outside *outside;           /* no commit moved it: where it is left loose (owned) */
	struct rk_verdict *verdicts;          /* what the evidence said (owned) */
	size_t n_verdicts;
	int net;                              /* confirmations minus refutations */
};

static void outside_free(struct rk_outside *o)
{
	if (!o)
		return;
	free(o->package);
	free(o->file);
	free(o->text);
	free(o->version);
	free(o->why);
	free(o);
}

/* The change the cause names: the one the strongest links implicate. */
static void set_change(struct cand *c, const struct dd_req_change *ch, double w)
{
	if (c->change.package && w <= c->change_w)
		return;
	req_change_release(&c->change);
	req_change_copy(&c->change, ch);
	c->change_w = w;
}

static void evidence(struct cand *c, double w, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void evidence(struct cand *c, double w, const char *fmt, ...)
{
	struct dd_buf b = DD_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	dd_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	DD_GROW(c->ev, c->cap_ev, c->n_ev + 1);
	c->ev[c->n_ev].text = dd_buf_detach(&b);
	c->ev[c->n_ev].weight = w;
	c->n_ev++;
	c->score += w;
}

/* Adds weight to a commit of the candidate (copying it on first mention). */
static void implicate(struct cand *c, const struct gitcorr_commit *gc, const char *repo, double w,
                      const char *why)
{
	struct rk_commit *rc = NULL;

	for (size_t i = 0; i < c->n_commits; i++)
		if (!strcmp(c->commits[i].commit.id, gc->id))
			rc = &c->commits[i];
	if (!rc) {
		DD_GROW(c->commits, c->cap_commits, c->n_commits + 1);
		rc = &c->commits[c->n_commits++];
		memset(rc, 0, sizeof(*rc));
		memcpy(rc->commit.id, gc->id, sizeof(gc->id));
		rc->commit.summary = dd_xstrdup(gc->summary);
		rc->commit.author = dd_xstrdup(gc->author);
		rc->commit.time_ms = gc->time_ms;
		for (size_t i = 0; i < gc->files.n; i++)
			dd_strv_push(&rc->commit.files, gc->files.v[i]);
		if (gc->n_req_changes) {
			rc->commit.req_changes = dd_xcalloc(gc->n_req_changes, sizeof(*gc->req_changes));
			for (size_t i = 0; i < gc->n_req_changes; i++)
				req_change_copy(&rc->commit.req_changes[i], &gc->req_changes[i]);
			rc->commit.n_req_changes = gc->n_req_changes;
		}
		rc->repo = dd_xstrdup(repo);
	}
	rc->suspicion += w;
	if (!dd_strv_contains(&rc->why, why))
		dd_strv_push(&rc->why, why);
}

/* Records on the candidate's commit `gc` (implicated already) that link
 * `word` ties the failure to its change, shown by `detail`. */
static void link_commit(struct cand *c, const struct gitcorr_commit *gc, const char *word, const char *detail)
{
	for (size_t i = 0; i < c->n_commits; i++) {
		struct rk_commit *rc = &c->commits[i];

		if (strcmp(rc->commit.id, gc->id) || dd_strv_contains(&rc->links, word))
			continue;
		dd_strv_push(&rc->links, word);
		dd_strv_push(&rc->link_why, detail);
	}
}

static void rk_commit_release(struct rk_commit *c)
{
	gitcorr_commit_release(&c->commit);
	free(c->repo);
	dd_strv_release(&c->why);
	dd_strv_release(&c->links);
	dd_strv_release(&c->link_why);
}

static void verdicts_free(struct rk_verdict *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].what);
		free(v[i].tool);
		free(v[i].source);
		free(v[i].line_text);
		free(v[i].user);
	}
	free(v);
}

static void cand_release(struct cand *c)
{
	verdicts_free(c->verdicts, c->n_verdicts);
	for (size_t i = 0; i < c->n_ev; i++)
		free(c->ev[i].text);
	free(c->ev);
	for (size_t i = 0; i < c->n_commits; i++)
		rk_commit_release(&c->commits[i]);
	free(c->commits);
	req_change_release(&c->change);
	outside_free(c->outside);
	memset(c, 0, sizeof(*c));
}

/* ---- files and runs ------------------------------------------------------------- */

static int is_dev_file(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strstr(base, "dev") || strstr(base, "test") || strstr(base, "lint") || strstr(base, "docs");
}

static int is_config_file(const char *path)
{
	static const char *const exts[] = { ".yaml", ".yml", ".json", ".cfg", ".ini", ".env", ".conf" };

	if (strstr(path, "config") || strstr(path, "settings") || strstr(path, "connections") ||
	    strstr(path, "variables") || strstr(path, ".env"))
		return 1;
	for (size_t i = 0; i < DD_ARRAY_SIZE(exts); i++)
		if (dd_ends_with(path, exts[i]) && !strstr(path, "environment"))
			return 1;
	return 0;
}

static const struct an_run *find_run(const struct an_result *an, const char *run_id)
{
	if (!run_id)
		return NULL;
	for (size_t i = 0; i < an->n_runs; i++)
		if (!strcmp(an->runs[i].run_id, run_id))
			return &an->runs[i];
	return NULL;
}

/* When code of a run was deployed at the latest: its start, else logical date. */
static int64_t run_time(const struct an_result *an, const char *run_id, int64_t fallback)
{
	const struct an_run *r = find_run(an, run_id);

	if (!r)
		return fallback;
	return r->start_ms ? r->start_ms : r->logical_ms;
}

static const char *short_id(const char *id)
{
	static char buf[8];

	snprintf(buf, sizeof(buf), "%.7s", id);
	return buf;
}

/* Entities worth finding in a diff: names of things, not generic words. */
static int nameable_entity(const struct dd_entity *e)
{
	static const char *const skip[] = { "exception", "signal", "exit_code", "status", "timeout", "version" };

	for (size_t i = 0; i < DD_ARRAY_SIZE(skip); i++)
		if (!strcmp(e->name, skip[i]))
			return 0;
	return e->value && strlen(e->value) >= 3;
}

/* More weight for a commit whose diff of `path` adds or removes a name the
 * failure carries (the connection id, the missing key, the column ...). */
static void diff_names(struct gitcorr_repo *repo, const char *rp, const struct gitcorr_commit *c,
                       const char *path, const struct an_group *g, struct cand *cd, double sharp)
{
	for (size_t i = 0; i < g->failure.n_entities; i++) {
		const struct dd_entity *e = &g->failure.entities[i];
		char why[512], *bare;
		size_t n;
		int found;

		if (!nameable_entity(e))
			continue;
		/* KeyError: 'region_code' names the key; code may quote it either way */
		n = strlen(e->value);
		if (n > 2 && (e->value[0] == '\'' || e->value[0] == '"') && e->value[n - 1] == e->value[0])
			bare = dd_xstrndup(e->value + 1, n - 2);
		else
			bare = dd_xstrdup(e->value);
		if (strlen(bare) < 3) {     /* 'id' would be found in "valid", "provider" ... */
			free(bare);
			continue;
		}
		found = gitcorr_diff_mentions(repo, c->id, path, bare);
		if (found)
			snprintf(why, sizeof(why), "its change to %s adds or removes '%s', the %s the failure names", path,
			         bare, e->name);
		free(bare);
		if (!found)
			continue;
		evidence(cd, W_DIFF_NAMES * sharp, "commit %s \"%s\": %s", short_id(c->id), c->summary, why);
		implicate(cd, c, rp, W_DIFF_NAMES, why);
		return;
	}
}

/* ---- requirement changes and the links that tie them to the failure ---------- */

/* "3.12" of "3.12-slim", ">=3.11,<3.13" (its first X.Y) as 3 * 1000 + 12; 0 when none. */
static int py_version(const char *v)
{
	for (const char *p = v; p && *p; p++)
		if (isdigit((unsigned char)*p) && (p == v || !isdigit((unsigned char)p[-1]))) {
			char *end;
			long major = strtol(p, &end, 10), minor;

			if (*end != '.' || !isdigit((unsigned char)end[1]))
				continue;
			minor = strtol(end + 1, NULL, 10);
			if (major >= 2 && major <= 9 && minor >= 0 && minor < 1000)
				return (int)(major * 1000 + minor);
		}
	return 0;
}

/* How much a move of the interpreter from -> to explains the failure (0:
 * nothing), and in what words. */
static double interpreter_link(const struct an_interp *in, const struct dd_req_change *ch, char *why, size_t n)
{
	int from = py_version(ch->from), to = py_version(ch->to), removed = py_version(in->removed_in);
	int running = py_version(in->running);
	double w = in->weight;

	if (w <= 0 || !to || from == to)
		return 0;
	if (removed && (to < removed || (from && from >= removed)))
		return 0;                       /* this move does not cross the version that dropped it */
	if (running && running == from)
		w *= 0.3;                       /* the failing try still ran the old one */
	else if (running && running != to)
		w *= 0.7;
	snprintf(why, n, "%s%s%s", in->why, in->running ? "; the failing try ran Python " : "",
	         in->running ? in->running : "");
	return w;
}

/* The better of two weights becomes *best, the other *other. */
static void keep_best(double w, double *best, double *other)
{
	if (w > *best) {
		*other = *best;
		*best = w;
	} else if (w > *other) {
		*other = w;
	}
}

/* One requirement change against what the failure is tied to: adds the
 * evidence and implicates the commit when a link holds. */
static void weigh_change(const struct an_group *g, const struct gitcorr_commit *c, const char *rp,
                         const struct dd_req_change *ch, double sharp, struct cand *cd)
{
	double factor = is_dev_file(ch->file) ? DEV_FILE_FACTOR : 1.0;
	double best = 0, other = 0, w;
	struct dd_strv words = DD_STRV_INIT, details = DD_STRV_INIT;
	struct dd_buf why = DD_BUF_INIT;
	char interp[600];

	/* the package itself: named by the message, or the traceback passes through it */
	for (size_t t = 0; t < g->n_ties; t++) {
		const struct an_tie *tie = &g->ties[t];

		if (!an_tie_matches(tie, ch->package))
			continue;
		if (tie->links & AN_LINK_NAMED) {
			dd_strv_push(&words, RK_LINK_NAMED);
			dd_strv_push(&details, tie->named);
		}
		if (tie->links & AN_LINK_FRAME) {
			dd_strv_push(&words, RK_LINK_FRAME);
			dd_strv_push(&details, tie->frame);
		}
		keep_best(W_PKG_NAMED * tie->weight, &best, &other);
		break;
	}
	/* a package the failure is tied to requires it, by the file's graph */
	for (size_t t = 0; t < g->n_ties; t++) {
		const struct an_tie *tie = &g->ties[t];
		const char *dep = NULL;

		for (size_t r = 0; r < ch->required_by.n && !dep; r++)
			if (an_tie_matches(tie, ch->required_by.v[r]))
				dep = ch->required_by.v[r];
		if (!dep)
			continue;
		dd_strv_push(&words, RK_LINK_LOCK);
		dd_strv_push_owned(&details, dd_xasprintf("%s requires %s by %s, and %s", dep, ch->package, ch->file,
		                                          (tie->links & AN_LINK_FRAME) ? tie->frame : tie->named));
		keep_best(W_LOCK_GRAPH * tie->weight, &best, &other);
		break;
	}
	/* the interpreter, for a failure a new one explains */
	if (!strcmp(ch->package, "python") &&
	    (w = W_INTERPRETER * interpreter_link(&g->interp, ch, interp, sizeof(interp))) > 0) {
		dd_strv_push(&words, RK_LINK_INTERPRETER);
		dd_strv_push(&details, interp);
		keep_best(w, &best, &other);
	}
	if (words.n) {
		w = (best + W_CORROBORATE * other) * factor;
		dd_buf_addf(&why, "%s %s -> %s in %s", ch->package, ch->from ? ch->from : "(new)",
		            ch->to ? ch->to : "(removed)", ch->file);
		for (size_t i = 0; i < details.n; i++)
			dd_buf_addf(&why, "; %s", details.v[i]);
		evidence(cd, w * sharp, "commit %s \"%s\" moved %s", short_id(c->id), c->summary, dd_buf_str(&why));
		implicate(cd, c, rp, w, dd_buf_str(&why));
		for (size_t i = 0; i < words.n; i++)
			link_commit(cd, c, words.v[i], details.v[i]);
		set_change(cd, ch, w);
	}
	dd_buf_release(&why);
	dd_strv_release(&words);
	dd_strv_release(&details);
}

/* ---- git evidence for one group ----------------------------------------------- */

struct git_view {
	struct gitcorr_repo *repo;
	struct gitcorr_commit *commits;
	size_t n;
	int64_t from_ms, to_ms;
	const char *bundle_from, *bundle_to;   /* the commits are those between two bundle versions */
};

static int in_view(const struct git_view *gv, const char *id)
{
	for (size_t i = 0; i < gv->n; i++)
		if (!strcmp(gv->commits[i].id, id))
			return 1;
	return 0;
}

static void git_evidence(const struct an_result *an, const struct an_group *g, struct git_view *views,
                         size_t n_views, struct cand *cands, struct dd_strv *notes)
{
	size_t total_commits = 0;
	double sharp = 0.4 + 0.6 * g->onset_sharpness;   /* change evidence counts less without a sharp onset */
	const struct dd_frame *top = NULL;

	for (size_t f = g->failure.n_frames; f-- > 0; )
		if (g->failure.frames[f].in_app) {
			top = &g->failure.frames[f];
			break;
		}
	for (size_t v = 0; v < n_views; v++) {
		struct git_view *gv = &views[v];
		const char *rp = gitcorr_path(gv->repo);
		char *dag_path = an->fileloc ? gitcorr_map_path(gv->repo, an->fileloc) : NULL;
		char *top_path = top ? gitcorr_map_path(gv->repo, top->file) : NULL;
		struct dd_strv frame_paths = DD_STRV_INIT, imported = DD_STRV_INIT;
		int req_any = 0;

		total_commits += gv->n;
		if (dag_path && gv->n) {
			struct dd_error e2 = DD_ERROR_INIT;

			gitcorr_imports(gv->repo, dag_path, gv->to_ms, &imported, &e2);   /* none when it fails */
		}
		for (size_t f = 0; f < g->failure.n_frames; f++) {
			char *p;

			if (!g->failure.frames[f].in_app)
				continue;
			p = gitcorr_map_path(gv->repo, g->failure.frames[f].file);
			if (p && !dd_strv_contains(&frame_paths, p))
				dd_strv_push(&frame_paths, p);
			free(p);
		}
		for (size_t i = 0; i < gv->n; i++) {
			const struct gitcorr_commit *c = &gv->commits[i];

			for (size_t k = 0; k < c->n_req_changes; k++) {
				weigh_change(g, c, rp, &c->req_changes[k], sharp, &cands[RK_DEPENDENCY_CHANGE]);
				req_any = 1;
			}
			for (size_t f = 0; f < c->files.n; f++) {
				const char *path = c->files.v[f];
				enum rk_kind k = RK__COUNT;
				char why[512];

				if (dd_strv_contains(&frame_paths, path)) {
					snprintf(why, sizeof(why), "touched %s, which is in the traceback", path);
					evidence(&cands[RK_CODE_CHANGE], W_TOUCH_FRAME * sharp, "commit %s \"%s\" %s",
					         short_id(c->id), c->summary, why);
					implicate(&cands[RK_CODE_CHANGE], c, rp, W_TOUCH_FRAME, why);
					k = RK_CODE_CHANGE;
				} else if (dag_path && !strcmp(path, dag_path)) {
					snprintf(why, sizeof(why), "touched the DAG file %s", path);
					evidence(&cands[RK_CODE_CHANGE], W_TOUCH_DAG * sharp, "commit %s \"%s\" %s",
					         short_id(c->id), c->summary, why);
					implicate(&cands[RK_CODE_CHANGE], c, rp, W_TOUCH_DAG, why);
					k = RK_CODE_CHANGE;
				} else if (dd_strv_contains(&imported, path)) {
					snprintf(why, sizeof(why), "touched %s, which the DAG file imports", path);
					evidence(&cands[RK_CODE_CHANGE], W_TOUCH_IMPORT * sharp, "commit %s \"%s\" %s",
					         short_id(c->id), c->summary, why);
					implicate(&cands[RK_CODE_CHANGE], c, rp, W_TOUCH_IMPORT, why);
					k = RK_CODE_CHANGE;
				}
				if (is_config_file(path) && !gitcorr_is_requirement_file(gv->repo, path)) {
					snprintf(why, sizeof(why), "changed configuration file %s", path);
					evidence(&cands[RK_CONFIG_CHANGE], W_TOUCH_CONFIG * sharp, "commit %s \"%s\" %s",
					         short_id(c->id), c->summary, why);
					implicate(&cands[RK_CONFIG_CHANGE], c, rp, W_TOUCH_CONFIG, why);
					diff_names(gv->repo, rp, c, path, g, &cands[RK_CONFIG_CHANGE], sharp);
				}
				if (k == RK_CODE_CHANGE)
					diff_names(gv->repo, rp, c, path, g, &cands[RK_CODE_CHANGE], sharp);
			}
		}
		if (req_any && !cands[RK_DEPENDENCY_CHANGE].n_commits)
			evidence(&cands[RK_DEPENDENCY_CHANGE], W_REQS_CHANGED * sharp,
			         "requirements changed in the window, but no package the failure is tied to");
		/* Blame the failing line as deployed at the first bad run (as its
		 * bundle version has it, when the orchestrator says which). */
		if (top && top_path && top->line > 0) {
			struct gitcorr_commit who;
			struct dd_error e2 = DD_ERROR_INIT;
			int before, rc;

			if (gv->bundle_to)
				rc = gitcorr_blame_at(gv->repo, top_path, top->line, gv->bundle_from, gv->bundle_to, &who, &before, &e2);
			else
				rc = gitcorr_blame_line(gv->repo, top_path, top->line, gv->from_ms, gv->to_ms, &who, &before, &e2);
			if (rc == 0) {
				char why[512];
				int inside = gv->bundle_to ? !before && in_view(gv, who.id)
				                           : !before && who.time_ms >= gv->from_ms && who.time_ms <= gv->to_ms;

				snprintf(why, sizeof(why), "last changed %s line %d, where the failure is raised", top_path, top->line);
				if (inside) {
					evidence(&cands[RK_CODE_CHANGE], W_BLAME * sharp, "commit %s \"%s\" %s",
					         short_id(who.id), who.summary, why);
					implicate(&cands[RK_CODE_CHANGE], &who, rp, W_BLAME, why);
				} else {
					evidence(&cands[RK_CODE_CHANGE], W_BLAME_OLD,
					         "%s line %d, where the failure is raised, did not change in the window", top_path,
					         top->line);
				}
				gitcorr_commit_release(&who);
			}
		}
		dd_strv_release(&frame_paths);
		dd_strv_release(&imported);
		free(dag_path);
		free(top_path);
	}
	if (n_views && total_commits == 0) {
		for (int k = 0; k < RK__COUNT; k++)
			if (!is_change_kind((enum rk_kind)k) && k != RK_UNKNOWN)
				evidence(&cands[k], W_NO_COMMIT, "no commit in the onset window of the repositories");
	}
	(void)notes;
}

/* ---- history evidence ------------------------------------------------------------ */

static void history_evidence(const struct an_result *an, const struct an_group *g, struct cand *cands)
{
	enum rk_kind base = kind_of_category(&g->failure);
	size_t failed_tis = 0, recovered = 0;
	double scatter = 0;
	const char *scatter_task = NULL;

	if (g->failure.pattern)
		evidence(&cands[base], W_PATTERN * g->failure.confidence, "the log matches %s (confidence %.2f): %s",
		         g->failure.pattern, g->failure.confidence, g->failure.title);
	else
		evidence(&cands[base], W_UNEXPLAINED, "the failure matched no pattern (%s)",
		         g->failure.exc_type ? g->failure.exc_type : g->failure.category ? g->failure.category : "no log");
	if (g->runs_since_onset)
		evidence(&cands[base], W_COVERAGE * (double)g->failed_since_onset / (double)g->runs_since_onset,
		         "%zu of %zu runs since the onset failed with it", g->failed_since_onset, g->runs_since_onset);
	if (g->onset_sharpness > 0 && g->good_before) {
		for (int k = 0; k < RK__COUNT; k++)
			if (is_change_kind((enum rk_kind)k) && (cands[k].n_commits || (enum rk_kind)k == base))
				evidence(&cands[k], W_SHARP_ONSET * g->onset_sharpness,
				         "sharp onset: %zu good %s, then %zu of %zu failed", g->good_before,
				         DD_PLURAL(g->good_before, "run", "runs"),
				         g->failed_since_onset, g->runs_since_onset);
	}
	failed_tis = g->n_tis;
	recovered = g->retry_recovered;
	for (size_t t = 0; t < g->task_ids.n; t++) {
		const struct an_task *at = an_result_task(an, g->task_ids.v[t]);

		if (!at)
			continue;
		/* Only the scattering: recovery on retry is weighed above already. */
		{
			double bad = (double)(at->failed + at->retry_recovered);
			double sc = bad > 0 && at->success > 0 ? fmin(1.0, (double)at->flips / (2.0 * bad)) : 0;

			if (sc > scatter) {
				scatter = sc;
				scatter_task = at->task_id;
			}
		}
	}
	if (recovered && failed_tis)
		evidence(&cands[RK_INTERMITTENT_FAULT], W_RETRY_PASSES * (double)recovered / (double)failed_tis,
		         "%zu of %zu failing task instances passed on a retry", recovered, failed_tis);
	if (scatter > 0.2 && scatter_task)
		evidence(&cands[RK_INTERMITTENT_FAULT], W_SCATTERED * scatter,
		         "task %s fails and succeeds in turn (scatter %.2f)", scatter_task, scatter);
	if (g->input_drop)
		evidence(&cands[RK_DATA_ISSUE], W_INPUT_GONE, "its input vanished: the failing try logged %s", g->input_drop);
	for (size_t i = 0; i < an->n_stalls; i++) {
		const struct an_stall *s = &an->stalls[i];
		int ours = !s->task_id || dd_strv_contains(&g->task_ids, s->task_id);
		enum rk_kind k;

		if (!ours)
			continue;
		switch (s->kind) {
		case AN_STALL_SENSOR_TIMEOUT:
			/* a sensor that failed on something else did not time out */
			if (g->failure.category && strcmp(g->failure.category, "stalled_upstream") &&
			    strcmp(g->failure.category, "unknown"))
				continue;
			k = RK_UPSTREAM_STALL;
			break;
		case AN_STALL_UPSTREAM_DAG: k = RK_UPSTREAM_STALL; break;
		case AN_STALL_LONG_QUEUE: case AN_STALL_SCHEDULER: k = RK_ORCHESTRATOR_FAULT; break;
		case AN_STALL_LONG_RUNNING: case AN_STALL_DURATION_GROWTH: k = RK_RESOURCE_EXHAUSTION; break;
		case AN_STALL_FAST_SUCCESS: k = RK_DATA_ISSUE; break;
		case AN_STALL_IMPORT_ERROR:
			if (!g->failure.stage || strcmp(g->failure.stage, "parse"))
				continue;
			evidence(&cands[RK_CODE_CHANGE], W_IMPORT_ERROR * s->severity, "%s", s->detail);
			continue;
		default:
			continue;
		}
		evidence(&cands[k], W_STALL * s->severity, "%s", s->detail);
	}
}

/* ---- building the causes ------------------------------------------------------------ */

static void add_entity(struct rk_cause *c, const char *name, const char *value)
{
	if (!value)
		return;
	for (size_t i = 0; i < c->n_entities; i++)
		if (!strcmp(c->entities[i].name, name))
			return;
	c->entities = dd_xrealloc(c->entities, (c->n_entities + 1) * sizeof(*c->entities));
	c->entities[c->n_entities].name = dd_xstrdup(name);
	c->entities[c->n_entities].value = dd_xstrdup(value);
	c->n_entities++;
}

static void push_unique(struct dd_strv *sv, char *s)
{
	if (dd_strv_contains(sv, s))
		free(s);
	else
		dd_strv_push_owned(sv, s);
}

static int cmp_commit(const void *a, const void *b)
{
	const struct rk_commit *x = a, *y = b;

	if (x->suspicion != y->suspicion)
		return x->suspicion < y->suspicion ? 1 : -1;
	return x->commit.time_ms < y->commit.time_ms ? 1 : x->commit.time_ms > y->commit.time_ms ? -1 : 0;
}

static char *failure_line(const struct dd_failure *f)
{
	if (f->exc_type)
		return dd_xasprintf("%s%s%s", f->exc_type, f->exc_message && *f->exc_message ? ": " : "",
		                    f->exc_message ? f->exc_message : "");
	if (f->title)
		return dd_xstrdup(f->title);
	return dd_xstrdup(f->category ? f->category : "failed");
}

/* Checks and fixes name the orchestrator's own commands and settings. */
static int on_prefect(const struct an_result *an)
{
	return an->source_kind && !strcmp(an->source_kind, "prefect");
}

static void kind_advice(struct rk_cause *c, const struct cand *cd, const char *task, int prefect)
{
	const struct dd_req_change *ch = cd->change.package ? &cd->change : NULL;
	const struct rk_commit *top = c->n_commits ? &c->commits[0] : NULL;

	switch (c->kind) {
	case RK_DEPENDENCY_CHANGE:
		if (ch && !strcmp(ch->package, "python")) {
			push_unique(&c->checks, dd_xasprintf("python --version   (on the worker image: is %s running?)",
			                                     ch->to ? ch->to : "the new one"));
			if (top)
				push_unique(&c->checks, dd_xasprintf("git show %s -- %s", short_id(top->commit.id), ch->file));
			if (ch->from)
				push_unique(&c->fix, dd_xasprintf("go back to Python %s in %s (the version before %s), or port the code "
				                                  "to Python %s", ch->from, ch->file,
				                                  top ? short_id(top->commit.id) : "the change", ch->to ? ch->to : "the new one"));
		} else if (ch) {
			enum reqparse_kind fk = reqparse_kind_for(ch->file);

			push_unique(&c->checks, dd_xasprintf("pip show %s   (on the worker image: is %s deployed?)", ch->package,
			                                     ch->to ? ch->to : "it"));
			if (top)
				push_unique(&c->checks, dd_xasprintf("git show %s -- %s", short_id(top->commit.id), ch->file));
			if (ch->from && (fk == REQ_LOCK_TOML || fk == REQ_PIPFILE_LOCK || ch->required_by.n))
				/* a lock file, or pip-compile's output: the pin belongs where it is locked from */
				push_unique(&c->fix, dd_xasprintf("constrain %s to %s (the version before %s) where %s is locked from "
				                                  "(pyproject.toml, requirements.in, Pipfile) and lock again, or adapt "
				                                  "the code to %s %s", ch->package, ch->from,
				                                  top ? short_id(top->commit.id) : "the change", ch->file, ch->package,
				                                  ch->to ? ch->to : ""));
			else if (ch->from)
				push_unique(&c->fix, dd_xasprintf("pin %s==%s in %s (the version before %s), then adapt the code to %s %s",
				                                  ch->package, ch->from, ch->file, top ? short_id(top->commit.id) : "the change",
				                                  ch->package, ch->to ? ch->to : ""));
		} else if (c->outside && c->outside->file) {
			push_unique(&c->checks, dd_xasprintf("pip show %s   (on the worker image: which release did the rebuild "
			                                     "install?)", c->outside->package));
			push_unique(&c->fix, dd_xasprintf("pin %s in %s line %d (%s) to the release the last good run had (pip "
			                                  "freeze of that image), then move on to the new one deliberately",
			                                  c->outside->package, c->outside->file, c->outside->line, c->outside->text));
		}
		break;
	case RK_CODE_CHANGE:
		if (top) {
			push_unique(&c->checks, dd_xasprintf("git show %s", short_id(top->commit.id)));
			push_unique(&c->fix, dd_xasprintf("revert %s \"%s\", or fix the change it made", short_id(top->commit.id),
			                                  top->commit.summary));
		}
		break;
	case RK_CONFIG_CHANGE:
		if (top)
			push_unique(&c->checks, dd_xasprintf("git show %s", short_id(top->commit.id)));
		break;
	case RK_INTERMITTENT_FAULT:
		push_unique(&c->checks, dd_xasprintf("compare the hosts and times of the failed tries of %s", task));
		push_unique(&c->fix, dd_xstrdup(prefect ? "give the task retries with backoff (@task(retries=3, "
		                                          "retry_delay_seconds=exponential_backoff(backoff_factor=10))) and a "
		                                          "timeout on the remote call"
		                                        : "give the task retries with exponential backoff (retries, "
		                                          "retry_exponential_backoff) and a timeout on the remote call"));
		break;
	case RK_UPSTREAM_STALL: {
		const char *up = NULL;

		for (size_t i = 0; i < c->n_entities; i++)
			if (!strcmp(c->entities[i].name, "upstream_dag"))
				up = c->entities[i].value;
		if (up && prefect)
			push_unique(&c->checks, dd_xasprintf("prefect flow-run ls --flow-name %s --limit 5   (did it run and "
			                                     "complete?)", up));
		else if (up)
			push_unique(&c->checks, dd_xasprintf("airflow dags list-runs -d %s   (did it run and succeed?)", up));
		push_unique(&c->fix, dd_xstrdup(prefect ? "fix or unblock the upstream producer; give the wait a timeout that "
		                                          "matches the upstream schedule"
		                                        : "fix or unblock the upstream producer; give the sensor "
		                                          "mode=\"reschedule\" and a timeout that matches the upstream schedule"));
		break;
	}
	case RK_RESOURCE_EXHAUSTION:
		push_unique(&c->checks, dd_xasprintf("compare the input size and peak memory of %s with its last good run", task));
		break;
	case RK_ORCHESTRATOR_FAULT:
		push_unique(&c->checks, dd_xstrdup(prefect ? "prefect work-pool ls   (is the pool paused, are its workers "
		                                             "online?) and the worker logs"
		                                           : "airflow jobs check --job-type SchedulerJob   (and the worker logs)"));
		break;
	case RK_DATA_ISSUE:
		push_unique(&c->checks, dd_xasprintf("compare the input of %s with the last good run (row counts, schema, nulls)", task));
		break;
	default:
		break;
	}
}

static char *summary_of(const struct rk_cause *c, const struct cand *cd, const struct dd_failure *f)
{
	const char *title = f->title ? f->title : f->exc_type ? f->exc_type : "failure";
	const char *task = c->task_ids.n ? c->task_ids.v[0] : "?";
	const struct rk_commit *top = c->n_commits ? &c->commits[0] : NULL;

	switch (c->kind) {
	case RK_DEPENDENCY_CHANGE:
		if (cd->change.package && !strcmp(cd->change.package, "python"))
			return dd_xasprintf("Interpreter change: Python %s -> %s", cd->change.from ? cd->change.from : "(none)",
			                    cd->change.to ? cd->change.to : "(removed)");
		if (cd->change.package)
			return dd_xasprintf("Dependency upgrade: %s %s -> %s", cd->change.package,
			                    cd->change.from ? cd->change.from : "(new)", cd->change.to ? cd->change.to : "(removed)");
		return dd_xasprintf("Dependency change: %s", title);
	case RK_CODE_CHANGE:
		if (top)
			return dd_xasprintf("Code change: %s \"%s\" breaks task %s", short_id(top->commit.id), top->commit.summary, task);
		return dd_xasprintf("Code bug in task %s: %s", task, title);
	case RK_CONFIG_CHANGE:
		return dd_xasprintf("Configuration: %s", title);
	case RK_UPSTREAM_STALL:
		for (size_t i = 0; i < c->n_entities; i++)
			if (!strcmp(c->entities[i].name, "upstream_dag"))
				return dd_xasprintf("Upstream stall: %s did not deliver (%s)", c->entities[i].value, task);
		return dd_xasprintf("Upstream stall in task %s: %s", task, title);
	case RK_INTERMITTENT_FAULT:
		return dd_xasprintf("Intermittent fault in task %s: %s", task, title);
	case RK_RESOURCE_EXHAUSTION:
		return dd_xasprintf("Resource exhaustion in task %s: %s", task, title);
	case RK_ORCHESTRATOR_FAULT:
		return dd_xasprintf("Orchestrator fault in task %s: %s", task, title);
	case RK_DATA_ISSUE:
		return dd_xasprintf("Data issue in task %s: %s", task, title);
	default:
		return dd_xasprintf("Unexplained failure in task %s: %s", task, f->exc_type ? f->exc_type : title);
	}
}

/* Where the candidate commits of a group came from. */
struct window {
	int64_t from_ms, to_ms;                 /* the time window searched, 0 when no repository */
	const char *bundle_from, *bundle_to;    /* the bundle versions that bounded them instead, or NULL */
};

static void set_entity(struct rk_cause *c, const char *name, const char *value)
{
	for (size_t i = 0; value && i < c->n_entities; i++)
		if (!strcmp(c->entities[i].name, name)) {
			free(c->entities[i].value);
			c->entities[i].value = dd_xstrdup(value);
			return;
		}
	add_entity(c, name, value);
}

static void make_cause(struct rk_result *out, const struct an_result *an, const struct an_group *g,
                       enum rk_kind k, struct cand *cd, const struct window *w)
{
	struct rk_cause *c;
	const struct dd_failure *f = &g->failure;

	out->causes = dd_xrealloc(out->causes, (out->n_causes + 1) * sizeof(*out->causes));
	c = &out->causes[out->n_causes++];
	memset(c, 0, sizeof(*c));
	c->kind = k;
	c->category = dd_xstrdup(f->category ? f->category : "unknown");
	c->score = cd->score;
	c->confidence = cd->score > 0 ? 1.0 - exp(-cd->score) : 0;
	c->failure = failure_line(f);
	c->pattern = dd_xstrdup(f->pattern);
	for (size_t i = 0; i < g->task_ids.n; i++)
		dd_strv_push(&c->task_ids, g->task_ids.v[i]);
	c->fingerprint = dd_xstrdup(g->fingerprint);
	c->first_bad_run = dd_xstrdup(g->onset_run);
	c->last_good_run = dd_xstrdup(g->last_good_run);
	c->first_bad_ms = g->onset_start_ms ? g->onset_start_ms : g->onset_ms;
	c->last_good_ms = g->last_good_start_ms ? g->last_good_start_ms : g->last_good_ms;
	c->first_bad_logical_ms = g->onset_ms;
	c->last_good_logical_ms = g->last_good_ms;
	c->failed_runs = g->n_runs_final;
	c->runs_since_onset = g->runs_since_onset;
	c->failed_since_onset = g->failed_since_onset;
	c->tries = g->n_tries;
	c->still_failing = g->still_failing;
	c->window_from_ms = w->from_ms;
	c->window_to_ms = w->to_ms;
	c->bundle_from = dd_xstrdup(w->bundle_from);
	c->bundle_to = dd_xstrdup(w->bundle_to);
	c->excerpt = dd_utf8_excerpt(f->excerpt);   /* valid UTF-8, saying so when bytes were replaced */
	for (size_t i = 0; i < f->n_entities; i++)
		add_entity(c, f->entities[i].name, f->entities[i].value);
	/* A DAG that stopped parsing: what its import error names, and the file. */
	if (f->stage && !strcmp(f->stage, "parse"))
		for (size_t i = 0; i < an->n_stalls; i++) {
			const struct an_stall *st = &an->stalls[i];

			if (st->kind != AN_STALL_IMPORT_ERROR)
				continue;
			for (size_t e = 0; e < st->n_entities; e++)
				add_entity(c, st->entities[e].name, st->entities[e].value);
			add_entity(c, "file", st->entity);
		}
	if (k == RK_DEPENDENCY_CHANGE && cd->change.package) {
		/* the package that moved, which may not be the one the frames show (numpy under pandas) */
		set_entity(c, "package", cd->change.package);
		set_entity(c, "from", cd->change.from);
		set_entity(c, "to", cd->change.to);
	}
	if (k == RK_DEPENDENCY_CHANGE && cd->outside) {
		c->outside = cd->outside;
		cd->outside = NULL;
		set_entity(c, "package", c->outside->package);
	}
	/* move evidence and commits */
	c->evidence = cd->ev;
	c->n_evidence = cd->n_ev;
	cd->ev = NULL;
	cd->n_ev = cd->cap_ev = 0;
	c->verdicts = cd->verdicts;
	c->n_verdicts = cd->n_verdicts;
	c->confirmed = cd->net > 0 ? 1 : cd->net < 0 ? -1 : 0;
	cd->verdicts = NULL;
	cd->n_verdicts = 0;
	c->commits = cd->commits;
	c->n_commits = cd->n_commits;
	cd->commits = NULL;
	cd->n_commits = cd->cap_commits = 0;
	if (c->n_commits > 1)
		qsort(c->commits, c->n_commits, sizeof(*c->commits), cmp_commit);
	c->summary = summary_of(c, cd, f);
	if (k == RK_DATA_ISSUE && g->input_drop)
		push_unique(&c->checks, dd_xasprintf("where did the input go? the failing try logged %s", g->input_drop));
	kind_advice(c, cd, c->task_ids.n ? c->task_ids.v[0] : "the task", on_prefect(an));
	for (size_t i = 0; i < f->checks.n; i++) {
		/* "pip show pandas" adds nothing after "pip show pandas   (on the worker ...)" */
		int covered = 0;

		for (size_t j = 0; j < c->checks.n; j++)
			if (dd_starts_with(c->checks.v[j], f->checks.v[i]))
				covered = 1;
		if (!covered)
			push_unique(&c->checks, dd_xstrdup(f->checks.v[i]));
	}
	for (size_t i = 0; i < f->fix.n; i++)
		push_unique(&c->fix, dd_xstrdup(f->fix.v[i]));
}

/* What is failing now comes first: a blip that a retry already fixed must
 * not outrank an ongoing failure, however sure the diagnosis of the blip. */
static int cmp_cause(const void *a, const void *b)
{
	const struct rk_cause *x = a, *y = b;

	if (x->still_failing != y->still_failing)
		return x->still_failing ? -1 : 1;
	if (x->confidence != y->confidence)
		return x->confidence < y->confidence ? 1 : -1;
	return x->failed_runs < y->failed_runs ? 1 : x->failed_runs > y->failed_runs ? -1 : 0;
}

static void cause_release(struct rk_cause *c)
{
	for (size_t i = 0; i < c->n_evidence; i++)
		free(c->evidence[i].text);
	free(c->evidence);
	for (size_t i = 0; i < c->n_commits; i++)
		rk_commit_release(&c->commits[i]);
	free(c->commits);
	outside_free(c->outside);
	verdicts_free(c->verdicts, c->n_verdicts);
	free(c->bundle_from);
	free(c->bundle_to);
	for (size_t i = 0; i < c->n_entities; i++) {
		free(c->entities[i].name);
		free(c->entities[i].value);
	}
	free(c->entities);
	free(c->category);
	free(c->summary);
	free(c->failure);
	free(c->pattern);
	free(c->fingerprint);
	free(c->first_bad_run);
	free(c->last_good_run);
	free(c->excerpt);
	dd_strv_release(&c->task_ids);
	dd_strv_release(&c->checks);
	dd_strv_release(&c->fix);
}

/* ---- stuck work: ongoing, with no failure to group by --------------------------- */

static int has_stall(const struct an_result *an, enum an_stall_kind kind, const char *task_id)
{
	for (size_t i = 0; i < an->n_stalls; i++)
		if (an->stalls[i].kind == kind &&
		    (!task_id || (an->stalls[i].task_id && !strcmp(an->stalls[i].task_id, task_id))))
			return 1;
	return 0;
}

/* A task (or run) still queued or running far past its usual time is a
 * cause of its own, ongoing: the DAG is not delivering.  Which kind it
 * points at: a queue that does not move or a run whose tasks are not
 * scheduled is the orchestrator's; a sensor still waiting is an upstream
 * stall, and so is a task hanging on what it calls, unless its successful
 * runs have been growing (then it is running out of time on more input). */
static void stuck_cause(struct rk_result *out, const struct an_result *an, const struct an_stall *s)
{
	const struct an_task *at = s->task_id ? an_result_task(an, s->task_id) : NULL;
	const char *task = s->task_id;
	struct an_group g;
	struct cand cd;
	enum rk_kind k;
	char took[24], usual[24];
	char *summary;
	struct rk_cause *c;

	memset(&g, 0, sizeof(g));
	memset(&cd, 0, sizeof(cd));
	dd_format_duration(s->seconds, took, sizeof(took));
	dd_format_duration(s->usual_s, usual, sizeof(usual));
	evidence(&cd, W_STALL * s->severity, "%s", s->detail);
	if (s->kind == AN_STALL_STUCK_QUEUED || !task) {
		k = RK_ORCHESTRATOR_FAULT;
		g.failure.category = "orchestrator";
		if (has_stall(an, AN_STALL_SCHEDULER, NULL))
			evidence(&cd, W_STALL * 0.5, "the scheduler is unhealthy too (see the stalls)");
		if (task)
			summary = dd_xasprintf("Stuck in the queue: task %s queued for %s (it usually waits %s)", task, took, usual);
		else
			summary = dd_xasprintf("Stuck run: %s has been going for %s (usually %s) with no task running long",
			                       s->run_id ? s->run_id : "?", took, usual);
	} else if (at && at->is_sensor) {
		k = RK_UPSTREAM_STALL;
		g.failure.category = "stalled_upstream";
		summary = dd_xasprintf("Upstream stall: sensor %s has been waiting %s (it usually succeeds within %s)",
		                       task, took, usual);
	} else if (has_stall(an, AN_STALL_DURATION_GROWTH, task)) {
		k = RK_RESOURCE_EXHAUSTION;
		g.failure.category = "resource";
		evidence(&cd, W_STALL * 0.5, "%s's successful runs have been getting longer (see the stalls)", task);
		summary = dd_xasprintf("Stuck: task %s running for %s as its input grows (a success usually takes %s)",
		                       task, took, usual);
	} else {
		k = RK_UPSTREAM_STALL;
		g.failure.category = "stalled_upstream";
		summary = dd_xasprintf("Stuck: task %s running for %s (a success usually takes %s)", task, took, usual);
	}
	g.failure.title = summary;
	g.fingerprint = dd_xasprintf("stuck:%s:%s", an_stall_kind_name(s->kind), task ? task : "run");
	if (task)
		dd_strv_push(&g.task_ids, task);
	g.onset_run = s->run_id;
	g.last_run = s->run_id;
	for (size_t r = 0; r < an->n_runs; r++)
		if (s->run_id && !strcmp(an->runs[r].run_id, s->run_id))
			g.onset_ms = an->runs[r].logical_ms;
	g.still_failing = 1;
	for (size_t r = 0; r < an->n_runs; r++)
		if (s->run_id && !strcmp(an->runs[r].run_id, s->run_id))
			g.onset_start_ms = an->runs[r].start_ms;
	make_cause(out, an, &g, k, &cd, &(struct window){ 0, 0, NULL, NULL });
	c = &out->causes[out->n_causes - 1];
	c->stuck = 1;
	free(c->summary);
	c->summary = dd_xstrdup(summary);
	free(c->failure);
	c->failure = dd_xstrdup(s->detail);
	add_entity(c, "stuck_for", took);
	add_entity(c, "usual", usual);
	/* The generic advice of the kind is about failures: say what fits this. */
	dd_strv_release(&c->checks);
	dd_strv_release(&c->fix);
	if (on_prefect(an)) {
		if (s->kind == AN_STALL_STUCK_QUEUED || !task) {
			push_unique(&c->checks, dd_xstrdup("prefect work-pool ls   (is the pool paused, are its workers online?)"));
			push_unique(&c->checks, dd_xstrdup("prefect concurrency-limit ls   (is a tag's limit used up by stuck runs?)"));
			push_unique(&c->fix, dd_xstrdup("start or restart the pool's workers, or raise the work pool, work queue or "
			                                "tag concurrency limit that holds the run"));
		} else {
			push_unique(&c->checks, dd_xasprintf("read the live logs of %s in flow run %s: what is it waiting on?", task,
			                                     s->run_id ? s->run_id : "?"));
			push_unique(&c->fix, dd_xasprintf("give %s a timeout_seconds of a few times %s, so a hang fails and retries "
			                                  "instead of blocking the flow", task, usual));
		}
	} else if (s->kind == AN_STALL_STUCK_QUEUED || !task) {
		push_unique(&c->checks, dd_xstrdup("is the scheduler alive? (airflow jobs check --job-type SchedulerJob, "
		                                   "or the scheduler's health in the UI)"));
		if (task) {
			push_unique(&c->checks, dd_xstrdup("are the executor's workers up and taking work from this queue? (worker logs)"));
			push_unique(&c->checks, dd_xstrdup("is the task's pool full? (pools in the UI, or airflow pools list)"));
			push_unique(&c->fix, dd_xstrdup("free or add slots (pool size, parallelism), or restart the workers"));
		} else {
			push_unique(&c->checks, dd_xstrdup("which tasks of the run are still scheduled or queued, and for which pool or limit?"));
			push_unique(&c->fix, dd_xstrdup("raise the limit that holds the run (pool slots, max_active_tasks, "
			                                "max_active_runs), or clear the stuck tasks"));
		}
	} else {
		push_unique(&c->checks, dd_xasprintf("read the live log of %s in run %s: what is it waiting on?", task,
		                                     s->run_id ? s->run_id : "?"));
		if (at && at->is_sensor) {
			push_unique(&c->checks, dd_xasprintf("has what %s waits for arrived? (the upstream DAG's runs, the file, "
			                                     "the partition)", task));
			push_unique(&c->fix, dd_xstrdup("fix or unblock the upstream producer; give the sensor mode=\"reschedule\" and "
			                                "a timeout that matches the upstream schedule"));
		} else {
			push_unique(&c->checks, dd_xasprintf("is the system %s talks to slow or holding a lock? (its sessions, locks and "
			                                     "queue)", task));
			push_unique(&c->fix, dd_xasprintf("give %s an execution_timeout of a few times %s, so a hang fails and retries "
			                                  "instead of blocking the run", task, usual));
		}
	}
	cand_release(&cd);
	free(summary);
	free(g.fingerprint);
	dd_strv_release(&g.task_ids);
}

/* ---- where the candidate commits come from ---------------------------------------- */

/* The bundle versions the group's last good and first bad run ran, when
 * the orchestrator reports both (Airflow 3 Git DAG bundles). */
static void bundle_versions(const struct an_result *an, const struct an_group *g, const char **good,
                            const char **bad)
{
	*good = *bad = NULL;
	for (size_t r = 0; an->ran && r < an->n_runs; r++) {
		if (g->last_good_run && !strcmp(an->runs[r].run_id, g->last_good_run))
			*good = an->ran[r].bundle_version;
		if (g->onset_run && !strcmp(an->runs[r].run_id, g->onset_run))
			*bad = an->ran[r].bundle_version;
	}
	if (!*good || !*bad)
		*good = *bad = NULL;
}

/* The candidate commits of one repository for the group: those between the
 * bundle versions the last good and the first bad run ran, else those of
 * the time window (the last good try's start minus the deploy lag, to the
 * first failed try's start).  0, or -1 (a note says why) when the
 * repository cannot answer. */
static int open_view(struct git_view *v, struct gitcorr_repo *repo, const struct an_result *an,
                     const struct an_group *g, struct dd_strv *notes)
{
	int64_t onset_t = g->onset_start_ms ? g->onset_start_ms : run_time(an, g->onset_run, g->onset_ms);
	int64_t good_t = g->last_good_start_ms ? g->last_good_start_ms
	               : g->last_good_run ? run_time(an, g->last_good_run, g->last_good_ms) : 0;
	const char *good_bv, *bad_bv;
	struct dd_error e2 = DD_ERROR_INIT;

	memset(v, 0, sizeof(*v));
	v->repo = repo;
	/* Without a good run before, look back a week before the onset. */
	v->from_ms = (good_t ? good_t : onset_t - 7 * 86400000LL) - gitcorr_deploy_lag_ms(repo);
	v->to_ms = onset_t;
	bundle_versions(an, g, &good_bv, &bad_bv);
	if (bad_bv) {
		int off = 0, rc = gitcorr_range(repo, good_bv, bad_bv, &v->commits, &v->n, &off, &e2);

		if (rc == 0) {
			v->bundle_from = good_bv;
			v->bundle_to = bad_bv;
			if (off)
				push_unique(notes, dd_xasprintf("the first bad run (%s) ran bundle version %.12s, which the deployed "
				                                "branch of %s does not contain: its commits were read all the same; "
				                                "set repos: branch to the branch the DAG bundle tracks",
				                                g->onset_run, bad_bv, gitcorr_path(repo)));
			return 0;
		}
		push_unique(notes, dd_xasprintf("the runs say which commits they ran (bundle version %.12s of the first bad "
		                                "run, %.12s of the last good one), but %s; the candidates are the commits "
		                                "of the time window instead, which may hold commits never deployed: fetch "
		                                "the repository, or point repos: at the DAG bundle's repository",
		                                bad_bv, good_bv, e2.msg));
		dd_error_clear(&e2);
	}
	if (gitcorr_window(repo, v->from_ms, v->to_ms, &v->commits, &v->n, &e2) < 0) {
		push_unique(notes, dd_xasprintf("%s", e2.msg));
		return -1;
	}
	return 0;
}

/* A dependency change no commit shows: where the requirement files the
 * group's failure ran with leave one of its packages loose. */
static struct rk_outside *outside_repository(const struct an_group *g, struct git_view *views, size_t n_views)
{
	struct dd_strv pkgs = DD_STRV_INIT;
	struct rk_outside *o = NULL;
	const struct gitcorr_req_line *pinned = NULL;
	struct gitcorr_req_line *lines = NULL;
	size_t n = 0;

	for (size_t t = 0; t < g->n_ties; t++)
		if (!g->ties[t].prefix && !dd_strv_contains(&pkgs, g->ties[t].dist))
			dd_strv_push(&pkgs, g->ties[t].dist);
	if (g->interp.weight > 0)
		dd_strv_push(&pkgs, "python");
	if (!pkgs.n)
		return NULL;
	for (size_t v = 0; v < n_views && !o; v++) {
		struct dd_error e2 = DD_ERROR_INIT;

		if (gitcorr_requirement_lines(views[v].repo, views[v].to_ms, &pkgs, &lines, &n, &e2) < 0)
			continue;
		for (size_t i = 0; i < n && !o; i++) {
			const struct gitcorr_req_line *l = &lines[i];
			int loose = strcmp(l->package, "python") ? !reqparse_is_exact(l->version) : py_version(l->version) == 0 ||
			            strpbrk(l->version, "<>=~^*,");

			if (is_dev_file(l->file))
				continue;
			if (!loose) {
				pinned = pinned ? pinned : l;
				continue;
			}
			o = dd_xcalloc(1, sizeof(*o));
			o->package = dd_xstrdup(l->package);
			o->file = dd_xstrdup(l->file);
			o->line = l->line;
			o->text = dd_xstrdup(l->text);
			o->version = dd_xstrdup(l->version);
			o->why = *l->version
			         ? dd_xasprintf("no commit in the window moved %s, but %s line %d (%s) only bounds it, so a "
			                        "rebuild of the environment could install a new release", l->package, l->file,
			                        l->line, l->text)
			         : dd_xasprintf("no commit in the window moved %s, but %s line %d (%s) does not pin it, so a "
			                        "rebuild of the environment could install a new release", l->package, l->file,
			                        l->line, l->text);
		}
		if (!o && pinned) {
			o = dd_xcalloc(1, sizeof(*o));
			o->package = dd_xstrdup(pkgs.v[0]);
			o->why = dd_xasprintf("no commit in the window moved %s, and %s line %d pins %s: the environment that "
			                      "ran the task was not built from it (another image, a venv, a pip install at run "
			                      "time)", pkgs.v[0], pinned->file, pinned->line, pinned->text);
		}
		gitcorr_req_lines_free(lines, n);
	}
	if (!o) {
		o = dd_xcalloc(1, sizeof(*o));
		o->package = dd_xstrdup(pkgs.v[0]);
		o->why = dd_xasprintf("no commit in the window moved %s, and no requirement file of the repository names it: "
		                      "whatever installs it (the image, a dependency of another package) can move it", pkgs.v[0]);
	}
	dd_strv_release(&pkgs);
	return o;
}

/* ---- evidence the engineer pasted, and verdicts kept in the store -------------------- */

/* The entities a kind's hypothesis is judged with (borrowed): the failure's,
 * the change a dependency cause names, its most suspect commit, the task. */
struct hyp {
	struct dd_entity v[PAT_MAX_ENTITIES + 16];
	size_t n;
};

static void hyp_set(struct hyp *h, const char *name, const char *value)
{
	if (!value)
		return;
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->v[i].name, name)) {
			h->v[i].value = (char *)value;
			return;
		}
	if (h->n < DD_ARRAY_SIZE(h->v)) {
		h->v[h->n].name = (char *)name;
		h->v[h->n].value = (char *)value;
		h->n++;
	}
}

static void hypothesis(const struct an_group *g, const struct cand *cd, struct hyp *h)
{
	const struct rk_commit *top = NULL;

	h->n = 0;
	for (size_t i = 0; i < g->failure.n_entities; i++)
		hyp_set(h, g->failure.entities[i].name, g->failure.entities[i].value);
	if (cd->outside)
		hyp_set(h, "package", cd->outside->package);
	if (cd->change.package) {
		hyp_set(h, "package", cd->change.package);
		hyp_set(h, "from", cd->change.from);
		hyp_set(h, "to", cd->change.to);
	}
	for (size_t i = 0; i < cd->n_commits; i++)
		if (!top || cd->commits[i].suspicion > top->suspicion)
			top = &cd->commits[i];
	if (top)
		hyp_set(h, "commit", top->commit.id);
	if (g->task_ids.n)
		hyp_set(h, "task_id", g->task_ids.v[0]);
}

/* The checks with rules for the cause of the failure's category: the
 * pattern's that explains the group, else the knowledge base's advice for
 * the category (the structural layer's answer). */
static size_t category_checks(const struct rk_input *in, const struct an_group *g, enum rk_kind k,
                              struct ev_check *out, size_t cap)
{
	const struct pat_pattern *p =
		in->lib && g->failure.pattern ? pat_library_find(in->lib, g->failure.pattern) : NULL;
	const struct kb *kb = in->lib ? pat_library_knowledge(in->lib) : NULL;
	const struct dd_strv *runs = p ? &p->checks : kb_checks(kb, g->failure.category);
	const struct pat_check_rule *rules = p ? p->check_rules : kb_check_rules(kb, g->failure.category);
	size_t n = 0;

	if (!runs || !rules || k != kind_of_category(&g->failure))
		return 0;
	for (size_t i = 0; i < runs->n && n < cap; i++)
		if (rules[i].confirms.n || rules[i].refutes.n)
			out[n++] = (struct ev_check){ runs->v[i], &rules[i].confirms, &rules[i].refutes };
	return n;
}

/* "2026-12-07 03:12" (UTC). */
static void minute_of(int64_t ms, char *out, size_t n)
{
	char iso[40];

	dd_format_time(ms, 0, iso, sizeof(iso));
	snprintf(out, n, "%.10s %.5s", iso, iso + 11);
}

static int has_verdict(const struct cand *cd, const char *what)
{
	for (size_t i = 0; i < cd->n_verdicts; i++)
		if (!strcmp(cd->verdicts[i].what, what))
			return 1;
	return 0;
}

static struct rk_verdict *add_verdict(struct cand *cd, int verdict, const char *what, const char *tool)
{
	struct rk_verdict *v;

	cd->verdicts = dd_xrealloc(cd->verdicts, (cd->n_verdicts + 1) * sizeof(*cd->verdicts));
	v = &cd->verdicts[cd->n_verdicts++];
	memset(v, 0, sizeof(*v));
	v->verdict = verdict;
	v->what = dd_xstrdup(what);
	v->tool = dd_xstrdup(tool);
	cd->net += verdict;
	return v;
}

/* Every verdict on the group's candidate causes: the store's first, then
 * the pasted outputs' (used[i] set for each output that gave one). */
static void weigh_evidence(const struct rk_input *in, const struct an_group *g, struct cand *cands, char *used)
{
	for (int k = 0; k < RK__COUNT; k++) {
		struct cand *cd = &cands[k];
		const char *kind = rk_kind_name((enum rk_kind)k);
		struct ev_check checks[16];
		size_t n_checks = category_checks(in, g, (enum rk_kind)k, checks, DD_ARRAY_SIZE(checks));
		struct hyp h;

		if (k == RK_UNKNOWN)
			continue;
		hypothesis(g, cd, &h);
		for (size_t i = 0; i < in->n_facts; i++) {
			const struct rk_fact *f = &in->facts[i];
			struct rk_verdict *v;
			char when[32];

			if (strcmp(f->fingerprint, g->fingerprint) || strcmp(f->kind, kind) || has_verdict(cd, f->what))
				continue;
			v = add_verdict(cd, f->verdict, f->what, f->tool);
			v->user = dd_xstrdup(f->user);
			v->at_ms = f->at_ms;
			v->stored = 1;
			minute_of(f->at_ms, when, sizeof(when));
			evidence(cd, f->verdict > 0 ? W_CONFIRMED : W_REFUTED, "%s before: %s (%s, %s%s%s)",
				 f->verdict > 0 ? "confirmed" : "refuted", f->what, f->tool, when,
				 f->user ? " by " : "", f->user ? f->user : "");
		}
		for (size_t i = 0; in->outputs && i < in->outputs->n; i++) {
			const struct ev_output *o = &in->outputs->v[i];
			struct ev_verdict ev;
			struct rk_verdict *v;

			if (ev_judge(o, kind, h.v, h.n, checks, n_checks, &ev) == EV_NONE ||
			    (ev.verdict == EV_REFUTED && cd->score <= 0)) {
				ev_verdict_release(&ev);
				continue;
			}
			used[i] = 1;
			if (has_verdict(cd, ev.what)) {     /* established before: kept with who and when */
				ev_verdict_release(&ev);
				continue;
			}
			v = add_verdict(cd, ev.verdict, ev.what, ev_kind_name(o->kind));
			v->source = ev.line ? dd_xasprintf("%s line %d", o->origin, ev.line) : dd_xstrdup(o->origin);
			v->line_text = dd_xstrdup(ev.line_text);
			evidence(cd, ev.verdict > 0 ? W_CONFIRMED : W_REFUTED, "%s by %s (%s: \"%s\"): %s",
				 ev.verdict > 0 ? "confirmed" : "refuted", ev_kind_name(o->kind), v->source,
				 ev.line_text, ev.what);
			ev_verdict_release(&ev);
		}
	}
}

/* ---- filler causes ------------------------------------------------------------------- */

/* A cause with nothing to say but "a try failed": unknown, no pattern, no commit. */
static int is_filler(const struct rk_cause *c)
{
	return c->kind == RK_UNKNOWN && !c->n_commits && !c->stuck && c->score <= FILLER_SCORE;
}

/* Whether causes a and b share a task. */
static int same_task(const struct rk_cause *a, const struct rk_cause *b)
{
	for (size_t t = 0; t < a->task_ids.n; t++)
		if (dd_strv_contains(&b->task_ids, a->task_ids.v[t]))
			return 1;
	return 0;
}

/* Fillers join the cause of the same task (a real one, else the first
 * filler of that task); one that no longer fails, beside real causes, is
 * listed once under "also seen".  A filler that is the only word on a task
 * still failing stays ranked: that task fails, and nothing else says so. */
static void drop_fillers(struct rk_result *out)
{
	enum { KEEP = -1, ALSO_SEEN = -2 };
	long *fate = dd_xcalloc(out->n_causes + 1, sizeof(*fate));
	size_t kept = 0, real = 0;

	for (size_t i = 0; i < out->n_causes; i++)
		real += !is_filler(&out->causes[i]);
	for (size_t i = 0; i < out->n_causes; i++) {
		const struct rk_cause *c = &out->causes[i];

		fate[i] = KEEP;
		if (!is_filler(c))
			continue;
		for (size_t j = 0; j < out->n_causes && fate[i] == KEEP; j++)
			if (!is_filler(&out->causes[j]) && same_task(c, &out->causes[j]))
				fate[i] = (long)j;
		for (size_t j = 0; j < i && fate[i] == KEEP; j++)
			if (fate[j] == KEEP && is_filler(&out->causes[j]) && same_task(c, &out->causes[j]))
				fate[i] = (long)j;
		if (fate[i] == KEEP && !c->still_failing && real)
			fate[i] = ALSO_SEEN;
	}
	for (size_t i = 0; i < out->n_causes; i++) {
		struct rk_cause *c = &out->causes[i];

		if (fate[i] >= 0) {
			struct rk_cause *home = &out->causes[fate[i]];
			char *e = dd_xasprintf("also %zu failed tr%s of %s with nothing more to say (%s)", c->tries,
			                       c->tries == 1 ? "y" : "ies", c->task_ids.n ? c->task_ids.v[0] : "the task",
			                       c->failure);

			home->evidence = dd_xrealloc(home->evidence, (home->n_evidence + 1) * sizeof(*home->evidence));
			home->evidence[home->n_evidence++] = (struct rk_evidence){ e, 0 };
			home->tries += c->tries;
		} else if (fate[i] == ALSO_SEEN) {
			push_unique(&out->also_seen, dd_xasprintf("%s: %s (%zu failed %s, %zu %s; not failing now)",
			                                          c->task_ids.n ? c->task_ids.v[0] : "?", c->failure,
			                                          c->failed_runs, DD_PLURAL(c->failed_runs, "run", "runs"),
			                                          c->tries, DD_PLURAL(c->tries, "try", "tries")));
		}
	}
	for (size_t i = 0; i < out->n_causes; i++) {
		if (fate[i] != KEEP) {
			cause_release(&out->causes[i]);
			continue;
		}
		if (kept != i)
			out->causes[kept] = out->causes[i];
		kept++;
	}
	out->n_causes = kept;
	free(fate);
}

int rank_causes(const struct an_result *an, struct gitcorr_repo **repos, size_t n_repos,
                const struct rk_input *in, struct rk_result *out, struct dd_error *err)
{
	size_t n_groups = an->n_groups < MAX_GROUPS ? an->n_groups : MAX_GROUPS;
	size_t n_out = in && in->outputs ? in->outputs->n : 0;
	char *used = dd_xcalloc(n_out + 1, 1);

	memset(out, 0, sizeof(*out));
	for (size_t gi = 0; gi < n_groups; gi++) {
		const struct an_group *g = &an->groups[gi];
		struct cand cands[RK__COUNT];
		struct git_view *views = dd_xcalloc(n_repos + 1, sizeof(*views));
		size_t n_views = 0;
		struct window w = { 0, 0, NULL, NULL };
		int best = RK_UNKNOWN, second = -1, before;

		memset(cands, 0, sizeof(cands));
		/* A failure every retry recovered from is no change's: no commit is a suspect. */
		for (size_t r = 0; r < n_repos && g->n_runs_final > 0; r++) {
			if (open_view(&views[n_views], repos[r], an, g, &out->notes) < 0)
				continue;
			w.from_ms = views[n_views].from_ms;
			w.to_ms = views[n_views].to_ms;
			w.bundle_from = views[n_views].bundle_from;
			w.bundle_to = views[n_views].bundle_to;
			n_views++;
		}
		git_evidence(an, g, views, n_views, cands, &out->notes);
		history_evidence(an, g, cands);
		for (int k = 0; k < RK__COUNT; k++)
			if (cands[k].score > cands[best].score)
				best = k;
		before = best;
		if (best == RK_DEPENDENCY_CHANGE && !cands[best].n_commits && n_views) {
			struct cand *cd = &cands[best];

			cd->outside = outside_repository(g, views, n_views);
			if (cd->outside && cd->outside->file)
				evidence(cd, W_LOOSE_PIN, "%s", cd->outside->why);
			else if (cd->outside)
				evidence(cd, 0, "%s", cd->outside->why);
		}
		if (in && (in->outputs || in->n_facts)) {
			/* what the engineer established may change which kind leads */
			weigh_evidence(in, g, cands, used);
			/* the best kind still standing; when the evidence refuted every one, the leader stays */
			best = -1;
			for (int k = 0; k < RK__COUNT; k++)
				if (cands[k].score > 0 && (best < 0 || cands[k].score > cands[best].score))
					best = k;
			if (best < 0)
				best = before;
		}
		for (int k = 0; k < RK__COUNT; k++)
			if (k != best && cands[k].score >= ALT_CAUSE_RATIO * cands[best].score && cands[k].score > 0.3 &&
			    (second < 0 || cands[k].score > cands[second].score))
				second = k;
		make_cause(out, an, g, (enum rk_kind)best, &cands[best], &w);
		if (second >= 0)
			make_cause(out, an, g, (enum rk_kind)second, &cands[second], &w);
		if (before != best && before != second)       /* the refuted leader stays listed, fallen */
			make_cause(out, an, g, (enum rk_kind)before, &cands[before], &w);
		for (size_t v = 0; v < n_views; v++)
			gitcorr_commits_free(views[v].commits, views[v].n);
		free(views);
		for (int k = 0; k < RK__COUNT; k++)
			cand_release(&cands[k]);
	}
	for (size_t i = 0; i < an->n_stalls; i++)
		if (an->stalls[i].kind == AN_STALL_STUCK_QUEUED || an->stalls[i].kind == AN_STALL_STUCK_RUNNING)
			stuck_cause(out, an, &an->stalls[i]);
	drop_fillers(out);
	if (out->n_causes > 1)
		qsort(out->causes, out->n_causes, sizeof(*out->causes), cmp_cause);
	while (out->n_causes > MAX_CAUSES)
		cause_release(&out->causes[--out->n_causes]);
	for (size_t i = 0; i < out->n_causes; i++) {
		dd_strv_truncate(&out->causes[i].checks, RK_MAX_CHECKS);
		dd_strv_truncate(&out->causes[i].fix, RK_MAX_FIXES);
	}
	for (size_t i = 0; i < n_out; i++) {
		const struct ev_output *o = &in->outputs->v[i];

		if (o->kind != EV_UNKNOWN && !used[i])
			push_unique(&out->unused_evidence,
				    dd_xasprintf("%s line %d: the %s output confirms or refutes none of the causes%s",
						 o->origin, o->line, ev_kind_name(o->kind),
						 n_groups ? "" : " (nothing failed)"));
	}
	free(used);
	(void)err;
	return 0;
}

void rank_release(struct rk_result *r)
{
	for (size_t i = 0; i < r->n_causes; i++)
		cause_release(&r->causes[i]);
	free(r->causes);
	dd_strv_release(&r->notes);
	dd_strv_release(&r->also_seen);
	dd_strv_release(&r->unused_evidence);
	memset(r, 0, sizeof(*r));
}
