/*
 * report_html.c - the report as one self-contained HTML page: inline CSS
 * and SVG grids, no script, nothing loaded from the network; every string
 * escaped (see report.h).
 */
#include "dagdoc/util.h"

#include <math.h>
#include <stdarg.h>

#include "dagdoc/render.h"
#include "dagdoc/report.h"
#include "report_impl.h"

/* ---- HTML -------------------------------------------------------------------------------- */

void report_html_escape(struct dd_buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '&': dd_buf_adds(b, "&amp;"); break;
		case '<': dd_buf_adds(b, "&lt;"); break;
		case '>': dd_buf_adds(b, "&gt;"); break;
		case '"': dd_buf_adds(b, "&quot;"); break;
		case '\'': dd_buf_adds(b, "&#39;"); break;
		default:
			if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
				break;
			dd_buf_addch(b, (char)ch);
		}
	}
}

/* The page is built in a buffer; every dynamic string goes through E(). */
struct html {
	struct dd_buf b;
	int explain;               /* every evidence weight, as --explain asks */
};

static void H(struct html *h, const char *raw)
{
	dd_buf_adds(&h->b, raw);
}

static void HF(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Only for numbers and fixed words: never pass data through %s here. */
static void HF(struct html *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dd_buf_vaddf(&h->b, fmt, ap);
	va_end(ap);
}

static void E(struct html *h, const char *s)
{
	report_html_escape(&h->b, s);
}

static double spark_x(size_t i, size_t n, int width, int pad)
{
	return n > 1 ? pad + (double)i * (width - 2 * pad) / (double)(n - 1) : width / 2.0;
}

/* The tracked value over the window as a small line: the runs with a value
 * as points, the onset on marked; NAN values leave a gap. */
static void sparkline(struct html *h, const struct quiet_finding *q)
{
	enum { W = 120, HT = 24, PAD = 3 };
	double *y = dd_xcalloc(q->n_values + 1, sizeof(*y));
	int pen = 0;

	quiet_scale(q->values, q->n_values, y);
	HF(h, "<svg class=\"spark\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">", W, HT, W, HT);
	H(h, "<path d=\"");
	for (size_t i = 0; i < q->n_values; i++) {
		double x = spark_x(i, q->n_values, W, PAD);

		if (isnan(y[i])) {
			pen = 0;
			continue;
		}
		HF(h, "%c%.1f %.1f ", pen ? 'L' : 'M', x, HT - PAD - y[i] * (HT - 2 * PAD));
		pen = 1;
	}
	H(h, "\"/>");
	for (size_t i = 0; i < q->n_values; i++) {
		double x = spark_x(i, q->n_values, W, PAD);

		if (!isnan(y[i]) && i >= q->onset)
			HF(h, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>", x, HT - PAD - y[i] * (HT - 2 * PAD));
	}
	H(h, "<title>");
	for (size_t i = 0; i < q->n_values; i++) {
		char v[40];

		quiet_format_value(q->values[i], v, sizeof(v));
		H(h, i ? ", " : "");
		E(h, v);
	}
	H(h, "</title></svg>");
	free(y);
}

/* The quiet failures of every DAG: what, where, since when, and the tracked value's sparkline. */
static void quiet_html(struct html *h, const struct report *r)
{
	H(h, "<h3>Quiet failures <span class=\"mut\">(the task succeeded)</span></h3><div class=\"scroll\">"
	     "<table id=\"quiet\"><tr><th>DAG</th><th>task</th><th>kind</th><th>what</th>"
	     "<th>over the window</th></tr>\n");
	for (size_t i = 0; i < r->n_dags; i++)
		for (size_t k = 0; k < r->dags[i].triage.an.n_quiet; k++) {
			const struct quiet_finding *q = &r->dags[i].triage.an.quiet[k];

			H(h, "<tr><td>");
			E(h, r->dags[i].dag_id);
			H(h, "</td><td><code>");
			E(h, q->task_id);
			H(h, "</code></td><td>");
			E(h, quiet_kind_name(q->kind));
			H(h, "</td><td>");
			E(h, q->detail);
			if (q->upstream_dag) {
				H(h, "; upstream DAG <code>");
				E(h, q->upstream_dag);
				H(h, "</code>");
			}
			H(h, "</td><td>");
			sparkline(h, q);
			H(h, "</td></tr>\n");
		}
	H(h, "</table></div>\n");
}

static const struct {
	const char *category;
	const char *color;
} category_colors[] = {
	{ "dependency_upgrade", "#8250df" },
	{ "stalled_upstream", "#1b7c83" },
	{ "intermittent", "#e16f24" },
	{ "resource", "#953800" },
	{ "orchestrator", "#57606a" },
	{ "config_credentials", "#bf3989" },
	{ "code_bug", "#cf222e" },
	{ "data_quality", "#b08800" },
	{ "ml_training", "#5a32a3" },
};
#define COLOR_FAILED_OTHER "#ff5a52"
#define COLOR_SUCCESS "#2da44e"
#define COLOR_RETRIED "#9be9a8"
#define COLOR_UPSTREAM "#f5c08b"
#define COLOR_SKIPPED "#d0d7de"
#define COLOR_RUNNING "#54aeff"
#define COLOR_OTHER "#afb8c1"

static const char *category_color(const char *category)
{
	for (size_t i = 0; category && i < DD_ARRAY_SIZE(category_colors); i++)
		if (!strcmp(category_colors[i].category, category))
			return category_colors[i].color;
	return COLOR_FAILED_OTHER;
}

static const char *cell_color(const struct an_cell *c)
{
	switch (report_cell_letter(c)) {
	case '.': return COLOR_SUCCESS;
	case 'r': return COLOR_RETRIED;
	case 'u': return COLOR_UPSTREAM;
	case 's': return COLOR_SKIPPED;
	case '~': return COLOR_RUNNING;
	case 'X': return category_color(c->category);
	default: return COLOR_OTHER;
	}
}

static const char CSS[] =
	":root{--fg:#1f2328;--mut:#59636e;--bg:#fff;--card:#f6f8fa;--bd:#d1d9e0;--red:#cf222e;--amb:#9a6700;--grn:#1a7f37}"
	"*{box-sizing:border-box}"
	"body{margin:0;padding:1rem;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:var(--bg)}"
	"main{max-width:64rem;margin:0 auto}"
	"h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .4rem;overflow-wrap:anywhere}h3{font-size:1rem;margin:1rem 0 .3rem}"
	".mut{color:var(--mut)}"
	".cards{display:flex;flex-wrap:wrap;gap:.5rem;margin:.8rem 0}"
	".card{flex:1 1 7rem;background:var(--card);border:1px solid var(--bd);border-radius:8px;padding:.5rem .7rem}"
	".card b{display:block;font-size:1.5rem}"
	".failing{color:var(--red)}.recovered{color:var(--amb)}.healthy{color:var(--grn)}"
	".badge{display:inline-block;font-size:.75rem;font-weight:600;border-radius:1em;padding:0 .5em;border:1px solid currentColor}"
	".new{color:#fff;background:var(--red);border-color:var(--red)}"
	"table{border-collapse:collapse;width:100%;margin:.4rem 0}td,th{text-align:left;vertical-align:top;padding:.3rem .4rem;border-bottom:1px solid var(--bd)}"
	".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}"
	"code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}"
	"code{background:var(--card);border-radius:4px;padding:0 .25em;overflow-wrap:anywhere}"
	"pre{background:var(--card);border:1px solid var(--bd);border-radius:6px;padding:.5rem;overflow-x:auto;white-space:pre}"
	".cause{border-left:4px solid var(--bd);padding:.1rem 0 .1rem .8rem;margin:.8rem 0}"
	".cause.top{border-color:var(--red)}"
	".cause ul{margin:.2rem 0;padding-left:1.2rem}"
	".warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.5rem .7rem;margin:.5rem 0}"
	".small{font-size:.8rem;margin:.2rem 0}"
	".legend{display:flex;flex-wrap:wrap;gap:.3rem .9rem;font-size:.8rem;color:var(--mut);margin:.3rem 0 .8rem}"
	".legend i{display:inline-block;width:1rem;height:1rem;border-radius:3px;margin-right:.25rem;"
	"vertical-align:-3px;font:bold 11px/1rem system-ui,sans-serif;font-style:normal;text-align:center}"
	".legend i.none{border:1px dashed #8c959f}"
	"svg.grid{display:block;max-width:100%;height:auto;margin:.3rem 0}"
	"svg.grid text{font:11px ui-monospace,Menlo,Consolas,monospace;fill:var(--fg)}"
	"svg.grid text.col{font-size:10px;fill:var(--mut)}svg.grid text.mut{fill:var(--mut)}"
	"svg.grid text.g{font:bold 11px system-ui,sans-serif;text-anchor:middle;pointer-events:none}"
	"svg.spark path{fill:none;stroke:var(--amb);stroke-width:1.5}svg.spark circle{fill:var(--red)}"
	"@media (max-width:600px){body{padding:.6rem;font-size:14px}.card b{font-size:1.2rem}td,th{padding:.25rem}}";

/* ---- the run x task grid ----------------------------------------------------------------- */

#define CELL 16
#define GAP 2
#define PITCH (CELL + GAP)
#define CHAR_W 7                 /* the advance of 11px monospace, rounded up */
#define LABEL_MAX 24             /* task labels longer than this end in "…" (full name in the tooltip) */
#define COL_CHARS 11             /* "03-05 02:01" */
#define SPARK_GAP 12
#define SPARK_W 64
#define COLOR_TREND "#0550ae"
#define INK_DARK "#1f2328"

/* What a cell shows, by report_cell_letter: a colour and a glyph, so the
 * state reads without colour too; the legend lists the same table. */
static const struct glyph {
	char letter;
	const char *glyph, *label, *color, *ink;
} glyphs[] = {
	{ '.', "✓", "success", COLOR_SUCCESS, "#fff" },
	{ 'X', "✕", "failed", COLOR_FAILED_OTHER, "#fff" },
	{ 'r', "↻", "passed on retry", COLOR_RETRIED, INK_DARK },
	{ 'u', "↑", "upstream failed", COLOR_UPSTREAM, INK_DARK },
	{ 's', "–", "skipped", COLOR_SKIPPED, INK_DARK },
	{ '~', "…", "running or queued", COLOR_RUNNING, INK_DARK },
	{ '-', "?", "other state", COLOR_OTHER, INK_DARK },
};

static const struct glyph *glyph_of(char letter)
{
	for (size_t i = 0; i < DD_ARRAY_SIZE(glyphs); i++)
		if (glyphs[i].letter == letter)
			return &glyphs[i];
	return &glyphs[DD_ARRAY_SIZE(glyphs) - 1];
}

/* "2026-03-05 02:01 UTC" */
static void E_when(struct html *h, int64_t ms)
{
	char when[32];

	triage_format_minute(ms, when, sizeof(when));
	E(h, when);
	if (ms)
		H(h, " UTC");
}

/* "started 2026-03-05 02:01 UTC, took 10m" (or "not finished") */
static void E_clock(struct html *h, int64_t start_ms, int64_t end_ms)
{
	char took[24];

	if (!start_ms) {
		H(h, "start not known");
		return;
	}
	H(h, "started ");
	E_when(h, start_ms);
	if (end_ms >= start_ms) {
		dd_format_duration((double)(end_ms - start_ms) / 1000, took, sizeof(took));
		H(h, ", took ");
		E(h, took);
	} else {
		H(h, ", not finished");
	}
}

/* The tooltip's first lines for run r: its id, logical date and wall clock. */
static void run_title(struct html *h, const struct an_grid *g, size_t r)
{
	H(h, "run ");
	E(h, g->run_ids[r]);
	H(h, "\nlogical date ");
	E_when(h, g->run_ms[r]);
	H(h, "\n");
	E_clock(h, g->run_start_ms ? g->run_start_ms[r] : 0, g->run_end_ms ? g->run_end_ms[r] : 0);
}

/* One cell: a link to url (when known) holding its tooltip, the coloured
 * square and the glyph. */
static void cell_open(struct html *h, const char *url)
{
	if (url) {
		H(h, "<a href=\"");
		E(h, url);
		H(h, "\"><title>");
	} else {
		H(h, "<g><title>");
	}
}

static void cell_close(struct html *h, const char *url, int x, int y, const char *fill, const struct glyph *gl,
                       const char *state)
{
	HF(h, "</title><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\" fill=\"%s\" data-state=\"",
	   x, y, CELL, CELL, fill);
	E(h, state);
	HF(h, "\"/><text class=\"g\" x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>%s\n", x + CELL / 2, y + CELL - 4, gl->ink,
	   gl->glyph, url ? "</a>" : "</g>");
}

/* The duration of each successful try of task t in the grid's runs, as a
 * sparkline in the box at (x, y). */
static void trend_svg(struct html *h, const struct an_grid *g, size_t t, int x, int y)
{
	double secs[AN_GRID_RUNS + 1], max = 0, min = 0;
	size_t n = 0, last = 0;
	char a[24], b[24], c[24];

	for (size_t r = 0; r < g->n_runs && r <= AN_GRID_RUNS; r++) {
		const struct an_cell *cl = an_grid_cell(g, t, r);

		secs[r] = -1;
		if (cl->state != DD_STATE_SUCCESS || !cl->start_ms || cl->end_ms < cl->start_ms)
			continue;
		secs[r] = (double)(cl->end_ms - cl->start_ms) / 1000;
		if (!n || secs[r] > max)
			max = secs[r];
		if (!n || secs[r] < min)
			min = secs[r];
		n++;
		last = r;
	}
	if (!n) {
		HF(h, "<text class=\"mut\" x=\"%d\" y=\"%d\"><title>no successful try in these runs</title>–</text>\n",
		   x + 2, y + CELL - 4);
		return;
	}
	dd_format_duration(secs[last], a, sizeof(a));
	dd_format_duration(min, b, sizeof(b));
	dd_format_duration(max, c, sizeof(c));
	H(h, "<g class=\"trend\"><title>");
	E(h, g->task_ids[t]);
	H(h, ": successful tries took ");
	E(h, b);
	H(h, " to ");
	E(h, c);
	H(h, ", the newest ");
	E(h, a);
	HF(h, " (%zu of %zu runs; oldest left)</title>", n, g->n_runs);
	HF(h, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", COLOR_TREND);
	for (size_t r = 0; r < g->n_runs && r <= AN_GRID_RUNS; r++) {
		if (secs[r] < 0)
			continue;
		HF(h, "%.1f,%.1f ", x + (g->n_runs > 1 ? (double)r * SPARK_W / (double)(g->n_runs - 1) : SPARK_W / 2.0),
		   y + CELL - 2 - (max > 0 ? secs[r] / max : 0) * (CELL - 4));
	}
	HF(h, "\"/><circle r=\"3\" fill=\"%s\" cx=\"%.1f\" cy=\"%.1f\"/></g>\n", COLOR_TREND,
	   x + (g->n_runs > 1 ? (double)last * SPARK_W / (double)(g->n_runs - 1) : SPARK_W / 2.0),
	   y + CELL - 2 - (max > 0 ? secs[last] / max : 0) * (CELL - 4));
}

static void cell_title(struct html *h, const struct an_grid *g, size_t t, size_t r, const struct an_cell *c)
{
	E(h, g->task_ids[t]);
	H(h, " in ");
	run_title(h, g, r);
	H(h, "\nthis try: ");
	E_clock(h, c->start_ms, c->end_ms);
	H(h, "\nstate: ");
	E(h, report_cell_state(c));
	if (c->tries)
		HF(h, ", try %d", c->tries);
	if (c->failed_tries && c->state == DD_STATE_SUCCESS)
		HF(h, " (%d failed %s first)", c->failed_tries, c->failed_tries == 1 ? "try" : "tries");
	if (c->category) {
		H(h, "\ncategory: ");
		E(h, c->category);
	}
	if (c->error) {
		H(h, "\nerror: ");
		E(h, c->error);
	}
}

static void grid_svg(struct html *h, const struct report_dag *d)
{
	const struct an_grid *g = &d->triage.an.grid;
	size_t label_chars = 4;
	int label_w, top, w, hgt, trend_x;

	if (!g->n_runs || !g->n_tasks) {
		H(h, "<p class=\"mut\">No task instances stored for these runs.</p>\n");
		return;
	}
	for (size_t t = 0; t < g->n_tasks; t++) {
		size_t n = render_chars(g->task_ids[t], strlen(g->task_ids[t]));

		if (n > label_chars)
			label_chars = n > LABEL_MAX ? LABEL_MAX : n;
	}
	label_w = (int)label_chars * CHAR_W + 8;
	top = COL_CHARS * 6 * 87 / 100 + 10;       /* the rotated labels' height (10px, -60 degrees) */
	trend_x = label_w + (int)g->n_runs * PITCH + SPARK_GAP;
	w = trend_x + SPARK_W + 8;
	hgt = top + (int)(g->n_tasks + 1) * PITCH + 4;
	H(h, "<p class=\"mut small\">Newest run on the right; times UTC. Each cell links to that try's log in the "
	     "orchestrator; hover or tap it for the times.</p>\n");
	HF(h, "<svg class=\"grid\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	   "viewBox=\"0 0 %d %d\"><desc>run by task grid of ", w, hgt, w, hgt);
	E(h, d->dag_id);
	H(h, "</desc>\n");
	/* Column labels: when each run started (wall clock), rotated to fit. */
	for (size_t r = 0; r < g->n_runs; r++) {
		char when[32], md[16];
		int64_t ms = g->run_start_ms && g->run_start_ms[r] ? g->run_start_ms[r] : g->run_ms[r];

		triage_format_minute(ms, when, sizeof(when));
		snprintf(md, sizeof(md), "%.11s", strlen(when) >= 16 ? when + 5 : when);
		HF(h, "<text class=\"col\" transform=\"translate(%d,%d) rotate(-60)\"><title>",
		   label_w + (int)r * PITCH + CELL / 2 - 2, top - 4);
		run_title(h, g, r);
		H(h, "</title>");
		E(h, md);
		H(h, "</text>\n");
	}
	HF(h, "<text class=\"col\" x=\"%d\" y=\"%d\">duration</text>\n", trend_x, top - 4);
	/* Row 0: the run's own state, linking to the run. */
	HF(h, "<text x=\"0\" y=\"%d\">run</text>\n", top + CELL - 4);
	for (size_t r = 0; r < g->n_runs; r++) {
		struct an_cell rc = { .state = g->run_states[r] };
		char letter = report_cell_letter(&rc);
		const char *url = d->triage.run_urls ? d->triage.run_urls[r] : NULL;

		cell_open(h, url);
		run_title(h, g, r);
		H(h, "\nstate: ");
		E(h, dd_state_name(g->run_states[r]));
		cell_close(h, url, label_w + (int)r * PITCH, top, letter == 'X' ? "#cf222e" : glyph_of(letter)->color,
		           glyph_of(letter), dd_state_name(g->run_states[r]));
	}
	for (size_t t = 0; t < g->n_tasks; t++) {
		int y = top + (int)(t + 1) * PITCH;
		struct dd_buf label = DD_BUF_INIT;

		render_fold(&label, g->task_ids[t], LABEL_MAX);
		HF(h, "<text x=\"0\" y=\"%d\"><title>", y + CELL - 4);
		E(h, g->task_ids[t]);
		H(h, "</title>");
		E(h, label.data);
		H(h, "</text>\n");
		dd_buf_release(&label);
		for (size_t r = 0; r < g->n_runs; r++) {
			const struct an_cell *c = an_grid_cell(g, t, r);
			const char *url = d->triage.cell_urls ? d->triage.cell_urls[t * g->n_runs + r] : NULL;
			int x = label_w + (int)r * PITCH;

			if (c->state == DD_STATE__COUNT) {
				H(h, "<g><title>");
				E(h, g->task_ids[t]);
				H(h, " in ");
				run_title(h, g, r);
				HF(h, "\nnever ran: no task instance</title><rect class=\"none\" x=\"%d\" y=\"%d\" "
				   "width=\"%d\" height=\"%d\" rx=\"3\" fill=\"none\" stroke=\"#8c959f\" "
				   "stroke-dasharray=\"2 2\" data-state=\"none\"/></g>\n",
				   x + 1, y + 1, CELL - 2, CELL - 2);
				continue;
			}
			cell_open(h, url);
			cell_title(h, g, t, r, c);
			cell_close(h, url, x, y, cell_color(c), glyph_of(report_cell_letter(c)), report_cell_state(c));
		}
		trend_svg(h, g, t, trend_x, y);
	}
	H(h, "</svg>\n");
}

/* The glyphs and colours of the grid, "never ran" included, and the
 * failure categories this DAG's grid shows. */
static void legend(struct html *h, const struct report_dag *d)
{
	const struct an_grid *g = &d->triage.an.grid;

	H(h, "<div class=\"legend\">");
	for (size_t i = 0; i < DD_ARRAY_SIZE(glyphs); i++) {
		HF(h, "<span><i style=\"background:%s;color:%s\">%s</i>", glyphs[i].color, glyphs[i].ink,
		   glyphs[i].glyph);
		E(h, glyphs[i].letter == 'X' ? "failed, unclassified" : glyphs[i].label);
		H(h, "</span>");
	}
	H(h, "<span><i class=\"none\"></i>never ran (no task instance)</span>");
	HF(h, "<span><svg width=\"22\" height=\"12\" viewBox=\"0 0 22 12\"><polyline fill=\"none\" stroke=\"%s\" "
	   "stroke-width=\"1.5\" points=\"1,9 7,6 13,8 19,3\"/><circle r=\"2.5\" cx=\"19\" cy=\"3\" fill=\"%s\"/></svg> "
	   "duration of successful tries, oldest to newest</span>", COLOR_TREND, COLOR_TREND);
	for (size_t i = 0; i < DD_ARRAY_SIZE(category_colors); i++) {
		int used = 0;

		for (size_t c = 0; c < g->n_runs * g->n_tasks && !used; c++)
			used = g->cells[c].category && !strcmp(g->cells[c].category, category_colors[i].category) &&
			       report_cell_letter(&g->cells[c]) == 'X';
		if (!used)
			continue;
		HF(h, "<span><i style=\"background:%s;color:#fff\">✕</i>failed: ", category_colors[i].color);
		E(h, category_colors[i].category);
		H(h, "</span>");
	}
	H(h, "</div>\n");
}

static void html_list(struct html *h, const char *label, const struct dd_strv *v, size_t max, int code)
{
	if (!v->n)
		return;
	H(h, "<div><b>");
	E(h, label);
	H(h, "</b><ul>");
	for (size_t i = 0; i < v->n && i < max; i++) {
		H(h, code ? "<li><code>" : "<li>");
		E(h, v->v[i]);
		H(h, code ? "</code></li>" : "</li>");
	}
	H(h, "</ul></div>\n");
}

static void history_badge(struct html *h, const struct report_cause_mark *m)
{
	char hist[160];

	if (!m->in_report)
		return;
	if (m->is_new) {
		H(h, " <span class=\"badge new\">new</span>");
		return;
	}
	report_history_text(m, hist, sizeof(hist));
	H(h, " <span class=\"badge mut\">");
	E(h, hist);
	H(h, "</span>");
}

static void cause_html(struct html *h, const struct report_dag *d, size_t k)
{
	const struct rk_cause *c = &d->triage.rk.causes[k];
	struct dd_strv ev = DD_STRV_INIT;
	char a[32], b[32];

	HF(h, "<div class=\"cause%s\"><h3>%zu. ", k == 0 ? " top" : "", k + 1);
	E(h, c->summary);
	HF(h, " <span class=\"mut\">confidence %.2f · ", c->confidence);
	E(h, rk_kind_name(c->kind));
	H(h, "</span>");
	history_badge(h, &d->marks[k]);
	H(h, "</h3>\n<div>failure <code>");
	E(h, c->failure);
	H(h, "</code></div>\n<div class=\"mut\">task ");
	for (size_t i = 0; i < c->task_ids.n; i++) {
		H(h, i ? ", <code>" : "<code>");
		E(h, c->task_ids.v[i]);
		H(h, "</code>");
	}
	triage_format_minute(c->first_bad_ms, a, sizeof(a));
	if (c->stuck)
		H(h, " · <b class=\"failing\">not finished</b> in the run of ");
	else
		HF(h, " · %zu failed %s, %zu %s · onset ", c->failed_runs, DD_PLURAL(c->failed_runs, "run", "runs"), c->tries,
		   DD_PLURAL(c->tries, "try", "tries"));
	E(h, a);
	if (c->last_good_ms) {
		triage_format_minute(c->last_good_ms, b, sizeof(b));
		H(h, " · last good ");
		E(h, b);
	}
	if (!c->stuck)
		H(h, c->still_failing ? " · <b class=\"failing\">still failing</b>" : " · not failing now");
	H(h, "</div>\n");
	for (size_t i = 0; i < c->n_verdicts; i++) {
		char *v = triage_verdict_text(&c->verdicts[i], 0);

		H(h, "<div class=\"verdict\">");
		E(h, v);
		H(h, "</div>\n");
		free(v);
	}
	for (size_t i = 0; i < c->n_commits && i < 3; i++) {
		const struct rk_commit *m = &c->commits[i];
		char when[32], id[8];

		triage_format_minute(m->commit.time_ms, when, sizeof(when));
		snprintf(id, sizeof(id), "%.7s", m->commit.id);
		H(h, "<div>change <code>");
		E(h, id);
		H(h, "</code> “");
		E(h, m->commit.summary);
		H(h, "” <span class=\"mut\">(");
		E(h, m->commit.author);
		H(h, ", ");
		E(h, when);
		H(h, ")</span>");
		for (size_t w = 0; w < m->why.n; w++) {
			H(h, " — ");
			E(h, m->why.v[w]);
		}
		H(h, "</div>\n");
	}
	if (c->outside) {
		H(h, "<div>change <span class=\"mut\">none in the repository:</span> ");
		E(h, c->outside->why);
		H(h, "</div>\n");
	}
	for (size_t i = 0; i < c->n_evidence; i++)
		dd_strv_push_owned(&ev, h->explain ? dd_xasprintf("%+.2f  %s", c->evidence[i].weight, c->evidence[i].text)
		                                   : dd_xstrdup(c->evidence[i].text));
	if (h->explain) {
		dd_strv_push_owned(&ev, dd_xasprintf("= %.2f  -> confidence 1 - e^-%.2f = %.2f", c->score, c->score,
		                                     c->confidence));
		for (size_t i = 0; c->n_commits && i < c->commits[0].links.n && i < c->commits[0].link_why.n; i++)
			dd_strv_push_owned(&ev, dd_xasprintf("link %s: %s", c->commits[0].links.v[i],
			                                     c->commits[0].link_why.v[i]));
	}
	html_list(h, h->explain ? "why (evidence weights)" : "evidence", &ev, h->explain ? ev.n : 8, 0);
	dd_strv_release(&ev);
	html_list(h, "checks", &c->checks, RK_MAX_CHECKS, 1);
	html_list(h, "fix", &c->fix, RK_MAX_FIXES, 0);
	if (c->excerpt) {
		H(h, "<details><summary>log excerpt</summary><pre>");
		E(h, c->excerpt);
		H(h, "</pre></details>\n");
	}
	H(h, "</div>\n");
}

static void dag_html(struct html *h, const struct report_dag *d)
{
	const struct an_result *an = &d->triage.an;

	H(h, "<section class=\"dag\" id=\"dag-");
	E(h, d->source);
	H(h, "-");
	E(h, d->dag_id);
	H(h, "\"><h2>");
	E(h, d->dag_id);
	H(h, " <span class=\"mut\">(");
	E(h, d->source);
	HF(h, ")</span> <span class=\"badge %s\">%s</span></h2>\n", report_status_name(d->status),
	   report_status_name(d->status));
	HF(h, "<p>%zu of the last %zu runs failed; in the period %zu of %zu.", an->n_failed, an->n_runs,
	   d->failed_in_period, d->runs_in_period);
	if (d->triage.ui_url) {
		H(h, " <a href=\"");
		E(h, d->triage.ui_url);
		H(h, "\">open in the orchestrator</a>");
	}
	H(h, "</p>\n<h3>runs × tasks</h3>\n");
	grid_svg(h, d);
	legend(h, d);
	for (size_t k = 0; k < d->triage.rk.n_causes && k < 3; k++)
		cause_html(h, d, k);
	if (d->triage.rk.n_causes > 3) {
		HF(h, "<p class=\"mut\">%zu more %s: <code>dagdoc triage ", d->triage.rk.n_causes - 3,
		   DD_PLURAL(d->triage.rk.n_causes - 3, "cause", "causes"));
		E(h, d->dag_id);
		H(h, "</code></p>\n");
	}
	if (an->n_stalls) {
		struct dd_strv v = DD_STRV_INIT;

		for (size_t i = 0; i < an->n_stalls; i++)
			dd_strv_push_owned(&v, dd_xasprintf("%s: %s", an_stall_kind_name(an->stalls[i].kind),
			                                    an->stalls[i].detail));
		html_list(h, "also seen", &v, 8, 0);
		dd_strv_release(&v);
	}
	html_list(h, "notes", &d->triage.rk.notes, 8, 0);
	H(h, "</section>\n");
}

void report_render_html(const struct report *r, const struct report_style *st, FILE *out)
{
	struct html h = { DD_BUF_INIT, st && st->explain };
	char made[32], from[32], hist[160];
	size_t rec = 0, nnew = report_count_new(r, &rec);
	
	triage_format_minute(r->made_ms, made, sizeof(made));
	triage_format_minute(r->from_ms, from, sizeof(from));
	H(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
	      "<title>dagdoc report ");
	E(&h, made);
	H(&h, "</title>\n<style>");
	H(&h, CSS);
	H(&h, "</style></head>\n<body><main>\n<header><h1>dagdoc report</h1><p class=\"mut\">");
	E(&h, made);
	H(&h, " UTC · runs since ");
	E(&h, from);
	H(&h, " (");
	E(&h, r->since);
	H(&h, ")</p></header>\n");

	H(&h, "<section id=\"summary\"><h2>Summary</h2>\n<div class=\"cards\">");
	HF(&h, "<div class=\"card\"><b>%zu</b>DAGs ran</div>", r->n_dags);
	HF(&h, "<div class=\"card failing\"><b>%zu</b>failing</div>", report_count(r, REPORT_FAILING));
	HF(&h, "<div class=\"card recovered\"><b>%zu</b>recovered</div>", report_count(r, REPORT_RECOVERED));
	HF(&h, "<div class=\"card healthy\"><b>%zu</b>healthy</div>", report_count(r, REPORT_HEALTHY));
	HF(&h, "<div class=\"card\"><b>%zu</b>new failures</div>", nnew);
	HF(&h, "<div class=\"card\"><b>%zu</b>recurring</div>", rec);
	H(&h, "</div>\n");
	for (size_t i = 0; i < r->n_sources; i++)
		if (r->sources[i].error) {
			H(&h, "<div class=\"warn\"><b>Source ");
			E(&h, r->sources[i].name);
			H(&h, " could not be read:</b> ");
			E(&h, r->sources[i].error);
			H(&h, "</div>\n");
		}
	if (report_count(r, REPORT_FAILING) + report_count(r, REPORT_RECOVERED)) {
		H(&h, "<div class=\"scroll\"><table id=\"failures\"><tr><th>DAG</th><th>status</th><th>top cause</th><th>history</th></tr>\n");
		for (size_t i = 0; i < r->n_dags; i++) {
			const struct report_dag *d = &r->dags[i];
			size_t k = 0;
			const struct rk_cause *c = report_dag_top(d, &k);

			if (d->status == REPORT_HEALTHY)
				continue;
			H(&h, "<tr><td><a href=\"#dag-");
			E(&h, d->source);
			H(&h, "-");
			E(&h, d->dag_id);
			H(&h, "\">");
			E(&h, d->dag_id);
			H(&h, "</a> <span class=\"mut\">");
			E(&h, d->source);
			HF(&h, "</span></td><td class=\"%s\">%s</td><td>", report_status_name(d->status),
			   report_status_name(d->status));
			if (c) {
				E(&h, c->summary);
				HF(&h, " <span class=\"mut\">%.2f</span></td><td>", c->confidence);
				if (d->marks[k].is_new) {
					H(&h, "<span class=\"badge new\">new</span>");
				} else {
					report_history_text(&d->marks[k], hist, sizeof(hist));
					E(&h, hist);
				}
			} else {
				char why[160];

				if (report_not_running(d, why, sizeof(why)))
					E(&h, why);
				H(&h, "</td><td>");
			}
			H(&h, "</td></tr>\n");
		}
		H(&h, "</table></div>\n");
	}
	if (nnew + rec) {
		H(&h, "<h3>New and recurring failures</h3><ul id=\"new-recurring\">\n");
		for (int pass = 1; pass >= 0; pass--)
			for (size_t i = 0; i < r->n_dags; i++)
				for (size_t k = 0; k < r->dags[i].triage.rk.n_causes; k++) {
					const struct report_dag *d = &r->dags[i];
					const struct rk_cause *c = &d->triage.rk.causes[k];

					if (!d->marks[k].in_report || d->marks[k].dup || d->marks[k].is_new != pass)
						continue;
					H(&h, "<li>");
					history_badge(&h, &d->marks[k]);
					H(&h, " <b>");
					E(&h, d->dag_id);
					H(&h, "</b> <code>");
					E(&h, c->failure);
					H(&h, "</code> <span class=\"mut\">");
					E(&h, c->fingerprint);
					H(&h, "</span></li>\n");
				}
		H(&h, "</ul>\n");
	}
	if (r->n_flaky) {
		H(&h, "<h3>Flaky tasks</h3><ul id=\"flaky\">\n");
		for (size_t i = 0; i < r->n_flaky; i++) {
			const struct report_flaky *f = &r->flaky[i];

			H(&h, "<li><code>");
			E(&h, r->dags[f->dag].dag_id);
			H(&h, ".");
			E(&h, f->task_id);
			HF(&h, "</code> intermittent %.2f: passed on retry %zu×, failed in %zu of %zu runs</li>\n", f->score,
			   f->retry_recovered, f->failed, f->runs);
		}
		H(&h, "</ul>\n");
	}
	if (report_count_degraded(r))
		quiet_html(&h, r);
	if (r->n_fleet) {
		H(&h, "<h3>Causes across the fleet</h3><div class=\"scroll\"><table id=\"fleet\"><tr><th>cause</th><th>DAGs</th><th>best confidence</th></tr>\n");
		for (size_t i = 0; i < r->n_fleet; i++) {
			H(&h, "<tr><td>");
			E(&h, rk_kind_name(r->fleet[i].kind));
			H(&h, "</td><td>");
			for (size_t k = 0; k < r->fleet[i].dags.n; k++) {
				H(&h, k ? ", " : "");
				E(&h, r->fleet[i].dags.v[k]);
			}
			HF(&h, "</td><td>%.2f</td></tr>\n", r->fleet[i].best);
		}
		H(&h, "</table></div>\n");
	}
	if (!r->n_dags) {
		H(&h, "<p>No DAG ran since ");
		E(&h, from);
		H(&h, ".</p>\n");
	}
	H(&h, "</section>\n");

	if (report_count(r, REPORT_FAILING) + report_count(r, REPORT_RECOVERED)) {
		for (size_t i = 0; i < r->n_dags; i++)
			if (r->dags[i].status != REPORT_HEALTHY)
				dag_html(&h, &r->dags[i]);
	}
	if (report_count(r, REPORT_HEALTHY)) {
		H(&h, "<section id=\"healthy\"><h2>Healthy</h2><div class=\"scroll\"><table><tr><th>DAG</th><th>source</th><th>runs in the period</th><th>last runs</th></tr>\n");
		for (size_t i = 0; i < r->n_dags; i++) {
			const struct report_dag *d = &r->dags[i];

			if (d->status != REPORT_HEALTHY)
				continue;
			H(&h, "<tr><td>");
			E(&h, d->dag_id);
			H(&h, "</td><td>");
			E(&h, d->source);
			HF(&h, "</td><td>%zu</td><td>%zu of %zu succeeded</td></tr>\n", d->runs_in_period,
			   d->triage.an.n_success, d->triage.an.n_runs);
		}
		H(&h, "</table></div></section>\n");
	}
	if (r->notes.n) {
		H(&h, "<section id=\"notes\"><h2>Notes</h2><ul>");
		for (size_t i = 0; i < r->notes.n; i++) {
			H(&h, "<li>");
			E(&h, r->notes.v[i]);
			H(&h, "</li>");
		}
		H(&h, "</ul></section>\n");
	}
	H(&h, "<footer class=\"mut\"><p>Made by dagdoc " DD_VERSION ". Hover or tap a grid cell for its state, "
	      "failure category and error.</p></footer>\n</main></body></html>\n");
	fwrite(h.b.data, 1, h.b.len, out);
	dd_buf_release(&h.b);
}

