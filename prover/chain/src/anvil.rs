//! A local `anvil` node for tests and the demo.
//!
//! [`Anvil::spawn`] starts the pinned binary (`tools/js/node_modules/.bin/
//! anvil`, installed by `scripts/setup.sh`; env `DEPIN_ANVIL` names another)
//! on `127.0.0.1` with a port the OS picks, reads the address it listens on
//! from its output, and returns once `eth_chainId` answers. The process is
//! killed when the [`Anvil`] is dropped. Its accounts are those of anvil's
//! default mnemonic (`test test ... junk`), each funded with 10,000 ETH:
//! [`DEV_KEYS`].

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::errors::ChainError;

/// The environment variable naming the anvil binary to run instead of the
/// pinned one.
pub const ANVIL_ENV: &str = "DEPIN_ANVIL";

/// The pinned anvil, relative to the repository root.
pub const ANVIL_PATH: &str = "tools/js/node_modules/.bin/anvil";

/// The chain id anvil uses by default.
pub const ANVIL_CHAIN_ID: u64 = 31337;

/// The private keys of anvil's ten default accounts (mnemonic `test test
/// test test test test test test test test test junk`, path
/// `m/44'/60'/0'/0/i`). Public development keys: never use them elsewhere.
pub const DEV_KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// How long [`Anvil::spawn`] waits for the node to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes of anvil's standard error kept for error messages.
const STDERR_KEEP: usize = 4096;

/// A running anvil node, killed on drop.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    addr: SocketAddr,
    endpoint: String,
    binary: PathBuf,
}

