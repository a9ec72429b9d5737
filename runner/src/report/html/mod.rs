//! The self-contained HTML report (no network resources), charts as inline SVG.
