//! The console's refresh cookie. A browser session keeps its refresh token where script
//! cannot read it: an HttpOnly, SameSite=Strict cookie scoped to /auth/refresh (the one
//! route that reads it), Secure everywhere but on a loopback host (plain-HTTP local runs).
//! Sign-out ends the session its access token names (`sid`), so it needs no cookie; its
//! answer clears the cookie all the same. JSON clients that send the token in the body never
//! depend on it.
//!
//! CSRF: SameSite=Strict keeps the cookie off every cross-site request, and a request that
//! uses the cookie must also be `Content-Type: application/json`, which no cross-site form
//! can send without a CORS preflight the API does not grant (docs/security.md).

use lambda_http::http::{HeaderValue, header};
use lambda_http::{Body, Request, Response};

pub const NAME: &str = "roster_refresh";
const PATH: &str = "/auth/refresh";

/// The refresh token from the cookie, if the request may use it: it carries the cookie and
/// declares a JSON body.
pub fn refresh_token(req: &Request) -> Option<String> {
    if !is_json(req) {
        return None;
    }
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == NAME)
        .map(|(_, v)| v.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// Loopback hosts are served over plain HTTP, where a Secure cookie would be dropped.
fn is_local(req: &Request) -> bool {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = if host.starts_with('[') {
        host.split(']').next().map(|h| &h[1..]).unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

fn set(req: &Request, res: &mut Response<Body>, value: &str, max_age: u64) {
    let secure = if is_local(req) { "" } else { "; Secure" };
    let cookie = format!(
        "{NAME}={value}; Path={PATH}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Sets the cookie to `token` for `max_age` seconds (the refresh token's lifetime).
pub fn store(req: &Request, res: &mut Response<Body>, token: &str, max_age: u64) {
    // A token is `<id>.<secret>` in URL-safe base64: nothing a cookie value cannot hold.
    if token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
    {
        set(req, res, token, max_age);
    }
}

/// Tells the browser to drop the cookie.
pub fn clear(req: &Request, res: &mut Response<Body>) {
    set(req, res, "", 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request {
        let mut b = lambda_http::http::Request::builder().uri("/auth/refresh");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::Empty).unwrap()
    }

    #[test]
    fn read_only_with_a_json_content_type() {
        let cookie = ("cookie", "a=b; roster_refresh=abc.def; c=d");
        assert_eq!(
            refresh_token(&req(&[cookie, ("content-type", "application/json")])).as_deref(),
            Some("abc.def")
        );
        assert_eq!(
            refresh_token(&req(&[cookie, ("content-type", "text/plain")])),
            None
        );
        assert_eq!(refresh_token(&req(&[cookie])), None);
        assert_eq!(
            refresh_token(&req(&[("content-type", "application/json")])),
            None
        );
    }

    #[test]
    fn secure_except_on_loopback_hosts() {
        for (host, secure) in [
            ("127.0.0.1:9000", false),
            ("localhost", false),
            ("[::1]:80", false),
            ("api.example.com", true),
            ("localhost.example.com", true),
        ] {
            let mut res = Response::new(Body::Empty);
            store(&req(&[("host", host)]), &mut res, "abc.def", 60);
            let v = res.headers()[header::SET_COOKIE].to_str().unwrap();
            assert!(v.contains("HttpOnly; SameSite=Strict"), "{v}");
            assert!(v.contains("Path=/auth/refresh;"), "{v}");
            assert_eq!(v.ends_with("; Secure"), secure, "{host}: {v}");
        }
        let mut res = Response::new(Body::Empty);
        clear(&req(&[]), &mut res);
        assert!(
            res.headers()[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .starts_with("roster_refresh=; Path=/auth/refresh; Max-Age=0")
        );
    }
}
