//! The `users` function: create, list, read, update and delete accounts directly.

use super::router::{Route, resolve};
use super::{Reply, body_bytes, email_page, json, json_body, no_content, query};
use crate::app::App;
use crate::error::ServiceResult;
use crate::services::{caller, email_change, members, page_limit, users};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Create,
    List,
    Get,
    Update,
    Delete,
    ConfirmEmail,
    ConfirmEmailPage,
    ConfirmEmailSubmit,
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
    Route {
        method: "POST",
        path: "/users/confirm-email",
        op: Op::ConfirmEmail,
    },
    Route {
        method: "GET",
        path: "/confirm-email",
        op: Op::ConfirmEmailPage,
    },
    Route {
        method: "POST",
        path: "/confirm-email",
        op: Op::ConfirmEmailSubmit,
    },
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmEmail {
    token: String,
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    match resolve(ROUTES, req.method().as_str(), req.uri().path()) {
        Ok((Op::ConfirmEmailPage, _)) => {
            let token = query(&req, "token").unwrap_or_default();
            email_page::show(&token)
        }
        Ok((Op::ConfirmEmailSubmit, _)) => email_page::submit(app, &req).await,
        _ => super::respond(dispatch(app, &req).await),
    }
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, params) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    if let Op::ConfirmEmail = op {
        // No sign-in: the link is the proof.
        let body: ConfirmEmail = json_body(req)?;
        return json(
            StatusCode::OK,
            &email_change::confirm(app, &body.token).await?,
        );
    }
    let verified = caller::verify(app, super::bearer(req))?;
    let source = super::source_ip(req);
    let session = verified.session.map(|t| t.session_id(&verified.user_id));
    let origin = users::Origin {
        source: source.as_deref(),
        session: session.as_deref(),
    };
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
            let search = crate::storage::MemberSearch::parse(query(req, "q").as_deref())?;
            let page = users::list(
                app,
                &who,
                org.as_deref(),
                admins,
                limit,
                cursor.as_deref(),
                search.as_ref(),
            )
            .await?;
            json(StatusCode::OK, &page)
        }
        Op::Get => {
            let (who, target) = with_target().await?;
            json(StatusCode::OK, &users::get(&who, target)?)
        }
        Op::Update => {
            let (who, target) = with_target().await?;
            json(
                StatusCode::OK,
                &users::update(app, &who, target, json_body(req)?, origin).await?,
            )
        }
        Op::Delete => {
            // The body is optional: only deleting one's own account needs one.
            let body = if body_bytes(req)?.is_empty() {
                users::DeleteUser::default()
            } else {
                json_body(req)?
            };
            let (who, target) = with_target().await?;
            users::delete(app, &who, target, body, origin).await?;
            no_content()
        }
        Op::ConfirmEmail | Op::ConfirmEmailPage | Op::ConfirmEmailSubmit => {
            Err(crate::error::ServiceError::RouteNotFound)
        }
    }
}
