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
  reason: string;
}

export const EQUIVALENT: readonly EquivalentMutant[] = [];

/** The entry for a surviving mutant, if it is listed. */
export function equivalentFor(file: string, mutator: string, replacement: string, line: string): EquivalentMutant | undefined {
  return EQUIVALENT.find((e) => e.file === file && e.mutator === mutator && e.replacement === replacement && e.line === line.trim());
}
