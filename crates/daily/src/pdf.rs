//! The PDF edition: A4 pages, the standard-14 Helvetica (nothing embedded, text
//! selectable), tables that continue across pages with their header repeated, and the
//! map and chart as vector graphics. Content streams are left uncompressed: the file
//! stays small (no raster) and its text can be checked with any byte search.

use std::collections::BTreeSet;

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::chart::warfire_scene;
use crate::doc::{blocks, Block, Figure, Options, Table};
use crate::map::map_scene;
use crate::model::DailyReport;
use crate::scene::{Anchor, Scene, Shape, Style};
use crate::text::{width_bytes, winansi};

/// The most incidents the PDF lists; past it the table ends with "... and N more",
/// and the other editions list all.
pub const PDF_INCIDENTS_MAX: usize = 200;

const PAGE_W: f64 = 595.0;
const PAGE_H: f64 = 842.0;
const MARGIN: f64 = 42.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 50.0;
const TEXT_W: f64 = PAGE_W - 2.0 * MARGIN;

const BODY: f64 = 9.5;
const CELL: f64 = 7.5;
const CODE: f64 = 7.0;

/// The report as a PDF document (see the module docs).
pub fn to_pdf(report: &DailyReport) -> Vec<u8> {
    let mut w = Writer { pages: Vec::new(), y: 0.0, alphas: BTreeSet::new() };
    w.new_page();
    let opt = Options { incidents_max: Some(PDF_INCIDENTS_MAX), limit_name: "PDF_INCIDENTS_MAX" };
    for b in blocks(report, &opt) {
        match b {
            Block::Title(t) => {
                let lines = wrap(&t, 16.0, true, TEXT_W);
                for l in lines {
                    w.text_line(&l, 16.0, true, 20.0);
                }
                w.y += 6.0;
            }
            Block::Meta(lines) => {
                for (k, v) in lines {
                    let label = format!("{k}: ");
                    let lw = width_bytes(&winansi(&label), BODY, true);
                    let wrapped = wrap(&v, BODY, false, TEXT_W - lw);
                    for (i, l) in wrapped.iter().enumerate() {
                        w.ensure(13.0);
                        w.y += 12.5;
                        if i == 0 {
                            w.text_at(MARGIN, w.y, &label, BODY, true);
                        }
                        w.text_at(MARGIN + lw, w.y, l, BODY, false);
                    }
                }
                w.y += 6.0;
            }
            Block::H2(t) => {
                w.ensure(80.0);
                w.y += 14.0;
                w.text_line(&t, 13.0, true, 16.0);
                let y = w.y + 4.0;
                let c = w.page();
                c.set_stroke_rgb(0.12, 0.37, 0.55).set_line_width(1.2);
                c.move_to(MARGIN as f32, fy(y)).line_to((PAGE_W - MARGIN) as f32, fy(y)).stroke();
                w.y += 8.0;
            }
            Block::H3(t) => {
                w.ensure(60.0);
                w.y += 6.0;
                w.text_line(&t, 10.5, true, 14.0);
                w.y += 3.0;
            }
            Block::Para(t) => w.para(&t, false),
            Block::Alert(t) => w.para(&t, true),
            Block::Bullets(items) => {
                for i in items {
                    let lines = wrap(&i, BODY, false, TEXT_W - 12.0);
                    for (k, l) in lines.iter().enumerate() {
                        w.ensure(13.0);
                        w.y += 12.5;
                        if k == 0 {
                            w.text_at(MARGIN + 2.0, w.y, "-", BODY, false);
                        }
                        w.text_at(MARGIN + 12.0, w.y, l, BODY, false);
                    }
                }
                w.y += 5.0;
            }
            Block::Table(t) => w.table(&t),
            Block::Figure(f, caption) => {
                let scene = match f {
                    Figure::Map => Some(map_scene(report)),
                    Figure::Warfires => report.warfires.as_ref().and_then(warfire_scene),
                };
                if let Some(scene) = scene {
                    w.figure(&scene);
                    w.para(&caption, false);
                }
            }
            Block::Code(t) => {
                let per_line = (TEXT_W / (0.6 * CODE)).floor() as usize;
                for line in t.lines() {
                    let chars: Vec<char> = line.chars().collect();
                    for chunk in chars.chunks(per_line.max(1)).map(|c| c.iter().collect::<String>()).chain(
                        chars.is_empty().then(String::new),
                    ) {
                        w.ensure(10.0);
                        w.y += 9.0;
                        let y = w.y;
                        let c = w.page();
                        c.begin_text().set_font(Name(b"F3"), CODE as f32).next_line(MARGIN as f32, fy(y));
                        c.show(Str(&winansi(&chunk))).end_text();
                    }
                }
                w.y += 6.0;
            }
        }
    }
    w.finish(report)
}

