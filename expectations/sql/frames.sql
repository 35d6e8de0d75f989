-- Frames handed to Great Expectations, one per suite: the landing rows plus derived columns
-- (occurrence, value level, value range) that the expectations compare. `-- frame: <suite>` starts each.
-- Each frame holds the rows of a run of the files being validated now (`chunk_files`): every rule looks
-- at one file at a time, so the results of files validated before are kept (expectations/stage.py).

-- frame: files
select file_id as record_id, source_file, error_rule, coalesce(has_bom, false) as has_bom
from landing_files
where file_id between $chunk_first and $chunk_last
  and file_id in (select file_id from chunk_files);

-- frame: submissions
select s.record_id, s.region_code, s.year, s.year_raw, s.submitted_at_raw,
       s.submitted_at, s.region_name,
       m.name as master_name,
       case when m.code is not null then s.region_code end as known_region_code
from landing_submissions s
left join regions m on m.code = s.region_code
where s.file_id between $chunk_first and $chunk_last
  and s.file_id in (select file_id from chunk_files);

-- frame: spd_answers
-- ambiguous_value (both answer frames): a value written as text that reads two ways, `1.500` (ANS010)
select a.record_id, a.indicator, a.level, a.level_raw, a.value, a.value_raw, a.n_evidence,
       ambiguous_value(a.value_is_text, a.value_raw, r.kind) as ambiguous_value,
       row_number() over (partition by a.file_id, a.indicator order by a.record_id) as occurrence,
       r.value_min, r.value_max,
       value_level(a.value, r.kind, r.direction, r.c1, r.c2, r.c3) as value_level
from landing_spd_answers a
left join method_rows r on r.code = a.indicator and r.part = 'spd'
where a.file_id between $chunk_first and $chunk_last
  and a.file_id in (select file_id from chunk_files);

-- frame: sid_answers
-- occurrence: within the answers of one innovation (an XLSX row of no one innovation has none);
-- duplicated_id: the id an XLSX row names when two or more innovations of its file carry it (INO007)
with id_uses as (
    select file_id, innovation_id, count(*) as uses
    from landing_innovations
    where file_id between $chunk_first and $chunk_last
      and file_id in (select file_id from chunk_files)
      and innovation_id is not null
    group by all
)
select a.record_id, a.indicator, a.level, a.level_raw, a.value, a.value_raw, a.n_evidence, a.innovation_record_id,
       ambiguous_value(a.value_is_text, a.value_raw, r.kind) as ambiguous_value,
       case when a.innovation_record_id is not null then
           row_number() over (partition by a.file_id, a.innovation_record_id, a.indicator order by a.record_id)
       end as occurrence,
       case when u.uses > 1 then a.innovation_id end as duplicated_id,
       r.value_min, r.value_max,
       value_level(a.value, r.kind, r.direction, r.c1, r.c2, r.c3) as value_level
from landing_sid_answers a
left join method_rows r on r.code = a.indicator and r.part = 'sid'
left join id_uses u on a.innovation_record_id is null and u.file_id = a.file_id and u.innovation_id = a.innovation_id
where a.file_id between $chunk_first and $chunk_last
  and a.file_id in (select file_id from chunk_files);

-- frame: innovations
select record_id, innovation_id, name, unit, form, kind, initiator, affair, stage,
       design_chars, goal_chars, benefit_chars, result_chars,
       trial_date::timestamp as trial_date, trial_date_raw,
       implementation_date::timestamp as implementation_date, implementation_date_raw,
       design_words, sid_not_list, not_object,
       -- the id, where two or more innovations of the file carry it: none of them counts (INO007)
       case when count(innovation_id) over (partition by file_id, innovation_id) > 1 then innovation_id end
           as duplicated_id
from landing_innovations
where file_id between $chunk_first and $chunk_last
  and file_id in (select file_id from chunk_files);

-- frame: evidence
select record_id, coalesce(item, '') as item_text
from landing_evidence
where file_id between $chunk_first and $chunk_last
  and file_id in (select file_id from chunk_files);
