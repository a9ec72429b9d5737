//! The reader's shortcuts: a failures summary at the top of the page linking to each failing
//! scenario, and a filter by verdict and level (checkboxes and a few lines of inline script that hide
//! the scenarios and table rows not selected; without script every scenario shows).

use super::escape;
use super::page::{anchor, badge, level_name};
use crate::model::{RunReport, ScenarioResult, Verdict};

/// Verdicts a reviewer must look at.
fn is_failure(v: Verdict) -> bool {
    matches!(
        v,
        Verdict::Fail | Verdict::Error | Verdict::NonStrict | Verdict::Flaky
    )
}

/// The `data-verdict` and `data-level` attributes the filter reads.
pub(crate) fn filter_attrs(r: &ScenarioResult) -> String {
    format!(
        "data-verdict=\"{}\" data-level=\"{}\"",
        r.verdict.as_str(),
        level_name(r.level)
    )
}

/// The failures box: one line per scenario that failed, errored, varied or missed a SHOULD, each a
/// link to its section; a one-line all-clear otherwise.
pub(crate) fn failures(report: &RunReport) -> String {
    let bad: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| is_failure(r.verdict))
        .collect();
    if bad.is_empty() {
        return format!(
            "<div class=\"failures none\" id=\"failures\"><strong>No failures</strong> in {} scenarios.</div>\n",
            report.results.len()
        );
    }
    let mut out = format!(
        "<div class=\"failures\" id=\"failures\"><strong>{} of {} scenarios need a look</strong>\n<ul>\n",
        bad.len(),
        report.results.len()
    );
    for r in bad {
        out.push_str(&format!(
            "<li>{} <span class=\"level\">{}</span> <a href=\"#{}\">{}</a> {}</li>\n",
            badge(r.verdict),
            level_name(r.level),
            anchor(&r.id),
            escape(&r.id),
            if r.reason.is_empty() {
                String::new()
            } else {
                format!("— {}", escape(&r.reason))
            }
        ));
    }
    out.push_str("</ul></div>\n");
    out
}

/// The filter form: a checkbox per verdict and per level present in the run, all checked.
pub(crate) fn controls(report: &RunReport) -> String {
    let verdicts: Vec<Verdict> = Verdict::ALL
        .iter()
        .copied()
        .filter(|v| report.results.iter().any(|r| r.verdict == *v))
        .collect();
    let levels: Vec<&str> = ["MUST", "SHOULD", "INFO"]
        .into_iter()
        .filter(|l| report.results.iter().any(|r| level_name(r.level) == *l))
        .collect();
    let mut out = String::from("<form id=\"filter\"><fieldset><legend>verdict</legend>");
    for v in verdicts {
        out.push_str(&format!(
            "<label><input type=\"checkbox\" name=\"verdict\" value=\"{0}\" checked> {0}</label>",
            v.as_str()
        ));
    }
    out.push_str("</fieldset><fieldset><legend>level</legend>");
    for l in levels {
        out.push_str(&format!(
            "<label><input type=\"checkbox\" name=\"level\" value=\"{l}\" checked> {l}</label>"
        ));
    }
    out.push_str("</fieldset> <span id=\"shown\"></span></form>\n");
    out
}

/// The inline script behind the filter (no network, no library).
pub(crate) const SCRIPT: &str = r#"<script>
(function () {
  var form = document.getElementById('filter');
  function apply() {
    var on = Object.create(null);
    form.querySelectorAll('input').forEach(function (i) { on[i.name + ':' + i.value] = i.checked; });
    var shown = 0, all = 0;
    document.querySelectorAll('section[data-verdict]').forEach(function (e) {
      var keep = on['verdict:' + e.dataset.verdict] && on['level:' + e.dataset.level];
      e.hidden = !keep; all += 1; if (keep) shown += 1;
    });
    document.querySelectorAll('tr[data-verdict]').forEach(function (e) {
      e.hidden = !(on['verdict:' + e.dataset.verdict] && on['level:' + e.dataset.level]);
    });
    document.getElementById('shown').textContent = 'showing ' + shown + ' of ' + all;
  }
  form.addEventListener('change', apply);
  apply();
})();
</script>
"#;
