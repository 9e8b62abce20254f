// A test file whose tests are done must also be done with its process: loaded into every
// test file by `make test` (node --import), it gives the file a grace period after its
// last test, then names what still holds the process open (a timer, a socket, a child
// process a test forgot to stop) and ends it with exit status 1. A file that leaves
// nothing open ends on its own and never sees it.
//
// It replaces node's --test-force-exit, which on Node 24 could end a file before all its
// tests had reported (a file of 67 tests reported as few as 25 and the run still passed),
// and which would also hide a leak instead of failing on it.
import { after } from 'node:test';

/** How long a file's process may stay after its last test, ms. */
export const EXIT_GRACE_MS = Number(process.env['COXSWAIN_TEST_EXIT_GRACE_MS'] ?? 20_000);

// Only in a test file's own process (node --test runs each file as a child and marks it):
// the runner's process is left alone.
if (process.env['NODE_TEST_CONTEXT'] !== undefined) {
  after(() => {
    const timer = setTimeout(() => {
      const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      process.stderr.write(
        `${process.argv[1] ?? 'a test file'}: still running ${EXIT_GRACE_MS / 1000} s after its last test, held open by ` +
          `${open.length > 0 ? open.join(', ') : 'nothing node can name'}: a test left it running; ending the file with status 1\n`,
      );
      process.exit(1);
    }, EXIT_GRACE_MS);
    timer.unref();
  });
}
