/*
 * cli.c - helpers shared by the commands: common options, configuration,
 * colour, error printing, the pattern library, and sync with progress.
 */
#include "dagdoc/util.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "dagdoc/classify.h"
#include "dagdoc/cli.h"
#include "dagdoc/connector.h"
#include "dagdoc/gitcorr.h"
#include "dagdoc/http.h"
#include "dagdoc/secrets.h"
#include "dagdoc/store.h"
#include "dagdoc/sync.h"
#include "dagdoc/triage.h"

/* ---- the credential mask on every stream the process writes ------------------ */

struct masked {
	int fd;
	struct dd_buf held;     /* what could be the start of a secret the next write completes */
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes what is certain, masked; keeps the bytes that may begin a secret. */
static int masked_emit(struct masked *m, int final)
{
	struct dd_buf out = DD_BUF_INIT;
	size_t hold = final ? 0 : secrets_hold(dd_buf_str(&m->held), m->held.len);
	size_t n = m->held.len - hold;
	int rc;

	secrets_mask_append(&out, dd_buf_str(&m->held), n);
	rc = write_all(m->fd, dd_buf_str(&out), out.len);
	dd_buf_release(&out);
	if (m->held.data) {
		memmove(m->held.data, m->held.data + n, hold);
		m->held.data[hold] = '\0';
	}
	m->held.len = hold;
	return rc;
}

static ssize_t masked_write(void *cookie, const char *p, size_t n)
{
	struct masked *m = cookie;

	dd_buf_add(&m->held, p, n);
	return masked_emit(m, 0) < 0 ? -1 : (ssize_t)n;
}

static int masked_close(void *cookie)
{
	struct masked *m = cookie;
	int rc = masked_emit(m, 1);

	dd_buf_release(&m->held);
	free(m);
	return rc;
}

static FILE *open_masked(int fd, struct masked **out)
{
	static const cookie_io_functions_t io = { NULL, masked_write, NULL, masked_close };
	struct masked *m = dd_xcalloc(1, sizeof(*m));
	FILE *f;

	m->fd = fd;
	f = fopencookie(m, "w", io);
	if (!f) {
		free(m);
		m = NULL;
	}
	if (out)
		*out = m;
	return f;
}

FILE *cli_mask_fd(int fd)
{
	return open_masked(fd, NULL);
}

static struct masked *held_out, *held_err;

/* At exit, after the last flush: the bytes still held back. */
static void release_held(void)
{
	fflush(stdout);
	fflush(stderr);
	if (held_out)
		masked_emit(held_out, 1);
	if (held_err)
		masked_emit(held_err, 1);
}

static FILE *mask_std(int fd, FILE *orig, int mode, struct masked **held)
{
	FILE *f;

	fflush(orig);
	f = open_masked(fd, held);
	if (!f)
		return orig;
	setvbuf(f, NULL, mode, mode == _IONBF ? 0 : BUFSIZ);
	return f;
}

void cli_mask_streams(void)
{
	stdout = mask_std(STDOUT_FILENO, stdout, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, &held_out);
	stderr = mask_std(STDERR_FILENO, stderr, _IONBF, &held_err);
	atexit(release_held);
}

void cli_put_utf8(FILE *f, const char *s, size_t len)
{
	struct dd_buf b = DD_BUF_INIT;

	dd_utf8_fix(&b, s, len);
	fwrite(dd_buf_str(&b), 1, b.len, f);
	dd_buf_release(&b);
}

int cli_common_option(struct dd_cli *cli, const char *cmd, int opt, char **argv)
{
	switch (opt) {
	case CLI_OPT_CONFIG:
		cli->config_path = optarg;
		return 1;
	case CLI_OPT_STORE:
		cli->store_path = optarg;
		return 1;
	case 'v':
		cli->verbose++;
		return 1;
	case ':':
		cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		return -1;
	case '?':
		if (optopt && optopt < 0x1000)
			cli_usage_error(cmd, "unknown option '-%c'", optopt);
		else
			cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		return -1;
	default:
		return 0;
	}
}

int cli_config(struct dd_cli *cli, const char *cmd, struct dd_config **out)
{
	struct dd_error err = DD_ERROR_INIT;

	if (!cli->cfg_loaded) {
		if (config_load(cli->config_path, &cli->cfg, &err) < 0) {
			cli_error(cmd, &err);
			return -1;
		}
		cli->cfg_loaded = 1;
		for (size_t i = 0; i < cli->cfg.warnings.n; i++)
			cli_warnf("%s", cli->cfg.warnings.v[i]);
	}
	if (out)
		*out = &cli->cfg;
	return 0;
}

char *cli_store_path(struct dd_cli *cli)
{
	if (cli->store_path)
		return dd_xstrdup(cli->store_path);
	if (cli->cfg_loaded && cli->cfg.store_path)
		return dd_xstrdup(cli->cfg.store_path);
	return config_default_store();
}

int cli_open_store(struct dd_cli *cli, const char *cmd, int offline, struct dd_store **out)
{
	struct dd_error err = DD_ERROR_INIT, ro = DD_ERROR_INIT;
	char *path = cli_store_path(cli);
	int rc = store_open(path, out, &err);

	/* --offline only reads: a store this user may not write is read as it is */
	if (rc < 0 && offline && store_open_readonly(path, out, &ro) == 0)
		rc = 0;
	free(path);
	if (rc < 0) {
		cli_error(cmd, &err);
		return -1;
	}
	return 0;
}

int cli_error(const char *cmd, const struct dd_error *err)
{
	fprintf(stderr, "dagdoc %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
	return DD_EXIT_ERROR;
}

int cli_errorf(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dagdoc %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return DD_EXIT_ERROR;
}

void cli_warnf(const char *fmt, ...)
{
	va_list ap;

	fputs("dagdoc: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dagdoc %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see 'dagdoc help %s'\n", cmd);
	return DD_EXIT_ERROR;
}

const char *cli_style(const struct dd_cli *cli, enum cli_style s)
{
	static const char *const seq[] = {
		[CLI_RESET] = "\033[0m", [CLI_BOLD] = "\033[1m", [CLI_DIM] = "\033[2m",
		[CLI_RED] = "\033[31m", [CLI_GREEN] = "\033[32m", [CLI_YELLOW] = "\033[33m",
		[CLI_BLUE] = "\033[34m", [CLI_CYAN] = "\033[36m",
	};

	return cli->color ? seq[s] : "";
}

/* ---- sync, shared by sync, triage and report ------------------------------------ */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
	signal(sig, SIG_DFL);      /* a second Ctrl-C kills at once; the store stays consistent */
}

void cli_format_bytes(uint64_t n, char *out, size_t len)
{
	if (n >= 1000000)
		snprintf(out, len, "%.1f MB", (double)n / 1e6);
	else if (n >= 1000)
		snprintf(out, len, "%.1f kB", (double)n / 1e3);
	else
		snprintf(out, len, "%llu bytes", (unsigned long long)n);
}

static void add_gap(struct dd_buf *b, size_t n, const char *one, const char *many)
{
	if (n)
		dd_buf_addf(b, "%s%zu %s", b->len ? ", " : "", n, n == 1 ? one : many);
}

/* Adds what one sync left out to a total (the first problems kept). */
static void add_gaps(struct dd_sync_stats *to, const struct dd_sync_stats *from)
{
	if (to == from)
		return;
	to->rejected += from->rejected;
	to->runs_incomplete += from->runs_incomplete;
	to->dags_failed += from->dags_failed;
	to->logs_failed += from->logs_failed;
	if (!to->first_problem[0])
		memcpy(to->first_problem, from->first_problem, sizeof(to->first_problem));
	if (!to->first_log_error[0])
		memcpy(to->first_log_error, from->first_log_error, sizeof(to->first_log_error));
}

int cli_sync_gaps(const char *cmd, const struct dd_sync_stats *st, int warn)
{
	struct dd_buf what = DD_BUF_INIT;
	int kinds = !!st->rejected + !!st->runs_incomplete + !!st->dags_failed + !!st->logs_failed;

	add_gap(&what, st->rejected, "object the server sent failed its checks",
	        "objects the server sent failed their checks");
	add_gap(&what, st->runs_incomplete, "run was left out", "runs were left out");
	add_gap(&what, st->dags_failed, "DAG could not be read", "DAGs could not be read");
	if (st->rejected || st->runs_incomplete || st->dags_failed) {
		if (warn)
			cli_warnf("the store is incomplete: %s (first: %s); the next sync fetches them again",
			          what.data, st->first_problem);
		else
			cli_errorf(cmd, "the store is incomplete: %s (first: %s); what they belong to was not "
			           "stored: run sync again to fetch it", what.data, st->first_problem);
	}
	if (st->logs_failed) {
		if (warn)
			cli_warnf("%zu log%s could not be fetched (first: %s); the next sync fetches them again",
			          st->logs_failed, st->logs_failed == 1 ? "" : "s", st->first_log_error);
		else
			cli_errorf(cmd, "%zu log%s could not be fetched (first: %s); run sync again to fetch them",
			           st->logs_failed, st->logs_failed == 1 ? "" : "s", st->first_log_error);
	}
	dd_buf_release(&what);
	return kinds;
}

struct progress_ctx {
	const char *source;
	int shown;
};

static void on_progress(const struct dd_sync_stats *st, void *ud)
{
	struct progress_ctx *p = ud;
	char bytes[32];

	cli_format_bytes(st->log_bytes, bytes, sizeof(bytes));
	fprintf(stderr, "\rsync %s: %zu runs, %zu logs, %s, %llu retries\033[K", p->source,
	        st->runs_listed, st->logs, bytes, (unsigned long long)st->retries);
	fflush(stderr);
	p->shown = 1;
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

int cli_run_sync(struct dd_cli *cli, const char *cmd, const struct dd_source *src,
                 struct dd_store *store, const char *const *dag_ids, size_t n, int64_t since_s,
                 unsigned flags, struct dd_sync_stats *stats, char *describe, size_t describe_len,
                 struct dd_error *err_out)
{
	struct dd_sync_options opts;
	struct dd_sync_stats local;
	struct dd_error err = DD_ERROR_INIT;
	struct progress_ctx pc = { src->name, 0 };
	struct sigaction sa, old_int, old_term;
	struct dd_conn *conn = NULL;
	const char *slow = getenv("DAGDOC_TEST_SLOW_BATCH");
	long slow_batch_no = 0;
	int rc;

	if (!stats)
		stats = &local;
	memset(&opts, 0, sizeof(opts));
	opts.dag_ids = dag_ids;
	opts.n_dag_ids = n;
	opts.since_ms = dd_now_ms() - since_s * 1000;
	opts.interrupted = &got_signal;
	if (isatty(STDERR_FILENO)) {
		opts.progress = on_progress;
		opts.progress_ud = &pc;
	}
	if (slow && *slow) {
		slow_batch_no = strtol(slow, NULL, 10);
		opts.batch_hook = slow_batch;
		opts.batch_hook_ud = &slow_batch_no;
	}
	http_set_log_hook(http_log_to_stderr, NULL);
	rc = conn_open(src, cli->verbose, &conn, &err);
	if (rc == 0) {
		if (describe)
			snprintf(describe, describe_len, "%s", conn_describe(conn));
		got_signal = 0;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		if (!(flags & CLI_SYNC_SKIP_MISSING) || !n) {
			rc = sync_run(store, conn, src, &opts, stats, &err);
		} else {
			struct dd_sync_stats gaps;

			memset(&gaps, 0, sizeof(gaps));
			for (size_t i = 0; i < n; i++) {
				opts.dag_ids = dag_ids + i;
				opts.n_dag_ids = 1;
				rc = sync_run(store, conn, src, &opts, stats, &err);
				add_gaps(&gaps, stats);
				if (rc == DD_ENOTFOUND) {      /* another source may have it */
					rc = 0;
					dd_error_clear(&err);
					continue;
				}
				if (rc < 0)
					break;
			}
			/* what any of them left out, not only the last */
			stats->rejected = stats->runs_incomplete = stats->dags_failed = stats->logs_failed = 0;
			stats->first_problem[0] = stats->first_log_error[0] = '\0';
			add_gaps(stats, &gaps);
		}
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		if (pc.shown)
			fputs("\r\033[K", stderr);
		conn_close(conn);
	}
	if (rc < 0) {
		if (!(flags & CLI_SYNC_QUIET))
			cli_error(cmd, &err);
		if (err_out)
			*err_out = err;
	} else if (!(flags & CLI_SYNC_NO_GAPS)) {
		cli_sync_gaps(cmd, stats, 1);
	}
	return rc < 0 ? rc : 0;
}

struct pat_library *cli_patterns(struct dd_cli *cli, const char *cmd)
{
	struct dd_config *cfg;
	struct pat_library *lib = NULL;
	struct dd_strv problems = DD_STRV_INIT;
	struct dd_error err = DD_ERROR_INIT;

	if (cli_config(cli, cmd, &cfg) < 0)
		return NULL;
	if (classify_library_load(NULL, &cfg->pattern_dirs, &lib, &problems, &err) < 0) {
		for (size_t i = 0; i < problems.n; i++)
			fprintf(stderr, "%s\n", problems.v[i]);
		if (!problems.n)
			cli_error(cmd, &err);
		else
			fprintf(stderr, "dagdoc %s: the pattern library has %zu problem(s); fix them and run again\n",
			        cmd, problems.n);
		dd_strv_release(&problems);
		return NULL;
	}
	dd_strv_release(&problems);
	return lib;
}

/* ---- the DAG and repositories of triage, report and runbook ------------------- */

static int on_stored_dag(const struct dd_store_dag *d, void *ud)
{
	dd_closest_offer(ud, d->dag_id);
	return 0;
}

/* "no DAG named X in the store; did you mean Y?" */
static void no_such_dag(const char *cmd, struct dd_store *store, const char *dag_id, int offline)
{
	struct dd_closest near = DD_CLOSEST_INIT(dag_id);
	struct dd_error err = DD_ERROR_INIT;

	store_dags(store, 0, on_stored_dag, &near, &err);
	if (dd_closest_pick(&near))
		cli_errorf(cmd, "no DAG named '%s' in the store; did you mean '%s'?", dag_id, dd_closest_pick(&near));
	else if (offline)
		cli_errorf(cmd, "no DAG named '%s' in the store; run 'dagdoc sync' first or drop --offline", dag_id);
	else
		cli_errorf(cmd, "no DAG named '%s' in the store", dag_id);
	dd_closest_release(&near);
}

int cli_find_dag(struct dd_cli *cli, const char *cmd, struct dd_store *store, const char *source_name,
                 int offline, const char *dag_id, int64_t since_s, int quiet_missing,
                 struct dd_source **src, int64_t *dag_ref)
{
	struct dd_config *cfg;
	struct dd_error err = DD_ERROR_INIT;

	*src = NULL;
	if (cli_config(cli, cmd, &cfg) < 0)
		return -1;
	if (!offline || source_name) {
		if (config_find_source(cfg, source_name, src, &err) < 0) {
			cli_error(cmd, &err);
			if (!offline && !cfg->n_sources)
				fprintf(stderr, "hint: 'dagdoc %s --offline' reads what the store already holds\n", cmd);
			return -1;
		}
	}
	if (!offline) {
		const char *ids[1] = { dag_id };

		if (cli_run_sync(cli, cmd, *src, store, ids, 1, since_s, 0, NULL, NULL, 0, NULL) < 0)
			return -1;
	}
	if (store_dag_ref(store, *src ? (*src)->name : NULL, dag_id, dag_ref, &err) < 0) {
		if (quiet_missing)
			return 1;
		no_such_dag(cmd, store, dag_id, offline);
		return -1;
	}
	/* Offline without --source: the configured source the stored DAG is from. */
	for (size_t i = 0; !*src && i < cfg->n_sources; i++) {
		int64_t ref;
		struct dd_error e2 = DD_ERROR_INIT;

		if (store_dag_ref(store, cfg->sources[i].name, dag_id, &ref, &e2) == 0 && ref == *dag_ref)
			*src = &cfg->sources[i];
	}
	return 0;
}

/* Syncs the DAGs the failures name as upstream (a sensor's upstream_dag)
 * that are not the triaged one; returns how many were synced. */
static size_t sync_upstream_dags(struct dd_cli *cli, const char *cmd, const struct dd_source *src,
                                 struct dd_store *store, const struct triage_result *t, int64_t since_s)
{
	struct dd_strv ids = DD_STRV_INIT;
	size_t synced = 0;

	for (size_t i = 0; i < t->an.n_groups; i++) {
		const char *up = dd_failure_entity(&t->an.groups[i].failure, "upstream_dag");

		if (up && strcmp(up, t->an.dag_id) && !dd_strv_contains(&ids, up))
			dd_strv_push(&ids, up);
	}
	for (size_t i = 0; i < ids.n; i++) {
		const char *one[1] = { ids.v[i] };

		if (cli_run_sync(cli, cmd, src, store, one, 1, since_s, 0, NULL, NULL, 0, NULL) == 0)
			synced++;
		else
			cli_warnf("could not sync %s, the upstream DAG a sensor of %s waits on; %s goes on without it",
			          ids.v[i], t->an.dag_id, cmd);
	}
	dd_strv_release(&ids);
	return synced;
}

int cli_triage(struct dd_cli *cli, const char *cmd, struct dd_store *store, const struct dd_source *src,
               int64_t dag_ref, const struct pat_library *lib, struct gitcorr_repo **repos, size_t n_repos,
               int64_t since_s, int offline, struct triage_result *t)
{
	struct dd_error err = DD_ERROR_INIT;

	if (triage_dag(store, dag_ref, lib, repos, n_repos, since_s, t, &err) < 0) {
		cli_error(cmd, &err);
		return -1;
	}
	if (!offline && src && sync_upstream_dags(cli, cmd, src, store, t, since_s)) {
		/* A sensor waits on other DAGs: with their history stored, look again. */
		triage_release(t);
		if (triage_dag(store, dag_ref, lib, repos, n_repos, since_s, t, &err) < 0) {
			cli_error(cmd, &err);
			return -1;
		}
	}
	t->ui_url = triage_ui_url(src, t);
	return 0;
}

size_t cli_open_repos(const struct dd_config *cfg, struct gitcorr_repo ***out)
{
	struct gitcorr_repo **v = dd_xcalloc(cfg->n_repos + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_repos; i++) {
		struct dd_error err = DD_ERROR_INIT;

		if (gitcorr_open(&cfg->repos[i], &v[n], &err) < 0)
			cli_warnf("%s; git correlation skips it", err.msg);
		else
			n++;
	}
	*out = v;
	return n;
}

void cli_close_repos(struct gitcorr_repo **repos, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gitcorr_close(repos[i]);
	free(repos);
}
