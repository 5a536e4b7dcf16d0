/*
 * logdir.c - the "logs" connector: reads an Airflow task log folder with
 * no API at all.
 *
 * Layouts (relative to the source's path, Airflow's base_log_folder):
 *   dag_id=D/run_id=R/task_id=T/attempt=N.log                (Airflow 2.x, 3.x)
 *   dag_id=D/run_id=R/task_id=T/map_index=M/attempt=N.log    (mapped tasks)
 *   D/T/EXECUTION_DATE/N.log                                  (Airflow 1.10 / 2.0)
 * Runs, task instances and tries are inferred from the paths and from the
 * logs' own lines: "Starting attempt N of M", "Marking task as STATE",
 * "Task exited with return code N", Airflow 3's JSON "final_state".
 * A folder is scanned once per connector (one command); symlinks are
 * followed only when they resolve inside the folder.
 */
#include "dagdoc/util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn_impl.h"

#define HEAD_SCAN 32768        /* bytes of a log read for its opening lines */
#define TAIL_SCAN 65536        /* bytes read for its closing lines */
#define LOG_HEAD_KEEP 65536    /* a capped log keeps this much of its start */

struct ld_try {
	int try_number;
	enum dd_state state;
	int max_tries;             /* "of M" of "Starting attempt N of M", 0 unknown */
	int64_t start_ms, end_ms;
	char *hostname;
	char *operator_name;
	char *path;                /* resolved, inside the folder */
};

struct ld_ti {
	char *task_id;
	int map_index;
	struct ld_try *tries;
	size_t n_tries, cap;
};

struct ld_run {
	char *run_id;
	char *run_type;
	int64_t logical_ms;
	enum dd_state state;
	int64_t start_ms, end_ms;
	struct ld_ti *tis;
	size_t n_tis, cap;
};

struct ld_dag {
	char *dag_id;
	char *dir;                 /* resolved */
	int old_layout;
	int scanned;
	char *fileloc;
	struct ld_run *runs;
	size_t n_runs, cap;
};

struct ld_impl {
	char *root;                /* realpath of the folder */
	struct ld_dag *dags;
	size_t n_dags, cap;
};

/* ---- paths ------------------------------------------------------------------ */

/* Resolves dir/name; returns it (allocated) only when it lies inside the
 * folder and is of the wanted type (S_IFDIR or S_IFREG). */
static char *inside(const struct ld_impl *im, const char *dir, const char *name, mode_t type)
{
	char *joined = dd_xasprintf("%s/%s", dir, name);
	char *real = realpath(joined, NULL);
	size_t rl = strlen(im->root);
	struct stat st;

	free(joined);
	if (!real)
		return NULL;
	if (rl > 1 && (strncmp(real, im->root, rl) || (real[rl] != '/' && real[rl] != '\0'))) {
		free(real);
		return NULL;
	}
	if (stat(real, &st) || (st.st_mode & S_IFMT) != type) {
		free(real);
		return NULL;
	}
	return real;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted (allocated vector). */
static void list_dir(const char *dir, struct dd_strv *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			dd_strv_push(out, e->d_name);
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(char *),
		      cmp_str);
}

/* ---- reading logs ---------------------------------------------------------- */

static void strip_cr(char *line)
{
	size_t n = strlen(line);

	if (n && line[n - 1] == '\r')
		line[n - 1] = '\0';
}

/* A time at the start of a text line ("[2024-07-02T15:20:01.213+0000] ...",
 * "[2022-06-04 00:00:01,910] ..."), or in a JSON line's "timestamp". */
static int line_time(const char *line, cJSON *json, int64_t *out)
{
	if (json) {
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(json, "timestamp");

		return cJSON_IsString(ts) ? dd_parse_time(ts->valuestring, out) : -1;
	}
	if (line[0] == '[') {
		const char *end = strchr(line, ']');
		char buf[64];

		if (!end || (size_t)(end - line - 1) >= sizeof(buf))
			return -1;
		memcpy(buf, line + 1, (size_t)(end - line - 1));
		buf[end - line - 1] = '\0';
		/* The UI's form "[2025-04-11, 12:39:33 UTC]" (copied logs). */
		if (strlen(buf) > 12 && buf[10] == ',' && buf[11] == ' ')
			memmove(buf + 10, buf + 11, strlen(buf + 11) + 1);
		return dd_parse_time(buf, out);
	}
	return -1;
}

/* The text after `key` up to any of `stops` (allocated), or NULL. */
static char *after(const char *line, const char *key, const char *stops)
{
	const char *p = strstr(line, key);
	size_t n;

	if (!p)
		return NULL;
	p += strlen(key);
	n = strcspn(p, stops);
	return n ? dd_xstrndup(p, n) : NULL;
}

struct scan {
	int64_t first_ms, last_ms;
	int max_tries;
	char *hostname, *operator_name, *fileloc;
	enum dd_state marked;      /* "Marking task as X" / final_state */
	int rc;                    /* return code (negative: killed by a signal) */
	int have_rc;
	int saw_error;
};

