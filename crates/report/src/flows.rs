//! The Sankey diagram of a result's [`Flows`].

use super::fmt::num;
use super::svg::Chart;
use fogg_result::Flows;

/// `flows` drawn under `title`.
pub fn sankey(title: &str, flows: &Flows) -> Chart {
    let mut label = format!("band width: moves per 1,000 {}", flows.per_thousand);
    if flows.not_drawn > 0.0 {
        label.push_str(&format!(
            "; {} back to an earlier stage or within one not drawn",
            num(flows.not_drawn, if flows.not_drawn >= 10.0 { 0 } else { 1 })
        ));
    }
    Chart::Sankey {
        title: title.to_owned(),
        value_label: label,
        columns: flows.columns.clone(),
        nodes: flows.nodes.iter().map(|n| (n.column, n.label.clone(), n.channel, n.value)).collect(),
        links: flows.links.iter().map(|l| (l.from, l.to, l.value)).collect(),
    }
}
