// `cgprocfs setup podman`: a containers.conf drop-in of its own (Podman >= 4 reads
// /etc/containers/containers.conf.d/*.conf after containers.conf, key by key) naming the
// runtime `cgprocfs`, and with --default making it the runtime every `podman run` uses.

import { tomlString } from './toml.js';

export const RUNTIME_NAME = 'cgprocfs';
export const DEFAULT_PODMAN_DROP_IN = '/etc/containers/containers.conf.d/50-cgprocfs.conf';
/** The first line of the drop-in: a file that lacks it is someone else's and is never replaced. */
export const PODMAN_MARKER = '# Written by cgprocfs setup podman';

export function podmanDropIn(runtimePath: string, makeDefault: boolean): string {
  return [
    `${PODMAN_MARKER}: the OCI runtime "${RUNTIME_NAME}" (cgprocfs-runc, which binds`,
    '# the cgprocfs mount\'s files over a container\'s /proc and execs runc). Use it with',
    `# podman run --runtime ${RUNTIME_NAME}${makeDefault ? ', or, as here, by default' : ''}. Run the command again to change this file.`,
    ...(makeDefault ? ['', '[engine]', `runtime = ${tomlString(RUNTIME_NAME)}`] : []),
    '',
    '[engine.runtimes]',
    `${RUNTIME_NAME} = [${tomlString(runtimePath)}]`,
    '',
  ].join('\n');
}
