"""``python -m lab up|down|status|serve|install-dir|scenarios``: the lab as a background service.

``up`` starts ``serve`` as a detached child process, waits until it is ready
and prints the path of the env file it wrote (``export KEY='value'`` lines,
also usable with ``set -a; . FILE``). ``down`` stops that process and waits
for it to exit; ``status`` tells whether it runs and answers.

``up --scenario NAME|FILE [--set key=value ...]`` also builds a scenario's
world (AWS side in the twin, OpenShift API twin as a lab component) and adds
the cluster's ``K8S_AUTH_*``/``KUBECONFIG`` variables to the env file.
``install-dir --scenario NAME|FILE DIR`` starts a lab the same way but with
the world *before install* (AWS side only, no API server) and writes the
install directory into DIR; the lab keeps running (``down`` stops it).
``scenarios`` lists the shipped scenarios.
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
WORLD_FILE = "world.json"
DEFAULT_TIMEOUT = 15.0
DEFAULT_SCENARIO_TIMEOUT = 300.0


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
    spec = None
    if getattr(args, "scenario", None):
        from lab.scenarios import ScenarioError, load_scenario, parse_set  # pylint: disable=import-outside-toplevel
        try:
            spec = load_scenario(args.scenario, parse_set(args.set))
        except ScenarioError as error:
            print(f"scenario error: {error}", file=sys.stderr)
            return 2
    region = spec["aws"]["region"] if spec is not None else args.region
    lab = Lab(state_dir=state_dir, region=region, deploy_seconds=args.cloudfront_deploy_seconds,
              idp_timeout=args.idp_timeout).start()
    try:
        if spec is not None:
            _build_scenario(lab, spec, args, state_dir)
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


def _build_scenario(lab, spec, args, state_dir):
    """Build the scenario's world in ``lab``; write world.json and, if asked, the install directory."""
    import json  # pylint: disable=import-outside-toplevel
    from lab.scenarios import build_world  # pylint: disable=import-outside-toplevel

    before_install = bool(getattr(args, "before_install", False))
    world = build_world(lab, spec, cluster=not before_install)
    world_file = os.path.join(state_dir, WORLD_FILE)
    summary = world.summary()
    summary["before_install"] = before_install
    with open(world_file, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)
    world.component.world_file = world_file
    if getattr(args, "install_dir", None):
        world.write_install_dir(args.install_dir)
        summary["install_dir"] = os.path.abspath(args.install_dir)
        with open(world_file, "w", encoding="utf-8") as handle:
            json.dump(summary, handle, indent=2)
    print(f"scenario {world.name}: issuer {world.issuer}, {len(world.roles)} roles", flush=True)
    return world


def cmd_up(args):
    """Start ``serve`` in the background and wait until it is ready."""
    state_dir, pid_file, ready_file = _paths(args.state_dir)
    scenario = getattr(args, "scenario", None)
    if _alive(_read_pid(pid_file)):
        if scenario:
            print(f"lab already running (pid {_read_pid(pid_file)}) in {state_dir}: run `python -m lab down` first "
                  "or choose another --state-dir", file=sys.stderr)
            return 1
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
    if scenario:
        command += ["--scenario", os.path.abspath(scenario) if os.path.isfile(scenario) else scenario]
        for item in args.set or ():
            command += ["--set", item]
    if getattr(args, "install_dir", None):
        command += ["--install-dir", os.path.abspath(args.install_dir)]
    if getattr(args, "before_install", False):
        command += ["--before-install"]
    timeout = args.timeout if args.timeout is not None else (DEFAULT_SCENARIO_TIMEOUT if scenario else DEFAULT_TIMEOUT)
    started = time.monotonic()
    log_path = os.path.join(state_dir, LOG_FILE)
    log_offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0
    with open(log_path, "ab") as log, open(os.devnull, "rb") as devnull:
        child = subprocess.Popen(command, stdin=devnull, stdout=log, stderr=log,  # pylint: disable=consider-using-with
                                 env=env, start_new_session=True, close_fds=True)
    deadline = started + timeout
    while time.monotonic() < deadline:
        if os.path.exists(ready_file):
            elapsed = time.monotonic() - started
            print(f"lab up in {elapsed:.2f}s (pid {child.pid}); env file {_env_file(args, state_dir)}")
            if scenario:
                print(f"scenario world: {os.path.join(state_dir, WORLD_FILE)}")
            if getattr(args, "install_dir", None):
                print(f"install dir: {os.path.abspath(args.install_dir)}")
            return 0
        if child.poll() is not None:
            print(f"lab failed to start (exit {child.returncode}); see {os.path.join(state_dir, LOG_FILE)}",
                  file=sys.stderr)
            _print_log_tail(log_path, log_offset)
            return 1
        time.sleep(0.02)
    child.terminate()
    child.wait(10)
    print(f"lab not ready after {timeout}s; see {os.path.join(state_dir, LOG_FILE)}", file=sys.stderr)
    return 1


