//! The `members` function: list an organization's members (and pending invitations), read one.

use super::router::{Route, resolve};
use super::{Reply, json, path_org, path_user, query};
use crate::app::App;
use crate::domain::requests::{ListMembers, MemberRef};
use crate::services::members;
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
    let ctx = super::context(app, req);
    // Every operation needs a caller: an anonymous request is refused before it is parsed.
    ctx.verified()?;
    match op {
        Op::List => {
            let q = ListMembers::parse(
                path_org(&params),
                query(req, "limit").as_deref(),
                query(req, "role").as_deref(),
                query(req, "include_pending").as_deref() == Some("true"),
                query(req, "cursor").as_deref(),
                query(req, "q").as_deref(),
            )?;
            json(StatusCode::OK, &members::list(&ctx, q).await?)
        }
        Op::Get => {
            let m = MemberRef {
                org: path_org(&params),
                user: path_user(&params),
            };
            json(StatusCode::OK, &members::get(&ctx, m).await?)
        }
    }
}
