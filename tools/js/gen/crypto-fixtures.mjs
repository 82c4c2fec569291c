// Writes circuits/crypto/tests/fixtures/circomlibjs.json: Poseidon hashes of
// every arity and EdDSA-Poseidon keys and signatures, all computed by
// circomlibjs, so the Rust tests can show that ours agrees with it.
//
// Usage: node tools/js/gen/crypto-fixtures.mjs [OUT_FILE]
import { writeFileSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { buildPoseidonReference, buildEddsa, buildBabyjub } from "circomlibjs";

const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const pkgDir = fileURLToPath(new URL("../node_modules/circomlibjs/", import.meta.url));
const version = JSON.parse(readFileSync(pkgDir + "package.json", "utf8")).version;

// Deterministic stream of bytes: sha256(label || counter).
function bytes(label, i, n = 32) {
  let out = Buffer.alloc(0);
  for (let k = 0; out.length < n; k++) {
    out = Buffer.concat([out, createHash("sha256").update(`${label}/${i}/${k}`).digest()]);
  }
  return out.subarray(0, n);
}
const fieldElem = (label, i) => BigInt("0x" + bytes(label, i).toString("hex")) % P;

const poseidon = await buildPoseidonReference();
const eddsa = await buildEddsa();
const babyJub = await buildBabyjub();
const F = poseidon.F;
const str = (x) => F.toObject(x).toString();

const hashes = [];
for (let n = 1; n <= 16; n++) {
  const cases = [
    Array.from({ length: n }, (_, j) => BigInt(j + 1)),
    Array.from({ length: n }, () => 0n),
    Array.from({ length: n }, () => P - 1n),
    Array.from({ length: n }, (_, j) => fieldElem(`poseidon-${n}`, j)),
  ];
  for (const inputs of cases) {
    hashes.push({ inputs: inputs.map(String), output: str(poseidon(inputs)) });
  }
}

const signatures = [];
for (let i = 0; i < 12; i++) {
  const prv = bytes("eddsa-key", i);
  const msg = i === 0 ? 0n : i === 1 ? P - 1n : fieldElem("eddsa-msg", i);
  const pub = eddsa.prv2pub(prv);
  const sig = eddsa.signPoseidon(prv, F.e(msg));
  if (!eddsa.verifyPoseidon(F.e(msg), sig, pub)) throw new Error("circomlibjs rejected its own signature");
  signatures.push({
    private_key: prv.toString("hex"),
    pub: { x: str(pub[0]), y: str(pub[1]) },
    pub_packed: Buffer.from(babyJub.packPoint(pub)).toString("hex"),
    message: msg.toString(),
    r8: { x: str(sig.R8[0]), y: str(sig.R8[1]) },
    s: sig.S.toString(),
  });
}

const out = JSON.stringify({ generator: `circomlibjs ${version}`, poseidon: hashes, eddsa: signatures }, null, 1) + "\n";
if (process.argv[2]) writeFileSync(process.argv[2], out);
else process.stdout.write(out);
