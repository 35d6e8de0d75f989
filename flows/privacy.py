"""What an error's text may quote of the input must not reach the runs view or a log.

An error raised on a value it could not handle (a converter, DuckDB, a reader) can quote that value,
and a value can be an operator's e-mail address or phone number. Messages stored with a failed run
and every log record of the process are passed through :func:`redact`. (Names cannot be told from
other text; the readers and the suites never put an operator's fields into a message.)

What a rejected or warned record quotes of the input (``quarantine.value``, ``data_quality.value``, published
and shown by ``iid feedback`` and the region pages) goes through :func:`redact_contact`: an operator's
contact typed where it does not belong (an e-mail address as evidence, a phone number as a value, the
operator's name as a region name) is quoted as ``[e-mail]``, ``[phone]`` or ``[name]``. Besides the
patterns of :func:`redact`, it masks the file's own operator's name, e-mail and phone as the header gives
them, ignoring case, and the phone's digits however they are written (a number cell drops the leading 0).
The validate stage keeps each distinct quote in the work database (:func:`remembered_quotes`), so a re-run
works out only the quotes of rows it has not quoted before.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# an Indonesian mobile number: 08…, 62 8… or +62 8…, 9–13 digits, spaces, dots or hyphens between them (but
# no dot right after the 0 or 62: 0.8333333333 and 62.8333333333 are numbers a value is written as)
_PHONE = re.compile(r"(?<![\w.])(?:\+?62[\s-]?|0[\s-]?)8(?:[\s.-]?\d){7,11}(?![\w.])")
_installed = False
REDACT_FUNCTION = "iid_redact"  # the Python function :func:`register_redaction` puts on a connection


def redact(message: str) -> str:
    """A message with every e-mail address and Indonesian mobile number in it replaced by a mark."""
    if "@" not in message and "8" not in message:  # most log lines: nothing to look for
        return message
    return _PHONE.sub("[phone]", _EMAIL.sub("[e-mail]", message))


_NOT_DIGIT = re.compile(r"\D")


def _digits(phone: str) -> str:
    """A phone number's own digits: without separators, the trunk 0 and the country code 62."""
    digits = _NOT_DIGIT.sub("", phone)
    return digits[2:] if digits.startswith("62") else digits[1:] if digits.startswith("0") else digits


@lru_cache(maxsize=4096)
def _contact_parts(name: str | None, email: str | None, phone: str | None
                   ) -> tuple[tuple[str, str] | None, str | None, tuple[str, ...] | None]:
    """What :func:`redact_contact` looks for of one operator's contact, worked out once per contact (a national
    year's ~18,000 warned values share ~530 of them): the e-mail address as written and lower-cased, the phone's
    own digits, the name's words lower-cased; None for a contact too short to look for. The patterns that mask them are
    made only where one is found (``re`` keeps them)."""
    address = email.strip() if email else None
    digits = _digits(phone) if phone else None
    words = tuple(word.lower() for word in name.split()) if name and len(name.strip()) >= 4 else None
    return ((address, address.lower()) if address and len(address) >= 4 else None,
            digits if digits and len(digits) >= 7 else None, words)


_ASCII_DIGITS = "0123456789"


def redact_contact(text: str | None, name: str | None = None, email: str | None = None,
                   phone: str | None = None) -> str | None:
    """``text`` with the given operator contact (a file's header: name, e-mail, phone) masked wherever it
    occurs, ignoring case (the phone by its digits, with or without 0, 62 or +62 and separators between
    them), then every e-mail address and Indonesian mobile number (:func:`redact`). Contacts shorter than
    4 characters (7 digits for a phone) are not looked for: they would mask ordinary text."""
    if text is None:
        return None
    low = text.lower()  # each contact is looked for with a regular expression only where its text is there
    address, digits, words = _contact_parts(name, email, phone)
    if address and address[1] in low:
        text = re.sub(re.escape(address[0]), "[e-mail]", text, flags=re.IGNORECASE)
    # the phone's digits are looked for among the text's: an ASCII text with fewer digits cannot hold them
    if digits and (not text.isascii() or sum(map(text.count, _ASCII_DIGITS)) >= len(digits)) \
            and digits in _NOT_DIGIT.sub("", text):
        spaced = r"[\s.-]?".join(digits)
        text = re.sub(rf"(?<!\d)(?:(?:\+?62|0)[\s.-]?)?{spaced}(?!\d)", "[phone]", text)
    if name and words and all(word in low for word in words):
        pattern = r"\s+".join(re.escape(w) for w in name.split())
        text = re.sub(rf"(?<!\w){pattern}(?!\w)", "[name]", text, flags=re.IGNORECASE)
    return redact(text)


