/*
 * evidence.c - pasted command outputs: split, recognised, read, judged.
 * See include/dagdoc/evidence.h.
 */
#include "dagdoc/util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cJSON.h>
#include <pcre2.h>
#include <stdlib.h>

#include "dagdoc/evidence.h"
#include "dagdoc/pattern.h"
#include "dagdoc/reqparse.h"

const char *ev_kind_name(enum ev_kind k)
{
	static const char *const names[EV__COUNT] = {
		"unknown",
		"pip show",
		"pip freeze",
		"pip list",
		"kubectl describe pod",
		"df",
		"free",
		"nvidia-smi",
		"airflow connections",
		"airflow variables get",
		"python --version",
		"git log",
	};

	return (int)k >= 0 && k < EV__COUNT ? names[k] : "unknown";
}

/* ---- lines ---------------------------------------------------------------------- */

struct lines {
	char **v; /* NUL-terminated copies, trailing blanks and CR removed */
	size_t n, cap;
};

static void lines_split(struct lines *ls, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	memset(ls, 0, sizeof(*ls));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		DD_GROW(ls->v, ls->cap, ls->n + 1);
		ls->v[ls->n++] = dd_xstrndup(p, n);
		p = nl ? nl + 1 : end;
	}
}

static void lines_release(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->v[i]);
	free(ls->v);
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int blank(const char *s)
{
	return !*skip_ws(s);
}

/* "Key:   value" at column 0 (indent 0) or indented (indent 1): the value, else NULL. */
static const char *field(const char *line, const char *key, int indented)
{
	const char *s = indented ? skip_ws(line) : line;
	size_t n = strlen(key);

	if ((indented && s == line) || strncmp(s, key, n) || s[n] != ':')
		return NULL;
	return skip_ws(s + n + 1);
}

/* ---- facts ------------------------------------------------------------------------- */

static void fact(struct ev_output *o, const char *name, const char *value)
{
	o->facts = dd_xrealloc(o->facts, (o->n_facts + 1) * sizeof(*o->facts));
	o->facts[o->n_facts].name = dd_xstrdup(name);
	o->facts[o->n_facts].value = dd_xstrdup(value);
	o->n_facts++;
}

static void fact_pkg(struct ev_output *o, const char *name, size_t len, const char *version)
{
	char *norm = reqparse_normalize_name(name, len);
	char *key = dd_xasprintf("pkg:%s", norm);

	fact(o, key, version);
	free(key);
	free(norm);
}

const char *ev_fact(const struct ev_output *o, const char *name)
{
	for (size_t i = 0; i < o->n_facts; i++)
		if (!strcmp(o->facts[i].name, name))
			return o->facts[i].value;
	return NULL;
}

/* ---- command lines --------------------------------------------------------------------- */

struct words {
	char *buf;
	char *v[64];
	size_t n;
};

