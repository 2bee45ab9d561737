//! The daily table (the reference's `strikes_by_location_and_day.csv` columns), the
//! comparison with the published series, and a chart of both.

use std::fmt;

use chrono::NaiveDate;

use crate::grid::{date_of, day_of, Day};
use crate::WarfireError;

/// One day of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyRow {
    pub date: NaiveDate,
    pub fires: u32,
    pub war_fires: u32,
    pub fires_held: u32,
    pub war_fires_held: u32,
    pub fires_russia: u32,
    pub war_fires_russia: u32,
}

impl DailyRow {
    fn empty(date: NaiveDate) -> Self {
        DailyRow {
            date,
            fires: 0,
            war_fires: 0,
            fires_held: 0,
            war_fires_held: 0,
            fires_russia: 0,
            war_fires_russia: 0,
        }
    }
}

/// The reference's column names, in its order.
pub const DAILY_COLUMNS: [&str; 7] = [
    "date",
    "fires_per_day",
    "war_fires_per_day",
    "fires_per_day_in_ukraine_held_area",
    "war_fires_per_day_in_ukraine_held_area",
    "fires_per_day_in_russia_held_area",
    "war_fires_per_day_in_russia_held_area",
];

/// Counts per day over `from..=to` (every day present, zeros included). Detection `i`
/// counts when `counted[i]` (a land cell), as a war fire when `war[i]`, on the
/// Russia-held side when `russia[i]`.
pub fn daily_table(
    day: &[Day],
    counted: &[bool],
    war: &[bool],
    russia: &[bool],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<DailyRow> {
    let (d0, d1) = (day_of(from), day_of(to));
    let mut rows: Vec<DailyRow> = (d0..=d1).map(|d| DailyRow::empty(date_of(d))).collect();
    for i in 0..day.len() {
        if !counted[i] || day[i] < d0 || day[i] > d1 {
            continue;
        }
        let r = &mut rows[(day[i] - d0) as usize];
        let w = war[i] as u32;
        r.fires += 1;
        r.war_fires += w;
        if russia[i] {
            r.fires_russia += 1;
            r.war_fires_russia += w;
        } else {
            r.fires_held += 1;
            r.war_fires_held += w;
        }
    }
    rows
}

/// The table as CSV, oldest day first, with [`DAILY_COLUMNS`].
pub fn daily_csv(rows: &[DailyRow]) -> String {
    let mut s = DAILY_COLUMNS.join(",");
    s.push('\n');
    for r in rows {
        s.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            r.date,
            r.fires,
            r.war_fires,
            r.fires_held,
            r.war_fires_held,
            r.fires_russia,
            r.war_fires_russia
        ));
    }
    s
}

/// Reads a daily table with at least [`DAILY_COLUMNS`] (in any order, extra columns
/// ignored: the reference's file also has cloud cover). Rows come back sorted by date.
pub fn read_daily_csv(name: &str, bytes: &[u8]) -> Result<Vec<DailyRow>, WarfireError> {
    let bad = |line: u64, field: &str, why: String| WarfireError::Input {
        file: name.into(),
        line,
        field: field.into(),
        why,
    };
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = r
        .headers()
        .map_err(|e| bad(1, "header", e.to_string()))?
        .clone();
    let mut idx = [0usize; 7];
    for (k, c) in DAILY_COLUMNS.iter().enumerate() {
        idx[k] = headers
            .iter()
            .position(|h| h == *c)
            .ok_or_else(|| bad(1, c, "missing column".into()))?;
    }
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| bad(line, "row", e.to_string()))?;
        let s = |k: usize| rec.get(idx[k]).unwrap_or("");
        let date = NaiveDate::parse_from_str(s(0), "%Y-%m-%d")
            .map_err(|_| bad(line, "date", format!("`{}` is not YYYY-MM-DD", s(0))))?;
        let mut n = [0u32; 6];
        for k in 1..7 {
            // The reference writes counts as integers; a float such as `12.0` is accepted.
            let v: f64 = s(k)
                .parse()
                .map_err(|_| bad(line, DAILY_COLUMNS[k], format!("`{}` is not a count", s(k))))?;
            if !(v >= 0.0 && v.fract() == 0.0 && v < u32::MAX as f64) {
                return Err(bad(
                    line,
                    DAILY_COLUMNS[k],
                    format!("`{}` is not a count", s(k)),
                ));
            }
            n[k - 1] = v as u32;
        }
        rows.push(DailyRow {
            date,
            fires: n[0],
            war_fires: n[1],
            fires_held: n[2],
            war_fires_held: n[3],
            fires_russia: n[4],
            war_fires_russia: n[5],
        });
    }
    rows.sort_by_key(|r| r.date);
    if let Some(w) = rows.windows(2).find(|w| w[0].date == w[1].date) {
        return Err(bad(0, "date", format!("{} appears twice", w[0].date)));
    }
    Ok(rows)
}

