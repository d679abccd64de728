//! The `invite` function: send, list, read, resend and revoke an organization's invitations.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content, query};
use crate::app::App;
use crate::error::ServiceResult;
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
    let inv_id = params.get("invitation_id");
    // The invitation an operation acts on is read in the caller's round trip.
    let read_inv = || invitations::read_invitation(app, super::path_org(&params), inv_id);
    match op {
        Op::Invite => {
            let body: ServiceResult<invitations::InviteRequest> = json_body(req);
            let plan = invitations::plan(app, body);
            let read = invitations::read_recipients(app, super::path_org(&params), &plan);
            let (who, org, found) = super::caller_org_and(app, req, &params, read).await?;
            json(
                StatusCode::OK,
                &invitations::invite(app, &who, org, plan, found).await?,
            )
        }
        Op::List => {
            let limit = page_limit(query(req, "limit").as_deref());
            let status = invitations::status_filter(query(req, "status").as_deref());
            let cursor = query(req, "cursor");
            let read = async {
                Ok(match (super::path_org(&params), &limit, &status) {
                    (Some(id), Ok(limit), Ok(status)) => Some(
                        invitations::read_page(app, &id, *status, *limit, cursor.as_deref()).await,
                    ),
                    _ => None,
                })
            };
            let (who, org, page) = super::caller_org_and(app, req, &params, read).await?;
            json(
                StatusCode::OK,
                &invitations::list(&who, org, limit, status, page)?,
            )
        }
        Op::Get => {
            let (who, org, inv) = super::caller_org_and(app, req, &params, read_inv()).await?;
            json(StatusCode::OK, &invitations::get(&who, org, inv)?)
        }
        Op::Resend => {
            let org_id = super::path_org(&params);
            let read = async { tokio::try_join!(read_inv(), invitations::read_quota(app, org_id)) };
            let (who, org, inv) = super::caller_org_and(app, req, &params, read).await?;
            json(
                StatusCode::OK,
                &invitations::resend(app, &who, org, inv).await?,
            )
        }
        Op::Revoke => {
            let (who, org, inv) = super::caller_org_and(app, req, &params, read_inv()).await?;
            invitations::revoke(app, &who, org, inv).await?;
            no_content()
        }
    }
}
