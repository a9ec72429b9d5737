//! The kill matrix: what each mutant's run made fail, rendered as a Markdown table, and the check
//! kinds `suites/README.md` documents.

use std::collections::{BTreeMap, BTreeSet};

/// What one mutant's run showed.
#[derive(Debug, Clone)]
pub struct Row {
    /// Mutant name.
    pub name: String,
    /// The promise it breaks.
    pub breaks: String,
    /// How.
    pub mechanism: String,
    /// Per catching scenario: (id, verdict, failed checks).
    pub scenarios: Vec<(String, String, Vec<String>)>,
    /// Checks that had to fail.
    pub expected: BTreeSet<String>,
    /// Why it counts as survived (empty when killed).
    pub survived: Vec<String>,
}

impl Row {
    /// Every check that failed in any of its scenarios.
    pub fn failed(&self) -> BTreeSet<String> {
        self.scenarios
            .iter()
            .flat_map(|(_, _, f)| f.iter().cloned())
            .collect()
    }

    /// Killed: every catching scenario failed on the checks that name the broken promise.
    pub fn killed(&self) -> bool {
        self.survived.is_empty()
    }
}

/// The check kinds in the "Checks" table of `suites/README.md` (rows starting with a back-quoted name).
pub fn documented_checks(readme: &str) -> BTreeSet<String> {
    let Some(start) = readme.find("## Checks") else {
        return BTreeSet::new();
    };
    let body = &readme[start..];
    let end = body[3..].find("\n## ").map(|i| i + 3).unwrap_or(body.len());
    body[..end]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .flat_map(|l| {
            let cell = l.split('|').next().unwrap_or("");
            cell.split(',')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty() && !c.contains(' '))
        .collect()
}

/// The Markdown for the README: score, matrix (● the check that names the broken promise failed,
/// ○ another check failed too), and the mutants' list.
pub fn render(rows: &[Row], checks: &BTreeSet<String>, uncatchable: &[(&str, &str)]) -> String {
    let killed = rows.iter().filter(|r| r.killed()).count();
    let mut cols: Vec<String> = checks.iter().cloned().collect();
    // steps that abort a scenario fail it under their own name
    let extra: BTreeSet<String> = rows
        .iter()
        .flat_map(|r| r.failed())
        .filter(|c| !checks.contains(c))
        .collect();
    cols.extend(extra);
    let used: Vec<&String> = cols
        .iter()
        .filter(|c| rows.iter().any(|r| r.failed().contains(*c)))
        .collect();
    let mut s = format!(
        "Mutation score: **{killed} / {} killed** ({:.0} %).\n\n",
        rows.len(),
        100.0 * killed as f64 / rows.len().max(1) as f64
    );
    s.push_str("| mutant | mechanism | ");
    for c in &used {
        s.push_str(&format!("`{c}` | "));
    }
    s.push_str("result |\n|---|---|");
    for _ in &used {
        s.push_str(":-:|");
    }
    s.push_str("---|\n");
    for r in rows {
        let failed = r.failed();
        s.push_str(&format!("| `{}` | {} | ", r.name, r.mechanism));
        for c in &used {
            let mark = match (failed.contains(*c), r.expected.contains(*c)) {
                (true, true) => "●",
                (true, false) => "○",
                (false, true) => "✗",
                (false, false) => "",
            };
            s.push_str(mark);
            s.push_str(" | ");
        }
        s.push_str(if r.killed() {
            "killed |\n"
        } else {
            "**survived** |\n"
        });
    }
    s.push_str(
        "\n● the check naming the broken promise failed · ○ another check failed too · ✗ the check that should have failed passed\n\n",
    );
    let caught: BTreeSet<&String> = rows
        .iter()
        .filter(|r| r.killed())
        .flat_map(|r| r.expected.iter())
        .collect();
    let missing: Vec<&String> = checks.iter().filter(|c| !caught.contains(c)).collect();
    if !missing.is_empty() {
        s.push_str("Checks no mutant is caught by:\n\n");
        for c in missing {
            let why = uncatchable
                .iter()
                .find(|(n, _)| n == c)
                .map(|(_, w)| *w)
                .unwrap_or("no mutant declares it yet");
            s.push_str(&format!("- `{c}`: {why}\n"));
        }
        s.push('\n');
    }
    s.push_str("| mutant | breaks | caught by |\n|---|---|---|\n");
    for r in rows {
        let by: Vec<String> = r
            .scenarios
            .iter()
            .map(|(id, v, _)| format!("`{id}` ({v})"))
            .collect();
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            r.name,
            r.breaks,
            by.join(", ")
        ));
    }
    s
}

/// `text` with the part between `<!-- {tag}:start -->` and `<!-- {tag}:end -->` replaced by `body`.
pub fn splice(text: &str, tag: &str, body: &str) -> Option<String> {
    let (a, b) = (
        format!("<!-- {tag}:start -->"),
        format!("<!-- {tag}:end -->"),
    );
    let i = text.find(&a)? + a.len();
    let j = text[i..].find(&b)? + i;
    Some(format!(
        "{}\n{}\n{}",
        &text[..i],
        body.trim_end(),
        &text[j..]
    ))
}

/// Failing checks of one scenario result from `results.json`.
pub fn failed_checks(result: &serde_json::Value) -> Vec<String> {
    result["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["passed"] == false)
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect()
}

/// Counts the rows by verdict of their scenarios (for the summary line).
pub fn verdicts(rows: &[Row]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        for (_, v, _) in &r.scenarios {
            *m.entry(v.clone()).or_default() += 1;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_checks() {
        let md = "# x\n## Checks (`check = ...`)\n\n| check | passes when |\n|---|---|\n| `a-b` | x |\n| `c`, `d` | y |\n\n## Other\n| `e` | z |\n";
        let c = documented_checks(md);
        assert_eq!(c.into_iter().collect::<Vec<_>>(), ["a-b", "c", "d"]);
    }

    #[test]
    fn splices_between_markers() {
        let t = "a\n<!-- m:start -->\nold\n<!-- m:end -->\nb";
        assert_eq!(
            splice(t, "m", "new\n").unwrap(),
            "a\n<!-- m:start -->\nnew\n<!-- m:end -->\nb"
        );
        assert!(splice("none", "m", "x").is_none());
    }
}
