//! The `users` function: create, list, read, update and delete accounts directly.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content, query};
use crate::app::App;
use crate::services::{caller, page_limit, users};
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
        path: "/users",
        op: Op::Create,
    },
    Route {
        method: "GET",
        path: "/users",
        op: Op::List,
    },
    Route {
        method: "GET",
        path: "/users/{user_id}",
        op: Op::Get,
    },
    Route {
        method: "PATCH",
        path: "/users/{user_id}",
        op: Op::Update,
    },
    Route {
        method: "DELETE",
        path: "/users/{user_id}",
        op: Op::Delete,
    },
];

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    super::respond(dispatch(app, &req).await)
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, params) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    let who = caller::authenticate(app, super::bearer(req)).await?;
    let id = params.get("user_id");
    match op {
        Op::Create => json(
            StatusCode::CREATED,
            &users::create(app, &who, json_body(req)?).await?,
        ),
        Op::List => {
            let limit = page_limit(query(req, "limit").as_deref())?;
            let admins = query(req, "platform_admins").as_deref() == Some("true");
            let (org, cursor) = (query(req, "org_id"), query(req, "cursor"));
            json(
                StatusCode::OK,
                &users::list(app, &who, org.as_deref(), admins, limit, cursor.as_deref()).await?,
            )
        }
        Op::Get => json(StatusCode::OK, &users::get(app, &who, id).await?),
        Op::Update => json(
            StatusCode::OK,
            &users::update(app, &who, id, json_body(req)?).await?,
        ),
        Op::Delete => {
            users::delete(app, &who, id).await?;
            no_content()
        }
    }
}
