-- Every rejected record with one rule: its own first failing rule, else the rule of the parent
-- that took it down (a rejected submission takes all its rows, a rejected innovation its SID
-- answers, a rejected answer its evidence).
with ranked as (
    select suite, record_id, rule, reason, value,
           row_number() over (partition by suite, record_id order by rule, reason) as k
    from validation_failures
    where severity = 'reject'
),
direct as (select suite, record_id, rule, reason, value from ranked where k = 1),
subs as (
    select s.record_id, s.file_id, s.source_file, s.locator, d.rule, d.reason, d.value, false as cascaded
    from landing_submissions s
    join direct d on d.suite = 'submissions' and d.record_id = s.record_id
),
spd as (
    select a.record_id, a.file_id, a.source_file, a.locator,
           coalesce(d.rule, sb.rule) as rule,
           coalesce(d.reason, 'the whole submission was rejected: ' || sb.reason) as reason,
           d.value, d.rule is null as cascaded
    from landing_spd_answers a
    left join direct d on d.suite = 'spd_answers' and d.record_id = a.record_id
    left join subs sb on sb.file_id = a.file_id
    where d.rule is not null or sb.rule is not null
),
inno as (
    select i.record_id, i.file_id, i.source_file, i.locator,
           coalesce(d.rule, sb.rule) as rule,
           coalesce(d.reason, 'the whole submission was rejected: ' || sb.reason) as reason,
           d.value, d.rule is null as cascaded
    from landing_innovations i
    left join direct d on d.suite = 'innovations' and d.record_id = i.record_id
    left join subs sb on sb.file_id = i.file_id
    where d.rule is not null or sb.rule is not null
),
rejected_sid as (
    select a.record_id, a.file_id, a.position, a.innovation_record_id,
           coalesce(d.rule, inn.rule, sb.rule) as rule,
           coalesce(d.reason, 'its innovation ' || inn.locator || ' was rejected: ' || inn.reason,
                    'the whole submission was rejected: ' || sb.reason) as reason,
           d.value, d.rule is null as cascaded
    from landing_sid_answers a
    left join direct d on d.suite = 'sid_answers' and d.record_id = a.record_id
    left join inno inn on inn.record_id = a.innovation_record_id
    left join subs sb on sb.file_id = a.file_id
    where d.rule is not null or inn.rule is not null or sb.rule is not null
),
-- a SID answer keeps neither its file's name nor its locator in landing (flows/landing.py): sid_locator
sid as (
    select r.record_id, r.file_id, f.source_file, sid_locator(f.format, r.position, i.locator) as locator,
           r.rule, r.reason, r.value, r.cascaded
    from rejected_sid r
    join landing_files f on f.file_id = r.file_id
    left join landing_innovations i on i.record_id = r.innovation_record_id
),
answers as (
    select 'spd_answers' as answer_table, record_id, locator, rule, reason from spd
    union all
    select 'sid_answers', record_id, locator, rule, reason from sid
),
rejected_evidence as (
    select e.record_id, e.file_id, e.position, e.answer_table, e.answer_record_id,
           coalesce(d.rule, an.rule) as rule,
           coalesce(d.reason, 'its answer ' || an.locator || ' was rejected: ' || an.reason) as reason,
           coalesce(d.value, case when d.rule is not null then e.item end) as value,
           d.rule is null as cascaded
    from landing_evidence e
    left join direct d on d.suite = 'evidence' and d.record_id = e.record_id
    left join answers an on an.answer_table = e.answer_table and an.record_id = e.answer_record_id
    where d.rule is not null or an.rule is not null
),
-- an evidence item keeps neither its file's name nor its locator in landing (flows/landing.py): evidence_locator,
-- from its answer's (a SID answer's own: sid_locator)
evid as (
    select r.record_id, r.file_id, f.source_file,
           evidence_locator(f.format, coalesce(s.locator, sid_locator(f.format, a.position, i.locator)), r.position)
               as locator,
           r.rule, r.reason, r.value, r.cascaded
    from rejected_evidence r
    join landing_files f on f.file_id = r.file_id
    left join landing_spd_answers s on r.answer_table = 'spd_answers' and s.record_id = r.answer_record_id
    left join landing_sid_answers a on r.answer_table = 'sid_answers' and a.record_id = r.answer_record_id
    left join landing_innovations i on i.record_id = a.innovation_record_id
),
final as (
    select 'submission' as record_type, * from subs
    union all select 'spd_answer', * from spd
    union all select 'innovation', * from inno
    union all select 'sid_answer', * from sid
    union all select 'evidence', * from evid
)
select * from final
