//! Json framing of Node's IPC channel: one message is `JSON.stringify(value) + "\n"`.

use serde_json::Value;

/// Longest partial line kept while waiting for its `\n` (a misbehaving child cannot exhaust memory).
pub const MAX_LINE: usize = 64 * 1024 * 1024;

/// A line that could not be turned into a message.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The line is not valid JSON; the decoder continues with the next line.
    #[error("invalid json message on ipc channel: {source}")]
    InvalidJson {
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// A line grew past [`MAX_LINE`] bytes without a newline; it is skipped up to its end.
    #[error("ipc message longer than {MAX_LINE} bytes dropped")]
    LineTooLong,
}

/// Appends `value` as compact JSON plus `"\n"` to `out`.
pub fn encode_into(value: &Value, out: &mut Vec<u8>) {
    // Serializing a `Value` into a Vec cannot fail (keys are strings, no I/O).
    let _ = serde_json::to_writer(&mut *out, value);
    out.push(b'\n');
}

/// Encodes one message as compact JSON followed by `"\n"`.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    encode_into(value, &mut out);
    out
}

/// Splits an incoming byte stream into JSON messages, across partial reads.
#[derive(Debug, Default)]
pub struct LineDecoder {
    buf: Vec<u8>,
    /// Start of the first unconsumed byte in `buf`.
    start: usize,
    /// Bytes from `start` already known to hold no `\n`.
    scanned: usize,
    /// Skipping the rest of an over-long line.
    discarding: bool,
    /// A line carried Bun's internal-message mark (see [`INTERNAL_MARK`]).
    marked: bool,
}

/// The byte Bun puts before every internal (cluster) message on a json channel; Node never sends it
/// (a JSON text cannot start with it). Stripped on reading.
pub const INTERNAL_MARK: u8 = 0x02;

impl LineDecoder {
    /// Creates an empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the channel.
    pub fn feed(&mut self, data: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 4096 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// True once a line carried Bun's internal-message mark: the peer is a Bun process.
    pub fn saw_mark(&self) -> bool {
        self.marked
    }

    /// True when no partial line is buffered.
    pub fn is_empty(&self) -> bool {
        self.start == self.buf.len()
    }

    /// Returns the next complete message, `None` when more bytes are needed. Empty lines are skipped.
    pub fn next_message(&mut self) -> Option<Result<Value, DecodeError>> {
        loop {
            let from = self.start + self.scanned;
            let Some(rel) = self.buf[from..].iter().position(|&b| b == b'\n') else {
                self.scanned = self.buf.len() - self.start;
                if self.scanned > MAX_LINE && !self.discarding {
                    self.discarding = true;
                    self.start = self.buf.len();
                    self.scanned = 0;
                    return Some(Err(DecodeError::LineTooLong));
                }
                if self.discarding {
                    self.start = self.buf.len();
                    self.scanned = 0;
                }
                return None;
            };
            let end = from + rel;
            let line = &self.buf[self.start..end];
            let discarding = std::mem::take(&mut self.discarding);
            self.start = end + 1;
            self.scanned = 0;
            if discarding || line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let line = match line.split_first() {
                Some((&INTERNAL_MARK, rest)) => {
                    self.marked = true;
                    rest
                }
                _ => line,
            };
            return Some(
                serde_json::from_slice(line).map_err(|source| DecodeError::InvalidJson { source }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all(d: &mut LineDecoder) -> Vec<Result<Value, String>> {
        std::iter::from_fn(|| d.next_message())
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn encodes_compact_json_with_newline() {
        let v = json!({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0});
        assert_eq!(
            encode(&v),
            b"{\"act\":\"online\",\"cmd\":\"NODE_CLUSTER\",\"seq\":0}\n".to_vec()
        );
        assert_eq!(encode(&json!("ready")), b"\"ready\"\n".to_vec());
    }

    #[test]
    fn partial_lines_are_joined_across_reads() {
        let mut d = LineDecoder::new();
        d.feed(b"{\"cmd\":\"NODE_");
        assert!(d.next_message().is_none());
        d.feed(b"CLUSTER\",\"seq\"");
        assert!(d.next_message().is_none());
        d.feed(b":3}\n\"re");
        assert_eq!(all(&mut d), vec![Ok(json!({"cmd":"NODE_CLUSTER","seq":3}))]);
        assert!(!d.is_empty());
        d.feed(b"ady\"\n");
        assert_eq!(all(&mut d), vec![Ok(json!("ready"))]);
        assert!(d.is_empty());
    }

    #[test]
    fn one_chunk_with_many_lines() {
        let mut d = LineDecoder::new();
        let mut chunk = Vec::new();
        for i in 0..100 {
            encode_into(&json!({"i": i}), &mut chunk);
        }
        d.feed(&chunk);
        let got = all(&mut d);
        assert_eq!(got.len(), 100);
        assert_eq!(got[99], Ok(json!({"i": 99})));
    }

    #[test]
    fn unicode_round_trips_even_when_split_inside_a_character() {
        let v = json!({"msg": "héllo wörld ✓ 日本 \u{2028} 🎉"});
        let bytes = encode(&v);
        let mut d = LineDecoder::new();
        // Split in the middle of the 4-byte emoji.
        let cut = bytes.len() - 5;
        d.feed(&bytes[..cut]);
        assert!(d.next_message().is_none());
        d.feed(&bytes[cut..]);
        assert_eq!(all(&mut d), vec![Ok(v)]);
    }

    #[test]
    fn invalid_json_line_is_an_error_and_decoding_continues() {
        let mut d = LineDecoder::new();
        d.feed(b"{not json}\n\n1\n{\"a\":\n");
        let got = all(&mut d);
        assert_eq!(got.len(), 3);
        assert!(got[0].as_ref().unwrap_err().contains("invalid json"));
        assert_eq!(got[1], Ok(json!(1)));
        assert!(got[2].is_err());
        d.feed(b"\"ok\"\n");
        assert_eq!(all(&mut d), vec![Ok(json!("ok"))]);
    }

    #[test]
    fn bun_internal_mark_is_stripped_and_remembered() {
        let mut d = LineDecoder::new();
        d.feed(b"\"plain\"\n");
        assert_eq!(all(&mut d), vec![Ok(json!("plain"))]);
        assert!(!d.saw_mark());
        d.feed(b"\x02{\"cmd\":\"NODE_CLUSTER\",\"act\":\"online\",\"seq\":0}\n");
        assert_eq!(
            all(&mut d),
            vec![Ok(json!({"cmd":"NODE_CLUSTER","act":"online","seq":0}))]
        );
        assert!(d.saw_mark());
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let mut d = LineDecoder::new();
        d.feed(b"\"\xff\xfe\"\n");
        assert!(d.next_message().unwrap().is_err());
    }

    #[test]
    fn buffer_is_compacted_while_streaming() {
        let mut d = LineDecoder::new();
        let line = encode(&json!({"cmd": "NODE_HANDLE_ACK"}));
        for _ in 0..10_000 {
            d.feed(&line[..7]);
            d.feed(&line[7..]);
            assert!(d.next_message().unwrap().is_ok());
        }
        assert!(d.buf.capacity() < 64 * 1024);
    }
}
