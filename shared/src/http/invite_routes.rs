//! The `invite` function: send, list, read, resend and revoke an organization's invitations.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content, path_org, query};
use crate::app::App;
use crate::domain::requests::{InvitationRef, Invite, ListInvitations};
use crate::domain::{InvitationId, InvitationStatus};
use crate::error::ServiceError;
use crate::services::invitations;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Invite,
    List,
    Get,
    Resend,
    Revoke,
}

pub const ROUTES: &[Route<Op>] = &[
    Route {
        method: "POST",
        path: "/orgs/{org_id}/invitations",
        op: Op::Invite,
    },
    Route {
        method: "GET",
        path: "/orgs/{org_id}/invitations",
        op: Op::List,
    },
    Route {
        method: "GET",
        path: "/orgs/{org_id}/invitations/{invitation_id}",
        op: Op::Get,
    },
    Route {
        method: "POST",
        path: "/orgs/{org_id}/invitations/{invitation_id}/resend",
        op: Op::Resend,
    },
    Route {
        method: "DELETE",
        path: "/orgs/{org_id}/invitations/{invitation_id}",
        op: Op::Revoke,
    },
];

/// The body of POST /orgs/{org_id}/invitations as sent; `Invite::parse` checks it whole.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    emails: Vec<String>,
    role: String,
    #[serde(default)]
    expires_in_seconds: Option<i64>,
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    super::respond(dispatch(app, &req).await)
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, params) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    let ctx = super::context(app, req);
    // Every operation needs a caller: an anonymous request is refused before it is parsed.
    ctx.verified()?;
    let org = path_org(&params);
    let inv = InvitationRef {
        org,
        invitation: params
            .get("invitation_id")
            .and_then(|r| InvitationId::parse(r).ok()),
    };
    match op {
        Op::Invite => {
            let body: InviteBody = json_body(req)?;
            let invite = Invite::parse(org, &body.emails, &body.role, body.expires_in_seconds)?;
            json(StatusCode::OK, &invitations::invite(&ctx, invite).await?)
        }
        Op::List => {
            let status = query(req, "status")
                .map(|s| {
                    InvitationStatus::parse(&s)
                        .map_err(|e| ServiceError::field("status", e.message))
                })
                .transpose()?;
            let list = ListInvitations {
                org,
                status,
                page: super::page_query(req)?,
            };
            json(StatusCode::OK, &invitations::list(&ctx, list).await?)
        }
        Op::Get => json(StatusCode::OK, &invitations::get(&ctx, inv).await?),
        Op::Resend => json(StatusCode::OK, &invitations::resend(&ctx, inv).await?),
        Op::Revoke => {
            invitations::revoke(&ctx, inv).await?;
            no_content()
        }
    }
}
