//! `openapi.yaml` describes exactly the routes the router serves: the same methods and
//! paths, each operation named after its route's Lambda binary, every reference resolving.

use std::collections::BTreeSet;

use evreg::handlers::routes::ROUTES;
use serde_yaml_ng::Value;

const OPENAPI_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn document() -> Value {
    let text = std::fs::read_to_string(OPENAPI_PATH).expect("openapi.yaml");
    serde_yaml_ng::from_str(&text).expect("openapi.yaml is YAML")
}

/// (METHOD, path, operationId) of every operation in the document.
fn operations(document: &Value) -> BTreeSet<(String, String, String)> {
    let paths = document["paths"].as_mapping().expect("a paths mapping");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().expect("a path");
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                let id = operation["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
                operations.insert((method.to_uppercase(), path.to_owned(), id.to_owned()));
            }
        }
    }
    operations
}

#[test]
fn the_document_and_the_router_describe_the_same_routes() {
    let documented = operations(&document());
    let routed: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.as_str().to_owned(),
                r.path.to_owned(),
                r.binary.to_owned(),
            )
        })
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "in the router, not in openapi.yaml: {undocumented:?}\n\
         in openapi.yaml, not in the router: {unrouted:?}"
    );
}

#[test]
fn every_reference_resolves_and_every_operation_answers() {
    let document = document();
    assert_eq!(document["openapi"].as_str(), Some("3.1.0"));
    let mut references = Vec::new();
    collect_refs(&document, &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let pointer = reference
            .strip_prefix("#/")
            .unwrap_or_else(|| panic!("{reference}: only local references"));
        let target = pointer
            .split('/')
            .try_fold(&document, |node, key| node.get(key));
        assert!(target.is_some(), "{reference} does not resolve");
    }
    for (method, path, _) in operations(&document) {
        let responses =
            &document["paths"][path.as_str()][method.to_lowercase().as_str()]["responses"];
        assert!(
            responses.as_mapping().is_some_and(|r| !r.is_empty()),
            "{method} {path}: no responses"
        );
    }
}

fn collect_refs(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Mapping(map) => {
            for (key, value) in map {
                match (key.as_str(), value.as_str()) {
                    (Some("$ref"), Some(reference)) => out.push(reference.to_owned()),
                    _ => collect_refs(value, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}
