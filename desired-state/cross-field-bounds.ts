// Bounds of a field that another field of the same desired state sets. The JSON Schema
// can only state the widest bound (replicationFactor at most 5); the bound that applies
// is the other field's value (replicationFactor at most maxReplicationFactor). Both the
// schema check (a value above the schema's bound) and the rules (a value within it but
// above the other field) word the problem with this one sentence, naming the bounding
// field and its value, so a person is told the limit that actually holds.

export interface CrossFieldMaximum {
  /** The top-level field that is bounded. */
  field: string;
  /** The top-level field whose value bounds it. */
  bound: string;
  /** What to do, given the bound's value. */
  hint: (boundValue: number) => string;
}

export const CROSS_FIELD_MAXIMA: readonly CrossFieldMaximum[] = [
  {
    field: 'replicationFactor',
    bound: 'maxReplicationFactor',
    hint: (max) => `set "replicationFactor" to ${max} or less; maxReplicationFactor is fixed once the cluster exists`,
  },
];

/** "must be at most maxReplicationFactor (3), got 9" */
export function aboveBoundMessage(bound: string, boundValue: number, got: string): string {
  return `must be at most ${bound} (${boundValue}), got ${got}`;
}

/** The cross-field maximum of a top-level `field`, if it has one. */
export function crossFieldMaximumOf(field: string): CrossFieldMaximum | undefined {
  return CROSS_FIELD_MAXIMA.find((m) => m.field === field);
}
