//! The `remove` function: remove a member (or leave), or many at once.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content};
use crate::app::App;
use crate::error::ServiceResult;
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
    match op {
        Op::Remove => {
            let user_id = params.get("user_id");
            let (who, org, target) =
                super::caller_org_and(app, req, &params, members::read_user(app, user_id)).await?;
            members::remove(app, &who, org, user_id, target).await?;
            no_content()
        }
        Op::Bulk => {
            let body: ServiceResult<members::BulkRemoveRequest> = json_body(req);
            let ids = body.as_ref().ok().map(|b| b.user_ids.as_slice());
            let read = members::read_bulk(app, ids);
            let (who, org, users) = super::caller_org_and(app, req, &params, read).await?;
            json(
                StatusCode::OK,
                &members::bulk_remove(app, &who, org, body?, users).await?,
            )
        }
    }
}
