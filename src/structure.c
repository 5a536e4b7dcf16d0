/*
 * structure.c - the structural layer (see structure.h): evidence from the
 * shape of a failure, weighed with the knowledge base.
 *
 * The text forms below (how clients print an HTTP status, how shells and
 * Airflow report exit codes and signals, Python's import messages) are
 * facts about other programs' output, matched once per failure.
 */
#include "dagdoc/util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <pcre2.h>
#include <pthread.h>

#include "dagdoc/knowledge.h"
#include "dagdoc/pattern.h"
#include "dagdoc/structure.h"
#include "dagdoc/traceback.h"

#define N_CAUSES 9               /* pat_categories */
#define MIN_SCORE 0.05           /* evidence below this names no cause */
#define MAX_CONFIDENCE 0.85      /* the tables never speak with a pattern's certainty */
#define TEXT_MAX 8192            /* bytes of message examined */

/* ---- text forms ---------------------------------------------------------- */

enum form {
	F_STATUS, F_HOST, F_CODE, F_SIGNAL_NUM, F_SIGNAL_NAME, F_SIGNAL_WORDS,
	F_MODULE_MISSING, F_NAME_FROM, F_CIRCULAR, F_ATTR_MODULE, F_EXC_NAMED, F_EXC_LINE, F_PATH,
};

static const struct {
	enum form kind;
	const char *rx;
} forms[] = {
	/* HTTP statuses as the common clients print them */
	{ F_STATUS, "\\b([1-5]\\d\\d) (?:Client|Server) Error\\b" },                   /* requests */
	{ F_STATUS, "(?:Client|Server) error '([1-5]\\d\\d)\\b" },                      /* httpx, Prefect */
	{ F_STATUS, "^([1-5]\\d\\d) (?:GET|POST|PUT|PATCH|DELETE|HEAD) " },             /* google.api_core */
	{ F_STATUS, "^\\(([1-5]\\d\\d)\\)" },                                            /* kubernetes ApiException */
	{ F_STATUS, "\\bHTTP(?:/[\\d.]+)?[ :]+(?:status )?([1-5]\\d\\d)\\b" },
	{ F_STATUS, "\\bstatus(?:[ _]?code)?[=:] ?([1-5]\\d\\d)\\b|\\bstatus ([1-5]\\d\\d)\\b" },
	{ F_STATUS, "\\b([1-5]\\d\\d),? (?:Unauthorized|Forbidden|Not Found|Too Many Requests|Bad Request|"
	            "Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out|Conflict|Gone|"
	            "Request Timeout|Payment Required|Unprocessable Entity)\\b" },
	{ F_STATUS, "\\b(?:response|error) code:? ([1-5]\\d\\d)\\b" },
	/* hosts */
	{ F_HOST, "\\b[a-z][a-z0-9+.-]*://(?:[^@/\\s]*@)?([A-Za-z0-9][\\w.-]*[A-Za-z0-9])" },
	{ F_HOST, "\\bhost='([\\w.-]+)'" },
	{ F_HOST, "\\b(?:server at|to host|resolve|Host) [\"']?([A-Za-z][\\w-]*(?:\\.[\\w-]+)*)[\"']?" },
	/* host:port, not file:line (nor the tail of one: "runner.py:70" is no host "py") */
	{ F_HOST, "(?<![\\w.-])([a-z][\\w-]*(?:\\.(?!(?:py|pyx|java|go|cc|cpp|c|h|js|ts|rb|scala|kt|sql|ya?ml|json|cfg|ini|"
	          "txt|log|sh)\\b)[\\w-]+)*:\\d{2,5})\\b(?![.\\w])" },
	/* a file it names */
	{ F_PATH, "(?:^|[\\s'\"(\\[])((?:/[\\w.@%+*-]+){2,}|[\\w.-]+\\.(?:csv|tsv|parquet|json|jsonl|ndjson|avro|orc|"
	          "sqlite|db|txt|xlsx?|gz|zip|pkl|pickle|yaml|yml|sql|pt|pth|ckpt|h5|onnx))(?=$|[\\s'\"):,\\]])" },
	/* exit codes and signals */
	{ F_CODE, "\\breturn(?:ed)? code (-?\\d+)\\b" },
	{ F_CODE, "\\bexit(?:ed)?(?: with)?(?: exit)? (?:code|status)[:= ]+(-?\\d+)\\b" },
	{ F_CODE, "\\bnon-zero exit (?:status|code):? (-?\\d+)\\b" },
	{ F_CODE, "\\bstatus code:? (-\\d+)\\b" },
	{ F_SIGNAL_NUM, "\\bsignal:? (\\d+)\\b" },
	{ F_SIGNAL_NAME, "\\b(SIG(?:KILL|TERM|SEGV|BUS|ABRT|ILL|FPE|HUP|INT|PIPE|QUIT|USR1|USR2|ALRM|XCPU|XFSZ))\\b" },
	{ F_SIGNAL_WORDS, "^(Killed)$|\\b(Segmentation fault)\\b|\\b(Bus error)\\b|\\b(Aborted) \\(core dumped\\)" },
	/* Python's import messages */
	{ F_MODULE_MISSING, "\\bNo module named '([\\w.]+)'" },
	{ F_NAME_FROM, "\\bcannot import name '(\\w+)' from '([\\w.]+)'(?: \\(([^)]*)\\))?" },
	{ F_CIRCULAR, "\\bpartially initialized module '([\\w.]+)'" },
	{ F_ATTR_MODULE, "\\bmodule '([\\w.]+)' has no attribute '(\\w+)'" },
	/* exception types named inside a message ("(psycopg2.errors.UniqueViolation) ...") */
	{ F_EXC_NAMED, "(?:^|[\\s(:'\"])((?:[a-z_]\\w*\\.)+[A-Z]\\w*(?:Error|Exception|Violation|Timeout|Failure|Exceeded))\\b" },
	/* "pkg.TypeError: message" on a line of its own */
	{ F_EXC_LINE, "^((?:[A-Za-z_]\\w*\\.)*[A-Z]\\w*(?:Error|Exception|Exit|Interrupt|Failure|Fault|Violation|Timeout))(?::\\s*(.*))?$" },
};

