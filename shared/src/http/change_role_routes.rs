//! The `change-role` function: one member's role, many at once, and ownership transfer.

use super::router::{Route, resolve};
use super::{Reply, json, json_body};
use crate::app::App;
use crate::error::ServiceResult;
use crate::services::members;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Change,
    Bulk,
    Transfer,
}

pub const ROUTES: &[Route<Op>] = &[
    Route {
        method: "PATCH",
        path: "/orgs/{org_id}/members/{user_id}",
        op: Op::Change,
    },
    Route {
        method: "POST",
        path: "/orgs/{org_id}/members/bulk-role",
        op: Op::Bulk,
    },
    Route {
        method: "POST",
        path: "/orgs/{org_id}/transfer-ownership",
        op: Op::Transfer,
    },
];

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    super::respond(dispatch(app, &req).await)
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, params) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    // Each operation reads what it changes in the caller's round trip; the body's errors
    // are reported after authentication, as every route does.
    match op {
        Op::Change => {
            let user_id = params.get("user_id");
            let (who, org, target) =
                super::caller_org_and(app, req, &params, members::read_user(app, user_id)).await?;
            let body = json_body(req)?;
            json(
                StatusCode::OK,
                &members::change_role(app, &who, org, target, body).await?,
            )
        }
        Op::Bulk => {
            let body: ServiceResult<members::BulkRoleRequest> = json_body(req);
            let ids = body.as_ref().ok().map(|b| b.user_ids.as_slice());
            let read = members::read_bulk(app, ids);
            let (who, org, users) = super::caller_org_and(app, req, &params, read).await?;
            json(
                StatusCode::OK,
                &members::bulk_role(app, &who, org, body?, users).await?,
            )
        }
        Op::Transfer => {
            let body: ServiceResult<members::TransferRequest> = json_body(req);
            let target = body.as_ref().ok().map(|b| b.user_id.as_str());
            let (who, org, target) =
                super::caller_org_and(app, req, &params, members::read_user(app, target)).await?;
            json(
                StatusCode::OK,
                &members::transfer(app, &who, org, body?, target).await?,
            )
        }
    }
}
