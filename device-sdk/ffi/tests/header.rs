//! The committed C header is what cbindgen generates from `src/lib.rs`
//! with `cbindgen.toml`. `DEPIN_REGEN=1 cargo test -p depin-device-ffi
//! --test header` rewrites it.

use std::path::PathBuf;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("UTF-8 header")
}

#[test]
fn committed_header_matches_cbindgen() {
    let path = crate_dir().join("include/depin_device.h");
    let fresh = generate();
    if std::env::var_os("DEPIN_REGEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("writing the header");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run `DEPIN_REGEN=1 cargo test -p depin-device-ffi --test header`",
        path.display()
    );
    for name in [
        "depin_device_new",
        "depin_heartbeat_sign",
        "depin_prove_request_sign",
        "depin_chain_step",
        "depin_spool_open",
        "depin_spool_append",
        "depin_spool_close",
        "DEPIN_STATUS_SPOOL_FULL",
        "DEPIN_MAX_RECORD_LEN",
    ] {
        assert!(fresh.contains(name), "{name} missing from the header");
    }
}
