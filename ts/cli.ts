#!/usr/bin/env node
/**
 * The `m2m` command. This first version knows --version and --help; the
 * compress / decompress / analyze / scan / server commands are not built yet
 * and say so.
 */
import { readFileSync } from 'node:fs';
import { backendKind } from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const HELP = `m2m ${pkg.version} — token-space compression for LLM traffic (M2M Protocol)

Usage:
  m2m --version        print the version and the backend in use
  m2m --help           print this help

Not built yet: compress, decompress, analyze, scan, server.
`;

function main(argv: string[]): number {
  const [command] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`m2m ${pkg.version} (${backendKind()} backend)\n`);
    return 0;
  }
  process.stderr.write(`m2m: '${command}' is not available in this version. Run 'm2m --help'.\n`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
