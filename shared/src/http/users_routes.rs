//! The `users` function: create, list, read, update and delete accounts directly.

use super::router::{Route, resolve};
use super::{Reply, body_bytes, email_page, json, json_body, no_content, path_user, query};
use crate::app::App;
use crate::domain::requests::{DeleteUser, ListUsers, MemberSearch, UpdateUser};
use crate::domain::{EmailChangeLink, OrgId};
use crate::error::ServiceError;
use crate::services::{email_change, users};
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

/// The optional body of DELETE /users/{user_id}.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteBody {
    #[serde(default)]
    current_password: Option<crate::domain::GivenPassword>,
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    match resolve(ROUTES, req.method().as_str(), req.uri().path()) {
        Ok((Op::ConfirmEmailPage, _)) => {
            let token = query(&req, "token").unwrap_or_default();
            email_page::show(&token)
        }
        Ok((Op::ConfirmEmailSubmit, _)) => {
            email_page::submit(&super::context(app, &req), &req).await
        }
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
            &email_change::confirm(
                &super::context(app, req),
                EmailChangeLink::parse(&body.token).as_ref(),
            )
            .await?,
        );
    }
    let ctx = super::context(app, req);
    // Every other operation needs a caller: an anonymous request is refused before it is
    // parsed.
    ctx.verified()?;
    let user = path_user(&params);
    match op {
        Op::Create => json(
            StatusCode::CREATED,
            &users::create(&ctx, json_body(req)?).await?,
        ),
        Op::List => {
            let page = super::page_query(req)?;
            // A malformed id names no organization: the same 404 as a missing one.
            let org = query(req, "org_id")
                .map(|raw| OrgId::parse(&raw).map_err(|_| ServiceError::NotFound))
                .transpose()?;
            let list = ListUsers {
                org,
                platform_admins: query(req, "platform_admins").as_deref() == Some("true"),
                page,
                search: MemberSearch::parse(query(req, "q").as_deref())?,
            };
            json(StatusCode::OK, &users::list(&ctx, list).await?)
        }
        Op::Get => json(StatusCode::OK, &users::get(&ctx, user).await?),
        Op::Update => {
            let update = UpdateUser {
                user,
                patch: json_body(req)?,
            };
            json(StatusCode::OK, &users::update(&ctx, update).await?)
        }
        Op::Delete => {
            // The body is optional: only deleting one's own account needs one.
            let body = if body_bytes(req)?.is_empty() {
                DeleteBody::default()
            } else {
                json_body(req)?
            };
            let delete = DeleteUser {
                user,
                current_password: body.current_password,
            };
            users::delete(&ctx, delete).await?;
            no_content()
        }
        Op::ConfirmEmail | Op::ConfirmEmailPage | Op::ConfirmEmailSubmit => {
            Err(ServiceError::RouteNotFound)
        }
    }
}
