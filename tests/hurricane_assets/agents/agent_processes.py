"""Start domain agents as their own processes (`python -m hurricane_assets.agents.server`) on free
127.0.0.1 ports, each given its key through `HURRICANE_SIGNING_KEY_<DOMAIN>` (as a secrets manager
would) and none of the others; the key files are then removed from the shared home, so the test
process (the exchange) has no domain key anywhere it could read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from hurricane_assets.local_stack.ports import free_port
from hurricane_assets.settings import hurricane_paths

START_TIMEOUT_S = 60.0



def take_key_out_of_home(home: Path, domain: str) -> str:
    """The domain's private key (PEM), removed from the home: from now on only its agent has it."""
    folder = home / "domains" / domain / "keys"
    pem = (folder / f"{domain}.ed25519").read_text()
    shutil.rmtree(folder)
    return pem


@contextmanager
def agent_processes(domains: tuple[str, ...], home: Path | None = None):
    """Yields {domain: (url, Popen)} of agents sharing `home` (default: this one); every process is
    killed on exit."""
    home = Path(home) if home is not None else hurricane_paths().home
    started: dict[str, tuple[str, subprocess.Popen]] = {}
    base = {k: v for k, v in os.environ.items() if not k.startswith("HURRICANE_SIGNING_KEY_")} | {"HURRICANE_HOME": str(home)}
    try:
        for domain in domains:
            port = free_port()
            env = base | {f"HURRICANE_SIGNING_KEY_{domain.upper()}": take_key_out_of_home(home, domain)}
            log = open(home / f"agent-{domain}.log", "w")
            process = subprocess.Popen(
                [sys.executable, "-m", "hurricane_assets.agents.server", "--domain", domain, "--port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            started[domain] = (f"http://127.0.0.1:{port}/", process)
        deadline = time.monotonic() + START_TIMEOUT_S
        for domain, (url, process) in started.items():
            while True:
                if process.poll() is not None:
                    log = (home / f"agent-{domain}.log").read_text()
                    raise RuntimeError(f"{domain}'s agent exited with {process.returncode}: {log[-2000:]}")
                try:
                    if httpx.get(url + ".well-known/agent-card.json", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{domain}'s agent did not start within {START_TIMEOUT_S}s")
                time.sleep(0.1)
        yield started
    finally:
        for _, process in started.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
