//! The `audit` function: an organization's audit log, newest first.

use super::router::{Route, resolve};
use super::{Reply, json, query};
use crate::app::App;
use crate::error::ServiceError;
use crate::services::{access, page_limit};
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
    let limit = page_limit(query(req, "limit").as_deref());
    let cursor = query(req, "cursor");
    // The page is read in the caller's round trip; it (and any error reading it) is used
    // only once the caller's authority is checked.
    let read = async {
        Ok(match (super::path_org(&params), &limit) {
            (Some(id), Ok(limit)) => {
                Some(app.store.list_audit(&id, *limit, cursor.as_deref()).await)
            }
            _ => None,
        })
    };
    let (who, org, page) = super::caller_org_and(app, req, &params, read).await?;
    let org = org.ok_or(ServiceError::NotFound)?;
    access::manager(&who, &org.id)?;
    limit?;
    json(StatusCode::OK, &page.ok_or(ServiceError::NotFound)??)
}
