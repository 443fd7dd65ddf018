//! `Flows`: journeys as a Sankey diagram sees them, nodes in columns and
//! the moves between them, per 1,000 customers (or journeys).

use serde::{Deserialize, Serialize};

use fogg_engine::attribution::Paths;
use fogg_model::Model;
use fogg_model::alias::EXIT;

/// Touch columns of the path diagram; later touches join the last one.
pub const PATH_TOUCHES: usize = 4;

/// Nodes in columns, and the moves drawn between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flows {
    /// Column titles, left to right.
    pub columns: Vec<String>,
    /// The nodes.
    pub nodes: Vec<FlowNode>,
    /// Moves from a node to one in a later column.
    pub links: Vec<FlowLink>,
    /// Moves per 1,000 not drawn: back to an earlier column or within one
    /// (a return to a stage already reached).
    pub not_drawn: f64,
    /// What the numbers count ("customers" or "journeys").
    pub per_thousand: String,
}

/// A node: a channel in a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowNode {
    /// Its column.
    pub column: usize,
    /// Its name (a channel, `start`, or an outcome).
    pub label: String,
    /// The channel's index, for its colour; null for start and outcomes.
    pub channel: Option<usize>,
    /// Arrivals (visits) per 1,000.
    pub value: f64,
}

/// Moves from one node to another, per 1,000.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowLink {
    /// Index of the node left.
    pub from: usize,
    /// Index of the node reached.
    pub to: usize,
    /// Moves per 1,000.
    pub value: f64,
}

impl Flows {
    /// The model's journeys between stages and channels, exactly: a node
    /// per (stage, channel) with the states it holds, columns in stage
    /// order after `start`; exits are not drawn (the funnel has them).
    pub fn of_model(model: &Model) -> Flows {
        let f = model.state_flows();
        let stages = model.stages.len();
        let mut columns = vec!["start".to_owned()];
        columns.extend(model.stages.iter().cloned());
        let mut nodes = vec![FlowNode { column: 0, label: "start".into(), channel: None, value: 1000.0 }];
        // Node of each (stage, channel), in stage then channel order.
        let mut index = vec![None; stages * model.channels.len()];
        let key = |i: usize| {
            let s = &model.states[i];
            s.stage.0 as usize * model.channels.len() + s.channel.0 as usize
        };
        let mut order: Vec<usize> = (0..model.states.len()).collect();
        order.sort_by_key(|&i| key(i));
        for i in order {
            let k = key(i);
            let node = *index[k].get_or_insert_with(|| {
                let s = &model.states[i];
                nodes.push(FlowNode {
                    column: 1 + s.stage.0 as usize,
                    label: model.channels[s.channel.0 as usize].id.clone(),
                    channel: Some(s.channel.0 as usize),
                    value: 0.0,
                });
                nodes.len() - 1
            });
            nodes[node].value += 1000.0 * f.visits[i];
        }
        let node_of = |i: usize| index[key(i)].expect("every state has a node");
        let mut links = Links::default();
        for (i, &e) in f.entry.iter().enumerate() {
            links.add(0, node_of(i), 1000.0 * e);
        }
        let mut not_drawn = 0.0;
        for (i, row) in f.moves.iter().enumerate() {
            for &(t, m) in row.iter().filter(|(t, _)| *t != EXIT) {
                let (a, b) = (node_of(i), node_of(t as usize));
                if nodes[b].column > nodes[a].column {
                    links.add(a, b, 1000.0 * m);
                } else {
                    not_drawn += 1000.0 * m;
                }
            }
        }
        // Stages no state is in have no column.
        let used: Vec<bool> = (0..columns.len()).map(|c| nodes.iter().any(|n| n.column == c)).collect();
        let renumber: Vec<usize> = used
            .iter()
            .scan(0, |next, &u| {
                Some(if u {
                    *next += 1;
                    *next - 1
                } else {
                    *next
                })
            })
            .collect();
        for n in &mut nodes {
            n.column = renumber[n.column];
        }
        let columns = columns.into_iter().zip(&used).filter(|(_, u)| **u).map(|(c, _)| c).collect();
        Flows { columns, nodes, links: links.0, not_drawn, per_thousand: "customers".into() }
    }

