//! What happened to every simulated device, the summary table, and the
//! demo's verdict: every honest device paid, no cheater paid.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use depin_statements::StatementKind;

/// Whether a device played fair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// An honest device.
    Honest,
    /// A cheater, with the name of its cheat.
    Cheater(String),
}

/// What became of a device's epoch at the prover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofOutcome {
    /// Not proven, and why (e.g. the job failed).
    NotProven(String),
    /// Proven: the reward the proof shows and the time it took.
    Proven {
        /// Reward units.
        reward: u64,
        /// Proving time in milliseconds.
        proving_ms: u64,
    },
}

/// What became of the device's claim on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// No claim was sent (nothing proven).
    NotClaimed,
    /// The contract paid.
    Paid {
        /// Tokens paid to the device's payout address.
        amount: u64,
        /// Gas of the claim transaction.
        gas: u64,
    },
    /// The contract refused, with its error's name.
    Refused(String),
}

/// One device's way through the system.
#[derive(Debug, Clone)]
pub struct DeviceOutcome {
    /// Device id (decimal field element).
    pub device: String,
    /// The statement it is rewarded under.
    pub statement: StatementKind,
    /// Honest or cheater.
    pub role: Role,
    /// Records the prover accepted at ingest.
    pub accepted: u64,
    /// Records the prover rejected at ingest, by reason.
    pub rejected: BTreeMap<String, u64>,
    /// The proof.
    pub proof: ProofOutcome,
    /// The claim.
    pub claim: ClaimOutcome,
}

impl DeviceOutcome {
    /// Whether the contract paid this device.
    pub fn paid(&self) -> bool {
        matches!(self.claim, ClaimOutcome::Paid { amount, .. } if amount > 0)
    }
}

/// Gas of a statement's epoch batches on chain.
#[derive(Debug, Clone)]
pub struct BatchGas {
    /// The statement.
    pub kind: StatementKind,
    /// Positions per batch.
    pub batch_size: usize,
    /// Gas of each `submitBatch` transaction.
    pub batches: Vec<u64>,
    /// Gas of each paid `withdraw` transaction.
    pub withdrawals: Vec<u64>,
}

impl BatchGas {
    /// A batch's gas divided by its positions (the cost of a device-epoch
    /// in a full batch), on average.
    pub fn per_device_epoch(&self) -> Option<u64> {
        mean(&self.batches).map(|g| (g / self.batch_size as f64).round() as u64)
    }
}

/// Everything the summary shows.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every device.
    pub devices: Vec<DeviceOutcome>,
    /// Deployment gas and runtime bytecode size per contract.
    pub deployments: Vec<(String, u64, usize)>,
    /// Attacks on the contract itself (e.g. a replayed claim) and the error
    /// each got; `None` when the attack succeeded.
    pub attacks: Vec<(String, Option<String>)>,
    /// Wall time of the whole run, seconds.
    pub wall_s: f64,
    /// Epoch batches on chain, per statement (empty when every device-epoch
    /// is claimed on its own).
    pub batch_gas: Vec<BatchGas>,
}

/// The run's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Honest devices paid.
    pub honest_paid: usize,
    /// Honest devices in the fleet.
    pub honest: usize,
    /// Cheaters refused.
    pub cheaters_refused: usize,
    /// Cheaters in the fleet.
    pub cheaters: usize,
    /// Contract-level attacks refused, of those tried.
    pub attacks_refused: usize,
    /// Contract-level attacks tried.
    pub attacks: usize,
}

impl Verdict {
    /// True when every honest device was paid, no cheater was paid and
    /// every attack on the contract was refused.
    pub fn ok(&self) -> bool {
        self.honest_paid == self.honest
            && self.cheaters_refused == self.cheaters
            && self.attacks_refused == self.attacks
    }
}

