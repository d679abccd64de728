//! An HTTP/1.1 server in front of the emulator, for the suites that make AWS misbehave in
//! ways the emulator never does (faults: DynamoDB; events: EventBridge). It speaks what the
//! SDK sends: keep-alive connections, Content-Length bodies, POST to a path.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request as the SDK sent it.
pub(crate) struct Request {
    pub path: String,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The operation of an AWS JSON request (`X-Amz-Target: DynamoDB_20120810.PutItem`).
    pub fn operation(&self) -> &str {
        self.header("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or_default()
    }
}

/// An answer to write back.
pub(crate) struct Response {
    pub status: u16,
    pub reason: String,
    pub content_type: String,
    /// Header lines to pass on, each ending in "\r\n".
    pub extra: String,
    pub body: Vec<u8>,
}

/// Serves one connection: each request read off `socket` gets what `answer` gives, until
/// either side closes or `answer` gives nothing.
pub(crate) async fn serve<F, Fut>(mut socket: TcpStream, mut answer: F)
where
    F: FnMut(Request) -> Fut,
    Fut: Future<Output = Option<Response>>,
{
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let path = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or("/")
            .to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buf[head_end..head_end + length].to_vec();
        buf.drain(..head_end + length);

        let Some(res) = answer(Request {
            path,
            headers,
            body,
        })
        .await
        else {
            return;
        };
        let head = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\n{}connection: keep-alive\r\n\r\n",
            res.status,
            res.reason,
            res.content_type,
            res.body.len(),
            res.extra
        );
        if socket.write_all(head.as_bytes()).await.is_err()
            || socket.write_all(&res.body).await.is_err()
        {
            return;
        }
    }
}

/// Sends `req` on to `upstream` (the emulator), each header value passed through
/// `rewrite`; the emulator's answer, or nothing if it could not be reached.
pub(crate) async fn forward(
    http: &reqwest::Client,
    upstream: &str,
    req: Request,
    rewrite: impl Fn(&str) -> String,
) -> Option<Response> {
    let mut out = http.post(format!("{upstream}{}", req.path)).body(req.body);
    for (k, v) in &req.headers {
        if !matches!(
            k.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            out = out.header(k, rewrite(v));
        }
    }
    let res = out.send().await.ok()?;
    let status = res.status().as_u16();
    let keep = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| format!("{name}: {v}\r\n"))
            .unwrap_or_default()
    };
    let extra = keep("x-amz-crc32") + &keep("x-amzn-requestid");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-amz-json-1.0")
        .to_string();
    let body = res.bytes().await.unwrap_or_default().to_vec();
    Some(Response {
        status,
        reason: "OK".into(),
        content_type,
        extra,
        body,
    })
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
