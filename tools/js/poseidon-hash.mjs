// Prints circomlibjs's Poseidon of the decimal arguments, in decimal.
import { buildPoseidonReference } from "circomlibjs";
const poseidon = await buildPoseidonReference();
const out = poseidon(process.argv.slice(2).map((a) => BigInt(a)));
process.stdout.write(poseidon.F.toObject(out).toString() + "\n");
