// `cgprocfs render`: a file as the mount renders it for a pid or a cgroup, without
// FUSE, or with --list the names of the files. Errors name what is wrong in the
// user's terms (a process, a cgroup, a file name), not the kernel file that was missing
// (issue 16); for a cgroup, stderr says what its uptime counts from (issue 21).

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

export interface RenderIo {
  stdout: (text: string | Buffer) => void;
  stderr: (text: string) => void;
}

/** Prints what the command prints. */
export function runRender(views: ViewService, args: RenderArgs, io: RenderIo): void {
  if (args.list) {
    io.stdout(views.files.map((file) => `${file}\n`).join(''));
    return;
  }
  const file = resolveFile(views.files, args.file ?? '');
  if (args.pid !== undefined) {
    io.stdout(renderForPid(views, file, args.pid, args.procRoot));
    return;
  }
  const cgroup = args.cgroup ?? '/';
  io.stdout(views.renderForCgroup(file, cgroup));
  // What a container's uptime counts from, the mount knows from its reader; here, say it (issue 21).
  const dating = views.datingOfCgroup(file, cgroup);
  if (dating !== undefined) io.stderr(`cgprocfs: ${dating}\n`);
}
