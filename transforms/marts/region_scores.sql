-- One row per pemda of the year (IID.md §3, §4, §6), submitted or not:
--   SPD = Σ weight × level;  SID maturity = Σ innovation maturity / MAX(divisor, n);
--   JI = rate × MIN(n, cap) (iid-2026: only with ≥ min basic-service urusan covered);
--   IID = total / max_total × 100 rounded half up to 2 decimals, computed exactly in integers;
--   predicate from the rounded IID; rank within level, ties sharing the better rank.
with pemda as (select * from regions where autonomous),
counting as (
    select region_code, source_file, source_sha256, submitted_at from stg_submissions where status = 'counting'
),
spd as (
    select region_code, sum(score) as spd_score from indicator_scores where part = 'spd' group by all
),
innovations as (
    select region_code,
           count(*) filter (where counts_in_n) as n_innovations,
           count(*) filter (where counts_in_n and verification_rejected) as n_rejected,
           coalesce(sum(maturity_score) filter (where counts_in_n), 0) as maturity_sum,
           count(distinct affair) filter (where counts_in_n and basic_service_affair) as basic_affairs
    from innovation_scores
    group by all
),
parts as (
    select p.code as region_code, p.name as region_name, p.level, p.province_code, p.tertinggal, p.perbatasan,
           c.region_code is not null as submitted, c.source_file as submission_file,
           c.source_sha256 as submission_sha256, c.submitted_at,
           coalesce(i.n_innovations, 0) as n_innovations, coalesce(i.n_rejected, 0) as n_innovations_rejected,
           coalesce(i.basic_affairs, 0) as basic_service_affairs,
           coalesce(s.spd_score, 0)::decimal(18, 4) as spd_exact,
           coalesce(i.maturity_sum, 0)::decimal(18, 4) as maturity_exact,
           greatest($divisor::integer, coalesce(i.n_innovations, 0)) as divisor_used
    from pemda p
    left join counting c on c.region_code = p.code
    left join spd s on s.region_code = p.code
    left join innovations i on i.region_code = p.code
),
with_ji as (
    select *,
           case when not submitted then 0::decimal(18, 4)
                when $ji_min_basic_affairs::integer is not null and basic_service_affairs < $ji_min_basic_affairs::integer
                    then 0::decimal(18, 4)
                else ($ji_rate::decimal(9, 4) * least(n_innovations, $ji_cap::integer))::decimal(18, 4) end as ji_exact
    from parts
),
exact as (
    -- total × divisor is exact in DECIMAL; the rounded IID in hundredths is an integer division
    select *,
           ((spd_exact + ji_exact) * divisor_used + maturity_exact) as total_times_divisor,
           $max_total::integer * divisor_used as iid_denominator
    from with_ji
),
rounded as (
    select *,
           ((2 * cast(total_times_divisor * 10000 as hugeint) + iid_denominator) // (2 * iid_denominator))
               as iid_hundredths
    from exact
),
scored as (
    select *, (iid_hundredths / 100)::decimal(5, 2) as iid
    from rounded
),
final as (
    select $year::integer as year, region_code, region_name, level, province_code, tertinggal, perbatasan,
           submitted, submission_file, submission_sha256, submitted_at,
           n_innovations, n_innovations_rejected, basic_service_affairs, divisor_used,
           spd_exact::double as spd_score,
           (maturity_exact / divisor_used)::double as sid_maturity_score,
           ji_exact::double as innovation_count_score,
           (total_times_divisor / divisor_used)::double as total_score,
           iid,
           (select b.predicate from method_bands b where scored.iid >= b.min_iid order by b.position limit 1)
               as predicate,
           rank() over (partition by level order by iid desc) as rank_in_level,
           $methodology as methodology
    from scored
)
select * from final
order by level, rank_in_level, region_code
