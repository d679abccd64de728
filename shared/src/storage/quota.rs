//! Quotas: the daily invitation counters (one per organization, one for the deployment) and
//! the seat condition every join carries. The limits are the tier table's
//! (`domain::Tiers`); the arithmetic is `domain::DailyCounts`.

use super::retry::SendRetrying;
use super::{Store, keys, n, s};
use crate::domain::{DAY_SECS, DailyCounts, OrgId, Tiers, utc_day};
use crate::error::{ServiceError, ServiceResult};
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
    builders::UpdateBuilder,
};
use std::collections::HashMap;

/// What an organization, and the whole deployment, sent on one UTC day.
#[derive(Debug, Clone, Copy)]
pub struct InviteQuota {
    pub org: OrgId,
    pub counts: DailyCounts,
}

/// "The organization has a seat left for one more member", as a DynamoDB condition on the
/// org item, built once from the tier table: the org's stored `tier` picks its seat limit,
/// and a tier no longer configured gets the first tier's. `None` when no tier limits seats.
#[derive(Debug, Clone)]
pub(crate) struct SeatRule {
    condition: String,
    values: Vec<(String, AttributeValue)>,
}

impl SeatRule {
    pub(crate) fn new(tiers: &Tiers) -> Option<SeatRule> {
        if !tiers.any_seat_limit() {
            return None;
        }
        let mut terms = Vec::new();
        let mut values = Vec::new();
        let mut unlimited = Vec::new();
        let mut all = Vec::new();
        for (i, tier) in tiers.iter().enumerate() {
            let name = format!(":seat_tier{i}");
            values.push((name.clone(), s(&tier.name)));
            all.push(name.clone());
            match tier.seats {
                Some(seats) => {
                    let limit = format!(":seat_limit{i}");
                    values.push((limit.clone(), n(seats)));
                    terms.push(format!("(tier = {name} AND member_count < {limit})"));
                }
                None => unlimited.push(name),
            }
        }
        if !unlimited.is_empty() {
            terms.push(format!("tier IN ({})", unlimited.join(", ")));
        }
        let unknown = format!("NOT (tier IN ({}))", all.join(", "));
        terms.push(match tiers.first().seats {
            Some(_) => format!("({unknown} AND member_count < :seat_limit0)"),
            None => unknown,
        });
        Some(SeatRule {
            condition: format!("({})", terms.join(" OR ")),
            values,
        })
    }
}

/// Why a join's update of the org item was refused, from the item as it was (DynamoDB
/// returns it with the cancellation): gone or being deleted is `not_found`; a live
/// organization refused a member for want of a seat.
pub(crate) fn join_refusal(old: Option<&HashMap<String, AttributeValue>>) -> ServiceError {
    match old {
        Some(item) if !item.contains_key("deleted_at") => ServiceError::SeatLimitReached,
        _ => ServiceError::NotFound,
    }
}

impl Store {
    /// Sets the tier table whose seat limits every join checks.
    pub fn with_tiers(mut self, tiers: &Tiers) -> Self {
        self.seats = SeatRule::new(tiers);
        self.tiers = Some(tiers.clone());
        self
    }

    /// `update` of the org item for a join (member_count + 1): its `condition` (that the org
    /// is live, ...) gains the seat condition, and a refusal returns the item as it was so
    /// `join_refusal` can say why.
    pub(crate) fn with_seat_check(&self, update: UpdateBuilder, condition: &str) -> UpdateBuilder {
        let mut update = update
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match &self.seats {
            Some(rule) => {
                for (name, value) in &rule.values {
                    update = update.expression_attribute_values(name, value.clone());
                }
                update.condition_expression(format!("{condition} AND {}", rule.condition))
            }
            None => update.condition_expression(condition),
        }
    }

