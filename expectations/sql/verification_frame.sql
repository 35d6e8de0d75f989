-- The verification suite's frame, kept in the work database (`verification_frame`) region by region: each
-- verification row with the answer or innovation of its region's counting submission it points at. Every
-- join below is within one region, so a region's rows depend only on its own verification rows, its counting
-- submission and the records of it that were rejected. The stage (expectations/stage.py,
-- refresh_verification_frame) builds them here only for the regions of `verification_in_scope`: the
-- landing_verification rows of the regions whose inputs changed since their rows were kept (all of them on a
-- first validation); the suite validates the whole kept frame (`verification.sql`).
with counting as (
    select file_id, region_code from submission_status
    where status = 'counting' and region_code in (select region_code from verification_in_scope)
),
-- an answer's level as submitted (IID.md §6): the claimed level, or on a numeric row the level its value
-- gives; an adjust caps that level, so that is what it may not exceed (VER003)
spd as (
    select c.region_code, a.indicator,
           coalesce(value_level(a.value, r.kind, r.direction, r.c1, r.c2, r.c3), a.level) as level
    from landing_spd_answers a
    join counting c using (file_id)
    left join method_rows r on r.code = a.indicator and r.part = 'spd'
    where a.record_id not in (select record_id from rejected_records where record_type = 'spd_answer')
),
inno as (
    select c.region_code, i.record_id, i.innovation_id
    from landing_innovations i
    join counting c using (file_id)
    where i.record_id not in (select record_id from rejected_records where record_type = 'innovation')
),
sid as (
    select inno.region_code, inno.innovation_id, a.indicator,
           coalesce(value_level(a.value, r.kind, r.direction, r.c1, r.c2, r.c3), a.level) as level
    from landing_sid_answers a
    join inno on inno.record_id = a.innovation_record_id
    left join method_rows r on r.code = a.indicator and r.part = 'sid'
    where a.record_id not in (select record_id from rejected_records where record_type = 'sid_answer')
),
unpadded as (
    -- the region's innovation ids without their leading zeros: a row naming '001' where the submission has '1'
    -- (or the reverse: a CSV saved from a spreadsheet drops the zeros) points at nothing, and VER002 says why
    select distinct region_code, ltrim(innovation_id, '0') as unpadded_id from inno
),
conflicting as (
    -- answers and innovations that rows of the CSVs decide differently (VER006; the lowest cap applies,
    -- stg_verification): grouped with min <> max, which takes a year at ten times the national size
    -- ~0.1 s, where counting distinct decisions over a window took 0.2 s more
    select region_code, innovation_id, indicator, true as conflict
    from (select region_code, innovation_id, indicator,
                 case when decision = 'adjust' then 'adjust ' || coalesce(verified_level::varchar, verified_level_raw, '')
                      else coalesce(decision, '') end as decision_key
          from verification_in_scope
          where file_error is null)
    group by region_code, innovation_id, indicator
    having min(decision_key) <> max(decision_key)
),
targeted as (
    select v.*, c.conflict, spd.level as spd_level, sid.level as sid_level,
           case when v.file_error is null then  -- a file read as none of its rows (VER004) points at nothing
           coalesce(case when v.innovation_id is null and v.indicator is not null then spd.indicator is not null
                         when v.innovation_id is not null and v.indicator is null then inno.innovation_id is not null
                         when v.innovation_id is not null and v.indicator is not null then sid.indicator is not null
                    end, false) end as found,
           u.unpadded_id is not null as zeros_apart
    from verification_in_scope v
    left join conflicting c on c.region_code is not distinct from v.region_code
                           and c.innovation_id is not distinct from v.innovation_id
                           and c.indicator is not distinct from v.indicator
    left join spd on v.innovation_id is null and spd.region_code = v.region_code and spd.indicator = v.indicator
    left join inno on v.indicator is null and inno.region_code = v.region_code and inno.innovation_id = v.innovation_id
    left join sid on sid.region_code = v.region_code and sid.innovation_id = v.innovation_id
                 and sid.indicator = v.indicator
    left join unpadded u on u.region_code = v.region_code and u.unpadded_id = ltrim(v.innovation_id, '0')
),
final as (
    select record_id, decision, verified_level, file_error,
           -- what a failure shows as its value (the suite's meta.value_column): the row as written, or why
           -- its file could not be read
           coalesce(file_error, concat_ws(' / ', innovation_id, indicator, decision, verified_level_raw)) as shown,
           coalesce(verified_level, -1) as verified_level_or_missing,
           -- an adjust caps one answer's level: on a whole innovation (no indicator) it would cap nothing
           case when decision = 'adjust' then indicator is not null end as adjust_names_indicator,
           case when innovation_id is null and indicator is not null then spd_level
                when innovation_id is not null and indicator is not null then sid_level end as submitted_level,
           -- VER002: a row that points at nothing fails one of the two, the second where its innovation_id differs
           -- from one of the region's only by leading zeros (a null is not checked)
           case when found or not zeros_apart then found end as target_found,
           case when not found and zeros_apart then false end as innovation_id_zeros_alike,
           case when file_error is null then conflict is null end as decided_alike,
           -- a level beside accept or reject is ignored (accept keeps the claim, reject sets 0): VER007 says so
           case when file_error is null and decision in ('accept', 'reject') then verified_level_raw is null
           end as level_fits_decision,
           region_code as frame_region  -- which region's rows these are (not in the suite's frame)
    from targeted
)
select * from final
