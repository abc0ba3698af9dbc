//! Project discovery: which files are modules, what they are called, and
//! how they import each other.
//!
//! Every `.mpl` file except `*.test.mpl` is a module named by its path in
//! PascalCase, one segment per directory (`work.mpl` is `Work`,
//! `api/todo_items.mpl` is `Api.TodoItems`). The root `main.mpl` is the
//! entry module. `import A.B` and `from A.B import x` must name a project
//! module (or a built-in module such as `List`); cycles among imports are
//! errors. Visibility (`pub`) is enforced by the checker, which knows items.

use crate::ast::{ItemKind, Path, SourceFile};
use crate::builtins::BUILTIN_MODULES;
use crate::diag::{Code, Diagnostic};
use crate::hir::ModId;
use crate::parser;
use crate::source::{FileId, Span};
use std::collections::HashMap;

/// A parsed module of the project.
#[derive(Debug, Clone)]
pub struct ProjectModule {
    pub id: ModId,
    pub name: String,
    pub path: String,
    pub file: FileId,
    pub ast: SourceFile,
    pub is_entry: bool,
}

/// The module name for `path`, or `None` when the file is not a module
/// (not `.mpl`, or a `*.test.mpl` test file).
pub fn module_name(path: &str) -> Option<String> {
    let path = path.trim_start_matches("./");
    let stem = path.strip_suffix(".mpl")?;
    if stem.ends_with(".test") || stem.is_empty() {
        return None;
    }
    let segments: Vec<String> = stem
        .split('/')
        .filter(|s| !s.is_empty())
        .map(pascal_case)
        .collect();
    if segments.iter().any(String::is_empty) || segments.is_empty() {
        return None;
    }
    Some(segments.join("."))
}

