//! The HTML edition: one self-contained file.

use crate::chart::warfire_svg;
use crate::doc::{blocks, Block, Figure, Options};
use crate::map::map_svg;
use crate::model::DailyReport;
use crate::scene::xml_escape;

const CSS: &str = "
:root{color-scheme:light}
body{font-family:Helvetica,Arial,sans-serif;line-height:1.45;color:#222;max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.2rem 0 .8rem}
h2{font-size:1.25rem;border-bottom:2px solid #1f5f8b;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.05rem;margin-top:1.2rem}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0 0 1rem}
dl.meta dt{font-weight:bold}dl.meta dd{margin:0;overflow-wrap:anywhere}
.alert{border-left:4px solid #c0392b;background:#fdf1ef;padding:.5rem .8rem;font-weight:bold}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.4rem 0 1rem}
th,td{border:1px solid #ccc;padding:.25rem .45rem;vertical-align:top;text-align:left}
th{background:#eef3f7}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:bold;background:#f6f6f6}
figure{margin:1rem 0}figure svg{width:100%;height:auto;display:block;border:1px solid #ddd}
figcaption{font-size:.85rem;color:#555;margin-top:.3rem}
pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;font-size:.8rem;white-space:pre-wrap;overflow-wrap:anywhere}
code{font-size:.9em}
footer{margin-top:2rem;font-size:.8rem;color:#666}
@media (max-width:40rem){body{padding:.5rem}table{font-size:.8rem}dl.meta{grid-template-columns:1fr}}
@media print{body{max-width:none;padding:0;font-size:10pt}h2{break-after:avoid}
 table,figure,pre{break-inside:auto}tr,figure svg{break-inside:avoid}thead{display:table-header-group}
 .scroll{overflow:visible}a{color:inherit;text-decoration:none}}
@page{size:A4;margin:15mm}
";

/// The report as one self-contained HTML file: inline CSS, the map and the chart as
/// inline SVG, no script, no external resource of any kind; every text from the data is
/// escaped. Readable on a phone (tables scroll sideways) and printable (A4).
pub fn to_html(report: &DailyReport) -> String {
    let mut s = String::new();
    s += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    s += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    // No network: the policy forbids every fetch, so a stray URL in the data cannot load.
    s += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n";
    s += &format!("<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n", xml_escape(&report.title));
    for b in blocks(report, &Options { incidents_max: None, limit_name: "" }) {
        match b {
            Block::Title(t) => s += &format!("<h1>{}</h1>\n", code_spans(&t)),
            Block::Meta(lines) => {
                s += "<dl class=\"meta\">\n";
                for (k, v) in lines {
                    s += &format!("<dt>{}</dt><dd>{}</dd>\n", xml_escape(&k), code_spans(&v));
                }
                s += "</dl>\n";
            }
            Block::H2(t) => s += &format!("<h2 id=\"{}\">{}</h2>\n", slug(&t), code_spans(&t)),
            Block::H3(t) => s += &format!("<h3>{}</h3>\n", code_spans(&t)),
            Block::Para(t) => s += &format!("<p>{}</p>\n", code_spans(&t)),
            Block::Alert(t) => s += &format!("<p class=\"alert\">{}</p>\n", code_spans(&t)),
            Block::Bullets(items) => {
                s += "<ul>\n";
                for i in items {
                    s += &format!("<li>{}</li>\n", code_spans(&i));
                }
                s += "</ul>\n";
            }
            Block::Table(t) => {
                let class = |j: usize| if t.right.get(j).copied().unwrap_or(false) { " class=\"n\"" } else { "" };
                s += "<div class=\"scroll\"><table>\n<thead><tr>";
                for (j, h) in t.head.iter().enumerate() {
                    s += &format!("<th{}>{}</th>", class(j), xml_escape(h));
                }
                s += "</tr></thead>\n<tbody>\n";
                let n = t.rows.len();
                for (i, r) in t.rows.iter().enumerate() {
                    let total = i >= n - t.total_rows.min(n);
                    s += if total { "<tr class=\"total\">" } else { "<tr>" };
                    for (j, c) in r.iter().enumerate() {
                        s += &format!("<td{}>{}</td>", class(j), xml_escape(c));
                    }
                    s += "</tr>\n";
                }
                s += "</tbody></table></div>\n";
            }
            Block::Figure(f, caption) => {
                let svg = match f {
                    Figure::Map => Some(map_svg(report)),
                    Figure::Warfires => report.warfires.as_ref().and_then(warfire_svg),
                };
                if let Some(svg) = svg {
                    s += &format!("<figure>\n{svg}<figcaption>{}</figcaption>\n</figure>\n", xml_escape(&caption));
                }
            }
            Block::Code(t) => s += &format!("<pre><code>{}</code></pre>\n", xml_escape(&t)),
        }
    }
    s += &format!("<footer>{} &middot; {}</footer>\n</body>\n</html>\n", xml_escape(&report.generated_by), xml_escape(&report.agreement.id));
    s
}

/// Escapes text and turns `` `code` `` spans (which the report's own sentences use for
/// commands) into `<code>`.
fn code_spans(t: &str) -> String {
    let parts: Vec<&str> = t.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return xml_escape(t); // unbalanced: leave the backticks as they are
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| if i % 2 == 1 { format!("<code>{}</code>", xml_escape(p)) } else { xml_escape(p) })
        .collect()
}

fn slug(t: &str) -> String {
    t.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}
