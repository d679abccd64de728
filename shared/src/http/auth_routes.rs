//! The `auth` function: sign-in, refresh, sign-out, the caller's profile, and the JWKS.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content};
use crate::app::App;
use crate::services::auth;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Login,
    Refresh,
    Logout,
    Me,
    Jwks,
}

pub const ROUTES: &[Route<Op>] = &[
    Route {
        method: "POST",
        path: "/auth/login",
        op: Op::Login,
    },
    Route {
        method: "POST",
        path: "/auth/refresh",
        op: Op::Refresh,
    },
    Route {
        method: "POST",
        path: "/auth/logout",
        op: Op::Logout,
    },
    Route {
        method: "GET",
        path: "/me",
        op: Op::Me,
    },
    Route {
        method: "GET",
        path: "/.well-known/jwks.json",
        op: Op::Jwks,
    },
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshToken {
    refresh_token: String,
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    super::respond(dispatch(app, &req).await)
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, _) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    match op {
        Op::Login => {
            let body: Login = json_body(req)?;
            json(
                StatusCode::OK,
                &auth::login(
                    app,
                    &body.email,
                    &body.password,
                    super::source_ip(req).as_deref(),
                )
                .await?,
            )
        }
        Op::Refresh => {
            let body: RefreshToken = json_body(req)?;
            json(
                StatusCode::OK,
                &auth::refresh(app, &body.refresh_token).await?,
            )
        }
        Op::Logout => {
            let body: RefreshToken = json_body(req)?;
            auth::logout(app, &body.refresh_token).await?;
            no_content()
        }
        Op::Me => json(StatusCode::OK, &super::context(app, req).caller().await?),
        Op::Jwks => json(StatusCode::OK, &app.keys.jwks()),
    }
}