# A mobile number in a file name: as :data:`_PHONE`, but an underscore or a dot around it is a separator
# (``Inovasi_siti_081298765432_x.xlsx``, ``budi.081298765432.json``), unless the dot belongs to a decimal number
_FILE_PHONE = re.compile(r"(?<![^\W_])(?<!\d\.)(?:\+?62[\s-]?|0[\s-]?)8(?:[\s.-]?\d){7,11}(?![^\W_])(?!\.\d)")


def shown_file(name: str, sha256: str | None = None, operator_name: str | None = None,
               operator_email: str | None = None, operator_phone: str | None = None) -> str:
    """How a raw file is named where it is published (``source_file``, ``submission_file``, the manifest's
    inputs, and the report and feedback built from them): ``name`` itself, or, when it holds a contact (its own
    operator's name, e-mail or phone as its header gives them, or any e-mail address or mobile number:
    :func:`redact_contact` and :data:`_FILE_PHONE`, underscores read as spaces), the name so masked and the
    first 12 hex digits of the file's sha256, so that two files whose names mask alike (``budi@…json``,
    ``siti@…json``) stay apart and each can be found by its bytes. File names carry no meaning (CONTRACT §2),
    but an operator may name a file after himself."""
    # an underscore separates words in a file name (Budi_Santoso_35.78.json); numbers first, as they are written
    spaced = _FILE_PHONE.sub("[phone]", name).replace("_", " ")
    shown = redact_contact(spaced, operator_name, operator_email, operator_phone) or spaced
    if shown == name.replace("_", " "):
        return name
    return f"{shown} (sha256 {sha256[:12]})" if sha256 else shown


SHOWN_FILES_TABLE = "shown_files"


def register_shown_files(con: duckdb.DuckDBPyConnection) -> int:
    """The table :data:`SHOWN_FILES_TABLE` (``source_file``, ``shown``) in the work database of ``con``: every file
    of it (submissions, with their operators' contacts, and verification decisions) whose name is published
    otherwise (:func:`shown_file`), most years none; and the macro ``iid_shown(source_file)``, the name as
    published. Both are the database's, not the connection's, so that a cursor (the frames' reader) sees them.
    Returns how many files are shown otherwise."""
    rows = con.execute(
        "select f.source_file, f.sha256, o.name, o.email, o.phone from landing_files f "
        "left join landing_operators o using (file_id) "
        "union all select source_file, sha256, null, null, null from landing_verification_files").fetchall()
    shown = [(row[0], shown_file(*row)) for row in rows]
    con.execute(f"create or replace table {SHOWN_FILES_TABLE} (source_file varchar, shown varchar)")
    changed = [(name, masked) for name, masked in shown if masked != name]
    if changed:
        con.executemany(f"insert into {SHOWN_FILES_TABLE} values (?, ?)", changed)  # noqa: S608
    con.execute("create or replace macro iid_shown(f) as coalesce((select s.shown "  # noqa: S608 - ours
                f"from {SHOWN_FILES_TABLE} s where s.source_file = f), f)")
    return len(changed)


# The quotes worked out by earlier runs, kept in the work database (private, as the operators' contacts it
# copies from landing_operators): (text, name, email, phone) -> quote, under the key they were worked out with
QUOTES_TABLE = "contact_quotes"
QuoteKey = tuple[str | None, str | None, str | None, str | None]
_QUOTABLE = ("regexp_matches(text, '[^0-9 .,/+-]') or length(regexp_replace(text, '[^0-9]', '', 'g')) >= 7")


