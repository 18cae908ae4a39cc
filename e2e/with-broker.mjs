#!/usr/bin/env node
// Runs a command next to a private Mosquitto on free ports.
//
//   node e2e/with-broker.mjs -- <command> [args…]
//
// The command sees EDA_TEST_BROKER_WS (ws://127.0.0.1:<port>) and EDA_TEST_BROKER_TCP_PORT.
// Browser tests built with wasm-bindgen-test cannot read the environment at run time: read
// them at compile time with option_env!("EDA_TEST_BROKER_WS").
//
// Exits with the command's exit code. If the command fails, the broker's log (every packet)
// is written to target/with-broker-mosquitto.log (or $EDA_BROKER_LOG).

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from './lib/broker.mjs';

const argv = process.argv.slice(2);
const separator = argv.indexOf('--');
const command = separator >= 0 ? argv.slice(separator + 1) : argv;
if (command.length === 0) {
  console.error('usage: node e2e/with-broker.mjs -- <command> [args…]');
  process.exit(2);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let broker;
try {
  broker = await startBroker();
} catch (error) {
  console.error(`with-broker: could not start mosquitto: ${error.message}`);
  process.exit(1);
}
console.error(
  `with-broker: mosquitto on ${broker.wsUrl} (websockets) and 127.0.0.1:${broker.tcpPort} (tcp)`,
);

const child = spawn(command[0], command.slice(1), {
  stdio: 'inherit',
  env: {
    ...process.env,
    EDA_TEST_BROKER_WS: broker.wsUrl,
    EDA_TEST_BROKER_TCP_PORT: String(broker.tcpPort),
  },
});

// Ctrl-C reaches the child through the terminal; keep running until it has finished.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}

const exitCode = await new Promise((resolve) => {
  child.once('error', (error) => {
    console.error(`with-broker: could not run ${command[0]}: ${error.message}`);
    resolve(127);
  });
  child.once('exit', (code, signal) => {
    if (signal) {
      const signals = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
      resolve(128 + (signals[signal] ?? 0));
    } else {
      resolve(code ?? 1);
    }
  });
});

await broker.stop();

if (exitCode !== 0) {
  const logPath = process.env.EDA_BROKER_LOG ?? path.join(root, 'target', 'with-broker-mosquitto.log');
  try {
    mkdirSync(path.dirname(logPath), { recursive: true });
    writeFileSync(logPath, broker.log());
    console.error(`with-broker: command failed (exit ${exitCode}); broker log: ${logPath}`);
  } catch (error) {
    console.error(`with-broker: command failed (exit ${exitCode}); could not save the broker log: ${error.message}`);
  }
}
process.exit(exitCode);
