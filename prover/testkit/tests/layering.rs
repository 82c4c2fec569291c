//! The crate map's layering, held by a test on `cargo metadata`: what may
//! depend on what (normal and build dependencies, transitively through the
//! workspace; dev-dependencies are free).
//!
//! - the circuits (`circuits/`) depend on nothing of the prover, the
//!   device SDK or the API;
//! - the proving core (`prover/core`) depends on no circuit;
//! - the service does not depend on the device SDK;
//! - the chain client does not depend on the service;
//! - no library depends on `clap` or `anyhow` (binaries only).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// A workspace package as the rules see it.
#[derive(Debug, Clone)]
struct Package {
    /// Its folder, relative to the workspace root (`prover/core`).
    dir: String,
    /// Whether it has a library target.
    is_lib: bool,
    /// Workspace packages it depends on (normal and build).
    deps: BTreeSet<String>,
    /// Other crates it depends on directly (normal and build).
    external: BTreeSet<String>,
}

/// The workspace's packages from `cargo metadata --no-deps` output.
fn packages(metadata: &Value) -> BTreeMap<String, Package> {
    let root = metadata["workspace_root"].as_str().unwrap_or_default();
    let list = metadata["packages"].as_array().cloned().unwrap_or_default();
    let names: BTreeSet<String> = list
        .iter()
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect();
    list.iter()
        .filter_map(|p| {
            let name = p["name"].as_str()?.to_string();
            let manifest = p["manifest_path"].as_str()?;
            let dir = manifest
                .strip_prefix(root)
                .unwrap_or(manifest)
                .trim_start_matches('/')
                .trim_end_matches("Cargo.toml")
                .trim_end_matches('/')
                .to_string();
            let is_lib = p["targets"].as_array().is_some_and(|ts| {
                ts.iter().any(|t| {
                    t["kind"].as_array().is_some_and(|k| {
                        k.iter().any(|k| {
                            matches!(k.as_str(), Some("lib" | "rlib" | "staticlib" | "cdylib"))
                        })
                    })
                })
            });
            let mut deps = BTreeSet::new();
            let mut external = BTreeSet::new();
            for d in p["dependencies"].as_array().cloned().unwrap_or_default() {
                if d["kind"].as_str() == Some("dev") {
                    continue;
                }
                let dep = d["name"].as_str().unwrap_or_default().to_string();
                if names.contains(&dep) {
                    deps.insert(dep);
                } else {
                    external.insert(dep);
                }
            }
            Some((
                name,
                Package {
                    dir,
                    is_lib,
                    deps,
                    external,
                },
            ))
        })
        .collect()
}

/// Every workspace package `name` depends on, transitively.
fn closure(all: &BTreeMap<String, Package>, name: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_string()];
    while let Some(n) = todo.pop() {
        for d in all.get(&n).map(|p| p.deps.clone()).unwrap_or_default() {
            if seen.insert(d.clone()) {
                todo.push(d);
            }
        }
    }
    seen
}

/// What breaks the layering, one line each.
fn violations(metadata: &Value) -> Vec<String> {
    let all = packages(metadata);
    let dir_of = |n: &str| all.get(n).map(|p| p.dir.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for (name, pkg) in &all {
        let deps = closure(&all, name);
        if pkg.dir.starts_with("circuits/") {
            for d in &deps {
                let dd = dir_of(d);
                if ["prover/", "device-sdk", "proto"]
                    .iter()
                    .any(|p| dd.starts_with(p))
                {
                    out.push(format!("circuit {name} depends on {d} ({dd})"));
                }
            }
        }
        if pkg.dir == "prover/core" {
            for d in &deps {
                if dir_of(d).starts_with("circuits/") {
                    out.push(format!("the proving core depends on the circuit {d}"));
                }
            }
        }
        if name == "depin-service" && deps.contains("depin-device-sdk") {
            out.push("the service depends on the device SDK".into());
        }
        if name == "depin-chain" && deps.contains("depin-service") {
            out.push("the chain client depends on the service".into());
        }
        if pkg.is_lib {
            for bad in ["clap", "anyhow"] {
                if pkg.external.contains(bad) {
                    out.push(format!("the library {name} depends on {bad}"));
                }
            }
        }
    }
    out
}

#[test]
fn the_workspace_keeps_its_layers() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(depin_testkit::repo_root())
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let all = packages(&metadata);
    // The rules see the whole map.
    for name in [
        "depin-crypto",
        "depin-statements",
        "depin-gadgets",
        "depin-statements-r1cs",
        "depin-prover-core",
        "depin-service",
        "depin-chain",
        "depin-device-sdk",
        "depin-prover",
    ] {
        assert!(all.contains_key(name), "{name} is not in the workspace");
    }
    assert_eq!(violations(&metadata), Vec::<String>::new());
}

