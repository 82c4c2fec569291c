//! Compiles `depin/prover/v1/prover.proto` with the pure-Rust `protox`
//! (no `protoc` needed) and generates prost messages and tonic services.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "depin/prover/v1/prover.proto";
    println!("cargo:rerun-if-changed={proto}");
    let fds = protox::compile([proto], ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    // The descriptor set, for server reflection.
    std::fs::write(
        out.join("depin_prover_v1_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
