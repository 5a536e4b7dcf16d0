/* Unit tests: src/evidence.c - pasted outputs recognised by command line
 * and by shape, their facts, and the verdicts they give (and what must
 * not be taken for something it is not). */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <cmocka.h>

#include "dagdoc/evidence.h"

static const char PIP_SHOW[] = "Name: numpy\n"
			       "Version: 2.0.0\n"
			       "Summary: Fundamental package for array computing in Python\n"
			       "Home-page: https://numpy.org\n"
			       "Author: Travis E. Oliphant et al.\n"
			       "License: Copyright (c) 2005-2024, NumPy Developers.\n"
			       "Location: /home/airflow/.local/lib/python3.11/site-packages\n"
			       "Requires:\n"
			       "Required-by: pandas, scikit-learn, scipy\n";

static const char PIP_FREEZE[] = "apache-airflow==2.10.5\n"
				 "numpy==1.26.4\n"
				 "pandas==2.1.4\n"
				 "scikit_learn==1.3.2\n"
				 "mypkg @ file:///opt/build/mypkg-0.1-py3-none-any.whl\n";

static const char PIP_LIST[] = "Package            Version\n"
			       "------------------ -----------\n"
			       "numpy              1.26.4\n"
			       "pandas             2.1.4\n"
			       "pip                24.0\n";

static const char KUBECTL[] = "Name:             sessionize-events-aggregate-sessions-x7k2m9qf\n"
			      "Namespace:        airflow\n"
			      "Priority:         0\n"
			      "Node:             ip-10-0-3-17.eu-west-1.compute.internal/10.0.3.17\n"
			      "Labels:           airflow-worker=412\n"
			      "                  dag_id=sessionize_events\n"
			      "                  task_id=aggregate_sessions\n"
			      "Status:           Failed\n"
			      "Containers:\n"
			      "  base:\n"
			      "    Image:          apache/airflow:2.10.5-python3.11\n"
			      "    State:          Terminated\n"
			      "      Reason:       OOMKilled\n"
			      "      Exit Code:    137\n"
			      "    Ready:          False\n"
			      "    Limits:\n"
			      "      memory:  4Gi\n";

static const char DF[] = "Filesystem      Size  Used Avail Use% Mounted on\n"
			 "overlay          97G   95G  2.0G  98% /\n"
			 "tmpfs            64M     0   64M   0% /dev\n"
			 "/dev/nvme0n1p1   97G   95G  2.0G  98% /opt/airflow/logs\n";

static const char FREE[] = "               total        used        free      shared  buff/cache   available\n"
			   "Mem:           15895       15411         121           2         362         198\n"
			   "Swap:              0           0           0\n";

static const char NVSMI[] = "+-----------------------------------------------------------------------------+\n"
			    "| NVIDIA-SMI 535.104.05   Driver Version: 535.104.05   CUDA Version: 12.2     |\n"
			    "|-------------------------------+----------------------+----------------------+\n"
			    "|   0  Tesla T4            On   | 00000000:00:1E.0 Off |                    0 |\n"
			    "| N/A   45C    P0    27W /  70W |  15020MiB / 15360MiB |     98%      Default |\n"
			    "+-------------------------------+----------------------+----------------------+\n";

static const char CONN_TABLE[] = "id | conn_id   | conn_type | description | host                 | schema | login\n"
				 "===+===========+===========+=============+======================+========+======\n"
				 "3  | crm_dwh   | postgres  | None        | crm-db.internal      | crm    | crm\n";

static void parse1(struct ev_set *s, const char *text)
{
	memset(s, 0, sizeof(*s));
	ev_parse(s, "paste.txt", text, strlen(text));
	assert_int_equal(s->n, 1);
}

