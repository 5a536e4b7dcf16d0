/*
 * model.c - state names and release functions of the data model.
 */
#include "dagdoc/util.h"

#include <strings.h>

#include "dagdoc/model.h"

static const char *const state_names[DD_STATE__COUNT] = {
	[DD_STATE_UNKNOWN] = "unknown",
	[DD_STATE_SCHEDULED] = "scheduled",
	[DD_STATE_QUEUED] = "queued",
	[DD_STATE_RUNNING] = "running",
	[DD_STATE_SUCCESS] = "success",
	[DD_STATE_FAILED] = "failed",
	[DD_STATE_UPSTREAM_FAILED] = "upstream_failed",
	[DD_STATE_SKIPPED] = "skipped",
	[DD_STATE_UP_FOR_RETRY] = "up_for_retry",
	[DD_STATE_UP_FOR_RESCHEDULE] = "up_for_reschedule",
	[DD_STATE_DEFERRED] = "deferred",
	[DD_STATE_REMOVED] = "removed",
	[DD_STATE_RESTARTING] = "restarting",
	[DD_STATE_CRASHED] = "crashed",
	[DD_STATE_CANCELLED] = "cancelled",
	[DD_STATE_LATE] = "late",
	[DD_STATE_PENDING] = "pending",
	[DD_STATE_TIMED_OUT] = "timed_out",
};

const char *dd_state_name(enum dd_state s)
{
	if ((int)s < 0 || s >= DD_STATE__COUNT)
		return "unknown";
	return state_names[s];
}

/* Other spellings: Prefect state types and names, Airflow aliases. */
static const struct {
	const char *name;
	enum dd_state state;
} aliases[] = {
	{ "none", DD_STATE_UNKNOWN },
	{ "completed", DD_STATE_SUCCESS },
	{ "cached", DD_STATE_SUCCESS },
	{ "rolledback", DD_STATE_FAILED },
	{ "awaitingretry", DD_STATE_UP_FOR_RETRY },
	{ "retrying", DD_STATE_RUNNING },
	{ "notready", DD_STATE_UPSTREAM_FAILED },
	{ "timedout", DD_STATE_TIMED_OUT },
	{ "cancelling", DD_STATE_CANCELLED },
	{ "canceled", DD_STATE_CANCELLED },
	{ "paused", DD_STATE_SCHEDULED },
	{ "suspended", DD_STATE_SCHEDULED },
	{ "awaitingconcurrencyslot", DD_STATE_SCHEDULED },
	{ "shutdown", DD_STATE_FAILED },
	{ "up_for_reschedule", DD_STATE_UP_FOR_RESCHEDULE },
};

enum dd_state dd_state_parse(const char *s)
{
	if (!s)
		return DD_STATE_UNKNOWN;
	for (int i = 0; i < DD_STATE__COUNT; i++)
		if (!strcasecmp(s, state_names[i]))
			return (enum dd_state)i;
	for (size_t i = 0; i < DD_ARRAY_SIZE(aliases); i++)
		if (!strcasecmp(s, aliases[i].name))
			return aliases[i].state;
	return DD_STATE_UNKNOWN;
}

int dd_state_is_terminal(enum dd_state s)
{
	switch (s) {
	case DD_STATE_SUCCESS: case DD_STATE_FAILED: case DD_STATE_UPSTREAM_FAILED:
	case DD_STATE_SKIPPED: case DD_STATE_REMOVED: case DD_STATE_CRASHED:
	case DD_STATE_CANCELLED: case DD_STATE_TIMED_OUT:
		return 1;
	default:
		return 0;
	}
}

int dd_state_is_failure(enum dd_state s)
{
	return s == DD_STATE_FAILED || s == DD_STATE_CRASHED || s == DD_STATE_TIMED_OUT ||
	       s == DD_STATE_UPSTREAM_FAILED;
}

int dd_state_is_failed_try(enum dd_state s)
{
	return s == DD_STATE_FAILED || s == DD_STATE_UP_FOR_RETRY || s == DD_STATE_CRASHED ||
	       s == DD_STATE_TIMED_OUT;
}

void dd_task_release(struct dd_task *t)
{
	free(t->task_id);
	free(t->operator_name);
	for (size_t i = 0; i < t->n_downstream; i++)
		free(t->downstream[i]);
	free(t->downstream);
	memset(t, 0, sizeof(*t));
}

void dd_dag_release(struct dd_dag *d)
{
	free(d->dag_id);
	free(d->fileloc);
	free(d->external_id);
	for (size_t i = 0; i < d->n_tasks; i++)
		dd_task_release(&d->tasks[i]);
	free(d->tasks);
	memset(d, 0, sizeof(*d));
}

void dd_run_release(struct dd_run *r)
{
	free(r->run_id);
	free(r->run_name);
	free(r->run_type);
	free(r->note);
	free(r->bundle_version);
	memset(r, 0, sizeof(*r));
}

void dd_task_instance_release(struct dd_task_instance *ti)
{
	free(ti->run_id);
	free(ti->task_id);
	free(ti->operator_name);
	free(ti->hostname);
	free(ti->external_id);
	free(ti->note);
	memset(ti, 0, sizeof(*ti));
}

void dd_try_release(struct dd_try *t)
{
	free(t->run_id);
	free(t->task_id);
	free(t->hostname);
	free(t->note);
	memset(t, 0, sizeof(*t));
}

void dd_run_copy(struct dd_run *d, const struct dd_run *s)
{
	*d = *s;
	d->run_id = dd_xstrdup(s->run_id);
	d->run_name = dd_xstrdup(s->run_name);
	d->run_type = dd_xstrdup(s->run_type);
	d->note = dd_xstrdup(s->note);
	d->bundle_version = dd_xstrdup(s->bundle_version);
}

void dd_task_instance_copy(struct dd_task_instance *d, const struct dd_task_instance *s)
{
	*d = *s;
	d->run_id = dd_xstrdup(s->run_id);
	d->task_id = dd_xstrdup(s->task_id);
	d->operator_name = dd_xstrdup(s->operator_name);
	d->hostname = dd_xstrdup(s->hostname);
	d->external_id = dd_xstrdup(s->external_id);
	d->note = dd_xstrdup(s->note);
}

void dd_try_copy(struct dd_try *d, const struct dd_try *s)
{
	*d = *s;
	d->run_id = dd_xstrdup(s->run_id);
	d->task_id = dd_xstrdup(s->task_id);
	d->hostname = dd_xstrdup(s->hostname);
	d->note = dd_xstrdup(s->note);
}
