-- incremental: file_id
-- One row per counting answer with its credited level (IID.md §6), in this order: the claimed
-- level; a numeric row's value replaces it; no usable evidence → 0; a verification adjust caps it;
-- a rejected innovation → 0; an innovation outside the counting window → 0. score = weight × level.
with answers as (
    select 'spd' as part, region_code, null::varchar as innovation_id, null::bigint as innovation_record_id,
           record_id, file_id, source_file, locator, indicator, claimed_level, value, 'spd_answers' as answer_table
    from stg_spd_answers
    union all
    select 'sid', region_code, innovation_id, innovation_record_id,
           record_id, file_id, source_file, locator, indicator, claimed_level, value, 'sid_answers'
    from stg_sid_answers
),
innovations as (select record_id, counts_in_n from stg_innovations),
innovation_decisions as (
    select region_code, innovation_id, innovation_rejected from stg_verification where indicator is null
),
answer_decisions as (
    select region_code, innovation_id, indicator, level_cap from stg_verification where indicator is not null
),
leveled as (
    select a.*, r.weight, r.kind,
           value_level(a.value, r.kind, r.direction, r.c1, r.c2, r.c3) as value_level,
           coalesce(e.usable_evidence, 0) as usable_evidence,
           coalesce(idec.innovation_rejected, false) as innovation_rejected,
           adec.level_cap,
           coalesce(inn.counts_in_n, true) as innovation_counts
    from answers a
    join method_rows r on r.code = a.indicator and r.part = a.part
    left join stg_evidence e on e.answer_table = a.answer_table and e.answer_record_id = a.record_id
    left join innovation_decisions idec on a.part = 'sid' and idec.region_code = a.region_code
                                       and idec.innovation_id = a.innovation_id
    left join answer_decisions adec on adec.region_code = a.region_code and adec.indicator = a.indicator
                                   and adec.innovation_id is not distinct from a.innovation_id
    left join innovations inn on inn.record_id = a.innovation_record_id
),
credited as (
    select *,
           coalesce(value_level, claimed_level) as level_after_value,
           case when not innovation_counts then 0
                when innovation_rejected then 0
                when usable_evidence = 0 then 0
                when level_cap is not null then least(coalesce(value_level, claimed_level), level_cap)
                else coalesce(value_level, claimed_level) end as credited_level,
           case when not innovation_counts then 'innovation outside the counting window'
                when innovation_rejected then 'innovation rejected by verification'
                when usable_evidence = 0 then 'no usable evidence'
                when level_cap is not null and level_cap < coalesce(value_level, claimed_level)
                    then 'capped by verification at ' || level_cap
                when value_level is not null and value_level <> claimed_level
                    then 'level from value (' || value_level || ', claimed ' || claimed_level || ')'
                else 'as claimed' end as credit_reason
    from leveled
),
final as (
    select $year::integer as year, region_code, part, innovation_id, indicator, weight, claimed_level, value,
           value_level, usable_evidence, level_cap, innovation_rejected, credited_level,
           -- the weight (decimal(9, 4)) times a level, in the 8 bytes of decimal(18, 4) as region_scores' sums are:
           -- the product's own type (decimal(28, 4)) is 16 bytes, which DuckDB compresses and Parquet
           -- writes more slowly (a national year's 627,000 scores: 10 MB uncompressed in the release's file)
           (weight * credited_level)::decimal(18, 4) as score, credit_reason,
           source_file, locator, file_id, record_id, innovation_record_id
    from credited
)
select * from final
order by region_code, part, innovation_record_id nulls first, indicator
