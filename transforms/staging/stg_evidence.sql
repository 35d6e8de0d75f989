-- ephemeral
-- Usable evidence per answer: the accepted, well-formed items (an answer's evidence is in its file; of
-- the files in scope).
with rejected as (select record_id from rejected_records where record_type = 'evidence'),
final as (
    select file_id, answer_table, answer_record_id, count(*) as usable_evidence
    from landing_evidence
    where record_id not in (select record_id from rejected) and item is not null and in_scope(file_id)
    group by all
)
select * from final
