//! refpm's Node IPC frame decoder (`node_ipc::LineDecoder`): any byte stream, split at arbitrary points,
//! must decode without panicking, and splitting must not change the messages decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use refpm::node_ipc::LineDecoder;

fn decode_all(chunks: &[&[u8]]) -> Vec<Result<String, String>> {
    let mut d = LineDecoder::new();
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c);
        while let Some(m) = d.next_message() {
            out.push(m.map(|v| v.to_string()).map_err(|e| e.to_string()));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let whole = decode_all(&[rest]);
    // the same bytes in chunks of `split + 1`
    let chunks: Vec<&[u8]> = rest.chunks(split as usize + 1).collect();
    let parts = decode_all(&chunks);
    assert_eq!(whole, parts, "chunking changed the decoded messages");
    // every decoded message re-encodes to one line that decodes to the same value (floats within 1 ULP:
    // serde_json without `float_roundtrip` may round a long decimal differently the second time)
    for v in whole.iter().flatten() {
        let value: serde_json::Value = serde_json::from_str(v).expect("decoded value is json");
        let line = refpm::node_ipc::encode(&value);
        let again = decode_all(&[&line]);
        assert_eq!(again.len(), 1, "one message re-encodes to one line");
        let back: serde_json::Value = serde_json::from_str(again[0].as_ref().expect("re-encoded line decodes")).unwrap();
        assert!(same(&value, &back), "{value} became {back}");
    }
});

/// Equal JSON values, floats compared within a relative 1e-15.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Number(x), Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x == y || (x - y).abs() <= x.abs().max(y.abs()) * 1e-15
        }
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Object(x), Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
        _ => a == b,
    }
}