static pcre2_code *form_code[DD_ARRAY_SIZE(forms)];
static pthread_once_t forms_once = PTHREAD_ONCE_INIT;

static void compile_forms(void)
{
	for (size_t i = 0; i < DD_ARRAY_SIZE(forms); i++) {
		int ec;
		PCRE2_SIZE eo;

		form_code[i] = pcre2_compile((PCRE2_SPTR)forms[i].rx, PCRE2_ZERO_TERMINATED, PCRE2_MULTILINE, &ec, &eo, NULL);
		if (form_code[i])
			pcre2_jit_compile(form_code[i], PCRE2_JIT_COMPLETE);
	}
}

/* A match of form i in text from `start`: groups copied into g[0..3]
 * (NULL when unset; caller frees); the match end in *end.  0 when none. */
static int form_match(size_t i, const char *text, size_t len, size_t start, char *g[4], size_t *end)
{
	pcre2_match_data *md;
	PCRE2_SIZE *ov;
	int rc;

	for (int k = 0; k < 4; k++)
		g[k] = NULL;
	if (!form_code[i])
		return 0;
	md = pcre2_match_data_create_from_pattern(form_code[i], NULL);
	rc = pcre2_match(form_code[i], (PCRE2_SPTR)text, len, start, 0, md, NULL);
	if (rc < 0) {
		pcre2_match_data_free(md);
		return 0;
	}
	ov = pcre2_get_ovector_pointer(md);
	for (int k = 1; k < rc && k <= 4; k++)
		if (ov[2 * k] != PCRE2_UNSET)
			g[k - 1] = dd_xstrndup(text + ov[2 * k], ov[2 * k + 1] - ov[2 * k]);
	if (end)
		*end = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	pcre2_match_data_free(md);
	return 1;
}

static void free_groups(char *g[4])
{
	for (int k = 0; k < 4; k++) {
		free(g[k]);
		g[k] = NULL;
	}
}

/* The first match of any form of `kind`: group 1 (or the first set group) copied. */
static char *first_of(enum form kind, const char *text, size_t len, char **second)
{
	char *g[4];

	if (second)
		*second = NULL;
	for (size_t i = 0; i < DD_ARRAY_SIZE(forms); i++) {
		if (forms[i].kind != kind || !form_match(i, text, len, 0, g, NULL))
			continue;
		for (int k = 0; k < 4; k++)
			if (g[k]) {
				char *v = g[k];

				g[k] = NULL;
				if (second && k + 1 < 4) {
					*second = g[k + 1];
					g[k + 1] = NULL;
				}
				free_groups(g);
				return v;
			}
		free_groups(g);
	}
	return NULL;
}

