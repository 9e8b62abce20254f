// Port choice for new VMs, with a fake "can bind" so the rules are checked exactly:
// lowest free port ≥ base, never a port (or bus port) another VM reserves, bus port
// bindable too, and a clear error when the range is used up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NoFreePortError } from './errors.ts';
import { allocatePort, BUS_PORT_OFFSET, highestPort, reservedPorts, type CanBind } from './port-allocation.ts';

const bindAllBut =
  (busy: number[]): CanBind =>
  (_host, port) =>
    Promise.resolve(!busy.includes(port));

test('reservedPorts holds every data, bus and agent port of the inventory', () => {
  const r = reservedPorts([
    { dataPort: 7001, agentPort: 7101 },
    { dataPort: 7002, agentPort: 7102 },
  ]);
  assert.deepEqual([...r].sort((a, b) => a - b), [7001, 7002, 7101, 7102, 17001, 17002]);
});

test('the lowest port ≥ base that no VM reserves and that binds (with its bus port) is chosen', async () => {
  const reserved = reservedPorts([{ dataPort: 7001, agentPort: 7101 }]);
  const base = { base: 7001, host: '127.0.0.1', reserved, withBus: true, purpose: 'data node' };
  assert.equal(await allocatePort({ ...base, canBind: bindAllBut([]) }), 7002);
  // 7002 itself is in use, 7003's bus port is in use: 7004.
  assert.equal(await allocatePort({ ...base, canBind: bindAllBut([7002, 7003 + BUS_PORT_OFFSET]) }), 7004);
  // A stopped VM still reserves its ports even though they bind: 7001 is never handed out again.
  assert.notEqual(await allocatePort({ ...base, canBind: bindAllBut([]) }), 7001);
});

test("a data port whose bus port is another VM's port is skipped", async () => {
  // VM x's agent listens on 17005, which is 7005's bus port.
  const reserved = reservedPorts([{ dataPort: 7001, agentPort: 17005 }]);
  const got = await allocatePort({ base: 7005, host: '127.0.0.1', reserved, withBus: true, purpose: 'data node', canBind: bindAllBut([]) });
  assert.equal(got, 7006);
});

test('agent ports do not need a bus port', async () => {
  const got = await allocatePort({
    base: 7101,
    host: '127.0.0.1',
    reserved: new Set([7101]),
    withBus: false,
    purpose: 'agent',
    canBind: bindAllBut([7101 + BUS_PORT_OFFSET + 1]),
  });
  assert.equal(got, 7102);
});

test('no free port: NoFreePortError names the range and what to do', async () => {
  const last = highestPort(true);
  await assert.rejects(
    allocatePort({ base: last - 1, host: '127.0.0.1', reserved: new Set([last - 1]), withBus: true, purpose: 'data node', canBind: bindAllBut([last]) }),
    (err: unknown) => {
      assert.ok(err instanceof NoFreePortError);
      assert.match(err.message, new RegExp(`No free data node port in ${last - 1}-${last} on 127\\.0\\.0\\.1`));
      assert.match(err.message, /Delete VMs|choose another port base/);
      assert.equal(err.kind, 'transient');
      return true;
    },
  );
});
