"""An error's text that quotes an operator's e-mail address or phone number reaches no log and no run row."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from factory import innovation, score, submission, write_home

from flows.privacy import redact, redact_log_records
from flows.runs import run_row

SECRET = "siti.rahasia@pemda-contoh.go.id"


@pytest.mark.parametrize(("text", "shown"), [
    (f"could not convert string to float: '{SECRET}'", "could not convert string to float: '[e-mail]'"),
    ("hubungi 081299990000 atau +62 812-3456-7890", "hubungi [phone] atau [phone]"),
    ("0812.9999.0000", "[phone]"),
    # what is not a phone number or an address stays as it is
    ("published release 2 of 2024: 35.78 scored 84.46 (0.81 s)", None),
    ("release=12 08123456, 2024-08-02T23:59:59+07:00, 6281234", None),
    # decimals a value is written as (quoted in quarantine), not phone numbers
    ("3.0 / 0.8333333333; 62.8333333333 / 2", None),
])
def test_redact(text: str, shown: str | None) -> None:
    assert redact(text) == (text if shown is None else shown)


@pytest.mark.parametrize(("name", "contacts", "shown"), [
    ("35.78-1.json", (), None),  # most names: as they are, underscores and all
    ("kab_bogor_2024_final.xlsx", (), None),
    ("scan_20240801123456.xlsx", (), None),  # a long number that is no mobile number
    (f"{SECRET}.json", (), "[e-mail]"),  # an address eats the rest of the name: the sha256 tells files apart
    ("Inovasi_siti_081298765432_35.78-1.xlsx", (), "Inovasi siti [phone] 35.78-1.xlsx"),
    ("budi.0812-3456-7890.json", (), "budi.[phone].json"),
    ("2024-08-01_0812-3456-7890.json", (), "2024-08-01 [phone].json"),
    ("v0.8123456789.json", (), None),  # a decimal number
    # the file's own operator, as its header names him: by name (underscores read as spaces), e-mail, phone
    ("Budi_Santoso_35.78.json", ("Budi Santoso", None, None), "[name] 35.78.json"),
    ("ani-35.78.json", ("Ani", None, None), None),  # a contact under 4 characters is not looked for
    ("kirim 85212345678.json", (None, None, "+62 852-1234-5678"), "kirim [phone].json"),
])
def test_a_file_named_after_a_person_is_published_under_a_masked_name(
        name: str, contacts: tuple[str | None, ...], shown: str | None) -> None:
    from flows.privacy import shown_file

    sha = "0123456789abcdef" * 4
    assert shown_file(name, sha, *contacts) == (name if shown is None else f"{shown} (sha256 0123456789ab)")


def _redact_contact_as_written(text: str | None, name: str | None = None, email: str | None = None,
                               phone: str | None = None) -> str | None:
    """``redact_contact`` as it was before its contacts' parts were worked out once per contact (round 48): the
    reference it must equal."""
    import re

    from flows.privacy import _NOT_DIGIT, _digits

    if text is None:
        return None
    low = text.lower()
    if email and len(address := email.strip()) >= 4 and address.lower() in low:
        text = re.sub(re.escape(address), "[e-mail]", text, flags=re.IGNORECASE)
    if phone and len(digits := _digits(phone)) >= 7 and digits in _NOT_DIGIT.sub("", text):
        spaced = r"[\s.-]?".join(digits)
        text = re.sub(rf"(?<!\d)(?:(?:\+?62|0)[\s.-]?)?{spaced}(?!\d)", "[phone]", text)
    if name and len(name.strip()) >= 4 and all(word.lower() in low for word in name.split()):
        words = r"\s+".join(re.escape(w) for w in name.split())
        text = re.sub(rf"(?<!\w){words}(?!\w)", "[name]", text, flags=re.IGNORECASE)
    return redact(text)


_CONTACTS = [("Budi Santoso", "Budi.Santoso@Pemda.go.id", "0812-3456-7890"), ("Ani", "a@b", "12345"),
             (" Siti  Aminah ", " siti@x.id ", "+62 852 1234 5678"), ("R. (Dr) Putra+", None, "628111222333"),
             (None, None, None), ("", "", ""), ("Ölçü Şahin", None, "٠٨١٢٣٤٥٦٧٨٩٠")]
_TEXTS = [None, "", "level 2; value 0 gives level 3", "hubungi budi santoso di 081234567890",
          "BUDI.SANTOSO@PEMDA.GO.ID", "kirim ke +62 812 3456 7890 atau 8123456789", "85212345678",
          "852-1234-567", "1234567", "Siti Aminah, siti@x.id", "r. (dr) putra+ 628111222333", "ölçü şahin ٠٨١٢٣٤٥٦٧٨٩٠",
          "٨١٢٣٤٥٦٧٨٩٠ and 0812 3456 7890", "Budi  Santoso", "budisantoso", "x" * 40 + "0812-3456-7890"]


@pytest.mark.parametrize("contact", _CONTACTS)
def test_a_quote_masks_what_it_masked_before_its_contact_was_worked_out_once(
        contact: tuple[str | None, str | None, str | None]) -> None:
    """Every text against every contact, twice (the second time from the kept parts), as the code before it:
    a contact in another case, spaced, with the phone in other digits (Arabic-Indic) or as few digits as it has."""
    from flows.privacy import redact_contact

    for _ in range(2):
        for text in _TEXTS:
            assert redact_contact(text, *contact) == _redact_contact_as_written(text, *contact), (text, contact)


def test_log_records_are_redacted_whatever_handler_writes_them() -> None:
    redact_log_records()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("iid.privacy-test")  # redacted where made, under any logger
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"could not convert string to float: '{SECRET}'")
        except ValueError:
            logger.exception("Task run failed for %s (phone %s)", SECRET, "081299990000")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "ValueError" in written and "Task run failed" in written
    assert SECRET not in written and "081299990000" not in written and "[e-mail]" in written


def test_a_failed_runs_message_is_redacted() -> None:
    row = run_row({"run_id": "r", "year": 2024}, status="failed", message=f"IO Error: {SECRET} 081299990000")
    assert row["message"] == "IO Error: [e-mail] [phone]"


def test_quoted_values_mask_an_operators_contact(tmp_path: Path) -> None:
    """What quarantine and data_quality quote of a record (published, and shown by iid feedback and the region
    pages) masks an operator's contact typed where it does not belong: before, the value was quoted as
    written, so an e-mail address given as evidence or a phone number given as a level was published."""
    name, email, phone = "Siti Operator Rahasia", "siti.rahasia@example.go.id", "081299990000"
    sub = submission("35.78", spd_total=25, innovations=[innovation("SBY-1", 40, form=name.upper())],
                     name=f"Kota Surabaya ({email})")
    sub["operator"] = {"name": name, "email": email, "phone": phone}
    sub["spd"][0]["evidence"] = [f"mailto:{email.upper()}", "wa +62 812-9999-0000", name]
    sub["spd"][1]["level"] = phone                 # as text
    sub["spd"][2]["level"] = int(phone)            # as a number: 81299990000, the leading 0 gone
    other = submission("35.15", spd_total=25)
    other["spd"][0]["evidence"] = ["budi.rahasia@pemda.go.id"]   # another address: masked by its shape
    duplicate = json.dumps(submission("11", spd_total=25))[:-1] + ', "budi.rahasia@pemda.go.id": 1, ' \
                                                                  '"budi.rahasia@pemda.go.id": 2}'
    home = write_home(tmp_path, 2024, {"35.78-1.json": sub, "35.15-1.json": other, "11-1.json": duplicate},
                      verification=[{"region_code": "35.78", "innovation_id": "", "indicator": "1",
                                     "decision": "adjust", "verified_level": phone, "note": email}])
    con = score(home, 2024)
    try:
        quoted = [row for table in ("quarantine", "data_quality")
                  for row in con.execute(f"select source_file, locator, rule, value from {table}").fetchall()]
    finally:
        con.close()
    values = {(f, loc, rule): value for f, loc, rule, value in quoted}
    text = "\n".join(str(v) for v in values.values()).lower()
    for secret in (email, "budi.rahasia", "siti operator", phone[1:], "812-9999"):
        assert secret not in text, f"{secret} is quoted in {[k for k, v in values.items() if secret in str(v).lower()]}"
    assert values["35.78-1.json", "$.spd[0].evidence[0]", "EVD001"] == "mailto:[e-mail]"
    assert values["35.78-1.json", "$.spd[0].evidence[1]", "EVD001"] == "wa [phone]"
    assert values["35.78-1.json", "$.spd[0].evidence[2]", "EVD001"] == "[name]"
    assert values["35.78-1.json", "$.spd[1]", "ANS003"] == values["35.78-1.json", "$.spd[2]", "ANS003"] == "[phone]"
    assert values["35.78-1.json", "$.innovations[0]", "INO002"] == "[name]"
    assert values["35.15-1.json", "$.spd[0].evidence[0]", "EVD001"] == "[e-mail]"
    assert values["11-1.json", "(file)", "FIL009"] == "key '[e-mail]' appears twice in one JSON object"
    assert "[e-mail]" in values["35.78-1.json", "$", "SUB007"]  # the region name, kept but flagged
    assert "[phone]" in next(v for (f, _, rule), v in values.items() if f.startswith("verification/"))


def test_quotes_are_remembered_between_runs_under_their_key(tmp_path: Path) -> None:
    """A re-run looks up the quotes an earlier run worked out (a national year's are ~0.4 s of Python)
    and works out only new ones; quotes kept under another key (other code) are dropped."""
    import duckdb

    from flows.privacy import QUOTES_TABLE, remembered_quotes

    email = "siti.rahasia@example.go.id"
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    con.execute("create table v (text varchar, name varchar, email varchar, phone varchar)")
    con.execute("insert into v values (?, 'Siti Operator', ?, '081299990000'), ('12.5 / 3', null, null, null), "
                "('level 3; value 2', 'Siti Operator', ?, '081299990000'), (null, null, null, null), "
                "('level 3; value 2', 'Siti Operator', ?, '081299990000'), ('Siti  operator', 'Siti Operator', ?, "
                "null)", [f"mailto:{email}", email, email, email, email])
    quoted = "select iid_quote(text, name, email, phone) from v order by rowid"

    def run(key: str, extra: str | None = None) -> tuple[list[str | None], int]:
        if extra is not None:
            con.execute("insert into v values (?, 'Siti Operator', ?, null)", [extra, email])
        with remembered_quotes(con, key) as quotes:
            values = [v for (v,) in con.execute(quoted).fetchall()]
        return values, len(quotes.worked_out)

    first, worked = run("k1")
    assert first == ["mailto:[e-mail]", "12.5 / 3", "level 3; value 2", None, "level 3; value 2", "[name]"]
    assert worked == 3  # each distinct row once; the number is not quoted through Python, nor the null
    assert run("k1") == (first, 0)
    again, worked = run("k1", extra="wa 0812 9999 0000")
    assert again == [*first, "wa [phone]"] and worked == 1
    assert con.execute(f"select count(*) from {QUOTES_TABLE}").fetchall()[0][0] == 4
    assert run("k2") == (again, 4)  # another key: worked out again, and kept under it alone
    assert con.execute(f"select key, count(*) from {QUOTES_TABLE} group by key").fetchall() == [("k2", 4)]
    con.execute("delete from v where rowid = 0")
    assert run("k2") == (again[1:], 0)

    try:  # a run cut short keeps nothing it worked out
        with remembered_quotes(con, "k2"):
            con.execute("insert into v values ('x@y.org', null, null, null)")
            con.execute(quoted).fetchall()
            raise RuntimeError("stop")
    except RuntimeError:
        pass
    assert con.execute(f"select count(*) from {QUOTES_TABLE}").fetchall()[0][0] == 4
