//! The pending claims: "the pending invitation of this email in this org", one item each,
//! so two invitations for one address cannot both be pending.

use crate::domain::{Email, InvitationId, OrgId};
use crate::error::ServiceResult;
use crate::storage::{Store, keys, s};
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Serialize, Deserialize)]
struct PendingClaim {
    pk: String,
    sk: String,
    invitation_id: InvitationId,
}

impl Store {
    /// The pending invitation id for each of `emails` in `org`, where one exists.
    pub async fn pending_invitations(
        &self,
        org: &OrgId,
        emails: &[Email],
    ) -> ServiceResult<HashMap<Email, InvitationId>> {
        if emails.is_empty() {
            return Ok(HashMap::new());
        }
        let wanted = emails
            .iter()
            .map(|e| Self::key(keys::org_pk(org), &keys::pending_claim_sk(e)))
            .collect();
        let mut out = HashMap::new();
        for item in self.batch_get(wanted).await? {
            let claim: PendingClaim = serde_dynamo::from_item(item)?;
            if let Some(email) = claim
                .sk
                .strip_prefix(keys::PENDING_CLAIM_PREFIX)
                .and_then(|e| Email::parse(e).ok())
            {
                out.insert(email, claim.invitation_id);
            }
        }
        Ok(out)
    }

    /// Claims "the pending invitation of `email` in `org`" for `id`. `reclaim` also accepts a
    /// claim this invitation already holds (a resend of an expired invitation).
    pub(super) fn pending_claim_put(
        &self,
        org: &OrgId,
        email: &Email,
        id: &InvitationId,
        reclaim: bool,
    ) -> ServiceResult<TransactWriteItem> {
        let claim = PendingClaim {
            pk: keys::org_pk(org),
            sk: keys::pending_claim_sk(email),
            invitation_id: *id,
        };
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(claim)?));
        put = if reclaim {
            put.condition_expression("attribute_not_exists(pk) OR invitation_id = :id")
                .expression_attribute_values(":id", s(id.to_string()))
        } else {
            put.condition_expression("attribute_not_exists(pk)")
        };
        Ok(TransactWriteItem::builder().put(put.build()?).build())
    }

    pub(super) fn pending_claim_delete(
        &self,
        org: &OrgId,
        email: &Email,
        id: &InvitationId,
    ) -> ServiceResult<TransactWriteItem> {
        // Only this invitation's claim; a missing claim is fine (the condition allows it).
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::org_pk(org),
                &keys::pending_claim_sk(email),
            )))
            .condition_expression("attribute_not_exists(pk) OR invitation_id = :id")
            .expression_attribute_values(":id", s(id.to_string()))
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}