/* "1", "-9", or Airflow's "Negsignal.SIGKILL" (a process killed by a
 * signal): the latter as minus the signal number. */
static int parse_return_code(const char *s)
{
	static const struct {
		const char *name;
		int num;
	} sigs[] = {
		{ "SIGKILL", 9 }, { "SIGTERM", 15 }, { "SIGSEGV", 11 }, { "SIGABRT", 6 },
		{ "SIGINT", 2 }, { "SIGBUS", 7 }, { "SIGHUP", 1 }, { "SIGILL", 4 }, { "SIGFPE", 8 },
	};

	if (dd_starts_with(s, "Negsignal.")) {
		s += 10;
		for (size_t i = 0; i < DD_ARRAY_SIZE(sigs); i++)
			if (dd_starts_with(s, sigs[i].name))
				return -sigs[i].num;
		return -1;       /* some other signal: still not a success */
	}
	return atoi(s);
}

static void scan_line(struct scan *sc, char *line, int in_head)
{
	cJSON *json = NULL;
	const char *text = line;
	int64_t t;
	char *v;

	strip_cr(line);
	if (line[0] == '{' && (json = cJSON_Parse(line))) {
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(json, "event");
		const cJSON *fs = cJSON_GetObjectItemCaseSensitive(json, "final_state");
		const cJSON *lv = cJSON_GetObjectItemCaseSensitive(json, "level");

		text = cJSON_IsString(ev) ? ev->valuestring : "";
		if (cJSON_IsString(fs))
			sc->marked = dd_state_parse(fs->valuestring);
		if (cJSON_IsString(lv) && !strcmp(lv->valuestring, "error") &&
		    (strstr(text, "Task failed with exception") || strstr(text, "Task killed")))
			sc->saw_error = 1;
		if (strstr(text, "Process exited abnormally"))
			sc->saw_error = 1;
		if (!strcmp(text, "Task finished")) {
			const cJSON *ec = cJSON_GetObjectItemCaseSensitive(json, "exit_code");

			if (cJSON_IsNumber(ec)) {
				sc->rc = ec->valueint;
				sc->have_rc = 1;
			}
		}
	}
	if (line_time(line, json, &t) == 0) {
		if (!sc->first_ms)
			sc->first_ms = t;
		if (t > sc->last_ms)
			sc->last_ms = t;
	}
	if (in_head) {
		const char *p = strstr(text, "Starting attempt ");

		if (p) {
			const char *of = strstr(p, " of ");

			if (of)
				sc->max_tries = atoi(of + 4);
		}
		if (!sc->hostname && strstr(text, "Running <TaskInstance:"))
			sc->hostname = after(text, "> on host ", " \t\r\n");
		if (!sc->operator_name && (v = after(text, "Executing <Task(", ")")))
			sc->operator_name = v;
		if (!sc->fileloc && (v = after(text, "'--subdir', '", "'")))
			sc->fileloc = v;
		if (!sc->fileloc && (v = after(text, "Filling up the DagBag from ", " \t\r\n")))
			sc->fileloc = v;
	}
	{
		const char *m = strstr(text, "Marking task as ");

		if (m) {
			char st[32];
			size_t n = strcspn(m + 16, ". \t");

			if (n < sizeof(st)) {
				memcpy(st, m + 16, n);
				st[n] = '\0';
				sc->marked = dd_state_parse(st);
			}
		}
		if (strstr(text, "Pausing task as DEFERRED"))
			sc->marked = DD_STATE_DEFERRED;
		if ((m = strstr(text, "Task exited with return code "))) {
			sc->rc = parse_return_code(m + 29);
			sc->have_rc = 1;
		}
		if (strstr(text, "ERROR - Task failed with exception"))
			sc->saw_error = 1;
	}
	cJSON_Delete(json);
}

static void scan_block(struct scan *sc, char *buf, size_t len, int in_head, int skip_first)
{
	char *p = buf, *end = buf + len;

	if (skip_first) {
		char *nl = memchr(p, '\n', len);

		p = nl ? nl + 1 : end;
	}
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			nl = end;
		*nl = '\0';
		scan_line(sc, p, in_head);
		p = nl + 1;
	}
}

