"""dagdoc's nightly report as a Prefect flow served on a schedule (Prefect 3).

    PREFECT_API_URL=... python prefect_dagdoc_report.py   # serves the flow, runs it daily at 06:30 UTC

dagdoc must be installed where this runs.  The webhook URL is read from a
Prefect Secret block (create it once:
`Secret(value="https://hooks.slack.com/services/...").save("dagdoc-webhook")`)
and handed to dagdoc in its environment, never its command line (dagdoc reads
it from the variable --post-env names and prints only the webhook's origin).

The flow is not retried: it fails when dagdoc exits 1 (a DAG is failing) or 2
(dagdoc could not do its job), so Prefect automations can alert on it, and a
retry would post the same summary again.  The HTML report is written either
way.
"""
import os
import subprocess

from prefect import flow, get_run_logger
from prefect.blocks.system import Secret

REPORT_DIR = "/shared/reports/dagdoc"


@flow(name="dagdoc-nightly-report", retries=0)
def dagdoc_nightly_report(since: str = "24h") -> None:
    log = get_run_logger()
    env = dict(os.environ, DAGDOC_WEBHOOK_URL=Secret.load("dagdoc-webhook").get())
    out = os.path.join(REPORT_DIR, "report.html")
    cmd = ["dagdoc", "report", "--config", "/etc/dagdoc/config.yaml", "--since", since,
           "--format", "html", "-o", out, "--post-env", "DAGDOC_WEBHOOK_URL", "--post-format", "blocks"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    for line in proc.stderr.splitlines():
        log.warning(line)          # dagdoc never prints the webhook URL or other secrets
    log.info("report written to %s (exit %d)", out, proc.returncode)
    if proc.returncode == 1:
        raise RuntimeError("dagdoc: at least one DAG is failing; see " + out)
    if proc.returncode != 0:
        raise RuntimeError("dagdoc report failed with exit %d" % proc.returncode)


if __name__ == "__main__":
    dagdoc_nightly_report.serve(name="nightly", cron="30 6 * * *")
