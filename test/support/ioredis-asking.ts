// A work-around for a bug of the ioredis Cluster client (6.0.0), in the test clients only:
// on an ASK redirection (a slot being moved) it sends ASKING before the command and never
// handles the promise of that ASKING. When the node's connection closes with the ASKING
// still queued — a node killed during a slot move, as the crash test does — the promise
// rejects with "Connection is closed." and nobody catches it: an unhandled rejection that
// ends the whole test process (seen in `make test-crash`, a VM killed while node groups
// were added). The command sent after the ASKING fails the same way and is retried or
// counted as a client error as usual, so catching the ASKING hides nothing. Upstream:
// ioredis issues #883, #1140 ("UnhandledPromiseRejection: Connection is closed").
import { Redis } from 'ioredis';

type Asking = (...args: unknown[]) => Promise<unknown>;
const proto = Redis.prototype as unknown as { asking: Asking; __coxswainAsking?: true };

if (proto.__coxswainAsking !== true) {
  const asking = proto.asking;
  proto.asking = function (this: Redis, ...args: unknown[]): Promise<unknown> {
    const sent = asking.apply(this, args);
    sent.catch(() => undefined);
    return sent;
  };
  proto.__coxswainAsking = true;
}
