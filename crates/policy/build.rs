//! Compiles the AWS action catalog (`data/aws-action-catalog/`, 2.6 MB of JSON) into
//! the compact binary form that `src/catalog.rs` embeds and decodes lazily. The crate
//! itself stays pure: this is the only place the JSON is read.
//!
//! Format (every integer is an unsigned LEB128 varint; a *string* is a varint count
//! of tokens followed by that many token ids):
//!
//! ```text
//! "PCAT" 0x01
//! tokens:   count, then per token: byte length, UTF-8 bytes (most frequent first)
//! services: count, then per service (sorted by prefix):
//!           prefix string, name string, body offset, body length
//! foreign:  count, then per key prefix that is not its own service (`saml`, `catalog`, …):
//!           prefix string, count, service indices whose key tables hold such keys
//! bodies:   per service:
//!           keys:      count, then per key: name string, type byte
//!           resources: count, then per type: name string, ARN format string,
//!                      key count, key indices
//!           actions:   count, then per action: name string, access byte,
//!                      resource count, (resource index << 1 | required) each,
//!                      key count, key indices
//! ```
//!
//! Strings are split into CamelCase words, digit runs, `${...}` placeholders and
//! single punctuation characters; each distinct token is stored once. That interns
//! the words action names are made of (`Describe`, `Instance`, ...), which is where
//! the size of the catalog is.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::error::Error;
use std::path::Path;

use serde_json::Value;

fn main() -> Result<(), Box<dyn Error>> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR")?;
    let source = Path::new(&manifest).join("../../data/aws-action-catalog/aws-action-catalog.json");
    println!("cargo::rerun-if-changed={}", source.display());
    println!("cargo::rerun-if-changed=build.rs");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&source)?)?;
    let catalog = Catalog::from_json(&json)?;
    let blob = catalog.encode();
    let out = Path::new(&std::env::var("OUT_DIR")?).join("aws-action-catalog.bin");
    std::fs::write(out, blob)?;
    Ok(())
}

/// A resource type: name, ARN format, key indices.
type ResourceType = (String, String, Vec<usize>);
/// An action: name, access level, (resource index, required), key indices.
type Action = (String, u8, Vec<(usize, bool)>, Vec<usize>);

struct Service {
    prefix: String,
    name: String,
    keys: Vec<(String, u8)>,
    resources: Vec<ResourceType>,
    actions: Vec<Action>,
}

struct Catalog {
    services: Vec<Service>,
}

fn key_type(t: &str) -> u8 {
    match t {
        "String" => 1,
        "ArrayOfString" => 2,
        "ARN" => 3,
        "ArrayOfARN" => 4,
        "Bool" => 5,
        "ArrayOfBool" => 6,
        "Numeric" => 7,
        "ArrayOfNumeric" => 8,
        "Date" => 9,
        "ArrayOfDate" => 10,
        "IPAddress" => 11,
        "ArrayOfIPAddress" => 12,
        other => {
            println!("cargo::warning=unknown condition key type `{other}` in the action catalog");
            0
        }
    }
}