static void words_split(struct words *w, const char *s)
{
	char *p;

	w->buf = dd_xstrdup(s);
	w->n = 0;
	for (p = w->buf; *p && w->n < DD_ARRAY_SIZE(w->v);) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		w->v[w->n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
}

static int has_word(const struct words *w, size_t from, const char *word)
{
	for (size_t i = from; i < w->n; i++)
		if (!strcmp(w->v[i], word))
			return (int)i;
	return -1;
}

/* Index of the first word at or after `from` that is not an option. */
static size_t next_arg(const struct words *w, size_t from)
{
	while (from < w->n && w->v[from][0] == '-')
		from++;
	return from;
}

static int is_python(const char *w)
{
	const char *base = strrchr(w, '/');

	base = base ? base + 1 : w;
	return !strncmp(base, "python", 6) && (!base[6] || dd_is_digit((unsigned char)base[6]));
}

static int docker_opt_takes_value(const char *opt)
{
	static const char *const with_value[] = {"-u", "-w", "-e", "--user", "--workdir", "--env"};

	for (size_t i = 0; i < DD_ARRAY_SIZE(with_value); i++)
		if (!strcmp(opt, with_value[i]))
			return 1;
	return 0;
}

/* The program word after wrappers (sudo, docker exec C, kubectl exec P --, python -m). */
static size_t program_at(const struct words *w, size_t i)
{
	for (;;) {
		if (i < w->n && (!strcmp(w->v[i], "sudo") || !strcmp(w->v[i], "env"))) {
			i++;
			continue;
		}
		if (i + 1 < w->n && !strcmp(w->v[i], "docker") && has_word(w, i + 1, "exec") >= 0) {
			size_t k = (size_t)has_word(w, i + 1, "exec") + 1;

			/* options, with the value of those that take one, then the container */
			while (k < w->n && w->v[k][0] == '-')
				k += docker_opt_takes_value(w->v[k]) ? 2 : 1;
			i = k + 1;
			continue;
		}
		if (i + 1 < w->n && !strcmp(w->v[i], "kubectl") && has_word(w, i + 1, "exec") >= 0) {
			int dd = has_word(w, i, "--");

			if (dd < 0 || dd < has_word(w, i + 1, "exec"))
				return w->n;
			i = (size_t)dd + 1;
			continue;
		}
		if (i + 2 < w->n && is_python(w->v[i]) && !strcmp(w->v[i + 1], "-m")) {
			i += 2;
			continue;
		}
		if (i + 1 < w->n && !strcmp(w->v[i], "uv") && !strcmp(w->v[i + 1], "pip")) {
			i++;
			continue;
		}
		return i;
	}
}

static enum ev_kind kind_of_words(const struct words *w, const char **asked)
{
	size_t p = program_at(w, 0), a;
	const char *prog;

	*asked = NULL;
	if (p >= w->n)
		return EV_UNKNOWN;
	for (size_t i = p; i < w->n; i++)
		if (strchr(w->v[i], '|') || w->v[i][0] == '>' ||
		    (dd_is_digit((unsigned char)w->v[i][0]) && w->v[i][1] == '>'))
			return EV_UNKNOWN; /* a pipeline or a redirect: what shows is another command's output */
	prog = strrchr(w->v[p], '/') ? strrchr(w->v[p], '/') + 1 : w->v[p];
	if (!strcmp(prog, "pip") || !strncmp(prog, "pip3", 4)) {
		a = next_arg(w, p + 1);
		if (a >= w->n)
			return EV_UNKNOWN;
		if (!strcmp(w->v[a], "show")) {
			size_t x = next_arg(w, a + 1);

			*asked = x < w->n ? w->v[x] : NULL;
			return EV_PIP_SHOW;
		}
		if (!strcmp(w->v[a], "freeze"))
			return EV_PIP_FREEZE;
		if (!strcmp(w->v[a], "list"))
			return EV_PIP_LIST;
		return EV_UNKNOWN;
	}
	if (!strcmp(prog, "kubectl")) {
		if (has_word(w, p, "describe") < 0)
			return EV_UNKNOWN;
		for (size_t i = p; i < w->n; i++)
			if (!strcmp(w->v[i], "pod") || !strcmp(w->v[i], "pods") || !strcmp(w->v[i], "po") ||
			    dd_starts_with(w->v[i], "pod/"))
				return EV_KUBECTL_POD;
		return EV_UNKNOWN;
	}
	if (!strcmp(prog, "df"))
		return EV_DF;
	if (!strcmp(prog, "free"))
		return EV_FREE;
	if (!strcmp(prog, "nvidia-smi"))
		return EV_NVIDIA_SMI;
	if (!strcmp(prog, "airflow")) {
		a = next_arg(w, p + 1);
		if (a + 1 >= w->n)
			return EV_UNKNOWN;
		if (!strcmp(w->v[a], "connections") && (!strcmp(w->v[a + 1], "get") || !strcmp(w->v[a + 1], "list"))) {
			size_t x = next_arg(w, a + 2);

			if (!strcmp(w->v[a + 1], "get"))
				*asked = x < w->n ? w->v[x] : NULL;
			else if (has_word(w, a, "--conn-id") >= 0 && (size_t)has_word(w, a, "--conn-id") + 1 < w->n)
				*asked = w->v[has_word(w, a, "--conn-id") + 1];
			return EV_AIRFLOW_CONN;
		}
		if (!strcmp(w->v[a], "variables") && !strcmp(w->v[a + 1], "get")) {
			size_t x = next_arg(w, a + 2);

			*asked = x < w->n ? w->v[x] : NULL;
			return EV_AIRFLOW_VAR;
		}
		return EV_UNKNOWN;
	}
	if (is_python(prog) && (has_word(w, p, "--version") >= 0 || has_word(w, p, "-V") >= 0))
		return EV_PYTHON_VERSION;
	if (!strcmp(prog, "git") && p + 1 < w->n &&
	    !strcmp(w->v[next_arg(w, p + 1) < w->n ? next_arg(w, p + 1) : p], "log"))
		return EV_GIT_LOG;
	return EV_UNKNOWN;
}

enum ev_kind ev_kind_of_command(const char *cmdline)
{
	struct words w;
	const char *asked;
	enum ev_kind k;
	const char *s = skip_ws(cmdline);
	struct dd_buf b = DD_BUF_INIT;

	if (s[0] == '$' && (s[1] == ' ' || !s[1]))
		s++;
	/* a check as the library writes it: "kubectl describe pod <pod>   (what to look for)" */
	for (const char *p = s; *p && *p != '#' && strncmp(p, "   ", 3) && strncmp(p, " (", 2); p++) {
		if (*p == '<' && strchr(p, '>')) {
			dd_buf_addch(&b, 'X');
			p = strchr(p, '>');
			continue;
		}
		dd_buf_addch(&b, *p);
	}
	words_split(&w, dd_buf_str(&b));
	k = kind_of_words(&w, &asked);
	free(w.buf);
	dd_buf_release(&b);
	return k;
}

/* A prompt line: "$ cmd", "user@host:~$ cmd", "(venv) $ cmd".  The command, or NULL. */
static const char *prompt_command(const char *line)
{
	const char *s = skip_ws(line), *d;

	if (s[0] == '(') { /* a virtualenv's "(venv) " */
		const char *close = strchr(s, ')');

		if (!close || close[1] != ' ')
			return NULL;
		s = skip_ws(close + 1);
	}
	d = strstr(s, "$ ");
	if (!d)
		return NULL;
	for (const char *p = s; p < d; p++) /* "user@host:dir" holds no blank */
		if (*p == ' ' || *p == '\t')
			return NULL;
	d = skip_ws(d + 2);
	return *d ? d : NULL;
}

/* ---- shapes and facts, one reader per kind ------------------------------------------- */

/* pip show: "Name: x" then "Version: y", blocks split by "---". */
static int read_pip_show(const struct lines *ls, struct ev_output *o)
{
	int found = 0;

	for (size_t i = 0; i < ls->n; i++) {
		const char *name = field(ls->v[i], "Name", 0), *ver;

		if (name && i + 1 < ls->n && (ver = field(ls->v[i + 1], "Version", 0)) && *name && *ver) {
			fact_pkg(o, name, strlen(name), ver);
			found = 1;
		} else if (dd_starts_with(ls->v[i], "WARNING: Package(s) not found: ")) {
			struct words w;

			words_split(&w, ls->v[i] + strlen("WARNING: Package(s) not found: "));
			for (size_t k = 0; k < w.n; k++) {
				size_t n = strlen(w.v[k]);

				fact_pkg(o, w.v[k], n && w.v[k][n - 1] == ',' ? n - 1 : n, "(not installed)");
			}
			free(w.buf);
			found = 1;
		}
	}
	return found;
}

/* "name==1.2.3", "name[extra]==1.2.3", "name @ file:///...": the name's length, 0 when not one. */
static size_t freeze_line(const char *s, const char **ver)
{
	size_t n = 0;

	*ver = NULL;
	if (!dd_is_alnum((unsigned char)s[0]))
		return 0;
	while (dd_is_alnum((unsigned char)s[n]) || (s[n] && strchr("._-", s[n])))
		n++;
	if (s[n] == '[') {
		const char *close = strchr(s + n, ']');

		if (!close)
			return 0;
		if (!strncmp(close + 1, "==", 2) && close[3] && !strchr(close + 3, ' ')) {
			*ver = close + 3;
			return n;
		}
		return 0;
	}
	if (!strncmp(s + n, "==", 2) && s[n + 2] && !strchr(s + n + 2, ' ')) {
		*ver = s + n + 2;
		return n;
	}
	if (!strncmp(s + n, " @ ", 3))
		return n;
	return 0;
}

static int read_pip_freeze(const struct lines *ls, struct ev_output *o)
{
	size_t good = 0, other = 0;

	for (size_t i = 0; i < ls->n; i++) {
		const char *ver;
		size_t n;

		if (blank(ls->v[i]) || ls->v[i][0] == '#' || dd_starts_with(ls->v[i], "-e "))
			continue;
		n = freeze_line(ls->v[i], &ver);
		if (!n) {
			other++;
			continue;
		}
		good++;
		if (ver)
			fact_pkg(o, ls->v[i], n, ver);
	}
	return good >= 1 && other * 4 <= good; /* a warning line or two may sit among them */
}

/* pip list: "Package    Version" over "------- -------". */
static int read_pip_list(const struct lines *ls, struct ev_output *o)
{
	for (size_t i = 0; i + 1 < ls->n; i++) {
		struct words h;
		int ok;

		words_split(&h, ls->v[i]);
		ok = h.n >= 2 && !strcmp(h.v[0], "Package") && !strcmp(h.v[1], "Version") && ls->v[i + 1][0] == '-' &&
		     strstr(ls->v[i + 1], "- -");
		free(h.buf);
		if (!ok)
			continue;
		for (size_t k = i + 2; k < ls->n; k++) {
			struct words r;

			words_split(&r, ls->v[k]);
			if (r.n >= 2 && dd_is_alnum((unsigned char)r.v[0][0]) && dd_is_digit((unsigned char)r.v[1][0]))
				fact_pkg(o, r.v[0], strlen(r.v[0]), r.v[1]);
			free(r.buf);
		}
		return 1;
	}
	return 0;
}

/* kubectl describe pod. */
static int read_kubectl_pod(const struct lines *ls, struct ev_output *o)
{
	int name = 0, ns = 0, body = 0, in_labels = 0;
	const char *reason = NULL, *code = NULL;

	for (size_t i = 0; i < ls->n; i++) {
		const char *l = ls->v[i], *v;

		if ((v = field(l, "Name", 0)) && !name) {
			name = 1;
			fact(o, "pod", v);
		}
		if (field(l, "Namespace", 0))
			ns = 1;
		if (!strcmp(l, "Containers:") || field(l, "State", 1) || field(l, "Last State", 1) ||
		    field(l, "Status", 0))
			body = 1;
		/* Labels:  dag_id=x, then indented continuation lines */
		if ((v = field(l, "Labels", 0)))
			in_labels = 1;
		else if (in_labels && l[0] == ' ')
			v = skip_ws(l);
		else
			in_labels = 0;
		if (in_labels && v) {
			const char *eq = strchr(v, '=');

			if (eq && !strncmp(v, "dag_id", (size_t)(eq - v)) && eq - v == 6)
				fact(o, "dag_id", eq + 1);
			if (eq && !strncmp(v, "task_id", (size_t)(eq - v)) && eq - v == 7)
				fact(o, "task_id", eq + 1);
		}
		/* what ended the container (or the pod: "Reason: Evicted"); OOMKilled wins */
		if ((v = field(l, "Reason", 1)) || (v = field(l, "Reason", 0)))
			if (!reason || (strcmp(reason, "OOMKilled") && !strcmp(v, "OOMKilled")))
				reason = v;
		if ((v = field(l, "Exit Code", 1)))
			if (!code || (strcmp(code, "137") && !strcmp(v, "137")))
				code = v;
	}
	if (!(name && ns && body))
		return 0;
	if (reason)
		fact(o, "reason", reason);
	if (code)
		fact(o, "exit_code", code);
	return 1;
}

/* df: "Filesystem ... Use% Mounted on". */
static int read_df(const struct lines *ls, struct ev_output *o)
{
	long best = -1;
	char mount[256] = "";

	if (!ls->n)
		return 0;
	for (size_t i = 0; i < ls->n; i++) {
		if (!dd_starts_with(ls->v[i], "Filesystem") || !strstr(ls->v[i], " Use% ") ||
		    !strstr(ls->v[i], "Mounted on"))
			continue;
		for (size_t k = i + 1; k < ls->n; k++) {
			struct words r;

			words_split(&r, ls->v[k]);
			for (size_t j = 1; j + 1 < r.n; j++) {
				size_t n = strlen(r.v[j]);
				long use;

				if (n < 2 || r.v[j][n - 1] != '%' || !dd_is_digit((unsigned char)r.v[j][0]))
					continue;
				use = strtol(r.v[j], NULL, 10);
				if (use > best) {
					best = use;
					snprintf(mount, sizeof(mount), "%s", r.v[j + 1]);
				}
				break;
			}
			free(r.buf);
		}
		if (best >= 0) {
			char v[24];

			snprintf(v, sizeof(v), "%ld", best);
			fact(o, "disk_use", v);
			fact(o, "disk_mount", mount);
		}
		return 1;
	}
	return 0;
}

/* "15Gi", "3.2G", "512Mi", "16000" (free -m): MiB. */
static double mib(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'K':
	case 'k': return v / 1024;
	case 'G':
	case 'g': return v * 1024;
	case 'T':
	case 't': return v * 1024 * 1024;
	case 'B': return v / (1024 * 1024);
	default: return v;
	}
}

