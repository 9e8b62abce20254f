// Canonical JSON: the same value always gives the same text — object keys sorted,
// undefined members dropped, a Buffer as base64 — so equal values have equal text. The
// desired-state history hashes accepted states with it (desired-state/history.ts), and
// the agent fingerprints a request with it, to tell a repeat from a different request
// under the same idempotency key (agent/server/idempotency.ts).

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}
