//! The `change-role` function: one member's role, many at once, and ownership transfer.

use super::router::{Route, resolve};
use super::{Reply, json, json_body};
use crate::app::App;
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
    let (who, org) = super::caller_and_org(app, req, &params).await?;
    match op {
        Op::Change => {
            let body = json_body(req)?;
            json(
                StatusCode::OK,
                &members::change_role(app, &who, org, params.get("user_id"), body).await?,
            )
        }
        Op::Bulk => json(
            StatusCode::OK,
            &members::bulk_role(app, &who, org, json_body(req)?).await?,
        ),
        Op::Transfer => json(
            StatusCode::OK,
            &members::transfer(app, &who, org, json_body(req)?).await?,
        ),
    }
}