/// Pearson's correlation coefficient; `None` when either series is constant or shorter
/// than 2.
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    assert_eq!(a.len(), b.len(), "pearson: series of different lengths");
    let n = a.len() as f64;
    if a.len() < 2 {
        return None;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// Centred 7-day means; at the ends of the series the window is cut to the days there
/// are.
pub fn centred_mean_7(x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(3), (i + 4).min(x.len()));
            x[a..b].iter().sum::<f64>() / (b - a) as f64
        })
        .collect()
}

/// The two series over the same days, and what they say about each other.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days in the window found in both tables.
    pub days: usize,
    /// Pearson r of daily war-fire counts.
    pub r_daily: Option<f64>,
    /// Pearson r of centred 7-day means of war-fire counts.
    pub r_7day: Option<f64>,
    /// Pearson r of centred 7-day means of all-fire counts (how alike the inputs are).
    pub r_7day_all_fires: Option<f64>,
    pub war_ours: u64,
    pub war_reference: u64,
    pub fires_ours: u64,
    pub fires_reference: u64,
    /// Share of war fires on the Russia-held side.
    pub war_russia_share_ours: Option<f64>,
    pub war_russia_share_reference: Option<f64>,
    /// Share of all fires on the Russia-held side (the side split alone, without the
    /// war-fire rules).
    pub fires_russia_share_ours: Option<f64>,
    pub fires_russia_share_reference: Option<f64>,
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl Comparison {
    /// Our war-fire total over the reference's.
    pub fn war_ratio(&self) -> Option<f64> {
        ratio(self.war_ours, self.war_reference)
    }
    /// Our all-fire total over the reference's: how many more detections our input holds.
    pub fn fires_ratio(&self) -> Option<f64> {
        ratio(self.fires_ours, self.fires_reference)
    }
    /// The war-fire ratio once our total is scaled down by the all-fire ratio, i.e. the
    /// ratio of war-fire shares (war fires per detection, ours over the reference's).
    pub fn war_ratio_scaled(&self) -> Option<f64> {
        Some(self.war_ratio()? / self.fires_ratio()?)
    }
}

/// Compares our table with the reference's over `from..=to`, on the days both have.
pub fn compare(
    ours: &[DailyRow],
    reference: &[DailyRow],
    from: NaiveDate,
    to: NaiveDate,
) -> Comparison {
    let mut pairs: Vec<(DailyRow, DailyRow)> = Vec::new();
    for o in ours.iter().filter(|r| r.date >= from && r.date <= to) {
        if let Ok(k) = reference.binary_search_by_key(&o.date, |r| r.date) {
            pairs.push((*o, reference[k]));
        }
    }
    let col = |f: &dyn Fn(&DailyRow) -> u32, ours: bool| -> Vec<f64> {
        pairs
            .iter()
            .map(|(a, b)| f(if ours { a } else { b }) as f64)
            .collect()
    };
    let sum = |f: &dyn Fn(&DailyRow) -> u32, ours: bool| -> u64 {
        pairs
            .iter()
            .map(|(a, b)| f(if ours { a } else { b }) as u64)
            .sum()
    };
    let war = |r: &DailyRow| r.war_fires;
    let fires = |r: &DailyRow| r.fires;
    let share = |part: &dyn Fn(&DailyRow) -> u32, whole: &dyn Fn(&DailyRow) -> u32, ours: bool| {
        let w = sum(whole, ours);
        (w > 0).then(|| sum(part, ours) as f64 / w as f64)
    };
    Comparison {
        from,
        to,
        days: pairs.len(),
        r_daily: pearson(&col(&war, true), &col(&war, false)),
        r_7day: pearson(
            &centred_mean_7(&col(&war, true)),
            &centred_mean_7(&col(&war, false)),
        ),
        r_7day_all_fires: pearson(
            &centred_mean_7(&col(&fires, true)),
            &centred_mean_7(&col(&fires, false)),
        ),
        war_ours: sum(&war, true),
        war_reference: sum(&war, false),
        fires_ours: sum(&fires, true),
        fires_reference: sum(&fires, false),
        war_russia_share_ours: share(&|r| r.war_fires_russia, &war, true),
        war_russia_share_reference: share(&|r| r.war_fires_russia, &war, false),
        fires_russia_share_ours: share(&|r| r.fires_russia, &fires, true),
        fires_russia_share_reference: share(&|r| r.fires_russia, &fires, false),
    }
}

fn f3(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:.3}"))
}

