-- Submissions with their status (counting / superseded / late / rejected) and the file they came from.
with status as (select * from submission_status),
files as (select file_id, sha256, format from landing_files),
final as (
    select status.record_id as submission_record_id, status.file_id, status.source_file, files.sha256 as source_sha256,
           files.format, status.region_code, status.submitted_at, status.n_spd, status.n_innovations, status.status
    from status
    join files using (file_id)
)
select * from final
order by source_file