/// PDF y (up from the bottom) of a distance from the top.
fn fy(y: f64) -> f32 {
    (PAGE_H - y) as f32
}

struct Writer {
    pages: Vec<Content>,
    /// Distance from the top of the page to the last baseline written.
    y: f64,
    /// Fill opacities used, in per cent (one ExtGState each).
    alphas: BTreeSet<u8>,
}

impl Writer {
    fn page(&mut self) -> &mut Content {
        self.pages.last_mut().expect("a page is started first")
    }
    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = TOP;
    }
    /// Starts a new page unless `h` more points fit on this one.
    fn ensure(&mut self, h: f64) {
        if self.y + h > PAGE_H - BOTTOM {
            self.new_page();
        }
    }
    fn text_at(&mut self, x: f64, y: f64, text: &str, size: f64, bold: bool) {
        let bytes = winansi(text);
        let c = self.page();
        c.begin_text().set_font(Name(if bold { b"F2" } else { b"F1" }), size as f32).next_line(x as f32, fy(y));
        c.show(Str(&bytes)).end_text();
    }
    fn text_line(&mut self, text: &str, size: f64, bold: bool, leading: f64) {
        self.ensure(leading);
        self.y += leading;
        let y = self.y;
        self.text_at(MARGIN, y, text, size, bold);
    }
    fn para(&mut self, text: &str, alert: bool) {
        let indent = if alert { 8.0 } else { 0.0 };
        let lines = wrap(text, BODY, alert, TEXT_W - indent);
        let top = self.y;
        let start_page = self.pages.len();
        for l in &lines {
            self.ensure(13.0);
            self.y += 12.5;
            let y = self.y;
            self.text_at(MARGIN + indent, y, l, BODY, alert);
        }
        if alert && self.pages.len() == start_page {
            let y0 = top + 3.0;
            let y1 = self.y + 4.0;
            let c = self.page();
            c.set_fill_rgb(0.75, 0.22, 0.17);
            c.rect(MARGIN as f32, fy(y1), 3.0, (y1 - y0) as f32).fill_nonzero();
            c.set_fill_gray(0.0);
        }
        self.y += 6.0;
    }

    fn table(&mut self, t: &Table) {
        let sum: f64 = t.widths.iter().sum::<f64>().max(1e-9);
        let widths: Vec<f64> = t.widths.iter().map(|w| w / sum * TEXT_W).collect();
        let pad = 2.5;
        let line_h = CELL + 2.0;
        let layout = |cells: &[String], bold: bool| -> Vec<Vec<String>> {
            cells.iter().zip(&widths).map(|(c, w)| wrap(c, CELL, bold, w - 2.0 * pad)).collect()
        };
        let head = layout(&t.head, true);
        let head_h = head.iter().map(Vec::len).max().unwrap_or(1) as f64 * line_h + 2.0 * pad;
        let n = t.rows.len();
        let mut header_drawn_on = usize::MAX;
        for (i, row) in t.rows.iter().enumerate() {
            let total = i >= n - t.total_rows.min(n);
            let cells = layout(row, total);
            let h = cells.iter().map(Vec::len).max().unwrap_or(1) as f64 * line_h + 2.0 * pad;
            if self.y + h + if header_drawn_on != self.pages.len() { head_h } else { 0.0 } > PAGE_H - BOTTOM {
                self.new_page();
            }
            if header_drawn_on != self.pages.len() {
                self.row(&head, &widths, head_h, true, t, true);
                header_drawn_on = self.pages.len();
            }
            self.row(&cells, &widths, h, total, t, false);
        }
        self.y += 8.0;
    }

    fn row(&mut self, cells: &[Vec<String>], widths: &[f64], h: f64, bold: bool, t: &Table, head: bool) {
        let (pad, line_h) = (2.5, CELL + 2.0);
        let y0 = self.y + 2.0;
        {
            let c = self.page();
            if head {
                c.set_fill_rgb(0.93, 0.95, 0.97);
                c.rect(MARGIN as f32, fy(y0 + h), TEXT_W as f32, h as f32).fill_nonzero();
                c.set_fill_gray(0.0);
            }
            c.set_stroke_gray(0.75).set_line_width(0.5);
            c.rect(MARGIN as f32, fy(y0 + h), TEXT_W as f32, h as f32).stroke();
            let mut x = MARGIN;
            for w in &widths[..widths.len().saturating_sub(1)] {
                x += w;
                c.move_to(x as f32, fy(y0)).line_to(x as f32, fy(y0 + h)).stroke();
            }
        }
        let mut x = MARGIN;
        for (j, (lines, w)) in cells.iter().zip(widths).enumerate() {
            for (k, l) in lines.iter().enumerate() {
                let by = y0 + pad + CELL + k as f64 * line_h;
                let lx = if t.right.get(j).copied().unwrap_or(false) {
                    x + w - pad - width_bytes(&winansi(l), CELL, bold)
                } else {
                    x + pad
                };
                self.text_at(lx, by, l, CELL, bold);
            }
            x += w;
        }
        self.y = y0 + h;
    }

    /// Draws a scene across the text width (smaller if the page cannot hold it).
    fn figure(&mut self, s: &Scene) {
        let max_h = PAGE_H - TOP - BOTTOM - 40.0;
        let mut scale = TEXT_W / s.width;
        if s.height * scale > max_h {
            scale = max_h / s.height;
        }
        let h = s.height * scale;
        self.ensure(h + 8.0);
        let (ox, oy) = (MARGIN, self.y + 6.0);
        let p = |x: f64, y: f64| ((ox + x * scale) as f32, fy(oy + y * scale));
        let mut alphas = Vec::new();
        let c = self.pages.last_mut().expect("a page");
        c.save_state();
        for shape in &s.shapes {
            match shape {
                Shape::Path { rings, closed, style } => {
                    if rings.iter().all(|r| r.is_empty()) {
                        continue;
                    }
                    let closed = *closed;
                    let emit = |c: &mut Content| {
                        for ring in rings.iter().filter(|r| !r.is_empty()) {
                            for (i, &(x, y)) in ring.iter().enumerate() {
                                let (px, py) = p(x, y);
                                if i == 0 {
                                    c.move_to(px, py);
                                } else {
                                    c.line_to(px, py);
                                }
                            }
                            if closed {
                                c.close_path();
                            }
                        }
                    };
                    paint(c, style, closed, scale, &mut alphas, &emit);
                }
                Shape::Circle { x, y, r, style } => {
                    let (cx, cy) = p(*x, *y);
                    let r = (r * scale) as f32;
                    paint(c, style, true, scale, &mut alphas, &|c: &mut Content| circle(c, cx, cy, r));
                }
                Shape::Text { x, y, text, size, anchor, bold, colour } => {
                    let bytes = winansi(text);
                    let size = size * scale;
                    let w = width_bytes(&bytes, size, *bold);
                    let dx = match anchor {
                        Anchor::Start => 0.0,
                        Anchor::Middle => -w / 2.0,
                        Anchor::End => -w,
                    };
                    let (px, py) = p(*x, *y);
                    let (r, g, b) = colour.unit();
                    c.set_fill_rgb(r, g, b);
                    c.begin_text().set_font(Name(if *bold { b"F2" } else { b"F1" }), size as f32);
                    c.next_line(px + dx as f32, py).show(Str(&bytes)).end_text();
                }
                Shape::ClipBegin { x, y, w, h } => {
                    c.save_state();
                    let (px, py) = p(*x, *y + *h);
                    c.rect(px, py, (w * scale) as f32, (h * scale) as f32).clip_nonzero().end_path();
                }
                Shape::ClipEnd => {
                    c.restore_state();
                }
            }
        }
        c.restore_state();
        c.set_fill_gray(0.0);
        self.alphas.extend(alphas);
        self.y = oy + h;
    }

    fn finish(mut self, report: &DailyReport) -> Vec<u8> {
        let n = self.pages.len();
        let footer = winansi(&format!("{}  ({})", report.title, match report.edition {
            crate::model::Edition::Internal => "internal edition",
            crate::model::Edition::Public => "public edition",
        }));
        for (i, c) in self.pages.iter_mut().enumerate() {
            c.set_fill_gray(0.4);
            c.begin_text().set_font(Name(b"F1"), 7.0).next_line(MARGIN as f32, 26.0).show(Str(&footer)).end_text();
            let pn = format!("Page {} of {n}", i + 1);
            let pw = width_bytes(pn.as_bytes(), 7.0, false);
            c.begin_text().set_font(Name(b"F1"), 7.0).next_line((PAGE_W - MARGIN - pw) as f32, 26.0).show(Str(pn.as_bytes())).end_text();
        }
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let info = Ref::new(3);
        let fonts = [(Ref::new(4), "Helvetica"), (Ref::new(5), "Helvetica-Bold"), (Ref::new(6), "Courier")];
        let first_gs = 7;
        let alphas: Vec<u8> = self.alphas.iter().copied().collect();
        let first_page = first_gs + alphas.len() as i32;
        let page_ids: Vec<Ref> = (0..n).map(|i| Ref::new(first_page + 2 * i as i32)).collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree).kids(page_ids.iter().copied()).count(n as i32);
        {
            let mut d = pdf.document_info(info);
            d.title(TextStr(&report.title));
            d.creator(TextStr(&report.generated_by));
            d.producer(TextStr("truce-daily (pdf-writer)"));
            d.finish();
        }
        for (id, name) in fonts {
            pdf.type1_font(id).base_font(Name(name.as_bytes())).encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        for (k, a) in alphas.iter().enumerate() {
            pdf.ext_graphics(Ref::new(first_gs + k as i32)).non_stroking_alpha(*a as f32 / 100.0);
        }
        for (i, c) in self.pages.into_iter().enumerate() {
            let content_id = Ref::new(page_ids[i].get() + 1);
            {
                let mut page = pdf.page(page_ids[i]);
                page.parent(tree).media_box(Rect::new(0.0, 0.0, PAGE_W as f32, PAGE_H as f32)).contents(content_id);
                let mut res = page.resources();
                {
                    let mut f = res.fonts();
                    f.pair(Name(b"F1"), fonts[0].0);
                    f.pair(Name(b"F2"), fonts[1].0);
                    f.pair(Name(b"F3"), fonts[2].0);
                }
                if !alphas.is_empty() {
                    let mut g = res.ext_g_states();
                    for (k, a) in alphas.iter().enumerate() {
                        g.pair(Name(gs_name(*a).as_bytes()), Ref::new(first_gs + k as i32));
                    }
                }
            }
            pdf.stream(content_id, &c.finish());
        }
        pdf.finish()
    }
}

