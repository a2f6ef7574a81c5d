// The README's examples are real: code blocks show files from examples/ and
// their printed output, and each `$ command` in a console block (the CLI, and
// curl against a running server) prints exactly what the README shows.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../ts/node/server/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const root = new URL('..', import.meta.url).pathname;

/** Each `$ command` line of the ```console blocks, with the lines it should print. */
function consoleExamples(): { command: string; output: string }[] {
  const examples: { command: string; output: string }[] = [];
  for (const block of readme.matchAll(/```console\n([\s\S]*?)```/g)) {
    for (const part of (block[1] as string).split(/^\$ /m).slice(1)) {
      const [command, ...output] = part.replace(/\n$/, '').split('\n');
      examples.push({ command: command as string, output: output.join('\n') });
    }
  }
  return examples;
}

describe('README', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, logLevel: false });
  });
  afterAll(async () => {
    await server.close();
  });

  for (const file of ['token-native.mjs', 'compress.mjs', 'frame.mjs']) {
    it(`shows examples/${file} and its real output`, () => {
      const code = readFileSync(new URL(`../examples/${file}`, import.meta.url), 'utf8');
      expect(readme).toContain(code.trim());
      const printed = execFileSync(process.execPath, [`examples/${file}`], { encoding: 'utf8', cwd: root });
      expect(readme).toContain(`\`\`\`text\n${printed}\`\`\``);
    });
  }

  // Async: the server answering curl runs in this process.
  it('has console examples, and each prints what the README shows', async () => {
    const examples = consoleExamples();
    expect(examples.length).toBeGreaterThanOrEqual(8);
    const port = new URL(server.url).port;
    for (const { command, output } of examples) {
      const run = command.replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`);
      const { stdout: printed } = await promisify(execFile)('sh', ['-c', run], { encoding: 'utf8', cwd: root });
      expect(printed.replace(/\n$/, ''), command).toBe(output);
    }
  });
});
