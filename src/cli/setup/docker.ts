// `cgprocfs setup docker`: the runtime `cgprocfs` in dockerd's daemon.json (`runtimes`),
// and with --default dockerd's `default-runtime`, every other setting kept as it was.
// Docker (20.10) puts a runtime's runtimeArgs before runc's arguments, which is how a
// mountpoint other than the default reaches the wrapper.

import { CgprocfsError } from '../../errors.js';
import { emptyObject, isJsonObject, JsonSyntaxError, parseJson, stringifyJson, type JsonObject } from '../../shared/lossless-json.js';

export const RUNTIME_NAME = 'cgprocfs';
export const DEFAULT_DAEMON_JSON = '/etc/docker/daemon.json';

export interface DockerSetup {
  /** The wrapper dockerd runs (cgprocfs-runc). */
  runtimePath: string;
  /** Given to the wrapper as runtimeArgs; undefined for the default mountpoint. */
  mountpoint?: string;
  /** The real runc, given to the wrapper as runtimeArgs. */
  runc?: string;
  /** Also make it dockerd's default runtime. */
  makeDefault: boolean;
}

/** daemon.json's text with our runtime set; every other key and value as it was. */
export function editDaemonJson(path: string, current: string | undefined, setup: DockerSetup): string {
  let config: JsonObject = emptyObject();
  if (current !== undefined && current.trim() !== '') {
    let parsed;
    try {
      parsed = parseJson(current);
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      throw new CgprocfsError('RUNTIME_CONFIG', `${path} is not valid JSON (${err.message}); dockerd would not start with it either: fix it first`);
    }
    if (!isJsonObject(parsed)) throw new CgprocfsError('RUNTIME_CONFIG', `${path} is not a JSON object; fix it first`);
    config = parsed;
  }
  const runtimes = config.runtimes ?? emptyObject();
  if (!isJsonObject(runtimes)) throw new CgprocfsError('RUNTIME_CONFIG', `"runtimes" in ${path} is not an object; fix it first`);
  const runtimeArgs = [
    ...(setup.mountpoint ? ['--cgprocfs-mountpoint', setup.mountpoint] : []),
    ...(setup.runc ? ['--runc', setup.runc] : []),
  ];
  const entry = Object.assign(emptyObject(), { path: setup.runtimePath }, runtimeArgs.length > 0 ? { runtimeArgs } : {});
  const edited = Object.assign(emptyObject(), config, { runtimes: Object.assign(emptyObject(), runtimes, { [RUNTIME_NAME]: entry }) });
  if (setup.makeDefault) edited['default-runtime'] = RUNTIME_NAME;
  // Already so: the file stays as it is, its own layout included.
  if (current !== undefined && stringifyJson(edited) === stringifyJson(config)) return current;
  return `${stringifyJson(edited, 2)}\n`;
}