/* free: "total used free ..." header, "Mem:" row. */
static int read_free(const struct lines *ls, struct ev_output *o)
{
	for (size_t i = 0; i + 1 < ls->n; i++) {
		struct words h, r;
		int ok;

		words_split(&h, ls->v[i]);
		ok = h.n >= 3 && !strcmp(h.v[0], "total") && !strcmp(h.v[1], "used") && !strcmp(h.v[2], "free");
		if (ok && dd_starts_with(ls->v[i + 1], "Mem:")) {
			int avail = has_word(&h, 0, "available");
			char v[32];

			words_split(&r, ls->v[i + 1]);
			if (r.n >= 4) {
				size_t col = avail >= 0 && (size_t)avail + 1 < r.n ? (size_t)avail + 1 : 3;

				snprintf(v, sizeof(v), "%.0f", mib(r.v[1]));
				fact(o, "mem_total", v);
				snprintf(v, sizeof(v), "%.0f", mib(r.v[col]));
				fact(o, "mem_available", v);
			}
			free(r.buf);
		}
		free(h.buf);
		if (ok)
			return 1;
	}
	return 0;
}

/* nvidia-smi: the banner, "NNNNMiB /  NNNNNMiB" per GPU. */
static int read_nvidia_smi(const struct lines *ls, struct ev_output *o)
{
	int banner = 0;
	double best = -1, used_b = 0, total_b = 0;

	for (size_t i = 0; i < ls->n; i++) {
		const char *p = ls->v[i], *m;

		if (strstr(p, "NVIDIA-SMI"))
			banner = 1;
		while ((m = strstr(p, "MiB /"))) {
			const char *start = m;
			char *end;
			double used, total;

			while (start > ls->v[i] && dd_is_digit((unsigned char)start[-1]))
				start--;
			used = strtod(start, NULL);
			total = strtod(skip_ws(m + 5), &end);
			if (start < m && total > 0 && !strncmp(end, "MiB", 3) && used / total > best) {
				best = used / total;
				used_b = used;
				total_b = total;
			}
			p = m + 5;
		}
	}
	if (!banner)
		return 0;
	if (best >= 0) {
		char v[32];

		snprintf(v, sizeof(v), "%.0f", used_b);
		fact(o, "gpu_mem_used", v);
		snprintf(v, sizeof(v), "%.0f", total_b);
		fact(o, "gpu_mem_total", v);
	}
	return 1;
}