impl Report {
    /// Counts what the run must show.
    pub fn verdict(&self) -> Verdict {
        let honest: Vec<_> = self
            .devices
            .iter()
            .filter(|d| d.role == Role::Honest)
            .collect();
        let cheaters: Vec<_> = self
            .devices
            .iter()
            .filter(|d| d.role != Role::Honest)
            .collect();
        Verdict {
            honest_paid: honest.iter().filter(|d| d.paid()).count(),
            honest: honest.len(),
            cheaters_refused: cheaters.iter().filter(|d| !d.paid()).count(),
            cheaters: cheaters.len(),
            attacks_refused: self.attacks.iter().filter(|(_, e)| e.is_some()).count(),
            attacks: self.attacks.len(),
        }
    }

    /// The summary line of `kind` (nothing when no device proves it).
    fn render_statement(&self, out: &mut String, kind: StatementKind) {
        let ds: Vec<_> = self
            .devices
            .iter()
            .filter(|d| d.statement == kind)
            .collect();
        if ds.is_empty() {
            return;
        }
        let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
        for d in &ds {
            for (r, n) in &d.rejected {
                *reasons.entry(r.as_str()).or_default() += n;
            }
        }
        let proofs: Vec<u64> = ds
            .iter()
            .filter_map(|d| match d.proof {
                ProofOutcome::Proven { proving_ms, .. } => Some(proving_ms),
                ProofOutcome::NotProven(_) => None,
            })
            .collect();
        let gas: Vec<u64> = ds
            .iter()
            .filter_map(|d| match d.claim {
                ClaimOutcome::Paid { gas, .. } => Some(gas),
                _ => None,
            })
            .collect();
        let paid: u64 = ds
            .iter()
            .map(|d| match d.claim {
                ClaimOutcome::Paid { amount, .. } => amount,
                _ => 0,
            })
            .sum();
        let _ = writeln!(
            out,
            "{:<10} {:>7} {:>8} {:>8} {:>9} {:>7} {:>10} {:>11} {:>8}  {}",
            kind.as_str(),
            ds.len(),
            ds.iter().filter(|d| d.role != Role::Honest).count(),
            ds.iter().map(|d| d.accepted).sum::<u64>(),
            reasons.values().sum::<u64>(),
            proofs.len(),
            mean(&proofs).map_or("-".into(), |ms| format!("{:.1}", ms / 1000.0)),
            mean(&gas).map_or("-".into(), |g| format!("{g:.0}")),
            paid,
            if reasons.is_empty() {
                "-".to_string()
            } else {
                reasons
                    .iter()
                    .map(|(r, n)| format!("{r} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }

    /// The summary as text: per statement, then the cheaters, the contract
    /// attacks, deployments and the verdict.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<10} {:>7} {:>8} {:>8} {:>9} {:>7} {:>10} {:>11} {:>8}  rejected by reason",
            "statement",
            "devices",
            "cheaters",
            "accepted",
            "rejected",
            "proofs",
            "prove s/pf",
            "gas/claim",
            "paid"
        );
        for kind in StatementKind::ALL {
            self.render_statement(&mut out, kind);
        }

        if !self.batch_gas.is_empty() {
            let _ = writeln!(out);
        }
        for g in &self.batch_gas {
            if let Some(n) = g.per_device_epoch() {
                let _ = writeln!(
                    out,
                    "{:<10} gas per device-epoch: {n} (batches of {})",
                    g.kind.as_str(),
                    g.batch_size
                );
            }
            if let Some(w) = mean(&g.withdrawals) {
                let _ = writeln!(out, "{:<10} withdrawal gas: {w:.0}", g.kind.as_str());
            }
        }

        let cheaters: Vec<_> = self
            .devices
            .iter()
            .filter(|d| d.role != Role::Honest)
            .collect();
        if !cheaters.is_empty() {
            let _ = writeln!(out, "\ncheaters:");
            for d in cheaters {
                let Role::Cheater(cheat) = &d.role else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "  {:<10} {:<22} {:<14} {}",
                    d.statement.as_str(),
                    cheat,
                    short(&d.device),
                    d.fate()
                );
            }
        }
        if !self.attacks.is_empty() {
            let _ = writeln!(out, "\nattacks on the contract:");
            for (what, err) in &self.attacks {
                let fate = err
                    .as_ref()
                    .map_or_else(|| "NOT REFUSED".to_string(), |e| format!("refused: {e}"));
                let _ = writeln!(out, "  {what:<58} {fate}");
            }
        }
        if !self.deployments.is_empty() {
            let _ = writeln!(out, "\ncontracts:");
            for (name, gas, size) in &self.deployments {
                let _ = writeln!(
                    out,
                    "  {name:<24} deploy gas {gas:>9}   runtime bytecode {size:>6} B"
                );
            }
        }
        let v = self.verdict();
        let _ = writeln!(
            out,
            "\nhonest devices paid: {}/{}   cheaters refused: {}/{}   contract attacks refused: {}/{}   wall time: {:.1} s   {}",
            v.honest_paid,
            v.honest,
            v.cheaters_refused,
            v.cheaters,
            v.attacks_refused,
            v.attacks,
            self.wall_s,
            if v.ok() { "OK" } else { "FAILED" }
        );
        out
    }
}

impl DeviceOutcome {
    /// Where and why the device was stopped, or that it was paid.
    fn fate(&self) -> String {
        let ingest = if self.rejected.is_empty() {
            String::new()
        } else {
            format!(
                "records rejected {} ({}); ",
                self.rejected.values().sum::<u64>(),
                self.rejected.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        let rest = match (&self.proof, &self.claim) {
            (_, ClaimOutcome::Paid { amount, .. }) => format!("PAID {amount}"),
            (_, ClaimOutcome::Refused(e)) => format!("claim or withdrawal refused: {e}"),
            (ProofOutcome::NotProven(why), ClaimOutcome::NotClaimed) => {
                format!("not proven: {why}")
            }
            (ProofOutcome::Proven { reward, .. }, ClaimOutcome::NotClaimed) => {
                format!("proven reward {reward}, not claimed")
            }
        };
        format!("{ingest}{rest}")
    }
}

fn mean(v: &[u64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<u64>() as f64 / v.len() as f64)
}

fn short(id: &str) -> String {
    if id.len() > 12 {
        format!("{}…", &id[..12])
    } else {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(role: Role, claim: ClaimOutcome) -> DeviceOutcome {
        DeviceOutcome {
            device: "123".into(),
            statement: StatementKind::Uptime,
            role,
            accepted: 3,
            rejected: BTreeMap::new(),
            proof: ProofOutcome::Proven {
                reward: 5,
                proving_ms: 1000,
            },
            claim,
        }
    }

    fn report(devices: Vec<DeviceOutcome>) -> Report {
        Report {
            devices,
            ..Report::default()
        }
    }

    #[test]
    fn all_honest_paid_and_cheaters_refused_is_ok() {
        let r = report(vec![
            device(Role::Honest, ClaimOutcome::Paid { amount: 5, gas: 1 }),
            device(
                Role::Cheater("replay".into()),
                ClaimOutcome::Refused("ZeroReward".into()),
            ),
        ]);
        assert!(r.verdict().ok());
        assert!(r.render().contains("OK"));
    }

    #[test]
    fn an_unpaid_honest_device_fails_the_run() {
        let r = report(vec![device(Role::Honest, ClaimOutcome::NotClaimed)]);
        assert!(!r.verdict().ok());
        assert!(r.render().contains("FAILED"));
    }

    #[test]
    fn a_paid_cheater_fails_the_run() {
        let r = report(vec![device(
            Role::Cheater("forged signature".into()),
            ClaimOutcome::Paid { amount: 1, gas: 1 },
        )]);
        assert_eq!(r.verdict().cheaters_refused, 0);
        assert!(!r.verdict().ok());
    }

    #[test]
    fn an_attack_that_succeeds_fails_the_run() {
        let mut r = report(vec![]);
        r.attacks.push(("replay".into(), None));
        assert!(!r.verdict().ok());
    }
}
