"""The PostgreSQL the metadata tests run on: the plan (``support.databases``), the throwaway
cluster (``support.postgres_cluster``) and how a missing PostgreSQL is reported."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import postgres_cluster
from support.databases import (
    POSTGRES_MODE_ENV,
    POSTGRES_URL_ENV,
    fresh_postgres_database,
    missing_postgres,
    plan_postgres,
)
from support.postgres_cluster import ClusterError, PostgresCluster, free_port, newest_bin_dir

CONFTEST = Path(__file__).resolve().parent / "conftest.py"
CLUSTER = {POSTGRES_MODE_ENV: "cluster"}


def installed_bin_dir() -> Path:
    """Debian's newest server binaries; without them a skip, or a failure under CI."""
    found = newest_bin_dir()
    if found is None:
        missing_postgres("no initdb under /usr/lib/postgresql/<version>/bin", os.environ)
    assert found is not None
    return found


def nothing_listens() -> str:
    """An admin URL on a loopback port nobody listens on."""
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"


@pytest.fixture
def made_folders(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The temporary folders clusters make while the test runs."""
    made: list[Path] = []
    original = tempfile.mkdtemp

    def recording(*args: str, **kwargs: str) -> str:
        path: str = original(*args, **kwargs)
        made.append(Path(path))
        return path

    monkeypatch.setattr(postgres_cluster.tempfile, "mkdtemp", recording)
    return made


@pytest.fixture
def fake_bin() -> Iterator[Path]:
    """An empty folder for stand-in server binaries, reachable by the server user."""
    with tempfile.TemporaryDirectory(prefix="noiselab-fake-pg-") as folder:
        Path(folder).chmod(0o755)
        yield Path(folder)


def executable(path: Path, script: str) -> None:
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IROTH)


# --------------------------------------------------------------------------- the cluster


@pytest.mark.process
def test_the_cluster_starts_serves_and_is_gone_after_stop(made_folders: list[Path]) -> None:
    """It accepts a connection as superuser, creates and drops a database; stopping ends the
    server and removes its folder. As root the server runs as the ``postgres`` user."""
    cluster = PostgresCluster(installed_bin_dir()).start()
    try:
        assert cluster.process is not None
        assert cluster.start_seconds is not None
        assert cluster.start_seconds < cluster.start_timeout_s
        pid, folder = cluster.process.pid, cluster.folder
        assert folder is not None
        assert made_folders == [folder]
        assert (folder / f".s.PGSQL.{cluster.port}").is_socket()
        if os.geteuid() == 0:
            assert folder.stat().st_uid != 0
            status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
            assert "\nUid:\t0\t" not in status
        with fresh_postgres_database(cluster.admin_url) as url:
            name = sa.make_url(url).database
            engine = sa.create_engine(url)
            with engine.connect() as connection:
                assert connection.execute(sa.text("SELECT current_database()")).scalar() == name
            engine.dispose()
        admin = sa.create_engine(cluster.admin_url)
        with admin.connect() as connection:
            databases = connection.execute(sa.text("SELECT datname FROM pg_database")).scalars()
            assert name not in set(databases)
            assert connection.execute(sa.text("SELECT current_user")).scalar() == "postgres"
        admin.dispose()
    finally:
        cluster.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not folder.exists()
    assert cluster.folder is None
    cluster.stop()  # a second stop is harmless
    with pytest.raises(ClusterError, match="not started"):
        _ = cluster.admin_url


def test_missing_binaries_are_a_clear_error(tmp_path: Path, made_folders: list[Path]) -> None:
    """Negative control: a cluster pointed at a folder without initdb says what to install,
    before it makes a folder or starts anything."""
    with pytest.raises(ClusterError, match=r"no initdb in .*apt-get install postgresql"):
        PostgresCluster(tmp_path / "nowhere").start()
    assert made_folders == []


@pytest.mark.process
def test_a_failing_initdb_is_reported_with_its_log(
    fake_bin: Path, made_folders: list[Path]
) -> None:
    """Negative control: initdb's output ends up in the error, the folder is removed."""
    executable(fake_bin / "initdb", "echo 'initdb: error: the disk is on fire' >&2; exit 1")
    executable(fake_bin / "postgres", "exit 0")
    with pytest.raises(ClusterError, match=r"(?s)initdb exited 1.*the disk is on fire"):
        PostgresCluster(fake_bin).start()
    assert len(made_folders) == 1
    assert not made_folders[0].exists()


@pytest.mark.process
def test_a_server_that_dies_while_starting_is_reported_with_its_log(
    fake_bin: Path, made_folders: list[Path]
) -> None:
    executable(fake_bin / "initdb", "exit 0")
    executable(fake_bin / "postgres", "echo 'FATAL:  could not bind' >&2; exit 2")
    with pytest.raises(ClusterError, match=r"(?s)postgres exited 2 while starting.*could not bind"):
        PostgresCluster(fake_bin).start()
    assert not made_folders[0].exists()


@pytest.mark.process
def test_a_server_that_never_answers_times_out(fake_bin: Path, made_folders: list[Path]) -> None:
    executable(fake_bin / "initdb", "exit 0")
    executable(fake_bin / "postgres", "echo 'starting slowly'; exec sleep 60")
    with pytest.raises(ClusterError, match=r"(?s)within 0.5 s .*starting slowly"):
        PostgresCluster(fake_bin, start_timeout_s=0.5).start()
    assert not made_folders[0].exists()


def test_the_newest_installed_version_is_chosen(tmp_path: Path) -> None:
    for version, complete in (("9", True), ("16", True), ("17", False), ("common", True)):
        bin_dir = tmp_path / version / "bin"
        bin_dir.mkdir(parents=True)
        for name in ("initdb", "postgres") if complete else ("initdb",):
            (bin_dir / name).touch()
    assert newest_bin_dir(tmp_path) == tmp_path / "16" / "bin"
    assert newest_bin_dir(tmp_path / "absent") is None


# --------------------------------------------------------------------------- the plan


def test_cluster_mode_plans_the_cluster_even_with_a_server_given() -> None:
    """``NOISELAB_TEST_POSTGRES=cluster``: no server is asked, the newest binaries are used."""
    env = CLUSTER | {POSTGRES_URL_ENV: "postgresql+psycopg://postgres@db.invalid/postgres"}
    plan = plan_postgres(env)
    assert plan.url is None
    assert plan.cluster_bin == installed_bin_dir()


def test_without_server_or_binaries_nothing_is_planned(tmp_path: Path) -> None:
    """Negative control: the reason names what was tried."""
    plan = plan_postgres({}, debian_root=tmp_path, local=nothing_listens())
    assert (plan.url, plan.cluster_bin) == (None, None)
    assert "no PostgreSQL at postgresql+psycopg://postgres@127.0.0.1:" in plan.why
    assert f"no initdb under {tmp_path}/<version>/bin" in plan.why
    forced = plan_postgres(CLUSTER, debian_root=tmp_path)
    assert forced.why == f"no initdb under {tmp_path}/<version>/bin"


def test_without_a_local_server_the_cluster_is_planned() -> None:
    plan = plan_postgres({}, local=nothing_listens())
    assert (plan.url, plan.cluster_bin) == (None, installed_bin_dir())


def test_a_given_url_that_does_not_answer_is_not_replaced() -> None:
    """A server someone named is meant: its failure is reported, not papered over."""
    given = nothing_listens()
    plan = plan_postgres({POSTGRES_URL_ENV: given})
    assert (plan.url, plan.cluster_bin) == (None, None)
    assert plan.why.startswith(f"{POSTGRES_URL_ENV}={given} does not answer (")
    assert "not an SQLAlchemy URL" in plan_postgres({POSTGRES_URL_ENV: "nonsense"}).why


def test_an_unknown_mode_is_refused() -> None:
    plan = plan_postgres({POSTGRES_MODE_ENV: "clutser"})
    assert plan.why == f"{POSTGRES_MODE_ENV}='clutser': expected 'cluster' or nothing"


def test_a_missing_postgres_skips_locally_and_fails_under_ci() -> None:
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL for the metadata tests: x"):
        missing_postgres("x", {})
    with pytest.raises(pytest.fail.Exception, match=r"(?s)tests: x; install .*CI runs them"):
        missing_postgres("x", {"CI": "1"})
    with pytest.raises(pytest.fail.Exception):
        missing_postgres("x", {"CI": "true"})


# --------------------------------------------------------------------------- the marker


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A test directory with this suite's conftest and marker, to run pytest in."""
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    process: starts a process\n")
    return pytester


def test_the_postgresql_runs_carry_the_process_marker(suite: pytest.Pytester) -> None:
    """``-m "not process"`` keeps the SQLite run of a ``meta_url`` test and leaves out the
    PostgreSQL one, which may start a server."""
    suite.makepyfile(test_meta="def test_meta(meta_url):\n    pass\n")
    result = suite.runpytest_inprocess("--collect-only", "-q", "-m", "not process")
    result.stdout.fnmatch_lines(["test_meta.py::test_meta[[]sqlite[]]", "*1/2 tests collected*"])


def test_an_unmarked_test_using_the_server_fixture_stops_the_run(suite: pytest.Pytester) -> None:
    """Negative control: ``postgres_admin_url`` asked for directly needs the marker."""
    suite.makepyfile(test_admin="def test_admin(postgres_admin_url):\n    pass\n")
    result = suite.runpytest_inprocess("--collect-only", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["  test_admin.py::test_admin uses postgres_admin_url"])
