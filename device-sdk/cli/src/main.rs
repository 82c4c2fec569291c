//! `depin-device`: circomlib-compatible Poseidon hashing and EdDSA-Poseidon
//! keys and signatures from the command line, and a device's key file,
//! configuration and durable spool (`init`, `record`, `status`), the spool's
//! delivery to the prover (`submit`) and a simulated fleet (`simulate`).
//!
//! Machine-readable results go to standard output; errors go to standard
//! error. Exit status: 0 success (or a valid signature), 1 an invalid
//! signature or a failed `simulate --check`, 2 malformed input, usage or
//! any other error, 3 `record` with a full spool (nothing was written).

mod device;
mod simulate;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::{Parser, Subcommand};
use depin_crypto::eddsa::{PrivateKey, PublicKey, Signature};
use depin_crypto::field::fr_to_string;
use depin_crypto::poseidon::{self, MAX_INPUTS};
use depin_device_sdk::decimal::{
    decode_field, decode_point, decode_u256, DecimalPoint, DecimalSignedBy, PointLabels,
};
use depin_device_sdk::keys::{encode_private_key_hex, parse_private_key_hex, KEY_HEX_LEN};
use zeroize::Zeroize;

/// circomlib-compatible Poseidon and EdDSA-Poseidon (Baby Jubjub) tool.
///
/// Exit status: 0 on success or a valid signature, 1 for an invalid
/// signature (or a failed `simulate --check`), 2 for malformed input or
/// another error, 3 when `record` finds the spool full.
#[derive(Debug, Parser)]
#[command(name = "depin-device", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print circomlib's Poseidon of 1 to 16 decimal field elements, in decimal.
    Hash {
        /// Canonical decimal field elements (below the BN254 scalar modulus).
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        inputs: Vec<String>,
    },
    /// Print a fresh 32-byte private key in hex, drawn from the OS RNG.
    Keygen,
    /// Print the public key of a private key as {"x": "...", "y": "..."}.
    Pubkey {
        /// The private key, 64 hex digits.
        #[arg(long, allow_hyphen_values = true)]
        key_hex: String,
    },
    /// Sign a field element; print {"pub": {..}, "r8": {..}, "s": ".."}.
    Sign {
        /// The private key, 64 hex digits.
        #[arg(long, allow_hyphen_values = true)]
        key_hex: String,
        /// The message, a canonical decimal field element.
        #[arg(long, allow_hyphen_values = true)]
        message: String,
    },
    /// Verify a signature: prints "valid" (exit 0) or "invalid: REASON" (exit 1).
    Verify {
        /// Public key x (decimal, circomlib coordinates).
        #[arg(long, allow_hyphen_values = true)]
        pub_x: String,
        /// Public key y (decimal).
        #[arg(long, allow_hyphen_values = true)]
        pub_y: String,
        /// Signature R8 x (decimal).
        #[arg(long, allow_hyphen_values = true)]
        r8_x: String,
        /// Signature R8 y (decimal).
        #[arg(long, allow_hyphen_values = true)]
        r8_y: String,
        /// Signature S, a decimal integer below 2^256.
        #[arg(long, allow_hyphen_values = true)]
        s: String,
        /// The signed message, a canonical decimal field element.
        #[arg(long, allow_hyphen_values = true)]
        message: String,
    },
    /// Create a device: a key file (mode 0600), device.toml and the state
    /// directory; print the device id and public key.
    Init(device::InitArgs),
    /// Sign a measurement and append it to the device's spool; print its
    /// sequence number (exit 3 if the spool is full).
    Record(device::RecordArgs),
    /// Print the spool's counters and the chains' states.
    Status(device::StatusArgs),
    /// Send the device's spooled records to the prover, acknowledging what
    /// it answered; retries while it is unavailable. Prints a JSON summary.
    Submit(device::SubmitArgs),
    /// Register a simulated fleet of honest and cheating devices with a
    /// running prover, publish the epoch if needed, submit every device's
    /// records and summarise the verdicts.
    Simulate(simulate::SimulateArgs),
}

/// What a successful run reports.
enum Outcome {
    /// Exit 0.
    Done,
    /// The signature did not verify: exit 1.
    Invalid,
    /// `record` found the spool full: exit 3.
    SpoolFull(anyhow::Error),
}

