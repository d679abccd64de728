//! Request bodies: capped at 64 KiB, JSON only, unknown fields refused, and every type or
//! value error reported against the field it came from.

use crate::error::{FieldError, ServiceError, ServiceResult};
use lambda_http::{Body, Request};
use serde::de::DeserializeOwned;

pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn json_body<T: DeserializeOwned>(req: &Request) -> ServiceResult<T> {
    parse(&body_bytes(req)?)
}

/// The raw body, refused past the size cap.
pub fn body_bytes(req: &Request) -> ServiceResult<Vec<u8>> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ServiceError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    Ok(bytes.to_vec())
}

pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> ServiceResult<T> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ServiceError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ServiceError::MalformedBody(
            "the body must be a JSON object".into(),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut *de);
    match parsed {
        // One JSON value and nothing after it: `{...}x` or `{...}{...}` is not a body.
        Ok(value) => match de.end() {
            Ok(()) => Ok(value),
            Err(e) => Err(ServiceError::MalformedBody(clean(&e))),
        },
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let field = if path == "." { String::new() } else { path };
                    Err(ServiceError::Validation(vec![FieldError::new(
                        field,
                        clean(&inner),
                    )]))
                }
                _ => Err(ServiceError::MalformedBody(clean(&inner))),
            }
        }
    }
}

/// serde_json's message without its "at line 1 column 9" suffix.
fn clean(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Email;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        email: Email,
        count: u8,
    }

    #[test]
    fn reports_the_field_that_failed() {
        let err = parse::<Sample>(br#"{"email":"nope","count":1}"#).unwrap_err();
        let ServiceError::Validation(fields) = err else {
            panic!("{err:?}")
        };
        assert_eq!(fields[0].field, "email");
        assert!(fields[0].message.contains("@"), "{}", fields[0].message);

        let ServiceError::Validation(fields) =
            parse::<Sample>(br#"{"email":"a@b.co","count":"x"}"#).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(fields[0].field, "count");
    }

    #[test]
    fn refuses_unknown_fields_bad_syntax_and_big_bodies() {
        assert!(matches!(
            parse::<Sample>(br#"{"email":"a@b.co","count":1,"admin":true}"#),
            Err(ServiceError::Validation(_))
        ));
        assert!(matches!(
            parse::<Sample>(br#"{"email":"#),
            Err(ServiceError::MalformedBody(_))
        ));
        assert!(matches!(
            parse::<Sample>(b""),
            Err(ServiceError::MalformedBody(_))
        ));
        for trailing in [
            &br#"{"email":"a@b.co","count":1}x"#[..],
            br#"{"email":"a@b.co","count":1}{"email":"a@b.co","count":2}"#,
            br#"{"email":"a@b.co","count":1},"#,
        ] {
            assert!(
                matches!(
                    parse::<Sample>(trailing),
                    Err(ServiceError::MalformedBody(_))
                ),
                "{}",
                String::from_utf8_lossy(trailing)
            );
        }
        assert!(parse::<Sample>(b" {\"email\":\"a@b.co\",\"count\":1} \n").is_ok());
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(matches!(
            parse::<Sample>(&big),
            Err(ServiceError::PayloadTooLarge { .. })
        ));
    }
}
