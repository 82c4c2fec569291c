//! `simulate`: a fleet of honest and cheating devices against a running
//! prover service, with a progress bar and a summary of the verdicts.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use depin_crypto::field::fr_to_string;
use depin_device_sdk::client::{ClientConfig, RecordOutcome};
use depin_fleet::{
    Behaviour, CheatKind, Fleet, FleetConfig, FleetReport, Phase, Progress, ProgressFn, Totals,
};
use depin_statements::StatementKind;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

/// `depin-device simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Number of devices.
    #[arg(long)]
    devices: usize,
    /// The epoch to submit records for (published with the fleet's
    /// policies unless it is published already).
    #[arg(long)]
    epoch: u32,
    /// The prover service's endpoint.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    prover: String,
    /// The operator's bearer token (registers devices and clients,
    /// publishes the epoch).
    #[arg(long)]
    operator_token: String,
    /// Seed of every key and record (the same seed gives the same fleet).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fraction of cheating devices, 0 to 1.
    #[arg(long, default_value_t = 0.2)]
    cheaters: f64,
    /// Uptime slots per epoch, 1 to 96 (when this run publishes the epoch).
    #[arg(long, default_value_t = 96)]
    slots: u32,
    /// Devices submitting at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Records per request.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Deadline of each call, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout_s: u64,
    /// Print the report as JSON on standard output instead of tables.
    #[arg(long)]
    json: bool,
    /// Exit with status 1 unless every honest record was accepted and no
    /// cheater's record was.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    tls: crate::TlsArgs,
}

/// The bar of the phase being shown.
type CurrentBar = Arc<Mutex<Option<(Phase, ProgressBar)>>>;

fn progress_bars() -> (ProgressFn, CurrentBar) {
    let current: CurrentBar = Arc::new(Mutex::new(None));
    let state = current.clone();
    let f: ProgressFn = Arc::new(move |p: Progress| {
        let Ok(mut cur) = state.lock() else { return };
        if cur.as_ref().map(|(ph, _)| *ph) != Some(p.phase) {
            if let Some((_, old)) = cur.take() {
                old.finish();
            }
            let bar = ProgressBar::new(p.total);
            let (label, unit) = match p.phase {
                Phase::Registering => ("registering", "keys"),
                Phase::Submitting => ("submitting", "devices"),
            };
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{label:>12} [{{bar:40.cyan/blue}}] {{pos}}/{{len}} {unit} {{msg}} ({{elapsed}}, eta {{eta}})"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            *cur = Some((p.phase, bar));
        }
        if let Some((_, bar)) = cur.as_ref() {
            if p.done > bar.position() {
                bar.set_position(p.done);
            }
            if p.phase == Phase::Submitting {
                bar.set_message(format!("{} records answered", p.records));
            }
        }
    });
    (f, current)
}

fn totals_row(out: &mut String, label: &str, who: &str, t: &Totals) {
    let _ = writeln!(
        out,
        "{label:<10} {who:<9} {:>7} {:>8} {:>9} {:>9} {:>8} {:>9} {:>7}",
        t.devices, t.sent, t.accepted, t.rejected, t.refused, t.rejected_when_proving, t.failed
    );
}

fn tables(report: &FleetReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:<9} {:>7} {:>8} {:>9} {:>9} {:>8} {:>9} {:>7}",
        "statement",
        "who",
        "devices",
        "records",
        "accepted",
        "rejected",
        "refused",
        "@proving",
        "failed"
    );
    for kind in [
        StatementKind::Uptime,
        StatementKind::Bandwidth,
        StatementKind::Coverage,
    ] {
        for (who, honest) in [("honest", true), ("cheaters", false)] {
            let t =
                report.totals_where(|d| d.statement == kind && d.behaviour.is_honest() == honest);
            if t.devices > 0 {
                totals_row(&mut out, kind.as_str(), who, &t);
            }
        }
    }
    totals_row(&mut out, "all", "honest", &report.honest);
    totals_row(&mut out, "all", "cheaters", &report.cheaters);

    let _ = writeln!(out);
    if report.by_reason.is_empty() {
        let _ = writeln!(out, "no record was rejected or refused");
    } else {
        let _ = writeln!(
            out,
            "{:<24} {:>4} {:>8} {:>9}",
            "reason", "code", "honest", "cheaters"
        );
        for (reason, t) in &report.by_reason {
            let _ = writeln!(
                out,
                "{:<24} {:>4} {:>8} {:>9}",
                reason.as_str(),
                reason.code(),
                t.honest,
                t.cheaters
            );
        }
    }

    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<22} {:<10} {:>7} {:>8} {:>9}  reasons (expected)",
        "cheat", "statement", "devices", "records", "accepted"
    );
    for kind in CheatKind::ALL {
        let devs: Vec<_> = report
            .devices
            .iter()
            .filter(|d| d.behaviour == Behaviour::Cheater(kind))
            .collect();
        if devs.is_empty() {
            continue;
        }
        let mut reasons = std::collections::BTreeMap::new();
        for d in &devs {
            for (r, n) in d.reasons() {
                *reasons.entry(r).or_insert(0u64) += u64::from(n);
            }
        }
        let listed: Vec<String> = reasons
            .iter()
            .map(|(r, n)| format!("{} x{n}", r.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "{:<22} {:<10} {:>7} {:>8} {:>9}  {} ({})",
            kind.as_str(),
            kind.statement().as_str(),
            devs.len(),
            devs.iter().map(|d| u64::from(d.sent)).sum::<u64>(),
            devs.iter().map(|d| u64::from(d.accepted)).sum::<u64>(),
            if listed.is_empty() {
                "-".to_string()
            } else {
                listed.join(", ")
            },
            kind.expected_reason().as_str()
        );
    }
    let errors: Vec<String> = report
        .devices
        .iter()
        .flat_map(|d| {
            d.errors
                .iter()
                .map(move |e| format!("device {}: {e}", d.index))
        })
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "\n{} call errors, first: {}", errors.len(), errors[0]);
    }
    out
}

