#!/usr/bin/env node
/**
 * The `m2m` command: compress, decompress, analyze, scan, server.
 * `m2m --help` documents the commands and the exit codes (0 ok, 1 runtime
 * error, 2 usage error, 3 security threat); `m2m help config` every setting.
 */
import cluster from 'node:cluster';
import { packageManifest } from '../core/package-files.js';
import { ALGORITHMS, backendKind, ENCODINGS, M2MError } from '../index.js';
import { isSecurityViolation } from '../security/index.js';
import { checkChoice, type OptionSpec, parseCommandArgs, UsageError, type Values } from './cli/args.js';
import {
  type CommandContext,
  EXIT,
  runAnalyze,
  runCompress,
  runDecompress,
  runInspect,
  runModels,
  runScan,
} from './cli/commands.js';
import { COMMANDS, type Command, commandHelp, configHelp, globalHelp } from './cli/help.js';
import { Output } from './cli/input.js';
import { closest } from './cli/suggest.js';
import { CONFIG_FLAGS, type Config, loadConfig, readServerKeys } from './config.js';
import type { GatewayOptions } from './gateway/plugin.js';

const pkg = packageManifest();

/** The flags of configuration settings, as the settings tables define them (see config.ts). */
function settingFlags(...names: string[]): Record<string, OptionSpec> {
  return Object.fromEntries(
    names.map((name) => {
      const spec = CONFIG_FLAGS[name];
      if (!spec) throw new Error(`no configuration setting has the flag --${name}`);
      return [name, spec];
    }),
  );
}

const COMMON: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  ...settingFlags('config'),
};
const INPUT: Record<string, OptionSpec> = {
  file: { type: 'string', short: 'f' },
  jsonl: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  'no-progress': { type: 'boolean' },
  ...settingFlags('max-size'),
};
const CODEC = settingFlags('encoding', 'optimize', 'brotli-quality');
/** Frame keys come from a file or an environment variable, never a flag's value (see cli/keys.ts). */
const KEYS: Record<string, OptionSpec> = {
  'key-file': { type: 'string' },
  'key-env': { type: 'string' },
};
const SECURITY = settingFlags('mode', 'blocking', 'threshold');

const OPTIONS: Record<Command, Record<string, OptionSpec>> = {
  compress: {
    ...COMMON,
    ...INPUT,
    ...CODEC,
    ...KEYS,
    ...SECURITY,
    ...settingFlags('algorithm', 'profile'),
    protect: { type: 'string' },
  },
  decompress: { ...COMMON, ...INPUT, ...KEYS, ...SECURITY, require: { type: 'string' } },
  inspect: { ...COMMON, ...INPUT },
  models: { ...COMMON },
  analyze: { ...COMMON, ...INPUT, ...CODEC, summary: { type: 'boolean' } },
  scan: { ...COMMON, ...INPUT, ...SECURITY, 'fail-on-threat': { type: 'boolean' } },
  server: {
    ...COMMON,
    ...SECURITY,
    ...settingFlags('port', 'host', 'listen', 'workers', 'timeout', 'body-limit', 'redis-url', 'log-level', 'log-json'),
    ...settingFlags(
      'frame-key-file',
      'frame-key-env',
      'session-key-file',
      'session-key-env',
      'require-session-security',
    ),
  },
  gateway: {} as Record<string, OptionSpec>,
};
OPTIONS.gateway = {
  ...OPTIONS.server,
  ...settingFlags('upstream', 'api-key-env', 'upstream-timeout', 'upstream-m2m'),
};

/** Hints for errors whose fix is not obvious from the message. */
function hint(command: string, err: M2MError, values: Values): string | undefined {
  const decoding = command === 'decompress';
  switch (err.code) {
    case 'INVALID_JSON':
      if (command === 'compress' && values.algorithm === 'token') {
        return '-a token (T1) compresses JSON only: check the JSON, or use -a auto for any text.';
      }
      return decoding ? 'the #T1| payload is damaged: pass the wire string exactly as it was produced.' : undefined;
    case 'INVALID_BASE64':
    case 'INVALID_BASE85':
    case 'DECOMPRESSION_FAILED':
    case 'MISSING_SEPARATOR':
    case 'TRUNCATED_VARINT':
    case 'VARINT_OVERFLOW':
    case 'NON_CANONICAL_VARINT':
    case 'UNKNOWN_TOKEN':
    case 'INVALID_UTF8':
    case 'INVALID_PREFIX':
      return decoding
        ? 'the wire string is damaged or truncated: pass it exactly as m2m compress printed it (quoted in the shell), or with --file.'
        : undefined;
    case 'SECURITY_VIOLATION':
      return decoding
        ? 'the message is not protected as required: decode protected frames with --require hmac|aead and its --key-file or --key-env.'
        : undefined;
    case 'AUTHENTICATION_FAILED':
      return 'the frame was altered, or the key is not the one it was made with.';
    case 'UNKNOWN_TOKENIZER':
      return decoding ? 'the #TK| tokenizer id must be C, O or L.' : `choose one of: ${ENCODINGS.join(', ')}.`;
    case 'INVALID_CONFIG':
      return "run 'm2m help config' for every key and its allowed values.";
    default:
      return undefined;
  }
}

