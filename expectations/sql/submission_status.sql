-- Which submission counts: per region, the latest accepted one on or before the deadline.
-- Earlier accepted ones are superseded, later ones late; rejected headers never count.
-- Two at the same instant are settled by the file name (the one sorting last counts), which carries no
-- meaning: the counting one is then flagged, SUB009 (counting_submissions.sql).
with subs as (
    select s.record_id, s.file_id, s.source_file, s.locator, s.region_code, s.submitted_at,
           s.n_spd, s.n_innovations,
           r.record_id is not null as header_rejected
    from landing_submissions s
    left join rejected_records r on r.record_type = 'submission' and r.record_id = s.record_id
),
on_time as (
    select record_id,
           row_number() over (partition by region_code order by submitted_at desc, source_file desc) as recency
    from subs
    where not header_rejected and submitted_at <= $deadline
),
final as (
    select subs.*,
           case when header_rejected then 'rejected'
                when submitted_at > $deadline then 'late'
                when on_time.recency = 1 then 'counting'
                else 'superseded' end as status
    from subs
    left join on_time using (record_id)
)
select * from final