    /// The org item's member_count + 1, for a member joining (a new account in the org, or
    /// a restored one), conditional on the org being live and having a seat.
    pub(crate) fn member_join(&self, org: &OrgId) -> ServiceResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::org_pk(org), keys::PROFILE)))
            .update_expression("ADD member_count :d")
            .expression_attribute_values(":d", n(1));
        let update = self
            .with_seat_check(
                update,
                "attribute_exists(pk) AND attribute_not_exists(deleted_at)",
            )
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// What `org` and the deployment sent on the UTC day of `now`: both counters in one
    /// BatchGetItem.
    pub async fn get_invite_quota(&self, org: &OrgId, now: i64) -> ServiceResult<InviteQuota> {
        let day = utc_day(now);
        let org_pk = keys::invite_quota_pk(org, day);
        let items = self
            .batch_get(vec![
                Self::key(org_pk.clone(), keys::THROTTLE_SK),
                Self::key(keys::deployment_invite_quota_pk(day), keys::THROTTLE_SK),
            ])
            .await?;
        let mut counts = DailyCounts {
            day,
            org: 0,
            deployment: 0,
        };
        for item in items {
            let sent = item
                .get("sent")
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            match item.get(keys::PK).and_then(|v| v.as_s().ok()) {
                Some(pk) if *pk == org_pk => counts.org = sent,
                _ => counts.deployment = sent,
            }
        }
        Ok(InviteQuota { org: *org, counts })
    }

    /// Adds `count` to the day's two counters, as items of a transaction.
    pub(crate) fn invite_quota_add(
        &self,
        quota: &InviteQuota,
        count: u64,
    ) -> ServiceResult<Vec<TransactWriteItem>> {
        self.invite_quota_updates(quota, count)?
            .into_iter()
            .map(|u| Ok(TransactWriteItem::builder().update(u).build()))
            .collect()
    }

    /// The same, on their own (when the transaction that carried them had to be split).
    pub async fn add_to_invite_quota(&self, quota: &InviteQuota, count: u64) -> ServiceResult<()> {
        let sends = self
            .invite_quota_updates(quota, count)?
            .into_iter()
            .map(|u| {
                self.client
                    .update_item()
                    .table_name(u.table_name)
                    .set_key(Some(u.key))
                    .update_expression(u.update_expression)
                    .set_expression_attribute_names(u.expression_attribute_names)
                    .set_expression_attribute_values(u.expression_attribute_values)
                    .send_retrying()
            });
        for out in futures_util::future::join_all(sends).await {
            out.map_err(super::sdk_error)?;
        }
        Ok(())
    }

    fn invite_quota_updates(&self, quota: &InviteQuota, count: u64) -> ServiceResult<Vec<Update>> {
        let day = quota.counts.day;
        [
            keys::invite_quota_pk(&quota.org, day),
            keys::deployment_invite_quota_pk(day),
        ]
        .into_iter()
        .map(|pk| {
            Ok(Update::builder()
                .table_name(&self.table)
                .set_key(Some(Self::key(pk, keys::THROTTLE_SK)))
                .update_expression("ADD sent :n SET #ttl = :ttl")
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":n", n(count))
                .expression_attribute_values(":ttl", n((day + 2) * DAY_SECS))
                .build()?)
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(tiers: &str) -> Option<SeatRule> {
        SeatRule::new(&Tiers::parse(tiers).unwrap())
    }

    #[test]
    fn no_seat_condition_without_seat_limits() {
        assert!(rule("free,pro,enterprise").is_none());
        assert!(rule("free:invites=10,pro").is_none());
    }

    #[test]
    fn each_tier_is_held_to_its_own_seats() {
        let r = rule("free:seats=3,pro:seats=50,enterprise").unwrap();
        assert_eq!(
            r.condition,
            "((tier = :seat_tier0 AND member_count < :seat_limit0) \
             OR (tier = :seat_tier1 AND member_count < :seat_limit1) \
             OR tier IN (:seat_tier2) \
             OR (NOT (tier IN (:seat_tier0, :seat_tier1, :seat_tier2)) AND member_count < :seat_limit0))"
        );
        let values: HashMap<_, _> = r.values.into_iter().collect();
        assert_eq!(values[":seat_tier1"], s("pro"));
        assert_eq!(values[":seat_limit1"], n(50));
        assert_eq!(values[":seat_tier2"], s("enterprise"));
        assert_eq!(values.len(), 5);
    }

    #[test]
    fn an_unlimited_first_tier_leaves_unknown_tiers_unlimited() {
        let r = rule("free,pro:seats=2").unwrap();
        assert_eq!(
            r.condition,
            "((tier = :seat_tier1 AND member_count < :seat_limit1) \
             OR tier IN (:seat_tier0) \
             OR NOT (tier IN (:seat_tier0, :seat_tier1)))"
        );
    }

    #[test]
    fn a_refused_join_says_why() {
        let live = HashMap::from([("member_count".to_string(), n(3))]);
        let deleted = HashMap::from([("deleted_at".to_string(), s("2025-01-01T00:00:00Z"))]);
        assert!(matches!(
            join_refusal(Some(&live)),
            ServiceError::SeatLimitReached
        ));
        assert!(matches!(
            join_refusal(Some(&deleted)),
            ServiceError::NotFound
        ));
        assert!(matches!(join_refusal(None), ServiceError::NotFound));
    }
}
