//! The `remove` function: remove a member (or leave), or many at once.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content, path_org, path_user};
use crate::app::App;
use crate::domain::requests::{BulkRemove, MemberRef, UserIds};
use crate::services::members;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Remove,
    Bulk,
}

pub const ROUTES: &[Route<Op>] = &[
    Route {
        method: "DELETE",
        path: "/orgs/{org_id}/members/{user_id}",
        op: Op::Remove,
    },
    Route {
        method: "POST",
        path: "/orgs/{org_id}/members/bulk-remove",
        op: Op::Bulk,
    },
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkRemoveBody {
    user_ids: Vec<String>,
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    super::respond(dispatch(app, &req).await)
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, params) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    let ctx = super::context(app, req);
    // Every operation needs a caller: an anonymous request is refused before it is parsed.
    ctx.verified()?;
    let org = path_org(&params);
    match op {
        Op::Remove => {
            let m = MemberRef {
                org,
                user: path_user(&params),
            };
            members::remove(&ctx, m).await?;
            no_content()
        }
        Op::Bulk => {
            let body: BulkRemoveBody = json_body(req)?;
            let bulk = BulkRemove {
                org,
                users: UserIds::parse(&body.user_ids)?,
            };
            json(StatusCode::OK, &members::bulk_remove(&ctx, bulk).await?)
        }
    }
}
