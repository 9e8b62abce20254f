import type { Output } from './output.ts';

/** Exit codes of the command-line contract. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface Command {
  name: string;
  /** One line for `coxswain --help`. */
  summary: string;
  /** The synopsis, e.g. `coxswain validate FILE [--previous FILE]`. */
  usage: string;
  /** The rest of `coxswain CMD --help`: options and what the command does. */
  help: string;
  run(args: string[], io: Output): Promise<number>;
}