static ssize_t read_at(int fd, char *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, off + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : (ssize_t)got;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Infers one try from its log file's first and last lines. */
static void scan_try(struct ld_try *t, struct dd_conn *c, char **fileloc)
{
	struct scan sc = { .rc = 0 };
	struct stat st;
	int fd = open(t->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char *buf;
	size_t size;

	t->state = DD_STATE_RUNNING;
	if (fd < 0)
		return;
	if (fstat(fd, &st)) {
		close(fd);
		return;
	}
	size = (size_t)st.st_size;
	buf = dd_xmalloc((size <= HEAD_SCAN + TAIL_SCAN ? size : HEAD_SCAN + TAIL_SCAN) + 1);
	if (size <= HEAD_SCAN + TAIL_SCAN) {
		ssize_t n = read_at(fd, buf, size, 0);

		if (n >= 0)
			scan_block(&sc, buf, (size_t)n, 1, 0);
		c->stats.bytes += n > 0 ? (uint64_t)n : 0;
	} else {
		ssize_t n = read_at(fd, buf, HEAD_SCAN, 0);

		if (n > 0) {
			/* Only whole lines of the head. */
			char *nl = memrchr(buf, '\n', (size_t)n);

			scan_block(&sc, buf, nl ? (size_t)(nl - buf) : (size_t)n, 1, 0);
			c->stats.bytes += (uint64_t)n;
		}
		n = read_at(fd, buf, TAIL_SCAN, (off_t)(size - TAIL_SCAN));
		if (n > 0) {
			scan_block(&sc, buf, (size_t)n, 0, 1);
			c->stats.bytes += (uint64_t)n;
		}
	}
	c->stats.requests++;
	free(buf);
	close(fd);

	t->start_ms = sc.first_ms;
	t->end_ms = sc.last_ms;
	t->max_tries = sc.max_tries;
	t->hostname = sc.hostname;
	t->operator_name = sc.operator_name;
	if (fileloc && !*fileloc)
		*fileloc = sc.fileloc;
	else
		free(sc.fileloc);
	if (sc.marked != DD_STATE_UNKNOWN)
		t->state = sc.marked;
	else if (sc.have_rc && sc.rc == 0)
		t->state = DD_STATE_SUCCESS;
	else if (sc.have_rc && sc.rc == 100)
		t->state = DD_STATE_DEFERRED;
	else if (sc.have_rc || sc.saw_error)   /* non-zero, or -9 (SIGKILL, OOM) */
		t->state = DD_STATE_FAILED;
	if (!dd_state_is_terminal(t->state) && t->state != DD_STATE_UP_FOR_RETRY &&
	    t->state != DD_STATE_UP_FOR_RESCHEDULE)
		t->end_ms = 0;
}

/* ---- building the model ----------------------------------------------------- */

static struct ld_run *get_run(struct ld_dag *d, const char *run_id)
{
	struct ld_run *r;

	for (size_t i = 0; i < d->n_runs; i++)
		if (!strcmp(d->runs[i].run_id, run_id))
			return &d->runs[i];
	DD_GROW(d->runs, d->cap, d->n_runs + 1);
	r = &d->runs[d->n_runs++];
	memset(r, 0, sizeof(*r));
	r->run_id = dd_xstrdup(run_id);
	return r;
}

static struct ld_ti *get_ti(struct ld_run *r, const char *task_id, int map_index)
{
	struct ld_ti *ti;

	for (size_t i = 0; i < r->n_tis; i++)
		if (!strcmp(r->tis[i].task_id, task_id) && r->tis[i].map_index == map_index)
			return &r->tis[i];
	DD_GROW(r->tis, r->cap, r->n_tis + 1);
	ti = &r->tis[r->n_tis++];
	memset(ti, 0, sizeof(*ti));
	ti->task_id = dd_xstrdup(task_id);
	ti->map_index = map_index;
	return ti;
}

/* "attempt=3.log" (new) or "3.log" (old) -> 3; 0 when not a try log. */
static int try_number_of(const char *name, int old_layout)
{
	const char *p = name;
	char *end;
	long v;

	if (!old_layout) {
		if (!dd_starts_with(name, "attempt="))
			return 0;
		p += 8;
	}
	if (*p < '0' || *p > '9')
		return 0;
	v = strtol(p, &end, 10);
	if (strcmp(end, ".log") || v < 1 || v > 100000)
		return 0;
	return (int)v;
}

static void add_try(struct ld_ti *ti, int number, char *path)
{
	struct ld_try *t;

	for (size_t i = 0; i < ti->n_tries; i++)
		if (ti->tries[i].try_number == number) {
			free(path);
			return;
		}
	DD_GROW(ti->tries, ti->cap, ti->n_tries + 1);
	t = &ti->tries[ti->n_tries++];
	memset(t, 0, sizeof(*t));
	t->try_number = number;
	t->path = path;
}

/* Adds the attempt files in dir to (run, task, map_index). */
static void scan_attempts(struct ld_impl *im, struct ld_dag *d, const char *dir,
                          const char *run_id, const char *task_id, int map_index)
{
	struct dd_strv names = DD_STRV_INIT;

	list_dir(dir, &names);
	for (size_t i = 0; i < names.n; i++) {
		int n = try_number_of(names.v[i], d->old_layout);
		char *path;

		if (!n || !(path = inside(im, dir, names.v[i], S_IFREG)))
			continue;
		add_try(get_ti(get_run(d, run_id), task_id, map_index), n, path);
	}
	dd_strv_release(&names);
}

static int cmp_try(const void *a, const void *b)
{
	const struct ld_try *x = a, *y = b;

	return (x->try_number > y->try_number) - (x->try_number < y->try_number);
}

static int cmp_ti(const void *a, const void *b)
{
	const struct ld_ti *x = a, *y = b;
	int c = strcmp(x->task_id, y->task_id);

	return c ? c : (x->map_index > y->map_index) - (x->map_index < y->map_index);
}

static int cmp_run(const void *a, const void *b)
{
	const struct ld_run *x = a, *y = b;

	if (x->logical_ms != y->logical_ms)
		return x->logical_ms < y->logical_ms ? -1 : 1;
	return strcmp(x->run_id, y->run_id);
}

/* The logical date in a run id: "scheduled__2026-03-04T02:00:00+00:00",
 * with ':' possibly written as U+F03A (Airflow on file systems that forbid
 * ':'), or a bare execution date (old layout). */
static int run_id_time(const char *run_id, int64_t *out)
{
	const char *p = strstr(run_id, "__");
	struct dd_buf b = DD_BUF_INIT;
	int rc;

	p = p ? p + 2 : run_id;
	for (; *p; p++) {
		if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0x80 &&
		    (unsigned char)p[2] == 0xBA) {
			dd_buf_addch(&b, ':');
			p += 2;
		} else {
			dd_buf_addch(&b, *p);
		}
	}
	rc = dd_parse_time(dd_buf_str(&b), out);
	dd_buf_release(&b);
	return rc;
}

static void finish_run(struct ld_run *r, struct dd_conn *c, char **fileloc)
{
	int any_failed = 0, any_open = 0;
	int64_t first = 0;

	qsort(r->tis, r->n_tis, sizeof(*r->tis), cmp_ti);
	for (size_t i = 0; i < r->n_tis; i++) {
		struct ld_ti *ti = &r->tis[i];
		struct ld_try *last;

		qsort(ti->tries, ti->n_tries, sizeof(*ti->tries), cmp_try);
		for (size_t j = 0; j < ti->n_tries; j++) {
			struct ld_try *t = &ti->tries[j];

			scan_try(t, c, fileloc);
			/* A try followed by another one did end, and was retried. */
			if (j + 1 < ti->n_tries &&
			    (t->state == DD_STATE_FAILED || !dd_state_is_terminal(t->state)) &&
			    t->state != DD_STATE_UP_FOR_RESCHEDULE && t->state != DD_STATE_DEFERRED)
				t->state = DD_STATE_UP_FOR_RETRY;
			if (t->start_ms && (!first || t->start_ms < first))
				first = t->start_ms;
			if (t->start_ms && (!r->start_ms || t->start_ms < r->start_ms))
				r->start_ms = t->start_ms;
			if (t->end_ms > r->end_ms)
				r->end_ms = t->end_ms;
		}
		last = &ti->tries[ti->n_tries - 1];
		if (dd_state_is_failure(last->state))
			any_failed = 1;
		else if (!dd_state_is_terminal(last->state))
			any_open = 1;
	}
	/* Like Airflow: a run is finished when all its tasks are. */
	r->state = any_open ? DD_STATE_RUNNING : any_failed ? DD_STATE_FAILED : DD_STATE_SUCCESS;
	if (!dd_state_is_terminal(r->state))
		r->end_ms = 0;
	if (run_id_time(r->run_id, &r->logical_ms) < 0)
		r->logical_ms = first;
	{
		const char *sep = strstr(r->run_id, "__");

		if (sep && sep > r->run_id)
			r->run_type = dd_xstrndup(r->run_id, (size_t)(sep - r->run_id));
	}
}

static void scan_dag(struct dd_conn *c, struct ld_dag *d)
{
	struct ld_impl *im = c->impl;
	struct dd_strv runs = DD_STRV_INIT;

	if (d->scanned)
		return;
	d->scanned = 1;
	list_dir(d->dir, &runs);
	for (size_t i = 0; i < runs.n; i++) {
		struct dd_strv tasks = DD_STRV_INIT;
		const char *run_id = runs.v[i];
		char *rdir;

		if (!d->old_layout && !dd_starts_with(run_id, "run_id="))
			continue;
		if (!d->old_layout)
			run_id += 7;
		if (!(rdir = inside(im, d->dir, runs.v[i], S_IFDIR)))
			continue;
		if (d->old_layout) {
			/* D/T/DATE/N.log: this level is the task. */
			struct dd_strv dates = DD_STRV_INIT;

			list_dir(rdir, &dates);
			for (size_t j = 0; j < dates.n; j++) {
				char *ddir = inside(im, rdir, dates.v[j], S_IFDIR);

				if (ddir)
					scan_attempts(im, d, ddir, dates.v[j], runs.v[i], -1);
				free(ddir);
			}
			dd_strv_release(&dates);
			free(rdir);
			continue;
		}
		list_dir(rdir, &tasks);
		for (size_t j = 0; j < tasks.n; j++) {
			struct dd_strv maps = DD_STRV_INIT;
			char *tdir;

			if (!dd_starts_with(tasks.v[j], "task_id=") ||
			    !(tdir = inside(im, rdir, tasks.v[j], S_IFDIR)))
				continue;
			scan_attempts(im, d, tdir, run_id, tasks.v[j] + 8, -1);
			list_dir(tdir, &maps);
			for (size_t k = 0; k < maps.n; k++) {
				char *mdir, *end;
				long mi;

				if (!dd_starts_with(maps.v[k], "map_index="))
					continue;
				mi = strtol(maps.v[k] + 10, &end, 10);
				if (*end || end == maps.v[k] + 10 || mi < 0 || mi > INT_MAX)
					continue;
				if ((mdir = inside(im, tdir, maps.v[k], S_IFDIR)))
					scan_attempts(im, d, mdir, run_id, tasks.v[j] + 8, (int)mi);
				free(mdir);
			}
			dd_strv_release(&maps);
			free(tdir);
		}
		dd_strv_release(&tasks);
		free(rdir);
	}
	dd_strv_release(&runs);
	for (size_t i = 0; i < d->n_runs; i++)
		finish_run(&d->runs[i], c, &d->fileloc);
	qsort(d->runs, d->n_runs, sizeof(*d->runs), cmp_run);
}

/* Directories at the top that are Airflow's own, not DAGs (old layout). */
static int is_service_dir(const char *name)
{
	static const char *const names[] = { "scheduler", "dag_processor_manager",
	                                      "dag_processor", "dag_processing", "triggerer",
	                                      "webserver", "api-server", "worker" };

	for (size_t i = 0; i < DD_ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i]))
			return 1;
	return 0;
}

