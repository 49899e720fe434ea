/**
 * A container's file tree as programs see it: regular files and symbolic links by absolute path,
 * directories implied by what lies under them. Read-only: podwire models what a program serves
 * from its volumes (ConfigMaps), not what it writes. Paths resolve as the kernel's path walk does
 * for the cases that matter here: `.`/`..` and repeated slashes, symlinks relative to their own
 * directory (a ConfigMap key is `key -> ..data/key`, `..data -> ..2026_…`).
 */
export type FileKind = 'file' | 'dir';

const MAX_LINK_HOPS = 40; // Linux's MAXSYMLINKS (ELOOP beyond)

export class ContainerFs {
  private readonly files = new Map<string, Uint8Array>();
  private readonly links = new Map<string, string>();
  /** Every directory holding something, with its entries in creation order. */
  private readonly dirs = new Map<string, Set<string>>([['/', new Set()]]);

  /** `mtimeSec`: every file's modification time (the kubelet writes a volume when the pod starts). */
  constructor(readonly mtimeSec: number) {}

  addFile(path: string, data: Uint8Array): void {
    const p = normalizePath(path);
    this.files.set(p, data);
    this.addEntry(p);
  }

  addSymlink(path: string, target: string): void {
    const p = normalizePath(path);
    this.links.set(p, target);
    this.addEntry(p);
  }

  /** An empty directory (a mount point with nothing in it yet). */
  addDir(path: string): void {
    const p = normalizePath(path);
    if (!this.dirs.has(p)) this.dirs.set(p, new Set());
    if (p !== '/') this.addEntry(p);
  }

  private addEntry(p: string): void {
    const parent = dirname(p);
    let entries = this.dirs.get(parent);
    if (!entries) {
      entries = new Set();
      this.dirs.set(parent, entries);
      if (parent !== '/') this.addEntry(parent);
    }
    entries.add(p.slice(p.lastIndexOf('/') + 1));
  }

  /** The path with every symlink followed; undefined on a dangling link or a loop. */
  realpath(path: string): string | undefined {
    let p = normalizePath(path);
    for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
      const parts = p.split('/').filter(Boolean);
      let prefix = '';
      let changed = false;
      for (let i = 0; i < parts.length; i++) {
        const here = `${prefix}/${parts[i]}`;
        const target = this.links.get(here);
        if (target !== undefined) {
          const base = target.startsWith('/') ? target : `${prefix}/${target}`;
          p = normalizePath([base, ...parts.slice(i + 1)].join('/'));
          changed = true;
          break;
        }
        prefix = here;
      }
      if (!changed) return this.files.has(p) || this.dirs.has(p) ? p : undefined;
    }
    return undefined;
  }

  /** stat(2): what the path is once links are followed. */
  stat(path: string): FileKind | undefined {
    const p = this.realpath(path);
    if (p === undefined) return undefined;
    return this.files.has(p) ? 'file' : 'dir';
  }

  /** lstat(2)'s S_ISLNK. */
  isSymlink(path: string): boolean {
    return this.links.has(normalizePath(path));
  }

  /** readlink(2): a symlink's target as written; undefined when the path is not a symlink. */
  readlink(path: string): string | undefined {
    return this.links.get(normalizePath(path));
  }

  readFile(path: string): Uint8Array | undefined {
    const p = this.realpath(path);
    return p === undefined ? undefined : this.files.get(p);
  }

  /** readdir(3) without `.` and `..`, in creation order (callers sort, as Python's listdir users do). */
  list(path: string): string[] | undefined {
    const p = this.realpath(path);
    const entries = p === undefined ? undefined : this.dirs.get(p);
    return entries ? [...entries] : undefined;
  }
}

/** posixpath.normpath for an absolute path (a relative one is taken from `/`). */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** `path` made absolute against `cwd`, normalized. */
export function resolvePath(cwd: string, path: string): string {
  return normalizePath(path.startsWith('/') ? path : `${cwd}/${path}`);
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}
