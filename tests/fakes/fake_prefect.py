#!/usr/bin/env python3
"""Fake Prefect 3 REST API server (self-hosted "server" mode under /api, or
Prefect Cloud mode under /api/accounts/<id>/workspaces/<id>) serving one
world file. Standard library only.

  fake_prefect.py --mode server|cloud --world WORLD.json --port-file PATH
                  [--latency-ms N] [--faults FAULTS.json] [--request-log FILE]
                  [--api-key K | --auth-string U:P]
                  [--account-id UUID] [--workspace-id UUID] [--default-limit N]

--default-limit N is the server's PREFECT_SERVER_API_DEFAULT_LIMIT (200): a
/filter body asking for more gets the real server's 422.

Shapes follow shared/specs/prefect/prefect-3.x-openapi.json and, where the
real server differs from it, shared/specs/prefect/NOTES.md.
"""

import argparse
import base64
import collections
import datetime as _dt
import functools
import hashlib
import hmac
import json
import os
import re
import threading
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib as fl  # noqa: E402
from fakelib import HttpError, det_uuid, json_resp  # noqa: E402

DEFAULT_LIMIT = 200
ACCOUNT = "11111111-1111-4111-8111-111111111111"
WORKSPACE = "22222222-2222-4222-8222-222222222222"
API_VERSION = "0.8.4"

# Filter models and their keys (PrefectFilterBaseModel: extra="forbid"),
# taken from the OpenAPI components of Prefect 3.8.3. None = leaf operand.
FILTER_MODELS = {
    'FlowFilter': {'operator': None, 'id': 'FlowFilterId', 'deployment': 'FlowFilterDeployment', 'name': 'FlowFilterName', 'tags': 'FlowFilterTags'},
    'FlowFilterId': {'any_': None, 'not_any_': None},
    'FlowFilterDeployment': {'operator': None, 'is_null_': None},
    'FlowFilterName': {'any_': None, 'like_': None},
    'FlowFilterTags': {'operator': None, 'all_': None, 'is_null_': None},
    'FlowRunFilter': {'operator': None, 'id': 'FlowRunFilterId', 'name': 'FlowRunFilterName', 'tags': 'FlowRunFilterTags', 'deployment_id': 'FlowRunFilterDeploymentId', 'work_queue_name': 'FlowRunFilterWorkQueueName', 'state': 'FlowRunFilterState', 'flow_version': 'FlowRunFilterFlowVersion', 'start_time': 'FlowRunFilterStartTime', 'end_time': 'FlowRunFilterEndTime', 'expected_start_time': 'FlowRunFilterExpectedStartTime', 'next_scheduled_start_time': 'FlowRunFilterNextScheduledStartTime', 'parent_flow_run_id': 'FlowRunFilterParentFlowRunId', 'parent_task_run_id': 'FlowRunFilterParentTaskRunId', 'idempotency_key': 'FlowRunFilterIdempotencyKey', 'created_by': 'FlowRunFilterCreatedBy'},
    'FlowRunFilterId': {'any_': None, 'not_any_': None},
    'FlowRunFilterName': {'any_': None, 'like_': None},
    'FlowRunFilterTags': {'operator': None, 'all_': None, 'any_': None, 'is_null_': None},
    'FlowRunFilterDeploymentId': {'operator': None, 'any_': None, 'is_null_': None},
    'FlowRunFilterWorkQueueName': {'operator': None, 'any_': None, 'is_null_': None},
    'FlowRunFilterState': {'operator': None, 'type': 'FlowRunFilterStateType', 'name': 'FlowRunFilterStateName'},
    'FlowRunFilterStateType': {'any_': None, 'not_any_': None},
    'FlowRunFilterStateName': {'any_': None, 'not_any_': None},
    'FlowRunFilterFlowVersion': {'any_': None},
    'FlowRunFilterStartTime': {'before_': None, 'after_': None, 'is_null_': None},
    'FlowRunFilterEndTime': {'before_': None, 'after_': None, 'is_null_': None},
    'FlowRunFilterExpectedStartTime': {'before_': None, 'after_': None},
    'FlowRunFilterNextScheduledStartTime': {'before_': None, 'after_': None},
    'FlowRunFilterParentFlowRunId': {'operator': None, 'any_': None},
    'FlowRunFilterParentTaskRunId': {'operator': None, 'any_': None, 'is_null_': None},
    'FlowRunFilterIdempotencyKey': {'any_': None, 'not_any_': None},
    'FlowRunFilterCreatedBy': {'operator': None, 'id_': None, 'type_': None, 'is_null_': None},
    'TaskRunFilter': {'operator': None, 'id': 'TaskRunFilterId', 'name': 'TaskRunFilterName', 'tags': 'TaskRunFilterTags', 'state': 'TaskRunFilterState', 'start_time': 'TaskRunFilterStartTime', 'end_time': 'TaskRunFilterEndTime', 'expected_start_time': 'TaskRunFilterExpectedStartTime', 'subflow_runs': 'TaskRunFilterSubFlowRuns', 'flow_run_id': 'TaskRunFilterFlowRunId'},
    'TaskRunFilterId': {'any_': None},
    'TaskRunFilterName': {'any_': None, 'like_': None},
    'TaskRunFilterTags': {'operator': None, 'all_': None, 'is_null_': None},
    'TaskRunFilterState': {'operator': None, 'type': 'TaskRunFilterStateType', 'name': 'TaskRunFilterStateName'},
    'TaskRunFilterStateType': {'any_': None},
    'TaskRunFilterStateName': {'any_': None},
    'TaskRunFilterStartTime': {'before_': None, 'after_': None, 'is_null_': None},
    'TaskRunFilterEndTime': {'before_': None, 'after_': None, 'is_null_': None},
    'TaskRunFilterExpectedStartTime': {'before_': None, 'after_': None},
    'TaskRunFilterSubFlowRuns': {'exists_': None},
    'TaskRunFilterFlowRunId': {'operator': None, 'any_': None, 'is_null_': None},
    'LogFilter': {'operator': None, 'level': 'LogFilterLevel', 'timestamp': 'LogFilterTimestamp', 'flow_run_id': 'LogFilterFlowRunId', 'task_run_id': 'LogFilterTaskRunId', 'text': 'LogFilterTextSearch'},
    'LogFilterLevel': {'ge_': None, 'le_': None},
    'LogFilterTimestamp': {'before_': None, 'after_': None},
    'LogFilterFlowRunId': {'any_': None},
    'LogFilterTaskRunId': {'any_': None, 'is_null_': None},
    'LogFilterTextSearch': {'query': None},
    'DeploymentFilter': {'operator': None, 'id': 'DeploymentFilterId', 'name': 'DeploymentFilterName', 'flow_or_deployment_name': 'DeploymentOrFlowNameFilter', 'paused': 'DeploymentFilterPaused', 'tags': 'DeploymentFilterTags', 'work_queue_name': 'DeploymentFilterWorkQueueName', 'concurrency_limit': 'DeploymentFilterConcurrencyLimit'},
    'DeploymentFilterId': {'any_': None, 'not_any_': None},
    'DeploymentFilterName': {'any_': None, 'like_': None},
    'DeploymentOrFlowNameFilter': {'like_': None},
    'DeploymentFilterPaused': {'eq_': None},
    'DeploymentFilterTags': {'operator': None, 'all_': None, 'any_': None, 'is_null_': None},
    'DeploymentFilterWorkQueueName': {'any_': None},
    'DeploymentFilterConcurrencyLimit': {'ge_': None, 'le_': None, 'is_null_': None},
    'WorkPoolFilter': {'operator': None, 'id': 'WorkPoolFilterId', 'name': 'WorkPoolFilterName', 'type': 'WorkPoolFilterType'},
    'WorkPoolFilterId': {'any_': None},
    'WorkPoolFilterName': {'any_': None},
    'WorkPoolFilterType': {'any_': None},
    'WorkQueueFilter': {'operator': None, 'id': 'WorkQueueFilterId', 'name': 'WorkQueueFilterName'},
    'WorkQueueFilterId': {'any_': None},
    'WorkQueueFilterName': {'any_': None, 'startswith_': None},
    'WorkerFilter': {'operator': None, 'last_heartbeat_time': 'WorkerFilterLastHeartbeatTime', 'status': 'WorkerFilterStatus'},
    'WorkerFilterLastHeartbeatTime': {'before_': None, 'after_': None},
    'WorkerFilterStatus': {'any_': None, 'not_any_': None},
}
LEAF_DEFAULTS = {'TaskRunFilterFlowRunId': {'is_null_': False}}
STATE_TYPES = ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED",
               "CANCELLING"]