static void test_shapes(void **state)
{
	struct ev_set s;

	(void)state;
	parse1(&s, PIP_SHOW);
	assert_int_equal(s.v[0].kind, EV_PIP_SHOW);
	assert_string_equal(ev_fact(&s.v[0], "pkg:numpy"), "2.0.0");
	ev_set_release(&s);
	parse1(&s, PIP_FREEZE);
	assert_int_equal(s.v[0].kind, EV_PIP_FREEZE);
	assert_string_equal(ev_fact(&s.v[0], "pkg:scikit-learn"), "1.3.2");
	ev_set_release(&s);
	parse1(&s, PIP_LIST);
	assert_int_equal(s.v[0].kind, EV_PIP_LIST);
	assert_string_equal(ev_fact(&s.v[0], "pkg:pandas"), "2.1.4");
	ev_set_release(&s);
	parse1(&s, KUBECTL);
	assert_int_equal(s.v[0].kind, EV_KUBECTL_POD);
	assert_string_equal(ev_fact(&s.v[0], "reason"), "OOMKilled");
	assert_string_equal(ev_fact(&s.v[0], "exit_code"), "137");
	assert_string_equal(ev_fact(&s.v[0], "task_id"), "aggregate_sessions");
	ev_set_release(&s);
	parse1(&s, DF);
	assert_int_equal(s.v[0].kind, EV_DF);
	assert_string_equal(ev_fact(&s.v[0], "disk_use"), "98");
	assert_string_equal(ev_fact(&s.v[0], "disk_mount"), "/");
	ev_set_release(&s);
	parse1(&s, FREE);
	assert_int_equal(s.v[0].kind, EV_FREE);
	assert_string_equal(ev_fact(&s.v[0], "mem_available"), "198");
	ev_set_release(&s);
	parse1(&s, NVSMI);
	assert_int_equal(s.v[0].kind, EV_NVIDIA_SMI);
	assert_string_equal(ev_fact(&s.v[0], "gpu_mem_used"), "15020");
	ev_set_release(&s);
	parse1(&s, CONN_TABLE);
	assert_int_equal(s.v[0].kind, EV_AIRFLOW_CONN);
	assert_non_null(ev_fact(&s.v[0], "conn:crm_dwh"));
	ev_set_release(&s);
	/* the same table as rich draws it at a terminal */
	parse1(&s, "\xe2\x94\x8f\xe2\x94\x81\xe2\x94\x81\xe2\x94\xb3\xe2\x94\x81\xe2\x94\x81\xe2\x94\x93\n"
		   "\xe2\x94\x83 id \xe2\x94\x83 conn_id   \xe2\x94\x83 conn_type \xe2\x94\x83\n"
		   "\xe2\x94\xa1\xe2\x94\x81\xe2\x94\x81\xe2\x95\x87\xe2\x94\x81\xe2\x94\x81\xe2\x94\xa9\n"
		   "\xe2\x94\x82 3  \xe2\x94\x82 warehouse \xe2\x94\x82 postgres  \xe2\x94\x82\n");
	assert_int_equal(s.v[0].kind, EV_AIRFLOW_CONN);
	assert_non_null(ev_fact(&s.v[0], "conn:warehouse"));
	assert_null(ev_fact(&s.v[0], "conn:3"));
	ev_set_release(&s);
	parse1(&s, "Python 3.12.4\n");
	assert_int_equal(s.v[0].kind, EV_PYTHON_VERSION);
	assert_string_equal(ev_fact(&s.v[0], "python"), "3.12.4");
	ev_set_release(&s);
	parse1(&s, "commit 1410967a2b3c4d5e6f708192a3b4c5d6e7f80912\nAuthor: J. Doe <jdoe@example.com>\n"
		   "Date:   Mon Nov 16 15:12:00 2026 +0000\n\n    Bump ML deps\n");
	assert_int_equal(s.v[0].kind, EV_GIT_LOG);
	assert_string_equal(ev_fact(&s.v[0], "commit"), "1410967a2b3c4d5e6f708192a3b4c5d6e7f80912");
	ev_set_release(&s);
	parse1(&s, "Variable partner_api_base does not exist\n");
	assert_int_equal(s.v[0].kind, EV_AIRFLOW_VAR);
	assert_string_equal(ev_fact(&s.v[0], "var_missing"), "partner_api_base");
	ev_set_release(&s);
}

