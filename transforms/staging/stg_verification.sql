-- year-wide
-- Accepted verification decisions, one per target: a whole innovation rejected, or a cap on an
-- answer's level (adjust → verified_level, reject of an answer → 0; the lowest cap wins). Built again
-- when the decisions or their validation changed. A decision acts on its own region's answers only:
-- a region's decisions are part of the fingerprint of each of its files (flows/pipeline.py), so a
-- changed decision scores that region's files again.
with rejected as (select record_id from validation_failures where suite = 'verification' and severity = 'reject'),
accepted as (
    select * from landing_verification where record_id not in (select record_id from rejected)
),
final as (
    select region_code, innovation_id, indicator,
           bool_or(indicator is null and decision = 'reject') as innovation_rejected,
           min(case when decision = 'adjust' then verified_level when decision = 'reject' then 0 end) as level_cap,
           string_agg(decision, ', ' order by record_id) as decisions,
           string_agg(source_file || ' ' || locator, '; ' order by record_id) as verification_locators
    from accepted
    group by all
)
select * from final