const PUB_FLAGS: PointLabels = PointLabels {
    x: "--pub-x",
    y: "--pub-y",
    point: "public key (--pub-x, --pub-y)",
};
const R8_FLAGS: PointLabels = PointLabels {
    x: "--r8-x",
    y: "--r8-y",
    point: "R8 (--r8-x, --r8-y)",
};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors exit 2, --help and --version exit 0.
        Err(e) => e.exit(),
    };
    match run(cli) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) => ExitCode::from(1),
        Ok(Outcome::SpoolFull(e)) => {
            eprintln!("depin-device: error: {e:#}");
            ExitCode::from(device::EXIT_SPOOL_FULL)
        }
        Err(e) => {
            eprintln!("depin-device: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn key_from_hex(hex: &str) -> anyhow::Result<PrivateKey> {
    parse_private_key_hex(hex).context("--key-hex")
}

/// TLS options of the commands that talk to the prover (`https://`
/// endpoints).
#[derive(Debug, clap::Args)]
struct TlsArgs {
    /// PEM file of the CA that signed the prover's certificate (default
    /// with an `https://` endpoint: the public webpki roots).
    #[arg(long)]
    ca_cert: Option<std::path::PathBuf>,
    /// PEM file of this client's certificate, for a prover that requires
    /// mutual TLS (with --client-key and --ca-cert).
    #[arg(long, requires_all = ["client_key", "ca_cert"])]
    client_cert: Option<std::path::PathBuf>,
    /// PEM file of the private key of --client-cert.
    #[arg(long, requires = "client_cert")]
    client_key: Option<std::path::PathBuf>,
}

impl TlsArgs {
    /// The client's TLS settings, if any were given.
    fn client_tls(&self) -> anyhow::Result<Option<depin_device_sdk::client::ClientTls>> {
        let Some(ca) = &self.ca_cert else {
            return Ok(None);
        };
        let identity = self.client_cert.as_deref().zip(self.client_key.as_deref());
        Ok(Some(depin_device_sdk::client::ClientTls::from_files(
            ca, identity,
        )?))
    }
}

fn print_line(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{s}")
        .and_then(|()| out.flush())
        .context("writing to standard output")
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Init(args) => device::init(args)?,
        Command::Record(args) => match device::record(args) {
            Ok(()) => {}
            Err(device::RecordFailure::SpoolFull(e)) => return Ok(Outcome::SpoolFull(e)),
            Err(device::RecordFailure::Other(e)) => return Err(e),
        },
        Command::Status(args) => device::status(args)?,
        Command::Submit(args) => device::submit(args)?,
        Command::Simulate(args) => {
            if !simulate::simulate(args)? {
                eprintln!(
                    "depin-device: check failed: an honest record was not accepted, a cheater's was, or a call failed"
                );
                return Ok(Outcome::Invalid);
            }
        }
        Command::Hash { inputs } => {
            if inputs.len() > MAX_INPUTS {
                return Err(anyhow!(poseidon::PoseidonError::Arity(inputs.len())));
            }
            let mut xs = Vec::with_capacity(inputs.len());
            for (i, arg) in inputs.iter().enumerate() {
                let x = depin_crypto::field::fr_from_decimal(arg)
                    .with_context(|| format!("input {} ({arg:?})", i + 1))?;
                xs.push(x);
            }
            let h = poseidon::hash(&xs)?;
            print_line(&fr_to_string(&h))?;
        }
        Command::Keygen => {
            let key = PrivateKey::generate(&mut rand::rngs::OsRng);
            let mut buf = [0u8; KEY_HEX_LEN];
            let r = print_line(encode_private_key_hex(&key, &mut buf));
            buf.zeroize();
            r?;
        }
        Command::Pubkey { mut key_hex } => {
            let key = key_from_hex(&key_hex);
            key_hex.zeroize();
            let pk = key?.public_key();
            print_line(&serde_json::to_string(&DecimalPoint::from_point(&pk.0))?)?;
        }
        Command::Sign {
            mut key_hex,
            message,
        } => {
            let key = key_from_hex(&key_hex);
            key_hex.zeroize();
            let key = key?;
            let msg = decode_field("--message", &message)?;
            let sig = key.sign(&msg);
            let out = DecimalSignedBy::new(&key.public_key(), &sig);
            print_line(&serde_json::to_string(&out)?)?;
        }
        Command::Verify {
            pub_x,
            pub_y,
            r8_x,
            r8_y,
            s,
            message,
        } => {
            // Malformed input (exit 2) is everything that is not a field
            // element, not on the curve, or not a 256-bit integer; anything
            // else is judged by verification (exit 0 or 1), including a
            // small-order key or an S at or above the subgroup order.
            let key = PublicKey(decode_point(PUB_FLAGS, &pub_x, &pub_y)?);
            let r8 = decode_point(R8_FLAGS, &r8_x, &r8_y)?;
            let s = decode_u256("--s", &s)?;
            let msg = decode_field("--message", &message)?;
            match key.verify(&msg, &Signature { r8, s }) {
                Ok(()) => print_line("valid")?,
                Err(e) => {
                    print_line(&format!("invalid: {e}"))?;
                    return Ok(Outcome::Invalid);
                }
            }
        }
    }
    Ok(Outcome::Done)
}
