//! The prover the demo talks to: one it starts in this process (embedded
//! store, insecure development keys from the golden seed, so they match
//! the committed verifier contracts, Groth16 or halo2), or one already
//! running.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ark_bn254::Bn254;
use ark_serialize::CanonicalDeserialize;
use depin_device_sdk::client::{pb, ClientConfig, ClientError, ProverClient};
use depin_groth16::golden::SETUP_SEED;
use depin_groth16::keys::{VerifyingKey, VERIFYING_KEY_FILE};
use depin_proto::convert::kind_to_pb;
use depin_proving::Backend;
use depin_service::{self as service, Config, RunningService};
use depin_statements::StatementKind;

/// A prover endpoint and its operator token.
pub struct Node {
    /// gRPC endpoint, `http://host:port`.
    pub endpoint: String,
    /// Operator bearer token.
    pub token: String,
    service: Option<RunningService>,
}

impl Node {
    /// Starts a prover on a free loopback port, proving every statement
    /// with `backend`, in epoch batches of `batch` (0: every device-epoch on
    /// its own). Its store starts empty in `data/store`; its keys live in
    /// `data/keys` and are made there once (halo2's proving keys at every
    /// start, from the parameters kept there).
    pub async fn start(data: &Path, batch: usize, backend: Backend) -> Result<Self> {
        let store = data.join("store");
        if store.exists() {
            std::fs::remove_dir_all(&store)
                .with_context(|| format!("clearing {}", store.display()))?;
        }
        let token = fresh_token()?;
        let config = Config {
            listen: "127.0.0.1:0".parse().context("loopback address")?,
            metrics_listen: "127.0.0.1:0".into(),
            data_dir: store,
            keys_dir: Some(data.join("keys")),
            dev_keys: true,
            dev_seed: SETUP_SEED,
            operator_token: Some(token.clone()),
            shutdown_grace_s: 5,
            batch_size: batch,
            // The fleet asks for every proof at once: a batch is full or
            // formed with what waits two seconds after the first.
            batch_deadline_s: 2.0,
            backends: StatementKind::ALL
                .iter()
                .map(|k| (k.as_str().to_string(), backend.as_str().to_string()))
                .collect(),
            ..Config::default()
        };
        let running = service::start(config)
            .await
            .context("starting the prover")?;
        Ok(Node {
            endpoint: format!("http://{}", running.addr),
            token,
            service: Some(running),
        })
    }

    /// A prover that is already running.
    pub async fn connect(endpoint: &str, token: &str) -> Result<Self> {
        ProverClient::connect(endpoint, ClientConfig::default())
            .await
            .with_context(|| format!("connecting to the prover at {endpoint}"))?;
        Ok(Node {
            endpoint: endpoint.to_string(),
            token: token.to_string(),
            service: None,
        })
    }

    /// Waits until the prover's keys are loaded (made first, on a first
    /// run), then checks each verifying key is of `backend` and the golden
    /// one the deployed verifier contracts were generated from.
    pub async fn wait_for_golden_keys(&self, repo: &Path, backend: Backend) -> Result<()> {
        let mut client = ProverClient::connect(
            &self.endpoint,
            ClientConfig {
                retries: 0,
                ..ClientConfig::default()
            },
        )
        .await?;
        for kind in StatementKind::ALL {
            let got = loop {
                match client.get_verifying_key(kind_to_pb(kind)).await {
                    Ok(vk) => break vk,
                    Err(ClientError::Status(s)) if s.code() == tonic::Code::Unavailable => {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Err(e) => return Err(e).context("asking the prover for its verifying key"),
                }
            };
            let system = match got.proof_system() {
                pb::ProofSystem::Halo2 => Backend::Halo2,
                _ => Backend::Groth16,
            };
            if system != backend {
                bail!(
                    "the prover proves {} with {system}, not {backend}",
                    kind.as_str()
                );
            }
            if backend == Backend::Halo2 {
                let golden_path = repo
                    .join("prover/golden/halo2")
                    .join(kind.as_str())
                    .join(depin_halo2_prover::keys::VERIFYING_KEY_FILE);
                let golden = std::fs::read(&golden_path)
                    .with_context(|| format!("reading {}", golden_path.display()))?;
                if got.binary != golden {
                    bail!(
                        "the prover's {} halo2 verifying key is not the golden one the verifier \
                         contract was generated from ({}); a prover with other parameters needs \
                         its own verifier (`depin-prover export-verifier --backend halo2`)",
                        kind.as_str(),
                        golden_path.display()
                    );
                }
                continue;
            }
            let served =
                ark_groth16::VerifyingKey::<Bn254>::deserialize_compressed(got.binary.as_slice())
                    .context("the prover's verifying key does not parse")?;
            let golden_path = repo
                .join("prover/golden/v1")
                .join(kind.as_str())
                .join(VERIFYING_KEY_FILE);
            let golden = VerifyingKey::load(&golden_path, kind)
                .with_context(|| format!("loading {}", golden_path.display()))?;
            if &served != golden.as_arkworks() {
                bail!(
                    "the prover's {} verifying key is not the golden one the verifier contract \
                     was generated from ({}); a prover with other keys needs its own verifier \
                     (`depin-prover export-verifier`)",
                    kind.as_str(),
                    golden_path.display()
                );
            }
        }
        Ok(())
    }

    /// Stops the prover the demo started.
    pub async fn stop(self) {
        if let Some(s) = self.service {
            s.shutdown();
            let _ = s.wait().await;
        }
    }
}

/// A random operator token for the prover this run starts.
fn fresh_token() -> Result<String> {
    use rand::Rng;
    let bytes: [u8; 16] = rand::thread_rng().gen();
    Ok(format!("demo-{}", hex::encode(bytes)))
}
