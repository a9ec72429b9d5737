//! Parsing the fixtures' identity reply `{"pid":123,"instance":"0"}` and classifying I/O errors.

use super::Outcome;
use std::io;

/// What one request produced: the serving pid and instance, or why it failed.
pub(crate) type Reply = Result<(u32, Option<String>), Outcome>;

/// Parses an identity reply; anything that is not a JSON object with a numeric `pid` is `Truncated`.
/// `instance` may be a string, a number or null.
pub(crate) fn parse_identity(bytes: &[u8]) -> Reply {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| Outcome::Truncated)?;
    let pid = v
        .get("pid")
        .and_then(serde_json::Value::as_u64)
        .and_then(|p| u32::try_from(p).ok())
        .ok_or(Outcome::Truncated)?;
    let instance = match v.get("instance") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Ok((pid, instance))
}

/// Maps an I/O error to an outcome: refused, reset (ECONNRESET, EPIPE, early EOF), timeout, or other.
pub(crate) fn classify_io(e: &io::Error) -> Outcome {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => Outcome::Refused,
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            Outcome::Reset
        }
        K::TimedOut => Outcome::Timeout,
        _ => Outcome::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_with_string_number_and_null_instance() {
        assert_eq!(
            parse_identity(br#"{"pid":12,"instance":"3"}"#),
            Ok((12, Some("3".into())))
        );
        assert_eq!(
            parse_identity(br#"{"pid":12,"instance":3}"#),
            Ok((12, Some("3".into())))
        );
        assert_eq!(
            parse_identity(br#"{"pid":12,"instance":null,"count":4}"#),
            Ok((12, None))
        );
    }

    #[test]
    fn anything_else_is_truncated() {
        assert_eq!(
            parse_identity(br#"{"pid":12,"inst"#),
            Err(Outcome::Truncated)
        );
        assert_eq!(
            parse_identity(br#"{"instance":"0"}"#),
            Err(Outcome::Truncated)
        );
        assert_eq!(parse_identity(b"hello"), Err(Outcome::Truncated));
        assert_eq!(parse_identity(b""), Err(Outcome::Truncated));
    }

    #[test]
    fn io_errors_map_to_outcomes() {
        use io::ErrorKind as K;
        assert_eq!(classify_io(&K::ConnectionRefused.into()), Outcome::Refused);
        assert_eq!(classify_io(&K::ConnectionReset.into()), Outcome::Reset);
        assert_eq!(classify_io(&K::BrokenPipe.into()), Outcome::Reset);
        assert_eq!(classify_io(&K::UnexpectedEof.into()), Outcome::Reset);
        assert_eq!(classify_io(&K::AddrNotAvailable.into()), Outcome::Other);
    }
}
