-- Records read = scored + quarantined + not counting (superseded / late), per file: the submission
-- files (reconciliation_files) and the verification CSVs.
with verification as (
    select v.source_file, vf.sha256, 'csv' as format, count(*) as records_read,
           count(*) filter (where q.record_id is null) as records_scored,
           count(*) filter (where q.record_id is not null) as records_quarantined,
           0 as records_superseded, 0 as records_late, 0 as records_unaccounted
    from landing_verification v
    join landing_verification_files vf using (source_file)
    left join (select distinct record_id from validation_failures where suite = 'verification' and severity = 'reject') q
      on q.record_id = v.record_id
    group by all
),
final as (
    select $year::integer as year, *,
           records_read = records_scored + records_quarantined + records_superseded + records_late as balanced
    from (select * exclude (file_id) from reconciliation_files union all select * from verification)
)
select * from final
order by source_file
