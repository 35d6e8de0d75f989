-- incremental: file_id
-- One row per accepted innovation of a counting submission: its maturity (Σ weight × level of
-- its SID answers), whether it counts in n, and verification's decision.
with innovations as (select * from stg_innovations),
decisions as (
    select region_code, innovation_id, innovation_rejected from stg_verification where indicator is null
),
answers as (
    select innovation_record_id, sum(score) as maturity_score, count(*) as n_answers
    from indicator_scores
    where part = 'sid'
    group by all
),
final as (
    select $year::integer as year, i.region_code, i.innovation_id, i.name, i.unit, i.form, i.kind, i.initiator,
           i.affair, a.basic_service as basic_service_affair, i.stage, i.trial_date, i.implementation_date,
           i.design_words, i.counts_in_n, coalesce(d.innovation_rejected, false) as verification_rejected,
           coalesce(s.n_answers, 0) as n_answers, coalesce(s.maturity_score, 0)::decimal(12, 4) as maturity_score,
           i.source_file, i.locator, i.file_id, i.record_id
    from innovations i
    left join decisions d on d.region_code = i.region_code and d.innovation_id = i.innovation_id
    left join answers s on s.innovation_record_id = i.record_id
    left join method_affairs a on a.name = i.affair
)
select * from final
order by region_code, record_id