SORTS = {
    "flow_runs": ["ID_DESC", "START_TIME_ASC", "START_TIME_DESC", "EXPECTED_START_TIME_ASC",
                  "EXPECTED_START_TIME_DESC", "NAME_ASC", "NAME_DESC", "NEXT_SCHEDULED_START_TIME_ASC",
                  "END_TIME_DESC"],
    "task_runs": ["ID_DESC", "EXPECTED_START_TIME_ASC", "EXPECTED_START_TIME_DESC", "NAME_ASC", "NAME_DESC",
                  "NEXT_SCHEDULED_START_TIME_ASC", "END_TIME_DESC"],
    "logs": ["TIMESTAMP_ASC", "TIMESTAMP_DESC"],
    "flows": ["CREATED_DESC", "UPDATED_DESC", "NAME_ASC", "NAME_DESC"],
    "deployments": ["CREATED_DESC", "UPDATED_DESC", "NAME_ASC", "NAME_DESC"],
}
SORT_DEFAULT = {"flow_runs": "ID_DESC", "task_runs": "ID_DESC", "logs": "TIMESTAMP_ASC", "flows": "NAME_ASC",
                "deployments": "NAME_ASC"}

ADJ = ["masked", "spiritual", "terrible", "cheerful", "wandering", "brave", "silent", "crimson", "amber", "nimble",
       "placid", "jolly", "tangible", "mysterious", "vivid", "quick", "lucky", "eager", "gentle", "rustic"]
ANIMAL = ["hamster", "llama", "mongoose", "otter", "heron", "lynx", "badger", "ibis", "marmot", "gecko",
          "jackal", "narwhal", "quail", "tapir", "wombat", "yak", "zebu", "bison", "civet", "dingo"]

RUN_STATE = {  # world run state -> (type, name)
    "success": ("COMPLETED", "Completed"), "failed": ("FAILED", "Failed"), "running": ("RUNNING", "Running"),
    "queued": ("SCHEDULED", "Scheduled"), "scheduled": ("SCHEDULED", "Scheduled"), "late": ("SCHEDULED", "Late"),
    "crashed": ("CRASHED", "Crashed"), "cancelled": ("CANCELLED", "Cancelled"), "pending": ("PENDING", "Pending"),
}
EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Interrupt|Exit|Failure|Warning)\w*)(?:: (.*))?$")


def exc_of(text):
    """(short type, message) of the last exception line in a log, or None."""
    found = None
    for line in text.splitlines():
        m = EXC_LINE.match(line.strip())
        if m and not line.startswith(" "):
            found = (m.group(1).rsplit(".", 1)[-1], m.group(2) or "")
    return found


def ts(d):
    return fl.iso_z(d)


class Ent(dict):
    """An API object (the dict is the JSON) with private attributes."""

    def __init__(self, data, **priv):
        dict.__init__(self, data)
        self.p = priv