static int has_alnum(const char *s)
{
	for (; *s; s++)
		if (dd_is_alnum((unsigned char)*s))
			return 1;
	return 0;
}

static void conn_fact(struct ev_output *o, const char *id, size_t n)
{
	char *key = dd_xasprintf("conn:%.*s", (int)n, id);

	fact(o, key, "defined");
	free(key);
}

/* airflow connections get|list: a table (rich, plain, tabulate), JSON, YAML, or the CLI's refusals. */
static int read_airflow_conn(const struct lines *ls, const char *text, struct ev_output *o)
{
	int col = -1, seen = 0;

	for (size_t i = 0; i < ls->n; i++) {
		const char *l = skip_ws(ls->v[i]), *v;

		if (!strcmp(l, "Connection not found.") || !strcmp(l, "No data found")) {
			fact(o, "conn_missing", "1");
			return 1;
		}
		/* YAML (-o yaml), and the "Conn Id:" form of older versions */
		if ((v = field(l[0] == '-' ? skip_ws(l + 1) : l, "conn_id", 0)) || (v = field(l, "Conn Id", 0))) {
			conn_fact(o, v, strlen(v));
			seen = 1;
			continue;
		}
		/* a table: the header names conn_id and conn_type */
		if (col < 0 && strstr(l, "conn_id") && strstr(l, "conn_type")) {
			struct words h;

			words_split(&h, l);
			col = 0;
			for (size_t k = 0; k < h.n; k++) {
				if (!strcmp(h.v[k], "conn_id"))
					break;
				if (has_alnum(h.v[k])) /* "|", "│", "┃": the table's rules */
					col++;
			}
			free(h.buf);
			seen = 1;
			continue;
		}
		if (col >= 0 && *l && !strchr("=-+", *l)) {
			struct words r;
			size_t c = 0;

			words_split(&r, l);
			for (size_t k = 0; k < r.n; k++) {
				if (!has_alnum(r.v[k])) /* a rule, or a border line of box characters */
					continue;
				if (c++ == (size_t)col) {
					conn_fact(o, r.v[k], strlen(r.v[k]));
					break;
				}
			}
			free(r.buf);
		}
	}
	if (!seen) { /* -o json: [{"conn_id": ...}] */
		cJSON *j = cJSON_Parse(text), *it;
		cJSON *arr = cJSON_IsArray(j) ? j : NULL;

		cJSON_ArrayForEach(it, arr)
		{
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "conn_id");

			if (cJSON_IsString(id)) {
				conn_fact(o, id->valuestring, strlen(id->valuestring));
				seen = 1;
			}
		}
		cJSON_Delete(j);
	}
	return seen;
}

