#!/usr/bin/env python3
"""Builds a git repository with dated commits from a JSON history.

    mkrepo.py HISTORY.json DEST            # DEST must not exist
    mkrepo.py --bulk N --start ISO DEST    # N filler commits an hour apart (benchmarks)

HISTORY.json is a list of commits, oldest first:
  [{"date": "2026-03-03T17:12:00+00:00", "author": "J. Doe <jdoe@example.com>",
    "message": "Bump ML deps",
    "files": {"requirements.txt": "pandas==2.0.0\\n", "old.txt": null}}]
A file value of null deletes it; "@path" copies the file at path, relative to
the history file.  Author and committer dates are both set to "date".
"""
import json
import os
import subprocess
import sys


def git(dest, *args, env=None, stdin=None):
    subprocess.run(["git", "-C", dest, *args], check=True, env=env, input=stdin,
                   stdout=subprocess.DEVNULL)


def init(dest):
    os.makedirs(dest)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.name", "dagdoc tests")
    git(dest, "config", "user.email", "tests@dagdoc.invalid")
    git(dest, "config", "commit.gpgsign", "false")


def commit_env(date, author):
    env = dict(os.environ)
    name, _, email = author.partition(" <")
    env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date,
               GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email.rstrip(">"),
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email.rstrip(">"))
    return env


def from_history(history_path, dest):
    base = os.path.dirname(os.path.abspath(history_path))
    with open(history_path) as f:
        history = json.load(f)
    init(dest)
    for c in history:
        for path, content in c.get("files", {}).items():
            full = os.path.join(dest, path)
            if content is None:
                git(dest, "rm", "-q", path)
                continue
            if content.startswith("@"):
                with open(os.path.join(base, content[1:])) as src:
                    content = src.read()
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as out:
                out.write(content)
            git(dest, "add", path)
        git(dest, "commit", "-q", "--allow-empty", "-m", c["message"],
            env=commit_env(c["date"], c.get("author", "Dev <dev@example.com>")))


def bulk(n, start, dest):
    """n commits an hour apart from start, via one fast-import stream."""
    from datetime import datetime
    t0 = int(datetime.fromisoformat(start).timestamp())
    init(dest)
    out = []
    for i in range(n):
        t = t0 + i * 3600
        body = f"line {i}\n"
        msg = f"change {i}\n"
        out.append(f"commit refs/heads/main\nmark :{i + 1}\n"
                   f"author Dev <dev@example.com> {t} +0000\n"
                   f"committer Dev <dev@example.com> {t} +0000\n"
                   f"data {len(msg)}\n{msg}")
        if i:
            out.append(f"from :{i}\n")
        path = f"src/mod{i % 200}.py" if i % 50 else "requirements.txt"
        if path == "requirements.txt":
            body = f"pandas==1.{i // 50}.0\nnumpy==1.{i % 7}.0\n"
        out.append(f"M 644 inline {path}\ndata {len(body)}\n{body}\n")
    git(dest, "fast-import", "--quiet", stdin="".join(out).encode())
    git(dest, "checkout", "-q", "main")


if __name__ == "__main__":
    if sys.argv[1] == "--bulk":
        bulk(int(sys.argv[2]), sys.argv[4], sys.argv[5])
    else:
        from_history(sys.argv[1], sys.argv[2])
