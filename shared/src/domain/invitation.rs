//! Invitations: ids, roles, lifetimes, statuses and the link token.

use super::{Invalid, OrgId};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Time-ordered (v7), so an organization's invitations list in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InvitationId(Uuid);

impl InvitationId {
    pub fn new() -> Self {
        InvitationId(Uuid::now_v7())
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.len() != 36 {
            return Err(Invalid::new("is not a valid id"));
        }
        Uuid::try_parse(raw)
            .map(InvitationId)
            .map_err(|_| Invalid::new("is not a valid id"))
    }
}

impl Default for InvitationId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for InvitationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl Serialize for InvitationId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for InvitationId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        InvitationId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Expired,
    Revoked,
}

impl InvitationStatus {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "pending" => Ok(Self::Pending),
            "accepted" => Ok(Self::Accepted),
            "declined" => Ok(Self::Declined),
            "expired" => Ok(Self::Expired),
            "revoked" => Ok(Self::Revoked),
            _ => Err(Invalid::new(
                "must be one of pending, accepted, declined, expired, revoked",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    /// A stored status as seen at `now`: pending past its expiry is expired, whatever the
    /// cleanup schedule or DynamoDB's TTL have done yet.
    pub fn effective(self, expires_epoch: i64, now: i64) -> Self {
        if self == Self::Pending && expires_epoch <= now {
            Self::Expired
        } else {
            self
        }
    }
}

/// Whether the email carrying an invitation's current link went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

pub const MIN_EXPIRES_IN: i64 = 300;
pub const MAX_EXPIRES_IN: i64 = 2_592_000;

pub fn parse_expires_in(secs: i64) -> Result<i64, Invalid> {
    if (MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(&secs) {
        Ok(secs)
    } else {
        Err(Invalid::new(format!(
            "must be from {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN} seconds"
        )))
    }
}

/// An email-change confirmation link's token, `<user id>.<secret>` (43 base64url
/// characters). Parsed at the edge; what does not have this form names no change (`None`).
#[derive(Clone, PartialEq, Eq)]
pub struct EmailChangeLink {
    pub user: crate::domain::UserId,
    pub nonce: String,
}

impl EmailChangeLink {
    pub fn parse(raw: &str) -> Option<Self> {
        let (id, nonce) = raw.split_once('.')?;
        let ok = nonce.len() == 43
            && nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let user = crate::domain::UserId::parse(id).ok()?;
        ok.then(|| EmailChangeLink {
            user,
            nonce: nonce.to_string(),
        })
    }
}

impl std::fmt::Debug for EmailChangeLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EmailChangeLink({}, ***)", self.user)
    }
}

/// An invitation link's token as presented, parsed at the edge: `token` is `None` when it is
/// malformed (it names no invitation, and still counts as a bad link against the client
/// address's limit, as an unknown one does). `raw` is kept to put back into a form.
#[derive(Clone)]
pub struct PresentedLink {
    raw: String,
    pub token: Option<InvitationToken>,
}

impl PresentedLink {
    pub fn parse(raw: &str) -> Self {
        PresentedLink {
            raw: raw.to_string(),
            token: InvitationToken::parse(raw).ok(),
        }
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }
}

impl std::fmt::Debug for PresentedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PresentedLink({:?})", self.token)
    }
}

impl<'de> serde::Deserialize<'de> for PresentedLink {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(PresentedLink::parse(&String::deserialize(d)?))
    }
}

/// The secret in an invitation link: `<base64url(org id ‖ invitation id)>.<nonce>`. The
/// nonce is 256 random bits; only its SHA-256 is stored, and a resend replaces it, so every
/// earlier link dies. It has no JWT shape, so it can never pass as an access token.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken {
    pub org_id: OrgId,
    pub invitation_id: InvitationId,
    pub nonce: String,
}

impl std::fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InvitationToken({}, ***)", self.invitation_id)
    }
}

impl InvitationToken {
    pub fn encode(&self) -> String {
        let mut ids = Vec::with_capacity(32);
        ids.extend_from_slice(
            Uuid::parse_str(&self.org_id.to_string())
                .unwrap_or_default()
                .as_bytes(),
        );
        ids.extend_from_slice(self.invitation_id.0.as_bytes());
        format!("{}.{}", URL_SAFE_NO_PAD.encode(ids), self.nonce)
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("is not a valid invitation token");
        let (ids, nonce) = raw.trim().split_once('.').ok_or_else(bad)?;
        let ids = URL_SAFE_NO_PAD.decode(ids).map_err(|_| bad())?;
        let nonce_ok = nonce.len() == 43
            && nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ids.len() != 32 || !nonce_ok {
            return Err(bad());
        }
        let org = Uuid::from_slice(&ids[..16]).map_err(|_| bad())?;
        let inv = Uuid::from_slice(&ids[16..]).map_err(|_| bad())?;
        Ok(InvitationToken {
            org_id: OrgId::parse(&org.hyphenated().to_string()).map_err(|_| bad())?,
            invitation_id: InvitationId(inv),
            nonce: nonce.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_change_links_parse_only_in_their_form() {
        let id = crate::domain::UserId::new();
        let nonce = "aB3-_".repeat(8) + "xyz";
        let link = EmailChangeLink::parse(&format!("{id}.{nonce}")).unwrap();
        assert_eq!((link.user, link.nonce.as_str()), (id, nonce.as_str()));
        assert!(!format!("{link:?}").contains(&nonce));
        for bad in [
            format!("{id}{nonce}"),
            format!("{id}.short"),
            format!("nope.{nonce}"),
            format!("{id}.{}", "é".repeat(21)),
            format!("{id}.{nonce}!"),
        ] {
            assert_eq!(EmailChangeLink::parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let t = InvitationToken {
            org_id: OrgId::new(),
            invitation_id: InvitationId::new(),
            nonce: crate::auth::secret::random_token(),
        };
        let raw = t.encode();
        assert_eq!(InvitationToken::parse(&raw).unwrap(), t);
        assert!(!format!("{t:?}").contains(&t.nonce));
        for bad in [
            "",
            "abc",
            "abc.def",
            &raw[1..],
            &raw[..raw.len() - 1],
            &format!("{raw}x"),
            "a.b.c",
        ] {
            assert!(InvitationToken::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn expiry_bounds_and_effective_status() {
        assert!(parse_expires_in(299).is_err());
        assert!(parse_expires_in(300).is_ok());
        assert!(parse_expires_in(2_592_000).is_ok());
        assert!(parse_expires_in(2_592_001).is_err());
        assert_eq!(
            InvitationStatus::Pending.effective(100, 100),
            InvitationStatus::Expired
        );
        assert_eq!(
            InvitationStatus::Pending.effective(101, 100),
            InvitationStatus::Pending
        );
        assert_eq!(
            InvitationStatus::Accepted.effective(1, 100),
            InvitationStatus::Accepted
        );
    }
}