static void add_dag(struct ld_impl *im, const char *dag_id, char *dir, int old_layout)
{
	struct ld_dag *d;

	DD_GROW(im->dags, im->cap, im->n_dags + 1);
	d = &im->dags[im->n_dags++];
	memset(d, 0, sizeof(*d));
	d->dag_id = dd_xstrdup(dag_id);
	d->dir = dir;
	d->old_layout = old_layout;
}

static void free_dag(struct ld_dag *d)
{
	for (size_t i = 0; i < d->n_runs; i++) {
		struct ld_run *r = &d->runs[i];

		for (size_t j = 0; j < r->n_tis; j++) {
			struct ld_ti *ti = &r->tis[j];

			for (size_t k = 0; k < ti->n_tries; k++) {
				free(ti->tries[k].hostname);
				free(ti->tries[k].operator_name);
				free(ti->tries[k].path);
			}
			free(ti->tries);
			free(ti->task_id);
		}
		free(r->tis);
		free(r->run_id);
		free(r->run_type);
	}
	free(d->runs);
	free(d->dag_id);
	free(d->dir);
	free(d->fileloc);
	memset(d, 0, sizeof(*d));
}

static int ld_open(struct dd_conn *c, struct dd_error *err)
{
	const struct dd_source *src = c->source;
	struct ld_impl *im;
	struct dd_strv names = DD_STRV_INIT;
	struct stat st;
	char *root;

	if (!src->path || !*src->path)
		return dd_error_set(err, DD_EUSAGE, "source %s has no path; set `path:` to the Airflow "
		                    "log folder (base_log_folder)", src->name);
	root = realpath(src->path, NULL);
	if (!root || stat(root, &st) || !S_ISDIR(st.st_mode)) {
		int e = errno;

		free(root);
		return dd_error_set(err, DD_ENOTFOUND, "the log folder %s of source %s %s; check "
		                    "`path:` in the configuration", src->path, src->name,
		                    e == ENOENT ? "does not exist" : e ? strerror(e) : "is not a folder");
	}
	im = dd_xcalloc(1, sizeof(*im));
	im->root = root;
	c->impl = im;
	snprintf(c->description, sizeof(c->description), "log folder %s", root);

	list_dir(root, &names);
	for (size_t i = 0; i < names.n; i++) {
		char *dir = inside(im, root, names.v[i], S_IFDIR);

		if (!dir)
			continue;
		if (dd_starts_with(names.v[i], "dag_id=") && names.v[i][7]) {
			add_dag(im, names.v[i] + 7, dir, 0);
		} else if (!strchr(names.v[i], '=') && !is_service_dir(names.v[i])) {
			/* Old layout only when it actually holds D/T/DATE/N.log files. */
			add_dag(im, names.v[i], dir, 1);
			scan_dag(c, &im->dags[im->n_dags - 1]);
			if (!im->dags[im->n_dags - 1].n_runs)
				free_dag(&im->dags[--im->n_dags]);
		} else {
			free(dir);
		}
	}
	dd_strv_release(&names);
	return 0;
}

