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

/// Every Rust source file of the workspace but the tests'.
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a source folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("src"), &mut out);
    for krate in std::fs::read_dir(root().join("crates")).expect("crates/") {
        walk(&krate.expect("entry").path().join("src"), &mut out);
    }
    out
}

/// The `Result<T, E>` types written in `code` whose error type is a bare
/// `String`.
fn string_errors(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in code.lines() {
        // Comments out (and with them, rarely, the end of a string).
        let mut rest = line.split("//").next().unwrap_or("");
        while let Some(at) = rest.find("Result<") {
            let inner = &rest[at + "Result<".len()..];
            let (mut depth, mut args, mut start, mut end) = (0usize, Vec::new(), 0, None);
            for (i, c) in inner.char_indices() {
                match c {
                    '<' | '(' | '[' => depth += 1,
                    ')' | ']' => depth = depth.saturating_sub(1),
                    '>' if depth == 0 => {
                        args.push(inner[start..i].trim());
                        end = Some(i);
                        break;
                    }
                    '>' => depth -= 1,
                    ',' if depth == 0 => {
                        args.push(inner[start..i].trim());
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if args.len() == 2 && args[1] == "String" {
                found.push(format!("Result<{}>", args.join(", ")));
            }
            rest = &inner[end.unwrap_or(0)..];
        }
    }
    found
}

#[test]
fn no_error_is_a_bare_string() {
    let mut found = Vec::new();
    for file in sources() {
        let text = std::fs::read_to_string(&file).expect("source");
        for ty in string_errors(&text) {
            found.push(format!("{}: {ty}", file.strip_prefix(root()).unwrap_or(&file).display()));
        }
    }
    assert!(
        found.is_empty(),
        "errors are types with a message per case (thiserror), not strings:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_string_error() {
    assert_eq!(string_errors("fn f() -> Result<Vec<(u8, u8)>, String> {"), ["Result<Vec<(u8, u8)>, String>"]);
    assert_eq!(string_errors("fn f() -> std::result::Result<(), String>"), ["Result<(), String>"]);
    assert!(string_errors("fn f() -> Result<String, Error>; // Result<(), String>").is_empty());
    assert!(string_errors("// fn f() -> Result<(), String>").is_empty());
    assert!(string_errors("fn f() -> io::Result<String>").is_empty());
}
