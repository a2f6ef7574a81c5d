/** Starts Debian's Chromium (from PATH) headless through playwright-core, with a fresh profile. */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** The `chromium` binary on PATH; throws a clear error when there is none. */
export function findChromium(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'chromium');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error(
    "Chromium was not found on PATH. The browser tests need Debian's chromium package: " +
      'run `apt-get install -y chromium` (scripts/setup.sh installs it).',
  );
}

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A browser with a fresh `--user-data-dir` (removed again by `close()`). */
export async function launchChromium(): Promise<Chromium> {
  const executablePath = findChromium();
  const profile = mkdtempSync(join(tmpdir(), 'm2m-chromium-'));
  // playwright-core passes the profile as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