class Quotes:
    """:func:`redact_contact` over rows, each distinct row worked out once; ``worked_out``: those rows, with
    their quotes."""

    def __init__(self) -> None:
        self.worked_out: dict[QuoteKey, str | None] = {}

    def quote(self, row: QuoteKey) -> str | None:
        if row in self.worked_out:
            return self.worked_out[row]
        quoted = self.worked_out[row] = redact_contact(*row)
        return quoted


def register_redaction(con: duckdb.DuckDBPyConnection, known: str) -> Quotes:
    """:func:`redact_contact` as the SQL function ``iid_redact(text, name, email, phone)`` on ``con``, and the
    macro ``iid_quote`` with the same arguments that the quarantine and data_quality models call:
    ``iid_redact`` where the text can hold a contact (a character other than digits and ``.,/+-`` and
    spaces, or seven digits), the text itself where it cannot (most warnings quote numbers, ``12.5 / 3``: a
    national year's data_quality has ~100,000 rows). ``known``: a table of quotes worked out before (as
    :data:`QUOTES_TABLE`: the text quoted, the operator's name, e-mail and phone, the quote), looked up
    first. Returns the rows ``iid_redact`` worked out."""
    import pyarrow as pa
    from duckdb import func

    quotes = Quotes()

    # DuckDB reads the signature: four parameters, annotated with names it can resolve
    def vectorised(text: Any, name: Any, email: Any, phone: Any) -> Any:
        rows = zip(text.to_pylist(), name.to_pylist(), email.to_pylist(), phone.to_pylist(), strict=True)
        return pa.array([quotes.quote(row) for row in rows], pa.string())

    with suppress(Exception):  # not registered on this connection yet
        con.remove_function(REDACT_FUNCTION)
    con.create_function(REDACT_FUNCTION, vectorised, ["VARCHAR"] * 4, "VARCHAR", type=func.PythonUDFType.ARROW,
                        null_handling=func.FunctionNullHandling.SPECIAL, side_effects=False)
    # ``known`` is a table name of this module's, never user data
    redacted = (f"coalesce((select k.quoted from {known} k where k.quoted_text = text "  # noqa: S608
                "and k.operator_name is not distinct from name and k.operator_email is not distinct from email "
                f"and k.operator_phone is not distinct from phone), {REDACT_FUNCTION}(text, name, email, phone))")
    con.execute("create or replace temp macro iid_quote(text, name, email, phone) as case "
                f"when text is null then null when {_QUOTABLE} then {redacted} else text end")
    return quotes


@contextmanager
def remembered_quotes(con: duckdb.DuckDBPyConnection, key: str) -> Iterator[Quotes]:
    """``iid_quote`` on ``con`` (:func:`register_redaction`) looking up the quotes the work database kept under
    ``key`` (what the code is: quotes worked out by other code are dropped), so a re-run works out only the
    rows it has not quoted before (a national year quotes ~33,000 values in ~19,000 distinct rows: ~0.4 s of
    Python in a new process, and the lookup keeps the models in DuckDB). The rows worked out in the block are
    kept once it has run; a block cut short by an error keeps none of them."""
    import pyarrow as pa

    con.execute(f"create table if not exists {QUOTES_TABLE} (key varchar, quoted_text varchar, "
                "operator_name varchar, operator_email varchar, operator_phone varchar, quoted varchar)")
    con.execute(f"delete from {QUOTES_TABLE} where key is distinct from ?", [key])  # noqa: S608
    quotes = register_redaction(con, known=QUOTES_TABLE)
    yield quotes
    if not quotes.worked_out:
        return
    rows = list(quotes.worked_out.items())
    new = pa.table({"key": pa.array([key] * len(rows), pa.string()),  # noqa: F841 - read by DuckDB
                    **{column: pa.array([row[i] for row, _ in rows], pa.string())
                       for i, column in enumerate(("quoted_text", "operator_name", "operator_email",
                                                   "operator_phone"))},
                    "quoted": pa.array([quoted for _, quoted in rows], pa.string())})
    con.execute(f"insert into {QUOTES_TABLE} select * from new")  # noqa: S608


def redact_log_records() -> None:
    """Every log record made from now on carries its message (and its traceback's text) redacted.

    Done where records are made (the record factory), so it holds for Prefect's console and API
    handlers alike, whatever handlers a logging configuration installs later. Idempotent."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed %-format: leave it to the handler to report
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
