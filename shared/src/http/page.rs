//! The acceptance page: plain HTML forms (no JavaScript) rendered from shared/templates/
//! (askama escapes every value), and headers that keep the token in its URL from leaking (no
//! referrer, no caching, no framing).

use super::{body_bytes, form_fields};
use crate::domain::{InvitationStatus, PresentedLink};
use crate::error::ServiceError;
use crate::http::problem::classify;
use crate::services::Ctx;
use crate::services::accept::{self, AcceptRequest};
use askama::Template;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The dead-link and refusal pages: a heading and one sentence (templates/message.html).
#[derive(Template)]
#[template(path = "message.html")]
pub(super) struct Message<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "invite.html")]
struct Invite<'a> {
    title: &'a str,
    org: &'a str,
    inviter: &'a str,
    email: &'a str,
    role: &'a str,
    expires: &'a str,
    token: &'a str,
    account_exists: bool,
}

#[derive(Template)]
#[template(path = "invite_joined.html")]
struct Joined<'a> {
    title: &'a str,
    org: &'a str,
    email: &'a str,
    role: &'a str,
}

#[derive(Template)]
#[template(path = "invite_retry.html")]
struct Retry<'a> {
    title: &'a str,
    detail: &'a str,
    token: &'a str,
}

/// A rendered page with the headers every HTML page of Roster carries.
pub(super) fn html(status: StatusCode, page: &impl Template) -> Response<Body> {
    // Rendering into a String fails only if a value's Display fails; ours are all strings.
    let doc = match page.render() {
        Ok(doc) => doc,
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            let doc = "<!doctype html><title>Error</title><p>Something went wrong on our side.</p>";
            return html_doc(StatusCode::INTERNAL_SERVER_ERROR, doc.to_string());
        }
    };
    html_doc(status, doc)
}

fn html_doc(status: StatusCode, doc: String) -> Response<Body> {
    let kind = "text/html; charset=utf-8";
    super::for_browser(status, Body::from(doc), kind, "no-store", CSP)
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
    let mut res = html(status, &Message { title, message });
    if let ServiceError::RateLimited { retry_after_secs } = err
        && let Ok(v) = lambda_http::http::HeaderValue::from_str(&retry_after_secs.to_string())
    {
        res.headers_mut()
            .insert(lambda_http::http::header::RETRY_AFTER, v);
    }
    res
}

pub async fn show(ctx: &Ctx<'_>, link: &PresentedLink) -> Response<Body> {
    let preview = match accept::preview(ctx, link).await {
        Ok(p) => p,
        Err(e) => return dead_link(&e),
    };
    if preview.status != InvitationStatus::Pending {
        return dead_link(&crate::services::invitations::dead(preview.status));
    }
    let title = format!("Join {}", preview.org_name);
    let page = Invite {
        title: &title,
        org: &preview.org_name,
        inviter: &preview.inviter,
        email: &preview.email,
        role: &preview.role,
        expires: &preview.expires_at,
        token: link.raw(),
        account_exists: preview.account_exists,
    };
    html(StatusCode::OK, &page)
}