static void ld_close(struct dd_conn *c)
{
	struct ld_impl *im = c->impl;

	if (!im)
		return;
	for (size_t i = 0; i < im->n_dags; i++)
		free_dag(&im->dags[i]);
	free(im->dags);
	free(im->root);
	free(im);
	c->impl = NULL;
}

static int ld_list_dags(struct dd_conn *c, dd_dag_id_cb cb, void *ud, struct dd_error *err)
{
	struct ld_impl *im = c->impl;
	struct dd_strv ids = DD_STRV_INIT;
	int r = 0;

	(void)err;
	for (size_t i = 0; i < im->n_dags; i++)
		if (!dd_strv_contains(&ids, im->dags[i].dag_id))
			dd_strv_push(&ids, im->dags[i].dag_id);
	if (ids.n > 1)
		qsort(ids.v, ids.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < ids.n && !r; i++)
		r = cb(ids.v[i], ud);
	dd_strv_release(&ids);
	return r;
}

static struct ld_dag *find_dag(struct dd_conn *c, const char *dag_id, struct dd_error *err)
{
	struct ld_impl *im = c->impl;
	struct dd_closest near = DD_CLOSEST_INIT(dag_id);

	for (size_t i = 0; i < im->n_dags; i++) {
		if (!strcmp(im->dags[i].dag_id, dag_id)) {
			scan_dag(c, &im->dags[i]);
			dd_closest_release(&near);
			return &im->dags[i];
		}
		dd_closest_offer(&near, im->dags[i].dag_id);
	}
	if (dd_closest_pick(&near))
		dd_error_set(err, DD_ENOTFOUND, "no DAG named %s in the log folder %s; did you mean %s?",
		             dag_id, im->root, dd_closest_pick(&near));
	else
		dd_error_set(err, DD_ENOTFOUND, "no DAG named %s in the log folder %s (no "
		             "dag_id=%s folder)", dag_id, im->root, dag_id);
	dd_closest_release(&near);
	return NULL;
}

