//! The layering rule of ARCHITECTURE.md, checked on the source: a module
//! imports only modules of lower layers, and no two files import each
//! other, directly or round a longer cycle. Unit tests (`#[cfg(test)]`)
//! may use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers as ARCHITECTURE.md lists them, lowest first: the lines of
/// its ```layers block, `N: module module …`.
fn layers() -> BTreeMap<String, usize> {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let block =
        doc.split("```layers\n").nth(1).and_then(|b| b.split("```").next()).expect("a ```layers block");
    let mut layers = BTreeMap::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let (n, modules) = line.split_once(':').expect("`N: modules`");
        let n: usize = n.trim().parse().expect("a layer number");
        for m in modules.split_whitespace() {
            assert!(layers.insert(m.to_owned(), n).is_none(), "{m} is listed twice");
        }
    }
    layers
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every source file of the library, by module path (`load::driver`).
fn modules() -> BTreeMap<Vec<String>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = root().join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files
        .into_iter()
        .filter(|f| !f.ends_with("main.rs"))
        .map(|f| {
            let rel = f.strip_prefix(&src).expect("under src").with_extension("");
            let mut path: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if path.last().is_some_and(|l| l == "mod" || l == "lib") {
                path.pop();
            }
            (path, std::fs::read_to_string(&f).expect("source"))
        })
        .collect()
}

/// The code without comments, string literals and unit tests.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    match (escaped, c) {
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => escaped = false,
                    }
                }
                out.push_str("\"\"");
            }
            // A char literal such as '"' must not open a string.
            '\'' if chars.clone().nth(1) == Some('\'') => {
                chars.next();
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// The paths a file names from `crate::` or `super::`, resolved from the
/// crate root, with `{a, b::c}` groups expanded.
fn imports(module: &[String], code: &str) -> Vec<Vec<String>> {
    fn expand(prefix: Vec<String>, rest: &str, out: &mut Vec<Vec<String>>) -> usize {
        // `rest` starts after `prefix::`; returns the bytes consumed.
        let rest_trim = rest.trim_start();
        let skipped = rest.len() - rest_trim.len();
        if let Some(inner) = rest_trim.strip_prefix('{') {
            let mut used = 1;
            let mut remaining = inner;
            loop {
                let n = expand(prefix.clone(), remaining, out);
                used += n;
                remaining = &remaining[n..];
                let t = remaining.trim_start();
                used += remaining.len() - t.len();
                remaining = t;
                match remaining.chars().next() {
                    Some(',') => {
                        used += 1;
                        remaining = &remaining[1..];
                        if remaining.trim_start().starts_with('}') {
                            let t = remaining.trim_start();
                            return skipped + used + (remaining.len() - t.len()) + 1;
                        }
                    }
                    Some('}') => return skipped + used + 1,
                    _ => return skipped + used,
                }
            }
        }
        let ident: String = rest_trim.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let mut used = skipped + ident.len();
        let mut path = prefix;
        if !ident.is_empty() {
            path.push(ident);
        }
        if rest[used..].starts_with("::") {
            used += 2;
            used += expand(path, &rest[used..], out);
        } else {
            out.push(path);
        }
        used
    }
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        let at = &code[i..];
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let base = if !boundary {
            None
        } else if at.starts_with("crate::") {
            Some((Vec::new(), "crate::".len()))
        } else if at.starts_with("super::") {
            let mut up = 0;
            let mut len = 0;
            while code[i + len..].starts_with("super::") {
                up += 1;
                len += "super::".len();
            }
            // `super` is the parent module, whether the file is `x.rs` or `x/mod.rs`.
            Some((module[..module.len().saturating_sub(up)].to_vec(), len))
        } else {
            None
        };
        match base {
            Some((prefix, len)) => {
                i += len;
                i += expand(prefix, &code[i..], &mut out);
            }
            None => i += at.chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

/// The file-level module a path names: its longest prefix that is a file.
fn owner<'a>(path: &[String], files: &'a BTreeMap<Vec<String>, String>) -> Option<&'a Vec<String>> {
    (1..=path.len()).rev().find_map(|n| files.get_key_value(&path[..n]).map(|(k, _)| k))
}

/// Module-to-module edges between files (own file and crate root left out).
fn edges() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let files = modules();
    let mut edges = BTreeMap::new();
    for (module, text) in &files {
        let mut to = BTreeSet::new();
        for path in imports(module, &code(text)) {
            if let Some(target) = owner(&path, &files)
                && target != module
            {
                to.insert(target.clone());
            }
        }
        edges.insert(module.clone(), to);
    }
    edges
}

#[test]
fn imports_go_down_the_layers_only() {
    let layers = layers();
    let mut upward = Vec::new();
    for (from, targets) in edges() {
        let Some(top) = from.first() else { continue };
        let from_layer =
            *layers.get(top).unwrap_or_else(|| panic!("module '{top}' is in no layer of ARCHITECTURE.md"));
        for to in targets {
            let other = &to[0];
            if other == top {
                continue;
            }
            let to_layer = layers[other];
            if to_layer >= from_layer {
                upward.push(format!(
                    "{} (layer {from_layer}) imports {} (layer {to_layer})",
                    from.join("::"),
                    to.join("::")
                ));
            }
        }
    }
    assert!(upward.is_empty(), "imports that do not go down the layers:\n{}", upward.join("\n"));
}

#[test]
fn no_files_import_each_other() {
    let edges = edges();
    // Depth-first search for a back edge, reporting the cycle it closes.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
        cycles: &mut Vec<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = stack.iter().position(|n| n == node) {
            let cycle: Vec<String> = stack[at..].iter().chain([node]).map(|m| m.join("::")).collect();
            cycles.push(cycle.join(" → "));
            return;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            // A module's own children (`load` → `load::driver`) re-export.
            if !next.starts_with(node) {
                visit(next, edges, stack, done, cycles);
            }
        }
        stack.pop();
        done.insert(node.clone());
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        visit(node, &edges, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(cycles.is_empty(), "files that import each other:\n{}", cycles.join("\n"));
}

#[test]
fn the_checker_sees_imports() {
    // The parser itself: groups, nesting, `super` of a nested and a top module.
    let m = |s: &str| s.split("::").map(str::to_owned).collect::<Vec<_>>();
    let found = imports(&m("load::driver"), "use crate::{model::Model, rng::{a, b}};\nuse super::plan::X;");
    assert_eq!(found, vec![m("model::Model"), m("rng::a"), m("rng::b"), m("load::plan::X")]);
    assert_eq!(imports(&m("load"), "use super::model::Dist;"), vec![m("model::Dist")]);
    assert_eq!(code("let s = \"crate::x\"; // crate::y\nlet c = '\"';"), "let s = \"\"; \nlet c = ;");
}