    /// The paths of a file (or walked on a scenario) by touch: a node per
    /// channel at each of the first [`PATH_TOUCHES`] touches (later ones
    /// join the last column), then the outcome. Counts, so exact for the
    /// data.
    pub fn of_paths(paths: &Paths) -> Flows {
        let k = PATH_TOUCHES;
        let mut columns: Vec<String> = (1..k).map(|t| format!("touch {t}")).collect();
        columns.push(format!("touch {k} or later"));
        columns.push("outcome".into());
        let channels = paths.channels.len();
        let mut nodes: Vec<FlowNode> = Vec::new();
        let mut index = vec![None; k * channels];
        let mut node = |nodes: &mut Vec<FlowNode>, column: usize, channel: usize| -> usize {
            *index[column * channels + channel].get_or_insert_with(|| {
                nodes.push(FlowNode {
                    column,
                    label: paths.channels[channel].clone(),
                    channel: Some(channel),
                    value: 0.0,
                });
                nodes.len() - 1
            })
        };
        nodes.push(FlowNode { column: k, label: "conversion".into(), channel: None, value: 0.0 });
        nodes.push(FlowNode { column: k, label: "no conversion".into(), channel: None, value: 0.0 });
        let total: f64 = paths.rows.iter().map(|r| r.conversions + r.nulls).sum();
        let scale = if total > 0.0 { 1000.0 / total } else { 0.0 };
        let mut links = Links::default();
        for row in paths.rows.iter().filter(|r| !r.channels.is_empty()) {
            let w = scale * (row.conversions + row.nulls);
            let shown = row.channels.len().min(k);
            let mut previous = None;
            for (t, &c) in row.channels[..shown].iter().enumerate() {
                let here = node(&mut nodes, t, c as usize);
                nodes[here].value += w;
                if let Some(p) = previous {
                    links.add(p, here, w);
                }
                previous = Some(here);
            }
            let last = previous.expect("a path with a channel");
            for (outcome, n) in [(0, row.conversions), (1, row.nulls)] {
                if n > 0.0 {
                    nodes[outcome].value += scale * n;
                    links.add(last, outcome, scale * n);
                }
            }
        }
        Flows { columns, nodes, links: links.0, not_drawn: 0.0, per_thousand: "journeys".into() }
    }
}

/// Links summed by (from, to), in order of first appearance.
#[derive(Default)]
struct Links(Vec<FlowLink>, std::collections::HashMap<(usize, usize), usize>);

impl Links {
    fn add(&mut self, from: usize, to: usize, value: f64) {
        if value <= 0.0 {
            return;
        }
        let next = self.0.len();
        let at = *self.1.entry((from, to)).or_insert(next);
        if at == next {
            self.0.push(FlowLink { from, to, value: 0.0 });
        }
        self.0[at].value += value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fogg_engine::attribution::PathFormat;

    fn link(f: &Flows, from: &str, to: &str) -> f64 {
        let name = |i: usize| format!("{}@{}", f.nodes[i].label, f.nodes[i].column);
        f.links.iter().filter(|l| name(l.from) == from && name(l.to) == to).map(|l| l.value).sum()
    }

    #[test]
    fn a_model_flows_as_its_closed_form_says() {
        // home (awareness) → product (purchase) 60%, product → home 25%.
        let text = r#"
[scenario]
name = "two"
[[channel]]
id = "web"
kind = "online"
[[channel]]
id = "store"
kind = "offline"
[entry]
home = 1
[[state]]
id = "home"
stage = "awareness"
channel = "web"
next = { product = 6, exit = 4 }
[[state]]
id = "product"
stage = "purchase"
channel = "store"
conversion = true
next = { home = 1, exit = 3 }
"#;
        let model = fogg_scenario::from_str(text, "two.toml").unwrap().model;
        let f = Flows::of_model(&model);
        // Visits: home v = 1 + 0.25 · 0.6 v → v = 1 / 0.85.
        let home = 1000.0 / 0.85;
        assert!((link(&f, "start@0", "web@1") - 1000.0).abs() < 1e-9);
        assert!((link(&f, "web@1", "store@2") - 600.0 / 0.85).abs() < 1e-9, "{f:?}");
        assert!((f.not_drawn - 0.25 * 600.0 / 0.85).abs() < 1e-9, "product → home goes back");
        let web = f.nodes.iter().find(|n| n.label == "web").unwrap();
        assert!((web.value - home).abs() < 1e-9);
        // Only the stages a state is in have a column.
        assert_eq!(f.columns, ["start", "awareness", "purchase"]);
    }

    #[test]
    fn paths_flow_by_touch_to_their_outcome() {
        let text = "path;total_conversions;total_conversion_value;total_null\n\
                    a > b;1;0;1\na;0;0;2\nb > a > b > c > d;1;0;0\n";
        let paths = Paths::parse(text.as_bytes(), &PathFormat::default()).unwrap();
        let f = Flows::of_paths(&paths);
        // Five journeys: 200 per 1,000 each.
        assert!((link(&f, "a@0", "b@1") - 400.0).abs() < 1e-9);
        assert!((link(&f, "b@1", "conversion@4") - 200.0).abs() < 1e-9);
        assert!((link(&f, "b@1", "no conversion@4") - 200.0).abs() < 1e-9);
        assert!((link(&f, "a@0", "no conversion@4") - 400.0).abs() < 1e-9);
        // The long path's fourth and later touches are one column: c.
        assert!((link(&f, "b@2", "c@3") - 200.0).abs() < 1e-9);
        assert!((link(&f, "c@3", "conversion@4") - 200.0).abs() < 1e-9);
        let outcome: f64 = f.nodes.iter().filter(|n| n.column == 4).map(|n| n.value).sum();
        assert!((outcome - 1000.0).abs() < 1e-9);
    }
}
