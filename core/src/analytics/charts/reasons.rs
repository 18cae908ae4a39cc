//! Cancellations by reason: a bar per reason, its reason above it.

use super::{plural, scaled, text, Anchor, Bar, Chart, Table, REASONS_DRAWN, REASON_CHARS, WIDTH};
use crate::outside_text::{cut, visible};
use crate::store::{percent_text, Figures};

/// Cancelled orders by reason, most frequent first: a bar each for the first
/// [`REASONS_DRAWN`], its reason above it (cut to 44 characters, invisible characters named)
/// and its count and share of ended orders after it (`2 (40.0 %)`); a line says how many
/// more there are. The table: every reason, its count, its share of ended orders.
pub fn cancellations_by_reason(figures: &Figures) -> Chart {
    const ROW: u32 = 32;
    const TOP: u32 = 4;
    const LEFT: u32 = 4;
    // Room after the longest bar for its count and share.
    let bar_room = WIDTH - LEFT - 84;
    let reasons = &figures.cancelled_by_reason;
    let max = reasons.iter().map(|r| r.orders).max().unwrap_or(0);
    let share = |reason: &str| percent_text(figures.cancellation_permille_for(reason));
    let mut bars = Vec::new();
    let mut texts = Vec::new();
    for (i, reason) in reasons.iter().take(REASONS_DRAWN).enumerate() {
        let top = TOP + i as u32 * ROW;
        let shown = visible(&reason.reason);
        let label = match cut(&shown, REASON_CHARS) {
            Some(start) => format!("{start}…"),
            None => shown.clone().into_owned(),
        };
        texts.push(text(LEFT, top + 11, Anchor::Start, "label", label));
        let width = scaled(reason.orders, max, bar_room);
        bars.push(Bar {
            x: LEFT,
            y: top + 15,
            width,
            height: 11,
            value: reason.orders,
            tooltip: format!("{shown}: {}", plural(reason.orders, "order", "orders")),
        });
        let value = format!("{} ({} %)", reason.orders, share(&reason.reason));
        texts.push(text(
            LEFT + width + 4,
            top + 25,
            Anchor::Start,
            "label",
            value,
        ));
    }
    let drawn = reasons.len().min(REASONS_DRAWN) as u32;
    let mut height = TOP + drawn * ROW + 4;
    let more = reasons.len().saturating_sub(REASONS_DRAWN);
    if more > 0 {
        let words = format!(
            "and {more} more {} (in the table)",
            if more == 1 { "reason" } else { "reasons" }
        );
        texts.push(text(LEFT, height + 10, Anchor::Start, "axis", words));
        height += 16;
    }
    let summary = if reasons.is_empty() {
        "Cancellations by reason: no order cancelled yet.".to_owned()
    } else {
        let each: Vec<String> = reasons
            .iter()
            .map(|r| {
                format!(
                    "{} for {}",
                    plural(r.orders, "order", "orders"),
                    visible(&r.reason)
                )
            })
            .collect();
        format!("Cancellations by reason: {}.", each.join("; "))
    };
    let rows = reasons
        .iter()
        .map(|r| {
            vec![
                r.reason.clone(),
                r.orders.to_string(),
                format!("{} %", share(&r.reason)),
            ]
        })
        .collect();
    Chart {
        width: WIDTH,
        height,
        summary,
        bars,
        lines: Vec::new(),
        texts,
        table: Table {
            caption: "Cancellations by reason".to_owned(),
            headings: vec!["Reason", "Orders", "Share of ended orders"],
            rows,
        },
        note: None,
    }
}
