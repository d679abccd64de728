//! The `orgs` function: create, list, get, update, delete organizations.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, no_content, path_org, query};
use crate::app::App;
use crate::domain::OrgCode;
use crate::domain::requests::{CreateOrg, DeleteOrg, OrgPatch, UpdateOrg};
use crate::services::orgs;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Create,
    List,
    Get,
    Update,
    Delete,
}

pub const ROUTES: &[Route<Op>] = &[
    Route {
        method: "POST",
        path: "/orgs",
        op: Op::Create,
    },
    Route {
        method: "GET",
        path: "/orgs",
        op: Op::List,
    },
    Route {
        method: "GET",
        path: "/orgs/{org_id}",
        op: Op::Get,
    },
    Route {
        method: "PATCH",
        path: "/orgs/{org_id}",
        op: Op::Update,
    },
    Route {
        method: "DELETE",
        path: "/orgs/{org_id}",
        op: Op::Delete,
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
    let org = path_org(&params);
    match op {
        Op::Create => json(
            StatusCode::CREATED,
            &orgs::create(&ctx, create_body(app, req)?).await?,
        ),
        Op::List => json(
            StatusCode::OK,
            &orgs::list(&ctx, super::page_query(req)?).await?,
        ),
        Op::Get => json(StatusCode::OK, &orgs::get(&ctx, org).await?),
        Op::Update => {
            let update = UpdateOrg {
                org,
                patch: json_body::<OrgPatch<String>>(req)?.with_tiers(&app.config.tiers)?,
            };
            json(StatusCode::OK, &orgs::update(&ctx, update).await?)
        }
        Op::Delete => {
            let delete = DeleteOrg {
                org,
                confirm: query(req, "confirm").and_then(|c| OrgCode::parse(&c).ok()),
            };
            orgs::delete(&ctx, delete).await?;
            no_content()
        }
    }
}

/// POST /orgs's body, its tier one of the deployment's.
fn create_body(app: &App, req: &Request) -> crate::error::ServiceResult<CreateOrg> {
    json_body::<CreateOrg<String>>(req)?.with_tiers(&app.config.tiers)
}
