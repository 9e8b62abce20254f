import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { canonicalResponse } from './codec.ts';
import { AGENT_PROTO_FILE, PROTO_ROOT, loadAgentProto } from './load.ts';
import { AGENT_METHODS, isMutating } from './methods.ts';
import type { MutatingMethod } from './methods.ts';

test('the loaded service has exactly the methods of AGENT_METHODS; only WatchState streams', () => {
  const service = loadAgentProto().agentService;
  assert.deepEqual(Object.keys(service).sort(), Object.keys(AGENT_METHODS).sort());
  for (const [name, def] of Object.entries(service)) {
    assert.equal(def.responseStream, name === 'WatchState', name);
    assert.equal(def.requestStream, false, name);
  }
  const mutating: MutatingMethod = 'StartDataNode'; // fails to compile if MutatingMethod were never
  assert.equal(isMutating(mutating), true);
  assert.equal(isMutating('GetState'), false);
});

test('decoded messages: camelCase fields, 64-bit integers as strings, enums by name, defaults present', () => {
  const decoded = canonicalResponse('StartDataNode', {
    node: { id: 'n', role: 2, dataDirUsage: { usedBytes: 2 ** 53 + 2 } },
  });
  assert.equal(decoded.node?.role, 'NODE_ROLE_PRIMARY');
  assert.equal(decoded.node?.dataDirUsage?.usedBytes, '9007199254740994', 'no precision lost');
  assert.equal(decoded.node?.port, 0);
  assert.deepEqual(decoded.node?.slots, []);
  assert.equal(decoded.outcome, null);
});

test('proto/generated is what `make proto` generates from the .proto (regenerate after editing it)', async () => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'coxswain-proto-'));
  try {
    const bin = path.join(PROTO_ROOT, '..', 'node_modules', '.bin', 'proto-loader-gen-types');
    await promisify(execFile)(
      bin,
      ['--longs=String', '--enums=String', '--defaults', '--oneofs', '--includeComments', '--grpcLib=@grpc/grpc-js',
        '--importFileExtension=.ts', '-I', 'proto', '-O', out, AGENT_PROTO_FILE],
      { cwd: path.join(PROTO_ROOT, '..') }, // as the Makefile runs it, from the repository root
    );
    const list = async (dir: string): Promise<string[]> =>
      (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
    const committed = path.join(PROTO_ROOT, 'generated');
    const files = await list(out);
    assert.deepEqual(await list(committed), files);
    for (const f of files) {
      assert.equal(await readFile(path.join(committed, f), 'utf8'), await readFile(path.join(out, f), 'utf8'), `${f} is stale: run make proto`);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
