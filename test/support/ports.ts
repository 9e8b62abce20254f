// Free ports for tests that start servers. Test files run in parallel, so nothing
// uses fixed ports: each call picks random ports in 20000–22767 and checks that the
// port and, for Redis Cluster, its bus port (port + 10000) can be bound on loopback.
// The range keeps every bus port (30000–32767) below Linux's ephemeral range
// (32768–60999 by default), where an outgoing connection could take it between our
// check and the server's bind (seen: "bind: Address already in use" on a bus port).
import net from 'node:net';

const LOW = 20000;
const HIGH = 22767;
const taken = new Set<number>();

function canBind(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** `count` distinct free ports; with `withBus`, port + 10000 is free too. */
export async function freePorts(count: number, opts: { withBus?: boolean } = {}): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt > 2000) throw new Error(`could not find ${count} free ports in ${LOW}-${HIGH}`);
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (taken.has(port) || ports.includes(port)) continue;
    if (!(await canBind(port))) continue;
    if (opts.withBus === true && !(await canBind(port + 10000))) continue;
    taken.add(port);
    ports.push(port);
  }
  return ports;
}
