/*
 * fuzz_prefect_json.c - libFuzzer target: arbitrary bytes as an answer of
 * the Prefect API, through every reader of connectors/prefect.c (flow
 * runs, task runs, a task run's state history as tries, log records), on
 * the answer and on each element of it when it is a list.  Must not crash,
 * hang or leak; what a reader accepts carries what dagdoc needs.
 */
#include "dagdoc/util.h"

#include <cjson/cJSON.h>

#include "conn_impl.h"

static void verdict(int rc, const struct conn_check *ck)
{
	if ((rc < 0) != (ck->bad != 0) || (ck->bad && !ck->problem[0]))
		abort();
}

static void read_element(const cJSON *el)
{
	struct conn_check ck = CONN_CHECK_INIT;
	struct dd_run run;
	struct dd_task_instance ti;
	struct dd_buf line = DD_BUF_INIT;
	int rc;

	verdict(rc = pf_read_run(el, &run, &ck), &ck);
	if (rc == 0 && (!run.run_id || !*run.run_id || !run.logical_ms))
		abort();
	if (rc == 0)
		dd_run_release(&run);
	ck = (struct conn_check)CONN_CHECK_INIT;
	verdict(rc = pf_read_task_run(el, &ti, &ck), &ck);
	if (rc == 0 && (!ti.task_id || !ti.external_id || ti.try_number < 0))
		abort();
	dd_task_instance_release(&ti);
	ck = (struct conn_check)CONN_CHECK_INIT;
	verdict(rc = pf_read_log_record(el, &line, &ck), &ck);
	if (rc == 0 && (!line.len || line.data[line.len - 1] != '\n'))
		abort();
	dd_buf_release(&line);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	cJSON *j = cJSON_ParseWithLength((const char *)data, size), *el;
	struct dd_task_instance ti = { 0 };
	struct conn_check ck = CONN_CHECK_INIT;
	struct dd_try *tries = NULL;
	size_t n = 0;
	int rc;

	if (!j)
		return 0;
	read_element(j);
	cJSON_ArrayForEach(el, j)
		read_element(el);
	ti.run_id = (char *)"run";
	ti.task_id = (char *)"task";
	verdict(rc = pf_read_states(j, &ti, &tries, &n, &ck), &ck);
	for (size_t i = 0; i < n; i++) {
		if (tries[i].try_number != (int)i + 1)
			abort();
		dd_try_release(&tries[i]);
	}
	free(tries);
	cJSON_Delete(j);
	return 0;
}
