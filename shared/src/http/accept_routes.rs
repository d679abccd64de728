//! The `accept` function: the invitee's JSON API and the HTML acceptance page.

use super::router::{Route, resolve};
use super::{Reply, json, json_body, page, query};
use crate::app::App;
use crate::domain::{InvitationStatus, PresentedLink};
use crate::error::ServiceError;
use crate::services::accept::{self, AcceptRequest, DeclineRequest};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Preview,
    Accept,
    Decline,
    Page,
    PageSubmit,
}

pub const ROUTES: &[Route<Op>] = &[
    Route {
        method: "GET",
        path: "/invitations/preview",
        op: Op::Preview,
    },
    Route {
        method: "POST",
        path: "/invitations/accept",
        op: Op::Accept,
    },
    Route {
        method: "POST",
        path: "/invitations/decline",
        op: Op::Decline,
    },
    Route {
        method: "GET",
        path: "/invite",
        op: Op::Page,
    },
    Route {
        method: "POST",
        path: "/invite",
        op: Op::PageSubmit,
    },
];

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    match resolve(ROUTES, req.method().as_str(), req.uri().path()) {
        Ok((Op::Page, _)) => {
            let link = PresentedLink::parse(&query(&req, "token").unwrap_or_default());
            page::show(&super::context(app, &req), &link).await
        }
        Ok((Op::PageSubmit, _)) => page::submit(&super::context(app, &req), &req).await,
        _ => super::respond(dispatch(app, &req).await),
    }
}

async fn dispatch(app: &App, req: &Request) -> Reply {
    let (op, _) = resolve(ROUTES, req.method().as_str(), req.uri().path())?;
    let ctx = super::context(app, req);
    match op {
        Op::Preview => {
            let link = query(req, "token")
                .map(|t| PresentedLink::parse(&t))
                .ok_or_else(|| ServiceError::field("token", "is required"))?;
            json(StatusCode::OK, &accept::preview(&ctx, &link).await?)
        }
        Op::Accept => {
            let body: AcceptRequest = json_body(req)?;
            json(StatusCode::OK, &accept::accept(&ctx, body).await?)
        }
        Op::Decline => {
            let body: DeclineRequest = json_body(req)?;
            accept::decline(&ctx, &body.token).await?;
            json(
                StatusCode::OK,
                &serde_json::json!({"status": InvitationStatus::Declined}),
            )
        }
        Op::Page | Op::PageSubmit => Err(ServiceError::RouteNotFound),
    }
}
