/**
 * Watches the config file for changes (SPEC §3 `reload.watch`): the file itself, and its directory,
 * because a Kubernetes ConfigMap mount swaps a `..data` symlink rather than writing the file, and
 * editors replace files by rename. Events are debounced (`reload.debounceMs`) and the content is
 * hashed, so touching the file or rewriting it unchanged does not reload. The watchers do not keep
 * the process alive.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface ConfigWatchOptions {
  readonly file: string;
  readonly debounceMs: number;
  /** Called when the content differs from the last content seen. */
  readonly onChange: () => void;
}

/** Watches one config file until closed. */
export class ConfigFileWatcher {
  private readonly options: ConfigWatchOptions;
  private readonly name: string;
  private dirWatcher: FSWatcher | undefined;
  private fileWatcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastHash: string | undefined;
  private closed = false;

  constructor(options: ConfigWatchOptions) {
    this.options = options;
    this.name = basename(options.file);
  }

  /** Remembers the current content (what is running) and starts watching. */
  async start(): Promise<void> {
    this.lastHash = await contentHash(this.options.file);
    if (this.closed) return;
    this.dirWatcher = watchQuietly(dirname(this.options.file), (name) => {
      // `..data` and `..2024_01_01_...` are the ConfigMap's symlink swap; other files are none of ours.
      if (name === null || name === this.name || name.startsWith('..')) this.schedule();
    });
    this.watchFile();
  }

  /** Stops watching; a pending check is dropped. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.dirWatcher?.close();
    this.fileWatcher?.close();
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), this.options.debounceMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    // A rename or symlink swap leaves the old watch on a file that is gone: watch the new one.
    this.watchFile();
    const hash = await contentHash(this.options.file);
    if (this.closed || hash === undefined || hash === this.lastHash) return;
    this.lastHash = hash;
    this.options.onChange();
  }

  private watchFile(): void {
    if (this.closed) return;
    this.fileWatcher?.close();
    this.fileWatcher = watchQuietly(this.options.file, () => this.schedule());
  }
}

/** fs.watch that neither throws (missing path mid-swap) nor keeps the process alive. */
function watchQuietly(path: string, listener: (name: string | null) => void): FSWatcher | undefined {
  try {
    const watcher = watch(path, { persistent: false }, (_event, name) => listener(name));
    watcher.on('error', () => watcher.close());
    return watcher;
  } catch {
    return undefined;
  }
}

/** SHA-256 of the file, or undefined while it cannot be read (mid-swap). */
async function contentHash(file: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex');
  } catch {
    return undefined;
  }
}
