// The real parts of a leader: the VM provider its factory makes (whichever kind the
// caller chose, operator/vm/providers.ts), the job journal and the leader's facts in the
// state directory, and the reconciler over them with the real planner and clock. The
// leader (leader.ts) takes them through PartsFactory, so its own tests run with stand-ins.
import { FileFactsStore, factsFile } from '../executor/facts-store.ts';
import { FileJournal, journalFile } from '../executor/journal-file.ts';
import { Reconciler } from '../reconciler/reconciler.ts';
import type { LeaderParts, PartsFactory } from './leader.ts';

export const realParts: PartsFactory = async (context): Promise<LeaderParts> => {
  const { layout, cluster, epoch, secret, history, logger } = context;
  const journal = await FileJournal.open(journalFile(layout.stateDir), { logger });
  let provider;
  try {
    provider = await context.provider({ stateDir: layout.stateDir, epoch, secret, logger });
  } catch (err) {
    await journal.close();
    throw err;
  }
  const reconciler = new Reconciler({
    cluster,
    history,
    provider,
    journal,
    facts: new FileFactsStore(factsFile(layout.stateDir)),
    epoch,
    logger: logger.child({ part: 'reconciler' }),
    // A relative local backup sink path is relative to the state directory, for every VM.
    sinkBaseDir: layout.stateDir,
  });
  return { provider, journal, reconciler, dispose: () => journal.close() };
};
