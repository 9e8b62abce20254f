// The bench's progress log: pino, one JSON line per event, on standard error, so that
// standard output carries only the figures (`bench …` lines) a script or a person reads.
// COXSWAIN_BENCH_LOG sets the level (default "info"; "silent" for none).
import { pino } from 'pino';
import type { Logger, LevelWithSilent } from 'pino';

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function level(): LevelWithSilent {
  const wanted = process.env['COXSWAIN_BENCH_LOG'] ?? 'info';
  return (LEVELS.includes(wanted) ? wanted : 'info') as LevelWithSilent;
}

export const log: Logger = pino({ level: level(), base: { component: 'bench' } }, pino.destination(2));
