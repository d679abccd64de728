//! The `orgs` function: create, list, get, update, delete organizations.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content, query};
use crate::app::App;
use crate::services::{caller, orgs, page_limit};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Create,
    List,
    Get,
    Update,
    Delete,
}

pub const ROUTES: &[Route<Op>] = &[
    Route {
        method: "POST",
        path: "/orgs",
        op: Op::Create,
    },
    Route {
        method: "GET",
        path: "/orgs",
        op: Op::List,
    },
    Route {
        method: "GET",
        path: "/orgs/{org_id}",
        op: Op::Get,
    },
    Route {
        method: "PATCH",
        path: "/orgs/{org_id}",
        op: Op::Update,
    },
    Route {
        method: "DELETE",
        path: "/orgs/{org_id}",
        op: Op::Delete,
    },
];

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    super::respond(dispatch(app, &req).await)
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, params) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    let bearer = super::bearer(req);
    match op {
        Op::Create => {
            let who = caller::authenticate(app, bearer).await?;
            let body = json_body(req)?;
            json(StatusCode::CREATED, &orgs::create(app, &who, body).await?)
        }
        Op::List => {
            let who = caller::authenticate(app, bearer).await?;
            let limit = page_limit(query(req, "limit").as_deref())?;
            let cursor = query(req, "cursor");
            json(
                StatusCode::OK,
                &orgs::list(app, &who, limit, cursor.as_deref()).await?,
            )
        }
        Op::Get | Op::Update | Op::Delete => {
            let (who, org) = super::caller_and_org(app, req, &params).await?;
            match op {
                Op::Get => json(StatusCode::OK, &orgs::get(&who, org)?),
                Op::Update => {
                    let body = json_body(req)?;
                    json(StatusCode::OK, &orgs::update(app, &who, org, body).await?)
                }
                _ => {
                    let confirm = query(req, "confirm");
                    orgs::delete(
                        app,
                        &who,
                        org,
                        confirm.as_deref(),
                        orgs::DELETE_INLINE_BUDGET,
                    )
                    .await?;
                    no_content()
                }
            }
        }
    }
}
