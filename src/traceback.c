/*
 * traceback.c - streaming Python traceback parser and frame classification.
 * See logparse.h for what is recognised.
 */
#include "dagdoc/util.h"
#include "dagdoc/logparse.h"
#include "dagdoc/traceback.h"

#define TB_KEEP 16
#define TB_MAX_FRAMES 200
#define TB_MAX_MSG 8192
#define TB_MAX_MSG_LINES 50
#define TB_MAX_FIELD 4096
#define TB_MAX_SOURCE 512
#define TB_CACHE 128

static const char TB_HEADER[] = "Traceback (most recent call last):";
static const char CHAIN_CONTEXT[] = "During handling of the above exception, another exception occurred:";
static const char CHAIN_CAUSE[] = "The above exception was the direct cause of the following exception:";

enum { S_IDLE, S_FRAMES, S_MSG };

struct dd_tbparser {
	int state;
	struct dd_traceback cur;
	size_t cap_frames;
	struct dd_buf msg;
	size_t msg_lines;
	int pending_chain;
	int tb_level;          /* level of the lines that belong to the current traceback */
	int exc_json;          /* the exception line came from a JSON record */
	int last_was_frame;
	size_t last_frame_indent;
	size_t base_indent;    /* indentation of the traceback's header: a pasted
	                        * traceback may be indented as a whole */
	struct dd_traceback ring[TB_KEEP];
	size_t start, count;
	size_t started;        /* tracebacks begun, complete or not */
	size_t last_lineno;    /* the last line fed to the current traceback */
	struct dd_traceback partial;   /* the last one cut short before any exception line */
	int has_partial;
	struct cls_entry {
		char *file;
		char *package;
		int kind;
	} cache[TB_CACHE];     /* frame classification by file name (direct-mapped) */
};

/* ---- frame classification ------------------------------------------------ */

static int is_sep(char c)
{
	return c == '/' || c == '\\';
}

/* Finds "<sep>name<sep>" (either separator) in path; returns the index just
 * after the trailing separator of the last occurrence, or 0. */
static size_t find_dir(const char *path, size_t n, const char *name)
{
	size_t nl = strlen(name), found = 0;
	const char *p = path, *end = path + n;

	while (p < end) {
		const char *q = memmem(p, (size_t)(end - p), name, nl);
		size_t at;

		if (!q)
			break;
		at = (size_t)(q - path);
		if (at > 0 && is_sep(path[at - 1]) && at + nl < n && is_sep(path[at + nl]))
			found = at + nl + 1;
		p = q + 1;
	}
	return found;
}

static int has_dir_ci(const char *path, size_t n, const char *name)
{
	size_t nl = strlen(name), i, k;

	for (i = 0; i + nl + 2 <= n; i++) {
		if (!is_sep(path[i]) || !is_sep(path[i + nl + 1]))
			continue;
		for (k = 0; k < nl; k++) {
			char c = path[i + 1 + k];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			if (c != name[k])
				break;
		}
		if (k == nl)
			return 1;
	}
	return 0;
}

/* "/lib/python3.9/" or "/lib64/python3.11/" or "/lib/pypy3.9/" */
static int has_python_lib(const char *path, size_t n)
{
	size_t i;

	for (i = 0; i + 9 < n; i++) {
		const char *p = path + i;

		if (!is_sep(p[0]))
			continue;
		if (!strncmp(p + 1, "python", 6) && p[7] >= '2' && p[7] <= '3' && (p[8] == '.' || is_sep(p[8])))
			return 1;
		if (i + 10 < n && !strncmp(p + 1, "pypy", 4) && p[5] >= '2' && p[5] <= '3')
			return 1;
	}
	return 0;
}

static size_t comp_len(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && !is_sep(*q))
		q++;
	return (size_t)(q - p);
}

