-- Frame of the counting_submissions suite: each region's counting submission, with what the rules across a
-- region's submissions compare. Built on the whole year after submission_status, never kept per file: a
-- file added or removed changes the verdict on another file (expectations/stage.py).
-- tied_with (SUB009): the other accepted on-time submissions of the region with the same submitted_at (the
-- same instant: submitted_at is a timestamptz, so 10:00:00+07:00 and 03:00:00Z tie) whose bytes differ; the
-- counting one won only by its file name (submission_status.sql). A byte-identical copy is left out:
-- whichever of the two counts, the scores are the same. A file is named as it is published (iid_shown,
-- flows/privacy.py: a name that holds a contact is masked).
with counting as (
    select s.record_id, s.region_code, s.submitted_at, f.sha256
    from submission_status s
    join landing_files f on f.file_id = s.file_id
    where s.status = 'counting'
),
tied as (
    select c.record_id, string_agg(iid_shown(o.source_file), ', ' order by o.source_file) as tied_with
    from counting c
    join submission_status o on o.status = 'superseded' and o.region_code = c.region_code
                            and o.submitted_at = c.submitted_at
    join landing_files f on f.file_id = o.file_id
    where f.sha256 <> c.sha256
    group by c.record_id
),
final as (
    select c.record_id, c.region_code, t.tied_with
    from counting c
    left join tied t on t.record_id = c.record_id
)
select * from final
