// The committed simulator bundle (static/sim/, built by `bash wasm-sim/build.sh`) loads outside a
// browser too: wasm-bindgen's `--target web` glue instantiated synchronously from the .wasm bytes,
// and its exports answer. No server or Chromium needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SIM_DIR = path.join(REPO_ROOT, 'static', 'sim');

/** wasm-sim's version: its own `version = "…"`, or the workspace's with `version.workspace = true`. */
function wasmSimVersion() {
  const own = readFileSync(path.join(REPO_ROOT, 'wasm-sim', 'Cargo.toml'), 'utf8');
  const ownVersion = own.match(/^version\s*=\s*"([^"]+)"/m);
  if (ownVersion) return ownVersion[1];
  assert.match(own, /^version\.workspace\s*=\s*true/m, 'wasm-sim/Cargo.toml has no version');
  const root = readFileSync(path.join(REPO_ROOT, 'Cargo.toml'), 'utf8');
  const section = root.split(/^\[workspace\.package\]\s*$/m)[1]?.split(/^\[/m)[0] ?? '';
  const version = section.match(/^version\s*=\s*"([^"]+)"/m);
  assert.ok(version, 'no version in [workspace.package] of Cargo.toml');
  return version[1];
}

test('static/sim loads with initSync and reports the wasm-sim version', async () => {
  const sim = await import(pathToFileURL(path.join(SIM_DIR, 'simulator.js')).href);
  const wasm = sim.initSync({ module: readFileSync(path.join(SIM_DIR, 'simulator_bg.wasm')) });
  assert.ok(wasm.memory instanceof WebAssembly.Memory, 'the instance exports its memory');
  assert.equal(sim.version(), wasmSimVersion());
});
