/*
 * cli.h - what the commands share.  The commands are the program
 * (src/cmd/, outside the library archive): they parse options, call the
 * library (the diagnosing ones through session.h), print, and choose
 * the exit code.  Nothing in the library prints.
 *
 * A command is one file, src/cmd/cmd_NAME.c, that defines
 *
 *   const struct dd_command command_NAME = { "NAME", run, summary, help };
 *
 * and one line, DD_COMMAND(NAME), in src/cmd/commands.def (the order of
 * `dagdoc help`).  run(argc, argv, cli) gets argv[0] = the command name,
 * getopt_long ready to run (optind reset, opterr 0), and returns the
 * process exit code: 0 nothing failing, 1 failures found, 2 usage or
 * runtime error.
 */
#ifndef DAGDOC_CLI_H
#define DAGDOC_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "dagdoc/config.h"
#include "dagdoc/error.h"
#include "dagdoc/render.h"
#include "dagdoc/session.h"

enum {
	DD_EXIT_OK = 0,
	DD_EXIT_FAILING = 1,
	DD_EXIT_ERROR = 2,
	DD_EXIT_PARTIAL = 3,       /* sync: what arrived whole is stored; the rest is fetched next time */
};

struct dd_cli;

struct dd_command {
	const char *name;
	int (*run)(int argc, char **argv, struct dd_cli *cli);
	const char *summary;       /* one line for `dagdoc help`; NULL: not listed there */
	const char *help;          /* usage and options, for `dagdoc help NAME` */
};

#define DD_COMMAND(name) extern const struct dd_command command_##name;
#include "commands.def"
#undef DD_COMMAND

/* The list of commands with their summaries, for `dagdoc help`. */
void cli_print_overview(FILE *out);
/* Prints the help of one command; 0, or -1 when there is no such command. */
int cli_print_command_help(const char *name, FILE *out);
/* The command closest to a mistyped name, or NULL. */
const char *cli_closest_command(const char *name);

/* The options every command accepts, as its help ends with them. */
#define CLI_COMMON_HELP \
	"      --config FILE   configuration file (default $XDG_CONFIG_HOME/dagdoc/config.yaml)\n" \
	"      --store FILE    store: a file or a postgresql:// URL (default $XDG_STATE_HOME/dagdoc/dagdoc.db)\n" \
	"  -v, --verbose       trace what is done on stderr (secrets are never shown)\n" \
	"  -h, --help          this help\n"

struct dd_cli {
	const char *config_path;   /* --config */
	const char *store_path;    /* --store */
	int verbose;               /* --verbose */
	int color;                 /* stdout is a terminal and NO_COLOR is unset */
	struct dd_config cfg;
	int cfg_loaded;
};

/* Options every command accepts.  Put CLI_COMMON_LONGOPTS in the command's
 * long option table and pass unknown option codes to cli_common_option. */
enum {
	CLI_OPT_CONFIG = 0x1000,
	CLI_OPT_STORE,
	CLI_OPT_COMMON_LAST,        /* commands number their own options above this */
};
#define CLI_COMMON_LONGOPTS \
	{ "config", required_argument, NULL, CLI_OPT_CONFIG }, \
	{ "store", required_argument, NULL, CLI_OPT_STORE }, \
	{ "verbose", no_argument, NULL, 'v' }

/*
 * Handles a common option (returns 1), or reports an unknown option or a
 * missing argument for command `cmd` ('?' or ':', prints the one-line error
 * and returns -1: the command then returns DD_EXIT_ERROR), or returns 0 for
 * a code that is the command's own.  Set opterr = 0 before getopt_long.
 * An unknown long option is answered with the nearest of `longopts`.
 */
int cli_common_option(struct dd_cli *cli, const char *cmd, int opt, char **argv, const struct option *longopts);

/* Puts the credential mask (secrets.h) in front of stdout and stderr:
 * every byte either stream writes from then on is masked, a secret split
 * across two writes included (its start is held back until the next write
 * or exit).  main() calls it first. */
void cli_mask_streams(void);

