// Which mounts the heal replaces (issue 16): only visible binds of another connection
// that served the same mountpoint; never a live bind, another mountpoint's, a hidden
// one or one that holds other mounts.
import { describe, expect, it } from 'vitest';
import { mountsOfConnection, planHeal, type HealScope } from '../../../src/daemon/heal-plan.js';
import { parseMountinfo } from '../../../src/fuse/mount.js';

const OPTS = 'ro,nosuid,nodev,noatime - fuse.cgprocfs';
const SB = 'ro,user_id=0,group_id=0,default_permissions,allow_other';
const OURS = 'cgprocfs:/var/lib/cgprocfs';

/** A Docker container's mountinfo after its daemon died (0:40) and a new one mounted (0:52). */
const CONTAINER = `\
1160 1010 0:95 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/var/lib/docker/l/A
1161 1160 0:98 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1162 1160 0:99 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
1170 1161 0:40 /proc/meminfo /proc/meminfo ${OPTS} ${OURS} ${SB}
1171 1161 0:40 /proc/stat /proc/stat ${OPTS} ${OURS} ${SB}
1172 1162 0:40 /sys/devices/system/cpu /sys/devices/system/cpu ${OPTS} ${OURS} ${SB}
1173 1161 0:52 /proc/uptime /proc/uptime ${OPTS} ${OURS} ${SB}
1174 1161 0:61 /proc/loadavg /proc/loadavg ${OPTS} cgprocfs:/srv/other ${SB}
1175 1161 0:62 /proc/swaps /proc/swaps rw - tmpfs ${OURS} rw
`;

const scope = (over: Partial<HealScope> = {}): HealScope => ({
  live: { mountpoint: '/var/lib/cgprocfs', device: '0:52' },
  legacyDevices: new Set(),
  acceptLegacy: false,
  ...over,
});

describe('planHeal', () => {
  it('chooses the dead binds of this mountpoint, file and directory binds alike, with the tree path each binds', () => {
    expect(planHeal(parseMountinfo(CONTAINER), scope())).toEqual({
      binds: [
        { target: '/proc/meminfo', root: '/proc/meminfo', device: '0:40' },
        { target: '/proc/stat', root: '/proc/stat', device: '0:40' },
        { target: '/sys/devices/system/cpu', root: '/sys/devices/system/cpu', device: '0:40' },
      ],
      skipped: [],
    });
  });

  it('leaves the live connection\'s binds, another mountpoint\'s binds and other filesystems alone', () => {
    const targets = planHeal(parseMountinfo(CONTAINER), scope()).binds.map((b) => b.target);
    expect(targets).not.toContain('/proc/uptime');
    expect(targets).not.toContain('/proc/loadavg');
    expect(targets).not.toContain('/proc/swaps');
    expect(planHeal(parseMountinfo(CONTAINER), scope({ live: { mountpoint: '/srv/elsewhere', device: '0:70' } })).binds).toEqual([]);
  });

  it('chooses nothing in a namespace whose binds are all live', () => {
    const healed = CONTAINER.replaceAll(' 0:40 ', ' 0:52 ');
    expect(planHeal(parseMountinfo(healed), scope())).toEqual({ binds: [], skipped: [] });
  });

  it('takes a legacy bind (source "cgprocfs", no mountpoint) only at the default mountpoint or when its connection was cleared from ours', () => {
    const legacy = parseMountinfo(`1170 1161 0:40 /proc/meminfo /proc/meminfo ${OPTS} cgprocfs ${SB}\n`);
    expect(planHeal(legacy, scope()).binds).toEqual([]);
    expect(planHeal(legacy, scope({ legacyDevices: new Set(['0:40']) })).binds.map((b) => b.target)).toEqual(['/proc/meminfo']);
    expect(planHeal(legacy, scope({ legacyDevices: new Set(['0:41']) })).binds).toEqual([]);
    expect(planHeal(legacy, scope({ acceptLegacy: true })).binds.map((b) => b.target)).toEqual(['/proc/meminfo']);
  });

  it('leaves a dead bind hidden under another mount at the same path, and replaces the one on top', () => {
    const stacked = parseMountinfo(
      `1170 1161 0:40 /proc/meminfo /proc/meminfo ${OPTS} ${OURS} ${SB}\n` + `1180 1170 0:44 /proc/meminfo /proc/meminfo ${OPTS} ${OURS} ${SB}\n`,
    );
    expect(planHeal(stacked, scope()).binds).toEqual([{ target: '/proc/meminfo', root: '/proc/meminfo', device: '0:44' }]);
  });

  it('leaves a dead directory bind that other mounts lie below, and says why', () => {
    const holding = parseMountinfo(
      `1172 1162 0:40 /sys/devices/system/cpu /sys/devices/system/cpu ${OPTS} ${OURS} ${SB}\n` +
        '1190 1172 0:30 / /sys/devices/system/cpu/cpu0/cpufreq rw - tmpfs tmpfs rw\n',
    );
    expect(planHeal(holding, scope())).toEqual({
      binds: [],
      skipped: [{ target: '/sys/devices/system/cpu', reason: 'other mounts lie below it (/sys/devices/system/cpu/cpu0/cpufreq)' }],
    });
  });
});

describe('mountsOfConnection', () => {
  it('finds the binds of one connection, leaving out the host\'s own mount at the mountpoint', () => {
    const host = parseMountinfo(
      `45 27 0:52 / /var/lib/cgprocfs ${OPTS} ${OURS} ${SB}\n` + `46 27 0:52 /proc/meminfo /srv/meminfo ${OPTS} ${OURS} ${SB}\n`,
    );
    expect(mountsOfConnection(host, '0:52', '/var/lib/cgprocfs').map((m) => m.mountpoint)).toEqual(['/srv/meminfo']);
    expect(mountsOfConnection(parseMountinfo(CONTAINER), '0:40').map((m) => m.mountpoint)).toEqual(['/proc/meminfo', '/proc/stat', '/sys/devices/system/cpu']);
  });
});
