//! Validated domain types and pure rules: no I/O. Everything a request carries is parsed into
//! one of these once, at the edge; services never see a raw `String`.

mod cursor;
mod email;
mod ids;
mod invitation;
pub mod limits;
mod org;
mod password;
mod quota;
mod records;
pub mod requests;
mod role;
mod text;
mod tiers;
mod timestamp;

pub use cursor::Cursor;
pub use email::Email;
pub use ids::{OrgId, UserId};
pub use invitation::{
    DeliveryStatus, EmailChangeLink, InvitationId, InvitationStatus, InvitationToken,
    MAX_EXPIRES_IN, MIN_EXPIRES_IN, PresentedLink, parse_expires_in,
};
pub use org::{Description, OrgCode, OrgName, Tier};
pub use password::{GivenPassword, Password};
pub use quota::{DAY_SECS, DailyCounts, DailyLimits, until_day_ends, utc_day};
pub use records::{AuditEntry, CountShard, Invitation, Organization, Page, User};
pub use role::{AssignableRole, OrgRole};
pub use text::PersonName;
pub use tiers::{MAX_TIERS, TierLimits, Tiers};
pub use timestamp::Timestamp;

/// Why a value was refused; `field` is filled in by whoever knows the field's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub message: String,
}

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Invalid {
            message: message.into(),
        }
    }
}

/// Serde support for a newtype that is parsed from a string: deserialising goes through `parse`.
macro_rules! string_newtype_serde {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_ref())
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                <$ty>::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use string_newtype_serde;
