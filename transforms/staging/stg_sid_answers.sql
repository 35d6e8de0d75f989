-- ephemeral
-- Accepted SID answers of accepted innovations of counting submissions (of the files in scope).
with innovations as (select record_id, region_code, innovation_id, locator from stg_innovations),
rejected as (select record_id from rejected_records where record_type = 'sid_answer'),
final as (
    select i.region_code, i.innovation_id, a.innovation_record_id, a.record_id, a.file_id, f.source_file,
           sid_locator(f.format, a.position, i.locator) as locator,
           a.indicator, a.level as claimed_level, a.value
    from landing_sid_answers a
    join innovations i on i.record_id = a.innovation_record_id
    join landing_files f on f.file_id = a.file_id
    where a.record_id not in (select record_id from rejected) and in_scope(a.file_id)
)
select * from final
