// The README's usage example is real: its code is examples/token-native.mjs
// and its printed output is what that file prints.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows examples/token-native.mjs and its real output', () => {
    const code = readFileSync(new URL('../examples/token-native.mjs', import.meta.url), 'utf8');
    expect(readme).toContain(code.trim());
    const printed = execFileSync(process.execPath, ['examples/token-native.mjs'], { encoding: 'utf8' });
    expect(readme).toContain(`\`\`\`text\n${printed}\`\`\``);
  });
});
