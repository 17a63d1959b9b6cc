//! The receive throughput chart shown at the top of RESULTS.md's receive section: GiB/s
//! against bytes per read, one line per implementation, for the frame sizes where the
//! read size matters most (a big message, a small one, and text).
//!
//! SVG only, with no font files: plotters' built-in text metrics are an estimate, and the
//! SVG's text elements are laid out by whatever shows the file.

use std::error::Error;
use std::path::Path;

use benches::{receive_group, Kind, CHOPS, IMPLS, TEXT_CHOPS};
use plotters::coord::combinators::LogCoord;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::RangedCoordi32;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{get, Results};

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Draw<T = ()> = Result<T, Box<dyn Error>>;
/// A chop's category and a throughput in GiB/s.
type Point = (SegmentValue<i32>, f64);

/// Whole chart, in pixels: three panels side by side over a legend row.
const SIZE: (u32, u32) = (1500, 560);
const LEGEND_HEIGHT: u32 = 48;
const FONT: &str = "sans-serif";

/// The x axis: every chop fed to the binary receivers, smallest first, then whole input.
fn x_axis() -> Vec<Option<usize>> {
    let mut chops = CHOPS.to_vec();
    chops.sort_by_key(|chop| chop.unwrap_or(usize::MAX));
    chops
}

/// The x position of a chop: the middle of its category on the shared axis.
fn x_of(chop: Option<usize>) -> SegmentValue<i32> {
    SegmentValue::CenterOf(x_axis().iter().position(|&c| c == chop).unwrap_or(0) as i32)
}

fn x_label(x: &SegmentValue<i32>) -> String {
    let SegmentValue::CenterOf(i) = x else { return String::new() };
    match x_axis().get(*i as usize) {
        Some(Some(bytes)) => bytes.to_string(),
        Some(None) => "whole".to_owned(),
        None => String::new(),
    }
}

/// Labels 0.05, 0.5, 20: as many decimals as the value's first significant digit needs.
fn y_label(y: &f64) -> String {
    let decimals = (-y.log10().floor()).max(0.0) as usize;
    format!("{y:.decimals$}")
}

/// Each implementation's colour (Okabe–Ito, told apart with colour blindness too) and
/// line width; ws-proto stands out, memcpy (the floor) is grey and dashed.
fn style(name: &str) -> ShapeStyle {
    let (color, width) = match name {
        "ws-proto" => (RGBColor(0x00, 0x72, 0xB2), 3),
        "ws-proto+copy" => (RGBColor(0x56, 0xB4, 0xE9), 2),
        "tungstenite" => (RGBColor(0xE6, 0x9F, 0x00), 2),
        "embedded-websocket" => (RGBColor(0x00, 0x9E, 0x73), 2),
        "fastwebsockets" => (RGBColor(0xD5, 0x5E, 0x00), 2),
        "yawc" => (RGBColor(0xCC, 0x79, 0xA7), 2),
        _ => (RGBColor(0x70, 0x70, 0x70), 2),
    };
    color.stroke_width(width)
}

fn dashed(name: &str) -> bool {
    name == "memcpy"
}

/// Writes the chart to `path`.
pub fn write(results: &Results, path: &Path) -> Result<(), String> {
    draw(results, path).map_err(|e| format!("{}: {e}", path.display()))
}

fn draw(results: &Results, path: &Path) -> Draw {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root
        .titled("Receive throughput against bytes per read (GiB/s of wire bytes, log scale)", (FONT, 22))?;
    let (panels, legend_area) = root.split_vertically(root.dim_in_pixel().1 - LEGEND_HEIGHT);
    let panels = panels.split_evenly((1, 3));
    panel(&panels[0], results, Kind::Binary, 64 << 10, &CHOPS)?;
    panel(&panels[1], results, Kind::Binary, 125, &CHOPS)?;
    panel(&panels[2], results, Kind::Text, 64 << 10, &TEXT_CHOPS)?;
    legend(&legend_area)?;
    root.present()?;
    Ok(())
}