/// The form's answer. The page signs no one in: a bearer on the request is not looked at
/// (`accept` sees a context without credentials), so the form's password decides.
pub async fn submit(ctx: &Ctx<'_>, req: &Request) -> Response<Body> {
    let app = ctx.app;
    let ctx = Ctx::new(app, None, ctx.client.clone());
    let bytes = match body_bytes(req) {
        Ok(b) => b,
        Err(e) => return dead_link(&e),
    };
    let fields = form_fields(&bytes);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let link = PresentedLink::parse(&get("token").unwrap_or_default());
    if get("action").as_deref() == Some("decline") {
        return match accept::decline(&ctx, &link).await {
            Ok(()) => html(
                StatusCode::OK,
                &Message {
                    title: "Invitation declined",
                    message: "You will not be added. You can close this page.",
                },
            ),
            Err(e) => dead_link(&e),
        };
    }
    let request = AcceptRequest {
        token: link.clone(),
        name: get("name").filter(|n| !n.is_empty()),
        password: get("password").map(crate::domain::GivenPassword::new),
    };
    match accept::accept(&ctx, request).await {
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
            let page = Joined {
                title: "Welcome",
                org: &org,
                email: pair.user.email.as_ref(),
                role: pair.user.role.map(|r| r.as_str()).unwrap_or("member"),
            };
            html(StatusCode::OK, &page)
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
            let page = Retry {
                title,
                detail: &detail,
                token: link.raw(),
            };
            html(status, &page)
        }
        Err(e) => dead_link(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::header;

    const ORG: &str = "<script>alert(1)</script>";
    const NAME: &str = "Eve \"the\" O'Neil";
    const TOKEN: &str = "abc\"><script>x</script>";

    fn body(res: Response<Body>) -> String {
        match res.body() {
            Body::Text(t) => t.clone(),
            other => panic!("a text body, not {other:?}"),
        }
    }

    /// No markup of the hostile values survives, and each is there escaped.
    fn assert_escaped(doc: &str) {
        assert!(!doc.contains("<script>") && !doc.contains("\"><"), "{doc}");
        assert!(doc.contains("&lt;script&gt;"), "{doc}");
    }

    #[test]
    fn the_invitation_page_escapes_every_value() {
        let title = format!("Join {ORG}");
        for account_exists in [false, true] {
            let page = Invite {
                title: &title,
                org: ORG,
                inviter: NAME,
                email: "a&b@example.com",
                role: "member",
                expires: "2026-12-01T00:00:00.000Z",
                token: TOKEN,
                account_exists,
            };
            let doc = body(html(StatusCode::OK, &page));
            assert_escaped(&doc);
            assert!(doc.contains("<title>Join &lt;script&gt;alert(1)&lt;/script&gt;</title>"));
            assert!(doc.contains("<h1>Join &lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
            assert!(doc.contains("<strong>Eve &quot;the&quot; O&#39;Neil</strong>"));
            assert!(doc.contains("<strong>a&amp;b@example.com</strong>"));
            assert!(doc.contains("value=\"abc&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
            assert_eq!(doc.contains("name=\"name\""), !account_exists);
            assert_eq!(doc.contains("current-password"), account_exists);
        }
    }

    #[test]
    fn the_result_pages_escape_every_value() {
        let joined = Joined {
            title: "Welcome",
            org: ORG,
            email: NAME,
            role: "admin",
        };
        let doc = body(html(StatusCode::OK, &joined));
        assert_escaped(&doc);
        assert!(doc.contains("<h1 id=\"result\">You have joined &lt;script&gt;"));
        assert!(doc.contains("Signed in as <strong>Eve &quot;the&quot; O&#39;Neil</strong>"));

        let retry = Retry {
            title: "Bad request",
            detail: ORG,
            token: TOKEN,
        };
        let doc = body(html(StatusCode::BAD_REQUEST, &retry));
        assert_escaped(&doc);
        assert!(doc.contains("href=\"/invite?token=abc&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));

        let message = Message {
            title: NAME,
            message: ORG,
        };
        let doc = body(html(StatusCode::GONE, &message));
        assert_escaped(&doc);
        assert!(doc.contains("<title>Eve &quot;the&quot; O&#39;Neil</title>"));
        assert!(doc.contains("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"));
    }

    /// A value whose Display fails, so rendering fails.
    struct Unprintable;

    impl std::fmt::Display for Unprintable {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            Err(std::fmt::Error)
        }
    }

    #[derive(Template)]
    #[template(source = "<p>{{ value }}</p>", ext = "html")]
    struct Broken {
        value: Unprintable,
    }

    #[test]
    fn a_page_that_cannot_render_is_a_plain_500() {
        let res = html(StatusCode::OK, &Broken { value: Unprintable });
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert!(body(res).contains("Something went wrong on our side."));
    }

    #[test]
    fn every_page_carries_the_headers() {
        let res = html(
            StatusCode::GONE,
            &Message {
                title: "Gone",
                message: "m",
            },
        );
        assert_eq!(res.status(), StatusCode::GONE);
        let h = res.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CSP);
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        let doc = body(res);
        assert!(doc.starts_with("<!doctype html>") && doc.trim_end().ends_with("</html>"));
    }
}
