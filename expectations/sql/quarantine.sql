-- One row per rejected file or record, with where it sits and why (CONTRACT.md §3).
with file_rejects as (
    select f.source_file, '(file)' as locator, f.region_hint as region_code, v.rule, v.reason,
           coalesce(f.error_detail, v.value) as value, 'file' as record_type, f.file_id as record_id,
           false as cascaded, f.file_id
    from validation_failures v
    join landing_files f on f.file_id = v.record_id
    where v.suite = 'files' and v.severity = 'reject'
),
records as (
    select r.source_file, r.locator, s.region_code, r.rule, r.reason, r.value, r.record_type, r.record_id, r.cascaded,
           r.file_id
    from rejected_records r
    left join landing_submissions s on s.file_id = r.file_id
),
verification as (
    select v.source_file, v.locator, v.region_code, f.rule, f.reason, f.value,
           'verification' as record_type,
           v.record_id, false as cascaded, null::bigint as file_id
    from landing_verification v
    join (select record_id, rule, reason, value,
                 row_number() over (partition by record_id order by rule) as k
          from validation_failures where suite = 'verification' and severity = 'reject') f
      on f.record_id = v.record_id and f.k = 1
),
-- the value as written, but an operator's contact in it masked (flows/privacy.py: an e-mail address given
-- as evidence, a phone number as a value; the file's own operator's name, e-mail and phone): it is published
final as (
    select $year::integer as year, q.source_file, locator, region_code, rule, reason,
           left(iid_quote(value, o.name, o.email, o.phone), 120) as value,
           record_type, record_id, cascaded
    from (select * from file_rejects union all select * from records union all select * from verification) q
    left join landing_operators o on o.file_id = q.file_id
)
select * from final
order by source_file, record_type, record_id
