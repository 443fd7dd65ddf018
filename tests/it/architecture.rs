//! The crate graph of ARCHITECTURE.md is the one Cargo builds: every
//! workspace crate depends on exactly the fogg crates the document lists
//! for it, no more and no fewer. Cargo itself refuses cycles, so the
//! layering the document draws is the layering the compiler enforces.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

type Graph = BTreeMap<String, BTreeSet<String>>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The graph a fenced block of ARCHITECTURE.md writes, a crate a line:
/// `crate: dependency dependency …`.
fn documented(block: &str) -> Graph {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let open = format!("```{block}\n");
    let text = doc
        .split(open.as_str())
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_else(|| panic!("ARCHITECTURE.md has no ```{block} block"));
    let mut graph = Graph::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (name, deps) = line.split_once(':').unwrap_or_else(|| panic!("`crate: deps`, not {line:?}"));
        let deps = deps.split_whitespace().map(str::to_owned).collect();
        assert!(graph.insert(name.trim().to_owned(), deps).is_none(), "{name} is listed twice");
    }
    graph
}

/// The fogg crates each workspace member depends on, as `cargo metadata`
/// reads the manifests: normal dependencies, or dev-dependencies.
fn built(kind: Option<&str>) -> Graph {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let mut graph = Graph::new();
    for package in meta["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("name").to_owned();
        let deps = package["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].as_str() == kind)
            .filter_map(|d| d["name"].as_str())
            .filter(|d| d.starts_with("fogg"))
            .map(str::to_owned)
            .collect();
        graph.insert(name, deps);
    }
    graph
}

fn differences(doc: &Graph, cargo: &Graph) -> Vec<String> {
    let names: BTreeSet<&String> = doc.keys().chain(cargo.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        let (d, c) = (doc.get(name), cargo.get(name));
        if d != c {
            out.push(format!("{name}: ARCHITECTURE.md says {d:?}, Cargo.toml says {c:?}"));
        }
    }
    out
}

#[test]
fn the_documented_crate_graph_is_the_built_one() {
    let found = differences(&documented("crates"), &built(None));
    assert!(found.is_empty(), "the crate graph drifted:\n{}", found.join("\n"));
}

#[test]
fn the_documented_test_only_edges_are_the_built_ones() {
    let mut cargo = built(Some("dev"));
    // The binary crate's integration tests use every crate; that is what
    // they are for, and ARCHITECTURE.md need not list it.
    cargo.remove("fogg");
    cargo.retain(|_, deps| !deps.is_empty());
    let found = differences(&documented("dev-crates"), &cargo);
    assert!(found.is_empty(), "the test-only edges drifted:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_a_difference() {
    let graph =
        |deps: &[&str]| Graph::from([("a".to_owned(), deps.iter().map(|d| (*d).to_owned()).collect())]);
    assert!(differences(&graph(&["b"]), &graph(&["b"])).is_empty());
    assert_eq!(differences(&graph(&["b"]), &graph(&["b", "c"])).len(), 1);
    assert_eq!(differences(&graph(&[]), &Graph::new()).len(), 1);
}