class PrefectApp(fl.App):
    name = "prefect"
    TRS_CACHE_RUNS = 2048  # flow runs whose task runs stay made (a fleet's 720,000 are not held at once)
    LISTINGS_KEPT = 8      # sorted listings kept (matching): a chunk's pages are asked for together

    def __init__(self, args):
        fl.App.__init__(self, args)
        self.mode = args.mode
        self.limit = args.default_limit
        if args.api_key and args.auth_string:
            raise SystemExit("use --api-key or --auth-string, not both")
        if self.mode == "server":
            self.base = "/api"
        else:
            self.base = "/api/accounts/%s/workspaces/%s" % (args.account_id, args.workspace_id)
        self.build()
        self._routes()

    # ------------------------------------------------------------------ world -> prefect objects

    def build(self):
        w = self.world
        now = w.now
        pools_cfg = w.prefect.get("work_pools") or [{"name": "default-pool", "type": "process",
                                                    "workers": [{"name": "worker-1", "status": "ONLINE"}]}]
        self.pools, self.pool_by_name, self.workers = [], {}, {}
        for pc in pools_cfg:
            pid = det_uuid("work_pool", pc["name"])
            created = ts(now - _dt.timedelta(days=90))
            workers = []
            for wc in pc.get("workers", []):
                hb = fl.parse_ts(wc.get("last_heartbeat_time")) or (now - _dt.timedelta(seconds=10))
                status = wc.get("status") or ("ONLINE" if (now - hb).total_seconds() < 90 else "OFFLINE")
                workers.append(Ent({
                    "id": det_uuid("worker", pc["name"], wc["name"]), "created": created, "updated": ts(hb),
                    "name": wc["name"], "work_pool_id": pid, "last_heartbeat_time": ts(hb),
                    "heartbeat_interval_seconds": wc.get("heartbeat_interval_seconds", 30), "status": status,
                }, hb=hb))
            paused = bool(pc.get("is_paused", False))
            status = pc.get("status") or ("PAUSED" if paused else
                                          "READY" if any(x["status"] == "ONLINE" for x in workers) else "NOT_READY")
            pool = Ent({
                "id": pid, "created": created, "updated": created, "name": pc["name"],
                "description": pc.get("description"), "type": pc.get("type", "process"), "base_job_template": {},
                "is_paused": paused, "concurrency_limit": pc.get("concurrency_limit"), "status": status,
                "default_queue_id": det_uuid("work_queue", pc["name"], "default"),
                "storage_configuration": {"bundle_upload_step": None, "bundle_execution_step": None,
                                          "default_result_storage_block_id": None},
                "active_slots": 0,
            })
            self.pools.append(pool)
            self.pool_by_name[pool["name"]] = pool
            self.workers[pool["name"]] = workers
        dag_pool = w.prefect.get("dag_work_pool") or {}

        self.flows, self.flow_by_name, self.deployments, self.dep_by_dag = [], {}, [], {}
        first_run = {}  # dag_id -> its earliest run_after (one pass, not one per DAG)
        for r in w.runs:
            if r.run_after and (r.dag_id not in first_run or r.run_after < first_run[r.dag_id]):
                first_run[r.dag_id] = r.run_after
        for dag in w.dags:
            first = first_run.get(dag.dag_id, now)
            created = first - _dt.timedelta(days=1)
            flow = Ent({"id": det_uuid("flow", dag.dag_id), "created": ts(created), "updated": ts(created),
                        "name": dag.dag_id, "tags": list(dag.tags), "labels": {}}, dag=dag, created=created)
            self.flows.append(flow)
            self.flow_by_name[flow["name"]] = flow
            pool = self.pool_by_name.get(dag_pool.get(dag.dag_id)) or self.pools[0]
            polled = max([x.p["hb"] for x in self.workers[pool["name"]]] or [now])
            dep_status = "READY" if (now - polled).total_seconds() <= 60 else "NOT_READY"
            entry = dag.fileloc.replace("/opt/airflow/dags/", "flows/") + ":" + dag.dag_id
            dep = Ent({
                "id": det_uuid("deployment", dag.dag_id), "created": ts(created), "updated": ts(created),
                "name": dag.get("prefect_deployment", "default"), "version": None,
                "description": dag.get("description"), "flow_id": flow["id"], "paused": dag.is_paused,
                "schedules": [], "concurrency_limit": None, "global_concurrency_limit": None,
                "concurrency_options": None, "job_variables": {}, "parameters": {}, "tags": list(dag.tags),
                "labels": {}, "work_queue_name": "default", "work_queue_id": pool["default_queue_id"],
                "last_polled": ts(polled), "parameter_openapi_schema": {"type": "object", "properties": {}},
                "path": ".", "pull_steps": None, "entrypoint": entry, "storage_document_id": None,
                "infrastructure_document_id": None, "created_by": None, "updated_by": None,
                "work_pool_name": pool["name"], "status": dep_status, "enforce_parameter_schema": True,
            }, dag=dag, pool=pool, flow=flow)
            if dag.get("schedule"):
                dep["schedules"] = [{
                    "id": det_uuid("schedule", dag.dag_id), "created": ts(created), "updated": ts(created),
                    "deployment_id": dep["id"], "schedule": {"cron": dag.schedule, "timezone": "UTC",
                                                             "day_or": True},
                    "active": not dag.is_paused, "max_scheduled_runs": None, "parameters": {}, "slug": None,
                }]
            self.deployments.append(dep)
            self.dep_by_dag[dag.dag_id] = dep

        self.flow_runs, self.fr_by_id = [], {}
        self.tr_fr = {}  # task run id -> its flow run's id (task runs themselves: trs_of)
        self.trs_cache = collections.OrderedDict()  # flow run id -> its task runs, the last TRS_CACHE_RUNS
        self.tr_lock = threading.RLock()
        self.listings = collections.OrderedDict()  # see matching()
        self.fr_by_flow, self.fr_by_dep = {}, {}  # flow / deployment id -> its flow runs
        for run in w.runs:
            if run.dag_id not in self.dep_by_dag:
                continue
            fr = self.make_flow_run(run)
            self.flow_runs.append(fr)
            self.fr_by_id[fr["id"]] = fr
            self.fr_by_flow.setdefault(fr["flow_id"], []).append(fr)
            self.fr_by_dep.setdefault(fr["deployment_id"], []).append(fr)
        self.log_cache = {}

    def state(self, kind, sid, typ, name, when, message=None, fr_id=None, tr_id=None, scheduled=None):
        st = {
            "id": sid, "type": typ, "name": name, "timestamp": ts(when), "message": message, "data": None,
            "state_details": {
                "flow_run_id": fr_id, "task_run_id": tr_id, "child_flow_run_id": None,
                "scheduled_time": ts(scheduled) if scheduled else None, "cache_key": None, "cache_expiration": None,
                "deferred": False, "untrackable_result": False, "pause_timeout": None, "pause_reschedule": False,
                "pause_key": None, "run_input_keyset": None, "refresh_cache": None,
                "retriable": (True if name == "AwaitingRetry" else None), "transition_id": det_uuid("tr", sid),
                "task_parameters_id": None, "traceparent": None, "deployment_concurrency_lease_id": None,
            },
        }
        return st

    def flow_run_name(self, run):
        h = int(hashlib.sha1((run.dag_id + "/" + run.run_id).encode()).hexdigest(), 16)
        return "%s-%s" % (ADJ[h % len(ADJ)], ANIMAL[(h // len(ADJ)) % len(ANIMAL)])

    def make_flow_run(self, run):
        w = self.world
        dep = self.dep_by_dag[run.dag_id]
        flow, pool = dep.p["flow"], dep.p["pool"]
        fid = det_uuid("flow_run", run.dag_id, run.run_id)
        rstate = run.get("state") or "queued"
        typ, name = RUN_STATE.get(rstate, ("PENDING", "Pending"))
        expected = run.logical_date if run.get("run_type", "scheduled") == "scheduled" and run.logical_date else \
            (run.queued_at or run.run_after)
        if run.get("run_type", "scheduled") == "scheduled" and run.data_interval_end:
            expected = run.data_interval_end  # Airflow runs a schedule slot at the end of its interval
        if run.get("expected_start_time"):
            expected = fl.parse_ts(run.expected_start_time)
        created = min(x for x in (run.queued_at, expected, run.start_date) if x) - _dt.timedelta(hours=1) \
            if run.get("run_type", "scheduled") == "scheduled" else (run.queued_at or expected)
        fr = Ent({"id": fid}, run=run, dep=dep, flow=flow, pool=pool, expected=expected)
        # task runs are made when first asked for (trs_of)
        fr.p["has_trs"] = run.start_date is not None and rstate not in ("late", "queued", "scheduled")
        # state history
        sts = []

        def add(t, n, when, msg=None):  # planned here, made when asked for (states_of); the last one now
            sts.append((len(sts), t, n, when, msg))

        add("SCHEDULED", "Scheduled", created)
        if rstate == "late":
            add("SCHEDULED", "Late", expected + _dt.timedelta(seconds=15))
        elif rstate not in ("queued", "scheduled"):
            start = run.start_date or run.queued_at or expected
            add("PENDING", "Pending", start - _dt.timedelta(seconds=2))
            if rstate != "pending":
                add("RUNNING", "Running", start)
            end = run.end_date or run.updated_at or start
            if rstate == "success":
                add("COMPLETED", "Completed", end, run.get("state_message") or "All states completed.")
            elif rstate == "failed":
                add("FAILED", "Failed", end, run.get("state_message") or
                    "%d/%d states failed." % self.failed_of(fr))
            elif rstate == "crashed":
                add("CRASHED", "Crashed", end, run.get("state_message") or
                    "Flow run infrastructure exited with non-zero status code 1.")
            elif rstate == "cancelled":
                add("CANCELLING", "Cancelling", end - _dt.timedelta(seconds=5), "Cancelling flow run.")
                add("CANCELLED", "Cancelled", end, run.get("state_message") or "Flow run was cancelled.")
        fr.p["state_plan"] = sts
        cur = self.flow_run_state(fr, sts[-1])
        start_time = run.start_date if cur["type"] not in ("SCHEDULED",) and rstate != "pending" else None
        end_time = run.end_date if cur["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None
        total = fl.seconds_between(start_time, end_time or (w.now if cur["type"] == "RUNNING" else start_time)) \
            if start_time else 0.0
        delta = fl.seconds_between(expected, start_time) if start_time else \
            (max(0.0, fl.seconds_between(expected, w.now)) if cur["type"] == "SCHEDULED" else 0.0)
        fr.update({
            "created": ts(created), "updated": ts(end_time or start_time or created),
            "name": self.flow_run_name(run), "flow_id": flow["id"], "state_id": cur["id"],
            "deployment_id": dep["id"], "deployment_version": None, "work_queue_id": pool["default_queue_id"],
            "work_queue_name": "default", "flow_version": hashlib.md5(run.dag_id.encode()).hexdigest(),
            "parameters": run.get("conf") or {},
            "idempotency_key": ("scheduled %s %s" % (dep["id"], ts(expected))) if run.get("run_type", "scheduled")
            == "scheduled" else None,
            "context": {}, "empirical_policy": {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 0,
                                                "retry_delay": 0, "pause_keys": [], "resuming": False,
                                                "retry_type": None},
            "tags": list(dep["tags"]), "labels": {"prefect.flow.id": flow["id"], "prefect.deployment.id": dep["id"]},
            "parent_task_run_id": None, "state_type": cur["type"], "state_name": cur["name"],
            "run_count": 0 if start_time is None else int(run.get("run_count", 1)),
            "expected_start_time": ts(expected),
            "next_scheduled_start_time": ts(expected) if cur["type"] == "SCHEDULED" else None,
            "start_time": ts(start_time), "end_time": ts(end_time), "total_run_time": total or 0.0,
            "estimated_run_time": total or 0.0, "estimated_start_time_delta": delta or 0.0,
            "auto_scheduled": run.get("run_type", "scheduled") == "scheduled",
            "infrastructure_document_id": None,
            "infrastructure_pid": ("%s:%d" % ("worker-host", 20000 + int(fid[:4], 16) % 9000)) if start_time
            else None,
            "created_by": None, "work_pool_id": pool["id"], "work_pool_name": pool["name"], "state": cur,
            "job_variables": {},
        })
        fr.p["start"], fr.p["end"] = start_time, end_time
        return fr

    def flow_run_state(self, fr, planned):
        i, typ, name, when, msg = planned
        return self.state("flow_run", det_uuid("flow_run_state", fr["id"], i), typ, name, when, msg, fr_id=fr["id"],
                          scheduled=fr.p["expected"] if typ == "SCHEDULED" else None)

    def states_of(self, fr):
        """A flow run's state history (made on demand: a fleet has 360,000 states)."""
        return [fr["state"] if i == len(fr.p["state_plan"]) - 1 else self.flow_run_state(fr, x)
                for i, x in enumerate(fr.p["state_plan"])]

    def trs_of(self, fr):
        """The task runs of a flow run, made the first time they are asked for
        (a fleet world starts in seconds, not in minutes)."""
        with self.tr_lock:
            got = self.trs_cache.get(fr["id"])
            if got is not None:
                self.trs_cache.move_to_end(fr["id"])
                return got
            w = self.world
            run = fr.p["run"]
            trs = [self.make_task_run(fr, t) for t in self.tis_of(fr)]
            by_task = {}
            for tr in trs:
                by_task.setdefault(tr.p["ti"].task_id, []).append(tr)
            dag = w.dag_by_id.get(run.dag_id)
            for tr in trs:
                ups = dag.task_by_id[tr.p["ti"].task_id].upstream if dag and tr.p["ti"].task_id in dag.task_by_id \
                    else []
                deps = [{"input_type": "task_run", "id": u["id"]} for up in ups for u in by_task.get(up, [])]
                tr["task_inputs"] = {"wait_for": deps} if deps else {}
                tr.p["upstream"] = [u for up in ups for u in by_task.get(up, [])]
            for tr in trs:
                self.finish_task_run(tr)
            self.trs_cache[fr["id"]] = trs
            while len(self.trs_cache) > self.TRS_CACHE_RUNS:
                self.trs_cache.popitem(last=False)
            return trs

    def tis_of(self, fr):
        """The world's task instances of a flow run that have a task run."""
        if not fr.p["has_trs"]:
            return []
        return [t for t in fr.p["run"].tis if t.get("state") not in (None, "none", "removed")]

    def failed_of(self, fr):
        """(failed, all) task runs of a flow run, for its final message."""
        tis = self.tis_of(fr)
        failed = sum(1 for t in tis if t.tries and (t.tries[-1].get("state") or t.get("state")) == "failed")
        return max(1, failed), max(1, len(tis))

    def all_task_runs(self):
        return [tr for fr in self.flow_runs for tr in self.trs_of(fr)]

    def task_run(self, tid):
        """A task run by id: its flow run's, made again when they were dropped;
        every flow run's made (once) when it was never seen."""
        if tid not in self.tr_fr:
            self.all_task_runs()
        fr = self.fr_by_id.get(self.tr_fr.get(tid))
        return next((tr for tr in self.trs_of(fr) if tr["id"] == tid), None) if fr else None

    def make_task_run(self, fr, t):
        run = fr.p["run"]
        tid = det_uuid("task_run", t.dag_id, run.run_id, t.task_id, t.map_index)
        # Prefect 3 names a task run <task>-<dynamic key>: world "dynamic_key" ("863") or the map index
        dyn = str(t.get("dynamic_key") or (t.map_index if t.map_index >= 0 else 0))
        key = "%s-%s" % (t.task_id, hashlib.sha1((t.dag_id + "." + t.task_id).encode()).hexdigest()[:8])
        tr = Ent({"id": tid, "name": "%s-%s" % (t.task_id, dyn), "flow_run_id": fr["id"], "task_key": key,
                  "dynamic_key": dyn}, ti=t, fr=fr)
        self.tr_fr[tid] = fr["id"]
        return tr

    def finish_task_run(self, tr):
        w = self.world
        t, fr = tr.p["ti"], tr.p["fr"]
        tid = tr["id"]
        sts = []

        def add(typ, name, when, msg=None, scheduled=None):
            sid = det_uuid("task_run_state", tid, len(sts))
            sts.append(self.state("task_run", sid, typ, name, when, msg, fr_id=fr["id"], tr_id=tid,
                                  scheduled=scheduled))

        first = t.tries[0].start_date if t.tries else None
        expected = t.queued_when or first or t.start_date or fr.p["run"].start_date
        add("PENDING", "Pending", expected or w.now)
        state = t.get("state")
        exc_msgs = []
        for i, x in enumerate(t.tries):
            last = i == len(t.tries) - 1
            add("RUNNING", "Running" if i == 0 else "Retrying", x.start_date or expected)
            xstate = x.get("state") or (state if last else "failed")
            exc = None
            log = w.log_of(x) if not (last and xstate == "success") else None  # a success says no exception
            if log is not None:
                tail = log.tail if log.generated else log.text
                exc = exc_of(tail[-20000:])
            msg = ("Task run encountered an exception %s: %s" % exc) if exc else \
                "Task run encountered an exception Exception: Task failed"
            if last and t.get("state_message"):
                msg = t.state_message
            exc_msgs.append((exc, msg))
            end = x.end_date or x.start_date
            if not last:
                add("SCHEDULED", "AwaitingRetry", end, msg, scheduled=t.tries[i + 1].start_date)
            elif xstate == "success":
                add("COMPLETED", "Completed", end)
            elif xstate in ("failed",):
                add("FAILED", "Failed", end, msg)
            elif xstate == "up_for_retry":
                add("SCHEDULED", "AwaitingRetry", end, msg, scheduled=end)
        tr.p["exc"] = exc_msgs
        if not t.tries:
            when = t.start_date or t.end_date or fr.p["run"].end_date or expected or w.now
            if state == "upstream_failed":
                add("PENDING", "NotReady", when, "UPSTREAM")  # message fixed below
            elif state == "skipped":
                add("CANCELLED", "Cancelled", when, "Task run was skipped.")
        elif state == "upstream_failed":
            pass
        cur = sts[-1]
        if cur["name"] == "NotReady":
            ups = [u for u in tr.p.get("upstream", []) if u.get("state_type") not in ("COMPLETED",)] or \
                tr.p.get("upstream", [])
            up_id = ups[0]["id"] if ups else det_uuid("unknown-upstream", tid)
            cur["message"] = "Upstream task run '%s' did not reach a 'COMPLETED' state." % up_id
        start = first
        end = t.tries[-1].end_date if (t.tries and cur["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")) \
            else None
        total = 0.0
        for x in t.tries:
            if x.start_date:
                total += fl.seconds_between(x.start_date, x.end_date or w.now)
        tr.update({
            "created": ts(expected or w.now), "updated": cur["timestamp"], "cache_key": None,
            "cache_expiration": None, "task_version": None,
            "empirical_policy": {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": t.max_tries,
                                 "retry_delay": 0, "retry_jitter_factor": None},
            "tags": [], "labels": {}, "state_id": cur["id"], "state_type": cur["type"], "state_name": cur["name"],
            "run_count": len(t.tries), "flow_run_run_count": 1 if t.tries else 0,
            "expected_start_time": ts(expected), "next_scheduled_start_time": None, "start_time": ts(start),
            "end_time": ts(end), "total_run_time": round(total, 6), "estimated_run_time": round(total, 6),
            "estimated_start_time_delta": fl.seconds_between(expected, start) if start and expected else 0.0,
            "state": cur,
        })
        tr.p["states"] = sts
        tr.p["expected"] = expected

    # ------------------------------------------------------------------ logs

    def log_rec(self, fr_id, tr_id, seq, name, level, message, when):
        return Ent({"id": det_uuid("log", fr_id, tr_id, seq), "created": ts(when + _dt.timedelta(seconds=1)),
                    "updated": ts(when + _dt.timedelta(seconds=1)), "name": name, "level": level,
                    "message": message, "timestamp": ts(when), "flow_run_id": fr_id, "task_run_id": tr_id},
                   t=when, seq=seq)

    def text_records(self, lines, fr_id, tr_id, start, seq0, name="prefect.task_runs"):
        """Airflow-format / structlog JSON / plain lines -> Prefect log records.
        Lines without a timestamp prefix (tracebacks) join the previous record."""
        out = []
        cur_ts = start
        n = 0
        for line in lines:
            if not line.strip() and not out:
                continue
            m = fl.AIRFLOW2_LINE.match(line)
            if m:
                try:
                    cur_ts = fl.parse_airflow_ts(m.group("ts"))
                except ValueError:
                    pass
                out.append([cur_ts, fl.LEVELS.get(m.group("level"), 20), m.group("msg")])
                continue
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                    if isinstance(obj, dict) and "event" in obj:
                        if obj.get("timestamp"):
                            cur_ts = fl.parse_ts(obj["timestamp"])
                        out.append([cur_ts, fl.LEVELS.get(str(obj.get("level", "info")).upper(), 20), obj["event"]])
                        continue
                except ValueError:
                    pass
            if out:
                out[-1][2] += "\n" + line
            else:
                out.append([cur_ts, 20, line])
        recs = []
        for when, level, msg in out:
            recs.append(self.log_rec(fr_id, tr_id, seq0 + n, name, level, msg.rstrip("\n"), when))
            n += 1
        return recs

    def flow_logs(self, fr):
        """(materialised records sorted, generated noise segments) of one flow run."""
        got = self.log_cache.get(fr["id"])
        if got is not None:
            return got
        w = self.world
        run = fr.p["run"]
        recs, segs = [], []
        seq = 0
        start, end = fr.p["start"], fr.p["end"]
        if start is not None:
            wname = "%sWorker %s" % ({"process": "Process", "kubernetes": "Kubernetes"}.get(
                fr.p["pool"]["type"], "Process"), det_uuid("worker-name", fr.p["pool"]["name"])[:8])
            recs.append(self.log_rec(fr["id"], None, seq, "prefect.flow_runs.worker", 20,
                                     "Worker '%s' submitting flow run '%s'" % (wname, fr["id"]),
                                     start - _dt.timedelta(seconds=3)))
            seq += 1
            recs.append(self.log_rec(fr["id"], None, seq, "prefect.flow_runs.worker", 20, "Opening process...",
                                     start - _dt.timedelta(seconds=2)))
            seq += 1
            recs.append(self.log_rec(fr["id"], None, seq, "prefect.flow_runs.worker", 20,
                                     "Completed submission of flow run '%s'" % fr["id"],
                                     start - _dt.timedelta(seconds=1)))
            seq += 1
            recs.append(self.log_rec(fr["id"], None, seq, "prefect.flow_runs", 20,
                                     "Beginning flow run %r for flow %r" % (fr["name"], run.dag_id), start))
            seq += 1
            if run.get("flow_log"):
                for r in self.text_records(run.flow_log.splitlines(), fr["id"], None, start, seq,
                                           "prefect.flow_runs"):
                    recs.append(r)
                    seq += 1
        for tr in self.trs_of(fr):
            t = tr.p["ti"]
            for i, x in enumerate(t.tries):
                log = w.log_of(x)
                st = x.start_date or start or w.now
                if log is not None and log.generated:
                    head = self.text_records(log.head.splitlines(), fr["id"], tr["id"], st, seq)
                    recs.extend(head)
                    seq += len(head)
                    segs.append({"log": log, "fr": fr["id"], "tr": tr["id"], "seq": seq})
                    seq += log.count
                    tail = self.text_records(log.tail.splitlines(), fr["id"], tr["id"], st, seq)
                    recs.extend(tail)
                    seq += len(tail)
                elif log is not None:
                    more = self.text_records(log.lines(), fr["id"], tr["id"], st, seq)
                    recs.extend(more)
                    seq += len(more)
                exc, msg = tr.p["exc"][i]
                er = "%s(%r)" % exc if exc else "Exception('Task failed')"
                endt = x.end_date or st
                last = i == len(t.tries) - 1
                if not last:
                    recs.append(self.log_rec(fr["id"], tr["id"], seq, "prefect.task_runs", 20,
                                             "Task run failed with exception: %s - Retry %d/%d will start "
                                             "immediately" % (er, i + 1, t.max_tries), endt))
                    seq += 1
                elif tr["state_type"] == "FAILED":
                    if t.max_tries:
                        recs.append(self.log_rec(fr["id"], tr["id"], seq, "prefect.task_runs", 40,
                                                 "Task run failed with exception: %s - Retries are exhausted" % er,
                                                 endt))
                        seq += 1
                    recs.append(self.log_rec(fr["id"], tr["id"], seq, "prefect.task_runs", 40,
                                             "Finished in state Failed(%r)" % msg, endt))
                    seq += 1
                elif tr["state_type"] == "COMPLETED":
                    recs.append(self.log_rec(fr["id"], tr["id"], seq, "prefect.task_runs", 20,
                                             "Finished in state Completed()", endt))
                    seq += 1
            if tr["state_name"] == "NotReady":
                when = fl.parse_ts(tr["state"]["timestamp"])
                recs.append(self.log_rec(fr["id"], tr["id"], seq, "prefect.task_runs", 40,
                                         "Finished in state NotReady(%s, type=PENDING)" % json.dumps(
                                             tr["state"]["message"]), when))
                seq += 1
        st = fr["state"]
        if end is not None:
            if st["type"] == "CRASHED":
                m = re.search(r"status code (-?\d+)", st["message"] or "")
                code = int(m.group(1)) if m else 1
                why = {137: "Process was killed, likely due to an out-of-memory (OOM) condition.",
                       -9: "Process exited due to a SIGKILL signal. Typically caused by the operating system "
                           "terminating the process for exceeding memory limits, or by manual cancellation.",
                       143: "Process was terminated due to a SIGTERM signal.",
                       1: "Process exited with a general error."}.get(code, "Process exited with an error.")
                recs.append(self.log_rec(fr["id"], None, seq, "prefect.flow_runs.runner", 40,
                                         "Process for flow run %r exited with status code: %d; %s" % (
                                             fr["name"], code, why), end - _dt.timedelta(seconds=1)))
                seq += 1
                recs.append(self.log_rec(fr["id"], None, seq, "prefect.flow_runs.worker", 20,
                                         "Reported flow run '%s' as crashed: %s" % (fr["id"], st["message"]), end))
                seq += 1
            else:
                shown = "%s()" % st["name"] if not st["message"] or st["type"] == "COMPLETED" else \
                    "%s(%r)" % (st["name"], st["message"])
                recs.append(self.log_rec(fr["id"], None, seq, "prefect.flow_runs", 20,
                                         "Finished in state %s" % shown, end))
                seq += 1
        recs.sort(key=lambda r: (r.p["t"], r.p["seq"]))
        self.log_cache[fr["id"]] = (recs, segs)
        return recs, segs

    # ------------------------------------------------------------------ errors & auth

    def fault_response(self, status, fault):
        hdrs = []
        if fault.get("retry_after") is not None:
            hdrs.append(("Retry-After", str(fault["retry_after"])))
        if status in (502, 504):
            return fl.Response(status, fl.gateway_html(status), "text/html", hdrs)
        if status == 429:
            return json_resp(429, {"detail": "Rate limit exceeded. Please retry after the period given in the "
                                             "Retry-After header."}, headers=hdrs)
        if status == 503:
            return json_resp(503, {"exception_message": "Service Unavailable"}, headers=hdrs)
        return json_resp(500, {"exception_message": "Internal Server Error"}, headers=hdrs)

    def handle_exception(self, req, exc):
        return json_resp(500, {"exception_message": "Internal Server Error"})

    def not_found(self, req):
        return json_resp(404, {"detail": "Not Found"})

    def method_not_allowed(self, req, allowed):
        return json_resp(405, {"detail": "Method Not Allowed"}, headers=[("Allow", ", ".join(sorted(set(allowed))))])

    def authenticate(self, req):
        a = self.args
        hdr = req.header("Authorization") or ""
        if self.mode == "cloud":
            if a.api_key:
                if not (hdr.startswith("Bearer ") and hmac.compare_digest(hdr[7:].strip(), a.api_key)):
                    return json_resp(401, {"detail": "Invalid authentication credentials"})
            if req.method in ("POST", "PUT", "PATCH") and not req.has_content_length:
                return json_resp(411, {"detail": "Length Required"})
            if len(req.body) > 5 * 1024 * 1024:
                return json_resp(413, {"detail": "Request body too large"})
        elif a.auth_string:
            if req.path not in (self.base + "/health", self.base + "/ready"):
                ok = False
                if hdr.startswith("Basic "):
                    try:
                        ok = hmac.compare_digest(base64.b64decode(hdr[6:]).decode(), a.auth_string)
                    except Exception:
                        ok = False
                if not ok:
                    return json_resp(401, {"exception_message": "Unauthorized"})
        v = req.header("X-PREFECT-API-VERSION")
        if v is not None:
            if not re.match(r"^\d+\.\d+\.\d+$", v):
                return json_resp(400, {"detail": "Invalid X-PREFECT-API-VERSION header format.Expected header in "
                                                 "format 'x.y.z' but received %s" % v})
            if tuple(int(x) for x in v.split(".")) < (0, 8, 0):
                return json_resp(400, {"detail": "The request specified API version %s but this server requires "
                                                 "version 0.8.0 or higher." % v})
        return None

    def invalid(self, req, details, body=None):
        """422 as Prefect's validation_exception_handler writes it (NOTES §8)."""
        return HttpError(json_resp(422, {"exception_message": "Invalid request received.",
                                         "exception_detail": details, "request_body": body}))

    # ------------------------------------------------------------------ body parsing

    def body(self, req):
        if not req.body:
            return {}
        try:
            b = req.json()
        except ValueError as e:
            raise self.invalid(req, [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error",
                                      "input": {}, "ctx": {"error": str(e).split(":")[0]}}],
                               req.body.decode("utf-8", "replace"))
        if b is None:
            return {}
        if not isinstance(b, dict):
            raise self.invalid(req, [{"type": "model_attributes_type", "loc": ["body"],
                                      "msg": "Input should be a valid dictionary or object to extract fields from",
                                      "input": b}], b)
        return b

    def check_filter(self, model, value, loc, errors):
        if value is None:
            return
        if not isinstance(value, dict):
            errors.append({"type": "model_attributes_type", "loc": loc,
                           "msg": "Input should be a valid dictionary or object to extract fields from",
                           "input": value})
            return
        keys = FILTER_MODELS[model]
        for k, v in value.items():
            if k not in keys:
                errors.append({"type": "extra_forbidden", "loc": loc + [k], "msg": "Extra inputs are not permitted",
                               "input": v})
                continue
            sub = keys[k]
            if sub:
                self.check_filter(sub, v, loc + [k], errors)
                continue
            if v is None:
                continue
            if k == "operator":
                if v not in ("and_", "or_"):
                    errors.append({"type": "enum", "loc": loc + [k], "msg": "Input should be 'and_' or 'or_'",
                                   "input": v, "ctx": {"expected": "'and_' or 'or_'"}})
            elif k in ("before_", "after_"):
                try:
                    fl.parse_query_ts(v)
                except ValueError:
                    errors.append({"type": "datetime_from_date_parsing", "loc": loc + [k],
                                   "msg": "Input should be a valid datetime or date, invalid character in year",
                                   "input": v, "ctx": {"error": "invalid character in year"}})
            elif k in ("is_null_", "eq_", "exists_"):
                if not isinstance(v, bool):
                    errors.append({"type": "bool_type", "loc": loc + [k], "msg": "Input should be a valid boolean",
                                   "input": v})
            elif k in ("ge_", "le_"):
                if not isinstance(v, int) or isinstance(v, bool):
                    errors.append({"type": "int_type", "loc": loc + [k], "msg": "Input should be a valid integer",
                                   "input": v})
            elif k in ("like_", "query"):
                if not isinstance(v, str):
                    errors.append({"type": "string_type", "loc": loc + [k], "msg": "Input should be a valid string",
                                   "input": v})
            else:
                if not isinstance(v, list):
                    errors.append({"type": "list_type", "loc": loc + [k], "msg": "Input should be a valid list",
                                   "input": v})
                elif model.endswith("StateType"):
                    for i, x in enumerate(v):
                        if x not in STATE_TYPES:
                            errors.append({"type": "enum", "loc": loc + [k, i],
                                           "msg": "Input should be " + ", ".join("'%s'" % s for s in STATE_TYPES[:-1])
                                           + " or 'CANCELLING'", "input": x,
                                           "ctx": {"expected": ", ".join("'%s'" % s for s in STATE_TYPES[:-1]) +
                                                   " or 'CANCELLING'"}})

    def parse_listing(self, req, kind, filters, paged=True):
        """Validate a /filter body; returns (body, limit, offset, sort)."""
        b = self.body(req)
        errors = []
        for key, model in filters.items():
            self.check_filter(model, b.get(key), ["body", key], errors)
        sort = None
        if kind in SORTS:
            sort = b.get("sort", SORT_DEFAULT[kind])
            if sort is None:
                sort = SORT_DEFAULT[kind]
            if sort not in SORTS[kind]:
                exp = ", ".join("'%s'" % s for s in SORTS[kind][:-1]) + " or '%s'" % SORTS[kind][-1]
                errors.append({"type": "enum", "loc": ["body", "sort"], "msg": "Input should be " + exp,
                               "input": sort, "ctx": {"expected": exp}})
        limit, offset = b.get("limit"), b.get("offset", 0)
        if paged:
            for name, v in (("limit", limit), ("offset", offset)):
                if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                    errors.append({"type": "int_type", "loc": ["body", name], "msg": "Input should be a valid integer",
                                   "input": v})
            if not errors and offset is not None and offset < 0:
                errors.append({"type": "greater_than_equal", "loc": ["body", "offset"],
                               "msg": "Input should be greater than or equal to 0", "input": offset, "ctx": {"ge": 0}})
        if errors:
            raise self.invalid(req, errors, b)
        if paged:
            if limit is None:
                limit = self.limit
            if limit < 0:
                raise HttpError(json_resp(422, {"detail": "Invalid limit: must be greater than or equal to 0."}))
            if limit > self.limit:
                raise HttpError(json_resp(422, {"detail": "Invalid limit: must be less than or equal to %d." %
                                                          self.limit}))
        return b, limit, offset or 0, sort

    # ------------------------------------------------------------------ filter evaluation

    def leaf(self, op, arg, value):
        if op in ("any_", "id_", "type_", "not_any_"):
            want = _wanted(arg)
            if isinstance(value, list):
                hit = any(_norm(v) in want for v in value)
            else:
                hit = _norm(value) in want
            return hit if op != "not_any_" else not hit
        if op == "all_":
            return all(a in (value or []) for a in arg)
        if op == "like_":
            return arg.lower() in (value or "").lower()
        if op == "startswith_":
            return any((value or "").startswith(a) for a in arg)
        if op == "is_null_":
            return (value is None or value == []) == arg
        if op == "before_":
            return value is not None and fl.parse_ts(value) <= fl.parse_ts(arg)
        if op == "after_":
            return value is not None and fl.parse_ts(value) >= fl.parse_ts(arg)
        if op == "eq_":
            return value == arg
        if op == "ge_":
            return value is not None and value >= arg
        if op == "le_":
            return value is not None and value <= arg
        if op == "exists_":
            return bool(value) == arg
        if op == "query":
            low = (value or "").lower()
            for term in arg.split():
                if term.startswith("-"):
                    if term[1:].lower() in low:
                        return False
                elif term.lower() not in low:
                    return False
            return True
        return True

    def match(self, model, flt, obj, getters, path=""):
        """Evaluate a filter model against an object; getters maps dotted
        paths (e.g. 'state.type') to functions of obj."""
        if not flt:
            flt = {}
        flt = dict(LEAF_DEFAULTS.get(model, {}), **{k: v for k, v in flt.items()})
        results = []
        for k, v in flt.items():
            if k == "operator" or v is None:
                continue
            sub = FILTER_MODELS[model].get(k)
            if sub:
                results.append(self.match(sub, v, obj, getters, path + k + "."))
            else:
                get = getters.get(path.rstrip("."))
                if get is None:
                    continue
                results.append(self.leaf(k, v, get(obj)))
        if not results:
            return True
        return any(results) if flt.get("operator") == "or_" else all(results)

    FR_GET = {
        "id": lambda f: f["id"], "name": lambda f: f["name"], "tags": lambda f: f["tags"],
        "deployment_id": lambda f: f["deployment_id"], "work_queue_name": lambda f: f["work_queue_name"],
        "state.type": lambda f: f["state_type"], "state.name": lambda f: f["state_name"],
        "flow_version": lambda f: f["flow_version"], "start_time": lambda f: f["start_time"],
        "end_time": lambda f: f["end_time"], "expected_start_time": lambda f: f["expected_start_time"],
        "next_scheduled_start_time": lambda f: f["next_scheduled_start_time"],
        "parent_flow_run_id": lambda f: None, "parent_task_run_id": lambda f: f["parent_task_run_id"],
        "idempotency_key": lambda f: f["idempotency_key"], "created_by": lambda f: None,
    }
    TR_GET = {
        "id": lambda t: t["id"], "name": lambda t: t["name"], "tags": lambda t: t["tags"],
        "state.type": lambda t: t["state_type"], "state.name": lambda t: t["state_name"],
        "start_time": lambda t: t["start_time"], "end_time": lambda t: t["end_time"],
        "expected_start_time": lambda t: t["expected_start_time"], "subflow_runs": lambda t: False,
        "flow_run_id": lambda t: t["flow_run_id"],
    }
    FLOW_GET = {"id": lambda f: f["id"], "name": lambda f: f["name"], "tags": lambda f: f["tags"],
                "deployment": lambda f: None if not f.get("_has_dep", True) else f["id"]}
    DEP_GET = {"id": lambda d: d["id"], "name": lambda d: d["name"], "paused": lambda d: d["paused"],
               "tags": lambda d: d["tags"], "work_queue_name": lambda d: d["work_queue_name"],
               "concurrency_limit": lambda d: d["concurrency_limit"],
               "flow_or_deployment_name": lambda d: d["name"] + " " + d.p["flow"]["name"]}
    POOL_GET = {"id": lambda p: p["id"], "name": lambda p: p["name"], "type": lambda p: p["type"]}
    QUEUE_GET = {"id": lambda q: q["id"], "name": lambda q: q["name"]}
    WORKER_GET = {"status": lambda w: w["status"], "last_heartbeat_time": lambda w: w["last_heartbeat_time"]}

    def fr_matches(self, fr, b):
        if not self.match("FlowRunFilter", b.get("flow_runs"), fr, self.FR_GET):
            return False
        if b.get("flows") and not self.match("FlowFilter", b["flows"], fr.p["flow"], self.FLOW_GET):
            return False
        if b.get("deployments") and not self.match("DeploymentFilter", b["deployments"], fr.p["dep"], self.DEP_GET):
            return False
        if b.get("work_pools") and not self.match("WorkPoolFilter", b["work_pools"], fr.p["pool"], self.POOL_GET):
            return False
        if b.get("work_pool_queues"):
            q = {"id": fr["work_queue_id"], "name": fr["work_queue_name"]}
            if not self.match("WorkQueueFilter", b["work_pool_queues"], q, self.QUEUE_GET):
                return False
        if b.get("task_runs"):
            if not any(self.match("TaskRunFilter", b["task_runs"], tr, self.TR_GET) for tr in self.trs_of(fr)):
                return False
        return True

    def tr_matches(self, tr, b):
        fr = tr.p["fr"]
        if not self.match("TaskRunFilter", b.get("task_runs"), tr, self.TR_GET):
            return False
        if b.get("flow_runs") and not self.match("FlowRunFilter", b["flow_runs"], fr, self.FR_GET):
            return False
        if b.get("flows") and not self.match("FlowFilter", b["flows"], fr.p["flow"], self.FLOW_GET):
            return False
        if b.get("deployments") and not self.match("DeploymentFilter", b["deployments"], fr.p["dep"], self.DEP_GET):
            return False
        return True

    @staticmethod
    def sort_runs(items, sort):
        def t(v):
            return _parse_ts_cached(v) if v else None

        if sort == "ID_DESC":
            return sorted(items, key=lambda x: x["id"], reverse=True)
        if sort in ("NAME_ASC", "NAME_DESC"):
            return sorted(items, key=lambda x: x["name"], reverse=sort.endswith("DESC"))
        name = sort.rsplit("_", 1)[0]
        parse = {"START_TIME": lambda x: t(x.get("start_time")) or t(x.get("expected_start_time")),
                 "EXPECTED_START_TIME": lambda x: t(x.get("expected_start_time")),
                 "NEXT_SCHEDULED_START_TIME": lambda x: t(x.get("next_scheduled_start_time")),
                 "END_TIME": lambda x: t(x.get("end_time"))}[name]

        def col(x):  # parsed once per object and column
            got = x.p.get(("sort", name))
            if got is None:
                got = x.p[("sort", name)] = (parse(x),)
            return got[0]

        desc = sort.endswith("DESC")
        present = sorted([x for x in items if col(x) is not None], key=lambda x: (col(x), x["id"]), reverse=desc)
        missing = sorted([x for x in items if col(x) is None], key=lambda x: x["id"], reverse=desc)
        return present + missing

    # ------------------------------------------------------------------ routes

    def _routes(self):
        R = self.router.add
        b = self.base
        R("GET", b + "/health", lambda req: json_resp(200, True))
        R("GET", b + "/ready", lambda req: json_resp(200, {"message": "OK"}))
        R("GET", b + "/version", lambda req: json_resp(200, API_VERSION))
        R("GET", b + "/admin/version", lambda req: json_resp(200, self.world.version_prefect))
        R("POST", b + "/flows/filter", self.post_flows_filter)
        R("GET", b + "/flows/name/{name}", self.get_flow_by_name)
        R("GET", b + "/flows/{id}", self.get_flow)
        R("POST", b + "/deployments/filter", self.post_deployments_filter)
        R("GET", b + "/deployments/name/{flow_name}/{deployment_name}", self.get_deployment_by_name)
        R("GET", b + "/deployments/{id}", self.get_deployment)
        R("POST", b + "/flow_runs/filter", self.post_flow_runs_filter)
        R("POST", b + "/flow_runs/count", self.post_flow_runs_count)
        R("GET", b + "/flow_runs/{id}", self.get_flow_run)
        R("POST", b + "/task_runs/filter", self.post_task_runs_filter)
        R("POST", b + "/task_runs/count", self.post_task_runs_count)
        R("GET", b + "/task_runs/{id}", self.get_task_run)
        R("GET", b + "/flow_run_states/", self.get_flow_run_states)
        R("GET", b + "/flow_run_states", self.redirect_slash, spec=False)
        R("GET", b + "/flow_run_states/{id}", self.get_state_by_id("flow_run", "Flow run state not found"))
        R("GET", b + "/task_run_states/", self.get_task_run_states)
        R("GET", b + "/task_run_states", self.redirect_slash, spec=False)
        R("GET", b + "/task_run_states/{id}", self.get_state_by_id("task_run", "Task run state not found"))
        R("POST", b + "/logs/filter", self.post_logs_filter)
        R("POST", b + "/work_pools/filter", self.post_work_pools_filter)
        R("GET", b + "/work_pools/{name}", self.get_work_pool)
        R("POST", b + "/work_pools/{work_pool_name}/workers/filter", self.post_workers_filter)

    def redirect_slash(self, req):
        q = req.target[len(req.raw_path):]
        return fl.Response(307, b"", "text/plain", [("Location", req.raw_path + "/" + q)])

    def uuid_param(self, req, name, where="path"):
        v = req.params.get(name) if where == "path" else req.q(name)
        if v is None:
            raise self.invalid(req, [{"type": "missing", "loc": [where, name], "msg": "Field required",
                                      "input": None}], None)
        if not _is_uuid(v):
            raise self.invalid(req, [{"type": "uuid_parsing", "loc": [where, name],
                                      "msg": "Input should be a valid UUID, invalid character: expected an optional "
                                             "prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `%s` at 1" %
                                             (v[:1] or "?"), "input": v,
                                      "ctx": {"error": "invalid character: expected an optional prefix of "
                                                       "`urn:uuid:` followed by [0-9a-fA-F-], found `%s` at 1" %
                                                       (v[:1] or "?")}}], None)
        return v.lower()

    def page_of(self, items, limit, offset):
        return json_resp(200, [dict(x) for x in items[offset:offset + limit]])

    # ---- flows & deployments

    def post_flows_filter(self, req):
        b, limit, offset, sort = self.parse_listing(req, "flows", {
            "flows": "FlowFilter", "flow_runs": "FlowRunFilter", "task_runs": "TaskRunFilter",
            "deployments": "DeploymentFilter", "work_pools": "WorkPoolFilter"})
        out = []
        for f in self.flows:
            if not self.match("FlowFilter", b.get("flows"), f, self.FLOW_GET):
                continue
            dep = self.dep_by_dag.get(f["name"])
            if b.get("deployments") and not (dep and self.match("DeploymentFilter", b["deployments"], dep,
                                                                 self.DEP_GET)):
                continue
            if b.get("work_pools") and not (dep and self.match("WorkPoolFilter", b["work_pools"], dep.p["pool"],
                                                                self.POOL_GET)):
                continue
            if b.get("flow_runs") or b.get("task_runs"):
                sub = {"flow_runs": b.get("flow_runs"), "task_runs": b.get("task_runs")}
                if not any(self.fr_matches(fr, sub) for fr in self.fr_by_flow.get(f["id"], [])):
                    continue
            out.append(f)
        out = self.sort_named(out, sort)
        return self.page_of(out, limit, offset)

    @staticmethod
    def sort_named(items, sort):
        if sort in ("NAME_ASC", "NAME_DESC"):
            return sorted(items, key=lambda x: x["name"], reverse=sort == "NAME_DESC")
        key = "created" if sort == "CREATED_DESC" else "updated"
        return sorted(items, key=lambda x: (x[key] or "", x["id"]), reverse=True)

    def get_flow_by_name(self, req):
        f = self.flow_by_name.get(req.params["name"])
        if f is None:
            return json_resp(404, {"detail": "Flow not found"})
        return json_resp(200, dict(f))

    def get_flow(self, req):
        fid = self.uuid_param(req, "id")
        for f in self.flows:
            if f["id"] == fid:
                return json_resp(200, dict(f))
        return json_resp(404, {"detail": "Flow not found"})

    def post_deployments_filter(self, req):
        b, limit, offset, sort = self.parse_listing(req, "deployments", {
            "flows": "FlowFilter", "flow_runs": "FlowRunFilter", "task_runs": "TaskRunFilter",
            "deployments": "DeploymentFilter", "work_pools": "WorkPoolFilter", "work_pool_queues": "WorkQueueFilter"})
        out = []
        for d in self.deployments:
            if not self.match("DeploymentFilter", b.get("deployments"), d, self.DEP_GET):
                continue
            if b.get("flows") and not self.match("FlowFilter", b["flows"], d.p["flow"], self.FLOW_GET):
                continue
            if b.get("work_pools") and not self.match("WorkPoolFilter", b["work_pools"], d.p["pool"], self.POOL_GET):
                continue
            if b.get("work_pool_queues"):
                q = {"id": d["work_queue_id"], "name": d["work_queue_name"]}
                if not self.match("WorkQueueFilter", b["work_pool_queues"], q, self.QUEUE_GET):
                    continue
            if b.get("flow_runs") or b.get("task_runs"):
                sub = {"flow_runs": b.get("flow_runs"), "task_runs": b.get("task_runs")}
                if not any(self.fr_matches(fr, sub) for fr in self.fr_by_dep.get(d["id"], [])):
                    continue
            out.append(d)
        return self.page_of(self.sort_named(out, sort), limit, offset)

    def get_deployment(self, req):
        did = self.uuid_param(req, "id")
        for d in self.deployments:
            if d["id"] == did:
                return json_resp(200, dict(d))
        return json_resp(404, {"detail": "Deployment not found"})

    def get_deployment_by_name(self, req):
        for d in self.deployments:
            if d.p["flow"]["name"] == req.params["flow_name"] and d["name"] == req.params["deployment_name"]:
                return json_resp(200, dict(d))
        return json_resp(404, {"detail": "Deployment not found"})

    # ---- flow runs

    FR_FILTERS = {"flows": "FlowFilter", "flow_runs": "FlowRunFilter", "task_runs": "TaskRunFilter",
                  "deployments": "DeploymentFilter", "work_pools": "WorkPoolFilter",
                  "work_pool_queues": "WorkQueueFilter"}

    @staticmethod
    def ids_of(b, model, key="id"):
        """The any_ list of b[model][key] when the filter is and_ (it then
        bounds the answer), else None."""
        f = b.get(model) or {}
        if f.get("operator") == "or_":
            return None
        ids = (f.get(key) or {}).get("any_")
        return None if ids is None else {_norm(x) for x in ids if isinstance(x, str)}

    @staticmethod
    def without(b, model, key):
        """b less b[model][key] (what an index answered already)."""
        rest = dict(b)
        rest[model] = {k: v for k, v in (b.get(model) or {}).items() if k != key}
        return rest

    def fr_candidates(self, b):
        """(flow runs the filter can match, the filter left to test on them):
        from the indexes when it names flows, deployments or flow runs by id."""
        best = None
        for model, index in (("flows", self.fr_by_flow), ("deployments", self.fr_by_dep),
                             ("flow_runs", {})):
            ids = self.ids_of(b, model)
            if ids is None:
                continue
            if model == "flow_runs":
                got = [self.fr_by_id[i] for i in sorted(ids) if i in self.fr_by_id]
            else:
                got = [fr for i in sorted(ids) for fr in index.get(i, [])]
            if best is None or len(got) < len(best[0]):
                best = (got, self.without(b, model, "id"))
        return best if best else (self.flow_runs, b)

    def tr_candidates(self, b):
        """(task runs the filter can match, the filter left to test): those of
        the flow runs it names (task_runs.flow_run_id), else of the flow runs
        the other filters allow."""
        frs = self.ids_of(b, "task_runs", "flow_run_id")
        if frs is not None:
            return ([tr for i in sorted(frs) if i in self.fr_by_id for tr in self.trs_of(self.fr_by_id[i])],
                    self.without(b, "task_runs", "flow_run_id"))
        if any(self.ids_of(b, k) is not None for k in ("flows", "deployments", "flow_runs")):
            return [tr for fr in self.fr_candidates(b)[0] for tr in self.trs_of(fr)], b
        return self.all_task_runs(), b

    def matching(self, kind, b, sort):
        """The objects a /filter body matches, sorted; the last listings are
        kept (the world does not change), so each page of one is a slice."""
        key = (kind, json.dumps({k: v for k, v in b.items() if k not in ("limit", "offset")}, sort_keys=True,
                                default=str), sort)
        with self.tr_lock:
            got = self.listings.get(key)
            if got is not None:
                self.listings.move_to_end(key)
                return got
        if kind == "flow_runs":
            cands, rest = self.fr_candidates(b)
            got = [fr for fr in cands if self.fr_matches(fr, rest)]
        else:
            cands, rest = self.tr_candidates(b)
            got = [tr for tr in cands if self.tr_matches(tr, rest)]
        if sort:
            got = self.sort_runs(got, sort)
        with self.tr_lock:
            self.listings[key] = got
            while len(self.listings) > self.LISTINGS_KEPT:
                self.listings.popitem(last=False)
        return got

    def post_flow_runs_filter(self, req):
        b, limit, offset, sort = self.parse_listing(req, "flow_runs", self.FR_FILTERS)
        return self.page_of(self.matching("flow_runs", b, sort), limit, offset)

    def post_flow_runs_count(self, req):
        b, _, _, _ = self.parse_listing(req, "count", self.FR_FILTERS, paged=False)
        return json_resp(200, len(self.matching("flow_runs", b, None)))

    def get_flow_run(self, req):
        fr = self.fr_by_id.get(self.uuid_param(req, "id"))
        if fr is None:
            return json_resp(404, {"detail": "Flow run not found"})
        return json_resp(200, dict(fr))

    # ---- task runs

    TR_FILTERS = {"flows": "FlowFilter", "flow_runs": "FlowRunFilter", "task_runs": "TaskRunFilter",
                  "deployments": "DeploymentFilter"}

    def post_task_runs_filter(self, req):
        b, limit, offset, sort = self.parse_listing(req, "task_runs", self.TR_FILTERS)
        return self.page_of(self.matching("task_runs", b, sort), limit, offset)

    def post_task_runs_count(self, req):
        b, _, _, _ = self.parse_listing(req, "count", self.TR_FILTERS, paged=False)
        return json_resp(200, len(self.matching("task_runs", b, None)))

    def get_task_run(self, req):
        tr = self.task_run(self.uuid_param(req, "id"))
        if tr is None:
            return json_resp(404, {"detail": "Task run not found"})
        return json_resp(200, dict(tr))

    # ---- states

    def get_flow_run_states(self, req):
        fid = self.uuid_param(req, "flow_run_id", "query")
        fr = self.fr_by_id.get(fid)
        return json_resp(200, self.states_of(fr) if fr else [])

    def get_task_run_states(self, req):
        tid = self.uuid_param(req, "task_run_id", "query")
        tr = self.task_run(tid)
        return json_resp(200, tr.p["states"] if tr else [])

    def get_state_by_id(self, kind, missing):
        def fn(req):
            sid = self.uuid_param(req, "id")
            # states are made with their runs, on demand: look through them (rare)
            runs = self.all_task_runs() if kind == "task_run" else self.flow_runs
            sts = (x for r in runs for x in (r.p["states"] if kind == "task_run" else self.states_of(r)))
            st = next((x for x in sts if x["id"] == sid), None)
            if st is None:
                return json_resp(404, {"detail": missing})
            return json_resp(200, st)
        return fn

    # ---- logs

    def post_logs_filter(self, req):
        b, limit, offset, sort = self.parse_listing(req, "logs", {"logs": "LogFilter"})
        lf = b.get("logs") or {}
        frs = self.flow_runs
        want_fr = (lf.get("flow_run_id") or {}).get("any_")
        want_tr = (lf.get("task_run_id") or {}).get("any_")
        if want_fr is not None:
            frs = [self.fr_by_id[x.lower()] for x in want_fr if _is_uuid(x) and x.lower() in self.fr_by_id]
        elif want_tr is not None:
            ids = {self.task_run(x.lower()).p["fr"]["id"] for x in want_tr if _is_uuid(x) and self.task_run(x.lower())}
            frs = [fr for fr in self.flow_runs if fr["id"] in ids]
        getters = {"level": lambda r: r["level"], "timestamp": lambda r: r["timestamp"],
                   "flow_run_id": lambda r: r["flow_run_id"], "task_run_id": lambda r: r["task_run_id"],
                   "text": lambda r: r["message"]}
        atoms = []  # (sort key, kind, payload)
        for fr in frs:
            recs, segs = self.flow_logs(fr)
            kept = [r for r in recs if self.match("LogFilter", lf, r, getters)]
            for r in kept:
                atoms.append(((r.p["t"], 1, r.p["seq"]), "rec", r))
            for seg in segs:
                probe = {"level": 20, "timestamp": None, "flow_run_id": seg["fr"], "task_run_id": seg["tr"],
                         "message": ""}
                nots = dict(lf)
                nots.pop("timestamp", None)
                nots.pop("text", None)
                if not self.match("LogFilter", nots, probe, getters):
                    continue
                log = seg["log"]
                lo, hi = 0, log.count
                tsf = (lf.get("timestamp") or {})
                if tsf.get("after_"):
                    a = fl.parse_ts(tsf["after_"])
                    lo = max(lo, _bisect_ts(log, a, left=True))
                if tsf.get("before_"):
                    bb = fl.parse_ts(tsf["before_"])
                    hi = min(hi, _bisect_ts(log, bb, left=False))
                text = (lf.get("text") or {}).get("query")
                if text and not all(self.leaf("query", text, log.noise_message(i)) for i in (lo,)):
                    # noise lines share one shape; test the first and take all or none
                    continue
                if lo >= hi:
                    continue
                cuts = sorted({min(hi, max(lo, _bisect_ts(log, r.p["t"], left=False))) for r in kept} | {lo, hi})
                for a, z in zip(cuts, cuts[1:]):
                    if a < z:
                        atoms.append(((log.noise_ts(a), 0, seg["seq"] + a), "gen", (seg, a, z)))
        atoms.sort(key=lambda x: x[0])
        desc = sort == "TIMESTAMP_DESC"
        if desc:
            atoms.reverse()
        out = []
        skip = offset
        for _, kind, payload in atoms:
            if len(out) >= limit:
                break
            if kind == "rec":
                if skip:
                    skip -= 1
                    continue
                out.append(dict(payload))
                continue
            seg, a, z = payload
            n = z - a
            if skip >= n:
                skip -= n
                continue
            idxs = range(z - 1, a - 1, -1) if desc else range(a, z)
            for i in list(idxs)[skip:skip + (limit - len(out))]:
                out.append(self.noise_record(seg, i))
            skip = 0
        return json_resp(200, out)

    def noise_record(self, seg, i):
        log = seg["log"]
        when = log.noise_ts(i)
        return {"id": det_uuid("log", seg["fr"], seg["tr"], seg["seq"] + i), "created": ts(when), "updated": ts(when),
                "name": "prefect.task_runs", "level": 20, "message": log.noise_message(i), "timestamp": ts(when),
                "flow_run_id": seg["fr"], "task_run_id": seg["tr"]}

    # ---- work pools

    def post_work_pools_filter(self, req):
        b, limit, offset, _ = self.parse_listing(req, "work_pools", {"work_pools": "WorkPoolFilter"})
        out = [p for p in self.pools if self.match("WorkPoolFilter", b.get("work_pools"), p, self.POOL_GET)]
        out.sort(key=lambda p: p["name"])
        return self.page_of(out, limit, offset)

    def get_work_pool(self, req):
        p = self.pool_by_name.get(req.params["name"])
        if p is None:
            return json_resp(404, {"detail": 'Work pool "%s" not found.' % req.params["name"]})
        return json_resp(200, dict(p))

    def post_workers_filter(self, req):
        name = req.params["work_pool_name"]
        b, limit, offset, _ = self.parse_listing(req, "workers", {"workers": "WorkerFilter"})
        if name not in self.pool_by_name:
            return json_resp(404, {"detail": 'Work pool "%s" not found.' % name})
        out = [x for x in self.workers[name] if self.match("WorkerFilter", b.get("workers"), x, self.WORKER_GET)]
        out.sort(key=lambda x: x["last_heartbeat_time"] or "", reverse=True)
        return self.page_of(out, limit, offset)


_WANTED = {}  # id(list) -> (list, its normalised set): one set per filter, not one per object tested


def _wanted(arg):
    got = _WANTED.get(id(arg))
    if got is None or got[0] is not arg:
        if len(_WANTED) > 256:
            _WANTED.clear()
        got = (arg, {_norm(a) for a in arg})
        _WANTED[id(arg)] = got
    return got[1]


@functools.lru_cache(maxsize=1 << 16)
def _parse_ts_cached(v):
    return fl.parse_ts(v)


def _norm(v):
    return v.lower() if _is_uuid(v) else v


def _is_uuid(v):
    return isinstance(v, str) and re.match(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                                           r"[0-9a-fA-F]{12}$", v) is not None


def _bisect_ts(log, when, left):
    """First noise index whose timestamp is >= when (left) or > when (right)."""
    lo, hi = 0, log.count
    while lo < hi:
        mid = (lo + hi) // 2
        t = log.noise_ts(mid)
        if t < when or (not left and t == when):
            lo = mid + 1
        else:
            hi = mid
    return lo


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", choices=["server", "cloud"], required=True)
    fl.add_common_args(p)
    p.add_argument("--api-key", help="cloud: require Authorization: Bearer KEY")
    p.add_argument("--auth-string", help="server: require Basic auth with USER:PASS")
    p.add_argument("--account-id", default=ACCOUNT)
    p.add_argument("--workspace-id", default=WORKSPACE)
    p.add_argument("--default-limit", type=int, default=DEFAULT_LIMIT,
                   help="the most one /filter page may ask for (the server's PREFECT_SERVER_API_DEFAULT_LIMIT)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    return fl.serve(PrefectApp(args))


if __name__ == "__main__":
    sys.exit(main())
