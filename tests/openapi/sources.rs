//! What the server's source reads: string literals outside comments, each action's files and the
//! query members they read.

use super::*;

pub(super) fn string_literals(source: &str) -> Vec<String> {
    let chars: Vec<char> = source.chars().collect();
    let mut literals = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            '"' => {
                let mut literal = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    if let Some(&c) = chars.get(i) {
                        literal.push(c);
                    }
                    i += 1;
                }
                literals.push(literal);
                i += 1;
            }
            '\'' => {
                // `'x'` or `'\n'` is a char literal; `'a` (a lifetime or label) is not.
                if chars.get(i + 1) == Some(&'\\') {
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    literals
}

/// Every `.rs` file under `dir`, recursively (`src/api` groups some actions by resource kind,
/// e.g. `src/api/cache_cluster/`).
fn rust_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The source files that decode an action's parameters: `<action>.rs` under `src/api` and the
/// non-action modules of `src/api` that it uses (transitively) and that read `QueryParams`.
fn action_sources(action: &str) -> Vec<PathBuf> {
    let api = root().join("src/api");
    let action_modules: BTreeSet<String> =
        supported_actions().iter().map(|a| snake_case(a)).collect();
    let all = rust_files(&api);
    let stem = |path: &PathBuf| {
        path.file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
    };
    let helpers: Vec<(String, PathBuf, String)> = all
        .iter()
        .filter_map(|path| {
            let module = stem(path)?;
            let text = std::fs::read_to_string(path).ok()?;
            let is_helper = module != "mod"
                && !action_modules.contains(&module)
                && text.contains("QueryParams");
            is_helper.then_some((module, path.clone(), text))
        })
        .collect();
    let wanted = snake_case(action);
    let first = all
        .iter()
        .find(|path| stem(path).as_deref() == Some(wanted.as_str()))
        .cloned()
        .unwrap_or_else(|| {
            panic!("{action} is in Action::ALL but no src/api/**/{wanted}.rs exists")
        });
    let mut files = vec![first.clone()];
    let mut queue = vec![std::fs::read_to_string(&first).expect("the action's source")];
    let mut seen = BTreeSet::new();
    while let Some(text) = queue.pop() {
        for (module, path, helper_text) in &helpers {
            if text.contains(&format!("{module}::")) && seen.insert(module.clone()) {
                files.push(path.clone());
                queue.push(helper_text.clone());
            }
        }
    }
    files
}

/// Model input members named by a string literal of the action's sources (`"NodeGroupId"`,
/// or the first segment of a flattened key such as `"UserGroupIdsToAdd.member.1"`), with the
/// file that names each.
pub(super) fn members_read(action: &str) -> BTreeMap<String, String> {
    let members = input_members(action);
    let mut read = BTreeMap::new();
    for file in action_sources(action) {
        let text = std::fs::read_to_string(&file).expect("source");
        let shown = file
            .strip_prefix(root())
            .unwrap_or(&file)
            .display()
            .to_string();
        for literal in string_literals(&text) {
            let first = literal.split('.').next().unwrap_or_default();
            if members.contains_key(first) {
                read.entry(first.to_string())
                    .or_insert_with(|| shown.clone());
            }
        }
    }
    read
}

#[test]
fn the_source_scanner_reads_literals_outside_comments() {
    let source = r#"
        // "InComment"
        let a = params.optional("NodeGroupId"); /* "Block" */
        let c = matches!(ch, '@' | '"' | '/');
        fn f<'a>(x: &'a str) -> &'a str { x }
        let b = "Tags.Tag.1.Key";
        let e = "say \"hi\"";
    "#;
    assert_eq!(
        string_literals(source),
        ["NodeGroupId", "Tags.Tag.1.Key", "say \"hi\""]
    );
}
