//! The Markdown edition.

use crate::doc::{blocks, Block, Figure, Options};
use crate::model::DailyReport;

/// The report as Markdown (CommonMark with GitHub tables). The map and the chart are
/// images `map.svg` and `warfires.svg`, to be written beside the file ([`crate::map_svg`],
/// [`crate::warfire_svg`]). Text from the data cannot inject HTML or break a table:
/// `<`, `>` and `&` are written as entities and `|` is escaped.
pub fn to_markdown(report: &DailyReport) -> String {
    let mut s = String::new();
    for b in blocks(report, &Options { incidents_max: None, limit_name: "" }) {
        match b {
            Block::Title(t) => s += &format!("# {}\n\n", inline(&t)),
            Block::Meta(lines) => {
                for (k, v) in lines {
                    s += &format!("**{}:** {}  \n", inline(&k), inline(&v));
                }
                s.truncate(s.len() - 3);
                s += "\n\n";
            }
            Block::H2(t) => s += &format!("## {}\n\n", inline(&t)),
            Block::H3(t) => s += &format!("### {}\n\n", inline(&t)),
            Block::Para(t) => s += &format!("{}\n\n", inline(&t)),
            Block::Alert(t) => s += &format!("> **{}**\n\n", inline(&t)),
            Block::Bullets(items) => {
                for i in items {
                    s += &format!("- {}\n", inline(&i));
                }
                s += "\n";
            }
            Block::Table(t) => {
                let row = |cells: &[String]| format!("| {} |\n", cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | "));
                s += &row(&t.head);
                s += &format!(
                    "|{}|\n",
                    t.right.iter().map(|r| if *r { "---:" } else { "---" }).collect::<Vec<_>>().join("|")
                );
                let n = t.rows.len();
                for (i, r) in t.rows.iter().enumerate() {
                    if i >= n - t.total_rows.min(n) {
                        let bold: Vec<String> = r.iter().map(|c| format!("**{c}**")).collect();
                        s += &row(&bold);
                    } else {
                        s += &row(r);
                    }
                }
                s += "\n";
            }
            Block::Figure(f, caption) => {
                let file = match f {
                    Figure::Map => "map.svg",
                    Figure::Warfires => "warfires.svg",
                };
                s += &format!("![{}]({file})\n\n*{}*\n\n", inline(&caption).replace(['[', ']'], ""), inline(&caption));
            }
            Block::Code(t) => {
                let fence = "`".repeat(longest_backtick_run(&t).max(2) + 1);
                s += &format!("{fence}text\n{t}\n{fence}\n\n");
            }
        }
    }
    while s.ends_with("\n\n") {
        s.pop();
    }
    s
}

/// Text for Markdown prose: HTML-significant characters as entities, newlines as
/// spaces. Backtick spans the report writes itself are kept.
fn inline(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace(['\n', '\r'], " ")
}

fn cell(t: &str) -> String {
    inline(t).replace('|', "\\|")
}

fn longest_backtick_run(t: &str) -> usize {
    t.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}