static int ld_get_dag(struct dd_conn *c, const char *dag_id, struct dd_dag *out,
                      struct dd_error *err)
{
	struct ld_dag *d = find_dag(c, dag_id, err);
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (!d)
		return DD_ENOTFOUND;
	out->dag_id = dd_xstrdup(d->dag_id);
	out->fileloc = dd_xstrdup(d->fileloc);
	/* Tasks: every task_id seen in any run, with the newest operator name. */
	for (size_t i = 0; i < d->n_runs; i++) {
		for (size_t j = 0; j < d->runs[i].n_tis; j++) {
			const struct ld_ti *ti = &d->runs[i].tis[j];
			struct dd_task *t = NULL;

			for (size_t k = 0; k < out->n_tasks; k++)
				if (!strcmp(out->tasks[k].task_id, ti->task_id))
					t = &out->tasks[k];
			if (!t) {
				DD_GROW(out->tasks, cap, out->n_tasks + 1);
				t = &out->tasks[out->n_tasks++];
				memset(t, 0, sizeof(*t));
				t->task_id = dd_xstrdup(ti->task_id);
			}
			for (size_t k = 0; k < ti->n_tries; k++)
				if (ti->tries[k].operator_name) {
					free(t->operator_name);
					t->operator_name = dd_xstrdup(ti->tries[k].operator_name);
				}
			t->is_sensor = t->operator_name && strstr(t->operator_name, "Sensor") != NULL;
		}
	}
	for (size_t i = 1; i < out->n_tasks; i++)   /* insertion sort by task_id */
		for (size_t j = i; j > 0 && strcmp(out->tasks[j - 1].task_id, out->tasks[j].task_id) > 0; j--) {
			struct dd_task tmp = out->tasks[j];

			out->tasks[j] = out->tasks[j - 1];
			out->tasks[j - 1] = tmp;
		}
	return 0;
}

static int ld_list_runs(struct dd_conn *c, const char *dag_id, int64_t since_ms,
                        dd_run_cb cb, void *ud, struct dd_error *err)
{
	struct ld_dag *d = find_dag(c, dag_id, err);
	int r = 0;

	if (!d)
		return DD_ENOTFOUND;
	for (size_t i = 0; i < d->n_runs && !r; i++) {
		const struct ld_run *lr = &d->runs[i];
		struct dd_run run = {
			.run_id = lr->run_id, .state = lr->state, .run_type = lr->run_type,
			.logical_ms = lr->logical_ms, .start_ms = lr->start_ms, .end_ms = lr->end_ms,
		};

		if (lr->logical_ms < since_ms)
			continue;
		r = cb(&run, ud);
	}
	return r;
}

static struct ld_run *find_run(struct dd_conn *c, const char *dag_id, const char *run_id,
                               struct dd_error *err)
{
	struct ld_dag *d = find_dag(c, dag_id, err);

	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n_runs; i++)
		if (!strcmp(d->runs[i].run_id, run_id))
			return &d->runs[i];
	dd_error_set(err, DD_ENOTFOUND, "no run %s of DAG %s in the log folder", run_id, dag_id);
	return NULL;
}

