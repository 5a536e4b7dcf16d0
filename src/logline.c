/*
 * logline.c - one text line of a log: the decorations around it (quote
 * markers, box borders, service and pod prefixes, transport timestamps)
 * and the logging prefix in front of its message.  The forms are listed,
 * each with an example, in logparse.h; tests/unit/test_logparse.c has a
 * real line of each.
 *
 * Hot path: a switch on the first byte and a handful of byte comparisons
 * per form; no allocation (ANSI escapes are removed into a caller's
 * scratch buffer only when the line holds an ESC byte).
 */
#include "dagdoc/util.h"
#include "dagdoc/logparse.h"

#include "logline.h"

#define MAX_LAYERS 6        /* decorations and nested prefixes peeled from one line */

/* ---- small helpers ------------------------------------------------------ */

static inline int is_d(char c)
{
	return c >= '0' && c <= '9';
}

static inline int is_up(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int d2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static int64_t make_ms(int y, int mo, int d, int h, int mi, int sec, int ms, int offset_s)
{
	/* consecutive lines share their date: remember the last one */
	static _Thread_local int cy, cmo, cd;
	static _Thread_local int64_t cdays;
	int64_t days;

	if (y == cy && mo == cmo && d == cd) {
		days = cdays;
	} else {
		days = dd_days_from_civil(y, mo, d);
		cy = y;
		cmo = mo;
		cd = d;
		cdays = days;
	}

	return ((days * 86400 + h * 3600 + mi * 60 + sec) - offset_s) * 1000 + ms;
}

/* "YYYY-MM-DD[T ]HH:MM[:SS][.frac|,frac][Z|+HHMM|+HH:MM]"; returns the bytes
 * consumed or 0. */
static size_t ts_parse(const char *s, size_t n, int64_t *out)
{
	int y, mo, d, h, mi, sec = 0, ms = 0, off = 0;
	size_t i = 16;

	if (n < 16 || !is_d(s[0]) || !is_d(s[1]) || !is_d(s[2]) || !is_d(s[3]) || s[4] != '-' ||
	    !is_d(s[5]) || !is_d(s[6]) || s[7] != '-' || !is_d(s[8]) || !is_d(s[9]) ||
	    (s[10] != 'T' && s[10] != ' ') || !is_d(s[11]) || !is_d(s[12]) || s[13] != ':' ||
	    !is_d(s[14]) || !is_d(s[15]))
		return 0;
	y = d2(s) * 100 + d2(s + 2);
	mo = d2(s + 5);
	d = d2(s + 8);
	h = d2(s + 11);
	mi = d2(s + 14);
	if (i + 3 <= n && s[i] == ':' && is_d(s[i + 1]) && is_d(s[i + 2])) {
		sec = d2(s + i + 1);
		i += 3;
	}
	if (i + 1 < n && (s[i] == '.' || s[i] == ',') && is_d(s[i + 1])) {
		int scale = 100;

		i++;
		while (i < n && is_d(s[i])) {
			ms += (s[i] - '0') * scale;
			scale /= 10;
			i++;
		}
	}
	if (i < n && s[i] == 'Z') {
		i++;
	} else if (i + 3 <= n && (s[i] == '+' || s[i] == '-') && is_d(s[i + 1]) && is_d(s[i + 2])) {
		int sign = s[i] == '-' ? -1 : 1, oh = d2(s + i + 1), om = 0;
		size_t j = i + 3;

		if (j < n && s[j] == ':')
			j++;
		if (j + 2 <= n && is_d(s[j]) && is_d(s[j + 1])) {
			om = d2(s + j);
			j += 2;
		} else {
			j = i + 3;
		}
		off = sign * (oh * 3600 + om * 60);
		i = j;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	*out = make_ms(y, mo, d, h, mi, sec, ms, off);
	return i;
}

/* The UI's "YYYY-MM-DD, HH:MM:SS[ UTC]"; returns bytes consumed or 0.  Only
 * UTC (or no zone) gives a time; another zone name gives *out = 0. */
static size_t ts_parse_ui(const char *s, size_t n, int64_t *out)
{
	int y, mo, d, h, mi, sec;
	size_t i = 20;

	if (n < 20 || !is_d(s[0]) || !is_d(s[3]) || s[4] != '-' || s[7] != '-' || s[10] != ',' ||
	    s[11] != ' ' || !is_d(s[12]) || !is_d(s[13]) || s[14] != ':' || !is_d(s[15]) ||
	    !is_d(s[16]) || s[17] != ':' || !is_d(s[18]) || !is_d(s[19]) || !is_d(s[1]) ||
	    !is_d(s[2]) || !is_d(s[5]) || !is_d(s[6]) || !is_d(s[8]) || !is_d(s[9]))
		return 0;
	y = d2(s) * 100 + d2(s + 2);
	mo = d2(s + 5);
	d = d2(s + 8);
	h = d2(s + 12);
	mi = d2(s + 15);
	sec = d2(s + 18);
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	*out = make_ms(y, mo, d, h, mi, sec, 0, 0);
	if (i < n && s[i] == ' ') {
		size_t j = i + 1;

		while (j < n && j < i + 7 && is_up(s[j]))
			j++;
		if (j > i + 1) {
			if (!(j - i - 1 == 3 && !memcmp(s + i + 1, "UTC", 3)))
				*out = 0;
			i = j;
		}
	}
	return i;
}

/* An upper-case level name at s; *wl receives its length. */
static int level_word(const char *s, size_t n, size_t *wl)
{
	size_t i = 0;

	while (i < n && i < 9 && is_up(s[i]))
		i++;
	if (i < n && is_up(s[i]))
		return 0;
	*wl = i;
	switch (i) {
	case 4:
		if (!memcmp(s, "INFO", 4))
			return 20;
		if (!memcmp(s, "WARN", 4))
			return 30;
		break;
	case 5:
		if (!memcmp(s, "ERROR", 5))
			return 40;
		if (!memcmp(s, "DEBUG", 5))
			return 10;
		if (!memcmp(s, "FATAL", 5))
			return 50;
		break;
	case 7:
		if (!memcmp(s, "WARNING", 7))
			return 30;
		break;
	case 8:
		if (!memcmp(s, "CRITICAL", 8))
			return 50;
		break;
	}
	return 0;
}

/* A level name in any case ("error", "Warning"); 0 when unknown. */
int logline_level_name(const char *s, size_t n)
{
	char u[10];
	size_t i, wl;
	int lvl;

	if (n == 0 || n > 9)
		return 0;
	for (i = 0; i < n; i++)
		u[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
	if (n == 9 && !memcmp(u, "EXCEPTION", 9))
		return 40;
	lvl = level_word(u, n, &wl);
	return wl == n ? lvl : 0;
}

static const char *find3(const char *s, size_t n, const char *pat)
{
	/* first occurrence of a 3-byte pattern */
	const char *p = s, *end = s + n;

	while (p + 3 <= end) {
		const char *q = memchr(p, pat[0], (size_t)(end - p) - 2);

		if (!q)
			return NULL;
		if (q[1] == pat[1] && q[2] == pat[2])
			return q;
		p = q + 1;
	}
	return NULL;
}

static void set_msg(struct dd_logline *L, const char *s, size_t n, size_t i)
{
	L->msg = s + i;
	L->msg_len = n - i;
}

/* ---- text prefixes ------------------------------------------------------ */

/* "[ts] {file.py:12} LEVEL - msg" (the {..} part optional). */
static int try_airflow2(const char *s, size_t n, struct dd_logline *L)
{
	int64_t ts = 0;
	size_t i, k, wl;
	int lvl;

	k = ts_parse(s + 1, n - 1, &ts);
	if (!k)
		k = ts_parse_ui(s + 1, n - 1, &ts);
	if (!k)
		return 0;
	i = 1 + k;
	if (i + 1 >= n || s[i] != ']' || s[i + 1] != ' ')
		return 0;
	i += 2;
	if (i < n && s[i] == '{') {
		size_t lim = i + 256 < n ? i + 256 : n;
		const char *q = memchr(s + i, '}', lim - i);

		if (!q)
			return 0;
		i = (size_t)(q - s) + 1;
		if (i >= n || s[i] != ' ')
			return 0;
		i++;
	}
	lvl = level_word(s + i, n - i, &wl);
	if (!lvl)
		return 0;
	i += wl;
	if (i + 3 <= n && s[i] == ' ' && s[i + 1] == '-' && s[i + 2] == ' ')
		i += 3;
	else if (i + 2 == n && s[i] == ' ' && s[i + 1] == '-')
		i += 2;
	else if (i != n)
		return 0;
	set_msg(L, s, n, i);
	L->level = lvl;
	L->ts_ms = ts;
	return 1;
}

/* What follows "LEVEL<spaces>| " in Prefect lines: "Flow run 'x' - msg",
 * "Task run 'x' - msg" or "logger.name - msg". */
static void prefect_rest(const char *s, size_t n, size_t i, struct dd_logline *L)
{
	const char *r = s + i;
	size_t rn = n - i;

	if (rn > 10 && (!memcmp(r, "Flow run '", 10) || !memcmp(r, "Task run '", 10))) {
		const char *q = find3(r + 10, rn - 10, "' -");

		while (q && !((size_t)(q - s) + 3 == n || q[3] == ' '))
			q = find3(q + 1, (size_t)(s + n - q - 1), "' -");
		if (q) {
			size_t j = (size_t)(q - s) + 3;

			set_msg(L, s, n, j < n ? j + 1 : j);
			return;
		}
	} else {
		size_t j = i;

		while (j < n && s[j] != ' ')
			j++;
		if (j > i && j + 3 <= n && s[j + 1] == '-' && s[j + 2] == ' ') {
			set_msg(L, s, n, j + 3);
			return;
		}
	}
	set_msg(L, s, n, i);
}

/* At s+i: "LEVEL<spaces>| rest" -> 1 */
static int try_prefect_level(const char *s, size_t n, size_t i, struct dd_logline *L)
{
	size_t wl;
	int lvl = level_word(s + i, n - i, &wl);

	if (!lvl)
		return 0;
	i += wl;
	while (i < n && s[i] == ' ')
		i++;
	if (i >= n || s[i] != '|')
		return 0;
	i++;
	if (i < n && s[i] == ' ')
		i++;
	L->level = lvl;
	prefect_rest(s, n, i, L);
	return 1;
}

/* Python logging after "<ts> ": "- name - LEVEL - msg", "LEVEL name: msg",
 * "[LEVEL] name: msg", "LEVEL - msg", "LEVEL msg". */
static int try_python_after_ts(const char *s, size_t n, size_t i, struct dd_logline *L)
{
	size_t wl, j;
	int lvl, br = 0;

	if (i + 2 <= n && s[i] == '-' && s[i + 1] == ' ') {
		/* "- name - LEVEL - msg" or "- LEVEL - msg" */
		i += 2;
		lvl = level_word(s + i, n - i, &wl);
		if (!lvl || i + wl + 3 > n || memcmp(s + i + wl, " - ", 3)) {
			j = i;
			while (j < n && s[j] != ' ')
				j++;
			if (j == i || j + 3 > n || memcmp(s + j, " - ", 3))
				return 0;
			i = j + 3;
			lvl = level_word(s + i, n - i, &wl);
			if (!lvl || i + wl + 3 > n || memcmp(s + i + wl, " - ", 3))
				return 0;
		}
		L->level = lvl;
		set_msg(L, s, n, i + wl + 3);
		return 1;
	}
	if (i < n && s[i] == '[') {
		br = 1;
		i++;
	}
	lvl = level_word(s + i, n - i, &wl);
	if (!lvl)
		return 0;
	i += wl;
	if (br) {
		if (i >= n || s[i] != ']')
			return 0;
		i++;
	}
	if (i + 3 <= n && !memcmp(s + i, " - ", 3)) {
		i += 3;
	} else if (i + 2 <= n && s[i] == ':' && s[i + 1] == ' ') {
		i += 2;
	} else if (i < n && s[i] == ' ') {
		i++;
		/* optional "logger.name: " */
		j = i;
		while (j < n && (s[j] == '.' || s[j] == '_' || s[j] == '-' || is_d(s[j]) ||
		                 (s[j] >= 'a' && s[j] <= 'z') || is_up(s[j])))
			j++;
		if (j > i && j + 1 < n && s[j] == ':' && s[j + 1] == ' ')
			i = j + 2;
	} else if (i != n) {
		return 0;
	}
	L->level = lvl;
	set_msg(L, s, n, i);
	return 1;
}

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* "Mar 05 13:23:19 host tag[pid]: msg" */
static int try_syslog(const char *s, size_t n, struct dd_logline *L)
{
	size_t i, k;

	if (n < 20 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':' || s[15] != ' ')
		return 0;
	for (k = 0; k < 12; k++)
		if (!memcmp(s, months + 3 * k, 3))
			break;
	if (k == 12)
		return 0;
	i = 16;
	while (i < n && s[i] != ' ')
		i++;
	if (i == 16 || i >= n)
		return 0;
	i++;
	k = i;
	while (i < n && s[i] != ' ' && s[i] != ':')
		i++;
	if (i == k || i + 1 >= n || s[i] != ':' || s[i + 1] != ' ')
		return 0;
	set_msg(L, s, n, i + 2);
	return 1;
}

/* Lines starting with a digit. */

/* "HH:MM:SS[.frac]" at the start (Prefect's console, dbt); the length or 0. */
static size_t time_of_day(const char *s, size_t n)
{
	size_t i = 8;

	if (n < 9 || !is_d(s[0]) || !is_d(s[1]) || s[2] != ':' || !is_d(s[3]) || !is_d(s[4]) || s[5] != ':' ||
	    !is_d(s[6]) || !is_d(s[7]))
		return 0;
	if (i + 1 < n && s[i] == '.' && is_d(s[i + 1])) {
		i++;
		while (i < n && is_d(s[i]))
			i++;
	}
	return i;
}

/* "[error]", "[info     ]" at s+i: the level, *after = just past "]"; 0 when not. */
static int bracket_level(const char *s, size_t n, size_t i, size_t *after)
{
	size_t j = i + 1, e;
	int lvl;

	if (i >= n || s[i] != '[')
		return 0;
	while (j < n && s[j] >= 'a' && s[j] <= 'z')
		j++;
	e = j;
	if (j == i + 1)
		return 0;
	while (j < n && s[j] == ' ')
		j++;
	if (j >= n || s[j] != ']' || !(lvl = logline_level_name(s + i + 1, e - i - 1)))
		return 0;
	*after = j + 1;
	return lvl;
}

/* dbt: "12:00:01.123456 [error] [Thread-1]: msg" at s+i ("[" expected). */
static int try_bracket_level_thread(const char *s, size_t n, size_t i, struct dd_logline *L)
{
	size_t j;
	int lvl = bracket_level(s, n, i, &j);

	if (!lvl)
		return 0;
	if (j + 1 < n && s[j] == ' ' && s[j + 1] == '[') {
		const char *q = memchr(s + j, ']', n - j);

		if (!q)
			return 0;
		j = (size_t)(q - s) + 1;
		if (j >= n || s[j] != ':')
			return 0;
		j++;
	} else if (j < n && s[j] == ':') {
		j++;
	} else {
		return 0;
	}
	if (j < n && s[j] == ' ')
		j++;
	L->level = lvl;
	set_msg(L, s, n, j);
	return 1;
}

static int is_key_char(char c)
{
	return c == '_' || c == '.' || is_d(c) || is_up(c) || (c >= 'a' && c <= 'z');
}

/* The end of a structlog event without its trailing "[logger.name]" and
 * "key=value" / key="quoted value" pairs. */
static size_t structlog_tail(const char *m, size_t n)
{
	size_t end = n;

	for (;;) {
		size_t e = end, b;

		while (e && m[e - 1] == ' ')
			e--;
		if (e < 3)
			return end;
		if (m[e - 1] == ']') {
			b = e - 1;
			while (b && is_key_char(m[b - 1]))
				b--;
			if (b == e - 1 || b < 2 || m[b - 1] != '[' || m[b - 2] != ' ')
				return end;
			end = b - 2;
			continue;
		}
		if (m[e - 1] == '"' || m[e - 1] == '\'') {
			char q = m[e - 1];

			b = e - 1;
			while (b && !(m[b - 1] == q && b >= 2 && m[b - 2] == '='))
				b--;
			if (!b)
				return end;
			b -= 2;   /* at '=' */
		} else {
			b = e;
			while (b && m[b - 1] != ' ' && m[b - 1] != '=')
				b--;
			if (!b || m[b - 1] != '=')
				return end;
			b--;
		}
		/* b is at '=': the key before it */
		{
			size_t k = b;

			while (k && is_key_char(m[k - 1]))
				k--;
			if (k == b || k == 0 || m[k - 1] != ' ')
				return end;
			end = k - 1;
		}
	}
}

/* Structlog's console renderer (Airflow 3's processes and many Python
 * services): "[info     ] event [logger] key=value" at s+i. */
static int try_structlog(const char *s, size_t n, size_t i, struct dd_logline *L)
{
	size_t j;
	int lvl = bracket_level(s, n, i, &j);

	if (!lvl)
		return 0;
	if (j < n && s[j] == ' ')
		j++;
	if (j < n && s[j] == '[')
		return 0;   /* dbt's "[error] [Thread]:" */
	L->level = lvl;
	set_msg(L, s, n, j);
	L->msg_len = structlog_tail(L->msg, L->msg_len);
	while (L->msg_len && L->msg[L->msg_len - 1] == ' ')
		L->msg_len--;
	return 1;
}

/* Lines starting with a digit. */
static enum dd_logformat try_digit(const char *s, size_t n, struct dd_logline *L)
{
	int64_t ts = 0;
	size_t k, i;

	if ((i = time_of_day(s, n))) {
		if (i + 3 <= n && !memcmp(s + i, " | ", 3))
			return try_prefect_level(s, n, i + 3, L) ? DD_LOGFMT_PREFECT : DD_LOGFMT_UNKNOWN;
		if (i + 1 < n && s[i] == ' ' && try_bracket_level_thread(s, n, i + 1, L))
			return DD_LOGFMT_PLAIN;
		if (i + 1 < n && s[i] == ' ' && try_structlog(s, n, i + 1, L))
			return DD_LOGFMT_PLAIN;
		if (i == 8 && i + 2 <= n && s[i] == ' ' && s[i + 1] == ' ') {
			/* dbt without levels: "21:25:03  Completed ..." */
			set_msg(L, s, n, 10);
			return DD_LOGFMT_PLAIN;
		}
		return DD_LOGFMT_UNKNOWN;
	}
	if (n > 19 && is_d(s[1]) && s[2] == '/' && is_d(s[3]) && is_d(s[4]) && s[5] == '/' && is_d(s[6]) &&
	    is_d(s[7]) && s[8] == ' ' && time_of_day(s + 9, n - 9) == 8 && s[17] == ' ') {
		/* log4j's default (Spark, Hadoop): "24/01/15 12:34:56 ERROR Executor: msg" */
		return try_python_after_ts(s, n, 18, L) ? DD_LOGFMT_PLAIN : DD_LOGFMT_UNKNOWN;
	}
	k = ts_parse(s, n, &ts);
	if (!k)
		return DD_LOGFMT_UNKNOWN;
	L->ts_ms = ts;
	if (k + 3 <= n && !memcmp(s + k, " | ", 3) && try_prefect_level(s, n, k + 3, L))
		return DD_LOGFMT_PREFECT;
	if (k < n && s[k] == ' ' && try_python_after_ts(s, n, k + 1, L))
		return DD_LOGFMT_PLAIN;
	if (k < n && s[k] == ' ' && try_structlog(s, n, k + 1, L))
		return DD_LOGFMT_PLAIN;
	L->ts_ms = 0;
	return DD_LOGFMT_UNKNOWN;   /* a bare timestamp is a decoration (see deco_timestamp) */
}

/* glog / PyTorch's c10 logging: "[W python_anomaly_mode.cpp:60] msg",
 * "[W1015 12:00:00.123456 1234 torch/csrc/x.cpp:12] msg". */
static int try_glog(const char *s, size_t n, struct dd_logline *L)
{
	static const char letters[] = "IWEF";
	const char *lp, *q;
	size_t i = 2;

	if (n < 8 || !(lp = memchr(letters, s[1], 4)))
		return 0;
	if (is_d(s[2])) {
		while (i < n && (is_d(s[i]) || s[i] == ':' || s[i] == '.' || s[i] == ' '))
			i++;
	} else if (s[2] != ' ') {
		return 0;
	}
	q = memchr(s + i, ']', n - i < 160 ? n - i : 160);
	if (!q || !memchr(s + i, ':', (size_t)(q - s) - i) || (size_t)(q - s) + 1 >= n || q[1] != ' ')
		return 0;
	for (const char *c = s + i; c < q; c++)
		if (*c == ' ' && c > s + 2 && !is_d(c[-1]))
			return 0;   /* "[W file.cpp:12]": one word after the letter (and the time) */
	L->level = 20 + 10 * (int)(lp - letters);
	set_msg(L, s, n, (size_t)(q - s) + 2);
	return 1;
}

/* Celery's default: "[2024-05-01 02:00:13,123: ERROR/ForkPoolWorker-1] msg". */
static int try_celery(const char *s, size_t n, struct dd_logline *L)
{
	int64_t ts = 0;
	size_t k = ts_parse(s + 1, n - 1, &ts), i, wl;
	const char *q;
	int lvl;

	if (!k)
		return 0;
	i = 1 + k;
	if (i + 2 >= n || s[i] != ':' || s[i + 1] != ' ')
		return 0;
	i += 2;
	if (!(lvl = level_word(s + i, n - i, &wl)) || i + wl >= n || s[i + wl] != '/')
		return 0;
	q = memchr(s + i, ']', n - i < 96 ? n - i : 96);
	if (!q)
		return 0;
	i = (size_t)(q - s) + 1;
	if (i < n && s[i] == ' ')
		i++;
	L->level = lvl;
	L->ts_ms = ts;
	set_msg(L, s, n, i);
	return 1;
}

/* Kubernetes' klog: "E0615 12:34:56.789012       1 reflector.go:138] msg". */
static int try_klog(const char *s, size_t n, struct dd_logline *L)
{
	static const char letters[] = "IWEF";
	const char *lp = memchr(letters, s[0], 4), *q;
	size_t i;

	if (!lp || n < 24 || !is_d(s[1]) || !is_d(s[2]) || !is_d(s[3]) || !is_d(s[4]) || s[5] != ' ' ||
	    time_of_day(s + 6, n - 6) < 8)
		return 0;
	i = 6 + time_of_day(s + 6, n - 6);
	if (i >= n || s[i] != ' ')
		return 0;
	while (i < n && s[i] == ' ')
		i++;
	if (i >= n || !is_d(s[i]))
		return 0;
	while (i < n && is_d(s[i]))
		i++;
	q = memchr(s + i, ']', n - i < 160 ? n - i : 160);
	if (!q || i >= n || s[i] != ' ' || !memchr(s + i, ':', (size_t)(q - s) - i))
		return 0;
	i = (size_t)(q - s) + 1;
	if (i < n && s[i] == ' ')
		i++;
	L->level = 20 + 10 * (int)(lp - letters);
	set_msg(L, s, n, i);
	return 1;
}

/* GitHub Actions: "##[error]msg" and workflow commands "::error file=x::msg". */
static int try_actions(const char *s, size_t n, struct dd_logline *L)
{
	static const struct {
		const char *word;
		int level;
	} words[] = { { "error", 40 }, { "warning", 30 }, { "notice", 20 }, { "debug", 10 },
	              { "group", 20 }, { "endgroup", 20 }, { "command", 20 } };
	size_t i, k, wl;

	if (n >= 4 && s[0] == '#' && s[1] == '#' && s[2] == '[') {
		i = 3;
		for (k = 0; k < DD_ARRAY_SIZE(words); k++) {
			wl = strlen(words[k].word);
			if (i + wl < n && !memcmp(s + i, words[k].word, wl) && s[i + wl] == ']') {
				L->level = words[k].level;
				set_msg(L, s, n, i + wl + 1);
				return 1;
			}
		}
		return 0;
	}
	if (n >= 4 && s[0] == ':' && s[1] == ':') {
		const char *q;

		for (k = 0; k < 3; k++) {
			wl = strlen(words[k].word);
			if (n > 2 + wl && !memcmp(s + 2, words[k].word, wl) && (s[2 + wl] == ':' || s[2 + wl] == ' '))
				break;
		}
		if (k == 3 || !(q = memmem(s + 2, n - 2, "::", 2)))
			return 0;
		L->level = words[k].level;
		set_msg(L, s, n, (size_t)(q - s) + 2);
		return 1;
	}
	return 0;
}

/*
 * The logging prefix at the start of s, if any: fills L->msg (after the
 * prefix), L->level, L->ts_ms and *fmt (the format it belongs to) and
 * returns 1.  `outer` is 1 for the outermost layer of a line (forms that
 * only begin a physical line: Airflow's "*** " and " INFO - " headers).
 */
static int parse_prefix(const char *s, size_t n, int outer, struct dd_logline *L, enum dd_logformat *fmt)
{
	size_t wl;
	int lvl;

	*fmt = DD_LOGFMT_PLAIN;
	if (n < 4)
		return 0;
	switch (s[0]) {
	case '[':
		if (try_airflow2(s, n, L)) {
			*fmt = DD_LOGFMT_AIRFLOW2;
			return 1;
		}
		if (try_celery(s, n, L) || try_structlog(s, n, 0, L) || try_glog(s, n, L))
			return 1;
		return 0;
	case ' ':
		/* " INFO - ::group::..." (Airflow 2 API header) */
		lvl = level_word(s + 1, n - 1, &wl);
		if (outer && lvl && 1 + wl + 3 <= n && !memcmp(s + 1 + wl, " - ", 3)) {
			L->level = lvl;
			set_msg(L, s, n, 1 + wl + 3);
			*fmt = DD_LOGFMT_AIRFLOW2;
			return 1;
		}
		return 0;
	case '*':
		if (outer && s[1] == '*' && s[2] == '*' && s[3] == ' ') {
			L->level = 20;
			set_msg(L, s, n, 4);
			*fmt = DD_LOGFMT_AIRFLOW2;
			return 1;
		}
		return 0;
	case '#':
	case ':':
		return try_actions(s, n, L);
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		*fmt = try_digit(s, n, L);
		return *fmt != DD_LOGFMT_UNKNOWN;
	default:
		break;
	}
	if (!is_up(s[0]))
		return 0;
	if (is_d(s[1]) && try_klog(s, n, L))
		return 1;
	lvl = level_word(s, n, &wl);
	if (lvl) {
		size_t i = wl;

		if (i < n && (s[i] == ' ' || s[i] == '|')) {
			size_t j = i;

			while (j < n && s[j] == ' ')
				j++;
			if (j < n && s[j] == '|' && try_prefect_level(s, n, 0, L)) {
				*fmt = DD_LOGFMT_PREFECT;
				return 1;
			}
		} else if (i + 1 < n && s[i] == ':' && s[i + 1] != ' ') {
			/* "ERROR:root:msg" (logging.basicConfig) */
			size_t j = i + 1;

			while (j < n && s[j] != ':' && s[j] != ' ')
				j++;
			if (j < n && s[j] == ':') {
				L->level = lvl;
				set_msg(L, s, n, j + 1);
				return 1;
			}
		} else if (i + 2 < n && s[i] == ':' && s[i + 1] == ' ' && s[i + 2] == ' ') {
			/* uvicorn / gunicorn: "ERROR:    Exception in ASGI application" */
			size_t j = i + 1;

			while (j < n && s[j] == ' ')
				j++;
			L->level = lvl;
			set_msg(L, s, n, j);
			return 1;
		}
		return 0;
	}
	return try_syslog(s, n, L);
}

/* ---- decorations ----------------------------------------------------------- */

static int is_lo(char c)
{
	return c >= 'a' && c <= 'z';
}

/* Markdown / e-mail quote markers, nested: "> > text". */
static size_t deco_quote(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] == '>') {
		i++;
		if (i < n && s[i] == ' ')
			i++;
	}
	return i;
}

/* pytest's exception lines: "E   ValueError: x" (E and three spaces). */
static size_t deco_pytest(const char *s, size_t n)
{
	return n > 4 && s[0] == 'E' && s[1] == ' ' && s[2] == ' ' && s[3] == ' ' ? 4 : 0;
}

/* docker compose's service prefix: "airflow-worker-1  | msg", "web_1 | msg". */
static size_t deco_compose(const char *s, size_t n)
{
	size_t i = 0, name_end, k;
	int replica = 0;

	if (!n || !(is_lo(s[0]) || is_d(s[0])))
		return 0;
	while (i < n && i < 80 && (is_lo(s[i]) || is_d(s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.'))
		i++;
	name_end = i;
	for (k = name_end; k > 0 && is_d(s[k - 1]); k--)
		;
	replica = k < name_end && k > 1 && (s[k - 1] == '-' || s[k - 1] == '_');
	while (i < n && s[i] == ' ')
		i++;
	if (i == name_end || i >= n || s[i] != '|' || (i - name_end < 2 && !replica))
		return 0;
	i++;
	if (i < n && s[i] == ' ')
		i++;
	return i;
}

/* Ray's output of a worker: "(task_fn pid=1234) msg", "(pid=1234, ip=10.0.0.2) msg",
 * "(raylet) msg". */
static size_t deco_ray(const char *s, size_t n)
{
	const char *q = memchr(s, ')', n < 160 ? n : 160);
	size_t k;

	if (n < 8 || s[0] != '(' || !q || (size_t)(q - s) + 1 >= n || q[1] != ' ')
		return 0;
	k = (size_t)(q - s);
	if (k >= 7 && !memcmp(s + 1, "raylet", 6) && (k == 7 || s[7] == ','))
		return k + 2;
	{
		const char *pid = memmem(s, k, "pid=", 4);

		if (!pid || (pid != s + 1 && pid[-1] != ' ') || !is_d(pid[4]))
			return 0;
	}
	return k + 2;
}

/* kubectl logs --prefix: "[pod/name-7d9f/container] msg". */
static size_t deco_kubectl(const char *s, size_t n)
{
	const char *q;

	if (n < 8 || s[0] != '[' || memcmp(s + 1, "pod/", 4))
		return 0;
	q = memchr(s, ']', n < 256 ? n : 256);
	if (!q || (size_t)(q - s) + 1 >= n || q[1] != ' ')
		return 0;
	return (size_t)(q - s) + 2;
}

/* A bare timestamp in front of a line ("docker logs -t", kubectl
 * --timestamps, CI runners, CloudWatch exports): dropped with the one
 * blank after it; a timestamp alone leaves an empty message. */
static size_t deco_timestamp(const char *s, size_t n, int64_t *ts)
{
	size_t k;

	if (n < 16 || !is_d(s[0]))
		return 0;
	k = ts_parse(s, n, ts);
	if (!k)
		return 0;
	if (k == n)
		return k;
	return s[k] == ' ' || s[k] == '\t' ? k + 1 : 0;
}

/* Box-drawing borders around the line (rich panels, kubectl/CLI tables):
 * "│ text   │".  ASCII "| text |" only with both borders. */
static int deco_box(const char **ps, size_t *pn)
{
	static const char *const bars[] = { "\xe2\x94\x82", "\xe2\x94\x83", "\xe2\x95\x91" };
	const char *s = *ps;
	size_t n = *pn, e, k;

	for (k = 0; k < DD_ARRAY_SIZE(bars); k++)
		if (n >= 3 && !memcmp(s, bars[k], 3))
			break;
	if (k < DD_ARRAY_SIZE(bars)) {
		s += 3;
		n -= 3;
		if (n && *s == ' ')
			s++, n--;
		e = n;
		while (e && s[e - 1] == ' ')
			e--;
		if (e >= 3 && !memcmp(s + e - 3, bars[k], 3)) {
			e -= 3;
			while (e && s[e - 1] == ' ')
				e--;
		} else {
			e = n;
		}
		*ps = s;
		*pn = e;
		return 1;
	}
	if (n >= 4 && s[0] == '|' && s[1] == ' ') {
		e = n;
		while (e && s[e - 1] == ' ')
			e--;
		if (e < 4 || s[e - 1] != '|' || s[e - 2] != ' ')
			return 0;
		e -= 2;
		while (e > 2 && s[e - 1] == ' ')
			e--;
		*ps = s + 2;
		*pn = e - 2;
		return 1;
	}
	return 0;
}

/* A message in double quotes (CSV fields, JSON strings pasted raw): drops
 * an unbalanced quote at either end, or a pair around a quote-free text. */
static int deco_quoted(const char **ps, size_t *pn)
{
	const char *s = *ps;
	size_t n = *pn, i, quotes = 0;

	if (n < 2 || (s[0] != '"' && s[n - 1] != '"'))
		return 0;
	for (i = 0; i < n; i++)
		quotes += s[i] == '"';
	if (quotes == 2 && s[0] == '"' && s[n - 1] == '"') {
		*ps = s + 1;
		*pn = n - 2;
		return 1;
	}
	if (!(quotes & 1))
		return 0;
	if (s[0] == '"') {
		*ps = s + 1;
		*pn = n - 1;
	} else {
		*pn = n - 1;
	}
	return 1;
}

/* One decoration removed from L->msg: 1, or 0 when there is none.  `outer`
 * as in parse_prefix; `first` for the very start of the physical line. */
static int strip_decoration(struct dd_logline *L, int outer, int first)
{
	const char *s = L->msg;
	size_t n = L->msg_len, k = 0;
	int64_t ts = 0;

	if (!n)
		return 0;
	if (outer) {
		switch (s[0]) {
		case '>': k = deco_quote(s, n); break;
		case 'E': k = deco_pytest(s, n); break;
		case '[': k = deco_kubectl(s, n); break;
		case '(': k = deco_ray(s, n); break;
		case '"':
			if (first && deco_quoted(&L->msg, &L->msg_len))
				return 1;
			break;
		default:
			if (deco_box(&L->msg, &L->msg_len))
				return 1;
			k = deco_compose(s, n);
			break;
		}
		if (!k && first && s[n - 1] == '"' && deco_quoted(&L->msg, &L->msg_len))
			return 1;
	}
	if (!k && (k = deco_timestamp(s, n, &ts)) && !L->ts_ms)
		L->ts_ms = ts;
	if (!k)
		return 0;
	L->msg = s + k;
	L->msg_len = n - k;
	return 1;
}

/* ---- the line -------------------------------------------------------------- */

enum dd_logformat logline_parse(struct dd_logline *L)
{
	enum dd_logformat fmt = DD_LOGFMT_PLAIN, f;
	int prefixed = 0, layer;

	for (layer = 0; layer < MAX_LAYERS && L->msg_len; layer++) {
		struct dd_logline in = *L;

		in.level = 0;
		in.ts_ms = 0;
		if (parse_prefix(L->msg, L->msg_len, !prefixed, &in, &f)) {
			L->msg = in.msg;
			L->msg_len = in.msg_len;
			if (in.level)
				L->level = in.level;   /* a nested prefix knows the real level */
			if (in.ts_ms && !L->ts_ms)
				L->ts_ms = in.ts_ms;
			if (!prefixed)
				fmt = f;
			prefixed = 1;
			continue;
		}
		if (!strip_decoration(L, !prefixed, layer == 0))
			break;
	}
	return fmt;
}

/* Copies s without ANSI escape sequences. */
static void strip_ansi(const char *s, size_t n, struct dd_buf *out)
{
	size_t i = 0, start = 0;

	dd_buf_reset(out);
	dd_buf_grow(out, n);
	while (i < n) {
		const char *e = memchr(s + i, 0x1b, n - i);

		if (!e) {
			dd_buf_add(out, s + i, n - i);
			return;
		}
		start = (size_t)(e - s);
		dd_buf_add(out, s + i, start - i);
		i = dd_escape_end(s, n, start + 1);
	}
}

enum dd_logformat logparse_line(const char *line, size_t len, struct dd_buf *scratch, struct dd_logline *out)
{
	const char *s = line;
	size_t n = len;

	if (n && line[n - 1] == '\r')
		n--;
	memset(out, 0, sizeof(*out));
	out->raw = line;
	out->raw_len = n;
	if (scratch && n && memchr(line, 0x1b, n)) {
		strip_ansi(line, n, scratch);
		s = scratch->data ? scratch->data : "";
		n = scratch->len;
	}
	out->msg = s;
	out->msg_len = n;
	return logline_parse(out);
}