/* What must not be taken for what it is not. */
static void test_not_recognised(void **state)
{
	struct ev_set s;

	(void)state;
	/* a log line that happens to say Name: and Version: apart */
	parse1(&s, "Name: nightly export\nStarted: 02:00\nVersion: 3\n");
	assert_int_equal(s.v[0].kind, EV_UNKNOWN);
	assert_non_null(s.v[0].why);
	ev_set_release(&s);
	/* a traceback is no pip freeze, and "Python" in prose is no version */
	parse1(&s, "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'a==b'\n");
	assert_int_equal(s.v[0].kind, EV_UNKNOWN);
	ev_set_release(&s);
	parse1(&s, "Python 3.12 is what we run, I think\n");
	assert_int_equal(s.v[0].kind, EV_UNKNOWN);
	ev_set_release(&s);
	/* kubectl describe node: no Namespace, no pod */
	parse1(&s, "Name:               ip-10-0-3-17\nRoles:              <none>\nConditions:\n"
		   "  Type             Status\n  MemoryPressure   False\n");
	assert_int_equal(s.v[0].kind, EV_UNKNOWN);
	ev_set_release(&s);
	/* df -i's header has IUse%, and free without a Mem: row is not free */
	parse1(&s, "Filesystem      Inodes IUsed IFree IUse% Mounted on\noverlay 6.3M 1.1M 5.2M 17% /\n");
	assert_int_equal(s.v[0].kind, EV_UNKNOWN);
	ev_set_release(&s);
	/* a name running into the end of the text (the fuzzer's first find) */
	parse1(&s, "numpy.");
	assert_int_equal(s.v[0].kind, EV_UNKNOWN);
	ev_set_release(&s);
	/* a command dagdoc does not read, pasted with its prompt */
	parse1(&s, "$ ls -la /opt/airflow\ntotal 12\ndrwxr-xr-x 2 airflow root 4096 Dec  7 03:12 dags\n");
	assert_int_equal(s.v[0].kind, EV_UNKNOWN);
	assert_non_null(strstr(s.v[0].why, "ls -la"));
	ev_set_release(&s);
}

static void test_commands_and_split(void **state)
{
	struct ev_set s = {0};
	static const char two[] = "airflow@worker-1:/opt/airflow$ pip show pandas\n"
				  "Name: pandas\nVersion: 2.1.4\n"
				  "\n"
				  "$ airflow connections get warehouse\n"
				  "Connection not found.\n"
				  "(venv) $ python3 -V\n"
				  "Python 3.11.9\n";
	static const char wrong[] = "$ git log -5\nName: pandas\nVersion: 2.1.4\n";

	(void)state;
	assert_int_equal(ev_kind_of_command("pip3 show numpy"), EV_PIP_SHOW);
	assert_int_equal(ev_kind_of_command("python -m pip freeze"), EV_PIP_FREEZE);
	assert_int_equal(ev_kind_of_command("kubectl -n airflow describe pod etl-x-1"), EV_KUBECTL_POD);
	assert_int_equal(ev_kind_of_command("kubectl describe node ip-1"), EV_UNKNOWN);
	assert_int_equal(ev_kind_of_command("docker exec -it worker pip list"), EV_PIP_LIST);
	assert_int_equal(ev_kind_of_command("kubectl exec -it worker-0 -- df -h"), EV_DF);
	assert_int_equal(ev_kind_of_command("kubectl -n prefect exec -it deploy/worker -- pip show pandas"),
			 EV_PIP_SHOW);
	assert_int_equal(ev_kind_of_command("docker exec -u airflow -it af-worker-1 python -m pip freeze"),
			 EV_PIP_FREEZE);
	assert_int_equal(ev_kind_of_command("free -m"), EV_FREE);
	assert_int_equal(ev_kind_of_command("airflow variables get partner_api_base"), EV_AIRFLOW_VAR);
	assert_int_equal(ev_kind_of_command("git log --oneline -5"), EV_GIT_LOG);
	assert_int_equal(ev_kind_of_command("python3.12 --version"), EV_PYTHON_VERSION);
	assert_int_equal(ev_kind_of_command("airflow dags list"), EV_UNKNOWN);
	assert_int_equal(ev_kind_of_command("kubectl describe pod <the worker pod>   (Reason: OOMKilled?)"),
			 EV_KUBECTL_POD);
	assert_int_equal(ev_kind_of_command("pip freeze > /tmp/freeze.txt"), EV_UNKNOWN);
	assert_int_equal(ev_kind_of_command("git log -p -- requirements.txt | grep -i pandas"), EV_UNKNOWN);
	assert_int_equal(ev_kind_of_command("airflow connections list -o plain | grep warehouse"), EV_UNKNOWN);
	/* an answer pasted under another command's prompt is read by its shape */
	ev_parse(&s, "ev.txt", wrong, strlen(wrong));
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].kind, EV_PIP_SHOW);
	assert_null(s.v[0].why);
	ev_set_release(&s);
	ev_parse(&s, "ev.txt", two, strlen(two));
	assert_int_equal(s.n, 3);
	assert_int_equal(s.v[0].kind, EV_PIP_SHOW);
	assert_int_equal(s.v[0].line, 2);
	assert_string_equal(s.v[0].command, "pip show pandas");
	assert_int_equal(s.v[1].kind, EV_AIRFLOW_CONN);
	assert_string_equal(ev_fact(&s.v[1], "asked"), "warehouse");
	assert_non_null(ev_fact(&s.v[1], "conn_missing"));
	assert_int_equal(s.v[2].kind, EV_PYTHON_VERSION);
	assert_int_equal(s.v[2].line, 8);
	ev_set_release(&s);
}

