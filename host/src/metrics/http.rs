//! A small HTTP/1.1 server for `GET /metrics`, `/livez` and `/readyz`, on
//! tokio's `TcpListener`: no HTTP library, because three fixed answers to
//! scrapers and probes need none.
//!
//! One request per connection (`Connection: close`). What a peer can make
//! it hold is bounded: a request head of at most [`MAX_HEAD`] bytes (else
//! 431), read within [`READ_TIMEOUT`] (else 408), an answer written within
//! [`WRITE_TIMEOUT`], at most [`MAX_CONNECTIONS`] connections at once
//! (more are closed unanswered). `GET` and `HEAD` only (405 with `Allow`
//! otherwise), other paths 404, a request line that is not HTTP/1.x 400.
//! Dropping [`Serving`] stops the server and its connections.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::{Check, Metrics, MetricsError, exposition};

/// Longest request head (request line and headers) read.
const MAX_HEAD: usize = 8 * 1024;
/// Longest wait for a request head.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for an answer to be written.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Most connections served at once.
const MAX_CONNECTIONS: usize = 32;

/// A bound listener, not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
}

/// A server answering in the background until dropped.
#[derive(Debug)]
pub struct Serving {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Bind `addr` (`HOST:PORT`; port 0 picks a free one).
    pub async fn bind(addr: &str) -> Result<Server, MetricsError> {
        let bind_error = |error| MetricsError::Bind {
            addr: addr.to_owned(),
            error,
        };
        let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        Ok(Server { listener, addr })
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve `metrics` in the background until the returned handle is
    /// dropped.
    pub fn serve(self, metrics: Metrics) -> Serving {
        let Server { listener, addr } = self;
        let task = tokio::spawn(accept(listener, metrics));
        Serving { addr, task }
    }
}

impl Serving {
    /// The address served.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accept connections, each on a task of the set (dropped, and so aborted,
/// with this one).
async fn accept(listener: TcpListener, metrics: Metrics) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: wait, not spin.
                tracing::warn!("metrics server: accepting a connection failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        if connections.len() >= MAX_CONNECTIONS {
            tracing::debug!(
                "metrics server: {MAX_CONNECTIONS} connections open, closing a new one"
            );
            continue;
        }
        connections.spawn(connection(stream, metrics.clone()));
    }
}

/// Read one request, answer it, close.
async fn connection(mut stream: TcpStream, metrics: Metrics) {
    let response = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Err(_) => Response::text(408, "request timeout\n"),
        Ok(Err(Unread::Closed)) => return,
        Ok(Err(Unread::TooLarge)) => Response::text(431, "request head too large\n"),
        Ok(Err(Unread::Io(error))) => {
            tracing::debug!("metrics server: reading a request failed: {error}");
            return;
        }
        Ok(Ok(head)) => respond(&head, &metrics),
    };
    let written = tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(&response.to_bytes()).await?;
        stream.shutdown().await?;
        // Read what the peer still sends (a body), so that closing does
        // not reset the connection before it has read the answer.
        let mut sink = [0_u8; 1024];
        let mut n_drained = 0;
        while n_drained < 64 * 1024 {
            match stream.read(&mut sink).await? {
                0 => break,
                n => n_drained += n,
            }
        }
        Ok::<(), std::io::Error>(())
    })
    .await;
    if let Ok(Err(error)) = written {
        tracing::debug!("metrics server: writing an answer failed: {error}");
    }
}

/// Why no request head was read.
#[derive(Debug)]
enum Unread {
    /// The peer closed without sending anything.
    Closed,
    /// Longer than [`MAX_HEAD`].
    TooLarge,
    Io(std::io::Error),
}

