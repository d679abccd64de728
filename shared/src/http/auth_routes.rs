//! The `auth` function: sign-in, refresh, sign-out, the caller's profile, and the JWKS.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content};
use crate::app::App;
use crate::domain::Email;
use crate::domain::requests::{Login, RefreshToken};
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
struct LoginBody {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    super::respond(dispatch(app, &req).await)
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, _) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    let ctx = super::context(app, req);
    match op {
        Op::Login => {
            let body: LoginBody = json_body(req)?;
            let login = Login {
                email: Email::parse(&body.email).ok(),
                password: body.password,
            };
            json(StatusCode::OK, &auth::login(&ctx, login).await?)
        }
        Op::Refresh => {
            let body: RefreshBody = json_body(req)?;
            let token = RefreshToken(body.refresh_token);
            json(StatusCode::OK, &auth::refresh(&ctx, token).await?)
        }
        Op::Logout => {
            let body: RefreshBody = json_body(req)?;
            auth::logout(&ctx, RefreshToken(body.refresh_token)).await?;
            no_content()
        }
        Op::Me => json(StatusCode::OK, &auth::me(&ctx).await?),
        Op::Jwks => json(StatusCode::OK, &app.keys.jwks()),
    }
}
