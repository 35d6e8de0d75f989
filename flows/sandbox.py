"""The fences around SQL that an analyst gives ``iid query``: it may read the releases, nothing else.

Two fences, each enough against a different mistake in the other:

- **Statements that read.** The text is parsed by DuckDB itself (``extract_statements``) and must be
  one statement that reads: SELECT (with WITH, FROM-first, VALUES, DESCRIBE, SHOW and SUMMARIZE,
  which DuckDB parses as SELECT), EXPLAIN [ANALYZE] of such a statement, or a PRAGMA of
  :data:`READ_PRAGMAS`. COPY, EXPORT, ATTACH, CREATE, SET, CALL, LOAD, … are refused before anything
  runs: reading files under ``published/`` is allowed, so the file fence alone would let COPY write
  a file into a release folder.
- **Files of the releases.** The connection reads only under the home's ``published/`` and
  ``warehouse/runs/`` (the run log the ``runs`` view reads): ``enable_external_access`` is off with
  those two ``allowed_directories`` (DuckDB refuses paths with ``..``), extensions are neither
  installed nor loaded, Python variables are not scanned, and ``lock_configuration`` keeps the SQL
  from turning any of this back. The private warehouse (operators' contacts, the work databases) and
  every other file on the machine are out of reach.
"""

from __future__ import annotations

import re

import duckdb

from flows.settings import Home

# PRAGMAs that only read the catalog's own definitions or DuckDB's version
READ_PRAGMAS = frozenset({"table_info", "show", "show_tables", "show_tables_expanded", "database_size", "version",
                          "platform"})
ALLOWED = "SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN [ANALYZE] SELECT, read-only PRAGMAs such as table_info"

_LEADING_COMMENTS = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_EXPLAIN = re.compile(r"explain\s+(?:analyze\s+)?(?P<rest>.*)", re.DOTALL | re.IGNORECASE)
_PRAGMA = re.compile(r"pragma\s+(?P<name>\w+)", re.IGNORECASE)


class QueryRefused(ValueError):
    """The SQL is not a single statement that reads; the message says what is not allowed."""


def _text(statement: duckdb.Statement) -> str:
    return _LEADING_COMMENTS.sub("", statement.query, count=1)


def _explains_a_read(con: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> bool:
    """EXPLAIN ANALYZE runs the statement explained: it must itself be a SELECT. EXPLAIN's options in
    parentheses (``explain (analyze) …``) are not accepted: the rest must parse as one SELECT."""
    match = _EXPLAIN.fullmatch(_text(statement))
    if match is None:
        return False
    try:
        inner = con.extract_statements(match.group("rest"))
    except duckdb.Error:
        return False
    return len(inner) == 1 and inner[0].type == duckdb.StatementType.SELECT


def _reads(con: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> bool:
    kind = statement.type
    if kind == duckdb.StatementType.SELECT:
        return True
    if kind == duckdb.StatementType.EXPLAIN:
        return _explains_a_read(con, statement)
    if kind == duckdb.StatementType.PRAGMA:
        match = _PRAGMA.match(_text(statement))
        return match is not None and match.group("name").lower() in READ_PRAGMAS
    return False


def read_statement(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.Statement:
    """The one statement of ``sql``, if it only reads; else :class:`QueryRefused` (a DuckDB parser
    error for SQL that does not parse)."""
    statements = con.extract_statements(sql)
    if not statements:
        raise QueryRefused('no SQL given: pass one statement, e.g. iid query "select * from releases"')
    if len(statements) > 1:
        raise QueryRefused(f"{len(statements)} statements given: iid query runs one at a time")
    statement = statements[0]
    if not _reads(con, statement):
        what = statement.type.name.replace("_", " ")
        if statement.type == duckdb.StatementType.EXPLAIN:
            what = "EXPLAIN of anything but one SELECT (or with options in parentheses)"
        elif statement.type == duckdb.StatementType.PRAGMA:
            pragma = _PRAGMA.match(_text(statement))
            what = f"PRAGMA {pragma.group('name') if pragma else ''}".strip()
        raise QueryRefused(f"iid query is read-only: {what} is not allowed (allowed: {ALLOWED})")
    return statement


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def readable_folders(home: Home) -> list[str]:
    """The folders the fenced connection may read: the releases and the run log."""
    return [f"{home.published}/", f"{home.warehouse / 'runs'}/"]


def fence(con: duckdb.DuckDBPyConnection, home: Home) -> None:
    """Restrict ``con`` (and its database instance) to reading the home's releases, and lock that."""
    listing = ", ".join(_quoted(folder) for folder in readable_folders(home))
    for setting in (f"set allowed_directories = [{listing}]", "set enable_external_access = false",
                    "set autoinstall_known_extensions = false", "set autoload_known_extensions = false",
                    "set python_enable_replacements = false", "set lock_configuration = true"):
        con.execute(setting)
