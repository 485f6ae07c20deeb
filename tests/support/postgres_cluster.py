"""A throwaway PostgreSQL cluster for the tests, from Debian's server binaries.

``PostgresCluster`` runs ``initdb`` into a new temporary folder (trust authentication, superuser
``postgres``, no fsync: nothing in it outlives the test session), starts ``postgres`` on a free
port of 127.0.0.1 with its unix socket in that folder, and waits until a connection succeeds.
``stop()`` shuts the server down (a fast shutdown, SIGINT; SIGKILL if it hangs) and removes the
folder; as a context manager it does so however the ``with`` block ends.

PostgreSQL refuses to run as root: as root, initdb and the server run as the ``postgres`` system
user (created by Debian's ``postgresql`` package), who is given the folder. Every failure raises
:class:`ClusterError` saying what failed, with the tail of the server's log.

Debian keeps the binaries outside ``PATH``, in ``/usr/lib/postgresql/<major>/bin``;
:func:`newest_bin_dir` picks the newest installed major version.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = [
    "DEBIAN_POSTGRESQL",
    "ClusterError",
    "PostgresCluster",
    "newest_bin_dir",
]

DEBIAN_POSTGRESQL = Path("/usr/lib/postgresql")
"""Where Debian installs each major version's binaries, as ``<major>/bin``."""
SERVER_USER = "postgres"
"""The system user the server runs as when the tests run as root."""
LOG_TAIL_CHARS = 3000
# Durability settings a throwaway cluster does without: the data is gone after the session.
_FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class ClusterError(RuntimeError):
    """The throwaway cluster could not be created, started or stopped."""


def newest_bin_dir(root: Path = DEBIAN_POSTGRESQL) -> Path | None:
    """The ``bin`` folder of the newest major version under ``root`` that has ``initdb`` and
    ``postgres``, or ``None`` when there is none."""
    found = [
        (int(child.name), child / "bin")
        for child in (root.iterdir() if root.is_dir() else ())
        if child.name.isdigit()
        and (child / "bin" / "initdb").is_file()
        and (child / "bin" / "postgres").is_file()
    ]
    return max(found)[1] if found else None


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresCluster:
    """A PostgreSQL server of its own in a temporary folder; see the module docstring.

    ``bin_dir`` holds ``initdb`` and ``postgres``; ``start_timeout_s`` bounds the wait for the
    first accepted connection. After :meth:`start`, :attr:`admin_url` is the superuser's
    SQLAlchemy URL (database ``postgres``) and :attr:`start_seconds` how long starting took.
    """

    def __init__(self, bin_dir: Path, *, start_timeout_s: float = 60.0) -> None:
        self.bin_dir = bin_dir
        self.start_timeout_s = start_timeout_s
        self.folder: Path | None = None
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds: float | None = None
        self._user: pwd.struct_passwd | None = None

    @property
    def admin_url(self) -> str:
        """``postgresql+psycopg://postgres@127.0.0.1:<port>/postgres``."""
        if self.port is None:
            raise ClusterError("the cluster is not started")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log_path(self) -> Path | None:
        """The server's log (``initdb``'s output too), while the folder exists."""
        return None if self.folder is None else self.folder / "server.log"

    def start(self) -> PostgresCluster:
        """initdb, start the server and wait for a connection; on failure clean up, then raise
        :class:`ClusterError`."""
        began = time.monotonic()
        for name in ("initdb", "postgres"):
            if not (self.bin_dir / name).is_file():
                raise ClusterError(
                    f"no {name} in {self.bin_dir}: install Debian's postgresql package"
                    " (apt-get install postgresql)"
                )
        self._user = _server_user()
        try:
            self._make_folder()
            self._initdb()
            self._launch()
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Shut the server down and remove the folder; safe to call more than once. Uses
        signals only (no ``pg_ctl``), so it runs where starting a process is refused."""
        process, self.process = self.process, None
        try:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGINT)  # fast shutdown: abort sessions, checkpoint
                try:
                    process.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout_s)
        finally:
            folder, self.folder = self.folder, None
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            self.port = None

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------------- the steps

    def _make_folder(self) -> None:
        # The system temporary folder, not pytest's: the server user must be able to reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="noiselab-pg-"))
        log = self._log()
        log.touch()
        if self._user is not None:
            for path in (self.folder, log):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)

    def _log(self) -> Path:
        """:attr:`log_path`, which exists from the first step until :meth:`stop`."""
        if self.log_path is None:
            raise ClusterError("the cluster has no folder")
        return self.log_path

    def _initdb(self) -> None:
        assert self.folder is not None
        command = [
            str(self.bin_dir / "initdb"),
            f"--pgdata={self.folder / 'data'}",
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        ]
        with self._log().open("ab") as log:
            done = subprocess.run(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
                cwd=self.folder,
                env=self._env(),
                user=self._uid(),
                group=self._gid(),
                extra_groups=self._extra_groups(),
            )
        if done.returncode != 0:
            raise ClusterError(f"initdb exited {done.returncode}{self._log_tail()}")

    def _launch(self) -> None:
        assert self.folder is not None
        self.port = free_port()
        command = [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.folder / "data"),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.folder}",
            *(part for setting in _FAST_SETTINGS for part in ("-c", setting)),
        ]
        with self._log().open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                env=self._env(),
                user=self._uid(),
                group=self._gid(),
                extra_groups=self._extra_groups(),
            )

    def _wait_until_ready(self) -> None:
        import psycopg  # here, so that a missing driver is told apart by support.databases

        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout_s
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ClusterError(
                    f"postgres exited {self.process.returncode} while starting{self._log_tail()}"
                )
            try:
                with psycopg.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user="postgres",
                    dbname="postgres",
                    connect_timeout=2,
                ) as connection:
                    connection.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                last = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            time.sleep(0.05)
        raise ClusterError(
            f"postgres did not accept a connection within {self.start_timeout_s:g} s"
            f" (last error: {last}){self._log_tail()}"
        )

    # As root, commands run as the server user (with its home, without root's groups); otherwise
    # as this user, in this environment.

    def _uid(self) -> int | None:
        return None if self._user is None else self._user.pw_uid

    def _gid(self) -> int | None:
        return None if self._user is None else self._user.pw_gid

    def _extra_groups(self) -> list[int] | None:
        return None if self._user is None else []

    def _env(self) -> dict[str, str] | None:
        if self._user is None:
            return None
        return {**os.environ, "HOME": self._user.pw_dir, "USER": self._user.pw_name}

    def _log_tail(self) -> str:
        """The end of the server log, formatted to follow an error message."""
        path = self.log_path
        if path is None or not path.is_file():
            return " (no server log)"
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        if not text:
            return f" (the server log {path} is empty)"
        return f"\n--- the end of the server log:\n{text[-LOG_TAIL_CHARS:]}"


def _server_user() -> pwd.struct_passwd | None:
    """The user to run the server as: ``None`` (this one) unless this is root, which
    PostgreSQL refuses to run as; then the ``postgres`` system user."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ClusterError(
            f"running as root, and there is no {SERVER_USER!r} user to run PostgreSQL as"
            " (PostgreSQL refuses root): install Debian's postgresql package, which creates"
            " it, or run the tests as an ordinary user"
        ) from None
