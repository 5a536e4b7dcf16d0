/*
 * pyimports.c - module names from Python import statements.  See
 * include/dagdoc/pyimports.h.
 */
#include "dagdoc/util.h"

#include "dagdoc/pyimports.h"

/* "import x" / "from x" at s (a statement that may import). */
static int import_keyword(const char *s)
{
	return (dd_starts_with(s, "import") && (s[6] == ' ' || s[6] == '\t' || s[6] == '(')) ||
	       (dd_starts_with(s, "from") && (s[4] == ' ' || s[4] == '\t'));
}

/* Puts the next line of Python source at *p into out; an import statement
 * is joined over its bracketed and backslash continuations, without its
 * comments, tabs as spaces, CRs dropped.  0 at the end. */
static int next_statement(const char **p, struct dd_buf *out)
{
	int depth = 0;
	const char *q = *p;

	dd_buf_reset(out);
	if (!**p)
		return 0;
	while (*q == ' ' || *q == '\t')
		q++;
	if (!import_keyword(q)) {
		/* not an import: its brackets (in strings, say) must not swallow the next lines */
		size_t n = strcspn(*p, "\n");

		*p += n + ((*p)[n] == '\n');
		return 1;
	}
	while (**p) {
		char ch = *(*p)++;

		if (ch == '#') {
			while (**p && **p != '\n')
				(*p)++;
			continue;
		}
		if (ch == '\r')
			continue;
		if (ch == '\\' && (**p == '\n' || (**p == '\r' && (*p)[1] == '\n'))) {
			*p += **p == '\r' ? 2 : 1;
			dd_buf_addch(out, ' ');
			continue;
		}
		if (ch == '(')
			depth++;
		else if (ch == ')' && depth > 0)
			depth--;
		if (ch == '\n') {
			if (depth == 0)
				break;
			ch = ' ';
		}
		dd_buf_addch(out, ch == '\t' ? ' ' : ch);
	}
	return 1;
}

/* Length of the dotted module name at s ("a.b_c", "..x"). */
static size_t module_span(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.");
}

/* The names of "a as b, c, (d as e)": the first word of each item. */
static void import_names(const char *list, struct dd_strv *out)
{
	char *copy = dd_xstrdup(list), *save = NULL;

	for (char *it = strtok_r(copy, ",()", &save); it; it = strtok_r(NULL, ",()", &save)) {
		size_t n;

		while (*it == ' ')
			it++;
		n = module_span(it);
		if (n)
			dd_strv_push_owned(out, dd_xstrndup(it, n));
	}
	free(copy);
}

static void push_module(struct dd_strv *mods, const char *m)
{
	if (*m && !dd_strv_contains(mods, m))
		dd_strv_push(mods, m);
}

/* One statement: "import a.b, c" or "from m import x, y". */
static void statement_imports(const char *l, struct dd_strv *mods)
{
	struct dd_strv names = DD_STRV_INIT;

	while (*l == ' ')
		l++;
	if (dd_starts_with(l, "import") && (l[6] == ' ' || l[6] == '(')) {
		import_names(l + 6, &names);
		for (size_t i = 0; i < names.n; i++)
			push_module(mods, names.v[i]);
	} else if (dd_starts_with(l, "from") && l[4] == ' ') {
		const char *m = l + 4, *rest;
		size_t n, dots;
		char *mod;

		while (*m == ' ')
			m++;
		n = module_span(m);
		dots = strspn(m, ".");
		/* "from .import x": the dots are the module, "import" the keyword */
		if (n == dots + 6 && !strncmp(m + dots, "import", 6))
			n = dots;
		rest = m + n;
		while (*rest == ' ')
			rest++;
		if (!n || !dd_starts_with(rest, "import") || (rest[6] != ' ' && rest[6] != '('))
			goto out;
		mod = dd_xstrndup(m, n);
		import_names(rest + 6, &names);
		for (size_t i = 0; i < names.n; i++) {
			char *sub = dd_xasprintf("%s%s%s", mod, mod[n - 1] == '.' ? "" : ".", names.v[i]);

			push_module(mods, sub);
			free(sub);
		}
		push_module(mods, mod);
		free(mod);
	}
out:
	dd_strv_release(&names);
}

void pyimports_parse(const char *text, struct dd_strv *mods)
{
	struct dd_buf st = DD_BUF_INIT;
	const char *p = text;

	while (next_statement(&p, &st)) {
		char *line = dd_xstrdup(dd_buf_str(&st)), *save = NULL;

		/* "import os; import helpers" */
		for (char *part = strtok_r(line, ";", &save); part; part = strtok_r(NULL, ";", &save))
			statement_imports(part, mods);
		free(line);
	}
	dd_buf_release(&st);
}
