//! The page a confirmation link opens: GET only shows a button (mail scanners that follow
//! links change nothing), POST uses the link. Rendered from shared/templates/.

use super::page::{Message, html};
use super::{body_bytes, form_fields};
use crate::domain::EmailChangeLink;
use crate::error::ServiceError;
use crate::http::problem::classify;
use crate::services::Ctx;
use crate::services::email_change;
use askama::Template;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

#[derive(Template)]
#[template(path = "confirm_email.html")]
struct Confirm<'a> {
    title: &'a str,
    token: &'a str,
}

#[derive(Template)]
#[template(path = "email_confirmed.html")]
struct Confirmed<'a> {
    title: &'a str,
    email: &'a str,
}

pub fn show(token: &str) -> Response<Body> {
    let page = Confirm {
        title: "Confirm your new email address",
        token,
    };
    html(StatusCode::OK, &page)
}

pub async fn submit(ctx: &Ctx<'_>, req: &Request) -> Response<Body> {
    let token = body_bytes(req)
        .map(|b| form_fields(&b))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
        .unwrap_or_default();
    match email_change::confirm(ctx, EmailChangeLink::parse(&token).as_ref()).await {
        Ok(user) => {
            let page = Confirmed {
                title: "Email address confirmed",
                email: user.email.as_ref(),
            };
            html(StatusCode::OK, &page)
        }
        Err(e) => {
            let (status, _, _) = classify(&e);
            // A person reads this page: a heading in words, not the API's problem title.
            let (title, message) = match e {
                ServiceError::NotFound => (
                    "This link cannot be used",
                    "This link is not valid: it was used, replaced by a newer one, or has expired.",
                ),
                ServiceError::EmailTaken => (
                    "This address is taken",
                    "Another account uses this email address now.",
                ),
                _ => (
                    "Something went wrong",
                    "Something went wrong on our side. Try again in a moment.",
                ),
            };
            html(status, &Message { title, message })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(res: Response<Body>) -> String {
        match res.body() {
            Body::Text(t) => t.clone(),
            other => panic!("a text body, not {other:?}"),
        }
    }

    #[test]
    fn the_confirmation_pages_escape_every_value() {
        let doc = body(show("t\"><script>alert(1)</script>"));
        assert!(!doc.contains("<script>") && !doc.contains("\"><"), "{doc}");
        assert!(
            doc.contains(
                "name=\"token\" value=\"t&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""
            )
        );
        assert!(doc.contains("<form method=\"post\" action=\"/confirm-email\">"));

        let page = Confirmed {
            title: "Email address confirmed",
            email: "o'neil\"<b>@example.com",
        };
        let doc = body(html(StatusCode::OK, &page));
        assert!(!doc.contains("<b>"), "{doc}");
        assert!(doc.contains("<strong>o&#39;neil&quot;&lt;b&gt;@example.com</strong>"));
        assert!(doc.contains("<h1 id=\"result\">Email address confirmed</h1>"));
    }
}
