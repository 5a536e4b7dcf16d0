/*
 * cli.c - what the commands share: the credential mask on the output
 * streams, common options, the configuration, error printing (see cli.h).
 */
#include "dagdoc/util.h"

#include <errno.h>
#include <unistd.h>

#include "cli.h"
#include "dagdoc/classify.h"
#include "dagdoc/secrets.h"

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

/* "unknown option '--sinc'; did you mean '--since'?" from the command's
 * own options. */
static void unknown_option(const char *cmd, const char *arg, const struct option *longopts)
{
	char *name = dd_xstrndup(arg, strcspn(arg, "="));
	struct dd_closest near = DD_CLOSEST_INIT(name);

	for (const struct option *o = longopts; o && o->name; o++) {
		char *dashed = dd_xasprintf("--%s", o->name);

		dd_closest_offer(&near, dashed);
		free(dashed);
	}
	if (dd_closest_pick(&near))
		cli_usage_error(cmd, "unknown option '%s' (did you mean '%s'?)", name, dd_closest_pick(&near));
	else
		cli_usage_error(cmd, "unknown option '%s'", name);
	dd_closest_release(&near);
	free(name);
}

int cli_common_option(struct dd_cli *cli, const char *cmd, int opt, char **argv, const struct option *longopts)
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
			unknown_option(cmd, argv[optind - 1], longopts);
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

int cli_error(const char *cmd, const struct dd_error *err)
{
	fprintf(stderr, "dagdoc %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
	return DD_EXIT_ERROR;
}

/* "dagdoc CMD: " + the message + end, on stderr. */
static void say(const char *cmd, const char *fmt, va_list ap, const char *end) __attribute__((format(printf, 2, 0)));
static void say(const char *cmd, const char *fmt, va_list ap, const char *end)
{
	fprintf(stderr, "dagdoc %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputs(end, stderr);
}

int cli_errorf(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(cmd, fmt, ap, "\n");
	va_end(ap);
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

	va_start(ap, fmt);
	say(cmd, fmt, ap, "");
	va_end(ap);
	fprintf(stderr, "; see 'dagdoc help %s'\n", cmd);
	return DD_EXIT_ERROR;
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

struct pat_library *cli_patterns(struct dd_cli *cli, const char *cmd, const struct dd_strv *extra)
{
	struct dd_config *cfg;
	struct pat_library *lib = NULL;
	struct dd_strv dirs = DD_STRV_INIT, problems = DD_STRV_INIT;
	struct dd_error err = DD_ERROR_INIT;

	if (cli_config(cli, cmd, &cfg) < 0)
		return NULL;
	for (size_t i = 0; i < cfg->pattern_dirs.n; i++)
		dd_strv_push(&dirs, cfg->pattern_dirs.v[i]);
	for (size_t i = 0; extra && i < extra->n; i++)
		dd_strv_push(&dirs, extra->v[i]);
	if (classify_library_load(NULL, &dirs, &lib, &problems, &err) < 0) {
		for (size_t i = 0; i < problems.n; i++)
			fprintf(stderr, "%s\n", problems.v[i]);
		cli_error(cmd, &err);
	}
	dd_strv_release(&dirs);
	dd_strv_release(&problems);
	return lib;
}
