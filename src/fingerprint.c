/*
 * fingerprint.c - message normalisation and failure fingerprints (FNV-1a 64).
 * See logparse.h for the rules.
 */
#include "dagdoc/util.h"
#include "dagdoc/logparse.h"
#include "dagdoc/traceback.h"
#include "dagdoc/fingerprint.h"

#define NORM_MAX 1024
#define QUOTE_MAX 512
#define IDENT_MAX 64

static inline int is_hex(unsigned char c)
{
	return dd_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* A timestamp "YYYY-MM-DD[T ]HH:MM[:SS[.frac]][Z|+hh[:]mm]" or a date
 * "YYYY-MM-DD"; returns its length or 0. */
static size_t ts_len(const unsigned char *s, size_t n)
{
	size_t i;

	if (n < 10 || !dd_is_digit(s[0]) || !dd_is_digit(s[1]) || !dd_is_digit(s[2]) || !dd_is_digit(s[3]) || s[4] != '-' ||
	    !dd_is_digit(s[5]) || !dd_is_digit(s[6]) || s[7] != '-' || !dd_is_digit(s[8]) || !dd_is_digit(s[9]))
		return 0;
	i = 10;
	if (i + 6 <= n && (s[i] == 'T' || s[i] == ' ' || s[i] == '_') && dd_is_digit(s[i + 1]) && dd_is_digit(s[i + 2]) &&
	    s[i + 3] == ':' && dd_is_digit(s[i + 4]) && dd_is_digit(s[i + 5])) {
		i += 6;
		if (i + 3 <= n && s[i] == ':' && dd_is_digit(s[i + 1]) && dd_is_digit(s[i + 2]))
			i += 3;
		if (i + 1 < n && (s[i] == '.' || s[i] == ',') && dd_is_digit(s[i + 1])) {
			i++;
			while (i < n && dd_is_digit(s[i]))
				i++;
		}
		if (i < n && s[i] == 'Z') {
			i++;
		} else if (i + 3 <= n && (s[i] == '+' || s[i] == '-') && dd_is_digit(s[i + 1]) && dd_is_digit(s[i + 2])) {
			i += 3;
			if (i + 3 <= n && s[i] == ':' && dd_is_digit(s[i + 1]) && dd_is_digit(s[i + 2]))
				i += 3;
			else if (i + 2 <= n && dd_is_digit(s[i]) && dd_is_digit(s[i + 1]))
				i += 2;
		}
	}
	return i;
}

static size_t hex_run(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_hex(s[i]))
		i++;
	return i;
}

/* 8-4-4-4-12 */
static size_t uuid_len(const unsigned char *s, size_t n)
{
	static const size_t parts[5] = { 8, 4, 4, 4, 12 };
	size_t i = 0, k;

	for (k = 0; k < 5; k++) {
		if (hex_run(s + i, n - i) < parts[k])
			return 0;
		i += parts[k];
		if (k < 4) {
			if (i >= n || s[i] != '-')
				return 0;
			i++;
		}
	}
	if (i < n && dd_is_alnum(s[i]))
		return 0;
	return i;
}

static int is_plain_ident(const unsigned char *s, size_t n)
{
	size_t i;
	int seg_start = 1;

	if (n == 0 || n > IDENT_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (seg_start)
				return 0;
			seg_start = 1;
			continue;
		}
		if (!dd_is_alpha(s[i]) && s[i] != '_')
			return 0;
		seg_start = 0;
	}
	return !seg_start;
}

static int is_path_start(unsigned char prev)
{
	return prev == 0 || is_space(prev) || prev == '\'' || prev == '"' || prev == '`' || prev == '(' ||
	       prev == '[' || prev == '=' || prev == ':' || prev == ',';
}

static int is_temp_path(const unsigned char *s, size_t n)
{
	size_t i;

	if ((n >= 13 && !memcmp(s, "/var/folders/", 13)) || (n >= 21 && !memcmp(s, "/private/var/folders/", 21)) ||
	    (n >= 9 && !memcmp(s, "/dev/shm/", 9)))
		return 1;
	for (i = 0; i + 4 <= n; i++)
		if (s[i] == '/' && s[i + 1] == 't' && s[i + 2] == 'm' && s[i + 3] == 'p')
			return 1;
	return 0;
}

