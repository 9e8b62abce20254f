// The admin interface end to end in-process: AdminServer on 127.0.0.1 serving a fake
// LeaderApi, AdminClient reaching it through leader.json. Every route round-trips; a
// wrong or missing token is refused; a missing, dead or silent leader is NoLeaderError
// with the sentence that says how to start one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { AdminClient, AdminRequestError, NoLeaderError, findLeader } from './admin-client.ts';
import type { AdminEndpoint } from './admin-protocol.ts';
import { AdminServer } from './admin-server.ts';
import { FakeLeader, emptyPlan, fakeJob, fakeStatus } from './test-fakes.ts';
import { stateLayout } from './state-layout.ts';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';

const example = readFileSync(new URL('../../desired-state/desired_state.jsonc', import.meta.url), 'utf8');
const TOKEN = 'a-token-of-enough-length-0123456789';

async function serve(fake: FakeLeader, token = TOKEN): Promise<{ server: AdminServer; client: AdminClient; dir: string; endpoint: AdminEndpoint; done: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-admin-'));
  const server = await AdminServer.start({ api: fake, token, logger: pino({ level: 'silent' }), validationContext: () => ({ previous: exampleDesired({ id: 1 }) }) });
  const endpoint: AdminEndpoint = { format: 1, pid: process.pid, host: '127.0.0.1', port: server.port, token, epoch: 1, file: '/x', startedAt: new Date().toISOString() };
  writeFileSync(stateLayout(dir).adminFile, JSON.stringify(endpoint));
  const client = await AdminClient.connect(dir);
  return {
    server,
    client,
    dir,
    endpoint,
    done: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('every LeaderApi call round-trips through the admin interface', async () => {
  const fake = new FakeLeader();
  fake.statuses = [fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 4, pendingId: 5, progress: { done: 2, total: 7, current: ['start data node vm-3'] } })];
  fake.jobList = [fakeJob({ id: '1' }), fakeJob({ id: '2', status: 'failed', error: 'agent down' })];
  fake.plan = emptyPlan({ done: false, remaining: 3, next: [{ step: { kind: 'stopDataNode', vmId: 'vm-2', nodeId: 'vm-2' }, why: 'rolling restart' }] });
  const { client, done } = await serve(fake);
  try {
    const status = await client.status();
    assert.equal(status.state, 'WORKING_TOWARDS_DESIRED_STATE');
    assert.equal(status.pendingId, 5);
    assert.deepEqual(status.progress?.current, ['start data node vm-3']);

    const jobs = await client.jobs();
    assert.deepEqual(
      jobs.map((j) => [j.id, j.status]),
      [
        ['1', 'succeeded'],
        ['2', 'failed'],
      ],
    );
    assert.equal((await client.job('2'))?.error, 'agent down');
    assert.equal(await client.job('99'), undefined, 'a missing job is undefined, not an error');

    const desired = exampleDesired({ id: 3, replicationFactor: 3 });
    const preview = await client.preview(desired);
    assert.equal(preview.plan.next[0]?.why, 'rolling restart');
    assert.equal(fake.previews[0]?.replicationFactor, 3, 'the server hands the desired state on');

    // The server validates offered text itself, against its own accepted latest (id 1).
    const text = example.replace('"id": 1,', '"id": 2,');
    const offered = await client.offer({ verdict: 'valid', problems: [], source: { file: 'edit.jsonc', text } }, 'file:edit.jsonc');
    assert.equal(offered.status, 'accepted');
    assert.equal(fake.offers[0]?.candidate.desired?.id, 2);
    const stale = await client.offer({ verdict: 'valid', problems: [], source: { file: 'old.jsonc', text: example } }, 'file:old.jsonc');
    assert.equal(stale.status, 'ignored', 'a verdict from the wire is not trusted: id 1 is not above the accepted 1');

    await client.shutdown({ purge: true });
    assert.deepEqual(fake.shutdowns, [{ purge: true }]);
  } finally {
    await done();
  }
});

test('a preview of something that is not a valid desired state is a 400 naming the problem', async () => {
  const fake = new FakeLeader();
  const { client, done } = await serve(fake);
  try {
    const bad = { ...exampleDesired(), replicationFactor: 9 };
    await assert.rejects(client.preview(bad), (err: unknown) => {
      assert.ok(err instanceof AdminRequestError);
      assert.equal(err.status, 400);
      assert.match(err.message, /replicationFactor/);
      return true;
    });
    assert.equal(fake.previews.length, 0, 'the leader was not asked');
  } finally {
    await done();
  }
});

test('a wrong or missing token is refused with 401 and reaches nothing', async () => {
  const fake = new FakeLeader();
  const { endpoint, dir, done } = await serve(fake);
  try {
    const wrong = new AdminClient({ ...endpoint, token: `${TOKEN}x` }, dir);
    await assert.rejects(wrong.status(), (err: unknown) => err instanceof AdminRequestError && err.status === 401 && /token/.test(err.message));
    await assert.rejects(wrong.shutdown({ purge: true }), (err: unknown) => err instanceof AdminRequestError && err.status === 401);
    const bare = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: endpoint.port, path: '/v1/status' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(bare, 401);
    assert.deepEqual(fake.calls, [], 'no call reached the leader');
    assert.deepEqual(fake.shutdowns, []);
  } finally {
    await done();
  }
});

test('unknown routes, wrong methods and oversized bodies get their own errors', async () => {
  const fake = new FakeLeader();
  const { endpoint, done } = await serve(fake);
  const call = (method: string, route: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: endpoint.port, method, path: route, headers: { authorization: `Bearer ${TOKEN}`, ...headers } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  try {
    assert.equal((await call('GET', '/v1/nope')).status, 404);
    assert.equal((await call('POST', '/v1/status')).status, 405);
    assert.equal((await call('POST', '/v1/preview', '{not json')).status, 400);
    // A body declared larger than 2 MiB is refused before it is read.
    const huge = call('POST', '/v1/offer', undefined, { 'content-length': String(3 * 1024 * 1024) });
    assert.equal((await huge).status, 413);
    assert.equal(JSON.parse((await call('GET', '/v1/nope')).body).error.code, 'not-found');
    assert.deepEqual(fake.offers, []);
  } finally {
    await done();
  }
});

test('no leader.json, a dead pid or a closed port is NoLeaderError with how to start one', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-admin-none-'));
  try {
    await assert.rejects(AdminClient.connect(dir), (err: unknown) => {
      assert.ok(err instanceof NoLeaderError);
      assert.match(err.message, /^no leader is running for .*coxswain-admin-none-.*; start one with: coxswain up -f FILE/);
      return true;
    });
    // A leader.json left by a process that is gone.
    const endpoint: AdminEndpoint = { format: 1, pid: 2 ** 22 + 7, host: '127.0.0.1', port: 1, token: TOKEN, epoch: 1, file: '/x', startedAt: '' };
    writeFileSync(stateLayout(dir).adminFile, JSON.stringify(endpoint));
    assert.equal(await findLeader(dir), undefined);
    await assert.rejects(AdminClient.connect(dir), NoLeaderError);
    // A live pid (ours) but nothing listens on the port any more.
    const server = await AdminServer.start({ api: new FakeLeader(), token: TOKEN, logger: pino({ level: 'silent' }), validationContext: () => ({}) });
    const port = server.port;
    await server.close();
    writeFileSync(stateLayout(dir).adminFile, JSON.stringify({ ...endpoint, pid: process.pid, port }));
    const client = await AdminClient.connect(dir);
    await assert.rejects(client.status(), (err: unknown) => err instanceof NoLeaderError && /does not answer/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
