//! The `auth` function: sign-in, refresh, sign-out, the caller's profile, and the JWKS.

use super::router::{Route, resolve};
use super::{Reply, cookie, json, json_body, no_content};
use crate::app::App;
use crate::domain::Email;
use crate::domain::requests::{Login, RefreshToken};
use crate::error::ServiceResult;
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
    password: crate::domain::GivenPassword,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

/// The console's body on refresh and logout: nothing, the token is in the cookie.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FromCookie {}

/// The refresh token from the JSON body, or (body `{}`) from the console's cookie; without
/// either, the body's own error, exactly as for a JSON client.
fn refresh_token(req: &Request) -> ServiceResult<RefreshToken> {
    match json_body::<RefreshBody>(req) {
        Ok(body) => Ok(RefreshToken(body.refresh_token)),
        Err(e) => match (json_body::<FromCookie>(req), cookie::refresh_token(req)) {
            (Ok(FromCookie {}), Some(token)) => Ok(RefreshToken(token)),
            _ => Err(e),
        },
    }
}

/// The token pair as JSON, and its refresh token in the console's cookie too.
fn with_cookie(app: &App, req: &Request, pair: auth::TokenPair) -> Reply {
    let mut res = json(StatusCode::OK, &pair)?;
    let ttl = app.config.refresh_token_ttl.as_secs();
    cookie::store(req, &mut res, &pair.refresh_token, ttl);
    Ok(res)
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
            with_cookie(app, req, auth::login(&ctx, login).await?)
        }
        Op::Refresh => {
            let token = refresh_token(req)?;
            with_cookie(app, req, auth::refresh(&ctx, token).await?)
        }
        Op::Logout => {
            match refresh_token(req) {
                Ok(token) => auth::logout(&ctx, token).await?,
                // The console's sign-out: body `{}` and its access token.
                Err(_) if json_body::<FromCookie>(req).is_ok() && super::bearer(req).is_some() => {
                    auth::logout_current(&ctx).await?
                }
                Err(e) => return Err(e),
            }
            let mut res = no_content()?;
            cookie::clear(req, &mut res);
            Ok(res)
        }
        Op::Me => json(StatusCode::OK, &auth::me(&ctx).await?),
        Op::Jwks => json(StatusCode::OK, &app.keys.jwks()),
    }
}
