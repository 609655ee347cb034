#!/usr/bin/env python3
"""The interactive session of zexus-jit driven through a pseudo-terminal (docs/cli.md, "repl").

usage: repl_test.py ZEXUS_JIT [OPTIONS...]   (the options are given to `zexus-jit repl`)

Checks: the value of an expression statement is printed (nothing for null), a multi-line
action definition, state kept across lines, an error that does not end the session, Ctrl-C
cancelling the input and interrupting a running loop, the history file, Ctrl-D leaving with
status 0; and that plain `zexus-jit` on a terminal starts the same session.
"""
import os
import pty
import re
import select
import shutil
import signal
import sys
import tempfile
import time

TIMEOUT = 90.0          # generous: the test machines are shared and often loaded
failures = []


class Session:
    def __init__(self, argv, env):
        self.buf = b""
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(argv[0], argv, env)
        self.seen = 0          # what expect() has consumed

    def read_some(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return None        # the child is gone
        if not data:
            return None
        self.buf += data
        return True

    def expect(self, pattern, what):
        """Wait until pattern (a regex over the output after the last match) appears."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        end = time.time() + TIMEOUT
        while True:
            m = rx.search(self.buf, self.seen)
            if m:
                self.seen = m.end()
                return True
            left = end - time.time()
            if left <= 0 or self.read_some(min(left, 0.5)) is None and not rx.search(self.buf, self.seen):
                if left <= 0 or not self.alive():
                    failures.append("%s: did not see %r; output after the last match:\n%s"
                                    % (what, pattern, self.buf[self.seen:].decode(errors="replace")))
                    return False

    def alive(self):
        pid, _ = os.waitpid(self.pid, os.WNOHANG)
        if pid == self.pid:
            self.status = _
            return False
        return True

    def send(self, text):
        os.write(self.fd, text.encode() if isinstance(text, str) else text)

    def line(self, text):
        self.send(text + "\r")

    def wait(self, resend=None):
        """Wait for the session to end; resend (e.g. Ctrl-D) every 2 s while it has not: on a
        loaded machine a key typed while the terminal is still in cooked mode can be dropped
        when the line reader switches it back to raw mode."""
        end = time.time() + TIMEOUT
        last = time.time()
        while time.time() < end:
            self.read_some(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                return status
            if resend and time.time() - last > 2.0:
                last = time.time()
                try:
                    self.send(resend)
                except OSError:
                    pass
        failures.append("the session did not end; its last output:\n"
                        + self.buf[-400:].decode(errors="replace"))
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return None


def check(cond, what):
    if not cond:
        failures.append(what)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    opts = sys.argv[2:]
    tmp = tempfile.mkdtemp(prefix="zx-repl-")
    try:
        env = {k: v for k, v in os.environ.items() if k != "ZEXUS_HISTORY"}
        env["XDG_STATE_HOME"] = tmp
        env["TERM"] = "dumb"
        env["HOME"] = tmp
        env["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
        s = Session([binary, "repl"] + opts, env)
        P = r">>> "
        s.expect(P, "first prompt")
        s.line("let x = 40")
        s.expect(P, "prompt after let")
        s.line("x + 2")
        s.expect(r"\n42\r?\n", "value of x + 2")
        s.line("action f(a) {")
        s.expect(r"\.\.\. ", "continuation prompt")
        s.line("    return a * 2")
        s.expect(r"\.\.\. ", "second continuation prompt")
        s.line("}")
        s.expect(P, "prompt after the action")
        s.line("f(3)")
        s.expect(r"\n6\r?\n", "f(3) of an action defined over three lines")
        s.line('let m = {"k": [1, 2]}')
        s.expect(P, "prompt after a map")
        s.line('m["k"]')
        s.expect(r"\[1, 2\]\r?\n>>> ", "a list value")
        # nothing printed for null: between the line `z` (z is null) and the next prompt no
        # "null" (the line's own echo may come twice: keys that arrive before the line reader
        # makes the terminal raw are echoed by the terminal as well)
        s.line("let z = null")
        s.expect(r">>> ", "prompt after let z")
        start = s.seen
        s.line("z")
        s.expect(r">>> ", "prompt after z")
        check(b"null" not in s.buf[start:s.seen], "nothing printed for null: got %r" % s.buf[start:s.seen])
        s.line('"after null"')
        s.expect(r'\nafter null\r?\n', "the line after null")
        s.line("1 / 0")
        s.expect(r"<stdin>:1:3: runtime error: division by zero", "runtime error with its place")
        s.line("let y = (")
        s.expect(r"\.\.\. ", "continuation for an open parenthesis")
        s.line("1 +")
        s.line("2)")
        s.expect(P, "prompt after the parenthesis closed")
        s.line("y * x")
        s.expect(r"\n120\r?\n", "state kept after an error")
        s.line("let z = @")
        s.expect(r"<stdin>:1:9: error: ", "syntax error with its place")
        s.line("print(x, y)")
        s.expect(r"\n40 3\r?\n", "a line after a syntax error")
        # Ctrl-C cancels the input being typed, even a multi-line one
        s.line("action g(a) {")
        s.expect(r"\.\.\. ", "continuation before Ctrl-C")
        s.send("\x03")
        s.expect(P, "prompt after Ctrl-C")
        s.line("x")
        s.expect(r"\n40\r?\n", "the session after Ctrl-C at the prompt")
        # Ctrl-C interrupts a running input and the session goes on
        s.line("let n = 0")
        s.expect(P, "prompt after let n")
        s.line('print("looping"); while (true) { n = n + 1 }')
        s.expect(r"\nlooping\r?\n", "the loop started")
        time.sleep(0.2)
        s.send("\x03")
        s.expect(r"runtime error: interrupted", "Ctrl-C interrupting a loop")
        s.line('n > 0')
        s.expect(r"\ntrue\r?\n", "the session after an interrupted loop")
        s.expect(P, "prompt before Ctrl-D")
        time.sleep(0.3)      # a Ctrl-D that comes while the tty is still cooked can be lost
        s.send("\x04")                        # Ctrl-D on an empty line leaves
        status = s.wait(resend="\x04")
        check(status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
              "Ctrl-D: exit status %r, expected 0" % status)
        hist = os.path.join(tmp, "zexus-jit", "history")
        if not os.path.exists(hist):
            failures.append("no history file at " + hist)
        else:
            # libedit writes its history with vis(3) escapes: \040 is a space
            content = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)),
                             open(hist, errors="replace").read())
            check("let x = 40" in content and "print(x, y)" in content,
                  "history file lacks the lines typed:\n" + content)
            check(os.stat(hist).st_mode & 0o077 == 0, "history file is readable by others")
        # a second session sees the history: the up arrow brings back the last line
        s = Session([binary] + opts, env)     # no command, a terminal: the same session
        s.expect(P, "prompt of plain zexus-jit")
        s.line("let q = 7")
        s.expect(P, "prompt after let q")
        s.line("q = 8")
        s.expect(P, "prompt after q = 8")
        s.send("\x1b[A\x1b[A\r")              # up arrow twice: `let q = 7` again
        s.expect(r"\n>>> ", "prompt after history recall")   # not the redrawn line's
        s.line("q * 3")
        s.expect(r"\n21\r?\n", "q * 3 after the history recall")
        s.expect(P, "prompt before Ctrl-D")
        time.sleep(0.3)
        s.send("\x04")
        status = s.wait(resend="\x04")
        check(status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
              "Ctrl-D of plain zexus-jit: exit status %r" % status)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("repl: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
