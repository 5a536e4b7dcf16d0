#!/usr/bin/env bash
# examples/nightly/ works as written: the Python examples parse, are not
# retried and pass the webhook by environment; the Airflow DAG uses Airflow
# 3's imports (Airflow 2's beside them) and Variables Airflow masks; the
# systemd unit passes `systemd-analyze verify` (when there is one) and has
# its user, state and cache directories; the cron file is valid for
# Debian's /etc/cron.d.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
N="$ROOT/examples/nightly"

check "python examples: parse; not retried; the webhook by environment, not argv" "$PY" - "$N" <<'PY'
import ast, os, sys
n = sys.argv[1]
for name in ("airflow_dagdoc_report.py", "prefect_dagdoc_report.py"):
    src = open(os.path.join(n, name)).read()
    tree = ast.parse(src, name)
    retries = [k.value for c in ast.walk(tree) if isinstance(c, ast.Call) for k in c.keywords if k.arg == "retries"]
    retries += [v for d in ast.walk(tree) if isinstance(d, ast.Dict)
                for k, v in zip(d.keys, d.values) if isinstance(k, ast.Constant) and k.value == "retries"]
    assert retries and all(isinstance(v, ast.Constant) and v.value == 0 for v in retries), (name, "retries")
    strings = [c.value for c in ast.walk(tree) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    assert any("--post-env" in s for s in strings), (name, "--post-env")
    assert not any("$DAGDOC_WEBHOOK_URL" in s or "--post " in s for s in strings), (name, "URL on the command line")
PY

check "airflow example: Airflow 3 imports, Airflow 2's beside them; Variables Airflow masks" "$PY" - "$N" <<'PY'
import ast, re, sys
src = open(sys.argv[1] + "/airflow_dagdoc_report.py").read()
tree = ast.parse(src)
imports = {(i.module, a.name) for i in ast.walk(tree) if isinstance(i, ast.ImportFrom) for a in i.names}
assert ("airflow.sdk", "DAG") in imports, imports
assert ("airflow.providers.standard.operators.bash", "BashOperator") in imports, imports
assert re.search(r"^# from airflow import DAG\b", src, re.M), "the Airflow 2 DAG import, commented"
assert re.search(r"^# from airflow\.operators\.bash import BashOperator\b", src, re.M), "Airflow 2's BashOperator"
# Airflow masks a Variable whose name holds one of these (DEFAULT_SENSITIVE_FIELDS, airflow's secrets masker)
sensitive = ("access_token", "api_key", "apikey", "authorization", "passphrase", "passwd", "password",
             "private_key", "secret", "token", "keyfile_dict", "service_account")
names = re.findall(r"var\.value\.(\w+)", src)
assert names, "the secrets come from Variables"
for v in names:
    assert any(s in v.lower() for s in sensitive), "Variable %s is not masked by Airflow" % v
PY

if command -v systemd-analyze >/dev/null; then
	mkdir -p "$TMP/units"
	sed "s|/usr/local/bin/dagdoc|$DAGDOC|" "$ROOT/examples/nightly/dagdoc-report.service" >"$TMP/units/dagdoc-report.service"
	cp "$ROOT/examples/nightly/dagdoc-report.timer" "$TMP/units/"
	run systemd-analyze verify --man=no "$TMP/units/dagdoc-report.service" "$TMP/units/dagdoc-report.timer"
	expect_rc "systemd-analyze verify: the service and the timer" 0
	expect_no "systemd-analyze verify: no warning" '.'
else
	echo "ok - systemd-analyze is not here: the structure is checked below"
fi
check "systemd unit: its user, state and cache directories; the webhook not in ExecStart" "$PY" - "$N" <<'PY'
import configparser, sys
n = sys.argv[1]
c = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
c.optionxform = str
c.read(n + "/dagdoc-report.service")
s = c["Service"]
assert s["User"] == "dagdoc" and s["StateDirectory"] == "dagdoc" and s["CacheDirectory"] == "dagdoc", dict(s)
env = dict(kv.split("=", 1) for kv in s["Environment"].split())
assert env["XDG_STATE_HOME"] == "%S" and env["XDG_CACHE_HOME"] == "%C", env
assert "--post-env DAGDOC_WEBHOOK_URL" in s["ExecStart"] and "$" not in s["ExecStart"], s["ExecStart"]
assert s["SuccessExitStatus"] == "1"
users = [l.split() for l in open(n + "/dagdoc.sysusers") if l.strip() and not l.startswith("#")]
assert users and users[0][:2] == ["u", "dagdoc"], users
PY

check "cron: a valid /etc/cron.d line for Debian's cron" "$PY" - "$N/crontab" <<'PY'
import re, shlex, subprocess, sys
text = open(sys.argv[1]).read()
assert text.endswith("\n"), "cron ignores a last line without a newline"
env, jobs = {}, []
for line in text.splitlines():
    if not line.strip() or line.lstrip().startswith("#"):
        continue
    m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", line)
    if m:
        env[m.group(1)] = m.group(2)
        continue
    jobs.append(line)
assert "CRON_TZ" not in env, "Debian's cron ignores CRON_TZ"
assert env.get("PATH", "").split(":")[:1] == ["/usr/local/bin"], env
assert len(jobs) == 1, jobs
f = jobs[0].split(None, 6)
assert len(f) == 7, f
ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
for v, (lo, hi) in zip(f[:5], ranges):
    assert v == "*" or (v.isdigit() and lo <= int(v) <= hi), (v, lo, hi)
user, cmd = f[5], f[6]
assert user == "dagdoc", "the user field of /etc/cron.d"
assert re.search(r"(?<!\\)%", cmd) is None, "an unescaped % ends a cron command"
assert "--post-env DAGDOC_WEBHOOK_URL" in cmd and "$DAGDOC_WEBHOOK_URL" not in cmd, cmd
sh = cmd.replace("\\%", "%")      # what cron hands to the shell
subprocess.run(["sh", "-n", "-c", sh], check=True)
PY
finish