/* airflow variables get: "Variable KEY does not exist" (stripped of its quotes), else the value. */
static int read_airflow_var(const struct lines *ls, struct ev_output *o, int by_command)
{
	for (size_t i = 0; i < ls->n; i++) {
		const char *l = skip_ws(ls->v[i]);
		size_t n = strlen(l);

		if (l[0] == '\'' || l[0] == '"')
			l++, n -= 2;
		if (dd_starts_with(l, "Variable ") && n > 25 && !strncmp(l + n - 15, " does not exist", 15)) {
			char *key = dd_xstrndup(l + 9, n - 24);

			fact(o, "var_missing", key);
			free(key);
			return 1;
		}
	}
	return by_command;
}

/* python --version: "Python 3.12.1" alone. */
static int read_python(const struct lines *ls, struct ev_output *o)
{
	const char *v = NULL;

	for (size_t i = 0; i < ls->n; i++) {
		if (blank(ls->v[i]))
			continue;
		if (v || !dd_starts_with(ls->v[i], "Python ") || !dd_is_digit((unsigned char)ls->v[i][7]) ||
		    !strchr(ls->v[i] + 7, '.') || strchr(ls->v[i] + 7, ' '))
			return 0;
		v = ls->v[i] + 7;
	}
	if (!v)
		return 0;
	fact(o, "python", v);
	return 1;
}

static int hex_run(const char *s)
{
	int n = 0;

	while ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))
		n++;
	return n;
}

/* git log: "commit <sha>" blocks with "Author:", or --oneline "<sha> subject" lines. */
static int read_git_log(const struct lines *ls, struct ev_output *o)
{
	int author = 0, full = 0, oneline = 0, other = 0;

	for (size_t i = 0; i < ls->n; i++) {
		const char *l = ls->v[i];
		int n;

		if (dd_starts_with(l, "commit ") && (n = hex_run(l + 7)) >= 7 && n <= 64 &&
		    (!l[7 + n] || l[7 + n] == ' ')) {
			char *id = dd_xstrndup(l + 7, (size_t)n);

			fact(o, "commit", id);
			free(id);
			full++;
		} else if (field(l, "Author", 0)) {
			author = 1;
		} else if (!full && (n = hex_run(l)) >= 7 && n <= 40 && l[n] == ' ') {
			char *id = dd_xstrndup(l, (size_t)n);

			fact(o, "commit", id);
			free(id);
			oneline++;
		} else if (!full && !blank(l)) {
			other++;
		}
	}
	return (full && author) || (!full && oneline >= 1 && !other);
}

static int read_kind(enum ev_kind k, const struct lines *ls, const char *text, struct ev_output *o, int by_command)
{
	switch (k) {
	case EV_PIP_SHOW: return read_pip_show(ls, o);
	case EV_PIP_FREEZE: return read_pip_freeze(ls, o);
	case EV_PIP_LIST: return read_pip_list(ls, o);
	case EV_KUBECTL_POD: return read_kubectl_pod(ls, o);
	case EV_DF: return read_df(ls, o);
	case EV_FREE: return read_free(ls, o);
	case EV_NVIDIA_SMI: return read_nvidia_smi(ls, o);
	case EV_AIRFLOW_CONN: return read_airflow_conn(ls, text, o);
	case EV_AIRFLOW_VAR: return read_airflow_var(ls, o, by_command);
	case EV_PYTHON_VERSION: return read_python(ls, o);
	case EV_GIT_LOG: return read_git_log(ls, o);
	default: return 0;
	}
}

static void facts_clear(struct ev_output *o)
{
	for (size_t i = 0; i < o->n_facts; i++) {
		free(o->facts[i].name);
		free(o->facts[i].value);
	}
	free(o->facts);
	o->facts = NULL;
	o->n_facts = 0;
}

/* Recognises o->text: by its command line, else by the first shape that fits. */
static void recognise(struct ev_output *o)
{
	/* Most specific shapes first: a kubectl description holds "Name:" lines as pip show does. */
	static const enum ev_kind order[] = {
		EV_KUBECTL_POD, EV_NVIDIA_SMI,   EV_PIP_SHOW,       EV_PIP_LIST, EV_DF,         EV_FREE,
		EV_AIRFLOW_VAR, EV_AIRFLOW_CONN, EV_PYTHON_VERSION, EV_GIT_LOG,  EV_PIP_FREEZE,
	};
	struct lines ls;

	lines_split(&ls, o->text, strlen(o->text));
	if (o->command) {
		struct words w;
		const char *asked;
		enum ev_kind k;

		words_split(&w, o->command);
		k = kind_of_words(&w, &asked);
		if (asked)
			fact(o, "asked", asked);
		if (k != EV_UNKNOWN && read_kind(k, &ls, o->text, o, 1))
			o->kind = k;
		else if (k != EV_UNKNOWN)
			o->why = dd_xasprintf("'%s' printed nothing dagdoc can read as %s output", o->command,
					      ev_kind_name(k));
		else
			o->why = dd_xasprintf("dagdoc does not read the output of '%s'", o->command);
		free(w.buf);
	}
	/* no command line, or its output is another's (an answer pasted under the wrong prompt): the shape decides */
	if (o->kind == EV_UNKNOWN)
		facts_clear(o);
	for (size_t i = 0; i < DD_ARRAY_SIZE(order) && o->kind == EV_UNKNOWN; i++) {
		if (read_kind(order[i], &ls, o->text, o, 0)) {
			o->kind = order[i];
			free(o->why);
			o->why = NULL;
		} else {
			facts_clear(o);
		}
	}
	if (o->kind == EV_UNKNOWN && !o->why)
		o->why = dd_xstrdup("not an output dagdoc recognises (pip show/freeze/list, kubectl describe pod, df, "
				    "free, nvidia-smi, airflow connections get|list, airflow variables get, python "
				    "--version, git log); paste it with its '$ command' line");
	lines_release(&ls);
}

