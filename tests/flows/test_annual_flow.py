"""The annual Prefect flow on a small generated year in a temp home (temporary Prefect server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factory import submission, write_home
from loglines import log_lines

from flows.generator import generate_year
from flows.settings import Home, configure_prefect_defaults

TABLES = ("region_scores", "innovation_scores", "indicator_scores", "quarantine", "submissions")


LOG_LINES: list[str] = []
RAW_BEFORE: dict[str, str] = {}
COPY_TO: list[Path] = []  # where the first run copies its release


def _raw_digests(home: Home) -> dict[str, str]:
    from flows.versioning import sha256_file

    return {p.relative_to(home.raw).as_posix(): sha256_file(p) for p in sorted(home.raw.rglob("*")) if p.is_file()}


OTHER_PHONE = "0812-7777-6666"  # in a file's name, not its operator's: a mobile number all the same
NAMED_AFTER: dict[str, str] = {}  # a raw file named after a person (below) -> its name as published, but the sha256


def _name_files_after_operators(home: Home) -> None:
    """File names carry no meaning (CONTRACT §2), and an operator may put a contact in one: three files of regions
    that submitted once are renamed, one after its operator's name (words joined by underscores) and phone, one
    after its operator's e-mail address, and an XLSX after a mobile number that is no operator's."""
    import re

    raw = home.raw_year(2024)
    once = sorted(p for p in raw.iterdir() if p.is_file() and re.fullmatch(r"[\d.]+-1\.(json|xlsx)", p.name)
                  and not list(raw.glob(p.name.split("-")[0] + "-2.*")))
    jsons, xlsx = [p for p in once if p.suffix == ".json"], [p for p in once if p.suffix == ".xlsx"]
    operators = [json.loads(p.read_text(encoding="utf-8")).get("operator") for p in jsons[:2]]
    assert all(isinstance(o, dict) and o.get("name") and o.get("email") and o.get("phone") for o in operators)
    renames = {  # path -> (its new name, that name as published before its sha256)
        jsons[0]: (f"{operators[0]['name'].replace(' ', '_')}_{operators[0]['phone']}_{jsons[0].name}",
                   f"[name] [phone] {jsons[0].name}"),
        jsons[1]: (f"{operators[1]['email']} {jsons[1].name}", f"[e-mail] {jsons[1].name}"),
        xlsx[0]: (f"Inovasi_{OTHER_PHONE}_{xlsx[0].name}", f"Inovasi [phone] {xlsx[0].name}")}
    for path, (name, shown) in renames.items():
        path.rename(raw / name)
        NAMED_AFTER[name] = shown


@pytest.fixture(scope="module")
def flow_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict[str, Any], dict[str, Any]]:
    configure_prefect_defaults()
    from flows.annual import annual

    home = Home.resolve(tmp_path_factory.mktemp("flow"))
    generate_year(home, 2024, seed=7, scale=0.05, defect_rate=0.05)
    _name_files_after_operators(home)
    RAW_BEFORE.update(_raw_digests(home))
    with log_lines("", "prefect") as lines:
        COPY_TO.append(tmp_path_factory.mktemp("copy") / "iid")
        first = annual(year=2024, home=str(home.root), copy_to=str(COPY_TO[0]))
        second = annual(year=2024, home=str(home.root))
    LOG_LINES.extend(lines)
    return home, first, second


def test_release_folder_and_manifest(flow_home: tuple[Home, dict[str, Any], dict[str, Any]]) -> None:
    home, first, _ = flow_home
    release = home.published_year(2024) / "release=1"
    assert first["publish"]["published"] and Path(first["publish"]["path"]) == release
    for table in TABLES:
        assert (release / f"{table}.parquet").is_file()
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["year"] == 2024 and manifest["release"] == 1
    assert manifest["methodology"]["id"] == "iid-2023" and len(manifest["methodology"]["sha256"]) == 64
    assert manifest["counts"]["pemda"] == 546
    assert manifest["counts"]["submitted"] == first["validate"]["submissions"]["counting"]
    assert sum(manifest["counts"]["predicates"].values()) == 546
    assert manifest["files"]["region_scores.parquet"]["rows"] == 546
    recon = manifest["reconciliation"]
    assert recon["read"] == recon["scored"] + recon["quarantined"] + recon["superseded"] + recon["late"]
    raw_files = sorted(p.relative_to(home.raw_year(2024)).as_posix() for p in home.raw_year(2024).rglob("*")
                       if p.is_file() and not p.relative_to(home.raw_year(2024)).parts[0].startswith("_"))
    # a file named after a person is listed by its shown name: the contact masked, the start of its sha256
    assert len(NAMED_AFTER) == 3 and set(NAMED_AFTER) <= set(raw_files)
    shown = {name: f"{masked} (sha256 {RAW_BEFORE[f'2024/{name}'][:12]})" for name, masked in NAMED_AFTER.items()}
    assert sorted(i["file"] for i in manifest["inputs"]) == sorted(shown.get(f, f) for f in raw_files)
    con = duckdb.connect()  # and so in every table that names a file
    for table in (*TABLES, "data_quality", "reconciliation"):
        column = "submission_file" if table == "region_scores" else "source_file"
        named = {r[0] for r in con.execute(f"select distinct {column} from read_parquet(?)",
                                           [str(release / f"{table}.parquet")]).fetchall()}
        assert not named & set(NAMED_AFTER), table
        if table in ("region_scores", "submissions", "reconciliation"):
            assert set(shown.values()) <= named, table
    for name, entry in manifest["files"].items():
        from flows.versioning import sha256_file

        assert sha256_file(release / name) == entry["sha256"]


def test_catalog_views_and_one_row_per_pemda(flow_home: tuple[Home, dict[str, Any], dict[str, Any]]) -> None:
    home, _, _ = flow_home
    con = duckdb.connect(str(home.catalog), read_only=True)
    kinds = dict(con.execute("select table_name, table_type from information_schema.tables").fetchall())
    for view in (*TABLES, "releases"):
        assert kinds.get(view) == "VIEW"
    assert set(kinds.values()) == {"VIEW"}
    rows, codes = con.execute("select count(*), count(distinct region_code) from region_scores").fetchall()[0]
    assert rows == codes == 546
    assert con.execute("select release from releases").fetchall() == [(1,)]
    runs = con.execute("select status, stage_seconds, stages_skipped from runs order by started_at").fetchall()
    assert [r[0] for r in runs] == ["published", "unchanged"]
    assert set(json.loads(runs[0][1])) == {"ingest", "validate", "transform", "publish", "copy"}
    assert set(json.loads(runs[1][2])) == {"ingest", "validate", "transform"}
    assert con.execute("select distinct release from region_scores").fetchall() == [(1,)]


def test_second_identical_run_publishes_nothing(flow_home: tuple[Home, dict[str, Any], dict[str, Any]]) -> None:
    home, _, second = flow_home
    assert not second["publish"]["published"]
    assert "nothing changed" in second["publish"]["message"]
    assert sorted(p.name for p in home.published_year(2024).iterdir()) == ["release=1"]


def test_published_files_hold_no_personal_data(flow_home: tuple[Home, dict[str, Any], dict[str, Any]]) -> None:
    home, _, _ = flow_home
    operators = duckdb.connect().execute(
        "select name, email, phone from read_parquet(?)", [str(home.private_dir(2024) / "operators.parquet")]
    ).fetchall()
    secrets = {v for row in operators for v in row if v}
    assert len(secrets) > 100
    # only the owner may read the operators' contacts, or the work database that holds them too
    private = home.private_dir(2024)
    assert [oct(p.stat().st_mode & 0o777) for p in (private.parent, private, private / "operators.parquet",
                                                     home.work_db(2024).parent)] == ["0o700", "0o700", "0o600", "0o700"]
    reader = duckdb.connect()
    blob = b"".join(  # Parquet and XLSX are decoded (their strings may be compressed); every other file read as bytes
        str(reader.execute("select * from read_parquet(?)", [str(p)]).fetchall()).encode() if p.suffix == ".parquet"
        else _unzipped(p) if p.suffix == ".xlsx"
        else p.read_bytes() for p in [*home.published.rglob("*"), *COPY_TO[0].rglob("*")] if p.is_file())
    # the raw files named after a person (_name_files_after_operators) and the mobile number in one's name
    secrets |= {*NAMED_AFTER, OTHER_PHONE, OTHER_PHONE.replace("-", "")}
    con = duckdb.connect(str(home.catalog), read_only=True)
    views = " ".join(str(con.execute(f"select * from {v}").fetchall()) for (v,) in con.execute(
        "select table_name from information_schema.tables").fetchall())
    logs = "\n".join(LOG_LINES)
    assert "ingest 2024" in logs and "publish 2024" in logs  # the stage logs were captured
    assert _found(secrets, blob + views.encode() + logs.encode()) == set()
    assert _found(secrets, b"x " + sorted(secrets)[0].encode() + b" y") == {sorted(secrets)[0]}  # the search finds
    assert list((home.published_year(2024) / "release=1" / "report" / "region").glob("*.html"))


def _unzipped(path: Path) -> bytes:
    """Every member of a zip file (an XLSX workbook), uncompressed."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return b"".join(archive.read(member) for member in archive.namelist())


