/**
 * Applies migrations/NNN_name.sql in order, each inside a transaction, recorded in `schema_migrations`.
 * A database migrated by newer code (an unknown, higher version) is refused instead of being misread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from 'better-sqlite3';
import { CodedError } from '../gate/errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Thrown when the database cannot be used by this code (newer schema, broken migration). */
export class DatabaseError extends CodedError<'database_invalid'> {
  constructor(message: string) {
    super('database_invalid', message);
  }
}

/** Finds migrations/ from src/store (tsx) or dist/src/store (built). */
export function defaultMigrationsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const dir = path.resolve(here, up, 'migrations');
    if (fs.existsSync(dir)) return dir;
  }
  throw new DatabaseError(`migrations folder not found near ${here}`);
}

export function readMigrations(dir = defaultMigrationsDir()): Migration[] {
  const migrations: Migration[] = [];
  for (const file of fs.readdirSync(dir).sort()) {
    const m = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!m) continue;
    migrations.push({ version: Number(m[1]), name: m[2]!, sql: fs.readFileSync(path.join(dir, file), 'utf8') });
  }
  migrations.sort((a, b) => a.version - b.version);
  migrations.forEach((mig, i) => {
    if (mig.version !== i + 1) throw new DatabaseError(`migrations must be numbered 001, 002, … without gaps; found ${mig.version} at position ${i + 1}`);
  });
  return migrations;
}

export function schemaVersion(db: Database): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** Brings the schema up to `upTo` (default: all); returns the versions applied now. */
export function migrate(db: Database, migrations: Migration[] = readMigrations(), upTo = Infinity): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const current = schemaVersion(db);
  const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0;
  if (current > latest) {
    throw new DatabaseError(
      `database ${db.name} has schema version ${current}, newer than this code knows (${latest}); upgrade moe-router or use another DB_PATH`,
    );
  }
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  // A migration that rebuilds a table drops it: with foreign keys on, that would delete every row referring to it.
  // The pragma is a no-op inside a transaction, so it is set around them, and the keys are checked before each commit.
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) === 1;
  if (foreignKeys) db.pragma('foreign_keys = OFF');
  try {
    for (const mig of migrations) {
      if (mig.version <= current || mig.version > upTo) continue;
      const apply = db.transaction(() => {
        db.exec(mig.sql);
        const broken = db.pragma('foreign_key_check') as { table: string; parent: string }[];
        if (broken.length > 0) throw new Error(`${broken.length} rows of ${broken[0]!.table} refer to missing ${broken[0]!.parent} rows`);
        record.run(mig.version, mig.name, Date.now());
      });
      try {
        apply();
      } catch (err) {
        throw new DatabaseError(`migration ${String(mig.version).padStart(3, '0')}_${mig.name} failed: ${(err as Error).message}`);
      }
      applied.push(mig.version);
    }
  } finally {
    if (foreignKeys) db.pragma('foreign_keys = ON');
  }
  return applied;
}
