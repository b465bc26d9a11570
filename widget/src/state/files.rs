//! Files on messages: what the view shows of a message's `attachments`,
//! and where the server's answer to an upload goes in the list.

use serde_json::Value;
use switchboard_protocol::chat::Message;

use super::Chat;

/// How a file is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A thumbnail that opens the picture in a new tab.
    Image,
    /// A player.
    Audio,
    Video,
    /// A download link with the name and size.
    File,
}

/// One file of a message (`{id, message_id, file_type, content_type,
/// extension, file_name, file_size, data_url, thumb_url}` on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub kind: FileKind,
    pub name: String,
    /// Bytes, when the server says.
    pub size: Option<u64>,
    /// The file itself (may be empty or unusable: the view checks it).
    pub url: String,
    /// A smaller picture for images; empty when there is none.
    pub thumb: String,
}

impl Attachment {
    /// Reads one described file; anything missing gets a plain default, so
    /// a newer or sloppier server never makes a file vanish.
    pub fn parse(v: &Value) -> Option<Attachment> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").trim();
        if !v.is_object() {
            return None;
        }
        let kind = match s("file_type") {
            "image" => FileKind::Image,
            "audio" => FileKind::Audio,
            "video" => FileKind::Video,
            "file" => FileKind::File,
            // Unknown: the MIME type decides, else a plain download.
            _ => match s("content_type").split('/').next().unwrap_or("") {
                "image" => FileKind::Image,
                "audio" => FileKind::Audio,
                "video" => FileKind::Video,
                _ => FileKind::File,
            },
        };
        let name = match (s("file_name"), s("extension")) {
            ("", "") => "file".to_string(),
            ("", ext) => format!("file.{ext}"),
            (name, _) => name.to_string(),
        };
        Some(Attachment {
            kind,
            name,
            size: v.get("file_size").and_then(Value::as_u64),
            url: s("data_url").to_string(),
            thumb: s("thumb_url").to_string(),
        })
    }

    /// The files of a message, in the order sent.
    pub fn list(values: &[Value]) -> Vec<Attachment> {
        values.iter().filter_map(Attachment::parse).collect()
    }
}

impl Chat {
    /// The server named the conversation our first message (or file)
    /// started: it becomes the shown one when none was.
    pub(crate) fn adopt(&mut self, conversation_id: i64) {
        if self.current.is_none() {
            self.current = Some(conversation_id);
        }
    }

    /// The server's answer to an upload: the conversation it went into
    /// (adopted when the widget had none, as from an `ack`) and the
    /// message, added unless its live event already brought it (the same
    /// message id is one item). Returns whether it was added now.
    pub fn add_uploaded(&mut self, conversation_id: i64, m: Message) -> bool {
        self.adopt(conversation_id);
        self.merge(m)
    }
}