fn outcome_json(o: Option<RecordOutcome>) -> serde_json::Value {
    match o {
        None => serde_json::Value::Null,
        Some(RecordOutcome::Accepted) => json!("accepted"),
        Some(RecordOutcome::Rejected(r)) => json!({"rejected": r.as_str()}),
        Some(RecordOutcome::Refused(r)) => json!({"refused": r.as_str()}),
    }
}

fn report_json(report: &FleetReport) -> serde_json::Value {
    let map = |m: &std::collections::BTreeMap<depin_statements::RejectReason, u32>| {
        m.iter()
            .map(|(r, n)| (r.as_str().to_string(), json!(n)))
            .collect::<serde_json::Map<_, _>>()
    };
    let totals = |t: &Totals| {
        json!({
            "devices": t.devices, "sent": t.sent, "accepted": t.accepted,
            "rejected": t.rejected, "refused": t.refused,
            "rejected_when_proving": t.rejected_when_proving, "failed": t.failed,
        })
    };
    json!({
        "epoch": report.epoch,
        "elapsed_s": report.elapsed.as_secs_f64(),
        "honest": totals(&report.honest),
        "cheaters": totals(&report.cheaters),
        "by_statement": report.by_statement.iter()
            .map(|(k, t)| (k.as_str().to_string(), totals(t)))
            .collect::<serde_json::Map<_, _>>(),
        "by_reason": report.by_reason.iter()
            .map(|(r, t)| (r.as_str().to_string(), json!({"code": r.code(), "honest": t.honest, "cheaters": t.cheaters})))
            .collect::<serde_json::Map<_, _>>(),
        "devices": report.devices.iter().map(|d| json!({
            "index": d.index,
            "id": fr_to_string(&d.id),
            "statement": d.statement.as_str(),
            "behaviour": d.behaviour.as_str(),
            "sent": d.sent,
            "accepted": d.accepted,
            "rejected": map(&d.rejected),
            "refused": map(&d.refused),
            "rejected_when_proving": map(&d.rejected_when_proving),
            "failed": d.failed,
            "claim": outcome_json(d.claim),
            "errors": d.errors,
        })).collect::<Vec<_>>(),
    })
}

/// Whether the service judged the fleet as it should: every honest record
/// accepted, no cheater's record accepted, no call failed.
fn judged_correctly(report: &FleetReport) -> bool {
    report.devices.iter().all(|d| {
        d.failed == 0
            && if d.behaviour.is_honest() {
                d.accepted == d.sent
            } else {
                d.accepted == 0
            }
    })
}

/// Runs the fleet; returns whether `--check` passed (true without it).
pub fn simulate(args: SimulateArgs) -> anyhow::Result<bool> {
    if args.devices == 0 {
        bail!("--devices must be at least 1");
    }
    let config = FleetConfig {
        cheater_fraction: args.cheaters,
        seed: args.seed,
        slots_per_epoch: args.slots,
        concurrency: args.concurrency,
        batch_size: args.batch_size,
        client: ClientConfig {
            timeout: Duration::from_secs(args.timeout_s.max(1)),
            tls: args.tls.client_tls()?,
            ..ClientConfig::default()
        },
        ..FleetConfig::new(args.devices, args.epoch)
    };
    let fleet = Fleet::new(config)?;
    let (progress, bars) = progress_bars();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = rt.block_on(fleet.run(&args.prover, &args.operator_token, progress));
    if let Ok(mut b) = bars.lock() {
        if let Some((_, bar)) = b.take() {
            bar.finish();
        }
    }
    let (setup, report) = result.with_context(|| format!("simulating against {}", args.prover))?;
    if args.json {
        crate::print_line(&serde_json::to_string(&report_json(&report))?)?;
    } else {
        let mut head = String::new();
        let _ = writeln!(
            head,
            "epoch {} ({}), beacon {}",
            setup.epoch,
            if setup.published {
                "published by this run"
            } else {
                "already published"
            },
            fr_to_string(&setup.beacon)
        );
        let _ = writeln!(
            head,
            "{} devices ({} honest, {} cheaters), {} newly registered keys, {} of {} clients in the epoch's registry",
            report.devices.len(),
            report.honest.devices,
            report.cheaters.devices,
            setup.registered_devices,
            setup.clients_in_registry.len(),
            fleet.clients().len()
        );
        let _ = writeln!(
            head,
            "{} records answered in {:.2} s ({:.0} records/s)\n",
            report.honest.sent + report.cheaters.sent,
            report.elapsed.as_secs_f64(),
            (report.honest.sent + report.cheaters.sent) as f64
                / report.elapsed.as_secs_f64().max(1e-9)
        );
        print!("{head}{}", tables(&report));
        println!(
            "\n`@proving`: coverage witness reports the service accepts at ingest and \
             rejects when proving (distance, path loss), per the native reference."
        );
    }
    Ok(!args.check || judged_correctly(&report))
}
