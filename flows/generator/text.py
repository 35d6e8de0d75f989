"""Indonesian-looking text for synthetic submissions: names, units, narratives, contacts, evidence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from random import Random
from string import Formatter

from flows.generator import vocab

_TYPE_WORDS = re.compile(r"^(provinsi|kabupaten|kota)\s+", re.IGNORECASE)


def core_name(region_name: str) -> str:
    """``Kota Surabaya`` → ``Surabaya``."""
    return _TYPE_WORDS.sub("", region_name).strip()


def host(region_name: str, level: str) -> str:
    """Official web host of a pemda, e.g. ``sidoarjokab.go.id``, ``surabayakota.go.id``, ``jatimprov.go.id``."""
    slug = re.sub(r"[^a-z]", "", core_name(region_name).lower()) or "daerah"
    suffix = {"provinsi": "prov", "kabupaten": "kab", "kota": "kota"}.get(level, "")
    return f"{slug}{suffix}.go.id"


def abbreviation(region_name: str) -> str:
    """Three letters for innovation ids: first letter and the next two consonants (``Surabaya`` → ``SRB``)."""
    letters = re.sub(r"[^A-Za-z]", "", core_name(region_name)).upper() or "XXX"
    consonants = [c for c in letters[1:] if c not in "AEIOU"]
    return (letters[0] + "".join(consonants) + letters[1:] + "XX")[:3]


def innovation_name(rng: Random, affair: str) -> str:
    """E.g. ``SI-CANTIK: Sistem Informasi Dokumen Kependudukan Terpadu``."""
    acronym = rng.choice(vocab.ACRONYM_PREFIXES) + rng.choice(vocab.ACRONYMS)
    objects = vocab.OBJECTS_BY_AFFAIR.get(affair) or vocab.GENERAL_OBJECTS
    phrase = " ".join(p for p in (rng.choice(vocab.HEADS), rng.choice(objects), rng.choice(vocab.MODIFIERS)) if p)
    return f"{acronym.strip()}: {phrase}"


def unit(rng: Random, affair: str) -> str:
    choices = vocab.UNITS_BY_AFFAIR.get(affair, ()) or vocab.GENERAL_UNITS
    if rng.random() < 0.08:
        choices = vocab.GENERAL_UNITS
    return rng.choice(choices).replace("{place}", rng.choice(vocab.PLACES))


def pick(rng: Random, options: Sequence[str]) -> str:
    """``rng.choice`` with a single draw (the text builders call it millions of times)."""
    return options[int(rng.random() * len(options))]


_SLOT_OPTIONS: dict[str, tuple[str, ...]] = {
    "problem": vocab.PROBLEMS, "pain": vocab.PAINS, "approach": vocab.APPROACHES, "actors": vocab.ACTORS,
    "mode": vocab.MODES, "period": vocab.PERIODS, "target": vocab.TARGETS, "channel": vocab.CHANNELS,
    "mode_place": vocab.PLACE_LEVELS,
}
_TEMPLATE_SLOTS = {t: tuple(dict.fromkeys(f for _, f, _, _ in Formatter().parse(t) if f))
                   for t in vocab.DESIGN_SENTENCES}


def _sentence(rng: Random, template: str, fixed: dict[str, str], year: int) -> str:
    slots = {}
    for slot in _TEMPLATE_SLOTS[template]:
        if slot in fixed:
            slots[slot] = fixed[slot]
        elif slot in _SLOT_OPTIONS:
            slots[slot] = pick(rng, _SLOT_OPTIONS[slot])
        elif slot == "year0":
            slots[slot] = str(year - 1 - int(rng.random() * 5))
        elif slot == "days":
            slots[slot] = str(1 + int(rng.random() * 14))
        elif slot == "step":
            steps = rng.sample(vocab.STEPS, 3)
            template = template.replace("{step}", steps[0], 1).replace("{step}", steps[1], 1).replace(
                "{step}", steps[2], 1)
    return template.format(**slots)


def design(rng: Random, name: str, unit_name: str, region: str, year: int, words: int) -> str:
    """*Rancang bangun*: sentences from templates until at least ``words`` words, in paragraphs."""
    fixed = {"name": name.split(":")[0], "unit": unit_name, "region": region}
    templates = vocab.DESIGN_SENTENCES
    sentences = [_sentence(rng, templates[0], fixed, year)]
    count = len(sentences[0].split())
    while count < words:
        sentence = _sentence(rng, templates[1 + int(rng.random() * (len(templates) - 1))], fixed, year)
        sentences.append(sentence)
        count += sentence.count(" ") + 1
    return "\n\n".join(" ".join(sentences[i:i + 5]) for i in range(0, len(sentences), 5))


def _service(affair: str) -> str:
    return f"layanan {affair.split(',')[0]}"


def goal(rng: Random, affair: str) -> str:
    picks = rng.sample(vocab.GOALS, rng.randint(1, 2))
    return " ".join(p.format(service=_service(affair)) for p in picks)


def benefit(rng: Random, affair: str) -> str:
    picks = rng.sample(vocab.BENEFITS, rng.randint(1, 3))
    return " ".join(p.format(service=_service(affair)) for p in picks)


def result(rng: Random) -> str:
    picks = rng.sample(vocab.RESULTS, rng.randint(1, 3))
    a = rng.randint(50, 2000)
    c = rng.randint(4, 21)
    numbers = {"a": a, "b": a + rng.randint(10, 5000), "c": c, "d": rng.randint(1, c - 1),
               "e": f"{rng.uniform(70, 97):.2f}".replace(".", ","), "f": rng.randint(1, 9)}
    return " ".join(p.format(**numbers) for p in picks)


def operator(rng: Random, region_host: str) -> dict[str, str]:
    """Contact of the region's operator: personal data (never published)."""
    first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
    domain = region_host if rng.random() < 0.5 else rng.choice(("gmail.com", "yahoo.co.id", "gmail.com"))
    email = f"{first.lower()}.{last.lower()}{rng.randint(1, 99) if domain.endswith('.com') else ''}@{domain}"
    phone = "08" + rng.choice(("11", "12", "13", "21", "22", "52", "53", "57", "77", "78", "95", "96"))
    phone += "".join(str(rng.randint(0, 9)) for _ in range(rng.randint(6, 8)))
    return {"name": f"{first} {last}", "email": email, "phone": phone}


def evidence(rng: Random, year: int, region_host: str, items: int) -> list[str]:
    """Up to ``items`` distinct evidence items: file names with allowed extensions, or https URLs on the
    pemda's host."""
    out = []
    for _ in range(items):
        if rng.random() < 0.2:
            slug = f"{pick(rng, vocab.ACRONYMS).lower().replace(' ', '-')}-{1 + int(rng.random() * 999)}"
            out.append(f"https://{region_host}/" + pick(rng, vocab.URL_PATHS).format(slug=slug))
        else:
            number, years_back = 1 + int(rng.random() * 60), int(rng.random() * 3)
            out.append(pick(rng, vocab.EVIDENCE_FILES).format(n=number, year=year - years_back))
    return list(dict.fromkeys(out))
