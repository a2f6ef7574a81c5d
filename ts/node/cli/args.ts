/** Strict command-line parsing on top of `util.parseArgs`, with errors that say how to fix them. */
import { parseArgs } from 'node:util';
import { type ErrorCode, M2MError } from '../../core/errors.js';
import { closest } from './suggest.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}

export type Values = Record<string, string | boolean | undefined>;

/** A mistake on the command line: exit code 2. */
export class UsageError extends M2MError {
  constructor(message: string, code: ErrorCode = 'USAGE_ERROR') {
    super(code, message);
  }
}

const NEGATIVE_NUMBER = /^-\d*\.?\d+(?:e[+-]?\d+)?$/i;

/**
 * Parses `args` against `options`. Unknown options, missing values, values
 * given to switches and the like throw a `UsageError` naming the option and,
 * for a typo, the closest known one.
 */
export function parseCommandArgs(
  command: string,
  args: readonly string[],
  options: Record<string, OptionSpec>,
): { values: Values; positionals: string[] } {
  const { tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const longNames = Object.keys(options);
  const values: Values = {};
  const positionals: string[] = [];
  const where = command ? `m2m ${command}` : 'm2m';
  const help = command ? `m2m ${command} --help` : 'm2m --help';
  for (const token of tokens ?? []) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const isShort = !token.rawName.startsWith('--');
    const name = options[token.name] ? token.name : undefined;
    if (name === undefined) {
      const guess = isShort ? undefined : closest(token.name, longNames);
      const hint = guess ? ` Did you mean --${guess}?` : '';
      throw new UsageError(`${where}: unknown option ${token.rawName}.${hint} Run '${help}' for the options.`);
    }
    const spec = options[name] as OptionSpec;
    const label = `${isShort ? `${token.rawName}/` : ''}--${name}`;
    if (spec.type === 'boolean') {
      if (token.inlineValue) throw new UsageError(`${where}: option ${label} is a switch and takes no value.`);
      values[name] = true;
      continue;
    }
    const value = token.value;
    if (value === undefined) {
      throw new UsageError(`${where}: option ${label} needs a value. Run '${help}' for its use.`);
    }
    if (!token.inlineValue && value.startsWith('-') && value !== '-' && !NEGATIVE_NUMBER.test(value)) {
      throw new UsageError(
        `${where}: option ${label} needs a value, but the next argument is the option ${value}. ` +
          `To pass a value starting with '-', write ${token.rawName}=${value}.`,
      );
    }
    values[name] = value;
  }
  return { values, positionals };
}

/** Checks an enumerated flag value; a typo gets a suggestion, always the list of choices. */
export function checkChoice(
  command: string,
  flag: string,
  value: string | boolean | undefined,
  choices: readonly string[],
  code: ErrorCode = 'USAGE_ERROR',
  what = 'value',
): void {
  if (value === undefined || (typeof value === 'string' && choices.includes(value))) return;
  const guess = typeof value === 'string' ? closest(value, choices) : undefined;
  const hint = guess ? ` Did you mean ${guess}?` : '';
  throw new UsageError(
    `m2m ${command}: unknown ${what} ${JSON.stringify(value)} for --${flag}.${hint} Choose one of: ${choices.join(', ')}.`,
    code,
  );
}
