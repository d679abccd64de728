//! The acceptance page through the `accept` handler: the three cases, the form posts, and
//! the headers that keep the token in its URL private.

use crate::common;

use common::{PASSWORD, TestApp, unique_email};
use lambda_http::http::{Request as HttpRequest, header};
use lambda_http::{Body, Request};

async fn page(t: &TestApp, token: &str) -> common::Reply {
    t.call("GET", &format!("/invite?token={token}"), None, None)
        .await
}

async fn submit(t: &TestApp, form: &str) -> common::Reply {
    let req: Request = HttpRequest::builder()
        .method("POST")
        .uri("/invite")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    t.dispatch(req).await
}

fn html(r: &common::Reply) -> &str {
    r.body.as_str().unwrap_or("")
}

#[tokio::test]
async fn the_page_serves_new_and_existing_accounts_and_dead_links() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let fresh = unique_email("page-new");
    let known = t.user_without_org().await;
    t.invite(&owner, org, &[&fresh, known.user.email.as_ref()], "member")
        .await;
    let new_token = t.latest_token(&fresh).await;
    let known_token = t.latest_token(known.user.email.as_ref()).await;

    let r = page(&t, &new_token).await;
    assert_eq!(r.status, 200);
    for (h, want) in [
        ("content-type", "text/html; charset=utf-8"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert_eq!(r.headers[h], want, "{h}");
    }
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("script-src")
    );
    let body = html(&r);
    assert!(!body.contains("<script"));
    assert!(body.contains("Join Acme") && body.contains(&fresh) && body.contains("member"));
    assert!(body.contains("name=\"name\"") && body.contains("autocomplete=\"new-password\""));
    assert!(body.contains("<label for=\"password\">"), "labelled fields");

    let r = page(&t, &known_token).await;
    assert!(html(&r).contains("current-password") && !html(&r).contains("name=\"name\""));

    for bad in ["", "garbage", "a.b"] {
        let r = page(&t, bad).await;
        assert_eq!(r.status, 404, "{bad}");
        assert!(html(&r).contains("not valid"));
        assert_eq!(r.headers["referrer-policy"], "no-referrer");
    }

    // Submit: a wrong password keeps the link alive; the right one joins.
    let form = format!("token={known_token}&action=accept&password=wrong+password+here");
    let r = submit(&t, &form).await;
    assert_eq!(r.status, 401);
    assert!(html(&r).contains("Try again"));
    let form = format!(
        "token={known_token}&action=accept&password={}",
        PASSWORD.replace(' ', "+")
    );
    let r = submit(&t, &form).await;
    assert_eq!(r.status, 200, "{}", html(&r));
    assert!(html(&r).contains("You have joined Acme"));
    let r = page(&t, &known_token).await;
    assert_eq!(r.status, 409);
    assert!(html(&r).contains("already accepted"));

    // New account through the form, and a decline.
    let r = submit(
        &t,
        &format!("token={new_token}&action=accept&name=Pat+Page&password="),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = submit(&t, &format!("token={new_token}&action=decline")).await;
    assert_eq!(r.status, 200);
    assert!(html(&r).contains("declined"));
    let r = page(&t, &new_token).await;
    assert_eq!(r.status, 410);
}
