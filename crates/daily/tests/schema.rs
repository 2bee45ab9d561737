//! `docs/report.schema.json` against the model, both ways: the fixture (and its public
//! edition) validates against the schema, and every property the schema describes is
//! met in the fixture, so neither can gain a field the other lacks. The validator is
//! the small subset of JSON Schema 2020-12 the file uses (`$ref` into `$defs`, `type`,
//! `properties`, `required`, `additionalProperties: false`, `items`, `prefixItems`,
//! `minItems`/`maxItems`, `enum`, `const`, `anyOf`, `minimum`/`maximum`, `pattern` as
//! hex-64 only); a keyword it does not know fails the test.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;
use truce_daily::{public_edition, to_json};

fn schema() -> Value {
    let path = common::dir().join("../../../docs/report.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const KNOWN: &[&str] = &[
    "$schema", "$id", "$ref", "$defs", "title", "description", "type", "properties", "required",
    "additionalProperties", "items", "prefixItems", "minItems", "maxItems", "enum", "const",
    "anyOf", "minimum", "maximum", "pattern", "format", "default", "contentEncoding",
];

struct V<'a> {
    root: &'a Value,
    /// (object schema pointer, property) met in the data.
    seen: BTreeSet<(String, String)>,
    errors: Vec<String>,
}

impl V<'_> {
    fn resolve(&self, s: &Value, ptr: &str) -> (Value, String) {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let p = r.trim_start_matches('#');
                (self.root.pointer(p).unwrap_or_else(|| panic!("dangling $ref {r}")).clone(), p.to_string())
            }
            None => (s.clone(), ptr.to_string()),
        }
    }

    fn check(&mut self, s: &Value, ptr: &str, v: &Value, at: &str) -> bool {
        if s == &Value::Bool(false) {
            self.errors.push(format!("{at}: not allowed"));
            return false;
        }
        let (s, ptr) = self.resolve(s, ptr);
        let obj = s.as_object().expect("schema object");
        for k in obj.keys() {
            assert!(KNOWN.contains(&k.as_str()), "{ptr}: keyword {k} not supported by this test");
        }
        let before = self.errors.len();
        if let Some(any) = obj.get("anyOf").and_then(Value::as_array) {
            let ok = any.iter().enumerate().any(|(i, alt)| {
                let mut probe = V { root: self.root, seen: BTreeSet::new(), errors: Vec::new() };
                let ok = probe.check(alt, &format!("{ptr}/anyOf/{i}"), v, at);
                if ok {
                    self.seen.extend(probe.seen);
                }
                ok
            });
            if !ok {
                self.errors.push(format!("{at}: matches no anyOf alternative"));
            }
        }
        if let Some(t) = obj.get("type") {
            let types: Vec<&str> = match t {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => panic!("{ptr}: bad type"),
            };
            let ok = types.iter().any(|t| match *t {
                "null" => v.is_null(),
                "string" => v.is_string(),
                "boolean" => v.is_boolean(),
                "integer" => v.is_u64() || v.is_i64(),
                "number" => v.is_number(),
                "array" => v.is_array(),
                "object" => v.is_object(),
                _ => panic!("{ptr}: type {t}"),
            });
            if !ok {
                self.errors.push(format!("{at}: {v} is not {types:?}"));
                return false;
            }
        }
        if let Some(c) = obj.get("const") {
            if c != v {
                self.errors.push(format!("{at}: {v} is not {c}"));
            }
        }
        if let Some(e) = obj.get("enum").and_then(Value::as_array) {
            if !e.contains(v) {
                self.errors.push(format!("{at}: {v} not in {e:?}"));
            }
        }
        if let (Some(x), Some(min)) = (v.as_f64(), obj.get("minimum").and_then(Value::as_f64)) {
            if x < min {
                self.errors.push(format!("{at}: {x} < {min}"));
            }
        }
        if let (Some(x), Some(max)) = (v.as_f64(), obj.get("maximum").and_then(Value::as_f64)) {
            if x > max {
                self.errors.push(format!("{at}: {x} > {max}"));
            }
        }
        if let (Some(x), Some(p)) = (v.as_str(), obj.get("pattern").and_then(Value::as_str)) {
            assert_eq!(p, "^[0-9a-f]{64}$", "{ptr}: only the hex-64 pattern is supported");
            if x.len() != 64 || !x.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                self.errors.push(format!("{at}: {x:?} is not 64 hex digits"));
            }
        }
        if let Some(a) = v.as_array() {
            if let Some(n) = obj.get("minItems").and_then(Value::as_u64) {
                if (a.len() as u64) < n {
                    self.errors.push(format!("{at}: fewer than {n} items"));
                }
            }
            if let Some(n) = obj.get("maxItems").and_then(Value::as_u64) {
                if (a.len() as u64) > n {
                    self.errors.push(format!("{at}: more than {n} items"));
                }
            }
            let prefix = obj.get("prefixItems").and_then(Value::as_array).cloned().unwrap_or_default();
            for (i, item) in a.iter().enumerate() {
                let sub = if i < prefix.len() {
                    Some((prefix[i].clone(), format!("{ptr}/prefixItems/{i}")))
                } else {
                    obj.get("items").map(|s| (s.clone(), format!("{ptr}/items")))
                };
                if let Some((sub, p)) = sub {
                    self.check(&sub, &p, item, &format!("{at}/{i}"));
                }
            }
        }
        if let (Some(o), Some(props)) = (v.as_object(), obj.get("properties").and_then(Value::as_object)) {
            assert_eq!(obj.get("additionalProperties"), Some(&Value::Bool(false)), "{ptr}: objects are closed");
            for k in o.keys() {
                if !props.contains_key(k) {
                    self.errors.push(format!("{at}: {k} is not in the schema ({ptr})"));
                }
            }
            for r in obj.get("required").and_then(Value::as_array).into_iter().flatten() {
                if !o.contains_key(r.as_str().unwrap()) {
                    self.errors.push(format!("{at}: required {r} missing"));
                }
            }
            for (k, sub) in props {
                if let Some(x) = o.get(k) {
                    self.seen.insert((ptr.clone(), k.clone()));
                    self.check(sub, &format!("{ptr}/properties/{k}"), x, &format!("{at}/{k}"));
                }
            }
        }
        self.errors.len() == before
    }
}

