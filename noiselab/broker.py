"""A local Mosquitto broker on a free loopback port, for the demo and the tests.

The configuration carries the lessons that decide whether data is lost: a raised
``max_queued_messages`` (Mosquitto's default of 1,000 per client silently drops what a stopped
worker's persistent session should keep), persistence with a short autosave interval, and
``per_listener_settings false`` (true breaks offline queuing in Mosquitto 2.0.12-2.0.20).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from noiselab.errors import ConfigError

__all__ = ["MosquittoBroker", "free_port", "mosquitto_config"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def mosquitto_config(
    port: int, data_dir: Path, *, persistence: bool = True, extra: str = ""
) -> str:
    """A Mosquitto 2 configuration for a single anonymous loopback listener (``extra`` lines
    are appended, e.g. to test a broker that limits QoS)."""
    lines = [
        "per_listener_settings false",
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        # Queue for offline persistent sessions without a count limit; memory bound instead.
        "max_queued_messages 0",
        "max_queued_bytes 1073741824",
        "max_inflight_messages 0",
        "persistent_client_expiration 14d",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_dest stderr",
    ]
    if persistence:
        lines += [
            "persistence true",
            f"persistence_location {data_dir}/",
            "autosave_interval 60",
        ]
    return "\n".join(lines) + "\n" + extra


class MosquittoBroker:
    """Runs ``mosquitto -c CONF`` until ``stop``; usable as a context manager."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        persistence: bool = True,
        extra_config: str = "",
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.persistence = persistence
        self.extra_config = extra_config
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT``."""
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0) -> MosquittoBroker:
        """Start the broker and wait until it accepts connections."""
        binary = shutil.which("mosquitto") or shutil.which("/usr/sbin/mosquitto")
        if binary is None:
            raise ConfigError("the mosquitto broker is not installed: apt-get install -y mosquitto")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "mosquitto.conf"
        conf.write_text(
            mosquitto_config(
                self.port, self.data_dir, persistence=self.persistence, extra=self.extra_config
            )
        )
        log = (self.data_dir / "mosquitto.log").open("ab")
        self.process = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ConfigError(f"mosquitto exited at start; see {self.data_dir}/mosquitto.log")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ConfigError(f"mosquitto did not listen on port {self.port} in {timeout_s} s")

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 5 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
