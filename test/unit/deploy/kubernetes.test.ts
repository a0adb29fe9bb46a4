// The Kubernetes manifests parse as YAML and say what the rest of cgprocfs expects: the
// RuntimeClass names the handler `cgprocfs setup containerd` writes, and the DaemonSet
// serves the mountpoint the runtime wrapper reads by default. There is no cluster here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { HANDLER } from '../../../src/cli/setup/containerd.js';
import { DEFAULT_MOUNTPOINT } from '../../../src/daemon/config.js';

const DEPLOY = join(import.meta.dirname, '..', '..', '..', 'deploy', 'kubernetes');

function documents(name: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(join(DEPLOY, name), 'utf8'));
  for (const doc of docs) expect(doc.errors).toEqual([]);
  return docs.map((doc) => doc.toJS()).filter((doc) => doc !== null);
}

describe('deploy/kubernetes', () => {
  it('cgprocfs-runtimeclass.yaml is one node.k8s.io/v1 RuntimeClass whose handler is the one setup containerd writes', () => {
    expect(documents('cgprocfs-runtimeclass.yaml')).toEqual([{
      apiVersion: 'node.k8s.io/v1',
      kind: 'RuntimeClass',
      metadata: { name: 'cgprocfs', labels: { 'app.kubernetes.io/name': 'cgprocfs' } },
      handler: HANDLER,
    }]);
  });

  it('cgprocfs-daemonset.yaml is one DaemonSet serving the mountpoint the wrapper reads by default', () => {
    const [daemonSet, ...rest] = documents('cgprocfs-daemonset.yaml') as Array<Record<string, any>>;
    expect(rest).toEqual([]);
    expect(daemonSet).toMatchObject({ apiVersion: 'apps/v1', kind: 'DaemonSet' });
    const container = daemonSet!.spec.template.spec.containers[0];
    expect(container.command).toContain(`--mountpoint=${DEFAULT_MOUNTPOINT}`);
    expect(daemonSet!.spec.template.spec.volumes).toContainEqual({ name: 'cgprocfs', hostPath: { path: DEFAULT_MOUNTPOINT, type: 'DirectoryOrCreate' } });
  });
});