def _found(secrets: set[str], blob: bytes) -> set[str]:
    """The secrets found anywhere in blob, byte for byte: one Aho-Corasick pass over ~70 MB (0.9 s), where a
    substring search per secret (1,400 of them) took 50 s. Latin-1 maps each byte to one character."""
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for secret in secrets:
        automaton.add_word(secret.encode().decode("latin-1"), secret)
    automaton.make_automaton()
    return {secret for _, secret in automaton.iter(blob.decode("latin-1"))}


def test_drop_zone_is_read_never_written(flow_home: tuple[Home, dict[str, Any], dict[str, Any]]) -> None:
    home, _, _ = flow_home
    assert RAW_BEFORE and _raw_digests(home) == RAW_BEFORE


def test_data_docs_open_from_the_release(flow_home: tuple[Home, dict[str, Any], dict[str, Any]]) -> None:
    home, _, _ = flow_home
    release = home.published_year(2024) / "release=1"
    index = release / "validation" / "index.html"
    assert index.is_file()
    html = index.read_text(encoding="utf-8")
    listing = html[html.index('id="iid-offline-listing"'):]  # plain links: GX's own tables need CDN scripts
    every_suite = {"files", "submissions", "spd_answers", "innovations", "sid_answers", "evidence",
                   "counting_submissions", "verification"}
    for suite in every_suite:
        assert f"<strong>{suite}</strong>" in listing
        assert (release / "validation" / "expectations" / f"{suite}.html").is_file()
    manifest = json.loads((release / "manifest.json").read_text())
    suites = {s["suite"]: s for s in manifest["validation"]["suites"]}
    assert set(suites) == every_suite
    assert all(s["evaluated_expectations"] >= s["successful_expectations"] for s in suites.values())
    assert "validation/index.html" in manifest["files"]


