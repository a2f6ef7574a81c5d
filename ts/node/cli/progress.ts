/**
 * A progress bar on stderr for long batch runs: only when stderr is a
 * terminal, the input is large, and nothing is being streamed to the same
 * terminal on stdout. Progress never goes to stdout.
 */
import { missingPeers } from '../peers.js';

export interface Progress {
  /** Adds processed bytes and one record. */
  tick(bytes: number): void;
  stop(): void;
}

const NONE: Progress = { tick() {}, stop() {} };

/** Inputs at least this large get a progress bar. */
export const PROGRESS_MIN_BYTES = 1024 * 1024;

export async function startProgress(options: {
  label: string;
  totalBytes: number | undefined;
  enabled: boolean;
  stdoutBusy: boolean;
}): Promise<Progress> {
  const { totalBytes } = options;
  if (!options.enabled || !process.stderr.isTTY || options.stdoutBusy) return NONE;
  if (totalBytes === undefined || totalBytes < PROGRESS_MIN_BYTES) return NONE;
  if (missingPeers(['cli-progress']).length > 0) {
    // Not silent: say once why there is no bar and how to get one.
    process.stderr.write(
      'm2m: no progress bar: `npm install cli-progress` to get one (--no-progress hides this note)\n',
    );
    return NONE;
  }
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${options.label} |{bar}| {percentage}% | {mib}/{totalMib} MiB | {records} records | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const mib = (n: number) => (n / (1024 * 1024)).toFixed(1);
  let done = 0;
  let records = 0;
  bar.start(totalBytes, 0, { mib: mib(0), totalMib: mib(totalBytes), records });
  return {
    tick(bytes: number) {
      done += bytes;
      records++;
      bar.update(Math.min(done, totalBytes), { mib: mib(done), records });
    },
    stop() {
      bar.stop();
    },
  };
}