/// The request head: everything up to the empty line (or what came before
/// the peer stopped sending).
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, Unread> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0_u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(Unread::Io)?;
        if n == 0 {
            return if head.is_empty() {
                Err(Unread::Closed)
            } else {
                Ok(head)
            };
        }
        head.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if let Some(end) = find(&head, b"\r\n\r\n").or_else(|| find(&head, b"\n\n")) {
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            return Err(Unread::TooLarge);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The answer to a request head.
fn respond(head: &[u8], metrics: &Metrics) -> Response {
    let Some((method, path)) = request_line(head) else {
        return Response::text(400, "bad request\n");
    };
    let answer = match path {
        "/metrics" => Response::ok(exposition::CONTENT_TYPE, metrics.render()),
        "/livez" => Response::check(metrics.liveness()),
        "/readyz" => Response::check(metrics.readiness()),
        _ => return Response::text(404, "not found: /metrics, /livez, /readyz\n"),
    };
    match method {
        "GET" => answer,
        "HEAD" => answer.without_body(),
        _ => Response::text(405, "method not allowed: GET or HEAD\n").allow("GET, HEAD"),
    }
}

/// The method and the path (without a query) of an HTTP/1.x request line.
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let end = find(head, b"\n").unwrap_or(head.len());
    let line = std::str::from_utf8(head.get(..end)?).ok()?.trim_end();
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !version.starts_with("HTTP/1.") || method.is_empty() {
        return None;
    }
    let path = target.split('?').next()?;
    Some((method, path))
}

/// An answer.
struct Response {
    status: u16,
    content_type: &'static str,
    body: String,
    /// The methods a 405 names.
    allow: Option<&'static str>,
    /// A `HEAD` request: the headers of the answer, without its body.
    head_only: bool,
}

impl Response {
    fn ok(content_type: &'static str, body: String) -> Response {
        Response::new(200, content_type, body)
    }

    fn text(status: u16, body: &str) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body.to_owned())
    }

    fn check(check: Check) -> Response {
        let status = if check.healthy { 200 } else { 503 };
        Response::new(status, "text/plain; charset=utf-8", check.message)
    }

    fn new(status: u16, content_type: &'static str, body: String) -> Response {
        Response {
            status,
            content_type,
            body,
            allow: None,
            head_only: false,
        }
    }

    fn allow(self, methods: &'static str) -> Response {
        Response {
            allow: Some(methods),
            ..self
        }
    }

    fn without_body(self) -> Response {
        Response {
            head_only: true,
            ..self
        }
    }

    /// The answer as sent: status line, headers, body.
    fn to_bytes(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            408 => "Request Timeout",
            431 => "Request Header Fields Too Large",
            _ => "Service Unavailable",
        };
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n",
            self.status,
            self.content_type,
            self.body.len()
        );
        if let Some(methods) = self.allow {
            head.push_str(&format!("Allow: {methods}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        if !self.head_only {
            bytes.extend_from_slice(self.body.as_bytes());
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_are_http_1_with_a_method_and_a_path() {
        assert_eq!(
            request_line(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a"),
            Some(("GET", "/metrics"))
        );
        assert_eq!(
            request_line(b"GET /livez HTTP/1.0"),
            Some(("GET", "/livez"))
        );
        assert_eq!(request_line(b"GET /metrics"), None);
        assert_eq!(request_line(b"PRI * HTTP/2.0"), None);
        assert_eq!(request_line(b"GET  /metrics HTTP/1.1"), None);
        assert_eq!(request_line(b"\xff /metrics HTTP/1.1"), None);
    }

    #[test]
    fn other_paths_are_404_and_other_methods_405() {
        let metrics = Metrics::new(super::super::MetricsOptions::default());
        let status = |head: &[u8]| {
            let bytes = respond(head, &metrics).to_bytes();
            String::from_utf8_lossy(&bytes)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(status(b"GET /nope HTTP/1.1"), "HTTP/1.1 404 Not Found");
        assert_eq!(
            status(b"POST /metrics HTTP/1.1"),
            "HTTP/1.1 405 Method Not Allowed"
        );
        assert_eq!(status(b"GET /metrics HTTP/1.1"), "HTTP/1.1 200 OK");
        assert_eq!(
            status(b"GET /livez HTTP/1.1"),
            "HTTP/1.1 503 Service Unavailable"
        );
        assert_eq!(status(b"nonsense"), "HTTP/1.1 400 Bad Request");
        let head = respond(b"HEAD /metrics HTTP/1.1", &metrics).to_bytes();
        assert!(head.ends_with(b"\r\n\r\n"));
    }
}