/* ---- evidence -------------------------------------------------------------- */

struct acc {
	const struct kb *kb;
	const struct st_input *in;
	double score[N_CAUSES];
	double best_w[N_CAUSES];
	char *best_title[N_CAUSES];
	const char *best_rule[N_CAUSES];
	struct st_result *out;
	int import_explained;     /* an import message said what did not import */
	int substantive;          /* evidence beyond the stage */
	int internal_only;        /* the stack is the orchestrator's machinery, no pipeline code */
	int parse_internal;       /* ... while it loaded the DAG file */
};

static int cause_index(const char *cat)
{
	for (int i = 0; cat && pat_categories[i] && i < N_CAUSES; i++)
		if (!strcmp(pat_categories[i], cat))
			return i;
	return -1;
}

/* Evidence w for cause `cat`; title (taken) says what was seen. */
static void add(struct acc *a, const char *cat, double w, const char *rule, char *title)
{
	int i = cause_index(cat);

	if (i < 0 || w <= 0) {
		free(title);
		return;
	}
	a->score[i] += w;
	if (strcmp(rule, "kb.stage"))
		a->substantive = 1;
	dd_strv_push_owned(&a->out->reasons, dd_xasprintf("%+.2f %-18s %s: %s", w, cat, rule, title));
	if (w > a->best_w[i]) {
		free(a->best_title[i]);
		a->best_title[i] = title;
		a->best_w[i] = w;
		a->best_rule[i] = rule;
	} else {
		free(title);
	}
}

static void entity(struct st_result *r, const char *name, const char *value)
{
	if (!value || !*value || st_entity(r, name) || r->n_entities == ST_MAX_ENTITIES)
		return;
	r->entities[r->n_entities].name = dd_xstrdup(name);
	r->entities[r->n_entities].value = dd_xstrdup(value);
	r->n_entities++;
}

const char *st_entity(const struct st_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_entities; i++)
		if (!strcmp(r->entities[i].name, name))
			return r->entities[i].value;
	return NULL;
}

static void from_entry(struct acc *a, const struct kb_entry *e, double scale, const char *rule, const char *what)
{
	if (!e || !strcmp(e->category, "unknown"))
		return;
	add(a, e->category, e->confidence * scale, rule,
	    dd_xasprintf("%s: %s", what, e->says ? e->says : e->category));
	if (e->also)
		add(a, e->also, e->also_confidence * scale, rule,
		    dd_xasprintf("%s: %s", what, e->says ? e->says : e->also));
}

static const char *last_component(const char *type)
{
	const char *d = strrchr(type, '.');

	return d ? d + 1 : type;
}

static void type_evidence(struct acc *a, const char *type)
{
	const struct kb_entry *e = kb_exception(a->kb, type);
	const char *name = last_component(type);

	if (e) {
		if (a->internal_only && (!strcmp(e->category, "code_bug") || !strcmp(e->category, "unknown"))) {
			/* a programming error inside the orchestrator is the orchestrator's fault */
			add(a, "orchestrator", e->confidence, "kb.exception",
			    dd_xasprintf("%s: %s, in the orchestrator's own code", type, e->says ? e->says : "an error"));
			return;
		}
		from_entry(a, e, 1.0, "kb.exception", type);
		return;
	}
	for (size_t i = 0; i < kb_cue_count(a->kb); i++) {
		const struct kb_cue *c = kb_cue_get(a->kb, i);

		if (c->on_type && kb_cue_matches(a->kb, i, name, strlen(name)))
			add(a, c->category, c->weight, "kb.type-name", dd_xasprintf("%s: %s", type, c->says));
	}
}

/* ---- where it was raised ---------------------------------------------------- */

static const struct dd_frame *innermost(const struct st_input *in, int kind)
{
	for (size_t i = in->n_frames; i-- > 0;)
		if (kind < 0 || in->frames[i].kind == kind)
			return &in->frames[i];
	return NULL;
}

