//! The acceptance page: plain HTML forms (no JavaScript), every value escaped, and headers
//! that keep the token in its URL from leaking (no referrer, no caching, no framing).

use super::{body_bytes, form_fields};
use crate::app::App;
use crate::domain::InvitationStatus;
use crate::error::ServiceError;
use crate::http::problem::classify;
use crate::mail::escape_html as esc;
use crate::services::accept::{self, AcceptRequest};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A page with the headers every HTML page of Roster carries.
pub(super) fn html(status: StatusCode, title: &str, content: &str) -> Response<Body> {
    let doc = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}\
         label{{display:block;margin-top:1rem;font-weight:600}}input{{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}}\
         button{{margin-top:1.5rem;margin-right:.5rem;padding:.6rem 1.2rem;font-size:1rem}}\
         .muted{{color:#555}}</style></head><body><main>{content}</main></body></html>",
        title = esc(title),
    );
    let mut res = Response::new(Body::from(doc));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Browsers ignore it over plain HTTP (local runs); deployed, the API is HTTPS only.
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

fn dead_link(err: &ServiceError) -> Response<Body> {
    let (status, _, title) = classify(err);
    let message = match err {
        ServiceError::InvitationExpired => {
            "This invitation has expired. Ask the person who invited you to send a new one."
        }
        ServiceError::InvitationRevoked => "This invitation was withdrawn.",
        ServiceError::InvitationDeclined => "This invitation was declined.",
        ServiceError::InvitationSuperseded => {
            "A newer invitation email replaced this link. Use the most recent one."
        }
        ServiceError::InvitationAlreadyAccepted => {
            "This invitation was already accepted. Sign in to continue."
        }
        ServiceError::Unavailable(_) | ServiceError::Internal(_) => {
            "Something went wrong on our side. Try again in a moment."
        }
        ServiceError::RateLimited { .. } => "Too many attempts. Try again later.",
        ServiceError::SeatLimitReached => {
            "This organization has no seat left. Ask its administrator to free one; the link stays valid until it expires."
        }
        _ => "This invitation link is not valid.",
    };
    let mut res = html(
        status,
        title,
        &format!("<h1>{}</h1><p>{}</p>", esc(title), esc(message)),
    );
    if let ServiceError::RateLimited { retry_after_secs } = err
        && let Ok(v) = lambda_http::http::HeaderValue::from_str(&retry_after_secs.to_string())
    {
        res.headers_mut()
            .insert(lambda_http::http::header::RETRY_AFTER, v);
    }
    res
}

pub async fn show(app: &App, token: &str, source: Option<&str>) -> Response<Body> {
    let preview = match accept::preview(app, token, source).await {
        Ok(p) => p,
        Err(e) => return dead_link(&e),
    };
    if preview.status != InvitationStatus::Pending {
        return dead_link(&crate::services::invitations::dead(preview.status));
    }
    let account_fields = if preview.account_exists {
        "<p class=\"muted\">You already have an account: confirm it is you.</p>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>"
            .to_string()
    } else {
        "<label for=\"name\">Your name</label>\
         <input id=\"name\" name=\"name\" type=\"text\" autocomplete=\"name\" maxlength=\"100\" required>\
         <label for=\"password\">Choose a password (12 to 128 characters)</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"12\" maxlength=\"128\" required>"
            .to_string()
    };
    let content = format!(
        "<h1>Join {org}</h1>\
         <p><strong>{inviter}</strong> invited <strong>{email}</strong> to join <strong>{org}</strong> as <strong>{role}</strong>.</p>\
         <p class=\"muted\">This invitation expires at {expires} (UTC).</p>\
         <form method=\"post\" action=\"/invite\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">{account_fields}\
         <button type=\"submit\" name=\"action\" value=\"accept\">Accept invitation</button>\
         <button type=\"submit\" name=\"action\" value=\"decline\" formnovalidate>Decline</button>\
         </form>",
        org = esc(&preview.org_name),
        inviter = esc(&preview.inviter),
        email = esc(&preview.email),
        role = esc(&preview.role),
        expires = esc(&preview.expires_at),
        token = esc(token),
    );
    html(
        StatusCode::OK,
        &format!("Join {}", preview.org_name),
        &content,
    )
}

pub async fn submit(app: &App, req: &Request) -> Response<Body> {
    let bytes = match body_bytes(req) {
        Ok(b) => b,
        Err(e) => return dead_link(&e),
    };
    let fields = form_fields(&bytes);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let token = get("token").unwrap_or_default();
    let source = super::source_ip(req);
    if get("action").as_deref() == Some("decline") {
        return match accept::decline(app, &token, source.as_deref()).await {
            Ok(()) => html(
                StatusCode::OK,
                "Invitation declined",
                "<h1>Invitation declined</h1><p>You will not be added. You can close this page.</p>",
            ),
            Err(e) => dead_link(&e),
        };
    }
    let request = AcceptRequest {
        token: token.clone(),
        name: get("name").filter(|n| !n.is_empty()),
        password: get("password"),
    };
    match accept::accept(app, request, None, source.as_deref()).await {
        Ok(pair) => {
            let org = match pair.user.org_id {
                Some(id) => app
                    .store
                    .get_org(&id)
                    .await
                    .ok()
                    .flatten()
                    .map(|o| o.name)
                    .unwrap_or_default(),
                None => String::new(),
            };
            html(
                StatusCode::OK,
                "Welcome",
                &format!(
                    "<h1 id=\"result\">You have joined {}</h1><p>Signed in as <strong>{}</strong> with the role <strong>{}</strong>. You can sign in to the app now.</p>",
                    esc(&org),
                    esc(pair.user.email.as_ref()),
                    esc(pair.user.role.map(|r| r.as_str()).unwrap_or("member")),
                ),
            )
        }
        Err(e @ (ServiceError::Validation(_) | ServiceError::BadCredentials)) => {
            let (status, _, title) = classify(&e);
            let detail = match &e {
                ServiceError::Validation(fields) => fields
                    .iter()
                    .map(|f| format!("{} {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => "The password is not correct.".to_string(),
            };
            html(
                status,
                title,
                &format!(
                    "<h1>{}</h1><p>{}</p><p><a href=\"/invite?token={}\">Try again</a></p>",
                    esc(title),
                    esc(&detail),
                    esc(&token)
                ),
            )
        }
        Err(e) => dead_link(&e),
    }
}