int traceback_classify_file(const char *file, char **package_out)
{
	size_t n, at;

	if (package_out)
		*package_out = NULL;
	if (!file || !*file)
		return DD_FRAME_OTHER;
	n = strlen(file);
	if (file[0] == '<')
		return !strncmp(file, "<frozen ", 8) ? DD_FRAME_STDLIB : DD_FRAME_OTHER;
	at = find_dir(file, n, "site-packages");
	if (!at)
		at = find_dir(file, n, "dist-packages");
	if (at) {
		const char *p = file + at, *end = file + n;
		size_t cl = comp_len(p, end), k;
		int kind;
		char *pkg;

		/* eggs: site-packages/foo-1.0-py3.9.egg/foo/... */
		if (cl > 4 && !memcmp(p + cl - 4, ".egg", 4) && p + cl < end) {
			p += cl + 1;
			cl = comp_len(p, end);
		}
		if (cl == 0)
			return DD_FRAME_LIBRARY;
		for (k = 0; k < cl && p[k] != '.'; k++)
			;
		if (k == 0)
			return DD_FRAME_LIBRARY;
		pkg = dd_xstrndup(p, k);
		kind = (!strcmp(pkg, "airflow") || !strcmp(pkg, "prefect")) ? DD_FRAME_ORCHESTRATOR
		                                                             : DD_FRAME_LIBRARY;
		if (kind == DD_FRAME_ORCHESTRATOR && k == cl && !strcmp(pkg, "airflow") && p + cl < end &&
		    !strncmp(p + cl + 1, "providers", 9) && p + cl + 10 < end && is_sep(p[cl + 10])) {
			/* a provider distribution: airflow/providers/<name>/... */
			const char *q = p + cl + 11;
			size_t ql = comp_len(q, end);

			if (ql && q + ql < end) {
				char *three = dd_xasprintf("airflow.providers.%.*s", (int)ql, q);

				free(pkg);
				pkg = three;
			}
		}
		if ((!strcmp(pkg, "google") || !strcmp(pkg, "azure")) && k == cl && p + cl < end) {
			const char *q = p + cl + 1;
			size_t ql = comp_len(q, end);

			if (ql && q + ql < end) {   /* a directory, not the module file itself */
				char *two = dd_xasprintf("%s.%.*s", pkg, (int)ql, q);

				free(pkg);
				pkg = two;
			}
		}
		if (package_out)
			*package_out = pkg;
		else
			free(pkg);
		return kind;
	}
	if (has_python_lib(file, n))
		return DD_FRAME_STDLIB;
	/* Windows: C:\Python39\Lib\json\decoder.py */
	if (n > 3 && file[1] == ':' && is_sep(file[2]) && has_dir_ci(file, n, "lib"))
		return DD_FRAME_STDLIB;
	{
		/* an Airflow / Prefect source checkout */
		const char *a = strstr(file, "/airflow/airflow/");

		if (a && strncmp(a + 17, "dags/", 5))
			return DD_FRAME_ORCHESTRATOR;
		if (strstr(file, "/airflow-core/src/airflow/") || strstr(file, "/task-sdk/src/airflow/") ||
		    strstr(file, "/providers/src/airflow/") || strstr(file, "/src/prefect/") ||
		    !strncmp(file, "airflow/", 8))
			return DD_FRAME_ORCHESTRATOR;
	}
	return DD_FRAME_APP;
}

/* ---- the parser ------------------------------------------------------------ */

struct dd_tbparser *tbparser_new(void)
{
	return dd_xcalloc(1, sizeof(struct dd_tbparser));
}

static void frame_release(struct dd_frame *f)
{
	free(f->file);
	free(f->func);
	free(f->package);
	free(f->source);
}

static void tb_release(struct dd_traceback *tb)
{
	size_t i;

	for (i = 0; i < tb->n_frames; i++)
		frame_release(&tb->frames[i]);
	free(tb->frames);
	free(tb->exc_type);
	free(tb->exc_message);
	memset(tb, 0, sizeof(*tb));
}

