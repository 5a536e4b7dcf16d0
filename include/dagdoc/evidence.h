/*
 * evidence.h - what an engineer pasted: command outputs recognised, their
 * facts read, and judged against a cause's hypothesis.
 *
 * A pasted text (a file, standard input, or one answer at the interactive
 * prompt) may hold several outputs, each after a `$ command` prompt line;
 * ev_parse splits it there.  Each output's kind is taken from its command
 * line when it was pasted with one, else from its shape:
 *
 *   pip show       "Name: x" then "Version: y" lines (several blocks, "---")
 *   pip freeze     "name==version" lines (and "name @ url")
 *   pip list       a "Package  Version" header over a "----- -----" rule
 *   kubectl describe pod   "Name:", "Namespace:", then "Containers:" or
 *                  "State:"/"Last State:"/"Reason:" lines
 *   df             the header "Filesystem ... Use% Mounted on"
 *   free           the "total used free" header and a "Mem:" row
 *   nvidia-smi     its "NVIDIA-SMI" banner
 *   airflow connections get|list   the conn_id table, JSON or YAML, or the
 *                  CLI's "Connection not found." / "No data found"
 *   airflow variables get   the value, or "Variable KEY does not exist"
 *                  (only with the command line: a bare value has no shape)
 *   python --version   "Python 3.x.y"
 *   git log        "commit <sha>" lines with "Author:" / "Date:"
 *
 * and its facts are read into name/value pairs:
 *   pkg:<name>     version of a package (PEP 503 name): pip show/freeze/list
 *   python         interpreter version
 *   reason, exit_code, pod, task_id, dag_id   kubectl: the container's
 *                  (last) termination reason and code, the pod's labels
 *   disk_use, disk_mount    df: the fullest filesystem's Use% and mount
 *   mem_total, mem_available   free: MiB (free -m; -h units converted)
 *   gpu_mem_used, gpu_mem_total   nvidia-smi: MiB of the fullest GPU
 *   conn:<id>      "defined" for each connection listed
 *   conn_missing   "1" when the CLI said the connection does not exist
 *   asked          the argument of a get (the conn_id or variable key), when
 *                  the command line was pasted
 *   var_missing    the key of "Variable KEY does not exist"
 *   commit         each commit id of a git log, in order
 *
 * Judging (ev_judge): an output confirms or refutes the hypothesis that a
 * cause of a kind ("dependency_change" ...) with some entities (package,
 * from, to, conn_id, key, commit ...) is what failed.  Facts decide first
 * (pip says the `to` version is deployed: confirmed; the `from` version:
 * refuted; kubectl says OOMKilled: a resource cause is confirmed); then the
 * regexes of the checks that carry them (pattern checks, ev_check), matched
 * per line against outputs of the check's own tool, with the entities
 * substituted, each value regex-escaped.
 *
 * Ownership: ev_parse appends to a caller-provided ev_set which owns every
 * string in it (ev_set_release).  ev_judge fills a caller-provided
 * ev_verdict whose strings the caller frees (ev_verdict_release); it only
 * borrows its arguments.
 */
#ifndef DAGDOC_EVIDENCE_H
#define DAGDOC_EVIDENCE_H

#include <stddef.h>

#include "dagdoc/classify.h"
#include "dagdoc/error.h"
#include "dagdoc/util.h"

enum ev_kind {
	EV_UNKNOWN,
	EV_PIP_SHOW,
	EV_PIP_FREEZE,
	EV_PIP_LIST,
	EV_KUBECTL_POD,
	EV_DF,
	EV_FREE,
	EV_NVIDIA_SMI,
	EV_AIRFLOW_CONN,
	EV_AIRFLOW_VAR,
	EV_PYTHON_VERSION,
	EV_GIT_LOG,
	EV__COUNT
};
/* "pip show", "kubectl describe pod", ... ("unknown" for EV_UNKNOWN). */
const char *ev_kind_name(enum ev_kind k);
/* The kind of output a command line produces ("pip3 show numpy",
 * "kubectl -n jobs describe pod x", "python3 -V", "airflow connections get
 * warehouse"); EV_UNKNOWN for another command.  A leading "$ " and
 * "sudo", "docker exec ID" or "kubectl exec POD --" wrappers are skipped. */
enum ev_kind ev_kind_of_command(const char *cmdline);

struct ev_output {
	enum ev_kind kind;
	char *origin;               /* where it came from: a file name, "-" (stdin), "answer 2" */
	int line;                   /* 1-based line of its first output line in origin */
	char *command;              /* the command line pasted with it (without "$ "), or NULL */
	char *text;                 /* the output itself */
	struct dd_entity *facts;    /* see above */
	size_t n_facts;
	char *why;                  /* EV_UNKNOWN: why it was not recognised */
};

struct ev_set {
	struct ev_output *v;
	size_t n, cap;
};

/* Splits text[0..len) (from `origin`) into outputs, recognises each and
 * reads its facts; appends them to set.  Blank text adds nothing. */
void ev_parse(struct ev_set *set, const char *origin, const char *text, size_t len);
/* Reads each file (or "-": standard input) and ev_parses it.  DD_EIO with
 * the file named when one cannot be read. */
int ev_read_files(struct ev_set *set, const struct dd_strv *files, struct dd_error *err);
void ev_set_release(struct ev_set *set);

/* The first value of fact `name`, or NULL. */
const char *ev_fact(const struct ev_output *o, const char *name);

/* A check that carries its own rules (a pattern's checks, pattern.h). */
struct ev_check {
	const char *run;                 /* the command template: "pip show {package}" */
	const struct dd_strv *confirms;  /* regexes with {entity} placeholders; may be NULL */
	const struct dd_strv *refutes;
};

enum { EV_REFUTED = -1, EV_NONE = 0, EV_CONFIRMED = 1 };

struct ev_verdict {
	int verdict;                /* EV_CONFIRMED, EV_REFUTED or EV_NONE */
	char *what;                 /* what the output established: "numpy 2.0.0 deployed" */
	int line;                   /* line of origin that decided, 0 when a fact did */
	char *line_text;            /* that line, or the fact as "name=value" */
};

/*
 * Judges output o against the hypothesis that a cause of kind `kind`
 * (rank.h's names) with entities ents[0..n) is what failed, by the
 * built-in rules of the kind and checks[0..n_checks).  Returns the verdict
 * (also in v->verdict).  The entity "task_id", when given, must match the
 * task a kubectl pod's labels name.
 */
int ev_judge(const struct ev_output *o, const char *kind, const struct dd_entity *ents, size_t n,
             const struct ev_check *checks, size_t n_checks, struct ev_verdict *v);
void ev_verdict_release(struct ev_verdict *v);

/*
 * Checks one rule regex of a check at load time: its placeholders must be
 * named groups (`groups`, may be NULL) or entities rank adds (package, from,
 * to, commit, task_id), and it must compile with them filled.  0, or -1
 * with msg filled.
 */
int ev_rule_valid(const char *rule, int (*is_group)(const char *name, size_t len, void *ud), void *ud,
                  struct dd_buf *msg);

#endif