fn pct(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{:.1} %", 100.0 * v))
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "window                      {} .. {} ({} days in both tables)",
            self.from, self.to, self.days
        )?;
        writeln!(f, "r, daily war fires          {}", f3(self.r_daily))?;
        writeln!(f, "r, 7-day mean war fires     {}", f3(self.r_7day))?;
        writeln!(
            f,
            "r, 7-day mean all fires     {}",
            f3(self.r_7day_all_fires)
        )?;
        writeln!(
            f,
            "war fires                   ours {} / reference {} = {}",
            self.war_ours,
            self.war_reference,
            f3(self.war_ratio())
        )?;
        writeln!(
            f,
            "all fires                   ours {} / reference {} = {}",
            self.fires_ours,
            self.fires_reference,
            f3(self.fires_ratio())
        )?;
        writeln!(f, "war fires, scaled           {} (war ratio / all-fire ratio: war fires per detection, ours over reference)", f3(self.war_ratio_scaled()))?;
        writeln!(
            f,
            "war share, Russia-held      ours {} / reference {}",
            pct(self.war_russia_share_ours),
            pct(self.war_russia_share_reference)
        )?;
        write!(
            f,
            "all-fire share, Russia-held ours {} / reference {}",
            pct(self.fires_russia_share_ours),
            pct(self.fires_russia_share_reference)
        )
    }
}

/// An SVG line chart of the centred 7-day means of war fires per day, ours and the
/// reference's, over `from..=to`; ours is also drawn divided by `scale` (the all-fire
/// ratio) when it is given. Hand-written SVG: no plotting dependency.
pub fn svg_chart(
    ours: &[DailyRow],
    reference: &[DailyRow],
    from: NaiveDate,
    to: NaiveDate,
    scale: Option<f64>,
    title: &str,
) -> String {
    let days: Vec<NaiveDate> = (day_of(from)..=day_of(to)).map(date_of).collect();
    let series = |rows: &[DailyRow]| -> Vec<f64> {
        let v: Vec<f64> = days
            .iter()
            .map(|d| {
                rows.binary_search_by_key(d, |r| r.date)
                    .map_or(0.0, |k| rows[k].war_fires as f64)
            })
            .collect();
        centred_mean_7(&v)
    };
    let mut ours_v = series(ours);
    ours_v.iter_mut().for_each(|x| *x = x.max(0.0));
    let ref_v = series(reference);
    let scaled: Option<Vec<f64>> = scale
        .filter(|s| *s > 0.0)
        .map(|s| ours_v.iter().map(|x| x / s).collect());
    let ymax = ours_v.iter().chain(&ref_v).fold(1.0f64, |m, x| m.max(*x));
    let step = nice_step(ymax / 5.0);
    let ymax = (ymax / step).ceil() * step;
    let (w, h, l, r, t, b) = (900.0, 420.0, 60.0, 20.0, 40.0, 50.0);
    let x = |i: usize| l + (w - l - r) * i as f64 / (days.len().max(2) - 1) as f64;
    let y = |v: f64| t + (h - t - b) * (1.0 - v / ymax);
    let path = |v: &[f64]| -> String {
        v.iter()
            .enumerate()
            .map(|(i, &val)| {
                format!(
                    "{}{:.1},{:.1}",
                    if i == 0 { "M" } else { "L" },
                    x(i),
                    y(val)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{l}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
        xml_escape(title)
    );
    let mut v = 0.0;
    while v <= ymax + 1e-9 {
        s += &format!(
            "<line x1=\"{l}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            w - r,
            y(v),
            y(v),
            l - 6.0,
            y(v) + 4.0,
            v
        );
        v += step;
    }
    for (i, d) in days.iter().enumerate() {
        if d.format("%d").to_string() == "01" {
            s += &format!(
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{2:.1}\" stroke=\"#eee\"/><text x=\"{0:.1}\" y=\"{3:.1}\" text-anchor=\"middle\">{4}</text>\n",
                x(i),
                t,
                h - b,
                h - b + 16.0,
                d.format("%b %y")
            );
        }
    }
    s += &format!(
        "<path d=\"{}\" fill=\"none\" stroke=\"#e3120b\" stroke-width=\"2\"/>\n",
        path(&ref_v)
    );
    s += &format!(
        "<path d=\"{}\" fill=\"none\" stroke=\"#1f5f8b\" stroke-width=\"2\"/>\n",
        path(&ours_v)
    );
    let mut legend = vec![
        ("#e3120b", "The Economist (published table)".to_string(), ""),
        ("#1f5f8b", "truce".to_string(), ""),
    ];
    if let Some(sc) = &scaled {
        s += &format!("<path d=\"{}\" fill=\"none\" stroke=\"#1f5f8b\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>\n", path(sc));
        legend.push((
            "#1f5f8b",
            format!("truce / {:.2} (all-fire ratio)", scale.unwrap_or(1.0)),
            "5,3",
        ));
    }
    for (k, (colour, label, dash)) in legend.iter().enumerate() {
        let ly = t + 14.0 + 18.0 * k as f64;
        s += &format!(
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            w - r - 260.0,
            w - r - 230.0,
            w - r - 224.0,
            ly + 4.0,
            xml_escape(label)
        );
    }
    s += &format!(
        "<text x=\"{l}\" y=\"{:.1}\" fill=\"#555\">War-related fires per day, centred 7-day mean, {} to {}</text>\n</svg>\n",
        h - 8.0,
        from,
        to
    );
    s
}

fn nice_step(raw: f64) -> f64 {
    let p = 10f64.powf(raw.max(1e-9).log10().floor());
    let m = raw / p;
    p * if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
