//! Seeding by direct BatchWriteItem: members, invitations (with their pending claims) and
//! audit entries of one organization, in the shapes the storage layer writes, every key from
//! `roster::storage::keys`. What is seeded is read back through the store before anything
//! is measured, so a shape that drifted from storage's fails the run instead of skewing it.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures_util::{StreamExt, TryStreamExt, stream};
use roster::domain::{Email, InvitationId, OrgId, UserId};
use roster::storage::keys;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn item<const N: usize>(pairs: [(&str, AttributeValue); N]) -> Item {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A member's user item and its email claim.
pub fn member(org: &OrgId, id: &UserId, email: &Email, at: &str) -> [Item; 2] {
    [
        item([
            (keys::PK, s(keys::user_pk(id))),
            (keys::SK, s(keys::PROFILE)),
            ("id", s(id.to_string())),
            ("email", s(email.to_string())),
            ("name", s("Scale Member")),
            // Never signed in with: the measured requests carry minted access tokens.
            ("password_hash", s("seeded")),
            ("org_id", s(org.to_string())),
            ("role", s("member")),
            ("joined_at", s(at)),
            ("platform_admin", AttributeValue::Bool(false)),
            ("token_version", n(0)),
            ("created_at", s(at)),
            ("updated_at", s(at)),
            (keys::GSI1PK, s(keys::org_members_pk(org))),
            (keys::GSI1SK, s(keys::member_sk(id))),
            (keys::GSI2PK, s(keys::email_pk(email))),
            (keys::GSI2SK, s(keys::EMAIL_LOOKUP_SK)),
        ]),
        item([
            (keys::PK, s(keys::email_pk(email))),
            (keys::SK, s(keys::EMAIL_SK)),
            ("owner", s(id.to_string())),
        ]),
    ]
}

/// What a seeded invitation is.
pub struct SeedInvitation<'a> {
    pub org: &'a OrgId,
    pub id: &'a InvitationId,
    pub email: &'a Email,
    pub inviter: &'a UserId,
    pub created_at: &'a str,
    pub expires_at: &'a str,
    pub expires_epoch: i64,
    pub nonce_hash: &'a str,
}

/// A pending invitation (listed on the sparse expiry index) and its pending claim.
pub fn invitation(inv: &SeedInvitation<'_>, retention_secs: i64) -> [Item; 2] {
    [
        item([
            (keys::PK, s(keys::org_pk(inv.org))),
            (keys::SK, s(keys::invitation_sk(inv.id))),
            ("id", s(inv.id.to_string())),
            ("org_id", s(inv.org.to_string())),
            ("email", s(inv.email.to_string())),
            ("role", s("member")),
            ("status", s("pending")),
            ("expires_at", s(inv.expires_at)),
            ("expires_epoch", n(inv.expires_epoch)),
            ("created_at", s(inv.created_at)),
            ("invited_by", s(inv.inviter.to_string())),
            ("inviter_name", s("Scale Owner")),
            ("send_count", n(1)),
            ("last_sent_at", s(inv.created_at)),
            ("email_delivery", s("sent")),
            ("nonce_hash", s(inv.nonce_hash)),
            (keys::GSI1PK, s(keys::expiry_pk(inv.id))),
            (keys::GSI1SK, s(keys::expiry_sk(inv.expires_epoch, inv.id))),
            (keys::TTL, n(inv.expires_epoch + retention_secs)),
        ]),
        item([
            (keys::PK, s(keys::org_pk(inv.org))),
            (keys::SK, s(keys::pending_claim_sk(inv.email))),
            ("invitation_id", s(inv.id.to_string())),
        ]),
    ]
}

/// An audit entry (`member.joined`, as a join writes it); its sort key is returned too.
pub fn audit(org: &OrgId, actor: &UserId, target: &UserId, at: &str, epoch: i64) -> (String, Item) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let sk = keys::audit_sk(at, &id);
    let entry = item([
        (keys::PK, s(keys::audit_pk(org))),
        (keys::SK, s(&sk)),
        ("id", s(id)),
        ("at", s(at)),
        ("org_id", s(org.to_string())),
        ("actor", s(actor.to_string())),
        ("action", s("member.joined")),
        ("target", s(target.to_string())),
        ("after", s(r#"{"role":"member"}"#)),
        (keys::TTL, n(epoch + 365 * 24 * 3600)),
    ]);
    (sk, entry)
}

/// Writes `items` with BatchWriteItem, 25 a request, a few requests in flight (the emulator
/// serialises them; the overlap hides the client's own work), retrying what DynamoDB
/// leaves unprocessed.
pub async fn batch_write(client: &Client, table: &str, items: Vec<Item>) -> Result<u64, String> {
    let chunks: Vec<Vec<Item>> = items.chunks(25).map(<[Item]>::to_vec).collect();
    let requests = stream::iter(chunks)
        .map(|chunk| write_chunk(client, table, chunk))
        .buffer_unordered(4)
        .try_fold(0u64, |sum, n| async move { Ok(sum + n) })
        .await?;
    Ok(requests)
}

async fn write_chunk(client: &Client, table: &str, chunk: Vec<Item>) -> Result<u64, String> {
    let mut pending: Vec<WriteRequest> = chunk
        .into_iter()
        .map(|item| {
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|put| WriteRequest::builder().put_request(put).build())
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let mut requests = 0;
    for attempt in 0..10u32 {
        requests += 1;
        let out = client
            .batch_write_item()
            .request_items(table, pending)
            .send()
            .await
            .map_err(|e| format!("BatchWriteItem: {}", roster::storage::sdk_error(e)))?;
        pending = out
            .unprocessed_items
            .and_then(|mut m| m.remove(table))
            .unwrap_or_default();
        if pending.is_empty() {
            return Ok(requests);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50 << attempt.min(5))).await;
    }
    Err("BatchWriteItem left items unprocessed after 10 tries".into())
}
