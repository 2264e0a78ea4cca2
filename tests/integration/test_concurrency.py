"""One run per home: a second `storeops run` waits for the first or stops with a clear
message; two runs started together end in the same warehouse as one run, and a third
run on the same landing changes nothing."""

import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from orchestration.harness import ROOT, STOREOPS, clean_env, fingerprint
from orchestration.processes import processes_mentioning
from orchestration.runlock import HomeBusy, home_lock

pytestmark = pytest.mark.integration


def storeops(*args, home, wait=False, **extra):
    cmd = [STOREOPS, *args, "--home", str(home)]
    if wait:
        return subprocess.Popen(cmd, cwd=ROOT, env=clean_env(**extra), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run(cmd, check=False, cwd=ROOT, env=clean_env(**extra), text=True,
                          capture_output=True, timeout=900)


def test_a_second_process_waits_then_gives_up_naming_the_holder(tmp_path):
    code = ("from orchestration.runlock import home_lock, HomeBusy\n"
            f"try:\n    with home_lock({str(tmp_path)!r}, wait_s=0.5): pass\n"
            "except HomeBusy as e:\n    print(e)\n")
    with home_lock(tmp_path, what="storeops run"):
        done = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert f"storeops run pid {os.getpid()}" in done.stdout
    assert "nothing was changed" in done.stdout
    # Released: the next one gets it at once.
    with home_lock(tmp_path, wait_s=0):
        pass


def test_a_killed_run_leaves_no_stale_lock(tmp_path):
    code = ("import time\nfrom orchestration.runlock import home_lock\n"
            f"with home_lock({str(tmp_path)!r}):\n    print('locked', flush=True)\n    time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(HomeBusy), home_lock(tmp_path, wait_s=0.3):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    with home_lock(tmp_path, wait_s=5):
        pass


def test_cli_run_on_a_busy_home_exits_1_and_touches_nothing(tmp_path):
    from orchestration.demo import generate_store

    generate_store(tmp_path, scale=0.02, days=60, seed=2)
    with home_lock(tmp_path, what="storeops run"):
        done = storeops("run", "--landing", str(tmp_path / "landing"), home=tmp_path,
                        STOREOPS_LOCK_WAIT="1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Another storeops run is using this home" in done.stderr
    assert f"pid {os.getpid()}" in done.stderr
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_two_runs_at_once_equal_one_run_and_a_rerun_changes_nothing(tmp_path, built_store):
    # The later run waits for the earlier one, then reruns on the same landing: both
    # together must equal one uninterrupted run (the shared built store's reference), so
    # the rerun changed nothing.
    landing = str(built_store.landing)
    home = built_store.new_home(tmp_path / "home")
    first = storeops("run", "--landing", landing, home=home, wait=True)
    time.sleep(1.0)
    second = storeops("run", "--landing", landing, home=home, wait=True)
    out1, err1 = first.communicate(timeout=900)
    out2, err2 = second.communicate(timeout=900)
    assert first.returncode == 0, out1[-2000:] + err1[-2000:]
    assert second.returncode == 0, out2[-2000:] + err2[-2000:]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        # Every landing file was loaded exactly once; the later run skipped them.
        loaded_twice = con.execute("""
            select count(*) from (select file_sha256 from raw.load_log where status = 'loaded'
                                  group by 1 having count(*) > 1)
        """).fetchall()[0][0]
    assert loaded_twice == 0
    assert fingerprint(home / "warehouse.duckdb") == fingerprint(built_store.home / "warehouse.duckdb")


def test_sigterm_stops_a_run_within_seconds_and_frees_the_home(tmp_path, built_store):
    """SIGTERM to `storeops run` mid-run (as a service manager or `kill` sends it): the run
    stops within seconds with exit code 143, leaves no process behind and the home free.
    Dagster alone defers the signal to the end of the running step."""
    home = built_store.new_home(tmp_path / "stopped")
    run = storeops("run", "--landing", str(built_store.landing), home=home, wait=True)
    time.sleep(20)  # ingest and dbt are under way
    assert run.poll() is None, run.communicate()[1][-2000:]
    stopped = time.monotonic()
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=30)
    assert run.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert time.monotonic() - stopped < 15
    assert "Stopping" in err
    time.sleep(1)
    assert processes_mentioning(str(home)) == []
    with home_lock(home, wait_s=1):
        pass