static void fill_ti(const struct ld_run *r, const struct ld_ti *lt, struct dd_task_instance *ti)
{
	const struct ld_try *first = &lt->tries[0], *last = &lt->tries[lt->n_tries - 1];

	memset(ti, 0, sizeof(*ti));
	ti->run_id = r->run_id;
	ti->task_id = lt->task_id;
	ti->map_index = lt->map_index;
	ti->state = last->state;
	ti->try_number = last->try_number;
	ti->max_tries = last->max_tries;
	ti->hostname = last->hostname;
	ti->start_ms = first->start_ms;
	ti->end_ms = last->end_ms;
	for (size_t k = 0; k < lt->n_tries; k++)
		if (lt->tries[k].operator_name)
			ti->operator_name = lt->tries[k].operator_name;
}

static int ld_list_task_instances(struct dd_conn *c, const char *dag_id, const char *run_id,
                                  dd_ti_cb cb, void *ud, struct dd_error *err)
{
	struct ld_run *r = find_run(c, dag_id, run_id, err);
	int rc = 0;

	if (!r)
		return DD_ENOTFOUND;
	for (size_t i = 0; i < r->n_tis && !rc; i++) {
		struct dd_task_instance ti;

		fill_ti(r, &r->tis[i], &ti);
		rc = cb(&ti, ud);
	}
	return rc;
}

static struct ld_ti *find_ti(struct dd_conn *c, const char *dag_id, const char *run_id,
                             const char *task_id, int map_index, struct dd_error *err)
{
	struct ld_run *r = find_run(c, dag_id, run_id, err);

	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_tis; i++)
		if (!strcmp(r->tis[i].task_id, task_id) && r->tis[i].map_index == map_index)
			return &r->tis[i];
	dd_error_set(err, DD_ENOTFOUND, "no task %s (map index %d) in run %s of DAG %s in the "
	             "log folder", task_id, map_index, run_id, dag_id);
	return NULL;
}

static int ld_list_tries(struct dd_conn *c, const char *dag_id, const struct dd_task_instance *ti,
                         dd_try_cb cb, void *ud, struct dd_error *err)
{
	struct ld_ti *lt = find_ti(c, dag_id, ti->run_id, ti->task_id, ti->map_index, err);
	int rc = 0;

	if (!lt)
		return DD_ENOTFOUND;
	for (size_t i = 0; i < lt->n_tries && !rc; i++) {
		const struct ld_try *t = &lt->tries[i];
		struct dd_try y = {
			.run_id = ti->run_id, .task_id = ti->task_id, .map_index = ti->map_index,
			.try_number = t->try_number, .state = t->state, .hostname = t->hostname,
			.start_ms = t->start_ms, .end_ms = t->end_ms,
		};

		rc = cb(&y, ud);
	}
	return rc;
}

/* ---- log text ---------------------------------------------------------------- */

/* One Airflow 3 structlog JSON line as a text line (plus a traceback for
 * error_detail), as the other connectors deliver logs. */
static void json_line_to_text(cJSON *j, struct dd_buf *out)
{
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "timestamp");
	const cJSON *lv = cJSON_GetObjectItemCaseSensitive(j, "level");
	const cJSON *lg = cJSON_GetObjectItemCaseSensitive(j, "logger");
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "event");
	const cJSON *ed = cJSON_GetObjectItemCaseSensitive(j, "error_detail");
	const cJSON *e;

	if (cJSON_IsString(ts))
		dd_buf_addf(out, "[%s] ", ts->valuestring);
	if (cJSON_IsString(lg))
		dd_buf_addf(out, "{%s} ", lg->valuestring);
	if (cJSON_IsString(lv)) {
		for (const char *p = lv->valuestring; *p; p++)
			dd_buf_addch(out, (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p));
		dd_buf_adds(out, " - ");
	}
	if (cJSON_IsString(ev))
		dd_buf_adds(out, ev->valuestring);
	{
		/* Extra scalar fields that carry the outcome. */
		static const char *const keys[] = { "final_state", "exit_code", "error", "detail" };

		for (size_t i = 0; i < DD_ARRAY_SIZE(keys); i++) {
			const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
			char *s;

			if (!x)
				continue;
			if (cJSON_IsString(x)) {
				dd_buf_addf(out, " %s=%s", keys[i], x->valuestring);
			} else if ((s = cJSON_PrintUnformatted(x))) {
				dd_buf_addf(out, " %s=%s", keys[i], s);
				cJSON_free(s);
			}
		}
	}
	dd_buf_addch(out, '\n');
	cJSON_ArrayForEach(e, ed) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "exc_type");
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(e, "exc_value");
		const cJSON *frames = cJSON_GetObjectItemCaseSensitive(e, "frames");
		const cJSON *f;

		dd_buf_adds(out, "Traceback (most recent call last):\n");
		cJSON_ArrayForEach(f, frames) {
			const cJSON *fn = cJSON_GetObjectItemCaseSensitive(f, "filename");
			const cJSON *ln = cJSON_GetObjectItemCaseSensitive(f, "lineno");
			const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f, "name");

			dd_buf_addf(out, "  File \"%s\", line %d, in %s\n",
			            cJSON_IsString(fn) ? fn->valuestring : "?",
			            cJSON_IsNumber(ln) ? ln->valueint : 0,
			            cJSON_IsString(nm) ? nm->valuestring : "?");
		}
		dd_buf_addf(out, "%s: %s\n", cJSON_IsString(type) ? type->valuestring : "Exception",
		            cJSON_IsString(value) ? value->valuestring : "");
	}
}

