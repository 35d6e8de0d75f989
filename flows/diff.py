"""What changed between two releases of a year: regions whose IID, predicate or rank moved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.releases import DamagedRelease, Release, check_release, lost_manifest, release_dirs
from flows.scratch import scratch
from flows.settings import Home

DIFF_SQL = """
with old as (select * from read_parquet($old)), new as (select * from read_parquet($new))
select coalesce(n.region_code, o.region_code) as region_code, coalesce(n.region_name, o.region_name) as region_name,
       coalesce(n.level, o.level) as level,
       o.iid as old_iid, n.iid as new_iid, o.predicate as old_predicate, n.predicate as new_predicate,
       o.rank_in_level as old_rank, n.rank_in_level as new_rank,
       o.n_innovations as old_innovations, n.n_innovations as new_innovations,
       o.submission_sha256 as old_submission, n.submission_sha256 as new_submission
from old o full join new n using (region_code)
where o.iid is distinct from n.iid or o.predicate is distinct from n.predicate
   or o.rank_in_level is distinct from n.rank_in_level
order by (o.iid is distinct from n.iid or o.predicate is distinct from n.predicate) desc,
         abs(coalesce(n.iid, 0) - coalesce(o.iid, 0)) desc, region_code
"""


class DiffError(ValueError):
    """The releases asked for do not exist or are damaged; the message says which and what to do."""


@dataclass(frozen=True)
class ReleaseDiff:
    year: int
    old: int
    new: int
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def scored_changes(self) -> list[tuple[Any, ...]]:
        """Rows whose IID or predicate changed (not only a rank moved by others)."""
        i = self.columns.index
        return [r for r in self.rows if r[i("old_iid")] != r[i("new_iid")]
                or r[i("old_predicate")] != r[i("new_predicate")]]


def diff_releases(home: Home, year: int, old: int | None = None, new: int | None = None) -> ReleaseDiff:
    releases: dict[int, Release] = {r.number: r for r in release_dirs(home, year)}
    if len(releases) < 1 or (old is None and new is None and len(releases) < 2):
        raise DiffError(f"{year} has {len(releases)} release(s); a diff needs two" + lost_manifest(home, year))
    new = new if new is not None else max(releases)
    if new not in releases:
        raise DiffError(f"{year} has no release {new} (published: {sorted(releases)})" + lost_manifest(home, year, new))
    if old is None:
        old = max((n for n in releases if n < new), default=None)
        if old is None:
            raise DiffError(f"release {new} is the first of {year}: there is none before it to compare with "
                            f"(published: {sorted(releases)}); give --from N")
    if old not in releases:
        raise DiffError(f"{year} has no release {old} (published: {sorted(releases)})" + lost_manifest(home, year, old))
    for number in (old, new):
        try:
            check_release(releases[number], ("region_scores.parquet",))
        except DamagedRelease as exc:
            raise DiffError(str(exc)) from None
    cur = scratch()
    try:
        cur.execute(DIFF_SQL, {"old": str(releases[old].path / "region_scores.parquet"),
                               "new": str(releases[new].path / "region_scores.parquet")})
        columns = [d[0] for d in cur.description or []]
        return ReleaseDiff(year, old, new, columns, cur.fetchall())
    finally:
        cur.close()
