// A server run as a child process for one test run: free ports, its log (stdout and stderr)
// in memory, a wait for readiness and for log lines, and a stop that never leaves it behind.
// broker.mjs (Mosquitto) and aedes.mjs (aedes) start their brokers with it.
//
//   const server = await withFreePorts([undefined, undefined], ([tcp, ws]) => spawnServer({
//     name: 'mosquitto',
//     command: ['/usr/sbin/mosquitto', '-c', conf],
//     ready: () => portAccepts(tcp),          // or: ({ log }) => /ready/.test(log)
//     cleanup: () => rm(dir, { recursive: true }),
//   }));
//   await server.waitForLog(/New client connected/, 5000);
//   await server.stop();

import { spawn } from 'node:child_process';
import net from 'node:net';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** A TCP port that was free on 127.0.0.1 a moment ago (bound to port 0, then released). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true if something accepts a TCP connection on 127.0.0.1:port, false otherwise. */
export function portAccepts(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Calls `start(ports)` with one port per entry of `fixed`: the entry itself, or a free port
 * where it is undefined. Ports picked here can be taken by someone else before the server binds
 * them; if it then fails to start, tries again with fresh ones (fixed ports are tried once).
 */
export async function withFreePorts(fixed, start) {
  const attempts = fixed.every(Boolean) ? 1 : 3;
  let lastError;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const ports = [];
    for (const port of fixed) {
      let chosen = port ?? (await freePort());
      while (!port && ports.includes(chosen)) chosen = await freePort();
      ports.push(chosen);
    }
    try {
      return await start(ports);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * Spawns `command` and resolves once `ready({ log })` holds (checked on every log line and every
 * 100 ms), or rejects with the log if the process exits or is not ready within the time-out.
 *
 * @param {object} spec
 * @param {string} spec.name what the server is called in messages
 * @param {string[]} spec.command the executable and its arguments
 * @param {(state: { log: string }) => boolean | Promise<boolean>} spec.ready
 * @param {string} [spec.readyMeans] what `ready` checks, for the error: "listen on port 1883"
 * @param {() => Promise<void>} [spec.cleanup] run once the process has exited
 * @param {number} [spec.startTimeoutMs]
 */
export async function spawnServer({
  name,
  command,
  ready,
  readyMeans = 'become ready',
  cleanup = async () => {},
  startTimeoutMs = START_TIMEOUT_MS,
}) {
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });

  // Never leave a server behind, even when the test process dies on an uncaught error.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let logText = '';
  const logListeners = new Set();
  const onData = (chunk) => {
    logText += chunk.toString('utf8');
    for (const listener of logListeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', (error) => {
      process.removeListener('exit', killOnExit);
      exitInfo = { code: null, signal: null, error };
      resolve(exitInfo);
    });
  });

  // Wait until ready, or the server exits, or the deadline passes.
  const deadline = Date.now() + startTimeoutMs;
  let isReady = false;
  while (!exitInfo && Date.now() < deadline) {
    if (await ready({ log: logText })) {
      isReady = true;
      break;
    }
    // Re-check on the next log line (servers log each listener they open) or after 100 ms.
    await Promise.race([exited, nextLogLine(logListeners), delay(100)]);
  }
  if (!isReady) {
    if (!exitInfo) {
      child.kill('SIGKILL');
      await exited;
    }
    await cleanup();
    const why = exitInfo?.error
      ? `could not run ${name}: ${exitInfo.error.message}`
      : `${name} did not ${readyMeans} within ${startTimeoutMs} ms` +
        ` (exit code ${exitInfo?.code}, signal ${exitInfo?.signal})`;
    throw new Error(`${why}\n--- ${name} log ---\n${logText}`);
  }

  /**
   * Resolves once the whole log so far matches: `test` is a RegExp (resolves with its match)
   * or a function of the log text returning something truthy (resolves with that).
   */
  const waitForLog = (test, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const evaluate =
        typeof test === 'function'
          ? () => test(logText)
          : () => {
              test.lastIndex = 0;
              return test.exec(logText);
            };
      const check = () => {
        const match = evaluate();
        if (match) {
          finish();
          resolve(match);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${name} log did not match ${test} within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        logListeners.delete(check);
      };
      if (!check()) logListeners.add(check);
    });

  let stopping = null;
  const stop = () => {
    stopping ??= (async () => {
      if (!exitInfo) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await cleanup();
    })();
    return stopping;
  };

  return {
    pid: child.pid,
    log: () => logText,
    waitForLog,
    stop,
    /** Ends the process at once (SIGKILL: a crash, no clean shutdown); resolves once it has. */
    kill: async () => {
      if (!exitInfo) child.kill('SIGKILL');
      await exited;
      await cleanup();
    },
    /** True once the process has exited. */
    get exited() {
      return exitInfo !== null;
    },
  };
}

function nextLogLine(listeners) {
  return new Promise((resolve) => {
    const once = () => {
      listeners.delete(once);
      resolve();
    };
    listeners.add(once);
  });
}

export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
