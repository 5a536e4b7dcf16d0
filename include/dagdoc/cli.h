/*
 * cli.h - what the commands (src/cmd_*.c) share: the command signature,
 * common options, colour, and printing of errors.  Only main.c and the
 * cmd_*.c files include this header; modules never print.
 *
 * Each command is `int cmd_NAME(int argc, char **argv, struct dd_cli *cli)`:
 * argv[0] is the command name, getopt_long is ready to run (optind reset),
 * and the return value is the process exit code:
 *   0 nothing failing, 1 failures found (triage/report), 2 usage or runtime error.
 */
#ifndef DAGDOC_CLI_H
#define DAGDOC_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "dagdoc/config.h"
#include "dagdoc/error.h"

enum {
	DD_EXIT_OK = 0,
	DD_EXIT_FAILING = 1,
	DD_EXIT_ERROR = 2,
};

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
 */
int cli_common_option(struct dd_cli *cli, const char *cmd, int opt, char **argv);

/* Puts the credential mask (secrets.h) in front of stdout and stderr:
 * every byte either stream writes from then on is masked, a secret split
 * across two writes included (its start is held back until the next write
 * or exit).  main() calls it first. */
void cli_mask_streams(void);
/* A stream that writes to fd through the same mask (report -o); fclose it
 * before fd is closed. */
FILE *cli_mask_fd(int fd);

/* Writes s to f as valid UTF-8 (dd_utf8_fix): every JSON and HTML output
 * goes through here. */
void cli_put_utf8(FILE *f, const char *s, size_t len);

/* Loads the configuration once (file, environment, --config), printing its
 * warnings to stderr.  Returns 0, or prints the error and returns -1. */
int cli_config(struct dd_cli *cli, const char *cmd, struct dd_config **out);

/* The store path: --store, else config `store:`, else the XDG default.
 * Caller frees. */
char *cli_store_path(struct dd_cli *cli);
/* Opens the store for command `cmd`; offline (nothing will be synced), a
 * store that cannot be opened to write is opened to read only.  Prints
 * the error and returns -1. */
struct dd_store;
int cli_open_store(struct dd_cli *cli, const char *cmd, int offline, struct dd_store **out);

/* "dagdoc CMD: MESSAGE" on stderr; returns DD_EXIT_ERROR. */
int cli_error(const char *cmd, const struct dd_error *err);
int cli_errorf(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "dagdoc CMD: MESSAGE; see 'dagdoc help CMD'" on stderr; returns DD_EXIT_ERROR. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ANSI sequences when cli->color, "" otherwise. */
enum cli_style { CLI_RESET, CLI_BOLD, CLI_DIM, CLI_RED, CLI_GREEN, CLI_YELLOW, CLI_BLUE, CLI_CYAN };
const char *cli_style(const struct dd_cli *cli, enum cli_style s);

/*
 * Syncs dag_ids (n 0: every DAG) of src into store as `dagdoc sync` does:
 * Ctrl-C stops after the current batch, a progress line on stderr when it
 * is a terminal, HTTP traces (--verbose) and warnings on stderr.  Returns
 * 0 or the negative DD_E* code (DD_EINTR after Ctrl-C); the error is
 * printed as command `cmd` unless flags has CLI_SYNC_QUIET, and copied to
 * err (may be NULL) either way.  CLI_SYNC_SKIP_MISSING syncs the named
 * DAGs one at a time and skips one the source does not have (report reads
 * several sources); stats are then those of the last DAG.  describe (may
 * be NULL) receives conn_describe().  What the sync could not store
 * (cli_sync_gaps; with CLI_SYNC_SKIP_MISSING, of all the DAGs) is a
 * warning, quiet or not, unless flags has CLI_SYNC_NO_GAPS (the caller
 * says it itself).
 */
enum { CLI_SYNC_QUIET = 1, CLI_SYNC_SKIP_MISSING = 2, CLI_SYNC_NO_GAPS = 4 };
struct dd_store;
struct dd_sync_stats;
int cli_run_sync(struct dd_cli *cli, const char *cmd, const struct dd_source *src,
                 struct dd_store *store, const char *const *dag_ids, size_t n, int64_t since_s,
                 unsigned flags, struct dd_sync_stats *stats, char *describe, size_t describe_len,
                 struct dd_error *err);
void cli_format_bytes(uint64_t n, char *out, size_t len);
/* Says what a sync could not store (objects rejected, runs and DAGs left
 * out, logs not fetched), as an error of `cmd` or, with warn, a warning;
 * returns how many kinds of gap there were (0: the store is complete). */
int cli_sync_gaps(const char *cmd, const struct dd_sync_stats *st, int warn);

/* Loads the pattern library (built-ins + the config's pattern dirs),
 * printing every problem; NULL after printing when it cannot be used. */
struct pat_library;
struct pat_library *cli_patterns(struct dd_cli *cli, const char *cmd);

/*
 * The DAG a command works on: unless offline, finds the source (--source,
 * else the first) and syncs dag_id from it; then looks dag_id up in the
 * store.  Prints what went wrong as command `cmd` (with a "did you mean"
 * when a stored DAG is close) and returns -1.  Offline without --source,
 * *src is the configured source the stored DAG came from (NULL when none
 * is configured under that name).  quiet_missing: when the DAG is not in the store,
 * print nothing and return 1 (the caller has another meaning to try, as
 * runbook does).
 */
int cli_find_dag(struct dd_cli *cli, const char *cmd, struct dd_store *store, const char *source_name,
                 int offline, const char *dag_id, int64_t since_s, int quiet_missing,
                 struct dd_source **src, int64_t *dag_ref);

/* triage_dag for `cmd`, then, unless offline, syncs the upstream DAGs its
 * sensors wait on and looks again with their history; fills t->ui_url.
 * Prints the error and returns -1 on failure. */
struct pat_library;
struct triage_result;
struct gitcorr_repo;
int cli_triage(struct dd_cli *cli, const char *cmd, struct dd_store *store, const struct dd_source *src,
               int64_t dag_ref, const struct pat_library *lib, struct gitcorr_repo **repos, size_t n_repos,
               int64_t since_s, int offline, struct triage_result *t);

/* Opens the configured repositories; one that cannot be read is a warning. */
struct gitcorr_repo;
size_t cli_open_repos(const struct dd_config *cfg, struct gitcorr_repo ***out);
void cli_close_repos(struct gitcorr_repo **repos, size_t n);

/* Commands. */
int cmd_help(int argc, char **argv, struct dd_cli *cli);
int cmd_version(int argc, char **argv, struct dd_cli *cli);
int cmd_config(int argc, char **argv, struct dd_cli *cli);
int cmd_classify(int argc, char **argv, struct dd_cli *cli);
int cmd_patterns(int argc, char **argv, struct dd_cli *cli);
int cmd_sync(int argc, char **argv, struct dd_cli *cli);
int cmd_triage(int argc, char **argv, struct dd_cli *cli);
int cmd_report(int argc, char **argv, struct dd_cli *cli);
int cmd_runbook(int argc, char **argv, struct dd_cli *cli);

/* Prints the help of one command (main.c's table); 0 or -1 when unknown. */
int cli_print_command_help(const char *name, FILE *out);

#endif
