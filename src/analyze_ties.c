/*
 * analyze_ties.c - which distributions a failure is tied to, and what a new
 * interpreter would explain of it (analyze.h: an_failure_ties).
 *
 * A failure names its package less often than it passes through it:
 * "'str' object has no attribute '_execute_on_connection'" is raised in
 * site-packages/sqlalchemy, a pickle fails in sklearn's compiled tree code
 * under joblib's frames.  So every library frame of the decisive traceback
 * ties the failure to its distribution (import names mapped through the
 * knowledge base: sklearn -> scikit-learn), the nearest to the raise most,
 * and so does what the message names (an import's module, a dotted name of
 * a published package such as numpy.dtype) and the exception's own module.
 * The orchestrator's machinery and the standard library tie to nothing;
 * packages of the log's other tracebacks tie weakly.
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <strings.h>

#include "dagdoc/analyze.h"
#include "dagdoc/knowledge.h"
#include "dagdoc/reqparse.h"

#define W_NAMED 1.0           /* the message names it */
#define W_NEAREST 1.0         /* the library frame nearest the raise */
#define W_STEP 0.2            /* less for each further library out */
#define W_FLOOR 0.5           /* ... down to this */
#define W_PROVIDER 0.5        /* an Airflow provider's frame (the orchestrator's, but a distribution) */
#define W_OTHER_TB 0.4        /* a frame of another traceback of the log */
#define MAX_TIES 16
#define MSG_SCAN 4096         /* bytes of the message searched for names */

/* Import roots many distributions share: google.cloud.bigquery is in
 * google-cloud-bigquery, azure.storage.blob in azure-storage-blob. */
static const char *const namespace_roots[] = {
	"google", "azure", "opentelemetry", "backports", "jaraco", "zope", "sphinxcontrib",
};

static int is_namespace(const char *import)
{
	size_t n = strcspn(import, ".");

	for (size_t i = 0; i < DD_ARRAY_SIZE(namespace_roots); i++)
		if (strlen(namespace_roots[i]) == n && !strncmp(import, namespace_roots[i], n))
			return 1;
	return 0;
}

int an_tie_matches(const struct an_tie *t, const char *package)
{
	char *req = reqparse_normalize_name(package, strlen(package));
	char *imp = reqparse_normalize_name(t->import_name, strcspn(t->import_name, "."));
	size_t dl = strlen(t->dist);
	int hit;

	if (t->prefix)
		hit = !strncmp(req, t->dist, dl) && req[dl] == '-';
	else
		hit = !strcmp(req, t->dist) || (!strchr(t->import_name, '.') && !strcmp(req, imp));
	free(req);
	free(imp);
	return hit;
}

/* ---- building the list ------------------------------------------------------------ */

struct ties {
	const struct kb *kb;
	struct an_tie *v;
	size_t n;
};

/* The tie of an import name (created on first mention), NULL for the
 * standard library, names that are no package and the orchestrator (its
 * providers are distributions of their own; orchestrator names the
 * orchestrator itself as what the message names: No module named
 * 'airflow.operators.dummy' after an Airflow upgrade). */
static struct an_tie *tie_of_as(struct ties *t, const char *import, int orchestrator)
{
	char *dist = NULL, *top;
	struct dd_buf norm = DD_BUF_INIT;
	int known, prefix = 0;
	struct an_tie *x;

	if (!import || !*import || !isalpha((unsigned char)import[0]) || t->n >= MAX_TIES)
		return NULL;
	top = dd_xstrndup(import, strcspn(import, "."));
	if (!strcmp(top, "airflow") || !strcmp(top, "prefect") || !strcmp(top, "__main__") || !strcmp(top, "python") ||
	    !strcmp(top, "python3") || (t->kb && kb_stdlib(t->kb, top, NULL))) {
		/* the orchestrator's own machinery, or Python itself (an_interp's); Airflow's providers
		 * are distributions */
		int keep = dd_starts_with(import, "airflow.providers.") ||
		           (orchestrator && (!strcmp(top, "airflow") || !strcmp(top, "prefect")));

		free(top);
		if (!keep)
			return NULL;
	} else {
		free(top);
	}
	known = t->kb ? kb_distribution(t->kb, import, &dist) : 0;
	if (known != 1) {
		free(dist);
		dist = NULL;
		if (is_namespace(import) && strchr(import, '.')) {
			/* google.cloud -> any google-cloud-* */
			kb_normalize_name(import, &norm);
			prefix = 1;
		} else {
			kb_normalize_name(import, &norm);
			if (norm.data && strchr(import, '.')) {        /* "foo.bar" -> "foo" */
				dd_buf_reset(&norm);
				top = dd_xstrndup(import, strcspn(import, "."));
				kb_normalize_name(top, &norm);
				free(top);
			}
		}
		dist = dd_buf_detach(&norm);
	} else {
		kb_normalize_name(dist, &norm);
		free(dist);
		dist = dd_buf_detach(&norm);
	}
	if (!*dist) {
		free(dist);
		return NULL;
	}
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].dist, dist) && t->v[i].prefix == prefix) {
			free(dist);
			return &t->v[i];
		}
	t->v = dd_xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	x = &t->v[t->n++];
	memset(x, 0, sizeof(*x));
	x->dist = dist;
	x->prefix = prefix;
	x->import_name = dd_xstrdup(import);
	return x;
}