/* Writes s to f as valid UTF-8 (dd_utf8_fix): every JSON and HTML output
 * goes through here. */
void cli_put_utf8(FILE *f, const char *s, size_t len);

/* Loads the configuration once (file, environment, --config), printing its
 * warnings to stderr.  Returns 0, or prints the error and returns -1. */
int cli_config(struct dd_cli *cli, const char *cmd, struct dd_config **out);

/* The store path: --store, else config `store:`, else the XDG default.
 * Caller frees. */
char *cli_store_path(struct dd_cli *cli);
/* "dagdoc CMD: MESSAGE" on stderr; returns DD_EXIT_ERROR. */
int cli_error(const char *cmd, const struct dd_error *err);
int cli_errorf(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "dagdoc CMD: MESSAGE; see 'dagdoc help CMD'" on stderr; returns DD_EXIT_ERROR. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The options of the commands that diagnose one DAG (triage, runbook):
 * --source NAME, --since DUR (default 30d), --repo PATH (repeatable),
 * --offline.  Put CLI_DAG_LONGOPTS in the long option table and pass each
 * option code to cli_dag_option: 1 it was one of these, 0 it was not, -1
 * a bad --since (printed).  Then cli_dag_session opens the session and
 * adds the --repo paths to its configuration (prints and returns -1 on
 * error).
 */
enum {
	CLI_OPT_SOURCE = CLI_OPT_COMMON_LAST + 1,
	CLI_OPT_SINCE,
	CLI_OPT_REPO,
	CLI_OPT_OFFLINE,
	CLI_OPT_DAG_LAST,           /* such commands number their own options above this */
};
#define CLI_DAG_LONGOPTS \
	{ "source", required_argument, NULL, CLI_OPT_SOURCE }, \
	{ "since", required_argument, NULL, CLI_OPT_SINCE }, \
	{ "repo", required_argument, NULL, CLI_OPT_REPO }, \
	{ "offline", no_argument, NULL, CLI_OPT_OFFLINE }
struct cli_dag_opts {
	const char *source;          /* NULL: the first configured source */
	int64_t since_s;
	struct dd_strv repos;
	int offline;
};
#define CLI_DAG_OPTS_INIT { NULL, 30 * 86400, DD_STRV_INIT, 0 }
int cli_dag_option(struct cli_dag_opts *o, const char *cmd, int opt);
int cli_dag_session(struct dd_cli *cli, const char *cmd, struct cli_dag_opts *o, struct dd_session *s);
void cli_dag_opts_release(struct cli_dag_opts *o);

/* The ANSI sequence of c when cli->color, "" otherwise (render.h's table). */
#define cli_color(cli, c) render_color((cli)->color, (c))

/* Loads the pattern library (built-ins, the config's pattern dirs, then
 * the extra dirs, may be NULL) for the commands without a session,
 * printing every problem; NULL after printing when it cannot be used. */
struct pat_library;
struct pat_library *cli_patterns(struct dd_cli *cli, const char *cmd, const struct dd_strv *extra);

/* Formats a byte count: "812 bytes", "3.4 kB", "12.1 MB". */
void cli_format_bytes(uint64_t n, char *out, size_t len);

/* ---- the session of a diagnosing command (src/cmd/cli_session.c) --------- */

/*
 * Opens the session of command `cmd`: the configuration (its warnings
 * printed), the store (--store, else the config's, else the default;
 * offline, read-only when it cannot be written), and the hooks a
 * terminal wants: a progress line on stderr while a sync runs, Ctrl-C
 * stopping a sync after its current batch (a second one kills), HTTP
 * traces with --verbose.  Prints the error and returns -1.
 */
int cli_session_open(struct dd_cli *cli, const char *cmd, int offline, struct dd_session *s);
void cli_session_close(struct dd_session *s);
/* Prints the session's notes as warnings and clears them. */
void cli_notes(struct dd_session *s);
/* Prints err as command `cmd`'s error, after the session's notes and the
 * pattern library's problems; returns DD_EXIT_ERROR. */
int cli_session_error(const char *cmd, struct dd_session *s, const struct dd_error *err);

#endif
