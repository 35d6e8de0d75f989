-- incremental: file_id
-- Records read = scored + quarantined + not counting (superseded / late), per submission file.
-- "Scored" means found in the scored tables; a record of a counting submission found nowhere is
-- unaccounted for, which unbalances its file and stops the run before publishing. A record and
-- everything made from it share its file: in_scope(file_id) limits an incremental run to its files.
-- Each record type is looked up among its own kind's rejections and outputs by record id alone.
with rejected as (select record_type, record_id from rejected_records),
scored_spd as (select record_id from indicator_scores where part = 'spd' and in_scope(file_id)),
scored_sid as (select record_id from indicator_scores where part = 'sid' and in_scope(file_id)),
records as (
    select file_id,
           record_id in (select record_id from rejected where record_type = 'submission') as quarantined,
           record_id in (select submission_record_id from stg_submissions
                         where status = 'counting' and in_scope(file_id)) as scored
    from landing_submissions where in_scope(file_id)
    union all
    select file_id,
           record_id in (select record_id from rejected where record_type = 'spd_answer'),
           record_id in (select record_id from scored_spd)
    from landing_spd_answers where in_scope(file_id)
    union all
    select file_id,
           record_id in (select record_id from rejected where record_type = 'innovation'),
           record_id in (select record_id from innovation_scores where in_scope(file_id))
    from landing_innovations where in_scope(file_id)
    union all
    select file_id,
           record_id in (select record_id from rejected where record_type = 'sid_answer'),
           record_id in (select record_id from scored_sid)
    from landing_sid_answers where in_scope(file_id)
    union all
    -- a piece of evidence is scored with the answer it belongs to
    select file_id,
           record_id in (select record_id from rejected where record_type = 'evidence'),
           case answer_table when 'spd_answers' then answer_record_id in (select record_id from scored_spd)
                             when 'sid_answers' then answer_record_id in (select record_id from scored_sid)
                             else false end
    from landing_evidence where in_scope(file_id)
),
classified as (
    select r.file_id,
           case when r.quarantined then 'quarantined'
                when s.status = 'counting' and r.scored then 'scored'
                when s.status = 'counting' then 'unaccounted'
                else s.status end as outcome
    from records r
    left join submission_status s on s.file_id = r.file_id
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