/// `todo_items` -> `TodoItems`.
pub fn pascal_case(s: &str) -> String {
    s.split(['_', '-'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            match cs.next() {
                Some(c) => c.to_uppercase().chain(cs).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// `GetCount` -> `get_count`.
pub fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A module that is not one of the project's files, parsed by the caller:
/// the test file `meshc test` runs (see [`crate::testing`]).
#[derive(Debug, Clone)]
pub struct ExtraModule {
    pub name: String,
    pub path: String,
    pub file: FileId,
    pub ast: SourceFile,
}

/// Parses every module file and checks module names, imports and cycles.
/// `files` are (path, source) pairs; file ids are their indices.
pub fn discover(files: &[(String, &str)]) -> (Vec<ProjectModule>, Vec<Diagnostic>) {
    discover_with(files, None)
}

/// [`discover`], with `extra` as one more module (it may import the
/// project's modules; nothing can import it by a name it does not have).
pub fn discover_with(
    files: &[(String, &str)],
    extra: Option<ExtraModule>,
) -> (Vec<ProjectModule>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut modules: Vec<ProjectModule> = Vec::new();
    let mut by_name: HashMap<String, ModId> = HashMap::new();
    for (i, (path, text)) in files.iter().enumerate() {
        let Some(name) = module_name(path) else {
            continue;
        };
        let file = FileId(u32::try_from(i).unwrap_or(u32::MAX));
        let (ast, mut d) = parser::parse(file, text);
        diags.append(&mut d);
        let id = ModId(u32::try_from(modules.len()).unwrap_or(u32::MAX));
        if by_name.insert(name.clone(), id).is_some() {
            diags.push(Diagnostic::error(
                Code::DuplicateDefinition,
                Span::new(file, 0, 0),
                format!("two files define module `{name}`"),
            ));
        }
        let clean = path.trim_start_matches("./");
        modules.push(ProjectModule {
            id,
            is_entry: clean == "main.mpl",
            name,
            path: path.clone(),
            file,
            ast,
        });
    }
    if let Some(x) = extra {
        let id = ModId(u32::try_from(modules.len()).unwrap_or(u32::MAX));
        if by_name.insert(x.name.clone(), id).is_some() {
            diags.push(Diagnostic::error(
                Code::DuplicateDefinition,
                Span::new(x.file, 0, 0),
                format!("two files define module `{}`", x.name),
            ));
        }
        modules.push(ProjectModule {
            id,
            name: x.name,
            path: x.path,
            file: x.file,
            ast: x.ast,
            is_entry: false,
        });
    }
    // Imports must name a module; build the graph.
    let mut edges: Vec<Vec<(usize, Span)>> = vec![Vec::new(); modules.len()];
    for (mi, m) in modules.iter().enumerate() {
        for item in &m.ast.items {
            let path: &Path = match &item.kind {
                ItemKind::Import(i) => &i.path,
                ItemKind::FromImport(f) => &f.path,
                _ => continue,
            };
            let target = path.dotted();
            match by_name.get(&target) {
                Some(t) => edges[mi].push((t.0 as usize, path.span)),
                None if BUILTIN_MODULES.contains(&target.as_str()) => {}
                None => diags.push(Diagnostic::error(
                    Code::UnknownModule,
                    path.span,
                    format!("no module named `{target}` in this project"),
                )),
            }
        }
    }
    report_cycles(&modules, &edges, &mut diags);
    (modules, diags)
}

fn report_cycles(
    modules: &[ProjectModule],
    edges: &[Vec<(usize, Span)>],
    diags: &mut Vec<Diagnostic>,
) {
    // Iterative DFS with colours; each back edge closes one cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let n = modules.len();
    let mut colour = vec![Colour::White; n];
    for root in 0..n {
        if colour[root] != Colour::White {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        colour[root] = Colour::Grey;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&(to, span)) = edges[node].get(*next) {
                *next += 1;
                match colour[to] {
                    Colour::White => {
                        colour[to] = Colour::Grey;
                        stack.push((to, 0));
                    }
                    Colour::Grey => {
                        let start = stack.iter().position(|&(m, _)| m == to).unwrap_or(0);
                        let mut names: Vec<&str> = stack[start..]
                            .iter()
                            .map(|&(m, _)| modules[m].name.as_str())
                            .collect();
                        names.push(modules[to].name.as_str());
                        diags.push(Diagnostic::error(
                            Code::ImportCycle,
                            span,
                            format!("import cycle: {}", names.join(" -> ")),
                        ));
                    }
                    Colour::Black => {}
                }
            } else {
                colour[node] = Colour::Black;
                stack.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_follow_the_path_rule() {
        assert_eq!(module_name("work.mpl").as_deref(), Some("Work"));
        assert_eq!(module_name("main.mpl").as_deref(), Some("Main"));
        assert_eq!(
            module_name("api/todo_items.mpl").as_deref(),
            Some("Api.TodoItems")
        );
        assert_eq!(
            module_name("./lib/util_funcs.mpl").as_deref(),
            Some("Lib.UtilFuncs")
        );
        assert_eq!(module_name("work.test.mpl"), None);
        assert_eq!(module_name("mesh.toml"), None);
        assert_eq!(module_name(".mpl"), None);
    }

    #[test]
    fn case_conversions() {
        assert_eq!(snake_case("GetCount"), "get_count");
        assert_eq!(snake_case("Reset"), "reset");
        assert_eq!(pascal_case("util_funcs"), "UtilFuncs");
    }

    #[test]
    fn unknown_imports_and_cycles_are_reported() {
        let files = vec![
            (
                "main.mpl".to_string(),
                "import A\nimport Nope\nimport List\nfn main() = 1\n",
            ),
            ("a.mpl".to_string(), "from B import f\n"),
            ("b.mpl".to_string(), "import A\npub fn f() = 1\n"),
            ("b.test.mpl".to_string(), "this is not parsed (\n"),
            ("README.md".to_string(), "# hi"),
        ];
        let (mods, diags) = discover(&files);
        assert_eq!(mods.len(), 3);
        assert!(mods[0].is_entry);
        let codes: Vec<_> = diags.iter().map(|d| (d.code, d.message.clone())).collect();
        assert_eq!(
            codes,
            vec![
                (
                    Code::UnknownModule,
                    "no module named `Nope` in this project".to_string()
                ),
                (Code::ImportCycle, "import cycle: A -> B -> A".to_string()),
            ]
        );
    }
}
