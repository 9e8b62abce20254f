// Runs of consecutive free ports, for the local VM provider's port bases
// (COXSWAIN_DATA_PORT_BASE, COXSWAIN_AGENT_PORT_BASE): the provider hands out base,
// base+1, … to the VMs it creates, so the bench must find a whole run free. The range
// is test/support/ports.ts's (20000–22767, every bus port below Linux's ephemeral
// range); a run is checked port by port, with the bus port (+10000) for data ports.
import net from 'node:net';

const LOW = 20000;
const HIGH = 22767;
const reserved: Array<[number, number]> = [];

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** No port could be found: every candidate run had a port in use. */
export class NoFreePortsError extends Error {
  override name = 'NoFreePortsError';
}

/** The first port of `count` consecutive free ports (with their bus ports when `withBus`), not overlapping earlier runs of this process. */
export async function freePortRun(count: number, opts: { withBus?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW - count));
    if (reserved.some(([a, b]) => base <= b && base + count - 1 >= a)) continue;
    let free = true;
    for (let p = base; p < base + count && free; p++) {
      free = (await canBind(p)) && (opts.withBus !== true || (await canBind(p + 10000)));
    }
    if (free) {
      reserved.push([base, base + count - 1]);
      return base;
    }
  }
  throw new NoFreePortsError(`no run of ${count} free ports in ${LOW}-${HIGH}; stop what uses them or try again`);
}
