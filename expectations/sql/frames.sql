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
select a.record_id, a.indicator, a.level, a.level_raw, a.value, a.value_raw, a.n_evidence,
       row_number() over (partition by a.file_id, a.indicator order by a.record_id) as occurrence,
       r.value_min, r.value_max,
       value_level(a.value, r.kind, r.direction, r.c1, r.c2, r.c3) as value_level
from landing_spd_answers a
left join method_rows r on r.code = a.indicator and r.part = 'spd'
where a.file_id between $chunk_first and $chunk_last
  and a.file_id in (select file_id from chunk_files);

-- frame: sid_answers
select a.record_id, a.indicator, a.level, a.level_raw, a.value, a.value_raw, a.n_evidence, a.innovation_record_id,
       row_number() over (partition by a.file_id, a.innovation_record_id, a.indicator order by a.record_id)
           as occurrence,
       r.value_min, r.value_max,
       value_level(a.value, r.kind, r.direction, r.c1, r.c2, r.c3) as value_level
from landing_sid_answers a
left join method_rows r on r.code = a.indicator and r.part = 'sid'
where a.file_id between $chunk_first and $chunk_last
  and a.file_id in (select file_id from chunk_files);

-- frame: innovations
select record_id, innovation_id, name, unit, form, kind, initiator, affair, stage,
       design_chars, goal_chars, benefit_chars, result_chars,
       trial_date::timestamp as trial_date, trial_date_raw,
       implementation_date::timestamp as implementation_date, implementation_date_raw,
       design_words, sid_not_list,
       row_number() over (partition by file_id, innovation_id order by record_id) as occurrence
from landing_innovations
where file_id between $chunk_first and $chunk_last
  and file_id in (select file_id from chunk_files);

-- frame: evidence
select record_id, coalesce(item, '') as item_text
from landing_evidence
where file_id between $chunk_first and $chunk_last
  and file_id in (select file_id from chunk_files);
