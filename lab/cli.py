"""``python -m lab up|down|status|serve``: the lab as a background service.

``up`` starts ``serve`` as a detached child process, waits until it is ready
and prints the path of the env file it wrote (``export KEY='value'`` lines,
also usable with ``set -a; . FILE``). ``down`` stops that process and waits
for it to exit; ``status`` tells whether it runs and answers.
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import time

from lab.control import LabControl

DEFAULT_STATE_DIR = os.path.join("build", "lab")
PID_FILE = "lab.pid"
READY_FILE = "ready"
LOG_FILE = "lab.log"


def _paths(state_dir):
    state_dir = os.path.abspath(state_dir)
    return state_dir, os.path.join(state_dir, PID_FILE), os.path.join(state_dir, READY_FILE)


def _read_pid(pid_file):
    try:
        with open(pid_file, encoding="utf-8") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid):
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return True


def _env_file(args, state_dir):
    return os.path.abspath(args.env_file) if args.env_file else os.path.join(state_dir, "env")


def cmd_serve(args):
    """Run the lab in the foreground until SIGTERM/SIGINT."""
    from lab.world import Lab  # pylint: disable=import-outside-toplevel  # keep `down`/`status` light

    state_dir, pid_file, ready_file = _paths(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *args: stop.set())
    signal.signal(signal.SIGINT, lambda *args: stop.set())
    lab = Lab(state_dir=state_dir, region=args.region, deploy_seconds=args.cloudfront_deploy_seconds,
              idp_timeout=args.idp_timeout).start()
    try:
        lab.write_env_file(_env_file(args, state_dir))
        with open(pid_file, "w", encoding="utf-8") as handle:
            handle.write(str(os.getpid()))
        with open(ready_file, "w", encoding="utf-8") as handle:
            handle.write(_env_file(args, state_dir))
        while not stop.wait(0.5):
            pass
    finally:
        for path in (ready_file, pid_file):
            try:
                os.unlink(path)
            except OSError:
                pass
        lab.stop()
    return 0


def cmd_up(args):
    """Start ``serve`` in the background and wait until it is ready."""
    state_dir, pid_file, ready_file = _paths(args.state_dir)
    if _alive(_read_pid(pid_file)):
        print(f"lab already running (pid {_read_pid(pid_file)}); env file {_env_file(args, state_dir)}")
        return 0
    os.makedirs(state_dir, exist_ok=True)
    for path in (ready_file, pid_file):
        if os.path.exists(path):
            os.unlink(path)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        env.pop(name, None)
    command = [sys.executable, "-m", "lab", "serve", "--state-dir", state_dir, "--region", args.region,
               "--cloudfront-deploy-seconds", str(args.cloudfront_deploy_seconds),
               "--idp-timeout", str(args.idp_timeout)]
    if args.env_file:
        command += ["--env-file", os.path.abspath(args.env_file)]
    started = time.monotonic()
    with open(os.path.join(state_dir, LOG_FILE), "ab") as log, open(os.devnull, "rb") as devnull:
        child = subprocess.Popen(command, stdin=devnull, stdout=log, stderr=log,  # pylint: disable=consider-using-with
                                 env=env, start_new_session=True, close_fds=True)
    deadline = started + args.timeout
    while time.monotonic() < deadline:
        if os.path.exists(ready_file):
            elapsed = time.monotonic() - started
            print(f"lab up in {elapsed:.2f}s (pid {child.pid}); env file {_env_file(args, state_dir)}")
            return 0
        if child.poll() is not None:
            print(f"lab failed to start (exit {child.returncode}); see {os.path.join(state_dir, LOG_FILE)}",
                  file=sys.stderr)
            return 1
        time.sleep(0.02)
    child.terminate()
    child.wait(10)
    print(f"lab not ready after {args.timeout}s; see {os.path.join(state_dir, LOG_FILE)}", file=sys.stderr)
    return 1


def cmd_down(args):
    """Stop the background lab and wait until its process is gone."""
    pid_file, ready_file = _paths(args.state_dir)[1:]
    pid = _read_pid(pid_file)
    if not _alive(pid):
        for path in (pid_file, ready_file):
            if os.path.exists(path):
                os.unlink(path)
        print("lab not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.02)
    for path in (pid_file, ready_file):
        if os.path.exists(path):
            os.unlink(path)
    print(f"lab down (pid {pid})")
    return 0


def cmd_status(args):
    """Exit 0 and describe the lab if it runs and answers, else exit 1."""
    state_dir, pid_file = _paths(args.state_dir)[:2]
    pid = _read_pid(pid_file)
    if not _alive(pid):
        print("lab not running")
        return 1
    env_file = _env_file(args, state_dir)
    control_url = None
    try:
        with open(env_file, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("export LAB_CONTROL_URL="):
                    control_url = line.split("=", 1)[1].strip().strip("'")
    except OSError:
        pass
    healthy = False
    if control_url:
        try:
            healthy = LabControl(control_url).health().get("ok", False)
        except OSError:
            healthy = False
    print(f"lab running (pid {pid}), {'healthy' if healthy else 'not answering'}; env file {env_file}")
    return 0 if healthy else 1


def main(argv=None):
    """Entry point of ``python -m lab``."""
    parser = argparse.ArgumentParser(prog="python -m lab", description="The openshift_sts.oidc lab (AWS twin).")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("up", "start the lab in the background"), ("down", "stop the background lab"),
                           ("status", "is the lab running?"), ("serve", "run the lab in the foreground")):
        command = sub.add_parser(name, help=helptext)
        command.add_argument("--state-dir", default=os.environ.get("LAB_STATE_DIR", DEFAULT_STATE_DIR),
                             help="directory for the CA bundle, env file, pid file and log (default: build/lab)")
        command.add_argument("--env-file", help="where to write the env file (default: STATE_DIR/env)")
        command.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for start/stop")
        if name in ("up", "serve"):
            command.add_argument("--region", default="us-east-1")
            command.add_argument("--cloudfront-deploy-seconds", type=float, default=0.0,
                                 help="how long a new distribution configuration stays InProgress")
            command.add_argument("--idp-timeout", type=float, default=5.0,
                                 help="STS's limit on identity-provider answers (AWS: 5 s)")
    args = parser.parse_args(argv)
    return {"up": cmd_up, "down": cmd_down, "status": cmd_status, "serve": cmd_serve}[args.command](args)
