"""A real one-node Ray cluster for tests: ``ray start --head --block`` in its own process group, stopped by its id.

Why it does not simply run ``ray start --head``: Ray 2.x's raylet waits a fixed 15 s for its dashboard agent to
report the agent's ports and aborts when it has not ("The current node timed out during startup"); on a loaded
machine the agent's imports alone take longer, and that wait cannot be configured. It is skipped when the raylet
is told every agent port up front, so this helper picks free ports for all of them; ``ray start`` forwards all but
the agent's listen port to the raylet, which the launcher below adds to the raylet's command line. The workers'
registration timeout is raised for the same reason. A start that still fails is retried once; the raylet's last
error is in the message.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ATTEMPTS = 2
ATTEMPT_TIMEOUT_S = 300.0
#: Environment of the head node and of the test's driver: no token auth (no ~/.ray/auth_token needed), no
#: telemetry, and a patient worker registration.
ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "RAY_worker_register_timeout_seconds": "600"}

LAUNCHER = """
import sys
import ray._private.ray_constants as constants
import ray._private.services as services

listen_port = sys.argv.pop(1)
start_process = services.start_ray_process


def start_ray_process(command, process_type, *args, **kwargs):
    if process_type == constants.PROCESS_TYPE_RAYLET and not any("agent_listen_port" in part for part in command):
        command = [*command, "--dashboard_agent_listen_port=" + listen_port]
    return start_process(command, process_type, *args, **kwargs)


services.start_ray_process = start_ray_process
from ray.scripts.scripts import main

sys.argv[0] = "ray"
sys.exit(main())
"""


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _raylet_error(temp_dir: Path) -> str:
    for log in sorted(temp_dir.glob("session_*/logs/raylet.out")):
        for line in log.read_text(errors="replace").splitlines():
            if "Check failed" in line:
                return line[-300:]
    start_log = temp_dir / "ray_start.log"
    return start_log.read_text(errors="replace")[-300:] if start_log.exists() else "no error logged"


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to ``ray start --block`` (it stops the processes it started), then SIGKILL what is left of its group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the group this helper created (start_new_session), nothing else
    except ProcessLookupError:
        pass
    process.wait()


def _start_once(temp_dir: Path, num_cpus: int, env: dict[str, str]) -> tuple[subprocess.Popen, str | None]:
    gcs, manager, objects, runtime_env, agent_grpc, agent_listen, metrics = _free_ports(7)
    command = [sys.executable, "-c", LAUNCHER, str(agent_listen), "start", "--head", "--block"]
    command += [f"--port={gcs}", f"--node-manager-port={manager}", f"--object-manager-port={objects}"]
    command += [f"--runtime-env-agent-port={runtime_env}", f"--dashboard-agent-grpc-port={agent_grpc}"]
    command += [f"--dashboard-agent-listen-port={agent_listen}", f"--metrics-export-port={metrics}"]
    command += [f"--num-cpus={num_cpus}", "--num-gpus=0", "--include-dashboard=false", "--disable-usage-stats"]
    command += ["--object-store-memory=80000000", f"--temp-dir={temp_dir}"]
    with open(temp_dir / "ray_start.log", "ab") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    address_file = temp_dir / "ray_current_cluster"  # written by `ray start` once the node is up
    deadline = time.monotonic() + ATTEMPT_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        if address_file.exists() and address_file.read_text().strip():
            return process, address_file.read_text().strip()
        time.sleep(0.5)
    return process, None


@contextmanager
def ray_head(num_cpus: int = 2) -> Iterator[str]:
    """Start a local Ray head node with ``num_cpus`` CPUs; yield its address (``host:port``); stop it after."""
    temp_dir = Path(tempfile.mkdtemp(prefix="ve-ray-"))  # short: Ray's unix socket paths must stay < 108 chars
    root = str(Path(__file__).resolve().parents[2])  # workers import void_eval and tests from this checkout
    env = {**os.environ, **ENV, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    process, address, errors = None, None, []
    try:
        for _attempt in range(ATTEMPTS):
            process, address = _start_once(temp_dir, num_cpus, env)
            if address:
                break
            errors.append(_raylet_error(temp_dir))
            _stop(process)
            process = None
            for session in temp_dir.glob("session_*"):
                shutil.rmtree(session, ignore_errors=True)
        if not address:
            raise RuntimeError(f"Ray head did not start in {ATTEMPTS} tries: {errors}")
        yield address
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(temp_dir, ignore_errors=True)
