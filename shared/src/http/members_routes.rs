//! The `members` function: list an organization's members (and pending invitations), read one.

use super::router::{Route, resolve};
use super::{Reply, json, query};
use crate::app::App;
use crate::services::{members, page_limit};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

#[derive(Debug, Clone, Copy)]
pub enum Op {
    List,
    Get,
}

pub const ROUTES: &[Route<Op>] = &[
    Route {
        method: "GET",
        path: "/orgs/{org_id}/members",
        op: Op::List,
    },
    Route {
        method: "GET",
        path: "/orgs/{org_id}/members/{user_id}",
        op: Op::Get,
    },
];

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    super::respond(dispatch(app, &req).await)
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, params) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    let (who, org) = super::caller_and_org(app, req, &params).await?;
    match op {
        Op::List => {
            let limit = page_limit(query(req, "limit").as_deref())?;
            let pending = query(req, "include_pending").as_deref() == Some("true");
            let (role, cursor) = (query(req, "role"), query(req, "cursor"));
            let page = members::list(
                app,
                &who,
                org,
                role.as_deref(),
                pending,
                limit,
                cursor.as_deref(),
            )
            .await?;
            json(StatusCode::OK, &page)
        }
        Op::Get => json(
            StatusCode::OK,
            &members::get(app, &who, org, params.get("user_id")).await?,
        ),
    }
}
