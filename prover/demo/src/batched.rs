//! The main job in epoch batches: the prover's batches of every statement
//! applied on chain in order (`submitBatch` with the prover's calldata),
//! every device's withdrawal of what it earned (`withdraw` with the
//! prover's `GetWithdrawal`), and the attacks the contract must refuse: a
//! batch on a stale root, a replayed batch, a withdrawal above the
//! cumulative reward, one to an address not registered for the device, and
//! a second withdrawal of the same amount.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Context, Result};
use depin_chain::{Address, U256};
use depin_crypto::field::fr_to_string;
use depin_device_sdk::client::{pb, ProverClient};
use depin_fleet::DeviceReport;
use depin_proto::convert::kind_to_pb;
use depin_statements::StatementKind;
use indicatif::ProgressBar;

use crate::onchain::{refusal, Chain};
use crate::report::{BatchGas, ClaimOutcome};

/// What the batches did on chain.
pub struct Settled {
    /// Per device (in fleet order), its withdrawal.
    pub claims: Vec<ClaimOutcome>,
    /// Attacks on the contract and the error each got.
    pub attacks: Vec<(String, Option<String>)>,
    /// Gas per statement.
    pub gas: Vec<BatchGas>,
}

/// Applies every batch the jobs name, in order per statement, then pays
/// every device's withdrawal; `jobs[i]` is device `i`'s finished job
/// (`None`: not proven).
pub async fn settle(
    chain: &Chain,
    client: &mut ProverClient,
    devices: &[DeviceReport],
    jobs: &[Option<pb::Job>],
    batch_size: usize,
    bar: &ProgressBar,
) -> Result<Settled> {
    let mut attacks = Vec::new();
    // The batches of every statement, in sequence order.
    let mut sequences: BTreeMap<StatementKind, Vec<u64>> = BTreeMap::new();
    for (d, job) in devices.iter().zip(jobs) {
        if let Some(j) = job.as_ref().filter(|j| !j.batch_id.is_empty()) {
            sequences
                .entry(d.statement)
                .or_default()
                .push(j.batch_sequence);
        }
    }
    let mut batches: BTreeMap<StatementKind, Vec<pb::Batch>> = BTreeMap::new();
    for (kind, seqs) in &mut sequences {
        seqs.sort_unstable();
        seqs.dedup();
        let mut list = Vec::with_capacity(seqs.len());
        for &s in seqs.iter() {
            let b = client.wait_batch(kind_to_pb(*kind), s).await?;
            if pb::BatchState::try_from(b.state).unwrap_or_default() != pb::BatchState::Done {
                bail!("the prover's batch {} failed: {}", b.batch_id, b.failure);
            }
            list.push(b);
        }
        batches.insert(*kind, list);
    }

    // A batch on a stale root: the second batch of a statement sent before
    // the first (it starts from a tree the contract does not hold).
    if let Some(list) = batches.values().find(|l| l.len() >= 2) {
        let refused = chain.submit_batch(&list[1].calldata).await?.err();
        attacks.push((
            format!(
                "{} sent before {} (stale root)",
                list[1].batch_id, list[0].batch_id
            ),
            refused,
        ));
    }

    // Every batch, in order.
    let mut chain_ids: HashMap<(StatementKind, u64), U256> = HashMap::new();
    let mut batch_gas: BTreeMap<StatementKind, Vec<u64>> = BTreeMap::new();
    for (kind, list) in &batches {
        for b in list {
            let (id, gas) = chain
                .submit_batch(&b.calldata)
                .await?
                .map_err(|e| anyhow::anyhow!("the contract refused {}: {e}", b.batch_id))?;
            chain_ids.insert((*kind, b.sequence), id);
            batch_gas.entry(*kind).or_default().push(gas);
        }
    }
    // A batch replayed.
    if let Some(first) = batches.values().next().and_then(|l| l.first()) {
        let refused = chain.submit_batch(&first.calldata).await?.err();
        attacks.push((format!("{} replayed", first.batch_id), refused));
    }

    // Withdrawals, after three attacks with the first honest device that
    // earned something.
    let mut claims = Vec::with_capacity(devices.len());
    let mut withdrawal_gas: BTreeMap<StatementKind, Vec<u64>> = BTreeMap::new();
    let mut attacked = false;
    for (d, job) in devices.iter().zip(jobs) {
        let Some(job) = job.as_ref().filter(|j| !j.batch_id.is_empty()) else {
            claims.push(ClaimOutcome::NotClaimed);
            bar.inc(1);
            continue;
        };
        let w = client
            .get_withdrawal(&d.id, kind_to_pb(d.statement))
            .await
            .with_context(|| format!("the withdrawal of device {}", fr_to_string(&d.id)))?;
        let id = *chain_ids
            .get(&(d.statement, w.batch_sequence))
            .with_context(|| format!("{} was not applied", w.batch_id))?;
        if !attacked && d.behaviour.is_honest() && job.reward > 0 {
            attacked = true;
            let mut above = w.clone();
            above.cumulative = (job.reward + 1).to_string();
            attacks.push((
                "a withdrawal above the cumulative reward".into(),
                refusal(chain.withdraw(&above, id, None, job.reward + 1).await?),
            ));
            attacks.push((
                "a withdrawal to an address not registered for the device".into(),
                refusal(
                    chain
                        .withdraw(&w, id, Some(Address::repeat_byte(0x5a)), job.reward)
                        .await?,
                ),
            ));
            let paid = chain.withdraw(&w, id, None, job.reward).await?;
            if let ClaimOutcome::Paid { gas, .. } = paid {
                withdrawal_gas.entry(d.statement).or_default().push(gas);
            }
            claims.push(paid);
            attacks.push((
                "the same withdrawal again".into(),
                refusal(chain.withdraw(&w, id, None, job.reward).await?),
            ));
        } else {
            let outcome = chain.withdraw(&w, id, None, job.reward).await?;
            if let ClaimOutcome::Paid { gas, .. } = outcome {
                withdrawal_gas.entry(d.statement).or_default().push(gas);
            }
            claims.push(outcome);
        }
        bar.inc(1);
    }
    let gas = batch_gas
        .into_iter()
        .map(|(kind, batches)| BatchGas {
            kind,
            batch_size,
            withdrawals: withdrawal_gas.remove(&kind).unwrap_or_default(),
            batches,
        })
        .collect();
    Ok(Settled {
        claims,
        attacks,
        gas,
    })
}
