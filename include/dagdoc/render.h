/*
 * render.h - what every text renderer shares (triage, report, runbook,
 * classify): the one colour table, and the one rule for laying text out
 * for a terminal.
 *
 * The rule: a field is "<indent><label, padded> <text>"; text taken from
 * data (an exception message over several lines, psycopg2's tabs) is
 * folded to one line (newlines, tabs and control characters become one
 * space); it wraps at spaces so no line passes `width` columns, the
 * following lines start under the text; a word longer than the room
 * (a URL, a command, a path) is never cut: it gets a line of its own.
 * Columns are counted in characters (UTF-8 code points), not bytes.
 *
 * Nothing here allocates what it returns but render_fold's buffer, which
 * the caller owns.
 */
#ifndef DAGDOC_RENDER_H
#define DAGDOC_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "dagdoc/util.h"

#define RENDER_WIDTH 100        /* lines of text output, when not a terminal of its own width */

enum render_color { RC_RESET, RC_BOLD, RC_DIM, RC_RED, RC_GREEN, RC_YELLOW, RC_BLUE, RC_CYAN };

/* The ANSI sequence of c when on, "" otherwise. */
const char *render_color(int on, enum render_color c);

/* The width to lay text out in for stream out: the terminal's columns (at
 * least 60) when out is one, else RENDER_WIDTH. */
int render_width(FILE *out);

/* Appends text folded to one line to b (see above); with max > 0, cut at
 * max characters (on a character boundary) and ended with "…". */
void render_fold(struct dd_buf *b, const char *text, size_t max);

/* Writes one field, wrapped at width (0: RENDER_WIDTH). */
void render_field(FILE *out, const char *indent, const char *label, const char *text, int label_width, int width);

/* The number of characters (UTF-8 code points) of s[0..n). */
size_t render_chars(const char *s, size_t n);

/*
 * Markdown that reads the same on GitHub and in chat (Slack, Mattermost,
 * Teams), where a backslash escape shows literally: '<' is written
 * "&lt;" (else a tag, or a chat control sequence); '*', '_', '~' and '`'
 * are escaped only where they could open or close emphasis (at a word's
 * edge), never inside a word (train_churn); "->", '[', '>' and '#' inside
 * a line are left as they are; newlines become spaces.  In a table cell
 * (RENDER_MD_CELL) '|' is escaped too.
 */
enum { RENDER_MD_CELL = 1 };
void render_md_text(FILE *out, const char *s, unsigned flags);
/* s as a code span: a backtick inside becomes ', a newline a space. */
void render_md_code(FILE *out, const char *s, unsigned flags);

#endif
