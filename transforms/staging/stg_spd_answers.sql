-- Accepted SPD answers of counting submissions.
with counting as (select file_id, region_code from stg_submissions where status = 'counting'),
rejected as (select record_id from rejected_records where record_type = 'spd_answer'),
final as (
    select c.region_code, a.record_id, a.file_id, a.source_file, a.locator, a.indicator,
           a.level as claimed_level, a.value
    from landing_spd_answers a
    join counting c using (file_id)
    where a.record_id not in (select record_id from rejected)
)
select * from final
