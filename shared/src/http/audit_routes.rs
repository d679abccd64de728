//! The `audit` function: an organization's audit log, newest first.

use super::router::{Route, resolve};
use super::{Reply, json};
use crate::app::App;
use crate::domain::requests::ListAudit;
use crate::services::audit;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

#[derive(Debug, Clone, Copy)]
pub enum Op {
    List,
}

pub const ROUTES: &[Route<Op>] = &[Route {
    method: "GET",
    path: "/orgs/{org_id}/audit",
    op: Op::List,
}];

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    super::respond(dispatch(app, &req).await)
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (Op::List, params) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    let ctx = super::context(app, req);
    // An anonymous request is refused before it is parsed.
    ctx.verified()?;
    let q = ListAudit {
        org: super::path_org(&params),
        page: super::page_query(req)?,
    };
    json(StatusCode::OK, &audit::list(&ctx, q).await?)
}