/* The innermost frame that is not the standard library or "<string>". */
static const struct dd_frame *raiser(const struct st_input *in)
{
	for (size_t i = in->n_frames; i-- > 0;)
		if (in->frames[i].kind != DD_FRAME_STDLIB && in->frames[i].kind != DD_FRAME_OTHER)
			return &in->frames[i];
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void location_evidence(struct acc *a, const char *type, const struct kb_entry *e)
{
	const struct st_input *in = a->in;
	const struct dd_frame *r = raiser(in), *app = innermost(in, DD_FRAME_APP);
	int generic = !e || !strcmp(e->category, "code_bug") || !strcmp(e->category, "unknown");

	if (!r)
		return;
	if (!type)
		type = "the exception";
	if (r->kind == DD_FRAME_APP && generic && r->source && !strncmp(r->source, "raise ", 6) &&
	    strncmp(r->source, "raise\n", 6)) {
		/* the pipeline's own check said no: what it checked is in the message */
		add(a, "data_quality", 0.15, "kb.raised-in",
		    dd_xasprintf("%s raised on purpose by a check in the pipeline's code (%s:%d)", type, base_name(r->file),
		                 r->line));
		add(a, "code_bug", 0.1, "kb.raised-in",
		    dd_xasprintf("%s raised in the pipeline's own code (%s:%d)", type, base_name(r->file), r->line));
	} else if (r->kind == DD_FRAME_APP && generic) {
		add(a, "code_bug", 0.2, "kb.raised-in",
		    dd_xasprintf("%s raised in the pipeline's own code (%s:%d)", type, base_name(r->file), r->line));
	} else if (r->kind == DD_FRAME_LIBRARY && app && generic) {
		add(a, "code_bug", 0.08, "kb.raised-in",
		    dd_xasprintf("%s raised in %s, called from the pipeline's code (%s:%d)", type,
		                 r->package ? r->package : "a library", base_name(app->file), app->line));
		add(a, "dependency_upgrade", 0.06, "kb.raised-in",
		    dd_xasprintf("%s raised inside %s", type, r->package ? r->package : "a library"));
	} else if (!app && a->internal_only && (!e || strcmp(e->category, "config_credentials"))) {
		add(a, "orchestrator", 0.4, "kb.raised-in",
		    dd_xasprintf("%s raised in the orchestrator's own machinery, with no pipeline code on the stack", type));
	} else if (!app && a->parse_internal && generic) {
		add(a, "code_bug", 0.3, "kb.raised-in",
		    dd_xasprintf("%s raised while the orchestrator stored the DAG: a value the DAG file set does not fit",
		                 type));
	}
	if (in->stage && !strcmp(in->stage, "schedule") && kb_frame_role(a->kb, r->file) == KB_FRAME_INFRA_CLIENT)
		add(a, "config_credentials", 0.3, "kb.raised-in",
		    dd_xasprintf("the platform's API (%s) refused to start the run: permissions, quota or the job's spec",
		                 r->package ? r->package : base_name(r->file)));
	if (r->kind == DD_FRAME_LIBRARY && r->package) {
		char *dist = NULL;

		if (kb_distribution(a->kb, r->package, &dist) == 1)
			entity(a->out, "package", dist);
		else
			entity(a->out, "package", r->package);
		free(dist);
	}
}

/* ---- imports ----------------------------------------------------------------- */

static int path_is_library(const char *p)
{
	return strstr(p, "site-packages") || strstr(p, "dist-packages");
}

/* Is `top` one of the pipeline's own modules: named in the repository, or a
 * directory or file of the pipeline's code on the stack or in the message? */
static int own_module(const struct acc *a, const char *top, const char *where)
{
	const struct st_input *in = a->in;
	char *dir = dd_xasprintf("/%s/", top), *file = dd_xasprintf("/%s.py", top);
	int own = in->own_modules && dd_strv_contains(in->own_modules, top);

	for (size_t i = 0; !own && i < in->n_frames; i++)
		if (in->frames[i].kind == DD_FRAME_APP && in->frames[i].file &&
		    (strstr(in->frames[i].file, dir) || strstr(in->frames[i].file, file)))
			own = 1;
	if (!own && where && !path_is_library(where) && (strstr(where, dir) || strstr(where, file)))
		own = 1;
	free(dir);
	free(file);
	return own;
}

/* A module name with capitals that no table knows: PyPI import names are
 * lower case but for a few the distribution table lists (PIL, Crypto). */
static int has_upper(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return 1;
	return 0;
}

static void import_evidence(struct acc *a, const char *module, const char *name, const char *where)
{
	const struct kb_removed *rm = NULL;
	char *top = dd_xstrndup(module, strcspn(module, "."));
	char *dist = NULL, *full = name ? dd_xasprintf("%s.%s", module, name) : NULL;
	const char *what = name ? "cannot import" : "no module";
	const struct dd_frame *r = raiser(a->in);
	int pub;

	entity(a->out, "module", module);
	if ((full && kb_stdlib(a->kb, full, &rm) && rm) || (kb_stdlib(a->kb, module, &rm) && rm)) {
		add(a, "dependency_upgrade", 0.8, "kb.import",
		    dd_xasprintf("%s was removed from the standard library in Python %s%s%s", rm->module, rm->in,
		                 rm->use ? "; use " : "", rm->use ? rm->use : ""));
		entity(a->out, "package", "python");
		goto out;
	}
	if (kb_stdlib(a->kb, module, NULL)) {
		/* a standard module that lacks a name: shadowed by a file of the pipeline's, or a newer Python */
		add(a, "code_bug", 0.35, "kb.import",
		    dd_xasprintf("%s '%s' from the standard library's %s: a file of the pipeline may shadow it",
		                 what, name ? name : module, module));
		add(a, "dependency_upgrade", 0.2, "kb.import",
		    dd_xasprintf("the standard library's %s differs in this Python version", module));
		goto out;
	}
	a->import_explained = 1;
	pub = kb_distribution(a->kb, module, &dist);
	if (own_module(a, top, where) || (pub != 1 && has_upper(top))) {
		add(a, "code_bug", 0.6, "kb.import",
		    dd_xasprintf("%s %s%s%s: %s is the pipeline's own module (not on the path, misspelled or "
		                 "missing the name)", what, name ? name : "", name ? " from " : "", module, top));
		goto out;
	}
	if (pub == 1) {
		entity(a->out, "package", dist);
		if (name)
			add(a, "dependency_upgrade", 0.7, "kb.import",
			    dd_xasprintf("cannot import %s from %s: the installed %s does not have it (moved or removed "
			                 "in another version)", name, module, dist));
		else if (strchr(module, '.'))
			add(a, "dependency_upgrade", 0.7, "kb.import",
			    dd_xasprintf("no module %s: the installed %s does not have it (moved or removed in "
			                 "another version)", module, dist));
		else
			add(a, "dependency_upgrade", 0.7, "kb.import",
			    dd_xasprintf("no module %s: %s is not installed where the task runs", module, dist));
		goto out;
	}
	if (pub == -1) {
		add(a, "code_bug", 0.45, "kb.import",
		    dd_xasprintf("%s %s: '%s' is a name pipelines give their own modules (not on the path or "
		                 "misspelled)", what, module, top));
		goto out;
	}
	if (r && r->kind == DD_FRAME_LIBRARY) {
		add(a, "dependency_upgrade", 0.5, "kb.import",
		    dd_xasprintf("%s %s: %s imports it and it is not installed", what, module,
		                 r->package ? r->package : "a library"));
	} else {
		add(a, "code_bug", 0.35, "kb.import",
		    dd_xasprintf("%s %s: neither a known package nor a module of the pipeline's", what, module));
		add(a, "dependency_upgrade", 0.3, "kb.import",
		    dd_xasprintf("%s %s: perhaps a package missing from the environment", what, module));
	}
out:
	free(top);
	free(dist);
	free(full);
}

/* ---- exit codes and signals ------------------------------------------------- */

static int signal_number(const char *name)
{
	static const struct {
		const char *name;
		int num;
	} sig[] = {
		{ "SIGHUP", 1 }, { "SIGINT", 2 }, { "SIGQUIT", 3 }, { "SIGILL", 4 }, { "SIGABRT", 6 }, { "SIGBUS", 7 },
		{ "SIGFPE", 8 }, { "SIGKILL", 9 }, { "SIGUSR1", 10 }, { "SIGSEGV", 11 }, { "SIGUSR2", 12 },
		{ "SIGPIPE", 13 }, { "SIGALRM", 14 }, { "SIGTERM", 15 }, { "SIGXCPU", 24 }, { "SIGXFSZ", 25 },
		{ "Killed", 9 }, { "Segmentation fault", 11 }, { "Bus error", 7 }, { "Aborted", 6 },
	};

	for (size_t i = 0; i < DD_ARRAY_SIZE(sig); i++)
		if (!strcmp(sig[i].name, name))
			return sig[i].num;
	return 0;
}

static void signal_evidence(struct acc *a, int num, const char *how)
{
	const struct kb_entry *e = kb_signal(a->kb, num);
	char n[16];

	snprintf(n, sizeof(n), "%d", num);
	entity(a->out, "signal", e ? e->key : n);
	if (e) {
		char *what = dd_xasprintf("%s (%s)", how, e->key);

		from_entry(a, e, 1.0, "kb.signal", what);
		free(what);
	}
}

/* The tool whose exit code the text reports, when it names one. */
static const char *tool_named(const char *text, size_t len)
{
	static const char *const tools[][2] = {
		{ "dbt", "dbt " }, { "spark", "spark" }, { "spark", "Spark" }, { "yarn", "YARN" }, { "yarn", "yarn" },
	};

	for (size_t i = 0; i < DD_ARRAY_SIZE(tools); i++)
		if (memmem(text, len, tools[i][1], strlen(tools[i][1])))
			return tools[i][0];
	return NULL;
}

static void exit_evidence(struct acc *a, const char *text, size_t len)
{
	char *v = first_of(F_CODE, text, len, NULL);

	if (v) {
		int code = atoi(v);

		entity(a->out, "code", v);
		if (code < 0 && code >= -64) {
			char *how = dd_xasprintf("exit code %d", code);

			signal_evidence(a, -code, how);
			free(how);
		} else if (code > 128 && code <= 128 + 64) {
			char *how = dd_xasprintf("exit code %d = 128 + %d", code, code - 128);

			signal_evidence(a, code - 128, how);
			free(how);
		} else if (code) {
			const char *tool = tool_named(text, len);
			const struct kb_entry *e = tool ? kb_tool_exit_code(a->kb, tool, code) : NULL;
			char *what = tool && e ? dd_xasprintf("%s exit code %d", tool, code) : dd_xasprintf("exit code %d", code);

			from_entry(a, e ? e : kb_exit_code(a->kb, code), 1.0, "kb.exit-code", what);
			free(what);
		}
		free(v);
		return;
	}
	if ((v = first_of(F_SIGNAL_NAME, text, len, NULL)) || (v = first_of(F_SIGNAL_WORDS, text, len, NULL))) {
		int num = signal_number(v);

		if (num)
			signal_evidence(a, num, v);
		free(v);
		return;
	}
	if ((v = first_of(F_SIGNAL_NUM, text, len, NULL))) {
		int num = atoi(v);

		if (num > 0 && num <= 64) {
			char *how = dd_xasprintf("signal %d", num);

			signal_evidence(a, num, how);
			free(how);
		}
		free(v);
	}
}

/* ---- the whole ------------------------------------------------------------------ */

static void cue_evidence(struct acc *a, const char *text, size_t len)
{
	for (size_t i = 0; i < kb_cue_count(a->kb); i++) {
		const struct kb_cue *c = kb_cue_get(a->kb, i);

		if (!c->on_type && kb_cue_matches(a->kb, i, text, len))
			add(a, c->category, c->weight, "kb.cue", dd_xstrdup(c->says));
	}
}

static void status_evidence(struct acc *a, const char *text, size_t len)
{
	char *v = first_of(F_STATUS, text, len, NULL);
	const char *host = st_entity(a->out, "host");
	const struct kb_entry *e;

	if (!v)
		return;
	entity(a->out, "status", v);
	e = kb_http_status(a->kb, atoi(v));
	if (e) {
		char *what = host ? dd_xasprintf("HTTP %s from %s", v, host) : dd_xasprintf("HTTP %s", v);

		from_entry(a, e, 1.0, "kb.http-status", what);
		free(what);
	}
	free(v);
}

static int cmp_desc(const void *x, const void *y)
{
	double a = **(const double *const *)x, b = **(const double *const *)y;

	return a < b ? 1 : a > b ? -1 : 0;
}

static void answer(struct acc *a)
{
	const double *order[N_CAUSES];
	double total = 0;

	for (int i = 0; i < N_CAUSES; i++) {
		order[i] = &a->score[i];
		if (a->score[i] > 0)
			total += a->score[i];
	}
	qsort(order, N_CAUSES, sizeof(*order), cmp_desc);
	for (int k = 0; k < N_CAUSES && a->out->n_answers < ST_MAX_ANSWERS; k++) {
		int i = (int)(order[k] - a->score);
		double s = a->score[i], conf;
		struct st_answer *ans;

		if (s < MIN_SCORE)
			break;
		conf = (1 - exp(-1.6 * s)) * s / (total + 0.15);
		if (conf > MAX_CONFIDENCE)
			conf = MAX_CONFIDENCE;
		ans = &a->out->answers[a->out->n_answers++];
		ans->category = pat_categories[i];
		ans->score = s;
		ans->confidence = conf;
		ans->title = a->best_title[i];
		a->best_title[i] = NULL;
		ans->rule = dd_xstrdup(a->best_rule[i]);
	}
}

int structure_explain(const struct kb *kb, const struct st_input *in, struct st_result *out)
{
	struct acc a;
	struct dd_buf text = DD_BUF_INIT;
	char *type = NULL, *msg = NULL, *g2 = NULL, *v;
	const struct kb_entry *e = NULL;
	size_t pos = 0, end, named = 0;

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	a.kb = kb;
	a.in = in;
	a.out = out;
	if (!kb)
		return 0;
	pthread_once(&forms_once, compile_forms);
	{
		int internal = 0, task_code = 0, app = 0;

		for (size_t i = 0; i < in->n_frames; i++) {
			int role = kb_frame_role(kb, in->frames[i].file);

			internal |= role == KB_FRAME_INTERNAL;
			task_code |= role == KB_FRAME_TASK_CODE;
			app |= in->frames[i].kind == DD_FRAME_APP;
		}
		/* the machinery failed on its own: not while loading the DAG file
		 * (its input is the pipeline's), not when a platform's API refused */
		a.internal_only = internal && !task_code && !app && !(in->stage && !strcmp(in->stage, "parse")) &&
		                  !(raiser(in) && kb_frame_role(kb, raiser(in)->file) == KB_FRAME_INFRA_CLIENT);
		a.parse_internal = internal && !task_code && !app && in->stage && !strcmp(in->stage, "parse");
	}
	type = in->exc_type ? dd_xstrdup(in->exc_type) : NULL;
	msg = in->exc_message ? dd_xstrdup(in->exc_message) : NULL;
	if (!type && in->text) {
		/* "pkg.SomeError: message" as the error line itself */
		char *g[4];
		size_t tl = strlen(in->text);

		for (size_t i = 0; i < DD_ARRAY_SIZE(forms); i++)
			if (forms[i].kind == F_EXC_LINE && form_match(i, in->text, tl, 0, g, NULL)) {
				type = g[0];
				msg = g[1];
				g[0] = g[1] = NULL;
				free_groups(g);
				break;
			}
	}
	if (msg)
		dd_buf_adds(&text, msg);
	if (in->text) {
		if (text.len)
			dd_buf_addch(&text, '\n');
		dd_buf_adds(&text, in->text);
	}
	if (text.len > TEXT_MAX)
		text.len = TEXT_MAX, text.data[TEXT_MAX] = 0;
	if (!text.data)
		dd_buf_adds(&text, "");

	/* what it is (the type's prior comes after the import evidence, which
	 * knows more about an ImportError than its type does) */
	if (type) {
		entity(out, "exception", type);
		e = kb_exception(kb, type);
	}
	while (named < 3 && (pos < text.len)) {
		char *g[4];
		size_t i;

		for (i = 0; i < DD_ARRAY_SIZE(forms); i++)
			if (forms[i].kind == F_EXC_NAMED)
				break;
		if (!form_match(i, text.data, text.len, pos, g, &end))
			break;
		pos = end;
		if (!type || strcmp(g[0], type)) {
			const struct kb_entry *ne = kb_exception(kb, g[0]);

			if (ne && !ne->wrapper) {
				from_entry(&a, ne, 0.9, "kb.exception", g[0]);
				named++;
			}
		}
		free_groups(g);
	}
	/* what it names */
	if ((v = first_of(F_HOST, text.data, text.len, NULL))) {
		entity(out, "host", v);
		free(v);
	}
	if ((v = first_of(F_PATH, text.data, text.len, NULL))) {
		entity(out, "path", v);
		free(v);
	}
	if (in->context) {
		size_t cl = strlen(in->context);

		if (!st_entity(out, "host") && (v = first_of(F_HOST, in->context, cl > TEXT_MAX ? TEXT_MAX : cl, NULL))) {
			entity(out, "host", v);
			free(v);
		}
		if (!st_entity(out, "path") && (v = first_of(F_PATH, in->context, cl > TEXT_MAX ? TEXT_MAX : cl, NULL))) {
			entity(out, "path", v);
			free(v);
		}
	}
	status_evidence(&a, text.data, text.len);
	exit_evidence(&a, text.data, text.len);
	if ((v = first_of(F_MODULE_MISSING, text.data, text.len, NULL))) {
		import_evidence(&a, v, NULL, NULL);
		free(v);
	} else if ((v = first_of(F_NAME_FROM, text.data, text.len, &g2))) {
		char *where = NULL, *mod = g2;
		char *g[4];

		/* the path after the module, when Python printed one */
		for (size_t i = 0; i < DD_ARRAY_SIZE(forms); i++)
			if (forms[i].kind == F_NAME_FROM && form_match(i, text.data, text.len, 0, g, NULL)) {
				where = g[2];
				g[2] = NULL;
				free_groups(g);
				break;
			}
		import_evidence(&a, mod, v, where);
		free(where);
		free(v);
		free(mod);
		g2 = NULL;
	} else if ((v = first_of(F_CIRCULAR, text.data, text.len, NULL))) {
		entity(out, "module", v);
		add(&a, "code_bug", 0.6, "kb.import",
		    dd_xasprintf("circular import of %s (a file named like a module it imports, or two modules "
		                 "importing each other)", v));
		free(v);
	} else if ((v = first_of(F_ATTR_MODULE, text.data, text.len, &g2))) {
		char *dist = NULL;

		if (kb_distribution(kb, v, &dist) == 1) {
			entity(out, "package", dist);
			add(&a, "dependency_upgrade", 0.45, "kb.attribute",
			    dd_xasprintf("module %s has no attribute %s: the installed %s removed or moved it", v,
			                 g2 ? g2 : "?", dist));
		} else if (kb_stdlib(kb, v, NULL)) {
			add(&a, "dependency_upgrade", 0.3, "kb.attribute",
			    dd_xasprintf("module %s has no attribute %s in this Python version", v, g2 ? g2 : "?"));
		}
		free(dist);
		free(v);
		free(g2);
		g2 = NULL;
	}
	if (type && !(e && e->wrapper)) {
		const char *last = last_component(type);

		if (!(a.import_explained && (!strcmp(last, "ImportError") || !strcmp(last, "ModuleNotFoundError"))))
			type_evidence(&a, type);
	}
	/* where */
	location_evidence(&a, type, e);
	if (in->stage && !strcmp(in->stage, "schedule")) {
		add(&a, "orchestrator", 0.2, "kb.stage", dd_xstrdup("it failed before the task ran (schedule stage)"));
		add(&a, "config_credentials", 0.1, "kb.stage",
		    dd_xstrdup("it failed before the task ran: the infrastructure's settings"));
	} else if (in->stage && !strcmp(in->stage, "parse")) {
		add(&a, "code_bug", 0.1, "kb.stage", dd_xstrdup("the DAG/flow file did not load (parse stage)"));
	}
	/* words */
	cue_evidence(&a, text.data, text.len);
	if (a.substantive)
		answer(&a);   /* the stage alone names no cause */
	for (int i = 0; i < N_CAUSES; i++)
		free(a.best_title[i]);
	free(type);
	free(msg);
	dd_buf_release(&text);
	return 0;
}

void st_result_release(struct st_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_answers; i++) {
		free(r->answers[i].title);
		free(r->answers[i].rule);
	}
	for (size_t i = 0; i < r->n_entities; i++) {
		free(r->entities[i].name);
		free(r->entities[i].value);
	}
	dd_strv_release(&r->reasons);
	memset(r, 0, sizeof(*r));
}