/* Ties the failure to the distribution of `import` by `how`; detail says
 * what shows it, and gets the distribution's name when the import's differs. */
static struct an_tie *tie_of(struct ties *t, const char *import)
{
	return tie_of_as(t, import, 0);
}

static void link_as(struct ties *t, const char *import, int how, double weight, char *detail, int orchestrator)
{
	struct an_tie *x = tie_of_as(t, import, orchestrator);
	char **slot;
	struct dd_buf norm = DD_BUF_INIT;

	if (!x) {
		free(detail);
		return;
	}
	{
		char *top = dd_xstrndup(import, strcspn(import, "."));

		kb_normalize_name(top, &norm);
		free(top);
	}
	if (strcmp(dd_buf_str(&norm), x->dist) && !x->prefix) {
		char *d = dd_xasprintf("%s (%s)", detail, x->dist);

		free(detail);
		detail = d;
	}
	dd_buf_release(&norm);
	x->links |= how;
	if (weight > x->weight)
		x->weight = weight;
	slot = how == AN_LINK_NAMED ? &x->named : &x->frame;
	if (!*slot)
		*slot = detail;
	else
		free(detail);
}

static void link(struct ties *t, const char *import, int how, double weight, char *detail)
{
	link_as(t, import, how, weight, detail, 0);
}

/* ---- what the message names ----------------------------------------------------------- */

static int ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* A dotted name "numpy.dtype" or "sqlalchemy.exc.X" at s (no dots at its
 * ends); its length, 0 when there is none. */
static size_t dotted_at(const char *s, const char *end)
{
	const char *p = s;
	int dots = 0;

	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	while (p < end && (ident_char(*p) || (*p == '.' && p + 1 < end && ident_char(p[1]) && p > s && p[-1] != '.'))) {
		dots += *p == '.';
		p++;
	}
	return dots ? (size_t)(p - s) : 0;
}

/* A dotted name that is a file, a host or a URL's part, not a module. */
static int not_a_module(const char *s, size_t n, const char *start, const char *end)
{
	static const char *const tails[] = {
		"py", "pyc", "pyx", "so", "csv", "tsv", "json", "jsonl", "parquet", "txt", "yaml", "yml", "log", "html",
		"sql", "gz", "zip", "pkl", "pickle", "joblib", "pt", "pth", "bin", "whl", "tar", "xlsx", "xls", "xml",
		"md", "cfg", "ini", "toml", "avro", "orc", "png", "jpg", "pdf",
		"com", "net", "org", "io", "example", "internal", "local", "cloud", "dev", "ai", "svc", "amazonaws",
	};
	const char *last = s + n;

	while (last > s && last[-1] != '.')
		last--;
	for (size_t i = 0; i < DD_ARRAY_SIZE(tails); i++)
		if (strlen(tails[i]) == (size_t)(s + n - last) && !strncasecmp(last, tails[i], (size_t)(s + n - last)))
			return 1;
	if (s > start && (s[-1] == '/' || s[-1] == '@' || s[-1] == '\\' || s[-1] == '-' || s[-1] == ':'))
		return 1;
	return s + n < end && (s[n] == '/' || s[n] == '@' || s[n] == '-' || (s[n] == ':' && s + n + 1 < end &&
	                                                                     isdigit((unsigned char)s[n + 1])));
}

/* 'x' / "x" right after one of the words that introduce a module in
 * Python's import messages: No module named 'x', cannot import name 'y'
 * from 'x', module 'x' has no attribute. */
static int quoted_module(const char *text, const char *q)
{
	static const char *const before[] = { "named ", "from ", "module ", "package " };

	for (size_t i = 0; i < DD_ARRAY_SIZE(before); i++) {
		size_t n = strlen(before[i]);

		if ((size_t)(q - text) >= n && !strncasecmp(q - n, before[i], n))
			return 1;
	}
	return 0;
}