fn validate(root: &Value, data: &Value) -> BTreeSet<(String, String)> {
    let mut v = V { root, seen: BTreeSet::new(), errors: Vec::new() };
    v.check(root, "", data, "");
    assert!(v.errors.is_empty(), "schema errors:\n{}", v.errors.join("\n"));
    v.seen
}

/// Every object schema's properties, as (pointer, property).
fn all_properties(root: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut add = |ptr: &str, s: &Value| {
        for (k, p) in s.get("properties").and_then(Value::as_object).into_iter().flatten() {
            assert!(
                p.get("description").and_then(Value::as_str).is_some_and(|d| !d.is_empty()),
                "{ptr}/properties/{k} has no description"
            );
            out.insert((ptr.to_string(), k.clone()));
        }
    };
    add("", root);
    for (name, s) in root["$defs"].as_object().unwrap() {
        add(&format!("/$defs/{name}"), s);
    }
    out
}

#[test]
fn fixture_and_schema_agree_both_ways() {
    let root = schema();
    assert_eq!(root["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let report = common::fixture();
    let data: Value = serde_json::from_str(&to_json(&report)).unwrap();
    let seen = validate(&root, &data);
    let all = all_properties(&root);
    let unseen: Vec<_> = all.difference(&seen).collect();
    assert!(unseen.is_empty(), "described in the schema but not in the fixture: {unseen:?}");
    // The public edition too (nulls where the internal one has values).
    let public: Value = serde_json::from_str(&to_json(&public_edition(&report))).unwrap();
    validate(&root, &public);
}

#[test]
fn schema_refuses_what_the_model_does_not_have() {
    let root = schema();
    let mut data: Value = serde_json::from_str(&to_json(&common::fixture())).unwrap();
    data["incidents"][0]["colour"] = Value::from("red");
    data["obligations"][0]["status"] = Value::from("forgotten");
    let mut v = V { root: &root, seen: BTreeSet::new(), errors: Vec::new() };
    v.check(&root, "", &data, "");
    assert_eq!(v.errors.len(), 2, "{:?}", v.errors);
}
