//! What every service runs in: the app, the caller's bearer credentials (checked without
//! I/O, not yet against storage), and the client's address. The http layer builds it once
//! per request; a service performs its own reads, the caller's included, in one wave.

use super::caller::{self, Verified};
use crate::app::App;
use crate::domain::{OrgId, Organization, User};
use crate::error::{ServiceError, ServiceResult};
use std::future::Future;

/// The bearer token a request carried, checked without I/O.
#[derive(Debug, Clone, Copy)]
pub enum Credentials {
    None,
    /// Present, but its signature, audience or expiry did not check out.
    Refused,
    /// Checked out; the user is read (and its `token_version` compared) by `Ctx::caller`.
    Valid(Verified),
}

pub struct Ctx<'a> {
    pub app: &'a App,
    pub credentials: Credentials,
    /// The client's address as API Gateway saw it, for the per-address abuse limits.
    pub client: Option<String>,
}

impl<'a> Ctx<'a> {
    pub fn new(app: &'a App, bearer: Option<&str>, client: Option<String>) -> Self {
        let credentials = match bearer.map(|b| caller::verify(app, Some(b))) {
            None => Credentials::None,
            Some(Ok(v)) => Credentials::Valid(v),
            Some(Err(_)) => Credentials::Refused,
        };
        Ctx {
            app,
            credentials,
            client,
        }
    }

    /// The credentials, or 401. No I/O: the edge asks before parsing a request that needs
    /// a caller, so an anonymous request is refused before its other faults are reported.
    pub fn verified(&self) -> ServiceResult<Verified> {
        match self.credentials {
            Credentials::Valid(v) => Ok(v),
            Credentials::None | Credentials::Refused => Err(ServiceError::Unauthorized),
        }
    }

    pub fn client(&self) -> Option<&str> {
        self.client.as_deref()
    }

    /// The session the caller's token was issued for, when it names one.
    pub fn session(&self) -> Option<String> {
        let v = self.verified().ok()?;
        v.session.map(|t| t.session_id(&v.user_id))
    }

    /// The caller's current record (one GetItem).
    pub async fn caller(&self) -> ServiceResult<User> {
        caller::load(self.app, self.verified()?).await
    }

    /// The caller and the operation's own reads (`also`), concurrently: one round trip, so
    /// a mutation is this wave plus its transaction (DESIGN §8). `also` must not depend on
    /// who is calling; its result is used only once the caller's authority is checked.
    pub async fn caller_and<T>(
        &self,
        also: impl Future<Output = ServiceResult<T>>,
    ) -> ServiceResult<(User, T)> {
        let verified = self.verified()?;
        // Boxed: several SDK calls side by side make a future too large for a thread's
        // stack in unoptimised builds.
        tokio::try_join!(Box::pin(caller::load(self.app, verified)), Box::pin(also))
    }

    /// As `caller_and`, with the organization `org` names in the same wave (none for a
    /// malformed id: the same 404 as a missing one).
    pub async fn caller_org_and<T>(
        &self,
        org: Option<OrgId>,
        also: impl Future<Output = ServiceResult<T>>,
    ) -> ServiceResult<(User, Option<Organization>, T)> {
        let app = self.app;
        let org_id = org;
        let org_and_also = async {
            tokio::try_join!(
                Box::pin(async {
                    match &org {
                        Some(id) => app.store.get_org(id).await,
                        None => Ok(None),
                    }
                }),
                Box::pin(also)
            )
        };
        let (mut who, (org, also)) = self.caller_and(org_and_also).await?;
        // A membership of an organization that is gone (deleted, its detach yet to reach
        // or having missed this account) is no membership.
        if org.is_none() && who.org_id.is_some() && who.org_id == org_id {
            who = without_membership(who);
        }
        Ok((who, org, also))
    }
}

/// `user` as having no organization (the account's item may still name a deleted one).
pub fn without_membership(user: User) -> User {
    User {
        org_id: None,
        role: None,
        joined_at: None,
        ..user
    }
}
