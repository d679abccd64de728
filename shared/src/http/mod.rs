//! The HTTP edge: route, parse, call a service, and turn the result (or error) into a
//! response. Every status code is chosen in `problem.rs` or by the success helpers here.

pub mod accept_routes;
pub mod audit_routes;
pub mod auth_routes;
mod body;
pub mod change_role_routes;
pub mod console_routes;
pub mod cookie;
mod email_page;
pub mod invite_routes;
pub mod members_routes;
pub mod orgs_routes;
mod page;
pub mod problem;
pub mod remove_routes;
pub mod router;
pub mod users_routes;

pub use body::{MAX_BODY_BYTES, body_bytes, json_body};

use crate::error::ServiceResult;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

pub type Reply = ServiceResult<Response<Body>>;

/// The response for a handler's result: the value, or the problem the error maps to.
pub fn respond(reply: Reply) -> Response<Body> {
    reply.unwrap_or_else(|err| problem::problem_response(&err))
}

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Reply {
    let body = serde_json::to_vec(value).map_err(|e| {
        crate::error::ServiceError::Internal(format!("response serialisation: {e}"))
    })?;
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

pub fn no_content() -> Reply {
    let mut res = Response::new(Body::Empty);
    *res.status_mut() = StatusCode::NO_CONTENT;
    Ok(res)
}

/// The bearer token from `Authorization`, if the header has that form.
pub fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The client's address as API Gateway saw it, for the per-address abuse limits; absent on
/// direct invocations, and ignored unless it looks like an IPv4 or IPv6 address.
pub fn source_ip(req: &Request) -> Option<String> {
    let lambda_http::request::RequestContext::ApiGatewayV2(ctx) = req.request_context_ref()? else {
        return None;
    };
    ctx.http.source_ip.clone().filter(|ip| {
        (2..=45).contains(&ip.len())
            && ip
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
    })
}

/// One query-string parameter (the first, if repeated).
pub fn query(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_string)
        .or_else(|| {
            // Direct invocations and some routers leave the parsed map empty: read the URI.
            let q = req.uri().query()?;
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        })
}

/// `application/x-www-form-urlencoded` pairs, decoded.
pub fn form_fields(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

/// The context a service runs in: the app, the bearer credentials (checked without I/O)
/// and the client's address. Built once per request.
pub fn context<'a>(app: &'a crate::app::App, req: &Request) -> crate::services::Ctx<'a> {
    crate::services::Ctx::new(app, bearer(req), source_ip(req))
}

/// The organization id in the path, if well formed (a malformed one names nothing).
pub fn path_org(params: &router::PathParams) -> Option<crate::domain::OrgId> {
    params
        .get("org_id")
        .and_then(|r| crate::domain::OrgId::parse(r).ok())
}

/// The user id in the path, if well formed (a malformed one names nothing).
pub fn path_user(params: &router::PathParams) -> Option<crate::domain::UserId> {
    params
        .get("user_id")
        .and_then(|r| crate::domain::UserId::parse(r).ok())
}

/// A response a browser renders (the pages and the console's files), with the headers every
/// one carries: its own content type, caching and CSP; no framing, no referrer (a page's URL
/// may hold a link's token), no sniffing, HTTPS only (browsers ignore HSTS over the plain
/// HTTP of local runs; deployed, the API is HTTPS only).
pub(crate) fn for_browser(
    status: StatusCode,
    body: Body,
    kind: &'static str,
    cache: &'static str,
    csp: &'static str,
) -> Response<Body> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    let h = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, kind),
        (header::CACHE_CONTROL, cache),
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

/// `?limit=` and `?cursor=`.
pub fn page_query(req: &Request) -> ServiceResult<crate::domain::requests::PageQuery> {
    crate::domain::requests::PageQuery::parse(
        query(req, "limit").as_deref(),
        query(req, "cursor").as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_decode_to_the_last_byte() {
        // A `%XX` at the very end of a value was once kept as it was.
        let req = lambda_http::http::Request::builder()
            .uri("/invite?x=1&token=ab%41")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(query(&req, "token").as_deref(), Some("abA"));
        assert_eq!(
            form_fields(b"name=Ada+L%C3%B6vel%41&password=p%25"),
            vec![
                ("name".to_string(), "Ada LövelA".to_string()),
                ("password".to_string(), "p%".to_string()),
            ]
        );
    }
}
