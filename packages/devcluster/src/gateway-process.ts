import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { checkBuild, DIST_CONDITION } from './build.ts';
import { LogTail, type LogEntry } from './logs.ts';

/** The repository's root folder. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The compiled gateway (`pnpm build`), what `pnpm start` and the Docker image run. */
export const GATEWAY_MAIN = join(dirname(createRequire(import.meta.url).resolve('@parley/gateway/package.json')), 'dist', 'main.js');
/**
 * Longest a process may take to listen, or nginx to answer. The compiled gateway listens in
 * about 1 s on an idle machine (docs/PERFORMANCE.md); a loaded 2-core machine takes far longer.
 */
export const START_TIMEOUT_MS = 45_000;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A gateway running as its own process (the real main, compiled). */
export interface NodeProcess {
  nodeId: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** Settles when the process exits. */
  exited: Promise<ExitStatus>;
  /** Every JSON log line it printed so far. */
  logs: LogEntry[];
  /** See `LogTail.next`: the next log line matching `predicate`, bounded, failing if the process exits. */
  nextLog(what: string, predicate: (entry: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

export interface GatewayProcessOptions {
  /** Also write what it prints to this process's stdout (`pnpm cluster`). @default false */
  echo?: boolean;
  /** Options for node itself, before the script (`--cpu-prof`, which NODE_OPTIONS refuses). @default [] */
  nodeArgs?: string[];
}

/**
 * Start the compiled gateway (`node --conditions=parley-dist services/gateway/dist/main.js`, as
 * `pnpm start` and the image do) as a child process with `env` over this process's environment.
 * It does not build (`pnpm test`, `pnpm cluster`, `pnpm chaos` and `pnpm bench` build first):
 * rejects with a BuildError when dist/ is missing or older than the sources. Resolves once it
 * listens (it tells over an IPC channel, whatever its log level), rejects if it exits first or
 * takes longer than START_TIMEOUT_MS. Its JSON log lines are kept in `logs` (`nextLog` awaits one).
 */
export function startGatewayProcess(env: Record<string, string | undefined>, options: GatewayProcessOptions = {}): Promise<NodeProcess> {
  try {
    checkBuild(REPO_ROOT);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  const fullEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  const nodeId = fullEnv.NODE_ID ?? 'node';
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), `--conditions=${DIST_CONDITION}`, GATEWAY_MAIN], {
    cwd: REPO_ROOT,
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const tail = new LogTail(nodeId);
  void exited.then((status) => tail.end(`exited (${JSON.stringify(status)})`));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    if (options.echo) process.stdout.write(`${line}\n`);
    try {
      tail.push(JSON.parse(line) as LogEntry);
    } catch {
      // not a JSON log line (LOG_PRETTY)
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${nodeId} did not listen within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    void exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`${nodeId} exited before listening: ${JSON.stringify(status)}`));
    });
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message.type !== 'listening' || typeof message.port !== 'number') return;
      clearTimeout(timer);
      child.disconnect();
      const port = message.port;
      resolve({
        nodeId,
        url: `http://127.0.0.1:${port}`,
        port,
        child,
        exited,
        logs: tail.entries,
        nextLog: (what, predicate, timeoutMs) => tail.next(what, predicate, timeoutMs),
        kill: (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
  });
}

/** How long `requestFrom` waits for an answer. */
const GET_TIMEOUT_MS = 10_000;

export interface RequestFromOptions {
  method?: string;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface AnswerFrom<T> {
  status: number;
  body: T;
  headers: IncomingHttpHeaders;
}

/**
 * Send a request to `path` on `baseUrl`, leaving from `localAddress` (looks like another client to
 * nginx). Rejects when no answer comes within 10 s or the answer is not JSON (another server on the port).
 */
export function requestFrom<T>(
  baseUrl: string,
  path: string,
  localAddress: string,
  options: RequestFromOptions = {},
): Promise<AnswerFrom<T>> {
  const { method = 'GET', body, headers = {} } = options;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      new URL(path, baseUrl),
      {
        method,
        localAddress,
        agent: false,
        timeout: GET_TIMEOUT_MS,
        headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T, headers: res.headers });
          } catch {
            reject(new Error(`${method} ${path} from ${baseUrl}: ${res.statusCode} answer is not JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} from ${baseUrl}: no answer within ${GET_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** GET `path` from `baseUrl`, leaving from `localAddress` (see `requestFrom`). */
export async function getFrom<T>(baseUrl: string, path: string, localAddress: string): Promise<{ status: number; body: T }> {
  const { status, body } = await requestFrom<T>(baseUrl, path, localAddress);
  return { status, body };
}
