// Surviving mutants that no behaviour can tell apart from the original (equivalent
// mutants), each with the reason. `make mutation` (test/mutation/mutation.ts) still counts
// them as survivors in the score, and prints the reason beside them. A mutant is named by
// its file, its mutator, its replacement and the trimmed source line it starts on, so
// that the entry survives edits elsewhere in the file.
export interface EquivalentMutant {
  file: string;
  mutator: string;
  replacement: string;
  /** The trimmed text of the line the mutant starts on. */
  line: string;
  /** Which of the file's lines with that text (1 = the first), when there are several. */
  occurrence?: number;
  reason: string;
}

const FENCE = 'agent/server/epoch-fence.ts';
const BATCH = 'operator/planner/batch.ts';

export const EQUIVALENT: readonly EquivalentMutant[] = [
  {
    file: FENCE,
    mutator: 'ConditionalExpression',
    replacement: 'true',
    line: "const text = typeof value === 'string' ? value.trim() : '';",
    reason: "the value is always a string: grpc-js's Metadata refuses any other value for a key not ending in -bin",
  },
  {
    file: FENCE,
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (epoch < this.#seen) throw new StaleLeaderError(epoch, this.#seen);',
    occurrence: 1,
    reason: 'without the first check a lower epoch raises nothing and the second check, reached with no await in between, throws the same error',
  },
  {
    file: FENCE,
    mutator: 'EqualityOperator',
    replacement: 'epoch < this.#seen',
    line: 'if (epoch <= this.#seen) return;',
    reason: 'differs only for a queued raise to the epoch already seen, which rewrites the same number to the file: same file, same fence, same outcome',
  },
  {
    file: FENCE,
    mutator: 'ObjectLiteral',
    replacement: '{}',
    line: "if (name.startsWith(`.${EPOCH_FILE}.`) && name.endsWith('.tmp')) await rm(path.join(dataDir, name), { force: true });",
    reason:
      'force only matters when a leftover vanishes between readdir and rm (someone else clearing the same dir at that instant); ' +
      "two concurrent opens do not show it, as Node's rm ignores a file that vanishes after its own check",
  },
  {
    file: FENCE,
    mutator: 'BooleanLiteral',
    replacement: 'false',
    line: "if (name.startsWith(`.${EPOCH_FILE}.`) && name.endsWith('.tmp')) await rm(path.join(dataDir, name), { force: true });",
    reason: 'as `{}` for the same options: force only matters when a leftover vanishes between readdir and rm',
  },
  {
    file: BATCH,
    mutator: 'ConditionalExpression',
    replacement: 'true',
    line: "for (const g of groups) if (this.#claims.get(g) !== 'exclusive') this.#claims.set(g, claim);",
    reason: 'canClaim, checked just before, refuses any claim on a group held exclusively, so the test is always true here',
  },
];

/** The entry for a surviving mutant, if it is listed. */
export function equivalentFor(file: string, mutator: string, replacement: string, line: string, occurrence: number): EquivalentMutant | undefined {
  return EQUIVALENT.find(
    (e) => e.file === file && e.mutator === mutator && e.replacement === replacement && e.line === line.trim() && (e.occurrence ?? occurrence) === occurrence,
  );
}