fn gs_name(alpha_pct: u8) -> String {
    format!("A{alpha_pct}")
}

fn paint(c: &mut Content, st: &Style, closed: bool, scale: f64, alphas: &mut Vec<u8>, emit: &dyn Fn(&mut Content)) {
    let fill = st.fill.filter(|_| closed);
    if let Some(col) = fill {
        let (r, g, b) = col.unit();
        c.set_fill_rgb(r, g, b);
    }
    if let Some(col) = st.stroke {
        let (r, g, b) = col.unit();
        c.set_stroke_rgb(r, g, b).set_line_width((st.width * scale).max(0.2) as f32);
        match st.dash {
            Some((on, off)) => c.set_dash_pattern([(on * scale) as f32, (off * scale) as f32], 0.0),
            None => c.set_dash_pattern([], 0.0),
        };
    }
    let alpha = (st.fill_opacity.clamp(0.0, 1.0) * 100.0).round() as u8;
    match (fill.is_some(), st.stroke.is_some()) {
        (true, stroke) if alpha < 100 => {
            // Fill at the shape's opacity, then stroke opaque: the path is written twice.
            alphas.push(alpha);
            c.save_state();
            c.set_parameters(Name(gs_name(alpha).as_bytes()));
            emit(c);
            c.fill_even_odd();
            c.restore_state();
            if stroke {
                emit(c);
                c.stroke();
            }
        }
        (true, true) => {
            emit(c);
            c.fill_even_odd_and_stroke();
        }
        (true, false) => {
            emit(c);
            c.fill_even_odd();
        }
        (false, true) => {
            emit(c);
            c.stroke();
        }
        (false, false) => {}
    }
}

/// A circle as four Bézier arcs.
fn circle(c: &mut Content, x: f32, y: f32, r: f32) {
    let k = 0.552_284_8 * r;
    c.move_to(x + r, y);
    c.cubic_to(x + r, y + k, x + k, y + r, x, y + r);
    c.cubic_to(x - k, y + r, x - r, y + k, x - r, y);
    c.cubic_to(x - r, y - k, x - k, y - r, x, y - r);
    c.cubic_to(x + k, y - r, x + r, y - k, x + r, y);
    c.close_path();
}

/// Greedy word wrap in Helvetica at `size`; a word wider than the line is cut.
fn wrap(text: &str, size: f64, bold: bool, width: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let fits = |s: &str| width_bytes(&winansi(s), size, bold) <= width;
    for word in text.split_whitespace() {
        let candidate = if cur.is_empty() { word.to_string() } else { format!("{cur} {word}") };
        if fits(&candidate) {
            cur = candidate;
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if fits(word) {
            cur = word.to_string();
        } else {
            for ch in word.chars() {
                let mut next = cur.clone();
                next.push(ch);
                if !fits(&next) && !cur.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                    next = ch.to_string();
                }
                cur = next;
            }
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}