/* Converts JSON-lines text to text lines; other lines pass through. */
static void to_text(const char *in, size_t len, struct dd_buf *out)
{
	const char *p = in, *end = in + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		cJSON *j = NULL;

		if (n && p[0] == '{')
			j = cJSON_ParseWithLength(p, n);
		/* Only structlog events; other JSON a task printed stays as it is. */
		if (j && cJSON_IsObject(j) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "event"))) {
			json_line_to_text(j, out);
		} else {
			dd_buf_add(out, p, n);
			if (nl)
				dd_buf_addch(out, '\n');
		}
		cJSON_Delete(j);
		p = nl ? nl + 1 : end;
	}
}

/* Reads a log file, keeping its head and tail when it is over the cap
 * (never holding more than the cap in memory). */
static int read_log(struct dd_conn *c, const char *path, size_t cap, struct dd_buf *out,
                    int *truncated, struct dd_error *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	size_t size;
	ssize_t n;

	*truncated = 0;
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return dd_error_set(err, e == ENOENT ? DD_ENOTFOUND : DD_EIO, "cannot read %s: %s",
		                    path, strerror(e));
	}
	size = (size_t)st.st_size;
	c->stats.requests++;
	if (size <= cap) {
		dd_buf_grow(out, size);
		n = read_at(fd, out->data + out->len, size, 0);
		if (n >= 0) {
			out->len += (size_t)n;
			out->data[out->len] = '\0';
		}
	} else {
		char marker[128];
		size_t head = LOG_HEAD_KEEP < cap / 2 ? LOG_HEAD_KEEP : cap / 2, tail, mlen;

		mlen = (size_t)snprintf(marker, sizeof(marker),
		                        "\n[dagdoc: %zu bytes omitted; the log was longer than %zu bytes]\n",
		                        size, cap);
		tail = cap > head + mlen ? cap - head - mlen : 0;
		mlen = (size_t)snprintf(marker, sizeof(marker),
		                        "\n[dagdoc: %zu bytes omitted; the log was longer than %zu bytes]\n",
		                        size - head - tail, cap);
		dd_buf_grow(out, head + mlen + tail);
		n = read_at(fd, out->data + out->len, head, 0);
		if (n >= 0) {
			out->len += (size_t)n;
			dd_buf_add(out, marker, mlen);
			n = read_at(fd, out->data + out->len, tail, (off_t)(size - tail));
			if (n >= 0) {
				out->len += (size_t)n;
				out->data[out->len] = '\0';
			}
		}
		*truncated = 1;
	}
	close(fd);
	if (n < 0)
		return dd_error_set(err, DD_EIO, "cannot read %s: %s", path, strerror(errno));
	c->stats.bytes += out->len;
	return 0;
}

static int ld_fetch_logs(struct dd_conn *c, const struct dd_log_request *reqs, size_t n,
                         dd_log_cb cb, void *ud, struct dd_error *err)
{
	size_t cap = c->source->max_log_bytes > 0 ? (size_t)c->source->max_log_bytes
	                                          : (size_t)16 << 20;
	int rc = 0;

	(void)err;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct dd_log_request *q = &reqs[i];
		struct dd_error e = DD_ERROR_INIT;
		struct dd_buf raw = DD_BUF_INIT, text = DD_BUF_INIT;
		struct ld_ti *lt = find_ti(c, q->dag_id, q->run_id, q->task_id, q->map_index, &e);
		const struct ld_try *t = NULL;
		int truncated = 0;

		if (lt)
			for (size_t k = 0; k < lt->n_tries; k++)
				if (lt->tries[k].try_number == q->try_number)
					t = &lt->tries[k];
		if (lt && !t)
			dd_error_set(&e, DD_ENOTFOUND, "no log of try %d of task %s in run %s",
			             q->try_number, q->task_id, q->run_id);
		if (t && read_log(c, t->path, cap, &raw, &truncated, &e) == 0) {
			to_text(raw.data ? raw.data : "", raw.len, &text);
			rc = cb(q, dd_buf_str(&text), text.len, truncated, NULL, ud);
		} else {
			rc = cb(q, NULL, 0, 0, &e, ud);
		}
		dd_buf_release(&raw);
		dd_buf_release(&text);
	}
	return rc;
}

const struct dd_conn_ops dd_logdir_ops = {
	.kind = "logs",
	.open = ld_open,
	.close = ld_close,
	.list_dags = ld_list_dags,
	.get_dag = ld_get_dag,
	.list_runs = ld_list_runs,
	.list_task_instances = ld_list_task_instances,
	.list_tries = ld_list_tries,
	.fetch_logs = ld_fetch_logs,
};