/// One frame size's receive throughput, one line per implementation over `chops`. A
/// missing estimate (a filtered run) breaks its line rather than bridging the gap.
fn panel(area: &Area<'_>, results: &Results, kind: Kind, size: usize, chops: &[Option<usize>]) -> Draw {
    let mut chops = chops.to_vec();
    chops.sort_by_key(|chop| chop.unwrap_or(usize::MAX));
    // Each implementation's points, `None` where an estimate is missing.
    let lines: Vec<(&str, Vec<Option<Point>>)> = IMPLS
        .iter()
        .map(|&name| {
            let points = chops
                .iter()
                .map(|&chop| {
                    let estimate = get(results, &receive_group(kind, size, chop), name)?;
                    Some((x_of(chop), estimate.gib_per_s()))
                })
                .collect();
            (name, points)
        })
        .collect();

    let title = format!("{} {} frames", kind.name(), benches::size_label(size));
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range(), y_range(lines.iter().flat_map(|(_, p)| p.iter().flatten())))?;
    chart
        .configure_mesh()
        .x_desc("bytes per read")
        .y_desc("GiB/s")
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        // Labels at powers of ten only (plotters' log axis labels every digit otherwise, too
        // close together), faint lines at each digit between them.
        .y_labels(4)
        .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
        .draw()?;

    for (name, points) in &lines {
        // Runs of consecutive measured points.
        for run in points.split(Option::is_none).filter(|run| !run.is_empty()) {
            let run: Vec<Point> = run.iter().flatten().cloned().collect();
            if dashed(name) {
                chart.draw_series(DashedLineSeries::new(run.clone(), 8, 5, style(name)))?;
                chart.draw_series(run.iter().map(|p| Circle::new(p.clone(), 3, style(name).filled())))?;
            } else {
                chart.draw_series(LineSeries::new(run, style(name).filled()).point_size(3))?;
            }
        }
    }
    Ok(())
}

/// One category per chop, each point in the middle of its own.
fn x_range() -> SegmentedCoord<RangedCoordi32> {
    (0..x_axis().len() as i32 - 1).into_segmented()
}

/// A log axis over the values with some room; widened to whole decades when that room
/// holds no power of ten, which is where the axis is labelled.
fn y_range<'p>(points: impl Iterator<Item = &'p Point>) -> LogCoord<f64> {
    let (low, high) = points
        .map(|&(_, y)| y)
        .filter(|y| y.is_finite() && *y > 0.0)
        .fold((f64::INFINITY, 0.0_f64), |(low, high), y| (low.min(y), high.max(y)));
    // Nothing measured: an empty panel over a plausible span.
    let (mut low, mut high) = if low <= high { (low / 1.5, high * 1.5) } else { (0.1, 100.0) };
    if low.log10().ceil() > high.log10().floor() {
        (low, high) = (10f64.powf(low.log10().floor()), 10f64.powf(high.log10().ceil()));
    }
    // A hair wider, so that a power of ten at either end still gets its label after rounding.
    (low * 0.999..high * 1.001).log_scale().into()
}

/// One row naming every line, in the tables' order.
fn legend(area: &Area<'_>) -> Draw {
    let font = (FONT, 15).into_font().color(&BLACK);
    let widths: Vec<i32> = IMPLS.iter().map(|name| 48 + 9 * name.len() as i32).collect();
    let total: i32 = widths.iter().sum();
    let mut x = (area.dim_in_pixel().0 as i32 - total) / 2;
    let y = LEGEND_HEIGHT as i32 / 2;
    for (name, width) in IMPLS.iter().zip(widths) {
        let swatch = vec![(x, y), (x + 30, y)];
        if dashed(name) {
            area.draw(&DashedPathElement::new(swatch, 8, 5, style(name)))?;
        } else {
            area.draw(&PathElement::new(swatch, style(name)))?;
        }
        area.draw(&Circle::new((x + 15, y), 3, style(name).filled()))?;
        area.draw(&Text::new(name.to_string(), (x + 38, y - 8), font.clone()))?;
        x += width;
    }
    Ok(())
}