void tbparser_free(struct dd_tbparser *p)
{
	size_t i;

	if (!p)
		return;
	tb_release(&p->cur);
	tb_release(&p->partial);
	for (i = 0; i < p->count; i++)
		tb_release(&p->ring[(p->start + i) % TB_KEEP]);
	dd_buf_release(&p->msg);
	for (i = 0; i < TB_CACHE; i++) {
		free(p->cache[i].file);
		free(p->cache[i].package);
	}
	free(p);
}

static void discard(struct dd_tbparser *p)
{
	tb_release(&p->cur);
	p->cap_frames = 0;
	dd_buf_reset(&p->msg);
	p->state = S_IDLE;
	p->last_was_frame = 0;
}

static void complete(struct dd_tbparser *p)
{
	struct dd_traceback *slot;

	if (!p->cur.exc_type) {
		discard(p);
		return;
	}
	p->cur.exc_message = dd_xstrdup(dd_buf_str(&p->msg));
	if (p->count == TB_KEEP) {
		slot = &p->ring[p->start];
		tb_release(slot);
		p->start = (p->start + 1) % TB_KEEP;
	} else {
		slot = &p->ring[(p->start + p->count) % TB_KEEP];
		p->count++;
	}
	*slot = p->cur;
	memset(&p->cur, 0, sizeof(p->cur));
	p->cap_frames = 0;
	dd_buf_reset(&p->msg);
	p->state = S_IDLE;
	p->last_was_frame = 0;
}

/* "raise pkg.SomeError(...)" on the innermost frame's source line: the
 * type a traceback cut short was about to print. */
static char *raised_type(const struct dd_traceback *tb)
{
	const char *src = tb->n_frames ? tb->frames[tb->n_frames - 1].source : NULL;
	size_t i = 6, start, last;

	if (!src || strncmp(src, "raise ", 6))
		return NULL;
	start = last = i;
	while (src[i] && (dd_is_alnum((unsigned char)src[i]) || src[i] == '_' || src[i] == '.')) {
		if (src[i] == '.')
			last = i + 1;
		i++;
	}
	if (i == start || (src[i] && src[i] != '(' && src[i] != ' ') || !(src[last] >= 'A' && src[last] <= 'Z'))
		return NULL;
	return dd_xstrndup(src + start, i - start);
}

/* The traceback in progress stops before its exception line (the excerpt
 * ends, another log line interrupts it): kept when the frames say what it
 * was raising, else remembered as the partial one. */
static void interrupt(struct dd_tbparser *p)
{
	char *type;

	if (p->state != S_FRAMES || !p->cur.n_frames) {
		discard(p);
		return;
	}
	if ((type = raised_type(&p->cur))) {
		p->cur.exc_type = type;
		p->cur.exc_line = p->last_lineno;
		p->cur.truncated = 1;
		dd_buf_reset(&p->msg);
		complete(p);
		return;
	}
	tb_release(&p->partial);
	p->partial = p->cur;
	p->partial.truncated = 1;
	p->has_partial = 1;
	memset(&p->cur, 0, sizeof(p->cur));
	discard(p);
}

static void begin(struct dd_tbparser *p, size_t lineno, int level, size_t base_indent)
{
	interrupt(p);
	p->tb_level = level;
	p->base_indent = base_indent;
	p->cur.first_line = lineno;
	p->cur.chained = p->pending_chain;
	p->pending_chain = 0;
	p->state = S_FRAMES;
	p->started++;
}

static void classify_cached(struct dd_tbparser *tp, struct dd_frame *f)
{
	uint64_t h = dd_fnv1a(DD_FNV_INIT, f->file, strlen(f->file));
	struct cls_entry *e;

	e = &tp->cache[h % TB_CACHE];
	if (!e->file || strcmp(e->file, f->file)) {
		free(e->file);
		free(e->package);
		e->file = dd_xstrdup(f->file);
		e->kind = traceback_classify_file(f->file, &e->package);
	}
	f->kind = e->kind;
	f->package = dd_xstrdup(e->package);
}

