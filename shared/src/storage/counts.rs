//! An organization's member count without one hot item (issue 18.3). The count shown is the
//! org item's own `member_count` plus the deltas of up to `MEMBER_COUNT_SHARDS` shard items
//! under the org's key (`PROFILE#COUNT#<k>`), read with the org in one Query. In a tier
//! without a seat limit a join adds one to a random shard and a removal takes from one, so
//! hundreds of concurrent accepts do not cancel each other on the org item. A seat-limited
//! tier counts on the org item itself: its seat condition needs the exact count at write
//! time. A change into a seat-limited tier folds the shards into the org item and closes
//! them, in its own transaction; a join or removal that read the old tier and meets a
//! closed shard is refused (409: read again, count exactly).

use super::{Store, keys, n, s};
use crate::domain::{CountShard, OrgId, Organization, Tier};
use crate::error::ServiceResult;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use std::collections::HashMap;

/// A shard item's attributes: its delta, and the mark of a fold into the org item.
const DELTA: &str = "member_delta";
const CLOSED: &str = "closed";

/// Where a join or a removal is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberCounter {
    /// The org item's `member_count`: exact, and joins carry the seat condition. For
    /// seat-limited tiers, and wherever the org's tier was not read.
    OrgItem,
    /// A random shard: tiers without a seat limit.
    Shard,
}

/// The member count shown: the org item's own counter plus every shard's delta (a shard
/// may be negative: removals take from a random one).
pub(crate) fn member_total(own: i64, shards: &[CountShard]) -> u64 {
    let sum = shards
        .iter()
        .fold(own, |total, shard| total.saturating_add(shard.delta));
    u64::try_from(sum).unwrap_or(0)
}

/// The shard a write goes to, from a random number: uniform over the shards.
pub(crate) fn shard_for(random: u32) -> u32 {
    random % keys::MEMBER_COUNT_SHARDS
}

/// A shard item as stored, or `None` for any other item.
pub(crate) fn shard_of(item: &HashMap<String, AttributeValue>) -> Option<CountShard> {
    let sk = item.get(keys::SK)?.as_s().ok()?;
    let index = sk
        .strip_prefix(keys::MEMBER_COUNT_SHARD_PREFIX)?
        .parse()
        .ok()?;
    let delta = item
        .get(DELTA)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some(CountShard {
        index,
        delta,
        closed: item.contains_key(CLOSED),
    })
}

impl Store {
    /// Where joins and removals of an organization on `tier` are counted (`None`: the tier
    /// was not read, so the org item, which is right for every tier).
    pub fn counter(&self, tier: Option<&Tier>) -> MemberCounter {
        let limited = |t: &Tier| {
            self.tiers
                .as_ref()
                .is_some_and(|tiers| tiers.limits_of(t.as_ref()).seats.is_some())
        };
        match tier {
            Some(t) if !limited(t) => MemberCounter::Shard,
            _ => MemberCounter::OrgItem,
        }
    }

