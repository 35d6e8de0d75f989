-- incremental: file_id
-- Records read = scored + quarantined + not counting (superseded / late), per submission file.
-- "Scored" means found in the scored tables; a record of a counting submission found nowhere is
-- unaccounted for, which unbalances its file and stops the run before publishing. A record and
-- everything made from it share its file: in_scope(file_id) limits an incremental run to its files.
with records as (
    select * from (
        select file_id, 'submission' as record_type, record_id from landing_submissions
        union all select file_id, 'spd_answer', record_id from landing_spd_answers
        union all select file_id, 'innovation', record_id from landing_innovations
        union all select file_id, 'sid_answer', record_id from landing_sid_answers
        union all select file_id, 'evidence', record_id from landing_evidence
    ) where in_scope(file_id)
),
scored_answers as (
    select case part when 'spd' then 'spd_answers' else 'sid_answers' end as answer_table, record_id
    from indicator_scores
    where in_scope(file_id)
),
outputs as (
    select 'submission' as record_type, submission_record_id as record_id from stg_submissions
    where status = 'counting' and in_scope(file_id)
    union all select case part when 'spd' then 'spd_answer' else 'sid_answer' end, record_id from indicator_scores
    where in_scope(file_id)
    union all select 'innovation', record_id from innovation_scores where in_scope(file_id)
    union all select 'evidence', e.record_id
    from landing_evidence e
    join scored_answers a on a.answer_table = e.answer_table and a.record_id = e.answer_record_id
    where in_scope(e.file_id)
),
classified as (
    select r.file_id,
           case when q.record_id is not null then 'quarantined'
                when s.status = 'counting' and o.record_id is not null then 'scored'
                when s.status = 'counting' then 'unaccounted'
                else s.status end as outcome
    from records r
    left join rejected_records q on q.record_type = r.record_type and q.record_id = r.record_id
    left join submission_status s on s.file_id = r.file_id
    left join outputs o on o.record_type = r.record_type and o.record_id = r.record_id
),
per_file as (
    select f.file_id, f.source_file, f.sha256, f.format,
           case when f.error_rule is not null then 1 else count(c.file_id) end as records_read,
           count(*) filter (where c.outcome = 'scored') as records_scored,
           case when f.error_rule is not null then 1
                else count(*) filter (where c.outcome = 'quarantined') end as records_quarantined,
           count(*) filter (where c.outcome = 'superseded') as records_superseded,
           count(*) filter (where c.outcome = 'late') as records_late,
           count(*) filter (where c.outcome = 'unaccounted') as records_unaccounted
    from landing_files f
    left join classified c on c.file_id = f.file_id
    group by f.file_id, f.source_file, f.sha256, f.format, f.error_rule
)
select * from per_file
order by source_file
