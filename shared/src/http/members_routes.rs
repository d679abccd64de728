//! The `members` function: list an organization's members (and pending invitations), read one.

use super::router::{Route, resolve};
use super::{Reply, json, query};
use crate::app::App;
use crate::services::{members, page_limit};
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
    match op {
        Op::List => {
            let limit = page_limit(query(req, "limit").as_deref());
            let pending = query(req, "include_pending").as_deref() == Some("true");
            let (role, cursor) = (query(req, "role"), query(req, "cursor"));
            let search = query(req, "q");
            let q = members::list_query(
                role.as_deref(),
                pending,
                cursor.as_deref(),
                search.as_deref(),
            );
            // The page is read in the caller's round trip, and used only once they may see it.
            let read = async {
                Ok(match (super::path_org(&params), &limit, &q) {
                    (Some(id), Ok(limit), Ok(q)) => {
                        Some(members::read_list(app, &id, q, *limit).await)
                    }
                    _ => None,
                })
            };
            let (who, org, page) = super::caller_org_and(app, req, &params, read).await?;
            json(StatusCode::OK, &members::list(&who, org, limit, q, page)?)
        }
        Op::Get => {
            let user_id = params.get("user_id");
            let (who, org, target) =
                super::caller_org_and(app, req, &params, members::read_user(app, user_id)).await?;
            json(StatusCode::OK, &members::get(&who, org, user_id, target)?)
        }
    }
}
