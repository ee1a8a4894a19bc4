/**
 * The embedded database: PostgreSQL compiled to WebAssembly (PGlite), kept in `<DATA_DIR>/postgres` and
 * served to the ordinary `pg` driver on a loopback port by pglite-socket, so the service runs with
 * nothing installed and every query, the event store's plpgsql functions and xid8 snapshots included,
 * goes through the same code as on a real server.
 *
 * PGlite is ONE backend session. pglite-socket can accept several clients, but it multiplexes them into
 * that one session: settings, prepared statement names and advisory locks are shared between them (one
 * client's `SET search_path` changes the others', two clients preparing the same statement name fail,
 * two "exclusive" advisory locks both succeed). So the server here accepts exactly one client, and the
 * database module (database.ts) routes every pool of the process through that one connection, one
 * query or transaction at a time. Transactions that run one after the other are trivially isolated.
 *
 * PGlite does not stop a second process from opening the same directory (it writes no postmaster.pid),
 * and two would corrupt it, so this module holds a lock file of its own while the database is open.
 * PGlite runs with fsync off and its file system has no fsync: a commit survives the process being
 * killed (it is in the operating system's cache), not a power cut.
 */
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedDatabase {
  /** Where the one client connects (loopback, a port chosen by the system). */
  readonly url: string;
  /** The PostgreSQL data directory inside DATA_DIR. */
  readonly directory: string;
  close(): Promise<void>;
}

export class DataDirInUse extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by process ${pid}; stop it, or set DATABASE_URL to share a PostgreSQL server between processes ` +
        `(if no such process runs, delete ${lockPath(dataDir)})`,
    );
    this.name = 'DataDirInUse';
  }
}

const LOCK_FILE = 'scriptorium.lock';
/** Directories this process has open: the lock file cannot tell this process from its past self. */
const openHere = new Set<string>();
const DATABASE_DIRECTORY = 'postgres';

function lockPath(dataDir: string): string {
  return path.join(dataDir, LOCK_FILE);
}

/** Opens (creating on first use) the database under `dataDir` and serves it on 127.0.0.1. */
export async function startEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const root = path.resolve(dataDir);
  if (openHere.has(root)) throw new DataDirInUse(root, process.pid);
  openHere.add(root);
  let releaseLock: () => Promise<void>;
  try {
    await mkdir(root, { recursive: true });
    releaseLock = await lockDataDir(root);
  } catch (error) {
    openHere.delete(root);
    throw error;
  }
  const directory = path.join(root, DATABASE_DIRECTORY);
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    db = await PGlite.create({ dataDir: directory });
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
  } catch (error) {
    await server?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await releaseLock();
    openHere.delete(root);
    throw error;
  }
  const started = { db, server };
  let closing: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${started.server.getServerConn()}/postgres`,
    directory,
    close() {
      closing ??= (async () => {
        try {
          await started.server.stop();
          await started.db.close();
        } finally {
          await releaseLock();
          openHere.delete(root);
        }
      })();
      return closing;
    },
  };
}

/**
 * Takes `<dataDir>/scriptorium.lock` and answers its release. The file is linked into place whole (so
 * it is never seen empty) and only if absent. A lock whose process is gone is stale and taken over; our
 * own pid in it is stale too (a container restarted with the same pid).
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = lockPath(dataDir);
  const draft = `${file}.${process.pid}`;
  await writeFile(draft, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(draft, file);
        return async () => {
          if ((await readLockHolder(file)) === process.pid) await rm(file, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = await readLockHolder(file);
        if (holder !== undefined && holder !== process.pid && processIsAlive(holder)) throw new DataDirInUse(dataDir, holder);
        await rm(file, { force: true });
      }
    }
    throw new Error(`could not lock DATA_DIR ${dataDir}: ${file} keeps reappearing`);
  } finally {
    await rm(draft, { force: true });
  }
}

async function readLockHolder(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
