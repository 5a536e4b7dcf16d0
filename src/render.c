/*
 * render.c - the colour table and the layout rule of text output (see
 * render.h).
 */
#include "dagdoc/util.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include "dagdoc/render.h"

const char *render_color(int on, enum render_color c)
{
	static const char *const seq[] = {
		[RC_RESET] = "\033[0m", [RC_BOLD] = "\033[1m", [RC_DIM] = "\033[2m",
		[RC_RED] = "\033[31m", [RC_GREEN] = "\033[32m", [RC_YELLOW] = "\033[33m",
		[RC_BLUE] = "\033[34m", [RC_CYAN] = "\033[36m",
	};

	return on && (int)c >= 0 && (size_t)c < DD_ARRAY_SIZE(seq) ? seq[c] : "";
}

int render_width(FILE *out)
{
	struct winsize ws;
	int fd = fileno(out);

	if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col < 60 ? 60 : ws.ws_col;
	return RENDER_WIDTH;
}

size_t render_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

void render_fold(struct dd_buf *b, const char *text, size_t max)
{
	size_t start = b->len, chars = 0;
	int space = 0;

	for (const char *p = text ? text : ""; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch < 0x20 || ch == 0x7f || ch == ' ') {
			space = b->len > start;
			continue;
		}
		if (space)
			dd_buf_addch(b, ' ');
		space = 0;
		dd_buf_addch(b, (char)ch);
	}
	if (!max || render_chars(b->data + start, b->len - start) <= max)
		return;
	/* keep max - 1 characters, then the ellipsis */
	for (size_t i = start; i < b->len; i++) {
		if (((unsigned char)b->data[i] & 0xC0) != 0x80 && chars++ == max - 1) {
			b->len = i;
			break;
		}
	}
	b->data[b->len] = 0;
	dd_buf_adds(b, "…");
}

void render_field(FILE *out, const char *indent, const char *label, const char *text, int label_width, int width)
{
	struct dd_buf line = DD_BUF_INIT;
	size_t lead, room, col = 0;
	const char *p;

	if (!width)
		width = RENDER_WIDTH;
	indent = indent ? indent : "";
	label = label ? label : "";
	render_fold(&line, text, 0);
	lead = render_chars(indent, strlen(indent)) + (size_t)label_width + 1;
	room = (size_t)width > lead + 20 ? (size_t)width - lead : 20;
	fprintf(out, "%s%-*s ", indent, label_width, label);
	p = dd_buf_str(&line);
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t wl = sp ? (size_t)(sp - p) : strlen(p), wc = render_chars(p, wl);

		if (col && col + 1 + wc > room) {
			fprintf(out, "\n%*s", (int)lead, "");
			col = 0;
		} else if (col) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, wl, out);
		col += wc;
		p += wl;
		if (*p == ' ')
			p++;
	}
	fputc('\n', out);
	dd_buf_release(&line);
}

static int word_char(int c)
{
	return dd_is_alnum((unsigned char)c) || (c & 0x80);
}

void render_md_text(FILE *out, const char *s, unsigned flags)
{
	for (const char *p = s; p && *p; p++) {
		int c = (unsigned char)*p;

		if (c == '\n' || c == '\r') {
			fputc(' ', out);
		} else if (c == '<') {
			fputs("&lt;", out);
		} else if (c == '|' && (flags & RENDER_MD_CELL)) {
			fputs("\\|", out);
		} else if (strchr("*_~`", c) && (p == s || !word_char((unsigned char)p[-1]) || !word_char((unsigned char)p[1]))) {
			fputc('\\', out);
			fputc(c, out);
		} else {
			fputc(c, out);
		}
	}
}

void render_md_code(FILE *out, const char *s, unsigned flags)
{
	fputc('`', out);
	for (; s && *s; s++) {
		if (*s == '|' && (flags & RENDER_MD_CELL))
			fputs("\\|", out);
		else
			fputc(*s == '`' ? '\'' : *s == '\n' || *s == '\r' ? ' ' : *s, out);
	}
	fputc('`', out);
}