/// A two-package workspace: `lib` (a library in `dir`) depending on
/// `dep` (in `dep_dir`), and `lib` on `external`.
fn synthetic(dir: &str, name: &str, dep: &str, dep_dir: &str, external: &str) -> Value {
    let package = |name: &str, dir: &str, deps: Vec<Value>| {
        serde_json::json!({
            "name": name,
            "manifest_path": format!("/ws/{dir}/Cargo.toml"),
            "targets": [{ "kind": ["lib"] }],
            "dependencies": deps,
        })
    };
    serde_json::json!({
        "workspace_root": "/ws",
        "packages": [
            package(name, dir, vec![
                serde_json::json!({ "name": dep, "kind": null }),
                serde_json::json!({ "name": external, "kind": null }),
                serde_json::json!({ "name": "depin-service", "kind": "dev" }),
            ]),
            package(dep, dep_dir, vec![]),
            package("depin-service", "prover/service", vec![]),
        ],
    })
}

#[test]
fn each_rule_catches_its_violation() {
    let cases = [
        (
            synthetic(
                "circuits/statements",
                "depin-statements",
                "depin-groth16",
                "prover/groth16",
                "serde",
            ),
            "circuit depin-statements depends on depin-groth16 (prover/groth16)",
        ),
        (
            synthetic(
                "prover/core",
                "depin-prover-core",
                "depin-gadgets",
                "circuits/r1cs/gadgets",
                "rayon",
            ),
            "the proving core depends on the circuit depin-gadgets",
        ),
        (
            synthetic(
                "prover/chain",
                "depin-chain",
                "depin-x",
                "prover/x",
                "alloy",
            ),
            "",
        ),
        (
            synthetic("prover/evm", "depin-evm", "depin-x", "prover/x", "anyhow"),
            "the library depin-evm depends on anyhow",
        ),
    ];
    for (metadata, want) in cases {
        let v = violations(&metadata);
        if want.is_empty() {
            // A dev-dependency on the service is allowed.
            assert!(v.is_empty(), "{v:?}");
        } else {
            assert!(v.iter().any(|l| l == want), "{want:?} not in {v:?}");
        }
    }
    // Transitive: the service reaches the device SDK through another crate.
    let metadata = serde_json::json!({
        "workspace_root": "/ws",
        "packages": [
            { "name": "depin-service", "manifest_path": "/ws/prover/service/Cargo.toml",
              "targets": [{ "kind": ["lib"] }],
              "dependencies": [{ "name": "depin-middle", "kind": null }] },
            { "name": "depin-middle", "manifest_path": "/ws/prover/middle/Cargo.toml",
              "targets": [{ "kind": ["lib"] }],
              "dependencies": [{ "name": "depin-device-sdk", "kind": "build" }] },
            { "name": "depin-device-sdk", "manifest_path": "/ws/device-sdk/Cargo.toml",
              "targets": [{ "kind": ["lib"] }], "dependencies": [] },
            { "name": "depin-chain", "manifest_path": "/ws/prover/chain/Cargo.toml",
              "targets": [{ "kind": ["lib"] }],
              "dependencies": [{ "name": "depin-service", "kind": null }] },
        ],
    });
    let v = violations(&metadata);
    assert!(
        v.contains(&"the service depends on the device SDK".to_string()),
        "{v:?}"
    );
    assert!(
        v.contains(&"the chain client depends on the service".to_string()),
        "{v:?}"
    );
}