    /// `delta` (a join: +1, removals: −n) on a random shard, refused when a change to a
    /// seat-limited tier closed it since the org was read.
    pub(crate) fn shard_add(&self, org: &OrgId, delta: i64) -> ServiceResult<TransactWriteItem> {
        let k = shard_for(rand::random());
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::org_pk(org),
                &keys::member_count_shard_sk(k),
            )))
            .update_expression(format!("ADD {DELTA} :d"))
            .condition_expression(format!("attribute_not_exists({CLOSED})"))
            .expression_attribute_values(":d", n(delta))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// What a change of `org` (as read) to tier `to` adds to its transaction: into a
    /// seat-limited tier from one without, the shards' sum (to add to the org item's
    /// counter) and every shard closed at zero, each conditional on the delta read (a join
    /// in between makes the change a 409); out of a seat-limited tier, the closed shards
    /// opened again. Otherwise nothing.
    pub(crate) fn tier_change_shards(
        &self,
        org: &Organization,
        to: &Tier,
    ) -> ServiceResult<(i64, Vec<TransactWriteItem>)> {
        let (from, to) = (self.counter(Some(&org.tier)), self.counter(Some(to)));
        let shard_key = |k| Self::key(keys::org_pk(&org.id), &keys::member_count_shard_sk(k));
        let mut items = Vec::new();
        match (from, to) {
            (MemberCounter::Shard, MemberCounter::OrgItem) => return self.fold_shards(org),
            (MemberCounter::OrgItem, MemberCounter::Shard) => {
                for shard in org.count_shards.iter().filter(|s| s.closed) {
                    let update = Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(shard_key(shard.index)))
                        .update_expression(format!("REMOVE {CLOSED}"))
                        .condition_expression(format!("attribute_exists({CLOSED})"))
                        .build()?;
                    items.push(TransactWriteItem::builder().update(update).build());
                }
            }
            _ => {}
        }
        Ok((0, items))
    }

    /// Every shard of `org` (as read) closed at zero, each conditional on the delta read
    /// (absent ones created closed), and their sum, for the org item's counter.
    fn fold_shards(&self, org: &Organization) -> ServiceResult<(i64, Vec<TransactWriteItem>)> {
        let mut items = Vec::new();
        let mut fold = 0i64;
        for k in 0..keys::MEMBER_COUNT_SHARDS {
            let read = org.count_shards.iter().find(|s| s.index == k);
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(Self::key(
                    keys::org_pk(&org.id),
                    &keys::member_count_shard_sk(k),
                )))
                .update_expression(format!("SET {CLOSED} = :t, {DELTA} = :zero"))
                .expression_attribute_values(":t", AttributeValue::Bool(true))
                .expression_attribute_values(":zero", n(0));
            let update = match read {
                Some(shard) => {
                    fold += shard.delta;
                    update
                        .condition_expression(format!("{DELTA} = :read"))
                        .expression_attribute_values(":read", n(shard.delta))
                }
                None => update.condition_expression("attribute_not_exists(pk)"),
            };
            items.push(TransactWriteItem::builder().update(update.build()?).build());
        }
        Ok((fold, items))
    }

    /// An org on a seat-limited tier whose shards still count: TIERS gave its tier a seat
    /// limit in a redeploy, so no PATCH folded them. Before a join is counted on the org
    /// item, its shards are folded into it (as a PATCH into the tier does), so the seat
    /// condition sees every member; once per org, then its shards are closed. Losing a race
    /// (a concurrent join folded first, or an old instance still counting on a shard) is
    /// left to the next join: the join's own conditions still hold.
    pub async fn settle_count(&self, org: &Organization) -> ServiceResult<()> {
        if self.counter(Some(&org.tier)) == MemberCounter::Shard
            || org.count_shards.iter().all(|s| s.closed)
        {
            return Ok(());
        }
        let (fold, shards) = self.fold_shards(org)?;
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::org_pk(&org.id), keys::PROFILE)))
            .update_expression("ADD member_count :fold")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(deleted_at) AND tier = :tier",
            )
            .expression_attribute_values(":fold", n(fold))
            .expression_attribute_values(":tier", s(org.tier.as_ref()))
            .build()?;
        let mut tx = super::tx::Tx::new();
        tx.push(
            TransactWriteItem::builder().update(update).build(),
            super::tx::CONFLICT,
        );
        for shard in shards {
            tx.push(shard, super::tx::CONFLICT);
        }
        match self.transact(tx).await {
            Ok(()) | Err(crate::error::ServiceError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The organization and its shards from one Query's items (`None` without the org
    /// item itself: never created, or its deletion finished and left shards behind).
    pub(crate) fn org_with_shards(
        items: Vec<HashMap<String, AttributeValue>>,
    ) -> ServiceResult<Option<(super::items::OrgItem, Vec<CountShard>)>> {
        let mut org = None;
        let mut shards = Vec::new();
        for item in items {
            match shard_of(&item) {
                Some(shard) => shards.push(shard),
                None if item.get(keys::SK) == Some(&s(keys::PROFILE)) => {
                    org = Some(serde_dynamo::from_item(item)?)
                }
                None => {}
            }
        }
        Ok(org.map(|o| (o, shards)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(index: u32, delta: i64) -> CountShard {
        CountShard {
            index,
            delta,
            closed: false,
        }
    }

    #[test]
    fn the_count_is_the_org_counter_plus_every_shard() {
        assert_eq!(member_total(1, &[]), 1);
        assert_eq!(member_total(1, &[shard(0, 5), shard(7, 3)]), 9);
        // Removals take from a random shard, so one may be negative; so may the org's own
        // counter (removals counted there while joins went to shards).
        assert_eq!(member_total(-2, &[shard(0, 5), shard(3, -1)]), 2);
        // Never shown below zero.
        assert_eq!(member_total(0, &[shard(1, -1)]), 0);
    }

    #[test]
    fn shards_are_chosen_uniformly_among_all() {
        let n = keys::MEMBER_COUNT_SHARDS;
        let mut hits = vec![0u32; n as usize];
        for r in 0..(n * 100) {
            hits[shard_for(r.wrapping_mul(2_654_435_761)) as usize] += 1;
        }
        assert!(hits.iter().all(|h| *h > 0), "{hits:?}");
        assert_eq!(shard_for(u32::MAX), u32::MAX % n);
        assert!((0..1000).all(|_| shard_for(rand::random()) < n));
        assert_eq!(keys::member_count_shard_sk(3), "PROFILE#COUNT#03");
    }

    #[test]
    fn shard_items_are_told_from_the_org_item() {
        let item = |sk: &str, extra: &[(&str, AttributeValue)]| {
            let mut i = HashMap::from([
                (keys::PK.to_string(), s("ORG#o")),
                (keys::SK.to_string(), s(sk)),
            ]);
            i.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
            i
        };
        assert_eq!(
            shard_of(&item("PROFILE#COUNT#04", &[(DELTA, n(-3))])),
            Some(shard(4, -3))
        );
        let closed = shard_of(&item(
            "PROFILE#COUNT#15",
            &[(DELTA, n(0)), (CLOSED, AttributeValue::Bool(true))],
        ));
        assert_eq!(closed.map(|s| (s.index, s.closed)), Some((15, true)));
        assert_eq!(shard_of(&item(keys::PROFILE, &[])), None);
        assert_eq!(shard_of(&item("INV#x", &[])), None);
    }
}
