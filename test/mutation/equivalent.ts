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
  {
    file: 'operator/planner/agent-restart.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (vm === undefined) return;',
    reason: 'stale is not empty there (the function returned when it was), so its first element is defined',
  },
  ...(['ConditionalExpression:false', 'LogicalOperator:via === undefined && b === undefined'] as const).map((m) => ({
    file: 'operator/planner/backups.ts',
    mutator: m.split(':')[0] as string,
    replacement: m.slice(m.indexOf(':') + 1),
    line: 'if (via === undefined || b === undefined) return;',
    reason:
      'b is the first missing backup (there is one: the function returned otherwise) and via the lowest primary of at least one node group: ' +
      'a formed cluster without any node group is blocked by the data-loss check before any concern runs',
  })),
  {
    file: 'operator/planner/bootstrap.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (founder === undefined || share === undefined) return;',
    reason: "ng0's share of at least one node group always exists: only the founder can be missing",
  },
  {
    file: 'operator/planner/bootstrap.ts',
    mutator: 'EqualityOperator',
    replacement: 'g <= n',
    line: 'for (let g = 0; g < n; g++) {',
    reason: 'the extra turn, g = n, has no share and continues at once',
  },
  {
    file: 'operator/planner/bootstrap.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (share === undefined) continue;',
    reason: 'every g below n has a share',
  },
  {
    file: 'operator/planner/config-diff.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (nodeKey === desiredKey) return { equal: true, live: {}, restart: [] };',
    reason: 'a shortcut: equal labels parse to equal parameters, and the full comparison returns the same result',
  },
  {
    file: 'operator/planner/config-diff.ts',
    mutator: 'BlockStatement',
    replacement: '{}',
    line: '} catch {',
    reason: 'left undefined, the parsed value is not an object, and the next check returns undefined all the same',
  },
  {
    file: 'operator/planner/data-loss.ts',
    mutator: 'ArithmeticOperator',
    replacement: 'REDIS_SLOTS + 1',
    line: 'const lost = unownedRanges(view.owned, { start: 0, end: REDIS_SLOTS - 1 });',
    reason: 'past the last slot the owned array reads undefined, which unownedRanges takes as owned: the ranges end at 16383 all the same',
  },
];

/** The entry for a surviving mutant, if it is listed. */
export function equivalentFor(file: string, mutator: string, replacement: string, line: string, occurrence: number): EquivalentMutant | undefined {
  return EQUIVALENT.find(
    (e) => e.file === file && e.mutator === mutator && e.replacement === replacement && e.line === line.trim() && (e.occurrence ?? occurrence) === occurrence,
  );
}