static void test_judge(void **state)
{
	struct ev_set s;
	struct ev_verdict v;
	struct dd_entity dep[] = {{"package", "numpy"}, {"from", "1.26.4"}, {"to", "2.0.0"}};
	struct dd_entity res[] = {{"task_id", "aggregate_sessions"}};
	struct dd_entity other_task[] = {{"task_id", "load_sessions"}};
	struct dd_entity conn[] = {{"conn_id", "warehouse"}};

	(void)state;
	parse1(&s, PIP_SHOW);
	assert_int_equal(ev_judge(&s.v[0], "dependency_change", dep, 3, NULL, 0, &v), EV_CONFIRMED);
	assert_string_equal(v.what, "numpy 2.0.0 deployed");
	assert_int_equal(v.line, 2);
	assert_string_equal(v.line_text, "Version: 2.0.0");
	ev_verdict_release(&v);
	/* the same output says nothing about memory */
	assert_int_equal(ev_judge(&s.v[0], "resource_exhaustion", res, 1, NULL, 0, &v), EV_NONE);
	ev_verdict_release(&v);
	ev_set_release(&s);
	parse1(&s, PIP_FREEZE);
	assert_int_equal(ev_judge(&s.v[0], "dependency_change", dep, 3, NULL, 0, &v), EV_REFUTED);
	assert_non_null(strstr(v.what, "still deployed"));
	ev_verdict_release(&v);
	ev_set_release(&s);
	parse1(&s, KUBECTL);
	assert_int_equal(ev_judge(&s.v[0], "resource_exhaustion", res, 1, NULL, 0, &v), EV_CONFIRMED);
	assert_string_equal(v.line_text, "Reason:       OOMKilled");
	ev_verdict_release(&v);
	assert_int_equal(ev_judge(&s.v[0], "resource_exhaustion", other_task, 1, NULL, 0, &v), EV_NONE);
	ev_verdict_release(&v);
	ev_set_release(&s);
	parse1(&s, CONN_TABLE);
	assert_int_equal(ev_judge(&s.v[0], "config_change", conn, 1, NULL, 0, &v), EV_CONFIRMED);
	ev_verdict_release(&v);
	ev_set_release(&s);
}

static void test_rules(void **state)
{
	struct ev_set s;
	struct ev_verdict v;
	struct dd_strv confirms = DD_STRV_INIT, refutes = DD_STRV_INIT;
	struct ev_check chk = {"pip show {package}", &confirms, &refutes};
	struct dd_entity e[] = {{"package", "scikit-learn"}, {"to", "1.3.0"}};
	struct dd_buf msg = DD_BUF_INIT;

	(void)state;
	/* the entity value is escaped: "1.3.0" must not match "1x3y0" */
	dd_strv_push(&confirms, "^Version: {to}$");
	dd_strv_push(&refutes, "^Requires: .*numpy");
	parse1(&s, "Name: scikit-learn\nVersion: 1x3y0\nRequires: joblib, numpy, scipy\n");
	assert_int_equal(ev_judge(&s.v[0], "unknown", e, 2, &chk, 1, &v), EV_REFUTED);
	assert_int_equal(v.line, 3);
	ev_verdict_release(&v);
	ev_set_release(&s);
	parse1(&s, "Name: scikit-learn\nVersion: 1.3.0\n");
	assert_int_equal(ev_judge(&s.v[0], "unknown", e, 2, &chk, 1, &v), EV_CONFIRMED);
	ev_verdict_release(&v);
	ev_set_release(&s);
	assert_int_equal(ev_rule_valid("^Version: {to}$", NULL, NULL, &msg), 0);
	assert_int_equal(ev_rule_valid("^Version: {nosuch}$", NULL, NULL, &msg), -1);
	assert_non_null(strstr(dd_buf_str(&msg), "{nosuch}"));
	dd_buf_reset(&msg);
	assert_int_equal(ev_rule_valid("^Version: ({to}$", NULL, NULL, &msg), -1);
	dd_buf_release(&msg);
	dd_strv_release(&confirms);
	dd_strv_release(&refutes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_not_recognised),
		cmocka_unit_test(test_commands_and_split),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_rules),
	};

	return cmocka_run_group_tests_name("evidence", tests, NULL, NULL);
}
