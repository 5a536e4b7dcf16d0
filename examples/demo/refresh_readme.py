#!/usr/bin/env python3
"""Regenerates the sample output in README.md from a freshly built demo.

    examples/demo/refresh_readme.py            # rebuilds build/demo, rewrites README.md

Every fenced block of README.md's "Commands" section whose first line is
"$ dagdoc ..." is run again in the demo's folder, with the demo's
config.yaml, and its output replaced; a block holding several "$" lines
gets each command's output in turn.  A command whose output the README does
not show (writing a file, posting) stays as it is when its block has no
output lines, and so does a block right after an HTML comment (an example
that is not the demo's).  The clone's folder is shown as "~/dagdoc" (a clone in the
home folder), not this machine's path.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEMO = os.path.join(ROOT, "build", "demo")
SHOWN = "~/dagdoc/build/demo"


def main():
    subprocess.run([sys.executable, os.path.join(HERE, "make_demo.py"), DEMO], check=True)
    logs = os.path.join(DEMO, "logs", "dag_id=train_churn")
    failing = sorted(r for r in os.listdir(logs)
                     if os.path.exists(os.path.join(logs, r, "task_id=features", "attempt=3.log")))
    first_failed_log = f"logs/dag_id=train_churn/{failing[0]}/task_id=features/attempt=3.log"
    env = dict(os.environ, NO_COLOR="1", COLUMNS="100", PATH=ROOT + os.pathsep + os.environ["PATH"])
    env.pop("DAGDOC_STORE", None)

    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    start = text.index("\n## Commands\n")
    end = text.index("\n## ", start + 1)
    out, pos = [], 0
    for m in re.finditer(r"^```\n(\$ dagdoc .*?)^```\n", text, re.M | re.S):
        if not start < m.start() < end or text[:m.start()].endswith("-->\n"):
            continue
        out.append(text[pos:m.start()])
        lines = m.group(1).splitlines()
        block, i = [], 0
        while i < len(lines):
            cmd = lines[i]
            j = i + 1
            while j < len(lines) and not lines[j].startswith("$ "):
                j += 1
            if j == i + 1 and "--config" not in cmd:      # shown without output: left as written
                block.append(cmd)
                i = j
                continue
            cmd = re.sub(r"logs/dag_id=train_churn/\S+?/task_id=features/attempt=3\.log", first_failed_log, cmd)
            res = subprocess.run(["bash", "-c", cmd[2:]], cwd=DEMO, env=env, capture_output=True, text=True)
            shown = (res.stdout + res.stderr).replace(DEMO, SHOWN).replace(ROOT, "~/dagdoc").rstrip("\n")
            block.append(cmd)
            if shown:
                block.append(shown)
            i = j
        out.append("```\n" + "\n".join(block) + "\n```\n")
        pos = m.end()
    out.append(text[pos:])
    with open(os.path.join(ROOT, "README.md"), "w") as f:
        f.write("".join(out))


if __name__ == "__main__":
    main()
