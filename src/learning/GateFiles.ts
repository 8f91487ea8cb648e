/** Gate files of every version live beside GATE_PATH, in gates/<version>.json; the helpers that write and clean them. */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { Gate } from '../gate/Gate.js';
import type { GateVersions } from '../store/GateVersions.js';
import { isProcessAlive } from '../store/RetrainLock.js';

export function gatesDir(config: Pick<Config, 'gatePath'>): string {
  return path.join(path.dirname(path.resolve(config.gatePath)), 'gates');
}

export function gateFile(config: Pick<Config, 'gatePath'>, version: string): string {
  return path.join(gatesDir(config), `${version}.json`);
}

/** Removes temp files a killed writer left behind (Gate.save writes <file>.<pid>.<time>.tmp, then renames). */
export function removeStaleTempFiles(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.tmp')) continue;
    const pid = Number(f.match(/\.(\d+)\.[a-z0-9]+\.tmp$/)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || !isProcessAlive(pid)) fs.rmSync(path.join(dir, f), { force: true });
  }
}

/** `gate`, or a copy with a suffixed version when that version is recorded already (two gates trained in the same second). */
export function withUniqueVersion(versions: GateVersions, gate: Gate): Gate {
  if (!versions.get(gate.version, { includePruned: true })) return gate;
  for (let i = 2; ; i++) {
    const version = `${gate.version}-${i}`;
    if (!versions.get(version, { includePruned: true })) return Gate.fromJSON({ ...gate.toJSON(), version }, '(in memory)');
  }
}