def _print_log_tail(path, offset=0, lines=8):
    """Show the end of what this run wrote to the lab's log on stderr (why a scenario failed to build)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            handle.seek(offset)
            tail = handle.read().splitlines()[-lines:]
    except OSError:
        return
    for line in tail:
        print(f"  {line}", file=sys.stderr)


def cmd_install_dir(args):
    """``up`` with a world before install, writing the install directory."""
    args.install_dir = args.directory
    args.before_install = True
    return cmd_up(args)


def cmd_scenarios(_args):
    """List the shipped scenarios with their descriptions."""
    from lab.scenarios import load_scenario, scenario_names  # pylint: disable=import-outside-toplevel

    for name in scenario_names():
        spec = load_scenario(name)
        live = spec["expect"]["live"]
        print(f"{name:32} {live['status']:8} {live['root_cause'] or '-':36} {' '.join(spec['description'].split())}")
    return 0


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
    parser = argparse.ArgumentParser(prog="python -m lab",
                                     description="The openshift_sts.oidc lab (AWS twin, OpenShift twin, scenarios).")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("up", "start the lab in the background"), ("down", "stop the background lab"),
                           ("status", "is the lab running?"), ("serve", "run the lab in the foreground"),
                           ("install-dir", "start the lab with a scenario's world before install and write its "
                                           "install directory")):
        command = sub.add_parser(name, help=helptext)
        command.add_argument("--state-dir", default=os.environ.get("LAB_STATE_DIR", DEFAULT_STATE_DIR),
                             help="directory for the CA bundle, env file, pid file and log (default: build/lab)")
        command.add_argument("--env-file", help="where to write the env file (default: STATE_DIR/env)")
        command.add_argument("--timeout", type=float, default=None,
                             help="seconds to wait for start/stop (default 15; 300 with a scenario)")
        if name in ("up", "serve", "install-dir"):
            command.add_argument("--region", default="us-east-1", help="AWS_REGION (a scenario sets its own)")
            command.add_argument("--cloudfront-deploy-seconds", type=float, default=0.0,
                                 help="how long a new distribution configuration stays InProgress")
            command.add_argument("--idp-timeout", type=float, default=5.0,
                                 help="STS's limit on identity-provider answers (AWS: 5 s)")
            command.add_argument("--scenario", required=name == "install-dir",
                                 help="a shipped scenario name (see `python -m lab scenarios`) or a scenario file")
            command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                                 help="a scenario parameter (count=500) or a dotted field (aws.region=eu-west-1)")
        if name == "serve":
            command.add_argument("--install-dir", help="also write the install directory here")
            command.add_argument("--before-install", action="store_true",
                                 help="build the AWS side only (no OpenShift API twin)")
        if name == "install-dir":
            command.add_argument("directory", help="the install directory to write")
    sub.add_parser("scenarios", help="list the shipped scenarios")
    args = parser.parse_args(argv)
    if getattr(args, "timeout", 0) is None and args.command in ("down", "status", "serve"):
        args.timeout = DEFAULT_TIMEOUT
    return {"up": cmd_up, "down": cmd_down, "status": cmd_status, "serve": cmd_serve, "install-dir": cmd_install_dir,
            "scenarios": cmd_scenarios}[args.command](args)
