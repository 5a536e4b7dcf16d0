/*
 * fuzz_airflow_json.c - libFuzzer target: arbitrary bytes as an answer of
 * the Airflow REST API, through every reader of connectors/airflow.c (one
 * per endpoint: DAG, tasks, runs, task instances and tries, import
 * errors, health, JSON log pages), on the answer and on each element of
 * its lists; and as a v1 log "content" repr and a continuation token.
 * Must not crash, hang or leak; a reader that accepts an object fills
 * what dagdoc needs (ids), one that rejects it says why.
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
	struct dd_dag dag = { 0 };
	struct dd_task task;
	struct dd_run run;
	struct dd_task_instance ti;
	struct dd_import_error ie;
	struct dd_health h;
	int rc;

	verdict(rc = af_read_dag(el, &dag, &ck), &ck);
	dd_dag_release(&dag);
	ck = (struct conn_check)CONN_CHECK_INIT;
	verdict(rc = af_read_task(el, &task, &ck), &ck);
	if (rc == 0 && (!task.task_id || !*task.task_id))
		abort();
	if (rc == 0)
		dd_task_release(&task);
	ck = (struct conn_check)CONN_CHECK_INIT;
	verdict(rc = af_read_run(el, &run, &ck), &ck);
	if (rc == 0 && (!run.run_id || !*run.run_id || !run.logical_ms))
		abort();
	if (rc == 0)
		dd_run_release(&run);
	ck = (struct conn_check)CONN_CHECK_INIT;
	verdict(rc = af_read_ti(el, "run", &ti, &ck), &ck);
	if (rc == 0 && (!ti.task_id || !*ti.task_id || ti.try_number < 0 || ti.map_index < -1))
		abort();
	dd_task_instance_release(&ti);
	ck = (struct conn_check)CONN_CHECK_INIT;
	verdict(rc = af_read_import_error(el, &ie, &ck), &ck);
	if (rc == 0 && !ie.filename)
		abort();
	free(ie.filename);
	free(ie.stack_trace);
	ck = (struct conn_check)CONN_CHECK_INIT;
	verdict(af_read_health(el, &h, &ck), &ck);
	dd_health_release(&h);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const lists[] = { "dags", "tasks", "dag_runs", "task_instances",
	                                     "task_instances_history", "import_errors", "content" };
	char *text = dd_xstrndup((const char *)data, size);
	cJSON *j = cJSON_ParseWithLength((const char *)data, size), *el;
	struct dd_buf out = DD_BUF_INIT;
	struct conn_check ck = CONN_CHECK_INIT;
	char *token = NULL;
	int end = 0;
	int64_t pos = 0;

	/* the text forms: a v1 content repr, a continuation token */
	af_v1_texts(text, &out);
	dd_buf_reset(&out);
	af_token_info(text, &end, &pos);
	if (pos < -1)
		abort();
	if (j) {
		read_element(j);
		verdict(af_read_log_page(j, &out, &token, &ck), &ck);
		free(token);
		for (size_t i = 0; i < DD_ARRAY_SIZE(lists); i++)
			cJSON_ArrayForEach(el, cJSON_GetObjectItemCaseSensitive(j, lists[i]))
				read_element(el);
		if (cJSON_IsArray(j))
			cJSON_ArrayForEach(el, j)
				read_element(el);
	}
	cJSON_Delete(j);
	dd_buf_release(&out);
	free(text);
	return 0;
}
