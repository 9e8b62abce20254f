// Where a command writes. Injected so tests run commands in-process and read what
// they printed.
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Collects output in memory (tests). */
export function memoryOutput(): Output & { stdout: string; stderr: string } {
  const sink = {
    stdout: '',
    stderr: '',
    out(text: string) {
      sink.stdout += text.endsWith('\n') ? text : `${text}\n`;
    },
    err(text: string) {
      sink.stderr += text.endsWith('\n') ? text : `${text}\n`;
    },
  };
  return sink;
}
