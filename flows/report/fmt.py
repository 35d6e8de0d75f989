"""Numbers and labels as the pages print them: Indonesian number style (46,01 and 28.539)."""

from __future__ import annotations

from decimal import Decimal

PREDICATE_CLASS = {"Sangat Inovatif": "si", "Inovatif": "in", "Kurang Inovatif": "ki", "Tidak Dapat Dinilai": "tdd"}
LEVEL_LABEL = {"provinsi": "Provinsi", "kabupaten": "Kabupaten", "kota": "Kota"}
STATUS_LABEL = {"late": "terlambat (late)", "superseded": "digantikan (superseded)", "rejected": "ditolak (rejected)"}


def num(value: float | Decimal | None, decimals: int = 2) -> str:
    """``1234.5`` → ``1.234,50``; None → ``–``."""
    if value is None:
        return "–"
    text = f"{Decimal(str(value)):,.{decimals}f}" if isinstance(value, Decimal) else f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def integer(value: int | None) -> str:
    return "–" if value is None else num(int(value), 0)


def signed(value: float | Decimal | None, decimals: int = 2) -> str:
    """A change with its sign: ``+1,25``, ``−0,40``, ``±0,00``."""
    if value is None:
        return ""
    if round(float(value), decimals) == 0:
        return "±" + num(0, decimals)
    magnitude: float | Decimal = -value if value < 0 else value
    return ("+" if value > 0 else "−") + num(magnitude, decimals)


def predicate_class(predicate: str) -> str:
    return PREDICATE_CLASS.get(predicate, "tdd")

FORM_LABEL = {"tata kelola pemerintahan": "Tata kelola pemerintahan daerah", "pelayanan publik": "Pelayanan publik",
              "lainnya": "Inovasi daerah lainnya"}


def sentence_case(text: str) -> str:
    """``pekerjaan umum dan penataan ruang`` → ``Pekerjaan umum dan penataan ruang``."""
    return text[:1].upper() + text[1:]


def short(value: float | Decimal | None, decimals: int = 2) -> str:
    """Like :func:`num` without trailing zeros: ``63`` → ``63``, ``0.75`` → ``0,75``, ``1.5`` → ``1,5``."""
    text = num(value, decimals)
    return text.rstrip("0").rstrip(",") if "," in text else text
