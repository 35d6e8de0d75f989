-- incremental: file_id
-- Accepted innovations of counting submissions, and whether each counts in n: all of them under
-- iid-2023; under iid-2026 only those implemented in the two calendar years before the year.
with counting as (select file_id, region_code from stg_submissions where status = 'counting'),
rejected as (select record_id from rejected_records where record_type = 'innovation'),
final as (
    select c.region_code, i.record_id, i.file_id, i.source_file, i.locator, i.innovation_id, i.name, i.unit,
           i.form, i.kind, i.initiator, i.affair, i.stage, i.trial_date, i.implementation_date, i.design_words,
           case when $implementation_window::integer is null then true
                else coalesce(year(i.implementation_date) between $year - $implementation_window::integer and $year - 1,
                              false)
           end as counts_in_n
    from landing_innovations i
    join counting c using (file_id)
    where i.record_id not in (select record_id from rejected)
)
select * from final