def test_the_flow_copies_its_release_when_asked(flow_home: tuple[Home, dict[str, Any], dict[str, Any]]) -> None:
    home, first, second = flow_home
    location = COPY_TO[0]
    assert [tuple(c) for c in first["copy"]["copied"]] == [(2024, 1)] and "copy" not in second
    release = home.published_year(2024) / "release=1"
    copied = location / "year=2024" / "release=1"
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    assert (copied / "manifest.json").read_bytes() == (release / "manifest.json").read_bytes()
    from flows.versioning import sha256_file

    assert all(sha256_file(copied / name) == entry["sha256"] for name, entry in manifest["files"].items())
    query = "select region_code, iid, predicate from region_scores order by region_code"
    ours, theirs = duckdb.connect(str(home.catalog), read_only=True), duckdb.connect(str(location / "iid.duckdb"),
                                                                                  read_only=True)
    try:
        assert theirs.execute(query).fetchall() == ours.execute(query).fetchall()
        assert theirs.execute("select path from releases").fetchall() == [(str(copied),)]
    finally:
        ours.close()
        theirs.close()
    runs = duckdb.connect(str(home.catalog), read_only=True)
    try:
        params = runs.execute("select parameters, stage_seconds from runs where release = 1 and status = 'published'")
        parameters, seconds = params.fetchall()[0]
    finally:
        runs.close()
    assert json.loads(parameters)["copy_to"] == str(location) and "copy" in json.loads(seconds)


def test_the_flow_run_from_a_later_stage_needs_the_earlier_ones(flow_home: tuple[Home, dict[str, Any], dict[str, Any]],
                                                                tmp_path: Path) -> None:
    """The flow checks too (the CLI checks before Prefect starts): a new home has nothing scored to publish."""
    from flows.annual import annual
    from flows.pipeline import StageNotReady

    home = write_home(tmp_path, 2024, {"a.json": submission("35.78", spd_total=30)})
    with pytest.raises(StageNotReady, match=r"^2024 has not been scored yet in "):
        annual(year=2024, home=str(home.root), from_stage="publish")
    assert not home.published.exists() or not any(home.published.iterdir())
