//! The HTML report rendered by a real browser (headless Chromium, when installed): every chart is laid
//! out with a non-zero size and shapes, and the page logs nothing to the console.
//! Skipped (with a message) when no `chromium` is on PATH.

use super::fixture;
use crate::report::render_html;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs `chromium --headless --dump-dom file` in its own process group, with a private profile and
/// home under `work`; returns (stdout, stderr). The whole group is killed by pgid afterwards.
fn dump_dom(bin: &Path, work: &Path, file: &Path) -> (String, String) {
    run_chromium(bin, work, &["--dump-dom".to_string()], file)
}

/// `chromium --headless --screenshot` of `file` at `width` × `height` CSS px into `png`.
fn screenshot(bin: &Path, work: &Path, file: &Path, png: &Path, width: u32, height: u32) {
    let (_, stderr) = run_chromium(
        bin,
        work,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={width},{height}"),
            "--hide-scrollbars".to_string(),
        ],
        file,
    );
    assert!(png.is_file(), "no screenshot written: {stderr}");
}

/// Runs headless Chromium with `args` on `file` (see [`dump_dom`]).
fn run_chromium(bin: &Path, work: &Path, args: &[String], file: &Path) -> (String, String) {
    let out = work.join("out.html");
    let err = work.join("err.txt");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-crash-reporter",
            "--disable-breakpad",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ))
        .args(args)
        .arg(format!("file://{}", file.display()))
        .env("HOME", work)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    let deadline = Instant::now() + Duration::from_secs(90);
    let finished = loop {
        if child.try_wait().unwrap().is_some() {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
    kill_strays(work);
    assert!(finished, "chromium did not finish within 90 s");
    (
        std::fs::read_to_string(out).unwrap_or_default(),
        std::fs::read_to_string(err).unwrap_or_default(),
    )
}

/// Kills, by pid, any process still naming our private profile directory (a helper that left the group).
fn kill_strays(work: &Path) {
    let needle = work.display().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in dir.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&needle) && pid != std::process::id() as i32 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Console lines Chromium logs for the page (`CONSOLE` / `Uncaught`), ignoring its own noise.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn chromium_draws_every_chart_without_console_messages() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not on PATH but CI is set: .ci/run must install it"
        );
        eprintln!("skipped: chromium not on PATH");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let html = render_html(&fixture::report("refpm"));

    // the page as written: nothing on the console
    let plain = work.path().join("index.html");
    std::fs::write(&plain, &html).unwrap();
    let (dom, stderr) = dump_dom(&bin, work.path(), &plain);
    assert!(
        dom.contains("chart-reload"),
        "no DOM dumped; stderr: {stderr}"
    );
    assert!(
        console_lines(&stderr).is_empty(),
        "{:?}",
        console_lines(&stderr)
    );

    // a copy with a probe that measures each chart once laid out
    let probe = r#"<pre id="probe"></pre><script>
const out = [];
for (const svg of document.querySelectorAll('svg.chart')) {
  const b = svg.getBoundingClientRect();
  const shapes = svg.querySelectorAll('rect,path,line').length;
  out.push(svg.classList[1] + ':' + Math.round(b.width) + ':' + Math.round(b.height) + ':' + shapes);
}
document.getElementById('probe').textContent = out.join(' ');
</script>"#;
    let probed = work.path().join("probed.html");
    std::fs::write(&probed, html.replace("</body>", &format!("{probe}</body>"))).unwrap();
    let (dom, stderr) = dump_dom(&bin, work.path(), &probed);
    assert!(
        console_lines(&stderr).is_empty(),
        "{:?}",
        console_lines(&stderr)
    );
    let start = dom.find("<pre id=\"probe\">").expect("probe element") + "<pre id=\"probe\">".len();
    let text = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    let charts: Vec<Vec<&str>> = text.split(' ').map(|c| c.split(':').collect()).collect();
    let kinds: Vec<&str> = charts.iter().map(|c| c[0]).collect();
    for kind in ["chart-workers", "chart-reload", "chart-shutdown"] {
        assert!(kinds.contains(&kind), "{kind} not drawn: {text}");
    }
    for c in &charts {
        let (w, h, shapes): (u32, u32, u32) = (
            c[1].parse().unwrap(),
            c[2].parse().unwrap(),
            c[3].parse().unwrap(),
        );
        assert!(w > 100 && h > 50 && shapes > 3, "chart not drawn: {c:?}");
    }
}

