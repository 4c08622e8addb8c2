#!/usr/bin/env python3
"""Runs the README's shell examples, in order, against a fresh server, and fails when a command
fails or prints something other than what the README shows.

    tests/readme_test.py --source-dir=. --build-dir=build [--readme=README.md] [--show]

CTest runs it (`ctest -R readme`). It works in a temporary directory that stands in for a
checkout: `build`, `deploy`, `clients`, `proto` and `tests` are links to the real ones, there is
no `var/` yet, HOME is empty, TZ is UTC and no MEDIATION_* variable is set, so the README is
followed as a new user would follow it.

What it runs: every fenced block whose language is `sh` or `console`, unless an HTML comment on
the line before it says otherwise:

    <!-- readme-test: skip <why> -->   not run (systemd, containers, this test's own command)
    <!-- readme-test: server -->       the block's last command starts the server in the
                                       foreground: the running server is stopped first (as
                                       Ctrl-C would), the commands before it are run, then it is
                                       started in the background and awaited
    <!-- readme-test: stop-server -->  the running server is stopped before the block is run

A `sh` block is run as one script (`set -e -o pipefail`): every command in it must succeed,
and nothing is compared. In a
`console` block a line starting with `$ ` is a command (continued over lines ending in `\\` and
through a here-document) and the lines after it, up to the next `$ `, are what it prints
(stdout and stderr as a terminal shows them); the command must succeed and its output match:

    - whole lines, ignoring trailing spaces; two or more spaces match any run of two or more
      (table columns widen with their contents);
    - `<a name>` matches any text (within a table cell) and remembers it under that name; once
      remembered, the name matches only that text again;
    - `<...>` matches any text (within a table cell) and remembers nothing;
    - a line holding only `...` matches any number of lines.

In every command, `<a name>` is replaced by the text remembered under it (a name nothing has
printed yet is an error in the README), and the addresses `127.0.0.1:50051` (gRPC) and
`127.0.0.1:8080` (HTTP) by this run's own. In a `server` block, `./deploy/run.sh` stands for the command that script ends with (the
build is this test's own); the test checks the script still ends that way.

Commands share one shell state: variables exported and the directory changed to carry over from
one command to the next, as in a terminal.
"""

import argparse
import ctypes
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

