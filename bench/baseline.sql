-- The practical floor: the year's IID computed by one DuckDB statement straight from the raw JSON,
-- with no orchestration, no validation, no landing tables and no release. It applies the method
-- rules of IID.md (value cut-points, evidence, the verification overlay, the counting submission by
-- deadline, MAX(divisor, n), JI, round half up, predicate, rank) reading the methodology JSON and
-- the region master with DuckDB too, and writes region_scores to Parquet.
--
-- Parameters: $year, $submissions (the list of the year's JSON files that the pipeline reads:
-- flows.bench.baseline_submissions, so no _ or . names, subfolders included), $verification (the list
-- of verification CSVs the pipeline reads; at least one), $methodology (the year's methodology JSON),
-- $regions (regions.csv), $target (the Parquet file written). DuckDB takes every path it reads as a
-- glob pattern: flows.bench.duckdb_paths writes each so that it names just that file (aceh[1].json).
-- It reads JSON files only (no XLSX) and trusts its input: compare it with the pipeline on a year
-- generated with `--formats json` and no defects (`iid bench` does so).
copy (
with method as (
    select * from read_json($methodology, columns = {
        'id': 'varchar', 'max_total': 'integer',
        'rows': 'struct(code varchar, part varchar, weight decimal(9, 4), kind varchar, direction varchar,
                        cutpoints varchar[])[]',
        'divisor': 'struct(minimum integer, by_year map(varchar, integer))',
        'innovation_count': 'struct(per_innovation decimal(9, 4), cap integer, min_basic_service_affairs integer)',
        'implementation_window_years': 'integer',
        'bands': 'struct(predicate varchar, "min" decimal(5, 2))[]',
        'deadlines': 'struct(timezone varchar, default_month_day varchar, by_year map(varchar, varchar))',
        'affairs': 'struct(name varchar, basic_service boolean)[]'})
),
params as (
    select id as methodology, max_total, bands,
           coalesce(divisor.by_year[$year::varchar], divisor.minimum) as divisor,
           innovation_count.per_innovation as ji_rate, innovation_count.cap as ji_cap,
           innovation_count.min_basic_service_affairs as ji_min_basic_affairs,
           implementation_window_years as window_years,
           (coalesce(deadlines.by_year[$year::varchar], $year::varchar || '-' || deadlines.default_month_day)
            || ' 23:59:59.999999' || deadlines.timezone)::timestamptz as deadline,
           deadlines.timezone as tz
    from method
),
method_rows as (
    select r.code, r.part, r.weight, r.kind, r.direction,
           r.cutpoints[1]::double as c1, r.cutpoints[2]::double as c2, r.cutpoints[3]::double as c3
    from method, unnest(method.rows) as t(r)
),
affairs as (select a.name, a.basic_service from method, unnest(method.affairs) as t(a)),
pemda as (
    select * from read_csv($regions, header = true, columns = {
        'code': 'varchar', 'name': 'varchar', 'level': 'varchar', 'province_code': 'varchar',
        'autonomous': 'boolean', 'tertinggal': 'boolean', 'perbatasan': 'boolean', 'active_from': 'integer'})
    where autonomous and coalesce(active_from, $year) <= $year
),
raw as (
    select filename as source_file, region_code, spd, innovations,
           case when regexp_matches(submitted_at, '(Z|[+-]\d\d:?\d\d)$') then submitted_at
                else submitted_at || (select tz from params) end::timestamptz as submitted_at
    from read_json($submissions, format = 'unstructured', records = true, filename = true,
                   maximum_object_size = 268435456, columns = {
        'region_code': 'varchar', 'submitted_at': 'varchar',
        'spd': 'struct(indicator varchar, level integer, value double, evidence varchar[])[]',
        'innovations': 'struct(id varchar, affair varchar, implementation_date date,
                               sid struct(indicator varchar, level integer, value double, evidence varchar[])[])[]'})
),
counting as (
    -- the latest submission on or before the deadline counts
    select * from raw
    where submitted_at <= (select deadline from params)
    qualify row_number() over (partition by region_code order by submitted_at desc, source_file desc) = 1
),
innovations as (
    select c.region_code, i.id as innovation_id, lower(trim(i.affair)) as affair, i.sid,
           p.window_years is null
               or coalesce(year(i.implementation_date) between $year - p.window_years and $year - 1, false)
               as counts_in_n
    from counting c, unnest(c.innovations) as t(i), params p
),
answers as (
    select c.region_code, 'spd' as part, null::varchar as innovation_id, true as counts_in_n, a
    from counting c, unnest(c.spd) as t(a)
    union all
    select i.region_code, 'sid', i.innovation_id, i.counts_in_n, a
    from innovations i, unnest(i.sid) as t(a)
),
verification as (
    select nullif(trim(region_code), '') as region_code, nullif(trim(innovation_id), '') as innovation_id,
           nullif(lower(replace(trim(indicator), ' ', '')), '') as indicator, lower(trim(decision)) as decision,
           try_cast(trim(verified_level) as integer) as verified_level
    -- the dialect is given, not sniffed: DuckDB sniffs it from the first file only, and a first file without a
    -- quoted field (a header alone) made a later quoted note with a comma a row of 7 columns
    from read_csv($verification, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
                  columns = {
        'region_code': 'varchar', 'innovation_id': 'varchar', 'indicator': 'varchar', 'decision': 'varchar',
        'verified_level': 'varchar', 'note': 'varchar'})
),
decisions as (
    select region_code, innovation_id, indicator,
           bool_or(indicator is null and decision = 'reject') as innovation_rejected,
           min(case when decision = 'adjust' then verified_level when decision = 'reject' then 0 end) as level_cap
    from verification
    group by all
),
scored as (
    select a.region_code, a.part, a.innovation_id, r.weight,
           case when not a.counts_in_n or coalesce(rej.innovation_rejected, false)
                     or len(list_filter(a.a.evidence, lambda e: trim(e) <> '')) = 0 then 0
                else least(coalesce(
                         case when a.a.value is not null and r.kind = 'numeric' then
                              case when r.direction = 'higher'
                                   then (a.a.value >= r.c1)::int + (a.a.value >= r.c2)::int + (a.a.value >= r.c3)::int
                                   else (a.a.value < r.c1)::int + (a.a.value < r.c2)::int + (a.a.value < r.c3)::int
                              end
                         end, a.a.level), coalesce(cap.level_cap, 3)) end as credited_level
    from answers a
    join method_rows r on r.code = lower(replace(trim(a.a.indicator), ' ', '')) and r.part = a.part
    left join decisions rej on a.part = 'sid' and rej.indicator is null and rej.region_code = a.region_code
                           and rej.innovation_id = a.innovation_id
    left join decisions cap on cap.indicator = lower(replace(trim(a.a.indicator), ' ', ''))
                           and cap.region_code = a.region_code
                           and cap.innovation_id is not distinct from a.innovation_id
),
spd as (
    select region_code, sum(weight * credited_level) as spd_score from scored where part = 'spd' group by all
),
maturity as (
    select region_code, innovation_id, sum(weight * credited_level) as maturity_score
    from scored where part = 'sid' group by all
),
per_region as (
    select i.region_code,
           count(*) filter (where i.counts_in_n) as n_innovations,
           coalesce(sum(m.maturity_score) filter (where i.counts_in_n), 0) as maturity_sum,
           count(distinct i.affair) filter (where i.counts_in_n and af.basic_service) as basic_affairs
    from innovations i
    left join maturity m using (region_code, innovation_id)
    left join affairs af on af.name = i.affair
    group by all
),
totals as (
    select p.code as region_code, p.name as region_name, p.level, c.region_code is not null as submitted,
           coalesce(n.n_innovations, 0) as n_innovations,
           coalesce(s.spd_score, 0)::decimal(18, 4) as spd_exact,
           coalesce(n.maturity_sum, 0)::decimal(18, 4) as maturity_exact,
           greatest(m.divisor, coalesce(n.n_innovations, 0)) as divisor_used,
           case when c.region_code is null
                     or (m.ji_min_basic_affairs is not null and coalesce(n.basic_affairs, 0) < m.ji_min_basic_affairs)
                    then 0
                else m.ji_rate * least(coalesce(n.n_innovations, 0), m.ji_cap) end::decimal(18, 4) as ji_exact,
           m.max_total, m.bands, m.methodology
    from pemda p
    cross join params m
    left join counting c on c.region_code = p.code
    left join spd s on s.region_code = p.code
    left join per_region n on n.region_code = p.code
),
rounded as (
    -- IID in hundredths, rounded half up in exact integers: total × divisor / (max_total × divisor)
    select *,
           ((2 * cast(((spd_exact + ji_exact) * divisor_used + maturity_exact) * 10000 as hugeint)
             + max_total * divisor_used) // (2 * max_total * divisor_used) / 100)::decimal(5, 2) as iid
    from totals
)
select $year::integer as year, region_code, region_name, level, submitted, n_innovations,
       spd_exact::double as spd_score, (maturity_exact / divisor_used)::double as sid_maturity_score,
       ji_exact::double as innovation_count_score, iid,
       list_filter(bands, lambda b: iid >= b.min)[1].predicate as predicate,
       rank() over (partition by level order by iid desc) as rank_in_level, methodology
from rounded
order by level, rank_in_level, region_code
) to $target (format parquet)
