-- Warnings: records kept (and scored) but flagged, with where they sit and why.
with warnings as (select * from validation_failures where severity = 'warn'),
-- the verification rows warned of (few): a left join of every verification row cost each run ~0.2 s at
-- ten times a national year
verification as (
    select record_id, source_file, locator, region_code
    from landing_verification
    where record_id in (select record_id from warnings where suite = 'verification')
),
located as (
    select w.suite, w.record_id, w.rule, w.reason, w.value, v.region_code as verification_region,
           coalesce(f.source_file, s.source_file, a.source_file, bf.source_file, i.source_file, v.source_file)
               as source_file,
           -- a SID answer keeps neither its file's name nor its locator in landing (flows/landing.py): sid_locator
           coalesce(case when f.file_id is not null then '(file)' end, s.locator, a.locator,
                    sid_locator(bf.format, b.position, bi.locator), i.locator, v.locator) as locator,
           coalesce(f.file_id, s.file_id, a.file_id, b.file_id, i.file_id) as file_id
    from warnings w
    left join landing_files f on w.suite = 'files' and f.file_id = w.record_id
    left join landing_submissions s on w.suite in ('submissions', 'counting_submissions') and s.record_id = w.record_id
    left join landing_spd_answers a on w.suite = 'spd_answers' and a.record_id = w.record_id
    left join landing_sid_answers b on w.suite = 'sid_answers' and b.record_id = w.record_id
    left join landing_files bf on bf.file_id = b.file_id
    left join landing_innovations bi on bi.record_id = b.innovation_record_id
    left join landing_innovations i on w.suite = 'innovations' and i.record_id = w.record_id
    left join verification v on w.suite = 'verification' and v.record_id = w.record_id
),
final as (
    select $year::integer as year, l.source_file, l.locator,
           coalesce(s.region_code, l.verification_region) as region_code,
           l.rule, l.reason,
           left(iid_quote(l.value, o.name, o.email, o.phone), 120) as value,
           l.suite as record_table, l.record_id
    from located l
    left join landing_submissions s on s.file_id = l.file_id
    -- an operator's contact in a quoted value masked, as in quarantine.sql
    left join landing_operators o on o.file_id = l.file_id
)
select * from final
order by source_file, locator, rule
