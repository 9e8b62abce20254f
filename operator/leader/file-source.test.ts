// The file source against a real directory and a fake offer target that keeps an
// accepted desired state: a burst of saves is offered once (debounce), an editor's
// save by rename is seen, an invalid edit is offered as refused and the accepted
// state stays, and saving the same text again is not offered again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { Desired } from '../../desired-state/types.ts';
import type { ValidationResult } from '../../desired-state/validate.ts';
import type { OfferResult } from '../ports/leader-api.ts';
import { FileSource, type FileSourceEvent } from './file-source.ts';
import { fileTextDigest } from './file-status.ts';
import type { StatusFile } from '../model/status.ts';

const example = readFileSync(new URL('../../desired-state/desired_state.jsonc', import.meta.url), 'utf8');
const withId = (id: number, extra: (t: string) => string = (t) => t): string => extra(example.replace('"id": 1,', `"id": ${id},`));

/** Accepts valid candidates (like a reconciler at rest) and records every offer. */
class Target {
  accepted: Desired | undefined;
  readonly offers: ValidationResult[] = [];
  offer(candidate: ValidationResult): Promise<OfferResult> {
    this.offers.push(candidate);
    if (candidate.verdict === 'valid' && candidate.desired !== undefined) {
      this.accepted = candidate.desired;
      return Promise.resolve({ status: 'accepted', id: candidate.desired.id, message: '' });
    }
    return Promise.resolve({ status: candidate.verdict === 'ignored' ? 'ignored' : 'refused', id: null, message: candidate.problems.map((p) => p.message).join('; ') });
  }
}

function setUp(initial: string, debounceMs = 80): { dir: string; file: string; target: Target; source: FileSource; events: FileSourceEvent[]; next: () => Promise<FileSourceEvent> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-file-source-'));
  const file = path.join(dir, 'desired_state.jsonc');
  writeFileSync(file, initial);
  const target = new Target();
  const source = new FileSource({
    file,
    target,
    debounceMs,
    logger: pino({ level: 'silent' }),
    validationContext: () => (target.accepted === undefined ? {} : { previous: target.accepted }),
  });
  const events: FileSourceEvent[] = [];
  const waiters: Array<(e: FileSourceEvent) => void> = [];
  source.onEvent((e) => {
    const waiter = waiters.shift();
    if (waiter !== undefined) waiter(e);
    else events.push(e);
  });
  const next = (): Promise<FileSourceEvent> => {
    const queued = events.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reading of the file within 5 s')), 5000);
      waiters.push((e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
  };
  return { dir, file, target, source, events, next };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('the first reading offers the file; a burst of saves is offered once, with the last text', async () => {
  const { dir, file, target, source, next } = setUp(withId(1));
  try {
    const first = await source.start();
    assert.equal(first.kind, 'offered');
    assert.equal(target.accepted?.id, 1);
    await next(); // the start reading's event

    // Five saves 10 ms apart: each resets the 80 ms debounce.
    for (let id = 2; id <= 6; id++) {
      writeFileSync(file, withId(id));
      await sleep(10);
    }
    const event = await next();
    assert.equal(event.kind, 'offered');
    assert.equal(target.accepted?.id, 6);
    await sleep(250);
    assert.equal(target.offers.length, 2, `one offer at start, one for the burst; got ids ${target.offers.map((o) => o.desired?.id).join(',')}`);
  } finally {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an editor save by rename is seen; an invalid edit is refused and the accepted state stays', async () => {
  const { dir, file, target, source, next } = setUp(withId(1));
  try {
    await source.start();
    await next();
    // Save the way editors do: write a temporary file, rename it over the original.
    const temp = path.join(dir, '.desired_state.jsonc.swp');
    writeFileSync(temp, withId(2, (t) => t.replace('"replicationFactor": 2,', '"replicationFactor": 3,')));
    renameSync(temp, file);
    const renamed = await next();
    assert.equal(renamed.kind, 'offered');
    assert.equal(target.accepted?.replicationFactor, 3);

    // An edit that renames the cluster (immutable) and raises the id.
    writeFileSync(file, withId(3, (t) => t.replace('"name": "demo",', '"name": "other",')));
    const refused = await next();
    assert.equal(refused.kind === 'offered' ? refused.result.status : refused.kind, 'refused');
    assert.match(refused.kind === 'offered' ? refused.result.message : '', /name/);
    assert.equal(target.accepted?.id, 2, 'the last accepted desired state stays');
    assert.equal(target.accepted?.name, 'demo');

    // A file that does not parse is refused too, with a located problem.
    writeFileSync(file, '{ "id": 4, ');
    const broken = await next();
    assert.equal(broken.kind === 'offered' ? broken.result.status : broken.kind, 'refused');
    assert.equal(target.accepted?.id, 2);
  } finally {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('saving the same text again, or a file that holds the accepted state, is not offered', async () => {
  const { dir, file, target, source, next } = setUp(withId(1));
  try {
    await source.start();
    await next();
    writeFileSync(file, withId(1));
    const again = await next();
    assert.equal(again.kind, 'unchanged');
    assert.equal(target.offers.length, 1);

    // The same desired state with other comments and layout: it is the accepted one.
    writeFileSync(file, `// reformatted\n${withId(1)}`);
    const same = await next();
    assert.equal(same.kind, 'unchanged');
    assert.equal(target.offers.length, 1, 'no refusal for the accepted state itself');

    // stop() ends the watch: a later save is not read.
    await source.stop();
    writeFileSync(file, withId(7));
    await sleep(250);
    assert.equal(target.offers.length, 1);
  } finally {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reading: the id the file holds, a digest of its text, and what became of it (for status.file)', async () => {
  const { dir, file, source, next } = setUp(withId(1));
  try {
    const reading = (): StatusFile | null => source.reading;
    assert.equal(reading(), null, 'nothing before the first reading');
    await source.start();
    await next();
    const first = reading();
    assert.equal(first?.path, file);
    assert.equal(first?.id, 1);
    assert.equal(first?.outcome, 'accepted');
    assert.equal(first?.reason, null);
    assert.equal(first?.sha256, fileTextDigest(withId(1)));

    // Saved without raising id: ignored, with the located reason.
    const sameId = withId(1, (t) => t.replace('"replicationFactor": 2,', '"replicationFactor": 3,'));
    writeFileSync(file, sameId);
    await next();
    assert.equal(reading()?.outcome, 'ignored');
    assert.equal(reading()?.id, 1);
    assert.equal(reading()?.sha256, fileTextDigest(sameId));
    assert.match(reading()?.reason ?? '', /id 1 is not greater than the accepted id 1/);

    // Invalid: refused, with the id the text holds.
    writeFileSync(file, withId(2, (t) => t.replace('"replicationFactor": 2,', '"replicationFactor": 9,')));
    await next();
    assert.equal(reading()?.outcome, 'refused');
    assert.equal(reading()?.id, 2);
    assert.match(reading()?.reason ?? '', /maxReplicationFactor \(3\), got 9/);

    // Back to the accepted text: it holds the accepted state.
    writeFileSync(file, withId(1));
    await next();
    assert.equal(reading()?.outcome, 'accepted');
    assert.equal(reading()?.reason, null);
  } finally {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
