//! The `users` function: create, list, read, update and delete accounts directly.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content, query};
use crate::app::App;
use crate::error::ServiceResult;
use crate::services::{caller, members, page_limit, users};
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
    let verified = caller::verify(app, super::bearer(req))?;
    // The user the path names is read in the caller's round trip.
    let with_target = || async {
        tokio::try_join!(
            Box::pin(caller::load(app, verified)),
            Box::pin(members::read_user(app, params.get("user_id")))
        )
    };
    match op {
        Op::Create => {
            let body: ServiceResult<users::CreateUser> = json_body(req);
            let org_id = body.as_ref().ok().and_then(|b| b.org_id);
            let (who, org) = tokio::try_join!(
                Box::pin(caller::load(app, verified)),
                Box::pin(async {
                    match org_id {
                        Some(id) => app.store.get_org(&id).await,
                        None => Ok(None),
                    }
                })
            )?;
            json(
                StatusCode::CREATED,
                &users::create(app, &who, body?, org).await?,
            )
        }
        Op::List => {
            let who = caller::load(app, verified).await?;
            let limit = page_limit(query(req, "limit").as_deref())?;
            let admins = query(req, "platform_admins").as_deref() == Some("true");
            let (org, cursor) = (query(req, "org_id"), query(req, "cursor"));
            json(
                StatusCode::OK,
                &users::list(app, &who, org.as_deref(), admins, limit, cursor.as_deref()).await?,
            )
        }
        Op::Get => {
            let (who, target) = with_target().await?;
            json(StatusCode::OK, &users::get(&who, target)?)
        }
        Op::Update => {
            let (who, target) = with_target().await?;
            json(
                StatusCode::OK,
                &users::update(app, &who, target, json_body(req)?).await?,
            )
        }
        Op::Delete => {
            let (who, target) = with_target().await?;
            users::delete(app, &who, target).await?;
            no_content()
        }
    }
}