fn access_level(a: &str) -> u8 {
    match a {
        "List" => 1,
        "Read" => 2,
        "Write" => 3,
        "Permissions management" => 4,
        "Tagging" => 5,
        _ => 0,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn object(v: Option<&Value>) -> BTreeMap<String, Value> {
    v.and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

impl Catalog {
    fn from_json(json: &Value) -> Result<Self, Box<dyn Error>> {
        let root = json
            .as_object()
            .ok_or("the action catalog is not a JSON object")?;
        // A key's type wherever a service declares it (the `aws:` keys are declared by
        // every service that supports them).
        let mut types: HashMap<String, u8> = HashMap::new();
        for s in root.values() {
            for (k, t) in object(s.get("conditions")) {
                types.insert(k.clone(), key_type(t.as_str().unwrap_or("")));
            }
        }
        let mut services = Vec::new();
        let sorted: BTreeMap<&String, &Value> = root.iter().collect();
        for (prefix, s) in sorted {
            let mut keys: Vec<(String, u8)> = Vec::new();
            let mut key_index: HashMap<String, usize> = HashMap::new();
            let mut intern_key = |k: &str, keys: &mut Vec<(String, u8)>| -> usize {
                if let Some(i) = key_index.get(k) {
                    return *i;
                }
                keys.push((k.to_owned(), types.get(k).copied().unwrap_or(0)));
                key_index.insert(k.to_owned(), keys.len() - 1);
                keys.len() - 1
            };
            for (k, t) in object(s.get("conditions")) {
                let i = intern_key(&k, &mut keys);
                if let Some(slot) = keys.get_mut(i) {
                    slot.1 = key_type(t.as_str().unwrap_or(""));
                }
            }
            let resource_map = object(s.get("resources"));
            let resource_names: Vec<&String> = resource_map.keys().collect();
            let mut resources = Vec::new();
            for (name, r) in &resource_map {
                let arn = r
                    .get("arn")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{prefix}: resource type {name} has no ARN"))?;
                let rkeys = strings(r.get("conditions"))
                    .iter()
                    .map(|k| intern_key(k, &mut keys))
                    .collect();
                resources.push((name.clone(), arn.to_owned(), rkeys));
            }
            let mut actions = Vec::new();
            for (name, a) in object(s.get("actions")) {
                let access = access_level(a.get("access").and_then(Value::as_str).unwrap_or(""));
                let mut res = Vec::new();
                for r in strings(a.get("resources")) {
                    let required = r.ends_with('*');
                    let bare = r.trim_end_matches('*');
                    match resource_names.iter().position(|n| n.as_str() == bare) {
                        Some(i) => res.push((i, required)),
                        None => println!(
                            "cargo::warning={prefix}:{name} names an undefined resource type {bare}"
                        ),
                    }
                }
                let akeys = strings(a.get("conditions"))
                    .iter()
                    .map(|k| intern_key(k, &mut keys))
                    .collect();
                actions.push((name, access, res, akeys));
            }
            services.push(Service {
                prefix: prefix.clone(),
                name: s
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(prefix)
                    .to_owned(),
                keys,
                resources,
                actions,
            });
        }
        Ok(Self { services })
    }

    fn all_strings(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for s in &self.services {
            out.push(s.prefix.as_str());
            out.push(s.name.as_str());
            for (k, _) in &s.keys {
                out.push(k.as_str());
                out.push(k.split(':').next().unwrap_or(""));
            }
            for (n, arn, _) in &s.resources {
                out.push(n.as_str());
                out.push(arn.as_str());
            }
            for (n, ..) in &s.actions {
                out.push(n.as_str());
            }
        }
        out
    }

    fn encode(&self) -> Vec<u8> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for s in self.all_strings() {
            for t in tokenize(s) {
                *counts.entry(t).or_default() += 1;
            }
        }
        let mut tokens: Vec<(&str, usize)> = counts.into_iter().collect();
        tokens.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let ids: HashMap<&str, usize> = tokens
            .iter()
            .enumerate()
            .map(|(i, (t, _))| (*t, i))
            .collect();

        let mut w = Writer {
            out: b"PCAT\x01".to_vec(),
            ids: &ids,
        };
        w.varint(tokens.len());
        for (t, _) in &tokens {
            w.varint(t.len());
            w.out.extend_from_slice(t.as_bytes());
        }

        let mut bodies = Vec::new();
        let mut ranges = Vec::new();
        for s in &self.services {
            let mut b = Writer {
                out: Vec::new(),
                ids: &ids,
            };
            b.varint(s.keys.len());
            for (k, t) in &s.keys {
                b.string(k);
                b.out.push(*t);
            }
            b.varint(s.resources.len());
            for (n, arn, keys) in &s.resources {
                b.string(n);
                b.string(arn);
                b.list(keys);
            }
            b.varint(s.actions.len());
            for (n, access, res, keys) in &s.actions {
                b.string(n);
                b.out.push(*access);
                b.varint(res.len());
                for (i, required) in res {
                    b.varint(i << 1 | usize::from(*required));
                }
                b.list(keys);
            }
            ranges.push((bodies.len(), b.out.len()));
            bodies.extend_from_slice(&b.out);
        }

        w.varint(self.services.len());
        for (s, (offset, len)) in self.services.iter().zip(&ranges) {
            w.string(&s.prefix);
            w.string(&s.name);
            w.varint(*offset);
            w.varint(*len);
        }

        let own: BTreeSet<&str> = self.services.iter().map(|s| s.prefix.as_str()).collect();
        let mut foreign: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
        for (i, s) in self.services.iter().enumerate() {
            for (k, _) in &s.keys {
                let p = k.split(':').next().unwrap_or("");
                if p != "aws" && p != s.prefix && !own.contains(p) {
                    foreign.entry(p).or_default().insert(i);
                }
            }
        }
        w.varint(foreign.len());
        for (p, list) in &foreign {
            w.string(p);
            let list: Vec<usize> = list.iter().copied().collect();
            w.list(&list);
        }
        w.out.extend_from_slice(&bodies);
        w.out
    }
}

struct Writer<'a> {
    out: Vec<u8>,
    ids: &'a HashMap<&'a str, usize>,
}

impl Writer<'_> {
    fn varint(&mut self, mut n: usize) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.out.push(byte);
                return;
            }
            self.out.push(byte | 0x80);
        }
    }

    fn string(&mut self, s: &str) {
        let toks = tokenize(s);
        self.varint(toks.len());
        for t in toks {
            let id = self.ids.get(t).copied().unwrap_or(0);
            self.varint(id);
        }
    }

    fn list(&mut self, items: &[usize]) {
        self.varint(items.len());
        for i in items {
            self.varint(*i);
        }
    }
}

/// Splits into CamelCase words (`Describe`, `ACL`), digit runs, `${...}` placeholders
/// and single other characters. Concatenating the tokens gives the string back.
fn tokenize(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let c = b[i];
        if c == b'$' && b.get(i + 1) == Some(&b'{') {
            match s[i..].find('}') {
                Some(end) => i += end + 1,
                None => i += 1,
            }
        } else if c.is_ascii_uppercase() {
            i += 1;
            if b.get(i).is_some_and(u8::is_ascii_lowercase) {
                while b.get(i).is_some_and(u8::is_ascii_lowercase) {
                    i += 1;
                }
            } else {
                // An acronym: up to the last capital before a lowercase letter.
                while b.get(i).is_some_and(u8::is_ascii_uppercase)
                    && !b.get(i + 1).is_some_and(u8::is_ascii_lowercase)
                {
                    i += 1;
                }
            }
        } else if c.is_ascii_lowercase() {
            while b.get(i).is_some_and(u8::is_ascii_lowercase) {
                i += 1;
            }
        } else if c.is_ascii_digit() {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        } else {
            // One character, whole (the catalog is ASCII, but stay on char boundaries).
            i += s[i..].chars().next().map_or(1, char::len_utf8);
        }
        out.push(&s[start..i]);
    }
    out
}