function exitCodeOf(err: M2MError): number {
  if (isSecurityViolation(err)) return EXIT.THREAT; // the scanner's (a refused frame is a runtime error)
  return err instanceof UsageError || err.code === 'INVALID_CONFIG' ? EXIT.USAGE : EXIT.RUNTIME;
}

/** Splits `m2m [global options] <command> [args]`; global options are handed to the command. */
function splitCommand(argv: readonly string[]): { command: string | undefined; args: string[] } {
  const before: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--config') {
      before.push(arg, ...(argv[i + 1] !== undefined ? [argv[i + 1] as string] : []));
      i++;
    } else if (arg.startsWith('-') && arg !== '-') before.push(arg);
    else return { command: arg, args: [...before, ...argv.slice(i + 1)] };
  }
  return { command: undefined, args: before };
}

const write = (text: string) => process.stdout.write(text);
const writeErr = (text: string) => process.stderr.write(text);

function validateChoices(command: Command, values: Values): void {
  checkChoice(command, 'algorithm', values.algorithm, ['auto', ...ALGORITHMS], 'UNSUPPORTED_ALGORITHM', 'algorithm');
  checkChoice(command, 'encoding', values.encoding, ENCODINGS, 'UNKNOWN_TOKENIZER', 'encoding');
  checkChoice(command, 'optimize', values.optimize, ['bytes', 'tokens']);
  checkChoice(command, 'protect', values.protect, ['hmac', 'aead'], 'USAGE_ERROR', 'protection');
  checkChoice(command, 'require', values.require, ['hmac', 'aead'], 'USAGE_ERROR', 'protection');
  checkChoice(command, 'profile', values.profile, ['default', 'reference'], 'USAGE_ERROR', 'profile');
  checkChoice(command, 'mode', values.mode, ['disabled', 'monitor', 'blocking'], 'USAGE_ERROR', 'mode');
  checkChoice(
    command,
    'log-level',
    values['log-level'],
    ['trace', 'debug', 'info', 'warn', 'error'],
    'USAGE_ERROR',
    'level',
  );
  if (values.blocking === true && values.mode !== undefined && values.mode !== 'blocking') {
    throw new UsageError(`m2m ${command}: --blocking contradicts --mode ${values.mode}; give one of them.`);
  }
}

/** The gateway's options from the config; the API key is read from its environment variable here. */
function gatewayOptions(config: Config): GatewayOptions {
  const { upstream, apiKeyEnv, timeoutMs, upstreamM2M, dictionaries, streamHistoryBytes } = config.gateway;
  if (upstream === undefined) {
    throw new UsageError(
      "m2m gateway: give the upstream API with --upstream <url> (or gateway.upstream / M2M_GATEWAY_UPSTREAM). Run 'm2m gateway --help'.",
    );
  }
  const apiKey = process.env[apiKeyEnv];
  return {
    upstream,
    timeoutMs,
    upstreamM2M,
    dictionaries,
    streamHistory: streamHistoryBytes,
    ...(apiKey ? { apiKey } : {}),
  };
}