static void add_output(struct ev_set *set, const char *origin, int line, const char *command, const char *text,
		       size_t len)
{
	struct ev_output *o;
	size_t skip = 0;

	/* leading blank lines do not count */
	while (skip < len) {
		const char *nl = memchr(text + skip, '\n', len - skip);
		size_t k = skip;

		while (k < len && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r'))
			k++;
		if (!nl || k != (size_t)(nl - text))
			break;
		skip = (size_t)(nl - text) + 1;
		line++;
	}
	text += skip;
	len -= skip;
	if (!command) {
		size_t k = 0;

		while (k < len && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r' || text[k] == '\n'))
			k++;
		if (k == len)
			return;
	}
	DD_GROW(set->v, set->cap, set->n + 1);
	o = &set->v[set->n++];
	memset(o, 0, sizeof(*o));
	o->origin = dd_xstrdup(origin);
	o->line = line;
	o->command = command ? dd_xstrdup(command) : NULL;
	o->text = dd_xstrndup(text, len);
	recognise(o);
}

void ev_parse(struct ev_set *set, const char *origin, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *start = text, *cmd_end = NULL;
	char *command = NULL;
	int line = 1, start_line = 1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		char *l = dd_xstrndup(p, (size_t)((nl ? nl : end) - p));
		const char *c = prompt_command(l);

		if (c) {
			if (command || p > start)
				add_output(set, origin, start_line, command, start, (size_t)(p - start));
			free(command);
			command = dd_xstrdup(c);
			{
				size_t n = strlen(command);

				while (n && (command[n - 1] == '\r' || command[n - 1] == ' '))
					command[--n] = '\0';
			}
			start = next;
			start_line = line + 1;
			cmd_end = next;
		}
		free(l);
		p = next;
		line++;
	}
	(void)cmd_end;
	add_output(set, origin, start_line, command, start, (size_t)(end - start));
	free(command);
}

int ev_read_files(struct ev_set *set, const struct dd_strv *files, struct dd_error *err)
{
	for (size_t i = 0; i < files->n; i++) {
		struct dd_buf b = DD_BUF_INIT;
		const char *path = files->v[i];
		int rc = dd_read_file(!strcmp(path, "-") ? "/dev/stdin" : path, 16u << 20, &b, err);

		if (rc < 0) {
			dd_buf_release(&b);
			return dd_error_set(err, DD_EIO, "cannot read the evidence file %s: %s", path, err->msg);
		}
		ev_parse(set, !strcmp(path, "-") ? "stdin" : path, dd_buf_str(&b), b.len);
		dd_buf_release(&b);
	}
	return 0;
}

void ev_set_release(struct ev_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct ev_output *o = &set->v[i];

		free(o->origin);
		free(o->command);
		free(o->text);
		free(o->why);
		facts_clear(o);
	}
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* ---- judging ------------------------------------------------------------------------ */

static const char *ent(const struct dd_entity *e, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(e[i].name, name) && e[i].value && *e[i].value)
			return e[i].value;
	return NULL;
}

static void decide(struct ev_verdict *v, int verdict, int line, const char *line_text, char *what)
{
	v->verdict = verdict;
	v->line = line;
	v->line_text = dd_xstrdup(line_text);
	v->what = what;
}

/* "3.12" fits "3.12.1"; "2.0.0" fits "2.0.0" only. */
static int version_fits(const char *have, const char *want)
{
	size_t n = strlen(want);

	return !strncmp(have, want, n) && (!have[n] || have[n] == '.');
}

/* The line of o->text (1-based within it) where `needle` starts, 0 when none. */
static int line_of(const struct ev_output *o, const char *needle)
{
	const char *hit = needle ? strstr(o->text, needle) : NULL;
	int n = 1;

	if (!hit)
		return 0;
	for (const char *p = o->text; p < hit; p++)
		n += *p == '\n';
	return n;
}