ADDRESS = "127.0.0.1:50051"
HTTP_ADDRESS = "127.0.0.1:8080"
RUN_SH_START = './build/services/mediation-server --db=var/mediation.db --web_root=build/web'
PLACEHOLDER = re.compile(r"<([A-Za-z][A-Za-z0-9 _'.-]*|\.\.\.)>")
ANONYMOUS = "..."
HEREDOC = re.compile(r"(?<!<)<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
DIRECTIVE = re.compile(r"^<!--\s*readme-test:\s*([a-z-]+)\s*(.*?)\s*-->\s*$")
COMMAND_TIMEOUT = 180
PR_SET_CHILD_SUBREAPER = 36
SERVER_START_TIMEOUT = 30


class ReadmeError(Exception):
    pass


class Block:
    def __init__(self, line, language, lines, directive, directive_arg):
        self.line = line  # 1-based line of the opening fence
        self.language = language
        self.lines = lines  # (line number, text)
        self.directive = directive
        self.directive_arg = directive_arg


class Command:
    def __init__(self, line, text, expected):
        self.line = line
        self.text = text
        self.expected = expected  # None: not compared (a `sh` block); else a list of lines


def parse_blocks(path):
    """The README's fenced blocks, each with the directive written just before it."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = []
    directive, directive_arg = None, ""
    i = 0
    while i < len(lines):
        text = lines[i]
        m = DIRECTIVE.match(text.strip())
        if m:
            directive, directive_arg = m.group(1), m.group(2)
            if directive not in ("skip", "server", "stop-server"):
                raise ReadmeError("README line %d: unknown readme-test directive '%s'" %
                                  (i + 1, directive))
            if directive == "skip" and not directive_arg:
                raise ReadmeError("README line %d: a skipped block says why" % (i + 1))
            i += 1
            continue
        if text.startswith("```"):
            language = text[3:].strip().split(" ")[0]
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append((i + 1, lines[i]))
                i += 1
            blocks.append(Block(start, language, body, directive, directive_arg))
            directive, directive_arg = None, ""
            i += 1
            continue
        if text.strip() and directive is not None:
            raise ReadmeError("README line %d: a readme-test directive must come just before "
                              "its block" % (i + 1))
        i += 1
    return blocks


def heredoc_end(text):
    """The word that ends the here-document `text` starts, and whether tabs before it are
    stripped (`<<-`); None when it starts none."""
    m = HEREDOC.search(text)
    return (m.group(3), m.group(1) == "-") if m else None


def split_commands(block, one_script):
    """The block's commands (with expected output for `console` blocks); a `sh` block as one
    script when `one_script`."""
    commands = []
    lines = block.lines
    console = block.language == "console"
    if not console and one_script:
        text = "\n".join(l for _, l in lines)
        return [Command(block.line + 1, text, None)] if text.strip() else []
    i = 0
    while i < len(lines):
        number, text = lines[i]
        if console:
            if not text.startswith("$ "):
                raise ReadmeError("README line %d: in a console block, output with no command "
                                  "before it: %r" % (number, text))
            text = text[2:]
        elif not text.strip() or text.lstrip().startswith("#"):
            i += 1
            continue
        command = [text]
        i += 1
        while command[-1].endswith("\\") and i < len(lines):
            command.append(lines[i][1])
            i += 1
        heredoc = heredoc_end(" ".join(command))
        if heredoc is not None:
            end, strip_tabs = heredoc
            while True:
                if i >= len(lines):
                    raise ReadmeError("README line %d: the here-document is not ended by '%s'" %
                                      (number, end))
                command.append(lines[i][1])
                i += 1
                if (command[-1].lstrip("\t") if strip_tabs else command[-1]) == end:
                    break
        expected = None
        if console:
            expected = []
            while i < len(lines) and not lines[i][1].startswith("$ "):
                expected.append(lines[i][1])
                i += 1
            while expected and not expected[-1].strip():
                expected.pop()
        commands.append(Command(number, "\n".join(command), expected))
    return commands


def expected_regex(expected, values):
    """A regex over the whole output for the expected lines, and the placeholder of each group.
    A placeholder in `values` matches only its value."""
    names = []
    parts = []
    for line in expected:
        line = line.rstrip()
        if line == "...":
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        out = ""
        pos = 0
        for m in PLACEHOLDER.finditer(line):
            out += literal_regex(line[pos:m.start()])
            name = m.group(1)
            if name == ANONYMOUS:
                out += r"(?:(?!  )[^\n])+?"
            elif name in values:
                out += re.escape(values[name])
            else:
                out += r"((?:(?!  )[^\n])+?)"
                names.append(name)
            pos = m.end()
        out += literal_regex(line[pos:])
        parts.append(out + r" *\n")
    return re.compile("".join(parts) + r"\Z"), names


def literal_regex(text):
    out = ""
    for piece in re.split(r"( {2,})", text):
        if re.fullmatch(r" {2,}", piece):
            out += r" {2,}"
        else:
            out += re.escape(piece)
    return out


class Runner:
    def __init__(self, args):
        self.source = os.path.abspath(args.source_dir)
        self.build = os.path.abspath(args.build_dir)
        self.readme = os.path.abspath(args.readme or os.path.join(self.source, "README.md"))
        self.show = args.show
        self.keep = args.keep
        self.work = tempfile.mkdtemp(prefix="readme-test-")
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        self.http_address = "127.0.0.1:%d" % free_port()
        self.values = {}
        self.server = None
        self.commands_run = 0
        self.compared = 0
        self.state_env = os.path.join(self.work, ".state-env")
        self.state_cwd = os.path.join(self.work, ".state-cwd")
        self.server_log = os.path.join(self.work, "server.log")
        self.log_start = 0

    # --- The stand-in checkout --------------------------------------------------------------

    def prepare(self):
        for name in ("deploy", "clients", "proto", "tests"):
            os.symlink(os.path.join(self.source, name), os.path.join(self.work, name))
        os.symlink(self.build, os.path.join(self.work, "build"))
        os.makedirs(os.path.join(self.work, "home"))
        env = {
            "HOME": os.path.join(self.work, "home"),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "TZ": "UTC",
        }
        with open(self.state_env, "w") as f:
            for k, v in env.items():
                f.write("export %s=%s\n" % (k, shlex.quote(v)))
        with open(self.state_cwd, "w") as f:
            f.write(self.work)
        self.check_run_sh()

    def check_run_sh(self):
        with open(os.path.join(self.source, "deploy", "run.sh")) as f:
            last = [l.strip() for l in f if l.strip() and not l.startswith("#")][-1]
        if last != 'exec %s "$@"' % RUN_SH_START:
            raise ReadmeError("deploy/run.sh no longer ends with 'exec %s \"$@\"' (it ends with "
                              "%r): update RUN_SH_START in %s" % (RUN_SH_START, last, __file__))

    # --- Commands ---------------------------------------------------------------------------

    def substitute(self, command):
        def value(m):
            name = m.group(1)
            if name == ANONYMOUS:
                raise ReadmeError("README line %d: <...> stands for nothing in a command" %
                                  command.line)
            if name not in self.values:
                raise ReadmeError("README line %d: <%s> is not printed by any earlier command" %
                                  (command.line, name))
            return self.values[name]

        return (PLACEHOLDER.sub(value, command.text).replace(ADDRESS, self.address)
                .replace(HTTP_ADDRESS, self.http_address))

    def script(self, text, strict=False):
        """A bash script running `text` in the shared shell state and saving it afterwards;
        `strict` stops at the first failing command and names it."""
        env, cwd = shlex.quote(self.state_env), shlex.quote(self.state_cwd)
        head = "source %s\ncd \"$(cat %s)\"\n" % (env, cwd)
        head += "__save() { export -p > %s; pwd > %s; }\ntrap __save EXIT\n" % (env, cwd)
        head += "set -o pipefail\n"
        if strict:
            head += ("set -eE\ntrap 'echo \"readme-test: exit $? from: $BASH_COMMAND\" >&2' "
                     "ERR\n")
        return head + text + "\n"

    def run(self, command):
        text = self.substitute(command)
        self.commands_run += 1
        strict = command.expected is None
        # In its own process group, so that a timeout ends everything it started.
        process = subprocess.Popen(["bash", "-c", self.script(text, strict)],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, env={}, start_new_session=True)
        try:
            out, _ = process.communicate(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ReadmeError("README line %d: no answer within %d s:\n  %s" %
                              (command.line, COMMAND_TIMEOUT, text))
        done = subprocess.CompletedProcess(process.args, process.returncode, out)
        self.reap()
        output = done.stdout.decode("utf-8", "replace")
        if self.show:
            print("$ %s\n%s" % (text, output), end="" if output.endswith("\n") else "\n")
        if done.returncode != 0:
            raise ReadmeError("README line %d: exit %d from\n  %s\nIt printed:\n%s" %
                              (command.line, done.returncode, text, indent(output)))
        if command.expected is not None:
            self.compare(command, text, output)

    def compare(self, command, text, output):
        expected = [l.replace(ADDRESS, self.address).replace(HTTP_ADDRESS, self.http_address)
                    for l in command.expected]
        regex, names = expected_regex(expected, self.values)
        actual = "\n".join(l.rstrip() for l in output.rstrip("\n").split("\n")) + "\n"
        if not output.strip():
            actual = ""
        m = regex.match(actual)
        if m is None:
            raise ReadmeError("README line %d: the output of\n  %s\ndoes not match the README.\n"
                              "The README shows:\n%s\nIt printed:\n%s" %
                              (command.line, text, indent("\n".join(expected)), indent(actual)))
        for name, captured in zip(names, m.groups()):
            if name in self.values and self.values[name] != captured:
                raise ReadmeError("README line %d: <%s> is printed twice with different values, "
                                  "%r and %r" % (command.line, name, self.values[name], captured))
            self.values[name] = captured
        self.compared += 1

    # --- The server -------------------------------------------------------------------------

    def start_server(self, command):
        text = self.substitute(command).strip()
        if text.startswith("./deploy/run.sh"):
            text = RUN_SH_START + text[len("./deploy/run.sh"):]
        if "--listen" not in text:
            text += " --listen=" + self.address
        if "--http_listen" not in text:
            text += " --http_listen=" + self.http_address
        print("README line %d: starting the server: %s" % (command.line, text))
        log = open(self.server_log, "a")
        self.log_start = log.tell()
        self.server = subprocess.Popen(["bash", "-c", self.script("exec " + text)],
                                       stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, env={},
                                       start_new_session=True)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise ReadmeError("README line %d: the server exited (%d) at start:\n%s" %
                                  (command.line, self.server.returncode, self.log_tail()))
            # This start's own line, not another process's listener on a reused port.
            with open(self.server_log, errors="replace") as f:
                f.seek(self.log_start)
                if re.search(r"serving ppa\.mediation\.v1 on port %d\b" % self.port, f.read()):
                    return
            time.sleep(0.1)
        raise ReadmeError("README line %d: the server did not listen within %d s:\n%s" %
                          (command.line, SERVER_START_TIMEOUT, self.log_tail()))

    def stop_server(self, why):
        if self.server is None:
            return
        # As Ctrl-C in its terminal: SIGINT to its whole process group. A wrapper such as
        # faketime may end at once while the server still drains, so wait for the whole group.
        group = self.server.pid
        try:
            os.killpg(group, signal.SIGINT)
        except ProcessLookupError:
            raise ReadmeError("%s: the server had already exited:\n%s" % (why, self.log_tail()))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.server.poll()
            self.reap()
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.killpg(group, signal.SIGKILL)
            raise ReadmeError("%s: the server did not stop within 60 s of Ctrl-C" % why)
        self.server.wait()
        self.server = None
        with open(self.server_log, errors="replace") as f:
            f.seek(self.log_start)
            since_start = f.read()
        if "stopped cleanly" not in since_start:
            raise ReadmeError("%s: the server did not stop cleanly on Ctrl-C:\n%s" %
                              (why, indent(since_start[-3000:])))

    @staticmethod
    def reap():
        """Reaps any finished descendant: this process is their subreaper (see main), so a server
        left behind by a wrapper that exited first is reaped here, not left a zombie."""
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def log_tail(self):
        try:
            with open(self.server_log, errors="replace") as f:
                return indent("".join(f.readlines()[-30:]))
        except OSError:
            return "  (no server log)"

    # --- The README -------------------------------------------------------------------------

    def run_readme(self):
        blocks = [b for b in parse_blocks(self.readme) if b.language in ("sh", "console")]
        skipped = 0
        for block in blocks:
            if block.directive == "skip":
                skipped += 1
                print("README line %d: skipped (%s)" % (block.line, block.directive_arg))
                continue
            commands = split_commands(block, one_script=block.directive != "server")
            where = "README line %d" % block.line
            if block.directive in ("server", "stop-server"):
                self.stop_server(where)
            if block.directive == "server":
                if not commands:
                    raise ReadmeError("%s: a server block has no command" % where)
                for command in commands[:-1]:
                    self.run(command)
                self.start_server(commands[-1])
                continue
            print("%s: %d command(s)" % (where, len(commands)))
            for command in commands:
                self.run(command)
        self.stop_server("the end of the README")
        print("README: %d blocks, %d skipped, %d commands run, %d outputs compared" %
              (len(blocks), skipped, self.commands_run, self.compared))

    def cleanup(self):
        if self.server is not None:
            try:
                os.killpg(self.server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not self.keep:
            subprocess.run(["rm", "-rf", self.work])
        else:
            print("work directory kept: %s" % self.work)


def indent(text):
    return "".join("  | " + l + "\n" for l in text.rstrip("\n").split("\n"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--readme")
    parser.add_argument("--show", action="store_true", help="print every command's output")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    # Become the subreaper of everything started here (Linux): orphans come back to this process
    # to be reaped, whatever the machine's PID 1 does.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    runner = Runner(args)
    try:
        runner.prepare()
        runner.run_readme()
    except ReadmeError as error:
        print("readme test FAILED: %s" % error, file=sys.stderr)
        if runner.server is not None:
            print("--- server log (last 30 lines) ---\n%s" % runner.log_tail(), file=sys.stderr)
        return 1
    finally:
        runner.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