async function runServer(config: Config, json: boolean, gateway?: GatewayOptions): Promise<number> {
  const name = gateway ? 'gateway' : 'server';
  const cluster = await import('./cli/cluster.js');
  const { workers } = config.server;
  // Read before anything starts, so a missing key file fails the command (naming the file, never the key).
  const keys = readServerKeys(config.server);
  // With JSON logs the announcement is a JSON line too: one stream, one format.
  const announce = (url: string, n: number) =>
    write(
      json || config.server.logJson
        ? `${JSON.stringify({ url, workers: n, pid: process.pid })}\n`
        : `m2m ${name} listening on ${url}${n > 1 ? ` (${n} workers)` : ''}${gateway ? `, forwarding /v1/* to ${gateway.upstream}` : ''}\n`,
    );
  if (workers > 1 && !cluster.isWorker()) {
    return cluster.runPrimary(workers, {
      listening: (url) => announce(url, workers),
      error: (message) => writeErr(`m2m ${name}: ${message}\n`),
    });
  }
  const { startServer } = await import('./server/index.js');
  const server = await startServer({
    ...config.server,
    ...keys,
    ...(gateway ? { gateway } : {}),
  }).catch((err: NodeJS.ErrnoException) => {
    if (err instanceof M2MError) throw err;
    const where = `${config.server.host}:${config.server.port}`;
    const why =
      err.code === 'EADDRINUSE'
        ? 'the address is in use; stop the other server or choose another --port'
        : err.code === 'EACCES'
          ? 'permission denied; ports below 1024 need privileges, choose another --port'
          : err.code === 'EADDRNOTAVAIL'
            ? 'the address is not available on this machine; check --host'
            : err.message;
    throw new M2MError('SERVER_START_FAILED', `cannot listen on ${where}: ${why}`, { cause: err });
  });
  if (cluster.isWorker()) cluster.notifyListening(server.url);
  else announce(server.url, 1);
  await new Promise<void>((resolve, reject) => {
    let closing = false;
    const stop = () => {
      if (closing) return;
      closing = true;
      server.close().then(resolve, reject);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (cluster.isWorker()) cluster.onShutdownRequest(stop);
  });
  return EXIT.OK;
}

async function main(argv: readonly string[]): Promise<number> {
  const { command, args } = splitCommand(argv);
  const wantsJson = args.includes('--json');
  let currentCommand = command ?? '';
  let values: Values = {};
  try {
    if (command === undefined || command === 'help') {
      if (args.includes('--version') || args.includes('-V')) {
        write(`m2m ${pkg.version} (${backendKind()} backend)\n`);
        return EXIT.OK;
      }
      const topic = command === 'help' ? args.find((a) => !a.startsWith('-')) : undefined;
      if (topic === 'config') write(configHelp());
      else if (topic !== undefined && (COMMANDS as readonly string[]).includes(topic))
        write(commandHelp(topic as Command));
      else if (topic !== undefined)
        throw new UsageError(`m2m help: no help on '${topic}'. Topics: ${COMMANDS.join(', ')}, config.`);
      else if (command === 'help' || args.length === 0 || args.includes('--help') || args.includes('-h')) {
        write(globalHelp(pkg.version));
      } else {
        const unknown = args[0] as string;
        const guess = closest(unknown.replace(/^-+/, ''), ['help', 'version']);
        throw new UsageError(
          `m2m: unknown option ${unknown}${guess ? ` (did you mean --${guess}?)` : ''}, or a missing command. Run 'm2m --help'.`,
        );
      }
      return EXIT.OK;
    }
    if (command === 'version') {
      write(`m2m ${pkg.version} (${backendKind()} backend)\n`);
      return EXIT.OK;
    }
    if (!(COMMANDS as readonly string[]).includes(command)) {
      const guess = closest(command, COMMANDS);
      throw new UsageError(
        `m2m: unknown command '${command}'.${guess ? ` Did you mean '${guess}'?` : ''} Commands: ${COMMANDS.join(', ')}. Run 'm2m --help'.`,
      );
    }
    const cmd = command as Command;
    currentCommand = cmd;
    const parsed = parseCommandArgs(cmd, args, OPTIONS[cmd]);
    values = parsed.values;
    if (values.help) {
      write(commandHelp(cmd));
      return EXIT.OK;
    }
    validateChoices(cmd, values);
    if ((cmd === 'server' || cmd === 'gateway') && parsed.positionals.length > 0) {
      throw new UsageError(`m2m ${cmd}: unexpected argument '${parsed.positionals[0]}'. Run 'm2m ${cmd} --help'.`);
    }
    const config = loadConfig({ flags: values });
    for (const w of config.meta.warnings) writeErr(`m2m: warning: ${w}\n`);
    const json = values.json === true;
    if (cmd === 'server') return await runServer(config, json);
    if (cmd === 'gateway') return await runServer(config, json, gatewayOptions(config));

    const output = new Output(typeof values.output === 'string' ? values.output : undefined);
    const ctx: CommandContext = {
      command: cmd,
      values,
      positionals: parsed.positionals,
      config,
      json,
      output,
      stderr: (text) => writeErr(`m2m ${cmd}: ${text}\n`),
    };
    try {
      switch (cmd) {
        case 'compress':
          return await runCompress(ctx);
        case 'decompress':
          return await runDecompress(ctx);
        case 'analyze':
          return await runAnalyze(ctx);
        case 'scan':
          return await runScan(ctx);
        case 'inspect':
          return await runInspect(ctx);
        case 'models':
          return runModels(ctx);
      }
    } finally {
      output.close();
    }
  } catch (err) {
    const error =
      err instanceof M2MError
        ? err
        : new M2MError('INTERNAL_ERROR', `unexpected failure: ${(err as Error)?.stack ?? String(err)}`);
    const code = error.code === 'INTERNAL_ERROR' ? EXIT.RUNTIME : exitCodeOf(error);
    if (wantsJson) {
      write(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
    } else {
      const where = currentCommand && !error.message.startsWith('m2m') ? `m2m ${currentCommand}: ` : '';
      const tip = hint(currentCommand, error, values);
      writeErr(
        `${where}${error instanceof UsageError ? '' : `${error.code}: `}${error.message}\n${tip ? `  hint: ${tip}\n` : ''}`,
      );
    }
    return code;
  }
  return EXIT.OK;
}

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0); // the reader went away (e.g. | head)
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A cluster worker keeps its IPC channel open: leave explicitly once done.
    if (cluster.isWorker) process.exit(code);
  },
  (err) => {
    process.stderr.write(`m2m: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = EXIT.RUNTIME;
  },
);