static void named_in_message(struct ties *t, const char *msg)
{
	size_t len = strnlen(msg, MSG_SCAN);
	const char *end = msg + len;

	for (const char *p = msg; p < end; p++) {
		if ((*p == '\'' || *p == '"') && quoted_module(msg, p)) {
			const char *close = memchr(p + 1, *p, (size_t)(end - p - 1));
			size_t n = close ? (size_t)(close - p - 1) : 0;

			if (n && n < 200 && strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") == n) {
				char *mod = dd_xstrndup(p + 1, n);

				link_as(t, mod, AN_LINK_NAMED, W_NAMED, dd_xasprintf("the message names %s", mod), 1);
				free(mod);
				p = close;
			}
			continue;
		}
		if ((p == msg || !(ident_char(p[-1]) || p[-1] == '.'))) {
			size_t n = dotted_at(p, end);

			if (n && !not_a_module(p, n, msg, end)) {
				char *name = dd_xstrndup(p, n);
				char *top = dd_xstrndup(p, strcspn(name, "."));
				char *dist = NULL;

				/* only a published package's name: "df.append" or "self.conn" names none */
				if (t->kb && kb_distribution(t->kb, name, &dist) == 1)
					link(t, name, AN_LINK_NAMED, W_NAMED, dd_xasprintf("the message names %s (%s)", top, name));
				free(dist);
				free(top);
				free(name);
			}
			if (n)
				p += n - 1;
		}
	}
}

/* ---- the frames ------------------------------------------------------------------------ */

/* Where the traceback meets a package: "site-packages/sqlalchemy" when any
 * of its frames is under site-packages (a venv's too), else its compiled
 * frame ("compiled sklearn/tree/_tree.pyx"). */
static char *frame_place(const struct dd_failure *f, const struct dd_frame *fr)
{
	for (size_t i = f->n_frames; i-- > 0;) {
		const struct dd_frame *x = &f->frames[i];
		const char *sp;

		if (!x->package || strcmp(x->package, fr->package))
			continue;
		sp = strstr(x->file, "site-packages/");
		if (!sp)
			sp = strstr(x->file, "dist-packages/");
		if (sp) {
			const char *dir = strchr(sp, '/') + 1;

			return dd_xasprintf("%.*s%.*s", (int)(dir - sp), sp, (int)strcspn(dir, "/"), dir);
		}
	}
	return dd_xasprintf("compiled %s", fr->file);
}

static void frame_ties(struct ties *t, const struct dd_failure *f)
{
	double w = W_NEAREST;

	for (size_t i = f->n_frames; i-- > 0;) {
		const struct dd_frame *fr = &f->frames[i];
		char *place;
		int seen = 0;

		if (!fr->package)
			continue;
		if (fr->kind == DD_FRAME_ORCHESTRATOR) {
			if (dd_starts_with(fr->package, "airflow.providers."))
				link(t, fr->package, AN_LINK_FRAME, W_PROVIDER,
				     dd_xasprintf("the traceback passes through %s's frames", fr->package));
			continue;
		}
		if (fr->kind != DD_FRAME_LIBRARY)
			continue;
		for (size_t k = i + 1; k < f->n_frames; k++)
			if (f->frames[k].package && !strcmp(f->frames[k].package, fr->package))
				seen = 1;
		if (seen)
			continue;
		place = frame_place(f, fr);
		link(t, fr->package, AN_LINK_FRAME, w, dd_xasprintf("the traceback passes through %s", place));
		free(place);
		w = w - W_STEP < W_FLOOR ? W_FLOOR : w - W_STEP;
	}
	/* the exception's own module: sqlalchemy.exc.ObjectNotExecutableError */
	if (f->exc_type && strchr(f->exc_type, '.')) {
		char *mod = dd_xstrndup(f->exc_type, (size_t)(strrchr(f->exc_type, '.') - f->exc_type));

		link(t, mod, AN_LINK_FRAME, W_NEAREST, dd_xasprintf("the exception %s is %.*s's", f->exc_type,
		                                                    (int)strcspn(mod, "."), mod));
		free(mod);
	}
	for (size_t i = 0; i < f->packages.n; i++) {
		const char *pkg = f->packages.v[i];

		if (!strcmp(pkg, "airflow") || !strcmp(pkg, "prefect"))
			continue;
		link(t, pkg, AN_LINK_FRAME, W_OTHER_TB,
		     dd_xasprintf("a traceback of the log passes through site-packages/%s", pkg));
	}
}

