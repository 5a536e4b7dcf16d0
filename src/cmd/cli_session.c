/*
 * cli_session.c - a session (session.h) as a terminal wants it: the
 * progress line, Ctrl-C during a sync, HTTP traces, notes as warnings.
 */
#include "dagdoc/util.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dagdoc/http.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
	signal(sig, SIG_DFL);      /* a second Ctrl-C kills at once; the store stays consistent */
}

/* What the hooks of one session keep. */
#define PROGRESS_SOURCES 16        /* sources shown at once, one line each */
struct terminal {
	int progress_shown;        /* lines of the progress display on screen */
	int64_t started_ms;        /* the sync's first progress call */
	int64_t drawn_ms;          /* the display's last redraw */
	const char *sources[PROGRESS_SOURCES];   /* the line of each, in order of first report */
	char lines[PROGRESS_SOURCES][200];
	struct sigaction old_int, old_term;
	long slow_batch;
};

static struct terminal term;

/* One line per source, redrawn in place (sources synced at once share
 * the display, a line each): DAGs whose runs are in, runs, logs, bytes,
 * retries and the time left.  The time left is the pace so far over the
 * work known: runs to fetch, then logs to fetch (a log counts as a run).
 * Sync reports every run and log written: the display is redrawn at most
 * every PROGRESS_REDRAW_MS, and always for a new source or one done. */
#define PROGRESS_REDRAW_MS 100
static void on_progress(const char *source, const struct dd_sync_stats *st, void *ud)
{
	struct terminal *t = ud;
	char bytes[32], eta[48] = "";
	int64_t now = dd_now_ms();
	size_t done = st->runs_fetched + st->logs_done, todo = st->runs_to_fetch + st->logs_planned;
	int line = 0, shown = t->progress_shown;

	if (!t->started_ms)
		t->started_ms = now;
	while (line < PROGRESS_SOURCES - 1 && t->sources[line] && strcmp(t->sources[line], source))
		line++;
	t->sources[line] = source;
	if (done && done < todo && now > t->started_ms + 2000) {
		char left[24];

		dd_format_duration((double)(now - t->started_ms) / 1000.0 / (double)done * (double)(todo - done), left,
		                   sizeof(left));
		snprintf(eta, sizeof(eta), ", about %s left", left);
	}
	cli_format_bytes(st->bytes, bytes, sizeof(bytes));
	snprintf(t->lines[line], sizeof(t->lines[line]), "sync %s: %zu of %zu %s, %zu of %zu %s, %zu %s, %s, %llu %s%s",
	         source, st->dags_done, st->dags_total, DD_PLURAL(st->dags_total, "DAG", "DAGs"), st->runs_fetched,
	         st->runs_to_fetch, DD_PLURAL(st->runs_to_fetch, "run", "runs"), st->logs,
	         DD_PLURAL(st->logs, "log", "logs"), bytes, (unsigned long long)st->retries,
	         DD_PLURAL(st->retries, "retry", "retries"), eta);
	if (line + 1 > t->progress_shown)
		t->progress_shown = line + 1;
	else if (now - t->drawn_ms < PROGRESS_REDRAW_MS && (st->dags_done < st->dags_total || done < todo))
		return;
	t->drawn_ms = now;
	/* back to the first line, then every line again */
	if (shown > 1)
		fprintf(stderr, "\033[%dA", shown - 1);
	for (int i = 0; i < t->progress_shown; i++)
		fprintf(stderr, "\r%s\033[K%s", t->lines[i], i + 1 < t->progress_shown ? "\n" : "");
	fflush(stderr);
}

static void on_step(const char *what, void *ud)
{
	(void)ud;
	if (what)
		fprintf(stderr, "\r%s…\033[K", what);
	else
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

/* Ctrl-C and SIGTERM stop a sync after its current batch. */
static void sync_guard(int on, void *ud)
{
	struct terminal *t = ud;
	struct sigaction sa;

	if (on) {
		got_signal = 0;
		t->started_ms = 0;
		memset(t->sources, 0, sizeof(t->sources));
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &t->old_int);
		sigaction(SIGTERM, &sa, &t->old_term);
		return;
	}
	sigaction(SIGINT, &t->old_int, NULL);
	sigaction(SIGTERM, &t->old_term, NULL);
	/* the display goes: every line cleared, the cursor back on the first */
	for (int i = 0; i < t->progress_shown; i++)
		fputs(i ? "\033[A\r\033[K" : "\r\033[K", stderr);
	t->progress_shown = 0;
}