/// Where the screenshots go: `$CONFORM_SCREENSHOTS` or `target/report-screenshots/`.
fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("CONFORM_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/report-screenshots")
        });
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A probe run in the page once laid out: label overlaps in every chart, the failures box's links,
/// and the filter (un-ticking `pass`, then `MUST`) — as JSON in `<pre id="probe">`.
const PROBE: &str = r#"<pre id="probe"></pre><script>
const res = { overlaps: [], labels: {}, links: [], broken: [], filter: {} };
for (const svg of document.querySelectorAll('svg.chart')) {
  const kind = svg.classList[1];
  const ts = [...svg.querySelectorAll('text.label')].map(t => ({ t, r: t.getBoundingClientRect(), rot: t.hasAttribute('transform') }));
  res.labels[kind] = (res.labels[kind] || 0) + ts.length;
  if (kind === 'chart-workers') {
    ts.sort((a, b) => a.r.left - b.r.left);
    for (let i = 1; i < ts.length; i++) {
      const [a, b] = [ts[i - 1], ts[i]];
      // rotated labels are parallel lines: their anchors need a line height between them
      const clash = b.rot ? (b.r.right - a.r.right) < 11 : b.r.left < a.r.right - 0.5;
      if (clash) res.overlaps.push(kind + ': ' + a.t.textContent + ' / ' + b.t.textContent);
    }
  } else {
    ts.sort((a, b) => a.r.top - b.r.top);
    for (let i = 1; i < ts.length; i++) {
      if (ts[i].r.top < ts[i - 1].r.bottom - 0.5) res.overlaps.push(kind + ': ' + ts[i - 1].t.textContent + ' / ' + ts[i].t.textContent);
    }
  }
}
for (const a of document.querySelectorAll('#failures a')) {
  const id = a.getAttribute('href').slice(1);
  res.links.push(id);
  if (!document.getElementById(id)) res.broken.push(id);
}
const visible = () => [...document.querySelectorAll('section.scenario')].filter(s => s.offsetParent !== null);
const tick = (name, value, on) => {
  const i = document.querySelector('#filter input[name="' + name + '"][value="' + value + '"]');
  i.checked = on; i.dispatchEvent(new Event('change', { bubbles: true }));
};
res.filter.all = visible().length;
tick('verdict', 'pass', false);
res.filter.without_pass = visible().length;
res.filter.pass_shown = visible().filter(s => s.dataset.verdict === 'pass').length;
res.filter.rows_shown = [...document.querySelectorAll('tr[data-verdict]')].filter(r => r.offsetParent !== null).length;
tick('level', 'MUST', false);
res.filter.without_must = visible().filter(s => s.dataset.level === 'MUST').length;
tick('verdict', 'pass', true); tick('level', 'MUST', true);
res.filter.restored = visible().length;
res.filter.shown_text = document.getElementById('shown').textContent;
document.getElementById('probe').textContent = JSON.stringify(res);
</script>"#;

#[test]
fn chromium_shows_failures_filter_and_legible_charts_from_2_to_64_workers() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not on PATH but CI is set: .ci/run must install it"
        );
        eprintln!("skipped: chromium not on PATH");
        return;
    };
    let shots = screenshot_dir();
    for n in [2u32, 4, 16, 64] {
        let work = tempfile::tempdir().unwrap();
        let report = fixture::report_with_workers(n);
        let html = render_html(&report);
        super::html::assert_no_debug_text(&html);
        let page = work.path().join("index.html");
        std::fs::write(&page, &html).unwrap();
        if n != 64 {
            let png = shots.join(format!("report-{n}-workers.png"));
            screenshot(&bin, work.path(), &page, &png, 1000, 2600);
            eprintln!("screenshot: {}", png.display());
        }
        let probed = work.path().join("probed.html");
        std::fs::write(&probed, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
        let (dom, stderr) = dump_dom(&bin, work.path(), &probed);
        assert!(
            console_lines(&stderr).is_empty(),
            "{:?}",
            console_lines(&stderr)
        );
        let start =
            dom.find("<pre id=\"probe\">").expect("probe element") + "<pre id=\"probe\">".len();
        let text = &dom[start..start + dom[start..].find("</pre>").unwrap()];
        let v: serde_json::Value = serde_json::from_str(&text.replace("&amp;", "&"))
            .unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(v["overlaps"], serde_json::json!([]), "{n} workers: {text}");
        assert!(v["labels"]["chart-workers"].as_u64().unwrap() >= u64::from(n.min(32)));
        assert_eq!(v["broken"], serde_json::json!([]), "{text}");
        let failing = report
            .results
            .iter()
            .filter(|r| !matches!(r.verdict.as_str(), "pass" | "informational" | "unsupported"))
            .count();
        assert_eq!(v["links"].as_array().unwrap().len(), failing, "{text}");
        let all = report.results.len() as u64;
        let pass = report
            .results
            .iter()
            .filter(|r| r.verdict.as_str() == "pass")
            .count() as u64;
        let f = &v["filter"];
        assert_eq!(f["all"], all, "{text}");
        assert_eq!(f["without_pass"], all - pass, "{text}");
        assert_eq!(f["pass_shown"], 0, "{text}");
        assert_eq!(f["rows_shown"], all - pass, "{text}");
        assert_eq!(f["without_must"], 0, "{text}");
        assert_eq!(f["restored"], all, "{text}");
        assert_eq!(f["shown_text"], format!("showing {all} of {all}"), "{text}");
    }
}
