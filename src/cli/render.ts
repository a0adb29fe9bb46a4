// `cgprocfs render`: a file as the mount renders it for a pid or a cgroup, without
// FUSE, or with --list the names of the files. Errors name what is wrong in the
// user's terms (a process, a cgroup, a file name), not the kernel file that was missing.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CgprocfsError, isCgprocfsError } from '../errors.js';
import type { ViewService } from '../render/views.js';

export interface RenderArgs {
  file?: string | undefined;
  list: boolean;
  pid?: number | undefined;
  cgroup?: string | undefined;
  procRoot: string;
}

/** 'meminfo' or 'proc/meminfo' -> the tree path. */
export function resolveFile(files: readonly string[], name: string): string {
  const wanted = name.replace(/^\/+/, '');
  const match = files.find((f) => f === wanted) ?? files.find((f) => f.endsWith(`/${wanted}`));
  if (!match) throw new CgprocfsError('NO_SUCH_FILE', `no file ${name} (cgprocfs render --list shows the names)`);
  return match;
}

function renderForPid(views: ViewService, file: string, pid: number, procRoot: string): Buffer {
  const noSuchProcess = () => new CgprocfsError('NO_SUCH_PROCESS', `no such process ${pid}`);
  if (!existsSync(join(procRoot, String(pid)))) throw noSuchProcess();
  try {
    return views.renderForReader(file, pid);
  } catch (err) {
    // It exited between the check and the rendering.
    if (isCgprocfsError(err) && err.code === 'CALLER_UNKNOWN' && !existsSync(join(procRoot, String(pid)))) throw noSuchProcess();
    throw err;
  }
}

/**
 * What the command prints, and for `--cgroup` a note for stderr: which process the
 * view's uptime counts from, which the mount knows from its reader (issue 21).
 */
export function renderCommand(views: ViewService, args: RenderArgs): { output: string | Buffer; note?: string } {
  if (args.list) return { output: views.files.map((file) => `${file}\n`).join('') };
  const file = resolveFile(views.files, args.file ?? '');
  if (args.pid !== undefined) return { output: renderForPid(views, file, args.pid, args.procRoot) };
  const cgroup = args.cgroup ?? '/';
  const output = views.renderForCgroup(file, cgroup);
  return { output, note: views.datingOfCgroup(file, cgroup) };
}
