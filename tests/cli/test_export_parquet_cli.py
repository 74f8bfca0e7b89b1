"""`practice export parquet DIR`, read back with DuckDB as an analyst would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import Practice

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

FIXTURES = Path(__file__).parent.parent / "fixtures" / "legacy"


def _imported(db_url: str, tmp_path: Path) -> Practice:
    practice = Practice(db_url)
    source = shutil.copytree(FIXTURES / "generic", tmp_path / "generic")
    practice.ok("migrate", "import", str(source), "--format", "generic",
                "--rejects", str(tmp_path / "rejects.csv"))
    return practice


def _sql(out: Path, query: str) -> list[tuple[object, ...]]:
    """DuckDB over the exported datasets, each a view of its hive-partitioned files."""
    conn = duckdb.connect()
    for dataset in ("visits", "measures", "programs", "referrals", "lapses"):
        if (out / dataset).exists():
            conn.execute(f"CREATE VIEW {dataset} AS SELECT * FROM read_parquet("
                         f"'{out / dataset}/**/*.parquet', hive_partitioning = true)")
    rows: list[tuple[object, ...]] = conn.execute(query).fetchall()
    return rows


def test_duckdb_finds_the_figures_of_report_retention(db_url: str, tmp_path: Path) -> None:
    practice = _imported(db_url, tmp_path)
    out = tmp_path / "facts"
    practice.ok("export", "parquet", str(out))
    report = practice.json("report", "retention", "--format", "json")

    [(visits, new_clients)] = _sql(out, "SELECT count(*), count(DISTINCT client_id) FROM "
                                        "visits WHERE event = 'completed'")
    assert (visits, new_clients) == (report["kpis"]["visits"], report["kpis"]["new_clients"])
    cohorts = _sql(out, """
        SELECT strftime(first, '%Y-%m') AS cohort, count(*) FROM (
            SELECT client_id, min(occurred_on) AS first FROM visits
            WHERE event = 'completed' GROUP BY client_id)
        GROUP BY cohort ORDER BY cohort""")
    assert cohorts == [(c["cohort"], c["clients"]) for c in report["cohorts"]]


def test_a_second_run_adds_only_what_is_new(db_url: str, tmp_path: Path) -> None:
    practice = _imported(db_url, tmp_path)
    out = tmp_path / "facts"
    practice.ok("export", "parquet", str(out))
    files = set(out.rglob("*.parquet"))
    [(before,)] = _sql(out, "SELECT count(*) FROM visits")

    again = practice.run("export", "parquet", str(out))
    assert "nothing new" in again.stderr
    assert set(out.rglob("*.parquet")) == files

    ann = practice.new("client", "intake", "--name", "Zoe New", "--on", "2026-01-02")
    practice.new("visit", "complete", ann, "--practitioner", "Mia", "--measure", "pain=4",
                 "--on", "2026-01-05T10:00")
    practice.ok("export", "parquet", str(out))
    assert files < set(out.rglob("*.parquet"))
    [(after,)] = _sql(out, "SELECT count(*) FROM visits")
    assert after == before + 1
    assert _sql(out, "SELECT practitioner, month FROM visits WHERE client_id = "
                     f"'{ann}'") == [("Mia", "2026-01")]
    assert _sql(out, f"SELECT measure, value FROM measures WHERE client_id = '{ann}'") == [
        ("pain", 4.0)]


def test_no_personal_text_is_exported(db_url: str, tmp_path: Path) -> None:
    practice = Practice(db_url)
    ann = practice.new("client", "intake", "--name", "Annabel Quux", "--email", "aq@x.org",
                       "--condition", "Zyxwvu syndrome", "--on", "2026-01-02")
    practice.new("visit", "complete", ann, "--notes", "Qwertyuiop notes",
                 "--on", "2026-01-05T10:00")
    out = tmp_path / "facts"
    practice.ok("export", "parquet", str(out))
    stored = b"".join(path.read_bytes() for path in out.rglob("*") if path.is_file())
    for secret in (b"Annabel", b"aq@x.org", b"Zyxwvu", b"Qwertyuiop"):
        assert secret not in stored


def test_a_run_killed_before_its_manifest_is_written_again(db_url: str,
                                                           tmp_path: Path) -> None:
    practice = _imported(db_url, tmp_path)
    out = tmp_path / "facts"
    practice.ok("export", "parquet", str(out))
    (out / "manifest.json").unlink()  # as if the run had died before writing it
    practice.ok("export", "parquet", str(out))
    report = practice.json("report", "retention", "--format", "json")
    [(visits,)] = _sql(out, "SELECT count(*) FROM visits WHERE event = 'completed'")
    assert visits == report["kpis"]["visits"]  # nothing twice


def test_a_group_exports_every_practice_in_its_own_partition(group_url: str,
                                                              tmp_path: Path) -> None:
    group = Practice(group_url)
    for name in ("north", "south"):
        group.ok("group", "add", name)
        client = group.new("--practice", name, "client", "intake", "--name", "Ann Lee",
                           "--on", "2026-01-02")
        group.new("--practice", name, "visit", "complete", client, "--on", "2026-01-05T10:00")
    out = tmp_path / "facts"
    group.ok("export", "parquet", str(out))
    assert _sql(out, "SELECT practice, count(*) FROM visits GROUP BY practice "
                     "ORDER BY practice") == [("north", 1), ("south", 1)]
    assert (out / "visits" / "practice=north" / "month=2026-01").is_dir()