/* A compiled (Cython) module's frame names no site-packages path, only the
 * source file it was built from, relative, and the qualified function:
 *   File "sklearn/tree/_tree.pyx", line 714, in sklearn.tree._tree.Tree.__setstate__
 *   File "interval.pyx", line 1, in init pandas._libs.interval
 * It is the library's code, not the pipeline's: its package is the top of
 * the function's dotted name (two levels for google and azure), else the
 * path's first directory. */
static void compiled_frame(struct dd_frame *f)
{
	static const char *const exts[] = { ".pyx", ".pxd", ".pxi" };
	const char *fn = f->func ? f->func : "", *dot;
	size_t n;
	int compiled = 0;

	if (f->kind != DD_FRAME_APP || f->file[0] == '/' || f->file[0] == '\\' ||
	    (f->file[0] && f->file[1] == ':'))
		return;
	for (size_t i = 0; i < DD_ARRAY_SIZE(exts); i++)
		compiled |= dd_ends_with(f->file, exts[i]);
	if (!compiled)
		return;
	f->kind = DD_FRAME_LIBRARY;
	if (dd_starts_with(fn, "init "))
		fn += 5;
	dot = strchr(fn, '.');
	n = strspn(fn, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (dot && n == (size_t)(dot - fn) && n > 0) {
		if ((n == 6 && !strncmp(fn, "google", 6)) || (n == 5 && !strncmp(fn, "azure", 5)))
			n += 1 + strspn(dot + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		free(f->package);
		f->package = dd_xstrndup(fn, n);
	} else if (strchr(f->file, '/')) {
		free(f->package);
		f->package = dd_xstrndup(f->file, strcspn(f->file, "/"));
	}
}

/* 'File "path", line N[, in func]' at s (indentation removed). */
static int parse_frame(struct dd_tbparser *tp, const char *s, size_t n, struct dd_frame *f)
{
	const char *q = s + 5, *end = s + n, *p;
	long line = 0;

	if (n < 15 || memcmp(s, "File \"", 6))
		return 0;
	for (;;) {
		q = memchr(q + 1, '"', (size_t)(end - q - 1));
		if (!q || end - q < 9)
			return 0;
		if (!memcmp(q, "\", line ", 8))
			break;
	}
	p = q + 8;
	if (p >= end || *p < '0' || *p > '9')
		return 0;
	while (p < end && *p >= '0' && *p <= '9') {
		if (line < 100000000)
			line = line * 10 + (*p - '0');
		p++;
	}
	if (f) {
		size_t fl = (size_t)(q - s - 6);

		memset(f, 0, sizeof(*f));
		f->file = dd_xstrndup(s + 6, fl > TB_MAX_FIELD ? TB_MAX_FIELD : fl);
		f->line = (int)line;
		if (end - p >= 5 && !memcmp(p, ", in ", 5)) {
			size_t fn = (size_t)(end - p - 5);

			f->func = dd_xstrndup(p + 5, fn > TB_MAX_FIELD ? TB_MAX_FIELD : fn);
		} else {
			f->func = dd_xstrdup("");
		}
		if (tp)
			classify_cached(tp, f);
		else
			f->kind = traceback_classify_file(f->file, &f->package);
		compiled_frame(f);
		f->in_app = f->kind == DD_FRAME_APP;
	}
	return 1;
}

static void add_frame(struct dd_tbparser *p, struct dd_frame *f)
{
	struct dd_traceback *tb = &p->cur;

	if (tb->n_frames == TB_MAX_FRAMES) {
		size_t mid = TB_MAX_FRAMES / 2;

		frame_release(&tb->frames[mid]);
		memmove(&tb->frames[mid], &tb->frames[mid + 1], (tb->n_frames - mid - 1) * sizeof(*tb->frames));
		tb->n_frames--;
	}
	DD_GROW(tb->frames, p->cap_frames, tb->n_frames + 1);
	tb->frames[tb->n_frames++] = *f;
}

/* The source line printed under the last frame. */
static void set_source(struct dd_tbparser *p, const char *t, size_t tn)
{
	struct dd_frame *f;

	if (!p->cur.n_frames || !tn || t[0] == '^' || t[0] == '~' || t[0] == '[')
		return;
	f = &p->cur.frames[p->cur.n_frames - 1];
	if (f->source)
		return;
	f->source = dd_xstrndup(t, tn > TB_MAX_SOURCE ? TB_MAX_SOURCE : tn);
}

/* "dotted.Name" or "dotted.Name: message"; *tl receives the type length. */
static int exc_line(const char *s, size_t n, size_t *tl)
{
	size_t i = 0;

	if (!n || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	while (i < n && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
	                 (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.'))
		i++;
	if (s[i - 1] == '.' || i > 256)
		return 0;
	if (i < n && !(s[i] == ':' && (i + 1 == n || s[i + 1] == ' ')))
		return 0;
	*tl = i;
	return 1;
}

static int ends_with_header(const char *s, size_t n)
{
	size_t hl = sizeof(TB_HEADER) - 1;

	return n >= hl && s[n - hl] == 'T' && !memcmp(s + n - hl, TB_HEADER, hl);
}

static int is_chain(const char *s, size_t n)
{
	if (n == sizeof(CHAIN_CONTEXT) - 1 && !memcmp(s, CHAIN_CONTEXT, n))
		return 1;
	if (n == sizeof(CHAIN_CAUSE) - 1 && !memcmp(s, CHAIN_CAUSE, n))
		return 1;
	return 0;
}

static void msg_append(struct dd_tbparser *p, const char *s, size_t n)
{
	if (p->msg.len >= TB_MAX_MSG)
		return;
	if (p->msg.len + n > TB_MAX_MSG)
		n = TB_MAX_MSG - p->msg.len;
	dd_buf_add(&p->msg, s, n);
}

static void idle_line(struct dd_tbparser *p, const struct dd_logline *L, const char *t, size_t tn, size_t indent)
{
	struct dd_frame f;

	if (!tn)
		return;
	if (t[0] == 'F' && parse_frame(p, t, tn, &f)) {
		begin(p, L->lineno, L->level, indent >= 2 ? indent - 2 : 0);
		add_frame(p, &f);
		p->last_was_frame = 1;
		p->last_frame_indent = indent;
		return;
	}
	p->pending_chain = 0;
}

void tbparser_line(struct dd_tbparser *p, const struct dd_logline *L)
{
	const char *s = L->msg ? L->msg : "", *t;
	size_t n = L->msg_len, indent = 0, tn, tl;
	struct dd_frame f;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	while (indent < n && (s[indent] == ' ' || s[indent] == '\t'))
		indent++;
	t = s + indent;
	tn = n - indent;
	if (tn && (t[0] == '|' || t[0] == '+')) {
		/* exception groups (3.11+): "  | " before the members' lines, "+-+---- 1 ----" between them */
		if (t[0] == '+' && tn > 1 && t[1] == '-') {
			tn = 0;
		} else if (t[0] == '|' && (tn == 1 || t[1] == ' ')) {
			s = t + (tn > 1 ? 2 : 1);
			n = tn - (tn > 1 ? 2 : 1);
			indent = 0;
			while (indent < n && (s[indent] == ' ' || s[indent] == '\t'))
				indent++;
			t = s + indent;
			tn = n - indent;
		}
	}

	if (ends_with_header(s, n)) {
		if (p->state == S_MSG)
			complete(p);
		/* a header that is the whole message of a prefixed line (subprocess
		 * output re-logged line by line): the traceback's lines carry the same
		 * prefix; otherwise they are unprefixed */
		begin(p, L->lineno, tn == sizeof(TB_HEADER) - 1 ? L->level : 0, indent);
		return;
	}
	if (tn && (t[0] == 'D' || t[0] == 'T') && is_chain(t, tn)) {
		if (p->state == S_MSG)
			complete(p);
		else
			interrupt(p);
		p->pending_chain = 1;
		return;
	}
	switch (p->state) {
	case S_IDLE:
		idle_line(p, L, t, tn, indent);
		return;
	case S_FRAMES:
		if (!tn)
			return;
		if (t[0] == 'F' && parse_frame(p, t, tn, &f)) {
			/* the traceback's lines share the level of its first frame
			 * ("ERROR - Traceback ..." followed by unprefixed lines) */
			if (!p->cur.n_frames)
				p->tb_level = L->level;
			p->last_lineno = L->lineno;
			add_frame(p, &f);
			p->last_was_frame = 1;
			p->last_frame_indent = indent;
			return;
		}
		if (L->level != p->tb_level && !(L->flags & DD_LINE_CONT)) {
			interrupt(p);
			idle_line(p, L, t, tn, indent);
			return;
		}
		p->last_lineno = L->lineno;
		if (indent > p->base_indent) {
			/* source line, ^^^^ markers, [Previous line repeated ...], SyntaxError caret */
			if (p->last_was_frame)
				set_source(p, t, tn);
			p->last_was_frame = 0;
			return;
		}
		if (exc_line(t, tn, &tl)) {
			p->cur.exc_type = dd_xstrndup(t, tl > TB_MAX_FIELD ? TB_MAX_FIELD : tl);
			p->cur.exc_line = L->lineno;
			p->exc_json = (L->flags & DD_LINE_JSON) != 0;
			dd_buf_reset(&p->msg);
			if (tl < tn) {
				size_t off = tl + 1;

				if (off < tn && t[off] == ' ')
					off++;
				msg_append(p, t + off, tn - off);
			}
			p->msg_lines = 0;
			p->state = S_MSG;
			return;
		}
		if (p->last_was_frame && p->last_frame_indent <= p->base_indent) {
			/* source line of a traceback pasted without indentation */
			set_source(p, t, tn);
			p->last_was_frame = 0;
			return;
		}
		interrupt(p);
		idle_line(p, L, t, tn, indent);
		return;
	case S_MSG:
		if (!tn || (L->level != p->tb_level && !(L->flags & DD_LINE_CONT)) ||
		    (p->tb_level && indent <= p->base_indent && !(L->flags & DD_LINE_CONT)) ||
		    (p->exc_json && !(L->flags & DD_LINE_CONT)) ||
		    (t[0] == 'F' && parse_frame(NULL, t, tn, NULL))) {
			complete(p);
			idle_line(p, L, t, tn, indent);
			return;
		}
		if (p->msg.len)
			msg_append(p, "\n", 1);
		msg_append(p, s, n);
		if (++p->msg_lines >= TB_MAX_MSG_LINES)
			complete(p);
		return;
	}
}

void tbparser_finish(struct dd_tbparser *p)
{
	if (p->state == S_MSG)
		complete(p);
	else
		interrupt(p);
	p->pending_chain = 0;
}

int tbparser_busy(const struct dd_tbparser *p)
{
	return p && p->state != S_IDLE;
}

size_t tbparser_started(const struct dd_tbparser *p)
{
	return p ? p->started : 0;
}

const struct dd_traceback *tbparser_partial(const struct dd_tbparser *p)
{
	const struct dd_traceback *last = tbparser_last(p);

	if (!p || !p->has_partial || (last && last->first_line > p->partial.first_line))
		return NULL;
	return &p->partial;
}

size_t tbparser_count(const struct dd_tbparser *p)
{
	return p ? p->count : 0;
}

const struct dd_traceback *tbparser_get(const struct dd_tbparser *p, size_t i)
{
	if (!p || i >= p->count)
		return NULL;
	return &p->ring[(p->start + i) % TB_KEEP];
}

const struct dd_traceback *tbparser_last(const struct dd_tbparser *p)
{
	return p && p->count ? tbparser_get(p, p->count - 1) : NULL;
}

const struct dd_frame *traceback_top_app_frame(const struct dd_traceback *tb)
{
	size_t i;

	if (!tb)
		return NULL;
	for (i = tb->n_frames; i-- > 0;)
		if (tb->frames[i].in_app)
			return &tb->frames[i];
	return NULL;
}