static char *line_text(const struct ev_output *o, int rel)
{
	const char *p = o->text, *e;
	size_t n;

	for (int i = 1; i < rel && p; i++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (!p)
		return dd_xstrdup("");
	p = skip_ws(p);
	e = strchr(p, '\n');
	n = e ? (size_t)(e - p) : strlen(p);
	while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return dd_xstrndup(p, n);
}

/* The verdict a fact gives, with the output line that shows it. */
static void fact_verdict(const struct ev_output *o, struct ev_verdict *v, int verdict, const char *shown_by, char *what)
{
	int rel = line_of(o, shown_by);
	char *lt = rel ? line_text(o, rel) : dd_xstrdup(shown_by ? shown_by : "");

	decide(v, verdict, rel ? o->line + rel - 1 : 0, lt, what);
	free(lt);
}

static void judge_dependency(const struct ev_output *o, const struct dd_entity *e, size_t n, struct ev_verdict *v)
{
	const char *pkg = ent(e, n, "package"), *from = ent(e, n, "from"), *to = ent(e, n, "to"), *have;

	if (!pkg)
		return;
	if (!strcmp(pkg, "python")) {
		if (!(have = ev_fact(o, "python")))
			return;
		if (to && version_fits(have, to))
			fact_verdict(o, v, EV_CONFIRMED, have, dd_xasprintf("Python %s runs on the worker", have));
		else if (from && version_fits(have, from))
			fact_verdict(o, v, EV_REFUTED, have,
				     dd_xasprintf("Python %s still runs on the worker, not %s", have,
						  to ? to : "the new one"));
		return;
	}
	{
		char *norm = reqparse_normalize_name(pkg, strlen(pkg));
		char *key = dd_xasprintf("pkg:%s", norm);

		have = ev_fact(o, key);
		free(key);
		free(norm);
	}
	if (!have)
		return;
	if (!strcmp(have, "(not installed)")) {
		if (!to)
			fact_verdict(o, v, EV_CONFIRMED, "not found", dd_xasprintf("%s is not installed", pkg));
		else
			fact_verdict(o, v, EV_REFUTED, "not found",
				     dd_xasprintf("%s is not installed at all, not %s", pkg, to));
		return;
	}
	if (to && !strcmp(have, to))
		fact_verdict(o, v, EV_CONFIRMED, have, dd_xasprintf("%s %s deployed", pkg, have));
	else if (from && !strcmp(have, from))
		fact_verdict(o, v, EV_REFUTED, have,
			     dd_xasprintf("%s %s still deployed, not %s: the change has not reached the workers", pkg,
					  have, to ? to : "the new one"));
}

static void judge_resource(const struct ev_output *o, const struct dd_entity *e, size_t n, struct ev_verdict *v)
{
	const char *r, *code, *a, *b;

	switch (o->kind) {
	case EV_KUBECTL_POD:
		/* a pod of another task says nothing about this one */
		if ((a = ev_fact(o, "task_id")) && (b = ent(e, n, "task_id")) && strcmp(a, b))
			return;
		r = ev_fact(o, "reason");
		code = ev_fact(o, "exit_code");
		if ((r && !strcmp(r, "OOMKilled")) || (code && !strcmp(code, "137")))
			fact_verdict(o, v, EV_CONFIRMED, r && !strcmp(r, "OOMKilled") ? "OOMKilled" : "137",
				     dd_xasprintf("the pod %s was OOMKilled (exit code %s)",
						  ev_fact(o, "pod") ? ev_fact(o, "pod") : "", code ? code : "137"));
		else if (r && code)
			fact_verdict(o, v, EV_REFUTED, r,
				     dd_xasprintf("the pod %s ended %s with exit code %s, not killed for memory",
						  ev_fact(o, "pod") ? ev_fact(o, "pod") : "", r, code));
		break;
	case EV_FREE:
		if ((a = ev_fact(o, "mem_total")) && (b = ev_fact(o, "mem_available")) && atof(a) > 0 &&
		    atof(b) < 0.1 * atof(a))
			fact_verdict(o, v, EV_CONFIRMED,
				     "Mem:", dd_xasprintf("only %s MiB of %s MiB of memory available", b, a));
		break;
	case EV_DF:
		if ((a = ev_fact(o, "disk_use")) && atoi(a) >= 95)
			fact_verdict(o, v, EV_CONFIRMED, ev_fact(o, "disk_mount"),
				     dd_xasprintf("%s is %s%% full", ev_fact(o, "disk_mount"), a));
		break;
	case EV_NVIDIA_SMI:
		if ((a = ev_fact(o, "gpu_mem_used")) && (b = ev_fact(o, "gpu_mem_total")) && atof(b) > 0 &&
		    atof(a) >= 0.95 * atof(b))
			fact_verdict(o, v, EV_CONFIRMED, "MiB /",
				     dd_xasprintf("GPU memory full: %s MiB of %s MiB in use", a, b));
		break;
	default: break;
	}
}

static void judge_config(const struct ev_output *o, const struct dd_entity *e, size_t n, struct ev_verdict *v)
{
	const char *conn = ent(e, n, "conn_id"), *var = ent(e, n, "variable"), *asked = ev_fact(o, "asked");

	if (o->kind == EV_AIRFLOW_CONN && conn) {
		char *key = dd_xasprintf("conn:%s", conn);
		int listed = 0;

		for (size_t i = 0; i < o->n_facts; i++)
			listed |= dd_starts_with(o->facts[i].name, "conn:");
		if (ev_fact(o, key))
			fact_verdict(o, v, EV_REFUTED, conn, dd_xasprintf("the connection %s is defined", conn));
		else if (ev_fact(o, "conn_missing") && (!asked || !strcmp(asked, conn)))
			fact_verdict(o, v, EV_CONFIRMED, "not found",
				     dd_xasprintf("the connection %s is not defined", conn));
		else if (listed && !asked)
			fact_verdict(o, v, EV_CONFIRMED, NULL,
				     dd_xasprintf("the connection %s is not among those listed", conn));
		free(key);
	}
	if (o->kind == EV_AIRFLOW_VAR && var) {
		const char *missing = ev_fact(o, "var_missing");

		if (missing && !strcmp(missing, var))
			fact_verdict(o, v, EV_CONFIRMED, "does not exist",
				     dd_xasprintf("the Variable %s does not exist", var));
		else if (!missing && asked && !strcmp(asked, var))
			fact_verdict(o, v, EV_REFUTED, NULL, dd_xasprintf("the Variable %s exists", var));
	}
}

static void judge_commit(const struct ev_output *o, const struct dd_entity *e, size_t n, struct ev_verdict *v)
{
	const char *c = ent(e, n, "commit");

	if (!c || strlen(c) < 7)
		return;
	for (size_t i = 0; i < o->n_facts; i++) {
		const char *id = o->facts[i].value;
		size_t k = strlen(id) < strlen(c) ? strlen(id) : strlen(c);

		if (!strcmp(o->facts[i].name, "commit") && !strncmp(id, c, k)) {
			fact_verdict(o, v, EV_CONFIRMED, id, dd_xasprintf("commit %.7s is in the deployed history", c));
			return;
		}
	}
}

/* Fills a rule's {name} placeholders with regex-escaped entity values. */
struct filler {
	const struct dd_entity *e;
	size_t n;
	int missing;           /* a placeholder had no value */
	struct dd_buf scratch; /* the escaped value pat_fill appends next */
};

static const char *fill_lookup(const char *name, void *ud)
{
	struct filler *f = ud;
	const char *val = ent(f->e, f->n, name);

	if (!val) {
		f->missing = 1;
		return NULL;
	}
	dd_buf_reset(&f->scratch);
	for (const char *p = val; *p; p++) {
		if (!dd_is_alnum((unsigned char)*p) && *p != '_' && (unsigned char)*p < 0x80)
			dd_buf_addch(&f->scratch, '\\');
		dd_buf_addch(&f->scratch, *p);
	}
	return dd_buf_str(&f->scratch);
}

/* The rule with each {name} replaced by its value, escaped; NULL when one has none. */
static char *fill_rule(const char *rule, const struct dd_entity *e, size_t n)
{
	struct filler f = {e, n, 0, DD_BUF_INIT};
	struct dd_buf b = DD_BUF_INIT;

	pat_fill(&b, rule, fill_lookup, &f);
	dd_buf_release(&f.scratch);
	if (f.missing) {
		dd_buf_release(&b);
		return NULL;
	}
	return dd_buf_detach(&b);
}

/* The 1-based line of o->text the regex matches first (multiline), 0 none. */
static int rule_line(const struct ev_output *o, const char *rx)
{
	int ec, line = 0;
	PCRE2_SIZE eo;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)rx, PCRE2_ZERO_TERMINATED, PCRE2_MULTILINE, &ec, &eo, NULL);
	pcre2_match_data *md;

	if (!code)
		return 0;
	md = pcre2_match_data_create_from_pattern(code, NULL);
	if (pcre2_match(code, (PCRE2_SPTR)o->text, strlen(o->text), 0, 0, md, NULL) >= 0) {
		PCRE2_SIZE at = pcre2_get_ovector_pointer(md)[0];

		line = 1;
		for (PCRE2_SIZE i = 0; i < at; i++)
			line += o->text[i] == '\n';
	}
	pcre2_match_data_free(md);
	pcre2_code_free(code);
	return line;
}

