// Verifies EdDSA-Poseidon signatures with circomlibjs.
// Reads a JSON array of {pub: {x, y}, message, r8: {x, y}, s} (decimal
// strings) on standard input and prints a JSON array of booleans.
import { buildEddsa } from "circomlibjs";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const items = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const eddsa = await buildEddsa();
const F = eddsa.babyJub.F;
const results = items.map((it) =>
  eddsa.verifyPoseidon(
    F.e(BigInt(it.message)),
    { R8: [F.e(BigInt(it.r8.x)), F.e(BigInt(it.r8.y))], S: BigInt(it.s) },
    [F.e(BigInt(it.pub.x)), F.e(BigInt(it.pub.y))],
  ),
);
process.stdout.write(JSON.stringify(results) + "\n");
