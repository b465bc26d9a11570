//! hyper answers some requests itself, before the router ever sees them: a
//! head over [`MAX_HEAD_BYTES`] (431), one that does not parse (400), a URL
//! too long (414). It writes those answers as a bare head with
//! `content-length: 0`, and has no option or callback to change them. Every
//! error of ours is JSON, so [`ErrorAnswers`] wraps each accepted socket and
//! on the write path recognises exactly that head (a 4xx or 5xx status line,
//! then only `content-length: 0`, `date` and perhaps `connection`) and writes
//! our JSON answer in its place. The router's responses never look like it:
//! its errors always carry a content type and a JSON body.
//!
//! Only a connection's first write is looked at: it always starts a
//! response, whereas a later write may start anywhere in a body (an
//! attachment holding exactly such bytes) or in WebSocket frames, which must
//! pass untouched. So a request that does not parse after others on the same
//! keep-alive connection keeps hyper's bodiless answer; clients that send
//! such requests rarely send a good one first.
//!
//! The alternatives were worse: letting huge heads through to the router
//! would make the server hold megabytes per connection for anyone who asks,
//! and parsing heads ourselves would duplicate hyper. This costs one prefix
//! comparison per write.
//!
//! hyper then closes the connection, usually with the rest of the client's
//! request unread, and closing a socket with unread data makes the kernel
//! send a reset that can destroy our answer before the client reads it. So,
//! after such an answer, shutdown lingers as web servers do: it sends FIN,
//! then reads and drops what the client still sends, for at most
//! [`LINGER_FOR`] and [`LINGER_BYTES`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::http::StatusCode;
use switchboard_protocol::api::ErrorBody;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::MAX_HEAD_BYTES;

/// How long a connection closed after one of our answers keeps reading.
const LINGER_FOR: Duration = Duration::from_secs(2);
/// How much it reads, at most, before closing anyway.
const LINGER_BYTES: usize = 4 * 1024 * 1024;

/// A socket whose hyper-made error answers leave as JSON.
pub(super) struct ErrorAnswers<IO> {
    io: IO,
    /// Our answer, written in place of hyper's head, and how much of it is.
    answer: Option<(Vec<u8>, usize)>,
    /// Until the first write: only it can be hyper's error head.
    first: bool,
    /// Set once an answer was replaced: shutdown then lingers.
    replaced: bool,
    linger: Option<Linger>,
}

struct Linger {
    until: Pin<Box<Sleep>>,
    left: usize,
    shut: bool,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> ErrorAnswers<IO> {
    pub(super) fn new(io: IO) -> ErrorAnswers<IO> {
        ErrorAnswers {
            io,
            answer: None,
            first: true,
            replaced: false,
            linger: None,
        }
    }

    /// Replaces `head` with our answer if it is the connection's first write
    /// and hyper's own error head.
    fn replace(&mut self, head: &[u8]) -> bool {
        if !std::mem::take(&mut self.first) {
            return false;
        }
        match json_answer(head) {
            Some(answer) => {
                self.answer = Some((answer, 0));
                self.replaced = true;
                true
            }
            None => false,
        }
    }

    /// Writes out what is left of our answer.
    fn poll_answer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.answer {
            if *written == bytes.len() {
                self.answer = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// After our answer: FIN, then read and drop until the client closes,
    /// or [`LINGER_FOR`] or [`LINGER_BYTES`] runs out.
    fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let linger = self.linger.get_or_insert_with(|| Linger {
            until: Box::pin(tokio::time::sleep(LINGER_FOR)),
            left: LINGER_BYTES,
            shut: false,
        });
        if !linger.shut {
            ready!(Pin::new(&mut self.io).poll_shutdown(cx))?;
            linger.shut = true;
        }
        let mut scratch = [0u8; 4096];
        loop {
            if linger.left == 0 || linger.until.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf)) {
                Ok(()) if !buf.filled().is_empty() => {
                    linger.left = linger.left.saturating_sub(buf.filled().len());
                }
                // The client closed, or reset: nothing left to protect.
                Ok(()) | Err(_) => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for ErrorAnswers<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ErrorAnswers<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        if !buf.is_empty() && this.replace(buf) {
            // Taken: poll_flush, which hyper calls next, writes it out.
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        // hyper writes a head in a buffer of its own, ahead of any body.
        if let Some(head) = bufs.iter().find(|b| !b.is_empty()) {
            if this.replace(head) {
                return Poll::Ready(Ok(head.len()));
            }
        }
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        if this.replaced {
            return this.poll_linger(cx);
        }
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// Our JSON answer in place of `head`, if `head` is hyper's bodiless error
/// head (see the module's documentation).
fn json_answer(head: &[u8]) -> Option<Vec<u8>> {
    // The cheap test first.
    let version = head.get(..9)?;
    if !(version == b"HTTP/1.1 " || version == b"HTTP/1.0 ")
        || !matches!(head.get(9), Some(b'4' | b'5'))
        || head.len() > 512
    {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?.strip_suffix("\r\n\r\n")?;
    let mut lines = text.split("\r\n");
    let status: u16 = lines.next()?.get(9..12)?.parse().ok()?;
    let status = StatusCode::from_u16(status).ok()?;
    let (mut empty, mut date) = (false, None);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") && value == "0" {
            empty = true;
        } else if name.eq_ignore_ascii_case("date") {
            date = Some(value);
        } else if !name.eq_ignore_ascii_case("connection") {
            return None;
        }
    }
    if !empty {
        return None;
    }
    let (error, message) = match status {
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            "request_header_fields_too_large",
            format!(
                "The request's head (request line and headers) is larger than the {} KiB \
                 this server reads.",
                MAX_HEAD_BYTES / 1024
            ),
        ),
        StatusCode::URI_TOO_LONG => (
            "uri_too_long",
            "The request's URL is longer than this server reads.".to_string(),
        ),
        StatusCode::BAD_REQUEST => (
            "bad_request",
            "The request is not valid HTTP/1.1.".to_string(),
        ),
        s if s.is_server_error() => ("internal", reason(s).to_string()),
        s => ("bad_request", reason(s).to_string()),
    };
    let body = ErrorBody {
        error: error.to_string(),
        message,
        errors: Vec::new(),
    };
    let body = serde_json::to_string(&body).unwrap_or_default();
    let mut answer = format!(
        "{}{} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        String::from_utf8_lossy(version),
        status.as_u16(),
        reason(status),
        body.len()
    );
    if let Some(date) = date {
        answer.push_str(&format!("date: {date}\r\n"));
    }
    answer.push_str("\r\n");
    answer.push_str(&body);
    Some(answer.into_bytes())
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}
