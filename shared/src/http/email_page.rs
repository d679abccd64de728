//! The page a confirmation link opens: GET only shows a button (mail scanners that follow
//! links change nothing), POST uses the link.

use super::page::html;
use super::{body_bytes, form_fields};
use crate::app::App;
use crate::error::ServiceError;
use crate::http::problem::classify;
use crate::mail::escape_html as esc;
use crate::services::email_change;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub fn show(token: &str) -> Response<Body> {
    html(
        StatusCode::OK,
        "Confirm your new email address",
        &format!(
            "<h1>Confirm your new email address</h1>\
             <p>Use this address for your Roster account from now on.</p>\
             <form method=\"post\" action=\"/confirm-email\">\
             <input type=\"hidden\" name=\"token\" value=\"{}\">\
             <button type=\"submit\">Confirm</button></form>",
            esc(token)
        ),
    )
}

pub async fn submit(app: &App, req: &Request) -> Response<Body> {
    let token = body_bytes(req)
        .map(|b| form_fields(&b))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
        .unwrap_or_default();
    match email_change::confirm(app, &token).await {
        Ok(user) => html(
            StatusCode::OK,
            "Email address confirmed",
            &format!(
                "<h1 id=\"result\">Email address confirmed</h1><p>Sign in with <strong>{}</strong> from now on.</p>",
                esc(user.email.as_ref())
            ),
        ),
        Err(e) => {
            let (status, _, title) = classify(&e);
            let message = match e {
                ServiceError::NotFound => {
                    "This link is not valid: it was used, replaced by a newer one, or has expired."
                }
                ServiceError::EmailTaken => "Another account uses this email address now.",
                _ => "Something went wrong on our side. Try again in a moment.",
            };
            html(
                status,
                title,
                &format!("<h1>{}</h1><p>{}</p>", esc(title), esc(message)),
            )
        }
    }
}
