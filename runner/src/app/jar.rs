//! A cookie jar for one virtual client of a flow.

/// A cookie jar for one virtual client: `Set-Cookie` name=value pairs, sent back as one `Cookie` header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Jar(Vec<(String, String)>);

impl Jar {
    /// Stores the cookies of a response (a `Max-Age=0` or empty value deletes one).
    pub fn store(&mut self, set_cookies: &[String]) {
        for sc in set_cookies {
            let first = sc.split(';').next().unwrap_or("");
            let Some((k, v)) = first.split_once('=') else {
                continue;
            };
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            let expired = sc.to_ascii_lowercase().contains("max-age=0");
            self.0.retain(|(n, _)| *n != k);
            if !expired && !v.is_empty() {
                self.0.push((k, v));
            }
        }
    }

    /// The `Cookie` header value, if any cookie is held.
    pub fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jar_keeps_replaces_and_expires() {
        let mut j = Jar::default();
        j.store(&["sid=a; HttpOnly".into(), "x=1".into()]);
        j.store(&["sid=b".into()]);
        assert_eq!(j.header().as_deref(), Some("x=1; sid=b"));
        j.store(&["x=; Max-Age=0".into(), "sid=b; Max-Age=0".into()]);
        assert_eq!(j.header(), None);
    }
}