impl Anvil {
    /// The anvil binary: `$DEPIN_ANVIL` when set, else
    /// `<repo_root>/tools/js/node_modules/.bin/anvil`.
    pub fn binary(repo_root: &Path) -> PathBuf {
        match std::env::var_os(ANVIL_ENV) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => repo_root.join(ANVIL_PATH),
        }
    }

    /// Whether [`Anvil::binary`] exists.
    pub fn is_installed(repo_root: &Path) -> bool {
        Self::binary(repo_root).is_file()
    }

    /// Starts [`Anvil::binary`]`(repo_root)`; see [`Anvil::spawn_binary`].
    pub fn spawn(repo_root: &Path) -> Result<Self, ChainError> {
        Self::spawn_binary(&Self::binary(repo_root), &[])
    }

    /// Starts `binary` on `127.0.0.1` with a free port and the extra
    /// arguments `args`, and waits until it answers JSON-RPC.
    ///
    /// # Errors
    ///
    /// [`ChainError::AnvilMissing`] when `binary` does not exist,
    /// [`ChainError::AnvilStart`] when it exits, does not say where it
    /// listens or does not answer within 30 s.
    pub fn spawn_binary(binary: &Path, args: &[&str]) -> Result<Self, ChainError> {
        if !binary.is_file() {
            return Err(ChainError::AnvilMissing {
                path: binary.to_path_buf(),
            });
        }
        let start_error = |reason: String| ChainError::AnvilStart {
            path: binary.to_path_buf(),
            reason,
        };
        let mut child = Command::new(binary)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| start_error(format!("spawning: {e}")))?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        // Until it is returned the Anvil kills the child on any error.
        let mut anvil = Anvil {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            endpoint: String::new(),
            binary: binary.to_path_buf(),
        };

        let rx = watch_listening_line(stdout);
        let errors = keep_stderr(stderr);
        let stderr_text = || {
            let kept = errors.lock().unwrap_or_else(|p| p.into_inner());
            let t = kept.trim();
            if t.is_empty() {
                String::new()
            } else {
                format!("; stderr: {t}")
            }
        };

        let deadline = Instant::now() + START_TIMEOUT;
        let addr = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(addr) => break addr,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // Give the stderr reader a moment to collect the reason.
                    std::thread::sleep(Duration::from_millis(200));
                    let status = anvil.child.try_wait().ok().flatten();
                    return Err(start_error(format!(
                        "it exited ({}) without saying where it listens{}",
                        status.map_or_else(|| "still running".into(), |s| s.to_string()),
                        stderr_text()
                    )));
                }
            }
            if let Ok(Some(status)) = anvil.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                return Err(start_error(format!(
                    "it exited ({status}){}",
                    stderr_text()
                )));
            }
            if Instant::now() > deadline {
                return Err(start_error(format!(
                    "no \"Listening on\" line within {} s{}",
                    START_TIMEOUT.as_secs(),
                    stderr_text()
                )));
            }
        };
        anvil.addr = addr;
        anvil.endpoint = format!("http://{addr}");

        loop {
            if chain_id_answers(addr) {
                return Ok(anvil);
            }
            if let Ok(Some(status)) = anvil.child.try_wait() {
                return Err(start_error(format!(
                    "it exited ({status}){}",
                    stderr_text()
                )));
            }
            if Instant::now() > deadline {
                return Err(start_error(format!(
                    "{addr} did not answer eth_chainId within {} s{}",
                    START_TIMEOUT.as_secs(),
                    stderr_text()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The JSON-RPC endpoint, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The address the node listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The binary that runs.
    pub fn binary_path(&self) -> &Path {
        &self.binary
    }

    /// The chain id ([`ANVIL_CHAIN_ID`] unless `--chain-id` was passed).
    pub fn chain_id(&self) -> u64 {
        ANVIL_CHAIN_ID
    }

    /// The private keys of the funded development accounts ([`DEV_KEYS`]).
    pub fn keys(&self) -> &'static [&'static str] {
        &DEV_KEYS
    }

    /// The private key of development account `i` (0 to 9).
    ///
    /// # Panics
    ///
    /// If `i` is 10 or more.
    pub fn key(&self, i: usize) -> &'static str {
        DEV_KEYS[i]
    }

    /// The node's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads anvil's standard output on a thread: sends the address of its
/// "Listening on" line, then drains the rest (anvil logs every request and
/// transaction there).
fn watch_listening_line(stdout: Option<std::process::ChildStdout>) -> mpsc::Receiver<SocketAddr> {
    let (tx, rx) = mpsc::channel::<SocketAddr>();
    if let Some(out) = stdout {
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(addr) = line
                        .trim()
                        .strip_prefix("Listening on ")
                        .and_then(|a| a.trim().parse().ok())
                    {
                        let _ = tx.send(addr);
                        sent = true;
                    }
                }
            }
        });
    }
    rx
}

/// Keeps the last [`STDERR_KEEP`] bytes of anvil's standard error, read on
/// a thread (the reason when it fails to start).
fn keep_stderr(stderr: Option<std::process::ChildStderr>) -> Arc<Mutex<String>> {
    let errors = Arc::new(Mutex::new(String::new()));
    if let Some(mut err) = stderr {
        let errors = Arc::clone(&errors);
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut kept = errors.lock().unwrap_or_else(|p| p.into_inner());
                kept.push_str(&String::from_utf8_lossy(&buf[..n]));
                if kept.len() > STDERR_KEEP {
                    let cut = kept.len() - STDERR_KEEP;
                    let cut = (cut..kept.len())
                        .find(|&i| kept.is_char_boundary(i))
                        .unwrap_or(kept.len());
                    kept.drain(..cut);
                }
            }
        });
    }
    errors
}

/// Whether `addr` answers an `eth_chainId` request (plain HTTP/1.1, so that
/// starting a node needs no async runtime).
fn chain_id_answers(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200") && response.contains("\"result\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_anvil_says_how_to_install() {
        let e = Anvil::spawn_binary(Path::new("/nonexistent/anvil"), &[]).unwrap_err();
        assert!(matches!(e, ChainError::AnvilMissing { .. }), "{e:?}");
        assert!(e.to_string().contains("run scripts/setup.sh"), "{e}");
    }
}
