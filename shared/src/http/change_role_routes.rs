//! The `change-role` function: one member's role, many at once, and ownership transfer.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, path_org, path_user};
use crate::app::App;
use crate::domain::requests::{BulkRole, ChangeRole, MemberRef, TransferOwnership, UserIds};
use crate::domain::{AssignableRole, UserId};
use crate::services::members;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Change,
    Bulk,
    Transfer,
}

pub const ROUTES: &[Route<Op>] = &[
    Route {
        method: "PATCH",
        path: "/orgs/{org_id}/members/{user_id}",
        op: Op::Change,
    },
    Route {
        method: "POST",
        path: "/orgs/{org_id}/members/bulk-role",
        op: Op::Bulk,
    },
    Route {
        method: "POST",
        path: "/orgs/{org_id}/transfer-ownership",
        op: Op::Transfer,
    },
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: AssignableRole,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkRoleBody {
    user_ids: Vec<String>,
    role: AssignableRole,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    user_id: UserId,
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
        Op::Change => {
            let body: RoleBody = json_body(req)?;
            let change = ChangeRole {
                member: MemberRef {
                    org,
                    user: path_user(&params),
                },
                role: body.role,
            };
            json(StatusCode::OK, &members::change_role(&ctx, change).await?)
        }
        Op::Bulk => {
            let body: BulkRoleBody = json_body(req)?;
            let bulk = BulkRole {
                org,
                users: UserIds::parse(&body.user_ids)?,
                role: body.role,
            };
            json(StatusCode::OK, &members::bulk_role(&ctx, bulk).await?)
        }
        Op::Transfer => {
            let body: TransferBody = json_body(req)?;
            let transfer = TransferOwnership {
                org,
                to: body.user_id,
            };
            json(StatusCode::OK, &members::transfer(&ctx, transfer).await?)
        }
    }
}
