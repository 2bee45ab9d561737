//! Writes every edition of a report JSON file into a directory, to look at them:
//! `cargo run -p truce-daily --example editions -- crates/daily/tests/fixtures/report.json /tmp/out`
//! (report.{json,md,html,pdf}, map.svg, warfires.svg, and the same as public.*).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (input, out) = match args.as_slice() {
        [_, i, o] => (i, std::path::PathBuf::from(o)),
        _ => {
            eprintln!("usage: editions REPORT.json OUT_DIR");
            std::process::exit(2);
        }
    };
    let report = truce_daily::from_json(&std::fs::read_to_string(input).expect("read the report"))
        .unwrap_or_else(|e| {
            eprintln!("{input}: {e}");
            std::process::exit(2)
        });
    std::fs::create_dir_all(&out).expect("create the output directory");
    let public = truce_daily::public_edition(&report);
    for (stem, r) in [("report", &report), ("public", &public)] {
        let write = |name: String, bytes: &[u8]| std::fs::write(out.join(name), bytes).expect("write");
        write(format!("{stem}.json"), truce_daily::to_json(r).as_bytes());
        write(format!("{stem}.md"), truce_daily::to_markdown(r).as_bytes());
        write(format!("{stem}.html"), truce_daily::to_html(r).as_bytes());
        write(format!("{stem}.pdf"), &truce_daily::to_pdf(r));
    }
    std::fs::write(out.join("map.svg"), truce_daily::map_svg(&report)).expect("write");
    if let Some(svg) = report.warfires.as_ref().and_then(truce_daily::warfire_svg) {
        std::fs::write(out.join("warfires.svg"), svg).expect("write");
    }
}