void dd_normalize_message(const char *msg, size_t len, struct dd_buf *out)
{
	const unsigned char *s = (const unsigned char *)(msg ? msg : "");
	size_t i = 0, start = out->len;
	int pending_space = 0;

#define ROOM() (out->len - start < NORM_MAX)
#define EMIT_SPACE() do { if (pending_space && out->len > start) dd_buf_addch(out, ' '); pending_space = 0; } while (0)
	while (i < len && ROOM()) {
		unsigned char c = s[i], prev = i ? s[i - 1] : 0;
		size_t k;

		if (is_space(c)) {
			pending_space = 1;
			i++;
			continue;
		}
		EMIT_SPACE();
		if ((c == '\'' || c == '"' || c == '`') && !(c == '\'' && dd_is_alnum(prev))) {
			size_t j = i + 1, lim = i + 1 + QUOTE_MAX < len ? i + 1 + QUOTE_MAX : len;
			int found = 0;

			for (; j < lim && s[j] != '\n'; j++) {
				if (s[j] == c && !(c == '\'' && j + 1 < len && dd_is_alnum(s[j + 1]))) {
					found = 1;
					break;
				}
			}
			if (found) {
				dd_buf_addch(out, (char)c);
				if (is_plain_ident(s + i + 1, j - i - 1))
					dd_buf_add(out, s + i + 1, j - i - 1);
				else
					dd_buf_adds(out, "<*>");
				dd_buf_addch(out, (char)c);
				i = j + 1;
				continue;
			}
			dd_buf_addch(out, (char)c);
			i++;
			continue;
		}
		if (c == '/' && is_path_start(prev) && !(i + 1 < len && s[i + 1] == '/')) {
			size_t j = i;

			while (j < len && !is_space(s[j]) && s[j] != '\'' && s[j] != '"' && s[j] != '`' &&
			       s[j] != ',' && s[j] != ')' && s[j] != ']')
				j++;
			if (is_temp_path(s + i, j - i)) {
				dd_buf_adds(out, "<tmp>");
				i = j;
				continue;
			}
		}
		if (is_hex(c) && !dd_is_alnum(prev) && prev != '_') {
			if (dd_is_digit(c) && (k = ts_len(s + i, len - i)) && !(i + k < len && dd_is_alnum(s[i + k]))) {
				dd_buf_adds(out, "<ts>");
				i += k;
				continue;
			}
			if ((k = uuid_len(s + i, len - i))) {
				dd_buf_adds(out, "<uuid>");
				i += k;
				continue;
			}
			if (c == '0' && i + 2 < len && (s[i + 1] == 'x' || s[i + 1] == 'X') && is_hex(s[i + 2])) {
				k = 2 + hex_run(s + i + 2, len - i - 2);
				dd_buf_adds(out, "<hex>");
				i += k;
				continue;
			}
			k = hex_run(s + i, len - i);
			if (k >= 8 && !(i + k < len && (dd_is_alnum(s[i + k]) || s[i + k] == '_'))) {
				size_t q;
				int digit = 0, letter = 0;

				for (q = 0; q < k; q++) {
					if (dd_is_digit(s[i + q]))
						digit = 1;
					else
						letter = 1;
				}
				if (digit && letter) {
					dd_buf_adds(out, "<hex>");
					i += k;
					continue;
				}
			}
		}
		if (dd_is_digit(c)) {
			if (dd_is_alpha(prev)) {
				/* python3, s3, int64: part of a name */
				while (i < len && dd_is_digit(s[i]))
					dd_buf_addch(out, (char)s[i++]);
				continue;
			}
			while (i < len && dd_is_digit(s[i]))
				i++;
			while (i + 1 < len && (s[i] == '.' || s[i] == ',') && dd_is_digit(s[i + 1])) {
				i++;
				while (i < len && dd_is_digit(s[i]))
					i++;
			}
			dd_buf_adds(out, "<n>");
			continue;
		}
		dd_buf_addch(out, (char)c);
		i++;
	}
#undef ROOM
#undef EMIT_SPACE
	if (out->len - start > NORM_MAX) {
		out->len = start + NORM_MAX;
		out->data[out->len] = '\0';
	}
}

/* The last two components of a path ("dags/etl.py"). */
static const char *last_two(const char *file)
{
	const char *p = file + strlen(file);
	int seps = 0;

	while (p > file) {
		if (p[-1] == '/' || p[-1] == '\\') {
			if (++seps == 2)
				return p;
		}
		p--;
	}
	return file;
}

char *dd_fingerprint(const char *exc_type, const char *message, const struct dd_frame *top_app, struct dd_buf *norm_out)
{
	struct dd_buf b = DD_BUF_INIT;
	char hex[17];

	dd_buf_adds(&b, exc_type ? exc_type : "");
	dd_buf_addch(&b, '|');
	dd_normalize_message(message, message ? strlen(message) : 0, &b);
	dd_buf_addch(&b, '|');
	if (top_app && top_app->file) {
		dd_buf_adds(&b, last_two(top_app->file));
		dd_buf_addch(&b, ':');
		dd_buf_adds(&b, top_app->func ? top_app->func : "");
	}
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)dd_fnv1a(DD_FNV_INIT, b.data, b.len));
	if (norm_out)
		dd_buf_add(norm_out, b.data, b.len);
	dd_buf_release(&b);
	return dd_xstrdup(hex);
}
