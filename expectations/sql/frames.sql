-- Frames handed to Great Expectations, one per suite: the landing rows plus derived columns
-- (occurrence, value level, value range) that the expectations compare. `-- frame: <suite>` starts each.

-- frame: files
select file_id as record_id, source_file, error_rule, coalesce(has_bom, false) as has_bom
from landing_files;

-- frame: submissions
select s.record_id, s.region_code, s.year, s.submitted_at_raw,
       s.submitted_at, s.region_name,
       m.name as master_name,
       case when m.code is not null then s.region_code end as known_region_code
from landing_submissions s
left join regions m on m.code = s.region_code;

-- frame: spd_answers
select a.record_id, a.indicator, a.level, a.value, a.value_raw, a.n_evidence,
       row_number() over (partition by a.file_id, a.indicator order by a.record_id) as occurrence,
       r.value_min, r.value_max,
       case when a.value is not null and r.kind = 'numeric' then
            case when r.direction = 'higher' then (a.value >= r.c1)::int + (a.value >= r.c2)::int + (a.value >= r.c3)::int
                 else (a.value < r.c1)::int + (a.value < r.c2)::int + (a.value < r.c3)::int end
       end as value_level
from landing_spd_answers a
left join method_rows r on r.code = a.indicator and r.part = 'spd';

-- frame: sid_answers
select a.record_id, a.indicator, a.level, a.value, a.value_raw, a.n_evidence, a.innovation_record_id,
       row_number() over (partition by a.file_id, a.innovation_record_id, a.indicator order by a.record_id)
           as occurrence,
       r.value_min, r.value_max,
       case when a.value is not null and r.kind = 'numeric' then
            case when r.direction = 'higher' then (a.value >= r.c1)::int + (a.value >= r.c2)::int + (a.value >= r.c3)::int
                 else (a.value < r.c1)::int + (a.value < r.c2)::int + (a.value < r.c3)::int end
       end as value_level
from landing_sid_answers a
left join method_rows r on r.code = a.indicator and r.part = 'sid';

-- frame: innovations
select record_id, innovation_id, name, unit, form, kind, initiator, affair, stage, design, goal, benefit, result,
       trial_date::timestamp as trial_date, trial_date_raw,
       implementation_date::timestamp as implementation_date, implementation_date_raw,
       design_words,
       row_number() over (partition by file_id, innovation_id order by record_id) as occurrence
from landing_innovations;

-- frame: evidence
select record_id, coalesce(item, '') as item_text
from landing_evidence;
