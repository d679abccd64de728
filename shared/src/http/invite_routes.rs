//! The `invite` function: send, list, read, resend and revoke an organization's invitations.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content, query};
use crate::app::App;
use crate::services::{invitations, page_limit};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

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

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    super::respond(dispatch(app, &req).await)
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, params) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    let (who, org) = super::caller_and_org(app, req, &params).await?;
    let inv_id = params.get("invitation_id");
    match op {
        Op::Invite => {
            let body = json_body(req)?;
            json(
                StatusCode::OK,
                &invitations::invite(app, &who, org, body).await?,
            )
        }
        Op::List => {
            let limit = page_limit(query(req, "limit").as_deref())?;
            let status = query(req, "status");
            let cursor = query(req, "cursor");
            let page =
                invitations::list(app, &who, org, status.as_deref(), limit, cursor.as_deref())
                    .await?;
            json(StatusCode::OK, &page)
        }
        Op::Get => json(
            StatusCode::OK,
            &invitations::get(app, &who, org, inv_id).await?,
        ),
        Op::Resend => json(
            StatusCode::OK,
            &invitations::resend(app, &who, org, inv_id).await?,
        ),
        Op::Revoke => {
            invitations::revoke(app, &who, org, inv_id).await?;
            no_content()
        }
    }
}
