"""The `mlgrove` command line, as a user types it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlgrove.cli.main import run
from mlgrove.workspace import Workspace

MLGROVE = [sys.executable, "-m", "mlgrove.cli"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGROVE_")}
    return subprocess.run([*MLGROVE, *args], capture_output=True, text=True, env=env, timeout=120)


def test_help_lists_the_verbs() -> None:
    result = cli("--help")
    assert result.returncode == 0
    for verb in (
        "init",
        "upgrade",
        "fsck",
        "serve",
        "demo",
        "user",
        "team",
        "project",
        "token",
        "config",
    ):
        assert f"  {verb} " in result.stdout, verb


def test_no_workspace_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    result = subprocess.run(
        [*MLGROVE, "user", "list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("MLGROVE_")},
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("mlgrove: error: no Grove workspace in")
    assert "mlgrove init" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_then_everything_works_from_a_subfolder(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    result = cli("init", str(root))
    assert result.returncode == 0, result.stderr
    assert "Initialised Grove workspace" in result.stdout
    secret_line = (root / ".mlgrove" / "config.toml").read_text()
    assert "secret_key" in secret_line
    secret = secret_line.split('secret_key = "')[1].split('"')[0]
    assert secret not in result.stdout + result.stderr
    (root / "a" / "b").mkdir(parents=True)
    listed = subprocess.run(
        [*MLGROVE, "config", "show"], capture_output=True, text=True, cwd=root / "a" / "b"
    )
    assert listed.returncode == 0
    assert "secret_key = (set, hidden)" in listed.stdout
    assert secret not in listed.stdout
    again = cli("init", str(root))
    assert again.returncode == 1
    assert "already a Grove workspace" in again.stderr


def test_unknown_config_key_is_reported(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    with grove_workspace.config_path.open("a") as fh:
        fh.write('colour = "green"\n')
    assert run(["user", "list"]) == 1
    err = capsys.readouterr().err
    assert "unknown config key 'colour'" in err
    assert "known keys:" in err


def test_unreachable_database_leaves_no_half_made_workspace(tmp_path: Path) -> None:
    result = cli(
        "init", str(tmp_path / "w"), "--database-url", "postgresql://nobody@127.0.0.1:1/none"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("mlgrove: error: cannot reach database")
    assert not (tmp_path / "w" / ".mlgrove").exists()
    assert list((tmp_path / "w").iterdir()) == []


def test_people_and_tokens_from_the_cli(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    assert run(["team", "create", "Vision", "--description", "eyes"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    assert (
        run(["user", "create", "eli", "--role", "engineer", "--team", "Vision", "--password-stdin"])
        == 0
    )
    assert run(["user", "create", "bot", "--role", "engineer", "--no-password"]) == 0
    capsys.readouterr()
    assert run(["token", "create", "ci", "--for", "eli", "--days", "10"]) == 0
    captured = capsys.readouterr()
    secret = captured.out.strip()
    assert secret.startswith("grove_")
    assert "will not be shown again" in captured.err
    assert run(["token", "list", "--for", "eli"]) == 0
    listing = capsys.readouterr().out
    assert "active" in listing
    assert secret not in listing
    assert run(["token", "revoke", "1"]) == 0
    assert run(["--user", "eli", "token", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert run(["user", "create", "eli", "--role", "engineer", "--no-password"]) == 1
    assert "exists already" in capsys.readouterr().err
    assert run(["--user", "eli", "team", "create", "Mine"]) == 1
    assert "eli (engineer) may not manage teams" in capsys.readouterr().err


def test_user_update_deactivate_and_audit(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["team", "create", "Vision"]) == 0
    assert run(["user", "create", "eli", "--role", "engineer", "--no-password"]) == 0
    assert (
        run(["user", "update", "eli", "--role", "manager", "--team", "Vision", "--name", "Eli M"])
        == 0
    )
    assert run(["user", "deactivate", "eli"]) == 0
    capsys.readouterr()
    assert run(["user", "update", "eli"]) == 1
    assert "nothing to change" in capsys.readouterr().err
    assert run(["audit", "--limit", "3"]) == 0
    log = capsys.readouterr().out
    assert log.count("person.update") == 2
    assert "active=False" in log


def test_bad_role_is_a_usage_error(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["user", "create", "x1", "--role", "wizard", "--no-password"]) == 2
    assert "wizard" in capsys.readouterr().err


def test_fsck_exits_non_zero_on_damage(
    grove_workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "data.bin"
    f.write_bytes(b"some bytes")
    assert run(["object", "put", str(f)]) == 0
    address = capsys.readouterr().out.strip()
    assert run(["fsck"]) == 0
    assert "1 objects checked: 1 ok, 0 missing, 0 corrupt" in capsys.readouterr().out
    obj = grove_workspace.grove_dir / "objects" / address[:2] / address[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"bit rot")
    assert run(["fsck"]) == 1
    captured = capsys.readouterr()
    assert f"corrupt  {address}" in captured.out
    assert "does not match" in captured.err
    obj.unlink()
    assert run(["fsck"]) == 1
    assert f"missing  {address}" in capsys.readouterr().out


def test_upgrade_reports_up_to_date(
    grove_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_init_on_postgresql(tmp_path: Path, grove_postgres: object) -> None:
    from mlgrove.testing import services

    if isinstance(grove_postgres, str):
        services.unavailable(grove_postgres)
    assert isinstance(grove_postgres, services.PostgresServer)
    with grove_postgres.schema() as url:
        result = cli("init", str(tmp_path / "pg"), "--database-url", url)
        assert result.returncode == 0, result.stderr
        assert "postgresql" in result.stdout
        listed = cli("-w", str(tmp_path / "pg"), "team", "list")
        assert listed.returncode == 0, listed.stderr


def test_data_cli_contract(
    grove_workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    import pandas as pd

    rows = pd.DataFrame(
        {"id": range(1000), "text": [f"t{i % 50}" for i in range(1000)], "label": ["a", "b"] * 500}
    )
    rows.to_csv(tmp_path / "v1.csv", index=False)
    rows.assign(label=lambda d: d["label"].where(d["id"] != 3, "c")).iloc[:-10].to_csv(
        tmp_path / "v2.csv", index=False
    )
    capsys.readouterr()
    assert (
        run(
            [
                "data",
                "add",
                "tickets",
                str(tmp_path / "v1.csv"),
                "--key",
                "id",
                "-m",
                "first",
                "--json",
            ]
        )
        == 0
    )
    added = json.loads(capsys.readouterr().out)
    assert {"dataset": "tickets", "version": "v1", "rows": 1000}.items() <= added.items()
    assert len(added["address"]) == 64
    assert run(["data", "add", "tickets", str(tmp_path / "v2.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "v2"
    assert run(["data", "diff", "tickets", "v1", "v2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["added"], d["removed"], d["changed"]) == (0, 10, 1)
    assert (
        run(
            [
                "data",
                "split",
                "tickets",
                "v2",
                "--ratios",
                "train=0.8,test=0.2",
                "--seed",
                "1",
                "--json",
            ]
        )
        == 0
    )
    assert sum(json.loads(capsys.readouterr().out)["counts"].values()) == 990
    assert (
        run(["data", "leakage", "tickets", "v2", "--json"]) == 1
    )  # t{i%50} texts repeat across splits
    assert json.loads(capsys.readouterr().out)["overlapping_rows"] > 0
    assert run(["data", "log", "tickets", "--json"]) == 0
    assert [v["version"] for v in json.loads(capsys.readouterr().out)["versions"]] == ["v2", "v1"]
    assert run(["data", "show", "tickets", "v1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stats"]["rows"] == 1000
    assert run(["data", "export", "tickets", "v2", str(tmp_path / "out.csv")]) == 0
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 991
    assert run(["data", "lineage", "tickets", "v2"]) == 0
    assert "-[parent]->" in capsys.readouterr().out


def test_data_cli_errors_are_one_line(
    grove_workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,4,5\n")
    capsys.readouterr()
    assert run(["data", "add", "bad", str(tmp_path / "bad.csv")]) == 1
    assert capsys.readouterr().err == (
        "mlgrove: error: bad.csv line 3: expected 2 fields, found 3 "
        "(fix that line (a stray delimiter or an unquoted value?) and add the file again)\n"
    )
    assert run(["data", "show", "nope", "v1"]) == 1
    assert "there are no projects yet" in capsys.readouterr().err  # the failed add made nothing
    (tmp_path / "ok.csv").write_text("a\n1\n")
    assert run(["data", "add", "ok", str(tmp_path / "ok.csv")]) == 0
    capsys.readouterr()
    assert run(["data", "show", "nope", "v1"]) == 1
    assert "no dataset named 'nope' in project 'default'" in capsys.readouterr().err
    assert run(["data", "show", "ok", "v2"]) == 1
    assert "has no version 'v2'" in capsys.readouterr().err


def test_data_cli_against_a_server(
    grove_live_server: str,
    grove_factories: object,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    import pandas as pd

    from mlgrove.testing.factories import Factories

    assert isinstance(grove_factories, Factories)
    grove_factories.project("support")
    token = grove_factories.token(grove_factories.person("eli")).secret
    remote = ["--url", grove_live_server, "--token", token]
    rows = pd.DataFrame({"id": range(500), "text": [f"t{i}" for i in range(500)]})
    rows.to_csv(tmp_path / "v1.csv", index=False)
    rows.iloc[10:].to_csv(tmp_path / "v2.csv", index=False)
    capsys.readouterr()
    assert (
        run([*remote, "data", "add", "t", str(tmp_path / "v1.csv"), "--key", "id", "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["rows"] == 500
    assert run([*remote, "data", "add", "t", str(tmp_path / "v2.csv")]) == 0
    capsys.readouterr()
    assert run([*remote, "data", "diff", "t", "v1", "v2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == 10
    assert run([*remote, "data", "log", "t", "--json"]) == 0
    assert [v["version"] for v in json.loads(capsys.readouterr().out)["versions"]] == ["v2", "v1"]
    assert run([*remote, "data", "export", "t", "v2", str(tmp_path / "out.parquet")]) == 0
    assert pd.read_parquet(tmp_path / "out.parquet")["id"].tolist() == list(range(10, 500))
    assert run([*remote, "data", "status", "t", str(tmp_path)]) == 1
    assert "local workspace only" in capsys.readouterr().err