static void judge_rules(const struct ev_output *o, const struct ev_check *checks, size_t n_checks,
			const struct dd_entity *e, size_t n, struct ev_verdict *v)
{
	for (size_t c = 0; c < n_checks && v->verdict == EV_NONE; c++) {
		if (ev_kind_of_command(checks[c].run) != o->kind)
			continue;
		for (int side = 0; side < 2 && v->verdict == EV_NONE; side++) {
			const struct dd_strv *rules = side ? checks[c].refutes : checks[c].confirms;

			for (size_t r = 0; rules && r < rules->n && v->verdict == EV_NONE; r++) {
				char *rx = fill_rule(rules->v[r], e, n);
				int rel = rx ? rule_line(o, rx) : 0;

				if (rel) {
					char *lt = line_text(o, rel);

					decide(v, side ? EV_REFUTED : EV_CONFIRMED, o->line + rel - 1, lt,
					       dd_xasprintf("%s: \"%s\"", ev_kind_name(o->kind), lt));
					free(lt);
				}
				free(rx);
			}
		}
	}
}

int ev_judge(const struct ev_output *o, const char *kind, const struct dd_entity *ents, size_t n,
	     const struct ev_check *checks, size_t n_checks, struct ev_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (o->kind == EV_UNKNOWN)
		return EV_NONE;
	/* facts first */
	if (!strcmp(kind, "dependency_change"))
		judge_dependency(o, ents, n, v);
	else if (!strcmp(kind, "resource_exhaustion"))
		judge_resource(o, ents, n, v);
	else if (!strcmp(kind, "config_change"))
		judge_config(o, ents, n, v);
	if (v->verdict == EV_NONE && o->kind == EV_GIT_LOG &&
	    (!strcmp(kind, "dependency_change") || !strcmp(kind, "code_change") || !strcmp(kind, "config_change")))
		judge_commit(o, ents, n, v);
	if (v->verdict == EV_NONE)
		judge_rules(o, checks, n_checks, ents, n, v);
	return v->verdict;
}

void ev_verdict_release(struct ev_verdict *v)
{
	free(v->what);
	free(v->line_text);
	memset(v, 0, sizeof(*v));
}

struct name_check {
	int (*is_group)(const char *name, size_t len, void *ud);
	void *ud;
	char *unknown; /* the first name neither a group nor rank's */
};

static const char *check_lookup(const char *name, void *ud)
{
	static const char *const rank_names[] = {"package", "from", "to", "commit", "task_id"};
	struct name_check *c = ud;
	int known = c->is_group && c->is_group(name, strlen(name), c->ud);

	for (size_t i = 0; i < DD_ARRAY_SIZE(rank_names) && !known; i++)
		known = !strcmp(rank_names[i], name);
	if (!known && !c->unknown)
		c->unknown = dd_xstrdup(name);
	return "x";
}

int ev_rule_valid(const char *rule, int (*is_group)(const char *name, size_t len, void *ud), void *ud,
		  struct dd_buf *msg)
{
	struct name_check c = {is_group, ud, NULL};
	struct dd_buf rx = DD_BUF_INIT;
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *code;

	pat_fill(&rx, rule, check_lookup, &c);
	if (c.unknown) {
		dd_buf_addf(msg,
			    "{%s} is neither a named group of the pattern nor an entity rank adds (package, from, "
			    "to, commit, task_id)",
			    c.unknown);
		free(c.unknown);
		dd_buf_release(&rx);
		return -1;
	}
	code = pcre2_compile((PCRE2_SPTR)dd_buf_str(&rx), PCRE2_ZERO_TERMINATED, PCRE2_MULTILINE, &ec, &eo, NULL);
	dd_buf_release(&rx);
	if (!code) {
		PCRE2_UCHAR m[256];

		pcre2_get_error_message(ec, m, sizeof(m));
		dd_buf_addf(msg, "the regex does not compile: %s", (const char *)m);
		return -1;
	}
	pcre2_code_free(code);
	return 0;
}