/* TEST ONLY: DAGDOC_TEST_SLOW_BATCH=N prints "test: batch K open" inside
 * every run batch's transaction and holds batch N open (up to 60 s, or
 * until a signal) before its commit, so the crash tests
 * (tests/e2e/store_crash.sh) can SIGKILL or SIGINT a writer mid-batch. */
static void slow_batch(size_t batch, void *ud)
{
	long target = *(long *)ud;
	struct timespec ts = { 60, 0 };

	fprintf(stderr, "dagdoc sync: test: batch %zu open\n", batch);
	fflush(stderr);
	if ((long)batch != target)
		return;
	while (nanosleep(&ts, &ts) && !got_signal)
		;
}

/* HTTP traces (--verbose) and warnings (TLS verification off), redacted by http.c. */
static void http_log_to_stderr(int level, const char *line, void *ud)
{
	(void)ud;
	if (level == HTTP_LOG_WARN)
		cli_warnf("%s", line);
	else
		fprintf(stderr, "dagdoc: http: %s\n", line);
}

int cli_session_open(struct dd_cli *cli, const char *cmd, int offline, struct dd_session *s)
{
	struct dd_config *cfg;
	struct dd_error err = DD_ERROR_INIT;
	const char *slow = getenv("DAGDOC_TEST_SLOW_BATCH");
	char *path;
	int rc;

	memset(s, 0, sizeof(*s));
	if (cli_config(cli, cmd, &cfg) < 0)
		return -1;
	path = cli_store_path(cli);
	rc = session_open(s, cfg, path, offline, &err);
	free(path);
	if (rc < 0) {
		cli_error(cmd, &err);
		return -1;
	}
	memset(&term, 0, sizeof(term));
	s->hooks.ud = &term;
	s->hooks.sync_guard = sync_guard;
	s->hooks.interrupted = &got_signal;
	s->hooks.verbose = cli->verbose;
	if (isatty(STDERR_FILENO)) {
		s->hooks.progress = on_progress;
		s->hooks.step = on_step;
	}
	if (slow && *slow) {
		term.slow_batch = strtol(slow, NULL, 10);
		s->hooks.batch_hook = slow_batch;
		s->hooks.batch_hook_ud = &term.slow_batch;
	}
	http_set_log_hook(http_log_to_stderr, NULL);
	return 0;
}

void cli_session_close(struct dd_session *s)
{
	cli_notes(s);
	session_close(s);
}

void cli_notes(struct dd_session *s)
{
	for (size_t i = 0; i < s->notes.n; i++)
		cli_warnf("%s", s->notes.v[i]);
	dd_strv_release(&s->notes);
}

int cli_session_error(const char *cmd, struct dd_session *s, const struct dd_error *err)
{
	cli_notes(s);
	for (size_t i = 0; i < s->lib_problems.n; i++)
		fprintf(stderr, "%s\n", s->lib_problems.v[i]);
	dd_strv_release(&s->lib_problems);
	return cli_error(cmd, err);
}

int cli_dag_option(struct cli_dag_opts *o, const char *cmd, int opt)
{
	struct dd_error err = DD_ERROR_INIT;

	switch (opt) {
	case CLI_OPT_SOURCE: o->source = optarg; return 1;
	case CLI_OPT_SINCE:
		if (dd_parse_duration(optarg, &o->since_s, &err) < 0) {
			cli_usage_error(cmd, "--since: %s", err.msg);
			return -1;
		}
		return 1;
	case CLI_OPT_REPO: dd_strv_push(&o->repos, optarg); return 1;
	case CLI_OPT_OFFLINE: o->offline = 1; return 1;
	default: return 0;
	}
}

int cli_dag_session(struct dd_cli *cli, const char *cmd, struct cli_dag_opts *o, struct dd_session *s)
{
	if (cli_session_open(cli, cmd, o->offline, s) < 0)
		return -1;
	for (size_t i = 0; i < o->repos.n; i++)
		config_add_repo(s->cfg, o->repos.v[i]);
	return 0;
}

void cli_dag_opts_release(struct cli_dag_opts *o)
{
	dd_strv_release(&o->repos);
}
