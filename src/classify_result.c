/*
 * classify_result.c - deciding what a streamed log shows (classify.h):
 * the decisive traceback, the stage, the best pattern against the
 * structural layer, entities, checks and fix, alternatives.
 */
#include "dagdoc/util.h"

#include <ctype.h>

#include "dagdoc/classify.h"
#include "dagdoc/knowledge.h"
#include "dagdoc/redact.h"
#include "dagdoc/structure.h"
#include "dagdoc/traceback.h"
#include "dagdoc/fingerprint.h"

#include "classify_impl.h"

/* ---------------------------------------------------------------- result */

static size_t msg_extra_lines(const struct dd_traceback *tb)
{
	size_t n = 0;
	for (const char *s = tb->exc_message; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Is `line` inside traceback tb (frames .. end of exception message)? */
static int in_traceback(const struct dd_traceback *tb, size_t line)
{
	return line >= tb->first_line && line <= tb->exc_line + msg_extra_lines(tb);
}

static int on_exc_line(const struct dd_traceback *tb, size_t line)
{
	return line >= tb->exc_line && line <= tb->exc_line + msg_extra_lines(tb);
}

/* Does a wrapper pattern ("Bash command failed", "Process returned
 * non-zero exit status": confidence <= WRAPPER_LINE) match this line? */
static int wrapper_line(const struct classify *c, size_t line)
{
	for (size_t i = 0; i < c->n_pats; i++)
		if (c->last_hit_line[i] == line && pat_library_get(c->lib, i)->confidence <= WRAPPER_LINE)
			return 1;
	return 0;
}

/* The traceback that decides: the last one, unless it is a wrapper (an
 * exception that only reports a failure printed before it, such as
 * "AirflowException: Bash command failed") and a traceback shortly before
 * it says more. */
static const struct dd_traceback *decisive_tb(const struct classify *c)
{
	const struct kb *kb = pat_library_knowledge(c->lib);
	const struct dd_traceback *last = tbparser_last(c->tbp);
	size_t n = tbparser_count(c->tbp);

	for (size_t i = n; i-- > 0;) {
		const struct dd_traceback *t = tbparser_get(c->tbp, i);
		const struct kb_entry *e = kb_exception(kb, t->exc_type);

		if (t != last && t->exc_line + WRAPPER_REACH < last->first_line)
			break;
		if (!(e && e->wrapper) && !wrapper_line(c, t->exc_line))
			return t;
	}
	return last;
}

static const struct capture *tb_capture(const struct classify *c, const struct dd_traceback *tb)
{
	for (size_t i = 0; tb && i < TB_CAPTURES; i++)
		if (c->tb_cap[i].center == tb->exc_line)
			return &c->tb_cap[i];
	return NULL;
}

static double hit_score(struct classify *c, const struct hit *h)
{
	double s = h->p->confidence;
	const struct dd_traceback *dec = c->decisive;
	if (dec && on_exc_line(dec, h->line))
		return s + CLASSIFY_W_DECISIVE;
	size_t n = tbparser_count(c->tbp);
	for (size_t i = 0; i < n; i++) {
		const struct dd_traceback *tb = tbparser_get(c->tbp, i);
		if (tb && tb != dec && on_exc_line(tb, h->line))
			return s + CLASSIFY_W_TB_EXC;
	}
	return s;
}

/* Is candidate a better primary than b? */
static int better_primary(struct classify *c, const struct hit *a, const struct hit *b)
{
	double sa = hit_score(c, a), sb = hit_score(c, b);
	if (sa > sb + 1e-9)
		return 1;
	if (sb > sa + 1e-9)
		return 0;
	if (a->line != b->line)
		return a->line > b->line;
	if (a->p->confidence != b->p->confidence)
		return a->p->confidence > b->p->confidence;
	return a->p->index < b->p->index;
}



/* Entities the primary hit lacks, taken from the other hits of its
 * category, newest line first: a sensor's timeout line does not name the
 * DAG it waited on, but its earlier poke lines do. */
static void merge_category_entities(const struct classify *c, const struct hit *best, struct dd_failure *f)
{
	unsigned char done[HIT_SLOTS] = { 0 };

	for (;;) {
		const struct hit *next = NULL;
		int at = -1;

		for (int i = 0; i < HIT_SLOTS; i++) {
			const struct hit *h = &c->slots[i];

			if (done[i] || h == best || !h->used || (!h->in_ring && !h->is_champ) ||
			    strcmp(h->p->category, best->p->category))
				continue;
			if (!next || h->line > next->line) {
				next = h;
				at = i;
			}
		}
		if (!next)
			return;
		done[at] = 1;
		for (size_t i = 0; i < next->n_ent; i++)
			if (next->ent_val[i][0])
				failure_set_entity(f, next->ent_name[i], next->ent_val[i]);
	}
}

static const char *lookup_entity(const char *name, void *ud)
{
	return dd_failure_entity(ud, name);
}

static char *redacted(const char *s, size_t max)
{
	struct dd_buf b = DD_BUF_INIT;
	size_t len = strlen(s);
	redact_append(&b, s, len > max ? max : len);
	return dd_buf_detach(&b);
}

static void build_excerpt(struct dd_failure *f, const struct capture *cp)
{
	if (!cp->n)
		return;
	struct dd_redactor *r = redactor_new();
	struct dd_buf b = DD_BUF_INIT;
	for (size_t i = 0; i < cp->n; i++) {
		if (i)
			dd_buf_addch(&b, '\n');
		redactor_line(r, &b, cp->lines[i].text, strlen(cp->lines[i].text));
	}
	redactor_free(r);
	f->excerpt = dd_buf_detach(&b);
	f->excerpt_first = cp->lines[0].lineno;
}

/* The innermost frame under site-packages that is not the orchestrator. */
static const char *innermost_package(const struct dd_traceback *tb)
{
	for (size_t i = tb->n_frames; i-- > 0;) {
		const struct dd_frame *fr = &tb->frames[i];
		if (fr->package && fr->kind == DD_FRAME_LIBRARY)
			return fr->package;
	}
	return NULL;
}

/* "pkg.ExcType: message" on one line (a matched line outside a traceback). */
static void split_exception_line(const char *msg, char **type, char **message)
{
	size_t i = 0;
	while (msg[i] && (isalnum((unsigned char)msg[i]) || msg[i] == '_' || msg[i] == '.'))
		i++;
	if (i > 0 && (msg[i] == ':' || msg[i] == 0) && !isdigit((unsigned char)msg[0])) {
		size_t len = i;
		const char *base = msg;
		for (size_t k = 0; k < len; k++)
			if (msg[k] == '.')
				base = msg + k + 1;
		size_t blen = len - (size_t)(base - msg);
		static const char *const suffix[] = { "Error", "Exception", "Exit", "Interrupt", "Timeout",
		                                      "Failure", "Warning", "Killed", "Abort", NULL };
		for (size_t s = 0; suffix[s]; s++) {
			size_t sl = strlen(suffix[s]);
			if (blen >= sl && memmem(base, blen, suffix[s], sl)) {
				*type = dd_xstrndup(msg, len);
				const char *rest = msg + i;
				if (*rest == ':')
					rest++;
				while (*rest == ' ')
					rest++;
				*message = redacted(rest, 8192);
				return;
			}
		}
	}
	*type = NULL;
	*message = redacted(msg, 8192);
}

static void fill_from_traceback(struct dd_failure *f, const struct dd_traceback *tb)
{
	f->exc_type = dd_xstrdup(tb->exc_type);
	f->exc_message = redacted(tb->exc_message ? tb->exc_message : "", 8192);
	f->fingerprint = dd_fingerprint(tb->exc_type, tb->exc_message, traceback_top_app_frame(tb), NULL);
}

/* Where in a run's life the failure at `line` happened. */
static const char *decide_stage(const struct classify *c, const struct hit *best, const struct dd_traceback *tb,
                                size_t line)
{
	size_t n = c->n_stage_marks < STAGE_MARKS ? c->n_stage_marks : STAGE_MARKS;
	const char *stage = NULL;
	size_t at = 0;

	/* the frames know: the DAG processor or Prefect's flow loader on the stack */
	for (size_t i = 0; tb && i < tb->n_frames; i++) {
		const char *file = tb->frames[i].file ? tb->frames[i].file : "";
		const char *fn = tb->frames[i].func ? tb->frames[i].func : "";

		if (tb->frames[i].kind == DD_FRAME_ORCHESTRATOR &&
		    (strstr(file, "/dagbag.py") || strstr(file, "/dag_processing/") ||
		     !strcmp(fn, "load_flow_from_entrypoint") || !strcmp(fn, "load_script_as_module") ||
		     !strcmp(fn, "load_flow_from_script")))
			return "parse";
	}
	/* a pattern that knows where its failure happens ("could not be found;
	 * ... failed to parse") outranks the run's earlier markers */
	if (best && best->p->stage)
		return best->p->stage;
	for (size_t i = 0; i < n; i++) {
		size_t k = (c->n_stage_marks - n + i) % STAGE_MARKS;

		if (c->stage_marks[k].line <= line && c->stage_marks[k].line >= at) {
			at = c->stage_marks[k].line;
			stage = c->stage_marks[k].stage;
		}
	}
	return stage ? stage : "run";
}

/* Checks and fixes with every {placeholder} filled; a line whose
 * placeholder has no value is left out. */
static void fill_lines(struct dd_strv *out, const struct dd_strv *tmpl, struct dd_failure *f, int drop_unfilled)
{
	struct dd_buf b = DD_BUF_INIT;

	for (size_t i = 0; tmpl && i < tmpl->n; i++) {
		pat_fill(&b, tmpl->v[i], lookup_entity, f);
		if (drop_unfilled) {
			int open = 0;

			for (const char *t = b.data; t && *t; t++)
				if (*t == '{' && (t[1] == '_' || dd_is_alpha((unsigned char)t[1])) && t[-(t > b.data)] != '$')
					open = 1;
			if (open) {
				dd_buf_reset(&b);
				continue;
			}
		}
		dd_strv_push_owned(out, dd_buf_detach(&b));
	}
	dd_buf_release(&b);
}

/* The "package" entity names the distribution pip knows ("scikit-learn",
 * not "sklearn"; "apache-airflow-providers-cncf-kubernetes", not
 * "airflow.providers.cncf.kubernetes"); the import name stays as "module". */
static void normalize_package(const struct kb *kb, struct dd_failure *f)
{
	for (size_t i = 0; i < f->n_entities; i++) {
		char *dist = NULL;

		if (strcmp(f->entities[i].name, "package"))
			continue;
		if (kb_distribution(kb, f->entities[i].value, &dist) == 1 && dist &&
		    strcmp(dist, f->entities[i].value)) {
			struct dd_buf norm = DD_BUF_INIT;

			kb_normalize_name(f->entities[i].value, &norm);
			if (!norm.data || strcmp(norm.data, dist))   /* a real rename, not only case */
				failure_set_entity(f, "module", f->entities[i].value);
			free(f->entities[i].value);
			f->entities[i].value = dist;
			dist = NULL;
			dd_buf_release(&norm);
		}
		free(dist);
		return;
	}
}

/* The decisive traceback's frames, and the packages of every traceback's
 * library frames, for analysis and git correlation (no log is read twice). */
static void keep_frames(const struct classify *c, struct dd_failure *f, const struct dd_traceback *dec)
{
	for (size_t i = 0; i < tbparser_count(c->tbp); i++) {
		const struct dd_traceback *tb = tbparser_get(c->tbp, i);

		for (size_t k = 0; k < tb->n_frames; k++)
			if (tb->frames[k].package && !dd_strv_contains(&f->packages, tb->frames[k].package))
				dd_strv_push(&f->packages, tb->frames[k].package);
	}
	if (!dec || !dec->n_frames)
		return;
	f->frames = dd_xcalloc(dec->n_frames, sizeof(*f->frames));
	for (size_t k = 0; k < dec->n_frames; k++) {
		const struct dd_frame *from = &dec->frames[k];
		struct dd_frame *to = &f->frames[k];

		to->file = dd_xstrdup(from->file);
		to->line = from->line;
		to->func = dd_xstrdup(from->func);
		to->package = dd_xstrdup(from->package);
		to->in_app = from->in_app;
		to->kind = from->kind;
		to->source = dd_xstrdup(from->source);
	}
	f->n_frames = dec->n_frames;
}

/* Adds a runner-up cause (not the primary's, not twice). */
static void add_alternative(struct dd_failure *f, const char *category, double confidence, const char *source)
{
	size_t i;

	if (!category || !strcmp(category, f->category) || confidence < MIN_ALTERNATIVE)
		return;
	for (i = 0; i < f->n_alternatives; i++)
		if (!strcmp(f->alternatives[i].category, category)) {
			if (confidence > f->alternatives[i].confidence) {
				f->alternatives[i].confidence = confidence;
				free(f->alternatives[i].source);
				f->alternatives[i].source = dd_xstrdup(source);
			}
			return;
		}
	if (f->n_alternatives < CLASSIFY_MAX_ALTERNATIVES + 4) {
		f->alternatives = dd_xrealloc(f->alternatives, (f->n_alternatives + 1) * sizeof(*f->alternatives));
		f->alternatives[f->n_alternatives++] =
			(struct dd_alternative){ dd_xstrdup(category), confidence, dd_xstrdup(source) };
	}
}

static int cmp_alternative(const void *a, const void *b)
{
	double x = ((const struct dd_alternative *)a)->confidence, y = ((const struct dd_alternative *)b)->confidence;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The strongest hit of each other category, the structural layer's other
 * answers: the two best become the alternatives. */
static void alternatives(const struct classify *c, struct dd_failure *f, const struct st_result *st)
{
	for (int i = 0; i < HIT_SLOTS; i++) {
		const struct hit *h = &c->slots[i];

		if (h->used && (h->in_ring || h->is_champ) && h->p->confidence > 0.25)
			add_alternative(f, h->p->category, h->p->confidence * 0.8, h->p->id);
	}
	for (size_t i = 0; i < st->n_answers; i++)
		add_alternative(f, st->answers[i].category, st->answers[i].confidence, st->answers[i].rule);
	if (f->n_alternatives > 1)
		qsort(f->alternatives, f->n_alternatives, sizeof(*f->alternatives), cmp_alternative);
	while (f->n_alternatives > CLASSIFY_MAX_ALTERNATIVES) {
		struct dd_alternative *x = &f->alternatives[--f->n_alternatives];

		free(x->category);
		free(x->source);
	}
}

int classify_decide(struct classify *c, struct dd_failure *f)
{
	const struct kb *kb = pat_library_knowledge(c->lib);
	const struct dd_traceback *last = tbparser_last(c->tbp);
	const struct dd_traceback *dec = last ? decisive_tb(c) : NULL;
	c->decisive = dec;

	f->input = dd_xstrdup(c->input);
	f->format = logparse_format_name(logreader_format(c->reader));
	f->n_lines = c->n_lines;
	f->n_bytes = c->n_bytes;
	f->retries = c->retries;
	memcpy(f->retry_lines, c->retry_lines, sizeof(f->retry_lines));
	f->n_retry_lines = c->n_retry_lines;
	f->success = c->last_terminal == 1;
	for (size_t i = 0; i < c->warnings.n; i++)
		dd_strv_push(&f->warnings, c->warnings.v[i]);
	if (c->n_limit_lines > c->warnings.n)
		dd_strv_push_owned(&f->warnings, dd_xasprintf("%zu lines hit the PCRE2 match limit in all; treated as no match",
		                                              c->n_limit_lines));

	/* the best hit */
	const struct hit *best = NULL;
	for (int i = 0; i < HIT_SLOTS; i++) {
		const struct hit *h = &c->slots[i];
		if (!h->used || (!h->in_ring && !h->is_champ))
			continue;
		if (!best || better_primary(c, h, best))
			best = h;
	}
	int failure_seen = best || last || c->last_terminal == -1 || c->failed_in_try ||
	                   tbparser_started(c->tbp) || c->n_error_signs;
	/* still waiting (a sensor rescheduled) counts only with evidence of what
	 * it waits for */
	if (c->last_terminal == 2 && !c->failed_in_try && !last && !c->n_error_signs)
		failure_seen = best && !strcmp(best->p->category, "stalled_upstream");

	if (f->success || !failure_seen) {
		f->category = dd_xstrdup("none");
		goto secondary;
	}

	/* what the shape of the failure says */
	size_t at = dec ? dec->exc_line : c->last_error_sign ? c->last_error_sign : c->last_fail_line;
	struct st_result st;
	/* no complete traceback: the frames of one cut short still say where */
	const struct dd_traceback *frames_of = dec ? dec : tbparser_partial(c->tbp);
	struct st_input in = {
		.exc_type = dec ? dec->exc_type : NULL,
		.exc_message = dec ? dec->exc_message : NULL,
		.frames = frames_of ? frames_of->frames : NULL,
		.n_frames = frames_of ? frames_of->n_frames : 0,
		/* an error line after the traceback may name the failure itself
		 * ("Crash detected! ... interrupted by ... 429 Too Many Requests") */
		.text = c->sign_msg.len && (!dec || c->last_error_sign > dec->exc_line + msg_extra_lines(dec))
		        ? c->sign_msg.data : NULL,
	};
	in.stage = decide_stage(c, best, dec, best && (!dec || best->line > at) ? best->line : at);
	struct dd_buf context = DD_BUF_INIT;
	for (size_t i = 0; i < tbparser_count(c->tbp); i++) {
		const struct dd_traceback *t = tbparser_get(c->tbp, i);
		if (t != dec && t->exc_message)
			dd_buf_addf(&context, "%s: %s\n", t->exc_type, t->exc_message);
	}
	for (size_t i = 0; i < NOTABLE; i++)
		if (c->notable[(c->n_notable + i) % NOTABLE])
			dd_buf_addf(&context, "%s\n", c->notable[(c->n_notable + i) % NOTABLE]);
	in.context = context.data;
	structure_explain(kb, &in, &st);
	dd_buf_release(&context);
	f->stage = in.stage;
	for (size_t i = 0; i < st.reasons.n; i++)
		dd_strv_push(&f->reasons, st.reasons.v[i]);

	/* A specific pattern wins.  A wrapper (a line that only reports a
	 * failure, confidence <= WRAPPER) gives way to any structural answer.
	 * In between, the pattern (backed by the structure when they agree)
	 * and the structure's best answer compete. */
	int use_pattern = best != NULL;
	if (best && hit_score(c, best) < SPECIFIC && st.n_answers) {
		double pat = hit_score(c, best);

		if (best->p->confidence <= WRAPPER) {
			/* a wrapper only reports: what the structure says of the failure
			 * it reports is more (its entities and checks are kept below) */
			use_pattern = st.answers[0].confidence < MIN_ANSWER;
		} else {
			for (size_t i = 0; i < st.n_answers; i++)
				if (!strcmp(st.answers[i].category, best->p->category))
					pat = 1 - (1 - pat) * (1 - st.answers[i].confidence);
			if (strcmp(st.answers[0].category, best->p->category) && st.answers[0].confidence > pat)
				use_pattern = 0;
		}
	}

	if (use_pattern) {
		f->category = dd_xstrdup(best->p->category);
		f->pattern = dd_xstrdup(best->p->id);
		f->title = dd_xstrdup(best->p->title);
		f->confidence = best->p->confidence;
		for (size_t i = 0; i < st.n_answers; i++)
			if (!strcmp(st.answers[i].category, f->category))
				f->confidence = 1 - (1 - f->confidence) * (1 - 0.5 * st.answers[i].confidence);
		for (size_t i = 0; i < best->n_ent; i++)
			if (best->ent_val[i][0])
				failure_set_entity(f, best->ent_name[i], best->ent_val[i]);
		merge_category_entities(c, best, f);
		/* which traceback explains it */
		const struct dd_traceback *tb = NULL;
		size_t n = tbparser_count(c->tbp);
		for (size_t i = n; i-- > 0;) {
			const struct dd_traceback *t = tbparser_get(c->tbp, i);
			if (t && in_traceback(t, best->line)) {
				tb = t;
				break;
			}
		}
		if (tb) {
			fill_from_traceback(f, tb);
			f->line_first = tb->first_line;
			f->line_last = tb->exc_line + msg_extra_lines(tb);
		} else if (dec && best->line < dec->first_line) {
			/* a cause logged before the traceback it led to */
			tb = dec;
			fill_from_traceback(f, tb);
			f->line_first = f->line_last = best->line;
		} else {
			const char *ex = NULL;
			for (size_t i = 0; i < best->n_ent; i++)
				if (!strcmp(best->ent_name[i], "exception"))
					ex = best->ent_val[i];
			split_exception_line(best->msg, &f->exc_type, &f->exc_message);
			if (ex && !f->exc_type)
				f->exc_type = dd_xstrdup(ex);
			f->fingerprint = dd_fingerprint(f->exc_type ? f->exc_type : best->p->id, best->msg, NULL, NULL);
			f->line_first = f->line_last = best->line;
		}
		if (tb) {
			const char *pkg = innermost_package(tb);
			if (pkg)
				failure_set_entity(f, "package", pkg);
		}
		if (f->exc_type)
			failure_set_entity(f, "exception", f->exc_type);
		build_excerpt(f, &best->cap);
	} else {
		if (st.n_answers && st.answers[0].confidence >= MIN_ANSWER) {
			f->category = dd_xstrdup(st.answers[0].category);
			f->pattern = dd_xstrdup(st.answers[0].rule);
			f->title = dd_xstrdup(st.answers[0].title);
			f->confidence = st.answers[0].confidence;
		} else {
			f->category = dd_xstrdup("unknown");
		}
		if (dec) {
			const struct capture *cp = tb_capture(c, dec);

			fill_from_traceback(f, dec);
			f->line_first = dec->first_line;
			f->line_last = dec->exc_line + msg_extra_lines(dec);
			failure_set_entity(f, "exception", dec->exc_type);
			if (cp)
				build_excerpt(f, cp);
		} else {
			/* no traceback: the last error sign, else the failure marker */
			size_t line = c->last_error_sign ? c->last_error_sign : c->last_fail_line;
			const struct capture *cp = c->last_error_sign ? &c->sign_cap : &c->fail_cap;

			f->line_first = f->line_last = line;
			build_excerpt(f, cp);
			if (c->sign_msg.len)
				split_exception_line(c->sign_msg.data, &f->exc_type, &f->exc_message);
			if (!f->exc_type) {
				free(f->exc_message);
				f->exc_message = NULL;
			}
			for (size_t i = 0; i < cp->n; i++)
				if (cp->lines[i].lineno == line && !f->fingerprint)
					f->fingerprint = dd_fingerprint(f->exc_type ? f->exc_type : "",
					                                f->exc_message ? f->exc_message : cp->lines[i].text, NULL,
					                                NULL);
		}
	}
	for (size_t i = 0; i < st.n_entities; i++)
		failure_set_entity(f, st.entities[i].name, st.entities[i].value);
	{
		/* the file of the pipeline's code where it failed, and the task */
		const struct dd_frame *app = dec ? traceback_top_app_frame(dec) : NULL;

		if (app && app->file) {
			const char *b = strrchr(app->file, '/'), *w = strrchr(app->file, '\\');
			if (w && (!b || w > b))
				b = w;
			failure_set_entity(f, "file", b ? b + 1 : app->file);
		}
		if (c->ctx_task)
			failure_set_entity(f, "task", c->ctx_task);
		if (c->ctx_dag)
			failure_set_entity(f, "dag", c->ctx_dag);
	}
	if (dec && !use_pattern) {
		const char *pkg = innermost_package(dec);
		if (pkg)
			failure_set_entity(f, "package", pkg);
	}
	if (!use_pattern && best) {
		/* the wrapper's line still names the file, the DAG ... and its checks apply */
		for (size_t i = 0; i < best->n_ent; i++)
			if (best->ent_val[i][0])
				failure_set_entity(f, best->ent_name[i], best->ent_val[i]);
	}
	normalize_package(kb, f);
	keep_frames(c, f, dec);
	if (use_pattern) {
		fill_lines(&f->checks, &best->p->checks, f, 0);
		fill_lines(&f->fix, &best->p->fix, f, 0);
	} else {
		fill_lines(&f->checks, kb_checks(kb, f->category), f, 1);
		if (best && best->p->confidence <= WRAPPER)
			fill_lines(&f->checks, &best->p->checks, f, 1);
		fill_lines(&f->fix, kb_fixes(kb, f->category), f, 1);
	}
	alternatives(c, f, &st);
	st_result_release(&st);

secondary:
	/* secondary: every other pattern that matched, by line of its last hit */
	for (size_t i = 0; i < c->n_pats; i++) {
		if (!c->last_hit_line[i])
			continue;
		const struct pat_pattern *p = pat_library_get(c->lib, i);
		if (f->pattern && !strcmp(p->id, f->pattern))
			continue;
		f->secondary = dd_xrealloc(f->secondary, (f->n_secondary + 1) * sizeof(*f->secondary));
		f->secondary[f->n_secondary++] = (struct dd_hitref){ dd_xstrdup(p->id), dd_xstrdup(p->category),
		                                                     c->last_hit_line[i] };
	}
	/* keep the latest CLASSIFY_MAX_SECONDARY, in line order */
	for (size_t i = 1; i < f->n_secondary; i++)
		for (size_t k = i; k > 0 && f->secondary[k - 1].line > f->secondary[k].line; k--) {
			struct dd_hitref t = f->secondary[k];
			f->secondary[k] = f->secondary[k - 1];
			f->secondary[k - 1] = t;
		}
	if (f->n_secondary > CLASSIFY_MAX_SECONDARY) {
		size_t drop = f->n_secondary - CLASSIFY_MAX_SECONDARY;
		for (size_t i = 0; i < drop; i++) {
			free(f->secondary[i].pattern);
			free(f->secondary[i].category);
		}
		memmove(f->secondary, f->secondary + drop, CLASSIFY_MAX_SECONDARY * sizeof(*f->secondary));
		f->n_secondary = CLASSIFY_MAX_SECONDARY;
	}
	return 0;
}
