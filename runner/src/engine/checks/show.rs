//! Values as a reader sees them in a check's expected and observed texts (never Rust debug text):
//! lists as `0, 1, 2`, maps as `key value` pairs, absent values as `unset`, and `none` for nothing.

use std::fmt::Display;

/// `a, b, c`, or `none` when empty.
pub(super) fn list<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    let v: Vec<String> = items.into_iter().map(|x| x.to_string()).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// `k1 v1, k2 v2` (with `sep` between key and value), or `none` when empty.
pub(super) fn pairs<K: Display, V: Display>(
    items: impl IntoIterator<Item = (K, V)>,
    sep: &str,
) -> String {
    list(items.into_iter().map(|(k, v)| format!("{k}{sep}{v}")))
}

/// The value, or `unset`.
pub(super) fn opt<T: Display>(v: Option<T>) -> String {
    v.map_or_else(|| "unset".into(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn values_read_as_text() {
        assert_eq!(list(Vec::<u32>::new()), "none");
        assert_eq!(list([3, 1]), "3, 1");
        let m: BTreeMap<i64, Option<String>> = [(0, Some("0".into())), (1, None)].into();
        assert_eq!(
            pairs(m.iter().map(|(k, v)| (k, opt(v.as_ref()))), " → "),
            "0 → 0, 1 → unset"
        );
    }
}
