//! The `remove` function: remove a member (or leave), or many at once.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content};
use crate::app::App;
use crate::services::members;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Remove,
    Bulk,
}

pub const ROUTES: &[Route<Op>] = &[
    Route {
        method: "DELETE",
        path: "/orgs/{org_id}/members/{user_id}",
        op: Op::Remove,
    },
    Route {
        method: "POST",
        path: "/orgs/{org_id}/members/bulk-remove",
        op: Op::Bulk,
    },
];

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    super::respond(dispatch(app, &req).await)
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, params) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    let (who, org) = super::caller_and_org(app, req, &params).await?;
    match op {
        Op::Remove => {
            members::remove(app, &who, org, params.get("user_id")).await?;
            no_content()
        }
        Op::Bulk => json(
            StatusCode::OK,
            &members::bulk_remove(app, &who, org, json_body(req)?).await?,
        ),
    }
}
