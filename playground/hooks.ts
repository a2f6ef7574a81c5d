/** What the playground page exposes on `window`, for tests and the browser console. */
import type { Encoding } from '../ts/core/encoding.js';
import type { M2MWorker } from '../ts/worker.js';

export interface PlaygroundHooks {
  /** The page's worker client (all of the page's m2m work goes through it). */
  client: M2MWorker;
  /** Loads the library itself on the main thread (the wasm module and the given encodings). */
  loadLibrary(encodings?: Encoding[]): Promise<typeof import('../ts/browser.js')>;
  /** `performance.now()` when the first compression result was shown (ms since navigation). */
  firstCompressionMs(): number | undefined;
}

declare global {
  interface Window {
    m2mPlayground: PlaygroundHooks;
  }
}
