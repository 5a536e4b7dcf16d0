#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and plays a dialogue with it.

    pty_run.py [--expect REGEX | --send TEXT]... -- CMD ARGS...

Steps run in order: --expect waits (30 s at most) until what the command
printed since the last --expect matches REGEX; --send writes TEXT to the
terminal (Python escapes: '\\n' is Enter, '\\x04' is Ctrl-D).  Prints the whole
transcript, then exits with the command's status, or 124 when an --expect
times out or the command does not end 30 s after the last step (the
transcript says which)."""
import os
import pty
import re
import select
import sys
import time


def main(argv):
    if "--" not in argv:
        sys.exit(__doc__)
    cut = argv.index("--")
    steps, cmd = argv[:cut], argv[cut + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "dumb"
        os.environ["NO_COLOR"] = "1"
        os.execvp(cmd[0], cmd)
    transcript, seen = b"", 0

    def pump(deadline):
        nonlocal transcript
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
        if not r:
            return False
        try:
            data = os.read(fd, 65536)
        except OSError:
            return None
        if not data:
            return None
        transcript += data
        return True

    for i in range(0, len(steps), 2):
        kind, arg = steps[i], steps[i + 1]
        if kind == "--send":
            os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif kind == "--expect":
            deadline = time.time() + 30
            while not re.search(arg.encode(), transcript[seen:]):
                if time.time() > deadline or pump(deadline) is None:
                    sys.stdout.write(transcript.decode("utf-8", "replace"))
                    print(f"\n[pty_run: timed out waiting for /{arg}/]")
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    sys.exit(124)
            seen = re.search(arg.encode(), transcript[seen:]).end() + seen
        else:
            sys.exit(__doc__)
    deadline = time.time() + 30
    while time.time() < deadline and pump(deadline) is not None:
        pass
    done, status = os.waitpid(pid, os.WNOHANG)
    while not done and time.time() < deadline:   # the terminal closed just before the process ended
        time.sleep(0.05)
        done, status = os.waitpid(pid, os.WNOHANG)
    if not done:
        sys.stdout.write(transcript.decode("utf-8", "replace"))
        print("\n[pty_run: the command did not end]")
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        sys.exit(124)
    sys.stdout.write(transcript.decode("utf-8", "replace"))
    sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 125)


if __name__ == "__main__":
    main(sys.argv[1:])