/* ---- the interpreter ------------------------------------------------------------------ */

/* "3.12" of a frame under lib/python3.12/ (the innermost that says). */
static char *running_python(const struct dd_failure *f)
{
	for (size_t i = f->n_frames; i-- > 0;) {
		const char *p = f->frames[i].file ? strstr(f->frames[i].file, "/python3.") : NULL;

		if (p) {
			size_t n = strspn(p + 7, "0123456789.");

			while (n && p[7 + n - 1] == '.')
				n--;
			if (n >= 3)
				return dd_xstrndup(p + 7, n);
		}
	}
	return NULL;
}

static void interpreter(const struct kb *kb, const struct dd_failure *f, struct an_interp *in)
{
	static const char *const abi[] = {
		"undefined symbol", "binary incompatibility", "compiled against", "compiled using", "was compiled for",
		"built against", "incompatible with this python", "python version mismatch", "module compiled against api",
		"bad magic number", "wrong elf class", "_pyinterpreterstate", "pyinit_",
	};
	const char *msg = f->exc_message ? f->exc_message : "";
	const char *type = f->exc_type ? f->exc_type : "";

	memset(in, 0, sizeof(*in));
	in->running = running_python(f);
	if (kb) {
		/* a module the standard library no longer has: No module named 'distutils' */
		for (const char *p = msg; *p && !in->why && p - msg < MSG_SCAN; p++) {
			const struct kb_removed *rm = NULL;
			const char *close;
			char *mod;

			if ((*p != '\'' && *p != '"') || !quoted_module(msg, p) || !(close = strchr(p + 1, *p)))
				continue;
			mod = dd_xstrndup(p + 1, (size_t)(close - p - 1));
			if (kb_stdlib(kb, mod, &rm) && rm) {
				in->weight = 1.0;
				in->removed_in = dd_xstrdup(rm->in);
				in->why = dd_xasprintf("%s was removed from the standard library in Python %s", rm->module, rm->in);
			}
			free(mod);
			p = close;
		}
	}
	if (!in->why && strstr(type, "SyntaxError")) {
		in->weight = 0.5;
		in->why = dd_xasprintf("a %s: code written for another Python version", type);
	}
	for (size_t i = 0; !in->why && i < DD_ARRAY_SIZE(abi); i++)
		if (strcasestr(msg, abi[i])) {
			in->weight = 0.6;
			in->why = dd_xasprintf("a compiled extension does not fit the interpreter (\"%s\")", abi[i]);
		}
}

/* ---- the entry ------------------------------------------------------------------------ */

static int cmp_tie(const void *a, const void *b)
{
	const struct an_tie *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight < y->weight ? 1 : -1;
	/* a package the message names before one the frames show */
	return (y->links & AN_LINK_NAMED) - (x->links & AN_LINK_NAMED);
}

void an_failure_ties(const struct kb *kb, const struct dd_failure *f, struct an_tie **ties, size_t *n_ties,
                     struct an_interp *interp)
{
	struct ties t = { kb, NULL, 0 };
	const char *pkg = dd_failure_entity(f, "package");

	if (f->exc_message)
		named_in_message(&t, f->exc_message);
	frame_ties(&t, f);
	/* what the pattern that matched names ("package" of dep.pandas-removed-method),
	 * when neither the message nor a frame showed it */
	if (pkg && f->pattern && !dd_starts_with(f->pattern, "kb.")) {
		struct an_tie *x = tie_of(&t, pkg);

		if (x && !x->links) {
			x->links = AN_LINK_NAMED;
			x->weight = W_NAMED;
			x->named = dd_xasprintf("the log matches %s, which names %s", f->pattern, pkg);
		}
	}
	/* a name nothing linked (an orchestrator or stdlib one never gets here) */
	for (size_t i = 0; i < t.n; i++)
		if (!t.v[i].links)
			t.v[i].weight = 0;
	if (t.n > 1)
		qsort(t.v, t.n, sizeof(*t.v), cmp_tie);
	while (t.n && !t.v[t.n - 1].links) {
		t.n--;
		free(t.v[t.n].dist);
		free(t.v[t.n].import_name);
	}
	*ties = t.v;
	*n_ties = t.n;
	interpreter(kb, f, interp);
}

void an_ties_free(struct an_tie *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].dist);
		free(t[i].import_name);
		free(t[i].named);
		free(t[i].frame);
	}
	free(t);
}

void an_interp_release(struct an_interp *i)
{
	free(i->why);
	free(i->removed_in);
	free(i->running);
	memset(i, 0, sizeof(*i));
}
